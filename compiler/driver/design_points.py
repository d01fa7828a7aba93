"""A model compiled at a design point of one's choosing, for measurements.

The search (`loop-assign-resources`) picks one point per model; the simulator's check of
the cost model needs many: the paper's Table 7 points, and others. `compile_at` runs the
pipeline with the factors given instead of searched (writing the cost model's figures
for them on the time loop, as the search does), then the spatial passes, and returns the
placed and routed machine with the cost model's prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rnnc.analysis.access import time_loops
from rnnc.analysis.program import nest_factors, time_loop_spec
from rnnc.dialects import loop
from rnnc.dialects.spatial import design_of
from rnnc.driver import pipeline
from rnnc.driver.pipelines import DECOMPOSED_LOOP_PIPELINE, LOOP_PIPELINE
from rnnc.passes.spatial_predict import predicted_cycles
from rnnc.target import chained_sums, joint_chunks, joint_chunks_search
from rnnc.target.arch import Architecture
from rnnc.target.cost import Cost, Factors, ProgramSpec, evaluate
from rnnc.target.machine import Machine, machine_from_module
from rnnc.target.schedules import enabled_schedules
from xdsl.dialects.builtin import (
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    f64,
    i64,
)

SPATIAL = ("spatial-partition,spatial-post-writes,spatial-swap-start,spatial-place,spatial-route,"
           "spatial-swap-choose,spatial-verify")


@dataclass(frozen=True)
class Compiled:
    module: ModuleOp
    machine: Machine
    cost: Cost
    """The cost model's figures for the (single) time loop at the chosen factors, with the
    hops of the routed design (`rnnc.target.routed_hops`)."""
    estimate: Cost
    """The same before placement: what the search saw (every transfer `transfer_hops`)."""
    program: ProgramSpec
    """The time loop as the cost model sees it."""
    once_cycles: int = 0
    """The cost model's cycles of the nests that run once (routed hops), beside the time
    loop's `cost`: the whole inference is `cost.total_cycles + once_cycles`."""


def _run(module: ModuleOp, spec: str, options: dict[str, object], path: str) -> None:
    import dataclasses

    built = pipeline.build_pipeline(spec, pipeline.available_passes())
    passes = []
    for each in built:
        names = {f.name for f in dataclasses.fields(each)}
        passes.append(dataclasses.replace(
            each, **{k: v for k, v in options.items() if k in names}))
    ctx = pipeline.make_context()
    pipeline.run_pipeline(ctx, module, passes, path)


def _cost_attr(cost: Cost) -> DictionaryAttr:
    return DictionaryAttr({
        "cycles_per_step": IntegerAttr(cost.cycles_per_step, i64),
        "total_cycles": IntegerAttr(cost.total_cycles, i64),
        "latency_ms": FloatAttr(cost.latency_ms, f64),
        "precision": StringAttr(cost.precision),
        "bound": StringAttr(cost.bound),
    })


def compile_at(
    text: str,
    arch: Architecture,
    arch_name: str,
    factors: Sequence[Factors] | None,
    *,
    precision: str | None = None,
    path: str = "<model>",
    seed: int = 0,
    fuse: bool = True,
    schedules: str = "all",
) -> Compiled:
    """`text` (an rnn-level model with one time loop) compiled at `factors` (one per nest
    of the time loop; None: the search's choice) to a placed and routed machine; with
    `fuse` False, the decomposed (BLAS-style) program. `schedules`: those beyond the
    paper's the design may use (`rnnc.target.schedules.enabled_schedules`)."""
    ctx = pipeline.make_context()
    module, _ = pipeline.parse_module(ctx, text, path)
    options: dict[str, object] = {"arch": arch_name, "seed": seed, "schedules": schedules}
    if precision:
        options["precision"] = precision
    front = LOOP_PIPELINE if fuse else DECOMPOSED_LOOP_PIPELINE
    if factors is None:
        # one pipeline: the driver searches again until the point partitions, places and
        # routes; the loop level stays beside the design
        _run(module, f"{front},loop-assign-resources,{SPATIAL}", options, path)
        (step,) = time_loops(module)
        program = time_loop_spec(module, step, arch.pcu.stages, arch.pmu.vector_inputs,
                                 pcu_inputs=arch.pcu.vector_inputs)
        factors = nest_factors(step)
        estimate = evaluate(program, factors, arch, precision)
    else:
        from rnnc.passes.loop_assign_resources import (
            assign,
            assign_once_nests,
            mark_chained_sums,
        )

        _run(module, front, options, path)
        assign_once_nests(module, arch, precision)  # as loop-assign-resources does
        (step,) = time_loops(module)
        chain = chained_sums.NAME in enabled_schedules(schedules)
        nests = [n for n in step.body.block.ops if isinstance(n, loop.ForeachOp)]
        for nest, point in zip(nests, factors, strict=True):
            assign(nest, point)
            mark_chained_sums(nest, chain, arch, precision)
        program = time_loop_spec(module, step, arch.pcu.stages, arch.pmu.vector_inputs,
                                 pcu_inputs=arch.pcu.vector_inputs)
        if joint_chunks.NAME in enabled_schedules(schedules) and joint_chunks_search.pays(
            program, factors, arch, precision
        ):  # as loop-assign-resources decides it
            for nest, spec in zip(nests, program.nests, strict=True):
                joint_chunks.mark(nest, joint_chunks.applies(spec.slots))
            program = joint_chunks_search.with_joint_chunks(program, True)
        estimate = evaluate(program, factors, arch, precision)
        step.attributes["loop.cost"] = _cost_attr(estimate)
        _run(module, SPATIAL, options, path)
    design = design_of(module)
    assert design is not None  # the spatial passes ran
    # what spatial-predict writes on the design, as the cost model's figures
    (cost,), once = predicted_cycles(module, design, arch)
    return Compiled(module, machine_from_module(module), cost, estimate, program, sum(once))
