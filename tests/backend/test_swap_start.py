"""The swap start (`swap-start`, `Phase.swap`): what the compiler builds, what the loader
refuses, and that `rnnc sim` starts a step on the state buffer's token -- earlier than the
controller's round trip, with the same values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from example_edits import EXAMPLE, assert_refused, simulate_example, write_edited
from rnnc.backend.load import load_config, machine_of
from rnnc.driver.cli import main
from rnnc.driver.io import load_npz
from rnnc.simulator.machine_timing import phase_graphs
from rnnc.simulator.timing import _Engine
from rnnc.target.swap_start import SWAP_IN, SWAP_OUT

Config = dict[str, Any]


def _route(config: Config, route_id: str = "swap_n0") -> Config:
    return next(r for r in config["chips"][0]["routes"] if r["id"] == route_id)


def test_the_loop_starts_on_its_state_buffers_swap(example_config: Path) -> None:
    """The example's loop names its swap stream: from the first state buffer's swap output
    to every PCU of the loop's nest and every PMU they read or write (not the tables, not
    the address generators) and to the controller. (The example's one phase is its loop:
    the loop's own stores write Y_h, no phase copies it out.)"""
    config = json.loads(example_config.read_text())
    (loop,) = config["program"]["schedule"]
    assert loop["swap"] == "swap_n0"
    units = {u["id"]: u for u in config["chips"][0]["units"]}
    route = _route(config)
    assert route["network"] == "control"
    state = [u for u in units.values() if u.get("role") == "state"]
    assert route["source"] == {"unit": state[0]["id"], "port": SWAP_OUT}
    controller = config["chips"][0]["controller"]["id"]
    relay = [sink for sink in route["sinks"] if sink["unit"] == controller]
    assert len(relay) == 1  # the controller relays it to the address generators
    sinks = {sink["unit"] for sink in route["sinks"]} - {controller}
    assert {sink["port"] for sink in route["sinks"] if sink["unit"] != controller} == {SWAP_IN}
    loop_pcus = {u["id"] for u in units.values() if u["kind"] == "pcu" and u["nest"] == "n0"}
    assert loop_pcus <= sinks
    assert {state[1]["id"]} <= sinks
    assert not any(units[s]["kind"] == "ag" or units[s].get("role") == "lookup-table"
                   for s in sinks)
    assert len(route["paths"]) == len(route["sinks"])


def test_without_the_schedule_the_controller_starts_every_step(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    assert main([f"{EXAMPLE}.mlir", "-o", str(config), "--schedules", "all,-swap-start"]) == 0
    data = json.loads(config.read_text())
    assert all("swap" not in phase for phase in data["program"]["schedule"])
    assert not any(r["id"].startswith("swap") for r in data["chips"][0]["routes"])


def _no_route(config: Config) -> str:
    routes = config["chips"][0]["routes"]
    routes.remove(_route(config))
    return ("field 'program.schedule.0.swap': phase 0 of the schedule: starts its steps on "
            "the token of route 'swap_n0', which is not a control route")


def _missing_reader(config: Config) -> str:
    route = _route(config)
    k = next(k for k, s in enumerate(route["sinks"]) if s["unit"] == "n0_mr0_s0_p0")
    del route["sinks"][k], route["paths"][k]
    index = next(i for i, u in enumerate(config["chips"][0]["units"])
                 if u["id"] == "n0_mr0_s0_p0")
    return (f"field 'chips.0.units.{index}': unit 'n0_mr0_s0_p0': a first reader of the step "
            "of nest 'n0', and route 'swap_n0' does not bring it the swap token")


def _wrong_output(config: Config) -> str:
    route = _route(config)
    route["source"]["port"] = "co2"
    index = config["chips"][0]["routes"].index(route)
    return (f"field 'chips.0.routes.{index}.source': stream 'swap_n0': the swap token leaves "
            f"'{route['source']['unit']}' on port 'co2', not its swap output 'co1'")


def _once(config: Config) -> str:
    """A phase run once appended (the example runs none: the loop's stores write Y_h)."""
    config["program"]["schedule"].append(
        {"kind": "once", "steps": 1, "nests": ["n0"], "swap": "swap_n0"})
    return ("field 'program.schedule.1.swap': phase 1 of the schedule: only a loop of two "
            "steps or more starts a step on the swap of its state buffer")


def _not_state(config: Config) -> str:
    """The token from a PMU that holds no state: a weight PMU beside the state buffer is
    not one, whatever its route."""
    route = _route(config)
    state = [u["id"] for u in config["chips"][0]["units"] if u.get("role") == "state"]
    for unit in config["chips"][0]["units"]:
        if unit["id"] == route["source"]["unit"]:
            # the first state buffer single-buffered (its bytes too): it never swaps
            unit["buffers"], unit["bytes"] = 1, unit["bytes"] // 2
    index = config["chips"][0]["routes"].index(route)
    return (f"field 'chips.0.routes.{index}.source': stream 'swap_n0': carries the swap token "
            f"of phase nest 'n0' from '{state[0]}', which is not a state buffer of the loop "
            f"(those: {state[1]})")


def _no_relay(config: Config) -> str:
    route = _route(config)
    k = next(k for k, s in enumerate(route["sinks"]) if s["unit"] == "ctrl")
    del route["sinks"][k], route["paths"][k]
    index = config["chips"][0]["routes"].index(route)
    return (f"field 'chips.0.routes.{index}.sinks': stream 'swap_n0': does not bring the swap "
            "token to the controller 'ctrl', which relays it to the address generators as "
            "their enable")


EDITS = {"no-route": _no_route, "no-relay": _no_relay, "missing-reader": _missing_reader,
         "wrong-output": _wrong_output, "once": _once, "not-state": _not_state}


@pytest.mark.parametrize("edit", list(EDITS))
def test_rnnc_sim_refuses_a_swap_start_no_chip_could_run(
    edit: str, example_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_refused(EDITS[edit], example_config, tmp_path, capsys)


def test_a_step_starts_when_the_swap_token_arrives(example_config: Path) -> None:
    """Every step after the first: the state buffer's read of h fires when the buffer has
    swapped (its last write of the step before + the write + the swap), and each first
    reader starts when the token has crossed its routed path from there -- before the
    controller, which still follows the done tokens, enables the step."""
    loaded = load_config(example_config)
    machine, arch = machine_of(loaded.data), loaded.arch
    (graph,) = [g for g in phase_graphs(machine, arch) if g.phase.kind == "loop"]
    g = graph.graph
    source = _route(json.loads(example_config.read_text()))["source"]["unit"]
    reads = [k for k, u in enumerate(graph.units) if u == source and k not in g.swap_writers]
    assert g.swap_writers and reads
    engine = _Engine(g)  # the engine itself: its steps' firings
    engine.run(5, extrapolate=False)
    swap = arch.mechanisms.buffer_swap_cycles
    for step in range(1, 5):
        before = engine.history[step - 1].firings
        swapped = max(float(before[w][-1]) + g.nodes[w].latency for w in g.swap_writers) + swap
        now = engine.history[step]
        assert float(now.firings[reads[0]][0]) == swapped
        for k, node in enumerate(g.nodes):
            if node.swap_hops >= 0 and node.lead == 0 and now.firings[k].size:
                assert float(now.firings[k][0]) >= swapped + node.swap_hops * g.hop_latency
        first = min(float(f[0]) for k, f in enumerate(now.firings)
                    if f.size and g.nodes[k].lead == 0 and g.nodes[k].swap_hops >= 0)
        assert first < now.enable  # the controller's enable comes after the token
    # the address generators keep the controller's enable (their one control input)
    assert all(node.swap_hops == -1 for node in g.nodes if node.kind == "ag")
    assert all(node.swap_hops >= 0 for node in g.nodes if node.kind == "pcu")


def test_the_swap_start_shortens_the_steps_and_leaves_the_values(
    example_config: Path, tmp_path: Path
) -> None:
    """The same placed and routed machine without its swap start (the phase's field and the
    route removed: the controller's enable starts every step): the same outputs, longer
    steps."""
    config = json.loads(example_config.read_text())
    del config["program"]["schedule"][0]["swap"]
    config["chips"][0]["routes"].remove(_route(config))
    controller = write_edited(config, example_config, tmp_path / "controller.json")
    swap = write_edited(json.loads(example_config.read_text()), example_config,
                        tmp_path / "swap.json")
    (_, out_swap, report_swap), (_, out_controller, report_controller) = (
        simulate_example(swap, tmp_path), simulate_example(controller, tmp_path))
    values, reference = load_npz(out_swap), load_npz(out_controller)
    assert sorted(values) == sorted(reference)
    for name, array in values.items():
        np.testing.assert_array_equal(array, reference[name])
    fast, slow = (json.loads(r.read_text()) for r in (report_swap, report_controller))
    assert fast["phases"][0]["cycles_per_step"] < slow["phases"][0]["cycles_per_step"]
    assert fast["time_loop_cycles"] < slow["time_loop_cycles"]
