"""Only the overflow streams: a weight slice two PMUs cannot hold keeps a head in one PMU and
as many rows more as fit beside the stream buffer of its FIFO PMU; only the rest is loaded
from DRAM every step (`plan.weight_placement`, `stream_buffers`).

On a chip of 2 KiB PMUs too small for the weights, the configuration has FIFO PMUs holding
rows no AG loads; fp32 configurations agree with onnxruntime, mixed ones with the loop
interpreter's emulation (as in test_sim_values.py); the streamed bytes `rnnc sim` counts
are the plan's and the cost model predicts the simulated time within 10%.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from onnx_cases import RnnCase, rel_err, run_onnxruntime
from rnnc.backend.load import load_config, machine_of
from rnnc.driver.cli import main
from rnnc.driver.io import load_npz
from rnnc.target.arch import DEFAULT_ARCHITECTURE, PRESET_DIR
from rnnc.target.stream_buffers import kept_boxes, loaded_boxes
from test_sim_values import FP32_TOLERANCE, MIXED_TOLERANCE, _batched_case, _compile, _simulate

CASES = [
    ("LSTM", {}),
    ("GRU", {"linear_before_reset": 0}),
    ("RNN", {}),
]


@pytest.fixture(scope="module")
def tiny_chip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """plasticine-rnn cut to 8 x 9 sites (24 PCUs, 48 PMUs) of 2 KiB PMUs."""
    arch = json.loads((PRESET_DIR / f"{DEFAULT_ARCHITECTURE}.json").read_text())
    arch["name"] = "tiny-pmus"
    arch["grid"]["rows"], arch["grid"]["cols"] = 8, 9
    arch["pcu"]["count"], arch["pmu"]["count"], arch["pmu"]["capacity_kib"] = 24, 48, 2
    arch["dram"]["address_generators_per_edge"] = 8
    path = tmp_path_factory.mktemp("arch") / "tiny.json"
    path.write_text(json.dumps(arch))
    return path


def _case(op: str, overrides: dict) -> RnnCase:
    attrs = {"direction": "forward", "hidden_size": 16, "clip": None, "activations": None,
             **overrides}
    return _batched_case(op, 41, attrs, 200, [99])


def _assert_keeps_rows(config: Path, report: dict) -> None:
    """FIFO PMUs hold rows no AG loads, and rows still stream (the chip is too small)."""
    machine = machine_of(load_config(str(config)))
    loaded = loaded_boxes(machine.units)
    fifos = [u for u in machine.units if u.kind == "pmu" and u.banking == "fifo"]
    assert fifos and any(kept_boxes(u, loaded) for u in fifos)
    assert 0 < report["weights"]["streamed_share"] < 1
    assert abs(report["predicted"]["error"]) <= 0.10, report["predicted"]


def _report(tmp: Path) -> dict:
    return json.loads((tmp / "report.json").read_text())


@pytest.mark.parametrize(("op", "overrides"), CASES)
def test_fp32_overflow_config_agrees_with_onnxruntime(
    tmp_path: Path, tiny_chip: Path, op: str, overrides: dict
) -> None:
    case = _case(op, overrides)
    config = _compile(tmp_path, case.model, "fp32", "--arch", str(tiny_chip))
    got = _simulate(tmp_path, config, case.inputs)
    _assert_keeps_rows(config, _report(tmp_path))
    for name, value in run_onnxruntime(case).items():
        assert rel_err(got[name], value) <= FP32_TOLERANCE, (name, case.describe())


def test_mixed_overflow_config_agrees_with_the_loop_interpreter(
    tmp_path: Path, tiny_chip: Path
) -> None:
    case = _case("GRU", {"linear_before_reset": 0})
    config = _compile(tmp_path, case.model, "mixed", "--arch", str(tiny_chip))
    got = _simulate(tmp_path, config, case.inputs)
    _assert_keeps_rows(config, _report(tmp_path))
    reference = tmp_path / "loop.npz"
    assert main(["run", str(tmp_path / "model.mlir"), "--inputs", str(tmp_path / "in.npz"),
                 "-p", "rnn-decompose,loop-fuse,loop-assign-resources", "--precision",
                 "mixed", "--arch", str(tiny_chip), "-o", str(reference)]) == 0
    for name, value in load_npz(str(reference)).items():
        assert np.max(np.abs(got[name] - value)) <= MIXED_TOLERANCE, name
