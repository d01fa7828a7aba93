"""What bench/deepbench.py measures of a simulated design beyond its latency: where the
time loop's cycles go and what its compute units do.

* map-reduce utilisation: the task's multiply-adds per step (G H (H + D), batch 1) over the
  chip's peak (every PCU's lanes x stages, each a multiply-add a cycle) times the simulated
  cycles of a step;
* PCUs by role: map-reduce, combining (partial sums only), element-wise (gather trees
  included: they merge the element-wise results) and idle (the chip's PCUs no unit uses);
* fill per step: the simulated cycles of a step beyond the busiest PCU's firings of each
  of its nests (a step's nests run one after another): the pipeline fill and drain, the
  wires and the control handshake that no unit is busy for.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnc.simulator.machine_timing import PhaseGraph
from rnnc.simulator.timing import TimingResult
from rnnc.target.arch import Architecture
from rnnc.target.machine import PCU, Machine

#: PCU roles as the tables group them.
ROLE_GROUPS = {"map_reduce": "map-reduce", "combine": "combine", "elementwise": "element-wise",
               "gather": "element-wise"}


@dataclass(frozen=True)
class Anatomy:
    """The time loop of one simulated design, taken apart."""

    cycles_per_step: float
    busy_per_step: float
    """Per step, the busiest PCU's firings, summed over the step's nests."""
    utilisation: float
    """Of the chip's multiply-add peak, by the map-reduce work of the time loop."""
    pcus: dict[str, int]
    """PCUs per group of `ROLE_GROUPS`, and "idle"."""

    @property
    def fill_per_step(self) -> float:
        return self.cycles_per_step - self.busy_per_step


def anatomy(machine: Machine, arch: Architecture,
            timed: list[tuple[PhaseGraph, TimingResult]], macs_per_step: int) -> Anatomy:
    """The time loop's anatomy (the loop phases summed; a DeepBench task has one)."""
    loops = [(graph, result) for graph, result in timed if graph.phase.kind == "loop"]
    steps = sum(result.steps for _, result in loops)
    cycles = sum(result.total_cycles for _, result in loops) / steps
    per_step = sum(result.cycles_per_step for _, result in loops)
    busy = sum(_busiest(graph) for graph, _ in loops)
    peak = arch.pcu.count * arch.pcu.lanes * arch.pcu.stages
    pcus = dict.fromkeys(("map-reduce", "combine", "element-wise"), 0)
    for unit in machine.units:
        if isinstance(unit, PCU):
            pcus[ROLE_GROUPS[unit.role]] += 1
    pcus["idle"] = arch.pcu.count - sum(pcus.values())
    return Anatomy(per_step, busy, macs_per_step / (peak * cycles), pcus)


def _busiest(graph: PhaseGraph) -> float:
    """Per step, the busiest PCU's firing cycles in each nest, summed over the nests."""
    busiest: dict[int, float] = {}
    for node in graph.graph.nodes:
        if node.kind == "pcu":
            busiest[node.stage] = max(busiest.get(node.stage, 0.0), node.count * node.ii)
    return sum(busiest.values())
