"""loop-fuse: cross-kernel fusion of loop nests.

A general producer->consumer fusion, driven only by access relations (`rnnc.analysis.access`);
it knows nothing about recurrent cells. Applied to the BLAS-style program of
`rnn-decompose` it yields the paper's fused cell. Four steps:

1. **Fusion.** Two `loop.foreach` nests of one block over the same iteration space (same
   extents and `par`), where the first (producer) writes a memory the second (consumer)
   reads, become one nest -- the producer's body followed by the consumer's -- when every
   pair of their accesses that may touch one element (at least one of them a write) does
   so only in the same iteration: both run once per iteration, at the same index and
   buffer. A consumer that reads the producer's output at another index (a matrix-vector
   product over it, a shift) is not fused. Ops between the two nests must commute with
   whichever nest moves. In the fused body a load of an element stored (or loaded) earlier
   in the same iteration is replaced by that value: it now flows through a register.

2. **Double-buffering of loop-carried state.** One pair is allowed to touch other indices:
   the producer reads a memory that the consumer writes, when the memory is state carried
   across the iterations of the enclosing `loop.sequential` (the hidden state h: every gate
   reads all of h(t-1), the update writes h(t)[i]). Renaming removes that anti-dependence:
   the memory gets two buffers, step t reads buffer t and writes buffer t+1 (mod 2). This is
   only done when the consumer is the state's only writer in the step and writes every
   element, so that the new buffer is complete at the end of every step.

3. **Contraction.** A memory nobody reads any more is removed with the stores into it: the
   intermediate values between fused kernels now live only in registers.

4. **Merging of reductions.** `combine(reduce_1, reduce_2)` with the reductions' own
   combiner (e.g. `W·x + R·h`) becomes one reduction over the concatenation of their
   iteration spaces (`loop.reduce ... (%k in D) {..} concat (%k in H) {..}`): the gate's
   dot product over [x, h] of length D + H, without copying x and h into one memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rnnc.analysis.access import Access, access_of, accesses, may_alias, same_iteration
from rnnc.dialects import loop, rnn
from xdsl.context import Context
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i64
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint
from xdsl.traits import get_effects
from xdsl.transforms.common_subexpression_elimination import cse
from xdsl.transforms.dead_code_elimination import dce
from xdsl.utils.exceptions import PassFailedException

# ---- 1. fusion -----------------------------------------------------------------------------------


class FuseProducerIntoConsumer(RewritePattern):
    """Fuses a `loop.foreach` (the consumer) with the nearest earlier nest of its block
    that it can be fused with (the producer), and asks for the fused nest to be visited
    again: it may fuse with a producer further up."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, consumer: loop.ForeachOp, rewriter: PatternRewriter) -> None:
        producer = consumer.prev_op
        while producer is not None:
            if isinstance(producer, loop.ForeachOp):
                fused = _try_fuse(producer, consumer, rewriter)
                if fused is not None:
                    rewriter.notify_op_modified(fused)
                    return
            producer = producer.prev_op


def _writes_what_reads(producer: list[Access], consumer: list[Access]) -> bool:
    return any(a.write and not b.write and may_alias(a, b) for a in producer for b in consumer)


def _try_fuse(
    producer: loop.ForeachOp, consumer: loop.ForeachOp, rewriter: PatternRewriter
) -> loop.ForeachOp | None:
    """The fused nest, or None (and nothing changed) if the two cannot be fused."""
    if producer.shape != consumer.shape or producer.par_factors != consumer.par_factors:
        return None
    produced, consumed = accesses(producer), accesses(consumer)
    if not _writes_what_reads(produced, consumed):
        return None
    renamed: set[SSAValue] = set()
    for a in produced:
        for b in consumed:
            if not (a.write or b.write) or not may_alias(a, b) or same_iteration(a, b):
                continue
            if not a.write and b.write and _double_bufferable(b.memref, consumer):
                renamed.add(b.memref)
                continue
            return None
    placement = _placement(producer, consumer, renamed)
    if placement is None:
        return None
    for memref in renamed:
        _double_buffer(memref, consumer, rewriter)
    fused = _merge(producer, consumer, placement, rewriter)
    _forward(fused, rewriter)
    return fused


def _conflict(first: Operation, second: Operation, renamed: set[SSAValue]) -> bool:
    """Whether swapping `first` and `second` could change what they compute. Accesses to a
    memory about to be double-buffered by `second` (its writer) do not conflict."""
    if get_effects(first) is None or get_effects(second) is None:
        return True
    for a in accesses(first):
        for b in accesses(second):
            if not (a.write or b.write) or not may_alias(a, b):
                continue
            if a.memref in renamed and b.write and not a.write:
                continue
            return True
    return False


