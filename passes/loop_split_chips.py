"""`loop-split-chips`: the loop program of one chip of a model split over several.

With `chips` N > 1 the hidden units are split over N chips (`rnnc.target.multichip.chip_rows`,
the split the search assumed), and this pass keeps chip `chip`'s share: every nest of the
time loop, and every nest after it over the hidden units (the copies of the final state),
iterates over the chip's hidden units [lo, hi) only -- its innermost extent becomes
hi - lo and every access by its innermost counter moves by lo:

    loop.foreach (%d, %b, %i) in (1, 1, 8) par (1, 1, 2) {
      %0 = loop.load %w[%d, %i + 8, %k] ...
becomes, for chip 1 of 2,
    loop.foreach (%d, %b, %i) in (1, 1, 4) par (1, 1, 2) {
      %0 = loop.load %w[%d, %i + 12, %k] ...

so `spatial-partition` gives the chip the weight rows and the units of its share alone. The
memories keep their shapes: each chip has the whole state, of which it writes its rows.
The time loop records the split as `loop.chip = {chip, chips, rows = [lo, hi], exchange}`:
`exchange` names the memories a nest of the step writes by hidden unit and a nest reads
across the hidden units (h; r * h of a GRU), which the chips send each other after the nest
that writes them (`rnnc.target.multichip`). Nests before the time loop (an initial state)
run whole on every chip.

A model of several time loops (stacked layers) is not split (each layer would need its
output gathered too), nor a nest whose innermost counter is used other than as an index.

    rnnc model.mlir -p '...,loop-assign-resources{chips=2},loop-split-chips{chips=2 chip=1}'
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnc.analysis.access import time_loops
from rnnc.dialects import loop
from rnnc.passes.loop_fold_constants import is_folded
from rnnc.target.multichip import MultichipError, chip_rows
from xdsl.context import Context
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    DictionaryAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    i64,
)
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import DiagnosticException

#: The attribute on the time loop that records the split.
CHIP_ATTR = "loop.chip"


class SplitFailure(DiagnosticException):
    """The program cannot be split over chips."""


@dataclass(frozen=True)
class LoopSplitChipsPass(ModulePass):
    """Keep chip `chip`'s share of a program split over `chips` chips (see module doc)."""

    name = "loop-split-chips"

    chips: int = 1
    chip: int = 0

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        del ctx
        if self.chips == 1:
            return
        if not 0 <= self.chip < self.chips:
            raise SplitFailure(f"{self.name}: chip {self.chip} of {self.chips}: chips are "
                               f"numbered 0 to {self.chips - 1}")
        steps = time_loops(op)
        if len(steps) != 1:
            raise SplitFailure(f"{self.name}: a program of {len(steps)} time loops cannot be "
                               "split over chips (one layer only: the next layer would need "
                               "this one's output gathered)")
        step = steps[0]
        if CHIP_ATTR in step.attributes:
            return  # its own output
        nests = [n for n in step.body.block.ops if isinstance(n, loop.ForeachOp)]
        hidden = {n.shape[-1] for n in nests}
        if len(hidden) != 1:
            raise SplitFailure(f"{self.name}: the nests of the time loop iterate over "
                               f"{sorted(hidden)} hidden units; one size is split")
        (extent,) = hidden
        try:
            lo, hi = chip_rows(extent, self.chips)[self.chip]
        except MultichipError as error:
            raise SplitFailure(f"{self.name}: {error}") from None
        exchanged = _exchanged(nests)
        later = [n for n in _after(step) if n.shape[-1] == extent]
        for nest in (*nests, *later):
            _keep_rows(nest, lo, hi, self.name)
        step.attributes[CHIP_ATTR] = DictionaryAttr({
            "chip": IntegerAttr(self.chip, i64),
            "chips": IntegerAttr(self.chips, i64),
            "rows": DenseArrayBase.from_list(i64, [lo, hi]),
            "exchange": ArrayAttr([StringAttr(name) for name in exchanged]),
        })


def _after(step: loop.SequentialOp) -> list[loop.ForeachOp]:
    """The nests after the time loop in its block that the chip runs (not folded)."""
    block = step.parent_block()
    assert block is not None
    return [op for op in block.ops if isinstance(op, loop.ForeachOp) and not is_folded(op)
            and step.is_before_in_block(op)]


def _hidden_index(access: loop.LoadOp | loop.StoreOp, nest: loop.ForeachOp) -> bool:
    """Whether the access's last index is the nest's hidden-unit counter."""
    return bool(access.indices) and access.indices[-1] == nest.counters[-1]


def _exchanged(nests: list[loop.ForeachOp]) -> list[str]:
    """The memories a nest of the step stores by hidden unit and a nest of the step loads
    across the hidden units (by another index), in order of their first store."""
    stored: list[SSAValue] = []
    for nest in nests:
        for op in nest.walk():
            if isinstance(op, loop.StoreOp) and _hidden_index(op, nest) \
                    and loop.space_of(op.memref) != "dram" and op.memref not in stored:
                stored.append(op.memref)
    across = {op.memref for nest in nests for op in nest.walk()
              if isinstance(op, loop.LoadOp) and not _hidden_index(op, nest)}
    names = []
    for memref in stored:
        if memref in across:
            if not memref.name_hint or _named_twice(memref):
                raise SplitFailure("loop-split-chips: an exchanged memory needs a name of its "
                                   "own in the program")
            names.append(memref.name_hint)
    return names


def _named_twice(memref: SSAValue) -> bool:
    """Whether another memory of the function has the same name (the partition would
    rename one of them)."""
    function = memref.owner.parent_op()
    assert function is not None
    return sum(1 for op in function.walk() if isinstance(op, loop.AllocOp | loop.FromTensorOp)
               and op.memref.name_hint == memref.name_hint) > 1


def _is_index(operand: int, access: loop.LoadOp | loop.StoreOp) -> bool:
    """Whether operand number `operand` of the access is one of its indices (a load's
    operands are the memory, the indices and a buffer; a store's the value first)."""
    start = 1 if isinstance(access, loop.LoadOp) else 2
    return start <= operand < start + len(access.indices)


def _keep_rows(nest: loop.ForeachOp, lo: int, hi: int, name: str) -> None:
    """The nest over hidden units [lo, hi) instead of [0, extent)."""
    counter = nest.counters[-1]
    for use in counter.uses:
        user = use.operation
        if not isinstance(user, loop.LoadOp | loop.StoreOp) or not _is_index(use.index, user):
            raise SplitFailure(f"{name}: the hidden-unit counter of a nest is used by "
                               f"'{user.name}', not only as an index; the nest is not split")
    for op in nest.walk():
        if isinstance(op, loop.LoadOp | loop.StoreOp):
            offsets = [offset + lo if index == counter else offset
                       for index, offset in zip(op.indices, op.index_offsets, strict=True)]
            op.properties["offsets"] = DenseArrayBase.from_list(i64, offsets)
    shape = [*nest.shape[:-1], hi - lo]
    par = [*nest.par_factors[:-1], min(nest.par_factors[-1], hi - lo)]
    nest.properties["extents"] = DenseArrayBase.from_list(i64, shape)
    nest.properties["par"] = DenseArrayBase.from_list(i64, par)
