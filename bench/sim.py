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
default precision (mixed) and at fp32, against plain numpy computing the same LSTM in fp32
and in the mixed-precision arithmetic, in the same run, median of N runs taken in turns.
Target: <= 10x plain numpy.

Every row runs on one BLAS thread (OPENBLAS_NUM_THREADS=1 etc. unless set): with two
threads plain numpy's one large matrix product swings from 1.3 ms to 100 ms when another
process holds the second core, which makes a ratio against it meaningless.
"""

from __future__ import annotations

import os

# before numpy loads its BLAS
os.environ["OPENBLAS_NUM_THREADS"] = os.environ.get("OPENBLAS_NUM_THREADS", "1")
os.environ["OMP_NUM_THREADS"] = os.environ.get("OMP_NUM_THREADS", "1")
os.environ["MKL_NUM_THREADS"] = os.environ.get("MKL_NUM_THREADS", "1")

import argparse
import sys
import tempfile
import time
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
from interp import median_seconds, plain_numpy, plain_numpy_mixed
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
    task = deepbench.Task("lstm", 512, 25)
    runners = {
        "plain numpy (fp32)": plain_numpy(task, weights, inputs["X"]),
        "plain numpy (mixed arithmetic)": plain_numpy_mixed(task, weights, inputs["X"]),
    }
    arithmetic = dict.fromkeys(runners)
    with tempfile.TemporaryDirectory() as tmp:
        for options in ([], ["--precision", "fp32"]):
            config = Path(tmp) / f"lstm{len(options)}.json"
            if rnnc([f"{EXAMPLE}.mlir", *options, "-o", str(config)]):
                raise SystemExit("rnnc could not compile the example")
            loaded = load_config(config)
            spec = loaded.data["precision"]["spec"]
            name = f"rnnc sim (config, {spec}{', default' if not options else ''})"
            sim = partial(machine_values, machine_of(loaded.data), loaded.weights, inputs, spec)
            runners[name] = lambda sim=sim: sim()["Y_h"]
            arithmetic[name] = "plain numpy (fp32)" if options else "plain numpy (mixed arithmetic)"
        seconds = median_seconds(runners, repeats)
    reference = runners["plain numpy (fp32)"]()
    table = Table(title=f"rnnc sim values on lstm-512-25, median of {repeats} (taking turns)")
    for column in ("implementation", "seconds", "x numpy", "x same arithmetic",
                   "max |Y_h - numpy|"):
        table.add_column(column, justify="right")
    for name, run in runners.items():
        same = arithmetic[name]
        table.add_row(
            name, f"{seconds[name]:.4f}", f"{seconds[name] / seconds['plain numpy (fp32)']:.1f}",
            f"{seconds[name] / seconds[same]:.1f}" if same else "",
            f"{float(np.max(np.abs(run() - reference))):.2e}",
        )
    table.caption = ("target <= 10x numpy; 'same arithmetic': against plain numpy computing in "
                     "the config's precision")
    return table


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
