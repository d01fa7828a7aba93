"""The input projection a step ahead (`step-ahead`, `rnnc.target.step_ahead`): values
unchanged, timed by the simulator like every design, chosen by the search only when enabled.

Designs with the projection a step ahead (LSTM and RNN, forward and bidirectional, T = 1
and T > 1) written to config.json and run by `rnnc sim`: fp32 agrees with onnxruntime,
mixed with the loop interpreter's emulation; the map-reduce units of the projection read
their own operand PMUs (role `ahead`) and the simulator runs them a step ahead; the cost
model is within 10% of the simulated whole inference at random such points; GRU's
candidate gate has no projection to compute ahead (its h half is a reduction of its own);
`--schedules none` keeps the fused form.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
from pathlib import Path

import numpy as np
import pytest
from backend.test_sim_time import ARCH, _check
from compiled_sim import WEIGHTS, loop_level_outputs, simulate_compiled
from onnx_cases import GATES, TOLERANCE, RnnCase, make_case, rel_err, run_onnxruntime
from rnnc.driver.cli import main
from rnnc.driver.design_points import Compiled, compile_at
from rnnc.frontends import deepbench
from rnnc.frontends.onnx_import import import_model
from rnnc.simulator.machine_timing import phase_graphs
from rnnc.target.arch import DEFAULT_ARCHITECTURE
from rnnc.target.cost import Factors
from rnnc.target.step_ahead import applies

HIDDEN, INPUTS = 6, 5


def _case(op: str, steps: int, direction: str) -> RnnCase:
    rng = np.random.default_rng(steps + len(op) + len(direction))
    gates, directions = GATES[op], 2 if direction == "bidirectional" else 1

    def uniform(*shape: int) -> np.ndarray:
        return rng.uniform(-1, 1, shape).astype(np.float32)

    values = {"X": uniform(steps, 1, INPUTS),
              "W": uniform(directions, gates * HIDDEN, INPUTS),
              "R": uniform(directions, gates * HIDDEN, HIDDEN),
              "B": uniform(directions, 2 * gates * HIDDEN)}
    return make_case(op, values, {"hidden_size": HIDDEN, "direction": direction},
                     initializers=["W", "R", "B"])


def _compiled(case: RnnCase, factors: Factors, precision: str) -> tuple[Compiled, dict]:
    text, weights = import_model(case.model, WEIGHTS)
    return compile_at(text, ARCH, DEFAULT_ARCHITECTURE, [factors], precision=precision), weights


def _pmu_roles(config: Path) -> list[str]:
    units = (u for chip in json.loads(config.read_text())["chips"] for u in chip["units"])
    return [u["role"] for u in units if u["kind"] == "pmu"]


AHEAD = Factors(2, 1, 4, 2)
"""Two copies; h(t-1) in one part, x(t+1) in two parts of rv = 4 a step ahead."""


@pytest.mark.parametrize(("op", "steps", "direction"), [
    ("LSTM", 3, "forward"), ("LSTM", 1, "forward"), ("LSTM", 4, "bidirectional"),
    ("RNN", 3, "reverse"), ("RNN", 1, "forward"),
])
def test_fp32_values_agree_with_onnxruntime(tmp_path: Path, op: str, steps: int,
                                            direction: str) -> None:
    case = _case(op, steps, direction)
    compiled, weights = _compiled(case, AHEAD, "fp32")
    got = simulate_compiled(tmp_path / "c.json", compiled, weights, case.inputs,
                            precision="fp32", arch=ARCH)
    assert "ahead" in _pmu_roles(tmp_path / "c.json")
    expected = run_onnxruntime(case)
    for name, value in expected.items():
        assert rel_err(got[name], value) <= TOLERANCE, name


def test_mixed_values_agree_with_the_loop_interpreter(tmp_path: Path) -> None:
    case = _case("LSTM", 3, "forward")
    compiled, weights = _compiled(case, AHEAD, "mixed")
    got = simulate_compiled(tmp_path / "c.json", compiled, weights, case.inputs,
                            precision="mixed", arch=ARCH)
    assert "ahead" in _pmu_roles(tmp_path / "c.json")
    for name, value in loop_level_outputs(tmp_path, case, weights, "mixed").items():
        assert np.max(np.abs(got[name] - value)) <= 1e-4, name


def test_the_projection_units_run_a_step_ahead() -> None:
    """The simulator runs the units reading an `ahead` PMU one step ahead, and loads that
    PMU two steps ahead; everything else as in the fused form."""
    compiled, _ = _compiled(_case("LSTM", 3, "forward"), AHEAD, "fp32")
    (loop_graph,) = [g for g in phase_graphs(compiled.machine, ARCH) if g.phase.kind == "loop"]
    ahead_pmus = {u.id for u in compiled.machine.units
                  if u.kind == "pmu" and u.role == "ahead"}
    leads = {}
    for node in loop_graph.graph.nodes:
        leads.setdefault((node.kind, node.role), set()).add(node.lead)
    assert leads[("pcu", "map_reduce")] == {0, 1}
    assert leads[("pcu", "elementwise")] == {0}
    assert leads[("ag", "dram-load")] == {2}
    assert len(ahead_pmus) == 2  # the x range in two parts


def _random_ahead_points(count: int, seed: int) -> list[tuple]:
    rng = random.Random(seed)
    points = []
    while len(points) < count:
        cell = rng.choice(["lstm", "rnn"])
        precision = rng.choice(["mixed", "fp32"])
        rv = rng.choice([v for v in (8, 16, 32, 64) if v <= ARCH.max_rv(precision)])
        points.append((cell, rng.choice([64, 128, 200, 256, 384]), rng.choice([1, 5, 10]),
                       Factors(rng.choice([1, 2, 3, 4]), rng.choice([1, 2, 3, 4]), rv,
                               rng.choice([1, 2, 3])),
                       precision))
    return points


@pytest.mark.parametrize(("cell", "hidden", "steps", "factors", "precision"),
                         _random_ahead_points(8, 2028))
def test_cost_model_within_ten_percent_a_step_ahead(cell: str, hidden: int, steps: int,
                                                    factors: Factors, precision: str) -> None:
    text, _, _ = deepbench.generate(deepbench.Task(cell, hidden, steps), "w.npz", 0)
    _check(compile_at(text, ARCH, DEFAULT_ARCHITECTURE, [factors], precision=precision))


def test_gru_has_no_projection_to_compute_ahead() -> None:
    text, _, _ = deepbench.generate(deepbench.Task("gru", 64, 3), "w.npz", 0)
    compiled = compile_at(text, ARCH, DEFAULT_ARCHITECTURE, [Factors(2, 1, 16)])
    assert not any(applies(nest) for nest in compiled.program.nests)


# with `chained-sums` too the fused form is faster on this task, and the search keeps it
@pytest.mark.parametrize(("schedules", "ahead"), [("none", False), ("all,-step-ahead", False),
                                                  ("step-ahead", True), ("all", False)])
def test_the_search_chooses_it_only_when_enabled(tmp_path: Path, schedules: str, ahead: bool,
                                                 fused_example_config: Path) -> None:
    model = Path(__file__).parents[2] / "examples" / "deepbench" / "lstm-512-25.mlir"
    if schedules == "none":  # the same command as the session's fused example
        config = fused_example_config
    else:
        config = tmp_path / "c.json"
        with contextlib.redirect_stdout(io.StringIO()):
            assert main([str(model), "-o", str(config), "--schedules", schedules]) == 0
    assert ("ahead" in _pmu_roles(config)) == ahead
