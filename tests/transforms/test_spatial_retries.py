"""The driver's routability retry (`rnnc.driver.routable`): when a spatial pass refuses the
searched point, the search runs again from the loop level under 90% of the units that point
used, at most MAX_ROUTE_RETRIES times, in the one pipeline over one module, and the retries
and their reasons are recorded on the module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rnnc.diagnostics import Diagnostic
from rnnc.dialects import loop
from rnnc.dialects.spatial import design_of
from rnnc.driver import pipeline
from rnnc.driver.routable import MAX_ROUTE_RETRIES
from rnnc.passes.spatial_route import SpatialRoutePass
from rnnc.passes.spatial_verify import SpatialVerifyPass
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException

MODEL = Path(__file__).resolve().parents[2] / "examples" / "deepbench" / "lstm-512-25.mlir"
PIPELINE = ("rnn-decompose,loop-fuse,loop-assign-resources,spatial-partition,spatial-place,"
            "spatial-route")


def _pcus(module: ModuleOp) -> int:
    return sum(op.attributes["loop.cost"].data["pcus"].value.data  # type: ignore[attr-defined]
               for op in module.walk() if isinstance(op, loop.SequentialOp))


def _compile(spec: str = PIPELINE) -> tuple[ModuleOp, list[int], list[str]]:
    """The model through `spec`; the PCUs of each searched point and the passes run."""
    ctx = pipeline.make_context()
    module, source = pipeline.parse_module(ctx, MODEL.read_text(), str(MODEL))
    searched: list[int] = []
    ran: list[str] = []

    def watch(done: ModulePass, now: ModuleOp) -> None:
        ran.append(done.name)
        if done.name == "loop-assign-resources":
            searched.append(_pcus(now))

    passes = pipeline.build_pipeline(spec, pipeline.available_passes())
    pipeline.run_pipeline(ctx, module, passes, source, watch)
    return module, searched, ran


def _route_refuses(monkeypatch: pytest.MonkeyPatch, times: int) -> None:
    """spatial-route refuses the first `times` points it is given."""
    real = SpatialRoutePass.apply
    calls: list[int] = []

    def refuse(self: SpatialRoutePass, ctx: object, op: ModuleOp) -> None:
        calls.append(1)
        if len(calls) <= times:
            raise PassFailedException("spatial-route: cannot route (simulated)")
        real(self, ctx, op)  # type: ignore[arg-type]

    monkeypatch.setattr(SpatialRoutePass, "apply", refuse)


def test_a_refused_point_is_searched_again_under_a_tighter_budget(monkeypatch) -> None:
    _route_refuses(monkeypatch, 2)
    module, searched, ran = _compile()
    record = module.attributes["rnnc.retries"].data  # type: ignore[attr-defined]
    assert record["retries"].value.data == 2
    reasons = [reason.data for reason in record["reasons"].data]
    assert all(re.fullmatch(r"hu/ru/rv \d+/\d+/\d+ \(\d+ PCUs, \d+ PMUs\): spatial-route: "
                            r"cannot route \(simulated\)", reason) for reason in reasons)
    # each retry uses at most 90% of the PCUs of the point before
    assert len(searched) == 3
    assert searched[1] <= searched[0] * 9 // 10 and searched[2] <= searched[1] * 9 // 10
    # the front of the pipeline ran once; each point was placed, the third one routed
    assert ran.count("rnn-decompose") == 1 and ran.count("loop-fuse") == 1
    assert ran.count("spatial-place") == 3 and ran.count("spatial-route") == 1
    assert design_of(module) is not None


def test_a_point_that_fits_at_once_runs_every_pass_once() -> None:
    module, _, ran = _compile()
    assert ran == PIPELINE.split(",")
    assert module.attributes["rnnc.retries"].data["retries"].value.data == 0  # type: ignore[attr-defined]


def test_retries_are_bounded(monkeypatch) -> None:
    _route_refuses(monkeypatch, MAX_ROUTE_RETRIES + 1)
    with pytest.raises(Diagnostic, match=r"no design point partitions, places and "
                       r"routes \(point 1, hu/ru/rv .*point 5, .*\); then the retries are used up"):
        _compile()
    assert MAX_ROUTE_RETRIES == 4


def test_without_spatial_passes_nothing_is_retried_or_recorded(monkeypatch) -> None:
    _route_refuses(monkeypatch, 10)
    module, searched, _ = _compile("rnn-decompose,loop-fuse,loop-assign-resources")
    assert len(searched) == 1
    assert "rnnc.retries" not in module.attributes


def test_a_failure_that_is_not_about_fitting_is_reported_at_once(monkeypatch) -> None:
    def broken(self: SpatialVerifyPass, ctx: object, op: ModuleOp) -> None:
        raise PassFailedException("spatial-verify: a bug (simulated)")

    monkeypatch.setattr(SpatialVerifyPass, "apply", broken)
    with pytest.raises(Diagnostic) as error:
        _compile(PIPELINE + ",spatial-verify")
    assert (error.value.location, error.value.message) == (
        str(MODEL), "spatial-verify: a bug (simulated)")
