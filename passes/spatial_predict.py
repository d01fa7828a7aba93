"""`spatial-predict`: the cost model's prediction of a routed design, written once on it.

`loop-assign-resources` wrote on each time loop the cost it modelled for the chosen point
(`loop.cost`, every transfer estimated). Once the design is placed and routed, the same
model is evaluated again with the hops each transfer really crosses
(`rnnc.target.routed_hops`), summed over the time loops and the nests that run once before
and after them (`rnnc.target.cost.once_nest_cycles`), and written on the design as its
`predicted` attribute (the whole inference, and the time loops alone): what config.json
carries and what `rnnc sim` is checked against. It reads the loop level, which
`spatial-partition` keeps beside the design until `spatial-strip`; on a design that already
has a prediction it writes the same again.

    rnnc model.mlir --emit=spatial      (the default pipeline runs it after spatial-verify)

    spatial.design @main ... {predicted = {cycles_per_step = 416 : i64,
        total_cycles = 11398 : i64, time_loop_cycles = 10398 : i64,
        latency_ms = 1.1398e-02 : f64, bound = "compute"}}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rnnc.analysis.access import time_loops
from rnnc.analysis.program import (
    factors_of,
    nest_factors,
    nest_spec,
    off_chip_access,
    time_loop_spec,
)
from rnnc.dialects import loop
from rnnc.dialects.spatial import DesignOp, Network
from rnnc.passes.loop_assign_resources import once_nests
from rnnc.target.arch import Architecture
from rnnc.target.cost import Cost, evaluate, once_nest_cycles
from rnnc.target.design_view import design_view
from rnnc.target.first_loads import first_load_cycles
from rnnc.target.registry import DesignArchitectureError, architectures, design_for_pass
from rnnc.target.routed_hops import end_hops, once_hops, routed_hops
from xdsl.context import Context
from xdsl.dialects.builtin import (
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    f64,
    i64,
)
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException


class PredictionError(ValueError):
    """The module lacks what the prediction is computed from."""


def routed_costs(module: ModuleOp, design: DesignOp, arch: Architecture) -> list[Cost]:
    """The cost model of each time loop of the module's loop level at its searched
    factors, with the hops that `design`, its placed and routed form, really crosses."""
    return _loop_costs(module, _routed(design), arch)


def _routed(design: DesignOp) -> DesignOp:
    """The design, whose data streams must all be routed."""
    unrouted = [stream.stream_id for stream in design.streams()
                if stream.network.data != Network.CONTROL and stream.paths is None]
    if unrouted:
        raise PredictionError(f"stream {unrouted[0]} is not routed ({len(unrouted)} streams "
                              "are not): run spatial-place and spatial-route first")
    return design


def _loop_costs(module: ModuleOp, design: DesignOp, arch: Architecture,
                waits: Sequence[Sequence[int]] | None = None) -> list[Cost]:
    steps = time_loops(module)
    if not steps:
        raise PredictionError("no time loop beside the design: run spatial-predict before "
                              "spatial-strip (it reads the loop level)")
    view = design_view(design)  # read once for every figure below
    hops = routed_hops(view)
    if len(hops) != len(steps):
        raise PredictionError(f"the design has {len(hops)} time loops, the loop level "
                              f"{len(steps)}")
    costs = []
    waiting = waits if waits is not None else [None] * len(steps)
    for step, loop_hops, wait in zip(steps, hops, waiting, strict=True):
        program = time_loop_spec(module, step, arch.pcu.stages, arch.pmu.vector_inputs,
                                 pcu_inputs=arch.pcu.vector_inputs)
        costs.append(evaluate(program, nest_factors(step), arch, _precision(step),
                              routed=loop_hops, end_hops=end_hops(view), waits=wait,
                              first_loads=first_load_cycles(view, arch)))
    return costs


def _precision(step: loop.SequentialOp) -> str:
    cost = step.attributes.get("loop.cost")
    if not isinstance(cost, DictionaryAttr) or not isinstance(
            precision := cost.data.get("precision"), StringAttr):
        raise PredictionError("a time loop has no modelled cost (loop.cost): run "
                              "loop-assign-resources first")
    return precision.data


def _once_cycles(module: ModuleOp, design: DesignOp, arch: Architecture) -> list[int]:
    """The cost model's cycles of each nest that runs once (in program order) at its
    factors, with the routed design's hops, in the time loops' precision."""
    nests = once_nests(module)
    hops = once_hops(design)
    if len(hops) != len(nests):
        raise PredictionError(f"the design has {len(hops)} nests that run once, the loop "
                              f"level {len(nests)}")
    precision = _precision(time_loops(module)[0]) if time_loops(module) else None
    cycles = []
    for nest, nest_hops in zip(nests, hops, strict=True):
        spec = nest_spec(nest, arch.pcu.stages, arch.pmu.vector_inputs,
                         pcu_inputs=arch.pcu.vector_inputs)
        reads, writes = off_chip_access(nest)
        cycles.append(once_nest_cycles(spec, factors_of(nest), arch, precision,
                                       routed=nest_hops, off_chip_reads=reads,
                                       off_chip_writes=writes))
    return cycles


def predicted_cycles(
    module: ModuleOp, design: DesignOp, arch: Architecture,
    waits: Sequence[Sequence[int]] | None = None,
) -> tuple[list[Cost], list[int]]:
    """The routed design's prediction: each time loop's cost and each once-run nest's
    cycles (the whole inference is their sum). `waits`: per time loop, per nest, the
    cycles each step waits after it (a chip's exchange, `evaluate`)."""
    routed = _routed(design)
    return _loop_costs(module, routed, arch, waits), _once_cycles(module, routed, arch)


def prediction_attr(costs: list[Cost], once: list[int], bounds: list[str],
                    arch: Architecture) -> DictionaryAttr:
    """The summed prediction as it is written on the design: `total_cycles` and
    `latency_ms` of the whole inference (the time loops and the nests that run once),
    `time_loop_cycles` of the time loops alone."""
    loops = sum(c.total_cycles for c in costs)
    total = loops + sum(once)
    return DictionaryAttr({
        "cycles_per_step": IntegerAttr(sum(c.cycles_per_step for c in costs), i64),
        "total_cycles": IntegerAttr(total, i64),
        "time_loop_cycles": IntegerAttr(loops, i64),
        "latency_ms": FloatAttr(total / (arch.clock_ghz * 1e6), f64),
        "bound": StringAttr(", ".join(dict.fromkeys(bounds))),
    })


def searched_bounds(module: ModuleOp) -> list[str]:
    """What limits each time loop's point, as the search explained it."""
    bounds = []
    for step in time_loops(module):
        bound = step.attributes["loop.cost"].data.get("bound")  # type: ignore[attr-defined]
        if isinstance(bound, StringAttr):
            bounds.append(bound.data)
    return bounds


@dataclass(frozen=True)
class SpatialPredictPass(ModulePass):
    """Write the routed design's predicted cycles and latency on it (see the module doc);
    the architecture is the one the design names, from the context's registry."""

    name = "spatial-predict"
    #: it writes the prediction on the design (`rnnc.driver.pipeline.VERIFY_SCOPES`)
    VERIFY_AFTER: ClassVar[str] = "units"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        design = design_for_pass(op, self.name, "predict",
                                 needs="spatial-partition, -place and -route")
        try:
            arch = architectures(ctx).for_design(design)
            costs, once = predicted_cycles(op, design, arch)
        except (DesignArchitectureError, PredictionError) as error:
            raise PassFailedException(f"{self.name}: {error}") from None
        design.attributes["predicted"] = prediction_attr(costs, once, searched_bounds(op), arch)


__all__ = ["PredictionError", "SpatialPredictPass", "predicted_cycles", "prediction_attr",
           "routed_costs", "searched_bounds"]
