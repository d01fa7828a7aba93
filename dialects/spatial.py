"""The `spatial` dialect: units on the chip's grid and the streams between them.

Modelled on mlir-aie's tiles and flows and on Plasticine's units. A `spatial.design` holds
one design for one architecture: compute units (`spatial.pcu`), memory units
(`spatial.pmu`), DRAM address generators on the grid's left and right edges
(`spatial.ag`), streams (`spatial.stream`) from one producer port to one or more
consumer ports on the scalar, vector or control network, and the schedule's controller
(`spatial.controller`, a switch's control block that control streams start and end at).
What it runs that is not a unit, its program, heads its body as ops too: the loop
program's memories (`spatial.memory`), the model's inputs and outputs (`spatial.bind`),
the nests (`spatial.nest`), the design point of each (`spatial.point`) and the schedule's
phases (`spatial.phase`).

A unit is logical (no site), partly pinned or placed: its optional `at (row, col)` is the
site the placer gives it (an AG sits at column -1 on the left edge or `cols` on the
right). A stream's optional `paths` (set by the router) lists, per sink, the switch
coordinates `(row, col)` it crosses on the `(rows+1) x (cols+1)` corner mesh.

Networks, unit kinds, PCU roles and modes, PMU kinds, banking and AG edges and directions
are enums defined here once (with enum attributes). Every unit's configuration is typed:
a PMU's kind, banking, bytes and buffers, lookup tables (`#spatial.table`), the boxes of
memories it holds
(`#spatial.box`) and their initial contents by reference to a weight array and slice,
never inline values (`#spatial.holding`); an AG's edge, direction, memory and boxes; a
PCU's role, mode, nest, lanes, counter chain (`#spatial.counter`) and copies. A PCU's
program is its body: ops over values (`!spatial.word`) that read its counters
(`spatial.ctr`) and input ports (`spatial.in`), compute at a pipeline stage
(`spatial.op`, its parameters typed properties: a read's memory, port and offsets, an
activation's table, ...), send on output ports (`spatial.emit`) and fold a reduction
(`spatial.reduce` and its `spatial.segment`s). Why a body of ops rather than a list of op
records: an operand is then a value the IR checks (defined before its use, in the same
unit) instead of a string to parse, and passes walk and rewrite a unit's ops like any
other. `rnnc.target.machine` is the plain-data form of a design (the configuration's
model): `machine_from_module` reads a design into it; `rnnc.target.design_ops` builds
the ops of the partition's units and streams.

The design names its architecture (`#spatial.arch<"name", "digest">`) and copies none of
it: the op verifiers check what needs no architecture (enums, port names and directions,
stream networks, one stream per port, ranges of boxes and counters, operands defined
earlier in their unit, one reduction per PCU), and
`rnnc.target.design_checks.verify_design` checks the rest (sites, lanes, stages, ports per
unit kind, PMU capacity) against the architecture the driver's context holds. Ports are
typed (`#spatial.port<vector, in, 0>`), written short by network, direction and index:
`si0`, `so1` (scalar), `vi0`, `vo0` (vector), `ci0`, `co0` (control).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, ClassVar

from rnnc.dialects.loop import MemorySpace, MemorySpaceAttr
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    FloatAttr,
    IntAttr,
    IntegerAttr,
    IntegerType,
    StringAttr,
    SymbolRefAttr,
    f64,
    i64,
)
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import (
    Attribute,
    Block,
    Dialect,
    Operation,
    ParametrizedAttribute,
    Region,
    SpacedOpaqueSyntaxAttribute,
    SSAValue,
    TypeAttribute,
)
from xdsl.irdl import (
    IRDLOperation,
    irdl_attr_definition,
    irdl_op_definition,
    lazy_traits_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import AttrParser, Parser
from xdsl.printer import Printer
from xdsl.traits import HasParent, NoTerminator, SymbolOpInterface, SymbolTable
from xdsl.utils.exceptions import VerifyException

# ---- enumerations, each defined once (as StrEnums, their members compare equal to their
# values, so plain data such as a config's "vector" looks them up directly) -----------------


class Network(StrEnum):
    """The chip's three networks, in the order figures and tables list them."""

    SCALAR = "scalar"
    VECTOR = "vector"
    CONTROL = "control"


class UnitKind(StrEnum):
    """What a unit is: a compute unit, a memory unit, a DRAM address generator."""

    PCU = "pcu"
    PMU = "pmu"
    AG = "ag"


class PortDirection(StrEnum):
    IN = "in"
    OUT = "out"


class PCURole(StrEnum):
    """What a PCU does in its nest (see `rnnc.target.machine`)."""

    MAP_REDUCE = "map_reduce"
    COMBINE = "combine"
    ELEMENTWISE = "elementwise"
    GATHER = "gather"


class PCUMode(StrEnum):
    """How a PCU's pipeline runs: folding a reduction, or once per iteration."""

    MAP_REDUCE = "map_reduce"
    ELEMENTWISE = "elementwise"


class PMUKind(StrEnum):
    """What a PMU holds, as the partition decided: weights (from the weight file), lookup
    tables, a model input (or, several memories, the operand vector of a reduction), the
    recurrent state (N-buffered) or an intermediate buffer."""

    WEIGHTS = "weights"
    LOOKUP_TABLE = "lookup-table"
    INPUT = "input"
    OPERAND = "operand"
    AHEAD = "ahead"
    """x(t + 1), read by map-reduce units folding the input projection a step ahead."""
    STATE = "state"
    BUFFER = "buffer"


class Banking(StrEnum):
    """How a PMU's banks serve reads: an address per lane, a stream buffer, copies."""

    STRIDED = "strided"
    FIFO = "fifo"
    DUPLICATED = "duplicated"


class Interpolation(StrEnum):
    """How a lookup table is read between its entries."""

    NEAREST = "nearest"
    LINEAR = "linear"


class AGEdge(StrEnum):
    LEFT = "left"
    RIGHT = "right"


class AGDirection(StrEnum):
    LOAD = "load"
    STORE = "store"


@irdl_attr_definition
class NetworkAttr(EnumAttribute[Network], SpacedOpaqueSyntaxAttribute):
    name = "spatial.network"


@irdl_attr_definition
class PCURoleAttr(EnumAttribute[PCURole], SpacedOpaqueSyntaxAttribute):
    name = "spatial.role"


@irdl_attr_definition
class PCUModeAttr(EnumAttribute[PCUMode], SpacedOpaqueSyntaxAttribute):
    name = "spatial.mode"


@irdl_attr_definition
class PMUKindAttr(EnumAttribute[PMUKind], SpacedOpaqueSyntaxAttribute):
    name = "spatial.pmu_kind"


@irdl_attr_definition
class BankingAttr(EnumAttribute[Banking], SpacedOpaqueSyntaxAttribute):
    name = "spatial.banking"


@irdl_attr_definition
class InterpolationAttr(EnumAttribute[Interpolation], SpacedOpaqueSyntaxAttribute):
    name = "spatial.interpolation"


@irdl_attr_definition
class AGEdgeAttr(EnumAttribute[AGEdge], SpacedOpaqueSyntaxAttribute):
    name = "spatial.edge"


@irdl_attr_definition
class AGDirectionAttr(EnumAttribute[AGDirection], SpacedOpaqueSyntaxAttribute):
    name = "spatial.direction"


def is_value(enum: type[StrEnum], value: object) -> bool:
    """Whether `value` is one of `enum`'s values (Python 3.11's `in` takes members only)."""
    return isinstance(value, str) and value in enum._value2member_map_


PORT_PREFIX = {Network.SCALAR: "s", Network.VECTOR: "v", Network.CONTROL: "c"}


def parse_port(port: str) -> tuple[str, str, int]:
    """(network, direction, index) of a port name such as `vi0`; ValueError otherwise."""
    networks = {prefix: network for network, prefix in PORT_PREFIX.items()}
    if len(port) < 3 or port[0] not in networks or port[1] not in "io" or not port[2:].isdigit():
        raise ValueError(f"bad port name '{port}' (expected e.g. si0, so1, vi0, vo0, ci0)")
    return networks[port[0]], "in" if port[1] == "i" else "out", int(port[2:])


@irdl_attr_definition
class PortDirectionAttr(EnumAttribute[PortDirection], SpacedOpaqueSyntaxAttribute):
    name = "spatial.port_direction"


@irdl_attr_definition
class PortAttr(ParametrizedAttribute):
    """A unit's port: its network, direction and index, `#spatial.port<vector, in, 0>`.
    A stream's custom syntax writes it short, as the port name after the unit: `@a.vi0`
    (network initial, `i`/`o`, index)."""

    name = "spatial.port"

    network: NetworkAttr
    direction: PortDirectionAttr
    index: IntAttr

    def __init__(self, network: Network, direction: PortDirection, index: int):
        super().__init__(NetworkAttr(network), PortDirectionAttr(direction), IntAttr(index))

    @classmethod
    def from_name(cls, port: str) -> PortAttr:
        """The port called `port` (e.g. `vi0`); ValueError for a malformed name."""
        network, direction, index = parse_port(port)
        return cls(Network(network), PortDirection(direction), index)

    @property
    def port_name(self) -> str:
        way = "i" if self.direction.data == PortDirection.IN else "o"
        return f"{PORT_PREFIX[self.network.data]}{way}{self.index.data}"

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> tuple[Attribute, ...]:
        with parser.in_angle_brackets():
            network = parser.parse_str_enum(Network)
            parser.parse_punctuation(",")
            direction = parser.parse_str_enum(PortDirection)
            parser.parse_punctuation(",")
            index = parser.parse_integer(allow_negative=False)
        return NetworkAttr(network), PortDirectionAttr(direction), IntAttr(index)

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(
            f"<{self.network.data}, {self.direction.data}, {self.index.data}>"
        )


# ---- sites ------------------------------------------------------------------------------------


def _site_attr(site: Sequence[int] | None) -> DenseArrayBase | None:
    return None if site is None else DenseArrayBase.from_list(i64, list(site))


def _print_site(printer: Printer, site: DenseArrayBase | None) -> None:
    if site is not None:
        row, col = (int(v) for v in site.iter_values())
        printer.print_string(f" at ({row}, {col})")


def _parse_site(parser: Parser) -> DenseArrayBase | None:
    if not parser.parse_optional_keyword("at"):
        return None
    parser.parse_punctuation("(")
    row = parser.parse_integer()
    parser.parse_punctuation(",")
    col = parser.parse_integer()
    parser.parse_punctuation(")")
    return _site_attr((row, col))


