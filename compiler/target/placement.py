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

import bisect
import dataclasses
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

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
    system = _Quadratic(topology, problem, movable)
    jitters = [rng.uniform(-TIE_JITTER, TIE_JITTER, (len(movable), 2)) * (start > 0)
               for start in range(ANALYTIC_STARTS)]
    for legal in _analytic(topology, problem, free, system, jitters):
        sites = list(problem.pinned)
        for unit, site in zip(movable, legal, strict=True):
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
    system: _Quadratic,
    jitters: list[np.ndarray],
) -> list[list[Site]]:
    """Per jitter, sites for the movable units from rounds of quadratic placement and
    legalisation.

    Units the quadratic placement cannot tell apart (the copies of a unit, wired alike)
    get equal positions, which legalisation hands out in unit order unless a jitter (per
    unit, small) separates them. Positions are rounded, so that the last bits of the
    linear solve (which depend on how many BLAS threads LAPACK uses) change nothing. The
    starts run round by round, since a round's system is the same for all of them: one
    factorisation solves every start's anchors at once."""
    legal: list[list[Site]] = []
    for round_ in range(SPREADING_ROUNDS):
        solved = [system.first] * len(jitters) if round_ == 0 else system.solve_each(
            [np.array([topology.position(site) for site in each]) for each in legal],
            system.strength[round_])
        legal = [_legalise(topology, problem, free, system.movable,
                           np.round(positions + jitter, POSITION_DECIMALS))
                 for positions, jitter in zip(solved, jitters, strict=True)]
    return legal


class _Quadratic:
    """The quadratic wire length of a problem's movable units, with anchors: what every
    analytic start shares (the system, the pinned units' pull, the first round's solve,
    which anchors every unit at the chip's centre)."""

    def __init__(self, topology: Topology, problem: PlacementProblem, movable: list[int]):
        count = len(problem.kinds)
        self.movable = movable
        laplacian = _star_laplacian(count, problem)
        is_movable = np.zeros(count, dtype=bool)
        is_movable[movable] = True
        moving = np.flatnonzero(is_movable)
        pinned = np.flatnonzero(~is_movable)
        self.laplacian = laplacian[np.ix_(moving, moving)]
        self.pull: np.ndarray | None = None
        if len(pinned):
            fixed = np.zeros((count, 2))
            for unit, site in enumerate(problem.pinned):
                if site is not None:
                    fixed[unit] = topology.position(site)
            self.pull = laplacian[np.ix_(moving, pinned)] @ fixed[pinned]
        # round 0 anchors weakly at the centre, later rounds ever more at the last sites
        mean = max(1.0, float(np.mean(np.diag(laplacian))))
        self.strength = [1e-3 * max(1.0, float(np.mean(np.diag(laplacian)[is_movable])))]
        self.strength += [0.05 * 4**round_ * mean for round_ in range(SPREADING_ROUNDS - 1)]
        centre = np.array([topology.rows / 2, topology.cols / 2])
        self.first = self.solve(np.tile(centre, (len(movable), 1)), self.strength[0])

    def solve(self, anchors: np.ndarray, strength: float) -> np.ndarray:
        """Positions of the movable units minimising the quadratic wire length plus
        `strength` times the squared distance to their anchors."""
        return self.solve_each([anchors], strength)[0]

    def solve_each(self, anchors: list[np.ndarray], strength: float) -> list[np.ndarray]:
        """`solve` for each of `anchors` (one factorisation: their columns side by side,
        each column solved as it would be alone)."""
        system = self.laplacian.copy()
        system[np.diag_indices_from(system)] += strength
        right = strength * np.hstack(anchors)
        if self.pull is not None:
            right = right - np.tile(self.pull, (1, len(anchors)))
        return np.hsplit(np.linalg.solve(system, right), len(anchors))


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


def _legalise(
    topology: Topology,
    problem: PlacementProblem,
    free: dict[str, list[Site]],
    movable: list[int],
    positions: np.ndarray,
) -> list[Site]:
    """One free site per movable unit, kind by kind, by recursive bisection."""
    result: list[Site | None] = [None] * len(movable)
    wanted = positions.tolist()
    for site_class, candidates in free.items():
        members = [i for i, unit in enumerate(movable) if problem.kinds[unit] == site_class]
        if not members:
            continue
        chosen = _bisect([wanted[i] for i in members],
                         [topology.position(site) for site in candidates])
        for member, site_index in zip(members, chosen, strict=True):
            result[member] = candidates[site_index]
    return [site for site in result if site is not None]


