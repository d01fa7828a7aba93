"""Numpy implementations of the `loop` dialect: whole loops run as array operations.

A `loop.foreach` evaluates its body once, with each counter standing for all of its values
at once (an array axis; see `loop_values`): loads become slices or gathers, stores become
slice assignments or scatters, and a `loop.reduce` becomes a reduction over the axis of its
counter -- a matrix product when its body multiplies two loaded values. Only
`loop.sequential` iterates in Python, once per time step.

The top-level ops of a function go through xDSL's interpreter like every other level's.
Inside them, each op is compiled into a Python closure over the op's static facts
(registers of its operands, offsets, activation function), and loop bodies run as lists of
these closures: decoding attributes per op and dispatching through the generic interpreter
would otherwise dominate time steps that do little numeric work. While a `loop.foreach`
runs, a `ConflictChecker` records the accesses its iterations make and reports any two
that conflict.

Reductions that read nothing the time loop writes (the input projections W·x) do not
depend on the recurrence: they are evaluated for all time steps at once before the loop,
with the time counter as one more array axis, as a numpy user would.

A precision mode (`rnnc.numerics.precision`) changes two things. In ``mixed`` mode, the fold of a
contraction (a `loop.reduce add` segment yielding a product) follows `precision.dot`: 8-bit
factors, adjacent products added in pairs in float16, the pair sums in float32; and the
nonlinearities (`loop.sigmoid`, `loop.tanh`, ...) read lookup tables
(`precision.activation`). Everything else -- element-wise arithmetic, the other reductions,
adding the segments' sums -- stays float32, as on the chip. A reduction's contraction
segments form one stream of products, their lengths' sum long, as the concatenated operands
([x, h] of a fused cell) stream through one map-reduce unit: pairs run on across segment
boundaries, so when a segment has odd length its last product is added in float16 to the
next segment's first (`_Pairs`). Factors loaded only for the multipliers from a memory whose
contents never change in a run (weights and inputs bound from tensors) are read from an
8-bit copy of it made once per run, the way the chip holds its weights, instead of being
rounded again at every time step.
"""

from __future__ import annotations

import math
import operator
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from rnnc.analysis.access import INPUT, WEIGHT, accesses, memory_role, provably_conflict_free
from rnnc.diagnostics import Diagnostic
from rnnc.dialects import loop
from rnnc.interpreters.loop_conflicts import Access, ConflictChecker
from rnnc.interpreters.loop_values import (
    Accessor,
    Affine,
    Memory,
    index_add,
    index_mul,
    materialize,
)
from rnnc.interpreters.rnn_kernels import Activation
from rnnc.interpreters.types import numpy_dtype
from rnnc.numerics.precision import FP32, NumericMode, activation, dot, quantize, quantize_weights
from xdsl.dialects import arith
from xdsl.dialects.builtin import IndexType, IntegerType, MemRefType, ModuleOp
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    impl,
    register_impls,
)
from xdsl.ir import Block, Operation, SSAValue
from xdsl.traits import Pure

_CMPI = {
    0: operator.eq, 1: operator.ne, 2: operator.lt, 3: operator.le, 4: operator.gt,
    5: operator.ge, 6: operator.lt, 7: operator.le, 8: operator.gt, 9: operator.ge,
}  # fmt: skip

_COMBINE: dict[str, Callable[[Any, Any], Any]] = {
    "add": np.add,
    "mul": np.multiply,
    "max": np.maximum,
    "min": np.minimum,
}

_FOLD: dict[str, Callable[..., Any]] = {
    "add": np.sum,
    "mul": np.prod,
    "max": np.max,
    "min": np.min,
}


def _name(value: SSAValue) -> str:
    return value.name_hint or "memory"


# ---- reductions --------------------------------------------------------------------------------


def _lift(value: Any, ndim: int) -> np.ndarray:
    array = np.asarray(value)
    return array.reshape((1,) * (ndim - array.ndim) + array.shape)


def _fold(kind: str, value: Any, ndim: int, length: int) -> Any:
    """Fold `value` over axis 0 of a frame of `ndim` axes (the innermost counter)."""
    array = _lift(value, ndim)
    if array.shape[0] == length:
        return _FOLD[kind](array, axis=0)
    # the body does not depend on the counter: every index yields the same value
    if kind == "add":
        return array[0] * length
    if kind == "mul":
        return array[0] ** length
    return array[0]


