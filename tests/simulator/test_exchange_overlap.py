"""The exchange of a multi-chip step overlapped with the input projection a step ahead
(`rnnc.simulator.multichip.chip_time`, `rnnc.target.cost.evaluate`'s `waits`).

A chip's controller waits for the exchange after the nest that writes h before the next
step's enable; the map-reduce units folding W_x x(t+1) of a `step-ahead` nest work on
meanwhile. Where they bound the step, the exchange hides behind them; in the fused form
every unit waits and each step is longer by the whole exchange (less what the DRAM
channels of the step would have taken anyway). The cost model predicts both within 10%.
"""

from __future__ import annotations

import pytest
from rnnc.dialects.spatial import design_of
from rnnc.driver.design_points import compile_at
from rnnc.frontends import deepbench
from rnnc.passes.spatial_predict import predicted_cycles
from rnnc.simulator.multichip import chip_time
from rnnc.target.arch import DEFAULT_ARCHITECTURE, load_architecture
from rnnc.target.cost import Factors

ARCH = load_architecture()
#: An exchange's cycles per step, as two chips' 4 KiB slices of h take (828 by hand in
#: tests/target/test_exchange.py) less a little.
EXCHANGE = 600


def _loop_cycles(factors: Factors) -> tuple[float, float, int, int, int]:
    """An LSTM-256 of 5 steps at `factors`: its time loop simulated without and with the
    exchange after its nest, the steps, and the cost model's time loop without and with."""
    text, _, _ = deepbench.generate(deepbench.Task("lstm", 256, 5), "w.npz", 0)
    # as a chip of several is compiled: its steps start on the controller's enable, which
    # waits for the exchange (spatial-swap-start leaves a split design to the controller)
    compiled = compile_at(text, ARCH, DEFAULT_ARCHITECTURE, [factors], precision="mixed",
                          schedules="all,-swap-start")
    (loop,) = [phase for phase in compiled.machine.schedule if phase.kind == "loop"]

    def simulated(waits: dict[str, int]) -> float:
        return sum(result.total_cycles for graph, result in
                   chip_time(compiled.machine, ARCH, waits) if graph.phase.kind == "loop")

    design = design_of(compiled.module)
    assert design is not None
    (alone,), _ = predicted_cycles(compiled.module, design, ARCH)
    (waiting,), _ = predicted_cycles(compiled.module, design, ARCH, [[EXCHANGE]])
    return (simulated({}), simulated({loop.nests[0]: EXCHANGE}), loop.steps,
            alone.total_cycles, waiting.total_cycles)


@pytest.mark.parametrize(("ahead", "hidden_share"), [(1, (0.0, 0.5)), (0, (0.9, 1.0))])
def test_the_exchange_hides_behind_the_projection_a_step_ahead(
    ahead: int, hidden_share: tuple[float, float]
) -> None:
    base, waited, steps, predicted_base, predicted = _loop_cycles(Factors(2, 2, 16, ahead))
    serialised = EXCHANGE * steps
    low, high = hidden_share
    assert low * serialised <= waited - base <= high * serialised, (base, waited)
    assert abs(predicted - waited) <= 0.10 * waited, (predicted, waited)
    assert abs(predicted_base - base) <= 0.10 * base
    # the model overlaps as the simulator does: the exchange it adds is within 10% of the
    # step's, both hidden (a step ahead) or both whole (fused)
    assert abs((predicted - predicted_base) - (waited - base)) <= 0.10 * base
