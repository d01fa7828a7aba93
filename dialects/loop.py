"""The `loop` dialect: loop nests over explicit memories, with hardware design parameters.

Modelled on the parallel patterns of the Spatial language. A program is a set of memories
(memrefs in an explicit memory space: off-chip `dram`, on-chip scratchpad `sram`, or `reg`)
and loops that read and write them:

* `loop.sequential` -- a counter whose iterations run strictly one after the other (the
  time loop of a recurrence);
* `loop.foreach` -- a multi-dimensional counter whose iterations are independent, with a
  `par` (unroll) factor per dimension;
* `loop.reduce` -- a map-reduce: a body evaluated per index and a combiner (`add`, `mul`,
  `max`, `min`) folding the values, with `par` (parallel reduction units) and `vec` (SIMD
  lanes) factors. Its iteration space can be a concatenation of segments, each with its
  own body: one reduction over `[x, h]` reads `x` in the first segment and `h` in the
  second, without copying them into one memory.

Memories may be N-buffered (`loop.alloc buffers 2`): every access to such a memory selects
one of its copies with `buffer %t + c`, the copy `(%t + c) mod N`. Loads and stores index a
memory with one `index` value plus a constant offset per dimension (`%w[%d, %i + 8, %k]`);
index arithmetic beyond that uses `arith` (address generation), while the element-wise
datapath -- arithmetic and the ONNX nonlinearities, which a precision mode can lower to
lookup tables -- is in this dialect. `loop.from_tensor` and `loop.to_tensor` are the
boundary between the function's tensor arguments/results and memories, so a loop-level
`func.func @main` keeps the tensor signature of the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from functools import cache
from typing import ClassVar

from xdsl.dialects.builtin import (
    I64,
    AnyFloat,
    DenseArrayBase,
    Float64Type,
    FloatAttr,
    IndexType,
    IntegerAttr,
    MemRefType,
    TensorType,
    UnitAttr,
    f64,
    i1,
    i64,
)
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import (
    Attribute,
    Block,
    BlockArgument,
    Dialect,
    Operation,
    Region,
    SpacedOpaqueSyntaxAttribute,
    SSAValue,
)
from xdsl.irdl import (
    AttrSizedOperandSegments,
    IRDLOperation,
    VarConstraint,
    base,
    irdl_attr_definition,
    irdl_op_definition,
    lazy_traits_def,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_region_def,
)
from xdsl.parser import AttrParser, Parser, UnresolvedOperand
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern
from xdsl.printer import Printer
from xdsl.traits import (
    HasCanonicalizationPatternsTrait,
    HasParent,
    IsTerminator,
    MemoryAllocEffect,
    MemoryReadEffect,
    MemoryWriteEffect,
    Pure,
    RecursiveMemoryEffect,
    SingleBlockImplicitTerminator,
    ensure_terminator,
)
from xdsl.utils.exceptions import VerifyException


class MemorySpace(StrEnum):
    """Where a memory lives: off-chip DRAM, on-chip scratchpad (a memory unit), registers."""

    DRAM = "dram"
    SRAM = "sram"
    REG = "reg"


#: The memory space names, in the order messages list them.
MEMORY_SPACES = tuple(space.value for space in MemorySpace)

class Combiner(StrEnum):
    """What a `loop.reduce` folds its values with."""

    ADD = "add"
    MUL = "mul"
    MAX = "max"
    MIN = "min"


#: The combiner names, in the order messages list them.
COMBINERS = tuple(combiner.value for combiner in Combiner)


# ---- attributes ------------------------------------------------------------------------------


@irdl_attr_definition
class MemorySpaceAttr(EnumAttribute[MemorySpace]):
    """Where a memory lives: `#loop.space<dram>`, `#loop.space<sram>` or `#loop.space<reg>`."""

    name = "loop.space"

    def __init__(self, space: MemorySpace | str):
        super().__init__(MemorySpace(space))

    @classmethod
    def parse_parameter(cls, parser: AttrParser) -> MemorySpace:
        with parser.in_angle_brackets():
            space = parser.parse_identifier()
            if space not in MEMORY_SPACES:
                parser.raise_error(
                    f"#loop.space: unknown memory space '{space}' (expected one of "
                    f"{', '.join(MEMORY_SPACES)})"
                )
            return MemorySpace(space)

    def print_parameter(self, printer: Printer) -> None:
        printer.print_string(f"<{self.data.value}>")


@irdl_attr_definition
class CombinerAttr(EnumAttribute[Combiner], SpacedOpaqueSyntaxAttribute):
    """The combiner of a `loop.reduce`: `#loop<combiner add>` in the generic form."""

    name = "loop.combiner"


def memory_type(element: Attribute, shape: Sequence[int], space: str) -> MemRefType:
    """`memref<shape x element, #loop.space<space>>`."""
    return MemRefType(element, list(shape), memory_space=MemorySpaceAttr(space))


def space_of(memref: SSAValue) -> str:
    """The memory space name of a memref value (`sram`, ...)."""
    ty = memref.type
    assert isinstance(ty, MemRefType) and isinstance(ty.memory_space, MemorySpaceAttr)
    return ty.memory_space.data.value


def buffers_of(memref: SSAValue) -> int:
    """How many copies the memory has: the `buffers` of its `loop.alloc`, else 1."""
    owner = memref.owner
    return owner.buffer_count if isinstance(owner, AllocOp) else 1


def _memref_type(op: Operation, what: str, value: SSAValue) -> MemRefType:
    ty = value.type
    if not isinstance(ty, MemRefType) or not isinstance(ty.memory_space, MemorySpaceAttr):
        raise VerifyException(
            f"{op.name}: {what} must be a memref in a #loop.space memory space, got {ty}"
        )
    if any(d < 0 for d in ty.get_shape()):
        raise VerifyException(f"{op.name}: {what} must have a static shape, got {ty}")
    return ty


def _int_array(values: Sequence[int]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, list(values))


@cache  # attributes are immutable: decode each one once
def _ints(attr: DenseArrayBase) -> tuple[int, ...]:
    return tuple(int(v) for v in attr.iter_values())


def _positive(op: Operation, what: str, values: Sequence[int]) -> None:
    for v in values:
        if v < 1:
            raise VerifyException(f"{op.name}: {what} must be >= 1, got {list(values)}")


# ---- memories ---------------------------------------------------------------------------------


class RemoveWriteOnlyMemory(RewritePattern):
    """Erases a `loop.alloc` whose memory is only stored to, with the stores: nothing ever
    reads what they write (e.g. an intermediate buffer after `loop-fuse` forwarded every
    value through registers)."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if not isinstance(op, AllocOp):
            return
        users = [use.operation for use in op.memref.uses]
        if not all(isinstance(user, StoreOp) for user in users):
            return
        for user in users:
            rewriter.erase(user)
        rewriter.erase(op)


