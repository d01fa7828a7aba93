"""`rnnc sim` of a configuration of several chips: every chip runs, the links carry the
exchange.

Values: the chips' machines run in lockstep (`run_machines`); after each nest, every link
whose `after` is that nest copies its sender's rows of its memory into its receiver's (the
rows of every buffer: a chip writes only its own rows, so the receiver's copy mirrors the
sender's). Each output is assembled from the chips: chip k gives its rows [lo, hi) of the
last (hidden-unit) axis.

Time: per exchanged memory, its transfers are timed link by link, each over its routed
on-chip legs (the hops of the send leg to the link port, of each forward leg, of the
receive leg to the PMUs; `rnnc.target.multichip.simulate_exchange`). Each chip is timed by
the timing engine, phase by phase, with its controller waiting every step for the exchange
after the nest that writes the memory before the next stage's enable: the units that work
a step ahead (the map-reduce units folding W_x x(t+1) of the `step-ahead` schedule, the
prefetching address generators) go on while the slices travel, so the exchange overlaps
their work where the schedule has any; every other unit waits. The chips start each phase
together and a phase lasts as long as its slowest chip.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from rnnc.backend.load import LoadedConfig, machine_of
from rnnc.backend.multichip import chip_view
from rnnc.diagnostics import Diagnostic
from rnnc.interpreters.spatial_values import MachineError, run_machines
from rnnc.numerics.precision import parse_precision
from rnnc.simulator.machine_timing import PhaseGraph, phase_graphs
from rnnc.simulator.run import check_inputs, prediction_errors, report
from rnnc.simulator.timing import Deadlock, TimingResult, simulate
from rnnc.simulator.weight_share import weight_share
from rnnc.target.arch import Architecture
from rnnc.target.exchange_routes import leg_hops
from rnnc.target.machine import Machine
from rnnc.target.multichip import Transfer, simulate_exchange


def simulate_chips(
    loaded: LoadedConfig, inputs: Mapping[str, np.ndarray], *, source: str = "inputs"
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The outputs (by name) and the timing report of a multi-chip configuration."""
    config = loaded.data
    machines = [machine_of(config, index) for index in range(len(config["chips"]))]
    _same_schedule(machines, str(loaded.path))
    arrays = check_inputs(config, inputs, source)
    waits = exchange_waits(config, loaded.arch)
    try:
        timed = [chip_time(machine, loaded.arch, waits) for machine in machines]
    except Deadlock as deadlock:
        raise Diagnostic(str(loaded.path), f"the machine cannot run: {deadlock}") from None
    try:
        outputs = chip_values(config, machines, loaded.weights, arrays)
    except MachineError as error:
        raise Diagnostic(str(loaded.path), f"the machine does not compute: {error.message}"
                         ) from None
    reports = [report(chip_view(config, k), loaded.arch, timed[k])
               for k in range(len(machines))]
    shares = [weight_share(machine, loaded.arch) for machine in machines]
    return outputs, {**combined_report(config, loaded.arch, reports),
                     "weights": _all_chips(shares)}


