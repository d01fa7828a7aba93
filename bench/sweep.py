"""Throughput of `rnnc sweep`: points per second on a study, per engine and worker count.

    python bench/sweep.py [--study examples/studies/deepbench-chips.yaml] [--first N]
                          [--engines local,ray] [--workers 1,2]

Every run computes every point (no cache); the time includes the engine's start-up (the
process pool's fork server, or a local Ray instance with that many CPUs) as a user sees
it. A last row repeats the sweep from a warm cache. Each table is checked against the
first run's on every column but compile seconds, so the figures are of identical work.
`--first N` times the first N points only (a quicker look). The run level is the study's:
search only, until the spatial level and config.json exist.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rnnc.driver.sweep import Outcome, load_study, run_sweep, table

SHIPPED = Path(__file__).resolve().parents[1] / "examples" / "studies" / "deepbench-chips.yaml"


def _timed(**kwargs: object) -> tuple[Outcome, float]:
    start = time.perf_counter()
    outcome = run_sweep(progress=False, **kwargs)  # type: ignore[arg-type]
    return outcome, time.perf_counter() - start


def _same(first: Outcome, other: Outcome) -> str:
    assert first.rows is not None and other.rows is not None
    keep = table.deterministic_columns(list(first.columns))
    equal = [{c: r[c] for c in keep} for r in first.rows] == [
        {c: r[c] for c in keep} for r in other.rows
    ]
    return "yes" if equal else "NO"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--study", default=str(SHIPPED))
    parser.add_argument("--first", type=int, metavar="N", help="only the first N points")
    parser.add_argument("--engines", default="local,ray")
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args(argv)
    study = load_study(args.study)
    if args.first:
        study = replace(study, points=study.points[: args.first])
    engines = args.engines.split(",")
    worker_counts = [int(w) for w in args.workers.split(",")]

    result = Table(title=f"rnnc sweep {Path(args.study).name}: {len(study.points)} points, "
                   f"run level {study.points[0].run}, {os.cpu_count()} cores, load average "
                   f"{os.getloadavg()[0]:.1f} at start")
    for column in ("engine", "workers", "points", "seconds", "points/s", "not ok",
                   "same table as the first run"):
        result.add_column(column, justify="left" if column == "engine" else "right")
    first: Outcome | None = None
    for engine in engines:
        for workers in worker_counts:
            outcome, seconds = _timed(study=study, engine=engine, workers=workers)
            first = first or outcome
            result.add_row(engine, str(workers), str(outcome.computed), f"{seconds:.1f}",
                           f"{outcome.computed / seconds:.2f}", str(outcome.not_ok),
                           _same(first, outcome))
    with tempfile.TemporaryDirectory() as cache:
        run_sweep(study, workers=max(worker_counts), cache_dir=Path(cache), progress=False)
        outcome, seconds = _timed(study=study, workers=max(worker_counts), cache_dir=Path(cache))
    assert first is not None
    result.add_row("local, warm cache", str(max(worker_counts)), f"{outcome.cached} cached",
                   f"{seconds:.2f}", f"{outcome.cached / seconds:.0f}", str(outcome.not_ok),
                   _same(first, outcome))
    Console(width=150).print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
