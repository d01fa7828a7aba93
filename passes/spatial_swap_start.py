"""`spatial-swap-start`: a time loop's next step starts on its state buffer's swap.

With the `swap-start` schedule, each loop phase that can (two steps or more, one nest, a
state buffer, one chip) gets a control stream `swap_<nest>` from its state buffer's swap
output to the step's first readers, and names it on its phase (`spatial.phase loop ...
swap @swap_<nest>`, config.json's `program.schedule[k].swap`): their steps after the
first start when the token arrives, not on the controller's enable
(`rnnc.target.swap_start`, which says where the controller stays). `spatial-route` routes
the stream with the other control streams; the loader and `spatial-verify` check it;
`rnnc sim` and the cost model time the step start from it.

    rnnc model.mlir --emit=spatial     (the default pipeline runs it after spatial-post-writes)

With `--schedules none` (or without `swap-start`) the design is left as it is; a design
of one chip of several (`loop.chip`) too.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnc.dialects.spatial import DesignOp
from rnnc.passes.loop_split_chips import CHIP_ATTR
from rnnc.target.design_view import design_view
from rnnc.target.registry import design_for_pass
from rnnc.target.schedules import pass_schedules
from rnnc.target.swap_start import first_swap
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.passes import ModulePass

NAME = "swap-start"


@dataclass(frozen=True)
class SpatialSwapStartPass(ModulePass):
    """Start each time loop's steps on its state buffer's swap (see the module doc).

    Options: `schedules` (`rnnc.target.schedules`): the pass does nothing without
    `swap-start`."""

    name = "spatial-swap-start"

    schedules: str = "all"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        chosen = pass_schedules(self.name, self.schedules)
        design = design_for_pass(op, self.name)
        if NAME in chosen and not _split_over_chips(op):
            start_on_swaps(design)


def _split_over_chips(module: ModuleOp) -> bool:
    """One chip of several: its h arrives from the others over the exchange."""
    return any(CHIP_ATTR in op.attributes for op in module.walk())


def start_on_swaps(design: DesignOp) -> None:
    """Add the swap stream of the first loop that can start on one to the design and name
    it on its phase (`rnnc.target.swap_start.first_swap`, read off the design's view); a
    design whose loops name theirs already is left as it is."""
    view = design_view(design)
    if any(phase.swap for phase in view.schedule):
        return
    found = first_swap(view)
    if found is None:
        return
    k, stream = found
    design.body.block.add_op(stream)
    design.phases()[k].swap = StringAttr(stream.stream_id)