def _placement(
    producer: loop.ForeachOp, consumer: loop.ForeachOp, renamed: set[SSAValue]
) -> bool | None:
    """Where the fused nest can go: True at the consumer (the producer moves down past the
    ops between them), False at the producer (the consumer moves up), None nowhere."""
    between: list[Operation] = []
    op = producer.next_op
    while op is not consumer:
        assert op is not None
        between.append(op)
        op = op.next_op
    if not any(_conflict(producer, x, set()) for x in between):
        return True
    defined_between = {r for x in between for r in x.results}
    uses_between = any(v in defined_between for nested in consumer.walk() for v in nested.operands)
    if not uses_between and not any(_conflict(x, consumer, renamed) for x in between):
        return False
    return None


def _merge(
    producer: loop.ForeachOp,
    consumer: loop.ForeachOp,
    at_consumer: bool,
    rewriter: PatternRewriter,
) -> loop.ForeachOp:
    """One nest running the producer's body, then the consumer's, where `_placement` put
    it: the nest that stays takes in the other's body, on its own counters."""
    first, second = producer.body.block, consumer.body.block
    if at_consumer:
        kept, moved, at = consumer, first, InsertPoint.at_start(second)
    else:
        kept, moved, at = producer, second, InsertPoint.before(first.last_op)  # type: ignore[arg-type]
    rewriter.erase(moved.last_op)  # type: ignore[arg-type]  # its loop.yield
    rewriter.inline_block(moved, at, kept.body.block.args)
    rewriter.erase(producer if at_consumer else consumer)
    return kept


def _forward(nest: loop.ForeachOp, rewriter: PatternRewriter) -> None:
    """Replace loads of elements stored or loaded earlier in the same iteration by the
    stored or loaded value."""
    known: dict[tuple[SSAValue, object, object], tuple[Access, SSAValue]] = {}
    for op in list(nest.body.block.ops):
        if isinstance(op, loop.StoreOp):
            access = access_of(op, nest)
            _forget(known, access)
            if access.index is not None:
                known[(op.memref, access.index, access.selector)] = (access, op.value)
        elif isinstance(op, loop.LoadOp):
            access = access_of(op, nest)
            key = (op.memref, access.index, access.selector)
            if access.index is None:
                continue
            if key in known:
                rewriter.replace_all_uses_with(op.result, known[key][1])
                rewriter.erase(op)
            else:
                known[key] = (access, op.result)
        else:
            for store in _stores(op):
                _forget(known, access_of(store, nest))


def _stores(op: Operation) -> Iterable[loop.StoreOp]:
    return (s for s in op.walk() if isinstance(s, loop.StoreOp))


def _forget(
    known: dict[tuple[SSAValue, object, object], tuple[Access, SSAValue]], store: Access
) -> None:
    for key, (access, _) in list(known.items()):
        if may_alias(access, store):
            del known[key]


# ---- 2. double-buffering -------------------------------------------------------------------------


def _double_bufferable(memref: SSAValue, writer: loop.ForeachOp) -> bool:
    """Whether `memref` is state of the time loop around `writer` that `writer` alone
    rewrites completely every step, and that it reads only before writing."""
    alloc, step = memref.owner, writer.parent_op()
    if not isinstance(alloc, loop.AllocOp) or alloc.buffer_count != 1:
        return False
    if not isinstance(step, loop.SequentialOp) or alloc.parent_block() is not step.parent_block():
        return False
    users = [use.operation for use in memref.uses]
    if not all(isinstance(u, loop.AccessOp) and u.memref is memref for u in users):
        return False
    stores = [u for u in users if isinstance(u, loop.StoreOp) and step.is_ancestor(u)]
    if len(stores) != 1 or stores[0].parent_op() is not writer:
        return False
    (store,) = stores
    if not writes_everything(access_of(store, writer), writer, memref):
        return False
    block = writer.body.block
    return all(
        block.find_ancestor_op_in_block(u).is_before_in_block(store)  # type: ignore[union-attr]
        for u in users
        if isinstance(u, loop.LoadOp) and writer.is_ancestor(u)
    )


def writes_everything(store: Access, writer: loop.ForeachOp, memref: SSAValue) -> bool:
    """Whether the store writes each element once: its index is the nest's counters, each
    on a dimension of the counter's extent."""
    shape = memref.type.get_shape()  # type: ignore[union-attr]
    if store.index is None or len(store.index) != len(writer.shape):
        return False
    positions = []
    for key, offset in store.index:
        if offset != 0 or not (isinstance(key, tuple) and key[0] == "counter"):
            return False
        positions.append(key[1])
    return sorted(positions) == list(range(len(writer.shape))) and all(
        writer.shape[p] == size for p, size in zip(positions, shape, strict=True)
    )


