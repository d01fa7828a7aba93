"""The cost model against the simulator's cycles: the model predicts, the machine rebuilt
from the configuration's data is timed by its mechanisms, and the two must agree to 10%
on the time loop, at the design the search chooses for every DeepBench task and at 36
random legal design points (LSTM, GRU, RNN; mixed and fp32), and at 4 points that stream
weights. The prediction is the one a configuration carries: the model with the hops of the
routed design (`rnnc.target.routed_hops`); the search's estimate before placement charges
every transfer `transfer_hops` and misses by up to 13% on designs spread over many units.

The three tasks whose weights exceed the chip stream slices from DRAM every step; the
partition and the model place the slices by one rule (`rnnc.target.plan.weight_placement`),
so every point checks first that the machine's address generators stream the bytes the
model charges, then the time.
"""

from __future__ import annotations

import random

import pytest
from paper_data import PaperTask, paper_tasks
from rnnc.driver.design_points import Compiled, compile_at
from rnnc.frontends import deepbench
from rnnc.simulator.machine_timing import streamed_weight_bytes
from rnnc.simulator.run import machine_time
from rnnc.target.arch import DEFAULT_ARCHITECTURE, load_architecture
from rnnc.target.cost import Factors

TOLERANCE = 0.10
ARCH = load_architecture(DEFAULT_ARCHITECTURE)


def _random_points(count: int, seed: int) -> list[tuple]:
    rng = random.Random(seed)
    points = []
    while len(points) < count:
        cell = rng.choice(["lstm", "gru", "rnn"])
        precision = rng.choice(["mixed", "fp32"])
        rv = rng.choice([v for v in (8, 16, 32, 64) if v <= ARCH.max_rv(precision)])
        points.append((cell, rng.choice([64, 96, 128, 200, 256, 300, 384, 512]),
                       rng.choice([5, 10, 25]),
                       Factors(rng.choice([1, 2, 3, 4, 5, 6]), rng.choice([1, 2, 3, 4, 6, 8]), rv),
                       precision))
    return points


def _check(compiled: Compiled) -> None:
    machine_bytes = streamed_weight_bytes(compiled.machine, ARCH)
    model_bytes = compiled.cost.streamed_bytes_per_step
    assert machine_bytes == model_bytes, (
        f"the partition streams {machine_bytes} weight bytes per step from DRAM, the cost "
        f"model {model_bytes}"
    )
    timed = machine_time(compiled.machine, ARCH)
    simulated = sum(r.total_cycles for g, r in timed if g.phase.kind == "loop")
    predicted = compiled.cost.total_cycles
    error = (predicted - simulated) / simulated
    assert abs(error) <= TOLERANCE, (
        f"predicted {predicted} cycles, simulated {simulated:.0f} ({error:+.1%}) at "
        f"{compiled.cost.nests[0].factors}"
    )


@pytest.mark.parametrize(("cell", "hidden", "steps", "factors", "precision"),
                         _random_points(36, 2026))
def test_random_design_points(cell: str, hidden: int, steps: int, factors: Factors,
                              precision: str) -> None:
    text, _, _ = deepbench.generate(deepbench.Task(cell, hidden, steps), "w.npz", 0)
    _check(compile_at(text, ARCH, DEFAULT_ARCHITECTURE, [factors], precision=precision))


#: Points whose weight slices (partly) stream from DRAM every step: sizes whose weights
#: exceed the chip, and LSTM-1536 at one copy, whose slices two PMUs cannot hold.
STREAMING_POINTS = [
    ("lstm", 2048, 5, Factors(2, 8, 64)),
    ("gru", 2560, 5, Factors(3, 6, 32)),
    ("lstm", 1536, 5, Factors(1, 12, 64)),
    ("gru", 2816, 5, Factors(5, 6, 40)),
]


@pytest.mark.parametrize(("cell", "hidden", "steps", "factors"), STREAMING_POINTS)
def test_streaming_design_points(cell: str, hidden: int, steps: int, factors: Factors) -> None:
    text, _, _ = deepbench.generate(deepbench.Task(cell, hidden, steps), "w.npz", 0)
    compiled = compile_at(text, ARCH, DEFAULT_ARCHITECTURE, [factors])
    assert compiled.cost.streamed_bytes_per_step > 0
    _check(compiled)


@pytest.mark.parametrize("task", paper_tasks(), ids=lambda task: task.label)
def test_deepbench_chosen_points(task: PaperTask) -> None:
    text, _, _ = deepbench.generate(deepbench.Task(task.cell, task.hidden, task.steps),
                                    "w.npz", 0)
    _check(compile_at(text, ARCH, DEFAULT_ARCHITECTURE, None))
