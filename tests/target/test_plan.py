"""The plan of a nest (`rnnc.target.plan.nest_plan`): the one decision of its units, PMUs
and bytes, which the cost model sums and `spatial-partition` builds.

Small nests whose plans are worked out by hand on the default chip (16 lanes, 4 stages,
6 scalar inputs and 5 outputs, 3 vector inputs per PCU; 84 KiB PMUs) or on chips with
small PMUs; the plan of arrays of design points equals the plans of its points; and a
partition builds, unit for unit, the plan of every nest of a small program.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter

import numpy as np
import pytest
from loop_models import FUSED, RnnModel, compile_to
from rnnc.analysis.program import nest_plan_of
from rnnc.dialects import loop
from rnnc.passes.loop_assign_resources import assign
from rnnc.passes.spatial_partition import partition
from rnnc.target.arch import Architecture, load_architecture
from rnnc.target.checks import _slice_rows
from rnnc.target.cost import Factors, NestSpec
from rnnc.target.machine import machine_from_module
from rnnc.target.plan import (
    NestPlan,
    combine_step,
    combine_tree,
    copies_per_dim,
    gather_step,
    gather_tree,
    merge_groups,
    nest_plan,
    nest_plan_at,
    part_kind,
    slot_slices,
    tree_levels,
)
from rnnc.target.stream_buffers import kept_boxes, loaded_boxes

ARCH = load_architecture("plasticine-rnn")
FP32 = ARCH.precision("fp32")


def small_pmus(kib: int) -> Architecture:
    return dataclasses.replace(ARCH, pmu=dataclasses.replace(ARCH.pmu, capacity_kib=kib))


def test_combine_and_gather_trees_by_hand() -> None:
    # 2 partials fit a PCU's 6 scalar inputs: one sum per dot product, 3 dot products a PCU
    assert [int(v) for v in combine_step(2, 6, 5)] == [1, 3, 1]
    # 14 partials: groups of 6, 6 and 2 (a last group of one would pass on), one PCU each
    assert [int(v) for v in combine_step(14, 6, 5)] == [3, 1, 3]
    assert [int(v) for v in combine_step(13, 6, 5)] == [2, 1, 3]
    # 14 partials of 4 dot products: 12 PCUs, then 3 partials each, 2 dot products a PCU
    assert int(combine_tree(4, 14, 6, 5)) == 4 * 3 + 2
    assert int(tree_levels(14, 6)) == 2
    # 7 writers, 3 at a time: 2 merges (7 = 3 + 3 + 1), then 3 streams into 1
    assert [int(v) for v in gather_step(7, 3)] == [2, 3]
    assert int(gather_tree(7, 3)) == 3 and int(gather_tree(1, 3)) == 0
    # the groups the partition builds: 0-2 and 3-5 merge, 6 passes on
    assert merge_groups(7, 3) == ([range(0, 3), range(3, 6)], [6])
    assert merge_groups(8, 3) == ([range(0, 3), range(3, 6), range(6, 8)], [])


def test_part_kinds_by_hand() -> None:
    """A slot packing reductions of 20 and 4, split in ru 2 parts of rv 4 chunks: the 20 in
    parts of ceil(20 / 8) = 3 chunks, a whole one (12 elements) and a last one of 2 chunks
    (8); the 4 in one whole part of 1 chunk. Kinds are numbered 3 x (state of the 20) +
    (state of the 4), states 0 whole part, 1 last part, 2 none."""
    assert [part_kind((20, 4), 2, 4, r) for r in range(2)] == [3 * 0 + 0, 3 * 1 + 2]
    kinds = slot_slices((20, 4), 2, 4)
    assert [int(v) for v in kinds[0]] == [1, 12 + 4, 12 + 4]
    assert [int(v) for v in kinds[5]] == [1, 8, 8]
    assert sum(int(number) for number, _, _ in kinds) == 2
    # a reduction of 18 in one last (not whole) part of 5 chunks: 20 padded elements for 18
    assert [int(v) for v in slot_slices((18,), 1, 4)[1]] == [1, 20, 18]


def lstm_like(extent: int, length: int, **fields: object) -> NestSpec:
    """A nest of 4 gates' dot products of `length` and a 6-deep element-wise chain."""
    matrix = extent * 4 * length
    return NestSpec("cell", extent, (length,) * 4, 6, matrix + 4 * extent, 0, **fields)


