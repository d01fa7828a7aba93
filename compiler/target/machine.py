"""The machine description: a spatial design as plain, immutable Python data.

This is the configuration's model. `spatial-partition` builds a design's ops (the
`spatial` dialect, from its records of units and streams, `rnnc.target.design_ops`);
placement and routing fill in their sites and paths; the configuration emitter reads the
finished design into a `Machine` (`machine_from_module`, the one direction: nothing turns
a `Machine` back into IR) and serializes it (`to_data`), and the simulator rebuilds one
from that data alone (`from_data`).
Everything here is JSON-able data: ints, strings, tuples -- never floats of weights, which
are referenced by array name and slice.

What a machine computes (the value semantics `rnnc.interpreters.spatial_values` implements):

* `memories` are the loop program's memories. Each is implemented by the PMUs whose
  `boxes` name it (each box a part of it, held in `buffers` copies) or, for
  off-chip memories, lives in DRAM behind address generators (AGs).
* `schedule` runs `nests` in order: `once` phases run each nest once, a `loop` phase runs
  its nests in order for `steps` time steps (counter `t`).
* A nest is an iteration space (`extents`, counters `d0, d1, ...`) split over `par` copies
  per dimension (copy numbers row-major over `par`); its PCUs work in roles: `map_reduce`
  units evaluate their `ops` per index `k` of a reduction range and fold them (`Reduce`;
  a segment with start == stop and no value folds to the combiner's identity, so a unit
  always sends one value per reduction of its slot), `combine` units add the partial sums
  that arrive on their scalar ports (`add` ops in a tree), `elementwise` units evaluate
  their `ops` once per iteration of their counter chain, one copy per lane (`copies`),
  `gather` units merge the streams on their inputs into one (writes of several units to a
  memory that other units read). A unit's `read` op names the memory, the input port(s)
  the value arrives on (from the PMU or AG serving it; `vi0,vi2` when a weight slice is
  split over two PMUs by rows) and the index; a `write` op the output port and the index.
  `Emit`s send op results on output ports to other PCUs.

Operand references inside a unit (`Op.args`, `Emit.values`, `Segment.value`):
`ctr:<name>` a counter value, `in:<port>` the value arriving on an input port,
`%<n>` the result of the unit's op number n; `in:<port>.<field>` selects one value of a
stream that carries several per iteration.

Ports are named by network, direction and index: `si0` (scalar in 0), `so1`, `vi0`
(vector in 0), `vo0`, `ci0` (control), `co0`.

Control (`controller`, `control`): the schedule's sequential controller is not a unit but
the control block of one switch of the mesh (ISCA'17 §3.5 maps outer controllers onto
switch control blocks), placed like a unit (`Controller.site`, a switch). Every unit the
schedule fires (`fired_units`) sends its done token of each nest it serves over its own
`done` stream (its `co0` to a `ci<k>` of the controller), and the controller broadcasts
each nest's enable over one `enable` stream (its `co0` to every fired unit's `ci0`). The
control streams are kept apart from the data `streams` (`control`); config.json lists
both among its routes.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Union

from rnnc.dialects.spatial import (
    PORT_PREFIX,
    BindingDirection,
    BindOp,
    DesignOp,
    PMUKind,
    count_elements,
    design_of,
    parse_port,
)
from rnnc.target.design_view import (
    AGView,
    BoxView,
    PMUView,
    StreamView,
    UnitView,
    design_view,
)
from xdsl.dialects.builtin import DenseArrayBase, ModuleOp

Site = tuple[int, int]


def port_name(network: str, direction: str, index: int) -> str:
    """`vi0`, `so2`, ...: network initial, `i`/`o`, index."""
    return f"{PORT_PREFIX[network]}{'i' if direction == 'in' else 'o'}{index}"


# ----------------------------------------------------------------------------------------
# Units
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counter:
    """One counter of a unit's chain: start, start + stride, ... below stop."""

    name: str
    start: int
    stop: int
    stride: int = 1

    @property
    def trips(self) -> int:
        return max(0, -(-(self.stop - self.start) // self.stride))


@dataclass(frozen=True)
class Op:
    """One operation of a PCU's datapath and the pipeline stage it occupies.

    `op` is an element-wise op (`add`, `sub`, `mul`, `max`, `min`, `select`, the ONNX
    activations `sigmoid`, `tanh`, ..., with `alpha`/`beta` in `params`), index arithmetic
    (`addi`, `subi`, `cmpi` with `predicate`, `select`, `index_cast`), `const` (`value` in
    params), `read` (attrs: memory, port, offsets, buffer_offset; args: one index per
    dimension, then the buffer selector if any) or `write` (args: value, indices, selector).
    A `lut` attr names the PMU holding the lookup table of an activation."""

    stage: int
    op: str
    args: tuple[str, ...] = ()
    params: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", tuple(sorted(self.params)))

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)


@dataclass(frozen=True)
class Emit:
    """An output port and the values (op results) it sends per iteration."""

    port: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Segment:
    """A range [start, stop) of a reduction's index k and the per-k value folded over it;
    the counter `ctr:k` of the unit's ops is k - base (the loop segment's own index)."""

    reduction: str
    start: int
    stop: int
    value: str
    base: int = 0


@dataclass(frozen=True)
class Reduce:
    """What a map-reduce or combining PCU folds: `combiner` over its `segments` (map-reduce)
    or over the values arriving on `inputs` (combine); the result leaves on `output`."""

    combiner: str
    output: str
    segments: tuple[Segment, ...] = ()
    inputs: tuple[str, ...] = ()
    rv: int = 1
    """Lanes x packing of the map-reduce: reduction indices consumed per cycle."""


@dataclass(frozen=True)
class PCU:
    """A pattern compute unit."""

    id: str
    nest: str
    role: str
    mode: str
    lanes: int
    """Lanes in use."""
    counters: tuple[Counter, ...]
    ops: tuple[Op, ...] = ()
    reduce: Reduce | None = None
    emits: tuple[Emit, ...] = ()
    copies: tuple[int, ...] = ()
    """The nest's copies (row-major over its `par` grid) this unit serves, one per lane
    for an element-wise unit; its counters are those of the first."""
    site: Site | None = None
    kind: str = "pcu"

    @property
    def stages(self) -> int:
        """Pipeline stages configured: the highest stage any op occupies, plus one."""
        return 1 + max((op.stage for op in self.ops), default=-1)


@dataclass(frozen=True)
class Box:
    """Elements `memory[start:stop:step, ...]` (one (start, stop, step) per dimension).
    `per_step`: dimensions indexed by the time step hold only the current step's slice
    (a memory staged from DRAM step by step)."""

    memory: str
    slices: tuple[tuple[int, int, int], ...]
    per_step: bool = False

    @property
    def elements(self) -> int:
        return count_elements(self.slices)


@dataclass(frozen=True)
class Holding:
    """Initial contents by reference: `array[slices]` of the weight file (or of a model
    input bound on chip), stored in `quantization` (an ml_dtypes float8 name, or `fp32`)."""

    array: str
    slices: tuple[tuple[int, int, int], ...]
    quantization: str


@dataclass(frozen=True)
class PMU:
    """A pattern memory unit holding `boxes` of the program's memories, in `buffers`
    copies (N-buffering), `bytes` in all; `holds` gives the initial contents of boxes of
    weight memories by reference, `lut` the activation tables it holds
    (`fn:entries:range:interp`, several joined by `,`). `role`: what it holds, as the
    partition decided (a `PMUKind` value: weights, lookup-table, input, operand, ahead,
    state, buffer). `banking`: `strided` (an address
    per lane, one word per bank), `fifo` (a stream buffer, e.g. weights from DRAM),
    `duplicated`. `pattern` describes its read addressing in words, for people
    (`address_pattern` derives it from the banking and boxes; the IR does not store it)."""

    id: str
    boxes: tuple[Box, ...]
    buffers: int
    bytes: int
    banking: str
    role: str
    pattern: str = ""
    holds: tuple[Holding, ...] = ()
    lut: str = ""
    site: Site | None = None
    kind: str = "pmu"

    @property
    def memories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(box.memory for box in self.boxes))


