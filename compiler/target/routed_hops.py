"""The hops a routed design's steps cross: the cost model's distances, measured.

Before placement the cost model estimates every transfer at `transfer_hops` switches and
the control handshake at rows + cols hops. On a placed and routed `spatial.design` both
are known, read off its ops, and the model's prediction of the design uses them
(`rnnc.target.cost.RoutedHops`):

* wires: a step's values flow from the memories it reads (operands and weights into the
  map-reduce units), through the levels of PCUs (combining, element-wise, gather), into
  the memories and address generators it writes. Levels run side by side, so the step's
  fill is set by the path that crosses the most switches: each stream sink counts the
  switches of its routed path, and a PCU reading activations from a table PMU adds the
  round trip to that table for each stage that looks one up;
* control: the enable crosses its routed branch from the controller (the switch control
  block the design names) to the unit that starts that path, and the done token of the
  unit that ends it crosses its routed path back to the controller (`control_paths_of`,
  the one reading of control paths, the simulator's too; the simulator adds the waits of
  done tokens that share a control link).

Memories start and end paths (what a step writes, the next step reads); address
generators that load are prefetches of the next step, not part of this one's path; the
writes a loop posts (its `spatial.phase`'s `posted`) end none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from rnnc.dialects.spatial import (
    AGOp,
    DesignOp,
    Network,
    PCUOp,
    PhaseKind,
    PMUOp,
    StageOp,
    StreamOp,
)
from rnnc.target.cost import RoutedHops
from rnnc.target.machine import RoutedStream, control_paths_of


def routed_hops(design: DesignOp) -> list[list[RoutedHops]]:
    """Per time-loop phase of the schedule (in order), per nest of it (in order), the hops
    of its longest path; ValueError if a stream is not routed or a unit not placed."""
    geometry = _Geometry(design)
    return [
        [geometry.nest_hops(nest, frozenset(phase.posted_units or ())) for nest in
         phase.nest_ids]
        for phase in design.phases()
        if phase.kind.data == PhaseKind.LOOP
    ]


def once_hops(design: DesignOp) -> list[RoutedHops]:
    """Per nest of the phases that run once (in schedule order), the hops of its longest
    path, as `routed_hops` measures a time loop's."""
    geometry = _Geometry(design)
    return [
        geometry.nest_hops(nest)
        for phase in design.phases()
        if phase.kind.data == PhaseKind.ONCE
        for nest in phase.nest_ids
    ]


def end_hops(design: DesignOp) -> int:
    """The hops of a time loop's two ends (`rnnc.target.cost.loop_ends`): the longest routed
    path out of an address generator that loads (x(0) into the chip) plus the longest into
    one that stores (the last y out). The design's address generators serve every time
    loop, so each loop is charged the same crossings."""
    ags = {unit.unit_id for unit in design.units() if isinstance(unit, AGOp)}
    routed = [stream for stream in _data(design) if stream[3] is not None]
    loads = [len(path) for _, source, _, paths in routed if source in ags
             for path in paths]  # type: ignore[union-attr]
    stores = [len(path) for _, _, sinks, paths in routed
              for sink, path in zip(sinks, paths, strict=True)  # type: ignore[arg-type]
              if sink in ags]
    return max(loads, default=0) + max(stores, default=0)


def _routed(stream: StreamOp) -> RoutedStream:
    paths = stream.path_sites
    return (stream.stream_id, stream.source_endpoint[0],
            tuple(unit for unit, _ in stream.sink_endpoints),
            None if paths is None else tuple(tuple(path) for path in paths))


def _data(design: DesignOp) -> list[RoutedStream]:
    return [_routed(s) for s in design.streams() if s.network.data != Network.CONTROL]


class _Geometry:
    def __init__(self, design: DesignOp):
        self.units = {unit.unit_id: unit for unit in design.units()}
        self.tables = {u.unit_id for u in design.units() if isinstance(u, PMUOp) and u.lut.data}
        controller = design.controller()
        self.control = control_paths_of(
            None if controller is None else controller.controller_id,
            [_routed(s) for s in design.streams() if s.network.data == Network.CONTROL])
        # (source, sink) -> hops of the routed path, for every stream sink
        self.hops: dict[tuple[str, str], int] = {}
        self.into: dict[str, list[str]] = defaultdict(list)
        for stream in _data(design):
            self._add(stream)

    def _add(self, stream: RoutedStream) -> None:
        stream_id, source, sinks, paths = stream
        if paths is None:
            raise ValueError(f"stream {stream_id} is not routed")
        for sink, path in zip(sinks, paths, strict=True):
            # a path lists the switches it crosses, both ends included: a hop per switch
            self.hops[(source, sink)] = len(path)
            self.into[sink].append(source)

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

    def table_trips(self, pcu: PCUOp) -> int:
        """Hops of the table round trips of one firing: one per stage that looks up."""
        lookups = [op for op in pcu.body.ops if isinstance(op, StageOp) and op.lut is not None]
        if not lookups:
            return 0
        tables = {op.lut.string_value() for op in lookups}  # type: ignore[union-attr]
        stages = len({op.stage.data for op in lookups})
        trip = max(self.hops[(pcu.unit_id, t)] + self.hops[(t, pcu.unit_id)] for t in tables)
        return stages * trip

    def nest_hops(self, nest: str, posted: frozenset[str] = frozenset()) -> RoutedHops:
        """The nest's longest path; a write into a `posted` unit ends no path (the step
        does not wait for its done token)."""
        pcus = [u for u in self.units.values() if isinstance(u, PCUOp) and u.nest.data == nest]
        members = {pcu.unit_id for pcu in pcus}
        # longest[u]: (control + wire hops, wire hops) of the longest path into u's output
        longest: dict[str, tuple[int, int]] = {}
        for pcu in _in_stream_order(pcus, self.into):
            best = (-1, 0)
            for source in self.into[pcu.unit_id]:
                if source in self.tables:
                    continue
                hops = self.hops[(source, pcu.unit_id)]
                if source in members:
                    total, wires = longest[source]
                    best = max(best, (total + hops, wires + hops))
                elif not isinstance(self.units[source], AGOp):
                    best = max(best, (self.enable_hops(source) + hops, hops))
            if best[0] < 0:  # fires on the enable alone
                best = (self.enable_hops(pcu.unit_id), 0)
            trips = self.table_trips(pcu)
            longest[pcu.unit_id] = (best[0] + trips, best[1] + trips)
        ends = [
            (total + hops + self.done_hops(sink), wires + hops)
            for (source, sink), hops in self.hops.items()
            if source in members and sink not in members and sink not in self.tables
            and sink not in posted
            for total, wires in [longest[source]]
        ]
        total, wires = max(ends, default=(0, 0))
        return RoutedHops(wires=wires, control=total - wires)


def _in_stream_order(pcus: Sequence[PCUOp], into: dict[str, list[str]]) -> list[PCUOp]:
    """The nest's PCUs, producers before consumers (streams between them form a DAG)."""
    members = {pcu.unit_id: pcu for pcu in pcus}
    done: dict[str, PCUOp] = {}

    def visit(unit_id: str) -> None:
        if unit_id in done:
            return
        for source in into[unit_id]:
            if source in members and source != unit_id:
                visit(source)
        done[unit_id] = members[unit_id]

    for pcu in pcus:
        visit(pcu.unit_id)
    return list(done.values())


__all__ = ["end_hops", "once_hops", "routed_hops"]
