"""What a time loop's first step waits for from DRAM: one step's inputs, every byte of them.

Later steps' inputs (x(t + 1)) are prefetched into double-buffered PMUs while step t runs;
the first step has no step before it, so its units start once the address generators have
moved all of x(0) into the PMUs that hold it: a DRAM latency and the routed crossing
(`rnnc.target.cost.loop_ends`), and the bytes themselves at the DRAM bandwidth. An address
generator loads each PMU the part of the memory that PMU holds (an operand PMU of each
reduction part its slice of x, copies that read the same rows each their own), so x(0) is
moved as many times as PMUs hold it; the streams start together and share the channels,
each moving its bytes in whole bursts, as the simulator's channels move them
(`rnnc.simulator.machine_timing`). On a one-step loop (GRU-512 T=1) that transfer is a
sixth of the inference.

Weight slices streamed from DRAM are not counted here: the cost model charges them every
step (`rnnc.target.cost`).
"""

from __future__ import annotations

import math
from typing import Any

from rnnc.target.arch import Architecture
from rnnc.target.design_view import DesignView
from rnnc.target.machine import Machine


def first_load_bytes(design: DesignView | Machine, arch: Architecture) -> int:
    """Bytes the channels move before a time loop's first step: per stream from an address
    generator loading a model input (not weights) into a PMU, the PMU's boxes of that
    memory for one step, rounded up to whole DRAM bursts. `design` is the contract's view
    of a design (`rnnc.target.design_view`) or the configuration model: the same fields."""
    memories = {memory.name: memory for memory in design.memories}
    units = {unit.id: unit for unit in design.units}
    steps = loop_steps(design)
    burst = arch.mechanisms.dram_burst_bytes
    total = 0
    for stream in design.streams:
        source = units[stream.source.unit]
        memory = memories.get(source.memory) if source.kind == "ag" else None
        if (source.kind != "ag" or source.direction != "load" or memory is None
                or memory.init.startswith("weight:")):
            continue
        for sink in stream.sinks:
            pmu = units[sink.unit]
            if pmu.kind == "pmu":
                moved = sum(box_step_bytes(box, memory.element_bytes, steps)
                            for box in pmu.boxes
                            if box.memory == memory.name)
                total += math.ceil(moved / burst) * burst
    return total


def first_load_cycles(design: DesignView | Machine, arch: Architecture) -> int:
    """Cycles the DRAM channels take to move `first_load_bytes` at the bandwidth."""
    return math.ceil(first_load_bytes(design, arch) / arch.dram_bytes_per_cycle())


def loop_steps(design: DesignView | Machine) -> int:
    """The steps of the design's longest time loop (1 without one)."""
    return max((phase.steps for phase in design.schedule if phase.kind == "loop"), default=1)


def box_step_bytes(box: Any, element_bytes: int, steps: int) -> int:
    """Bytes of `box` for one step of `steps`: a box staged step by step holds one step's
    slice of its time-indexed memory."""
    elements = box.elements
    if box.per_step and elements % steps == 0:
        elements //= steps
    return elements * element_bytes


__all__ = ["box_step_bytes", "first_load_bytes", "first_load_cycles", "loop_steps"]