class AllocCanonicalization(HasCanonicalizationPatternsTrait):
    @classmethod
    def get_canonicalization_patterns(cls) -> tuple[RewritePattern, ...]:
        return (RemoveWriteOnlyMemory(),)


@irdl_op_definition
class AllocOp(IRDLOperation):
    """Allocates a memory in the memory space of its type, with `buffers` copies.

    Contents are undefined until written, or, with `zero`, zero in every copy (on hardware
    the memory unit's initial contents, loaded with the configuration). An N-buffered
    memory (N > 1) is N copies of the shape; every access selects one with `buffer`. On
    hardware it is one N-buffered memory unit, e.g. a hidden state that step t reads from
    one copy while writing the next.

        %h = loop.alloc zero buffers 2 : memref<1x1x8xf32, #loop.space<sram>>
        %g = loop.alloc : memref<1x1x8xf32, #loop.space<sram>>
    """

    name = "loop.alloc"

    buffers = prop_def(IntegerAttr[I64], default_value=IntegerAttr(1, i64))
    zero = opt_prop_def(UnitAttr)
    memref = result_def(MemRefType)

    traits = traits_def(MemoryAllocEffect(), AllocCanonicalization())
    assembly_format = "(`zero` $zero^)? (`buffers` $buffers^)? attr-dict `:` type($memref)"

    def __init__(self, memref_type: MemRefType, buffers: int = 1, zero: bool = False):
        properties: dict[str, Attribute] = {"buffers": IntegerAttr(buffers, i64)}
        if zero:
            properties["zero"] = UnitAttr()
        super().__init__(result_types=[memref_type], properties=properties)

    @property
    def zeroed(self) -> bool:
        """Whether the memory starts as zeros (else undefined)."""
        return self.zero is not None

    @property
    def buffer_count(self) -> int:
        return self.buffers.value.data

    def verify_(self) -> None:
        _memref_type(self, "the result", self.memref)
        if self.buffer_count < 1:
            raise VerifyException(f"loop.alloc: buffers must be >= 1, got {self.buffer_count}")


@irdl_op_definition
class FromTensorOp(IRDLOperation):
    """A memory initialised with the contents of a tensor (a function argument, a weight).

    The boundary from the tensor world: on hardware the memory is loaded before the program
    runs (weights into scratchpads, inputs into DRAM). Shape and element type must match.

        %w = loop.from_tensor %W : tensor<1x32x4xf32> -> memref<1x32x4xf32, #loop.space<sram>>
        %x = loop.from_tensor %X : tensor<5x1x4xf32> -> memref<5x1x4xf32, #loop.space<dram>>
    """

    name = "loop.from_tensor"

    tensor = operand_def(TensorType)
    memref = result_def(MemRefType)

    traits = traits_def(MemoryAllocEffect(), MemoryWriteEffect())
    assembly_format = "$tensor attr-dict `:` type($tensor) `->` type($memref)"

    def __init__(self, tensor: SSAValue, space: str):
        ty = tensor.type
        assert isinstance(ty, TensorType)
        super().__init__(
            operands=[tensor],
            result_types=[memory_type(ty.get_element_type(), ty.get_shape(), space)],
        )

    def verify_(self) -> None:
        _same_shape(self, self.tensor.type, _memref_type(self, "the result", self.memref))


@irdl_op_definition
class ToTensorOp(IRDLOperation):
    """The contents of a (single-buffered) memory as a tensor value, e.g. a function result.

    %Y = loop.to_tensor %y : memref<5x1x1x8xf32, #loop.space<dram>> -> tensor<5x1x1x8xf32>
    func.return %Y : tensor<5x1x1x8xf32>
    """

    name = "loop.to_tensor"

    memref = operand_def(MemRefType)
    tensor = result_def(TensorType)

    traits = traits_def(MemoryReadEffect())
    assembly_format = "$memref attr-dict `:` type($memref) `->` type($tensor)"

    def __init__(self, memref: SSAValue):
        ty = memref.type
        assert isinstance(ty, MemRefType)
        super().__init__(
            operands=[memref], result_types=[TensorType(ty.get_element_type(), ty.get_shape())]
        )

    def verify_(self) -> None:
        _same_shape(self, self.tensor.type, _memref_type(self, "operand 'memref'", self.memref))
        if buffers_of(self.memref) != 1:
            raise VerifyException(
                f"loop.to_tensor: operand 'memref' has {buffers_of(self.memref)} buffers, "
                "expected a single-buffered memory"
            )


