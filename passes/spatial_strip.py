"""`spatial-strip`: drop the loop level that `spatial-partition` kept beside the design.

The partition leaves the loop program in the module so that later passes and the driver
read from one module what the design was built from (the weights it names, the searched
cost for `spatial-predict`). Once nothing needs it, this pass erases every top-level
operation but the `spatial.design`; the module's attributes stay. A module that holds only
a design is left unchanged.

    rnnc model.mlir --emit=spatial      (the default pipeline ends with spatial-strip)
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnc.dialects.spatial import DesignOp
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException


@dataclass(frozen=True)
class SpatialStripPass(ModulePass):
    """Erase everything beside the module's `spatial.design` (see the module doc)."""

    name = "spatial-strip"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if not any(isinstance(child, DesignOp) for child in op.body.block.ops):
            raise PassFailedException(f"{self.name}: no spatial.design to keep; run "
                                      "spatial-partition first")
        for child in reversed(list(op.body.block.ops)):
            if not isinstance(child, DesignOp):
                child.detach()
                child.erase()


__all__ = ["SpatialStripPass"]
