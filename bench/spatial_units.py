"""What `spatial-partition` builds for the 11 DeepBench tasks at the points the search chose.

    python bench/spatial_units.py [--decomposed] [--batch-rows]

One row per task (examples/deepbench/*.mlir, fused; `--decomposed`: the BLAS-style
program): the chosen factors of the time loop's nest(s), PCUs by role (map-reduce,
combining, element-wise, gather), PMUs by what they hold (weight slices resident, weight
slices streamed from DRAM through FIFO PMUs, operand [x, h] ranges, element-wise units'
own, lookup tables), address generators, streams, the weight bytes streamed per step and
the model's predicted latency, and whether the cost model's unit counts equal the
partition's (they must). `--batch-rows` adds the DeepBench inference rows with batch 2
and 4 (`rnnc gen --csv-row N`).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rnnc.analysis.access import time_loops
from rnnc.driver import pipeline
from rnnc.frontends import deepbench
from rnnc.passes.spatial_partition import partition
from rnnc.target.arch import load_architecture
from rnnc.target.machine import PCU, PMU, Machine

EXAMPLES = Path(__file__).parents[1] / "examples" / "deepbench"
#: DeepBench inference rows with batch 2 and 4 (LSTM 512, 1024, 1536, 256; GRU 2816/750).
BATCH_ROWS = (2, 3, 5, 6, 11, 12, 14, 15, 21, 25)
ARCH = load_architecture("plasticine-rnn")


def compile_loop(text: str, decomposed: bool):
    ctx = pipeline.make_context()
    module, _ = pipeline.parse_module(ctx, text, "<task>")
    passes = "rnn-decompose," + ("" if decomposed else "loop-fuse,") + "loop-assign-resources"
    spec = pipeline.build_pipeline(passes, pipeline.available_passes())
    pipeline.run_pipeline(ctx, module, spec, "<task>")
    return module


def census(machine: Machine) -> Counter:
    feeds = {s.source.unit: s.sinks[0].unit for s in machine.streams if s.source.port == "vo0"}
    roles = {u.id: u.role for u in machine.units if isinstance(u, PCU)}
    counts: Counter = Counter()
    for unit in machine.units:
        if isinstance(unit, PCU):
            counts[unit.role] += 1
        elif isinstance(unit, PMU):
            reader = roles.get(feeds.get(unit.id, ""), "")
            if unit.lut:
                counts["lut"] += 1
            elif unit.banking == "fifo":
                counts["streamed"] += 1
            elif reader == "map_reduce" and unit.holds:
                counts["weights"] += 1
            elif reader == "map_reduce":
                counts["operand"] += 1
            else:
                counts["own"] += 1
        else:
            counts["ag"] += 1
    counts["streams"] = len(machine.streams)
    return counts


def row(name: str, text: str, decomposed: bool) -> list[str]:
    start = time.perf_counter()
    module = compile_loop(text, decomposed)
    machine = partition(module, ARCH)
    seconds = time.perf_counter() - start
    c = census(machine)
    costs = [loop_.attributes["loop.cost"].data for loop_ in time_loops(module)]
    pcus = sum(v["pcus"].value.data for v in costs)
    pmus = sum(v["pmus"].value.data for v in costs)
    streamed = sum(v["streamed_bytes_per_step"].value.data for v in costs)
    latency = sum(v["latency_ms"].value.data for v in costs)
    point = " ".join(
        f"{d.hu}/{d.ru}/{d.rv}" for d in machine.design if d.hu > 1 or d.ru > 1
    ) or "1/1/1"
    built_pcus = sum(c[r] for r in ("map_reduce", "combine", "elementwise", "gather"))
    built_pmus = sum(c[k] for k in ("weights", "streamed", "operand", "own", "lut"))
    return [
        name, point if len(point) < 24 else point[:21] + "...",
        str(c["map_reduce"]), str(c["combine"]), str(c["elementwise"]), str(c["gather"]),
        str(built_pcus), str(c["weights"]), str(c["streamed"]), str(c["operand"]),
        str(c["own"]), str(c["lut"]), str(built_pmus), str(c["ag"]), str(c["streams"]),
        f"{streamed / 2**20:.2f}", f"{latency:.4f}", f"{pcus}/{pmus}", f"{seconds:.1f}",
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decomposed", action="store_true")
    parser.add_argument("--batch-rows", action="store_true")
    args = parser.parse_args()
    table = Table(title="spatial-partition on DeepBench (plasticine-rnn, mixed)")
    for column in ("task", "hu/ru/rv", "MR", "comb", "ew", "gath", "PCUs", "W PMUs",
                   "W FIFO", "opnd", "own", "LUT", "PMUs", "AGs", "streams",
                   "MiB/step DRAM", "model ms", "cost PCUs/PMUs", "s"):  # fmt: skip
        table.add_column(column, justify="right")
    for path in sorted(EXAMPLES.glob("*.mlir")):
        table.add_row(*row(path.stem, path.read_text(), args.decomposed))
    if args.batch_rows:
        for number in BATCH_ROWS:
            task = deepbench.csv_task(number)
            module = deepbench.build_module(task, f"{task.name}.npz")
            table.add_row(*row(f"row {number}: {task.name}", str(module), args.decomposed))
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
