"""A sweep over precision modes at the sim level: each row's `error` (the largest |error| of
an output against the same machine in fp32 on the given weights) and `rnnc plot --kind
pareto --x error`."""

from __future__ import annotations

from pathlib import Path

import pytest
from rnnc.driver import cli
from rnnc.driver.sweep import load_study, run_sweep, table

STUDY = """\
models:
  - gen: {cell: gru, hidden: 32, steps: 3}
architectures:
  - preset: plasticine-rnn
precisions: [fp32, mixed, int4, mxfp4]
run: sim
"""


def test_a_precision_sweep_measures_each_modes_error(tmp_path: Path) -> None:
    study = tmp_path / "study.yaml"
    study.write_text(STUDY)
    outcome = run_sweep(load_study(str(study)), workers=1, progress=False)
    assert outcome.rows is not None
    rows = {row["precision"]: row for row in outcome.rows}
    assert set(rows) == {"fp32", "mixed", "int4", "mxfp4"}
    assert all(row["status"] == "ok" for row in rows.values())
    assert rows["fp32"]["error"] == 0.0  # the reference itself
    assert 0.0 < rows["mixed"]["error"] < rows["int4"]["error"]
    assert rows["mxfp4"]["error"] > rows["mixed"]["error"]
    results = tmp_path / "results.csv"
    table.write(str(results), outcome.rows, outcome.columns)
    picture = tmp_path / "p.png"
    assert cli.main(["plot", str(results), "--kind", "pareto", "--x", "error",
                     "-o", str(picture)]) == 0
    assert picture.stat().st_size > 0


def test_pareto_by_error_needs_simulated_rows(tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    study = tmp_path / "study.yaml"
    study.write_text(STUDY.replace("run: sim", "run: search"))
    outcome = run_sweep(load_study(str(study)), workers=1, progress=False)
    results = tmp_path / "results.csv"
    table.write(str(results), outcome.rows, outcome.columns)
    capsys.readouterr()
    assert cli.main(["plot", str(results), "--kind", "pareto", "--x", "error",
                     "-o", str(tmp_path / "p.png")]) == 1
    assert capsys.readouterr().err.strip() == (
        "--x: error: error: a row has no 'error' (the error is measured by the sim run level)")
