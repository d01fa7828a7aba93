"""Design-space search: per-nest parallelization factors (hu, ru, rv) under a chip's units.

Candidates are generated per nest and evaluated as numpy arrays with the cost model's own
array functions (`rnnc.target.cost.nest_arrays` / `program_arrays`), so the search and
`evaluate` can never disagree.

- A single-nest program (the fused cell) is searched exactly: every candidate is costed as
  a whole program, weight streaming included, and the best is picked.
- A multi-nest program (the BLAS-style one) shares one chip among its nests, which all
  exist at once. Step cycles are a sum over nests and units add up, so a dynamic program
  over (PCUs, PMUs) budgets picks one Pareto-optimal candidate per nest: exact when the
  weights fit on chip. When they do not, the program streams; the dynamic program then
  minimizes compute plus streaming time (an upper bound of the overlapped step), and the
  chosen point is costed exactly by `evaluate`.

Pruning ("pruned" strategy; "exhaustive" enumerates the full box hu in [1, extent],
ru in [1, PCUs], rv in [1, lanes x packing] instead), each provably loses no optimum:
- resource bound: hu * G * ru map-reduce PCUs alone must fit the PCU budget, and ru
  beyond the longest reduction only adds PCUs;
- distinct ceilings, for nests without weights: of several hu with the same iteration
  count of the busiest copy (ceil(extent / hu) in one dimension), the smallest costs no
  more cycles and no more units. A nest with weights keeps every hu: where its slices
  stream, more copies of as many rows each hold more rows in their PMUs and stream fewer
  bytes (`plan.weight_placement`). Every rv is kept: a smaller rv with the same chunk
  counts pads the weight slices less, but a slice that then fits two PMUs where the
  larger one streamed through one can cost the design its fit.
- dominated points: a multi-nest dynamic program keeps per nest only the Pareto corners
  of (cycles, PCUs, PMUs).
Ties are broken deterministically: fewer cycles, then fewer PCUs, fewer PMUs, smaller
hu, ru, rv (for a multi-nest program: per nest, from the last, the first such corner).

The bound of the chosen point is what stops it from being faster: DRAM streaming when it
outlasts the compute, else the resource which, doubled, saves more cycles (two more
searches), else the recurrence's own latency (fills, handshakes, the minimum II).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from rnnc.target import plan
from rnnc.target.arch import Architecture, Precision
from rnnc.target.cost import (
    COMPUTE_UNITS,
    MEMORY_BANDWIDTH,
    MEMORY_CAPACITY,
    RECURRENCE_LATENCY,
    Array,
    Budget,
    Cost,
    CostError,
    Factors,
    NestArrays,
    NestSpec,
    ProgramSpec,
    evaluate,
    exchange_cycles,
    nest_arrays,
    per_chip_program,
    program_arrays,
    state_pmus,
)

OBJECTIVES = ("latency", "resources")
STRATEGIES = ("pruned", "exhaustive")

# The "resources" objective: the smallest design (by silicon area) whose step is at most
# this much slower than the fastest one.
DEFAULT_LATENCY_SLACK = 0.05

# Points per block when the exhaustive box is evaluated (bounds peak memory).
BLOCK_POINTS = 1 << 20


class SearchError(ValueError):
    """No design point fits the budget."""


@dataclass(frozen=True)
class _Setting:
    """What every candidate is costed against."""

    arch: Architecture
    mode: Precision
    budget: Budget
    chips: int

    def with_budget(self, budget: Budget) -> _Setting:
        return _Setting(self.arch, self.mode, budget, self.chips)


@dataclass(frozen=True)
class SearchResult:
    """The chosen design point, its cost and why it is not faster."""

    factors: tuple[Factors, ...]
    cost: Cost
    bound: str
    explanation: str
    evaluated: int
    """Candidate points costed under the budget (per nest for multi-nest programs)."""
    objective: str
    strategy: str


# ----------------------------------------------------------------------------------------
# Candidates
# ----------------------------------------------------------------------------------------


def _smallest_per_ceiling(shape: tuple[int, ...], limit: int) -> Array:
    """The smallest hu in [1, limit] for each distinct iteration count of the busiest
    copy (`plan.iterations`: ceil(extent / hu) for a one-dimensional foreach)."""
    extent = math.prod(shape)
    hu = np.arange(1, min(extent, limit) + 1, dtype=np.int64)
    iterations = plan.iterations(shape, hu)
    _, first = np.unique(iterations, return_index=True)
    return np.sort(hu[first])


def pruned_candidates(
    nest: NestSpec, arch: Architecture, mode: Precision, pcus: int
) -> tuple[Array, Array, Array]:
    """(hu, ru, rv) arrays of the pruned space of one nest under a PCU budget."""
    if not nest.gates:
        levels = math.ceil(max(nest.elementwise_depth, 1) / arch.pcu.stages)
        hu = _smallest_per_ceiling(nest.shape, arch.pcu.lanes * (pcus // levels))
        ones = np.ones_like(hu)
        return hu, ones, ones
    gates, max_rv = nest.gates, arch.pcu.lanes * mode.macs_per_lane
    hu_all = np.arange(1, min(nest.extent, pcus // gates) + 1, dtype=np.int64)
    parts: list[tuple[Array, Array, Array]] = []
    for ru in range(1, min(pcus // gates, max(nest.map_reduce_units)) + 1):
        hu = hu_all[hu_all * gates * ru <= pcus]
        if hu.size == 0:
            break
        rv = np.arange(1, max_rv + 1, dtype=np.int64)
        parts.append((np.repeat(hu, rv.size), np.full(hu.size * rv.size, ru), np.tile(rv, hu.size)))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return tuple(np.concatenate(column).astype(np.int64) for column in zip(*parts, strict=True))


def exhaustive_blocks(
    nest: NestSpec, arch: Architecture, mode: Precision, pcus: int
) -> Iterator[tuple[Array, Array, Array]]:
    """The whole box: hu in [1, extent], ru in [1, PCUs], rv in [1, max rv], in blocks."""
    hu = np.arange(1, nest.extent + 1, dtype=np.int64)
    if not nest.gates:
        yield hu, np.ones_like(hu), np.ones_like(hu)
        return
    max_rv = arch.pcu.lanes * mode.macs_per_lane
    ru, rv = np.meshgrid(
        np.arange(1, pcus + 1, dtype=np.int64), np.arange(1, max_rv + 1, dtype=np.int64),
        indexing="ij",
    )
    ru, rv = ru.ravel(), rv.ravel()
    per_block = max(1, BLOCK_POINTS // ru.size)
    for start in range(0, hu.size, per_block):
        block = hu[start : start + per_block]
        yield np.repeat(block, ru.size), np.tile(ru, block.size), np.tile(rv, block.size)


# ----------------------------------------------------------------------------------------
# Single-nest programs: cost every candidate as a whole program
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scored:
    """Candidates of a single-nest program with their program-level figures."""

    hu: Array
    ru: Array
    rv: Array
    cycles: Array
    pcus: Array
    pmus: Array
    fits: Array
    streamed: Array

    @staticmethod
    def concat(parts: Sequence[_Scored]) -> _Scored:
        return _Scored(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))

    def take(self, keep: np.ndarray) -> _Scored:
        return _Scored(*(getattr(self, f)[keep] for f in _FIELDS))


_FIELDS = ("hu", "ru", "rv", "cycles", "pcus", "pmus", "fits", "streamed")


def _score(
    program: ProgramSpec, block: tuple[Array, Array, Array], setting: _Setting
) -> _Scored:
    hu, ru, rv = block
    arrays = nest_arrays(program.nests[0], hu, ru, rv, arch=setting.arch, mode=setting.mode)
    totals = program_arrays(program, [arrays], setting.arch, setting.budget, setting.chips)
    return _Scored(
        hu, ru, rv, totals.cycles_per_step, totals.pcus, totals.pmus,
        totals.fits, totals.streamed_bytes,
    )


def _pick(scored: _Scored, arch: Architecture, objective: str, slack: float) -> int | None:
    """Index of the best feasible candidate, ties broken deterministically."""
    feasible = np.flatnonzero(scored.fits)
    if feasible.size == 0:
        return None
    s = {f: getattr(scored, f)[feasible] for f in _FIELDS}
    if objective == "latency":
        order = np.lexsort((s["rv"], s["ru"], s["hu"], s["pmus"], s["pcus"], s["cycles"]))
        return int(feasible[order[0]])
    limit = math.floor(s["cycles"].min() * (1 + slack))
    area = s["pcus"] * arch.pcu.area_mm2 + s["pmus"] * arch.pmu.area_mm2
    area = np.where(s["cycles"] <= limit, area, np.inf)
    order = np.lexsort((s["rv"], s["ru"], s["hu"], s["pmus"], s["pcus"], s["cycles"], area))
    return int(feasible[order[0]])


def _shortlist(scored: _Scored, slack: float) -> _Scored:
    """The feasible candidates within `slack` of the fewest cycles among them: the only
    ones that can win overall, whose fewest cycles are at most these."""
    keep = scored.fits.copy()
    if keep.any():
        keep &= scored.cycles <= math.floor(scored.cycles[keep].min() * (1 + slack))
    return scored.take(keep)


def _single_search(
    program: ProgramSpec, setting: _Setting, strategy: str, slack: float, dump: list | None
) -> tuple[_Scored, int]:
    """The shortlisted candidates of a single-nest program and how many were costed.
    The exhaustive box is costed block by block, so it never sits in memory at once."""
    nest, arch, mode, pcus = program.nests[0], setting.arch, setting.mode, setting.budget.pcus
    if strategy == "exhaustive":
        blocks: Iterable[tuple[Array, Array, Array]] = exhaustive_blocks(nest, arch, mode, pcus)
    else:
        blocks = [pruned_candidates(nest, arch, mode, pcus)]
    kept, evaluated = [], 0
    for block in blocks:
        scored = _score(program, block, setting)
        evaluated += scored.hu.size
        if dump is not None:
            _dump_program(dump, nest, scored)
        kept.append(_shortlist(scored, slack))
    return _Scored.concat(kept), evaluated


def _single_best(program: ProgramSpec, setting: _Setting) -> int | None:
    """Fewest cycles per step under the setting's budget (pruned search)."""
    scored, _ = _single_search(program, setting, "pruned", 0.0, None)
    index = _pick(scored, setting.arch, "latency", 0.0)
    return None if index is None else int(scored.cycles[index])


