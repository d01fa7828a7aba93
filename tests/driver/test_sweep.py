"""`rnnc sweep`: engines agree, interrupted sweeps resume, failing points are rows, and
the sweep says what it does as it goes.

The study here is small (2 tiny models x 4 chips x 2 pipelines = 16 points, ~0.1 s each)
and includes points that fail for real: the LSTM's decomposed program does not fit a chip with 24
PMUs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rnnc.driver import cli
from rnnc.driver.backend_commands import summary_line
from rnnc.driver.sweep import load_study, run_sweep, table
from rnnc.driver.sweep.cache import ResultCache, compiler_fingerprint, point_key
from rnnc.driver.sweep.study import fit_grid, spread
from rnnc.target.arch import load_architecture

STUDY = """\
name: tiny
models:
  - gen: {cell: lstm, hidden: 64, steps: 4}
  - gen: {cell: gru, hidden: 32, steps: 2}
architectures:
  - preset: plasticine-rnn
    fit_grid: true
    grid:
      pcu.count: [192, 96]
      pmu.count: [24, 384]
pipelines: [fused, decomposed]
"""


def _study(tmp_path: Path, text: str = STUDY, name: str = "study.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _deterministic(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows without compile seconds, the one measured column."""
    keep = table.deterministic_columns(list(rows[0]))
    return [{name: row[name] for name in keep} for row in rows]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The small study on one local worker, without a cache."""
    study = load_study(_study(tmp_path_factory.mktemp("reference")))
    outcome = run_sweep(study, workers=1, progress=False)
    assert outcome.rows is not None and outcome.computed == 16
    return outcome.rows


# ---- the table ------------------------------------------------------------------------------


def test_one_row_per_point_in_study_order(reference: list[dict[str, Any]]) -> None:
    assert [row["point"] for row in reference] == list(range(16))
    assert [row["model"] for row in reference[::8]] == ["lstm-64-4", "gru-32-2"]
    first = reference[0]
    assert (first["pcu.count"], first["pmu.count"], first["pipeline"]) == (192, 24, "fused")
    assert (first["precision"], first["objective"], first["chips"], first["run"]) == (
        "mixed", "latency", 1, "search")
    assert first["status"] == "ok" and first["reason"] is None
    assert first["design"].count("/") == 2  # one fused nest: hu/ru/rv
    assert first["pcus"] <= first["arch_pcus"] == 192 and first["pmus"] <= 24
    assert first["predicted_latency_ms"] > 0 and first["simulated_latency_ms"] is None
    assert first["bound"] and first["compile_seconds"] > 0


def test_the_preset_counts_give_the_preset_back(reference: list[dict[str, Any]]) -> None:
    """fit_grid on the preset's own counts lays out the preset's own grid: same hash."""
    preset = load_architecture("plasticine-rnn")
    rows = [r for r in reference if (r["pcu.count"], r["pmu.count"]) == (192, 384)]
    assert {r["arch_sha256"] for r in rows} == {preset.digest()}
    assert rows[0]["die_area_mm2"] == pytest.approx(preset.die_area_mm2())


def test_failing_points_are_rows_with_reasons(reference: list[dict[str, Any]]) -> None:
    statuses = {(r["model"], r["pcu.count"], r["pmu.count"], r["pipeline"]): r for r in reference}
    tight = statuses[("lstm-64-4", 192, 24, "decomposed")]
    assert tight["status"] == "failed"
    assert tight["reason"] == ("loop-assign-resources: no design point of 'xw_i' and the other "
                               "nests fits 192 PCUs and 24 PMUs")
    assert tight["design"] is None and tight["predicted_latency_ms"] is None
    assert sum(r["status"] == "ok" for r in reference) == 14


def test_invalid_architecture_reason_is_the_architecture_checker(tmp_path: Path) -> None:
    text = STUDY.replace("fit_grid: true", "fit_grid: false").replace(
        "pcu.count: [192, 96]\n      pmu.count: [24, 384]", "pmu.banks: [1, 16]"
    ).replace("pipelines: [fused, decomposed]", "pipelines: [fused]")
    outcome = run_sweep(load_study(_study(tmp_path, text)), workers=1, progress=False)
    assert outcome.rows is not None
    bad = [r for r in outcome.rows if r["pmu.banks"] == 1]
    assert len(bad) == 2 and {r["status"] for r in bad} == {"invalid-arch"}
    assert bad[0]["reason"] == ("field 'pmu.banks': expected banks x bank_width_bits >= 512 (one "
                                "PMU feeds a PCU's 16 32-bit lanes every cycle), got 1 x 32")
    assert {r["status"] for r in outcome.rows if r["pmu.banks"] == 16} == {"ok"}
    assert bad[0]["arch_sha256"] is None and bad[0]["precision"] is None


def test_unsupported_precision_is_a_failed_row(tmp_path: Path) -> None:
    text = STUDY.replace("pipelines: [fused, decomposed]", "pipelines: [fused]\n"
                         "precisions: [fp32, fp16]").replace("[192, 96]", "[192]").replace(
                         "[24, 384]", "[384]")
    outcome = run_sweep(load_study(_study(tmp_path, text)), workers=1, progress=False)
    assert outcome.rows is not None
    fp16 = [r for r in outcome.rows if r["precision"] == "fp16"]
    assert len(fp16) == 2 and {r["status"] for r in fp16} == {"failed"}
    assert fp16[0]["reason"] == ("architecture 'plasticine-rnn' does not support precision "
                                 "'fp16' (supported: fp32, int4, int5, mixed, mxfp4, mxfp6)")
    assert {r["status"] for r in outcome.rows if r["precision"] == "fp32"} == {"ok"}


# ---- engines ----------------------------------------------------------------------------------


def test_two_local_workers_give_the_same_table(
    tmp_path: Path, reference: list[dict[str, Any]]
) -> None:
    outcome = run_sweep(load_study(_study(tmp_path)), workers=2, progress=False)
    assert outcome.rows is not None
    assert _deterministic(outcome.rows) == _deterministic(reference)


def test_ray_gives_the_same_table_as_the_local_pool(
    tmp_path: Path, reference: list[dict[str, Any]]
) -> None:
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'rnnc[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        outcome = run_sweep(load_study(_study(tmp_path)), engine="ray", progress=False)
    finally:
        ray.shutdown()
    assert outcome.rows is not None and outcome.computed == 16
    assert _deterministic(outcome.rows) == _deterministic(reference)


# ---- cache and resume ------------------------------------------------------------------------


def test_a_stopped_sweep_resumes_with_only_the_missing_points(
    tmp_path: Path, reference: list[dict[str, Any]]
) -> None:
    study = load_study(_study(tmp_path))
    cache = tmp_path / "cache"
    first = run_sweep(study, workers=1, cache_dir=cache, max_points=6, progress=False)
    assert (first.computed, first.cached, first.rows) == (6, 0, None)
    assert "10 still to compute" in first.summary()
    second = run_sweep(study, workers=1, cache_dir=cache, progress=False)
    assert (second.computed, second.cached) == (10, 6)
    assert second.rows is not None
    assert _deterministic(second.rows) == _deterministic(reference)
    third = run_sweep(study, workers=1, cache_dir=cache, progress=False)
    assert (third.computed, third.cached) == (0, 16)
    assert third.rows == second.rows  # compile seconds too: a cached point keeps its own


_INTERRUPTIBLE_RNNC = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from rnnc.driver.cli import main; sys.exit(main(sys.argv[1:]))"
)

#: Points that take about a second beside one that takes far longer: a simulated LSTM-2048
#: (about 20 s of CPU to compile and simulate; 107 s of wall time on a busy machine).
INTERRUPTED_STUDY = """\
models:
  - gen: {cell: gru, hidden: 8, steps: 2}
  - gen: {cell: lstm, hidden: 2048, steps: 25}
  - gen: {cell: rnn, hidden: 8, steps: 2}
