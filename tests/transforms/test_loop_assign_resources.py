"""`loop-assign-resources` on real loop IR: the design it writes is the search's optimum
for the program the IR describes, it does not change what the program computes, and it is
deterministic and idempotent."""

from __future__ import annotations

import dataclasses

import cell_programs
import pytest
from loop_models import FUSED, RnnModel, compile_to, relative_error
from paper_data import PaperTask, paper_tasks
from rnnc import interpreters as interpreter
from rnnc.analysis.access import time_loops
from rnnc.analysis.program import time_loop_spec
from rnnc.dialects import loop
from rnnc.driver import pipeline
from rnnc.driver.pipeline import print_ir
from rnnc.frontends import deepbench
from rnnc.passes.loop_assign_resources import LoopAssignResourcesPass, with_chained_sums
from rnnc.target import cost, dse
from rnnc.target.arch import load_architecture
from rnnc.target.plan import copies_per_dim
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

ASSIGNED = FUSED + ",loop-assign-resources"


def _fused_task(task: PaperTask) -> ModuleOp:
    model = deepbench.Task(task.cell, task.hidden, task.steps, input_size=task.input)
    module = deepbench.build_module(model, "weights.npz")
    passes = pipeline.build_pipeline(FUSED, pipeline.available_passes())
    pipeline.run_pipeline(Context(), module, passes, model.name)
    return module


def _unnamed(spec: cost.ProgramSpec) -> cost.ProgramSpec:
    return dataclasses.replace(
        spec, nests=tuple(dataclasses.replace(n, name="") for n in spec.nests)
    )


def _written_factors(module: ModuleOp) -> tuple[int, int, int]:
    (step,) = time_loops(module)
    (nest,) = [n for n in step.body.block.ops if isinstance(n, loop.ForeachOp)]
    reduces = [r for r in nest.walk() if isinstance(r, loop.ReduceOp)]
    factors = {(r.par.value.data, r.vec.value.data) for r in reduces}
    assert len(factors) == 1, "every gate's reduction gets the same ru and rv"
    ((ru, rv),) = factors
    hu = 1
    for p in nest.par_factors:
        hu *= p
    return hu, ru, rv


@pytest.mark.parametrize("task", paper_tasks(), ids=lambda t: t.label)
def test_the_design_written_on_the_ir_is_the_search_optimum(task: PaperTask) -> None:
    """The pass reads the program off the fused IR; the same search over that description
    chooses the same point at the same cost. (For the LSTM the description is the cost
    model's own fused cell, `test_loop_program` checks; a fused GRU's candidate gate keeps
    its x and h reductions apart, which its map-reduce units fold part by part.)"""
    module = _fused_task(task)
    arch = load_architecture("plasticine-rnn")
    # the units of the nests that run once (bias sums, initial and final states) come first
    budget = LoopAssignResourcesPass()._budget(module, arch, 1)
    assert budget.pcus < arch.pcu.count
    (step,) = time_loops(module)
    program = time_loop_spec(module, step, arch.pcu.stages, arch.pmu.vector_inputs)
    if task.cell == "lstm":
        assert _unnamed(program) == _unnamed(
            cell_programs.fused_cell_program(task.cell, task.hidden, task.input, task.steps)
        )
    # the search with chained partial sums; the step-ahead refinement that may follow it
    # is tested in tests/backend/test_step_ahead.py
    LoopAssignResourcesPass(schedules="chained-sums").apply(Context(), module)
    expected = dse.search(with_chained_sums(program, True), arch, budget=budget)
    (step,) = time_loops(module)
    written = step.attributes["loop.cost"].data
    assert _written_factors(module) == (
        expected.factors[0].hu,
        expected.factors[0].ru,
        expected.factors[0].rv,
    )
    assert written["cycles_per_step"].value.data == expected.cost.cycles_per_step
    assert written["bound"].data == expected.bound


