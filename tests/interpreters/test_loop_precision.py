"""NumericMode modes in the loop-level interpreter (`interpreter.run(..., precision=...)`):
fp32 is the default and unchanged, mixed mode agrees with an independent evaluation built
from the `rnnc.numerics.precision` primitives, and its error against fp32 on whole DeepBench
sequences is that of the 8-bit arithmetic."""

from __future__ import annotations

import math

import numpy as np
import pytest
from loop_models import DECOMPOSED, FUSED
from rnnc import interpreters as interpreter
from rnnc.dialects import rnn
from rnnc.driver import pipeline
from rnnc.frontends import deepbench
from rnnc.frontends.deepbench import Task
from rnnc.numerics.precision import FP32, MIXED, NumericMode, activation, compare_outputs, dot
from xdsl.dialects.builtin import ModuleOp

Arrays = dict[str, np.ndarray]


def _compile(task: Task, passes: str) -> ModuleOp:
    module = deepbench.build_module(task, "weights.npz")
    if passes:
        spec = pipeline.build_pipeline(passes, pipeline.available_passes())
        pipeline.run_pipeline(pipeline.make_context(), module, spec, task.name)
    return module


def _random_model(task: Task, seed: int) -> tuple[Arrays, Arrays]:
    """ONNX weights W, R, B uniform in ±1/sqrt(H) and inputs X uniform in [-1, 1]. Unlike
    `deepbench.random_weights`, whose values lie on an 8-bit grid already, these are
    rounded by the 8-bit format, so the mixed mode's error is the one real weights see."""
    rng = np.random.default_rng(seed)
    rows, scale = rnn.CELLS[task.cell].gate_count() * task.hidden, 1 / math.sqrt(task.hidden)
    shapes = {
        "W": (1, rows, task.inputs),
        "R": (1, rows, task.hidden),
        "B": (1, 2 * rows),
    }
    weights = {k: rng.uniform(-scale, scale, s).astype(np.float32) for k, s in shapes.items()}
    x = rng.uniform(-1, 1, (task.steps, task.batch, task.inputs)).astype(np.float32)
    return weights, {"X": x}


def _assert_identical(got: Arrays, expected: Arrays) -> None:
    assert got.keys() == expected.keys()
    for name, value in expected.items():
        assert got[name].tobytes() == value.tobytes(), name


# ---- fp32 is the default -------------------------------------------------------------------------


def test_fp32_mode_is_the_default() -> None:
    task = Task("gru", 16, 5, batch=2, input_size=12)
    module = _compile(task, FUSED)
    weights, inputs = _random_model(task, 0)
    default = interpreter.run(module, inputs, weights)
    _assert_identical(interpreter.run(module, inputs, weights, precision=FP32), default)
    # a mixed run compiles a program of its own: the fp32 one is not disturbed
    mixed = interpreter.run(module, inputs, weights, precision=MIXED)
    assert not np.array_equal(mixed["Y"], default["Y"])
    _assert_identical(interpreter.run(module, inputs, weights), default)


def test_rnn_level_ignores_precision() -> None:
    """The rnn level's kernels are the float32 reference: a module that never reaches the
    loop level runs the same in every mode, which `uses_loop_level` lets the CLI refuse."""
    task = Task("lstm", 8, 3)
    weights, inputs = _random_model(task, 0)
    rnn_level = _compile(task, "")
    assert not interpreter.uses_loop_level(rnn_level)
    assert interpreter.uses_loop_level(_compile(task, DECOMPOSED))
    _assert_identical(
        interpreter.run(rnn_level, inputs, weights, precision=MIXED),
        interpreter.run(rnn_level, inputs, weights),
    )


# ---- mixed mode against an independent evaluation ---------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def lstm_reference(
    precision: NumericMode, weights: Arrays, x: np.ndarray, *, one_stream: bool
) -> Arrays:
    """An ONNX LSTM (gates i, o, f, c; no peepholes) with `dot` for every matrix product
    and `activation` for every nonlinearity. `one_stream`: each gate's products over x and
    over h form one stream of D + H (the fused program's single reduction over [x, h]),
    else two (the decomposed program's separate W·x and R·h)."""
    w, r, b = weights["W"][0], weights["R"][0], weights["B"][0]
    rows = r.shape[0]
    bias = b[:rows] + b[rows:]
    h = np.zeros((x.shape[1], r.shape[1]), np.float32)
    c = np.zeros_like(h)
    ys = []
    for x_t in x:  # x_t: batch x D; a gate row of the weights against each batch entry
        if one_stream:
            wr, xh = np.concatenate([w, r], axis=1), np.concatenate([x_t, h], axis=1)
            gates = dot(precision, wr[None], xh[:, None], axis=2)
        else:
            gates = dot(precision, w[None], x_t[:, None], axis=2)
            gates = gates + dot(precision, r[None], h[:, None], axis=2)
        i, o, f, g = np.split(gates + bias, 4, axis=1)
        i, o, f = (activation(precision, _sigmoid, v) for v in (i, o, f))
        c = f * c + i * activation(precision, np.tanh, g)
        h = o * activation(precision, np.tanh, c)
        ys.append(h)
    return {"Y": np.stack(ys)[:, None], "Y_h": h[None]}


