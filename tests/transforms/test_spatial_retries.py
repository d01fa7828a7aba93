"""loop-assign-resources{routable=true}: a point that does not partition, place and route is
replaced by the best point under 90% of its units, at most MAX_ROUTE_RETRIES times, and the
retries and their reasons are recorded on the module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rnnc.dialects import loop
from rnnc.driver import pipeline
from rnnc.passes.loop_assign_resources import MAX_ROUTE_RETRIES, LoopAssignResourcesPass
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import PassFailedException

MODEL = Path(__file__).resolve().parents[2] / "examples" / "deepbench" / "lstm-512-25.mlir"


def _loop_module() -> ModuleOp:
    ctx = pipeline.make_context()
    module, source = pipeline.parse_module(ctx, MODEL.read_text(), str(MODEL))
    passes = pipeline.build_pipeline("rnn-decompose,loop-fuse", pipeline.available_passes())
    pipeline.run_pipeline(ctx, module, passes, source)
    return module


def _pcus(module: ModuleOp) -> int:
    return sum(op.attributes["loop.cost"].data["pcus"].value.data  # type: ignore[attr-defined]
               for op in module.walk() if isinstance(op, loop.SequentialOp))


def test_failed_points_are_retried_under_a_tighter_budget(monkeypatch) -> None:
    failures: list[int] = []

    def fail_twice(self, ctx: Context, module: ModuleOp) -> str | None:
        failures.append(_pcus(module))
        return "spatial-route: cannot route (simulated)" if len(failures) <= 2 else None

    monkeypatch.setattr(LoopAssignResourcesPass, "_spatial_failure", fail_twice)
    module = _loop_module()
    LoopAssignResourcesPass(routable=True).apply(pipeline.make_context(), module)
    record = module.attributes["rnnc.retries"].data  # type: ignore[attr-defined]
    assert record["retries"].value.data == 2
    reasons = [reason.data for reason in record["reasons"].data]
    assert all(re.fullmatch(r"hu/ru/rv \d+/\d+/\d+ \(\d+ PCUs, \d+ PMUs\): spatial-route: "
                            r"cannot route \(simulated\)", reason) for reason in reasons)
    # each retry uses at most 90% of the PCUs of the point before
    assert failures[1] <= failures[0] * 9 // 10 and failures[2] <= failures[1] * 9 // 10
    assert _pcus(module) == failures[2]


def test_retries_are_bounded(monkeypatch) -> None:
    monkeypatch.setattr(LoopAssignResourcesPass, "_spatial_failure",
                        lambda self, ctx, module: "spatial-place: too few PCU sites (simulated)")
    with pytest.raises(PassFailedException, match=r"no design point partitions, places and "
                       r"routes \(point 1, hu/ru/rv .*point 5, .*\); then the retries are used up"):
        LoopAssignResourcesPass(routable=True).apply(pipeline.make_context(), _loop_module())
    assert MAX_ROUTE_RETRIES == 4


def test_without_the_option_nothing_is_checked_or_recorded(monkeypatch) -> None:
    def never(self, ctx: Context, module: ModuleOp) -> str | None:
        raise AssertionError("the routability check ran")

    monkeypatch.setattr(LoopAssignResourcesPass, "_spatial_failure", never)
    module = _loop_module()
    LoopAssignResourcesPass().apply(pipeline.make_context(), module)
    assert "rnnc.retries" not in module.attributes
