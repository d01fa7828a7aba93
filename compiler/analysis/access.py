"""Access relations of loop nests: which elements of which memories a nest reads and writes.

An access (`loop.load` / `loop.store`) inside a `loop.foreach` is described relative to the
nest's counters: its index becomes a key in which the nest's counters appear by position,
values defined outside the nest by identity, and index arithmetic inside the nest
structurally. Two accesses of two nests over the same iteration space touch the same
element in the same iteration exactly when their keys are equal. Indices the analysis cannot
describe (computed from loaded values, or from the counter of an inner loop) have no key,
and every question about them gets the conservative answer.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from rnnc.dialects import loop
from xdsl.dialects import arith
from xdsl.ir import BlockArgument, Operation, SSAValue
from xdsl.traits import Pure

IndexKey = Hashable


@dataclass(frozen=True)
class Access:
    """One load or store of a memory, seen from a loop nest."""

    op: loop.AccessOp
    write: bool
    index: tuple[tuple[IndexKey, int], ...] | None
    """Per dimension (key of the index value, constant offset); None if not analysable."""
    selector: tuple[IndexKey | None, int] | None
    """(key of the buffer selector value, offset) of an N-buffered memory, else None."""
    top_level: bool
    """Whether the access is directly in the nest's body, so it runs once per iteration."""

    @property
    def memref(self) -> SSAValue:
        return self.op.memref


def _inside(value: SSAValue, root: Operation) -> bool:
    owner = value.owner
    if isinstance(value, BlockArgument):
        parent = owner.parent_op()  # type: ignore[union-attr]
        return parent is not None and root.is_ancestor(parent)
    return root.is_ancestor(owner)  # type: ignore[arg-type]


def value_key(value: SSAValue, nest: Operation) -> IndexKey | None:
    """A key of an index value, equal for equal values of every iteration of `nest`."""
    if isinstance(nest, loop.ForeachOp) and value in nest.counters:
        return ("counter", nest.counters.index(value))
    if not _inside(value, nest):
        return ("value", value)
    owner = value.owner
    if isinstance(owner, arith.ConstantOp):
        return ("constant", owner.value)
    if isinstance(owner, Operation) and owner.has_trait(Pure) and not owner.regions:
        operands = tuple(value_key(v, nest) for v in owner.operands)
        if any(k is None for k in operands):
            return None
        properties = tuple(sorted(owner.properties.items()))
        return (owner.name, properties, operands, owner.results.index(value))
    return None


def access_of(op: loop.AccessOp, nest: Operation) -> Access:
    """`op` seen from `nest`, which contains it."""
    keys = [value_key(v, nest) for v in op.indices]
    index = None
    if all(k is not None for k in keys):
        index = tuple(zip(keys, op.index_offsets, strict=True))
    selector = None
    if op.has_selector:
        buffer = None if op.buffer is None else value_key(op.buffer, nest)
        selector = (("none",) if op.buffer is None else buffer, op.selector_offset)
    return Access(
        op=op,
        write=isinstance(op, loop.StoreOp),
        index=index,
        selector=selector,
        top_level=op.parent_op() is nest,
    )


def accesses(nest: Operation) -> list[Access]:
    """Every load and store inside `nest` (any depth), in program order."""
    return [access_of(op, nest) for op in nest.walk() if isinstance(op, loop.AccessOp)]


def may_alias(a: Access, b: Access) -> bool:
    """Whether two accesses to the same memory may touch the same element."""
    if a.memref is not b.memref:
        return False
    if a.selector is None or b.selector is None or a.selector[0] != b.selector[0]:
        return True
    if a.selector[0] is None:
        return True
    buffers = loop.buffers_of(a.memref)
    return (a.selector[1] - b.selector[1]) % buffers == 0


def same_iteration(a: Access, b: Access) -> bool:
    """Whether `a` and `b` (of nests over one iteration space) touch the same element only
    in the same iteration: both run once per iteration, at the same index and buffer."""
    return (
        a.top_level
        and b.top_level
        and a.index is not None
        and a.index == b.index
        and a.selector == b.selector
    )


def counters_of(value: SSAValue, seen: set[SSAValue] | None = None) -> set[BlockArgument]:
    """The loop counters (block arguments of loops) an index value depends on."""
    seen = set() if seen is None else seen
    if value in seen:
        return set()
    seen.add(value)
    if isinstance(value, BlockArgument):
        return {value} if isinstance(value.owner.parent_op(), loop.LOOPS) else set()  # type: ignore[union-attr]
    found: set[BlockArgument] = set()
    for operand in value.owner.operands:  # type: ignore[union-attr]
        found |= counters_of(operand, seen)
    return found


def extent_of(counter: BlockArgument) -> int:
    """How many values a loop counter takes."""
    loop_op = counter.owner.parent_op()  # type: ignore[union-attr]
    if isinstance(loop_op, loop.ForeachOp):
        return loop_op.shape[counter.index]
    if isinstance(loop_op, loop.ReduceOp):
        return loop_op.lengths[list(loop_op.segments).index(counter.owner.parent)]  # type: ignore[union-attr]
    assert isinstance(loop_op, loop.SequentialOp)
    return loop_op.step_count