def _bisect(units: list[list[float]], sites: list[tuple[float, float]]) -> list[int]:
    """For each unit (its position), the index of a distinct site (of `sites`' positions).

    Plain Python on purpose: the regions shrink to a few units fast, where numpy's per-call
    cost dominates. Positions are compared, never summed, except for the cuts between
    sites, so the result is exact."""
    assigned = [0] * len(units)
    # per cut axis, each unit's sort key: that axis, then the other, then the index
    keys = ([(row, col, u) for u, (row, col) in enumerate(units)],
            [(col, row, u) for u, (row, col) in enumerate(units)])
    axes = ([row for row, _ in units], [col for _, col in units])
    stack: list[tuple[list[int], _Cut | int]] = [
        (list(range(len(units))), _site_cuts(tuple(sites)))
    ]
    while stack:
        unit_ids, node = stack.pop()
        if not unit_ids:
            continue
        if isinstance(node, int):
            assigned[unit_ids[0]] = node
            continue
        unit_order = sorted(unit_ids, key=keys[node.axis].__getitem__)
        # sorted by the cut's axis first: the units before the cut are a prefix
        wanted = bisect.bisect_left(unit_order, node.cut, key=axes[node.axis].__getitem__)
        low = max(0, len(unit_order) - node.right_size)
        take = min(max(wanted, low), node.left_size)
        stack.append((unit_order[take:], node.right))
        stack.append((unit_order[:take], node.left))
    return assigned


@dataclass(frozen=True)
class _Cut:
    """A split of a region's sites in two halves along its longer axis (`_site_cuts`)."""

    axis: int
    cut: float
    """The coordinate on `axis` halfway between the two halves."""
    left: _Cut | int
    """The lower half (a site's index when one is left)."""
    right: _Cut | int
    left_size: int
    right_size: int


@cache
def _site_cuts(sites: tuple[tuple[float, float], ...]) -> _Cut | int:
    """The bisection of `sites` (positions) down to single sites: the same for every
    placement of a class of units, so it is made once."""
    return _cuts(sites, tuple(range(len(sites))))


def _cuts(sites: tuple[tuple[float, float], ...], site_ids: tuple[int, ...]) -> _Cut | int:
    """The sites `site_ids` split in halves along the region's longer axis (rows on a
    tie), ordered by that axis, then the other, then index; recursively."""
    if len(site_ids) == 1:
        return site_ids[0]
    rows = [sites[s][0] for s in site_ids]
    cols = [sites[s][1] for s in site_ids]
    axis = 0 if max(rows) - min(rows) >= max(cols) - min(cols) else 1
    other = 1 - axis
    order = sorted(site_ids, key=lambda s: (sites[s][axis], sites[s][other], s))
    half = len(order) // 2
    left, right = order[:half], order[half:]
    return _Cut(axis, (sites[left[-1]][axis] + sites[right[0]][axis]) / 2,
                _cuts(sites, tuple(left)), _cuts(sites, tuple(right)), len(left), len(right))


# ----------------------------------------------------------------------------------------
# Simulated annealing
# ----------------------------------------------------------------------------------------


class _State:
    """Sites, occupancy and net costs of a placement being annealed.

    Written for the annealer's inner loop (tens of thousands of moves per placement): plain
    lists and dictionaries, the moves and their undo without closures, a net's pins'
    coordinates gathered by one `itemgetter` call. Positions are multiples of a quarter
    site, so every half-perimeter below is exact however it is summed; a net's cost is its
    weight times it, rounded once."""

    def __init__(self, topology: Topology, problem: PlacementProblem, sites: list[Site]):
        self.problem = problem
        self.positions = topology.positions
        self.sites = list(sites)
        self.rows = [topology.position(site)[0] for site in sites]
        self.cols = [topology.position(site)[1] for site in sites]
        self.occupant: dict[Site, int] = {site: unit for unit, site in enumerate(sites)}
        self.unit_nets: list[list[int]] = [[] for _ in sites]
        for net_id, net in enumerate(problem.nets):
            for unit in dict.fromkeys(net):
                self.unit_nets[unit].append(net_id)
        # most streams join one source and one sink: their two units; else the pins' getter
        self.pairs = [net if len(net) == 2 else None for net in problem.nets]
        self.pins = [operator.itemgetter(*net) if len(net) > 2 else None for net in problem.nets]
        self.net_cost = self.costs(list(range(len(problem.nets))))

    def costs(self, nets: list[int]) -> list[float]:
        """Weighted half-perimeter of each net's bounding box."""
        rows, cols, pairs, pins = self.rows, self.cols, self.pairs, self.pins
        weights = self.problem.weights
        result = []
        for net in nets:
            pair = pairs[net]
            if pair is not None:
                a, b = pair
                result.append(weights[net] * (abs(rows[a] - rows[b]) + abs(cols[a] - cols[b])))
                continue
            getter = pins[net]
            if getter is None:  # a net of one unit
                result.append(weights[net] * 0.0)
                continue
            net_rows, net_cols = getter(rows), getter(cols)
            result.append(weights[net] * (max(net_rows) - min(net_rows)
                                          + max(net_cols) - min(net_cols)))
        return result

    def total(self) -> float:
        return math.fsum(self.net_cost)

    def move(self, unit: int, target: Site, is_movable: list[bool]) -> _Move | None:
        """Move `unit` to `target`, swapping with its occupant (None, nothing moved, if the
        occupant is pinned)."""
        other = self.occupant.get(target)
        if other is not None and not is_movable[other]:
            return None
        source = self.sites[unit]
        nets = self.unit_nets[unit] if other is None else list(
            dict.fromkeys(self.unit_nets[unit] + self.unit_nets[other])
        )
        net_cost = self.net_cost
        before = [net_cost[net] for net in nets]
        self._relocate(unit, target, other, source)
        after = self.costs(nets)
        for net, cost in zip(nets, after, strict=True):
            net_cost[net] = cost
        return _Move(math.fsum(after) - math.fsum(before), unit, other, source, target, nets,
                     before)

    def undo(self, move: _Move) -> None:
        """Put back what `move` changed."""
        self._relocate(move.unit, move.source, move.other, move.target)
        for net, cost in zip(move.nets, move.before, strict=True):
            self.net_cost[net] = cost

    def _relocate(self, unit: int, target: Site, other: int | None, source: Site) -> None:
        self.sites[unit] = target
        self.rows[unit], self.cols[unit] = self.positions[target]
        self.occupant[target] = unit
        if other is None:
            del self.occupant[source]
        else:
            self.sites[other] = source
            self.rows[other], self.cols[other] = self.positions[source]
            self.occupant[source] = other


