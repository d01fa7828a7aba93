"""Fuzz the whole ladder: random ONNX RNNs, every level against onnxruntime.

Hypothesis draws single-node ONNX models (`onnx_cases.make_case`): LSTM, GRU or RNN of
small sizes, each direction, sequence_lens, initial states, bias, peepholes, clip,
activations with alpha/beta, input_forget, linear_before_reset, layout, batch, a subset
of the outputs, weights as inputs or as initializers. Each is imported and run at every
level of the ladder:

* the rnn level (the interpreter on the imported module),
* the decomposed and the fused loop programs (the loop interpreter),
* an fp32 configuration (`rnnc model.mlir -o config.json --precision fp32`) run by
  `rnnc sim` from the configuration alone,

and every output must agree with onnxruntime (a reference nobody here wrote) to
`onnx_cases.TOLERANCE` relative. The compiler may refuse a model only for a limit of the
hardware: its diagnostic must be one of `HARDWARE_LIMITS` (each names a field of the
architecture), and a search that found no point to partition, place and route must give
such a limit for every point it tried. Any other failure (an internal inconsistency, a
configuration the simulator rejects, a wrong value) fails the test.

The suite's settings (`SUITE`) are derandomized (the same examples on every run, so CI is
deterministic) and draw `EXAMPLES` = 25 models, about 1 s of CPU each. To hunt for bugs,
draw many more (derandomized too: the same series for the same count):

    RNNC_FUZZ_EXAMPLES=300 python -m pytest tests/backend/test_ladder_fuzz.py
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from loop_models import RnnModel
from onnx_cases import (
    ACTIVATION_PARAMETERS,
    ACTIVATIONS_PER_DIRECTION,
    BOUNDED_ACTIVATIONS,
    GATES,
    OUTPUT_NAMES,
    TOLERANCE,
    WEIGHT_NAMES,
    RnnCase,
    make_case,
    rel_err,
    run_onnxruntime,
)
from rnnc import interpreters as interpreter
from rnnc.driver import pipeline
from rnnc.driver.cli import main
from rnnc.driver.io import load_npz, save_npz
from rnnc.frontends.onnx_import import import_model
from rnnc.target.arch import load_architecture

EXAMPLES = int(os.environ.get("RNNC_FUZZ_EXAMPLES", "25"))
WEIGHTS = "weights.npz"
LOOP_PIPELINES = {"decomposed": "rnn-decompose", "fused": "rnn-decompose,loop-fuse"}

#: The refusals that name a limit of the hardware, by the architecture's fields.
HARDWARE_LIMITS = {
    "pcu.count, pmu.count": r"no design point of '[^']*'(?: and the other nests)? fits \d+ PCUs "
                            r"and \d+ PMUs|the design needs \d+ PCUs and \d+ PMUs; the chip has",
    "pcu ports": r"unit \S+ needs \d+ (?:scalar|vector|control) (?:in|out)puts, a PCU has \d+",
    "pmu.vector_inputs": r"PMU \S+ is written by \d+ streams, a PMU has \d+ vector inputs",
    "pmu.capacity_kib": r"PMU \S+ \(.*\) must hold \d+ bytes, \d+ more than a PMU's \d+",
    "grid": r"too few [\w ]+ sites: \d+ [\w ]+s to place, the chip has \d+",
    "network.links_per_switch": r"cannot route the \w+ network with \d+ link\(s\) per direction",
    "ag.vector_inputs, ag.vector_outputs": r"the architecture's address generators have no "
                                           r"vector (?:in|out)puts \(ag\.vector_(?:in|out)puts\)",
}
_PASS = r"(?:[\w-]+: )*"
_RETRIES = re.compile(_PASS + r"no design point partitions, places and routes \((.*)\); then (.*)",
                      re.S)
_POINT = re.compile(r"(?:^|; )point \d+, hu/ru/rv [\d/ ]+ \(\d+ PCUs, \d+ PMUs\): ")


def hardware_limit(diagnostic: str) -> str | None:
    """The limit of the hardware (fields of `HARDWARE_LIMITS`) a compiler diagnostic
    (`FILE: error: MESSAGE`) names, None if it names none. A search whose points all
    failed to partition, place and route names one only if each point's reason does."""
    _, found, message = diagnostic.strip().partition(": error: ")
    if not found:
        return None
    retries = _RETRIES.fullmatch(message)
    if retries is None:
        return _limit_of(message)
    reasons = _POINT.split(retries.group(1))
    limits = [_limit_of(reason) for reason in reasons[1:]]
    if reasons[0] or not limits or None in limits:
        return None
    end = retries.group(2)
    if end != "the retries are used up" and _limit_of(end) is None:
        return None
    return ", ".join(dict.fromkeys(limits))  # type: ignore[arg-type]


