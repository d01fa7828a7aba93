"""A single-file rnnc plug-in pass: annotate every recurrent layer with its FLOP count.

    rnnc model.mlir --load-pass-plugin examples/plugins/annotate_flops.py \
        -p 'user-annotate-flops{convention=paper}'

`convention=paper` counts 2·G·H·(H+D)·T per direction and batch element (the MLSys'19 paper,
input and recurrent products); `convention=deepbench` counts only the recurrent products
(2·G·H·H·T), as DeepBench does. The count lands in the op's `user.flops` attribute.
"""

from dataclasses import dataclass

from rnnc.dialects.rnn import RecurrentOp
from xdsl.context import Context
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i64
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException


@dataclass(frozen=True)
class AnnotateFlopsPass(ModulePass):
    name = "user-annotate-flops"

    convention: str = "paper"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.convention not in ("paper", "deepbench"):
            raise PassFailedException(
                f"user-annotate-flops: convention must be paper or deepbench, got {self.convention}"
            )
        for cell in op.walk():
            if isinstance(cell, RecurrentOp):
                cell.attributes["user.flops"] = IntegerAttr(self.flops(cell), i64)

    def flops(self, cell: RecurrentOp) -> int:
        steps, batch, inputs, directions = cell.sizes()
        reduced = cell.hidden + (inputs if self.convention == "paper" else 0)
        return 2 * cell.gates * cell.hidden * reduced * steps * batch * directions
