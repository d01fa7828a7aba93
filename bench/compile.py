"""Compile time of each DeepBench task to config.json, against a reference build.

    python bench/compile.py [--reference DIR] [--repeats N] [--tasks lstm-512-25,...] [--cpu]

Runs `rnnc examples/deepbench/TASK.mlir -o config.json` (the whole default pipeline: the
search with its routability retries, partition, place, route, verify, emit) in a fresh
process per run, and reports the best of `--repeats` wall-clock seconds per task (with
`--cpu`, the CPU seconds, user and system, of the process: what a loaded machine measures
best). With `--reference DIR` (another checkout of rnnc with its own `.venv`, e.g. a `git
worktree` of an older commit) the same tasks are compiled by that checkout's `rnnc`,
taking turns with this one, and the table gives the ratio. Each task's model and weights
are generated once into a scratch folder (`rnnc gen CELL HIDDEN STEPS`: the shipped
examples' shapes and random weights) and shared by both builds. Also prints the line
counts of the largest source files of both trees.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("compiler", "dialects", "passes")


def rnnc_of(tree: Path) -> Path:
    """The `rnnc` command installed in a checkout's own virtual environment."""
    command = tree / ".venv" / "bin" / "rnnc"
    if not command.exists():
        sys.exit(f"bench/compile.py: {command} does not exist (make the checkout's .venv)")
    return command


def tasks_of(names: str | None) -> list[str]:
    """The tasks named, or every shipped DeepBench model."""
    shipped = sorted(p.stem for p in (ROOT / "examples" / "deepbench").glob("*.mlir"))
    if not names:
        return shipped
    chosen = names.split(",")
    unknown = sorted(set(chosen) - set(shipped))
    if unknown:
        sys.exit(f"bench/compile.py: unknown tasks {', '.join(unknown)}")
    return chosen


def generated_model(rnnc: Path, task: str, folder: Path) -> Path:
    """`task` (e.g. `lstm-512-25`) generated with random weights into `folder`."""
    cell, hidden, steps = task.split("-")
    model = folder / f"{task}.mlir"
    subprocess.run([str(rnnc), "gen", cell, hidden, steps, "-o", str(model)], check=True)
    return model


def seconds_to_compile(rnnc: Path, model: Path, out: Path, cpu: bool = False) -> float:
    """Seconds of one `rnnc model -o out` in a fresh process: wall-clock, or with `cpu` the
    process's user and system CPU time."""
    start, used = time.perf_counter(), _children_cpu()
    result = subprocess.run([str(rnnc), str(model), "-o", str(out)], capture_output=True,
                            text=True, check=False)
    elapsed = _children_cpu() - used if cpu else time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"bench/compile.py: {rnnc} {model} failed:\n{result.stderr}")
    return elapsed


def _children_cpu() -> float:
    """CPU seconds (user and system) of this process's finished children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def largest_files(tree: Path, count: int) -> list[tuple[str, int]]:
    """The `count` longest Python files of the package, with their line counts."""
    sizes = [
        (str(path.relative_to(tree)), len(path.read_text().splitlines()))
        for folder in SOURCES
        for path in (tree / folder).rglob("*.py")
    ]
    return sorted(sizes, key=lambda item: (-item[1], item[0]))[:count]


def compile_table(tasks: list[str], trees: dict[str, Path], repeats: int,
                  cpu: bool = False) -> Table:
    clock = "CPU seconds" if cpu else "seconds"
    table = Table(title=f"{clock} to config.json (best of {repeats})")
    table.add_column("task")
    for label in trees:
        table.add_column(label, justify="right")
    if len(trees) == 2:
        table.add_column("ratio", justify="right")
    with tempfile.TemporaryDirectory() as scratch:
        for task in tasks:
            model = generated_model(rnnc_of(ROOT), task, Path(scratch))
            best = {label: float("inf") for label in trees}
            for _ in range(repeats):
                for label, tree in trees.items():  # the builds take turns
                    out = Path(scratch) / f"{label}-{task}.json"
                    best[label] = min(best[label],
                                      seconds_to_compile(rnnc_of(tree), model, out, cpu))
            cells = [f"{best[label]:.2f}" for label in trees]
            if len(trees) == 2:
                this, reference = best.values()
                cells.append(f"{this / reference:.2f}x")
            table.add_row(task, *cells)
    return table


def lines_table(trees: dict[str, Path], count: int) -> Table:
    table = Table(title="largest source files (lines)")
    for label in trees:
        table.add_column(label)
        table.add_column("lines", justify="right")
    columns = [largest_files(tree, count) for tree in trees.values()]
    for row in zip(*columns, strict=True):
        table.add_row(*(cell for name, lines in row for cell in (name, str(lines))))
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", type=Path, help="another checkout with its own .venv")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tasks", help="comma-separated task names (default: all shipped)")
    parser.add_argument("--largest", type=int, default=6, help="how many files to list")
    parser.add_argument("--cpu", action="store_true",
                        help="CPU seconds (user + system) of each compile, not wall-clock")
    args = parser.parse_args(argv)
    trees = {"this": ROOT}
    if args.reference:
        trees["reference"] = args.reference.resolve()
    console = Console()
    console.print(compile_table(tasks_of(args.tasks), trees, args.repeats, args.cpu))
    console.print(lines_table(trees, args.largest))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
