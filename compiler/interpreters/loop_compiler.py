"""The closure compiler of the loop level: each op becomes a Python closure over its
static facts, and loop bodies become tuples of these closures.

A `loop.foreach` evaluates its body once, with each counter standing for all of its values
at once (an array axis; see `loop_values`): loads become slices or gathers, stores become
slice assignments or scatters, and a `loop.reduce` becomes a fold over the axis of its
counter (`loop_folds`) -- a matrix product when its body multiplies two loaded values.
Only `loop.sequential` iterates in Python, once per time step. The closures read and write
numbered registers of an `Evaluator`; decoding attributes per op and dispatching through
the generic interpreter would otherwise dominate time steps that do little numeric work.
While a `loop.foreach` runs, a `ConflictChecker` records the accesses its iterations make
and reports any two that conflict.

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
next segment's first (`Pairs`). Factors loaded only for the multipliers from a memory whose
contents never change in a run (weights and inputs bound from tensors) are read from an
8-bit copy of it made once per run, the way the chip holds its weights, instead of being
rounded again at every time step.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
from rnnc.analysis.access import INPUT, WEIGHT, accesses, memory_role, provably_conflict_free
from rnnc.diagnostics import Diagnostic
from rnnc.dialects import loop
from rnnc.interpreters.loop_conflicts import Access, ConflictChecker
from rnnc.interpreters.loop_folds import (
    Factors,
    Pairs,
    boundary_pair,
    contract,
    fold,
    mixed_contract,
)
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
from rnnc.numerics.precision import NumericMode, activation, dot, quantize_weights
from xdsl.dialects import arith
from xdsl.dialects.builtin import IndexType, IntegerType, MemRefType, ModuleOp
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


def _name(value: SSAValue) -> str:
    return value.name_hint or "memory"


# ---- the evaluator -------------------------------------------------------------------------------

Step = Callable[["Evaluator"], None]


class Evaluator:
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


class LoopCompiler:
    """Compiles the ops of one module into steps. Every value gets a register number;
    steps read and write registers by number."""

    def __init__(self, precision: NumericMode) -> None:
        self.precision = precision
        self._slots: dict[SSAValue, int] = {}
        self._registers = 0
        self._blocks: dict[Block, tuple[Step, ...]] = {}
        self._free: dict[Operation, tuple[SSAValue, ...]] = {}
        self._segments: dict[Block, Callable[[Evaluator], Any]] = {}
        self.hoisted: dict[Block, tuple[int, int]] = {}  # segment -> (its register, t's)
        self._accessors: list[Accessor] = []
        self._quantized: dict[Memory, Memory] = {}  # this run's 8-bit copies of memories
        self._steps: dict[Operation, Step] = {}
        self._rules: dict[type[Operation], Callable[[LoopCompiler, Any], Step]] = {
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

    def segment(self, block: Block) -> Callable[[Evaluator], Any]:
        """A function evaluating one reduction segment's fold over all iterations in scope:
        an array, or `Pairs` for a contraction in mixed precision."""
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
                    return fold(kind, regs[yielded], ndim, length)

            else:
                lhs, rhs = self.slot(product.lhs), self.slot(product.rhs)
                if self.precision.mixed:
                    precision, start = self.precision, _stream_start(block)
                    quantized = (_fixed_8bit(product.lhs), _fixed_8bit(product.rhs))

                    def finish(regs: list[Any], ndim: int) -> Any:
                        return mixed_contract(
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
                        return contract(regs[lhs], regs[rhs], ndim, length)

            def run_segment(ev: Evaluator) -> Any:
                regs, frame = ev.regs, ev.frame
                regs[counter] = Affine.counter(len(frame), length)
                frame.append(length)
                try:
                    ev.run(body)
                    return finish(regs, len(frame))
                finally:
                    frame.pop()

            self._segments[block] = run_segment
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


def _sequential(c: LoopCompiler, op: loop.SequentialOp) -> Step:
    counter, steps = c.slot(op.counter), op.step_count
    hoisted = [_hoist(c, op, *found) for found in _time_invariant_segments(op)]
    body = c.block(op.body.block)

    def run(ev: Evaluator) -> None:
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
    c: LoopCompiler,
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

    def precompute(ev: Evaluator) -> None:
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


def _foreach(c: LoopCompiler, op: loop.ForeachOp) -> Step:
    counters = [c.slot(v) for v in op.counters]
    shape, body = op.shape, c.block(op.body.block)
    names = [_name(v) for v in op.counters]
    written = {s.memref: None for s in op.walk() if isinstance(s, loop.StoreOp)}
    # memories a static proof clears need no checking at run time
    found = accesses(op)
    checked = [c.slot(m) for m in written if not provably_conflict_free(op, m, found)]

    def run(ev: Evaluator) -> None:
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


def _reduce(c: LoopCompiler, op: loop.ReduceOp) -> Step:
    result, combine = c.slot(op.result), _COMBINE[op.kind]
    segments = [(c.segment(r.block), c.hoisted.get(r.block)) for r in op.segments]
    if c.precision.mixed and any(_contraction(r.block) is not None for r in op.segments):
        return _mixed_reduce(c.precision, result, segments)

    def run(ev: Evaluator) -> None:
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
    segments: list[tuple[Callable[[Evaluator], Any], tuple[int, int] | None]],
) -> Step:
    """A `loop.reduce add` with contraction segments in mixed precision: the segments'
    float32 sums added in float32, plus the float16 pair sums of the products that
    neighbouring segments share and of a stream's last product left without a partner
    (which `dot` adds alone, as a product of odd-length input)."""

    def run(ev: Evaluator) -> None:
        regs = ev.regs
        total: Any = None
        carry: Factors | None = None  # the factors of a product awaiting its partner
        for segment, hoisted in segments:
            if hoisted is not None and regs[hoisted[0]] is not None:
                partial = _segment_at_step(regs[hoisted[0]], regs[hoisted[1]])
            else:
                partial = segment(ev)
            if isinstance(partial, Pairs):
                pairs = partial
                partial = pairs.total
                if pairs.head is not None:
                    assert carry is not None  # the stream before the segment has odd length
                    partial = partial + boundary_pair(precision, carry, pairs.head)
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
    """`_at_step` of a segment that may be `Pairs`, then of each of its arrays."""
    if not isinstance(precomputed, Pairs):
        return _at_step(precomputed, step)
    head, tail = (
        None if f is None else (_at_step(f[0], step), _at_step(f[1], step))
        for f in (precomputed.head, precomputed.tail)
    )
    return Pairs(_at_step(precomputed.total, step), head, tail)


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
    (`LoopCompiler.quantized`): it is loaded only for the multipliers, from a memory whose
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
    c: LoopCompiler, op: loop.AccessOp
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


def _load(c: LoopCompiler, op: loop.LoadOp) -> Step:
    address, result = _addressing(c, op), c.slot(op.result)
    # a loaded value must not change when a later store writes its elements
    accessor = c.accessor(op.name, copy=_written(op.memref))
    if c.precision.mixed and _fixed_8bit(op.result):
        quantized = c.quantized

        def run_8bit(ev: Evaluator) -> None:
            memory, indices, selector = address(ev.regs)
            ev.record(memory, False, indices, selector)
            ev.regs[result] = accessor.load(quantized(memory), indices, selector)

        return run_8bit

    def run(ev: Evaluator) -> None:
        memory, indices, selector = address(ev.regs)
        ev.record(memory, False, indices, selector)
        ev.regs[result] = accessor.load(memory, indices, selector)

    return run


def _store(c: LoopCompiler, op: loop.StoreOp) -> Step:
    address, value = _addressing(c, op), c.slot(op.value)
    accessor = c.accessor(op.name, copy=False)

    def run(ev: Evaluator) -> None:
        memory, indices, selector = address(ev.regs)
        ev.record(memory, True, indices, selector)
        accessor.store(memory, indices, selector, ev.regs[value], ev.frame)

    return run


def _alloc(c: LoopCompiler, op: loop.AllocOp) -> Step:
    ty = op.memref.type
    assert isinstance(ty, MemRefType)
    dtype = numpy_dtype(ty.get_element_type())
    # undefined contents: NaN makes a read before the first write visible in results
    fill = np.nan if np.issubdtype(dtype, np.floating) and not op.zeroed else 0
    shape, result, name = (op.buffer_count, *ty.get_shape()), c.slot(op.memref), _name(op.memref)

    def run(ev: Evaluator) -> None:
        ev.regs[result] = Memory(name, np.full(shape, fill, dtype))

    return run


def _from_tensor(c: LoopCompiler, op: loop.FromTensorOp) -> Step:
    ty = op.memref.type
    assert isinstance(ty, MemRefType)
    dtype = numpy_dtype(ty.get_element_type())
    tensor, result, name = c.slot(op.tensor), c.slot(op.memref), _name(op.memref)
    copy = _written(op.memref)  # a memory nothing writes can share the tensor's array

    def run(ev: Evaluator) -> None:
        ev.regs[result] = Memory(name, np.array(ev.regs[tensor], dtype=dtype, copy=copy)[None])

    return run


def _to_tensor(c: LoopCompiler, op: loop.ToTensorOp) -> Step:
    memref, result = c.slot(op.memref), c.slot(op.tensor)

    def run(ev: Evaluator) -> None:
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


def _binary(c: LoopCompiler, op: Operation) -> Step:
    function = _BINARY[type(op)]
    lhs, rhs = (c.slot(v) for v in op.operands)
    result = c.slot(op.results[0])

    def run(ev: Evaluator) -> None:
        regs = ev.regs
        regs[result] = function(regs[lhs], regs[rhs])

    return run


def _constant(c: LoopCompiler, op: arith.ConstantOp) -> Step:
    raw = op.value.value.data  # type: ignore[union-attr]
    ty = op.result.type
    # a float of the op's own type, so that it does not widen float32 arrays
    value = int(raw) if isinstance(ty, IndexType | IntegerType) else numpy_dtype(ty).type(raw)
    result = c.slot(op.result)

    def run(ev: Evaluator) -> None:
        ev.regs[result] = value

    return run


def _cmpi(c: LoopCompiler, op: arith.CmpiOp) -> Step:
    compare = _CMPI[op.predicate.value.data]
    lhs, rhs, result = c.slot(op.lhs), c.slot(op.rhs), c.slot(op.result)

    def run(ev: Evaluator) -> None:
        regs = ev.regs
        regs[result] = compare(materialize(regs[lhs]), materialize(regs[rhs]))

    return run


def _index_cast(c: LoopCompiler, op: arith.IndexCastOp) -> Step:
    source, result = c.slot(op.input), c.slot(op.result)

    def run(ev: Evaluator) -> None:
        value = materialize(ev.regs[source])
        ev.regs[result] = value.astype(np.int64) if isinstance(value, np.ndarray) else int(value)

    return run


def _select(c: LoopCompiler, op: loop.SelectOp | arith.SelectOp) -> Step:
    operands, result = tuple(c.slot(v) for v in op.operands), c.slot(op.results[0])

    def run(ev: Evaluator) -> None:
        cond, true_value, false_value = (materialize(ev.regs[v]) for v in operands)
        ev.regs[result] = np.where(cond, true_value, false_value)

    return run


def _activation(c: LoopCompiler, op: loop.ActivationOp) -> Step:
    function = Activation(op.ONNX_NAME, **op.parameter_values())
    source, result = c.slot(op.input), c.slot(op.result)
    if c.precision.mixed:
        precision = c.precision

        def run_table(ev: Evaluator) -> None:
            ev.regs[result] = activation(precision, function, ev.regs[source])

        return run_table

    def run(ev: Evaluator) -> None:
        ev.regs[result] = function(np.asarray(ev.regs[source]))

    return run


#: Compiled programs of the last few modules run, by id(module) and precision (which the
#: steps are compiled for): (module, fingerprint, compiler). The module is kept so that its
#: id cannot be reused while it is cached.


def fingerprint(module: ModuleOp) -> tuple[Any, ...]:
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