def _limit_of(message: str) -> str | None:
    return next((field for field, pattern in HARDWARE_LIMITS.items()
                 if re.match(_PASS + f"(?:{pattern})", message)), None)


def _parameter(draw: st.DrawFn, bounds: tuple[float, float]) -> float:
    """An activation parameter inside `bounds` (`onnx_cases.ACTIVATION_PARAMETERS`: where
    the function is well conditioned in fp32), on a grid of 5 points."""
    low, high = bounds
    return round(low + (high - low) * draw(st.integers(0, 4)) / 4, 3)


def _activations(draw: st.DrawFn, op: str, nd: int, clipped: bool) -> dict[str, Any]:
    """`activations` and (sometimes cut short, so that defaults are used too) alpha/beta.
    Unbounded functions only under clip, never for the LSTM's h function (its input, the
    cell state, is not clipped): see `onnx_cases.BOUNDED_ACTIVATIONS`."""
    per_direction = ACTIVATIONS_PER_DIRECTION[op]
    names = []
    for slot in range(nd * per_direction):
        free = clipped and not (op == "LSTM" and slot % per_direction == 2)
        pool = sorted(ACTIVATION_PARAMETERS) if free else BOUNDED_ACTIVATIONS
        names.append(draw(st.sampled_from(pool)))
    attrs: dict[str, Any] = {"activations": names}
    for key, which in (("activation_alpha", 0), ("activation_beta", 1)):
        values = [_parameter(draw, ACTIVATION_PARAMETERS[n][which])  # type: ignore[arg-type]
                  for n in names if ACTIVATION_PARAMETERS[n][which] is not None]
        values = values[: draw(st.integers(0, len(values)))]
        if values:
            attrs[key] = values
    return attrs


@st.composite
def cases(draw: st.DrawFn) -> RnnCase:
    """A random single-node model with its inputs (values from a drawn seed)."""
    op = draw(st.sampled_from(["LSTM", "GRU", "RNN"]))
    hidden, n_in = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    seq, batch = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    direction = draw(st.sampled_from(["forward", "reverse", "bidirectional"]))
    nd = 2 if direction == "bidirectional" else 1
    attrs: dict[str, Any] = {"hidden_size": hidden, "direction": direction}
    clip = draw(st.none() | st.sampled_from([0.5, 1.0, 3.0]))
    if clip is not None:
        attrs["clip"] = clip
    if draw(st.booleans()):
        attrs |= _activations(draw, op, nd, clip is not None)
    if op == "LSTM":
        attrs["input_forget"] = int(draw(st.booleans()))
    if op == "GRU":
        attrs["linear_before_reset"] = int(draw(st.booleans()))
    layout = int(draw(st.booleans()))
    if layout:
        attrs["layout"] = 1

    rng = np.random.default_rng(draw(st.integers(0, 2**16)))

    def uniform(*shape: int, scale: float = 1.0) -> np.ndarray:
        return (scale * rng.uniform(-1.0, 1.0, shape)).astype(np.float32)

    gh = GATES[op] * hidden
    state = (batch, nd, hidden) if layout else (nd, batch, hidden)
    values: dict[str, np.ndarray | None] = {
        "X": uniform(*((batch, seq) if layout else (seq, batch)), n_in, scale=2.0),
        # weights about 1/sqrt(fan-in) keep the activations out of deep saturation
        "W": uniform(nd, gh, n_in, scale=1.5 / np.sqrt(n_in)),
        "R": uniform(nd, gh, hidden, scale=1.5 / np.sqrt(hidden)),
        "B": uniform(nd, 2 * gh, scale=0.5) if draw(st.booleans()) else None,
        "sequence_lens": None,
        "initial_h": uniform(*state) if draw(st.booleans()) else None,
    }
    if draw(st.booleans()):
        lens = draw(st.lists(st.integers(1, seq), min_size=batch, max_size=batch))
        values["sequence_lens"] = np.array(lens, np.int32)
    if op == "LSTM":
        values["initial_c"] = uniform(*state) if draw(st.booleans()) else None
        values["P"] = uniform(nd, 3 * hidden) if draw(st.booleans()) else None
    names = OUTPUT_NAMES[op]
    kept = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
    outputs = [name if name in kept else "" for name in names]
    initializers = WEIGHT_NAMES if draw(st.booleans()) else ()
    return make_case(op, values, attrs, outputs, initializers=initializers)


