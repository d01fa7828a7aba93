"""The joint-chunks schedule in the plan (`rnnc.target.joint_chunks`): a slot's reductions
cut as one chunk sequence, worked out by hand; the plan of arrays equals the plans of its
points; a partition builds the plan; and the search keeps the paper's form on ties."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest
from loop_models import FUSED, RnnModel, compile_to
from rnnc.analysis.program import nest_plan_of
from rnnc.dialects import loop
from rnnc.passes.loop_assign_resources import assign
from rnnc.passes.spatial_partition import partition
from rnnc.target import joint_chunks, joint_chunks_search
from rnnc.target.cost import Factors, ProgramSpec, evaluate
from rnnc.target.machine import machine_from_module
from rnnc.target.plan import NestSpec, copies_per_dim, nest_plan, nest_plan_at
from test_plan import ARCH, FIELDS, built, planned, small_pmus

MIXED = ARCH.precision("mixed")


def gru(hidden: int, inputs: int, joint: bool) -> NestSpec:
    """A fused GRU cell (linear_before_reset=1): x·W_n, [x h]·r, h·R_n, [x h]·z."""
    return NestSpec("gru", hidden, (inputs, inputs + hidden, hidden, inputs + hidden), 7,
                    hidden * 3 * (inputs + hidden) + 6 * hidden, 0, joint_chunks=joint)


def test_the_sequence_by_hand() -> None:
    # x 3 long, h 3 long, rv 1, ru 3: 6 chunks in 3 parts of 2; part 1 straddles
    assert joint_chunks.bounds([3, 3], 3, 1) == [[(0, 2), (2, 3), (3, 3)],
                                                 [(0, 0), (0, 1), (1, 3)]]
    # x 100, h 40 at rv 16: 7 + 3 chunks (x's last one 4 long, padded); ru 3: 4 a part
    assert int(joint_chunks.span([100, 40], 3, 16)) == 4
    assert int(joint_chunks.parts([100, 40], 3, 16)) == 3
    assert joint_chunks.bounds([100, 40], 3, 16) == [[(0, 64), (64, 100), (100, 100)],
                                                     [(0, 0), (0, 16), (16, 40)]]
    # per part: padded words (whole chunks of each reduction) and elements
    kinds = [(int(n), int(p), int(e)) for n, p, e in joint_chunks.slices([100, 40], 3, 16)]
    assert kinds == [(1, 64, 64), (1, 64, 52), (1, 32, 24)]


def test_each_part_holds_its_kinds_slice() -> None:
    """Every part of random slots holds the slice of its kind (`kind_of`), and each kind's
    count is its parts': a few kinds (the reductions + 1) stand for any number of parts."""
    rng = np.random.default_rng(7)
    for _ in range(300):
        lengths = [int(n) for n in rng.integers(1, 60, int(rng.integers(2, 4)))]
        ru, rv = int(rng.integers(1, 12)), int(rng.integers(1, 20))
        kinds = joint_chunks.slices(lengths, ru, rv)
        assert len(kinds) == joint_chunks.kinds(lengths)
        counts = [0] * len(kinds)
        for r in range(int(joint_chunks.parts(lengths, ru, rv))):
            kind = joint_chunks.kind_of(lengths, ru, rv, r)
            counts[kind] += 1
            held = [(lo, hi) for per_part in joint_chunks.bounds(lengths, ru, rv)
                    for lo, hi in [per_part[r]]]
            padded = sum(-(-(hi - lo) // rv) * rv for lo, hi in held)
            elements = sum(hi - lo for lo, hi in held)
            assert (padded, elements) == (int(kinds[kind][1]), int(kinds[kind][2]))
        assert counts == [int(n) for n, _, _ in kinds], (lengths, ru, rv)


def test_gru_2048_folds_five_chunks_a_part_not_six() -> None:
    """At ru 13, rv 64 the gates over [x, h] (4096) fold ceil(64 / 13) = 5 chunks a unit;
    the candidate's x and h halves each cut in 13 parts fold 3 + 3 = 6, jointly 5."""
    paper = nest_plan(gru(2048, 2048, False), [4], 13, 64, arch=ARCH, mode=MIXED)
    joint = nest_plan(gru(2048, 2048, True), [4], 13, 64, arch=ARCH, mode=MIXED)
    assert (int(paper.chunks), int(joint.chunks)) == (6, 5)
    assert [int(p) for p in paper.parts] == [13, 13, 11]
    assert [int(p) for p in joint.parts] == [13, 13, 13]
    # the paper's candidate slices (512 rows of 6 chunks, 196,608 B) do not fit two PMUs of
    # 84 KiB and stream; the joint ones (5 chunks, 163,840 B) split over two and stay
    assert int(joint.resident_bytes) == 2048 * 3 * 4096 and not joint.streamed_bytes
    assert int(paper.streamed_bytes) > 0


@pytest.mark.parametrize("kib", [84, 4])
def test_the_plan_of_arrays_is_the_plan_of_each_point(kib: int) -> None:
    arch = small_pmus(kib)
    spec = gru(48, 40, True)
    rng = np.random.default_rng(kib)
    hu, ru, rv = rng.integers(1, 48, 40), rng.integers(1, 9, 40), rng.integers(1, 33, 40)
    plans = nest_plan_at(spec, hu, ru, rv, arch=arch, mode=MIXED)
    for i in range(hu.size):
        par = [int(p) for p in copies_per_dim(spec.shape, int(hu[i]))]
        one = nest_plan(spec, par, int(ru[i]), int(rv[i]), arch=arch, mode=MIXED)
        for name in FIELDS:
            assert int(getattr(plans, name)[i]) == int(getattr(one, name)), (name, i)


def test_the_partition_builds_the_plan() -> None:
    """A small fused GRU marked joint, at random factors: the partition's units by role,
    its weight PMUs and their bytes, and its other PMUs are the plan's."""
    for seed in range(4):
        module = compile_to(RnnModel("gru", 6, 9, 2, batch=2, linear_before_reset=1).mlir(), FUSED)
        rng = random.Random(seed)
        (nest,) = [op for op in module.walk() if isinstance(op, loop.ForeachOp)
                   and isinstance(op.parent_op(), loop.SequentialOp)]  # fmt: skip
        assign(nest, Factors(rng.randint(1, 9), rng.randint(2, 4), rng.choice([2, 4, 16])))
        joint_chunks.mark(nest, True)
        machine = machine_from_module(partition(module, ARCH, "mixed"))
        n = next(u.nest for u in machine.units if u.kind == "pcu" and u.role == "map_reduce")
        assert +built(machine)[n] == +planned(nest_plan_of(nest, ARCH, MIXED)), seed


def program(spec: NestSpec) -> ProgramSpec:
    return ProgramSpec(10, (spec,), 2 * spec.extent)


def test_pays_only_where_faster() -> None:
    # GRU-2048 at 4/13/64: 5 chunks a unit against 6
    point = [Factors(4, 13, 64)]
    assert joint_chunks_search.pays(program(gru(2048, 2048, False)), point, ARCH, "mixed")
    # at 14/4/64 both fold 16 chunks: a tie keeps the paper's form
    assert not joint_chunks_search.pays(program(gru(2048, 2048, False)), [Factors(14, 4, 64)],
                                        ARCH, "mixed")
    # block-scaled weights: not offered
    assert not joint_chunks_search.pays(program(gru(2048, 2048, False)), point, ARCH, "int4")


def test_choose_keeps_the_paper_form_on_a_tie() -> None:
    spec = gru(64, 64, False)
    calls: list[bool] = []

    def search(p: ProgramSpec):
        calls.append(p.nests[0].joint_chunks)
        cost = evaluate(p, [Factors(4, 2, 16)], ARCH, "mixed")
        return dataclasses.make_dataclass("R", ["cost", "evaluated"])(cost, 1)

    chosen, _ = joint_chunks_search.choose(program(spec), search, ARCH, "mixed")
    assert calls == [False, True]
    assert not chosen.nests[0].joint_chunks


def test_only_a_slot_of_several_reductions_applies() -> None:
    assert joint_chunks.applies(((0, 2), (1,), (3,)))
    assert not joint_chunks.applies(((0,), (1,)))
