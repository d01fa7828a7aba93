"""`rnnc sim`: run a loaded configuration -- its values and its cycles.

The machine is rebuilt from the configuration alone (`rnnc.backend.load.machine_of`).
Values: the spatial level's functional semantics of the machine description
(`rnnc.interpreters.spatial_values`: every unit computes its configured ops over its
counters on what arrives over its streams), in the configuration's precision mode, with
the weights of the configuration's weight file. Time: the timing engine
(`rnnc.simulator.timing`) over the graphs `machine_timing` builds, phase after phase.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from rnnc.backend.consistency import DTYPES, is_skeleton
from rnnc.backend.load import LoadedConfig, machine_of
from rnnc.diagnostics import Diagnostic
from rnnc.interpreters.spatial_values import MachineError
from rnnc.numerics.precision import parse_precision
from rnnc.simulator.machine_timing import PhaseGraph, phase_graphs
from rnnc.simulator.timing import Deadlock, TimingResult, simulate
from rnnc.simulator.weight_share import weight_share
from rnnc.target.arch import Architecture
from rnnc.target.machine import Machine


def check_inputs(
    config: Mapping[str, Any], inputs: Mapping[str, np.ndarray], source: str
) -> dict[str, np.ndarray]:
    """The model's inputs from `inputs`, by name, shape and dtype as the config declares."""
    declared = {entry["name"]: entry for entry in config["inputs"]}
    missing = [name for name in declared if name not in inputs]
    unknown = sorted(set(inputs) - set(declared))
    if missing or unknown:
        what = f"missing input(s) {', '.join(missing)}" if missing else (
            f"unknown input(s) {', '.join(unknown)}")
        raise Diagnostic(source, f"{what} (the configuration takes {', '.join(declared)})")
    arrays = {}
    for name, entry in declared.items():
        array = np.asarray(inputs[name])
        if list(array.shape) != entry["shape"]:
            raise Diagnostic(
                f"{source}: {name}",
                f"input '{name}' has shape {list(array.shape)}, the configuration takes "
                f"{entry['shape']}",
            )
        arrays[name] = array.astype(numpy_dtype(entry["dtype"]), copy=False)
    return arrays


def numpy_dtype(name: str) -> np.dtype:
    return np.dtype(DTYPES.get(name, name))


def machine_values(
    machine: Machine, weights: Mapping[str, np.ndarray], inputs: Mapping[str, np.ndarray],
    precision_spec: str,
) -> dict[str, np.ndarray]:
    """The outputs the machine computes, keyed by the model's output names."""
    from rnnc.interpreters.spatial_values import run_machine

    return run_machine(machine, inputs, weights, parse_precision(precision_spec))


def machine_time(machine: Machine, arch: Architecture) -> list[tuple[PhaseGraph, TimingResult]]:
    """Every phase of the schedule timed, in order."""
    return [(graph, simulate(graph.graph, graph.phase.steps)) for graph in phase_graphs(
        machine, arch)]


def report(
    config: Mapping[str, Any], arch: Architecture, timed: list[tuple[PhaseGraph, TimingResult]]
) -> dict[str, Any]:
    """The timing report: totals, the time loop's steps, per unit kind busy and stalled
    cycles and what stalled them, per phase."""
    total = sum(result.total_cycles for _, result in timed)
    loops = [(g, r) for g, r in timed if g.phase.kind == "loop"]
    loop_cycles = sum(r.total_cycles for _, r in loops)
    steps = sum(r.steps for _, r in loops)
    kinds: dict[str, dict[str, Any]] = {}
    for graph, result in timed:
        for node, stalls in zip(graph.graph.nodes, result.stalls, strict=True):
            entry = kinds.setdefault(node.kind, {"units": set(), "busy_cycles": 0.0,
                                                 "stalled_cycles": 0.0, "stalled_by": {}})
            entry["units"].add(node.name)
            entry["busy_cycles"] += stalls.busy
            for cause, cycles in stalls.stalled.items():
                entry["stalled_cycles"] += cycles
                entry["stalled_by"][cause] = entry["stalled_by"].get(cause, 0.0) + cycles
    per_kind = {
        kind: {
            "units": len(entry["units"]),
            "busy_cycles": round(entry["busy_cycles"]),
            "stalled_cycles": round(entry["stalled_cycles"]),
            "stalled_by": {k: round(v) for k, v in sorted(entry["stalled_by"].items())},
        }
        for kind, entry in sorted(kinds.items())
    }
    cycles = int(np.ceil(total))
    predicted = config["predicted"]
    return {
        "total_cycles": cycles,
        "latency_ms": cycles / (arch.clock_ghz * 1e6),
        "clock_ghz": arch.clock_ghz,
        "time_loop_cycles": int(np.ceil(loop_cycles)),
        "cycles_per_step": (loop_cycles / steps) if steps else 0.0,
        "steps": {
            "total": steps,
            "simulated": sum(r.simulated_steps for _, r in loops),
            "extrapolated": sum(r.extrapolated_steps for _, r in loops),
        },
        "phases": [
            {"kind": g.phase.kind, "nests": list(g.phase.nests), "steps": r.steps,
             "cycles": int(np.ceil(r.total_cycles)), "cycles_per_step": r.cycles_per_step,
             "first_step_cycles": r.first_step_cycles, "simulated_steps": r.simulated_steps,
             "extrapolated_steps": r.extrapolated_steps}
            for g, r in timed
        ],
        "units": per_kind,
        "predicted": prediction_errors(predicted, total, loop_cycles),
    }


def prediction_errors(predicted: Mapping[str, Any], total: float, loop_cycles: float
                      ) -> dict[str, Any]:
    """The cost model's prediction of the whole inference and of the time loops, with its
    relative error against the simulated `total` and `loop_cycles`."""
    return {
        "total_cycles": predicted["total_cycles"],
        "error": (predicted["total_cycles"] - total) / total if total else None,
        "time_loop_cycles": predicted["time_loop_cycles"],
        "error_vs_time_loop": (predicted["time_loop_cycles"] - loop_cycles) / loop_cycles
        if loop_cycles else None,
    }


def simulate_chip(
    loaded: LoadedConfig, inputs: Mapping[str, np.ndarray], *, source: str = "inputs"
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The outputs (by name) and the timing report of a loaded one-chip configuration."""
    config = loaded.data
    if is_skeleton(config):
        raise Diagnostic(str(loaded.path), "field 'program': the design has no program (no "
                         "memories, nests or schedule): there is nothing to simulate")
    machine = machine_of(config)
    arrays = check_inputs(config, inputs, source)
    try:
        timed = machine_time(machine, loaded.arch)
    except Deadlock as deadlock:
        raise Diagnostic(str(loaded.path), f"the machine cannot run: {deadlock}") from None
    try:
        outputs = machine_values(machine, loaded.weights, arrays, config["precision"]["spec"])
    except MachineError as error:  # located at the machine: the configuration describes it
        raise Diagnostic(str(loaded.path), f"the machine does not compute: {error.message}"
                         ) from None
    return outputs, {**report(config, loaded.arch, timed),
                     "weights": weight_share(machine, loaded.arch)}