def _assert_agrees(level: str, got: dict[str, np.ndarray], expected: dict[str, np.ndarray],
                   case: RnnCase) -> None:
    assert got.keys() == expected.keys(), (level, case.describe())
    for name, value in expected.items():
        assert got[name].shape == value.shape, (level, name, case.describe())
        error = rel_err(got[name], value)
        assert error <= TOLERANCE, f"{level}: {name} relative error {error:.2e}; {case.describe()}"


def _config_outputs(
    directory: Path, text: str, weights: dict[str, np.ndarray], case: RnnCase
) -> dict[str, np.ndarray] | None:
    """The outputs `rnnc sim` computes from an fp32 configuration of the model; None if the
    compiler refuses the model for a limit of the hardware (any other refusal fails)."""
    model, config = directory / "model.mlir", directory / "config.json"
    model.write_text(text)
    if weights:
        save_npz(directory / WEIGHTS, weights)
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        status = main([str(model), "-o", str(config), "--precision", "fp32"])
    if status != 0:
        message = stderr.getvalue()
        assert hardware_limit(message) is not None, f"{message}\n{case.describe()}"
        return None
    feed, out = directory / "in.npz", directory / "out.npz"
    save_npz(feed, case.inputs)
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        status = main(["sim", str(config), "--inputs", str(feed), "-o", str(out)])
    assert status == 0, f"rnnc sim: {stderr.getvalue()}\n{case.describe()}"
    return load_npz(str(out))


def check_ladder(case: RnnCase) -> None:
    """Every level of the ladder computes what onnxruntime computes on `case`."""
    expected = run_onnxruntime(case)
    text, weights = import_model(case.model, WEIGHTS)
    ctx = pipeline.make_context()
    module, _ = pipeline.parse_module(ctx, text, "<model>")
    _assert_agrees("rnn", interpreter.run(module, case.inputs, weights), expected, case)
    for level, passes in LOOP_PIPELINES.items():
        module, _ = pipeline.parse_module(ctx, text, "<model>")
        spec = pipeline.build_pipeline(passes, pipeline.available_passes())
        pipeline.run_pipeline(ctx, module, spec, "<model>")
        _assert_agrees(level, interpreter.run(module, case.inputs, weights), expected, case)
    with tempfile.TemporaryDirectory(prefix="rnnc-fuzz-") as directory:
        got = _config_outputs(Path(directory), text, weights, case)
    if got is not None:
        _assert_agrees("config", got, expected, case)


