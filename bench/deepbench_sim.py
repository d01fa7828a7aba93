"""The simulator's columns of bench/deepbench.py: every task's design run by `rnnc sim`'s
timing model (the machine rebuilt from its configuration), beside what the cost model
predicts for it and what the paper published.

Per task: the design the search chooses on one chip (weights beyond the chip streamed from
DRAM) simulated -- cycles, latency, the cost model's prediction (with the routed design's
hops, as the configuration carries it) and its error, and the search's estimate before
placement (every transfer `transfer_hops`) and its error; the paper's
Table 7 design point simulated beside the paper's published latency; the decomposed
(BLAS-style) program at its own searched point, simulated, for the fused-over-decomposed
speedup. Latencies are of the whole inference as `rnnc sim` times it (the nests that run
once before and after the time loop included, e.g. an initial state read in), compared with the
paper's; the time loop alone stays a column beside it.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from deepbench_measures import Anatomy, anatomy
from rich.table import Table
from rnnc.diagnostics import Diagnostic
from rnnc.driver.design_points import compile_at
from rnnc.frontends import deepbench
from rnnc.simulator.run import machine_time
from rnnc.target.arch import Architecture
from rnnc.target.cost import Factors

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from paper_data import PaperTask


@dataclass(frozen=True)
class Simulated:
    loop_cycles: float
    """Cycles of the time loop."""
    other_cycles: float
    """Cycles of the nests that run once, before and after the time loop."""
    predicted: int
    """The cost model with the routed design's hops: the whole inference."""
    predicted_loop: int
    """The same, of the time loop alone."""
    estimated: int
    """The cost model of the time loop before placement (what the search ranked)."""
    seconds: float
    anatomy: Anatomy
    """Where the time loop's cycles go and what its PCUs do (`deepbench_measures`)."""

    @property
    def cycles(self) -> float:
        """Cycles of the whole inference."""
        return self.loop_cycles + self.other_cycles

    def error(self) -> float:
        """Of the prediction against the simulated whole inference."""
        return (self.predicted - self.cycles) / self.cycles

    def loop_error(self, cycles: int) -> float:
        """Of `cycles` against the simulated time loop."""
        return (cycles - self.loop_cycles) / self.loop_cycles


@dataclass(frozen=True)
class SimRow:
    task: PaperTask
    chosen: Simulated
    table7: Simulated | None
    decomposed: Simulated | None
    notes: tuple[str, ...]

    def latency_ms(self, sim: Simulated, arch: Architecture) -> float:
        """Of the whole inference."""
        return sim.cycles / (arch.clock_ghz * 1e6)

    def loop_ms(self, sim: Simulated, arch: Architecture) -> float:
        return sim.loop_cycles / (arch.clock_ghz * 1e6)


def simulate_design(text: str, arch: Architecture, arch_name: str,
                    factors: tuple[Factors, ...] | None, fuse: bool = True, *,
                    schedules: str = "all") -> Simulated:
    """Compile at `factors` (None: the routable search's choice) with `schedules` (as
    `--schedules`) and time the machine."""
    compiled = compile_at(text, arch, arch_name, factors, fuse=fuse, schedules=schedules)
    start = time.perf_counter()
    timed = machine_time(compiled.machine, arch)
    seconds = time.perf_counter() - start
    loop = sum(r.total_cycles for g, r in timed if g.phase.kind == "loop")
    other = sum(r.total_cycles for g, r in timed if g.phase.kind != "loop")
    predicted = compiled.cost.total_cycles
    macs = sum(nest.extent * sum(nest.reductions) for nest in compiled.program.nests)
    return Simulated(loop, other, predicted + compiled.once_cycles, predicted,
                     compiled.estimate.total_cycles, seconds,
                     anatomy(compiled.machine, arch, timed, macs))


def simulate_tasks(rows: list, arch: Architecture, arch_name: str,
                   schedules: str = "all") -> list[SimRow]:
    """`rows`: bench/deepbench.py's Row per task; `schedules` as `--schedules`."""
    results = []
    for row in rows:
        task = row.task
        text, _, _ = deepbench.generate(
            deepbench.Task(task.cell, task.hidden, task.steps), "weights.npz", 0)
        notes: list[str] = []
        # the search run by the pipeline itself: it keeps to points that route
        chosen = simulate_design(text, arch, arch_name, None, schedules=schedules)
        table7 = _attempt(notes, "Table 7 point", text, arch, arch_name, (task.table7,),
                          schedules=schedules)
        # the decomposed program at the point the pipeline's own search picks for it
        decomposed = _attempt(notes, "decomposed", text, arch, arch_name, None, False,
                              schedules=schedules)
        results.append(SimRow(task, chosen, table7, decomposed, tuple(notes)))
    return results


def _attempt(notes: list[str], what: str, *args: object,
             schedules: str = "all") -> Simulated | None:
    """A point the partition, placer or router may refuse: the refusal becomes a note."""
    try:
        return simulate_design(*args, schedules=schedules)  # type: ignore[arg-type]
    except Diagnostic as error:
        notes.append(f"{what}: {error.message}")
        return None
    except ValueError as error:  # the machine cannot be timed (reported, not hidden)
        notes.append(f"{what}: {error}")
        return None