architectures:
  - preset: plasticine-rnn
run: sim
"""


def test_ctrl_c_stops_running_points_at_once_and_keeps_the_finished(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the process group) in a real `rnnc sweep` on two workers once the
    small GRU is cached, while the LSTM-2048 runs: the sweep exits within seconds (it does
    not wait for the LSTM), says what it kept, writes no table, and a rerun finds what it
    kept."""
    study_path = _study(tmp_path, INTERRUPTED_STUDY)
    cache, output = tmp_path / "cache", tmp_path / "out.csv"
    # rnnc's entry point with Python's SIGINT handler installed even where this test runs
    # with SIGINT ignored (as a background job), which the child would inherit
    command = [sys.executable, "-c", _INTERRUPTIBLE_RNNC, "sweep", study_path,
               "-o", str(output), "--workers", "2", "--cache", str(cache)]
    # in a process group of its own, which gets the SIGINT as a terminal's Ctrl-C would
    # send it: to the sweep, its fork server and its workers
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while not list(cache.rglob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the sweep finished before it could be interrupted"
    os.killpg(process.pid, signal.SIGINT)
    sent = time.monotonic()
    _, stderr = process.communicate(timeout=120)
    assert time.monotonic() - sent < 5, stderr
    assert process.returncode == 130, stderr
    lines = stderr.splitlines()
    assert lines[0] == "rnnc sweep: computing 3 of 3 points (0 from the cache)"
    assert lines[1] == "[1/3] point 0 (gru-8-2, plasticine-rnn): ok"
    done = len(list(cache.rglob("*.json")))
    assert done in (1, 2)  # the small RNN may have finished too; never the LSTM
    assert lines[-2:] == [
        "rnnc sweep: interrupted; finished points are cached",
        f"rnnc sweep: 3 points: {done} computed, 0 from the cache, 0 not ok; {3 - done} still "
        "to compute: run the sweep again to resume",
    ]
    assert not output.exists()
    again = run_sweep(load_study(study_path), workers=1, cache_dir=cache, max_points=0,
                      progress=False)
    assert (again.computed, again.cached, again.rows) == (0, done, None)


def test_progress_lines_and_the_summary_of_points_not_ok(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Off a terminal: what is to be computed, a line per finished point with its status,
    then the summary and every point that is not ok with its reason."""
    # (the LSTM: at 24 PMUs its decomposed program does not fit, the GRU's now does)
    text = STUDY.replace("  - gen: {cell: gru, hidden: 32, steps: 2}\n", "").replace(
        "[192, 96]", "[192]")
    study, cache = _study(tmp_path, text), str(tmp_path / "cache")
    argv = ["sweep", study, "-o", str(tmp_path / "r.csv"), "--workers", "1", "--cache", cache]
    assert cli.main([*argv, "--max-points", "1"]) == 0
    capsys.readouterr()
    assert cli.main(argv) == 0
    failed = ("failed: loop-assign-resources: no design point of 'xw_i' and the other nests "
              "fits 192 PCUs and 24 PMUs")
    assert capsys.readouterr().err.splitlines() == [
        "rnnc sweep: computing 3 of 4 points (1 from the cache)",
        "[1/3] point 1 (lstm-64-4, plasticine-rnn pcu.count=192 pmu.count=24, decomposed): "
        "failed",
        "[2/3] point 2 (lstm-64-4, plasticine-rnn pcu.count=192 pmu.count=384, fused): ok",
        "[3/3] point 3 (lstm-64-4, plasticine-rnn pcu.count=192 pmu.count=384, decomposed): "
        "ok",
        "rnnc sweep: 4 points: 3 computed, 1 from the cache, 1 not ok",
        f"  point 1 (lstm-64-4, plasticine-rnn pcu.count=192 pmu.count=24, decomposed): {failed}",
    ]


def test_grid_values_the_layout_cannot_hold_are_refused_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Grid fields varied together with counts that do not agree with them: refused with
    the hint, before any point runs (nothing cached, no table)."""
    text = STUDY.replace("fit_grid: true", "fit_grid: false").replace(
        "pmu.count: [24, 384]", "grid.cols: [24, 12]")
    study, cache = _study(tmp_path, text), tmp_path / "cache"
    argv = ["sweep", study, "-o", str(tmp_path / "r.csv"), "--cache", str(cache)]
    assert cli.main(argv) == 1
    assert capsys.readouterr().err == (
        f"{study}: error: field 'architectures.0.grid': pcu.count=192, grid.cols=12 does not "
        "fit the grid's layout (field 'pcu.count': expected 96 (the PCU sites of the 24x12 "
        "grid tiled with [[\"pmu\", \"pcu\", \"pmu\"]]), got 192): vary the grid's fields and "
        "the unit counts together so that they agree, or vary only pcu.count and pmu.count "
        "with 'fit_grid: true'\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.yaml"]


def test_the_key_changes_with_what_the_result_depends_on(tmp_path: Path) -> None:
    points = load_study(_study(tmp_path)).points
    fingerprint = compiler_fingerprint()
    keys = {point_key(p, fingerprint) for p in points}
    assert len(keys) == len(points)
    assert point_key(points[0], fingerprint) != point_key(points[0], fingerprint + "x")
    relabelled = STUDY.replace("steps: 4}", "steps: 4}\n    label: small-lstm")
    again = load_study(_study(tmp_path, relabelled, "other.yaml")).points
    assert point_key(again[0], fingerprint) == point_key(points[0], fingerprint)  # label only


def test_a_damaged_cache_entry_is_computed_again(tmp_path: Path) -> None:
    text = STUDY.replace("  - gen: {cell: lstm, hidden: 64, steps: 4}\n", "")
    study = load_study(_study(tmp_path, text))
    cache = tmp_path / "cache"
    run_sweep(study, workers=1, cache_dir=cache, max_points=2, progress=False)
    entry = next(cache.rglob("*.json"))
    entry.write_text("{not json")
    assert ResultCache(cache).get(entry.stem) is None
    outcome = run_sweep(study, workers=1, cache_dir=cache, progress=False)
    assert (outcome.computed, outcome.cached) == (7, 1)


# ---- the command line ------------------------------------------------------------------------


def test_cli_writes_parquet_and_csv_and_a_repeat_is_free(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install 'rnnc[sweep]')")
    study, cache = _study(tmp_path), str(tmp_path / "cache")
    parquet, csv = tmp_path / "r.parquet", tmp_path / "r.csv"
    assert cli.main(["sweep", study, "-o", str(parquet), "--cache", cache, "--workers", "1"]) == 0
    assert "16 points: 16 computed, 0 from the cache, 2 not ok" in capsys.readouterr().err
    assert cli.main(["sweep", study, "-o", str(csv), "--cache", cache]) == 0
    assert "16 points: 0 computed, 16 from the cache" in capsys.readouterr().err
    assert table.read(str(parquet)) == table.read(str(csv))
    first = parquet.read_bytes()
    assert cli.main(["sweep", study, "-o", str(parquet), "--cache", cache]) == 0
    assert parquet.read_bytes() == first


def test_fit_grid_layouts() -> None:
    assert spread(1, 2) == ["pmu", "pcu", "pmu"]
    assert spread(1, 4) == ["pmu", "pmu", "pcu", "pmu", "pmu"]
    assert spread(2, 1) == ["pcu", "pmu", "pcu"]
    data = load_architecture("plasticine-rnn").to_dict()
    data["pcu"]["count"], data["pmu"]["count"] = 96, 768
    assert fit_grid(data) is None
    assert data["grid"] == {"rows": 24, "cols": 36, "tile": [spread(1, 8)]}


# ---- the config and sim levels ----------------------------------------------------------------

LEVEL_STUDY = """\
models:
  - gen: {cell: lstm, hidden: 16, steps: 4}
architectures:
  - preset: plasticine-rnn
chips: [1, 2]
run: LEVEL
"""


@pytest.fixture(scope="module")
def cli_config(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same model through `rnnc gen`, `rnnc model.mlir -o config.json` and `rnnc sim`:
    the config and the timing report."""
    folder = tmp_path_factory.mktemp("cli")
    model, config, report = folder / "m.mlir", folder / "m.json", folder / "report.json"
    assert cli.main(["gen", "lstm", "16", "4", "-o", str(model)]) == 0
    assert cli.main([str(model), "-o", str(config)]) == 0
    assert cli.main(["sim", str(config), "--inputs", str(folder / "m.inputs.npz"), "-o",
                     str(folder / "out.npz"), "--report", str(report)]) == 0
    return json.loads(config.read_text()), json.loads(report.read_text())


def _level_rows(tmp_path: Path, level: str) -> list[dict[str, Any]]:
    study = load_study(_study(tmp_path, LEVEL_STUDY.replace("LEVEL", level)))
    outcome = run_sweep(study, workers=1, progress=False)
    assert outcome.rows is not None and len(outcome.rows) == 2
    return outcome.rows


def test_config_level_rows_are_the_config_rnnc_writes(
    tmp_path: Path, cli_config: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    config, _ = cli_config
    one_chip, two_chips = _level_rows(tmp_path, "config")
    units = [unit["kind"] for unit in config["chips"][0]["units"]]
    assert one_chip["status"] == "ok" and one_chip["reason"] is None
    assert (one_chip["pcus"], one_chip["pmus"]) == (units.count("pcu"), units.count("pmu"))
    hu, ru, rv = one_chip["design"].split("/")  # one fused nest in the time loop
    assert f"design hu={hu} ru={ru} rv={rv};" in summary_line("m.json", config)
    assert one_chip["total_cycles"] == config["predicted"]["total_cycles"]
    assert one_chip["predicted_latency_ms"] == config["predicted"]["latency_ms"]
    assert one_chip["simulated_cycles"] is None
    # two chips: the first chip's units, the chips' prediction with the exchange
    assert two_chips["status"] == "ok" and two_chips["chips_used"] == 2
    assert two_chips["total_cycles"] > one_chip["total_cycles"]


def test_sim_level_rows_are_the_cycles_rnnc_sim_measures(
    tmp_path: Path, cli_config: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    config, report = cli_config
    one_chip, two_chips = _level_rows(tmp_path, "sim")
    assert one_chip["status"] == "ok"
    assert one_chip["total_cycles"] == config["predicted"]["total_cycles"]
    # timing does not depend on the values: the sweep's random inputs, gen's inputs agree
    assert one_chip["simulated_cycles"] == report["total_cycles"]
    assert one_chip["simulated_latency_ms"] == report["latency_ms"]
    assert two_chips["status"] == "ok" and two_chips["simulated_cycles"] > 0