def _same_shape(op: Operation, tensor: Attribute, memref: MemRefType) -> None:
    assert isinstance(tensor, TensorType)
    if tuple(tensor.get_shape()) != tuple(memref.get_shape()) or (
        tensor.get_element_type() != memref.get_element_type()
    ):
        raise VerifyException(
            f"{op.name}: the tensor {tensor} and the memref {memref} must have the same "
            "shape and element type"
        )


class AccessOp(IRDLOperation):
    """What loads and stores share: the memory, one index per dimension plus a constant
    offset, and the buffer selector of an N-buffered memory."""

    memref = operand_def(MemRefType)
    indices = var_operand_def(IndexType)
    buffer = opt_operand_def(IndexType)
    offsets = prop_def(DenseArrayBase)
    buffer_offset = opt_prop_def(IntegerAttr[I64])

    irdl_options = (AttrSizedOperandSegments(as_property=True),)

    @property
    def memref_type(self) -> MemRefType:
        ty = self.memref.type
        assert isinstance(ty, MemRefType)
        return ty

    @property
    def index_offsets(self) -> tuple[int, ...]:
        return _ints(self.offsets)

    @property
    def has_selector(self) -> bool:
        return self.buffer is not None or self.buffer_offset is not None

    @property
    def selector_offset(self) -> int:
        return 0 if self.buffer_offset is None else self.buffer_offset.value.data

    def with_selector(self, selector: tuple[SSAValue | None, int] | None) -> AccessOp:
        """A new access like this one that selects buffer `selector` (value, offset).

        Every access op (`loop.load`, `loop.store`) overrides this with its own builder."""
        raise TypeError(f"{type(self).__name__} does not define with_selector")

    def verify_access(self) -> None:
        ty = _memref_type(self, "operand 'memref'", self.memref)
        rank = ty.get_num_dims()
        if len(self.indices) != rank:
            raise VerifyException(
                f"{self.name}: operand 'indices' has {len(self.indices)} values, expected "
                f"{rank} (one per dimension of {ty})"
            )
        if len(self.index_offsets) != rank:
            raise VerifyException(
                f"{self.name}: property 'offsets' has {len(self.index_offsets)} entries, "
                f"expected {rank} (one per dimension of {ty})"
            )
        self._verify_static_bounds(ty)
        buffers = buffers_of(self.memref)
        if buffers > 1 and not self.has_selector:
            raise VerifyException(
                f"{self.name}: the memory has {buffers} buffers, so the access needs a "
                "buffer selector ('buffer %t + c')"
            )
        if buffers == 1 and self.has_selector:
            raise VerifyException(
                f"{self.name}: operand 'buffer' given, but the memory is single-buffered"
            )

    def _verify_static_bounds(self, ty: MemRefType) -> None:
        """An index that is a loop counter plus a constant ranges over a known interval,
        which must lie inside its dimension."""
        for dim, (index, offset) in enumerate(zip(self.indices, self.index_offsets, strict=True)):
            trips = _counter_trips(index)
            size = ty.get_shape()[dim]
            if trips is None or trips < 1 or size < 0:
                continue
            low, high = offset, offset + trips - 1
            if low < 0 or high >= size:
                raise VerifyException(
                    f"{self.name}: index {dim} ranges over [{low}, {high}], outside dimension "
                    f"{dim} of {ty} (size {size})"
                )

    # custom syntax: %m[%i, %j + 8] buffer %t + 1 : memref<...>

    def print_access(self, printer: Printer) -> None:
        printer.print_operand(self.memref)
        printer.print_string("[")
        printer.print_list(
            zip(self.indices, self.index_offsets, strict=True),
            lambda pair: _print_offset_value(printer, *pair),
        )
        printer.print_string("]")
        if self.has_selector:
            printer.print_string(" buffer ")
            _print_offset_value(printer, self.buffer, self.selector_offset)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.memref.type)

    @staticmethod
    def parse_access(
        parser: Parser,
    ) -> tuple[
        UnresolvedOperand,
        list[tuple[UnresolvedOperand, int]],
        tuple[UnresolvedOperand | None, int] | None,
        dict[str, Attribute],
        MemRefType,
    ]:
        memref = parser.parse_unresolved_operand()
        indices = parser.parse_comma_separated_list(
            parser.Delimiter.SQUARE, lambda: _parse_offset_value(parser, required=True)
        )
        selector = None
        if parser.parse_optional_keyword("buffer"):
            selector = _parse_offset_value(parser, required=False)
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        ty = parser.parse_type()
        if not isinstance(ty, MemRefType):
            parser.raise_error(f"expected a memref type, got {ty}")
        return memref, indices, selector, attributes, ty  # type: ignore[return-value]


def _print_offset_value(printer: Printer, value: SSAValue | None, offset: int) -> None:
    """`%v`, `%v + 3`, `%v - 3` or `3`."""
    if value is None:
        printer.print_string(str(offset))
        return
    printer.print_operand(value)
    if offset:
        printer.print_string(f" {'+' if offset > 0 else '-'} {abs(offset)}")


