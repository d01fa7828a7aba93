"""bench/deepbench.py --ablate: what each schedule beyond the paper's buys.

Every task's design is compiled by the pipeline's own search and simulated end to end with
every schedule (`all`), with each schedule of the registry (`rnnc.target.schedules.
SCHEDULES`, read when the bench runs: the list grows as passes add schedules) switched off
alone (`all,-NAME`), and with none; the table gives paper / simulated whole inference per
task and the geomean over the tasks that fit on one chip, and the time loop's fill cycles
per step of each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import deepbench_sim
from rich.table import Table
from rnnc.frontends import deepbench
from rnnc.target import schedules
from rnnc.target.arch import Architecture


@dataclass(frozen=True)
class Ablated:
    label: str
    fits: bool
    paper_ms: float
    latency_ms: dict[str, float]
    """Per `--schedules` text, the simulated whole inference."""
    fill: dict[str, float]
    """Per `--schedules` text, the time loop's fill cycles per step (`deepbench_measures`)."""


def variants() -> list[str]:
    """The `--schedules` texts to compare: all, each schedule off alone, none."""
    return ["all", *(f"all,-{name}" for name in sorted(schedules.SCHEDULES)), "none"]


def ablate(rows: list, arch: Architecture, arch_name: str) -> list[Ablated]:
    """`rows`: bench/deepbench.py's Row per task."""
    results = []
    for row in rows:
        task = row.task
        text, _, _ = deepbench.generate(
            deepbench.Task(task.cell, task.hidden, task.steps), "weights.npz", 0)
        latency, fill = {}, {}
        for variant in variants():
            simulated = deepbench_sim.simulate_design(text, arch, arch_name, None,
                                                      schedules=variant)
            latency[variant] = simulated.cycles / (arch.clock_ghz * 1e6)
            fill[variant] = simulated.anatomy.fill_per_step
        results.append(Ablated(task.label, row.fits, task.latency_ms["plasticine"], latency,
                               fill))
    return results


def records(rows: list[Ablated]) -> dict[str, dict]:
    """Per task, per `--schedules` text: the simulated latency, paper / sim, fill/step."""
    return {row.label: {v: {"sim_latency_ms": row.latency_ms[v],
                            "sim_speedup_vs_paper": row.paper_ms / row.latency_ms[v],
                            "fill_cycles_per_step": row.fill[v]} for v in row.latency_ms}
            for row in rows}


def ablation_table(rows: list[Ablated], arch: Architecture) -> Table:
    table = Table(title=f"Ablation: paper / simulated whole inference with each schedule "
                        f"switched off alone ({arch.name})")
    table.add_column("task", justify="left")
    names = variants()
    for variant in names:
        table.add_column(variant, justify="right")
    for variant in names:
        table.add_column(f"fill/step {variant}", justify="right")
    for row in rows:
        table.add_row(row.label + ("" if row.fits else " *"),
                      *(f"{row.paper_ms / row.latency_ms[v]:.3f}" for v in names),
                      *(f"{row.fill[v]:.1f}" for v in names))
    fitting = [row for row in rows if row.fits]
    if fitting:
        table.add_row(f"geomean, {len(fitting)} that fit",
                      *(f"{_geomean([r.paper_ms / r.latency_ms[v] for r in fitting]):.3f}"
                        for v in names), *[""] * len(names))
    table.caption = ("paper / simulated whole inference per --schedules text, then the time "
                     "loop's fill cycles per step. * weights exceed the chip: streamed from "
                     "DRAM every step.")
    return table


def _geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))
