"""spatial-place, spatial-route and spatial-verify on real designs: every DeepBench task
compiled by the default spatial pipeline's passes (the search with its routability retries,
partition, place, route, verify; compiled once per session with the simulator's tests,
the same module as the pipeline's, checked on the shipped example) is placed, routed and
passes the independent checker; a decomposed program too; place, route and verify leave
their own output unchanged; the placement of a real design is byte-identical across
PYTHONHASHSEED values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from functools import cache
from io import StringIO
from pathlib import Path

import pytest
from rnnc.dialects.spatial import design_of
from rnnc.driver import pipeline
from rnnc.driver.cli import LEVEL_PIPELINES
from rnnc.driver.design_points import Compiled
from rnnc.driver.routable import MAX_ROUTE_RETRIES
from rnnc.target.arch import load_architecture
from rnnc.target.checks import check_design
from rnnc.target.machine import Machine, from_data, machine_from_module, to_data
from xdsl.dialects.builtin import ModuleOp
from xdsl.printer import Printer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "deepbench"
TASKS = ("lstm-256-150", "lstm-512-25", "lstm-1024-25", "lstm-1536-50", "lstm-2048-25",
         "gru-512-1", "gru-1024-1500", "gru-1536-375", "gru-2048-375", "gru-2560-375",
         "gru-2816-750")
def _text(module: ModuleOp) -> str:
    out = StringIO()
    Printer(stream=out).print_op(module)
    return out.getvalue()


def _compile(path: Path, spec: str) -> ModuleOp:
    ctx = pipeline.make_context()
    module, source = pipeline.parse_module(ctx, path.read_text(), str(path))
    passes = pipeline.build_pipeline(spec, pipeline.available_passes())
    pipeline.run_pipeline(ctx, module, passes, source)
    return module


@cache
def _spatial(task: str) -> ModuleOp:
    return _compile(EXAMPLES / f"{task}.mlir", LEVEL_PIPELINES["spatial"])


def _assert_placed_routed_legal(module: ModuleOp) -> None:
    design = design_of(module)
    assert design is not None
    assert all(unit.site_value is not None for unit in design.units())
    assert all(stream.paths is not None for stream in design.streams())
    machine = machine_from_module(design)
    arch = load_architecture(design.arch.arch_name.data)
    assert check_design(arch, machine.units, machine.streams) == []


def _shared_spatial(compiled: Compiled) -> ModuleOp:
    """The spatial level of a design `compile_at` built at the search's point (shared with
    tests/backend/test_sim_time.py): the rest of the default pipeline, `spatial-predict`
    and `spatial-strip`, run on a copy. The same module as the default pipeline's
    (`test_the_shared_design_is_the_default_pipelines`)."""
    module = compiled.module.clone()
    passes = pipeline.build_pipeline("spatial-predict,spatial-strip", pipeline.available_passes())
    pipeline.run_pipeline(pipeline.make_context(), module, passes, "<model>")
    return module


@pytest.mark.parametrize("task", TASKS)
def test_deepbench_task_places_routes_and_verifies(
    task: str, deepbench_design: Callable[[str], Compiled]
) -> None:
    module = _shared_spatial(deepbench_design(task))
    _assert_placed_routed_legal(module)
    retries = module.attributes["rnnc.retries"].data  # type: ignore[attr-defined]
    assert 0 <= retries["retries"].value.data <= MAX_ROUTE_RETRIES
    assert len(retries["reasons"].data) == retries["retries"].value.data


def test_the_shared_design_is_the_default_pipelines(
    deepbench_design: Callable[[str], Compiled]
) -> None:
    """The design shared with the simulator's tests, finished by the last two passes, is
    the one the default spatial pipeline (`rnnc --emit=spatial`) writes."""
    assert _text(_shared_spatial(deepbench_design("lstm-512-25"))) == _text(
        _spatial("lstm-512-25"))


@pytest.mark.parametrize("row", [2, 3, 21, 25])
def test_deepbench_rows_with_batch_2_and_4(row: int, tmp_path: Path) -> None:
    """DeepBench rows 2 and 3 (LSTM-512, T=25, batch 2 and 4), 21 (GRU-2816, T=750, batch 2)
    and 25 (GRU-2816, T=750, batch 4), the GRUs with weights streamed from DRAM."""
    model = tmp_path / "model.mlir"
    rnnc = str(Path(sys.executable).parent / "rnnc")
    subprocess.run([rnnc, "gen", "--csv-row", str(row), "-o", str(model)], check=True,
                   capture_output=True)
    assert "x2x" in model.read_text() or "x4x" in model.read_text()
    _assert_placed_routed_legal(_compile(model, LEVEL_PIPELINES["spatial"]))


def test_a_decomposed_program_places_routes_and_verifies() -> None:
    spec = LEVEL_PIPELINES["spatial"].replace("loop-fuse,", "")
    _assert_placed_routed_legal(_compile(EXAMPLES / "lstm-512-25.mlir", spec))


@pytest.mark.parametrize("spec", ["spatial-place", "spatial-route", "spatial-verify",
                                  "spatial-place{seed=9},spatial-route,spatial-verify"])
def test_each_pass_leaves_a_routed_design_unchanged(spec: str, tmp_path: Path) -> None:
    routed = _text(_spatial("lstm-512-25"))
    path = tmp_path / "routed.mlir"
    path.write_text(routed)
    assert _text(_compile(path, spec)) == routed


def test_placement_of_a_real_design_is_identical_across_hash_seeds(tmp_path: Path) -> None:
    logical = _compile(EXAMPLES / "lstm-1536-50.mlir",
                       "rnn-decompose,loop-fuse,loop-assign-resources,spatial-partition")
    path = tmp_path / "logical.mlir"
    path.write_text(_text(logical))
    outputs = []
    for hash_seed in ("11", "12"):
        done = subprocess.run(
            [str(Path(sys.executable).parent / "rnnc"), str(path), "-p", "spatial-place{seed=3}"],
            env={**os.environ, "PYTHONHASHSEED": hash_seed}, capture_output=True, text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    # every unit and the controller (at its switch) placed
    assert outputs[0].count(" at (") == len(design_of(logical).units()) + 1  # type: ignore[union-attr]


def test_the_checker_runs_on_plain_data_as_a_configuration_holds_it() -> None:
    """The machine as JSON (what config.json carries) passes; a unit moved onto another's
    site, or a path cut short, does not."""
    machine = machine_from_module(design_of(_spatial("lstm-512-25")))  # type: ignore[arg-type]
    data = json.loads(json.dumps(to_data(machine)))
    arch = load_architecture(data["arch"])
    loaded = from_data(Machine, data)
    assert check_design(arch, loaded.units, loaded.streams) == []
    data["units"][1]["site"] = data["units"][0]["site"]
    data["streams"][0]["paths"][0] = [*data["streams"][0]["paths"][0][:1], [-5, -5]]
    broken = from_data(Machine, data)
    messages = [str(p) for p in check_design(arch, broken.units, broken.streams)]
    assert any("shares site" in m for m in messages)
    assert any("not adjacent switches" in m for m in messages)
