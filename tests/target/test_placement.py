"""The placer on plain data: legal, honours pins, deterministic per seed, clear refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pnr_designs import lstm_like
from rnnc.target.arch import load_architecture
from rnnc.target.network import topology
from rnnc.target.placement import PlacementError, place, wire_length


@pytest.fixture(scope="module")
def chip():
    return topology(load_architecture("plasticine-rnn"))


def test_every_unit_gets_a_free_site_of_its_class(chip) -> None:
    design = lstm_like()
    sites = place(chip, design.problem(chip), seed=0)
    assert len(set(sites)) == len(sites) == len(design.names)
    for site, site_class in zip(sites, design.classes, strict=True):
        assert chip.site_class(site) == site_class


def test_the_same_seed_gives_the_same_sites(chip) -> None:
    design = lstm_like(map_reduce=60, combine=10, operands=6, ags=8)
    problem = design.problem(chip)
    assert place(chip, problem, seed=3) == place(chip, problem, seed=3)
    assert place(chip, problem, seed=3) != place(chip, problem, seed=4)


def test_annealing_beats_a_row_major_placement(chip) -> None:
    """The wire length is far below that of filling the sites in order."""
    design = lstm_like()
    problem = design.problem(chip)
    placed = wire_length(chip, problem, place(chip, problem, seed=0))
    cursor: dict[str, int] = {}
    naive = []
    for site_class in design.classes:
        naive.append(chip.class_sites(site_class)[cursor.get(site_class, 0)])
        cursor[site_class] = cursor.get(site_class, 0) + 1
    assert placed < 0.5 * wire_length(chip, problem, tuple(naive))


def test_pinned_units_stay(chip) -> None:
    design = lstm_like(map_reduce=40, combine=4, operands=4, ags=4)
    pins = {0: (10, 1), 40: (0, 4), design.names.index("op0"): (23, 23)}
    sites = place(chip, design.problem(chip, pins), seed=0)
    for unit, site in pins.items():
        assert sites[unit] == site
    assert len(set(sites)) == len(sites)


def test_too_few_sites_names_the_kind_and_the_counts(chip) -> None:
    design = lstm_like(map_reduce=190, combine=11, elementwise=4)
    with pytest.raises(PlacementError, match=r"^too few PCU sites: 205 PCUs to place, the chip "
                       r"has 192$"):
        place(chip, design.problem(chip), seed=0)


def test_a_pin_on_the_wrong_kind_of_site(chip) -> None:
    design = lstm_like(map_reduce=4, combine=1, elementwise=1, operands=1, ags=2)
    with pytest.raises(PlacementError, match=r"unit 'mr0' is pinned to \(0, 0\), which is a "
                       r"PMU site, not a PCU site"):
        place(chip, design.problem(chip, {0: (0, 0)}), seed=0)


def test_two_pins_on_one_site(chip) -> None:
    design = lstm_like(map_reduce=4, combine=1, elementwise=1, operands=1, ags=2)
    with pytest.raises(PlacementError, match=r"units 'mr0' and 'mr1' are both pinned to"):
        place(chip, design.problem(chip, {0: (0, 1), 1: (0, 1)}), seed=0)


_PLACE_AND_PRINT = """
import sys
sys.path.insert(0, {tests!r})
from pnr_designs import lstm_like
from rnnc.target.arch import load_architecture
from rnnc.target.network import topology
from rnnc.target.placement import place
chip = topology(load_architecture("plasticine-rnn"))
print(place(chip, lstm_like().problem(chip), seed=5))
"""


@pytest.mark.parametrize(
    "variable", ["PYTHONHASHSEED", "OPENBLAS_NUM_THREADS"], ids=["hash-seed", "blas-threads"]
)
def test_placement_is_byte_identical_across_interpreters(variable: str) -> None:
    """The full-size design placed in two interpreters with different PYTHONHASHSEEDs, or
    different numbers of BLAS threads (which change the last bits of the analytic
    placement's linear solve)."""
    tests = str(Path(__file__).resolve().parent.parent)
    outputs = []
    for value in ("1", "2"):
        env = {**os.environ, variable: value}
        done = subprocess.run([sys.executable, "-c", _PLACE_AND_PRINT.format(tests=tests)],
                              env=env, capture_output=True, text=True, check=True)
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0].count("(") > 600