def test_a_fused_cell_by_hand() -> None:
    """8 hidden units, 4 gates over 20 elements, 2 copies, ru 2, rv 4, fp32.

    Each reduction is in parts of ceil(20 / 8) = 3 chunks: a whole part (12 elements) and
    a last part of 2 chunks (8). Per copy and gate two map-reduce units; their 2 partial
    sums fit a combining PCU, which serves min(6 // 2, 5) = 3 dot products, so the 2 copies
    of a gate share one. The element-wise chain is 2 PCUs deep; each PCU takes the 4 gates'
    results on scalar inputs, so 6 // 4 = 1 copy each: 2 per level and a gather PCU for the
    write of h. Weight slices: 4 rows per copy, 12 or 8 elements of 4 bytes a row."""
    plan = nest_plan(lstm_like(8, 20), (2,), 2, 4, arch=ARCH, mode=FP32)
    assert (int(plan.copies), int(plan.iterations), int(plan.chunks)) == (2, 4, 3)
    assert [int(p) for p in plan.parts] == [2, 2, 2, 2]
    assert int(plan.map_reduce_pcus) == 2 * 4 * 2
    assert (int(plan.combine_pcus), int(plan.combine_levels)) == (4, 1)
    assert (plan.levels, int(plan.per_pcu), int(plan.groups)) == (2, 1, 2)
    assert (int(plan.gather_pcus), int(plan.elementwise_pcus)) == (1, 2 * 2 + 1)
    assert int(plan.pcus) == 16 + 4 + 5
    whole, last = plan.kind_of(0, 0), plan.kind_of(0, 1)
    assert (whole, last, plan.kind_of(1, 1)) == (0, 1, 3 + 1)
    w = plan.weights
    assert [int(w.count[k]) for k in (whole, last)] == [2, 2]
    assert [int(w.bytes[k]) for k in (whole, last)] == [4 * 12 * 4, 4 * 8 * 4]
    assert [int(w.pmus[k]) for k in (whole, last)] == [1, 1]
    assert int(plan.weight_pmus) == 16 and int(plan.streamed_pmus) == 0
    assert int(plan.weight_bytes) == int(plan.resident_bytes) == 4 * (2 * 192 + 2 * 128)
    assert int(plan.streamed_bytes) == 0
    # one operand PMU per part (all copies read the same [x, h]), one PMU per element-wise
    # PCU of the first level, no tables in fp32
    assert (int(plan.operand_pmus), int(plan.element_pmus), int(plan.lut_pmus)) == (2, 2, 0)
    assert int(plan.pmus) == 16 + 2 + 2
    assert int(plan.read_bytes_per_cycle) == 2 * 8 * 4 * 4


def test_tables_in_mixed_precision() -> None:
    """In `mixed`, each element-wise PCU of a level computing activations reads a table PMU,
    and weights are a byte each."""
    spec = lstm_like(8, 20, lut_levels=2)
    mixed = nest_plan(spec, (2,), 2, 4, arch=ARCH, mode=ARCH.precision("mixed"))
    assert mixed.tables and int(mixed.lut_pmus) == 2 * 2
    assert int(mixed.weight_bytes) == 4 * (2 * 48 + 2 * 32)
    assert int(nest_plan(spec, (2,), 2, 4, arch=ARCH, mode=FP32).lut_pmus) == 0


