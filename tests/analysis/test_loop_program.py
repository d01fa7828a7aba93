"""`program_spec` reads the cost model's description off loop-level modules; it is compared
with what `rnnc.target.cost` builds for the same cells by hand.

Where the two differ, the difference is asserted exactly (and explained) rather than
hidden: the cost model's helpers are a separate description of the same programs.
"""

from __future__ import annotations

import dataclasses

import cell_programs
import pytest
from loop_models import DECOMPOSED, FUSED, RnnModel, compile_to
from rnnc.analysis.program import program_spec
from rnnc.target import cost

H, D, T = 16, 12, 5


def _spec(cell: str, passes: str, **attributes: int) -> cost.ProgramSpec:
    return program_spec(compile_to(RnnModel(cell, H, D, T, **attributes).mlir(), passes))


def _unnamed(spec: cost.ProgramSpec) -> cost.ProgramSpec:
    return dataclasses.replace(
        spec, nests=tuple(dataclasses.replace(n, name="") for n in spec.nests)
    )


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_fused_cell_matches_the_cost_model(cell: str) -> None:
    assert _unnamed(_spec(cell, FUSED)) == _unnamed(cell_programs.fused_cell_program(cell, H, D, T))


def test_fused_gru_differs_only_in_how_the_candidate_gate_reduces() -> None:
    """linear_before_reset multiplies only the candidate's recurrent product by r, so its
    dot product cannot be one reduction over [x, h]: the fused nest has four reductions
    (D+H for z and r, D and H for the candidate) where the cost model has three of D+H.
    The multiply-adds, map-reduce units, weights, depth, buffers and state agree."""
    (ours,) = _spec("gru", FUSED, linear_before_reset=1).nests
    (theirs,) = cell_programs.fused_cell_program("gru", H, D, T).nests
    assert sorted(ours.reductions) == [D, H, D + H, D + H]
    assert theirs.reductions == (D + H,) * 3
    assert ours.macs == theirs.macs
    # The cost model packs the candidate's D and H reductions onto one map-reduce unit, so
    # both descriptions get the same units and the same cost.
    assert ours.map_reduce_units == theirs.map_reduce_units
    assert dataclasses.replace(
        ours, name="", reductions=theirs.reductions, segments=theirs.segments
    ) == dataclasses.replace(theirs, name="")
    spec = _spec("gru", FUSED, linear_before_reset=1)
    assert spec.state_elems == cell_programs.fused_cell_program("gru", H, D, T).state_elems


def _totals(spec: cost.ProgramSpec) -> tuple[int, int, int]:
    return (
        sum(n.macs for n in spec.nests),
        sum(n.weight_elems for n in spec.nests),
        sum(n.buffer_elems for n in spec.nests),
    )


def test_decomposed_lstm_against_the_cost_model() -> None:
    """Same work, weights and steps. Differences: the loop program has one kernel per gate
    (the cost model stacks the 4 gates into one matrix-vector product, one add and one bias
    add of 4H rows): 25 nests against 13; the state-update kernels write c and h in place
    (the cost model counts add_c and mul_oh as H-sized buffers: 2H); and h is single-buffered
    (the kernels run one after another), where the cost model counts it twice (H)."""
    ours, theirs = _spec("lstm", DECOMPOSED), cell_programs.decomposed_cell_program("lstm", H, D, T)
    assert (len(ours.nests), len(theirs.nests)) == (25, 13)
    macs, weights, buffers = _totals(ours)
    assert (macs, weights) == _totals(theirs)[:2]
    assert buffers == _totals(theirs)[2] - 2 * H
    assert ours.state_elems == theirs.state_elems - H
    assert ours.steps == theirs.steps


def test_decomposed_gru_against_the_cost_model() -> None:
    """As for the LSTM (kernels per gate, h written in place and single-buffered), and the
    biases: the loop program sums Wb + Rb of z and r once, before the time loop, and reads
    4H bias elements a step; the cost model adds Wb and Rb of all three gates in two kernels
    (6H) -- while its fused GRU, like ours, reads 4H."""
    ours = _spec("gru", DECOMPOSED, linear_before_reset=1)
    theirs = cell_programs.decomposed_cell_program("gru", H, D, T)
    assert (len(ours.nests), len(theirs.nests)) == (21, 14)
    macs, weights, buffers = _totals(ours)
    assert macs == _totals(theirs)[0]
    assert weights == _totals(theirs)[1] - 2 * H
    # the sum and bias kernels write 6H where add_bias_x, add_bias_h and add_rz write 8H,
    # and the update writes h in place where the cost model's add_h writes a buffer (H)
    assert buffers == _totals(theirs)[2] - 2 * H - H
    assert ours.state_elems == theirs.state_elems - H


def test_spec_needs_exactly_one_time_loop() -> None:
    with pytest.raises(
        ValueError, match="expected a loop-level module with one time loop, found 0"
    ):
        program_spec(compile_to(RnnModel("rnn", 4, 3, 2).mlir(), ""))


def test_each_time_loop_of_a_stacked_model_has_its_spec() -> None:
    from rnnc.analysis.access import time_loops
    from rnnc.analysis.program import time_loop_spec

    text = """
func.func @main(%X: tensor<5x1x12xf32>, %W1: tensor<1x64x12xf32>, %R1: tensor<1x64x16xf32>,
                %W2: tensor<1x48x16xf32>, %R2: tensor<1x48x16xf32>) -> tensor<1x1x16xf32> {
  %y1, %h1, %c1 = rnn.lstm %X, %W1, %R1 {hidden_size = 16 : i64}
      : (tensor<5x1x12xf32>, tensor<1x64x12xf32>, tensor<1x64x16xf32>)
      -> (tensor<5x1x1x16xf32>, tensor<1x1x16xf32>, tensor<1x1x16xf32>)
  %x2 = rnn.reshape %y1 : tensor<5x1x1x16xf32> -> tensor<5x1x16xf32>
  %y2, %h2 = rnn.gru %x2, %W2, %R2 {hidden_size = 16 : i64, linear_before_reset = 1 : i64}
      : (tensor<5x1x16xf32>, tensor<1x48x16xf32>, tensor<1x48x16xf32>)
      -> (tensor<5x1x1x16xf32>, tensor<1x1x16xf32>)
  func.return %h2 : tensor<1x1x16xf32>
}
"""
    module = compile_to(text, FUSED)
    lstm, gru = (time_loop_spec(module, step) for step in time_loops(module))
    alone = RnnModel("gru", H, H, T, bias=False, linear_before_reset=1, results=("Y_h",))
    assert _unnamed(lstm) == _unnamed(_spec("lstm", FUSED, bias=False))
    assert _unnamed(gru) == _unnamed(program_spec(compile_to(alone.mlir(), FUSED)))