# ----------------------------------------------------------------------------------------
# Multi-nest programs: dynamic programming over (PCU, PMU) budgets
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Corners:
    """Pareto corners of one nest: cost, PCUs, PMUs and the factors of each."""

    cost: np.ndarray
    pcus: Array
    pmus: Array
    hu: Array
    ru: Array
    rv: Array

    @staticmethod
    def concat(parts: Sequence[_Corners]) -> _Corners:
        return _Corners(*(np.concatenate([getattr(p, f) for p in parts]) for f in _CORNER_FIELDS))

    def factors(self, k: int) -> Factors:
        return Factors(int(self.hu[k]), int(self.ru[k]), int(self.rv[k]))


_CORNER_FIELDS = ("cost", "pcus", "pmus", "hu", "ru", "rv")


def _corners(candidates: _Corners, max_pcus: int, max_pmus: int) -> _Corners:
    """The candidates no other one beats: not costlier with no more PCUs and no more PMUs
    (within the table's bounds). Per (PCUs, PMUs) cell the cheapest candidate (then the
    smallest hu, ru, rv) stands for the cell; a cell is a corner when it is strictly
    cheaper than every cell with no more of either unit, read off a 2-D prefix minimum."""
    c = candidates
    inside = np.flatnonzero((c.pcus <= max_pcus) & (c.pmus <= max_pmus))
    order = inside[np.lexsort((c.rv[inside], c.ru[inside], c.hu[inside], c.cost[inside]))]
    _, first = np.unique(c.pcus[order] * (max_pmus + 1) + c.pmus[order], return_index=True)
    cells = order[first]
    if cells.size == 0:
        return _Corners(*(getattr(c, f)[cells] for f in _CORNER_FIELDS))
    # The grid only spans the units the candidates use.
    grid = np.full((int(c.pcus[cells].max()) + 1, int(c.pmus[cells].max()) + 1), np.inf)
    grid[c.pcus[cells], c.pmus[cells]] = c.cost[cells]
    prefix = np.minimum.accumulate(np.minimum.accumulate(grid, axis=0), axis=1)
    smaller = np.full((grid.shape[0] + 1, grid.shape[1] + 1), np.inf)
    smaller[1:, 1:] = prefix
    beaten = np.minimum(smaller[:-1, 1:], smaller[1:, :-1])  # fewer PCUs, or fewer PMUs
    picked = cells[c.cost[cells] < beaten[c.pcus[cells], c.pmus[cells]]]
    picked = picked[np.lexsort((c.pmus[picked], c.pcus[picked], c.cost[picked]))]
    return _Corners(*(getattr(c, f)[picked] for f in _CORNER_FIELDS))