def _contract(lhs: Any, rhs: Any, ndim: int, length: int) -> Any:
    """`sum over axis 0 of lhs * rhs` as a (batched) matrix product.

    Axes where both operands vary are batch axes, axes where only one varies are the rows
    or columns of the product.
    """
    a, b = _lift(lhs, ndim), _lift(rhs, ndim)
    if a.shape[0] != length or b.shape[0] != length:
        return _fold("add", a * b, ndim, length)
    if b.size == length:  # a matrix times a vector, the common case: one BLAS call
        return np.dot(b.reshape(length), a.reshape(length, -1)).reshape(a.shape[1:])
    if a.size == length:
        return np.dot(a.reshape(length), b.reshape(length, -1)).reshape(b.shape[1:])
    rest = range(1, ndim)
    batch = [j for j in rest if a.shape[j] > 1 and b.shape[j] > 1]
    rows = [j for j in rest if a.shape[j] > 1 and b.shape[j] == 1]
    cols = [j for j in rest if a.shape[j] == 1 and b.shape[j] > 1]
    units_a = [j for j in rest if a.shape[j] == 1]
    units_b = [j for j in rest if b.shape[j] == 1]
    sizes = [max(a.shape[j], b.shape[j]) for j in range(ndim)]
    count = [int(np.prod([sizes[j] for j in axes])) for axes in (batch, rows, cols)]
    a2 = a.transpose([*batch, *rows, 0, *units_a]).reshape(count[0], count[1], length)
    b2 = b.transpose([*batch, 0, *cols, *units_b]).reshape(count[0], length, count[2])
    product = a2[0] @ b2[0] if count[0] == 1 else np.matmul(a2, b2)
    grouped = product.reshape([sizes[j] for j in (*batch, *rows, *cols)])
    order = [*batch, *rows, *cols]
    result = grouped.transpose(sorted(range(len(order)), key=lambda j: order[j]))
    shape = [sizes[j] if j in order else 1 for j in rest]
    return result.reshape(shape)


Factors = tuple[np.ndarray, np.ndarray]


class _Pairs(NamedTuple):
    """A contraction segment's fold in mixed precision, before it joins its reduction.

    `total` is the float32 sum of the float16 sums of the pairs of products that lie within
    the segment. `head` and `tail` are the 8-bit factors (counter axis of length 1) of the
    products a pair shares with a neighbouring segment of the stream: the first product when
    the segment starts in the middle of a pair, the last when it ends in the middle of one.
    """

    total: np.ndarray
    head: Factors | None
    tail: Factors | None


#: Products one `dot` call forms at most (1 MiB of float32). Without a limit, the hoisted
#: input projections of a long sequence would form every product at once, e.g. 10^8 per
#: gate of GRU-1024 over 100 steps.
_DOT_CHUNK = 1 << 18


def _mixed_contract(
    precision: NumericMode,
    lhs: Any,
    rhs: Any,
    ndim: int,
    length: int,
    *,
    start: int,
    quantized: tuple[bool, bool],
) -> _Pairs:
    """`sum over axis 0 of lhs * rhs` as `precision.dot` computes it, for a segment whose
    products start at position `start` of its reduction's stream. `quantized` says which
    factors are 8-bit already."""
    a, b = _lift(lhs, ndim), _lift(rhs, ndim)
    # a factor that does not depend on the counter is the same in every product
    if a.shape[0] != length:
        a = np.broadcast_to(a, (length, *a.shape[1:]))
    if b.shape[0] != length:
        b = np.broadcast_to(b, (length, *b.shape[1:]))
    first = start % 2  # 1: the first product completes the previous segment's last pair
    end = length - (start + length) % 2  # the products before `end` pair up within the segment
    head = _factors(precision, a, b, slice(0, 1), quantized) if first else None
    tail = _factors(precision, a, b, slice(end, length), quantized) if end < length else None
    total = _chunked_dot(precision, a[first:end], b[first:end], quantized)
    return _Pairs(total, head, tail)


def _factors(
    precision: NumericMode, a: np.ndarray, b: np.ndarray, index: slice, quantized: tuple[bool, bool]
) -> Factors:
    """The 8-bit factors of the products `index` selects along axis 0."""
    return (
        a[index] if quantized[0] else quantize(precision, a[index]),
        b[index] if quantized[1] else quantize(precision, b[index]),
    )


