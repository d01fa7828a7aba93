"""`rnnc sim`'s values and time on designs whose GRU candidate gate cuts its x and h
products as one chunk sequence (the `joint-chunks` schedule, `rnnc.target.joint_chunks`).

A GRU (linear_before_reset=1; x 9 long, h 6) at ru 4, rv 2: x is 5 chunks (its last one
padded), h 3; jointly 8 chunks in 4 parts of 2, where each cut in 4 parts of its own they
fold 2 + 1 = 3 a unit; part 2 straddles (x[8, 9) and h[0, 2)) and sends both sums. The
design through config.json and `rnnc sim`: fp32 agrees with onnxruntime, mixed with the
loop interpreter; the cost model is within 10% of the simulated time loop and whole
inference (the schedule alone, as the chained-sums tests take theirs: with every schedule,
chained sums at this tiny point miss by 12-13% in either form, as GRU-512 T=1 does). With
linear_before_reset=0 there is no slot to join (the candidate folds
[x, r ⊙ h] as one reduction) and the fp32 values agree as well. `--schedules none` builds the
paper's parts at the same factors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from backend.test_sim_time import ARCH, _check
from compiled_sim import WEIGHTS, loop_level_outputs, simulate_compiled
from onnx_cases import TOLERANCE, RnnCase, make_case, rel_err, run_onnxruntime
from rnnc.driver.design_points import Compiled, compile_at
from rnnc.frontends.onnx_import import import_model
from rnnc.target.arch import DEFAULT_ARCHITECTURE
from rnnc.target.cost import Factors

HIDDEN, INPUTS, STEPS = 6, 9, 3
POINT = Factors(2, 4, 2)


def _case(linear_before_reset: int) -> RnnCase:
    rng = np.random.default_rng(16 + linear_before_reset)

    def uniform(*shape: int) -> np.ndarray:
        return rng.uniform(-1, 1, shape).astype(np.float32)

    values = {"X": uniform(STEPS, 1, INPUTS), "W": uniform(1, 3 * HIDDEN, INPUTS),
              "R": uniform(1, 3 * HIDDEN, HIDDEN), "B": uniform(1, 6 * HIDDEN)}
    return make_case("GRU", values, {"hidden_size": HIDDEN,
                                     "linear_before_reset": linear_before_reset},
                     initializers=["W", "R", "B"])


def _compiled(
    case: RnnCase, precision: str, schedules: str = "joint-chunks"
) -> tuple[Compiled, dict]:
    """At POINT (each nest: linear_before_reset=0 computes r ⊙ h in a nest of its own)."""
    text, weights = import_model(case.model, WEIGHTS)
    nests = 1 if case.attrs["linear_before_reset"] else 2
    return compile_at(text, ARCH, DEFAULT_ARCHITECTURE, [POINT] * nests, precision=precision,
                      schedules=schedules), weights


def straddling(compiled: Compiled) -> list[tuple[tuple[str, int, int], ...]]:
    """The non-empty ranges of the map-reduce units that fold the end of one reduction and
    the start of another."""
    found = []
    for unit in compiled.machine.units:
        if unit.kind != "pcu" or unit.role != "map_reduce":
            continue
        spans = tuple((s.reduction, s.start, s.stop) for s in unit.reduce.segments
                      if s.start < s.stop)
        if len({r for r, _, _ in spans}) > 1 and spans[0][1] > 0 and spans[-1][1] == 0:
            found.append(spans)
    return found


def test_the_straddling_unit_sends_both_sums() -> None:
    compiled, _ = _compiled(_case(1), "fp32")
    # per copy, part 2 of the candidate's slot: the end of x and the start of h
    assert straddling(compiled) == [(("r0", 8, 9), ("r2", 0, 2))] * 2
    paper, _ = _compiled(_case(1), "fp32", "none")
    assert straddling(paper) == []


@pytest.mark.parametrize("linear_before_reset", [0, 1])
def test_fp32_values_agree_with_onnxruntime(tmp_path: Path, linear_before_reset: int) -> None:
    case = _case(linear_before_reset)
    compiled, weights = _compiled(case, "fp32")
    assert bool(straddling(compiled)) == bool(linear_before_reset)
    got = simulate_compiled(tmp_path / "c.json", compiled, weights, case.inputs,
                            precision="fp32", arch=ARCH)
    for name, value in run_onnxruntime(case).items():
        assert rel_err(got[name], value) <= TOLERANCE, name


def test_mixed_values_agree_with_the_loop_interpreter(tmp_path: Path) -> None:
    """linear_before_reset=1 (the joint design); =0 builds no joint slot, and at this point
    misses the 1e-4 bound (1.13e-4) on main before this schedule already: left alone."""
    case = _case(1)
    compiled, weights = _compiled(case, "mixed")
    assert straddling(compiled)
    got = simulate_compiled(tmp_path / "c.json", compiled, weights, case.inputs,
                            precision="mixed", arch=ARCH)
    for name, value in loop_level_outputs(tmp_path, case, weights, "mixed").items():
        assert np.max(np.abs(got[name] - value)) <= 1e-4, name


@pytest.mark.parametrize("precision", ["fp32", "mixed"])
def test_cost_model_within_ten_percent(precision: str) -> None:
    compiled, _ = _compiled(_case(1), precision)
    assert straddling(compiled)
    _check(compiled)


def test_the_candidate_folds_fewer_chunks_jointly() -> None:
    """The joint design's busiest unit folds 2 chunks an iteration, the paper's 3: fewer
    compute cycles a step. (The whole step also depends on where each design's units are
    placed: at this tiny point the joint design's two more units lengthen its routed
    synchronisation so both steps come out equal; the search keeps the old form on a tie.)"""
    joint, _ = _compiled(_case(1), "fp32")
    paper, _ = _compiled(_case(1), "fp32", "none")
    (joint_nest,), (paper_nest,) = joint.cost.nests, paper.cost.nests
    assert (joint_nest.chunks, paper_nest.chunks) == (2, 3)
    assert joint_nest.compute_cycles < paper_nest.compute_cycles
