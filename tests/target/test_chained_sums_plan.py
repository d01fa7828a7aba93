"""The chained-sums schedule in the plan: partial sums added in the map-reduce units' free
stages (`rnnc.target.chained_sums`), what the chip allows and what the plan counts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from rnnc.target.arch import DEFAULT_ARCHITECTURE, load_architecture
from rnnc.target.chained_sums import chain_depth, chain_inputs, sum_inputs
from rnnc.target.cost import nest_arrays
from rnnc.target.plan import NestSpec, nest_plan_at

RNN_ARCH = load_architecture(DEFAULT_ARCHITECTURE)
PLASTICINE = load_architecture("plasticine")


@pytest.mark.parametrize(("arch", "precision", "expected"), [
    # 4 stages: mixed has 2 prefix stages and the folded tree, one stage left
    (RNN_ARCH, "mixed", 1),
    (RNN_ARCH, "fp32", 2),
    # the original Plasticine's 6 stages: 6 - 1 - 1
    (PLASTICINE, "fp32", 4),
])
def test_a_unit_adds_one_partial_sum_per_free_stage(arch, precision: str, expected: int) -> None:
    assert sum_inputs(arch, precision) == expected


def test_chain_and_tree_shapes() -> None:
    assert chain_inputs(4, 1) == [[1], [2], [3], []]
    assert chain_inputs(6, 2) == [[1, 2], [3, 4], [5], [], [], []]
    assert chain_inputs(1, 3) == [[]]
    # every part but the root is added exactly once
    for parts, fan_in in ((16, 1), (16, 2), (7, 3), (30, 4)):
        added = sorted(k for inputs in chain_inputs(parts, fan_in) for k in inputs)
        assert added == list(range(1, parts))


@pytest.mark.parametrize(("parts", "fan_in", "depth"), [
    (1, 1, 0), (2, 1, 1), (16, 1, 15), (1, 2, 0), (3, 2, 1), (4, 2, 2), (7, 2, 2), (8, 2, 3),
    (5, 4, 1), (6, 4, 2),
])
def test_depth_is_the_longest_path_of_the_heap(parts: int, fan_in: int, depth: int) -> None:
    assert int(chain_depth(parts, fan_in)) == depth
    # as chain_inputs builds it: the parents' depth plus one
    level = [0] * parts
    for j, inputs in enumerate(chain_inputs(parts, fan_in)):
        for k in inputs:
            level[k] = level[j] + 1
    assert max(level) == depth


#: The fused LSTM-512 cell: 4 gates over [x, h] of 1024.
LSTM = NestSpec("cell", 512, (1024,) * 4, 6, 4 * 512 * 1024 + 2048, 0, width=3, live=2)
CHAINED = dataclasses.replace(LSTM, chained_sums=True)


def test_the_plan_builds_no_combining_unit_and_keeps_the_map_reduce_units() -> None:
    paper = nest_plan_at(LSTM, 2, 16, 64, arch=RNN_ARCH, mode=RNN_ARCH.precision("mixed"))
    chained = nest_plan_at(CHAINED, 2, 16, 64, arch=RNN_ARCH, mode=RNN_ARCH.precision("mixed"))
    assert int(paper.combine_pcus) > 0 and int(paper.chain_depth) == 0
    assert int(chained.combine_pcus) == 0 and int(chained.combine_levels) == 0
    assert int(chained.chain_depth) == 15  # 16 parts in a chain
    assert int(chained.map_reduce_pcus) == int(paper.map_reduce_pcus)
    assert int(chained.pcus) == int(paper.pcus) - int(paper.combine_pcus)


def test_the_cost_model_charges_a_transfer_and_an_add_per_link() -> None:
    mode = RNN_ARCH.precision("mixed")
    one = np.array([2])
    paper = nest_arrays(LSTM, one, np.array([16]), np.array([64]), arch=RNN_ARCH, mode=mode)
    chained = nest_arrays(CHAINED, one, np.array([16]), np.array([64]), arch=RNN_ARCH,
                          mode=mode)
    depth, levels = 15, int(paper.plan.combine_levels[0])
    op = RNN_ARCH.timing.elementwise_op_cycles
    assert int(chained.reduction_tree[0]) == depth * op
    assert int(chained.wires[0] - paper.wires[0]) == (depth - levels) * RNN_ARCH.transfer_latency()
    assert int(chained.compute[0]) == int(paper.compute[0])


def test_one_part_has_nothing_to_chain() -> None:
    plan = nest_plan_at(CHAINED, 4, 1, 64, arch=RNN_ARCH, mode=RNN_ARCH.precision("mixed"))
    assert int(plan.chain_depth) == 0 and int(plan.combine_pcus) == 0