@dataclass(slots=True)
class _Move:
    """One move of the annealer: its cost change, and what its undo needs."""

    delta: float
    unit: int
    other: int | None
    source: Site
    target: Site
    nets: list[int]
    before: list[float]


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
    near = _Targets(topology, problem, state)
    span = max(topology.rows, topology.cols) + 2
    window = float(span) if heat >= 0.2 else 3.0
    moves = moves_per_unit * len(movable)
    per_step = max(1, moves // TEMPERATURES)
    temperature = heat * _mean_delta(near, state, movable, is_movable, rng)
    for _ in range(TEMPERATURES):
        picks = rng.integers(0, len(movable), per_step)
        offsets = rng.uniform(-1.0, 1.0, (per_step, 2))
        chances = rng.random(per_step)
        accepted = 0
        for pick, offset, chance in zip(picks.tolist(), offsets.tolist(), chances.tolist(),
                                        strict=True):
            unit = movable[pick]
            target = near(unit, offset, window)
            if target is None:
                continue
            move = state.move(unit, target, is_movable)
            if move is None:
                continue
            delta = move.delta
            if delta <= 0 or (temperature > 0 and chance < math.exp(-delta / temperature)):
                accepted += 1
            else:
                state.undo(move)
        rate = accepted / per_step
        window = min(float(span), max(1.0, window * (1.0 - 0.44 + rate)))
        temperature *= 0.7
    return state.sites


def _mean_delta(
    near: _Targets,
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
        target = near(movable[pick], offset, 3.0)
        if target is None:
            continue
        move = state.move(movable[pick], target, is_movable)
        if move is not None:
            deltas.append(abs(move.delta))
            state.undo(move)
    return float(np.mean(deltas)) if deltas else 0.0


class _Targets:
    """Where a unit may move: a site of its class near its current site."""

    def __init__(self, topology: Topology, problem: PlacementProblem, state: _State):
        self.sites = state.sites  # the state's own list: moves update it in place
        # per class a unit may ask for ("pcu", "ag", "ag:left", ...), the sites it may take
        allowed = {wanted: _allowed_sites(topology, wanted)
                   for wanted in dict.fromkeys(problem.kinds)}
        self.allowed_of = [allowed[kind] for kind in problem.kinds]  # per unit

    def __call__(self, unit: int, offset: list[float], window: float) -> Site | None:
        """The site `offset` (in [-1, 1] per axis) times `window` away from the unit's, if
        the unit may sit there (None if the draw missed)."""
        row, col = self.sites[unit]
        target = (row + round(offset[0] * window), col + round(offset[1] * window))
        if target == (row, col) or target not in self.allowed_of[unit]:
            return None
        return target


def _allowed_sites(topology: Topology, wanted: str) -> frozenset[Site]:
    """The sites whose class is `wanted` or whose kind is (an "ag" unit takes any edge)."""
    return frozenset(site for site in topology.kinds
                     if (found := topology.site_class(site)) == wanted
                     or found.partition(":")[0] == wanted)


def wire_length(topology: Topology, problem: PlacementProblem, sites: Sequence[Site]) -> float:
    """The weighted HPWL of a placement (what the annealer minimises)."""
    return _State(topology, problem, list(sites)).total()


__all__ = ["PlacementError", "PlacementProblem", "place", "wire_length"]