@dataclass(frozen=True)
class AG:
    """A DRAM address generator on the chip's `edge`: `load`s memory `memory` (an input
    tensor, or weights streamed from DRAM) or `store`s into it (an output)."""

    id: str
    edge: str
    direction: str
    memory: str
    boxes: tuple[Box, ...] = ()
    """What it moves when not the whole memory (weight slices streamed from DRAM)."""
    site: Site | None = None
    kind: str = "ag"


Unit = Union[PCU, PMU, AG]  # noqa: UP007 -- typing.get_type_hints reads it at run time


# ----------------------------------------------------------------------------------------
# Streams, program structure, the machine
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    unit: str
    port: str


@dataclass(frozen=True)
class Stream:
    """One producer port to one or more consumer ports on a network; `paths` (set by the
    router) gives, per sink, the switch coordinates [row, col] the stream crosses."""

    id: str
    network: str
    source: Endpoint
    sinks: tuple[Endpoint, ...]
    paths: tuple[tuple[Site, ...], ...] | None = None


@dataclass(frozen=True)
class Memory:
    """A memory of the loop program: shape, element bytes, copies, space (`sram`, `dram`,
    `reg`) and how it starts: `weight:<array>`, `input:<name>`, `zero` (every buffer: the
    memory units' initial contents, loaded with the configuration), or `undefined`."""

    name: str
    shape: tuple[int, ...]
    element_bytes: int
    buffers: int
    space: str
    init: str = "undefined"


