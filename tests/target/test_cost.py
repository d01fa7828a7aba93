"""The analytic cost model: calibration against the paper, figures, honesty about capacity."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from cell_programs import decomposed_cell_program, fused_cell_program
from paper_data import PaperTask, paper_tasks
from rnnc.target.arch import Architecture, load_architecture
from rnnc.target.cost import (
    COMPUTE_UNITS,
    MEMORY_BANDWIDTH,
    MEMORY_CAPACITY,
    RECURRENCE_LATENCY,
    Budget,
    CostError,
    Factors,
    NestSpec,
    ProgramSpec,
    evaluate,
    exchange_cycles,
    nest_arrays,
    per_chip_program,
    program_arrays,
)

ARCH = load_architecture("plasticine-rnn")
TASKS = paper_tasks()
# The paper's simulation kept these weights on chip although at 8 bits they exceed the
# 31.5 MiB of PMUs (paper-notes §4); our model streams them unless the capacity is lifted.
NOT_FITTING = {("lstm", 2048), ("gru", 2560), ("gru", 2816)}
LIFTED = Budget(ARCH.pcu.count, 10 * ARCH.pmu.count)
# A map-reduce unit reads its weight slice through at most two vector inputs (its third
# takes the operand), so a slice of more than two PMUs streams. At some Table 7 points
# (LSTM-2048, GRU-2048 and larger) a slice is bigger than that: calibration lifts the PMU
# capacity as well, as the paper's simulation evidently had it.
BIG_PMUS = dataclasses.replace(
    ARCH, pmu=dataclasses.replace(ARCH.pmu, capacity_kib=4 * ARCH.pmu.capacity_kib)
)


def paper_cycles_per_step(task: PaperTask) -> float:
    return task.latency_ms["plasticine"] * 1e6 * ARCH.clock_ghz / task.steps


def at_table7(task: PaperTask, arch: Architecture = ARCH, lifted: bool = False):
    budget = LIFTED if lifted else None
    if lifted:
        arch = dataclasses.replace(arch, pmu=BIG_PMUS.pmu)
    return evaluate(task.fused(), (task.table7,), arch, budget=budget)


def test_there_are_eleven_tasks() -> None:
    assert len(TASKS) == 11
    assert {(t.cell, t.hidden) for t in TASKS} >= NOT_FITTING


@pytest.mark.parametrize("task", [t for t in TASKS if t.hidden >= 1024], ids=lambda t: t.label)
def test_the_papers_large_tasks_at_its_design_points(task: PaperTask) -> None:
    """The model has no constant fitted to the paper (it models the config simulator's
    mechanisms), yet gives the published latencies of the H >= 1024 tasks within 10% at
    the Table 7 points. The three tasks whose weights exceed the chip are compared with
    the capacity lifted, as the paper had it. (The small tasks, LSTM-256/512 and GRU-512,
    are 24-31% off: see the preset's notes on min_ii_cycles.)"""
    lifted = not at_table7(task).weights_on_chip
    cost = at_table7(task, lifted=lifted)
    assert cost.weights_on_chip
    error = cost.latency_ms / task.latency_ms["plasticine"] - 1
    assert abs(error) <= 0.10, f"{error:+.1%}"


@pytest.mark.parametrize(
    "task", [t for t in TASKS if (t.cell, t.hidden) in NOT_FITTING], ids=lambda t: t.label
)
def test_the_papers_points_do_not_fit_honestly(task: PaperTask) -> None:
    cost = at_table7(task)
    assert not cost.weights_on_chip
    assert cost.streamed_bytes_per_step > 0
    assert cost.pmus <= ARCH.pmu.count
    assert cost.stream_cycles == math.ceil(
        cost.streamed_bytes_per_step / ARCH.dram_bytes_per_cycle()
    )
    assert cost.bound == MEMORY_BANDWIDTH
    assert cost.latency_ms > 1.5 * task.latency_ms["plasticine"]
    assert cost.dram_gbs == pytest.approx(
        cost.streamed_bytes_per_step / cost.cycles_per_step * ARCH.clock_ghz
    )


def test_no_timing_constant_is_fitted() -> None:
    """The minimum II and the per-step overhead were fitted to the paper's latencies; the
    config simulator found no mechanism for either (tests/backend/test_sim_time.py)."""
    assert ARCH.timing.min_ii_cycles == 1
    assert ARCH.timing.step_overhead_cycles == 0


def test_figures_at_lstm_1024() -> None:
    task = next(t for t in TASKS if (t.cell, t.hidden) == ("lstm", 1024))
    cost = at_table7(task)
    (nest,) = cost.nests
    assert (nest.iterations, nest.chunks, nest.ii) == (256, 4, 4)
    assert nest.compute_cycles == 1024
    # PMU read (4 address stages + 1), map-reduce 2 + log2(16) + 1, 2 combining levels
    # (8 partials, 6 scalar inputs) of 4 stages, 2 element-wise levels of 4 stages, each
    # with a table read (5), 2 gather levels (4 copies' writers, 3 vector inputs), the
    # write-back; wires: transfers in, into each level (a table's a round trip) and back,
    # 1 + 2 + 2 + 2 x 2 + 2 + 1 = 12 of 2 hops.
    assert dataclasses.astuple(nest.fill) == (5, 7, 2 * 4, 2 * 4 + 2 * 5 + 2 * 4, 1, 12 * 2)
    assert nest.sync_cycles == 24 + 24
    assert cost.cycles_per_step == 1024 + 71 + 48
    # ru = 8 partial sums per dot product, 6 scalar inputs per combining PCU: per gate and
    # copy a PCU of 6 and one of 2, then 3 dot products' 2 partials per PCU (4 copies: 2
    # PCUs), so 10 per gate; 4 gates' inputs per copy fill an element-wise PCU's scalar
    # inputs, so 2 levels x 4 copies, and 2 PCUs gathering the 4 copies' writes of h and y.
    assert (nest.map_reduce_pcus, nest.combine_pcus, nest.elementwise_pcus) == (128, 40, 10)
    assert nest.weight_pmus == 128  # 256 rows x 4 chunks x 64 B = 64 KiB per slice
    assert cost.weight_bytes == 4 * 1024 * 2048
    assert cost.pmu_read_bytes_per_cycle == 128 * 64
    assert cost.fits and cost.weights_on_chip
    assert cost.bound == COMPUTE_UNITS
    # x(0) comes from DRAM before the first step, the last y goes after the last one, each
    # a DRAM latency and a crossing from the edge to the middle of the 24 x 24 grid
    assert cost.total_cycles == 25 * cost.cycles_per_step + 2 * (100 + 24)
    assert cost.latency_ms == pytest.approx(cost.total_cycles * 1e-6)


def test_small_tasks_are_latency_bound() -> None:
    task = next(t for t in TASKS if (t.cell, t.hidden) == ("lstm", 256))
    cost = at_table7(task)
    assert cost.nests[0].chunks == cost.nests[0].ii == 2
    assert cost.bound == RECURRENCE_LATENCY


def test_fp32_stores_four_bytes_and_vectorizes_sixteen() -> None:
    program = fused_cell_program("lstm", 256, 256, 10)
    mixed = evaluate(program, (Factors(4, 8, 64),), ARCH, "mixed")
    fp32 = evaluate(program, (Factors(4, 8, 16),), ARCH, "fp32")
    assert fp32.weight_bytes == 4 * mixed.weight_bytes
    assert fp32.nests[0].fill.map_reduce == 1 + 4 + 1
    with pytest.raises(CostError, match=r"rv must be in \[1, 16\]"):
        evaluate(program, (Factors(4, 8, 64),), ARCH, "fp32")
    with pytest.raises(ValueError, match="does not support precision 'mixed'"):
        evaluate(program, (Factors(4, 8, 16),), load_architecture("plasticine"), "mixed")


def test_bad_factors_and_programs_are_refused() -> None:
    program = fused_cell_program("gru", 64, 64, 2)
    with pytest.raises(CostError, match="1 nests but 2 factor choices"):
        evaluate(program, (Factors(1, 1, 1), Factors(1, 1, 1)), ARCH)
    with pytest.raises(CostError, match=r"hu must be in \[1, 64\], got 65"):
        evaluate(program, (Factors(65, 1, 1),), ARCH)
    elementwise = ProgramSpec(1, (NestSpec("tanh", 8, (), 1, 0, 8),), 0)
    with pytest.raises(CostError, match="has no reduction: ru and rv must be 1"):
        evaluate(elementwise, (Factors(8, 2, 1),), ARCH)
    with pytest.raises(CostError, match="weight_elems 10 is smaller than the 64 matrix"):
        NestSpec("mv", 8, (8,), 0, 10, 8)
    with pytest.raises(CostError, match="steps must be >= 1"):
        ProgramSpec(0, program.nests, 0)
    with pytest.raises(CostError, match="unknown cell 'lstmx'"):
        fused_cell_program("lstmx", 8, 8, 1)


def test_cell_programs() -> None:
    fused = fused_cell_program("lstm", 512, 256, 7)
    (cell,) = fused.nests
    assert (cell.extent, cell.reductions, cell.elementwise_depth) == (512, (768,) * 4, 6)
    assert cell.weight_elems == 4 * 512 * 768 + 4 * 512
    assert fused.state_elems == 2 * 512 + 2 * 256 + 512
    decomposed = decomposed_cell_program("lstm", 512, 256, 7)
    assert len(decomposed.nests) == 13
    assert sum(n.macs for n in decomposed.nests) == cell.macs
    assert decomposed.nests[-1].extent == 512
    gru = decomposed_cell_program("gru", 512, 512, 1)
    assert len(gru.nests) == 14
    assert sum(n.weight_elems for n in gru.nests) == fused_cell_program(
        "gru", 512, 512, 1
    ).nests[0].weight_elems + 2 * 512  # the decomposed program keeps W and R biases apart
    rnn = decomposed_cell_program("rnn", 128, 64, 3)
    assert [n.name for n in rnn.nests] == ["mv_x", "mv_h", "add_xh", "add_bias", "tanh_h"]


def test_fusion_removes_fills_handshakes_and_buffers() -> None:
    fused = fused_cell_program("lstm", 256, 256, 1)
    decomposed = decomposed_cell_program("lstm", 256, 256, 1)
    one = evaluate(fused, (Factors(4, 4, 64),), ARCH)
    factors = [Factors(16, 1, 64) if n.gates else Factors(16, 1, 1) for n in decomposed.nests]
    many = evaluate(decomposed, factors, ARCH)
    assert many.sync_cycles == 13 * one.sync_cycles
    assert many.fill_cycles > 3 * one.fill_cycles
    assert sum(n.other_pmus for n in many.nests) > sum(n.other_pmus for n in one.nests)


def test_split_over_chips() -> None:
    program = fused_cell_program("gru", 2816, 2816, 750)
    share = per_chip_program(program, 2)
    assert share.nests[0].extent == 1408
    assert share.nests[0].weight_elems == 1408 * 3 * 5632 + math.ceil(4 * 2816 / 2)
    cost = evaluate(program, (Factors(7, 8, 64),), ARCH, chips=2)
    assert cost.chips == 2
    assert cost.weights_on_chip
    link = ARCH.interchip
    assert cost.exchange_cycles == link.link_latency_cycles + math.ceil(
        1408 * 4 / link.link_bandwidth_gbs
    )
    assert exchange_cycles(share, ARCH, 1) == 0
    with pytest.raises(CostError, match="hu must be in"):
        evaluate(program, (Factors(2000, 8, 64),), ARCH, chips=2)


def test_budget_decides_capacity_and_fit() -> None:
    program = fused_cell_program("lstm", 1024, 1024, 25)
    factors = (Factors(4, 8, 64),)
    assert not evaluate(program, factors, ARCH, budget=Budget(100, 384)).fits
    assert evaluate(program, factors, ARCH, budget=Budget(100, 384)).bound == COMPUTE_UNITS
    # every weight slice takes a PMU, resident or streamed: fewer PMUs do not fit
    squeezed = evaluate(program, factors, ARCH, budget=Budget(192, 120))
    assert not squeezed.fits and squeezed.bound == MEMORY_CAPACITY
    assert squeezed.pmus > 120


def test_array_model_matches_scalar_evaluation() -> None:
    """The search's vectorized evaluation is the same arithmetic as `evaluate`."""
    program = fused_cell_program("gru", 1536, 1536, 375)
    rng = np.random.default_rng(3)
    hu = rng.integers(1, 40, 64)
    ru = rng.integers(1, 12, 64)
    rv = rng.integers(1, 65, 64)
    arrays = nest_arrays(program.nests[0], hu, ru, rv, arch=ARCH, mode=ARCH.precision())
    totals = program_arrays(program, [arrays], ARCH, Budget.of(ARCH), 1)
    for i in range(hu.size):
        cost = evaluate(program, (Factors(int(hu[i]), int(ru[i]), int(rv[i])),), ARCH)
        assert cost.cycles_per_step == totals.cycles_per_step[i]
        assert (cost.pcus, cost.pmus) == (totals.pcus[i], totals.pmus[i])
        assert cost.streamed_bytes_per_step == totals.streamed_bytes[i]
