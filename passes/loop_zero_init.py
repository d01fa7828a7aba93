"""`loop-zero-init`: a zero initial state is a memory's initial contents, not a nest.

`rnn-decompose` starts the recurrent state with a nest that runs once before the time
loop and stores h0 and c0 into the state memories, or a constant zero where the model
gives no initial state. On hardware a zero there is work for nothing: the memory units
are loaded with their initial contents with the configuration. This pass removes every
store of a constant +0.0 that writes the whole of a memory allocated on chip (one
element per counter of its nest, in a nest that runs once before anything else uses the
memory), marks the memory `loop.alloc zero` (every buffer zero; `spatial-partition` gives
it the initial contents `zero`), and erases the nest once it stores nothing else:

    %h = loop.alloc buffers 2 : memref<1x1x8xf32, #loop.space<sram>>
    loop.foreach (%d, %b, %i) in (1, 1, 8) par (1, 1, 1) {
      %0 = arith.constant 0.000000e+00 : f32
      loop.store %0, %h[%d, %b, %i] buffer 0 : memref<1x1x8xf32, #loop.space<sram>>
    }
becomes
    %h = loop.alloc zero buffers 2 : memref<1x1x8xf32, #loop.space<sram>>

A store of an initial state the model gives (h0 read from an input), of -0.0, of part of
a memory, or into a memory read or written before the nest stays as it is.

    rnnc model.mlir -p 'rnn-decompose,loop-fuse,loop-zero-init'
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnc.analysis.access import access_of
from rnnc.dialects import loop
from rnnc.passes.loop_fuse import writes_everything
from xdsl.context import Context
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import FloatAttr, ModuleOp, UnitAttr
from xdsl.ir import Block, Operation
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter


def _is_positive_zero(op: Operation | None) -> bool:
    if not isinstance(op, arith.ConstantOp) or not isinstance(op.value, FloatAttr):
        return False
    value = op.value.value.data
    return value == 0.0 and str(value) == "0.0"  # -0.0 differs in its sign bit


def _first_use(store: loop.StoreOp, nest: loop.ForeachOp, block: Block) -> bool:
    """Whether `nest` (an op of `block`) is the first op of the block that uses the memory
    `store` writes, and `store` the nest's only access to it."""
    memref = store.memref
    for use in memref.uses:
        user = use.operation
        ancestor = block.find_ancestor_op_in_block(user)
        if ancestor is None:
            return False
        if ancestor is nest:
            if user is not store:
                return False
        elif ancestor.is_before_in_block(nest) and not isinstance(user, loop.AllocOp):
            return False
    return True


def _foldable(store: loop.StoreOp, nest: loop.ForeachOp, block: Block) -> bool:
    """A store of +0.0 into the whole of an on-chip allocated memory, which nothing uses
    before `nest`, made directly in `nest`'s body."""
    alloc = store.memref.owner
    return (
        isinstance(alloc, loop.AllocOp)
        and loop.space_of(store.memref) != "dram"
        and store.parent_op() is nest
        and _is_positive_zero(store.value.owner)
        and writes_everything(access_of(store, nest), nest, store.memref)
        and _first_use(store, nest, block)
    )


def fold_zero_stores(nest: loop.ForeachOp, block: Block) -> bool:
    """Turn the nest's foldable zero stores into zero-initialised memories; erase the nest
    if it stores nothing else. Returns whether anything changed."""
    stores = [op for op in nest.body.block.ops if isinstance(op, loop.StoreOp)]
    folded = [s for s in stores if _foldable(s, nest, block)]
    for store in folded:
        alloc = store.memref.owner
        assert isinstance(alloc, loop.AllocOp)
        alloc.properties["zero"] = UnitAttr()
        constant = store.value.owner
        Rewriter.erase_op(store)
        if isinstance(constant, arith.ConstantOp) and not constant.result.uses:
            Rewriter.erase_op(constant)
    if folded and len(folded) == len(stores):
        Rewriter.erase_op(nest)
    return bool(folded)


@dataclass(frozen=True)
class LoopZeroInitPass(ModulePass):
    """Fold the zero stores of the nests that run first into the memories' initial
    contents (see the module doc)."""

    name = "loop-zero-init"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in [o for o in op.walk() if isinstance(o, func.FuncOp)]:
            block = function.body.block
            for nest in [o for o in block.ops if isinstance(o, loop.ForeachOp)]:
                fold_zero_stores(nest, block)


__all__ = ["LoopZeroInitPass", "fold_zero_stores"]
