"""`rnnc sim --compare fp32`: the error of a configuration's outputs against the same machine
run in float32 on the model's given weights (the weight file keeps them beside an array a
weight format rounds: `weights.given`), on the same inputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from rnnc.backend.load import LoadedConfig, machine_of
from rnnc.numerics.precision import compare_outputs
from rnnc.simulator.multichip import chip_values
from rnnc.simulator.run import check_inputs, machine_values


def reference_outputs(
    loaded: LoadedConfig, inputs: Mapping[str, np.ndarray], source: str
) -> dict[str, np.ndarray]:
    """The machine's outputs in fp32 with the model's given weights (every chip's, in
    lockstep, for a configuration of several)."""
    config = loaded.data
    weights = dict(loaded.weights)
    for name, member in config["weights"].get("given", {}).items():
        weights[name] = loaded.weights[member]
    arrays = check_inputs(config, inputs, source)
    if len(config["chips"]) > 1:
        machines = [machine_of(config, chip) for chip in range(len(config["chips"]))]
        return chip_values(config, machines, weights, arrays, "fp32")
    return machine_values(machine_of(config), weights, arrays, "fp32")


def reference_error(
    loaded: LoadedConfig, inputs: Mapping[str, np.ndarray], outputs: Mapping[str, np.ndarray],
    source: str,
) -> dict[str, dict[str, Any]]:
    """Per output: max |error|, max relative error (`compare_outputs`) and max |error| over
    the range of the fp32 output (max - min), against `reference_outputs`."""
    reference = reference_outputs(loaded, inputs, source)
    found = {}
    for name, error in compare_outputs(reference, outputs).items():
        ref = np.asarray(reference[name], dtype=np.float64)
        spread = float(ref.max() - ref.min()) if ref.size else 0.0
        found[name] = {
            "max_abs": error.max_abs,
            "max_rel": error.max_rel,
            "max_abs_over_range": error.max_abs / spread if spread else 0.0,
            "range": spread,
        }
    return found


def error_table(errors: Mapping[str, Mapping[str, Any]], label: str) -> str:
    """The lines `rnnc sim --compare fp32` prints."""
    width = max([len("output"), *(len(name) for name in errors)])
    lines = [f"error of {label} against fp32 (the same machine in float32, given weights)",
             f"  {'output':<{width}}  {'range':>10}  {'max abs err':>11}  {'/ range':>9}  "
             f"{'max rel err':>11}"]
    for name, e in errors.items():
        lines.append(f"  {name:<{width}}  {e['range']:>10.4g}  {e['max_abs']:>11.3e}  "
                     f"{e['max_abs_over_range']:>9.3e}  {e['max_rel']:>11.3e}")
    return "\n".join(lines)


__all__ = ["error_table", "reference_error", "reference_outputs"]
