"""The cost model's prediction of a design, as `loop-assign-resources` wrote it on the
loop level (`loop.cost` on each time loop), summed over the module's time loops."""

from __future__ import annotations

from rnnc.analysis.access import time_loops
from rnnc.backend.emit import Prediction
from rnnc.diagnostics import Diagnostic
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
