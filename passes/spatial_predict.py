"""`spatial-predict`: the cost model's prediction of a routed design, written once on it.

`loop-assign-resources` wrote on each time loop the cost it modelled for the chosen point
(`loop.cost`, every transfer estimated). Once the design is placed and routed, the same
model is evaluated again with the hops each transfer really crosses
(`rnnc.target.routed_hops`), summed over the time loops, and written on the design as its
`predicted` attribute: what config.json carries and what `rnnc sim` is checked against. It
reads the loop level, which `spatial-partition` keeps beside the design until
`spatial-strip`; on a design that already has a prediction it writes the same again.

    rnnc model.mlir --emit=spatial      (the default pipeline runs it after spatial-verify)

    spatial.design @main ... {predicted = {cycles_per_step = 416 : i64,
        total_cycles = 10398 : i64, latency_ms = 1.0398e-02 : f64, bound = "compute"}}
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnc.analysis.access import time_loops
from rnnc.analysis.program import nest_factors, time_loop_spec
from rnnc.dialects.spatial import DesignOp, design_of
from rnnc.target.arch import Architecture
from rnnc.target.cost import Cost, evaluate
from rnnc.target.machine import machine_from_module
from rnnc.target.registry import DesignArchitectureError, architectures
from rnnc.target.routed_hops import routed_hops
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
    steps = time_loops(module)
    if not steps:
        raise PredictionError("no time loop beside the design: run spatial-predict before "
                              "spatial-strip (it reads the loop level)")
    machine = machine_from_module(design)
    unrouted = [stream.id for stream in machine.streams if stream.paths is None]
    if unrouted:
        raise PredictionError(f"stream {unrouted[0]} is not routed ({len(unrouted)} streams "
                              "are not): run spatial-place and spatial-route first")
    hops = routed_hops(machine)
    if len(hops) != len(steps):
        raise PredictionError(f"the design has {len(hops)} time loops, the loop level "
                              f"{len(steps)}")
    costs = []
    for step, loop_hops in zip(steps, hops, strict=True):
        cost = step.attributes.get("loop.cost")
        if not isinstance(cost, DictionaryAttr) or not isinstance(
                precision := cost.data.get("precision"), StringAttr):
            raise PredictionError("a time loop has no modelled cost (loop.cost): run "
                                  "loop-assign-resources first")
        program = time_loop_spec(module, step, arch.pcu.stages, arch.pmu.vector_inputs)
        costs.append(evaluate(program, nest_factors(step), arch, precision.data,
                              routed=loop_hops))
    return costs


def prediction_attr(costs: list[Cost], bounds: list[str]) -> DictionaryAttr:
    """The summed prediction as it is written on the design."""
    return DictionaryAttr({
        "cycles_per_step": IntegerAttr(sum(c.cycles_per_step for c in costs), i64),
        "total_cycles": IntegerAttr(sum(c.total_cycles for c in costs), i64),
        "latency_ms": FloatAttr(sum(c.latency_ms for c in costs), f64),
        "bound": StringAttr(", ".join(dict.fromkeys(bounds))),
    })


def _searched_bounds(module: ModuleOp) -> list[str]:
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

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        design = design_of(op)
        if design is None:
            raise PassFailedException(f"{self.name}: no spatial.design to predict; run "
                                      "spatial-partition, -place and -route first")
        try:
            costs = routed_costs(op, design, architectures(ctx).for_design(design))
        except (DesignArchitectureError, PredictionError) as error:
            raise PassFailedException(f"{self.name}: {error}") from None
        design.attributes["predicted"] = prediction_attr(costs, _searched_bounds(op))


__all__ = ["PredictionError", "SpatialPredictPass", "routed_costs"]
