"""The `spatial` dialect: units on the chip's grid and the streams between them.

Modelled on mlir-aie's tiles and flows and on Plasticine's units. A `spatial.design` holds
one design for one architecture: compute units (`spatial.pcu`), memory units
(`spatial.pmu`), DRAM address generators on the grid's left and right edges
(`spatial.ag`), streams (`spatial.stream`) from one producer port to one or more
consumer ports on the scalar, vector or control network, and the schedule's controller
(`spatial.controller`, a switch's control block that control streams start and end at).

A unit is logical (no site), partly pinned or placed: its optional `at (row, col)` is the
site the placer gives it (an AG sits at column -1 on the left edge or `cols` on the
right). A stream's optional `paths` (set by the router) lists, per sink, the switch
coordinates `(row, col)` it crosses on the `(rows+1) x (cols+1)` corner mesh.

Networks, unit kinds, PCU roles and modes, PMU kinds, banking and AG edges and directions
are enums defined here once (with enum attributes). A PMU's kind (`role`) is a typed
property; the rest of each unit's configuration (counter chain, the op of each pipeline
stage, reduction, what a memory holds -- by reference to a weight array and slice, never
inline values --, its banking and buffering) is still a dictionary whose fields are those
of the unit classes of `rnnc.target.machine`, the plain-data form of a design;
`machine_from_module` there reads a module into that form.

The design names its architecture (`#spatial.arch<"name", "digest">`) and copies none of
it: the op verifiers check what needs no architecture (enums, port names and directions,
stream networks, one stream per port, operands referring to earlier ops), and
`rnnc.target.design_checks.verify_design` checks the rest (sites, lanes, stages, ports per
unit kind, PMU capacity) against the architecture the driver's context holds. Ports are
typed (`#spatial.port<vector, in, 0>`), written short by network, direction and index:
`si0`, `so1` (scalar), `vi0`, `vo0` (vector), `ci0`, `co0` (control).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, ClassVar

from xdsl.dialects.builtin import (
    ArrayAttr,
    BoolAttr,
    DenseArrayBase,
    DictionaryAttr,
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
)
from xdsl.irdl import (
    IRDLOperation,
    irdl_attr_definition,
    irdl_op_definition,
    lazy_traits_def,
    opt_prop_def,
    prop_def,
    region_def,
    traits_def,
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
    STATE = "state"
    BUFFER = "buffer"


class Banking(StrEnum):
    """How a PMU's banks serve reads: an address per lane, a stream buffer, copies."""

    STRIDED = "strided"
    FIFO = "fifo"
    DUPLICATED = "duplicated"


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
class AGEdgeAttr(EnumAttribute[AGEdge], SpacedOpaqueSyntaxAttribute):
    name = "spatial.edge"


@irdl_attr_definition
class AGDirectionAttr(EnumAttribute[AGDirection], SpacedOpaqueSyntaxAttribute):
    name = "spatial.direction"


def is_value(enum: type[StrEnum], value: object) -> bool:
    """Whether `value` is one of `enum`'s values (Python 3.11's `in` takes members only)."""
    return isinstance(value, str) and value in enum._value2member_map_


def _choices(enum: type[StrEnum]) -> str:
    return ", ".join(enum)


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


def ref_ports(ref: str) -> list[str]:
    """The input ports an operand reference reads: `in:vi0` -> [vi0], `in:si0,si1.2` ->
    [si0, si1] (several ports: one per lane; `.2`: the third value the stream carries)."""
    if not ref.startswith("in:"):
        return []
    return ref[3:].split(".", maxsplit=1)[0].split(",")


# ---- plain data <-> attributes ----------------------------------------------------------------


def to_attr(value: Any) -> Attribute:
    """A plain value (dict, list, int, float, str, bool) as a builtin attribute."""
    if isinstance(value, bool):
        return BoolAttr.from_bool(value)
    if isinstance(value, int):
        return IntegerAttr(value, i64)
    if isinstance(value, float):
        return FloatAttr(value, f64)
    if isinstance(value, str):
        return StringAttr(value)
    if isinstance(value, Mapping):
        return DictionaryAttr({str(k): to_attr(v) for k, v in value.items()})
    if isinstance(value, Sequence):
        return ArrayAttr([to_attr(v) for v in value])
    raise TypeError(f"cannot store {type(value).__name__} in a spatial attribute")


