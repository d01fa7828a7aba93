"""The ops of a `spatial.design`, built from the partition's records.

`spatial-partition` decides a design as small records (a PCU's datapath ops `Op` with
their operand references, its `Emit`s and `Reduce`, the `Box`es a PMU holds, the
`Stream`s between ports, the program's `Memory`s) and builds the design's ops with these
functions, the one place that turns those records into IR. The configuration model
(`rnnc.target.machine.Machine`) is built from the IR only, by `machine_from_module` for
the emitter; nothing converts it back.

Operand references (`ctr:<name>`, `in:<port>[.<field>]`, `%<n>` for the unit's op number
n; `rnnc.target.machine`) become SSA values of the PCU's body: a counter or input read is
defined where it is first used.

    pcu_op("mr0", nest="n0", role="map_reduce", mode="map_reduce", lanes=16,
           counters=(Counter("d0", 0, 4, 1),), copies=(0,),
           ops=(Op(0, "read", ("ctr:k",), (("memory", "w"), ("port", "vi0"))),))
"""

from __future__ import annotations

from collections.abc import Sequence

from rnnc.dialects.spatial import (
    AGDirection,
    AGDirectionAttr,
    AGEdge,
    AGEdgeAttr,
    AGOp,
    Banking,
    BankingAttr,
    BoxAttr,
    CounterAttr,
    CounterValueOp,
    EmitOp,
    HoldingAttr,
    InputOp,
    Interpolation,
    MemoryInit,
    MemoryOp,
    PCUMode,
    PCUModeAttr,
    PCUOp,
    PCURole,
    PCURoleAttr,
    PMUKind,
    PMUKindAttr,
    PMUOp,
    ReduceOp,
    SegmentOp,
    StageOp,
    StreamOp,
    TableAttr,
)
from rnnc.target.machine import (
    Box,
    Counter,
    Emit,
    Holding,
    Memory,
    Op,
    Reduce,
    Stream,
    lut_tables,
)
from xdsl.dialects.builtin import ArrayAttr, DenseArrayBase, IntAttr, StringAttr, i64
from xdsl.ir import Block, Operation, Region, SSAValue


def pcu_op(unit_id: str, *, nest: str, role: str, mode: str, lanes: int,
           counters: Sequence[Counter], copies: Sequence[int], ops: Sequence[Op],
           emits: Sequence[Emit] = (), reduce: Reduce | None = None) -> PCUOp:
    """A PCU of `nest` in `role` and `mode`: its counter chain, the copies it serves, and a
    body running `ops` (in order), then sending `emits` and folding `reduce`."""
    return PCUOp(
        unit_id,
        None,
        _pcu_body(ops, emits, reduce),
        role=PCURoleAttr(PCURole(role)),
        mode=PCUModeAttr(PCUMode(mode)),
        nest=StringAttr(nest),
        lanes=IntAttr(lanes),
        counters=ArrayAttr(CounterAttr(c.name, c.start, c.stop, c.stride) for c in counters),
        copies=DenseArrayBase.from_list(i64, copies),
    )


def pmu_op(unit_id: str, *, role: PMUKind, banking: str, bytes: int, buffers: int,
           boxes: Sequence[Box], holds: Sequence[Holding], lut: str) -> PMUOp:
    """A PMU holding `boxes` in `buffers` copies (`bytes` in all), `holds` its initial
    contents by reference, `lut` its tables (`fn:entries:range:interp`, joined by `,`)."""
    return PMUOp(
        unit_id,
        None,
        role=PMUKindAttr(role),
        banking=BankingAttr(Banking(banking)),
        bytes=IntAttr(bytes),
        buffers=IntAttr(buffers),
        boxes=ArrayAttr(_box_attr(box) for box in boxes),
        holds=ArrayAttr(HoldingAttr(h.array, h.slices, h.quantization) for h in holds),
        lut=ArrayAttr(_table_attr(table) for table in lut_tables(lut)),
    )


def ag_op(unit_id: str, *, edge: str, direction: str, memory: str,
          boxes: Sequence[Box] = ()) -> AGOp:
    """An address generator on `edge` that loads or stores `memory` (`boxes` of it)."""
    return AGOp(
        unit_id,
        None,
        edge=AGEdgeAttr(AGEdge(edge)),
        direction=AGDirectionAttr(AGDirection(direction)),
        memory=StringAttr(memory),
        boxes=ArrayAttr(_box_attr(box) for box in boxes),
    )


def memory_op(memory: Memory) -> MemoryOp:
    """A program memory; its `init` (`weight:<array>`, `input:<name>`, `zero`,
    `undefined`) split into the kind and its source."""
    init, _, source = memory.init.partition(":")
    return MemoryOp(memory.name, memory.space, memory.shape, element_bytes=memory.element_bytes,
                    buffers=memory.buffers, init=MemoryInit(init), source=source or None)


def stream_op(stream: Stream) -> StreamOp:
    """A stream from its source port to its sinks' ports (unrouted: no paths)."""
    return StreamOp(stream.id, stream.network, (stream.source.unit, stream.source.port),
                    [(sink.unit, sink.port) for sink in stream.sinks])


def _table_attr(table: str) -> TableAttr:
    """`fn:entries:range:interp` (the configuration's spelling) as a typed table."""
    function, entries, range_, interp = table.rsplit(":", 3)
    return TableAttr(function, int(entries), float(range_), Interpolation(interp))


def _box_attr(box: Box) -> BoxAttr:
    return BoxAttr(box.memory, box.slices, box.per_step)


class _Body:
    """A PCU's body being built: each operand reference becomes a value, a counter or
    input read defined where it is first used."""

    def __init__(self) -> None:
        self.block = Block()
        self.values: dict[str, SSAValue] = {}

    def value(self, ref: str) -> SSAValue:
        if ref not in self.values:
            if ref.startswith("ctr:"):
                self.values[ref] = self.add(CounterValueOp(ref[4:]))
            elif ref.startswith("in:"):
                ports, _, field = ref[3:].partition(".")
                self.values[ref] = self.add(InputOp(ports.split(","),
                                                    int(field) if field else None))
            else:
                raise ValueError(f"operand {ref!r} is not a counter, an input or an earlier op")
        return self.values[ref]

    def add(self, op: Operation) -> SSAValue | None:
        self.block.add_op(op)
        return op.results[0] if op.results else None


def _pcu_body(ops: Sequence[Op], emits: Sequence[Emit], reduce: Reduce | None) -> Region:
    body = _Body()
    for n, op in enumerate(ops):
        args = [body.value(arg) for arg in op.args]
        body.values[f"%{n}"] = body.add(StageOp(op.op, op.stage, args, dict(op.params)))
    for emit in emits:
        body.add(EmitOp(emit.port, [body.value(v) for v in emit.values]))
    if reduce is not None:
        body.add(ReduceOp(reduce.combiner, reduce.output, reduce.rv,
                          [body.value(v) for v in reduce.inputs]))
        for segment in reduce.segments:
            value = body.value(segment.value) if segment.value else None
            body.add(SegmentOp(segment.reduction, segment.start, segment.stop, segment.base,
                               value))
    return Region(body.block)


__all__ = ["ag_op", "memory_op", "pcu_op", "pmu_op", "stream_op"]
