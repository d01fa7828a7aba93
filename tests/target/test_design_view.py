"""The contract's view of a design in the IR (`rnnc.target.design_view`): the rules of
`check_machine` read off the ops give, problem for problem, what they give on the
configuration model the loader rebuilds from the same design's config data."""

from __future__ import annotations

import json

import pytest
from rnnc.dialects.spatial import DesignOp, PCUOp, PMUOp, design_of
from rnnc.driver.design_points import compile_at
from rnnc.frontends import deepbench
from rnnc.target.arch import DEFAULT_ARCHITECTURE, load_architecture
from rnnc.target.checks import check_machine
from rnnc.target.cost import Factors
from rnnc.target.design_view import design_view
from rnnc.target.machine import Machine, from_data, machine_from_module, to_data
from xdsl.dialects.builtin import IntAttr, StringAttr

ARCH = load_architecture(DEFAULT_ARCHITECTURE)


@pytest.fixture(scope="module")
def routed() -> DesignOp:
    text, _, _ = deepbench.generate(deepbench.Task("lstm", 64, 5), "w.npz", 0)
    compiled = compile_at(text, ARCH, DEFAULT_ARCHITECTURE, [Factors(2, 2, 16)],
                          precision="mixed")
    design = design_of(compiled.module)
    assert design is not None
    return design


def _both(design: DesignOp) -> tuple[list[str], list[str]]:
    """The problems of the IR's view, and of the loader's machine from the config data."""
    loaded = from_data(Machine, json.loads(json.dumps(to_data(machine_from_module(design)))))
    return ([str(p) for p in check_machine(ARCH, design_view(design))],
            [str(p) for p in check_machine(ARCH, loaded)])


def test_a_legal_design_passes_on_both_sides(routed: DesignOp) -> None:
    assert _both(routed) == ([], [])


def _misdeclared_pmu(design: DesignOp) -> None:
    pmu = next(u for u in design.units() if isinstance(u, PMUOp))
    pmu.bytes = IntAttr(pmu.bytes.data + 4)


def _shared_site(design: DesignOp) -> None:
    first, second = design.units()[:2]
    second.site = first.site


def _unrouted(design: DesignOp) -> None:
    design.streams()[0].properties.pop("paths")


def _too_many_lanes(design: DesignOp) -> None:
    pcu = next(u for u in design.units() if isinstance(u, PCUOp))
    pcu.lanes = IntAttr(1024)


def _unscheduled_pcu(design: DesignOp) -> None:
    pcu = next(u for u in design.units() if isinstance(u, PCUOp))
    pcu.nest = StringAttr("nowhere")


@pytest.mark.parametrize(("edit", "expected"), [
    (_misdeclared_pmu, "bytes, its boxes take"),
    (_shared_site, "shares site"),
    (_unrouted, "has no route (run spatial-route)"),
    (_too_many_lanes, "uses 1024 lanes, a PCU has"),
    (_unscheduled_pcu, "belongs to nest 'nowhere', which the schedule never runs"),
])
def test_an_impossible_edit_gives_the_same_problems_on_both_sides(
    routed: DesignOp, edit: object, expected: str
) -> None:
    design = routed.clone()
    edit(design)  # type: ignore[operator]
    from_ir, from_config = _both(design)
    assert from_ir == from_config
    assert any(expected in problem for problem in from_ir), from_ir