def from_attr(attr: Attribute) -> Any:
    """The plain value of a builtin attribute made by `to_attr`."""
    if isinstance(attr, IntegerAttr):
        value = attr.value.data
        return (
            bool(value)
            if isinstance(attr.type, IntegerType) and attr.type.width.data == 1
            else value
        )
    if isinstance(attr, FloatAttr):
        return float(attr.value.data)
    if isinstance(attr, StringAttr):
        return attr.data
    if isinstance(attr, DictionaryAttr):
        return {k: from_attr(v) for k, v in attr.data.items()}
    if isinstance(attr, ArrayAttr):
        return [from_attr(v) for v in attr.data]
    raise VerifyException(f"unexpected attribute {attr} in a spatial configuration")


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
    """One design on one architecture: units and streams, and the program they run.

    `@main` names the function whose program the design implements (`function`; the design
    is not a symbol of the module, so the loop level can stay beside it until
    `spatial-strip`). `arch` names the architecture (see `ArchAttr`); the checks that need
    it (sites, lanes, stages, ports per unit kind, PMU capacity) are
    `rnnc.target.design_checks.verify_design`, which the driver runs after every pass and
    `spatial-verify` runs too. `program` holds what is not a unit: the memories, the model's
    inputs and outputs, the nests and the schedule (see `rnnc.target.machine.Machine`).

        spatial.design @main #spatial.arch<"plasticine-rnn", "9f2..."> precision "fp32"
            program {...} { ... }
    """

    name = "spatial.design"

    function = prop_def(StringAttr)
    arch = prop_def(ArchAttr)
    precision = prop_def(StringAttr)
    program = prop_def(DictionaryAttr)
    body = region_def("single_block")

    # a symbol table of its units, but not a symbol itself: `@main` names the function it
    # implements, which stays beside it (the loop level) until spatial-strip
    traits = traits_def(SymbolTable(), NoTerminator())

    def __init__(
        self,
        function: str,
        *,
        arch: ArchAttr,
        precision: str,
        program: Mapping[str, Any],
        body: Region,
    ):
        super().__init__(
            properties={
                "function": StringAttr(function),
                "arch": arch,
                "precision": StringAttr(precision),
                "program": to_attr(dict(program)),
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

    def verify_(self) -> None:
        units: dict[str, Operation] = {u.sym_name.data: u for u in self.units()}
        controller = self.controller()
        if controller is not None:
            units[controller.sym_name.data] = controller
        fed: dict[tuple[str, str], str] = {}
        for stream in self.streams():
            stream.verify_against(units, fed)

    def print(self, printer: Printer) -> None:
        printer.print_string(" @")
        printer.print_string(self.function.data)
        printer.print_string(" ")
        printer.print_attribute(self.arch)
        printer.print_string(" precision ")
        printer.print_attribute(self.precision)
        printer.print_string(" program ")
        printer.print_attribute(self.program)
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
        parser.parse_keyword("program")
        program = parser.parse_attribute()
        if not isinstance(program, DictionaryAttr):
            parser.raise_error("spatial.design: expected program {..}")
        body = parser.parse_region()
        if not body.blocks:
            body.add_block(Block())
        op = cls(name, arch=arch, precision=precision, program=from_attr(program), body=body)
        op.attributes |= parser.parse_optional_attr_dict()
        return op


# ---- units ------------------------------------------------------------------------------------


class UnitOp(IRDLOperation):
    """What every unit has: a symbol name, an optional site and a configuration."""

    KIND: ClassVar[UnitKind]

    sym_name = prop_def(StringAttr)
    site = opt_prop_def(DenseArrayBase)
    config = prop_def(DictionaryAttr)

    traits = lazy_traits_def(lambda: (SymbolOpInterface(), HasParent(DesignOp)))

    def __init__(
        self,
        sym_name: str,
        config: Mapping[str, Any],
        site: Sequence[int] | None = None,
        **typed: Attribute,
    ):
        """`typed`: the kind's typed properties (e.g. a PMU's `role`)."""
        properties: dict[str, Attribute] = {
            "sym_name": StringAttr(sym_name),
            "config": to_attr(dict(config)),
            **typed,
        }
        if site is not None:
            properties["site"] = _site_attr(site)  # type: ignore[assignment]
        super().__init__(properties=properties)

    @property
    def unit_id(self) -> str:
        return self.sym_name.data

    @property
    def site_value(self) -> tuple[int, int] | None:
        if self.site is None:
            return None
        row, col = (int(v) for v in self.site.iter_values())
        return row, col

    @property
    def settings(self) -> dict[str, Any]:
        return from_attr(self.config)

    def design(self) -> DesignOp:
        parent = self.parent_op()
        assert isinstance(parent, DesignOp)
        return parent

    def fail(self, message: str) -> VerifyException:
        return VerifyException(f"{self.name} @{self.unit_id}: {message}")

    def verify_(self) -> None:
        if self.site is not None and len(tuple(self.site.iter_values())) != 2:
            raise self.fail("site must be (row, col)")
        self.verify_config(self.settings)

    def verify_config(self, config: dict[str, Any]) -> None:
        """Check the kind's own configuration, as far as it does not depend on the chip
        (`rnnc.target.design_checks` checks it against the architecture); every unit kind
        (`spatial.pcu`, `spatial.pmu`, `spatial.ag`) overrides this."""
        raise NotImplementedError(f"{type(self).__name__} must define verify_config")

    def ports(self, config: dict[str, Any]) -> set[str]:
        """The ports the configuration uses; every unit kind overrides this."""
        raise NotImplementedError(f"{type(self).__name__} must define ports")

    def print(self, printer: Printer) -> None:
        printer.print_string(" @")
        printer.print_string(self.unit_id)
        self.print_summary(printer)
        _print_site(printer, self.site)
        printer.print_string(" ")
        printer.print_attribute(self.config)
        printer.print_op_attributes(self.attributes)

    def print_summary(self, printer: Printer) -> None:
        """Key fields in words before the configuration (they are also in it)."""

    @classmethod
    def parse(cls, parser: Parser) -> UnitOp:
        name = parser.parse_symbol_name().data
        typed = cls.parse_typed(parser)
        cls.parse_summary(parser)
        site = _parse_site(parser)
        config = parser.parse_attribute()
        if not isinstance(config, DictionaryAttr):
            parser.raise_error(f"{cls.name}: expected the configuration dictionary")
        site_value = None if site is None else tuple(site.iter_values())
        op = cls(name, from_attr(config), site_value, **typed)  # type: ignore[arg-type]
        op.attributes |= parser.parse_optional_attr_dict()
        return op

    @classmethod
    def parse_typed(cls, parser: Parser) -> dict[str, Attribute]:
        """The typed properties the custom syntax gives before the summary (none here)."""
        return {}

    #: The summary's grammar: `ident` an identifier, `str` a string, `int` an integer,
    #: anything else that keyword. The values are read back from the configuration.
    SUMMARY: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def parse_summary(cls, parser: Parser) -> None:
        for item in cls.SUMMARY:
            if item == "ident":
                parser.parse_identifier()
            elif item == "str":
                parser.parse_str_literal()
            elif item == "int":
                parser.parse_integer()
            else:
                parser.parse_keyword(item)

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


def _require(op: UnitOp, config: dict[str, Any], *keys: str) -> None:
    for key in keys:
        if key not in config:
            raise op.fail(f"configuration misses '{key}'")


@irdl_op_definition
class PCUOp(UnitOp):
    """A pattern compute unit: a SIMD pipeline of lanes x stages.

    Its configuration gives its `role` (`map_reduce`, `combine`, `elementwise`), `mode`
    (`map_reduce` or `elementwise`), the `nest` it belongs to, `lanes` in use, the
    `counters` of its chain, its `ops` (each with the pipeline `stage` it occupies, its
    `op`, `args` and `params`), its `reduce` (combiner, segments of the reduction index
    and the output port) and `emits` (output port and the values it sends).

        spatial.pcu @mr_0 map_reduce "cell" lanes 16 at (0, 1) {role = "map_reduce", ...}
        spatial.pcu @ew_0 elementwise "cell" lanes 4 {role = "elementwise", ...}

    A `gather` unit merges the streams on its inputs into one (writes of several units to
    a memory held by few PMUs); `in:<port>` references may name several ports
    (`in:si0,si1`: one per lane, i.e. per copy) and a field (`in:vi0.2`) of a stream that
    carries several values per iteration.
    """

    name = "spatial.pcu"
    KIND: ClassVar[UnitKind] = UnitKind.PCU
    SUMMARY: ClassVar[tuple[str, ...]] = ("ident", "str", "lanes", "int")

    def print_summary(self, printer: Printer) -> None:
        config = self.settings
        printer.print_string(f' {config.get("role", "?")} "{config.get("nest", "")}"')
        printer.print_string(f" lanes {config.get('lanes', 0)}")

    def ports(self, config: dict[str, Any]) -> set[str]:
        refs = [a for op in config.get("ops", []) for a in op.get("args", [])]
        refs += [v for e in config.get("emits", []) for v in e["values"]]
        used = {e["port"] for e in config.get("emits", [])}
        used |= {
            port
            for op in config.get("ops", [])
            if op.get("op") in ("read", "write") and "port" in op.get("params", {})
            for port in str(op["params"]["port"]).split(",")
        }
        reduce = config.get("reduce")
        if reduce:
            used.add(reduce["output"])
            refs += reduce.get("inputs", []) + [s["value"] for s in reduce.get("segments", [])]
        return used | {port for ref in refs for port in ref_ports(ref)}

    def verify_config(self, config: dict[str, Any]) -> None:
        _require(self, config, "role", "mode", "nest", "lanes", "counters")
        if not is_value(PCURole, config["role"]):
            raise self.fail(f"unknown role '{config['role']}' (expected {_choices(PCURole)})")
        if not is_value(PCUMode, config["mode"]):
            raise self.fail(f"unknown mode '{config['mode']}'")
        if config["lanes"] < 1:
            raise self.fail(f"uses {config['lanes']} lanes, at least 1 is needed")
        ops = config.get("ops", [])
        for n, op in enumerate(ops):
            for arg in op.get("args", []):
                if arg.startswith("%") and not int(arg[1:]) < n:
                    raise self.fail(f"op {n} uses {arg}, which is not an earlier op")
        for port in sorted(self.ports(config)):
            self.check_port(port)


@irdl_op_definition
class PMUOp(UnitOp):
    """A pattern memory unit: a banked scratchpad holding a box of one memory.

    Its `role` (a `PMUKind`: weights, lookup-table, input, operand, state, buffer) is what
    `spatial-partition` decided it holds; the emitter and the simulator read it. Its
    configuration gives the `memory` and the `region` of it held (per dimension
    [start, stop)), `buffers` (N-buffering), `bytes` held, `banking` (`strided`, `fifo`,
    `duplicated`), its read address `pattern`, what it `holds` initially (a weight array
    and slices, and the quantization, never the values) or the lookup tables (`lut`).

        spatial.pmu @w_0 weights "w" bytes 16384 buffers 1 strided {memory = "w", ...}
        spatial.pmu @h_0 state "h" bytes 2048 buffers 2 strided at (0, 0) {memory = "h", ...}
    """

    name = "spatial.pmu"
    KIND: ClassVar[UnitKind] = UnitKind.PMU
    SUMMARY: ClassVar[tuple[str, ...]] = ("str", "bytes", "int", "buffers", "int", "ident")

    role = prop_def(PMUKindAttr)

    @property
    def pmu_kind(self) -> PMUKind:
        return self.role.data

    @classmethod
    def parse_typed(cls, parser: Parser) -> dict[str, Attribute]:
        return {"role": PMUKindAttr(parser.parse_str_enum(PMUKind))}

    def print_summary(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_identifier_or_string_literal(self.pmu_kind.value)
        config = self.settings
        boxes = config.get("boxes", [])
        memories = "+".join(dict.fromkeys(box.get("memory", "?") for box in boxes))
        printer.print_string(f' "{memories}" bytes {config.get("bytes", 0)}')
        printer.print_string(f" buffers {config.get('buffers', 1)} {config.get('banking', '?')}")

    def ports(self, config: dict[str, Any]) -> set[str]:
        return set()

    def verify_config(self, config: dict[str, Any]) -> None:
        _require(self, config, "boxes", "buffers", "bytes", "banking")
        if not is_value(Banking, config["banking"]):
            raise self.fail(
                f"unknown banking '{config['banking']}' (expected {_choices(Banking)})"
            )
        if config["buffers"] < 1:
            raise self.fail(f"buffers must be >= 1, got {config['buffers']}")


@irdl_op_definition
class AGOp(UnitOp):
    """A DRAM address generator on the chip's left or right edge, loading a memory from
    DRAM (an input, or weights streamed every step) or storing one (an output).

        spatial.ag @x_in left load "x" {edge = "left", direction = "load", memory = "x"}
        spatial.ag @y_out right store "y" at (3, 24) {edge = "right", ...}
    """

    name = "spatial.ag"
    KIND: ClassVar[UnitKind] = UnitKind.AG
    SUMMARY: ClassVar[tuple[str, ...]] = ("ident", "ident", "str")

    def print_summary(self, printer: Printer) -> None:
        config = self.settings
        edge, direction = config.get("edge", "?"), config.get("direction", "?")
        printer.print_string(f' {edge} {direction} "{config.get("memory", "")}"')

    def ports(self, config: dict[str, Any]) -> set[str]:
        return set()

    def verify_config(self, config: dict[str, Any]) -> None:
        _require(self, config, "edge", "direction", "memory")
        if not is_value(AGEdge, config["edge"]):
            raise self.fail(f"unknown edge '{config['edge']}' (expected left or right)")
        if not is_value(AGDirection, config["direction"]):
            raise self.fail(f"unknown direction '{config['direction']}' (expected load or store)")


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
    [DesignOp, PCUOp, PMUOp, AGOp, ControllerOp, StreamOp],
    [
        ArchAttr,
        PortAttr,
        PortDirectionAttr,
        NetworkAttr,
        PCURoleAttr,
        PCUModeAttr,
        PMUKindAttr,
        BankingAttr,
        AGEdgeAttr,
        AGDirectionAttr,
    ],
)
