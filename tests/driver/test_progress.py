"""`rnnc MODEL -o config.json` shows its progress: a line on stderr as each pass finishes,
with `--progress` or when stderr is a terminal, and nothing otherwise (a log or a pipe
gets only the diagnostics and the success line)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from bad_inputs import MODEL_B1, gru
from rnnc.driver import cli
from rnnc.driver.pipelines import CONFIG_PIPELINE

LINE = re.compile(r"^rnnc: (\S+) done \(\d+\.\d\d s\)$")


def _passes(err: str) -> list[str]:
    lines = err.splitlines()
    matches = [LINE.match(line) for line in lines]
    assert all(matches), err
    return [match[1] for match in matches if match]


def test_progress_is_a_line_per_pass_of_the_config_pipeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / gru(tmp_path, MODEL_B1)
    assert cli.main([str(model), "-o", str(tmp_path / "c.json"), "--progress"]) == 0
    out, err = capsys.readouterr()
    assert _passes(err) == CONFIG_PIPELINE.split(",")
    assert out.startswith(f"{tmp_path / 'c.json'}: design ")


def test_no_progress_off_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / gru(tmp_path, MODEL_B1)
    assert cli.main([str(model), "-p", "rnn-decompose,loop-fuse", "-o",
                     str(tmp_path / "o.mlir")]) == 0
    assert capsys.readouterr().err == ""


def test_progress_on_a_terminal_without_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    model = tmp_path / gru(tmp_path, MODEL_B1)
    assert cli.main([str(model), "-p", "rnn-decompose,loop-fuse", "-o",
                     str(tmp_path / "o.mlir")]) == 0
    assert _passes(capsys.readouterr().err) == ["rnn-decompose", "loop-fuse"]
