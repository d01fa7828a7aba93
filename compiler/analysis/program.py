"""The cost model's view of a loop-level program (`rnnc.target.cost.ProgramSpec`).

`program_spec(module)` reads, off a module after `rnn-decompose` (and `loop-fuse`), the
time loop and one `NestSpec` per loop nest in its body:

* `extent` -- the nest's trip count (the product of its `loop.foreach` extents);
* `reductions` -- the length of each `loop.reduce` in its body, in program order (the
  concatenated length of a merged reduction: D + H for a fused gate);
* `elementwise_depth` -- the longest chain of element-wise ops in the body;
* `weight_elems` -- elements of weights (and biases) the nest reads: for each load from a
  weight memory, the product of the extents of the nest's counters its index depends on;
* `buffer_elems` -- elements of on-chip intermediate buffers the nest writes, counted the
  same way (0 when intermediates are in registers).

`state_elems` counts the memories carried across time steps, with their buffers (h twice
once double-buffered), plus the staging of the inputs the loop reads from off-chip memory:
one step's slice of x is read by every hidden unit, so it is kept on chip, double-buffered
so that step t+1's slice arrives while step t computes.
"""

from __future__ import annotations

import math

from rnnc.analysis.access import (
    INPUT,
    INTERMEDIATE,
    STATE,
    WEIGHT,
    elementwise_depth,
    footprint,
    memory_role,
    time_loops,
)
from rnnc.analysis.input_projection import ahead_lengths, step_ahead_of
from rnnc.analysis.layout import NestLayout, nest_layout
from rnnc.dialects import loop
from rnnc.target import chained_sums, joint_chunks
from rnnc.target.arch import Architecture, Precision
from rnnc.target.cost import Factors, NestSpec, ProgramSpec
from rnnc.target.plan import NestPlan, nest_plan
from rnnc.target.step_ahead import ahead_plan
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue


def _elements(memref: SSAValue) -> int:
    count = loop.buffers_of(memref)
    for size in memref.type.get_shape():  # type: ignore[union-attr]
        count *= size
    return count


def _nest_name(nest: loop.ForeachOp) -> str:
    """The nest by what it writes: `xw_i` (a kernel), `c+h+y` (a fused cell)."""
    written = {s.memref: None for s in nest.walk() if isinstance(s, loop.StoreOp)}
    return "+".join(m.name_hint or "?" for m in written) or "nest"


def _has_activation(ops: tuple) -> bool:
    return any(isinstance(op, loop.ACTIVATIONS) for op in ops)


def nest_spec(
    nest: loop.ForeachOp, stages: int = 4, pmu_inputs: int = 3, layout: NestLayout | None = None,
    *, pcu_inputs: int = 3,
) -> NestSpec:
    """The cost model's description of one loop nest, with its layout on PCUs of `stages`
    stages and `pcu_inputs` vector inputs and PMUs of `pmu_inputs` vector inputs
    (`rnnc.analysis.layout`; `layout` if the caller has it already)."""
    layout = layout or nest_layout(nest, stages, pmu_inputs, pcu_inputs)
    reductions = tuple(r.length for r in nest.walk() if isinstance(r, loop.ReduceOp))
    weights = sum(
        footprint(load, nest)
        for load in nest.walk()
        if isinstance(load, loop.LoadOp) and memory_role(load.memref) == WEIGHT
    )
    buffers = sum(
        footprint(store, nest)
        for store in nest.walk()
        if isinstance(store, loop.StoreOp) and memory_role(store.memref) == INTERMEDIATE
    )
    return NestSpec(
        name=_nest_name(nest),
        extent=nest.trip_count,
        reductions=reductions,
        elementwise_depth=elementwise_depth(nest),
        weight_elems=weights,
        buffer_elems=buffers,
        shape=nest.shape,
        weight_dims=layout.weight_dims,
        operand_dims=layout.operand_dims,
        operand_groups=layout.operand_groups,
        width=layout.width,
        live=layout.live,
        results=layout.results,
        global_write_levels=layout.global_write_levels,
        read_groups=tuple(len(level.read_groups) for level in layout.levels),
        lut_levels=sum(1 for level in layout.levels if _has_activation(level.ops)),
        ahead=ahead_lengths(nest),
        segments=tuple(tuple(r.lengths) for r in nest.walk() if isinstance(r, loop.ReduceOp)),
        chained_sums=chained_sums.ATTRIBUTE in nest.attributes,
        joint_chunks=joint_chunks.ATTRIBUTE in nest.attributes,
        vector_inputs=max(level.vector_inputs for level in layout.levels),
    )


