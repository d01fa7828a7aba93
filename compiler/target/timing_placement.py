"""Placement driven by timing: the step's critical paths placed tight, several seeds tried.

The wire-length placer (`rnnc.target.placement`) weighs every stream by the scarcity of its
network's links only, so a weight stream that has cycles of slack pulls as hard as the
recurrence loop (h -> operand PMUs -> map-reduce -> combine -> element-wise -> h), whose
hops every step waits for. This module estimates a placement's step the way the cost
model and the simulator time a routed one (`rnnc.target.routed_hops`), with the Manhattan
distance between sites for the routed hops:

* a path starts at a memory a step reads (the enable crosses from the controller to the
  PMU, which reads) or at a PCU that fires on the enable alone; it goes through the
  PCUs, each adding its pipeline and the round trips to the lookup tables it reads; it
  ends in a memory or an address generator the step writes, whose done token crosses
  back to the controller; a PMU that a store drains (y) ends the path at the store; a
  write the loop posts (`spatial-post-writes`) ends none: the step does not wait for it;
* address generators that load are prefetches of the next step: not on a step's path.

From the estimate each stream gets a criticality, the longest path through it over the
longest path of all (1 on the critical path, near 0 for a stream with much slack), and the
placement is redone with each stream's weight multiplied by
1 + CRITICALITY_WEIGHT * criticality ** CRITICALITY_EXPONENT (VPR's timing-driven cost).
Of `PLACEMENT_SEEDS` seeds (the pass's seed and the ones after it), the placement of least
estimated step is kept, the first on ties: the same seed gives the same sites.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass

from rnnc.dialects.spatial import (
    AGDirection,
    AGOp,
    DesignOp,
    PCUOp,
    PCURole,
    PMUKind,
    PMUOp,
)
from rnnc.target.arch import Architecture
from rnnc.target.network import Site, Topology
from rnnc.target.placement import PlacementProblem, place

#: Seeds tried (the pass's seed, and the ones after it).
PLACEMENT_SEEDS = 3
#: How much more a stream on the critical path weighs than one with all the slack.
CRITICALITY_WEIGHT = 8.0
#: How sharply the weight falls with slack (only near-critical streams gain much).
CRITICALITY_EXPONENT = 4


@dataclass(frozen=True)
class StepPaths:
    """What the estimate needs to know about each unit of a `PlacementProblem`."""

    latency: tuple[int, ...]
    """Per unit, cycles from its input to its output (a PCU's pipeline, a PMU's read)."""
    role: tuple[str, ...]
    """Per unit: "pcu", "memory" (a PMU that a step reads or writes), "table" (a PMU of
    lookup tables), "load" or "store" (an address generator), "posted" (a write the loop
    posts, `Phase.posted`: it ends no path)."""
    controller: Site
    """The switch of the sequential controller (enables leave it, done tokens end there)."""
    hop_latency: int


@dataclass(frozen=True)
class StepEstimate:
    cycles: int
    """The longest path of a step, the enable and the done token included."""
    criticality: tuple[float, ...]
    """Per net of the problem, the longest path through it over `cycles` (0 to 1)."""


def estimate(topology: Topology, problem: PlacementProblem, paths: StepPaths,
             sites: tuple[Site, ...]) -> StepEstimate:
    """The step's longest path at `sites`, and every net's criticality."""
    return _Timing(topology, problem, paths, sites).run()


def place_for_timing(topology: Topology, problem: PlacementProblem, paths: StepPaths,
                     seed: int) -> tuple[Site, ...]:
    """Sites for every unit: per seed, a wire-length placement, then one with the streams
    weighted by their criticality there; the placement of least estimated step."""
    best: tuple[Site, ...] = ()
    least = None
    for each in range(seed, seed + PLACEMENT_SEEDS):
        first = place(topology, problem, each)
        timed = estimate(topology, problem, paths, first)
        weights = tuple(weight * (1.0 + CRITICALITY_WEIGHT * crit ** CRITICALITY_EXPONENT)
                        for weight, crit in zip(problem.weights, timed.criticality,
                                                strict=True))
        sites = place(topology, dataclasses.replace(problem, weights=weights), each)
        for candidate in (sites, first):
            cycles = estimate(topology, problem, paths, candidate).cycles
            if least is None or cycles < least:
                best, least = candidate, cycles
    return best


class _Timing:
    """Longest paths forward (arrival at each unit) and backward (from each unit's input
    to the end of its longest path) over the streams of one step."""

    def __init__(self, topology: Topology, problem: PlacementProblem, paths: StepPaths,
                 sites: tuple[Site, ...]):
        self.p = problem
        self.paths = paths
        self.position = [topology.position(site) for site in sites]
        # the controller is a switch: its position in switch coordinates is its site
        centre = (float(paths.controller[0]), float(paths.controller[1]))
        self.control = [self._hops_to(centre, k) for k in range(len(sites))]
        self._output: dict[int, int] = {}
        # every sink of every net, as (net, source, sink)
        self.edges = [(n, net[0], sink) for n, net in enumerate(problem.nets)
                      for sink in net[1:] if sink != net[0]]
        self.into: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        self.out: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for edge in self.edges:
            self.into[edge[2]].append(edge)
            self.out[edge[1]].append(edge)

    def _hops_to(self, where: tuple[float, float], unit: int) -> int:
        here = self.position[unit]
        return round(abs(here[0] - where[0]) + abs(here[1] - where[1])) + 1

    def hops(self, a: int, b: int) -> int:
        return self._hops_to(self.position[a], b)

    def role(self, unit: int) -> str:
        return self.paths.role[unit]

    def pipeline(self, unit: int) -> int:
        """A PCU's cycles from input to output, with the round trips to its tables."""
        trips = [self.hops(unit, sink) + self.hops(sink, unit) + self.paths.latency[sink]
                 for _, _, sink in self.out[unit] if self.role(sink) == "table"]
        return self.paths.latency[unit] + max(trips, default=0) * self._scale(1)

    def _scale(self, hops: int) -> int:
        return hops * self.paths.hop_latency

    def _pcu_order(self) -> list[int]:
        """The PCUs, producers before consumers (PCU-to-PCU streams form a DAG)."""
        done: dict[int, None] = {}
        pcus = [k for k in range(len(self.position)) if self.role(k) == "pcu"]
        stack = [(k, False) for k in reversed(pcus)]
        while stack:
            unit, expanded = stack.pop()
            if unit in done:
                continue
            if expanded:
                done[unit] = None
                continue
            stack.append((unit, True))
            stack.extend((src, False) for _, src, _ in self.into[unit]
                         if self.role(src) == "pcu" and src not in done and src != unit)
        return list(done)

    def run(self) -> StepEstimate:
        order = self._pcu_order()
        hop = self.paths.hop_latency
        lat = self.paths.latency
        # arrival: when a PCU's inputs are there; output: when its result leaves
        arrival: dict[int, int] = {}
        output = self._output
        for unit in order:
            starts = [self._start(src) + hop * self.hops(src, unit)
                      for _, src, _ in self.into[unit] if self.role(src) in ("pcu", "memory")]
            arrival[unit] = max(starts, default=hop * self.control[unit])
            output[unit] = arrival[unit] + self.pipeline(unit)
        # a memory the step writes: when its last write lands
        written: dict[int, int] = {}
        for _, src, sink in self.edges:
            if self.role(src) == "pcu" and self.role(sink) in ("memory", "store"):
                written[sink] = max(written.get(sink, 0), output[src] + hop * self.hops(src, sink))
        # tail: from a unit's input (a memory: its last write) to the end of its longest path
        tail: dict[int, int] = {}
        for unit in written:
            drains = [lat[unit] + hop * (self.hops(unit, sink) + self.control[sink])
                      for _, _, sink in self.out[unit] if self.role(sink) == "store"]
            tail[unit] = max([hop * self.control[unit], *drains])
        for unit in reversed(order):
            ends = [hop * self.hops(unit, sink) + tail.get(sink, 0)
                    for _, _, sink in self.out[unit] if self.role(sink) in ("pcu", "memory",
                                                                           "store")]
            tail[unit] = self.pipeline(unit) + max(ends, default=hop * self.control[unit])
        cycles = max([written[m] + tail[m] for m in written]
                     + [arrival[u] + tail[u] for u in order], default=0)
        through = [0.0] * len(self.p.nets)
        for net, src, sink in self.edges:
            length = self._through(src, sink, arrival, written, tail)
            through[net] = max(through[net], length)
        return StepEstimate(cycles, tuple(t / cycles if cycles else 0.0 for t in through))

    def _start(self, unit: int) -> int:
        """When a value leaves `unit` for a PCU: a PCU's output, a memory's read after the
        enable."""
        if self.role(unit) == "pcu":
            return self._output[unit]
        return self.paths.hop_latency * self.control[unit] + self.paths.latency[unit]

    def _through(self, src: int, sink: int, arrival: dict[int, int],
                 written: dict[int, int], tail: dict[int, int]) -> int:
        """The longest path of the step through the stream from `src` to `sink` (0 for
        one off every path: a prefetch, a copy between memories)."""
        hop = self.paths.hop_latency
        kinds = (self.role(src), self.role(sink))
        if kinds[0] == "pcu" and kinds[1] == "table":
            return arrival[src] + tail[src]
        if kinds[0] == "table" and kinds[1] == "pcu":
            return arrival[sink] + tail[sink]
        if kinds[1] == "pcu" and kinds[0] in ("pcu", "memory"):
            return self._start(src) + hop * self.hops(src, sink) + tail[sink]
        if kinds[0] == "pcu" and kinds[1] in ("memory", "store"):
            return self._output[src] + hop * self.hops(src, sink) + tail.get(sink, 0)
        if kinds == ("memory", "store") and src in written:
            return written[src] + self.paths.latency[src] + hop * (
                self.hops(src, sink) + self.control[sink])
        return 0


def step_paths(design: DesignOp, arch: Architecture, controller: Site) -> StepPaths:
    """The estimate's view of a design's units (in `design.units()` order)."""
    latency, role = [], []
    posted = {name for phase in design.phases() for name in phase.posted_units or ()}
    for unit in design.units():
        if unit.unit_id in posted:
            latency.append(0)
            role.append("posted")
        elif isinstance(unit, PCUOp):
            mapping = unit.role.data == PCURole.MAP_REDUCE
            latency.append(arch.map_reduce_latency(design.precision.data) if mapping
                           else arch.pcu.stages)
            role.append("pcu")
        elif isinstance(unit, PMUOp):
            latency.append(arch.pmu_read_latency())
            role.append("table" if unit.role.data == PMUKind.LOOKUP_TABLE else "memory")
        else:
            assert isinstance(unit, AGOp)
            latency.append(0)
            role.append("store" if unit.direction.data == AGDirection.STORE else "load")
    return StepPaths(tuple(latency), tuple(role), controller, arch.network.hop_latency_cycles)
