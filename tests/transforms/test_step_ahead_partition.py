"""`spatial-partition` builds the plan of a nest whose input projection runs a step ahead
(`rnnc.target.step_ahead.ahead_plan`), unit for unit, as it does the fused form's: at
random design points of LSTM and RNN programs (forward and bidirectional, batch 1 and 2),
on the default chip and on one with small PMUs where weight slices are split over two PMUs
or stream from DRAM (the bytes its address generators stream are the plan's too). The
leading parts' units read only `ahead` PMUs, holding x and nothing the loop writes.
"""

from __future__ import annotations

import random

import pytest
from loop_models import FUSED, RnnModel, compile_to
from rnnc.analysis.input_projection import ahead_lengths
from rnnc.dialects import loop
from rnnc.passes.loop_assign_resources import assign
from rnnc.target.cost import Factors
from transforms.test_spatial_partition import ARCH, SMALL, assert_builds_the_plan


def _ahead_point(module, rng: random.Random) -> None:
    """Random factors on every nest; the time loop's nest a step ahead."""
    for nest in module.walk():
        if not isinstance(nest, loop.ForeachOp) or isinstance(nest.parent_op(), loop.ForeachOp):
            continue
        hu = rng.randint(1, min(nest.trip_count, 12))
        if ahead_lengths(nest):
            assign(nest, Factors(hu, rng.randint(1, 4), rng.choice([1, 4, 16]),
                                 rng.randint(1, 4)))
        elif any(isinstance(op, loop.ReduceOp) for op in nest.walk()):
            assign(nest, Factors(hu, rng.randint(1, 4), rng.choice([1, 4, 16])))
        else:
            assign(nest, Factors(hu, 1, 1))


@pytest.mark.parametrize("seed", range(6))
def test_the_partition_builds_the_step_ahead_plan(seed: int) -> None:
    rng = random.Random(seed)
    cell = ("lstm", "rnn")[seed % 2]
    direction = ("forward", "bidirectional")[seed // 2 % 2]
    model = RnnModel(cell, rng.randint(3, 40), rng.randint(3, 40), 2, batch=1 + seed // 4,
                     direction=direction)
    module = compile_to(model.mlir(), FUSED)
    _ahead_point(module, rng)
    small = seed % 3 == 2  # its PMUs do not hold mixed precision's tables
    precision = "fp32" if small or seed % 2 else "mixed"
    machine = assert_builds_the_plan(module, SMALL if small else ARCH, precision)
    ahead = {u.id for u in machine.units if u.kind == "pmu" and u.role == "ahead"}
    assert ahead
    for unit in machine.units:
        if unit.id in ahead:
            assert {box.memory for box in unit.boxes} == {"x"}
