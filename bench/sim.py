"""How fast `rnnc sim` runs: its timing model on the 11 DeepBench tasks, and its values on
LSTM-512 T=25 against plain numpy.

    python bench/sim.py [--tasks N] [--repeats N]

Table 1, per task at the design the search chooses: the steps of the time loop, how many
the timing engine simulated before the machine's state at a step boundary repeated (the
rest are extrapolated), the simulated cycles and latency, and the seconds the timing
simulation took (compiling to a routed design is not counted; its time is printed beside).
Target: all 11 tasks in <= 60 s on a 2-core machine.

Table 2: the functional simulation of lstm-512-25's configuration (`rnnc sim`'s values:
every unit's configured ops on the machine rebuilt from config.json), compiled at the
default precision (mixed) and at fp32, against plain numpy computing the same LSTM, in the
same run, median of N runs. Target: <= 10x.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from rnnc.backend.load import load_config, machine_of
from rnnc.driver.cli import main as rnnc
from rnnc.driver.design_points import compile_at
from rnnc.driver.io import load_npz
from rnnc.frontends import deepbench
from rnnc.simulator.run import machine_time, machine_values
from rnnc.target.arch import DEFAULT_ARCHITECTURE, load_architecture

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from interp import plain_numpy
from paper_data import paper_tasks

EXAMPLE = Path(__file__).parents[1] / "examples" / "deepbench" / "lstm-512-25"


def timing_table(limit: int) -> Table:
    arch = load_architecture(DEFAULT_ARCHITECTURE)
    table = Table(title="rnnc sim: timing simulation per DeepBench task (chosen design)")
    for column in ("task", "design", "units", "steps", "simulated", "extrapolated",
                   "cycles", "latency ms", "sim s", "compile s"):
        table.add_column(column, justify="right")
    total = 0.0
    for task in paper_tasks()[:limit]:
        text, _, _ = deepbench.generate(
            deepbench.Task(task.cell, task.hidden, task.steps), "weights.npz", 0
        )
        start = time.perf_counter()
        compiled = compile_at(text, arch, DEFAULT_ARCHITECTURE, None)
        compile_seconds = time.perf_counter() - start
        start = time.perf_counter()
        timed = machine_time(compiled.machine, arch)
        seconds = time.perf_counter() - start
        total += seconds
        cycles = sum(r.total_cycles for _, r in timed)
        loops = [r for g, r in timed if g.phase.kind == "loop"]
        f = compiled.cost.nests[0].factors
        kinds = [u.kind for u in compiled.machine.units]
        table.add_row(
            task.label, f"{f.hu}/{f.ru}/{f.rv}",
            f"{kinds.count('pcu')}+{kinds.count('pmu')}+{kinds.count('ag')}",
            str(task.steps), str(sum(r.simulated_steps for r in loops)),
            str(sum(r.extrapolated_steps for r in loops)), f"{cycles:.0f}",
            f"{cycles / (arch.clock_ghz * 1e6):.4f}", f"{seconds:.2f}", f"{compile_seconds:.1f}",
        )
    table.caption = f"timing simulation of all tasks: {total:.1f} s (target <= 60 s)"
    return table


def values_table(repeats: int) -> Table:
    inputs = load_npz(f"{EXAMPLE}.inputs.npz")
    weights = load_npz(f"{EXAMPLE}.npz")
    numpy_run = plain_numpy(deepbench.Task("lstm", 512, 25), weights, inputs["X"])
    numpy_seconds = _median(numpy_run, repeats)
    table = Table(title=f"rnnc sim values on lstm-512-25, median of {repeats}")
    for column in ("implementation", "seconds", "x numpy", "max |Y_h - numpy|"):
        table.add_column(column, justify="right")
    table.add_row("plain numpy (fp32)", f"{numpy_seconds:.4f}", "1.0", "")
    for options in ([], ["--precision", "fp32"]):
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "lstm.json"
            if rnnc([f"{EXAMPLE}.mlir", *options, "-o", str(config)]):
                raise SystemExit("rnnc could not compile the example")
            loaded = load_config(config)
            spec = loaded.data["precision"]["spec"]
            sim = partial(machine_values, machine_of(loaded.data), loaded.weights, inputs, spec)
            seconds = _median(sim, repeats)
            error = float(np.max(np.abs(sim()["Y_h"] - numpy_run())))
        table.add_row(f"rnnc sim (config, {spec}{', default' if not options else ''})",
                      f"{seconds:.4f}", f"{seconds / numpy_seconds:.1f}", f"{error:.2e}")
    table.caption = "target <= 10x (the default precision's row)"
    return table


def _median(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=11, help="first N DeepBench tasks")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    console = Console(width=160)
    console.print(timing_table(args.tasks))
    console.print(values_table(args.repeats))


if __name__ == "__main__":
    main()
