"""The design-space search: optimality, determinism, monotonicity, honest non-fitting tasks."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from cell_programs import decomposed_cell_program, fused_cell_program
from hypothesis import given, settings
from hypothesis import strategies as st
from paper_data import PaperTask, paper_tasks
from rnnc.target.arch import load_architecture
from rnnc.target.cost import (
    BOUNDS,
    MEMORY_BANDWIDTH,
    Budget,
    CostError,
    NestSpec,
    ProgramSpec,
    evaluate,
    nest_arrays,
    program_arrays,
)
from rnnc.target.dse import DUMP_FIELDS, SearchError, fewest_chips, search, write_dump_csv

ARCH = load_architecture("plasticine-rnn")
TASKS = paper_tasks()
FITTING = [t for t in TASKS if (t.cell, t.hidden) not in {("lstm", 2048), ("gru", 2560),
                                                           ("gru", 2816)}]
NOT_FITTING = [t for t in TASKS if t not in FITTING]


def feasible_box_optimum(program: ProgramSpec, budget: Budget) -> int:
    """Fewest cycles per step over every (hu, ru, rv) whose map-reduce PCUs alone fit the
    budget (no other point can fit), evaluated without any of the search's pruning."""
    (nest,) = program.nests
    gates, max_rv = nest.gates, ARCH.max_rv()
    points = [
        (hu, ru)
        for hu in range(1, min(nest.extent, budget.pcus // gates) + 1)
        for ru in range(1, budget.pcus // (gates * hu) + 1)
    ]
    hu, ru = (np.repeat(np.array(column), max_rv) for column in zip(*points, strict=True))
    rv = np.tile(np.arange(1, max_rv + 1), len(points))
    arrays = nest_arrays(nest, hu, ru, rv, arch=ARCH, mode=ARCH.precision())
    totals = program_arrays(program, [arrays], ARCH, budget, 1)
    return int(totals.cycles_per_step[totals.fits].min())


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.label)
def test_search_is_optimal_and_beats_the_paper_point(task: PaperTask) -> None:
    program = task.fused()
    result = search(program, ARCH)
    assert result.cost.cycles_per_step == feasible_box_optimum(program, Budget.of(ARCH))
    paper_point = evaluate(program, (task.table7,), ARCH)
    assert result.cost.cycles_per_step <= paper_point.cycles_per_step
    assert result.cost.fits
    assert result.bound in BOUNDS
    assert result.explanation.startswith(result.bound + ": ")
    assert result.evaluated > 0


def test_pruned_search_equals_the_full_box() -> None:
    """The unpruned box (hu up to H, ru up to 192, rv up to 64) on the smallest task."""
    program = fused_cell_program("gru", 512, 512, 1)
    pruned = search(program, ARCH)
    full = search(program, ARCH, strategy="exhaustive")
    assert full.factors == pruned.factors
    assert full.evaluated == 512 * 192 * 64
    assert pruned.evaluated < full.evaluated / 100


def test_geometric_mean_speedup_over_the_paper_on_fitting_tasks() -> None:
    ratios = [
        t.latency_ms["plasticine"] / search(t.fused(), ARCH).cost.latency_ms for t in FITTING
    ]
    assert len(ratios) == 8
    # 1.19 with the timing the config simulator checks (it was 1.39 with the minimum II and
    # per-step overhead fitted to the paper); the simulated geomean is in bench/deepbench.py
    assert math.exp(np.mean(np.log(ratios))) >= 1.1


@pytest.mark.parametrize("task", NOT_FITTING, ids=lambda t: t.label)
def test_tasks_that_do_not_fit_are_streamed_or_split(task: PaperTask) -> None:
    program = task.fused()
    one_chip = search(program, ARCH)
    assert not one_chip.cost.weights_on_chip
    assert one_chip.cost.chips == 1
    assert one_chip.bound == MEMORY_BANDWIDTH
    assert one_chip.cost.cycles_per_step >= one_chip.cost.stream_cycles
    assert one_chip.cost.streamed_bytes_per_step >= (
        program.nests[0].matrix_elems - ARCH.on_chip_bytes()
    )
    chips = fewest_chips(program, ARCH)
    assert chips == 2
    split = search(program, ARCH, chips=chips)
    assert split.cost.chips == 2 and split.cost.weights_on_chip
    assert split.cost.exchange_cycles > 0
    assert split.cost.latency_ms < one_chip.cost.latency_ms


def test_fitting_tasks_need_one_chip() -> None:
    assert all(fewest_chips(t.fused(), ARCH) == 1 for t in FITTING)
    with pytest.raises(CostError, match="up to 3"):
        fewest_chips(fused_cell_program("lstm", 3, 2**23, 1), ARCH)


def test_search_is_deterministic_and_dumps_every_point(tmp_path: Path) -> None:
    program = fused_cell_program("lstm", 512, 512, 25)
    dump: list[dict] = []
    first = search(program, ARCH, dump=dump)
    assert search(program, ARCH) == first
    assert len(dump) == first.evaluated
    assert set(dump[0]) == set(DUMP_FIELDS)
    chosen = first.factors[0]
    row = next(r for r in dump if (r["hu"], r["ru"], r["rv"]) == chosen.as_tuple())
    assert row["cycles"] == first.cost.cycles_per_step
    assert min(r["cycles"] for r in dump if r["fits"]) == row["cycles"]
    path = tmp_path / "points.csv"
    write_dump_csv(dump, str(path))
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(dump)
    assert rows[0]["scope"] == "program" and int(rows[0]["hu"]) == dump[0]["hu"]


def test_multi_nest_dump_is_per_nest() -> None:
    program = decomposed_cell_program("gru", 64, 64, 2)
    dump: list[dict] = []
    result = search(program, ARCH, dump=dump)
    assert len(dump) == result.evaluated
    assert {r["nest"] for r in dump} == {n.name for n in program.nests}
    assert {r["scope"] for r in dump} == {"nest"}


def test_resources_objective_trades_a_little_latency_for_area() -> None:
    program = fused_cell_program("gru", 1024, 1024, 1500)
    fast = search(program, ARCH, "latency")
    # (with the simulator's fill and no fitted overhead, 5% admits no smaller design)
    small = search(program, ARCH, "resources", latency_slack=0.10)
    assert small.cost.cycles_per_step <= math.floor(fast.cost.cycles_per_step * 1.10)
    area = lambda c: c.pcus * ARCH.pcu.area_mm2 + c.pmus * ARCH.pmu.area_mm2  # noqa: E731
    assert area(small.cost) < area(fast.cost)


def test_multi_nest_search_is_exact_on_a_small_program() -> None:
    """The dynamic program against brute force over the product of the nests' spaces
    (every rv; hu * ru bounded by the PCU budget, as the map-reduce PCUs alone must fit)."""
    program = ProgramSpec(
        steps=3,
        nests=(
            NestSpec("mv", 12, (40,), 0, 12 * 40, 12),
            NestSpec("act", 12, (), 1, 0, 12),
            NestSpec("scale", 12, (), 2, 12, 12),
        ),
        state_elems=64,
    )
    budget = Budget(8, 24)
    result = search(program, ARCH, budget=budget)
    spaces = [
        [(hu, ru, rv) for hu in range(1, 13) for ru in range(1, 9) if hu * ru <= 8
         for rv in range(1, 65)]
        if nest.gates
        else [(hu, 1, 1) for hu in range(1, 13)]
        for nest in program.nests
    ]
    picks = np.meshgrid(*(np.arange(len(space)) for space in spaces), indexing="ij")
    arrays = []
    for nest, space, pick in zip(program.nests, spaces, picks, strict=True):
        hu, ru, rv = np.array(space).T[:, pick.ravel()]
        arrays.append(nest_arrays(nest, hu, ru, rv, arch=ARCH, mode=ARCH.precision()))
    totals = program_arrays(program, arrays, ARCH, budget, 1)
    feasible = totals.fits & (totals.streamed_bytes == 0)
    assert result.cost.cycles_per_step == totals.cycles_per_step[feasible].min()
    assert result.cost.fits and result.cost.weights_on_chip


def test_multi_nest_program_that_does_not_fit_streams() -> None:
    task = next(t for t in NOT_FITTING if t.cell == "lstm")
    result = search(task.decomposed(), ARCH)
    assert not result.cost.weights_on_chip
    assert result.bound == MEMORY_BANDWIDTH


def test_no_design_fits_a_tiny_budget() -> None:
    with pytest.raises(SearchError, match="fits 3 PCUs and 384 PMUs"):
        search(fused_cell_program("lstm", 64, 64, 1), ARCH, budget=Budget(3, 384))


def test_the_isca17_chip_searches_in_fp32() -> None:
    arch = load_architecture("plasticine")
    result = search(fused_cell_program("lstm", 256, 256, 150), arch)
    assert result.cost.precision == "fp32"
    assert result.factors[0].rv <= 16
    assert result.cost.pcus <= 64


CELLS = st.sampled_from(["lstm", "gru", "rnn"])


@settings(max_examples=25, deadline=None)
@given(
    cell=CELLS,
    hidden=st.integers(8, 300),
    input=st.integers(1, 300),
    pcus=st.integers(8, 192),
    pmus=st.integers(16, 384),
    more_pcus=st.integers(0, 100),
    more_pmus=st.integers(0, 200),
)
def test_more_units_never_hurt(
    *,
    cell: str, hidden: int, input: int, pcus: int, pmus: int, more_pcus: int, more_pmus: int
) -> None:
    program = fused_cell_program(cell, hidden, input, 2)
    small, large = Budget(pcus, pmus), Budget(pcus + more_pcus, pmus + more_pmus)
    try:
        before = search(program, ARCH, budget=small).cost.cycles_per_step
    except SearchError:
        return
    assert search(program, ARCH, budget=large).cost.cycles_per_step <= before


@settings(max_examples=8, deadline=None)
@given(
    cell=CELLS,
    hidden=st.integers(8, 64),
    pcus=st.integers(24, 64),
    more_pcus=st.integers(1, 32),
    more_pmus=st.integers(0, 64),
)
def test_more_units_never_hurt_the_decomposed_program(
    cell: str, hidden: int, pcus: int, more_pcus: int, more_pmus: int
) -> None:
    program = decomposed_cell_program(cell, hidden, hidden, 1)
    small, large = Budget(pcus, 128), Budget(pcus + more_pcus, 128 + more_pmus)
    try:
        before = search(program, ARCH, budget=small).cost.cycles_per_step
    except SearchError:
        return
    assert search(program, ARCH, budget=large).cost.cycles_per_step <= before