def _knapsack(corners: Sequence[_Corners], max_pcus: int, max_pmus: int) -> list[np.ndarray]:
    """tables[n][p, m]: least total cost of one corner for each of the first n nests within
    p PCUs and m PMUs (tables[0] is all zeros). Monotone in p and m by construction."""
    tables = [np.zeros((max_pcus + 1, max_pmus + 1))]
    scratch = np.empty_like(tables[0])
    for nest in corners:
        best, table = tables[-1], np.full_like(tables[-1], np.inf)
        for k in range(nest.cost.size):
            p, m = int(nest.pcus[k]), int(nest.pmus[k])
            shifted = scratch[: max_pcus + 1 - p, : max_pmus + 1 - m]
            np.add(best[: max_pcus + 1 - p, : max_pmus + 1 - m], nest.cost[k], out=shifted)
            np.minimum(table[p:, m:], shifted, out=table[p:, m:])
        tables.append(table)
    return tables


def _backtrack(
    corners: Sequence[_Corners], tables: Sequence[np.ndarray], p: int, m: int
) -> tuple[Factors, ...]:
    """Recover the corners behind tables[-1][p, m]: at each nest, from the last, the first
    corner (cheapest, then fewest units) whose cost plus the previous table matches."""
    picked = []
    for n in range(len(corners), 0, -1):
        nest, previous, target = corners[n - 1], tables[n - 1], tables[n][p, m]
        for k in range(nest.cost.size):
            pk, mk = int(nest.pcus[k]), int(nest.pmus[k])
            if pk <= p and mk <= m and previous[p - pk, m - mk] + nest.cost[k] == target:
                picked.append(nest.factors(k))
                p, m = p - pk, m - mk
                break
    return tuple(reversed(picked))


