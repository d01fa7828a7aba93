"""`spatial-swap-choose`: a loop keeps its swap start only where the model predicts it faster.

`spatial-swap-start` gives a loop that can start its steps on its state buffer's swap the
control stream that carries the token, before placement: the stream is placed and routed
with the others. Whether the swap start pays depends on that routing (the token's hops
to the first readers, and on short steps the prefetch of the next input, which the
controller starts only once the token has reached it: `rnnc.target.cost.prefetch_bound`),
so it is decided here, once the design is routed, and only here: the cost model predicts
the design's time loops as they are (started on the swap) and as they would be with the
controller's enable starting every step (the same placed and routed design without the
swap stream). If the swap start is predicted slower, the stream is removed and the phase
no longer names it (`spatial.phase loop ... swap @swap_<nest>` loses `swap`): the
controller's enable tree and the units' done paths are routed already, so the design is
complete either way. A tie keeps the swap start. It reads the loop level beside the
design, as `spatial-predict` does.

    rnnc model.mlir --emit=spatial     (the default pipeline runs it after spatial-route)

A design whose loops start on the controller's enable is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnc.dialects.spatial import DesignOp
from rnnc.passes.spatial_predict import PredictionError, routed_costs
from rnnc.target.arch import Architecture
from rnnc.target.registry import DesignArchitectureError, architectures, design_for_pass
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException


@dataclass(frozen=True)
class SpatialSwapChoosePass(ModulePass):
    """Remove the swap start of a routed design whose time loops the cost model predicts
    slower with it than with the controller's enable (see the module doc)."""

    name = "spatial-swap-choose"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        design = design_for_pass(op, self.name, needs="spatial-partition, -place and -route")
        if not any(phase.swap is not None for phase in design.phases()):
            return
        try:
            arch = architectures(ctx).for_design(design)
            pays = swap_start_pays(op, design, arch)
        except (DesignArchitectureError, PredictionError, ValueError) as error:
            raise PassFailedException(f"{self.name}: {error}") from None
        if not pays:
            drop_swap_starts(design)


def swap_start_pays(module: ModuleOp, design: DesignOp, arch: Architecture) -> bool:
    """Whether the cost model predicts the routed design's time loops in no more cycles
    started on the swap than started by the controller (the design without its swap
    streams, `drop_swap_starts`)."""
    controller = design.clone()
    drop_swap_starts(controller)
    with_swap, without = (sum(cost.total_cycles for cost in routed_costs(module, each, arch))
                          for each in (design, controller))
    return with_swap <= without


def drop_swap_starts(design: DesignOp) -> None:
    """The design with the controller's enable starting every step of its loops: each
    loop phase's swap stream removed and its `swap` field with it."""
    for phase in design.phases():
        if phase.swap is None:
            continue
        stream = next(s for s in design.streams() if s.stream_id == phase.swap.data)
        design.body.block.erase_op(stream)
        phase.swap = None
