"""Posted writes (`posted-writes`, `Phase.posted`): what the compiler posts, what the loader
refuses to post, and that posting changes the cycles of `rnnc sim`, never its values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from example_edits import assert_refused, simulate_example, write_edited
from rnnc.driver.io import load_npz

Config = dict[str, Any]


def _posted(config: Config) -> list[str]:
    return config["program"]["schedule"][0]["posted"]


def test_the_loop_posts_its_stores_of_y_and_the_final_state(example_config: Path) -> None:
    """The example's time loop stores y through `ag1` and the final state Y_h, read out of
    each step's write of h, through `ag0`: both posted. Nothing runs once after the loop
    (no copy of h out), and no PMU the loop reads is posted."""
    config = json.loads(example_config.read_text())
    (loop,) = config["program"]["schedule"]
    units = {u["id"]: u for u in config["chips"][0]["units"]}
    assert loop["kind"] == "loop" and loop["posted"] == ["ag0", "ag1"]
    assert [(units[ag]["direction"], units[ag]["memory"]) for ag in loop["posted"]] == [
        ("store", "y_h"), ("store", "y")]


def test_without_the_schedule_nothing_is_posted(fused_example_config: Path) -> None:
    # the example compiled with `--schedules none` (once per session, tests/backend/conftest.py)
    schedule = json.loads(fused_example_config.read_text())["program"]["schedule"]
    assert all("posted" not in phase for phase in schedule)


def _load_ag(config: Config) -> str:
    _posted(config).append("ag2")
    return ("field 'program.schedule.0.posted.2': 'ag2' loads: only a store or a memory the "
            "loop does not read can be posted")


def _state_pmu(config: Config) -> str:
    state = next(u["id"] for u in config["chips"][0]["units"] if u.get("role") == "state")
    _posted(config).insert(0, state)
    return (f"field 'program.schedule.0.posted.0': '{state}' is read by nest 'n0' of the "
            "loop: the next step could read it before the write lands")


def _pcu(config: Config) -> str:
    _posted(config).append("n0_ga1_l0_0")
    return ("field 'program.schedule.0.posted.2': 'n0_ga1_l0_0' is a PCU: only a store or a "
            "memory the loop does not read can be posted")


def _unknown(config: Config) -> str:
    _posted(config)[1] = "ag9"
    return "field 'program.schedule.0.posted.1': 'ag9' is not a unit of the configuration"


def _once(config: Config) -> str:
    config["program"]["schedule"].append(
        {"kind": "once", "steps": 1, "nests": ["n0"], "posted": ["ag1"]})
    return ("field 'program.schedule.1.posted.0': phase 1 runs once: only a loop's steps have "
            "writes to post")


EDITS = {"load-ag": _load_ag, "state-pmu": _state_pmu, "pcu": _pcu, "unknown": _unknown,
         "once": _once}


def _on_the_controller(config: Config) -> Config:
    """The configuration with its loop's swap start removed (`swap-start`)."""
    route = config["program"]["schedule"][0].pop("swap")
    routes = config["chips"][0]["routes"]
    routes[:] = [r for r in routes if r["id"] != route]
    return config


@pytest.mark.parametrize("edit", list(EDITS))
def test_rnnc_sim_refuses_a_write_no_chip_could_post(
    edit: str, example_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_refused(EDITS[edit], example_config, tmp_path, capsys)


def test_posting_shortens_the_steps_and_leaves_the_values(
    example_config: Path, tmp_path: Path
) -> None:
    """The same machine with its posted list removed: the same outputs, longer steps (the
    steps wait for the stores of y and Y_h), and a whole loop no shorter. Both started by
    the controller (the swap start removed: a step started on the state buffer's swap
    waits for no done token, posted or not)."""
    config = _on_the_controller(json.loads(example_config.read_text()))
    del config["program"]["schedule"][0]["posted"]
    waiting = write_edited(config, example_config, tmp_path / "waiting.json")
    posted = write_edited(_on_the_controller(json.loads(example_config.read_text())),
                          example_config, tmp_path / "posted.json")
    (_, out_posted, report_posted), (_, out_waiting, report_waiting) = (
        simulate_example(posted, tmp_path), simulate_example(waiting, tmp_path))
    values, reference = load_npz(out_posted), load_npz(out_waiting)
    assert sorted(values) == sorted(reference)
    for name, array in values.items():
        np.testing.assert_array_equal(array, reference[name])
    fast, slow = (json.loads(r.read_text()) for r in (report_posted, report_waiting))
    assert fast["phases"][0]["cycles_per_step"] < slow["phases"][0]["cycles_per_step"]
    assert fast["time_loop_cycles"] < slow["time_loop_cycles"]
