"""The hops a routed design's steps cross: the cost model's distances, measured.

Before placement the cost model estimates every transfer at `transfer_hops` switches and
the control handshake at rows + cols hops. On a placed and routed machine both are known,
and the model's prediction of the design uses them (`rnnc.target.cost.RoutedHops`):

* wires: a step's values flow from the memories it reads (operands and weights into the
  map-reduce units), through the levels of PCUs (combining, element-wise, gather), into
  the memories and address generators it writes. Levels run side by side, so the step's
  fill is set by the path that crosses the most switches: each stream sink counts the
  switches of its routed path, and a PCU reading activations from a table PMU adds the
  round trip to that table for each stage that looks one up;
* control: the enable crosses its routed branch from the controller (the switch control
  block the design names) to the unit that starts that path, and the done token of the
  unit that ends it crosses its routed path back to the controller (`control_paths`,
  the one reading of control paths, the simulator's too; the simulator adds the waits of
  done tokens that share a control link).

With `swap-start` (the loop's `spatial.phase ... swap`), a path starts when the state
buffer's swap token has crossed its routed path to the unit that starts it, and the
step's paths are those that end with a write into a state buffer: the next step starts
on its swap, not on the done tokens (which only the loop's end waits for).

Memories start and end paths (what a step writes, the next step reads); address
generators that load are prefetches of the next step, not part of this one's path (in a
loop of one nest, each such load and the path from the PMU it fills is a
`rnnc.target.cost.PrefetchLoad`: on short steps they bound the step); the
writes a loop posts (its `spatial.phase`'s `posted`) end none. The design is read through
the contract's view of its ops (`rnnc.target.design_view`), as `spatial-verify` reads it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rnnc.dialects.spatial import DesignOp, PMUKind
from rnnc.target.cost import PrefetchLoad, RoutedHops
from rnnc.target.design_view import DesignView, PCUView, PhaseView, StreamView, design_view
from rnnc.target.first_loads import box_step_bytes, loop_steps
from rnnc.target.machine import control_paths
from rnnc.target.swap_start import relay_hops, state_buffers, swap_hops


def routed_hops(design: DesignOp | DesignView) -> list[list[RoutedHops]]:
    """Per time-loop phase of the schedule (in order), per nest of it (in order), the hops
    of its longest path; ValueError if a stream is not routed or a unit not placed.
    `design` is the op or the view of it (`design_view`), which a caller reading several
    figures of one design builds once."""
    machine = _view(design)
    geometry = _Geometry(machine)
    return [
        [geometry.nest_hops(nest, frozenset(phase.posted or ()), _swap_start(machine, phase),
                            prefetched=len(phase.nests) == 1)
         for nest in phase.nests]
        for phase in machine.schedule
        if phase.kind == "loop"
    ]


def _swap_start(machine: DesignView, phase: PhaseView) -> SwapStart | None:
    """How a loop started on its state buffer's swap starts: the hops of its token to
    each unit it starts, and the state buffers whose writes end a step's paths."""
    hops = swap_hops(machine, phase)
    if not hops:
        return None
    return SwapStart(hops, frozenset(pmu.id for pmu in state_buffers(machine, phase)),
                     relay_hops(machine, phase))


def once_hops(design: DesignOp) -> list[RoutedHops]:
    """Per nest of the phases that run once (in schedule order), the hops of its longest
    path, as `routed_hops` measures a time loop's."""
    machine = design_view(design)
    geometry = _Geometry(machine)
    return [
        geometry.nest_hops(nest)
        for phase in machine.schedule
        if phase.kind == "once"
        for nest in phase.nests
    ]


def end_hops(design: DesignOp | DesignView) -> int:
    """The hops of a time loop's two ends (`rnnc.target.cost.loop_ends`): the longest routed
    path out of an address generator that loads (x(0) into the chip) plus the longest into
    one that stores (the last y out). The design's address generators serve every time
    loop, so each loop is charged the same crossings."""
    machine = _view(design)
    ags = {unit.id: unit for unit in machine.units if unit.kind == "ag"}
    routed = [stream for stream in machine.streams if stream.paths is not None]
    loads = [len(path) for stream in routed if stream.source.unit in ags
             for path in stream.paths]
    stores = [len(path) for stream in routed
              for sink, path in zip(stream.sinks, stream.paths, strict=True) if sink.unit in ags]
    return max(loads, default=0) + max(stores, default=0)


