"""`rnnc sim`'s values: random ONNX RNNs compiled to config.json and run from it alone.

fp32 configurations agree with onnxruntime (a reference nobody here wrote) to 1e-5
relative, at batch 1 over the attribute cases and at batch 2 and 3 (per-element
sequence_lens) over each direction. mixed-precision configurations agree with the loop
interpreter's emulation of the same mode (`rnnc run --precision mixed`, itself checked
against fp32 in tests/interpreters/test_loop_precision.py) to MIXED_TOLERANCE: both round the same
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
    batch1_case,
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
    """A random case of batch 1: the design search does not yet model weights shared
    across a batch (issue 8, item 9)."""
    return batch1_case(op, seed, overrides)


def _compile(tmp: Path, model: onnx.ModelProto, precision: str, *options: str) -> Path:
    onnx_path, mlir, config = tmp / "model.onnx", tmp / "model.mlir", tmp / "config.json"
    onnx.save(model, onnx_path)
    assert main(["import", str(onnx_path), "-o", str(mlir)]) == 0
    assert main([str(mlir), "-o", str(config), "--precision", precision, *options]) == 0
    assert schema_errors(json.loads(config.read_text())) == []
    return config


def _simulate(tmp: Path, config: Path, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    feed, out, report = tmp / "in.npz", tmp / "out.npz", tmp / "report.json"
    save_npz(feed, inputs)
    assert main(["sim", str(config), "--inputs", str(feed), "-o", str(out),
                 "--report", str(report)]) == 0
    assert json.loads(report.read_text())["total_cycles"] > 0
    return load_npz(str(out))


def _assert_fp32_config_agrees_with_onnxruntime(tmp_path: Path, case: RnnCase) -> None:
    config = _compile(tmp_path, case.model, "fp32")
    got = _simulate(tmp_path, config, case.inputs)
    expected = run_onnxruntime(case)
    assert set(got) == set(expected), case.describe()
    for name, value in expected.items():
        assert rel_err(got[name], value) <= FP32_TOLERANCE, (name, case.describe())


@pytest.mark.parametrize(("op", "seed", "overrides"), ATTRIBUTE_CASES)
def test_fp32_config_agrees_with_onnxruntime(
    tmp_path: Path, op: str, seed: int, overrides: dict
) -> None:
    case = _case(op, seed, overrides)
    _assert_fp32_config_agrees_with_onnxruntime(tmp_path, case)


@pytest.mark.parametrize(("op", "seed"), [("LSTM", 11), ("GRU", 12), ("RNN", 13)])
def test_mixed_config_agrees_with_the_loop_interpreters_emulation(
    tmp_path: Path, op: str, seed: int
) -> None:
    _check_mixed(tmp_path, _case(op, seed, {"direction": "forward", "clip": None}))


def test_mixed_config_at_batch_3_agrees_with_the_loop_interpreters_emulation(
    tmp_path: Path,
) -> None:
    _check_mixed(tmp_path, _batched_case(
        "LSTM", 36, {"direction": "bidirectional", "clip": None, "activations": None,
                     "hidden_size": 5}, 7, [1, 99, 3]))


def _check_mixed(tmp_path: Path, case: RnnCase) -> None:
    config = _compile(tmp_path, case.model, "mixed")
    got = _simulate(tmp_path, config, case.inputs)
    reference = tmp_path / "loop.npz"
    assert main(["run", str(tmp_path / "model.mlir"), "--inputs", str(tmp_path / "in.npz"),
                 "-p", "rnn-decompose,loop-fuse,loop-assign-resources", "--precision",
                 "mixed", "-o", str(reference)]) == 0
    expected = load_npz(str(reference))
    for name, value in expected.items():
        assert np.max(np.abs(got[name] - value)) <= MIXED_TOLERANCE, name


def _batched_case(op: str, seed: int, overrides: dict, n_in: int, lens: list[int]) -> RnnCase:
    """A random case with attributes and recurrent weights from the generator, ``n_in``
    inputs and one batch element per entry of ``lens`` (its sequence length; entries above
    the drawn sequence length are clipped to it, so 99 means "the whole sequence")."""
    rng = np.random.default_rng(seed)
    case = random_case(rng, op, attr_overrides={**overrides, "layout": 0},
                       weights_as_initializers=True)
    values = dict(zip(INPUT_NAMES[op], case.operands, strict=True))
    seq, batch = values["X"].shape[0], len(lens)
    directions, gates_hidden = values["W"].shape[:2]
    values["W"] = rng.uniform(-1.5, 1.5, (directions, gates_hidden, n_in)).astype(
        np.float32) / np.float32(np.sqrt(n_in))
    values["X"] = rng.uniform(-2.0, 2.0, (seq, batch, n_in)).astype(np.float32)
    for name in ("initial_h", "initial_c"):
        if values.get(name) is not None:
            values[name] = rng.uniform(-1.0, 1.0, (directions, batch, values[name].shape[2])
                                       ).astype(np.float32)
    values["sequence_lens"] = np.minimum(lens, seq).astype(np.int32)
    return make_case(op, values, case.attrs, case.outputs, initializers=WEIGHT_NAMES)


BATCH_CASES = [
    # (op, seed, overrides, inputs, sequence_lens): batch 2 and 3, each direction, per-element
    # lengths that differ (one shorter than the sequence in every case, one of length 1 in
    # most; in the last case no element runs the whole sequence), odd sizes, reductions
    # split over two units (ru=2) in the LSTM of 23 inputs
    ("LSTM", 21, {"direction": "forward"}, 5, [99, 2]),
    ("GRU", 22, {"direction": "reverse", "linear_before_reset": 1}, 1, [1, 99, 2]),
    ("RNN", 23, {"direction": "bidirectional", "activations": None}, 4, [2, 1, 99]),
    ("LSTM", 24, {"direction": "bidirectional", "activations": None}, 2, [1, 99]),
    ("GRU", 32, {"direction": "bidirectional", "hidden_size": 9, "activations": None}, 17,
     [2, 99]),
    ("RNN", 33, {"direction": "reverse", "hidden_size": 19}, 7, [1, 99, 2]),
    ("LSTM", 34, {"direction": "reverse", "hidden_size": 7}, 23, [99, 1]),
    ("GRU", 35, {"direction": "forward", "hidden_size": 5, "activations": None}, 3, [2, 1, 3]),
]


@pytest.mark.parametrize("batch_case", BATCH_CASES)
def test_fp32_config_agrees_with_onnxruntime_at_batch_2_and_3(
    tmp_path: Path, batch_case: tuple[str, int, dict, int, list[int]]
) -> None:
    case = _batched_case(*batch_case)
    assert case.inputs["sequence_lens"].min() < case.inputs["X"].shape[0], case.describe()
    _assert_fp32_config_agrees_with_onnxruntime(tmp_path, case)
