"""The design-space search's choice of the `step-ahead` schedule (`rnnc.target.step_ahead`).

After the search has chosen the fused form's factors, `choose_step_ahead` costs the same
nests with their input projection a step ahead: at the chosen hu and rv, every split of
map-reduce units between the recurrence (ru parts) and the projection (`ahead` parts)
whose units fit the budget. The fastest point wins if it is faster than the fused one
(fewer total cycles; ties keep the fused form), else the fused form stays.
"""

from __future__ import annotations

import dataclasses
import itertools

from rnnc.target.arch import Architecture
from rnnc.target.cost import Budget, Cost, Factors, ProgramSpec, evaluate, per_chip_program
from rnnc.target.dse import SearchResult
from rnnc.target.plan import cdiv
from rnnc.target.step_ahead import applies

#: The most parts either sequence is cut in, relative to the fused form's (ru) parts.
SPLIT_RANGE = 2


def _splits(factors: Factors, length: int, rv: int) -> list[tuple[int, int]]:
    """(ru, ahead) pairs to try: each up to SPLIT_RANGE x the fused ru, and no more parts
    than the reduction has chunks."""
    most = max(1, min(SPLIT_RANGE * factors.ru, int(cdiv(length, rv))))
    return list(itertools.product(range(1, most + 1), range(1, most + 1)))


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
        chosen = best[k]
        for ru, ahead in _splits(chosen, max(nest.reductions), chosen.rv):
            trial = (*best[:k], Factors(chosen.hu, ru, chosen.rv, ahead), *best[k + 1 :])
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