def _parse_offset_value(parser: Parser, *, required: bool) -> tuple[UnresolvedOperand | None, int]:
    value = parser.parse_optional_unresolved_operand()
    if value is None:
        if required:
            parser.raise_error("expected an index value ('%i' or '%i + 3')")
        return None, parser.parse_integer()
    if parser.parse_optional_punctuation("+"):
        return value, parser.parse_integer(allow_negative=False)
    if parser.parse_optional_punctuation("-"):
        return value, -parser.parse_integer(allow_negative=False)
    return value, 0


def _access_operands(
    parser: Parser,
    indices: list[tuple[UnresolvedOperand | None, int]],
    selector: tuple[UnresolvedOperand | None, int] | None,
) -> tuple[list[SSAValue], list[SSAValue], dict[str, Attribute]]:
    index = IndexType()
    resolved = [parser.resolve_operand(v, index) for v, _ in indices if v is not None]
    properties: dict[str, Attribute] = {"offsets": _int_array([o for _, o in indices])}
    buffer: list[SSAValue] = []
    if selector is not None:
        if selector[0] is not None:
            buffer = [parser.resolve_operand(selector[0], index)]
        properties["buffer_offset"] = IntegerAttr(selector[1], i64)
    return resolved, buffer, properties


@irdl_op_definition
class LoadOp(AccessOp):
    """Reads one element: `memref[indices[0] + offsets[0], ...]` of the selected buffer.

    Inside loops it runs once per iteration (per lane).

        %w = loop.load %w_mem[%d, %i + 8, %k] : memref<1x32x4xf32, #loop.space<sram>>
        %h = loop.load %h_mem[%d, %b, %k] buffer %t : memref<1x1x8xf32, #loop.space<sram>>
    """

    name = "loop.load"

    result = result_def()

    traits = traits_def(MemoryReadEffect())

    def __init__(
        self,
        memref: SSAValue,
        indices: Sequence[SSAValue],
        offsets: Sequence[int] | None = None,
        selector: tuple[SSAValue | None, int] | None = None,
    ):
        ty = memref.type
        assert isinstance(ty, MemRefType)
        buffer, properties = _selector_parts(indices, offsets, selector)
        super().__init__(
            operands=[memref, indices, buffer],
            result_types=[ty.get_element_type()],
            properties=properties,
        )

    def with_selector(self, selector: tuple[SSAValue | None, int] | None) -> LoadOp:
        return LoadOp(self.memref, self.indices, self.index_offsets, selector)

    def verify_(self) -> None:
        self.verify_access()
        element = self.memref_type.get_element_type()
        if self.result.type != element:
            raise VerifyException(
                f"loop.load: the result has type {self.result.type}, expected {element} "
                f"(the element type of {self.memref_type})"
            )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        self.print_access(printer)

    @classmethod
    def parse(cls, parser: Parser) -> LoadOp:
        memref, indices, selector, attributes, ty = cls.parse_access(parser)
        resolved, buffer, properties = _access_operands(parser, indices, selector)
        op = cls.build(
            operands=[parser.resolve_operand(memref, ty), resolved, buffer],
            result_types=[ty.get_element_type()],
            properties=properties,
        )
        op.attributes |= attributes
        return op


@irdl_op_definition
class StoreOp(AccessOp):
    """Writes `value` to one element, addressed like `loop.load`.

    Not allowed inside a `loop.reduce` body (a map function only reads).

        loop.store %v, %g[%d, %b, %i] : memref<1x1x8xf32, #loop.space<sram>>
        loop.store %hn, %h_mem[%d, %b, %i] buffer %t + 1 : memref<1x1x8xf32, #loop.space<sram>>
    """

    name = "loop.store"

    value = operand_def()

    traits = traits_def(MemoryWriteEffect())

    def __init__(
        self,
        value: SSAValue,
        memref: SSAValue,
        indices: Sequence[SSAValue],
        offsets: Sequence[int] | None = None,
        selector: tuple[SSAValue | None, int] | None = None,
    ):
        buffer, properties = _selector_parts(indices, offsets, selector)
        super().__init__(operands=[value, memref, indices, buffer], properties=properties)

    def with_selector(self, selector: tuple[SSAValue | None, int] | None) -> StoreOp:
        return StoreOp(self.value, self.memref, self.indices, self.index_offsets, selector)

    def verify_(self) -> None:
        self.verify_access()
        element = self.memref_type.get_element_type()
        if self.value.type != element:
            raise VerifyException(
                f"loop.store: operand 'value' has type {self.value.type}, expected {element} "
                f"(the element type of {self.memref_type})"
            )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.value)
        printer.print_string(", ")
        self.print_access(printer)

    @classmethod
    def parse(cls, parser: Parser) -> StoreOp:
        value = parser.parse_unresolved_operand()
        parser.parse_punctuation(",")
        memref, indices, selector, attributes, ty = cls.parse_access(parser)
        resolved, buffer, properties = _access_operands(parser, indices, selector)
        op = cls.build(
            operands=[
                parser.resolve_operand(value, ty.get_element_type()),
                parser.resolve_operand(memref, ty),
                resolved,
                buffer,
            ],
            properties=properties,
        )
        op.attributes |= attributes
        return op


def _selector_parts(
    indices: Sequence[SSAValue],
    offsets: Sequence[int] | None,
    selector: tuple[SSAValue | None, int] | None,
) -> tuple[list[SSAValue], dict[str, Attribute]]:
    properties: dict[str, Attribute] = {
        "offsets": _int_array(offsets if offsets is not None else [0] * len(indices))
    }
    buffer: list[SSAValue] = []
    if selector is not None:
        if selector[0] is not None:
            buffer = [selector[0]]
        properties["buffer_offset"] = IntegerAttr(selector[1], i64)
    return buffer, properties


