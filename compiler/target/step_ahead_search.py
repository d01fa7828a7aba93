"""The design-space search's choice of the `step-ahead` schedule (`rnnc.target.step_ahead`).

After the search has chosen the fused form's factors, `choose_step_ahead` costs the same
nests with their input projection a step ahead: at the chosen rv, a few multiples of the
chosen hu and the splits of map-reduce units between the recurrence (ru parts) and the
projection (`ahead` parts) whose units fit the budget. The fastest point wins if it is
faster than the fused one (fewer total cycles; ties keep the fused form), else the fused
form stays.
"""

from __future__ import annotations

import dataclasses
import itertools

from rnnc.target.arch import Architecture
from rnnc.target.cost import Budget, Cost, Factors, ProgramSpec, evaluate, per_chip_program
from rnnc.target.dse import SearchResult
from rnnc.target.plan import cdiv
from rnnc.target.step_ahead import applies

#: The most parts either sequence is cut in, relative to the fused form's (ru) parts, and
#: the copies tried, relative to the fused form's hu (units the recurrence no longer needs
#: may go to more copies).
SPLIT_RANGE = 2
COPIES = (1, 2, 3, 4)
#: Part counts tried (up to SPLIT_RANGE x ru): these and the fused ru.
PARTS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)


def _candidates(factors: Factors, extent: int, length: int) -> list[Factors]:
    """Points to try: hu up to COPIES x the fused one, each sequence in PARTS parts (at
    most SPLIT_RANGE x the fused ru, and no more than the reduction has chunks)."""
    most = max(1, min(SPLIT_RANGE * factors.ru, int(cdiv(length, factors.rv))))
    parts = sorted({p for p in (*PARTS, factors.ru) if p <= most})
    copies = sorted({min(extent, factors.hu * k) for k in COPIES})
    return [Factors(hu, ru, factors.rv, ahead)
            for hu, ru, ahead in itertools.product(copies, parts, parts)]


def choose_step_ahead(
    program: ProgramSpec, fused: SearchResult, arch: Architecture, *, precision: str | None,
    chips: int, budget: Budget,
) -> SearchResult:
    """`fused`, or the same design with the input projection of some nests a step ahead
    when that is faster and fits `budget` (one nest at a time, in program order)."""
    chip_program = per_chip_program(program, chips)
    best: tuple[Factors, ...] = fused.factors
    best_cost: Cost = fused.cost
    evaluated = 0
    for k, nest in enumerate(chip_program.nests):
        if not applies(nest):
            continue
        for point in _candidates(best[k], nest.extent, max(nest.reductions)):
            trial = (*best[:k], point, *best[k + 1 :])
            cost = evaluate(program, trial, arch, precision, chips=chips, budget=budget)
            evaluated += 1
            if cost.fits and cost.total_cycles < best_cost.total_cycles:
                best, best_cost = trial, cost
    if best == fused.factors:
        return dataclasses.replace(fused, evaluated=fused.evaluated + evaluated)
    return dataclasses.replace(
        fused, factors=best, cost=best_cost, evaluated=fused.evaluated + evaluated,
        explanation=f"{fused.explanation} (input projection a step ahead: "
        f"{best_cost.cycles_per_step} cycles per step against {fused.cost.cycles_per_step} "
        "fused)",
    )
