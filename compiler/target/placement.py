"""Placement: give every unit a site of its kind, keeping the streams between units short.

The placer works on plain data (`PlacementProblem`: each unit's kind and optional pinned
site, each stream as a net of units, source first) and returns one site per unit. It is the
kind of placer CGRA and FPGA tools use, in three steps:

1. **Analytic (quadratic) placement.** Each net is a star from its source to its sinks;
   minimising the weighted squared wire length is a sparse-in-spirit, dense-in-practice
   linear system (a few hundred units: one `numpy.linalg.solve`). Pinned units are fixed
   points; movable units get an anchor towards the chip centre (the first round) and then
   towards their last legal site with a growing weight (SimPL-style spreading).
2. **Legalisation** by recursive bisection per kind: the free sites are split in half
   along their longer axis, the units by the same cut line (as far as each half has room),
   recursively, so that the analytic placement's relative order survives.
3. **Simulated annealing** refinement of the half-perimeter wire length (HPWL) of every
   net, weighted by how scarce the links of its network are (so a vector stream, where
   the chip has fewer links, counts more than a scalar one): swaps and moves within a
   shrinking window, a fixed move budget, a geometric cooling schedule.
4. **Congestion.** A RUDY estimate (each net's half-perimeter spread evenly over the
   switches of its bounding box, summed per network, against the network's links) finds
   the nets whose boxes are crowded; their weights grow with the overflow and a short,
   cool anneal moves them apart.

Everything random comes from one `numpy.random.Generator` seeded with the `seed` option,
and no step iterates over a set or depends on hash order, so a seed gives the same sites
byte for byte in every run.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rnnc.dialects.spatial import UnitKind
from rnnc.target.network import Site, Topology

#: Annealing moves per movable unit (the move budget scales with the design).
MOVES_PER_UNIT = 60
#: Temperature steps of the cooling schedule.
TEMPERATURES = 24
#: Rounds of analytic placement and legalisation.
SPREADING_ROUNDS = 4
#: Rounds of congestion-driven re-weighting and low-temperature annealing.
CONGESTION_ROUNDS = 1
#: Estimated link demand over supply in a net's box above which its weight grows.
CONGESTION_TARGET = 0.5
#: Decimals kept of an analytic position (in sites): far above LAPACK's rounding noise.
POSITION_DECIMALS = 6
#: Largest jitter (in sites) that separates units the analytic placement puts together.
TIE_JITTER = 1e-3
#: Analytic placements tried (with different jitters) before annealing the best.
ANALYTIC_STARTS = 4


class PlacementError(Exception):
    """The design cannot be placed (a message naming the unit or kind and the shortfall)."""


@dataclass(frozen=True)
class PlacementProblem:
    """What the placer needs to know about a design, unit by unit and net by net."""

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    """Per unit, the class of site it needs: "pcu", "pmu", "ag" or "ag:<edge>"."""
    pinned: tuple[Site | None, ...]
    nets: tuple[tuple[int, ...], ...]
    """Each stream as the units it joins, its source first."""
    weights: tuple[float, ...]
    """Per net, what one unit of its wire length costs."""
    networks: tuple[str, ...] = ()
    """Per net, the network it is routed on (for the congestion estimate; empty: none)."""


def place(topology: Topology, problem: PlacementProblem, seed: int = 0) -> tuple[Site, ...]:
    """A legal site for every unit: pinned units keep theirs; the others minimise the
    weighted wire length. Raises `PlacementError` when the chip has too few free sites."""
    free = _free_sites(topology, problem)
    count = len(problem.kinds)
    if count == 0:
        return ()
    rng = np.random.default_rng(seed)
    sites: list[Site | None] = list(problem.pinned)
    movable = [index for index in range(count) if problem.pinned[index] is None]
    if movable:
        placed = _best_start(topology, problem, free, movable, rng)
        placed = _anneal(topology, problem, placed, movable, rng)
        for _ in range(CONGESTION_ROUNDS if problem.networks else 0):
            factors = _congestion(topology, problem, placed)
            if not np.any(factors > 1.0):
                break
            heavier = dataclasses.replace(
                problem, weights=tuple((np.array(problem.weights) * factors).tolist())
            )
            placed = _anneal(topology, heavier, placed, movable, rng, heat=0.05,
                             moves_per_unit=MOVES_PER_UNIT // 3)
        sites = list(placed)
    return tuple(site for site in sites if site is not None)


def _congestion(topology: Topology, problem: PlacementProblem, sites: list[Site]) -> np.ndarray:
    """Per net, a weight factor >= 1 that grows with the estimated demand for links in its
    bounding box (RUDY: each net's half-perimeter spread evenly over the switches of its
    box, summed per network, over the network's links per switch in two directions)."""
    positions = np.array([topology.position(site) for site in sites])
    lengths = np.array([len(net) for net in problem.nets])
    pins = positions[np.concatenate([np.array(net) for net in problem.nets])]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    low = np.minimum.reduceat(pins, starts)
    high = np.maximum.reduceat(pins, starts)
    corner_low = np.floor(low).astype(int)
    corner_high = np.ceil(high).astype(int)
    corner_low = np.clip(corner_low, 0, [topology.switch_rows - 1, topology.switch_cols - 1])
    corner_high = np.clip(corner_high, 0, [topology.switch_rows - 1, topology.switch_cols - 1])
    cells = np.prod(corner_high - corner_low + 1, axis=1)
    density = (high - low).sum(axis=1) / cells
    networks = np.array(problem.networks)
    congestion = np.zeros(len(problem.nets))
    for network in dict.fromkeys(problem.networks):
        mine = networks == network
        supply = 2.0 * topology.links[network]
        ratio = _spread(topology, corner_low[mine], corner_high[mine], density[mine]) / supply
        congestion[mine] = _box_means(ratio, corner_low[mine], corner_high[mine])
    return 1.0 + np.clip(congestion - CONGESTION_TARGET, 0.0, 1.0) * 2.0


def _spread(topology: Topology, low: np.ndarray, high: np.ndarray,
            density: np.ndarray) -> np.ndarray:
    """The sum over boxes of their density at every switch (a 2-D difference array)."""
    grid = np.zeros((topology.switch_rows + 1, topology.switch_cols + 1))
    np.add.at(grid, (low[:, 0], low[:, 1]), density)
    np.add.at(grid, (low[:, 0], high[:, 1] + 1), -density)
    np.add.at(grid, (high[:, 0] + 1, low[:, 1]), -density)
    np.add.at(grid, (high[:, 0] + 1, high[:, 1] + 1), density)
    return grid.cumsum(axis=0).cumsum(axis=1)[:-1, :-1]


def _box_means(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The mean of `values` over each box [low, high] (inclusive), by summed-area table."""
    table = np.zeros((values.shape[0] + 1, values.shape[1] + 1))
    table[1:, 1:] = values.cumsum(axis=0).cumsum(axis=1)
    top, left = low[:, 0], low[:, 1]
    bottom, right = high[:, 0] + 1, high[:, 1] + 1
    total = table[bottom, right] - table[top, right] - table[bottom, left] + table[top, left]
    return total / ((bottom - top) * (right - left))


def _free_sites(topology: Topology, problem: PlacementProblem) -> dict[str, list[Site]]:
    """The sites of each kind that no pinned unit holds; checks pins and counts."""
    taken: dict[Site, str] = {}
    for name, kind, site in zip(problem.names, problem.kinds, problem.pinned, strict=True):
        if site is None:
            continue
        if site not in topology.class_sites(kind):
            found = topology.site_class(site)
            what = f"a {_label(found)} site" if found else "not a site of the chip"
            raise PlacementError(
                f"unit '{name}' is pinned to ({site[0]}, {site[1]}), which is {what}, "
                f"not a {_label(kind)} site"
            )
        if site in taken:
            raise PlacementError(
                f"units '{taken[site]}' and '{name}' are both pinned to ({site[0]}, {site[1]})"
            )
        taken[site] = name
    classes = sorted(dict.fromkeys(problem.kinds), key=_class_order)
    free = {c: [s for s in topology.class_sites(c) if s not in taken] for c in classes}
    for site_class in classes:
        needed = sum(1 for k, s in zip(problem.kinds, problem.pinned, strict=True)
                     if k == site_class and s is None)
        if needed > len(free[site_class]):
            pinned = len(topology.class_sites(site_class)) - len(free[site_class])
            held = f", {pinned} of them held by pinned units" if pinned else ""
            raise PlacementError(
                f"too few {_label(site_class)} sites: {needed} {_label(site_class)}s to "
                f"place, the chip has {len(topology.class_sites(site_class))}{held}"
            )
    return free


def _label(site_class: str) -> str:
    """"PCU", "PMU", "AG", "left-edge AG"."""
    kind, _, edge = site_class.partition(":")
    return f"{edge}-edge {kind.upper()}" if edge else kind.upper()


def _class_order(site_class: str) -> tuple[int, str]:
    kind = site_class.partition(":")[0]
    kinds = list(UnitKind)
    return kinds.index(kind) if kind in kinds else len(kinds), site_class


# ----------------------------------------------------------------------------------------
# Analytic placement and legalisation
# ----------------------------------------------------------------------------------------


def _best_start(
    topology: Topology,
    problem: PlacementProblem,
    free: dict[str, list[Site]],
    movable: list[int],
    rng: np.random.Generator,
) -> list[Site]:
    """Every unit's site from the analytic placement: of `ANALYTIC_STARTS` tie-breaking
    jitters (the first none), the start of least wire length."""
    best: list[Site] = []
    least = np.inf
    for start in range(ANALYTIC_STARTS):
        jitter = rng.uniform(-TIE_JITTER, TIE_JITTER, (len(movable), 2)) * (start > 0)
        sites = list(problem.pinned)
        for unit, site in zip(movable, _analytic(topology, problem, free, movable, jitter),
                              strict=True):
            sites[unit] = site
        placed = [site for site in sites if site is not None]
        length = wire_length(topology, problem, placed)
        if length < least:
            best, least = placed, length
    return best


def _analytic(
    topology: Topology,
    problem: PlacementProblem,
    free: dict[str, list[Site]],
    movable: list[int],
    jitter: np.ndarray,
) -> list[Site]:
    """Sites for the movable units from rounds of quadratic placement and legalisation.

    Units the quadratic placement cannot tell apart (the copies of a unit, wired alike)
    get equal positions, which legalisation hands out in unit order unless `jitter` (per
    unit, small) separates them. Positions are rounded, so that the last bits of the
    linear solve (which depend on how many BLAS threads LAPACK uses) change nothing."""
    count = len(problem.kinds)
    laplacian = _star_laplacian(count, problem)
    is_movable = np.zeros(count, dtype=bool)
    is_movable[movable] = True
    fixed = np.zeros((count, 2))
    for unit, site in enumerate(problem.pinned):
        if site is not None:
            fixed[unit] = topology.position(site)
    centre = np.array([topology.rows / 2, topology.cols / 2])
    anchors = np.tile(centre, (len(movable), 1))
    strength = 1e-3 * max(1.0, float(np.mean(np.diag(laplacian)[is_movable])))
    legal: list[Site] = []
    for round_ in range(SPREADING_ROUNDS):
        solved = _solve(laplacian, is_movable, fixed, anchors, strength)
        positions = np.round(solved + jitter, POSITION_DECIMALS)
        legal = _legalise(topology, problem, free, movable, positions)
        anchors = np.array([topology.position(site) for site in legal])
        strength = 0.05 * 4**round_ * max(1.0, float(np.mean(np.diag(laplacian))))
    return legal


def _star_laplacian(count: int, problem: PlacementProblem) -> np.ndarray:
    """The weighted Laplacian of every net's star (source to each sink, weight w / sinks)."""
    sources, sinks, weights = [], [], []
    for net, weight in zip(problem.nets, problem.weights, strict=True):
        for sink in net[1:]:
            if sink != net[0]:
                sources.append(net[0])
                sinks.append(sink)
                weights.append(weight / max(1, len(net) - 1))
    laplacian = np.zeros((count, count))
    if sources:
        a, b, w = np.array(sources), np.array(sinks), np.array(weights)
        np.add.at(laplacian, (a, b), -w)
        np.add.at(laplacian, (b, a), -w)
        np.add.at(laplacian, (a, a), w)
        np.add.at(laplacian, (b, b), w)
    return laplacian


def _solve(
    laplacian: np.ndarray,
    is_movable: np.ndarray,
    fixed: np.ndarray,
    anchors: np.ndarray,
    strength: float,
) -> np.ndarray:
    """Positions of the movable units minimising the quadratic wire length plus anchors."""
    moving = np.flatnonzero(is_movable)
    pinned = np.flatnonzero(~is_movable)
    system = laplacian[np.ix_(moving, moving)] + strength * np.eye(len(moving))
    right = strength * anchors
    if len(pinned):
        right = right - laplacian[np.ix_(moving, pinned)] @ fixed[pinned]
    return np.linalg.solve(system, right)


def _legalise(
    topology: Topology,
    problem: PlacementProblem,
    free: dict[str, list[Site]],
    movable: list[int],
    positions: np.ndarray,
) -> list[Site]:
    """One free site per movable unit, kind by kind, by recursive bisection."""
    result: list[Site | None] = [None] * len(movable)
    for site_class, candidates in free.items():
        members = [i for i, unit in enumerate(movable) if problem.kinds[unit] == site_class]
        if not members:
            continue
        site_positions = np.array([topology.position(site) for site in candidates])
        chosen = _bisect(positions[members], site_positions)
        for member, site_index in zip(members, chosen, strict=True):
            result[member] = candidates[site_index]
    return [site for site in result if site is not None]


def _bisect(units: np.ndarray, sites: np.ndarray) -> list[int]:
    """For each unit (a row of `units`), the index of a distinct site in `sites`."""
    assigned = [0] * len(units)
    stack = [(np.arange(len(units)), np.arange(len(sites)))]
    while stack:
        unit_ids, site_ids = stack.pop()
        if len(unit_ids) == 0:
            continue
        if len(site_ids) == 1:
            assigned[int(unit_ids[0])] = int(site_ids[0])
            continue
        here = sites[site_ids]
        spread = here.max(axis=0) - here.min(axis=0)
        axis = 0 if spread[0] >= spread[1] else 1
        other = 1 - axis
        site_order = site_ids[np.lexsort((site_ids, here[:, other], here[:, axis]))]
        half = len(site_order) // 2
        left_sites, right_sites = site_order[:half], site_order[half:]
        cut = (sites[left_sites[-1], axis] + sites[right_sites[0], axis]) / 2
        there = units[unit_ids]
        unit_order = unit_ids[np.lexsort((unit_ids, there[:, other], there[:, axis]))]
        wanted = int(np.count_nonzero(units[unit_order, axis] < cut))
        low = max(0, len(unit_order) - len(right_sites))
        take = min(max(wanted, low), len(left_sites))
        stack.append((unit_order[take:], right_sites))
        stack.append((unit_order[:take], left_sites))
    return assigned


# ----------------------------------------------------------------------------------------
# Simulated annealing
# ----------------------------------------------------------------------------------------


class _State:
    """Sites, occupancy and net costs of a placement being annealed."""

    def __init__(self, topology: Topology, problem: PlacementProblem, sites: list[Site]):
        self.problem = problem
        self.sites = list(sites)
        self.position = [topology.position(site) for site in sites]
        self.occupant: dict[Site, int] = {site: unit for unit, site in enumerate(sites)}
        self.unit_nets: list[list[int]] = [[] for _ in sites]
        for net_id, net in enumerate(problem.nets):
            for unit in dict.fromkeys(net):
                self.unit_nets[unit].append(net_id)
        self.net_cost = [self.cost(net_id) for net_id in range(len(problem.nets))]

    def cost(self, net_id: int) -> float:
        """Weighted half-perimeter of the net's bounding box."""
        points = [self.position[unit] for unit in self.problem.nets[net_id]]
        rows = [p[0] for p in points]
        cols = [p[1] for p in points]
        return self.problem.weights[net_id] * (max(rows) - min(rows) + max(cols) - min(cols))

    def total(self) -> float:
        return math.fsum(self.net_cost)


def _anneal(
    topology: Topology,
    problem: PlacementProblem,
    sites: list[Site],
    movable: list[int],
    rng: np.random.Generator,
    *,
    heat: float = 0.2,
    moves_per_unit: int = MOVES_PER_UNIT,
) -> list[Site]:
    """Improve a legal placement by swaps and moves of movable units, starting at `heat`
    times the mean cost change of a random local move."""
    state = _State(topology, problem, sites)
    is_movable = [problem.pinned[unit] is None for unit in range(len(sites))]
    span = max(topology.rows, topology.cols) + 2
    window = float(span) if heat >= 0.2 else 3.0
    moves = moves_per_unit * len(movable)
    per_step = max(1, moves // TEMPERATURES)
    temperature = heat * _mean_delta(topology, state, movable, is_movable, rng)
    for _ in range(TEMPERATURES):
        picks = rng.integers(0, len(movable), per_step)
        offsets = rng.uniform(-1.0, 1.0, (per_step, 2))
        chances = rng.random(per_step)
        accepted = 0
        for pick, offset, chance in zip(picks.tolist(), offsets.tolist(), chances.tolist(),
                                        strict=True):
            unit = movable[pick]
            target = _target(topology, state, unit, offset, window)
            if target is None:
                continue
            delta, undo = _try(state, topology, unit, target, is_movable)
            if undo is None:
                continue
            if delta <= 0 or (temperature > 0 and chance < math.exp(-delta / temperature)):
                accepted += 1
            else:
                undo()
        rate = accepted / per_step
        window = min(float(span), max(1.0, window * (1.0 - 0.44 + rate)))
        temperature *= 0.7
    return state.sites


def _mean_delta(
    topology: Topology,
    state: _State,
    movable: list[int],
    is_movable: list[bool],
    rng: np.random.Generator,
) -> float:
    """The mean cost change of random local moves (what the temperature is scaled by)."""
    samples = min(200, 4 * len(movable))
    deltas = []
    for pick, offset in zip(rng.integers(0, len(movable), samples).tolist(),
                            rng.uniform(-1.0, 1.0, (samples, 2)).tolist(), strict=True):
        target = _target(topology, state, movable[pick], offset, 3.0)
        if target is None:
            continue
        delta, undo = _try(state, topology, movable[pick], target, is_movable)
        if undo is not None:
            deltas.append(abs(delta))
            undo()
    return float(np.mean(deltas)) if deltas else 0.0


def _target(
    topology: Topology, state: _State, unit: int, offset: list[float], window: float
) -> Site | None:
    """A site of the unit's kind near its current site (None if the draw missed)."""
    row, col = state.sites[unit]
    target = (row + round(offset[0] * window), col + round(offset[1] * window))
    wanted = state.problem.kinds[unit]
    found = topology.site_class(target)
    if target == (row, col) or found is None or (found != wanted and
                                                 found.partition(":")[0] != wanted):
        return None
    return target


def _try(state: _State, topology: Topology, unit: int, target: Site, is_movable: list[bool]):
    """Move `unit` to `target` (swapping with its occupant); the cost change and an undo,
    or (0, None) if the occupant is pinned."""
    other = state.occupant.get(target)
    if other is not None and not is_movable[other]:
        return 0.0, None
    source = state.sites[unit]
    nets = state.unit_nets[unit] if other is None else list(
        dict.fromkeys(state.unit_nets[unit] + state.unit_nets[other])
    )
    before = [state.net_cost[net] for net in nets]
    _relocate(state, topology, unit, target, other=other, source=source)
    after = [state.cost(net) for net in nets]
    for net, cost in zip(nets, after, strict=True):
        state.net_cost[net] = cost

    def undo() -> None:
        _relocate(state, topology, unit, source, other=other, source=target)
        for net, cost in zip(nets, before, strict=True):
            state.net_cost[net] = cost

    return math.fsum(after) - math.fsum(before), undo


def _relocate(
    state: _State, topology: Topology, unit: int, target: Site, *, other: int | None,
    source: Site,
) -> None:
    state.sites[unit] = target
    state.position[unit] = topology.position(target)
    state.occupant[target] = unit
    if other is None:
        del state.occupant[source]
    else:
        state.sites[other] = source
        state.position[other] = topology.position(source)
        state.occupant[source] = other


def wire_length(topology: Topology, problem: PlacementProblem, sites: Sequence[Site]) -> float:
    """The weighted HPWL of a placement (what the annealer minimises)."""
    return _State(topology, problem, list(sites)).total()


__all__ = ["PlacementError", "PlacementProblem", "place", "wire_length"]
