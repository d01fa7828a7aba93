"""The README's main command, `rnnc examples/deepbench/lstm-512-25.mlir -o config.json`:
a configuration that validates, is byte-identical when made again, and simulates."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from rnnc.backend.load import schema_errors
from rnnc.driver.cli import main
from rnnc.driver.io import load_npz

EXAMPLE = Path(__file__).parents[2] / "examples" / "deepbench" / "lstm-512-25"


def test_the_main_command_writes_a_valid_config(
    example_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(example_config.read_text())
    assert schema_errors(data) == []
    assert data["format"] == "rnnc-config"
    assert data["precision"]["name"] == "mixed"  # the architecture's default mode
    assert (example_config.parent / data["weights"]["path"]).is_file()
    assert data["time_loop"]["steps"] == 25


def test_the_same_command_gives_the_same_bytes(example_config: Path, tmp_path: Path) -> None:
    again = tmp_path / "config.json"
    assert main([f"{EXAMPLE}.mlir", "-o", str(again)]) == 0
    assert again.read_bytes() == example_config.read_bytes()
    weights = "config.weights.npz"
    assert (tmp_path / weights).read_bytes() == (example_config.parent / weights).read_bytes()


def test_the_config_simulates_to_the_loop_levels_values(
    example_config: Path, tmp_path: Path
) -> None:
    out, report = tmp_path / "out.npz", tmp_path / "report.json"
    assert main(["sim", str(example_config), "--inputs", f"{EXAMPLE}.inputs.npz", "-o",
                 str(out), "--report", str(report)]) == 0
    reference = tmp_path / "loop.npz"
    assert main(["run", f"{EXAMPLE}.mlir", "--inputs", f"{EXAMPLE}.inputs.npz", "-p",
                 "rnn-decompose,loop-fuse,loop-assign-resources", "--precision", "mixed",
                 "-o", str(reference)]) == 0
    got, expected = load_npz(str(out)), load_npz(str(reference))
    assert set(got) == set(expected) == {"Y", "Y_h"}
    for name in expected:
        assert np.max(np.abs(got[name] - expected[name])) <= 1e-4, name
    timing = json.loads(report.read_text())
    assert timing["steps"]["simulated"] + timing["steps"]["extrapolated"] == 25
    assert timing["units"]["pcu"]["busy_cycles"] > 0


def test_show_draws_the_config(example_config: Path, tmp_path: Path) -> None:
    picture = tmp_path / "place.svg"
    assert main(["show", str(example_config), "-o", str(picture)]) == 0
    assert picture.read_text().startswith("<?xml")


def test_show_without_matplotlib_is_a_diagnostic(
    example_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises
    picture = tmp_path / "place.svg"
    assert main(["show", str(example_config), "-o", str(picture)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rnnc show: error: needs matplotlib"), err
    assert "internal error" not in err
    assert not picture.exists()
