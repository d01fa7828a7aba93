"""`rnnc plot` on a real (small) sweep: every kind writes PNG and SVG, the same table
gives the same bytes, the numbers behind the bars are the table's, and misuse is one
diagnostic."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rnnc.driver import cli
from rnnc.driver.plot import draw, fusion_speedups, paper_speedups, pareto_front
from rnnc.driver.sweep import load_study, run_sweep, table
from rnnc.target.arch import PAPER_DEEPBENCH

pytest.importorskip("matplotlib", reason="matplotlib is not installed (pip install 'rnnc[sweep]')")

# gru-512-1 is a paper task; pcu.count 192 with pmu.count 384 is the paper's chip.
STUDY = """\
models:
  - gen: {cell: gru, hidden: 512, steps: 1}
  - gen: {cell: gru, hidden: 32, steps: 2}
architectures:
  - preset: plasticine-rnn
    fit_grid: true
    grid:
      pcu.count: [96, 192]
      pmu.count: [384, 768]
pipelines: [fused, decomposed]
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plot")
    study = folder / "study.yaml"
    study.write_text(STUDY)
    outcome = run_sweep(load_study(str(study)), workers=2, progress=False)
    assert outcome.rows is not None and outcome.not_ok == 0
    path = folder / "results.csv"
    table.write(str(path), outcome.rows, outcome.columns)
    return path


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _predicted(row: dict[str, Any]) -> float:
    return row["predicted_latency_ms"]


@pytest.mark.parametrize(
    ("kind", "extra"),
    [("pareto", []), ("pareto", ["--x", "area"]), ("speedup", []),
     ("heatmap", ["--where", "pipeline=fused"])],
)
def test_every_kind_writes_png_and_svg_reproducibly(
    kind: str, extra: list[str], results: Path, tmp_path: Path
) -> None:
    png, svg, again = tmp_path / "a.png", tmp_path / "a.svg", tmp_path / "b.svg"
    argv = ["plot", str(results), "--kind", kind, *extra]
    assert cli.main([*argv, "-o", str(png), "-o", str(svg)]) == 0
    assert cli.main([*argv, "-o", str(again)]) == 0
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert svg.read_bytes().startswith(b"<?xml") and svg.read_bytes() == again.read_bytes()
    assert b"model prediction" in svg.read_bytes()  # nothing here was simulated


def test_fusion_speedups_are_the_tables_ratios(results: Path) -> None:
    rows = table.read(str(results))
    ratios = fusion_speedups(rows, _predicted)
    assert len(ratios) == 4  # one per chip
    fused, decomposed = (
        next(r for r in rows if (r["pcu.count"], r["pmu.count"], r["pipeline"], r["model"])
             == (96, 768, pipeline, "gru-32-2"))
        for pipeline in ("fused", "decomposed")
    )
    assert ratios["pcu.count=96, pmu.count=768"]["gru-32-2"] == pytest.approx(
        decomposed["predicted_latency_ms"] / fused["predicted_latency_ms"])


def test_paper_speedups_take_the_paper_task_on_the_papers_chip(results: Path) -> None:
    rows = table.read(str(results))
    ((label, [(row, ratio)]),) = paper_speedups(rows, _predicted).items()
    assert label == "fused" and row["model"] == "gru-512-1"
    assert (row["pcu.count"], row["pmu.count"]) == (192, 384)
    published = next(t for t in json.loads(PAPER_DEEPBENCH.read_text())["tasks"]
                     if (t["cell"], t["hidden"]) == ("gru", 512))["latency_ms"]["plasticine"]
    assert ratio == pytest.approx(published / row["predicted_latency_ms"])