def _geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def simulation_table(rows: list[SimRow], arch: Architecture, fits: dict[str, bool]) -> Table:
    table = Table(title="rnnc sim: the designs simulated (whole inference; ms at the clock)")
    for column in ("task", "sim cycles", "sim ms", "predicted ms", "error", "once cycles",
                   "loop sim ms", "loop error", "unplaced loop error", "T7 sim ms",
                   "paper ms", "paper/sim", "paper/loop", "decomposed sim ms", "fused speedup",
                   "sim s"):
        table.add_column(column, justify="right")
    ratios, loop_ratios, speedups = [], [], []
    for row in rows:
        sim_ms = row.latency_ms(row.chosen, arch)
        loop_ms = row.loop_ms(row.chosen, arch)
        predicted_ms = row.chosen.predicted / (arch.clock_ghz * 1e6)
        paper = row.task.latency_ms["plasticine"]
        t7 = row.latency_ms(row.table7, arch) if row.table7 else None
        dec = row.latency_ms(row.decomposed, arch) if row.decomposed else None
        if fits[row.task.label]:
            ratios.append(paper / sim_ms)
            loop_ratios.append(paper / loop_ms)
        if dec:
            speedups.append(dec / sim_ms)
        table.add_row(
            row.task.label + ("" if fits[row.task.label] else " *"), f"{row.chosen.cycles:.0f}",
            f"{sim_ms:.4f}", f"{predicted_ms:.4f}", f"{row.chosen.error():+.1%}",
            f"{row.chosen.other_cycles:.0f}", f"{loop_ms:.4f}",
            f"{row.chosen.loop_error(row.chosen.predicted_loop):+.1%}",
            f"{row.chosen.loop_error(row.chosen.estimated):+.1%}",
            f"{t7:.4f}" if t7 else "-", f"{paper:.4f}", f"{paper / sim_ms:.2f}",
            f"{paper / loop_ms:.2f}",
            f"{dec:.4f}" if dec else "-", f"{dec / sim_ms:.2f}" if dec else "-",
            f"{row.chosen.seconds:.2f}",
        )
    table.caption = (
        "geomean paper / simulated whole inference over the tasks that fit: "
        f"{_geomean(ratios):.2f} (time loop alone: {_geomean(loop_ratios):.2f}); "
        f"geomean simulated fused-over-decomposed speedup: {_geomean(speedups):.2f}. "
        "* weights exceed the chip: streamed from DRAM every step."
    )
    return table


def records(rows: list[SimRow], arch: Architecture) -> dict[str, dict]:
    return {
        row.task.label: {
            "sim_cycles": row.chosen.cycles,
            "sim_latency_ms": row.latency_ms(row.chosen, arch),
            "sim_speedup_vs_paper": row.task.latency_ms["plasticine"]
            / row.latency_ms(row.chosen, arch),
            "sim_once_cycles": row.chosen.other_cycles,
            "sim_time_loop_cycles": row.chosen.loop_cycles,
            "sim_time_loop_latency_ms": row.loop_ms(row.chosen, arch),
            "predicted_cycles": row.chosen.predicted,
            "prediction_error": row.chosen.error(),
            "predicted_time_loop_cycles": row.chosen.predicted_loop,
            "time_loop_prediction_error": row.chosen.loop_error(row.chosen.predicted_loop),
            "unplaced_estimate_cycles": row.chosen.estimated,
            "unplaced_estimate_error": row.chosen.loop_error(row.chosen.estimated),
            "table7_sim_latency_ms": row.latency_ms(row.table7, arch) if row.table7 else None,
            "table7_predicted_cycles": row.table7.predicted if row.table7 else None,
            "decomposed_sim_latency_ms":
                row.latency_ms(row.decomposed, arch) if row.decomposed else None,
            "map_reduce_utilisation": row.chosen.anatomy.utilisation,
            "pcus_by_role": row.chosen.anatomy.pcus,
            "sim_cycles_per_step": row.chosen.anatomy.cycles_per_step,
            "fill_cycles_per_step": row.chosen.anatomy.fill_per_step,
            "notes": list(row.notes),
        }
        for row in rows
    }


def anatomy_table(rows: list[SimRow], arch: Architecture, fits: dict[str, bool]) -> Table:
    """Per task, the chosen design's time loop taken apart (`deepbench_measures`)."""
    peak = arch.pcu.count * arch.pcu.lanes * arch.pcu.stages
    table = Table(title=f"rnnc sim: the time loop taken apart ({arch.name}; "
                        f"{arch.pcu.count} PCUs, peak {peak} multiply-adds a cycle)")
    for column in ("task", "map-reduce util", "PCUs map-reduce", "combine", "element-wise",
                   "idle", "sim cycles/step", "busiest PCU cycles/step", "fill cycles/step"):
        table.add_column(column, justify="right")
    for row in rows:
        anatomy = row.chosen.anatomy
        table.add_row(
            row.task.label + ("" if fits[row.task.label] else " *"),
            f"{anatomy.utilisation:.1%}",
            *(str(anatomy.pcus[group]) for group in ("map-reduce", "combine", "element-wise",
                                                    "idle")),
            f"{anatomy.cycles_per_step:.1f}", f"{anatomy.busy_per_step:.0f}",
            f"{anatomy.fill_per_step:.1f}",
        )
    table.caption = ("element-wise includes the gather trees; fill: a step's cycles beyond its "
                     "busiest PCU's firings (per nest). * weights streamed from DRAM.")
    return table