def _all_chips(shares: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The chips' weight shares (`weight_share`) as one: every chip's program declares the
    model's whole weight arrays (each holds its rows of them), so the weights are counted
    once; what streams is summed over the chips."""
    total = max(share["weight_bytes"] for share in shares)
    streamed = sum(share["streamed_bytes_per_step"] for share in shares)
    return {"weight_bytes": total, "streamed_bytes_per_step": streamed,
            "streamed_share": streamed / total if total else 0.0}


def _same_schedule(machines: Sequence[Machine], source: str) -> None:
    """The chips run in lockstep: every chip has the first chip's phases and nests."""
    first = [(p.kind, p.steps, p.nests) for p in machines[0].schedule]
    for index, machine in enumerate(machines[1:], start=1):
        if [(p.kind, p.steps, p.nests) for p in machine.schedule] != first:
            raise Diagnostic(source, f"field 'chips.{index}.program.schedule': differs from "
                             "chip 0's (the chips of a split model run one schedule)")


def chip_values(config: Mapping[str, Any], machines: Sequence[Machine],
                weights: Mapping[str, np.ndarray], inputs: Mapping[str, np.ndarray],
                precision: str | None = None) -> dict[str, np.ndarray]:
    """The model's outputs: the chips run in lockstep, exchanging over the links, in the
    configuration's precision (or `precision`, `rnnc sim --compare`'s fp32 reference)."""
    after: dict[str, list[Mapping[str, Any]]] = {}
    for link in config["links"]:
        after.setdefault(link["after"], []).append(link)

    def exchange(nest: str, memories: list[dict[str, np.ndarray]]) -> None:
        for link in after.get(nest, ()):
            lo, hi = link["rows"]
            sent = memories[link["from"]][link["memory"]][..., lo:hi]
            memories[link["to"]][link["memory"]][..., lo:hi] = sent

    mode = parse_precision(precision or config["precision"]["spec"])
    per_chip = run_machines(machines, inputs, weights, mode, exchange)
    outputs = {}
    for name, value in per_chip[0].items():
        merged = np.empty_like(value)
        for chip, own in zip(config["chips"], per_chip, strict=True):
            lo, hi = chip["rows"]
            merged[..., lo:hi] = own[name][..., lo:hi]
        outputs[name] = merged
    return outputs


def exchange_waits(config: Mapping[str, Any], arch: Architecture) -> dict[str, int]:
    """Per nest of the time loop, the cycles of the exchanges after it: per memory its
    transfers timed one by one over the links and the chips' routed on-chip legs."""
    by_memory: dict[str, list[Transfer]] = {}
    after: dict[str, str] = {}
    for link in config["links"]:
        by_memory.setdefault(link["memory"], []).append(
            Transfer(link["from"], link["to"], link["bytes"], tuple(link["path"])))
        after[link["memory"]] = link["after"]
    legs = leg_hops(config["chips"], arch)
    waits: dict[str, int] = {}
    for memory, transfers in by_memory.items():
        nest = after[memory]
        waits[nest] = waits.get(nest, 0) + simulate_exchange(transfers, arch, legs)
    return waits


def chip_time(machine: Machine, arch: Architecture, waits: Mapping[str, int]
              ) -> list[tuple[PhaseGraph, TimingResult]]:
    """Every phase of a chip timed, each step of the time loop waiting for the exchange
    after each nest (`waits`) before the next stage's enable."""
    timed = []
    for graph in phase_graphs(machine, arch):
        stages = tuple(waits.get(nest, 0) for nest in graph.phase.nests) \
            if graph.phase.kind == "loop" else ()
        waiting = dataclasses.replace(graph.graph, stage_waits=stages)
        timed.append((graph, simulate(waiting, graph.phase.steps)))
    return timed


def combined_report(config: Mapping[str, Any], arch: Architecture,
                    reports: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The chips' reports (timed with the exchange) as one: each phase as long as its
    slowest chip, with the exchange's cycles over its steps (`exchange_cycles`, as if
    serialised: the part the lead units' work hides is in neither); per chip its own
    report."""
    exchange = sum(exchange_waits(config, arch).values())
    phases = []
    for index, phase in enumerate(reports[0]["phases"]):
        slowest = max(report["phases"][index]["cycles"] for report in reports)
        added = exchange * phase["steps"] if phase["kind"] == "loop" else 0
        phases.append({**phase, "cycles": slowest, "exchange_cycles": added})
    total = sum(phase["cycles"] for phase in phases)
    loop_cycles = sum(phase["cycles"] for phase in phases if phase["kind"] == "loop")
    steps = reports[0]["steps"]["total"]
    predicted = config["predicted"]
    return {
        **{key: value for key, value in reports[0].items() if key != "units"},
        "total_cycles": total,
        "latency_ms": total / (arch.clock_ghz * 1e6),
        "time_loop_cycles": loop_cycles,
        "cycles_per_step": loop_cycles / steps if steps else 0.0,
        "phases": phases,
        "exchange": {"cycles_per_step": exchange, "links": len(config["links"]),
                     "topology": arch.interchip.topology},
        "chips": [{key: report[key] for key in ("total_cycles", "time_loop_cycles", "units")}
                  for report in reports],
        "predicted": prediction_errors(predicted, total, loop_cycles),
    }