def _chunked_dot(
    precision: NumericMode, a: np.ndarray, b: np.ndarray, quantized: tuple[bool, bool]
) -> np.ndarray:
    """`dot` over axis 0, in pieces of at most `_DOT_CHUNK` products, split along the
    largest of the other axes (the pieces are independent: pairs run along axis 0)."""
    shape = np.broadcast_shapes(a.shape, b.shape)
    size = math.prod(shape)
    axis = max(range(1, len(shape)), key=lambda j: shape[j], default=0)
    if size <= _DOT_CHUNK or axis == 0 or shape[axis] == 1:
        return dot(precision, a, b, axis=0, a_quantized=quantized[0], b_quantized=quantized[1])
    step = max(1, _DOT_CHUNK * shape[axis] // size)
    result = np.empty(shape[1:], np.float32)
    for low in range(0, shape[axis], step):
        part = slice(low, low + step)
        result[(slice(None),) * (axis - 1) + (part,)] = _chunked_dot(
            precision, _part(a, axis, part), _part(b, axis, part), quantized
        )
    return result


def _part(array: np.ndarray, axis: int, part: slice) -> np.ndarray:
    """`array[part]` along `axis`, unless it broadcasts along it."""
    if array.shape[axis] == 1:
        return array
    return array[(slice(None),) * axis + (part,)]


def _boundary_pair(precision: NumericMode, first: Factors, second: Factors) -> np.ndarray:
    """The float16 sum of two adjacent products of the stream that two segments share,
    from their factors, by `dot` itself: one pair of length 2."""
    a = _stack(first[0], second[0])
    b = _stack(first[1], second[1])
    return dot(precision, a, b, axis=0, a_quantized=True, b_quantized=True)


def _stack(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    shape = np.broadcast_shapes(x.shape, y.shape)
    return np.concatenate([np.broadcast_to(x, shape), np.broadcast_to(y, shape)])


# ---- the evaluator -------------------------------------------------------------------------------

Step = Callable[["_Evaluator"], None]


class _Evaluator:
    """The state of a running loop nest: one register per value, the parallel counters in
    scope, and the conflict checkers of the running `loop.foreach` ops."""

    def __init__(self, registers: list[Any]):
        self.regs = registers
        self.frame: list[int] = []  # extents of the parallel counters in scope, axis 0 first
        self.checkers: list[ConflictChecker] = []

    def run(self, steps: tuple[Step, ...]) -> None:
        for step in steps:
            step(self)

    def record(self, memory: Memory, write: bool, indices: tuple[Any, ...], selector: Any) -> None:
        for checker in self.checkers:
            if id(memory) in checker.written:
                checker.record(memory, Access(write, indices, selector, len(self.frame)))


class _Compiler:
    """Compiles the ops of one module into steps. Every value gets a register number;
    steps read and write registers by number."""

    def __init__(self, precision: NumericMode) -> None:
        self.precision = precision
        self._slots: dict[SSAValue, int] = {}
        self._registers = 0
        self._blocks: dict[Block, tuple[Step, ...]] = {}
        self._free: dict[Operation, tuple[SSAValue, ...]] = {}
        self._segments: dict[Block, Callable[[_Evaluator], Any]] = {}
        self.hoisted: dict[Block, tuple[int, int]] = {}  # segment -> (its register, t's)
        self._accessors: list[Accessor] = []
        self._quantized: dict[Memory, Memory] = {}  # this run's 8-bit copies of memories
        self._steps: dict[Operation, Step] = {}
        self._rules: dict[type[Operation], Callable[[_Compiler, Any], Step]] = {
            loop.SequentialOp: _sequential,
            loop.ForeachOp: _foreach,
            loop.ReduceOp: _reduce,
            loop.LoadOp: _load,
            loop.StoreOp: _store,
            loop.AllocOp: _alloc,
            loop.FromTensorOp: _from_tensor,
            loop.ToTensorOp: _to_tensor,
            loop.SelectOp: _select,
            arith.SelectOp: _select,
            arith.ConstantOp: _constant,
            arith.CmpiOp: _cmpi,
            arith.IndexCastOp: _index_cast,
            **{t: _activation for t in loop.ACTIVATIONS},
            **{t: _binary for t in _BINARY},
        }

    @property
    def register_count(self) -> int:
        return self._registers

    def slot(self, value: SSAValue) -> int:
        if value not in self._slots:
            self._slots[value] = self._registers
            self._registers += 1
        return self._slots[value]

    def hoisted_slot(self, segment: Block, time_counter: int) -> int:
        """A register for a segment precomputed for every time step."""
        slot = self._registers
        self._registers += 1
        self.hoisted[segment] = (slot, time_counter)
        return slot

    def segment(self, block: Block) -> Callable[[_Evaluator], Any]:
        """A function evaluating one reduction segment's fold over all iterations in scope:
        an array, or `_Pairs` for a contraction in mixed precision."""
        if block not in self._segments:
            reduce_op = block.parent_op()
            assert isinstance(reduce_op, loop.ReduceOp)
            kind = reduce_op.kind
            length = reduce_op.lengths[list(reduce_op.segments).index(block.parent)]  # type: ignore[arg-type]
            product = _contraction(block)
            yielded = self.slot(block.last_op.operands[0])  # type: ignore[union-attr]
            counter, body = self.slot(block.args[0]), self.block(block, product)
            finish: Callable[[list[Any], int], Any]
            if product is None:

                def finish(regs: list[Any], ndim: int) -> Any:
                    return _fold(kind, regs[yielded], ndim, length)

            else:
                lhs, rhs = self.slot(product.lhs), self.slot(product.rhs)
                if self.precision.mixed:
                    precision, start = self.precision, _stream_start(block)
                    quantized = (_fixed_8bit(product.lhs), _fixed_8bit(product.rhs))

                    def finish(regs: list[Any], ndim: int) -> Any:
                        return _mixed_contract(
                            precision,
                            regs[lhs],
                            regs[rhs],
                            ndim,
                            length,
                            start=start,
                            quantized=quantized,
                        )

                else:

                    def finish(regs: list[Any], ndim: int) -> Any:
                        return _contract(regs[lhs], regs[rhs], ndim, length)

            def fold(ev: _Evaluator) -> Any:
                regs, frame = ev.regs, ev.frame
                regs[counter] = Affine.counter(len(frame), length)
                frame.append(length)
                try:
                    ev.run(body)
                    return finish(regs, len(frame))
                finally:
                    frame.pop()

            self._segments[block] = fold
        return self._segments[block]

    def op(self, op: Operation) -> Step:
        rule = self._rules.get(type(op))
        if rule is None:
            raise Diagnostic(op.name, "this op cannot be interpreted inside a loop nest")
        return rule(self, op)

    def top_level(self, op: Operation) -> Step:
        """The step of an op of a function body (kept: a program is run many times)."""
        if op not in self._steps:
            self._steps[op] = self.op(op)
        return self._steps[op]

    def accessor(self, op_name: str, copy: bool) -> Accessor:
        accessor = Accessor(op_name, copy)
        self._accessors.append(accessor)
        return accessor

    def new_run(self) -> None:
        """Forget the memories of the previous run (their views and 8-bit copies)."""
        for accessor in self._accessors:
            accessor.forget()
        self._quantized.clear()

    def quantized(self, memory: Memory) -> Memory:
        """The 8-bit copy of `memory`, whose contents do not change during the run: made
        at its first use in the run (rounding a large weight matrix costs as much as
        several products with it), kept until the next run."""
        copy = self._quantized.get(memory)
        if copy is None:
            copy = Memory(memory.name, quantize_weights(self.precision, memory.data))
            self._quantized[memory] = copy
        return copy

    def block(self, block: Block, skip: Operation | None = None) -> tuple[Step, ...]:
        """The steps of a loop body, without its `loop.yield` and `skip`."""
        if block not in self._blocks:
            self._blocks[block] = tuple(
                self.op(op)
                for op in block.ops
                if not isinstance(op, loop.YieldOp) and op is not skip
            )
        return self._blocks[block]

    def free_values(self, op: Operation) -> tuple[SSAValue, ...]:
        """Values `op` uses (itself or inside its regions) but are defined outside it."""
        if op not in self._free:
            inside: set[SSAValue] = set()
            for nested in op.walk():
                for region in nested.regions:
                    for block in region.blocks:
                        inside.update(block.args)
                inside.update(nested.results)
            used = {v: None for n in op.walk() for v in n.operands}
            self._free[op] = tuple(v for v in used if v not in inside)
        return self._free[op]


# ---- loops --------------------------------------------------------------------------------------


def _sequential(c: _Compiler, op: loop.SequentialOp) -> Step:
    counter, steps = c.slot(op.counter), op.step_count
    hoisted = [_hoist(c, op, *found) for found in _time_invariant_segments(op)]
    body = c.block(op.body.block)

    def run(ev: _Evaluator) -> None:
        regs = ev.regs
        if not ev.frame and steps:  # at the top of a function: no enclosing counters
            for precompute, _ in hoisted:
                precompute(ev)
        try:
            for t in range(steps):
                regs[counter] = t
                ev.run(body)
        finally:
            for _, register in hoisted:
                regs[register] = None  # a reduction evaluates its segment itself again

    return run


def _time_invariant_segments(
    op: loop.SequentialOp,
) -> list[tuple[loop.ForeachOp, Block, tuple[Operation, ...]]]:
    """Reduction segments in the nests of a time loop that read nothing the loop writes:
    (nest, segment, the ops of the nest's body the segment needs, in order)."""
    written = {s.memref for s in op.walk() if isinstance(s, loop.StoreOp)}

    def pure_read(o: Operation) -> bool:
        if o.regions:
            return False
        if isinstance(o, loop.LoadOp):
            return o.memref not in written
        return o.has_trait(Pure) and not isinstance(o, loop.YieldOp)

    found = []
    for nest in op.body.block.ops:
        if not isinstance(nest, loop.ForeachOp):
            continue
        known: dict[SSAValue, tuple[Operation, ...]] = {op.counter: ()}  # value -> its slice
        known.update({v: () for v in nest.counters})
        for inner in nest.body.block.ops:
            slices = [_slice_of(v, op, known) for v in inner.operands]
            if pure_read(inner) and all(s is not None for s in slices):
                ops = tuple(dict.fromkeys(o for s in slices if s is not None for o in s))
                known.update({r: (*ops, inner) for r in inner.results})
            if isinstance(inner, loop.ReduceOp):
                for region in inner.segments:
                    needed = _segment_slice(region.block, op, known, pure_read)
                    if needed is not None:
                        found.append((nest, region.block, needed))
    return found


def _slice_of(
    value: SSAValue, loop_op: Operation, known: dict[SSAValue, tuple[Operation, ...]]
) -> tuple[Operation, ...] | None:
    """The ops computing `value` in a precomputation, or None if it cannot be precomputed."""
    owner = value.owner
    outside = not loop_op.is_ancestor(owner if isinstance(owner, Operation) else owner.parent_op())  # type: ignore[arg-type]
    if outside:
        return ()
    return known.get(value)


def _segment_slice(
    block: Block,
    loop_op: Operation,
    known: dict[SSAValue, tuple[Operation, ...]],
    pure_read: Callable[[Operation], bool],
) -> tuple[Operation, ...] | None:
    inside = {block.args[0]}
    needed: dict[Operation, None] = {}
    for o in block.ops:
        if isinstance(o, loop.YieldOp):
            continue
        if not pure_read(o):
            return None
        for v in o.operands:
            if v in inside:
                continue
            ops = _slice_of(v, loop_op, known)
            if ops is None:
                return None
            needed.update(dict.fromkeys(ops))
        inside.update(o.results)
    return tuple(needed)


def _hoist(
    c: _Compiler,
    op: loop.SequentialOp,
    nest: loop.ForeachOp,
    block: Block,
    needed: tuple[Operation, ...],
) -> tuple[Step, int]:
    """The step that evaluates a time-invariant reduction segment for every time step at
    once (the time counter as one more parallel axis) into a register of its own, which
    the reduction then reads at each step; and that register."""
    counter, steps = c.slot(op.counter), op.step_count
    counters, shape = [c.slot(v) for v in nest.counters], nest.shape
    prepare = tuple(c.op(o) for o in needed)
    segment = c.segment(block)
    slot = c.hoisted_slot(block, counter)

    def precompute(ev: _Evaluator) -> None:
        regs, frame = ev.regs, ev.frame
        regs[counter] = Affine.counter(0, steps)
        frame.append(steps)
        for register, extent in zip(counters, shape, strict=True):
            regs[register] = Affine.counter(len(frame), extent)
            frame.append(extent)
        try:
            ev.run(prepare)
            partial = segment(ev)
        finally:
            frame.clear()
        regs[slot] = partial

    return precompute, slot


def _foreach(c: _Compiler, op: loop.ForeachOp) -> Step:
    counters = [c.slot(v) for v in op.counters]
    shape, body = op.shape, c.block(op.body.block)
    names = [_name(v) for v in op.counters]
    written = {s.memref: None for s in op.walk() if isinstance(s, loop.StoreOp)}
    # memories a static proof clears need no checking at run time
    found = accesses(op)
    checked = [c.slot(m) for m in written if not provably_conflict_free(op, m, found)]

    def run(ev: _Evaluator) -> None:
        regs, frame = ev.regs, ev.frame
        first = len(frame)
        for counter, extent in zip(counters, shape, strict=True):
            regs[counter] = Affine.counter(len(frame), extent)
            frame.append(extent)
        if not checked:
            try:
                ev.run(body)
            finally:
                del frame[first:]
            return
        checker = ConflictChecker(names, first, frame, {id(regs[m]) for m in checked})
        ev.checkers.append(checker)
        try:
            ev.run(body)
        finally:
            ev.checkers.pop()
            del frame[first:]
        checker.check()

    return run


def _reduce(c: _Compiler, op: loop.ReduceOp) -> Step:
    result, combine = c.slot(op.result), _COMBINE[op.kind]
    segments = [(c.segment(r.block), c.hoisted.get(r.block)) for r in op.segments]
    if c.precision.mixed and any(_contraction(r.block) is not None for r in op.segments):
        return _mixed_reduce(c.precision, result, segments)

    def run(ev: _Evaluator) -> None:
        regs = ev.regs
        total: Any = None
        for segment, hoisted in segments:
            if hoisted is not None and regs[hoisted[0]] is not None:
                partial = _at_step(regs[hoisted[0]], regs[hoisted[1]])
            else:
                partial = segment(ev)
            total = partial if total is None else combine(total, partial)
        regs[result] = total

    return run


def _mixed_reduce(
    precision: NumericMode,
    result: int,
    segments: list[tuple[Callable[[_Evaluator], Any], tuple[int, int] | None]],
) -> Step:
    """A `loop.reduce add` with contraction segments in mixed precision: the segments'
    float32 sums added in float32, plus the float16 pair sums of the products that
    neighbouring segments share and of a stream's last product left without a partner
    (which `dot` adds alone, as a product of odd-length input)."""

    def run(ev: _Evaluator) -> None:
        regs = ev.regs
        total: Any = None
        carry: Factors | None = None  # the factors of a product awaiting its partner
        for segment, hoisted in segments:
            if hoisted is not None and regs[hoisted[0]] is not None:
                partial = _segment_at_step(regs[hoisted[0]], regs[hoisted[1]])
            else:
                partial = segment(ev)
            if isinstance(partial, _Pairs):
                pairs = partial
                partial = pairs.total
                if pairs.head is not None:
                    assert carry is not None  # the stream before the segment has odd length
                    partial = partial + _boundary_pair(precision, carry, pairs.head)
                carry = pairs.tail
            total = partial if total is None else total + partial
        if carry is not None:
            total = total + dot(precision, *carry, axis=0, a_quantized=True, b_quantized=True)
        regs[result] = total

    return run


def _at_step(precomputed: Any, step: int) -> Any:
    """A precomputed segment at one time step: the time axis is the outermost one."""
    array = np.asarray(precomputed)
    if array.ndim == 0:
        return array
    return array[..., step if array.shape[-1] > 1 else 0]


def _segment_at_step(precomputed: Any, step: int) -> Any:
    """`_at_step` of a segment that may be `_Pairs`, then of each of its arrays."""
    if not isinstance(precomputed, _Pairs):
        return _at_step(precomputed, step)
    head, tail = (
        None if f is None else (_at_step(f[0], step), _at_step(f[1], step))
        for f in (precomputed.head, precomputed.tail)
    )
    return _Pairs(_at_step(precomputed.total, step), head, tail)


def _contraction(block: Block) -> loop.MulOp | None:
    """The multiplication whose value a `loop.reduce add` segment yields and nothing else
    uses: its fold over the counter is a matrix product. (Other kinds of reduction fold the
    products themselves: a max of products is no matrix product.)"""
    reduce_op = block.parent_op()
    if not isinstance(reduce_op, loop.ReduceOp) or reduce_op.kind != "add":
        return None
    last = block.last_op
    assert isinstance(last, loop.YieldOp)
    product = last.values[0].owner
    if (
        isinstance(product, loop.MulOp)
        and product.parent_block() is block
        and product.result.has_one_use()
    ):
        return product
    return None


def _stream_start(block: Block) -> int:
    """The position of a contraction segment's first product in its reduction's stream:
    the products of the contraction segments before it come first."""
    reduce_op = block.parent_op()
    assert isinstance(reduce_op, loop.ReduceOp)
    start = 0
    for region, length in zip(reduce_op.segments, reduce_op.lengths, strict=True):
        if region.block is block:
            break
        if _contraction(region.block) is not None:
            start += length
    return start


def _multiplier_input(value: SSAValue) -> bool:
    """Whether `value` is used, and only as a factor of contractions: on the chip, only
    as an input of the map-reduce unit's multipliers."""
    for use in value.uses:
        block = use.operation.parent_block()
        if block is None or _contraction(block) is not use.operation:
            return False
    return bool(value.uses)


def _fixed_8bit(value: SSAValue) -> bool:
    """Whether `value`, in mixed precision, is loaded from the 8-bit copy of its memory
    (`_Compiler.quantized`): it is loaded only for the multipliers, from a memory whose
    contents never change in a run -- an input or a weight bound from a tensor and never
    stored to. (A weight the program computes before its time loop, such as a bias sum,
    is written, so it is rounded where it is multiplied, like any other factor.)"""
    load = value.owner
    return (
        isinstance(load, loop.LoadOp)
        and memory_role(load.memref) in (INPUT, WEIGHT)
        and not _written(load.memref)
        and _multiplier_input(value)
    )


# ---- memories ------------------------------------------------------------------------------------


def _addressing(
    c: _Compiler, op: loop.AccessOp
) -> Callable[[list[Any]], tuple[Memory, tuple[Any, ...], Any]]:
    """A function from the registers to (memory, indices, buffer selector)."""
    memref, base = c.slot(op.memref), op.selector_offset
    buffer = None if op.buffer is None else c.slot(op.buffer)
    indices = tuple(c.slot(v) for v in op.indices)
    offsets = op.index_offsets
    parts = tuple(zip(indices, offsets, strict=True))

    if buffer is None and not any(offsets):

        def plain(regs: list[Any]) -> tuple[Memory, tuple[Any, ...], Any]:
            return regs[memref], tuple(regs[i] for i in indices), base

        return plain

    def address(regs: list[Any]) -> tuple[Memory, tuple[Any, ...], Any]:
        index = tuple(index_add(regs[i], o) if o else regs[i] for i, o in parts)
        selector = base if buffer is None else materialize(index_add(regs[buffer], base))
        return regs[memref], index, selector

    return address


def _written(memref: SSAValue) -> bool:
    return any(isinstance(use.operation, loop.StoreOp) for use in memref.uses)


def _load(c: _Compiler, op: loop.LoadOp) -> Step:
    address, result = _addressing(c, op), c.slot(op.result)
    # a loaded value must not change when a later store writes its elements
    accessor = c.accessor(op.name, copy=_written(op.memref))
    if c.precision.mixed and _fixed_8bit(op.result):
        quantized = c.quantized

        def run_8bit(ev: _Evaluator) -> None:
            memory, indices, selector = address(ev.regs)
            ev.record(memory, False, indices, selector)
            ev.regs[result] = accessor.load(quantized(memory), indices, selector)

        return run_8bit

    def run(ev: _Evaluator) -> None:
        memory, indices, selector = address(ev.regs)
        ev.record(memory, False, indices, selector)
        ev.regs[result] = accessor.load(memory, indices, selector)

    return run


def _store(c: _Compiler, op: loop.StoreOp) -> Step:
    address, value = _addressing(c, op), c.slot(op.value)
    accessor = c.accessor(op.name, copy=False)

    def run(ev: _Evaluator) -> None:
        memory, indices, selector = address(ev.regs)
        ev.record(memory, True, indices, selector)
        accessor.store(memory, indices, selector, ev.regs[value], ev.frame)

    return run


def _alloc(c: _Compiler, op: loop.AllocOp) -> Step:
    ty = op.memref.type
    assert isinstance(ty, MemRefType)
    dtype = numpy_dtype(ty.get_element_type())
    # undefined contents: NaN makes a read before the first write visible in results
    fill = np.nan if np.issubdtype(dtype, np.floating) else 0
    shape, result, name = (op.buffer_count, *ty.get_shape()), c.slot(op.memref), _name(op.memref)

    def run(ev: _Evaluator) -> None:
        ev.regs[result] = Memory(name, np.full(shape, fill, dtype))

    return run


def _from_tensor(c: _Compiler, op: loop.FromTensorOp) -> Step:
    ty = op.memref.type
    assert isinstance(ty, MemRefType)
    dtype = numpy_dtype(ty.get_element_type())
    tensor, result, name = c.slot(op.tensor), c.slot(op.memref), _name(op.memref)
    copy = _written(op.memref)  # a memory nothing writes can share the tensor's array

    def run(ev: _Evaluator) -> None:
        ev.regs[result] = Memory(name, np.array(ev.regs[tensor], dtype=dtype, copy=copy)[None])

    return run


def _to_tensor(c: _Compiler, op: loop.ToTensorOp) -> Step:
    memref, result = c.slot(op.memref), c.slot(op.tensor)

    def run(ev: _Evaluator) -> None:
        ev.regs[result] = ev.regs[memref].data[0].copy()

    return run


# ---- scalars and the datapath --------------------------------------------------------------------

_BINARY: dict[type[Operation], Callable[[Any, Any], Any]] = {
    loop.AddOp: np.add,
    loop.SubOp: np.subtract,
    loop.MulOp: np.multiply,
    loop.MaxOp: np.maximum,
    loop.MinOp: np.minimum,
    arith.AddiOp: index_add,
    arith.SubiOp: lambda a, b: index_add(a, b, -1),
    arith.MuliOp: index_mul,
    arith.AndIOp: lambda a, b: materialize(a) & materialize(b),
    arith.OrIOp: lambda a, b: materialize(a) | materialize(b),
}


def _binary(c: _Compiler, op: Operation) -> Step:
    function = _BINARY[type(op)]
    lhs, rhs = (c.slot(v) for v in op.operands)
    result = c.slot(op.results[0])

    def run(ev: _Evaluator) -> None:
        regs = ev.regs
        regs[result] = function(regs[lhs], regs[rhs])

    return run


def _constant(c: _Compiler, op: arith.ConstantOp) -> Step:
    raw = op.value.value.data  # type: ignore[union-attr]
    ty = op.result.type
    # a float of the op's own type, so that it does not widen float32 arrays
    value = int(raw) if isinstance(ty, IndexType | IntegerType) else numpy_dtype(ty).type(raw)
    result = c.slot(op.result)

    def run(ev: _Evaluator) -> None:
        ev.regs[result] = value

    return run


def _cmpi(c: _Compiler, op: arith.CmpiOp) -> Step:
    compare = _CMPI[op.predicate.value.data]
    lhs, rhs, result = c.slot(op.lhs), c.slot(op.rhs), c.slot(op.result)

    def run(ev: _Evaluator) -> None:
        regs = ev.regs
        regs[result] = compare(materialize(regs[lhs]), materialize(regs[rhs]))

    return run


def _index_cast(c: _Compiler, op: arith.IndexCastOp) -> Step:
    source, result = c.slot(op.input), c.slot(op.result)

    def run(ev: _Evaluator) -> None:
        value = materialize(ev.regs[source])
        ev.regs[result] = value.astype(np.int64) if isinstance(value, np.ndarray) else int(value)

    return run


def _select(c: _Compiler, op: loop.SelectOp | arith.SelectOp) -> Step:
    operands, result = tuple(c.slot(v) for v in op.operands), c.slot(op.results[0])

    def run(ev: _Evaluator) -> None:
        cond, true_value, false_value = (materialize(ev.regs[v]) for v in operands)
        ev.regs[result] = np.where(cond, true_value, false_value)

    return run


def _activation(c: _Compiler, op: loop.ActivationOp) -> Step:
    function = Activation(op.ONNX_NAME, **op.parameter_values())
    source, result = c.slot(op.input), c.slot(op.result)
    if c.precision.mixed:
        precision = c.precision

        def run_table(ev: _Evaluator) -> None:
            ev.regs[result] = activation(precision, function, ev.regs[source])

        return run_table

    def run(ev: _Evaluator) -> None:
        ev.regs[result] = function(np.asarray(ev.regs[source]))

    return run


#: Compiled programs of the last few modules run, by id(module) and precision (which the
#: steps are compiled for): (module, fingerprint, compiler). The module is kept so that its
#: id cannot be reused while it is cached.
_PROGRAMS: OrderedDict[tuple[int, NumericMode], tuple[ModuleOp, tuple[Any, ...], _Compiler]] = (
    OrderedDict()
)
_CACHED_PROGRAMS = 4


def _fingerprint(module: ModuleOp) -> tuple[Any, ...]:
    """What compiled steps depend on: every op, the block it is in, its operands, result
    types, properties and attributes. A pass that changes a module in place changes its
    fingerprint."""
    return tuple(
        (
            op,
            op.parent,
            *op.operands,
            *op.result_types,
            *op.properties.items(),
            *op.attributes.items(),
        )
        for op in module.walk()
    )


def _program(module: ModuleOp, precision: NumericMode) -> _Compiler:
    """The compiler of `module` in `precision`: the one of its last run in that precision
    if the module has not changed."""
    fingerprint = _fingerprint(module)
    key = (id(module), precision)
    cached = _PROGRAMS.pop(key, None)
    if cached is None or cached[1] != fingerprint:
        cached = (module, fingerprint, _Compiler(precision))
    else:
        cached[2].new_run()
    _PROGRAMS[key] = cached
    while len(_PROGRAMS) > _CACHED_PROGRAMS:
        _PROGRAMS.popitem(last=False)
    return cached[2]


@register_impls
class LoopFunctions(InterpreterFunctions):
    """Executes the top-level `loop` ops of a function, each as one compiled step.

    Compiling a loop program takes a few milliseconds, which matters for a model that is
    run many times: the compiled steps of a module are kept and reused as long as the
    module's fingerprint is unchanged. `precision` is the mode the loop ops compute in.
    """

    def __init__(self, precision: NumericMode = FP32) -> None:
        self._precision = precision
        self._compiler: _Compiler | None = None

    def _run(self, interpreter: Interpreter, op: Operation, args: PythonValues) -> PythonValues:
        del args  # the operands are among the free values
        if self._compiler is None:
            self._compiler = _program(interpreter.module, self._precision)
        compiler = self._compiler
        step = compiler.top_level(op)
        registers: list[Any] = [None] * compiler.register_count
        free = compiler.free_values(op)
        for value, python_value in zip(free, interpreter.get_values(free), strict=True):
            registers[compiler.slot(value)] = python_value
        step(_Evaluator(registers))
        return tuple(registers[compiler.slot(r)] for r in op.results)

    @impl(loop.SequentialOp)
    def run_sequential(
        self, interpreter: Interpreter, op: Operation, args: PythonValues
    ) -> PythonValues:
        return self._run(interpreter, op, args)

    @impl(loop.ForeachOp)
    def run_foreach(
        self, interpreter: Interpreter, op: Operation, args: PythonValues
    ) -> PythonValues:
        return self._run(interpreter, op, args)

    @impl(loop.AllocOp)
    def run_alloc(
        self, interpreter: Interpreter, op: Operation, args: PythonValues
    ) -> PythonValues:
        return self._run(interpreter, op, args)

    @impl(loop.FromTensorOp)
    def run_from_tensor(
        self, interpreter: Interpreter, op: Operation, args: PythonValues
    ) -> PythonValues:
        return self._run(interpreter, op, args)

    @impl(loop.ToTensorOp)
    def run_to_tensor(
        self, interpreter: Interpreter, op: Operation, args: PythonValues
    ) -> PythonValues:
        return self._run(interpreter, op, args)

    @impl(loop.LoadOp)
    def run_load(self, interpreter: Interpreter, op: Operation, args: PythonValues) -> PythonValues:
        return self._run(interpreter, op, args)

    @impl(loop.StoreOp)
    def run_store(
        self, interpreter: Interpreter, op: Operation, args: PythonValues
    ) -> PythonValues:
        return self._run(interpreter, op, args)
