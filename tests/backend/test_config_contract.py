"""The config contract: what `rnnc sim` accepts, a chip could run.

Each edit below turns the shipped example's configuration into one no chip could run --
a unit beyond the architecture (lanes, stages, `rv`, a counter chain, a PMU's address
chain), a PMU holding more
than it has room for, a path that is not simple, a value no route carries, a unit the
schedule never fires, a unit the control routes do not reach -- and `rnnc sim`
refuses it before running anything: exit 1, one diagnostic naming the unit (or route)
and its field, no traceback, no output file. Real configurations (the example, and small
models of each cell in both precisions and both directions) load.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from onnx_cases import batch1_case
from rnnc.backend.load import load_config
from rnnc.driver.cli import main
from rnnc.target.arch import architecture_from_dict

EXAMPLE_INPUTS = Path(__file__).parents[2] / "examples" / "deepbench" / "lstm-512-25.inputs.npz"

Config = dict[str, Any]


def _units(config: Config) -> list[dict[str, Any]]:
    return config["chips"][0]["units"]


def _unit(config: Config, unit_id: str) -> dict[str, Any]:
    return next(u for u in _units(config) if u["id"] == unit_id)


def _at(config: Config, unit_id: str) -> str:
    """The field of a unit: `chips.0.units.<index>`."""
    index = next(k for k, u in enumerate(_units(config)) if u["id"] == unit_id)
    return f"chips.0.units.{index}"


def _wide_pcu(config: Config) -> str:
    _unit(config, "n0_mr0_s0_p0")["lanes"] = 1024
    return (f"field '{_at(config, 'n0_mr0_s0_p0')}.lanes': unit 'n0_mr0_s0_p0': uses 1024 "
            f"lanes, a PCU has 16")


def _deep_op(config: Config) -> str:
    _unit(config, "n0_mr0_s0_p0")["ops"][0]["stage"] = 40
    return (f"field '{_at(config, 'n0_mr0_s0_p0')}.ops.0.stage': unit 'n0_mr0_s0_p0': op "
            f"'read' at pipeline stage 40, a PCU has stages 0 to 3")


def _wide_reduction(config: Config) -> str:
    # its weight PMU, rows padded to 4096-word vectors, no longer fits: the one more
    _unit(config, "n0_mr0_s0_p0")["reduce"]["rv"] = 4096
    return (f"field '{_at(config, 'n0_mr0_s0_p0')}.reduce.rv': unit 'n0_mr0_s0_p0': "
            f"map-reduces 4096 indices per cycle (rv); a PCU's 16 lanes take at most 64 in "
            f"mixed (and 1 more)")


def _whole_matrix(config: Config) -> str:
    # the declared bytes are left as they were (a PMU's bytes are its own boxes': no other
    # slice of the nest is affected)
    pmu = _unit(config, "pmu0")
    assert [h["array"] for h in pmu["holds"]] == ["W"]
    whole = [[0, 1, 1], [0, 2048, 1], [0, 512, 1]]
    pmu["boxes"] = [{"memory": "w", "per_step": False, "slices": whole}]
    pmu["holds"] = [{**pmu["holds"][0], "slices": whole}]
    return (f"field '{_at(config, 'pmu0')}.boxes': unit 'pmu0': its boxes take 1048576 bytes, "
            f"more than the PMU's 86016")


def _bouncing_path(config: Config) -> str:
    routes = config["chips"][0]["routes"]
    index, route = next((k, r) for k, r in enumerate(routes) if len(r["paths"][0]) >= 2)
    path = route["paths"][0]
    route["paths"][0] = [path[0], path[1], *path]
    return (f"field 'chips.0.routes.{index}.paths.0': stream '{route['id']}': path to "
            f"'{route['sinks'][0]['unit']}' visits switch ({path[0][0]}, {path[0][1]}) twice")


def _gather_unrouted(config: Config) -> str:
    # the element-wise units' writes of h and y now reach no PMU or AG: the gather unit
    # sends nothing, the AGs storing y and Y_h receive nothing, and no write of h reaches
    # the PMUs holding it (h starts as their zero contents: no nest before the time loop
    # writes it)
    gathers = {u["id"] for u in _units(config) if u.get("role") == "gather"}
    assert gathers == {"n0_ga1_l0_0"}
    chip = config["chips"][0]
    chip["routes"] = [r for r in chip["routes"]
                      if r["source"]["unit"] not in gathers or r["network"] == "control"]
    return (f"field '{_at(config, 'n0_ew1_0')}.ops.2.params.port': unit 'n0_ew1_0': writes "
            f"'h' on 'vo0', and no route from there reaches a PMU or AG holding 'h' "
            f"(and 16 more)")


def _never_fired(config: Config) -> str:
    _unit(config, "n0_ew1_0")["nest"] = "n9"
    return (f"field '{_at(config, 'n0_ew1_0')}.nest': unit 'n0_ew1_0': belongs to nest 'n9', "
            f"which the schedule never runs")


def _done_unrouted(config: Config) -> str:
    # the gather unit's done token no longer reaches the controller: the step could end
    # before the gather has sent h and y
    chip = config["chips"][0]
    (route,) = [r for r in chip["routes"] if r["id"] == "done_n0_ga1_l0_0"]
    assert route["network"] == "control" and route["sinks"][0]["unit"] == "ctrl"
    chip["routes"].remove(route)
    return (f"field '{_at(config, 'n0_ga1_l0_0')}': unit 'n0_ga1_l0_0': the schedule fires "
            f"it, and no control route takes its done token to the controller 'ctrl'")


def _enable_unrouted(config: Config) -> str:
    # the enable tree no longer reaches the AG loading x
    (enable,) = [r for r in config["chips"][0]["routes"] if r["id"] == "enable"]
    (k,) = [k for k, sink in enumerate(enable["sinks"]) if sink["unit"] == "ag2"]
    del enable["sinks"][k], enable["paths"][k]
    return (f"field '{_at(config, 'ag2')}': unit 'ag2': the schedule fires it, and no control "
            f"route brings it the enable from the controller 'ctrl'")


def _long_counter_chain(config: Config) -> str:
    # six more dimensions of extent 1 on the unit's nest, each counted by the unit
    pcu = _unit(config, "n0_ew1_0")
    assert len(pcu["counters"]) == 3
    (nest,) = [n for n in config["program"]["nests"] if n["id"] == "n0"]
    nest["extents"] += [1] * 6
    nest["par"] += [1] * 6
    pcu["counters"] += [{"name": f"d{k}", "start": 0, "stop": 1, "stride": 1} for k in range(3, 9)]
    return (f"field '{_at(config, 'n0_ew1_0')}.counters': unit 'n0_ew1_0': chains 9 counters, "
            f"a PCU has 8")


def _short_pmu_chains(config: Config) -> str:
    # a chip whose PMUs chain 2 address counters: the boxes of x (time, batch, element)
    # take 3, the first PMU holding one is named (the embedded description edited and its
    # hash recomputed, as the loader checks it)
    description = config["arch"]["description"]
    description["pmu"]["counters"] = 2
    config["arch"]["sha256"] = architecture_from_dict(description).digest()
    first = next(u for u in _units(config) if u["kind"] == "pmu" and u["boxes"])
    refused = sum(1 for u in _units(config) if u["kind"] == "pmu" for b in u["boxes"]
                  if len(b["slices"]) > 2)
    memory = first["boxes"][0]["memory"]
    return (f"field '{_at(config, first['id'])}.boxes.0.slices': unit '{first['id']}': "
            f"addresses box 0 ('{memory}') with a chain of 3 counters, a PMU has 2 "
            f"(and {refused - 1} more)")


EDITS: dict[str, Callable[[Config], str]] = {
    "a-pcu-lanes": _wide_pcu,
    "b-op-stage": _deep_op,
    "c-rv": _wide_reduction,
    "d-pmu-bytes": _whole_matrix,
    "e-path-twice": _bouncing_path,
    "f-gather-route": _gather_unrouted,
    "schedule": _never_fired,
    "done-route": _done_unrouted,
    "enable-route": _enable_unrouted,
    "counter-chain": _long_counter_chain,
    "pmu-counter-chain": _short_pmu_chains,
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_rnnc_sim_refuses_a_config_no_chip_could_run(
    edit: str, fused_example_config: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the edits name the units of the example's fused design (--schedules none)
    config = json.loads(fused_example_config.read_text())
    expected = EDITS[edit](config)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    weights = config["weights"]["path"]
    (tmp_path / weights).symlink_to(fused_example_config.parent / weights)
    out, report = tmp_path / "out.npz", tmp_path / "report.json"
    assert main(["sim", str(path), "--inputs", str(EXAMPLE_INPUTS), "-o", str(out),
                 "--report", str(report)]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"{path}: error: {expected}\n"
    assert captured.out == ""
    assert not out.exists() and not report.exists()


def test_the_shipped_example_loads(example_config: Path) -> None:
    assert load_config(example_config).arch.name == "plasticine-rnn"


@pytest.mark.parametrize(("cell", "hidden", "precision"), [("lstm", 24, "mixed"),
                                                           ("gru", 16, "fp32"),
                                                           ("rnn", 16, "mixed")])
def test_generated_models_load(cell: str, hidden: int, precision: str, tmp_path: Path) -> None:
    """Small models: copies of unequal size, gather trees, lookup tables, both precisions."""
    model, config = tmp_path / f"{cell}.mlir", tmp_path / "config.json"
    assert main(["gen", cell, str(hidden), "2", "-o", str(model)]) == 0
    assert main([str(model), "-o", str(config), "--precision", precision]) == 0
    assert load_config(config).data["precision"]["name"] == precision


@pytest.mark.parametrize(("op", "precision"), [("LSTM", "fp32"), ("GRU", "mixed")])
def test_bidirectional_models_load(op: str, precision: str, tmp_path: Path) -> None:
    """Two directions, odd sizes, initial states and sequence lengths (the ONNX cases)."""
    case = batch1_case(op, 3, {"direction": "bidirectional", "activations": None})
    onnx_path, mlir, config = tmp_path / "m.onnx", tmp_path / "m.mlir", tmp_path / "config.json"
    onnx_path.write_bytes(case.model.SerializeToString())
    assert main(["import", str(onnx_path), "-o", str(mlir)]) == 0
    assert main([str(mlir), "-o", str(config), "--precision", precision]) == 0
    assert load_config(config).data["design"]["chips"] == 1
