"""The cost model's prediction of a design, summed over the module's time loops: as
`loop-assign-resources` wrote it on the loop level (`loop.cost` on each time loop, every
transfer estimated), or again with the hops of the placed and routed machine."""

from __future__ import annotations

from rnnc.analysis.access import time_loops
from rnnc.analysis.program import nest_factors, time_loop_spec
from rnnc.backend.emit import Prediction
from rnnc.diagnostics import Diagnostic
from rnnc.target.arch import Architecture
from rnnc.target.cost import evaluate
from rnnc.target.machine import Machine
from rnnc.target.routed_hops import routed_hops
from xdsl.dialects.builtin import DictionaryAttr, FloatAttr, IntegerAttr, ModuleOp, StringAttr


def prediction_of(module: ModuleOp) -> Prediction:
    """The summed `loop.cost` of the time loops of a module after loop-assign-resources."""
    costs = []
    for step in time_loops(module):
        cost = step.attributes.get("loop.cost")
        if not isinstance(cost, DictionaryAttr):
            raise Diagnostic("loop.cost", "a time loop has no modelled cost: run "
                             "loop-assign-resources before emitting a configuration")
        costs.append(cost.data)
    if not costs:
        raise Diagnostic("<module>", "the model has no time loop to configure")

    def integer(cost: dict, key: str) -> int:
        value = cost[key]
        assert isinstance(value, IntegerAttr)
        return value.value.data

    def real(cost: dict, key: str) -> float:
        value = cost[key]
        assert isinstance(value, FloatAttr)
        return value.value.data

    bounds = [c["bound"].data for c in costs if isinstance(c.get("bound"), StringAttr)]
    return Prediction(
        cycles_per_step=sum(integer(c, "cycles_per_step") for c in costs),
        total_cycles=sum(integer(c, "total_cycles") for c in costs),
        latency_ms=sum(real(c, "latency_ms") for c in costs),
        bound=", ".join(dict.fromkeys(bounds)),
    )


def routed_prediction(module: ModuleOp, machine: Machine, arch: Architecture) -> Prediction:
    """The cost model of the time loops of `module` (the loop level, after
    loop-assign-resources) with the hops that `machine`, their placed and routed design,
    really crosses: the prediction a configuration carries."""
    estimate = prediction_of(module)
    steps = time_loops(module)
    hops = routed_hops(machine, arch)
    if len(hops) != len(steps):
        raise Diagnostic("<module>", f"the design has {len(hops)} time loops, the loop "
                         f"level {len(steps)}")
    costs = []
    for step, loop_hops in zip(steps, hops, strict=True):
        precision = step.attributes["loop.cost"].data["precision"]
        assert isinstance(precision, StringAttr)
        program = time_loop_spec(module, step, arch.pcu.stages, arch.pmu.vector_inputs)
        costs.append(evaluate(program, nest_factors(step), arch, precision.data,
                              routed=loop_hops))
    return Prediction(
        cycles_per_step=sum(c.cycles_per_step for c in costs),
        total_cycles=sum(c.total_cycles for c in costs),
        latency_ms=sum(c.latency_ms for c in costs),
        bound=estimate.bound,
    )
