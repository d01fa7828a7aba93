"""rnnc's entry in xDSL's `xdsl.universe` plug-in group.

With rnnc installed, plain `xdsl-opt` parses and prints rnnc's dialects and runs its
passes. This module is imported by every xDSL tool at start-up, so it imports nothing
heavy: each factory imports its dialect or pass only when asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xdsl.ir import Dialect
from xdsl.universe import Universe

if TYPE_CHECKING:
    from xdsl.passes import ModulePass


def _rnn_dialect() -> Dialect:
    from rnnc.dialects.rnn import RNN

    return RNN


def _loop_dialect() -> Dialect:
    from rnnc.dialects.loop import LOOP

    return LOOP


def _spatial_dialect() -> Dialect:
    from rnnc.dialects.spatial import SPATIAL

    return SPATIAL


def _rnn_decompose() -> type[ModulePass]:
    from rnnc.passes.rnn_decompose import RnnDecomposePass

    return RnnDecomposePass


def _loop_fuse() -> type[ModulePass]:
    from rnnc.passes.loop_fuse import LoopFusePass

    return LoopFusePass


def _loop_zero_init() -> type[ModulePass]:
    from rnnc.passes.loop_zero_init import LoopZeroInitPass

    return LoopZeroInitPass


def _loop_fold_constants() -> type[ModulePass]:
    from rnnc.passes.loop_fold_constants import LoopFoldConstantsPass

    return LoopFoldConstantsPass


def _loop_assign_resources() -> type[ModulePass]:
    from rnnc.passes.loop_assign_resources import LoopAssignResourcesPass

    return LoopAssignResourcesPass


def _spatial_partition() -> type[ModulePass]:
    from rnnc.passes.spatial_partition import SpatialPartitionPass

    return SpatialPartitionPass


def _spatial_place() -> type[ModulePass]:
    from rnnc.passes.spatial_place import SpatialPlacePass

    return SpatialPlacePass


def _spatial_route() -> type[ModulePass]:
    from rnnc.passes.spatial_route import SpatialRoutePass

    return SpatialRoutePass


def _spatial_verify() -> type[ModulePass]:
    from rnnc.passes.spatial_verify import SpatialVerifyPass

    return SpatialVerifyPass


def _spatial_predict() -> type[ModulePass]:
    from rnnc.passes.spatial_predict import SpatialPredictPass

    return SpatialPredictPass


def _loop_split_chips() -> type[ModulePass]:
    from rnnc.passes.loop_split_chips import LoopSplitChipsPass

    return LoopSplitChipsPass


def _spatial_post_writes() -> type[ModulePass]:
    from rnnc.passes.spatial_post_writes import SpatialPostWritesPass

    return SpatialPostWritesPass


def _spatial_swap_start() -> type[ModulePass]:
    from rnnc.passes.spatial_swap_start import SpatialSwapStartPass

    return SpatialSwapStartPass


def _spatial_swap_choose() -> type[ModulePass]:
    from rnnc.passes.spatial_swap_choose import SpatialSwapChoosePass

    return SpatialSwapChoosePass


def _spatial_strip() -> type[ModulePass]:
    from rnnc.passes.spatial_strip import SpatialStripPass

    return SpatialStripPass


RNNC_UNIVERSE = Universe(
    all_dialects={"rnn": _rnn_dialect, "loop": _loop_dialect, "spatial": _spatial_dialect},
    all_passes={
        "rnn-decompose": _rnn_decompose,
        "loop-fuse": _loop_fuse,
        "loop-zero-init": _loop_zero_init,
        "loop-fold-constants": _loop_fold_constants,
        "loop-assign-resources": _loop_assign_resources,
        "loop-split-chips": _loop_split_chips,
        "spatial-partition": _spatial_partition,
        "spatial-place": _spatial_place,
        "spatial-route": _spatial_route,
        "spatial-verify": _spatial_verify,
        "spatial-predict": _spatial_predict,
        "spatial-post-writes": _spatial_post_writes,
        "spatial-swap-start": _spatial_swap_start,
        "spatial-swap-choose": _spatial_swap_choose,
        "spatial-strip": _spatial_strip,
    },
)
