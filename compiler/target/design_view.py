"""The configuration contract's view of a `spatial.design`, read off its ops.

The rules of the configuration contract (`rnnc.target.checks.check_machine`: geometry,
each unit's configuration against the architecture, PMU bytes from the boxes, every value
carried by a route, the schedule, the control streams) are written once, over the fields a
design's parts have: a unit's `id`, `kind`, `site` and its kind's configuration, a
stream's `id`, `network`, `source`/`sinks` (`unit`, `port`) and `paths`, the design's
`precision`, `memories`, `schedule`, `controller` and `control` streams. Two sides give
those fields: the configuration model (`rnnc.target.machine.Machine`, which the loader
rebuilds from config.json for `rnnc sim`), and this module, which wraps the ops of a
design in the IR (`design_view`) for `spatial-verify`: no pass converts the IR into the
configuration model to check it. Operand references keep the contract's spelling
(`ctr:<name>`, `in:<port>[.<field>]`, `%<n>` for the unit's op number n), computed from the
SSA values of a PCU's body. `rnnc.target.machine.machine_from_module` builds the emitter's
`Machine` from this view, so the IR is read in this one place.
"""

from __future__ import annotations

from typing import Any

from rnnc.dialects.spatial import (
    AGOp,
    BoxAttr,
    ControllerOp,
    CounterValueOp,
    DesignOp,
    EmitOp,
    HoldingAttr,
    InputOp,
    MemoryOp,
    Network,
    PCUOp,
    PMUOp,
    ReduceOp,
    SegmentOp,
    StageOp,
    StreamOp,
    TableAttr,
    UnitOp,
    count_elements,
)
from xdsl.ir import SSAValue

Site = tuple[int, int]


class BoxView:
    """Elements `memory[slices]` a PMU holds or an AG moves (`#spatial.box`)."""

    __slots__ = ("memory", "per_step", "slices")

    def __init__(self, attr: BoxAttr):
        self.memory: str = attr.memory.data
        self.slices = attr.slice_values
        self.per_step = bool(attr.per_step.data)

    @property
    def elements(self) -> int:
        return count_elements(self.slices)

    def _key(self) -> tuple[str, Any, bool]:
        return self.memory, self.slices, self.per_step

    # equal by value, as the configuration model's boxes: a FIFO PMU's rows that a load AG
    # names are told apart by equality (`rnnc.target.stream_buffers`)
    def __eq__(self, other: object) -> bool:
        return isinstance(other, BoxView) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


class HoldingView:
    """A PMU's initial contents by reference (`#spatial.holding`)."""

    __slots__ = ("array", "quantization", "slices")

    def __init__(self, attr: HoldingAttr):
        self.array: str = attr.array.data
        self.slices = attr.slice_values
        self.quantization: str = attr.quantization.data


def table_text(table: TableAttr) -> str:
    """A lookup table in the configuration's spelling, `fn:entries:range:interp`."""
    return (f"{table.function.data}:{table.entries.data}:{table.range.value.data:g}:"
            f"{table.interp.data}")


class CounterView:
    __slots__ = ("name", "start", "stop", "stride")

    def __init__(self, name: str, start: int, stop: int, stride: int):
        self.name, self.start, self.stop, self.stride = name, start, stop, stride


class OpView:
    """A `spatial.op`: its stage, opcode, operand references and plain parameters."""

    __slots__ = ("args", "op", "params", "stage")

    def __init__(self, stage: int, op: str, args: tuple[str, ...], params: dict[str, Any]):
        self.stage, self.op, self.args = stage, op, args
        self.params = tuple(sorted(params.items()))

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)


class EmitView:
    __slots__ = ("port", "values")

    def __init__(self, port: str, values: tuple[str, ...]):
        self.port, self.values = port, values


class SegmentView:
    __slots__ = ("base", "reduction", "start", "stop", "value")

    def __init__(self, op: SegmentOp, value: str):
        self.reduction: str = op.reduction.data
        self.start: int = op.start.data
        self.stop: int = op.stop.data
        self.value, self.base = value, op.base.data


class ReduceView:
    __slots__ = ("combiner", "inputs", "output", "rv", "segments")

    def __init__(self, op: ReduceOp, inputs: tuple[str, ...],
                 segments: tuple[SegmentView, ...]):
        self.combiner: str = op.combiner.data
        self.output = op.output.port_name
        self.segments, self.inputs, self.rv = segments, inputs, op.rv.data


class _UnitView:
    __slots__ = ("id", "op", "site")
    kind: str

    def __init__(self, op: UnitOp):
        self.op = op
        self.id = op.unit_id
        self.site = op.site_value