@dataclass(frozen=True)
class Nest:
    """A loop nest: `extents` split over `par` copies per dimension (counters d0, d1, ...)."""

    id: str
    extents: tuple[int, ...]
    par: tuple[int, ...]


@dataclass(frozen=True)
class Phase:
    """`once`: run `nests` once each; `loop`: run them in order for `steps` steps."""

    kind: str
    steps: int
    nests: tuple[str, ...]
    posted: tuple[str, ...] | None = None
    """A loop's posted writes: units (store AGs, PMUs that no unit reads during the loop)
    whose done tokens a step does not wait for; the loop's end waits for them."""
    swap: str | None = None
    """A loop whose steps after the first start on a token from its state buffer's swap:
    the id of the control stream that carries it (`rnnc.target.swap_start`)."""


@dataclass(frozen=True)
class Binding:
    """A model input or output by name, shape and dtype, and the memory it lives in."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    memory: str


@dataclass(frozen=True)
class DesignPoint:
    """The factors a nest was partitioned with (par of its foreach, ru/rv of its reduces)."""

    nest: str
    hu: int
    ru: int
    rv: int


@dataclass(frozen=True)
class Controller:
    """The schedule's sequential controller: the control block of the switch `site` (row,
    col of the `(rows+1) x (cols+1)` switch mesh, set by the placer), named `id` by the
    control streams that start and end at it."""

    id: str
    site: Site | None = None


@dataclass(frozen=True)
class Machine:
    """A spatial design: the name and digest of its architecture, precision, units, streams
    and program structure; its controller and control streams (see the module doc)."""

    name: str
    arch: str
    arch_digest: str
    precision: str
    design: tuple[DesignPoint, ...]
    memories: tuple[Memory, ...]
    inputs: tuple[Binding, ...]
    outputs: tuple[Binding, ...]
    schedule: tuple[Phase, ...]
    nests: tuple[Nest, ...]
    units: tuple[Unit, ...]
    streams: tuple[Stream, ...]
    controller: Controller | None = None
    control: tuple[Stream, ...] = ()

    def unit(self, unit_id: str) -> Unit:
        return _index(self.units)[unit_id]

    def memory(self, name: str) -> Memory:
        return _index(self.memories, "name")[name]

    def of_kind(self, kind: str) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if u.kind == kind)


def fired_units(units: Sequence[Unit]) -> tuple[Unit, ...]:
    """The units the schedule fires, each of which takes the enable and sends done tokens:
    every unit but the lookup-table PMUs, which answer their PCU's lookups inside its
    pipeline and never start on an enable of their own."""
    return tuple(u for u in units if not (u.kind == "pmu" and u.role == PMUKind.LOOKUP_TABLE))


#: The ports of a unit's control streams: the enable arrives on `ci0`, done leaves `co0`.
ENABLE_PORT, DONE_PORT = "ci0", "co0"
#: The controller's name in the design (a symbol beside the units').
CONTROLLER = "ctrl"


@dataclass(frozen=True)
class ControlPaths:
    """What a machine's routed control streams give each unit: the switches its branch of
    the enable tree crosses from the controller (`enable`), and the switches its done
    token crosses to the controller (`done`)."""

    enable: dict[str, int]
    done: dict[str, tuple[Site, ...]]


#: A routed stream as the computations both sides of the config.json boundary share see
#: it (the IR's `spatial.stream` and the config model's `Stream` each give it): its id,
#: source unit, sink units and, once routed, a path of switches per sink.
RoutedStream = tuple[str, str, tuple[str, ...], tuple[tuple[Site, ...], ...] | None]


def control_paths(machine: Machine) -> ControlPaths:
    """The control paths of every unit the machine's control streams reach; ValueError on a
    control stream that is not routed."""
    controller = machine.controller.id if machine.controller is not None else None
    return control_paths_of(controller, [
        (s.id, s.source.unit, tuple(sink.unit for sink in s.sinks), s.paths)
        for s in machine.control])


def control_paths_of(controller: str | None, streams: Sequence[RoutedStream]) -> ControlPaths:
    """The control paths the control `streams` (`RoutedStream`s) give each unit they reach,
    with `controller` the name they start and end at; ValueError on a stream not routed."""
    enable: dict[str, int] = {}
    done: dict[str, tuple[Site, ...]] = {}
    for stream_id, source, sinks, paths in streams:
        if paths is None:
            raise ValueError(f"control stream {stream_id} is not routed")
        for sink, path in zip(sinks, paths, strict=True):
            if source == controller:
                enable[sink] = len(path)  # a hop per switch crossed
            elif sink == controller:
                done[source] = path
    return ControlPaths(enable, done)


@cache
def _index(items: tuple, key: str = "id") -> dict[str, Any]:
    return {getattr(item, key): item for item in items}


# ----------------------------------------------------------------------------------------
# Plain data (JSON-able dicts and lists) in both directions
# ----------------------------------------------------------------------------------------


def to_data(value: Any) -> Any:
    """The machine (or any part of it) as dicts, lists, ints, floats and strings. Optional
    fields that are None are left out; `kind` tags each unit."""
    if isinstance(value, int | float | str):  # most of what it visits: as they are
        return value
    names = _field_names(type(value))
    if names is not None:
        data = {}
        for name in names:
            item = getattr(value, name)
            if item is None:
                continue
            if name == "params":
                data[name] = {k: to_data(v) for k, v in item}
            else:
                data[name] = to_data(item)
        return data
    if isinstance(value, tuple | list):
        return [to_data(v) for v in value]
    return value


@cache
def _field_names(cls: type) -> tuple[str, ...] | None:
    """A dataclass's field names in order (None for any other type): looked up once per
    class, since `to_data` visits every op of every unit."""
    if not dataclasses.is_dataclass(cls):
        return None
    return tuple(f.name for f in dataclasses.fields(cls))


def from_data(cls: type, data: Any) -> Any:
    """Rebuild a `cls` (e.g. `Machine`) from `to_data`'s output. Raises ValueError naming
    the field on a malformed input."""
    return _build(cls, data, cls.__name__)


def _build(hint: Any, data: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if hint is Any:
        return _freeze(data)
    if origin in (Union, types.UnionType):
        options = typing.get_args(hint)
        if data is None and type(None) in options:
            return None
        if hint == Unit or set(options) >= {PCU, PMU, AG}:
            kind = data.get("kind") if isinstance(data, dict) else None
            classes = {"pcu": PCU, "pmu": PMU, "ag": AG}
            if kind not in classes:
                raise ValueError(f"{where}: expected a unit with kind pcu, pmu or ag")
            return _build(classes[kind], data, where)
        for option in options:
            if option is not type(None):
                return _build(option, data, where)
    if dataclasses.is_dataclass(hint):
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object")
        fields, known = _fields(hint)
        if not data.keys() <= known:
            raise ValueError(f"{where}: unknown field '{sorted(data.keys() - known)[0]}'")
        values = {}
        for name, field_hint, required in fields:
            if name not in data:
                if required:
                    raise ValueError(f"{where}: missing field '{name}'")
                continue
            item = data[name]
            if name == "params":
                if not isinstance(item, dict):
                    raise ValueError(f"{where}.{name}: expected an object")
                values[name] = tuple((k, _freeze(v)) for k, v in item.items())
            else:
                values[name] = _build(field_hint, item, f"{where}.{name}")
        return hint(**values)
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(data, list | tuple):
            raise ValueError(f"{where}: expected a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], v, f"{where}[{i}]") for i, v in enumerate(data))
        if len(args) != len(data):
            raise ValueError(f"{where}: expected {len(args)} items, got {len(data)}")
        pairs = enumerate(zip(args, data, strict=True))
        return tuple(_build(a, v, f"{where}[{i}]") for i, (a, v) in pairs)
    if hint in (int, str, bool, float):
        ok = isinstance(data, hint) and not (hint is int and isinstance(data, bool))
        if hint is float and isinstance(data, int) and not isinstance(data, bool):
            return float(data)
        if not ok:
            raise ValueError(f"{where}: expected {hint.__name__}, got {data!r}")
        return data
    raise ValueError(f"{where}: cannot read type {hint}")


@cache
def _fields(cls: type) -> tuple[tuple[tuple[str, Any, bool], ...], frozenset[str]]:
    """A dataclass's fields as (name, resolved type hint, required), and their names:
    resolving the hints is costly, and a large design rebuilds thousands of units."""
    hints = typing.get_type_hints(cls)
    fields = tuple(
        (f.name, hints[f.name], f.default is dataclasses.MISSING) for f in dataclasses.fields(cls)
    )
    return fields, frozenset(name for name, _, _ in fields)


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


# ----------------------------------------------------------------------------------------
# The IR form: a spatial.design
# ----------------------------------------------------------------------------------------

def machine_from_module(module: ModuleOp | DesignOp) -> Machine:
    """The machine a module's `spatial.design` describes (built for the configuration
    emitter from the design's view, `rnnc.target.design_view`, the one reading of the IR).
    Raises ValueError when there is none."""
    design = module if isinstance(module, DesignOp) else design_of(module)
    if design is None:
        raise ValueError("no spatial.design in the module")
    view = design_view(design)
    return Machine(
        name=view.name,
        arch=design.arch.arch_name.data,
        arch_digest=design.arch.digest.data,
        precision=view.precision,
        units=tuple(_unit(unit) for unit in view.units),
        streams=tuple(_stream(s) for s in view.streams),
        controller=None if view.controller is None else Controller(view.controller.id,
                                                                   view.controller.site),
        control=tuple(_stream(s) for s in view.control),
        memories=tuple(Memory(m.name, m.shape, m.element_bytes, m.buffers, m.space, m.init)
                       for m in view.memories),
        schedule=tuple(Phase(p.kind, p.steps, p.nests, p.posted, p.swap) for p in view.schedule),
        **_structure(design),
    )


def _structure(design: DesignOp) -> dict[str, Any]:
    """The program fields the contract's view leaves out: bindings, nests, design points."""

    def binding(op: BindOp) -> Binding:
        memory = "" if op.memory is None else op.memory.data
        return Binding(op.binding.data, _ints(op.shape), op.dtype.data, memory)

    return {
        "design": tuple(DesignPoint(p.nest.data, p.hu.data, p.ru.data, p.rv.data)
                        for p in design.points()),
        "inputs": tuple(binding(op) for op in design.bindings(BindingDirection.INPUT)),
        "outputs": tuple(binding(op) for op in design.bindings(BindingDirection.OUTPUT)),
        "nests": tuple(Nest(n.nest.data, _ints(n.extents), _ints(n.par))
                       for n in design.nests()),
    }