@pytest.mark.parametrize(
    "model",
    [
        RnnModel("lstm", 24, 10, 4, initial=True),
        RnnModel("gru", 16, 16, 5, direction="bidirectional", linear_before_reset=1),
        RnnModel("rnn", 12, 7, 3, direction="reverse", sequence_lens=True),
    ],
    ids=lambda m: f"{m.cell}-{m.direction}",
)
def test_assigned_factors_do_not_change_the_results(model: RnnModel) -> None:
    inputs = model.inputs(seed=3)
    reference = interpreter.run(compile_to(model.mlir(), ""), inputs)
    assigned = compile_to(model.mlir(), ASSIGNED)
    assert any(
        p > 1 for n in assigned.walk() if isinstance(n, loop.ForeachOp) for p in n.par_factors
    ), "a small model on the full chip should get parallel copies"
    results = interpreter.run(assigned, inputs)
    for name, expected in reference.items():
        assert relative_error(results[name], expected) <= 1e-5


@pytest.mark.parametrize("batch", [2, 4])
def test_a_batch_gets_a_design_that_shares_the_weights(batch: int) -> None:
    """The batch elements of one hidden unit read the same weight rows: the cost model
    counts one slice for all of them, and the results do not change."""
    model = RnnModel("lstm", 8, 4, 3, batch=batch)
    inputs = model.inputs(seed=1)
    reference = interpreter.run(compile_to(model.mlir(), ""), inputs)
    assigned = compile_to(model.mlir(), ASSIGNED)
    (step,) = time_loops(assigned)
    assert step.attributes["loop.cost"].data["pcus"].value.data > 0
    results = interpreter.run(assigned, inputs)
    for name, expected in reference.items():
        assert relative_error(results[name], expected) <= 1e-5


def test_the_pass_is_deterministic_and_accepts_its_own_output() -> None:
    text = RnnModel("lstm", 64, 32, 6).mlir()
    first, second = (print_ir(compile_to(text, ASSIGNED)) for _ in range(2))
    assert first == second
    again = compile_to(first, "loop-assign-resources")
    assert print_ir(again) == first


def test_stacked_layers_share_the_chip() -> None:
    """Two time loops are resident together: each is searched with half of the units."""
    text = """
func.func @main(%X: tensor<5x1x64xf32>, %W1: tensor<1x256x64xf32>, %R1: tensor<1x256x64xf32>,
                %W2: tensor<1x256x64xf32>, %R2: tensor<1x256x64xf32>) -> tensor<1x1x64xf32> {
  %y1, %h1, %c1 = rnn.lstm %X, %W1, %R1 {hidden_size = 64 : i64}
      : (tensor<5x1x64xf32>, tensor<1x256x64xf32>, tensor<1x256x64xf32>)
      -> (tensor<5x1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32>)
  %x2 = rnn.reshape %y1 : tensor<5x1x1x64xf32> -> tensor<5x1x64xf32>
  %y2, %h2, %c2 = rnn.lstm %x2, %W2, %R2 {hidden_size = 64 : i64}
      : (tensor<5x1x64xf32>, tensor<1x256x64xf32>, tensor<1x256x64xf32>)
      -> (tensor<5x1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32>)
  func.return %h2 : tensor<1x1x64xf32>
}
"""
    module = compile_to(text, ASSIGNED)
    arch = load_architecture("plasticine-rnn")
    used = [s.attributes["loop.cost"].data["pcus"].value.data for s in time_loops(module)]
    assert len(used) == 2
    assert all(0 < pcus <= arch.pcu.count // 2 for pcus in used)


@pytest.mark.parametrize(
    ("extents", "hu", "par"),
    [((1, 1, 1024), 4, (1, 1, 4)), ((2, 1, 8), 12, (1, 1, 8)), ((2, 3, 4), 24, (2, 3, 4))],
)
def test_hu_is_spread_from_the_hidden_units_outwards(
    extents: tuple[int, ...], hu: int, par: tuple[int, ...]
) -> None:
    assert tuple(int(p) for p in copies_per_dim(extents, hu)) == par
