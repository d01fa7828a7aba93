"""`loop-fold-constants`: nests that compute from constants alone run when compiling.

Weights are constants. A nest that runs once and reads nothing but weights -- the sum of
the input and recurrent biases `Wb + Rb` that `rnn-decompose` builds before the time
loop -- computes the same values on every run, so the chip should not compute them: this
pass marks such a nest `loop.folded`. Its meaning at the loop level is unchanged (the loop
interpreter runs it as before); downstream it is no runtime work:

* `spatial-partition` builds no units for it, and each memory it writes is a constant of
  the configuration, initialised from the weight file (`weight:<array>`, the array the
  memory's `loop.alloc` names in its `loop.folded_array` attribute);
* `rnnc.driver.folded_weights.folded_arrays` computes those arrays when the configuration
  is written, by running the marked nests on the model's weights with the loop
  interpreter (in the configuration's
  precision, so that the values are exactly those the nest would have computed);
* the search and the cost model do not count it (`loop-assign-resources.once_nests`).

A nest is folded when it is at the top of a function (runs once), every memory it loads
from is bound to a weight (`loop.from_tensor` of an `rnn.weight`), and every memory it
stores to is allocated on chip, stored to by no other op, and used by nothing before it:

    %biases = loop.from_tensor %B : tensor<1x16xf32> -> memref<1x16xf32, #loop.space<sram>>
    %bias = loop.alloc {loop.folded_array = "bias.folded"} : memref<1x8xf32, ...>
    loop.foreach (%d, %j) in (1, 8) par (1, 1) {
      %0 = loop.load %biases[%d, %j] : memref<1x16xf32, #loop.space<sram>>
      %1 = loop.load %biases[%d, %j + 8] : memref<1x16xf32, #loop.space<sram>>
      %2 = loop.add %0, %1 : f32
      loop.store %2, %bias[%d, %j] : memref<1x8xf32, #loop.space<sram>>
    } {loop.folded}

A nest that reads a model input (weights given as inputs, an initial state) stays work
for the chip.

    rnnc model.mlir -p 'rnn-decompose,loop-fuse,loop-fold-constants'
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnc.dialects import loop, rnn
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, StringAttr, UnitAttr
from xdsl.ir import Block, SSAValue
from xdsl.passes import ModulePass

#: The attribute marking a nest that runs when compiling.
FOLDED = "loop.folded"
#: The attribute of a memory a folded nest writes: the weight-file array of its contents.
FOLDED_ARRAY = "loop.folded_array"


def is_folded(nest: loop.ForeachOp) -> bool:
    """Whether the nest runs when compiling (marked by this pass)."""
    return FOLDED in nest.attributes


def folded_array(alloc: loop.AllocOp) -> str | None:
    """The weight-file array holding the contents of a memory a folded nest writes (None:
    the memory is not such)."""
    name = alloc.attributes.get(FOLDED_ARRAY)
    return name.data if isinstance(name, StringAttr) else None


def _is_constant(memref: SSAValue) -> bool:
    owner = memref.owner
    return isinstance(owner, loop.FromTensorOp) and isinstance(owner.tensor.owner, rnn.WeightOp)


def _only_writer(memref: SSAValue, nest: loop.ForeachOp, block: Block) -> bool:
    """An on-chip allocated memory stored to only in `nest`, and used by no op of `block`
    before it."""
    if not isinstance(memref.owner, loop.AllocOp) or loop.space_of(memref) == "dram":
        return False
    for use in memref.uses:
        user = use.operation
        ancestor = block.find_ancestor_op_in_block(user)
        if ancestor is None:
            return False
        if isinstance(user, loop.StoreOp) and ancestor is not nest:
            return False
        if ancestor is not nest and ancestor.is_before_in_block(nest):
            return False
    return True


def foldable(nest: loop.ForeachOp, block: Block) -> bool:
    """Whether `nest`, an op of the function body `block`, computes from weights alone."""
    loads = [op.memref for op in nest.walk() if isinstance(op, loop.LoadOp)]
    stores = [op.memref for op in nest.walk() if isinstance(op, loop.StoreOp)]
    return (
        bool(stores)
        and all(_is_constant(m) for m in loads)
        and all(_only_writer(m, nest, block) for m in stores)
    )


@dataclass(frozen=True)
class LoopFoldConstantsPass(ModulePass):
    """Mark the nests that compute from weights alone to run when compiling (see the
    module doc)."""

    name = "loop-fold-constants"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        taken = {o.key.data for o in op.walk() if isinstance(o, rnn.WeightOp)}
        for function in [o for o in op.walk() if isinstance(o, func.FuncOp)]:
            block = function.body.block
            for nest in [o for o in block.ops if isinstance(o, loop.ForeachOp)]:
                if foldable(nest, block):
                    nest.attributes[FOLDED] = UnitAttr()
                    for memref in dict.fromkeys(
                            o.memref for o in nest.walk() if isinstance(o, loop.StoreOp)):
                        memref.owner.attributes[FOLDED_ARRAY] = StringAttr(  # type: ignore
                            _unique(f"{memref.name_hint or 'm'}.folded", taken))


def _unique(name: str, taken: set[str]) -> str:
    """`name`, or `name_1`, `name_2`, ...: the first not in `taken` (then added to it)."""
    candidate, n = name, 1
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate


__all__ = ["FOLDED", "FOLDED_ARRAY", "LoopFoldConstantsPass", "foldable", "folded_array",
           "is_folded"]