def _ints(attr: DenseArrayBase) -> tuple[int, ...]:
    return tuple(int(v) for v in attr.get_values())


def _box(view: BoxView) -> Box:
    return Box(view.memory, view.slices, view.per_step)


def _unit(view: UnitView) -> Unit:
    """The configuration model of a unit's view."""
    if isinstance(view, PMUView):
        boxes = tuple(_box(box) for box in view.boxes)
        return PMU(
            id=view.id,
            boxes=boxes,
            buffers=view.buffers,
            bytes=view.bytes,
            banking=view.banking,
            role=view.role,
            pattern=address_pattern(view.banking, bool(view.lut), boxes),
            holds=tuple(Holding(h.array, h.slices, h.quantization) for h in view.holds),
            lut=view.lut,
            site=view.site,
        )
    if isinstance(view, AGView):
        return AG(id=view.id, edge=view.edge, direction=view.direction, memory=view.memory,
                  boxes=tuple(_box(box) for box in view.boxes), site=view.site)
    fold = view.reduce
    reduce = None if fold is None else Reduce(
        fold.combiner, fold.output,
        tuple(Segment(s.reduction, s.start, s.stop, s.value, s.base) for s in fold.segments),
        fold.inputs, fold.rv)
    return PCU(
        id=view.id,
        nest=view.nest,
        role=view.role,
        mode=view.mode,
        lanes=view.lanes,
        counters=tuple(Counter(c.name, c.start, c.stop, c.stride) for c in view.counters),
        ops=tuple(Op(op.stage, op.op, op.args, tuple((k, _freeze(v)) for k, v in op.params))
                  for op in view.ops),
        reduce=reduce,
        emits=tuple(Emit(e.port, e.values) for e in view.emits),
        copies=view.copies,
        site=view.site,
    )


