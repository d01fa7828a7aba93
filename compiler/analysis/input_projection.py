"""The input projection of a time-loop nest, and the decision to compute it a step ahead.

A reduction of a fused cell runs over [x(t); h(t-1)]: its first segments read only what
the time loop does not write (x, the weights), so they can be folded for step t + 1 while
step t runs (`rnnc.target.step_ahead`). `ahead_lengths` finds, per reduction, the length
of that leading part; the decision is the nest's `step_ahead` attribute (the parts each
reduction's leading range is cut in, `loop-assign-resources` writes it, `spatial-partition`
builds it), absent for the fused form.
"""

from __future__ import annotations

from rnnc.dialects import loop
from xdsl.dialects.builtin import IntegerAttr, i64
from xdsl.ir import Block, Operation, SSAValue

#: The attribute of a `loop.foreach` that holds the decision.
STEP_AHEAD = "step_ahead"


def _written_in(time: loop.SequentialOp) -> set[SSAValue]:
    return {op.memref for op in time.walk() if isinstance(op, loop.StoreOp)}


def _ahead_segment(block: Block, written: set[SSAValue]) -> bool:
    """A segment computable a step ahead: it reads no memory the time loop writes, and
    uses no value of the nest's body but its own counter (so nothing h feeds into)."""
    inside: set[SSAValue] = {*block.args}
    for op in block.ops:
        if isinstance(op, loop.LoadOp) and op.memref in written:
            return False
        for operand in op.operands:
            if operand in inside or operand is getattr(op, "memref", None):
                continue
            if not _constant_or_counter(operand):
                return False
        inside.update(op.results)
    return True


def _constant_or_counter(value: SSAValue) -> bool:
    """A value the same for every step's copy of a unit: a loop counter (the time step's
    included: the unit's PMU holds the step's slice it reads), a constant, or index
    arithmetic on those (the time step of a reverse direction)."""
    owner = value.owner
    if not isinstance(owner, Operation):
        return True
    return owner.name.startswith("arith.") and all(
        _constant_or_counter(operand) for operand in owner.operands
    )


def ahead_lengths(nest: loop.ForeachOp) -> tuple[int, ...]:
    """Per `loop.reduce` of `nest` (program order), the length of its leading segments
    that a step ahead can fold; () unless the nest is in a time loop and every reduction
    has such a part and a part after it (the recurrence)."""
    time = nest.parent_op()
    if not isinstance(time, loop.SequentialOp):
        return ()
    written = _written_in(time)
    lengths: list[int] = []
    for reduce in nest.walk():
        if not isinstance(reduce, loop.ReduceOp):
            continue
        ahead = 0
        for region, length in zip(reduce.segments, reduce.lengths, strict=True):
            if not _ahead_segment(region.block, written):
                break
            ahead += length
        if not 0 < ahead < reduce.length:
            return ()
        lengths.append(ahead)
    return tuple(lengths)


def step_ahead_of(nest: loop.ForeachOp) -> int:
    """The parts the nest's input projection is cut in, computed a step ahead; 0: fused."""
    attr = nest.attributes.get(STEP_AHEAD)
    return attr.value.data if isinstance(attr, IntegerAttr) else 0


def set_step_ahead(nest: loop.ForeachOp, parts: int) -> None:
    """Record the decision: `parts` > 0 cuts the input projection in that many parts
    computed a step ahead; 0 keeps the fused form."""
    if parts:
        nest.attributes[STEP_AHEAD] = IntegerAttr(parts, i64)
    else:
        nest.attributes.pop(STEP_AHEAD, None)