def footprint(op: loop.AccessOp, within: Operation) -> int:
    """Elements one execution of `within` reads or writes through `op`: the product of the
    extents of the counters inside `within` that the index depends on (indices are affine
    and injective in them)."""
    counters: set[BlockArgument] = set()
    for value in op.indices:
        counters |= counters_of(value)
    count = 1
    for counter in counters:
        if within.is_ancestor(counter.owner.parent_op()):  # type: ignore[arg-type]
            count *= extent_of(counter)
    return count


def _depends_on_counters(key: IndexKey) -> bool:
    if not isinstance(key, tuple) or not key:
        return False
    if key[0] == "counter":
        return True
    if key[0] in ("value", "constant"):
        return False
    return any(_depends_on_counters(k) for k in key[2])


def _injective(index: tuple[tuple[IndexKey, int], ...], nest: loop.ForeachOp) -> bool:
    """Whether distinct iterations of `nest` address distinct elements: every counter that
    takes more than one value indexes a dimension of its own, directly."""
    used: list[int] = []
    for key, _ in index:
        if isinstance(key, tuple) and key[0] == "counter":
            used.append(key[1])
        elif _depends_on_counters(key):
            return False
    varying = [p for p, extent in enumerate(nest.shape) if extent > 1]
    return all(used.count(p) == 1 for p in varying)


def provably_conflict_free(
    nest: loop.ForeachOp, memref: SSAValue, found: list[Access] | None = None
) -> bool:
    """Whether, statically, no iteration of `nest` can touch an element of `memref` that
    another iteration writes: it is written at one index injective in the counters, and
    read at that same index or in another buffer. (Memories never alias: each memref value
    is its own memory.) `found` may pass `accesses(nest)` when it is already known."""
    found = [a for a in (accesses(nest) if found is None else found) if a.memref is memref]
    stores = [a for a in found if a.write]
    first = stores[0] if stores else None
    if first is None or first.index is None or not _injective(first.index, nest):
        return False
    return all(
        (a.index == first.index and a.selector == first.selector)
        or (not a.write and not may_alias(a, first))
        for a in found
    )


# ---- what the memories of a program are for ------------------------------------------------------

INPUT, WEIGHT, OUTPUT, STATE, INTERMEDIATE = "input", "weight", "output", "state", "intermediate"


def time_loops(root: Operation) -> list[loop.SequentialOp]:
    return [op for op in root.walk() if isinstance(op, loop.SequentialOp)]


def memory_role(memref: SSAValue) -> str:
    """What a memory is for: an `input` or a `weight` bound from a tensor (off-chip inputs,
    on-chip weights), an `output` read back as a tensor, an `intermediate` that one loop
    nest writes and another reads within one block (one time step, or the function), or
    `state` carried across the steps of a time loop. A memory written before a time loop and
    only read inside it counts as a weight on chip (a bias summed once) and as an input off
    chip (the output of the layer before, in DRAM)."""
    owner = memref.owner
    users = [use.operation for use in memref.uses]
    if isinstance(owner, loop.FromTensorOp):
        if any(isinstance(u, loop.StoreOp) for u in users):
            return STATE
        return INPUT if loop.space_of(memref) == "dram" else WEIGHT
    if any(isinstance(u, loop.ToTensorOp) for u in users):
        return OUTPUT
    writers = [u for u in users if isinstance(u, loop.StoreOp)]
    readers = [u for u in users if isinstance(u, loop.LoadOp)]
    if len({_nest_of(u).parent_block() for u in users}) == 1 and writers and readers:
        return INTERMEDIATE
    function = owner.parent_op()
    for step in time_loops(function) if function is not None else ():
        if not any(step.is_ancestor(w) for w in writers) and all(
            step.is_ancestor(r) for r in readers
        ):
            return INPUT if loop.space_of(memref) == "dram" else WEIGHT
    return STATE


def _nest_of(op: Operation) -> Operation:
    """The outermost loop nest (or op) around `op` in its function or time-loop body."""
    current = op
    while True:
        parent = current.parent_op()
        if (
            parent is None
            or isinstance(parent, loop.SequentialOp)
            or not isinstance(parent, loop.LOOPS)
        ):
            return current
        current = parent


def elementwise_depth(nest: Operation) -> int:
    """The longest chain of element-wise datapath ops (arithmetic, selects, nonlinearities)
    in a nest's body, following def-use edges; loads and reductions add nothing."""
    depth: dict[SSAValue, int] = {}
    longest = 0
    for op in nest.walk():
        if op is nest or _in_reduction(op, nest):
            continue
        here = max((depth.get(v, 0) for v in op.operands), default=0)
        if isinstance(op, loop.ELEMENTWISE):
            here += 1
        for result in op.results:
            depth[result] = here
        longest = max(longest, here)
    return longest


def _in_reduction(op: Operation, nest: Operation) -> bool:
    parent = op.parent_op()
    while parent is not None and parent is not nest:
        if isinstance(parent, loop.ReduceOp):
            return True
        parent = parent.parent_op()
    return False
