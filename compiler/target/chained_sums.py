"""Partial sums added inside map-reduce units: the `chained-sums` schedule.

A reduction split in `ru` parts has a partial sum per part. The paper adds them in
combining PCUs that do nothing else (`plan.combine_tree`). A map-reduce PCU uses only some
of its pipeline stages: the precision's prefix stages (`map_reduce_prefix_stages`) and
one stage holding the folded cross-lane tree and the accumulator (paper §4.1). Each stage
left over can add one more value to the unit's result as it leaves: a neighbour's partial
sum arriving on one of the unit's scalar inputs (`Reduce.inputs` in the configuration).
The parts of a reduction then form a tree of map-reduce units (a chain when one stage is
free): part j adds the partial sums of parts j*k + 1 .. j*k + k (k = `sum_inputs`), as in
a k-ary heap, and part 0 sends the dot product. No combining PCU is built; the units go to
map-reduce, which the design-space search sees through the plan.

A reduction of several fields (a slot packing two reductions) sends its fields one after
another through the same stage, so an added partial sum costs one stage whatever the
fields.

Timing (the simulator's, from the configuration; the cost model's, from the plan): a
unit's own accumulated result reaches its add stages after the map-reduce latency, each
partial sum it adds after the transfer from its neighbour; each add takes one element-wise
op's cycles. A tree of depth d adds d x (transfer + add) to a step's fill.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from rnnc.dialects import loop
from rnnc.target.arch import Architecture
from xdsl.dialects.builtin import UnitAttr

Array = NDArray[np.int64]

#: The schedule's name (`rnnc.target.schedules.SCHEDULES`).
NAME = "chained-sums"

#: The loop-level attribute on a `loop.foreach` whose reductions' parts add their partial
#: sums in their map-reduce units (`loop-assign-resources` decides it).
ATTRIBUTE = "loop.chained_sums"


def sum_inputs(arch: Architecture, precision: str | None = None) -> int:
    """Partial sums one map-reduce PCU can add to its own result in `precision`: one per
    pipeline stage left after the prefix stages and the folded tree's stage, at most its
    scalar inputs (each arrives on one). 0: the chip cannot chain partial sums."""
    free = arch.pcu.stages - arch.precision(precision).map_reduce_prefix_stages - 1
    return max(0, min(free, arch.pcu.scalar_inputs))


def chain_inputs(parts: int, fan_in: int) -> list[list[int]]:
    """Per part of a reduction (0 .. parts - 1), the parts whose partial sums it adds, in
    order: parts j*fan_in + 1 .. j*fan_in + fan_in (a `fan_in`-ary heap rooted at part 0,
    which sends the sum)."""
    if fan_in < 1:
        raise ValueError("a chain of partial sums needs units with a free stage")
    return [
        list(range(j * fan_in + 1, min(j * fan_in + fan_in, parts - 1) + 1))
        for j in range(parts)
    ]


def chain_depth(parts: Array | int, fan_in: int) -> Array:
    """Additions one after another on the longest path of the heap of `parts` units
    (`chain_inputs`): parts - 1 for a chain (`fan_in` 1), 0 for one part."""
    p = np.asarray(parts, dtype=np.int64)
    if fan_in == 1:
        return np.maximum(p - 1, 0)
    depth = np.zeros_like(p)
    covered = np.ones_like(p)  # units in a complete heap of `depth` levels below the root
    level = np.ones_like(p)
    while (covered < p).any():
        more = covered < p
        level = np.where(more, level * fan_in, level)
        covered = np.where(more, covered + level, covered)
        depth = depth + more
    return depth


def mark(nest: loop.ForeachOp, chained: bool) -> None:
    """Record on the loop level whether the nest's partial sums are chained in its
    map-reduce units (`ATTRIBUTE`), which `rnnc.analysis.program.nest_spec` reads back."""
    if chained:
        nest.attributes[ATTRIBUTE] = UnitAttr()
    else:
        nest.attributes.pop(ATTRIBUTE, None)


__all__ = [
    "ATTRIBUTE", "NAME", "chain_depth", "chain_inputs", "mark", "sum_inputs",
]
