"""`rnnc sweep`: design-space studies over models x architectures.

    rnnc sweep STUDY.yaml -o results.parquet|results.csv [--engine local|ray] [--workers N]

`study` reads and expands the study file into points, `job` compiles one point, `cache`
keeps each point's result under the hash of what it depends on, `engines` runs the points
that are not cached yet (a local process pool, or Ray tasks) and `table` writes one row per
point in the study's order. `run_sweep` ties them together.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rnnc.driver.sweep import engines, table
from rnnc.driver.sweep.cache import ResultCache, compiler_fingerprint, point_key
from rnnc.driver.sweep.job import CACHEABLE, ERROR, OK
from rnnc.driver.sweep.study import Point, Study, StudyError, load_study


@dataclass(frozen=True)
class Outcome:
    """What a sweep did: its rows (None when it stopped before every point had a result),
    how many points it computed or found in the cache, and the points that have a result
    other than ok (in the study's order)."""

    rows: list[dict[str, Any]] | None
    columns: dict[str, type]
    total: int
    computed: int
    cached: int
    failures: tuple[tuple[Point, dict[str, Any]], ...]
    interrupted: bool = False

    @property
    def not_ok(self) -> int:
        return len(self.failures)

    @property
    def errors(self) -> int:
        return sum(result["status"] == ERROR for _, result in self.failures)

    def summary(self) -> str:
        missing = self.total - self.computed - self.cached
        text = (f"{self.total} points: {self.computed} computed, {self.cached} from the cache, "
                f"{self.not_ok} not ok")
        if self.errors:
            text += f" ({self.errors} internal errors, not cached)"
        if missing:
            text += f"; {missing} still to compute: run the sweep again to resume"
        return text

    def failure_lines(self, study: Study) -> list[str]:
        """One line per point that is not ok: the point, its status and its reason."""
        return [f"{study.describe(point)}: {result['status']}: {result['reason']}"
                for point, result in self.failures]


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
    has one. Identical rows (but for compile seconds) whatever `engine` and `workers`.

    With `progress`, a bar on a terminal, else one line per finished point on stderr.
    An interruption (Ctrl-C) stops the running points at once; the outcome then counts the
    points that finished (all of them cached) and says it was interrupted."""
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
    interrupted = False

    with _progress(study, len(todo), cached, progress) as advance:

        def on_result(point: Point, result: dict[str, Any]) -> None:
            if result["status"] in CACHEABLE:
                results_cache.put(keys[point.index], result)
            results[point.index] = result
            advance(point, result)

        try:
            if todo and engine == "ray":
                engines.run_ray(todo, workers, address, on_result)
            elif todo:
                engines.run_local(todo, workers, on_result)
        except KeyboardInterrupt:
            interrupted = True

    cols = table.columns(study)
    complete = len(results) == len(study.points)
    rows = [table.row(p, results[p.index], cols) for p in study.points] if complete else None
    failures = tuple((point, results[point.index]) for point in study.points
                     if point.index in results and results[point.index]["status"] != OK)
    return Outcome(rows, cols, len(study.points), len(results) - cached, cached, failures,
                   interrupted)


Advance = Callable[[Point, dict[str, Any]], None]


@contextmanager
def _progress(study: Study, total: int, cached: int, wanted: bool) -> Iterator[Advance]:
    """What reports each finished point on stderr: a progress bar on an interactive
    terminal; elsewhere (a pipe, a log) a line saying what is to be done and one plain line
    per finished point with its status, with nothing measured in them (a log of one worker
    is the same bytes each time)."""
    console = Console(stderr=True)
    if not (wanted and total):
        yield lambda point, result: None
    elif console.is_terminal:
        columns = ("{task.description}", BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("compiling points", total=total)
            yield lambda point, result: bar.advance(task)
    else:
        _line(f"rnnc sweep: computing {total} of {len(study.points)} points ({cached} from "
              "the cache)")
        finished = 0
        width = len(str(total))

        def advance(point: Point, result: dict[str, Any]) -> None:
            nonlocal finished
            finished += 1
            _line(f"[{finished:>{width}}/{total}] {study.describe(point)}: {result['status']}")

        yield advance


def _line(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


__all__ = ["Outcome", "Study", "StudyError", "load_study", "run_sweep"]
