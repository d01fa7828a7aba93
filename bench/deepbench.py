"""The paper's 11 DeepBench tasks under rnnc's cost model and design-space search.

    python bench/deepbench.py [--arch NAME|FILE] [--json FILE] [--schedules LIST]
                              [--tasks LIST]
                              [--spatial [--links S/V/C]]

Prints three tables:
- calibration: the model at the paper's own Table 7 design points against the published
  Plasticine latencies (the three tasks whose 8-bit weights exceed the chip are costed
  with the PMU capacity lifted, as the paper's simulation had it, and honestly beside);
- the search: the chosen factors of the fused cell, modelled latency, effective TFLOPS
  (2 G H (H + D) T / latency), units, limiting bound, the paper's Plasticine, Brainwave
  and V100 latencies and the speedups over them, and the BLAS-style (decomposed) program
  searched under the same model, so that the fusion speedup is measured;
- the tasks that do not fit: one chip streaming weights from DRAM against the fewest
  chips that hold them.
Geometric means are separate for the 8 tasks that fit on one chip and the 3 that do not.
Then (unless `--no-sim`) each task's design compiled, placed, routed and timed by `rnnc sim`
(`deepbench_sim.py`): the whole inference against the paper, the time loop alone beside it,
and the time loop taken apart (`deepbench_measures.py`): map-reduce utilisation, PCUs on
map-reduce / combine / element-wise / idle, fill cycles per step. With `--ablate`, every
task again with each schedule of `rnnc.target.schedules.SCHEDULES` switched off alone
(`deepbench_ablate.py`). `--arch plasticine` runs all of it on the `plasticine` preset.

With `--spatial`, a fourth table compiles each task's model (`examples/deepbench/*.mlir`)
through the default spatial pipeline (`rnnc --emit=spatial`: the search with its
routability retries, partition, place, route, verify) and reports what was built: PCUs,
PMUs, AGs, per network the switch-to-switch links used and the busiest link's streams
against `links_per_switch`, the longest route in hops, the seconds of the search, place
and route passes and of the whole compile, the retries, and the modelled latency of the
design that routed, with its geomean over the paper. `--links 4/2/1` overrides
`links_per_switch` (scalar/vector/control) to show how routability depends on it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import deepbench_ablate
import deepbench_sim
from rich.console import Console
from rich.table import Table
from rnnc.analysis.stats import SpatialStats, spatial_stats
from rnnc.diagnostics import Diagnostic
from rnnc.dialects import loop
from rnnc.dialects.spatial import design_of
from rnnc.driver import pipeline
from rnnc.driver.cli import LEVEL_PIPELINES
from rnnc.target.arch import (
    DEFAULT_ARCHITECTURE,
    PRESET_DIR,
    Architecture,
    architecture_from_dict,
    load_architecture,
)
from rnnc.target.cost import Budget, CostError, Factors, evaluate
from rnnc.target.dse import SearchResult, fewest_chips, search

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from paper_data import PaperTask, paper_tasks

PLATFORMS = {
    "plasticine": "paper Plasticine",
    "brainwave_stratix10": "Brainwave",
    "v100_cudnn_fp16": "V100",
}


@dataclass(frozen=True)
class Row:
    """One task: the chosen deployment (one chip, or the fewest chips that hold the
    weights), the one-chip result, and the decomposed program."""

    task: PaperTask
    chosen: SearchResult
    one_chip: SearchResult
    decomposed: SearchResult

    @property
    def fits(self) -> bool:
        return self.one_chip.cost.weights_on_chip

    def speedup(self, platform: str) -> float:
        return self.task.latency_ms[platform] / self.chosen.cost.latency_ms

    @property
    def fusion(self) -> float:
        return self.decomposed.cost.latency_ms / self.chosen.cost.latency_ms


def geomean(values: Iterable[float]) -> float:
    values = list(values)
    return math.exp(sum(math.log(v) for v in values) / len(values))


def factors_text(factors: tuple[Factors, ...]) -> str:
    return " ".join(f"{f.hu}/{f.ru}/{f.rv}" for f in factors)


def run(arch: Architecture) -> list[Row]:
    rows = []
    for task in paper_tasks():
        one_chip = search(task.fused(), arch)
        chips = fewest_chips(task.fused(), arch)
        chosen = one_chip if chips == 1 else search(task.fused(), arch, chips=chips)
        decomposed = search(task.decomposed(), arch, chips=chips)
        rows.append(Row(task, chosen, one_chip, decomposed))
    return rows


def calibration_table(arch: Architecture) -> Table:
    table = Table(title=f"Model at the paper's Table 7 design points ({arch.name})")
    for column in ("task", "hu/ru/rv", "model cyc/step", "paper cyc/step", "error",
                   "one chip, honest (ms)", "bound"):
        table.add_column(column, justify="left" if column in ("task", "bound") else "right")
    lifted = Budget(arch.pcu.count, 10 * arch.pmu.count)
    for task in paper_tasks():
        try:
            honest = evaluate(task.fused(), (task.table7,), arch)
        except CostError as error:  # a chip other than the paper's may not take the point
            table.add_row(task.label, factors_text((task.table7,)), "-", "-", "-", "-",
                          f"not on this chip: {error}")
            continue
        cost = honest if honest.weights_on_chip else evaluate(
            task.fused(), (task.table7,), arch, budget=lifted
        )
        paper = task.latency_ms["plasticine"] * 1e6 * arch.clock_ghz / task.steps
        table.add_row(
            task.label + ("" if honest.weights_on_chip else " *"),
            factors_text((task.table7,)),
            str(cost.cycles_per_step),
            f"{paper:.1f}",
            f"{100 * (cost.cycles_per_step / paper - 1):+.1f}%",
            f"{honest.latency_ms:.4g}",
            honest.bound,
        )
    table.caption = (
        "* weights exceed the chip at 8 bits: model column with PMU capacity lifted (as the "
        "paper simulated); the honest one-chip column streams the excess from DRAM"
    )
    return table


def search_table(rows: list[Row], arch: Architecture) -> Table:
    table = Table(title=f"Searched design points, fused cell ({arch.name})")
    columns = ["task", "hu/ru/rv", "chips", "ms", "TFLOPS", "PCUs", "PMUs", "bound",
               *PLATFORMS.values(), *(f"x {name}" for name in PLATFORMS.values()),
               "unfused ms", "x fusion"]
    for column in columns:
        table.add_column(column, justify="left" if column in ("task", "bound") else "right")
    for row in rows:
        cost = row.chosen.cost
        table.add_row(
            row.task.label,
            factors_text(row.chosen.factors),
            str(cost.chips),
            f"{cost.latency_ms:.4g}",
            f"{row.task.flops / (cost.latency_ms * 1e9):.1f}",
            str(cost.pcus),
            str(cost.pmus),
            row.chosen.bound,
            *(f"{row.task.latency_ms[p]:.4g}" for p in PLATFORMS),
            *(f"{row.speedup(p):.2f}" for p in PLATFORMS),
            f"{row.decomposed.cost.latency_ms:.4g}",
            f"{row.fusion:.2f}",
        )
    for label, group in (("fit on one chip", [r for r in rows if r.fits]),
                         ("do not fit (split)", [r for r in rows if not r.fits])):
        if group:
            table.add_row(
                f"geomean, {len(group)} {label}", *[""] * 10,
                *(f"{geomean(r.speedup(p) for r in group):.2f}" for p in PLATFORMS),
                "", f"{geomean(r.fusion for r in group):.2f}",
                end_section=label.startswith("fit"),
            )
    return table


def capacity_table(rows: list[Row], arch: Architecture) -> Table:
    table = Table(title="Tasks whose weights do not fit: one chip (streamed) or split")
    for column in ("task", "weights MiB", "one chip hu/ru/rv", "one chip ms", "streamed MiB/step",
                   "bound", "chips", "split ms", "exchange cyc/step", "x paper (1 chip)",
                   "x paper (split)"):
        table.add_column(column, justify="left" if column in ("task", "bound") else "right")
    group = [r for r in rows if not r.fits]
    for row in group:
        one, split = row.one_chip.cost, row.chosen.cost
        paper = row.task.latency_ms["plasticine"]
        table.add_row(
            row.task.label,
            f"{one.weight_bytes / 2**20:.1f}",
            factors_text(row.one_chip.factors),
            f"{one.latency_ms:.4g}",
            f"{one.streamed_bytes_per_step / 2**20:.2f}",
            row.one_chip.bound,
            str(split.chips),
            f"{split.latency_ms:.4g}",
            str(split.exchange_cycles),
            f"{paper / one.latency_ms:.3f}",
            f"{paper / split.latency_ms:.2f}",
        )
    if group:
        one_chip = geomean(r.task.latency_ms["plasticine"] / r.one_chip.cost.latency_ms
                           for r in group)
        table.add_row(
            "geomean", *[""] * 8, f"{one_chip:.3f}",
            f"{geomean(r.speedup('plasticine') for r in group):.2f}",
        )
    table.caption = (
        f"DRAM {arch.dram.bandwidth_gbs:g} GB/s; chip-to-chip link "
        f"{arch.interchip.link_bandwidth_gbs:g} GB/s, {arch.interchip.link_latency_cycles} cycles"
    )
    return table


def record(row: Row) -> dict:
    cost = row.chosen.cost
    return {
        "cell": row.task.cell,
        "hidden": row.task.hidden,
        "input": row.task.input,
        "steps": row.task.steps,
        "latency_ms": cost.latency_ms,
        "cycles_per_step": cost.cycles_per_step,
        "paper_latency_ms": row.task.latency_ms["plasticine"],
        "brainwave_latency_ms": row.task.latency_ms["brainwave_stratix10"],
        "v100_latency_ms": row.task.latency_ms["v100_cudnn_fp16"],
        "speedup_vs_paper": row.speedup("plasticine"),
        "effective_tflops": row.task.flops / (cost.latency_ms * 1e9),
        "factors": [
            {"nest": nest.name, "hu": f.hu, "ru": f.ru, "rv": f.rv}
            for nest, f in zip(cost.nests, row.chosen.factors, strict=True)
        ],
        "bound": row.chosen.bound,
        "explanation": row.chosen.explanation,
        "fits_on_chip": row.fits,
        "chips": cost.chips,
        "pcus": cost.pcus,
        "pmus": cost.pmus,
        "one_chip_latency_ms": row.one_chip.cost.latency_ms,
        "one_chip_bound": row.one_chip.bound,
        "one_chip_streamed_bytes_per_step": row.one_chip.cost.streamed_bytes_per_step,
        "decomposed_latency_ms": row.decomposed.cost.latency_ms,
        "fusion_speedup": row.fusion,
    }


EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "deepbench"


@dataclass(frozen=True)
class SpatialRow:
    """One task compiled to a routed spatial design (or the diagnostic that stopped it)."""

    task: PaperTask
    seconds: dict[str, float]
    """Wall seconds per pass (loop-assign-resources includes its routability trials)."""
    latency_ms: float | None
    stats: SpatialStats | None
    retries: int | None
    error: str = ""
    streamed: bool = False
    """Some weights are streamed from DRAM every step (they do not fit the chip)."""

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def compile_spatial(task: PaperTask, arch: str) -> SpatialRow:
    """Run the `--emit=spatial` pipeline on the task's model, pass by pass, timed."""
    path = EXAMPLES / f"{task.cell}-{task.hidden}-{task.steps}.mlir"
    ctx = pipeline.make_context(arch)
    seconds: dict[str, float] = {}
    latency, streamed = None, False
    try:
        module, source = pipeline.parse_module(ctx, path.read_text(), str(path))
        passes = [
            dataclasses.replace(each, arch=arch)
            if any(f.name == "arch" for f in dataclasses.fields(each)) else each
            for each in pipeline.build_pipeline(LEVEL_PIPELINES["spatial"],
                                                pipeline.available_passes())
        ]
        for each in passes:
            start = time.perf_counter()
            pipeline.run_pipeline(ctx, module, [each], source)
            seconds[each.name] = seconds.get(each.name, 0.0) + time.perf_counter() - start
            if each.name == "loop-assign-resources":
                costs = [op.attributes["loop.cost"].data for op in module.walk()  # type: ignore
                         if isinstance(op, loop.SequentialOp) and "loop.cost" in op.attributes]
                latency = sum(cost["latency_ms"].value.data for cost in costs)
                streamed = any(cost["streamed_bytes_per_step"].value.data for cost in costs)
    except Diagnostic as error:
        return SpatialRow(task, seconds, None, None, None, error.message)
    design = design_of(module)
    assert design is not None
    record = module.attributes["rnnc.retries"].data  # type: ignore[attr-defined]
    return SpatialRow(task, seconds, latency, spatial_stats(design, load_architecture(arch)),
                      record["retries"].value.data, streamed=streamed)


