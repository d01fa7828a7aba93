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

from rnnc.analysis.access import (
    INPUT,
    INTERMEDIATE,
    STATE,
    WEIGHT,
    counters_of,
    elementwise_depth,
    footprint,
    memory_role,
    time_loops,
)
from rnnc.dialects import loop
from rnnc.target.cost import NestSpec, ProgramSpec
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


def _check_rows_not_shared(nest: loop.ForeachOp) -> None:
    """The cost model gives every iteration its own weight rows; iterations that read the
    same rows (a batch dimension) would need a model of that reuse, which it does not have."""
    rows = (
        load
        for reduce in nest.walk()
        if isinstance(reduce, loop.ReduceOp)
        for load in reduce.walk()
        if isinstance(load, loop.LoadOp) and memory_role(load.memref) == WEIGHT
    )
    for load in rows:
        used = set().union(*(counters_of(index) for index in load.indices))
        for counter, extent in zip(nest.counters, nest.shape, strict=True):
            if extent > 1 and counter not in used:
                raise ValueError(
                    f"iterations of nest '{_nest_name(nest)}' share the weight rows of "
                    f"'{load.memref.name_hint or 'weights'}' along counter "
                    f"%{counter.name_hint or counter.index} (extent {extent}, e.g. a batch "
                    "larger than 1), which the cost model does not model: it gives every "
                    "iteration its own rows"
                )


def nest_spec(nest: loop.ForeachOp) -> NestSpec:
    """The cost model's description of one loop nest."""
    _check_rows_not_shared(nest)
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
    )


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


def time_loop_spec(module: ModuleOp, step: loop.SequentialOp) -> ProgramSpec:
    """The `ProgramSpec` of one time loop of `module` (one recurrent layer): its nests, and
    the state and staged inputs of the memories it uses."""
    nests = tuple(nest_spec(n) for n in step.body.block.ops if isinstance(n, loop.ForeachOp))
    memories = {
        op.memref: None
        for op in module.walk()
        if isinstance(op, loop.AllocOp | loop.FromTensorOp)
        and any(step.is_ancestor(use.operation) for use in op.memref.uses)
    }
    state = sum(_elements(m) for m in memories if memory_role(m) == STATE)
    return ProgramSpec(step.step_count, nests, state + _staged_inputs(step))


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
