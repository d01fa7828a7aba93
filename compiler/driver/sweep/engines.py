"""Where the points of a sweep run: a local process pool, or Ray tasks.

Both engines run the same function (`job.run_point`) on the same points and hand each
result back to the sweep as it arrives (`on_result`), in whatever order the points
finish; the sweep orders the table itself. Neither schedules anything of its own: the
pool is the standard library's `ProcessPoolExecutor`, and on Ray each point is one task
(`num_cpus=1`) left to Ray's scheduler, on a local instance or an existing cluster.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from rnnc.diagnostics import Diagnostic
from rnnc.driver.sweep.job import run_point
from rnnc.driver.sweep.study import Point

ENGINES = ("local", "ray")

OnResult = Callable[[Point, dict[str, Any]], None]


def run_local(points: Sequence[Point], workers: int, on_result: OnResult) -> None:
    """A pool of `workers` processes. They start from a fork server that has imported the
    compiler once (so each worker starts warm, and no thread of the parent, such as the
    progress bar's, is forked). One worker is this process itself: no pool to start.

    An interruption (Ctrl-C) stops the running points at once: the workers ignore SIGINT
    (a terminal sends it to them too, and a worker must not die half-way through handing
    back a result) and this process terminates them; the points finished before it have
    been handed to `on_result` already."""
    if workers == 1:
        for point in points:
            on_result(point, run_point(point))
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["rnnc.driver.sweep.job"])
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=_ignore_interrupts)
    try:
        pending = {pool.submit(run_point, point): point for point in points}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                on_result(pending.pop(future), future.result())
    except BaseException:
        _terminate(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop every worker of `pool` now, whatever it is computing. The executor has no
    public way to do this before Python 3.14 (`terminate_workers`): its `_processes`."""
    for process in list((pool._processes or {}).values()):
        process.terminate()


def run_ray(
    points: Sequence[Point], workers: int, address: str | None, on_result: OnResult
) -> None:
    """One Ray task per point. Joins the running Ray session if there is one, else the
    cluster at `address`, else starts a local instance with `workers` CPUs (and stops
    whatever it started)."""
    ray = _import_ray()
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(
                address=address,
                num_cpus=None if address else workers,
                include_dashboard=False,
                logging_level=logging.ERROR,
                log_to_driver=False,
            )
        except (ConnectionError, RuntimeError, ValueError) as error:
            where = "--address" if address else "--engine ray"
            raise Diagnostic(where, f"cannot start or reach Ray: {error}") from None
    pending: dict[Any, Point] = {}
    try:
        task = ray.remote(num_cpus=1, max_retries=0)(run_point)
        pending.update((task.remote(point), point) for point in points)
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                on_result(pending.pop(ref), ray.get(ref))
    finally:
        for ref in pending:  # interrupted: drop the points not finished
            ray.cancel(ref, force=True)
        if started:
            ray.shutdown()


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise Diagnostic(
            "--engine ray", "Ray is not installed (pip install 'rnnc[ray]')"
        ) from None
    return ray


__all__ = ["ENGINES", "run_local", "run_ray"]