@dataclass(frozen=True)
class _MultiPlan:
    corners: list[_Corners]
    max_pmus: int
    constant: int
    """Per-step cycles outside the nests: the step overhead and the exchange of h."""
    evaluated: int


def _multi_plan(
    program: ProgramSpec, setting: _Setting, strategy: str, stream: bool, dump: list | None
) -> _MultiPlan:
    """Per-nest corners. Without streaming a nest's PMUs are all of its PMUs (weights
    resident); with streaming only its other PMUs, and its cost adds the time to stream
    all its weights (the PMUs left over will hold some of them). Candidates are costed
    in blocks and reduced to corners block by block (the corners of a union are the
    corners of the blocks' corners), so the exhaustive box never sits in memory."""
    arch, mode, budget = setting.arch, setting.mode, setting.budget
    cap = arch.pmu.capacity_bytes
    max_pmus = budget.pmus - state_pmus(program, arch)
    corners, evaluated = [], 0
    for nest in program.nests:
        if strategy == "exhaustive":
            blocks: Iterable[tuple[Array, Array, Array]] = exhaustive_blocks(
                nest, arch, mode, budget.pcus
            )
        else:
            blocks = [pruned_candidates(nest, arch, mode, budget.pcus)]
        kept = []
        for hu, ru, rv in blocks:
            arrays = nest_arrays(nest, hu, ru, rv, arch=arch, mode=mode)
            evaluated += hu.size
            cost = arrays.cycles.astype(np.float64)
            if stream:
                pmus = arrays.other_pmus
                cost = cost + (arrays.weight_bytes + pmus * cap) / arch.dram_bytes_per_cycle()
            else:
                pmus = arrays.other_pmus + arrays.weight_pmus
            if dump is not None:
                _dump_nest(dump, nest, arrays, pmus, budget)
            block = _Corners(cost, arrays.pcus, pmus, hu, ru, rv)
            kept.append(_corners(block, budget.pcus, max(max_pmus, 0)))
        corners.append(_corners(_Corners.concat(kept), budget.pcus, max(max_pmus, 0)))
    constant = arch.timing.step_overhead_cycles + exchange_cycles(program, arch, setting.chips)
    return _MultiPlan(corners, max_pmus, constant, evaluated)


def _multi_choose(
    plan: _MultiPlan, budget: Budget, arch: Architecture, objective: str, slack: float
) -> tuple[Factors, ...] | None:
    if plan.max_pmus < 0 or any(c.cost.size == 0 for c in plan.corners):
        return None
    tables = _knapsack(plan.corners, budget.pcus, plan.max_pmus)
    best = tables[-1]
    if not np.isfinite(best[-1, -1]):
        return None
    p, m = budget.pcus, plan.max_pmus
    if objective == "resources":
        area = (np.arange(best.shape[0])[:, None] * arch.pcu.area_mm2
                + np.arange(best.shape[1])[None, :] * arch.pmu.area_mm2)
        fastest = best[-1, -1] + plan.constant
        area = np.where(best + plan.constant <= math.floor(fastest * (1 + slack)), area, np.inf)
        p, m = (int(v) for v in np.unravel_index(np.argmin(area), area.shape))
    return _backtrack(plan.corners, tables, p, m)


