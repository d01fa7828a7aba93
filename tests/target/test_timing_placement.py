"""Timing-driven placement: the step estimate worked out by hand, criticalities, the best
of several seeds kept, determinism."""

from __future__ import annotations

from pathlib import Path

import pytest
from pnr_designs import lstm_like
from rnnc.target.arch import load_architecture
from rnnc.target.network import topology
from rnnc.target.placement import PlacementProblem, place
from rnnc.target.timing_placement import (
    PLACEMENT_SEEDS,
    StepPaths,
    estimate,
    place_for_timing,
)

STRIP = Path(__file__).resolve().parents[1] / "filecheck/transforms/Inputs/strip.json"


def strip_chain() -> tuple[PlacementProblem, StepPaths, tuple]:
    """h (PMU) -> a -> b (PCUs) -> out (PMU) -> store (AG), and a weight PMU into b."""
    problem = PlacementProblem(
        names=("h", "a", "b", "out", "store", "w"),
        kinds=("pmu", "pcu", "pcu", "pmu", "ag:right", "pmu"),
        pinned=(None,) * 6,
        nets=((0, 1), (1, 2), (5, 2), (2, 3), (3, 4)),
        weights=(1.0,) * 5,
    )
    paths = StepPaths(latency=(2, 4, 4, 2, 0, 2),
                      role=("memory", "pcu", "pcu", "memory", "store", "memory"),
                      controller=(1, 3), hop_latency=1)
    sites = ((0, 0), (0, 1), (0, 4), (0, 5), (1, 6), (0, 3))
    return problem, paths, sites


def test_the_estimate_of_a_chain_worked_out_by_hand() -> None:
    """Controller at switch (1, 3); a site's position is the mean of its switches, a hop
    count the Manhattan distance + 1. h is read 4 hops after the enable (+2 read) and
    reaches a 2 hops later (8); a leaves at 12, reaches b at 16 (w is there at 6); b
    leaves at 20, out is written at 22; out's store ends the path: read 2, 2 hops to the
    AG, its done token 4 hops back: 30. The weight stream has 10 cycles of slack."""
    problem, paths, sites = strip_chain()
    timed = estimate(topology(load_architecture(str(STRIP))), problem, paths, sites)
    assert timed.cycles == 30
    assert timed.criticality == (1.0, 1.0, pytest.approx(20 / 30), 1.0, 1.0)


@pytest.fixture(scope="module")
def chip():
    return topology(load_architecture("plasticine-rnn"))


def lstm_paths(design, chip) -> StepPaths:
    roles = {"pcu": "pcu", "pmu": "memory", "ag:left": "load", "ag:right": "store"}
    latency = {"pcu": 6, "pmu": 5}
    return StepPaths(tuple(latency.get(c, 0) for c in design.classes),
                     tuple(roles[c] for c in design.classes), chip.controller, 1)


def test_the_timed_placement_is_the_best_of_its_seeds(chip) -> None:
    """No wire-length placement of the seeds tried has a shorter estimated step, and the
    critical streams weigh more than the others did."""
    design = lstm_like(map_reduce=40, combine=6, operands=4, ags=6)
    problem = design.problem(chip)
    paths = lstm_paths(design, chip)
    timed = estimate(chip, problem, paths, place_for_timing(chip, problem, paths, seed=2))
    for seed in range(2, 2 + PLACEMENT_SEEDS):
        plain = estimate(chip, problem, paths, place(chip, problem, seed))
        assert timed.cycles <= plain.cycles
    assert max(timed.criticality) == 1.0
    assert min(timed.criticality) < 1.0


def test_the_same_seed_gives_the_same_sites(chip) -> None:
    design = lstm_like(map_reduce=30, combine=5, operands=3, ags=4)
    problem = design.problem(chip)
    paths = lstm_paths(design, chip)
    first = place_for_timing(chip, problem, paths, seed=5)
    assert first == place_for_timing(chip, problem, paths, seed=5)
    assert len(set(first)) == len(first)


def test_a_posted_store_ends_no_path() -> None:
    """The same chain with the store posted: the path ends with out's own done token (4
    switches back from out, written at 22): 26, and the store's stream has no criticality."""
    problem, paths, sites = strip_chain()
    posted = StepPaths(paths.latency, ("memory", "pcu", "pcu", "memory", "posted", "memory"),
                       paths.controller, paths.hop_latency)
    timed = estimate(topology(load_architecture(str(STRIP))), problem, posted, sites)
    assert timed.cycles == 26
    assert timed.criticality[4] == 0.0
    assert timed.criticality[:2] == (1.0, 1.0)