def reduce_factors(nest: loop.ForeachOp) -> tuple[int, int]:
    """(ru, rv) written on a nest's reductions ((1, 1) without any). The plan has one pair
    per nest: reductions that differ are a ValueError."""
    reduces = [r for r in nest.walk() if isinstance(r, loop.ReduceOp)]
    found = {(r.par_factor, r.vec_factor) for r in reduces}
    if len(found) > 1:
        raise ValueError(f"nest {_nest_name(nest)}: its reductions differ in par/vec")
    return found.pop() if found else (1, 1)


def nest_plan_of(
    nest: loop.ForeachOp, arch: Architecture, mode: Precision, layout: NestLayout | None = None
) -> NestPlan:
    """The plan of one loop nest at the factors written on its loops (one design point):
    what `spatial-partition` builds and `loop-assign-resources` counts for it."""
    spec = nest_spec(nest, arch.pcu.stages, arch.pmu.vector_inputs, layout,
                     pcu_inputs=arch.pcu.vector_inputs)
    ru, rv = reduce_factors(nest)
    ahead = step_ahead_of(nest)
    if ahead:
        return ahead_plan(spec, nest.par_factors, ru, rv, ahead, arch=arch, mode=mode)
    return nest_plan(spec, nest.par_factors, ru, rv, arch=arch, mode=mode)


def _staged_inputs(step: loop.SequentialOp) -> int:
    """On-chip elements that stage the off-chip inputs the time loop reads: two steps'
    slices of each (the largest slice any nest reads)."""
    slices: dict[SSAValue, int] = {}
    for nest in step.body.block.ops:
        if not isinstance(nest, loop.ForeachOp):
            continue
        for load in nest.walk():
            if isinstance(load, loop.LoadOp) and memory_role(load.memref) == INPUT:
                slices[load.memref] = max(slices.get(load.memref, 0), footprint(load, nest))
    return 2 * sum(slices.values())


def time_loop_spec(
    module: ModuleOp, step: loop.SequentialOp, stages: int = 4, pmu_inputs: int = 3, *,
    pcu_inputs: int = 3,
) -> ProgramSpec:
    """The `ProgramSpec` of one time loop of `module` (one recurrent layer): its nests, and
    the state and staged inputs of the memories it uses (PCUs of `stages` stages and
    `pcu_inputs` vector inputs, PMUs of `pmu_inputs`)."""
    nests = tuple(
        nest_spec(n, stages, pmu_inputs, pcu_inputs=pcu_inputs)
        for n in step.body.block.ops
        if isinstance(n, loop.ForeachOp)
    )
    memories = {
        op.memref: None
        for op in module.walk()
        if isinstance(op, loop.AllocOp | loop.FromTensorOp)
        and any(step.is_ancestor(use.operation) for use in op.memref.uses)
    }
    state = sum(_elements(m) for m in memories if memory_role(m) == STATE)
    return ProgramSpec(step.step_count, nests, state + _staged_inputs(step))


def factors_of(nest: loop.ForeachOp) -> Factors:
    """The factors `loop-assign-resources` wrote on a nest (hu: the product of its par)."""
    return Factors(math.prod(nest.par_factors), *reduce_factors(nest), step_ahead_of(nest))


def nest_factors(step: loop.SequentialOp) -> list[Factors]:
    """The factors `loop-assign-resources` wrote on the nests of a time loop."""
    return [factors_of(n) for n in step.body.block.ops if isinstance(n, loop.ForeachOp)]


def off_chip_access(nest: loop.ForeachOp) -> tuple[bool, bool]:
    """Whether the nest reads, and whether it writes, a memory off chip (`dram`)."""
    reads = any(isinstance(op, loop.LoadOp) and loop.space_of(op.memref) == "dram"
                for op in nest.walk())
    writes = any(isinstance(op, loop.StoreOp) and loop.space_of(op.memref) == "dram"
                 for op in nest.walk())
    return reads, writes


def program_spec(module: ModuleOp) -> ProgramSpec:
    """The `ProgramSpec` of a loop-level module with one time loop.

    Raises ValueError when the module has no time loop or several (one spec describes one
    recurrent layer; see `time_loop_spec`).
    """
    loops = time_loops(module)
    if len(loops) != 1:
        raise ValueError(
            f"program_spec: expected a loop-level module with one time loop, found {len(loops)}"
        )
    return time_loop_spec(module, loops[0])
