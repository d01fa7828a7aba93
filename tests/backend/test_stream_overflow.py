"""Only the overflow streams: a weight slice two PMUs cannot hold keeps a head in one PMU and
as many rows more as fit beside the stream buffer of its FIFO PMU; only the rest is loaded
from DRAM every step (`plan.weight_placement`, `stream_buffers`).

On chips too small for the weights (plasticine-rnn cut to a few sites of small PMUs), the
configuration has FIFO PMUs holding rows no AG loads; fp32 configurations agree with
onnxruntime, mixed ones with the loop interpreter's emulation (as in test_sim_values.py),
and the cost model predicts the simulated time within 10%.
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


def _small_chip(folder: Path, rows: int, pmu_kib: int) -> Path:
    """plasticine-rnn cut to `rows` x 9 sites (a PCU between two PMUs) of `pmu_kib` PMUs."""
    arch = json.loads((PRESET_DIR / f"{DEFAULT_ARCHITECTURE}.json").read_text())
    arch["name"] = f"small-{rows}x9-{pmu_kib}k"
    arch["grid"]["rows"], arch["grid"]["cols"] = rows, 9
    arch["pcu"]["count"], arch["pmu"]["count"] = 3 * rows, 6 * rows
    arch["pmu"]["capacity_kib"] = pmu_kib
    arch["dram"]["address_generators_per_edge"] = rows - 1
    path = folder / f"{arch['name']}.json"
    path.write_text(json.dumps(arch))
    return path


def _assert_keeps_rows(tmp: Path, config: Path) -> None:
    """FIFO PMUs hold rows no AG loads, rows still stream (the chip is too small), and
    the model predicts the simulated time within 10%."""
    machine = machine_of(load_config(str(config)).data)
    loaded = loaded_boxes(machine.units)
    fifos = [u for u in machine.units if u.kind == "pmu" and u.banking == "fifo"]
    assert fifos and any(kept_boxes(u, loaded) for u in fifos)
    report = json.loads((tmp / "report.json").read_text())
    assert 0 < report["weights"]["streamed_share"] < 1
    assert abs(report["predicted"]["error"]) <= 0.10, report["predicted"]


@pytest.mark.parametrize(("op", "overrides", "hidden", "inputs"), [
    ("LSTM", {}, 16, 600),
    ("GRU", {"linear_before_reset": 0}, 40, 200),
])
def test_fp32_overflow_config_agrees_with_onnxruntime(
    tmp_path: Path, op: str, overrides: dict, hidden: int, inputs: int
) -> None:
    """2 KiB PMUs: 77 KiB (LSTM) and 113 KiB (GRU) of fp32 weights on 48 PMUs that also
    hold the operands, biases and state."""
    attrs = {"direction": "forward", "hidden_size": hidden, "clip": None, "activations": None,
             **overrides}
    case: RnnCase = _batched_case(op, 41, attrs, inputs, [99])
    chip = _small_chip(tmp_path, 8, 2)
    config = _compile(tmp_path, case.model, "fp32", "--arch", str(chip))
    got = _simulate(tmp_path, config, case.inputs)
    _assert_keeps_rows(tmp_path, config)
    for name, value in run_onnxruntime(case).items():
        assert rel_err(got[name], value) <= FP32_TOLERANCE, (name, case.describe())


def test_mixed_overflow_config_agrees_with_the_loop_interpreter(tmp_path: Path) -> None:
    """16 KiB PMUs (a lookup table takes one), an LSTM of 128 hidden units over 1100
    inputs: 616 KiB of 8-bit weights on 36 PMUs."""
    chip = _small_chip(tmp_path, 6, 16)
    model, config = tmp_path / "model.mlir", tmp_path / "config.json"
    assert main(["gen", "lstm", "128", "3", "--input", "1100", "--seed", "1",
                 "-o", str(model)]) == 0
    assert main([str(model), "-o", str(config), "--precision", "mixed", "--arch",
                 str(chip)]) == 0
    got = _simulate(tmp_path, config, load_npz(str(tmp_path / "model.inputs.npz")))
    _assert_keeps_rows(tmp_path, config)
    reference = tmp_path / "loop.npz"
    assert main(["run", str(model), "--inputs", str(tmp_path / "in.npz"),
                 "-p", "rnn-decompose,loop-fuse,loop-assign-resources", "--precision",
                 "mixed", "--arch", str(chip), "-o", str(reference)]) == 0
    for name, value in load_npz(str(reference)).items():
        assert np.max(np.abs(got[name] - value)) <= MIXED_TOLERANCE, name