class PCUView(_UnitView):
    """A PCU: its typed configuration, and its body as ops with operand references."""

    __slots__ = ("copies", "counters", "emits", "lanes", "mode", "nest", "ops", "reduce",
                 "role")
    kind = "pcu"

    def __init__(self, op: PCUOp):
        super().__init__(op)
        self.nest: str = op.nest.data
        self.role: str = op.role.data.value
        self.mode: str = op.mode.data.value
        self.lanes: int = op.lanes.data
        self.counters = tuple(CounterView(c.counter.data, c.start.data, c.stop.data,
                                          c.stride.data) for c in op.counters.data)
        self.copies = tuple(int(v) for v in op.copies.get_values())
        self._read_body(op)

    def _read_body(self, unit: PCUOp) -> None:
        refs: dict[SSAValue, str] = {}
        ops: list[OpView] = []
        emits: list[EmitView] = []
        segments: list[SegmentView] = []
        fold: ReduceOp | None = None
        for op in unit.body.block.ops:
            if isinstance(op, CounterValueOp):
                refs[op.result] = f"ctr:{op.counter.data}"
            elif isinstance(op, InputOp):
                field = "" if op.field is None else f".{op.field.data}"
                refs[op.result] = f"in:{','.join(op.port_names)}{field}"
            elif isinstance(op, StageOp):
                refs[op.result] = f"%{len(ops)}"
                ops.append(OpView(op.stage.data, op.opcode.data,
                                  tuple(refs[a] for a in op.args), op.param_values()))
            elif isinstance(op, EmitOp):
                emits.append(EmitView(op.port.port_name, tuple(refs[v] for v in op.values)))
            elif isinstance(op, ReduceOp):
                fold = op
            elif isinstance(op, SegmentOp):
                segments.append(SegmentView(op, "" if op.value is None else refs[op.value]))
        self.ops, self.emits = tuple(ops), tuple(emits)
        self.reduce = None if fold is None else ReduceView(
            fold, tuple(refs[v] for v in fold.inputs), tuple(segments))


class PMUView(_UnitView):
    __slots__ = ("banking", "boxes", "buffers", "bytes", "holds", "lut", "role")
    kind = "pmu"

    def __init__(self, op: PMUOp):
        super().__init__(op)
        self.boxes = tuple(BoxView(box) for box in op.boxes.data)
        self.buffers: int = op.buffers.data
        self.bytes: int = op.bytes.data
        self.banking: str = op.banking.data.value
        self.role: str = op.role.data.value
        self.holds = tuple(HoldingView(h) for h in op.holds.data)
        self.lut = ",".join(table_text(table) for table in op.lut.data)

    @property
    def memories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(box.memory for box in self.boxes))


class AGView(_UnitView):
    __slots__ = ("boxes", "direction", "edge", "memory")
    kind = "ag"

    def __init__(self, op: AGOp):
        super().__init__(op)
        self.edge: str = op.edge.data.value
        self.direction: str = op.direction.data.value
        self.memory: str = op.memory.data
        self.boxes = tuple(BoxView(box) for box in op.boxes.data)


UnitView = PCUView | PMUView | AGView


def unit_view(op: UnitOp) -> UnitView:
    if isinstance(op, PCUOp):
        return PCUView(op)
    if isinstance(op, PMUOp):
        return PMUView(op)
    assert isinstance(op, AGOp)
    return AGView(op)


class EndpointView:
    __slots__ = ("port", "unit")

    def __init__(self, unit: str, port: str):
        self.unit, self.port = unit, port


class StreamView:
    __slots__ = ("id", "network", "paths", "sinks", "source")

    def __init__(self, op: StreamOp):
        self.id = op.stream_id
        self.network: str = op.network.data.value
        self.source = EndpointView(*op.source_endpoint)
        self.sinks = tuple(EndpointView(unit, port) for unit, port in op.sink_endpoints)
        paths = op.path_sites
        self.paths: tuple[tuple[Site, ...], ...] | None = (
            None if paths is None else tuple(tuple(path) for path in paths))


class ControllerView:
    __slots__ = ("id", "site")

    def __init__(self, op: ControllerOp):
        self.id, self.site = op.controller_id, op.site_value


class MemoryView:
    __slots__ = ("buffers", "element_bytes", "init", "name", "shape", "space")

    def __init__(self, op: MemoryOp):
        self.name: str = op.memory.data
        self.shape = tuple(int(v) for v in op.shape.get_values())
        self.element_bytes: int = op.element_bytes.data
        self.buffers: int = op.buffers.data
        self.space: str = op.space.data.value
        self.init = op.init_text


class PhaseView:
    __slots__ = ("kind", "nests", "posted", "steps", "swap")

    def __init__(self, kind: str, steps: int, nests: tuple[str, ...],
                 posted: tuple[str, ...] | None, swap: str | None):
        self.kind, self.steps, self.nests, self.posted = kind, steps, nests, posted
        self.swap = swap


class DesignView:
    """A design as the contract's rules read it (see the module doc)."""

    def __init__(self, design: DesignOp):
        self.name = design.function.data
        self.precision = design.precision.data
        self.units: tuple[UnitView, ...] = tuple(unit_view(unit) for unit in design.units())
        streams = [StreamView(s) for s in design.streams()]
        self.streams = tuple(s for s in streams if s.network != Network.CONTROL)
        self.control = tuple(s for s in streams if s.network == Network.CONTROL)
        controller = design.controller()
        self.controller = None if controller is None else ControllerView(controller)
        self.memories = tuple(MemoryView(m) for m in design.memories())
        self.schedule = tuple(PhaseView(p.kind.data.value, p.steps.data, p.nest_ids,
                                        p.posted_units, p.swap_stream)
                              for p in design.phases())


def design_view(design: DesignOp) -> DesignView:
    """The contract's view of `design` (see the module doc)."""
    return DesignView(design)


__all__ = ["DesignView", "design_view", "table_text", "unit_view"]