def _multi_search(
    program: ProgramSpec,
    setting: _Setting,
    objective: str,
    strategy: str,
    slack: float,
    *,
    dump: list | None = None,
) -> tuple[tuple[Factors, ...] | None, int]:
    """Resident plan first; the streaming plan when the weights cannot all be resident."""
    budget, arch = setting.budget, setting.arch
    plan = _multi_plan(program, setting, strategy, False, dump)
    factors = _multi_choose(plan, budget, arch, objective, slack)
    evaluated = plan.evaluated
    if factors is None:
        plan = _multi_plan(program, setting, strategy, True, None)
        factors = _multi_choose(plan, budget, arch, objective, slack)
    return factors, evaluated


# ----------------------------------------------------------------------------------------
# The search
# ----------------------------------------------------------------------------------------


def search(
    program: ProgramSpec,
    arch: Architecture,
    objective: str = "latency",
    dump: list | None = None,
    *,
    precision: str | None = None,
    chips: int = 1,
    budget: Budget | None = None,
    strategy: str = "pruned",
    latency_slack: float = DEFAULT_LATENCY_SLACK,
) -> SearchResult:
    """Choose one Factors per nest of `program` for `objective`:
    "latency" (fewest cycles) or "resources" (least area within `latency_slack` of the
    fewest cycles). `budget` limits the units per chip (default: the whole chip); with
    `chips` > 1 the foreach iterations are split over that many chips. Every evaluated
    point is appended to `dump` (a list of dicts) when it is given."""
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective '{objective}' (expected {', '.join(OBJECTIVES)})")
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy '{strategy}' (expected {', '.join(STRATEGIES)})")
    mode = arch.precision(precision)
    budget = budget or Budget.of(arch)
    setting = _Setting(arch, mode, budget, chips)
    chip_program = per_chip_program(program, chips)
    if len(chip_program.nests) == 1:
        slack = latency_slack if objective == "resources" else 0.0
        scored, evaluated = _single_search(chip_program, setting, strategy, slack, dump)
        index = _pick(scored, arch, objective, latency_slack)
        factors = None if index is None else (
            Factors(int(scored.hu[index]), int(scored.ru[index]), int(scored.rv[index])),
        )
    else:
        factors, evaluated = _multi_search(
            chip_program, setting, objective, strategy, latency_slack, dump=dump
        )
    if factors is None:
        raise SearchError(
            f"no design point of '{chip_program.nests[0].name}'"
            f"{' and the other nests' if len(chip_program.nests) > 1 else ''} fits "
            f"{budget.pcus} PCUs and {budget.pmus} PMUs"
        )
    cost = evaluate(program, factors, arch, mode.name, chips=chips, budget=budget)
    bound, explanation = _explain(program, cost, setting)
    return SearchResult(factors, cost, bound, explanation, evaluated, objective, strategy)


def _best_cycles(program: ProgramSpec, setting: _Setting) -> int | None:
    """The fewest cycles per step any design reaches in `setting` (None: nothing fits)."""
    chip_program = per_chip_program(program, setting.chips)
    if len(chip_program.nests) == 1:
        return _single_best(chip_program, setting)
    factors, _ = _multi_search(chip_program, setting, "latency", "pruned", 0.0)
    if factors is None:
        return None
    cost = evaluate(
        program, factors, setting.arch, setting.mode.name, chips=setting.chips,
        budget=setting.budget,
    )
    return cost.cycles_per_step