def test_pareto_front() -> None:
    points = [(100, 5.0), (50, 9.0), (100, 4.0), (200, 4.5), (300, 1.0), (50, 8.0)]
    assert pareto_front(points) == [(50, 8.0), (100, 4.0), (300, 1.0)]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--kind", "heatmap", "-o", "h.png"],
         "rnnc plot: error: the rows also differ in pipeline (decomposed/fused): keep one with "
         "--where, e.g. --where pipeline=fused"),
        (["--kind", "heatmap", "--where", "pipeline=fused", "--axes", "pcu.count", "chips",
          "-o", "h.png"],
         "--axes: error: 'chips' is not a varied architecture field of the table (varied: "
         "pcu.count, pmu.count)"),
        (["--kind", "pareto", "--where", "colour=red", "-o", "p.png"],
         "--where: error: no column 'colour' in RESULTS"),
        (["--kind", "pareto", "--where", "pipeline=fusd", "-o", "p.png"],
         "--where: error: no row has pipeline=fusd (the values of pipeline: decomposed, fused)"),
        (["--kind", "pareto", "--where", "pipeline=fused", "--where", "pcu.count=100",
          "-o", "p.png"],
         "--where: error: no row left by the earlier --where has pcu.count=100 (the values of "
         "pcu.count: 96, 192)"),
        (["--kind", "speedup", "--where", "pipeline=fused", "--where", "pcu.count=96",
          "-o", "s.png", "-o", "s.svg"],
         "rnnc plot: error: nothing to plot (speedup): no model has both a fused and a "
         "decomposed point with status ok, and no fused point of a paper task on its chip "
         "(plasticine-rnn)"),
        (["--kind", "pareto", "-o", "p.pdf"],
         "p.pdf: error: expected a .png or .svg file, got '.pdf'"),
    ],
)
def test_misuse_is_one_diagnostic(
    argv: list[str], expected: str, results: Path, workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["plot", str(results), *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith(expected.replace("RESULTS", str(results))) and err.count("\n") == 1
    assert list(workdir.iterdir()) == []


def test_a_table_without_a_column_of_rnnc_sweep_is_refused(
    results: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{k: v for k, v in row.items() if k != "status"} for row in table.read(str(results))]
    table.write("edited.csv", rows, {name: type(None) for name in rows[0]})
    assert cli.main(["plot", "edited.csv", "--kind", "pareto", "-o", "p.png"]) == 1
    assert capsys.readouterr().err == (
        "edited.csv: error: not a results table of rnnc sweep: no column 'status'\n")
    assert sorted(p.name for p in workdir.iterdir()) == ["edited.csv"]


def test_results_that_are_not_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install 'rnnc[sweep]')")
    bogus = tmp_path / "r.parquet"
    bogus.write_text("hello")
    assert cli.main(["plot", str(bogus), "--kind", "pareto", "-o", str(tmp_path / "p.png")]) == 1
    assert capsys.readouterr().err.startswith(f"{bogus}: error: not a results table: ")


def test_nothing_ok_to_plot_is_a_diagnostic(
    results: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = table.read(str(results))
    failed = [{**row, "status": "failed"} for row in rows]
    table.write("failed.csv", failed, {name: type(None) for name in rows[0]})
    for kind, where in (("pareto", []), ("speedup", []), ("heatmap", ["pipeline=fused"])):
        argv = [arg for clause in where for arg in ("--where", clause)]
        assert cli.main(["plot", "failed.csv", "--kind", kind, *argv, "-o", "p.png"]) == 1
        assert capsys.readouterr().err == (
            f"rnnc plot: error: no row with status ok to plot ({kind})\n")
    assert sorted(p.name for p in workdir.iterdir()) == ["failed.csv"]


@pytest.mark.parametrize(("kind", "where", "titles"), [
    ("pareto", [], ["model (Pareto front)", "every design, by pipeline"]),
    ("pareto", ["pipeline=fused"], ["model (Pareto front)", "every design, by pipeline"]),
    ("speedup", [], ["variant (panel a)", ""]),
    ("speedup", ["pcu.count=192"], ["variant (panel a)", ""]),
])
def test_every_plot_has_its_legend_in_the_picture(
    kind: str, where: list[str], titles: list[str], results: Path
) -> None:
    """Each legend is drawn unclipped, inside the figure: a two-model Pareto plot, with one
    pipeline or two, says which line is which model; each speedup panel with bars has one."""
    from matplotlib.legend import Legend

    rows = [r for r in table.read(str(results))
            if all(str(r[c]) == v for c, v in (w.split("=") for w in where))]
    figure = draw(kind, rows, "t")
    figure.savefig(io.BytesIO(), format="png")  # lays the figure out
    legends = figure.findobj(Legend)
    assert sorted(legend.get_title().get_text() for legend in legends) == sorted(titles)
    box = figure.bbox
    for legend in legends:
        extent = legend.get_window_extent()
        assert legend.get_visible() and legend.get_clip_box() is legend.get_clip_path() is None
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1 + 1 and extent.y1 <= box.y1 + 1
    pareto_labels = {t.get_text() for legend in legends for t in legend.get_texts()}
    if kind == "pareto":
        assert {"gru-512-1", "gru-32-2"} <= pareto_labels