def test_a_slice_split_over_two_pmus() -> None:
    """On 4 KiB PMUs, 8 rows of 256 fp32 weights (8 KiB) do not fit one PMU; half the rows
    do: two PMUs of 4 rows each, nothing streams."""
    spec = NestSpec("mv", 8, (256,), 1, 8 * 256, 0)
    plan = nest_plan(spec, (1,), 1, 16, arch=small_pmus(4), mode=FP32)
    w = plan.weights
    assert [int(v[0]) for v in (w.bytes, w.pmus, w.held_rows, w.piece_rows)] == [8192, 2, 8, 4]
    assert int(plan.resident_bytes) == 8192
    assert int(plan.weight_pmus) == 2 and int(plan.streamed_bytes) == 0


def test_a_slice_that_streams() -> None:
    """On 4 KiB PMUs, 64 rows of 1 KiB: not even half fits. One PMU holds the first 4 rows,
    the FIFO PMU on the unit's second weight input 2 more beside its 2-row stream buffer,
    and only the other 58 stream every step."""
    spec = NestSpec("mv", 64, (256,), 1, 64 * 256, 0)
    plan = nest_plan(spec, (1,), 1, 16, arch=small_pmus(4), mode=FP32)
    w = plan.weights
    assert [int(v[0]) for v in (w.pmus, w.held_rows, w.piece_rows)] == [2, 6, 4]
    assert bool(w.streamed[0]) and int(plan.streamed_pmus) == 1
    assert int(plan.resident_bytes) == 6 * 1024
    assert int(plan.streamed_bytes) == 58 * 256 * 4


def test_a_slice_whose_fifo_keeps_no_row() -> None:
    """On 4 KiB PMUs, 16 rows of 2 KiB: the head holds 2 rows; the FIFO PMU's 2-row stream
    buffer fills it, so it keeps none and the other 14 rows stream."""
    spec = NestSpec("mv", 16, (512,), 1, 16 * 512, 0)
    plan = nest_plan(spec, (1,), 1, 16, arch=small_pmus(4), mode=FP32)
    w = plan.weights
    assert [int(v[0]) for v in (w.pmus, w.held_rows, w.piece_rows)] == [2, 2, 2]
    assert int(plan.streamed_bytes) == 14 * 512 * 4


def test_a_batch_shares_weight_slices() -> None:
    """A foreach over (batch 4, hidden 16) whose weights depend on the hidden units only:
    at copies (2, 4) the 8 copies read 4 distinct slices of ceil(16 / 4) = 4 rows, and the
    operand ([x, h] of a batch element) is read by 2 distinct groups of copies."""
    spec = NestSpec("mv", 64, (32,), 1, 16 * 32, 0, shape=(4, 16), weight_dims=(1,),
                    operand_dims=(0,))
    plan = nest_plan(spec, (2, 4), 1, 32, arch=ARCH, mode=FP32)
    assert int(plan.copies) == 8 and int(plan.iterations) == 2 * 4
    assert int(plan.weights.count.sum()) == 4 and int(plan.weights.rows[0]) == 4
    assert int(plan.operand_pmus) == 2


FIELDS = ("copies", "iterations", "chunks", "map_reduce_pcus", "combine_pcus",
          "combine_levels", "elementwise_pcus", "gather_levels", "weight_pmus",
          "streamed_pmus", "other_pmus", "weight_bytes", "resident_bytes", "streamed_bytes",
          "read_bytes_per_cycle")  # fmt: skip


