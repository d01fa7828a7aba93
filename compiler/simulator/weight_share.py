"""How much of a design's weights stays on chip and how much streams from DRAM every step:
the figures `rnnc sim --report` and `rnnc --stats` print beside the time."""

from __future__ import annotations

import math
from typing import Any

from rnnc.simulator.machine_timing import streamed_weight_bytes
from rnnc.target.arch import Architecture
from rnnc.target.machine import Machine


def weight_share(machine: Machine, arch: Architecture) -> dict[str, Any]:
    """``weight_bytes``: the weight arrays the design's weight PMUs hold or stream, as
    stored (in the precision's format, scales included; an array held as fp32 in words);
    ``streamed_bytes_per_step``: what the address generators load of them every step;
    ``streamed_share``: the second over the first (0 when nothing streams)."""
    mode = arch.precision(machine.precision)
    formats: dict[str, str] = {}
    for unit in machine.units:
        for holding in getattr(unit, "holds", ()):
            formats.setdefault(holding.array, holding.quantization)
    total = 0
    for memory in machine.memories:
        array = memory.init.removeprefix("weight:")
        if not memory.init.startswith("weight:") or array not in formats:
            continue
        if formats[array] == "fp32" or not memory.shape:
            total += math.prod(memory.shape) * 4
        else:
            rows = math.prod(memory.shape[:-1])
            total += rows * int(mode.row_bytes(memory.shape[-1]))
    streamed = streamed_weight_bytes(machine, arch)
    return {
        "weight_bytes": total,
        "streamed_bytes_per_step": streamed,
        "streamed_share": streamed / total if total else 0.0,
    }


__all__ = ["weight_share"]
