"""`rnnc sim`'s values on designs whose map-reduce units add their neighbours' partial sums
(the `chained-sums` schedule), and what the loader refuses in that form.

The models reduce over 300 inputs, so the search splits each reduction in several parts and
chains them: every case first checks that its configuration has map-reduce units with
`reduce.inputs` and no combining unit. fp32 configurations agree with onnxruntime, mixed
ones with the loop interpreter's emulation (as in test_sim_values.py); `--schedules none`
builds combining units instead and computes the same values.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from onnx_cases import RnnCase, rel_err, run_onnxruntime
from rnnc.driver.cli import main
from rnnc.driver.io import load_npz
from test_sim_values import (
    FP32_TOLERANCE,
    MIXED_TOLERANCE,
    _batched_case,
    _compile,
    _simulate,
)

#: The chained form alone (a step-ahead nest combines in combining units; the search may
#: prefer it at these sizes).
CHAINED = ("--schedules", "chained-sums")

CASES = [
    ("LSTM", {}),
    ("GRU", {"linear_before_reset": 0}),
    ("GRU", {"linear_before_reset": 1}),
    ("RNN", {}),
]


def _case(op: str, overrides: dict, seed: int = 40) -> RnnCase:
    attrs = {"direction": "forward", "hidden_size": 16, "clip": None, "activations": None,
             **overrides}
    return _batched_case(op, seed, attrs, 300, [99])


def _units(config: Path) -> list[dict]:
    return json.loads(config.read_text())["chips"][0]["units"]


def _assert_chained(config: Path) -> None:
    units = _units(config)
    assert any(u.get("role") == "map_reduce" and u["reduce"]["inputs"] for u in units)
    assert not any(u.get("role") == "combine" for u in units)


@pytest.mark.parametrize(("op", "overrides"), CASES)
def test_fp32_chained_config_agrees_with_onnxruntime(
    tmp_path: Path, op: str, overrides: dict
) -> None:
    case = _case(op, overrides)
    config = _compile(tmp_path, case.model, "fp32", *CHAINED)
    _assert_chained(config)
    got = _simulate(tmp_path, config, case.inputs)
    for name, value in run_onnxruntime(case).items():
        assert rel_err(got[name], value) <= FP32_TOLERANCE, (name, case.describe())


@pytest.mark.parametrize(("op", "overrides"), [("GRU", {"linear_before_reset": 0}),
                                               ("RNN", {"hidden_size": 8})])
def test_mixed_chained_config_agrees_with_the_loop_interpreter(
    tmp_path: Path, op: str, overrides: dict
) -> None:
    case = _case(op, overrides)
    config = _compile(tmp_path, case.model, "mixed", *CHAINED)
    _assert_chained(config)
    got = _simulate(tmp_path, config, case.inputs)
    reference = tmp_path / "loop.npz"
    assert main(["run", str(tmp_path / "model.mlir"), "--inputs", str(tmp_path / "in.npz"),
                 "-p", "rnn-decompose,loop-fuse,loop-assign-resources", "--precision",
                 "mixed", "-o", str(reference)]) == 0
    for name, value in load_npz(str(reference)).items():
        assert np.max(np.abs(got[name] - value)) <= MIXED_TOLERANCE, name


def test_schedules_none_builds_combining_units_with_the_same_values(tmp_path: Path) -> None:
    case = _case("LSTM", {})
    chained = _compile(tmp_path, case.model, "fp32", *CHAINED)
    got = _simulate(tmp_path, chained, case.inputs)
    paper = tmp_path / "paper.json"
    assert main([str(tmp_path / "model.mlir"), "-o", str(paper), "--precision", "fp32",
                 "--schedules", "none"]) == 0
    units = _units(paper)
    assert any(u.get("role") == "combine" for u in units)
    assert not any(u.get("role") == "map_reduce" and u["reduce"]["inputs"] for u in units)
    again = _simulate(tmp_path, paper, case.inputs)
    for name, value in got.items():
        assert rel_err(again[name], value) <= FP32_TOLERANCE, name


# ---- what the loader refuses ---------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed_config(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("chained")
    config = _compile(tmp, _case("GRU", {"linear_before_reset": 0}).model, "mixed", *CHAINED)
    _assert_chained(config)
    return json.loads(config.read_text())


def _refused(tmp_path: Path, config: dict, capsys: pytest.CaptureFixture[str]) -> str:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config))
    assert main(["sim", str(path), "--inputs", str(tmp_path / "none.npz"),
                 "-o", str(tmp_path / "out.npz")]) == 1
    return capsys.readouterr().err


def _chained_unit(config: dict) -> tuple[int, dict]:
    units = config["chips"][0]["units"]
    return next((k, u) for k, u in enumerate(units)
                if u.get("role") == "map_reduce" and u["reduce"]["inputs"])


def test_more_partial_sums_than_free_stages_are_refused(
    tmp_path: Path, mixed_config: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    config = json.loads(json.dumps(mixed_config))
    k, unit = _chained_unit(config)
    unit["reduce"]["inputs"] = ["in:si0", "in:si1"]
    err = _refused(tmp_path, config, capsys)
    assert f"error: field 'chips.0.units.{k}.reduce.inputs': unit '{unit['id']}': adds 2 " \
           "partial sums in its reduction; a PCU has room for 1 in mixed (4 stages, 1 left " \
           "after the prefix and the folded tree)" in err


def test_an_added_sum_must_be_a_scalar_input(
    tmp_path: Path, mixed_config: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    config = json.loads(json.dumps(mixed_config))
    k, unit = _chained_unit(config)
    unit["reduce"]["inputs"] = ["in:vi0"]
    err = _refused(tmp_path, config, capsys)
    assert f"error: field 'chips.0.units.{k}.reduce.inputs.0': unit '{unit['id']}': adds " \
           "'in:vi0', expected one scalar input port (in:siN)" in err


def test_a_combining_unit_may_not_add_in_a_reduction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = _case("LSTM", {})
    config_path = tmp_path / "paper.json"
    (tmp_path / "model.onnx").write_bytes(case.model.SerializeToString())
    assert main(["import", str(tmp_path / "model.onnx"), "-o", str(tmp_path / "m.mlir")]) == 0
    assert main([str(tmp_path / "m.mlir"), "-o", str(config_path), "--precision", "fp32",
                 "--schedules", "none"]) == 0
    config = json.loads(config_path.read_text())
    k, unit = next((k, u) for k, u in enumerate(config["chips"][0]["units"])
                   if u.get("role") == "combine")
    unit["reduce"] = {"combiner": "add", "inputs": ["in:si0"], "output": "so0", "rv": 1,
                      "segments": []}
    err = _refused(tmp_path, config, capsys)
    assert f"error: field 'chips.0.units.{k}.reduce.inputs': unit '{unit['id']}': a unit of " \
           "role combine adds partial sums in a reduction (only a map_reduce unit folds)" in err
