"""A design point that does not partition, place and route is searched again.

When a pipeline runs `loop-assign-resources` and then spatial passes, the search's point
must fit the chip as a placed and routed design, not only under the cost model. The
driver runs the pipeline once over one module: the search, then the spatial passes. If
`spatial-partition`, `spatial-place` or `spatial-route` refuses the point, the driver goes
back to the loop level as it was before the search and searches again under a budget of
90% of the units the refused point used (per time loop), at most `MAX_ROUTE_RETRIES`
times. The module that comes out records the retries and their reasons as `rnnc.retries`.
Nothing is run twice when the first point routes, and no pass runs a pipeline of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from rnnc.analysis.access import time_loops
from rnnc.analysis.program import nest_factors
from rnnc.diagnostics import Diagnostic
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, IntegerAttr, ModuleOp, StringAttr, i64
from xdsl.passes import ModulePass

#: The pass whose point is retried, and the passes whose refusal means "does not fit".
SEARCH = "loop-assign-resources"
FITTING = frozenset({"spatial-partition", "spatial-place", "spatial-route"})

#: How many times the search runs again when the chosen point does not fit.
MAX_ROUTE_RETRIES = 4


class DoesNotFit(Exception):
    """A spatial pass refused the design point: its message, as the pass said it."""


def refuses_the_point(each: ModulePass, error: Exception) -> bool:
    """Whether `error`, raised by pass `each`, says the point does not fit the chip (and so
    another point may): not when the partition does not take the program at all."""
    from rnnc.passes.spatial_partition import UnsupportedProgramFailure

    return each.name in FITTING and not isinstance(error, UnsupportedProgramFailure)


Apply = Callable[[ModuleOp, Sequence[ModulePass]], None]


def search_index(passes: Sequence[ModulePass]) -> int | None:
    """Where the search is in `passes`, if a pass that can refuse its point follows it."""
    names = [each.name for each in passes]
    if SEARCH not in names:
        return None
    at = names.index(SEARCH)
    return at if FITTING & set(names[at + 1 :]) else None


def run_until_it_fits(module: ModuleOp, search: ModulePass, rest: Sequence[ModulePass],
                      apply: Apply) -> None:
    """Apply `search` then `rest` to `module`; while a spatial pass refuses the point
    (`apply` raises `DoesNotFit`), search again from the loop level under a tighter
    budget. Raises `DoesNotFit` naming every refused point when no point fits (the
    search's own `Diagnostic` when even the first search finds nothing)."""
    reasons: list[str] = []
    while True:
        trial = module.clone()
        try:
            apply(trial, [search])
        except Diagnostic as error:
            if not reasons:
                raise
            # nothing under the tighter budget: say which points were refused, and why
            raise DoesNotFit(_no_point_fits(reasons, error.message)) from None
        point, used = _point(trial)
        try:
            apply(trial, rest)
        except DoesNotFit as error:
            reasons.append(f"{point}: {error}")
            if len(reasons) > MAX_ROUTE_RETRIES:
                raise DoesNotFit(_no_point_fits(reasons, "the retries are used up")) from None
            search = _tighter(search, used)
            continue
        _adopt(module, trial)
        module.attributes["rnnc.retries"] = DictionaryAttr({
            "retries": IntegerAttr(len(reasons), i64),
            "reasons": ArrayAttr([StringAttr(reason) for reason in reasons]),
        })
        return


def _point(module: ModuleOp) -> tuple[str, tuple[int, int]]:
    """The searched factors and units, in words, and the most PCUs and PMUs a time loop
    uses (what the next budget is cut from)."""
    steps = time_loops(module)
    factors = " ".join(f"{f.hu}/{f.ru}/{f.rv}" for step in steps for f in nest_factors(step))
    units = [(_cost(step, "pcus"), _cost(step, "pmus")) for step in steps]
    pcus, pmus = sum(u[0] for u in units), sum(u[1] for u in units)
    used = (max(u[0] for u in units), max(u[1] for u in units))
    return f"hu/ru/rv {factors} ({pcus} PCUs, {pmus} PMUs)", used


def _cost(step: object, key: str) -> int:
    cost = step.attributes["loop.cost"]  # type: ignore[attr-defined]
    assert isinstance(cost, DictionaryAttr)
    value = cost.data[key]
    assert isinstance(value, IntegerAttr)
    return value.value.data


def _tighter(search: ModulePass, used: tuple[int, int]) -> ModulePass:
    """The search with at most 90% of the units the refused point used per time loop,
    and never more than its budget before."""
    pcus, pmus = (max(1, n * 9 // 10) for n in used)
    old_pcus, old_pmus = search.max_pcus, search.max_pmus  # type: ignore[attr-defined]
    return dataclasses.replace(
        search,  # type: ignore[type-var]
        max_pcus=min(pcus, old_pcus) if old_pcus else pcus,
        max_pmus=min(pmus, old_pmus) if old_pmus else pmus,
    )


def _no_point_fits(reasons: list[str], end: str) -> str:
    tried = "; ".join(f"point {n + 1}, {reason}" for n, reason in enumerate(reasons))
    return f"no design point partitions, places and routes ({tried}); then {end}"


def _adopt(module: ModuleOp, trial: ModuleOp) -> None:
    """Make `module` what `trial` became: its body and its attributes."""
    body = trial.body.detach_block(0)
    module.body.detach_block(0).erase()
    module.body.add_block(body)
    module.attributes.clear()
    module.attributes.update(trial.attributes)


__all__ = [
    "MAX_ROUTE_RETRIES",
    "DoesNotFit",
    "refuses_the_point",
    "run_until_it_fits",
    "search_index",
]
