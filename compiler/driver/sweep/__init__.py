"""`rnnc sweep`: design-space studies over models x architectures.

    rnnc sweep STUDY.yaml -o results.parquet|results.csv [--engine local|ray] [--workers N]

`study` reads and expands the study file into points, `job` compiles one point, `cache`
keeps each point's result under the hash of what it depends on, `engines` runs the points
that are not cached yet (a local process pool, or Ray tasks) and `table` writes one row per
point in the study's order. `run_sweep` ties them together.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rnnc.driver.sweep import engines, table
from rnnc.driver.sweep.cache import ResultCache, compiler_fingerprint, point_key
from rnnc.driver.sweep.job import CACHEABLE, ERROR
from rnnc.driver.sweep.study import Point, Study, StudyError, load_study


@dataclass(frozen=True)
class Outcome:
    """What a sweep did: its rows (None when it stopped before every point had a result)
    and how many points it computed, found in the cache, or could not compile."""

    rows: list[dict[str, Any]] | None
    columns: dict[str, type]
    total: int
    computed: int
    cached: int
    not_ok: int
    errors: int

    def summary(self) -> str:
        missing = self.total - self.computed - self.cached
        text = (f"{self.total} points: {self.computed} computed, {self.cached} from the cache, "
                f"{self.not_ok} not ok")
        if self.errors:
            text += f" ({self.errors} internal errors, not cached)"
        if missing:
            text += f"; {missing} still to compute: run the sweep again to resume"
        return text


def run_sweep(
    study: Study,
    *,
    engine: str = "local",
    workers: int | None = None,
    address: str | None = None,
    cache_dir: Path | None = None,
    max_points: int | None = None,
    progress: bool = True,
) -> Outcome:
    """Compute the study's points that the cache does not hold (at most `max_points` of
    them), cache each result as it arrives, and return the table's rows once every point
    has one. Identical rows (but for compile seconds) whatever `engine` and `workers`."""
    workers = workers or os.cpu_count() or 1
    fingerprint = compiler_fingerprint()
    results_cache = ResultCache(cache_dir)
    keys = {point.index: point_key(point, fingerprint) for point in study.points}
    results: dict[int, dict[str, Any]] = {}
    for point in study.points:
        hit = results_cache.get(keys[point.index])
        if hit is not None:
            results[point.index] = hit
    cached = len(results)
    todo = [point for point in study.points if point.index not in results]
    if max_points is not None:
        todo = todo[:max_points]
    errors = 0

    with _progress_bar(len(todo), progress) as advance:

        def on_result(point: Point, result: dict[str, Any]) -> None:
            nonlocal errors
            if result["status"] in CACHEABLE:
                results_cache.put(keys[point.index], result)
            errors += result["status"] == ERROR
            results[point.index] = result
            advance()

        if todo and engine == "ray":
            engines.run_ray(todo, workers, address, on_result)
        elif todo:
            engines.run_local(todo, workers, on_result)

    cols = table.columns(study)
    complete = len(results) == len(study.points)
    rows = [table.row(p, results[p.index], cols) for p in study.points] if complete else None
    not_ok = sum(result["status"] != "ok" for result in results.values())
    return Outcome(rows, cols, len(study.points), len(results) - cached, cached, not_ok, errors)


@contextmanager
def _progress_bar(total: int, wanted: bool) -> Iterator[Any]:
    """A progress bar on stderr, only on an interactive terminal (never in a pipe or a
    log, which stay byte-for-byte reproducible)."""
    console = Console(stderr=True)
    if not (wanted and console.is_terminal and total):
        yield lambda: None
        return
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("compiling points", total=total)
        yield lambda: bar.advance(task)


__all__ = ["Outcome", "Study", "StudyError", "load_study", "run_sweep"]
