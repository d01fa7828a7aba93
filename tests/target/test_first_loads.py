"""`rnnc.target.first_loads`: the bytes of x(0) the DRAM channels move before a time loop's
first step -- one step's x into every PMU that holds it, each stream in whole 64-byte
bursts -- and the cycles that takes at plasticine-rnn's 51.2 bytes per cycle. Hand-counted
on small designs (fp32: 4 bytes an element)."""

from __future__ import annotations

import pytest
from rnnc.driver.design_points import compile_at
from rnnc.frontends import deepbench
from rnnc.target.arch import DEFAULT_ARCHITECTURE, load_architecture
from rnnc.target.cost import Factors
from rnnc.target.first_loads import first_load_bytes, first_load_cycles

ARCH = load_architecture(DEFAULT_ARCHITECTURE)


@pytest.mark.parametrize(("cell", "hidden", "factors", "moved", "cycles"), [
    # x(t) is 16 elements, 64 bytes, in the one operand PMU of [x, h]: one burst
    ("rnn", 16, Factors(1, 1, 16), 64, 2),
    # GRU: x also in the candidate gate's x-only operand PMU: moved twice
    ("gru", 16, Factors(1, 1, 16), 128, 3),
    # 64 elements, 256 bytes: four bursts, once (ru 2 cuts [x, h] at x/h: one PMU holds
    # x, and the two copies of the foreach share it)
    ("lstm", 64, Factors(2, 2, 16), 256, 5),
])
def test_first_loads_count_x0_in_every_pmu_that_holds_it(
    cell: str, hidden: int, factors: Factors, moved: int, cycles: int
) -> None:
    text, _, _ = deepbench.generate(deepbench.Task(cell, hidden, 2), "w.npz", 0)
    machine = compile_at(text, ARCH, DEFAULT_ARCHITECTURE, [factors], precision="fp32").machine
    assert first_load_bytes(machine, ARCH) == moved
    assert first_load_cycles(machine, ARCH) == cycles