# ---- the architecture a design is for ---------------------------------------------------------


@irdl_attr_definition
class ArchAttr(ParametrizedAttribute):
    """The architecture a design is made for: its name and the sha256 digest of its
    description (`rnnc.target.arch.Architecture.digest`), which the passes and the driver
    look up in the architectures of their context (`rnnc.target.registry`) rather than copy
    into the IR. An empty digest (`#spatial.arch<"plasticine-rnn">`, for hand-written tests)
    accepts whatever the architecture of that name is.

        #spatial.arch<"plasticine-rnn", "9f2c...">
    """

    name = "spatial.arch"

    arch_name: StringAttr
    digest: StringAttr

    def __init__(self, arch_name: str, digest: str = ""):
        super().__init__(StringAttr(arch_name), StringAttr(digest))

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> tuple[StringAttr, StringAttr]:
        with parser.in_angle_brackets():
            arch_name = parser.parse_str_literal()
            digest = parser.parse_str_literal() if parser.parse_optional_punctuation(",") else ""
        return StringAttr(arch_name), StringAttr(digest)

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string("<")
        printer.print_string_literal(self.arch_name.data)
        if self.digest.data:
            printer.print_string(", ")
            printer.print_string_literal(self.digest.data)
        printer.print_string(">")


# ---- the design -------------------------------------------------------------------------------


#: How a diagnostic names a unit of each kind.
UNIT_NAMES = {UnitKind.PCU: "a PCU", UnitKind.PMU: "a PMU", UnitKind.AG: "an AG"}


@irdl_op_definition
class DesignOp(IRDLOperation):
    """One design on one architecture: the program it runs, its units and streams.

    `@main` names the function whose program the design implements (`function`; the design
    is not a symbol of the module, so the loop level can stay beside it until
    `spatial-strip`). `arch` names the architecture (see `ArchAttr`); the checks that need
    it (sites, lanes, stages, ports per unit kind, PMU capacity) are
    `rnnc.target.design_checks.verify_design`, which the driver runs after every pass and
    `spatial-verify` runs too. Its body lists first the program, what is not a unit (the
    memories `spatial.memory`, the model's inputs and outputs `spatial.bind`, the nests
    `spatial.nest`, their design points `spatial.point` and the schedule's phases
    `spatial.phase`), then the units, the controller and the streams. The verifier checks
    that names are declared once and that what refers to a nest, memory or unit names one
    of the design's.

        spatial.design @main #spatial.arch<"plasticine-rnn", "9f2..."> precision "fp32" {
          spatial.memory "h" sram [1, 1, 512] element_bytes 4 buffers 2 init zero ... }
    """

    name = "spatial.design"

    function = prop_def(StringAttr)
    arch = prop_def(ArchAttr)
    precision = prop_def(StringAttr)
    body = region_def("single_block")

    # a symbol table of its units, but not a symbol itself: `@main` names the function it
    # implements, which stays beside it (the loop level) until spatial-strip
    traits = traits_def(SymbolTable(), NoTerminator())

    def __init__(self, function: str, *, arch: ArchAttr, precision: str, body: Region):
        super().__init__(
            properties={
                "function": StringAttr(function),
                "arch": arch,
                "precision": StringAttr(precision),
            },
            regions=[body],
        )

    def units(self) -> list[UnitOp]:
        return [op for op in self.body.block.ops if isinstance(op, UnitOp)]

    def streams(self) -> list[StreamOp]:
        return [op for op in self.body.block.ops if isinstance(op, StreamOp)]

    def controller(self) -> ControllerOp | None:
        """The schedule's controller, if the design has one (the partition makes it)."""
        return next((op for op in self.body.block.ops if isinstance(op, ControllerOp)), None)

    def memories(self) -> list[MemoryOp]:
        return [op for op in self.body.block.ops if isinstance(op, MemoryOp)]

    def bindings(self, direction: BindingDirection) -> list[BindOp]:
        """The model's inputs or outputs, in order."""
        return [op for op in self.body.block.ops
                if isinstance(op, BindOp) and op.direction.data == direction]

    def nests(self) -> list[NestOp]:
        return [op for op in self.body.block.ops if isinstance(op, NestOp)]

    def points(self) -> list[PointOp]:
        return [op for op in self.body.block.ops if isinstance(op, PointOp)]

    def phases(self) -> list[PhaseOp]:
        """The schedule, in order."""
        return [op for op in self.body.block.ops if isinstance(op, PhaseOp)]

    def verify_(self) -> None:
        units: dict[str, Operation] = {u.sym_name.data: u for u in self.units()}
        controller = self.controller()
        if controller is not None:
            units[controller.sym_name.data] = controller
        fed: dict[tuple[str, str], str] = {}
        for stream in self.streams():
            stream.verify_against(units, fed)
        self._verify_program(units)

    def _verify_program(self, units: Mapping[str, Operation]) -> None:
        """Each memory and nest declared once; bindings name memories, design points and
        phases name nests, posted writes name units of the design."""
        memories = _declared("memory", [m.memory.data for m in self.memories()])
        nests = _declared("nest", [n.nest.data for n in self.nests()])
        for bind in (op for op in self.body.block.ops if isinstance(op, BindOp)):
            if bind.memory is not None and bind.memory.data not in memories:
                raise VerifyException(f"spatial.bind: {bind.direction.data.value} "
                                      f"'{bind.binding.data}' names memory "
                                      f"'{bind.memory.data}', which the design does not declare")
        named = [(p.name, p.nest.data) for p in self.points()]
        named += [(p.name, n) for p in self.phases() for n in p.nest_ids]
        for name, nest in named:
            if nest not in nests:
                raise VerifyException(f"{name}: nest '{nest}' is not declared by a spatial.nest")
        for phase in self.phases():
            for unit in phase.posted_units or ():
                if unit not in units:
                    raise VerifyException(f"spatial.phase: posts writes of @{unit}, which is "
                                          "not a unit of the design")

    def print(self, printer: Printer) -> None:
        printer.print_string(" @")
        printer.print_string(self.function.data)
        printer.print_string(" ")
        printer.print_attribute(self.arch)
        printer.print_string(" precision ")
        printer.print_attribute(self.precision)
        printer.print_string(" ")
        printer.print_region(self.body, print_entry_block_args=False)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> DesignOp:
        name = parser.parse_symbol_name().data
        arch = parser.parse_attribute()
        if not isinstance(arch, ArchAttr):
            parser.raise_error('spatial.design: expected #spatial.arch<"name", "digest">')
        parser.parse_keyword("precision")
        precision = parser.parse_str_literal()
        body = parser.parse_region()
        if not body.blocks:
            body.add_block(Block())
        op = cls(name, arch=arch, precision=precision, body=body)
        op.attributes |= parser.parse_optional_attr_dict()
        return op