def _explain(program: ProgramSpec, cost: Cost, setting: _Setting) -> tuple[str, str]:
    """The limiting bound: streaming slower than compute, else whichever resource, doubled,
    saves more cycles, else the recurrence's own latency."""
    arch, budget = setting.arch, setting.budget
    if cost.stream_cycles > cost.compute_cycles:
        return MEMORY_BANDWIDTH, (
            f"{MEMORY_BANDWIDTH}: {cost.streamed_bytes_per_step / 2**20:.2f} MiB of weights do "
            f"not fit on chip and stream from DRAM every step at {arch.dram.bandwidth_gbs:g} "
            f"GB/s: {cost.stream_cycles} cycles against {cost.compute_cycles} of compute"
        )
    step = cost.cycles_per_step
    more_pcus = _best_cycles(program, setting.with_budget(budget.scaled(pcus=2))) or step
    more_pmus = _best_cycles(program, setting.with_budget(budget.scaled(pmus=2))) or step
    if min(more_pcus, more_pmus) >= step:
        latency = step - cost.compute_cycles
        ii_note = (
            f"; II {max(cost.ii)} is the minimum II of {arch.timing.min_ii_cycles}"
            if max(n.chunks for n in cost.nests) < arch.timing.min_ii_cycles
            else ""
        )
        return RECURRENCE_LATENCY, (
            f"{RECURRENCE_LATENCY}: twice the PCUs or PMUs would not shorten the "
            f"{step}-cycle step; {latency} cycles of it are fill/drain, stage handshakes "
            f"and per-step overhead of the sequential time loop{ii_note}"
        )
    if more_pcus <= more_pmus:
        return COMPUTE_UNITS, (
            f"{COMPUTE_UNITS}: uses {cost.pcus}/{budget.pcus} PCUs; with twice the PCUs "
            f"a step would take {more_pcus} instead of {step} cycles"
        )
    return MEMORY_CAPACITY, (
        f"{MEMORY_CAPACITY}: uses {cost.pmus}/{budget.pmus} PMUs; with twice the PMUs "
        f"a step would take {more_pmus} instead of {step} cycles"
    )


def fewest_chips(
    program: ProgramSpec,
    arch: Architecture,
    precision: str | None = None,
    limit: int = 64,
) -> int:
    """The fewest chips (at most `limit`, and at most the smallest foreach extent) over
    which some design keeps all of the program's weights on chip."""
    mode = arch.precision(precision)
    most = min(limit, *(nest.extent for nest in program.nests))
    for chips in range(1, most + 1):
        setting = _Setting(arch, mode, Budget.of(arch), chips)
        if _fits_resident(per_chip_program(program, chips), setting):
            return chips
    raise CostError(f"the weights do not stay on chip over any number of chips up to {most}")


def _fits_resident(program: ProgramSpec, setting: _Setting) -> bool:
    """Whether some design of this per-chip program fits with every weight resident."""
    if len(program.nests) == 1:
        nest, pcus = program.nests[0], setting.budget.pcus
        scored = _score(program, pruned_candidates(nest, setting.arch, setting.mode, pcus), setting)
        return bool((scored.fits & (scored.streamed == 0)).any())
    plan = _multi_plan(program, setting, "pruned", False, None)
    return _multi_choose(plan, setting.budget, setting.arch, "latency", 0.0) is not None


# ----------------------------------------------------------------------------------------
# Dump of evaluated points
# ----------------------------------------------------------------------------------------

DUMP_FIELDS = ("scope", "nest", "hu", "ru", "rv", "cycles", "pcus", "pmus", "fits")


def _dump_program(dump: list, nest: NestSpec, scored: _Scored) -> None:
    """One row per candidate of a single-nest program: cycles are per step."""
    for i in range(scored.hu.size):
        dump.append({
            "scope": "program",
            "nest": nest.name,
            "hu": int(scored.hu[i]),
            "ru": int(scored.ru[i]),
            "rv": int(scored.rv[i]),
            "cycles": int(scored.cycles[i]),
            "pcus": int(scored.pcus[i]),
            "pmus": int(scored.pmus[i]),
            "fits": bool(scored.fits[i]),
        })


def _dump_nest(dump: list, nest: NestSpec, arrays: NestArrays, pmus: Array, budget: Budget) -> None:
    """One row per candidate of one nest of a multi-nest program: the nest's own cycles."""
    cycles, pcus = arrays.cycles, arrays.pcus
    for i in range(arrays.hu.size):
        dump.append({
            "scope": "nest",
            "nest": nest.name,
            "hu": int(arrays.hu[i]),
            "ru": int(arrays.ru[i]),
            "rv": int(arrays.rv[i]),
            "cycles": int(cycles[i]),
            "pcus": int(pcus[i]),
            "pmus": int(pmus[i]),
            "fits": bool(pcus[i] <= budget.pcus and pmus[i] <= budget.pmus),
        })


def write_dump_csv(dump: Sequence[dict], path: str) -> None:
    """Write dumped points as CSV (the `--dse-dump points.csv` format)."""
    import csv

    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=DUMP_FIELDS)
        writer.writeheader()
        writer.writerows(dump)


__all__ = [
    "DUMP_FIELDS",
    "OBJECTIVES",
    "STRATEGIES",
    "SearchError",
    "SearchResult",
    "fewest_chips",
    "search",
    "write_dump_csv",
]