@pytest.mark.parametrize("kib", [84, 16, 4])
def test_the_plan_of_arrays_is_the_plan_of_each_point(kib: int) -> None:
    """The search plans arrays of points with the arithmetic the partition's one point
    gets: on a GRU-like nest (a slot packing two reductions) at random points."""
    arch = small_pmus(kib)
    spec = NestSpec("gru", 96, (40, 40, 24, 16), 7, 96 * 120 + 400, 0, shape=(2, 48),
                    weight_dims=(1,), operand_dims=(0,), lut_levels=2)
    rng = np.random.default_rng(kib)
    hu, ru, rv = rng.integers(1, 60, 40), rng.integers(1, 9, 40), rng.integers(1, 33, 40)
    mode = ARCH.precision("mixed")
    plans = nest_plan_at(spec, hu, ru, rv, arch=arch, mode=mode)
    for i in range(hu.size):
        par = [int(p) for p in copies_per_dim(spec.shape, int(hu[i]))]
        one = nest_plan(spec, par, int(ru[i]), int(rv[i]), arch=arch, mode=mode)
        for name in FIELDS:
            assert int(getattr(plans, name)[i]) == int(getattr(one, name)), (name, i)


def built(machine) -> dict[str, Counter]:
    """Per nest, the units a partition built, by role, its weight PMUs and their resident
    bytes, and its other PMUs."""
    units = {u.id: u for u in machine.units}
    found: dict[str, Counter] = {}
    for unit in machine.units:
        if unit.kind == "pcu":
            found.setdefault(unit.nest, Counter())[unit.role] += 1
    for stream in machine.streams:
        pmu, reader = units[stream.source.unit], units[stream.sinks[0].unit]
        if pmu.kind == "pmu" and reader.kind == "pcu":
            key = "weights" if reader.role == "map_reduce" and _slice(machine, pmu) else "other"
            found[reader.nest][f"{key}_pmus"] += 1
            held = pmu.bytes if key == "weights" else 0
            if held and pmu.banking == "fifo":  # rows streamed from DRAM: only the kept ones count
                kept = kept_boxes(pmu, loaded_boxes(machine.units))
                rows = _slice_rows(pmu, reader, kept)[0] if kept else 0
                held = pmu.bytes * rows // (rows + pmu.buffers)
            found[reader.nest][f"{key}_bytes"] += held
    return found


def _slice(machine, pmu) -> bool:
    """Whether a PMU holds only on-chip tensors bound from outside: a map-reduce unit's
    weight slice (its operand PMU holds x and h, which the program writes or loads)."""
    memories = {m.name: m for m in machine.memories}
    return bool(pmu.holds) and all(
        memories[b.memory].init.startswith(("weight:", "input:"))
        and memories[b.memory].space == "sram"
        for b in pmu.boxes
    )


def planned(plan: NestPlan) -> Counter:
    return Counter({
        "map_reduce": int(plan.map_reduce_pcus), "combine": int(plan.combine_pcus),
        "elementwise": int(plan.levels * plan.groups), "gather": int(plan.gather_pcus),
        "weights_pmus": int(plan.weight_pmus), "weights_bytes": int(plan.resident_bytes),
        "other_pmus": int(plan.other_pmus),
    })  # fmt: skip


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_the_partition_builds_the_plan(cell: str) -> None:
    """Every nest of a small fused program (the time loop's and the ones that run once), at
    random factors: the partition's units by role, its weight PMUs and their bytes, and
    its other PMUs are the plan's."""
    module = compile_to(RnnModel(cell, 6, 9, 2, batch=2).mlir(), FUSED)
    rng = random.Random(cell)
    nests = [op for op in module.walk() if isinstance(op, loop.ForeachOp)
             and not isinstance(op.parent_op(), loop.ForeachOp)]  # fmt: skip
    for nest in nests:
        reduces = any(isinstance(op, loop.ReduceOp) for op in nest.walk())
        ru, rv = (rng.randint(1, 4), rng.choice([2, 4, 16])) if reduces else (1, 1)
        assign(nest, Factors(rng.randint(1, min(nest.trip_count, 12)), ru, rv))
    mode = ARCH.precision("mixed")
    machine = machine_from_module(partition(module, ARCH, "mixed"))
    found = built(machine)
    for n, nest in enumerate(nests):
        expected = +planned(nest_plan_of(nest, ARCH, mode))
        assert +found[f"n{n}"] == expected, f"n{n}"