# ---- loops ------------------------------------------------------------------------------------


@irdl_op_definition
class YieldOp(IRDLOperation):
    """Ends a loop body. A `loop.reduce` body yields the value of its map function; the
    bodies of `loop.foreach` and `loop.sequential` yield nothing (and print without it).

        %p = loop.mul %w, %x : f32
        loop.yield %p : f32
    """

    name = "loop.yield"

    values = var_operand_def()

    traits = lazy_traits_def(
        lambda: (IsTerminator(), HasParent(SequentialOp, ForeachOp, ReduceOp), Pure())
    )
    assembly_format = "($values^ `:` type($values))? attr-dict"

    def __init__(self, *values: SSAValue):
        super().__init__(operands=[list(values)])


def _print_counter_names(printer: Printer, block: Block) -> None:
    printer.print_list(block.args, lambda a: printer.print_block_argument(a, print_type=False))


def _parse_int_tuple(parser: Parser) -> list[int]:
    return parser.parse_comma_separated_list(
        parser.Delimiter.PAREN, lambda: parser.parse_integer(allow_negative=False)
    )


def _counter_trips(value: SSAValue) -> int | None:
    """How many values the loop counter `value` takes (0 .. n-1), or None if it is not the
    counter of a `loop.sequential`, `loop.foreach` or `loop.reduce` segment."""
    if not isinstance(value, BlockArgument):
        return None
    block, op = value.block, value.block.parent_op()
    if isinstance(op, SequentialOp):
        return op.step_count
    if isinstance(op, ForeachOp) and value.index < len(op.shape):
        return op.shape[value.index]
    if isinstance(op, ReduceOp) and block.parent is not None:
        segment = list(op.segments).index(block.parent)
        return op.lengths[segment] if segment < len(op.lengths) else None
    return None


def _verify_counters(op: Operation, block: Block, count: int) -> None:
    if len(block.args) != count or any(not isinstance(a.type, IndexType) for a in block.args):
        raise VerifyException(
            f"{op.name}: the body must have {count} 'index' argument(s) (one per loop "
            f"dimension), got ({', '.join(str(a.type) for a in block.args)})"
        )


@irdl_op_definition
class SequentialOp(IRDLOperation):
    """`for %t in 0 .. steps-1`, strictly in order: step t+1 starts after step t ends.

    The time loop of a recurrence. State carried between steps lives in memories.

        loop.sequential %t in 25 {
          loop.foreach (%i) in (512) par (4) { ... }
        }
    """

    name = "loop.sequential"

    steps = prop_def(IntegerAttr[I64])
    body = region_def("single_block")

    traits = lazy_traits_def(
        lambda: (SingleBlockImplicitTerminator(YieldOp), RecursiveMemoryEffect())
    )

    def __init__(self, steps: int, body: Region):
        super().__init__(properties={"steps": IntegerAttr(steps, i64)}, regions=[body])

    @property
    def step_count(self) -> int:
        return self.steps.value.data

    @property
    def counter(self) -> SSAValue:
        return self.body.block.args[0]

    def verify_(self) -> None:
        if self.step_count < 0:
            raise VerifyException(f"loop.sequential: steps must be >= 0, got {self.step_count}")
        _verify_counters(self, self.body.block, 1)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        _print_counter_names(printer, self.body.block)
        printer.print_string(f" in {self.step_count} ")
        printer.print_region(self.body, print_entry_block_args=False, print_block_terminators=False)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> SequentialOp:
        counter = parser.parse_argument(expect_type=False).resolve(IndexType())
        parser.parse_keyword("in")
        steps = parser.parse_integer(allow_negative=False)
        op = cls(steps, parser.parse_region([counter]))
        op.attributes |= parser.parse_optional_attr_dict()
        ensure_terminator(op, SingleBlockImplicitTerminator(YieldOp))
        return op


@irdl_op_definition
class ForeachOp(IRDLOperation):
    """`for (%i0, %i1, ...) in (E0, E1, ...)` with independent iterations, `par` copies of
    the body per dimension running side by side (the paper's `hu` on hidden units).

    Iterations must not conflict: no iteration may write an element that another reads or
    writes (the interpreter checks this).

        loop.foreach (%d, %b, %i) in (1, 1, 512) par (1, 1, 4) {
          ...
        }
    """

    name = "loop.foreach"

    extents = prop_def(DenseArrayBase)
    par = prop_def(DenseArrayBase)
    body = region_def("single_block")

    traits = lazy_traits_def(
        lambda: (SingleBlockImplicitTerminator(YieldOp), RecursiveMemoryEffect())
    )

    def __init__(self, extents: Sequence[int], body: Region, par: Sequence[int] | None = None):
        super().__init__(
            properties={
                "extents": _int_array(extents),
                "par": _int_array(par if par is not None else [1] * len(extents)),
            },
            regions=[body],
        )

    @property
    def shape(self) -> tuple[int, ...]:
        return _ints(self.extents)

    @property
    def par_factors(self) -> tuple[int, ...]:
        return _ints(self.par)

    @property
    def counters(self) -> tuple[SSAValue, ...]:
        return tuple(self.body.block.args)

    @property
    def trip_count(self) -> int:
        count = 1
        for e in self.shape:
            count *= e
        return count

    def verify_(self) -> None:
        shape = self.shape
        if not shape:
            raise VerifyException("loop.foreach: expected at least one dimension")
        _positive(self, "extents", shape)
        if len(self.par_factors) != len(shape):
            raise VerifyException(
                f"loop.foreach: property 'par' has {len(self.par_factors)} entries, expected "
                f"{len(shape)} (one per dimension)"
            )
        _positive(self, "par", self.par_factors)
        _verify_counters(self, self.body.block, len(shape))

    def print(self, printer: Printer) -> None:
        printer.print_string(" (")
        _print_counter_names(printer, self.body.block)
        printer.print_string(f") in ({', '.join(map(str, self.shape))})")
        printer.print_string(f" par ({', '.join(map(str, self.par_factors))}) ")
        printer.print_region(self.body, print_entry_block_args=False, print_block_terminators=False)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> ForeachOp:
        counters = parser.parse_comma_separated_list(
            parser.Delimiter.PAREN, lambda: parser.parse_argument(expect_type=False)
        )
        parser.parse_keyword("in")
        extents = _parse_int_tuple(parser)
        parser.parse_keyword("par")
        par = _parse_int_tuple(parser)
        body = parser.parse_region([c.resolve(IndexType()) for c in counters])
        op = cls(extents, body, par)
        op.attributes |= parser.parse_optional_attr_dict()
        ensure_terminator(op, SingleBlockImplicitTerminator(YieldOp))
        return op


