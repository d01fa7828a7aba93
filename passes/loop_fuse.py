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
from xdsl.ir import Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter
from xdsl.traits import get_effects
from xdsl.transforms.common_subexpression_elimination import cse
from xdsl.transforms.dead_code_elimination import dce
from xdsl.utils.exceptions import PassFailedException

# ---- 1. fusion -----------------------------------------------------------------------------------


def _blocks_with_nests(module: ModuleOp) -> list[Block]:
    blocks = []
    for op in module.walk():
        for region in op.regions:
            blocks.extend(
                block
                for block in region.blocks
                if any(isinstance(o, loop.ForeachOp) for o in block.ops)
            )
    return blocks


def _fuse_pair(block: Block) -> bool:
    """Fuse one producer/consumer pair of nests of `block`, the first consumer first and
    its nearest producer first; False if there is none."""
    nests = [op for op in block.ops if isinstance(op, loop.ForeachOp)]
    return any(
        _try_fuse(producer, consumer)
        for position, consumer in enumerate(nests)
        for producer in reversed(nests[:position])
    )


def _writes_what_reads(producer: list[Access], consumer: list[Access]) -> bool:
    return any(a.write and not b.write and may_alias(a, b) for a in producer for b in consumer)


def _try_fuse(producer: loop.ForeachOp, consumer: loop.ForeachOp) -> bool:
    if producer.shape != consumer.shape or producer.par_factors != consumer.par_factors:
        return False
    produced, consumed = accesses(producer), accesses(consumer)
    if not _writes_what_reads(produced, consumed):
        return False
    renamed: set[SSAValue] = set()
    for a in produced:
        for b in consumed:
            if not (a.write or b.write) or not may_alias(a, b) or same_iteration(a, b):
                continue
            if not a.write and b.write and _double_bufferable(b.memref, consumer):
                renamed.add(b.memref)
                continue
            return False
    placement = _placement(producer, consumer, renamed)
    if placement is None:
        return False
    for memref in renamed:
        _double_buffer(memref, consumer)
    _merge(producer, consumer, at_consumer=placement)
    _forward(producer)
    return True


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


def _merge(producer: loop.ForeachOp, consumer: loop.ForeachOp, at_consumer: bool) -> None:
    """Append the consumer's body to the producer's and put the nest in place."""
    target, source = producer.body.block, consumer.body.block
    for ours, theirs in zip(source.args, target.args, strict=True):
        ours.replace_all_uses_with(theirs)
    terminator = target.last_op
    assert terminator is not None
    for op in list(source.ops)[:-1]:
        op.detach()
        target.insert_op_before(op, terminator)
    if at_consumer:
        producer.detach()
        consumer.parent_block().insert_op_before(producer, consumer)  # type: ignore[union-attr]
    Rewriter.erase_op(consumer)


def _forward(nest: loop.ForeachOp) -> None:
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
                op.result.replace_all_uses_with(known[key][1])
                Rewriter.erase_op(op)
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
    if not _writes_everything(access_of(store, writer), writer, memref):
        return False
    block = writer.body.block
    return all(
        block.find_ancestor_op_in_block(u).is_before_in_block(store)  # type: ignore[union-attr]
        for u in users
        if isinstance(u, loop.LoadOp) and writer.is_ancestor(u)
    )


def _writes_everything(store: Access, writer: loop.ForeachOp, memref: SSAValue) -> bool:
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


def _double_buffer(memref: SSAValue, writer: loop.ForeachOp) -> None:
    """Two buffers: step t reads buffer t, the writer writes buffer t+1; before the time
    loop buffer 0 is used, after it buffer `steps`."""
    step = writer.parent_op()
    assert isinstance(step, loop.SequentialOp)
    alloc = memref.owner
    assert isinstance(alloc, loop.AllocOp)
    alloc.buffers = IntegerAttr(2, i64)
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
        _replace_access(access, access.with_selector(selector))


def _replace_access(old: loop.AccessOp, new: loop.AccessOp) -> None:
    block = old.parent_block()
    assert block is not None
    block.insert_op_before(new, old)
    if isinstance(old, loop.LoadOp) and isinstance(new, loop.LoadOp):
        new.result.name_hint = old.result.name_hint
        old.result.replace_all_uses_with(new.result)
    Rewriter.erase_op(old)


# ---- 3. contraction ------------------------------------------------------------------------------


def _contract(module: ModuleOp) -> None:
    """Remove every memory that is only written, and what computed the values."""
    for alloc in [op for op in module.walk() if isinstance(op, loop.AllocOp)]:
        users = [use.operation for use in alloc.memref.uses]
        if all(isinstance(u, loop.StoreOp) for u in users):
            for user in users:
                Rewriter.erase_op(user)
            Rewriter.erase_op(alloc)
    dce(module)


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


def _merge_reductions(module: ModuleOp) -> None:
    for combine in [op for op in module.walk() if type(op) in _COMBINERS]:
        assert isinstance(combine, loop.BinaryOp)
        pair = _mergeable(combine)
        if pair is None:
            continue
        first, second = pair
        regions = [r.detach_region(r.segments[0]) for r in pair for _ in range(len(r.segments))]
        merged = loop.ReduceOp(
            first.kind,
            first.lengths + second.lengths,
            regions,
            first.result.type,
            par=first.par_factor,
            vec=first.vec_factor,
        )
        merged.result.name_hint = combine.result.name_hint
        combine.parent_block().insert_op_before(merged, combine)  # type: ignore[union-attr]
        combine.result.replace_all_uses_with(merged.result)
        Rewriter.erase_op(combine)
        Rewriter.erase_op(first)
        Rewriter.erase_op(second)


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
        # fusing nests that hold nests changes blocks: look again after every fusion
        while any(_fuse_pair(block) for block in _blocks_with_nests(op)):
            pass
        _contract(op)
        _merge_reductions(op)
        cse(op)