def _view(design: DesignOp | DesignView) -> DesignView:
    return design if isinstance(design, DesignView) else design_view(design)


class _Geometry:
    def __init__(self, machine: DesignView):
        self.units = {unit.id: unit for unit in machine.units}
        self.tables = {u.id for u in machine.units if u.kind == "pmu" and u.lut}
        # the units folding the next step's input projection (`step-ahead`) work a step
        # ahead: their sums wait in the combining units' FIFOs, on no path of this step
        ahead = {u.id for u in machine.units if u.kind == "pmu" and u.role == PMUKind.AHEAD}
        self.ahead = {sink.unit for s in machine.streams if s.source.unit in ahead
                      for sink in s.sinks}
        self.control = control_paths(machine)
        # (source, sink) -> hops of the routed path, for every stream sink
        self.hops: dict[tuple[str, str], int] = {}
        self.into: dict[str, list[str]] = defaultdict(list)
        self.out: dict[str, list[str]] = defaultdict(list)
        self.steps = loop_steps(machine)
        self.element_bytes = {memory.name: memory.element_bytes for memory in machine.memories}
        self.step_elements = {
            unit.id: sum(box_step_bytes(box, 1, self.steps) for box in unit.boxes)
            for unit in machine.units if unit.kind == "pmu"}
        for stream in machine.streams:
            self._add(stream)

    def _add(self, stream: StreamView) -> None:
        if stream.paths is None:
            raise ValueError(f"stream {stream.id} is not routed")
        source = stream.source.unit
        for sink, path in zip(stream.sinks, stream.paths, strict=True):
            # a path lists the switches it crosses, both ends included: a hop per switch
            self.hops[(source, sink.unit)] = len(path)
            self.into[sink.unit].append(source)
            self.out[source].append(sink.unit)

    def enable_hops(self, unit_id: str) -> int:
        """Switches the enable crosses from the controller to the unit."""
        if unit_id not in self.control.enable:
            raise ValueError(f"unit {unit_id} has no routed enable")
        return self.control.enable[unit_id]

    def done_hops(self, unit_id: str) -> int:
        """Switches the unit's done token crosses to the controller."""
        if unit_id not in self.control.done:
            raise ValueError(f"unit {unit_id} has no routed done path")
        return len(self.control.done[unit_id])

    def table_trips(self, pcu: PCUView) -> int:
        """Hops of the table round trips of one firing: one per stage that looks up."""
        tables = {op.param("lut") for op in pcu.ops if op.param("lut")}
        if not tables:
            return 0
        stages = len({op.stage for op in pcu.ops if op.param("lut")})
        trip = max(self.hops[(pcu.id, t)] + self.hops[(t, pcu.id)] for t in tables)
        return stages * trip

    def nest_hops(self, nest: str, posted: frozenset[str] = frozenset(),
                  swap: SwapStart | None = None, prefetched: bool = False) -> RoutedHops:
        """The nest's longest path; a write into a `posted` unit ends no path (the step
        does not wait for its done token). With `swap`, a path starts when the swap token
        reaches the unit that starts it and ends with a write into a state buffer (the
        next step starts on its swap, not on the done tokens). `prefetched`: the nest is
        its loop's only one, whose steps the loads of their next input bound
        (`_prefetch`)."""

        def start(unit_id: str) -> int:
            """Switches the token that starts the unit's step crosses to it."""
            return self.enable_hops(unit_id) if swap is None else swap.hops[unit_id]

        total, wires = self._longest(nest, posted, swap, start)
        loads = self._prefetch(nest, posted, swap) if prefetched else ()
        return RoutedHops(wires=wires, control=total - wires, swap=swap is not None,
                          prefetch=loads)

    def _longest(self, nest: str, posted: frozenset[str], swap: SwapStart | None,
                 start: Callable[[str], int | None]) -> tuple[int, int]:
        """(control + wire hops, wire hops) of the nest's longest path, each starting where
        `start` gives the hops of the token that starts its first unit (None: no path
        starts there)."""
        pcus = [u for u in self.units.values() if u.kind == "pcu" and u.nest == nest
                and u.id not in self.ahead]
        members = {pcu.id for pcu in pcus}
        # longest[u]: (control + wire hops, wire hops) of the longest path into u's output
        longest: dict[str, tuple[int, int]] = {}
        for pcu in _in_stream_order(pcus, self.into):
            best = (-1, 0)
            for source in self.into[pcu.id]:
                if source in self.tables or source in self.ahead:
                    continue
                hops = self.hops[(source, pcu.id)]
                if source in members:
                    if source in longest:
                        total, wires = longest[source]
                        best = max(best, (total + hops, wires + hops))
                elif not self.units[source].kind == "ag":
                    first = start(source)
                    if first is not None:
                        best = max(best, (first + hops, hops))
            if best[0] < 0:  # fires on the enable alone
                first = start(pcu.id)
                if first is None:
                    continue
                best = (first, 0)
            trips = self.table_trips(pcu)
            longest[pcu.id] = (best[0] + trips, best[1] + trips)
        ends = [
            (total + hops + (self.done_hops(sink) if swap is None else 0), wires + hops)
            for (source, sink), hops in self.hops.items()
            if source in longest and sink not in members and sink not in self.tables
            and sink not in posted and (swap is None or sink in swap.state)
            for total, wires in [longest[source]]
        ]
        return max(ends, default=(0, 0))

    def _prefetch(self, nest: str, posted: frozenset[str],
                  swap: SwapStart | None) -> tuple[PrefetchLoad, ...]:
        """The prefetches of a step's input (x(t+1) into its double-buffered PMUs, each
        loaded by an address generator on the controller's enable, which relays the swap
        token of a swap-started loop), as `PrefetchLoad`s: the hops from the controller (or
        the state buffer) to the generator and on to the PMU, the hops of the longest path
        from the PMU to the step's end (its done token at the controller, or the state
        buffers' swap), the bytes the load moves and the elements the PMU holds a step."""
        members = {u.id for u in self.units.values() if u.kind == "pcu" and u.nest == nest}
        loads = [(ag, pmu) for (ag, pmu) in self.hops
                 if self.units[ag].kind == "ag" and self.units[ag].direction == "load"
                 and self.units[pmu].kind == "pmu" and self.units[pmu].buffers >= 2
                 and self.units[pmu].banking != "fifo"  # streamed weights: `stream`
                 and any(sink in members for sink in self.out.get(pmu, ()))]
        relay = 0 if swap is None else swap.relay  # the token's hops to the controller
        if relay < 0:
            return ()
        prefetch = []
        for ag, pmu in loads:
            path, _ = self._longest(nest, posted, swap,
                                    lambda unit, pmu=pmu: 0 if unit == pmu else None)
            # a PMU the step-ahead units read is loaded a step before they work on it
            lead = 2 if any(sink in self.ahead for sink in self.out[pmu]) else 1
            prefetch.append(PrefetchLoad(
                hops=relay + self.enable_hops(ag) + self.hops[(ag, pmu)], path=path,
                bytes=self._load_bytes(ag, pmu), elements=self.step_elements[pmu], lead=lead))
        return tuple(prefetch)

    def _load_bytes(self, ag_id: str, pmu_id: str) -> int:
        """Bytes an address generator moves into a PMU a step: the PMU's boxes it names,
        or else those of its memory (an operand PMU also holds h, which no load brings)."""
        ag, pmu = self.units[ag_id], self.units[pmu_id]
        boxes = [box for box in pmu.boxes
                 if (box in ag.boxes if ag.boxes else box.memory == ag.memory)]
        return sum(box_step_bytes(box, self.element_bytes.get(box.memory, 4), self.steps)
                   for box in boxes or pmu.boxes)


@dataclass(frozen=True)
class SwapStart:
    """A loop whose steps start on its state buffer's swap (`rnnc.target.swap_start`)."""

    hops: dict[str, int]
    """Per unit the token starts, the switches it crosses to it."""
    state: frozenset[str]
    """The state buffers: a step's paths end with a write into one of them."""
    relay: int
    """Switches the token crosses to the controller (-1: none), which relays it to the
    address generators."""


def _in_stream_order(pcus: Sequence[PCUView], into: dict[str, list[str]]) -> list[PCUView]:
    """The nest's PCUs, producers before consumers (streams between them form a DAG)."""
    members = {pcu.id: pcu for pcu in pcus}
    done: dict[str, PCUView] = {}

    def visit(unit_id: str) -> None:
        if unit_id in done:
            return
        for source in into[unit_id]:
            if source in members and source != unit_id:
                visit(source)
        done[unit_id] = members[unit_id]

    for pcu in pcus:
        visit(pcu.id)
    return list(done.values())


__all__ = ["end_hops", "once_hops", "routed_hops"]