@pytest.mark.parametrize(("passes", "one_stream"), [(FUSED, True), (DECOMPOSED, False)])
def test_mixed_lstm_matches_reference(passes: str, one_stream: bool) -> None:
    """An odd input size makes a pair of products straddle the end of x in the fused
    program's stream [x, h] (and leaves the stream's last product alone); the decomposed
    program reduces W·x and R·h separately, each with a lone last product. Batch 2 makes
    the products matrix-matrix. Agreement is to float32 rounding (the order of the float32
    additions may differ); measured: exact."""
    task = Task("lstm", 8, 4, batch=2, input_size=7)
    weights, inputs = _random_model(task, 1)
    got = interpreter.run(_compile(task, passes), inputs, weights, precision=MIXED)
    expected = lstm_reference(MIXED, weights, inputs["X"], one_stream=one_stream)
    other = lstm_reference(MIXED, weights, inputs["X"], one_stream=not one_stream)
    fp32 = lstm_reference(FP32, weights, inputs["X"], one_stream=one_stream)
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value, rtol=0, atol=1e-6, err_msg=name)
        # the comparison tells the pairings apart (measured 1.4e-5) and the modes (1e-2)
        assert np.max(np.abs(got[name] - other[name])) > 4e-6, name
        assert np.max(np.abs(got[name] - fp32[name])) > 1e-3, name


# ---- mixed against fp32 on DeepBench sizes -------------------------------------------------------

# The acceptance test of mixed mode: the fused program, run in mixed and in fp32 mode on the
# same random weights and inputs, for the sizes `bench/interp.py` times.
#
# Measured at seeds 0-4, max |error| over the final hidden state Y_h / over every step's Y:
# LSTM H=512 T=25: 0.010-0.016 / 0.016-0.024; GRU H=1024 T=100: 0.024-0.031 / 0.034-0.040
# (seed 0, the one tested: 0.010 / 0.019 and 0.024 / 0.038). Y_h agrees with the standalone
# cells of test_precision (0.010 and 0.024 at its seed), as it should: the loop program
# computes the same arithmetic, and pairing across the x/h boundary does not arise for D = H
# even. Why errors of this size: 3 mantissa bits give each 8-bit factor a relative rounding
# error of up to 2^-4; over the D + H products of a gate these add up like sqrt(D + H)
# independent errors, about 0.01 of pre-activation noise, which the gates' slopes (<= 1)
# pass on and the contractive recurrence does not accumulate -- the largest error of the
# last quarter of the steps is at most 1.3 times that of the first quarter (checked below
# with margin).
#
# Bounds: those of test_precision, 0.04 (LSTM) and 0.06 (GRU), on Y as well as Y_h: 1.6-4x
# the errors at the tested seed, at least 1.5x the largest at any seed, and 2-3% of the [-1, 1]
# output range, which is what 3 mantissa bits can be expected to give. An error growing
# through the recurrence, a coarser arithmetic, or a mode that does nothing (error below
# 1e-3: float32 reorderings give 1e-7) fails.

ACCEPTANCE = [(Task("lstm", 512, 25), 0.04), (Task("gru", 1024, 100), 0.06)]


@pytest.mark.parametrize(("task", "bound"), ACCEPTANCE, ids=lambda p: getattr(p, "name", None))
def test_mixed_against_fp32(task: Task, bound: float) -> None:
    module = _compile(task, FUSED)
    weights, inputs = _random_model(task, 0)
    reference = interpreter.run(module, inputs, weights)
    mixed = interpreter.run(module, inputs, weights, precision=MIXED)
    for name, error in compare_outputs(reference, mixed).items():
        detail = f"{task.name} {name}: max |error| {error.max_abs:.4g}"
        assert 1e-3 < error.max_abs < bound, detail
    per_step = np.abs(mixed["Y"] - reference["Y"]).reshape(task.steps, -1).max(axis=1)
    quarter = task.steps // 4
    assert per_step[-quarter:].max() < 2 * per_step[:quarter].max(), per_step