@irdl_op_definition
class ReduceOp(IRDLOperation):
    """A map-reduce: evaluates its body for every index and folds the yielded values with
    `combiner` (`add`, `mul`, `max`, `min`; the order of folding is unspecified).

    `par` is the number of parallel reduction units (the paper's `ru`), `vec` the SIMD lanes
    of each (`rv`). The iteration space is the concatenation of one or more segments, each
    a counter with its own body: `(%k in 4) {A} concat (%k in 8) {B}` folds A(0..3) and
    B(0..7) as one reduction of length 12. Bodies only read memory.

        %s = loop.reduce add par 1 vec 4 (%k in 4) {
          ...
          loop.yield %p : f32
        } : f32
    """

    name = "loop.reduce"

    combiner = prop_def(CombinerAttr)
    extents = prop_def(DenseArrayBase)
    par = prop_def(IntegerAttr[I64], default_value=IntegerAttr(1, i64))
    vec = prop_def(IntegerAttr[I64], default_value=IntegerAttr(1, i64))
    segments = var_region_def("single_block")
    result = result_def()

    traits = traits_def(RecursiveMemoryEffect())

    def __init__(
        self,
        combiner: str,
        extents: Sequence[int],
        segments: Sequence[Region],
        result_type: Attribute,
        *,
        par: int = 1,
        vec: int = 1,
    ):
        super().__init__(
            properties={
                "combiner": CombinerAttr(Combiner(combiner)),
                "extents": _int_array(extents),
                "par": IntegerAttr(par, i64),
                "vec": IntegerAttr(vec, i64),
            },
            regions=[list(segments)],
            result_types=[result_type],
        )

    @property
    def kind(self) -> str:
        return self.combiner.data.value

    @property
    def lengths(self) -> tuple[int, ...]:
        return _ints(self.extents)

    @property
    def length(self) -> int:
        """The length of the whole (concatenated) reduction."""
        return sum(self.lengths)

    @property
    def par_factor(self) -> int:
        return self.par.value.data

    @property
    def vec_factor(self) -> int:
        return self.vec.value.data

    def verify_(self) -> None:
        if len(self.lengths) != len(self.segments):
            raise VerifyException(
                f"loop.reduce: property 'extents' has {len(self.lengths)} entries, expected "
                f"{len(self.segments)} (one per segment)"
            )
        if not self.segments:
            raise VerifyException("loop.reduce: expected at least one segment")
        _positive(self, "extents", self.lengths)
        _positive(self, "par and vec", (self.par_factor, self.vec_factor))
        for region in self.segments:
            self._verify_segment(region.block)

    def _verify_segment(self, block: Block) -> None:
        _verify_counters(self, block, 1)
        last = block.last_op
        if not isinstance(last, YieldOp) or len(last.values) != 1:
            raise VerifyException("loop.reduce: each segment must end with 'loop.yield %v : T'")
        if last.values[0].type != self.result.type:
            raise VerifyException(
                f"loop.reduce: a segment yields {last.values[0].type}, expected "
                f"{self.result.type} (the result type)"
            )
        for op in block.walk():
            if isinstance(op, StoreOp | ForeachOp | SequentialOp | AllocOp):
                raise VerifyException(
                    f"loop.reduce: the body of a reduction only reads memory; found {op.name}"
                )

    def print(self, printer: Printer) -> None:
        printer.print_string(f" {self.kind} par {self.par_factor} vec {self.vec_factor}")
        for n, (region, length) in enumerate(zip(self.segments, self.lengths, strict=True)):
            printer.print_string(" concat (" if n else " (")
            _print_counter_names(printer, region.block)
            printer.print_string(f" in {length}) ")
            printer.print_region(region, print_entry_block_args=False)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.result.type)

    @classmethod
    def parse(cls, parser: Parser) -> ReduceOp:
        start = parser.pos
        combiner = parser.parse_identifier()
        if combiner not in COMBINERS:
            parser.raise_error(
                f"loop.reduce: unknown combiner '{combiner}' (expected one of "
                f"{', '.join(COMBINERS)})",
                start,
                parser.pos,
            )
        parser.parse_keyword("par")
        par = parser.parse_integer(allow_negative=False)
        parser.parse_keyword("vec")
        vec = parser.parse_integer(allow_negative=False)
        lengths: list[int] = []
        regions: list[Region] = []
        while not regions or parser.parse_optional_keyword("concat"):
            parser.parse_punctuation("(")
            counter = parser.parse_argument(expect_type=False).resolve(IndexType())
            parser.parse_keyword("in")
            lengths.append(parser.parse_integer(allow_negative=False))
            parser.parse_punctuation(")")
            regions.append(parser.parse_region([counter]))
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        op = cls(combiner, lengths, regions, parser.parse_type(), par=par, vec=vec)
        op.attributes |= attributes
        return op