def _declared(what: str, names: Sequence[str]) -> set[str]:
    """The names, each of which must be declared once."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise VerifyException(f"spatial.{what}: '{name}' is declared twice")
        seen.add(name)
    return seen


# ---- the program: what the design runs that is not a unit ----------------------------------


class MemoryInit(StrEnum):
    """How a memory starts: undefined, zeros (every buffer), an array of the weight file
    (`weight`, by name; a folded nest's result is `<array>.folded`) or a model input
    (`input`, by the input's name)."""

    UNDEFINED = "undefined"
    ZERO = "zero"
    WEIGHT = "weight"
    INPUT = "input"


class BindingDirection(StrEnum):
    """Whether a binding is one of the model's inputs or one of its outputs."""

    INPUT = "input"
    OUTPUT = "output"


class PhaseKind(StrEnum):
    """A phase of the schedule: its nests run `once`, or in a time `loop` of steps."""

    ONCE = "once"
    LOOP = "loop"


@irdl_attr_definition
class MemoryInitAttr(EnumAttribute[MemoryInit], SpacedOpaqueSyntaxAttribute):
    """How a `spatial.memory` starts (`MemoryInit`); written bare in the op's syntax.

        #spatial<init zero>
        #spatial<init weight>
    """

    name = "spatial.init"


@irdl_attr_definition
class BindingDirectionAttr(EnumAttribute[BindingDirection], SpacedOpaqueSyntaxAttribute):
    """Whether a `spatial.bind` is a model input or output; written bare in its syntax.

        #spatial<binding input>
        #spatial<binding output>
    """

    name = "spatial.binding"


@irdl_attr_definition
class PhaseKindAttr(EnumAttribute[PhaseKind], SpacedOpaqueSyntaxAttribute):
    """Whether a `spatial.phase` runs its nests once or in a time loop; written bare.

        #spatial<phase_kind once>
        #spatial<phase_kind loop>
    """

    name = "spatial.phase_kind"


def _shape_attr(values: Sequence[int]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, list(values))


def _values(attr: DenseArrayBase) -> tuple[int, ...]:
    return tuple(int(v) for v in attr.get_values())


def _print_ints(printer: Printer, values: Sequence[int]) -> None:
    printer.print_string("[" + ", ".join(str(v) for v in values) + "]")


def _parse_ints(parser: Parser) -> DenseArrayBase:
    return _shape_attr(parser.parse_comma_separated_list(
        parser.Delimiter.SQUARE, parser.parse_integer))


def _print_names(printer: Printer, names: ArrayAttr, symbols: bool = False) -> None:
    """`["n0", "n1"]`, or `[@a, @b]` for names of the design's units."""
    printer.print_string("[")
    for k, name in enumerate(names.data):
        printer.print_string(", " if k else "")
        if symbols:
            printer.print_string(f"@{name.data}")  # type: ignore[attr-defined]
        else:
            printer.print_string_literal(name.data)  # type: ignore[attr-defined]
    printer.print_string("]")


def _parse_names(parser: Parser, symbols: bool = False) -> ArrayAttr:
    def name() -> StringAttr:
        return parser.parse_symbol_name() if symbols else StringAttr(parser.parse_str_literal())

    return ArrayAttr(parser.parse_comma_separated_list(parser.Delimiter.SQUARE, name))


class ProgramOp(IRDLOperation):
    """A part of the design's program (a memory, a binding, a nest, a design point, a
    phase of the schedule): plain structure the units refer to by name."""

    traits = lazy_traits_def(lambda: (HasParent(DesignOp),))

    def fail(self, message: str) -> VerifyException:
        return VerifyException(f"{self.name}: {message}")


@irdl_op_definition
class MemoryOp(ProgramOp):
    """A memory of the loop program: its shape, bytes per element, copies (N-buffering),
    space (`sram` on chip, `dram` behind address generators, `reg`) and how it starts
    (`MemoryInit`; omitted: undefined). PMUs hold boxes of it, AGs move it, units' reads
    and writes name it.

        spatial.memory "h" sram [1, 1, 512] element_bytes 4 buffers 2 init zero
        spatial.memory "w" sram [1, 2048, 512] element_bytes 1 buffers 1 init weight "W"
    """

    name = "spatial.memory"

    memory = prop_def(StringAttr)
    space = prop_def(MemorySpaceAttr)
    shape = prop_def(DenseArrayBase)
    element_bytes = prop_def(IntAttr)
    buffers = prop_def(IntAttr)
    init = prop_def(MemoryInitAttr)
    source = opt_prop_def(StringAttr)
    """The weight array or model input a `weight`/`input` memory starts as."""

    def __init__(self, memory: str, space: str, shape: Sequence[int], *, element_bytes: int,
                 buffers: int, init: MemoryInit = MemoryInit.UNDEFINED,
                 source: str | None = None):
        properties: dict[str, Attribute] = {
            "memory": StringAttr(memory), "space": MemorySpaceAttr(space),
            "shape": _shape_attr(shape), "element_bytes": IntAttr(element_bytes),
            "buffers": IntAttr(buffers), "init": MemoryInitAttr(init)}
        if source is not None:
            properties["source"] = StringAttr(source)
        super().__init__(properties=properties)

    @property
    def init_text(self) -> str:
        """The configuration's spelling of `init`: `zero`, `weight:W`, `input:X`, ..."""
        init = self.init.data.value
        return init if self.source is None else f"{init}:{self.source.data}"

    def verify_(self) -> None:
        what = f"memory '{self.memory.data}'"
        if any(extent < 0 for extent in _values(self.shape)):
            raise self.fail(f"{what}: shape {list(_values(self.shape))} has a negative extent")
        if self.element_bytes.data < 1 or self.buffers.data < 1:
            raise self.fail(f"{what}: element_bytes and buffers must be >= 1")
        init = self.init.data.value
        sourced = self.init.data in (MemoryInit.WEIGHT, MemoryInit.INPUT)
        if sourced and self.source is None:
            raise self.fail(f"{what}: init {init} needs the name of what it starts as")
        if not sourced and self.source is not None:
            raise self.fail(f"{what}: init {init} starts as no array, yet names "
                            f"'{self.source.data}'")

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_string_literal(self.memory.data)
        printer.print_string(f" {self.space.data.value} ")
        _print_ints(printer, _values(self.shape))
        printer.print_string(f" element_bytes {self.element_bytes.data} "
                             f"buffers {self.buffers.data}")
        if self.init.data != MemoryInit.UNDEFINED:
            printer.print_string(f" init {self.init.data.value}")
        if self.source is not None:
            printer.print_string(" ")
            printer.print_string_literal(self.source.data)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> MemoryOp:
        memory = parser.parse_str_literal()
        space = parser.parse_str_enum(MemorySpace)
        shape = _values(_parse_ints(parser))
        parser.parse_keyword("element_bytes")
        element_bytes = parser.parse_integer()
        parser.parse_keyword("buffers")
        buffers = parser.parse_integer()
        init, source = MemoryInit.UNDEFINED, None
        if parser.parse_optional_keyword("init"):
            init = parser.parse_str_enum(MemoryInit)
            source = parser.parse_optional_str_literal()
        op = cls(memory, space, shape, element_bytes=element_bytes, buffers=buffers, init=init,
                 source=source)
        op.attributes |= parser.parse_optional_attr_dict()
        return op


@irdl_op_definition
class BindOp(ProgramOp):
    """One of the model's inputs or outputs: its name, shape and element type, and the
    memory it is read into or written from (none: an input no nest reads).

        spatial.bind input "X" [25, 1, 512] "f32" to "x"
        spatial.bind output "Y_h" [1, 1, 512] "f32" to "y_h"
    """

    name = "spatial.bind"

    direction = prop_def(BindingDirectionAttr)
    binding = prop_def(StringAttr)
    shape = prop_def(DenseArrayBase)
    dtype = prop_def(StringAttr)
    memory = opt_prop_def(StringAttr)

    def __init__(self, direction: BindingDirection, binding: str, shape: Sequence[int],
                 dtype: str, memory: str | None):
        properties: dict[str, Attribute] = {
            "direction": BindingDirectionAttr(direction), "binding": StringAttr(binding),
            "shape": _shape_attr(shape), "dtype": StringAttr(dtype)}
        if memory:
            properties["memory"] = StringAttr(memory)
        super().__init__(properties=properties)

    def verify_(self) -> None:
        if self.direction.data == BindingDirection.OUTPUT and self.memory is None:
            raise self.fail(f"output '{self.binding.data}' is written from no memory")

    def print(self, printer: Printer) -> None:
        printer.print_string(f" {self.direction.data.value} ")
        printer.print_string_literal(self.binding.data)
        printer.print_string(" ")
        _print_ints(printer, _values(self.shape))
        printer.print_string(" ")
        printer.print_string_literal(self.dtype.data)
        if self.memory is not None:
            printer.print_string(" to ")
            printer.print_string_literal(self.memory.data)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> BindOp:
        direction = parser.parse_str_enum(BindingDirection)
        binding = parser.parse_str_literal()
        shape = _values(_parse_ints(parser))
        dtype = parser.parse_str_literal()
        memory = parser.parse_str_literal() if parser.parse_optional_keyword("to") else None
        op = cls(direction, binding, shape, dtype, memory)
        op.attributes |= parser.parse_optional_attr_dict()
        return op


@irdl_op_definition
class NestOp(ProgramOp):
    """A loop nest of the program: its iteration space (`extents`, counters d0, d1, ...)
    split over `par` copies per dimension; PCUs name the nest they serve.

        spatial.nest "n0" [1, 1, 512] par [1, 1, 1]
        spatial.nest "n1" [1, 1, 512] par [1, 1, 8]
    """

    name = "spatial.nest"

    nest = prop_def(StringAttr)
    extents = prop_def(DenseArrayBase)
    par = prop_def(DenseArrayBase)

    def __init__(self, nest: str, extents: Sequence[int], par: Sequence[int]):
        super().__init__(properties={"nest": StringAttr(nest), "extents": _shape_attr(extents),
                                     "par": _shape_attr(par)})

    def verify_(self) -> None:
        extents, par = _values(self.extents), _values(self.par)
        if len(par) != len(extents):
            raise self.fail(f"nest '{self.nest.data}': {len(par)} factors of par for "
                            f"{len(extents)} dimensions")
        if any(p < 1 for p in par) or any(e < 0 for e in extents):
            raise self.fail(f"nest '{self.nest.data}': extents must be >= 0 and par >= 1")

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_string_literal(self.nest.data)
        printer.print_string(" ")
        _print_ints(printer, _values(self.extents))
        printer.print_string(" par ")
        _print_ints(printer, _values(self.par))
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> NestOp:
        nest = parser.parse_str_literal()
        extents = _values(_parse_ints(parser))
        parser.parse_keyword("par")
        op = cls(nest, extents, _values(_parse_ints(parser)))
        op.attributes |= parser.parse_optional_attr_dict()
        return op


@irdl_op_definition
class PointOp(ProgramOp):
    """The design point a nest was partitioned at: `hu` copies in all (the product of its
    par), `ru` map-reduce units per reduction, `rv` reduction indices per cycle.

        spatial.point "n0" hu 1 ru 1 rv 1
        spatial.point "n1" hu 8 ru 4 rv 64
    """

    name = "spatial.point"

    nest = prop_def(StringAttr)
    hu = prop_def(IntAttr)
    ru = prop_def(IntAttr)
    rv = prop_def(IntAttr)

    def __init__(self, nest: str, hu: int, ru: int, rv: int):
        super().__init__(properties={"nest": StringAttr(nest), "hu": IntAttr(hu),
                                     "ru": IntAttr(ru), "rv": IntAttr(rv)})

    def verify_(self) -> None:
        if min(self.hu.data, self.ru.data, self.rv.data) < 1:
            raise self.fail(f"nest '{self.nest.data}': hu, ru and rv must be >= 1")

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_string_literal(self.nest.data)
        printer.print_string(f" hu {self.hu.data} ru {self.ru.data} rv {self.rv.data}")
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> PointOp:
        nest = parser.parse_str_literal()
        factors = []
        for keyword in ("hu", "ru", "rv"):
            parser.parse_keyword(keyword)
            factors.append(parser.parse_integer())
        op = cls(nest, *factors)
        op.attributes |= parser.parse_optional_attr_dict()
        return op


@irdl_op_definition
class PhaseOp(ProgramOp):
    """A phase of the schedule, run in program order: a `once` phase runs its nests once
    each, a `loop` phase runs them in order for `steps` time steps (counter `t`).
    `posted`: the loop's posted writes, units (store AGs, PMUs no unit reads during the
    loop) whose done tokens a step does not wait for; the loop's end waits for them.
    `swap`: the control stream on which the loop's steps after the first start, its state
    buffer's swap token (`spatial-swap-start`), not the controller's enable.

        spatial.phase once ["n0"]
        spatial.phase loop 25 ["n1", "n2"] posted [@ag0] swap @swap_n1
    """

    name = "spatial.phase"

    kind = prop_def(PhaseKindAttr)
    steps = prop_def(IntAttr)
    nests = prop_def(ArrayAttr[StringAttr])
    posted = opt_prop_def(ArrayAttr[StringAttr])
    swap = opt_prop_def(StringAttr)

    def __init__(self, kind: PhaseKind, steps: int, nests: Sequence[str],
                 posted: Sequence[str] | None = None, swap: str | None = None):
        properties: dict[str, Attribute] = {
            "kind": PhaseKindAttr(kind), "steps": IntAttr(steps),
            "nests": ArrayAttr(StringAttr(n) for n in nests)}
        if posted is not None:
            properties["posted"] = ArrayAttr(StringAttr(u) for u in posted)
        if swap is not None:
            properties["swap"] = StringAttr(swap)
        super().__init__(properties=properties)

    @property
    def nest_ids(self) -> tuple[str, ...]:
        return tuple(nest.data for nest in self.nests.data)

    @property
    def posted_units(self) -> tuple[str, ...] | None:
        return None if self.posted is None else tuple(u.data for u in self.posted.data)

    @property
    def swap_stream(self) -> str | None:
        return None if self.swap is None else self.swap.data

    def verify_(self) -> None:
        if self.kind.data == PhaseKind.ONCE and self.steps.data != 1:
            raise self.fail(f"a once phase runs one step, not {self.steps.data}")
        if self.steps.data < 1:
            raise self.fail(f"a loop phase runs at least one step, not {self.steps.data}")
        if self.kind.data == PhaseKind.ONCE and self.posted is not None:
            raise self.fail("only a loop phase posts writes")
        if self.kind.data == PhaseKind.ONCE and self.swap is not None:
            raise self.fail("only a loop phase starts its steps on a swap")

    def print(self, printer: Printer) -> None:
        printer.print_string(f" {self.kind.data.value}")
        if self.kind.data == PhaseKind.LOOP:
            printer.print_string(f" {self.steps.data}")
        printer.print_string(" ")
        _print_names(printer, self.nests)
        if self.posted is not None:
            printer.print_string(" posted ")
            _print_names(printer, self.posted, symbols=True)
        if self.swap is not None:
            printer.print_string(" swap ")
            printer.print_symbol_name(self.swap.data)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> PhaseOp:
        kind = parser.parse_str_enum(PhaseKind)
        steps = parser.parse_integer() if kind == PhaseKind.LOOP else 1
        nests = [n.data for n in _parse_names(parser).data]
        posted = None
        if parser.parse_optional_keyword("posted"):
            posted = [u.data for u in _parse_names(parser, symbols=True).data]
        swap = None
        if parser.parse_optional_keyword("swap"):
            swap = parser.parse_symbol_name().data
        op = cls(kind, steps, nests, posted, swap)
        op.attributes |= parser.parse_optional_attr_dict()
        return op


# ---- typed parts of a unit's configuration ---------------------------------------------------

#: Elements `[start:stop:step, ...]` of a memory or weight array, one triple per dimension.
Slices = tuple[tuple[int, int, int], ...]


def count_elements(slices: Slices) -> int:
    """How many elements `[start:stop:step, ...]` selects."""
    count = 1
    for start, stop, step in slices:
        count *= len(range(start, stop, step))
    return count


def _slices_attr(slices: Sequence[Sequence[int]]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, [value for piece in slices for value in piece])


def _slices_of(attr: DenseArrayBase) -> Slices:
    flat = attr.get_values()
    return tuple((int(flat[i]), int(flat[i + 1]), int(flat[i + 2])) for i in range(0, len(flat), 3))


def _verify_slices(attr: DenseArrayBase, what: str) -> None:
    if len(attr) % 3:
        raise VerifyException(f"{what}: slices are (start, stop, step) triples, got {len(attr)} "
                              "values")
    for start, stop, step in _slices_of(attr):
        if step < 1 or start < 0 or stop < start:
            raise VerifyException(f"{what}: slice {start}:{stop}:{step} is not a range "
                                  "0 <= start <= stop with a step of at least 1")


def _print_slices(printer: Printer, attr: DenseArrayBase) -> None:
    printer.print_string(
        "[" + ", ".join(f"{start}:{stop}:{step}" for start, stop, step in _slices_of(attr)) + "]"
    )


def _parse_slices(parser: AttrParser) -> DenseArrayBase:
    """`[start:stop:step, ...]`, one triple per dimension."""

    def piece() -> tuple[int, int, int]:
        start = parser.parse_integer()
        parser.parse_punctuation(":")
        stop = parser.parse_integer()
        parser.parse_punctuation(":")
        return start, stop, parser.parse_integer()

    return _slices_attr(parser.parse_comma_separated_list(parser.Delimiter.SQUARE, piece))


class _BodyInAngles:
    """The syntax of an attribute a unit's syntax also lists bare: `#spatial.NAME<BODY>`,
    where the class's `parse_body`/`print_body` read and write BODY."""

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> tuple[Attribute, ...]:
        with parser.in_angle_brackets():
            return cls.parse_body(parser).parameters  # type: ignore[attr-defined]

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string("<")
        self.print_body(printer)  # type: ignore[attr-defined]
        printer.print_string(">")


@irdl_attr_definition
class BoxAttr(_BodyInAngles, ParametrizedAttribute):
    """Elements `memory[start:stop:step, ...]` of one of the program's memories that a PMU
    holds or an AG moves; `per_step`: the dimensions the time step indexes hold only the
    current step's slice (a memory staged from DRAM step by step).

        #spatial.box<"w"[0:4:1, 0:16:2]>        #spatial.box<"x"[0:1:1, 0:512:1] per_step>
    """

    name = "spatial.box"

    memory: StringAttr
    slices: DenseArrayBase
    per_step: IntAttr

    def __init__(self, memory: str, slices: Sequence[Sequence[int]], per_step: bool = False):
        super().__init__(StringAttr(memory), _slices_attr(slices), IntAttr(int(per_step)))

    @property
    def slice_values(self) -> Slices:
        return _slices_of(self.slices)

    def verify(self) -> None:
        _verify_slices(self.slices, f'box of "{self.memory.data}"')

    @classmethod
    def parse_body(cls, parser: AttrParser) -> BoxAttr:
        """The box without its `#spatial.box<...>` wrapper, as a unit's syntax lists it."""
        memory = parser.parse_str_literal()
        slices = _parse_slices(parser)
        per_step = parser.parse_optional_keyword("per_step") is not None
        return cls.new((StringAttr(memory), slices, IntAttr(int(per_step))))

    def print_body(self, printer: Printer) -> None:
        printer.print_string_literal(self.memory.data)
        _print_slices(printer, self.slices)
        if self.per_step.data:
            printer.print_string(" per_step")


@irdl_attr_definition
class HoldingAttr(_BodyInAngles, ParametrizedAttribute):
    """A PMU's initial contents by reference: `array[slices]` of the weight file (or of a
    model input bound on chip), stored as `quantization` (an ml_dtypes float8 name, or
    `fp32`); never the values.

        #spatial.holding<"W"[0:4:1, 0:16:1] as "float8_e4m3fn">
    """

    name = "spatial.holding"

    array: StringAttr
    slices: DenseArrayBase
    quantization: StringAttr

    def __init__(self, array: str, slices: Sequence[Sequence[int]], quantization: str):
        super().__init__(StringAttr(array), _slices_attr(slices), StringAttr(quantization))

    @property
    def slice_values(self) -> Slices:
        return _slices_of(self.slices)

    def verify(self) -> None:
        _verify_slices(self.slices, f'holding of "{self.array.data}"')

    @classmethod
    def parse_body(cls, parser: AttrParser) -> HoldingAttr:
        array = parser.parse_str_literal()
        slices = _parse_slices(parser)
        parser.parse_keyword("as")
        return cls.new((StringAttr(array), slices, StringAttr(parser.parse_str_literal())))

    def print_body(self, printer: Printer) -> None:
        printer.print_string_literal(self.array.data)
        _print_slices(printer, self.slices)
        printer.print_string(" as ")
        printer.print_string_literal(self.quantization.data)


@irdl_attr_definition
class TableAttr(_BodyInAngles, ParametrizedAttribute):
    """A lookup table a PMU holds: `function` (with its parameters, e.g.
    `hard_sigmoid(alpha=0.2,beta=0.5)`) at `entries` points over [-range, range], read
    `interp` between them.

        #spatial.table<"tanh" 1024 8.0 linear>
    """

    name = "spatial.table"

    function: StringAttr
    entries: IntAttr
    range: FloatAttr
    interp: InterpolationAttr

    def __init__(self, function: str, entries: int, range_: float, interp: Interpolation):
        super().__init__(StringAttr(function), IntAttr(entries), FloatAttr(range_, f64),
                         InterpolationAttr(interp))

    def verify(self) -> None:
        if self.entries.data < 2:
            raise VerifyException(f'table "{self.function.data}": entries must be >= 2, got '
                                  f"{self.entries.data}")
        if not self.range.value.data > 0:
            raise VerifyException(f'table "{self.function.data}": range must be > 0, got '
                                  f"{self.range.value.data}")

    @classmethod
    def parse_body(cls, parser: AttrParser) -> TableAttr:
        function = parser.parse_str_literal()
        entries = parser.parse_integer(allow_negative=False)
        range_ = parser.parse_float()
        return cls(function, entries, range_, parser.parse_str_enum(Interpolation))

    def print_body(self, printer: Printer) -> None:
        printer.print_string_literal(self.function.data)
        printer.print_string(f" {self.entries.data} {self.range.value.data!r} "
                             f"{self.interp.data}")


def _print_list(printer: Printer, keyword: str, items: ArrayAttr) -> None:
    """` keyword [a, b]` of boxes, holdings or tables in their short form; nothing if
    empty."""
    if items.data:
        printer.print_string(f" {keyword} [")
        printer.print_list(items.data, lambda item: item.print_body(printer))  # type: ignore[attr-defined]
        printer.print_string("]")


def _parse_list(
    parser: Parser, keyword: str, kind: type[BoxAttr] | type[HoldingAttr] | type[TableAttr]
) -> ArrayAttr:
    if parser.parse_optional_keyword(keyword) is None:
        return ArrayAttr(())
    return ArrayAttr(parser.parse_comma_separated_list(
        parser.Delimiter.SQUARE, lambda: kind.parse_body(parser)))


# ---- units ------------------------------------------------------------------------------------


class UnitOp(IRDLOperation):
    """What every unit has: a symbol name and an optional site; each kind adds its typed
    configuration and its custom syntax (`parse_config`, `print_config`)."""

    KIND: ClassVar[UnitKind]

    sym_name = prop_def(StringAttr)
    site = opt_prop_def(DenseArrayBase)

    traits = lazy_traits_def(lambda: (SymbolOpInterface(), HasParent(DesignOp)))

    def __init__(self, sym_name: str, site: Sequence[int] | None,
                 regions: Sequence[Region] = (), **config: Attribute):
        """`config`: the kind's typed properties; `regions`: its regions (a PCU's body)."""
        properties: dict[str, Attribute] = {"sym_name": StringAttr(sym_name), **config}
        if site is not None:
            properties["site"] = _site_attr(site)  # type: ignore[assignment]
        super().__init__(properties=properties, regions=regions)

    @property
    def unit_id(self) -> str:
        return self.sym_name.data

    @property
    def site_value(self) -> tuple[int, int] | None:
        if self.site is None:
            return None
        row, col = (int(v) for v in self.site.iter_values())
        return row, col

    def design(self) -> DesignOp:
        parent = self.parent_op()
        assert isinstance(parent, DesignOp)
        return parent

    def fail(self, message: str) -> VerifyException:
        return VerifyException(f"{self.name} @{self.unit_id}: {message}")

    def verify_(self) -> None:
        if self.site is not None and len(self.site) != 2:
            raise self.fail("site must be (row, col)")
        self.verify_config()

    def verify_config(self) -> None:
        """Check the kind's own configuration, as far as it does not depend on the chip
        (`rnnc.target.design_checks` checks it against the architecture)."""

    def ports(self) -> set[str]:
        """The ports the configuration uses (beyond those its streams name)."""
        return set()

    def print(self, printer: Printer) -> None:
        printer.print_string(" @")
        printer.print_string(self.unit_id)
        self.print_config(printer)
        _print_site(printer, self.site)
        self.print_tail(printer)
        printer.print_op_attributes(self.attributes)

    def print_config(self, printer: Printer) -> None:
        """The kind's configuration in words, before the site."""

    def print_tail(self, printer: Printer) -> None:
        """The kind's configuration after the site (lists, regions)."""

    @classmethod
    def parse(cls, parser: Parser) -> UnitOp:
        name = parser.parse_symbol_name().data
        config = cls.parse_config(parser)
        site = _parse_site(parser)
        config |= cls.parse_tail(parser)
        site_value = None if site is None else tuple(site.get_values())
        op = cls(name, site_value, **config)  # type: ignore[arg-type]
        op.attributes |= parser.parse_optional_attr_dict()
        return op

    @classmethod
    def parse_config(cls, parser: Parser) -> dict[str, Attribute]:
        """The properties `print_config` writes."""
        return {}

    @classmethod
    def parse_tail(cls, parser: Parser) -> dict[str, Attribute]:
        """The properties `print_tail` writes."""
        return {}

    def check_port(self, port: str, direction: str | None = None) -> tuple[str, str, int]:
        """(network, direction, index) of a port name the unit uses, which must be
        well-formed and, if `direction` is given, of that direction."""
        try:
            network, way, index = parse_port(port)
        except ValueError as error:
            raise self.fail(str(error)) from None
        if direction is not None and way != direction:
            raise self.fail(f"port {port} is an {way}put port, expected an {direction}put port")
        return network, way, index


@irdl_attr_definition
class CounterAttr(_BodyInAngles, ParametrizedAttribute):
    """One counter of a PCU's chain: `start, start + stride, ...` below `stop`.

        #spatial.counter<"d0" 0 to 16 step 1>
    """

    name = "spatial.counter"

    counter: StringAttr
    start: IntAttr
    stop: IntAttr
    stride: IntAttr

    def __init__(self, counter: str, start: int, stop: int, stride: int = 1):
        super().__init__(StringAttr(counter), IntAttr(start), IntAttr(stop), IntAttr(stride))

    def verify(self) -> None:
        if self.stride.data < 1:
            raise VerifyException(f'counter "{self.counter.data}": stride must be >= 1, got '
                                  f"{self.stride.data}")

    @classmethod
    def parse_body(cls, parser: AttrParser) -> CounterAttr:
        counter = parser.parse_str_literal()
        start = parser.parse_integer()
        parser.parse_keyword("to")
        stop = parser.parse_integer()
        parser.parse_keyword("step")
        stride = parser.parse_integer()
        return cls.new((StringAttr(counter), IntAttr(start), IntAttr(stop), IntAttr(stride)))

    def print_body(self, printer: Printer) -> None:
        printer.print_string_literal(self.counter.data)
        printer.print_string(f" {self.start.data} to {self.stop.data} step {self.stride.data}")


@irdl_attr_definition
class WordType(ParametrizedAttribute, TypeAttribute):
    """A value inside a PCU's pipeline: a data word or an index, per lane."""

    name = "spatial.word"


def _parse_operands(parser: Parser) -> list[SSAValue]:
    """`(%a, %b)`: values defined earlier in the unit's body."""
    return parser.parse_comma_separated_list(
        parser.Delimiter.PAREN, lambda: parser.parse_operand(WordType()))


def _print_operands(printer: Printer, values: Sequence[SSAValue]) -> None:
    printer.print_string("(")
    printer.print_list(values, printer.print_operand)
    printer.print_string(")")


class PipelineOp(IRDLOperation):
    """What the body of a `spatial.pcu` holds (see `PCUOp`)."""

    traits = lazy_traits_def(lambda: (HasParent(PCUOp),))


@irdl_op_definition
class CounterValueOp(PipelineOp):
    """The value of a counter of the unit: one of its chain, `k` (the reduction index of a
    map-reduce unit) or `t` (the time step).

        %d0 = spatial.ctr "d0"
    """

    name = "spatial.ctr"

    counter = prop_def(StringAttr)
    result = result_def(WordType)

    def __init__(self, counter: str):
        super().__init__(properties={"counter": StringAttr(counter)}, result_types=[WordType()])

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_string_literal(self.counter.data)

    @classmethod
    def parse(cls, parser: Parser) -> CounterValueOp:
        return cls(parser.parse_str_literal())


@irdl_op_definition
class InputOp(PipelineOp):
    """The value arriving on an input port; several ports (one per lane: a gather unit's
    copies) or one `field` of a stream that carries several values per iteration.

        %a = spatial.in vi0        %b = spatial.in si0, si1        %c = spatial.in vi0 field 2
    """

    name = "spatial.in"

    ports = prop_def(ArrayAttr[PortAttr])
    field = opt_prop_def(IntAttr)
    result = result_def(WordType)

    def __init__(self, ports: Sequence[str], field: int | None = None):
        properties: dict[str, Attribute] = {
            "ports": ArrayAttr(PortAttr.from_name(port) for port in ports)
        }
        if field is not None:
            properties["field"] = IntAttr(field)
        super().__init__(properties=properties, result_types=[WordType()])

    @property
    def port_names(self) -> list[str]:
        return [port.port_name for port in self.ports.data]

    def verify_(self) -> None:
        if not self.ports.data:
            raise VerifyException("spatial.in: reads at least one port")
        for port in self.ports.data:
            if port.direction.data != PortDirection.IN:
                raise VerifyException(f"spatial.in: {port.port_name} is not an input port")

    def print(self, printer: Printer) -> None:
        printer.print_string(" " + ", ".join(self.port_names))
        if self.field is not None:
            printer.print_string(f" field {self.field.data}")

    @classmethod
    def parse(cls, parser: Parser) -> InputOp:
        ports = [_parse_port_name(parser)]
        while parser.parse_optional_punctuation(","):
            ports.append(_parse_port_name(parser))
        field = parser.parse_integer() if parser.parse_optional_keyword("field") else None
        return cls(ports, field)


def _parse_port_name(parser: Parser) -> str:
    """A port's short name (`vi0`), reported where it is written when malformed."""
    start = parser.pos
    name = parser.parse_identifier()
    try:
        parse_port(name)
    except ValueError as error:
        parser.raise_error(str(error), start, start + len(name))
    return name


#: The ops that access a memory through a port (their `memory`, `port`, `offsets`).
ACCESS_OPS = ("read", "write")
#: The ops with parameters of their own: `cmpi` its predicate, `const` its value.
_OWN_PARAMETER = {"predicate": "cmpi", "value": "const"}
#: Parameters no access, `cmpi` or `const` takes: an activation's table and alpha/beta.
_ACTIVATION_PARAMETERS = ("lut", "alpha", "beta")
_CONST_TYPES = {"float": f64, "bool": IntegerType(1), "int": i64}


@irdl_op_definition
class StageOp(PipelineOp):
    """One operation of the unit's datapath and the pipeline stage it occupies: an
    element-wise op (`add`, `mul`, `sigmoid`, ...), index arithmetic (`addi`, `cmpi`, ...),
    `const`, `read` or `write`. Its parameters are typed properties: a `read`'s or
    `write`'s `memory`, `port` (`#spatial.port`s, inputs for a read, an output for a write;
    a read of rows split over two PMUs names both), index `offsets` (one per index
    operand) and `buffer_offset`; an activation's `lut` (the PMU holding its table) and
    `alpha`/`beta`; `cmpi`'s `predicate`; `const`'s `value` (f64, i1 or i64).

        %2 = spatial.op mul stage 1 (%0, %1)
        %3 = spatial.op read stage 0 (%d0, %k) memory "w" port vi0 offsets [0, 0]
        %4 = spatial.op sigmoid stage 2 (%3) lut @t_0
    """

    name = "spatial.op"

    opcode = prop_def(StringAttr)
    stage = prop_def(IntAttr)
    memory = opt_prop_def(StringAttr)
    port = opt_prop_def(ArrayAttr[PortAttr])
    offsets = opt_prop_def(DenseArrayBase)
    buffer_offset = opt_prop_def(IntAttr)
    lut = opt_prop_def(SymbolRefAttr)
    alpha = opt_prop_def(FloatAttr)
    beta = opt_prop_def(FloatAttr)
    predicate = opt_prop_def(IntAttr)
    value = opt_prop_def(IntegerAttr | FloatAttr)
    args = var_operand_def(WordType)
    result = result_def(WordType)

    def __init__(self, opcode: str, stage: int, args: Sequence[SSAValue],
                 params: Mapping[str, Any] | None = None):
        """`params` as plain values (`param_values`): a port by name, a const's `value`
        with its `type` (`float`, `bool`, `int`)."""
        super().__init__(
            operands=[args],
            properties={"opcode": StringAttr(opcode), "stage": IntAttr(stage),
                        **_typed_params(dict(params or {}))},
            result_types=[WordType()],
        )

    def param_values(self) -> dict[str, Any]:
        """The parameters as plain values, the inverse of `__init__`'s `params`."""
        values: dict[str, Any] = {}
        if self.memory is not None:
            values["memory"] = self.memory.data
        if self.port is not None:
            values["port"] = ",".join(port.port_name for port in self.port)
        if self.offsets is not None:
            values["offsets"] = tuple(int(v) for v in self.offsets.iter_values())
        for name in ("buffer_offset", "predicate"):
            attr = getattr(self, name)
            if attr is not None:
                values[name] = attr.data
        if self.lut is not None:
            values["lut"] = self.lut.string_value()
        for name in ("alpha", "beta"):
            attr = getattr(self, name)
            if attr is not None:
                values[name] = float(attr.value.data)
        if isinstance(self.value, FloatAttr):
            values["value"], values["type"] = float(self.value.value.data), "float"
        elif isinstance(self.value, IntegerAttr):
            one_bit = isinstance(self.value.type, IntegerType) and self.value.type.width.data == 1
            values["value"] = int(self.value.value.data)
            values["type"] = "bool" if one_bit else "int"
        return values

    def verify_(self) -> None:
        opcode, given = self.opcode.data, {n for n in self.properties if n not in
                                          ("opcode", "stage")}
        access = {"memory", "port", "offsets", "buffer_offset"}
        if opcode in ACCESS_OPS:
            missing = sorted({"memory", "port", "offsets"} - given)
            if missing:
                raise VerifyException(f"spatial.op {opcode}: needs {', '.join(missing)}")
            self._verify_access(opcode)
        elif given & access:
            raise VerifyException(f"spatial.op {opcode}: takes no "
                                  f"{', '.join(sorted(given & access))} (only a read or write)")
        for name, owner in _OWN_PARAMETER.items():
            if opcode == owner and name not in given:
                raise VerifyException(f"spatial.op {opcode}: needs {name}")
            if opcode != owner and name in given:
                raise VerifyException(f"spatial.op {opcode}: takes no {name} (only a {owner})")
        bad = sorted(given & set(_ACTIVATION_PARAMETERS))
        if bad and (opcode in ACCESS_OPS or opcode in _OWN_PARAMETER.values()):
            raise VerifyException(f"spatial.op {opcode}: takes no {', '.join(bad)} (only an "
                                  f"activation)")
        if opcode == "const" and self.args:
            raise VerifyException("spatial.op const: takes no operands")

    def _verify_access(self, opcode: str) -> None:
        """The port's direction is the access's; one offset per index operand (after a
        write's value; a buffered access may add the buffer's index)."""
        assert self.port is not None and self.offsets is not None
        want = PortDirection.IN if opcode == "read" else PortDirection.OUT
        for port in self.port:
            if port.direction.data != want:
                raise VerifyException(f"spatial.op {opcode}: {port.port_name} is not an "
                                      f"{want}put port")
        if opcode == "write" and len(self.port) != 1:
            raise VerifyException("spatial.op write: leaves on one port, got "
                                  f"{len(self.port)}")
        indices = len(self.args) - (opcode == "write")
        offsets = len(self.offsets.get_values())
        extra = {0, 1} if self.buffer_offset is not None else {0}
        if indices - offsets not in extra:
            raise VerifyException(f"spatial.op {opcode}: {offsets} offsets for {indices} "
                                  f"index operands")

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_identifier_or_string_literal(self.opcode.data)
        printer.print_string(f" stage {self.stage.data} ")
        _print_operands(printer, self.args)
        if self.memory is not None:
            printer.print_string(" memory ")
            printer.print_string_literal(self.memory.data)
        if self.port is not None:
            printer.print_string(" port " + ", ".join(port.port_name for port in self.port))
        if self.offsets is not None:
            offsets = ", ".join(str(int(v)) for v in self.offsets.iter_values())
            printer.print_string(f" offsets [{offsets}]")
        if self.buffer_offset is not None:
            printer.print_string(f" buffer_offset {self.buffer_offset.data}")
        if self.lut is not None:
            printer.print_string(" lut ")
            printer.print_symbol_name(self.lut.string_value())
        for name in ("alpha", "beta"):
            attr = getattr(self, name)
            if attr is not None:
                printer.print_string(f" {name} {attr.value.data!r}")
        if self.predicate is not None:
            printer.print_string(f" predicate {self.predicate.data}")
        if self.value is not None:
            printer.print_string(" value ")
            printer.print_attribute(self.value)

    @classmethod
    def parse(cls, parser: Parser) -> StageOp:
        opcode = parser.parse_identifier_or_str_literal()
        parser.parse_keyword("stage")
        stage = parser.parse_integer(allow_negative=False)
        args = _parse_operands(parser)
        props: dict[str, Attribute] = {"opcode": StringAttr(opcode), "stage": IntAttr(stage)}
        if parser.parse_optional_keyword("memory"):
            props["memory"] = StringAttr(parser.parse_str_literal())
        if parser.parse_optional_keyword("port"):
            ports = [PortAttr.from_name(_parse_port_name(parser))]
            while parser.parse_optional_punctuation(","):
                ports.append(PortAttr.from_name(_parse_port_name(parser)))
            props["port"] = ArrayAttr(ports)
        if parser.parse_optional_keyword("offsets"):
            offsets = parser.parse_comma_separated_list(
                parser.Delimiter.SQUARE, parser.parse_integer)
            props["offsets"] = DenseArrayBase.from_list(i64, offsets)
        if parser.parse_optional_keyword("buffer_offset"):
            props["buffer_offset"] = IntAttr(parser.parse_integer())
        if parser.parse_optional_keyword("lut"):
            props["lut"] = SymbolRefAttr(parser.parse_symbol_name())
        for name in ("alpha", "beta"):
            if parser.parse_optional_keyword(name):
                props[name] = FloatAttr(parser.parse_float(), f64)
        if parser.parse_optional_keyword("predicate"):
            props["predicate"] = IntAttr(parser.parse_integer(allow_negative=False))
        if parser.parse_optional_keyword("value"):
            props["value"] = parser.parse_attribute()
        return cls.create(operands=args, properties=props, result_types=[WordType()])


def _typed_params(params: dict[str, Any]) -> dict[str, Attribute]:
    """A spatial.op's plain parameters (a configuration op's `params`) as its properties."""
    props: dict[str, Attribute] = {}
    unknown = sorted(set(params) - {"memory", "port", "offsets", "buffer_offset", "lut",
                                    "alpha", "beta", "predicate", "value", "type"})
    if unknown:
        raise ValueError(f"spatial.op has no parameter {', '.join(unknown)}")
    if "memory" in params:
        props["memory"] = StringAttr(params["memory"])
    if "port" in params:
        props["port"] = ArrayAttr(PortAttr.from_name(p) for p in params["port"].split(","))
    if "offsets" in params:
        props["offsets"] = DenseArrayBase.from_list(i64, [int(v) for v in params["offsets"]])
    for name in ("buffer_offset", "predicate"):
        if name in params:
            props[name] = IntAttr(int(params[name]))
    if "lut" in params:
        props["lut"] = SymbolRefAttr(params["lut"])
    for name in ("alpha", "beta"):
        if name in params:
            props[name] = FloatAttr(float(params[name]), f64)
    if "value" in params:
        kind = params.get("type", "float")
        if kind not in _CONST_TYPES:
            raise ValueError(f"spatial.op const: type '{kind}' is not one of "
                             f"{', '.join(_CONST_TYPES)}")
        value = params["value"]
        props["value"] = (FloatAttr(float(value), f64) if kind == "float"
                          else IntegerAttr(int(value), _CONST_TYPES[kind]))
    return props


def _require_output(op: str, port: PortAttr) -> None:
    if port.direction.data != PortDirection.OUT:
        raise VerifyException(f"{op}: {port.port_name} is not an output port")


@irdl_op_definition
class EmitOp(PipelineOp):
    """Send values on an output port, per iteration.

        spatial.emit vo0 (%4, %5)
    """

    name = "spatial.emit"

    port = prop_def(PortAttr)
    values = var_operand_def(WordType)

    def __init__(self, port: str, values: Sequence[SSAValue]):
        super().__init__(operands=[values], properties={"port": PortAttr.from_name(port)})

    def verify_(self) -> None:
        _require_output(self.name, self.port)

    def print(self, printer: Printer) -> None:
        printer.print_string(f" {self.port.port_name} ")
        _print_operands(printer, self.values)

    @classmethod
    def parse(cls, parser: Parser) -> EmitOp:
        port = _parse_port_name(parser)
        return cls(port, _parse_operands(parser))


@irdl_op_definition
class ReduceOp(PipelineOp):
    """What a map-reduce or combining unit folds with `combiner`: its `spatial.segment`s
    (map-reduce) or the values `inputs` (combine); the result leaves on `output`. `rv`:
    reduction indices consumed per cycle (lanes x packing).

        spatial.reduce add -> so0 rv 64 ()         spatial.reduce add -> so0 rv 1 (%a, %b)
    """

    name = "spatial.reduce"

    combiner = prop_def(StringAttr)
    output = prop_def(PortAttr)
    rv = prop_def(IntAttr)
    inputs = var_operand_def(WordType)

    def __init__(self, combiner: str, output: str, rv: int, inputs: Sequence[SSAValue]):
        super().__init__(
            operands=[inputs],
            properties={"combiner": StringAttr(combiner), "output": PortAttr.from_name(output),
                        "rv": IntAttr(rv)},
        )

    def verify_(self) -> None:
        _require_output(self.name, self.output)
        if self.rv.data < 1:
            raise VerifyException(f"spatial.reduce: rv must be >= 1, got {self.rv.data}")

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_identifier_or_string_literal(self.combiner.data)
        printer.print_string(f" -> {self.output.port_name} rv {self.rv.data} ")
        _print_operands(printer, self.inputs)

    @classmethod
    def parse(cls, parser: Parser) -> ReduceOp:
        combiner = parser.parse_identifier_or_str_literal()
        parser.parse_punctuation("->")
        output = _parse_port_name(parser)
        parser.parse_keyword("rv")
        rv = parser.parse_integer()
        return cls(combiner, output, rv, _parse_operands(parser))


@irdl_op_definition
class SegmentOp(PipelineOp):
    """A range [start, stop) of a reduction's index k and the value folded over it per k
    (none: the range folds to the combiner's identity); the unit's `k` counts from `base`.

        spatial.segment "r0" 0 to 512 base 0 (%3)
    """

    name = "spatial.segment"

    reduction = prop_def(StringAttr)
    start = prop_def(IntAttr)
    stop = prop_def(IntAttr)
    base = prop_def(IntAttr)
    value = opt_operand_def(WordType)

    def __init__(self, reduction: str, start: int, stop: int, base: int,
                 value: SSAValue | None):
        super().__init__(
            operands=[[] if value is None else [value]],
            properties={"reduction": StringAttr(reduction), "start": IntAttr(start),
                        "stop": IntAttr(stop), "base": IntAttr(base)},
        )

    def verify_(self) -> None:
        if self.stop.data < self.start.data:
            raise VerifyException(f"spatial.segment: [{self.start.data}, {self.stop.data}) "
                                  "is not a range")

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_string_literal(self.reduction.data)
        printer.print_string(f" {self.start.data} to {self.stop.data} base {self.base.data} ")
        _print_operands(printer, [] if self.value is None else [self.value])

    @classmethod
    def parse(cls, parser: Parser) -> SegmentOp:
        reduction = parser.parse_str_literal()
        start = parser.parse_integer()
        parser.parse_keyword("to")
        stop = parser.parse_integer()
        parser.parse_keyword("base")
        base = parser.parse_integer()
        values = _parse_operands(parser)
        if len(values) > 1:
            parser.raise_error("spatial.segment: folds one value")
        return cls(reduction, start, stop, base, values[0] if values else None)


@irdl_op_definition
class PCUOp(UnitOp):
    """A pattern compute unit: a SIMD pipeline of lanes x stages.

    `role` is what it does in its `nest` (`map_reduce`, `combine`, `elementwise`,
    `gather`), `mode` how its pipeline runs, `lanes` the lanes in use, `counters` its
    chain, `copies` the nest's copies it serves (one per lane for an element-wise unit).
    Its body is its program, in order: the values it reads (`spatial.ctr`, `spatial.in`),
    its datapath (`spatial.op`, each at a pipeline stage), what it sends
    (`spatial.emit`) and what it folds (`spatial.reduce` and its `spatial.segment`s).

        spatial.pcu @ew_0 elementwise mode elementwise "cell" lanes 1 counters [] at (0, 2) {
          %0 = spatial.in si0
          %1 = spatial.op tanh stage 0 (%0)
          spatial.emit vo0 (%1)
        }
    """

    name = "spatial.pcu"
    KIND: ClassVar[UnitKind] = UnitKind.PCU

    role = prop_def(PCURoleAttr)
    mode = prop_def(PCUModeAttr)
    nest = prop_def(StringAttr)
    lanes = prop_def(IntAttr)
    counters = prop_def(ArrayAttr[CounterAttr])
    copies = prop_def(DenseArrayBase)
    body = region_def("single_block")

    traits = lazy_traits_def(
        lambda: (SymbolOpInterface(), HasParent(DesignOp), NoTerminator())
    )

    def __init__(self, sym_name: str, site: Sequence[int] | None, body: Region | None = None,
                 **config: Attribute):
        if body is None or not body.blocks:
            body = Region(Block())
        super().__init__(sym_name, site, [body], **config)

    @property
    def stages(self) -> int:
        """Pipeline stages configured: the highest stage any op occupies, plus one."""
        return 1 + max((op.stage.data for op in self.body.block.ops
                        if isinstance(op, StageOp)), default=-1)

    def ports(self) -> set[str]:
        used: set[str] = set()
        for op in self.body.block.ops:
            if isinstance(op, InputOp):
                used.update(op.port_names)
            elif isinstance(op, EmitOp):
                used.add(op.port.port_name)
            elif isinstance(op, ReduceOp):
                used.add(op.output.port_name)
            elif isinstance(op, StageOp) and op.port is not None:
                used.update(port.port_name for port in op.port)
        return used

    def verify_config(self) -> None:
        if self.lanes.data < 1:
            raise self.fail(f"uses {self.lanes.data} lanes, at least 1 is needed")
        defined: set[SSAValue] = set()
        reduces = 0
        for n, op in enumerate(self.body.block.ops):
            for operand in op.operands:
                if operand not in defined:
                    raise self.fail(f"op {n} ({op.name}) uses a value not defined before it "
                                    "in the unit")
            defined.update(op.results)
            if isinstance(op, ReduceOp):
                reduces += 1
            if isinstance(op, SegmentOp) and not reduces:
                raise self.fail(f"op {n} (spatial.segment) comes before the spatial.reduce it "
                                "belongs to")
        if reduces > 1:
            raise self.fail(f"folds {reduces} reductions, a PCU folds at most one")
        for port in sorted(self.ports()):
            self.check_port(port)

    def print_config(self, printer: Printer) -> None:
        printer.print_string(f" {self.role.data} mode {self.mode.data} ")
        printer.print_string_literal(self.nest.data)
        printer.print_string(f" lanes {self.lanes.data} counters [")
        printer.print_list(self.counters.data, lambda counter: counter.print_body(printer))
        printer.print_string("]")
        copies = self.copies.get_values()
        if copies:
            printer.print_string(f" copies [{', '.join(map(str, copies))}]")

    def print_tail(self, printer: Printer) -> None:
        if self.body.block.first_op is not None:  # an empty body is left out
            printer.print_string(" ")
            printer.print_region(self.body, print_entry_block_args=False)

    @classmethod
    def parse_config(cls, parser: Parser) -> dict[str, Attribute]:
        role = PCURoleAttr(parser.parse_str_enum(PCURole))
        parser.parse_keyword("mode")
        mode = PCUModeAttr(parser.parse_str_enum(PCUMode))
        nest = StringAttr(parser.parse_str_literal())
        parser.parse_keyword("lanes")
        lanes = IntAttr(parser.parse_integer())
        parser.parse_keyword("counters")
        counters = parser.parse_comma_separated_list(
            parser.Delimiter.SQUARE, lambda: CounterAttr.parse_body(parser))
        copies: list[int] = []
        if parser.parse_optional_keyword("copies"):
            copies = parser.parse_comma_separated_list(
                parser.Delimiter.SQUARE, parser.parse_integer)
        return {"role": role, "mode": mode, "nest": nest, "lanes": lanes,
                "counters": ArrayAttr(counters), "copies": DenseArrayBase.from_list(i64, copies)}

    @classmethod
    def parse(cls, parser: Parser) -> PCUOp:
        name = parser.parse_symbol_name().data
        config = cls.parse_config(parser)
        site = _parse_site(parser)
        body = parser.parse_optional_region()
        op = cls(name, None if site is None else tuple(site.get_values()), body, **config)
        op.attributes |= parser.parse_optional_attr_dict()
        return op


@irdl_op_definition
class PMUOp(UnitOp):
    """A pattern memory unit: a banked scratchpad holding boxes of the program's memories.

    `role` (a `PMUKind`: weights, lookup-table, input, operand, ahead, state, buffer) is what
    `spatial-partition` decided it holds; `banking` how its banks serve reads (`strided`,
    `fifo`, `duplicated`); `bytes` what it holds in all, in `buffers` copies (N-buffering);
    `boxes` the parts of memories it holds; `holds` their initial contents by reference
    (weight arrays and slices, and the quantization, never the values); `lut` the lookup
    tables it holds (`#spatial.table`). Its read addressing is its banking and its boxes:
    a box is read by a chain of one counter per dimension (at most the architecture's
    `pmu.counters`); a table by the value looked up. Empty lists are left out of the
    syntax.

        spatial.pmu @w_0 weights strided bytes 64 buffers 1 at (0, 0) boxes ["w"[0:4:1, 0:4:1]]
            holds ["W"[0:4:1, 0:4:1] as "fp32"]
        spatial.pmu @t lookup-table strided bytes 8192 buffers 1 lut ["tanh" 1024 8.0 linear]
    """

    name = "spatial.pmu"
    KIND: ClassVar[UnitKind] = UnitKind.PMU

    role = prop_def(PMUKindAttr)
    banking = prop_def(BankingAttr)
    bytes = prop_def(IntAttr)
    buffers = prop_def(IntAttr)
    boxes = prop_def(ArrayAttr[BoxAttr])
    holds = prop_def(ArrayAttr[HoldingAttr])
    lut = prop_def(ArrayAttr[TableAttr])

    @property
    def pmu_kind(self) -> PMUKind:
        return self.role.data

    def print_config(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_identifier_or_string_literal(self.role.data)  # "lookup-table"
        printer.print_string(f" {self.banking.data} bytes {self.bytes.data} "
                             f"buffers {self.buffers.data}")

    def print_tail(self, printer: Printer) -> None:
        _print_list(printer, "boxes", self.boxes)
        _print_list(printer, "holds", self.holds)
        _print_list(printer, "lut", self.lut)

    @classmethod
    def parse_config(cls, parser: Parser) -> dict[str, Attribute]:
        role = PMUKindAttr(parser.parse_str_enum(PMUKind))
        banking = BankingAttr(parser.parse_str_enum(Banking))
        parser.parse_keyword("bytes")
        size = IntAttr(parser.parse_integer(allow_negative=False))
        parser.parse_keyword("buffers")
        buffers = IntAttr(parser.parse_integer(allow_negative=False))
        return {"role": role, "banking": banking, "bytes": size, "buffers": buffers}

    @classmethod
    def parse_tail(cls, parser: Parser) -> dict[str, Attribute]:
        return {
            "boxes": _parse_list(parser, "boxes", BoxAttr),
            "holds": _parse_list(parser, "holds", HoldingAttr),
            "lut": _parse_list(parser, "lut", TableAttr),
        }

    def verify_config(self) -> None:
        if self.buffers.data < 1:
            raise self.fail(f"buffers must be >= 1, got {self.buffers.data}")


@irdl_op_definition
class AGOp(UnitOp):
    """A DRAM address generator on the chip's left or right `edge`, loading `memory` from
    DRAM (an input, or weights streamed every step) or storing it (an output); `boxes`:
    what it moves when not the whole memory (weight slices streamed from DRAM).

        spatial.ag @x_in left load "x"
        spatial.ag @w_in right load "w" at (3, 24) boxes ["w"[0:16:1, 0:512:1]]
    """

    name = "spatial.ag"
    KIND: ClassVar[UnitKind] = UnitKind.AG

    edge = prop_def(AGEdgeAttr)
    direction = prop_def(AGDirectionAttr)
    memory = prop_def(StringAttr)
    boxes = prop_def(ArrayAttr[BoxAttr])

    def print_config(self, printer: Printer) -> None:
        printer.print_string(f" {self.edge.data} {self.direction.data} ")
        printer.print_string_literal(self.memory.data)

    def print_tail(self, printer: Printer) -> None:
        _print_list(printer, "boxes", self.boxes)

    @classmethod
    def parse_config(cls, parser: Parser) -> dict[str, Attribute]:
        edge = AGEdgeAttr(parser.parse_str_enum(AGEdge))
        direction = AGDirectionAttr(parser.parse_str_enum(AGDirection))
        memory = StringAttr(parser.parse_str_literal())
        return {"edge": edge, "direction": direction, "memory": memory}

    @classmethod
    def parse_tail(cls, parser: Parser) -> dict[str, Attribute]:
        return {"boxes": _parse_list(parser, "boxes", BoxAttr)}


# ---- the controller ---------------------------------------------------------------------------


@irdl_op_definition
class ControllerOp(IRDLOperation):
    """The schedule's sequential controller. Not a unit: ISCA'17 (§3.5) maps outer
    controllers onto the control blocks of the switches, so it is a switch of the corner
    mesh, `at (row, col)` once placed (`spatial-place` puts it at the architecture's
    controller switch). Control streams start (the enable, `@ctrl.co0`) and end (each
    unit's done token, `@ctrl.ci<k>`) at it; a switch control block has no port limit of
    the architecture's.

        spatial.controller @ctrl at (12, 12)
    """

    name = "spatial.controller"

    sym_name = prop_def(StringAttr)
    site = opt_prop_def(DenseArrayBase)

    traits = lazy_traits_def(lambda: (SymbolOpInterface(), HasParent(DesignOp)))

    def __init__(self, sym_name: str, site: Sequence[int] | None = None):
        properties: dict[str, Attribute] = {"sym_name": StringAttr(sym_name)}
        if site is not None:
            properties["site"] = _site_attr(site)  # type: ignore[assignment]
        super().__init__(properties=properties)

    @property
    def controller_id(self) -> str:
        return self.sym_name.data

    @property
    def site_value(self) -> tuple[int, int] | None:
        if self.site is None:
            return None
        row, col = (int(v) for v in self.site.iter_values())
        return row, col

    def verify_(self) -> None:
        if self.site is not None and len(tuple(self.site.iter_values())) != 2:
            raise VerifyException(f"{self.name} @{self.controller_id}: site must be (row, col)")

    def print(self, printer: Printer) -> None:
        printer.print_string(f" @{self.controller_id}")
        _print_site(printer, self.site)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> ControllerOp:
        name = parser.parse_symbol_name().data
        site = _parse_site(parser)
        op = cls(name, None if site is None else tuple(site.iter_values()))
        op.attributes |= parser.parse_optional_attr_dict()
        return op


# ---- streams ----------------------------------------------------------------------------------


def _endpoint_attr(unit: str, port: str) -> ArrayAttr:
    return ArrayAttr([SymbolRefAttr(unit), PortAttr.from_name(port)])


def _typed_endpoint(attr: Attribute) -> tuple[str, PortAttr]:
    """(unit, port) of a stream endpoint `[@unit, #spatial.port<...>]`."""
    if not isinstance(attr, ArrayAttr) or len(attr.data) != 2:
        raise VerifyException(f"a stream endpoint is [@unit, #spatial.port<...>], got {attr}")
    unit, port = attr.data
    if not isinstance(unit, SymbolRefAttr) or not isinstance(port, PortAttr):
        raise VerifyException(f"a stream endpoint is [@unit, #spatial.port<...>], got {attr}")
    return unit.root_reference.data, port


def _endpoint(attr: Attribute) -> tuple[str, str]:
    unit, port = _typed_endpoint(attr)
    return unit, port.port_name


@irdl_op_definition
class StreamOp(IRDLOperation):
    """A stream on one network from a producer's output port to consumers' input ports
    (several: multicast), with optional routed `paths`, one per sink: the switch
    coordinates (row, col) it crosses on the corner mesh.

        spatial.stream @s0 vector @w_0.vo0 -> @mr_0.vi0, @mr_1.vi0
        spatial.stream @s1 scalar @mr_0.so0 -> @ew_0.si0 paths [(0, 1), (0, 2)]
    """

    name = "spatial.stream"

    sym_name = prop_def(StringAttr)
    network = prop_def(NetworkAttr)
    source = prop_def(ArrayAttr)
    sinks = prop_def(ArrayAttr[ArrayAttr])
    paths = opt_prop_def(ArrayAttr[DenseArrayBase])

    traits = lazy_traits_def(lambda: (SymbolOpInterface(), HasParent(DesignOp)))

    def __init__(
        self,
        sym_name: str,
        network: str,
        source: tuple[str, str],
        sinks: Sequence[tuple[str, str]],
        paths: Sequence[Sequence[tuple[int, int]]] | None = None,
    ):
        properties: dict[str, Attribute] = {
            "sym_name": StringAttr(sym_name),
            "network": NetworkAttr(Network(network)),
            "source": _endpoint_attr(*source),
            "sinks": ArrayAttr([_endpoint_attr(*sink) for sink in sinks]),
        }
        if paths is not None:
            properties["paths"] = ArrayAttr(
                [
                    DenseArrayBase.from_list(i64, [c for site in path for c in site])
                    for path in paths
                ]
            )
        super().__init__(properties=properties)

    @property
    def stream_id(self) -> str:
        return self.sym_name.data

    @property
    def source_endpoint(self) -> tuple[str, str]:
        return _endpoint(self.source)

    @property
    def sink_endpoints(self) -> list[tuple[str, str]]:
        return [_endpoint(s) for s in self.sinks.data]

    @property
    def path_sites(self) -> list[list[tuple[int, int]]] | None:
        if self.paths is None:
            return None
        result = []
        for path in self.paths.data:
            flat = [int(v) for v in path.iter_values()]
            result.append([(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)])
        return result

    def fail(self, message: str) -> VerifyException:
        return VerifyException(f"spatial.stream @{self.stream_id}: {message}")

    def verify_(self) -> None:
        for endpoint in (self.source, *self.sinks.data):
            _typed_endpoint(endpoint)
        if not self.sinks.data:
            raise self.fail("needs at least one sink")
        if self.paths is not None:
            if len(self.paths.data) != len(self.sinks.data):
                raise self.fail(
                    f"has {len(self.paths.data)} paths for {len(self.sinks.data)} sinks"
                )
            for path in self.paths.data:
                if len(tuple(path.iter_values())) % 2:
                    raise self.fail("a path is a list of (row, col) switch coordinates")

    def verify_against(self, units: Mapping[str, Operation],
                       fed: dict[tuple[str, str], str]) -> None:
        """Checks that need the design: endpoints exist, directions and networks match,
        each port carries one stream (whether the ports exist on the chip's units is
        `rnnc.target.design_checks`' to say). `units` holds the controller too."""
        ends = [(self.source, PortDirection.OUT)]
        ends += [(sink, PortDirection.IN) for sink in self.sinks.data]
        for endpoint, direction in ends:
            unit, typed = _typed_endpoint(endpoint)
            port, network = typed.port_name, typed.network.data
            if unit not in units:
                raise self.fail(f"unknown unit @{unit}")
            if typed.direction.data != direction:
                raise self.fail(f"@{unit}.{port} is not an {direction}put port")
            if network != self.network.data:
                raise self.fail(
                    f"@{unit}.{port} is a {network} port, the stream is on the "
                    f"{self.network.data} network"
                )
            key = (unit, port)
            if key in fed:
                raise self.fail(f"@{unit}.{port} already carries stream @{fed[key]}")
            fed[key] = self.stream_id

    def print(self, printer: Printer) -> None:
        printer.print_string(f" @{self.stream_id} {self.network.data} ")
        unit, port = self.source_endpoint
        printer.print_string(f"@{unit}.{port} -> ")
        printer.print_string(", ".join(f"@{u}.{p}" for u, p in self.sink_endpoints))
        paths = self.path_sites
        if paths is not None:
            printer.print_string(" paths ")
            printer.print_string(
                " | ".join("[" + ", ".join(f"({r}, {c})" for r, c in path) + "]" for path in paths)
            )
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> StreamOp:
        name = parser.parse_symbol_name().data
        network = parser.parse_str_enum(Network)
        source = _parse_endpoint(parser)
        parser.parse_punctuation("->")
        sinks = [_parse_endpoint(parser)]
        while parser.parse_optional_punctuation(","):
            sinks.append(_parse_endpoint(parser))
        paths = None
        if parser.parse_optional_keyword("paths"):
            paths = [_parse_path(parser)]
            while parser.parse_optional_punctuation("|"):
                paths.append(_parse_path(parser))
        op = cls(name, network, source, sinks, paths)
        op.attributes |= parser.parse_optional_attr_dict()
        return op


def _parse_endpoint(parser: Parser) -> tuple[str, str]:
    """`@unit.port`: the symbol lexes with its `.port` suffix, which is split off."""
    symbol = parser.parse_symbol_name().data
    unit, dot, port = symbol.rpartition(".")
    if not dot:
        parser.raise_error(f"expected @unit.port, got @{symbol}")
    try:
        parse_port(port)
    except ValueError as error:
        parser.raise_error(str(error))
    return unit, port


def _parse_path(parser: Parser) -> list[tuple[int, int]]:
    def site() -> tuple[int, int]:
        parser.parse_punctuation("(")
        row = parser.parse_integer()
        parser.parse_punctuation(",")
        col = parser.parse_integer()
        parser.parse_punctuation(")")
        return row, col

    return parser.parse_comma_separated_list(parser.Delimiter.SQUARE, site)


def design_of(op: Operation) -> DesignOp | None:
    """The spatial.design in a module (the first one), or None."""
    for child in op.walk():
        if isinstance(child, DesignOp):
            return child
    return None


SPATIAL = Dialect(
    "spatial",
    [
        DesignOp,
        PCUOp,
        PMUOp,
        AGOp,
        ControllerOp,
        StreamOp,
        MemoryOp,
        BindOp,
        NestOp,
        PointOp,
        PhaseOp,
        CounterValueOp,
        InputOp,
        StageOp,
        EmitOp,
        ReduceOp,
        SegmentOp,
    ],
    [
        ArchAttr,
        PortAttr,
        PortDirectionAttr,
        NetworkAttr,
        PCURoleAttr,
        PCUModeAttr,
        PMUKindAttr,
        BankingAttr,
        InterpolationAttr,
        AGEdgeAttr,
        AGDirectionAttr,
        MemoryInitAttr,
        BindingDirectionAttr,
        PhaseKindAttr,
        BoxAttr,
        HoldingAttr,
        TableAttr,
        CounterAttr,
        WordType,
    ],
)