def _gru(**attrs: Any) -> RnnCase:
    """A GRU of 2 hidden units on 3 inputs over 3 steps, batch 2, no bias."""
    rng = np.random.default_rng(7)
    values = {
        "X": rng.uniform(-2, 2, (3, 2, 3)).astype(np.float32),
        "W": rng.uniform(-0.8, 0.8, (1, 6, 3)).astype(np.float32),
        "R": rng.uniform(-1, 1, (1, 6, 2)).astype(np.float32),
    }
    return make_case("GRU", values, {"hidden_size": 2, **attrs})


SUITE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SUITE
@given(case=cases())
# spatial-partition streamed a slot both levels take twice from one port (bug of issue 15)
@example(case=_gru(linear_before_reset=1, clip=1.0))
def test_every_level_agrees_with_onnxruntime(case: RnnCase) -> None:
    check_ladder(case)


def _refusal(tmp_path: Path, capsys: pytest.CaptureFixture[str], arch: dict) -> str:
    """The diagnostic compiling a small GRU for the architecture `arch` gives."""
    model, arch_file = tmp_path / "model.mlir", tmp_path / "arch.json"
    model.write_text(RnnModel("gru", 2, 3, 2).mlir())
    arch_file.write_text(json.dumps(arch))
    status = main([str(model), "--arch", str(arch_file), "-o", str(tmp_path / "config.json")])
    assert status == 1
    return capsys.readouterr().err


def test_a_chip_too_small_is_a_limit_of_the_hardware(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    preset = load_architecture().to_dict()
    tiny = {**preset, "name": "tiny", "grid": {**preset["grid"], "rows": 2, "cols": 6},
            "pcu": {**preset["pcu"], "count": 4}, "pmu": {**preset["pmu"], "count": 8},
            "dram": {**preset["dram"], "address_generators_per_edge": 3}}
    assert hardware_limit(_refusal(tmp_path, capsys, tiny)) == "pcu.count, pmu.count"


def test_address_generators_without_vector_ports_are_a_limit_of_the_hardware(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    preset = load_architecture().to_dict()
    portless = {**preset, "ag": {**preset["ag"], "vector_inputs": 0, "vector_outputs": 0}}
    limit = hardware_limit(_refusal(tmp_path, capsys, portless))
    assert limit == "ag.vector_inputs, ag.vector_outputs"


RETRIED = ("m.mlir: error: loop-assign-resources: no design point partitions, places and "
           "routes (point 1, hu/ru/rv 4/1/4 (20 PCUs, 30 PMUs): spatial-route: cannot route the "
           "vector network with 2 link(s) per direction after 50 rounds: 1 link(s) over capacity "
           "by 1 stream(s) in all: (3, 4)->(3, 5) east carries 3 of 2; streams on them: s1, s2; "
           "point 2, hu/ru/rv 2/1/4 (12 PCUs, 20 PMUs): {reason}); then {end}\n")


@pytest.mark.parametrize(("diagnostic", "limit"), [
    (RETRIED.format(reason="spatial-partition: unit n1_ew0_0 needs 4 vector inputs, a PCU "
                           "has 3", end="the retries are used up"),
     "network.links_per_switch, pcu ports"),
    (RETRIED.format(reason="spatial-place: too few PCU sites: 12 PCUs to place, the chip has 8",
                    end="no design point of 'h+y' fits 3 PCUs and 8 PMUs"),
     "network.links_per_switch, grid"),
    # an internal inconsistency among the points tried, or as the end
    (RETRIED.format(reason="spatial-partition: value %x is not available to a unit",
                    end="the retries are used up"), None),
    (RETRIED.format(reason="spatial-partition: unit n1_ew0_0 needs 4 vector inputs, a PCU "
                           "has 3", end="list index out of range"), None),
    ("m.mlir: error: invalid IR after pass 'spatial-partition': in spatial.design: "
     "spatial.stream @s21: @n1_mr0_s2_p0.so0 already carries stream @s4\n", None),
    ("Traceback (most recent call last):\n  ...\nKeyError: 'vi2'\n", None),
])
def test_only_limits_of_the_hardware_are_recognised(diagnostic: str, limit: str | None) -> None:
    assert hardware_limit(diagnostic) == limit