# ---- the element-wise datapath ----------------------------------------------------------------


class BinaryOp(IRDLOperation):
    """An element-wise operation on two values of one floating-point type."""

    T: ClassVar = VarConstraint("T", base(AnyFloat))
    lhs = operand_def(T)
    rhs = operand_def(T)
    result = result_def(T)

    traits = traits_def(Pure())
    assembly_format = "$lhs `,` $rhs attr-dict `:` type($result)"

    def __init__(self, lhs: SSAValue, rhs: SSAValue):
        super().__init__(operands=[lhs, rhs], result_types=[lhs.type])


@irdl_op_definition
class AddOp(BinaryOp):
    """`lhs + rhs`.

    %s = loop.add %xw, %hr : f32
    %a = loop.add %s, %bias : f32
    """

    name = "loop.add"


@irdl_op_definition
class SubOp(BinaryOp):
    """`lhs - rhs`.

    %one = arith.constant 1.0 : f32
    %s = loop.sub %one, %z : f32
    """

    name = "loop.sub"


@irdl_op_definition
class MulOp(BinaryOp):
    """`lhs * rhs` (the Hadamard product, element by element).

    %fc = loop.mul %f, %c : f32
    %ij = loop.mul %i, %j : f32
    """

    name = "loop.mul"


@irdl_op_definition
class MaxOp(BinaryOp):
    """`max(lhs, rhs)`.

    %lo = arith.constant -3.0 : f32
    %m = loop.max %a, %lo : f32
    """

    name = "loop.max"


@irdl_op_definition
class MinOp(BinaryOp):
    """`min(lhs, rhs)`.

    %hi = arith.constant 3.0 : f32
    %m = loop.min %a, %hi : f32
    """

    name = "loop.min"


@irdl_op_definition
class SelectOp(IRDLOperation):
    """`cond ? true_value : false_value` (a multiplexer on the datapath).

    %valid = arith.cmpi slt, %t, %len : index
    %v = loop.select %valid, %h_new, %h_old : f32
    """

    name = "loop.select"

    T: ClassVar = VarConstraint("T", base(AnyFloat))
    cond = operand_def(i1)
    true_value = operand_def(T)
    false_value = operand_def(T)
    result = result_def(T)

    traits = traits_def(Pure())
    assembly_format = "$cond `,` $true_value `,` $false_value attr-dict `:` type($result)"

    def __init__(self, cond: SSAValue, true_value: SSAValue, false_value: SSAValue):
        super().__init__(operands=[cond, true_value, false_value], result_types=[true_value.type])


class ActivationOp(IRDLOperation):
    """A nonlinearity applied to one value: an ONNX RNN activation function.

    `ONNX_NAME` is the ONNX spelling; `PARAMETERS` the names of the float parameters the
    function takes (alpha, beta), which are required properties. A precision mode lowers
    these ops to lookup tables.
    """

    ONNX_NAME: ClassVar[str]
    PARAMETERS: ClassVar[tuple[str, ...]] = ()

    T: ClassVar = VarConstraint("T", base(AnyFloat))
    input = operand_def(T)
    result = result_def(T)
    alpha = opt_prop_def(FloatAttr[Float64Type])
    beta = opt_prop_def(FloatAttr[Float64Type])

    traits = traits_def(Pure())

    def __init__(self, input: SSAValue, alpha: float | None = None, beta: float | None = None):
        properties = {
            name: FloatAttr(value, f64)
            for name, value in (("alpha", alpha), ("beta", beta))
            if value is not None
        }
        super().__init__(operands=[input], result_types=[input.type], properties=properties)

    def parameter_values(self) -> dict[str, float]:
        """The function's parameters, e.g. `{"alpha": 0.01}`."""
        values = {"alpha": self.alpha, "beta": self.beta}
        return {p: values[p].value.data for p in self.PARAMETERS if values[p] is not None}

    def verify_(self) -> None:
        given = {n for n in ("alpha", "beta") if getattr(self, n) is not None}
        if given != set(self.PARAMETERS):
            expected = " and ".join(self.PARAMETERS) or "no parameters"
            raise VerifyException(
                f"{self.name}: takes {expected}, got {' and '.join(sorted(given)) or 'none'}"
            )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.input)
        for name, value in self.parameter_values().items():
            printer.print_string(f" {name} {value!r}")
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.result.type)

    @classmethod
    def parse(cls, parser: Parser) -> ActivationOp:
        operand = parser.parse_unresolved_operand()
        values: dict[str, float] = {}
        for name in cls.PARAMETERS:
            parser.parse_keyword(name)
            values[name] = float(parser.parse_number())
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        ty = parser.parse_type()
        op = cls(parser.resolve_operand(operand, ty), **values)
        op.attributes |= attributes
        return op


