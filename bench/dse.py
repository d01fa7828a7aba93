"""How long the design-space search takes, pruned against the exhaustive box.

    python bench/dse.py [--arch NAME|FILE] [--repeats N] [--no-exhaustive]

For each of the paper's 11 DeepBench tasks: the pruned search of the fused cell (median
wall time of N runs, points evaluated), the exhaustive enumeration of the whole box
(hu in [1, H], ru in [1, PCUs], rv in [1, lanes x packing]; one run), whether both find
the same optimum, the speed ratio, and the search of the decomposed (13-14 nest)
program, whose dynamic program over (PCU, PMU) budgets dominates its time. Every search
includes the two extra searches (doubled PCUs, doubled PMUs) that explain its bound.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rnnc.target.arch import DEFAULT_ARCHITECTURE, load_architecture
from rnnc.target.dse import SearchResult, search

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from paper_data import paper_tasks


def timed(run: Callable[[], SearchResult], repeats: int) -> tuple[float, SearchResult]:
    """Median seconds of `repeats` runs, and the (deterministic) result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", default=DEFAULT_ARCHITECTURE, help="preset name or file")
    parser.add_argument("--repeats", type=int, default=5, help="runs per timed search")
    parser.add_argument("--no-exhaustive", action="store_true", help="skip the full box")
    args = parser.parse_args(argv)
    arch = load_architecture(args.arch)
    table = Table(title=f"Design-space search wall time ({arch.name})")
    for column in ("task", "pruned ms", "pruned points", "exhaustive ms", "exhaustive points",
                   "same optimum", "speed ratio", "decomposed ms", "decomposed points"):
        table.add_column(column, justify="left" if column == "task" else "right")
    totals = {"pruned": 0.0, "exhaustive": 0.0, "decomposed": 0.0}
    for task in paper_tasks():
        program = task.fused()
        pruned_s, pruned = timed(lambda p=program: search(p, arch), args.repeats)
        decomposed_s, decomposed = timed(
            lambda t=task: search(t.decomposed(), arch), max(1, args.repeats // 2)
        )
        totals["pruned"] += pruned_s
        totals["decomposed"] += decomposed_s
        if args.no_exhaustive:
            full_cells = ["-", "-", "-", "-"]
        else:
            full_s, full = timed(lambda p=program: search(p, arch, strategy="exhaustive"), 1)
            totals["exhaustive"] += full_s
            full_cells = [
                f"{full_s * 1e3:.0f}",
                f"{full.evaluated:,}",
                "yes" if full.cost.cycles_per_step == pruned.cost.cycles_per_step else "NO",
                f"{full_s / pruned_s:.0f}x",
            ]
        table.add_row(
            task.label, f"{pruned_s * 1e3:.1f}", f"{pruned.evaluated:,}", *full_cells,
            f"{decomposed_s * 1e3:.0f}", f"{decomposed.evaluated:,}",
        )
    table.add_row(
        "all 11", f"{totals['pruned'] * 1e3:.0f}", "",
        "-" if args.no_exhaustive else f"{totals['exhaustive'] * 1e3:.0f}", "", "",
        "" if args.no_exhaustive else f"{totals['exhaustive'] / totals['pruned']:.0f}x",
        f"{totals['decomposed'] * 1e3:.0f}", "", end_section=True,
    )
    Console(width=200).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
