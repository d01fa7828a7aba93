"""No runtime work for what is known when compiling (issue 16, part 2), values unchanged.

For LSTM, GRU and RNN, with and without initial states and biases (weights as constants,
initializers of the ONNX model, or as model inputs): the loop level after `loop-zero-init`
and `loop-fold-constants` (loop interpreter) and an fp32 configuration run by `rnnc sim`
agree with onnxruntime. A zero initial state is the state memory's initial contents
(`zero`), not a nest, and a given one is still read by a nest; the bias sum of constant
biases is a constant of the configuration (`weight:bias.folded`), not a nest, and of
biases given as inputs still a nest. The nests that run once get their foreach
parallelism from the search.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from onnx_cases import GATES, TOLERANCE, RnnCase, make_case, rel_err, run_onnxruntime
from rnnc import interpreters as interpreter
from rnnc.driver import pipeline
from rnnc.driver.cli import main
from rnnc.driver.io import load_npz, save_npz
from rnnc.frontends.onnx_import import import_model

WEIGHTS = "weights.npz"
HIDDEN, INPUTS, STEPS, BATCH = 5, 3, 3, 2


def _case(op: str, initial: bool, bias: bool, constants: bool = True) -> RnnCase:
    rng = np.random.default_rng(len(op) + 2 * initial + bias)
    gates = GATES[op]

    def uniform(*shape: int) -> np.ndarray:
        return rng.uniform(-1, 1, shape).astype(np.float32)

    values = {"X": uniform(STEPS, BATCH, INPUTS), "W": uniform(1, gates * HIDDEN, INPUTS),
              "R": uniform(1, gates * HIDDEN, HIDDEN)}
    if bias:
        values["B"] = uniform(1, 2 * gates * HIDDEN)
    if initial:
        values["initial_h"] = uniform(1, BATCH, HIDDEN)
        if op == "LSTM":
            values["initial_c"] = uniform(1, BATCH, HIDDEN)
    weights = [name for name in ("W", "R", "B") if name in values] if constants else []
    return make_case(op, values, {"hidden_size": HIDDEN}, initializers=weights)


CASES = [(op, initial, bias, True) for op in ("LSTM", "GRU", "RNN")
         for initial in (False, True) for bias in (False, True)]
#: weights given as model inputs: the bias sum is work for the chip
INPUT_WEIGHTS = [("LSTM", False, True, False), ("GRU", True, True, False)]


def _agrees(level: str, got: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    assert got.keys() == expected.keys(), level
    for name, value in expected.items():
        error = rel_err(got[name], value)
        assert error <= TOLERANCE, f"{level}: {name} relative error {error:.2e}"


def _compile_and_sim(tmp_path: Path, text: str, weights: dict[str, np.ndarray],
                     case: RnnCase) -> tuple[dict, dict[str, np.ndarray]]:
    model, config, feed, out = (tmp_path / n for n in ("m.mlir", "c.json", "in.npz", "o.npz"))
    model.write_text(text)
    save_npz(tmp_path / WEIGHTS, weights)
    save_npz(feed, case.inputs)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main([str(model), "-o", str(config), "--precision", "fp32"]) == 0
        assert main(["sim", str(config), "--inputs", str(feed), "-o", str(out)]) == 0
    return json.loads(config.read_text()), load_npz(str(out))


@pytest.mark.parametrize(("op", "initial", "bias", "constants"), CASES + INPUT_WEIGHTS)
def test_values_unchanged_and_no_runtime_work_for_constants(
    tmp_path: Path, op: str, initial: bool, bias: bool, constants: bool
) -> None:
    case = _case(op, initial, bias, constants)
    expected = run_onnxruntime(case)
    text, weights = import_model(case.model, WEIGHTS)
    ctx = pipeline.make_context()
    module, _ = pipeline.parse_module(ctx, text, "<model>")
    passes = pipeline.build_pipeline("rnn-decompose,loop-fuse,loop-zero-init,loop-fold-constants",
                                     pipeline.available_passes())
    pipeline.run_pipeline(ctx, module, passes, "<model>")
    _agrees("loop", interpreter.run(module, case.inputs, weights), expected)

    config, got = _compile_and_sim(tmp_path, text, weights, case)
    _agrees("config", got, expected)
    memories = {m["name"]: m for m in config["program"]["memories"]}
    states = ["h", "c"] if op == "LSTM" else ["h"]
    for state in states:
        assert memories[state]["init"] == ("undefined" if initial else "zero")
    if bias:
        assert memories["bias"]["init"] == ("weight:bias.folded" if constants else "undefined")
    # the time loop is one nest; before it only what reads a given initial state, or
    # biases given as inputs, runs
    phases = config["program"]["schedule"]
    assert (phases[0]["kind"] == "once") == (initial or (bias and not constants))
    # every nest that runs once is parallel over its PCU's lanes (16 here), up to its extent
    looped = {nest for phase in phases if phase["kind"] == "loop" for nest in phase["nests"]}
    nests = {n["id"]: n for n in config["program"]["nests"]}
    for point in config["design"]["nests"]:
        if point["nest"] not in looped:
            extent = int(np.prod(nests[point["nest"]]["extents"]))
            assert point["hu"] == min(extent, 16), point