def _double_buffer(memref: SSAValue, writer: loop.ForeachOp, rewriter: PatternRewriter) -> None:
    """Two buffers: step t reads buffer t, the writer writes buffer t+1; before the time
    loop buffer 0 is used, after it buffer `steps`."""
    step = writer.parent_op()
    assert isinstance(step, loop.SequentialOp)
    alloc = memref.owner
    assert isinstance(alloc, loop.AllocOp)
    alloc.buffers = IntegerAttr(2, i64)
    rewriter.notify_op_modified(alloc)
    outer, body = step.parent_block(), step.body.block
    assert outer is not None
    for use in list(memref.uses):
        access = use.operation
        assert isinstance(access, loop.AccessOp)
        ancestor = outer.find_ancestor_op_in_block(access)
        assert ancestor is not None
        if ancestor is step:
            top = body.find_ancestor_op_in_block(access)
            assert top is not None
            after = top is writer and isinstance(access, loop.StoreOp)
            after = after or (top is not writer and writer.is_before_in_block(top))
            selector: tuple[SSAValue | None, int] = (step.counter, 1 if after else 0)
        else:
            selector = (None, step.step_count if step.is_before_in_block(ancestor) else 0)
        rewriter.replace(access, access.with_selector(selector))


# ---- 3. contraction ------------------------------------------------------------------------------
# `loop.RemoveWriteOnlyMemory`, the canonicalization pattern of `loop.alloc`, then
# dead-code elimination of what computed the values (`LoopFusePass.apply`).


# ---- 4. merging of reductions --------------------------------------------------------------------

_COMBINERS: dict[type[Operation], str] = {
    loop.AddOp: "add",
    loop.MulOp: "mul",
    loop.MaxOp: "max",
    loop.MinOp: "min",
}


def _mergeable(combine: loop.BinaryOp) -> tuple[loop.ReduceOp, loop.ReduceOp] | None:
    first, second = combine.lhs.owner, combine.rhs.owner
    if not (isinstance(first, loop.ReduceOp) and isinstance(second, loop.ReduceOp)):
        return None
    if first is second or first.kind != _COMBINERS[type(combine)] or second.kind != first.kind:
        return None
    same_factors = (first.par_factor, first.vec_factor) == (second.par_factor, second.vec_factor)
    single_use = first.result.has_one_use() and second.result.has_one_use()
    here = first.parent_block() is combine.parent_block() is second.parent_block()
    return (first, second) if same_factors and single_use and here else None


class MergeCombinedReductions(RewritePattern):
    """`combine(reduce_1, reduce_2)` -> one reduction over the concatenation of their
    segments, when `combine` is their combiner."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, combine: loop.BinaryOp, rewriter: PatternRewriter) -> None:
        if type(combine) not in _COMBINERS:
            return
        pair = _mergeable(combine)
        if pair is None:
            return
        first, second = pair
        regions = [
            rewriter.move_region_contents_to_new_regions(region)
            for reduction in pair
            for region in reduction.segments
        ]
        merged = loop.ReduceOp(
            first.kind,
            first.lengths + second.lengths,
            regions,
            first.result.type,
            par=first.par_factor,
            vec=first.vec_factor,
        )
        merged.result.name_hint = combine.result.name_hint
        rewriter.replace(combine, merged)
        rewriter.erase(first)
        rewriter.erase(second)


@dataclass(frozen=True)
class LoopFusePass(ModulePass):
    """Fuse producer/consumer loop nests, keep intermediates in registers, double-buffer
    loop-carried state, and merge reductions that are combined into one."""

    name = "loop-fuse"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for nested in op.walk():
            if isinstance(nested, rnn.RecurrentOp):
                raise PassFailedException(
                    f"loop-fuse works on loop-level IR, but found {nested.name}: run "
                    "rnn-decompose first"
                )
        # no dead-code elimination while fusing: fusion decides on the program as it is
        PatternRewriteWalker(
            GreedyRewritePatternApplier([FuseProducerIntoConsumer()], dce_enabled=False)
        ).rewrite_module(op)
        _sweep(op, loop.RemoveWriteOnlyMemory())
        dce(op)
        _sweep(op, MergeCombinedReductions())
        cse(op)


def _sweep(module: ModuleOp, pattern: RewritePattern) -> None:
    """Apply `pattern` once to every op, in program order. (One sweep: a memory that only
    becomes write-only when the dead code behind a removed one goes is kept.)"""
    PatternRewriteWalker(
        GreedyRewritePatternApplier([pattern], dce_enabled=False), apply_recursively=False
    ).rewrite_module(module)
