"""`rnnc sim`'s values: random ONNX RNNs compiled to config.json and run from it alone.

fp32 configurations agree with onnxruntime (a reference nobody here wrote) to 1e-5
relative. mixed-precision configurations agree with the loop interpreter's emulation of
the same mode (`rnnc run --precision mixed`, itself checked against fp32 in
tests/interpreters/test_loop_precision.py) to MIXED_TOLERANCE: both round the same
weights and operands to the same 8-bit values, add the same adjacent product pairs in
float16 and look the activations up in the same tables; they differ only in the order of
the float32 sums (the machine adds each reduction in `ru` parts and then combines them,
the interpreter in one sum), i.e. in float32 rounding, about 1e-7 relative per sum, which
the recurrence carries through the steps and a table lookup can amplify by its slope.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx_cases import (
    INPUT_NAMES,
    WEIGHT_NAMES,
    RnnCase,
    make_case,
    random_case,
    rel_err,
    run_onnxruntime,
)
from rnnc.backend.load import schema_errors
from rnnc.driver.cli import main
from rnnc.driver.io import load_npz, save_npz

FP32_TOLERANCE = 1e-5
MIXED_TOLERANCE = 1e-4

ATTRIBUTE_CASES = [
    # (op, seed, overrides): odd sizes from the generator; each direction; clip; activations
    ("LSTM", 1, {"direction": "forward"}),
    ("LSTM", 2, {"direction": "reverse"}),
    ("LSTM", 3, {"direction": "bidirectional", "activations": None}),
    ("GRU", 4, {"direction": "forward", "linear_before_reset": 1}),
    ("GRU", 5, {"direction": "bidirectional", "linear_before_reset": 0, "activations": None}),
    ("RNN", 6, {"direction": "reverse"}),
    ("RNN", 7, {"direction": "forward", "clip": 0.75}),
    ("LSTM", 8, {"direction": "forward", "activations": ["HardSigmoid", "Softsign", "Tanh"],
                 "activation_alpha": [0.3], "activation_beta": [0.4]}),
    ("GRU", 9, {"direction": "reverse", "clip": 1.5}),
]


def _case(op: str, seed: int, overrides: dict) -> RnnCase:
    """A random case (odd sizes, sequence_lens, initial states, ...) of batch 1: the
    design search does not yet model weights shared across a batch (issue 8, item 9)."""
    case = random_case(np.random.default_rng(seed), op, attr_overrides={**overrides, "layout": 0},
                       weights_as_initializers=True)
    values = dict(zip(INPUT_NAMES[op], case.operands, strict=True))
    for name in ("X", "initial_h", "initial_c"):
        if values.get(name) is not None:
            values[name] = np.ascontiguousarray(values[name][:, :1])
    if values.get("sequence_lens") is not None:
        values["sequence_lens"] = values["sequence_lens"][:1]
    return make_case(op, values, case.attrs, case.outputs, initializers=WEIGHT_NAMES)


def _compile(tmp: Path, model: onnx.ModelProto, precision: str) -> Path:
    onnx_path, mlir, config = tmp / "model.onnx", tmp / "model.mlir", tmp / "config.json"
    onnx.save(model, onnx_path)
    assert main(["import", str(onnx_path), "-o", str(mlir)]) == 0
    assert main([str(mlir), "-o", str(config), "--precision", precision]) == 0
    assert schema_errors(json.loads(config.read_text())) == []
    return config


def _simulate(tmp: Path, config: Path, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    feed, out, report = tmp / "in.npz", tmp / "out.npz", tmp / "report.json"
    save_npz(feed, inputs)
    assert main(["sim", str(config), "--inputs", str(feed), "-o", str(out),
                 "--report", str(report)]) == 0
    assert json.loads(report.read_text())["total_cycles"] > 0
    return load_npz(str(out))


@pytest.mark.parametrize(("op", "seed", "overrides"), ATTRIBUTE_CASES)
def test_fp32_config_agrees_with_onnxruntime(
    tmp_path: Path, op: str, seed: int, overrides: dict
) -> None:
    case = _case(op, seed, overrides)
    config = _compile(tmp_path, case.model, "fp32")
    got = _simulate(tmp_path, config, case.inputs)
    expected = run_onnxruntime(case)
    assert set(got) == set(expected), case.describe()
    for name, value in expected.items():
        assert rel_err(got[name], value) <= FP32_TOLERANCE, (name, case.describe())


@pytest.mark.parametrize(("op", "seed"), [("LSTM", 11), ("GRU", 12), ("RNN", 13)])
def test_mixed_config_agrees_with_the_loop_interpreters_emulation(
    tmp_path: Path, op: str, seed: int
) -> None:
    case = _case(op, seed, {"direction": "forward", "clip": None})
    config = _compile(tmp_path, case.model, "mixed")
    got = _simulate(tmp_path, config, case.inputs)
    reference = tmp_path / "loop.npz"
    assert main(["run", str(tmp_path / "model.mlir"), "--inputs", str(tmp_path / "in.npz"),
                 "-p", "rnn-decompose,loop-fuse,loop-assign-resources", "--precision",
                 "mixed", "-o", str(reference)]) == 0
    expected = load_npz(str(reference))
    for name, value in expected.items():
        assert np.max(np.abs(got[name] - value)) <= MIXED_TOLERANCE, name
