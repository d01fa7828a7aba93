"""The shipped example's config.json edited by a test and run by `rnnc sim`: the edited
copy written beside a link to the example's weights, and the simulation's status and
output paths."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rnnc.driver.cli import main

EXAMPLE = Path(__file__).parents[1] / "examples" / "deepbench" / "lstm-512-25"
"""The shipped example, without its suffixes (`.mlir`, `.inputs.npz`)."""


def write_edited(config: dict[str, Any], example_config: Path, path: Path) -> Path:
    """`config` (an edit of `example_config`'s contents) written to `path`, its weight file
    linked from the example's."""
    path.write_text(json.dumps(config))
    weights = config["weights"]["path"]
    if not (path.parent / weights).exists():
        (path.parent / weights).symlink_to(example_config.parent / weights)
    return path


def simulate_example(config: Path, tmp_path: Path) -> tuple[int, Path, Path]:
    """`rnnc sim` of `config` on the example's inputs: the exit status, the outputs' and the
    report's paths (in `tmp_path`, named after the config)."""
    out, report = tmp_path / f"{config.stem}.out.npz", tmp_path / f"{config.stem}.report.json"
    status = main(["sim", str(config), "--inputs", f"{EXAMPLE}.inputs.npz", "-o", str(out),
                   "--report", str(report)])
    return status, out, report


def assert_refused(edit: Callable[[dict[str, Any]], str], example_config: Path, tmp_path: Path,
                   capsys: pytest.CaptureFixture[str]) -> None:
    """`rnnc sim` of the example's config after `edit` (which returns the diagnostic it
    expects) exits 1 with exactly that diagnostic and writes no output or report."""
    config = json.loads(example_config.read_text())
    expected = edit(config)
    path = write_edited(config, example_config, tmp_path / "config.json")
    status, out, report = simulate_example(path, tmp_path)
    assert status == 1
    assert capsys.readouterr().err == f"{path}: error: {expected}\n"
    assert not out.exists() and not report.exists()