def _stream(view: StreamView) -> Stream:
    return Stream(
        id=view.id,
        network=view.network,
        source=Endpoint(view.source.unit, view.source.port),
        sinks=tuple(Endpoint(s.unit, s.port) for s in view.sinks),
        paths=view.paths,
    )


def address_pattern(banking: str, tables: bool, boxes: Sequence[Box]) -> str:
    """A PMU's read addressing in words, as the configuration's `pattern` gives it (for
    people): derived from its banking and boxes (what the IR types), never stored."""
    if tables:
        return "table lookup"
    if banking == "fifo":
        return "fifo: one rv-word row per cycle, refilled from DRAM every step"
    return "strided: " + "; ".join(
        f"{b.memory}[" + ", ".join(f"{a}:{z}:{s}" for a, z, s in b.slices) + "]" for b in boxes
    )


def lut_tables(lut: str) -> list[str]:
    """The tables of a PMU's `lut`: split at the commas outside a table's parameters
    (`hard_sigmoid(alpha=0.2,beta=0.5):1024:8:linear,tanh:1024:8:linear`)."""
    if not lut:
        return []
    tables, depth, start = [], 0, 0
    for k, char in enumerate(lut):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            tables.append(lut[start:k])
            start = k + 1
    return [*tables, lut[start:]]


__all__ = [
    "AG",
    "CONTROLLER",
    "DONE_PORT",
    "ENABLE_PORT",
    "PCU",
    "PMU",
    "Binding",
    "Box",
    "ControlPaths",
    "Controller",
    "Counter",
    "DesignPoint",
    "Emit",
    "Endpoint",
    "Holding",
    "Machine",
    "Memory",
    "Nest",
    "Op",
    "Phase",
    "Reduce",
    "Segment",
    "Stream",
    "Unit",
    "control_paths",
    "control_paths_of",
    "fired_units",
    "from_data",
    "machine_from_module",
    "parse_port",
    "port_name",
    "to_data",
]