@irdl_op_definition
class SigmoidOp(ActivationOp):
    """`1 / (1 + exp(-x))` (ONNX Sigmoid).

    %a = loop.add %s, %bias : f32
    %i = loop.sigmoid %a : f32
    """

    name = "loop.sigmoid"
    ONNX_NAME: ClassVar[str] = "Sigmoid"


@irdl_op_definition
class TanhOp(ActivationOp):
    """`tanh(x)` (ONNX Tanh).

    %a = loop.add %s, %bias : f32
    %g = loop.tanh %a : f32
    """

    name = "loop.tanh"
    ONNX_NAME: ClassVar[str] = "Tanh"


@irdl_op_definition
class ReluOp(ActivationOp):
    """`max(x, 0)` (ONNX Relu).

    %a = loop.add %s, %bias : f32
    %r = loop.relu %a : f32
    """

    name = "loop.relu"
    ONNX_NAME: ClassVar[str] = "Relu"


@irdl_op_definition
class AffineOp(ActivationOp):
    """`alpha * x + beta` (ONNX Affine).

    %a = loop.add %s, %bias : f32
    %r = loop.affine %a alpha 2.0 beta 0.5 : f32
    """

    name = "loop.affine"
    ONNX_NAME: ClassVar[str] = "Affine"
    PARAMETERS: ClassVar[tuple[str, ...]] = ("alpha", "beta")


@irdl_op_definition
class LeakyReluOp(ActivationOp):
    """`x >= 0 ? x : alpha * x` (ONNX LeakyRelu).

    %a = loop.add %s, %bias : f32
    %r = loop.leaky_relu %a alpha 0.01 : f32
    """

    name = "loop.leaky_relu"
    ONNX_NAME: ClassVar[str] = "LeakyRelu"
    PARAMETERS: ClassVar[tuple[str, ...]] = ("alpha",)


@irdl_op_definition
class ThresholdedReluOp(ActivationOp):
    """`x > alpha ? x : 0` (ONNX ThresholdedRelu).

    %a = loop.add %s, %bias : f32
    %r = loop.thresholded_relu %a alpha 1.0 : f32
    """

    name = "loop.thresholded_relu"
    ONNX_NAME: ClassVar[str] = "ThresholdedRelu"
    PARAMETERS: ClassVar[tuple[str, ...]] = ("alpha",)


@irdl_op_definition
class ScaledTanhOp(ActivationOp):
    """`alpha * tanh(beta * x)` (ONNX ScaledTanh).

    %a = loop.add %s, %bias : f32
    %r = loop.scaled_tanh %a alpha 0.5 beta 2.0 : f32
    """

    name = "loop.scaled_tanh"
    ONNX_NAME: ClassVar[str] = "ScaledTanh"
    PARAMETERS: ClassVar[tuple[str, ...]] = ("alpha", "beta")


@irdl_op_definition
class HardSigmoidOp(ActivationOp):
    """`clamp(alpha * x + beta, 0, 1)` (ONNX HardSigmoid).

    %a = loop.add %s, %bias : f32
    %r = loop.hard_sigmoid %a alpha 0.2 beta 0.5 : f32
    """

    name = "loop.hard_sigmoid"
    ONNX_NAME: ClassVar[str] = "HardSigmoid"
    PARAMETERS: ClassVar[tuple[str, ...]] = ("alpha", "beta")


@irdl_op_definition
class EluOp(ActivationOp):
    """`x >= 0 ? x : alpha * (exp(x) - 1)` (ONNX Elu).

    %a = loop.add %s, %bias : f32
    %r = loop.elu %a alpha 1.0 : f32
    """

    name = "loop.elu"
    ONNX_NAME: ClassVar[str] = "Elu"
    PARAMETERS: ClassVar[tuple[str, ...]] = ("alpha",)


@irdl_op_definition
class SoftsignOp(ActivationOp):
    """`x / (1 + |x|)` (ONNX Softsign).

    %a = loop.add %s, %bias : f32
    %r = loop.softsign %a : f32
    """

    name = "loop.softsign"
    ONNX_NAME: ClassVar[str] = "Softsign"


@irdl_op_definition
class SoftplusOp(ActivationOp):
    """`log(1 + exp(x))` (ONNX Softplus).

    %a = loop.add %s, %bias : f32
    %r = loop.softplus %a : f32
    """

    name = "loop.softplus"
    ONNX_NAME: ClassVar[str] = "Softplus"


LOOPS = (SequentialOp, ForeachOp, ReduceOp)

ACTIVATIONS: tuple[type[ActivationOp], ...] = (
    SigmoidOp, TanhOp, ReluOp, AffineOp, LeakyReluOp, ThresholdedReluOp,
    ScaledTanhOp, HardSigmoidOp, EluOp, SoftsignOp, SoftplusOp,
)  # fmt: skip

#: The activation op of each ONNX activation name.
ACTIVATION_BY_ONNX_NAME: dict[str, type[ActivationOp]] = {a.ONNX_NAME: a for a in ACTIVATIONS}

ELEMENTWISE: tuple[type[IRDLOperation], ...] = (
    AddOp, SubOp, MulOp, MaxOp, MinOp, SelectOp, *ACTIVATIONS,
)  # fmt: skip

LOOP = Dialect(
    "loop",
    [
        AllocOp, FromTensorOp, ToTensorOp, LoadOp, StoreOp,
        SequentialOp, ForeachOp, ReduceOp, YieldOp,
        *ELEMENTWISE,
    ],
    [MemorySpaceAttr, CombinerAttr],
)  # fmt: skip