def _links_arch(base: str, links: str) -> str:
    """A copy of architecture `base` with `links_per_switch` = scalar/vector/control."""
    path = Path(base) if Path(base).is_file() else PRESET_DIR / f"{base}.json"
    data = json.loads(path.read_text())
    scalar, vector, control = (int(n) for n in links.split("/"))
    data["network"]["links_per_switch"] = {"scalar": scalar, "vector": vector,
                                           "control": control}
    data["name"] = f"{data['name']}-links-{scalar}-{vector}-{control}"
    architecture_from_dict(data)
    handle = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    with handle:
        json.dump(data, handle)
    return handle.name


def spatial_table(rows: list[SpatialRow], arch: Architecture) -> Table:
    links = arch.network.links_per_switch
    table = Table(title=f"Compiled to a routed spatial design ({arch.name}, links per "
                        f"direction scalar/vector/control {links.scalar}/{links.vector}/"
                        f"{links.control})")
    columns = ["task", "PCUs", "PMUs", "AGs", "scalar links (max)", "vector links (max)",
               "control links (max)", "longest route", "search s", "place s", "route s",
               "compile s", "retries", "model ms", "x paper"]
    for column in columns:
        table.add_column(column, justify="left" if column == "task" else "right")
    for row in rows:
        if row.stats is None:
            table.add_row(row.task.label, "[red]failed[/red]", *[""] * (len(columns) - 2))
            continue
        stats = row.stats
        per_network = {use.network: use for use in stats.networks}
        table.add_row(
            row.task.label,
            str(stats.units["pcu"]),
            str(stats.units["pmu"]),
            str(stats.units["ag"]),
            *(f"{per_network[n].links_used} ({per_network[n].max_link_streams}/"
              f"{per_network[n].link_capacity})" for n in ("scalar", "vector", "control")),
            f"{stats.longest_route} hops",
            f"{row.seconds.get('loop-assign-resources', 0.0):.2f}",
            f"{row.seconds.get('spatial-place', 0.0):.2f}",
            f"{row.seconds.get('spatial-route', 0.0):.2f}",
            f"{row.total:.2f}",
            str(row.retries),
            f"{row.latency_ms:.4g}",
            f"{row.task.latency_ms['plasticine'] / row.latency_ms:.2f}",
        )
    built = [r for r in rows if r.latency_ms is not None and r.stats is not None]
    groups = (("fit on one chip", [r for r in built if not r.streamed]),
              ("stream weights from DRAM", [r for r in built if r.streamed]),
              ("routed in all", built))
    for label, group in groups:
        if group:
            speedup = geomean(r.task.latency_ms["plasticine"] / r.latency_ms for r in group)
            table.add_row(f"geomean, {len(group)} {label}", *[""] * (len(columns) - 2),
                          f"{speedup:.2f}")
    failed = [f"{r.task.label}: {r.error}" for r in rows if r.stats is None]
    table.caption = (
        "links: switch-to-switch links carrying a stream (of "
        f"{built[0].stats.networks[0].links_total if built else '?'} directed links per "
        "network), and the most streams on one of them against links_per_switch. search s "
        "includes the routability trial of each point tried. x paper: the paper's "
        "Plasticine latency over the model's latency of the design that routed"
        + "".join(f"\n[red]failed[/red] {failure}" for failure in failed)
    )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", default=DEFAULT_ARCHITECTURE, help="preset name or file")
    parser.add_argument("--json", metavar="FILE", help="write one record per task")
    parser.add_argument("--no-sim", action="store_true",
                        help="skip compiling and simulating the designs (deepbench_sim.py)")
    parser.add_argument("--spatial", action="store_true",
                        help="also compile every task to a routed spatial design (minutes)")
    parser.add_argument("--links", metavar="S/V/C",
                        help="with --spatial: links_per_switch scalar/vector/control")
    parser.add_argument("--schedules", metavar="LIST", default="all",
                        help="schedules beyond the paper's the simulated designs' search may "
                        "use, as rnnc --schedules (all, none, all,-NAME)")
    parser.add_argument("--tasks", metavar="LIST",
                        help="simulate (and ablate) only these tasks, by the first word of "
                        "their label, e.g. GRU-512,GRU-2048 (default: all)")
    parser.add_argument("--ablate", action="store_true",
                        help="also simulate every task with each schedule switched off alone "
                        "(deepbench_ablate.py; minutes)")
    args = parser.parse_args(argv)
    arch = load_architecture(args.arch)
    console = Console(width=250)
    if args.spatial:
        spatial_arch = _links_arch(args.arch, args.links) if args.links else args.arch
        spatial_rows = [compile_spatial(task, spatial_arch) for task in paper_tasks()]
        console.print(spatial_table(spatial_rows, load_architecture(spatial_arch)))
        return 0
    console.print(calibration_table(arch))
    rows = run(arch)
    console.print(search_table(rows, arch))
    console.print(capacity_table(rows, arch))
    chosen = {name.lower() for name in args.tasks.split(",")} if args.tasks else None
    simulate = [row for row in rows
                if chosen is None or row.task.label.split()[0].lower() in chosen]
    simulated = {}
    if not args.no_sim:
        sim_rows = deepbench_sim.simulate_tasks(simulate, arch, args.arch, args.schedules)
        fits = {row.task.label: row.fits for row in rows}
        console.print(deepbench_sim.simulation_table(sim_rows, arch, fits))
        console.print(deepbench_sim.anatomy_table(sim_rows, arch, fits))
        simulated = deepbench_sim.records(sim_rows, arch)
    ablated = {}
    if args.ablate:
        ablated_rows = deepbench_ablate.ablate(simulate, arch, args.arch)
        console.print(deepbench_ablate.ablation_table(ablated_rows, arch))
        ablated = deepbench_ablate.records(ablated_rows)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump([record(row) | {"simulated": simulated.get(row.task.label),
                                      "ablation": ablated.get(row.task.label)}
                       for row in rows], handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
