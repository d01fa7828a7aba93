"""`loop-assign-resources`: choose the parallelization factors of a loop program.

For every time loop, the pass describes its loop nests to the cost model
(`rnnc.analysis.program`), searches the design space of hu (the `par` of each
`loop.foreach`), ru and rv (the `par` and `vec` of each `loop.reduce`) under the
architecture's resources (`rnnc.target.dse`), writes the chosen factors onto the loops, and
records the modelled cost and the bound that limits it as the time loop's `loop.cost`
attribute, so that `--emit=loop` shows it and tests can check it. The nests that run once,
before and after the time loops, get the fastest foreach parallelism that costs no more
units than one copy at a time (`rnnc.target.cost.once_nest_factors`).

Several time loops (stacked layers) are all resident at once: each gets an equal share of
the chip's compute and memory units.

    rnnc model.mlir -p 'rnn-decompose,loop-fuse,loop-assign-resources{arch=plasticine}'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from rnnc.analysis.access import time_loops
from rnnc.analysis.input_projection import set_step_ahead, step_ahead_of
from rnnc.analysis.program import nest_plan_of, nest_spec, time_loop_spec
from rnnc.diagnostics import Diagnostic
from rnnc.dialects import loop
from rnnc.passes.loop_fold_constants import is_folded
from rnnc.target import chained_sums, joint_chunks, joint_chunks_search, plan
from rnnc.target.arch import Architecture
from rnnc.target.chip_count import fastest_chips
from rnnc.target.cost import Budget, Factors, ProgramSpec, once_nest_factors
from rnnc.target.dse import SearchResult, fewest_chips, search, write_dump_csv
from rnnc.target.registry import architectures
from rnnc.target.schedules import pass_schedules
from rnnc.target.step_ahead_search import choose_step_ahead
from xdsl.context import Context
from xdsl.dialects.builtin import (
    DenseArrayBase,
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    f64,
    i64,
)
from xdsl.ir import Attribute
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException


def _progress(loops: list[loop.SequentialOp]) -> Iterable[loop.SequentialOp]:
    """The time loops, with a progress bar on an interactive terminal when there are several
    (a decomposed program's search takes up to half a second per layer); never in a pipe, so
    that output stays byte-for-byte reproducible."""
    # rich only here: importing it costs every compile, and a bar is rare
    from rich.console import Console
    from rich.progress import track

    console = Console(stderr=True)
    shown = console.is_terminal and len(loops) > 1
    return track(loops, "searching designs", console=console, transient=True, disable=not shown)


def once_nests(module: ModuleOp) -> list[loop.ForeachOp]:
    """The loop nests outside every time loop that the chip runs once (those that run when
    compiling, `loop-fold-constants`, are no work for it)."""
    return [
        op
        for op in module.walk()
        if isinstance(op, loop.ForeachOp) and not is_folded(op)
        and not any(isinstance(p, loop.SequentialOp | loop.ForeachOp) for p in _ancestors(op))
    ]


def _ancestors(op: loop.ForeachOp) -> Iterable[object]:
    parent = op.parent_op()
    while parent is not None:
        yield parent
        parent = parent.parent_op()


def assign_once_nests(module: ModuleOp, arch: Architecture, precision: str | None) -> None:
    """Give every nest that runs once its fastest parallelism that takes no more units than
    one copy at a time (`rnnc.target.cost.once_nest_factors`)."""
    for nest in once_nests(module):
        spec = nest_spec(nest, arch.pcu.stages, arch.pmu.vector_inputs,
                         pcu_inputs=arch.pcu.vector_inputs)
        assign(nest, once_nest_factors(spec, arch, precision))


def assign(nest: loop.ForeachOp, factors: Factors) -> None:
    """Write one nest's factors: hu on the foreach, ru and rv on each reduce in it, and
    whether its input projection runs a step ahead (`input_projection.STEP_AHEAD`)."""
    par = plan.copies_per_dim(nest.shape, factors.hu)
    nest.par = DenseArrayBase.from_list(i64, [int(p) for p in par])
    set_step_ahead(nest, factors.ahead)
    for reduce in nest.walk():
        if isinstance(reduce, loop.ReduceOp):
            reduce.par = IntegerAttr(factors.ru, i64)
            reduce.vec = IntegerAttr(factors.rv, i64)


def with_chained_sums(program: ProgramSpec, chained: bool) -> ProgramSpec:
    """`program` with every nest's partial sums chained where the chip allows (`chained`),
    or none: what the search costs (a mark a previous run left is not a choice)."""
    nests = tuple(dataclasses.replace(n, chained_sums=chained) for n in program.nests)
    return dataclasses.replace(program, nests=nests)


def mark_chained_sums(
    nest: loop.ForeachOp, chained: bool, arch: Architecture, precision: str | None
) -> None:
    """Record whether the nest, at the factors written on it, adds its partial sums in its
    map-reduce units: where the search chained them (`chained`) and its plan has partial
    sums to add (a reduction in two parts or more, on a chip with a free stage) and its
    input projection does not run a step ahead (a step-ahead nest combines in combining
    units: `rnnc.target.step_ahead`)."""
    chained = chained and not step_ahead_of(nest)
    chained_sums.mark(nest, chained)
    if chained and not nest_plan_of(nest, arch, arch.precision(precision)).chain_depth.any():
        chained_sums.mark(nest, False)


def cost_attribute(result: SearchResult) -> DictionaryAttr:
    """The modelled cost of the chosen point, as it is printed on the time loop."""
    cost = result.cost
    fields: dict[str, Attribute] = {
        "cycles_per_step": IntegerAttr(cost.cycles_per_step, i64),
        "total_cycles": IntegerAttr(cost.total_cycles, i64),
        "latency_ms": FloatAttr(cost.latency_ms, f64),
        "ii": StringAttr(",".join(map(str, cost.ii))),
        "pipeline_depth": IntegerAttr(cost.pipeline_depth, i64),
        "pcus": IntegerAttr(cost.pcus, i64),
        "pmus": IntegerAttr(cost.pmus, i64),
        "on_chip_bytes": IntegerAttr(cost.on_chip_bytes, i64),
        "weight_bytes": IntegerAttr(cost.weight_bytes, i64),
        "streamed_bytes_per_step": IntegerAttr(cost.streamed_bytes_per_step, i64),
        "dram_gbs": FloatAttr(cost.dram_gbs, f64),
        "chips": IntegerAttr(cost.chips, i64),
        "precision": StringAttr(cost.precision),
        "bound": StringAttr(result.bound),
        "explanation": StringAttr(result.explanation),
        "points_evaluated": IntegerAttr(result.evaluated, i64),
    }
    return DictionaryAttr(fields)


@dataclass(frozen=True)
class LoopAssignResourcesPass(ModulePass):
    """Design-space search of par/vec factors against an architecture (see module doc).

    Options: `arch` (a preset name or a JSON/YAML file), `objective` (`latency` or
    `resources`), `precision` (a mode of the architecture; empty for its default), `chips`
    (how many chips to split each layer over; 0 for the fewest that keep the weights on
    chip, 1 streams whatever does not fit from DRAM), `max_chips` (with `chips` 0 and
    `max_chips` N > 0: the chip count, at most N, whose design keeps the weights on chip
    and the cost model predicts fastest, `fastest_chips`), `dse_dump` (a CSV file to write every
    evaluated point to), `max_pcus` and `max_pmus` (at most this many units per time loop,
    0 for its share of the chip: the driver tightens them when a point does not partition,
    place and route, see `rnnc.driver.routable`), `schedules` (the schedules beyond the
    paper's it may choose, `rnnc.target.schedules.pass_schedules`: this pass decides
    `chained-sums` and `step-ahead`; a nest whose projection runs a step ahead combines its
    partial sums in combining units; and `joint-chunks`).
    """

    name = "loop-assign-resources"

    arch: str = "plasticine-rnn"
    objective: str = "latency"
    precision: str = ""
    chips: int = 1
    max_chips: int = 0
    dse_dump: str = ""
    max_pcus: int = 0
    max_pmus: int = 0
    schedules: str = "all"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        try:
            self._assign(ctx, op)
        except Diagnostic as error:  # a bad architecture file
            raise PassFailedException(f"{self.name}: {error.location}: {error.message}") from None
        except ValueError as error:  # SearchError and CostError are ValueErrors
            raise PassFailedException(f"{self.name}: {error}") from None

    def _assign(self, ctx: Context, module: ModuleOp) -> None:
        architecture = architectures(ctx).get(self.arch)
        loops = time_loops(module)
        if not loops:
            raise ValueError("no time loop (loop.sequential) to assign; run rnn-decompose first")
        assign_once_nests(module, architecture, self.precision or None)
        chain = chained_sums.NAME in pass_schedules(self.name, self.schedules)
        budget = self._budget(module, architecture, len(loops))
        dump: list[dict] | None = [] if self.dse_dump else None
        for step in _progress(loops):
            program = time_loop_spec(
                module, step, architecture.pcu.stages, architecture.pmu.vector_inputs,
                pcu_inputs=architecture.pcu.vector_inputs,
            )
            program = with_chained_sums(program, chain)
            program, result = self._search_forms(program, architecture, budget, dump)
            nests = [n for n in step.body.block.ops if isinstance(n, loop.ForeachOp)]
            for nest, spec, factors in zip(nests, program.nests, result.factors, strict=True):
                assign(nest, factors)
                mark_chained_sums(nest, spec.chained_sums, architecture, self.precision or None)
                joint_chunks.mark(nest, spec.joint_chunks and joint_chunks.applies(spec.slots))
            step.attributes["loop.cost"] = cost_attribute(result)
        if dump is not None:
            write_dump_csv(dump, self.dse_dump)

    def _budget(self, module: ModuleOp, architecture: Architecture, layers: int) -> Budget:
        """Each time loop's share of the chip, after the units of the nests that run once
        (before and after the time loops: bias sums, initial states, copies of the final
        state), which `spatial-partition` builds too, at their own factors."""
        mode = architecture.precision(self.precision or None)
        plans = [nest_plan_of(nest, architecture, mode) for nest in once_nests(module)]
        pcus = sum(int(p.pcus) for p in plans)
        pmus = sum(int(p.pmus) for p in plans)
        left = Budget(architecture.pcu.count - pcus, architecture.pmu.count - pmus)
        share = Budget(left.pcus // layers, left.pmus // layers)
        return Budget(min(share.pcus, self.max_pcus or share.pcus),
                      min(share.pmus, self.max_pmus or share.pmus))

    def _search_forms(
        self, program: ProgramSpec, architecture: Architecture, budget: Budget,
        dump: list[dict] | None,
    ) -> tuple[ProgramSpec, SearchResult]:
        """The search's choice, with the slots' reductions cut as one chunk sequence where
        `joint-chunks` is enabled and that is faster (`joint_chunks_search.choose`)."""
        if joint_chunks.NAME not in pass_schedules(self.name, self.schedules):
            program = joint_chunks_search.with_joint_chunks(program, False)
            return program, self._search(program, architecture, budget, dump)
        return joint_chunks_search.choose(
            program, lambda p: self._search(p, architecture, budget, dump), architecture,
            self.precision or None,
        )

    def _search(
        self,
        program: ProgramSpec,
        architecture: Architecture,
        budget: Budget,
        dump: list[dict] | None,
    ) -> SearchResult:
        precision = self.precision or None
        if self.chips < 0:
            raise ValueError(f"chips must be >= 0, got {self.chips}")
        if self.chips == 0 and self.max_chips > 0:
            return fastest_chips(program, architecture, self.max_chips, lambda chips: (
                self._search_chips(program, architecture, budget, dump, chips)),
                precision=precision)
        chips = self.chips or fewest_chips(program, architecture, precision)
        return self._search_chips(program, architecture, budget, dump, chips)

    def _search_chips(self, program: ProgramSpec, architecture: Architecture, budget: Budget,
                      dump: list[dict] | None, chips: int) -> SearchResult:
        """The search's design of `program` split over `chips` chips."""
        precision = self.precision or None
        result = search(
            program,
            architecture,
            self.objective,
            dump,
            precision=precision,
            chips=chips,
            budget=budget,
        )
        ahead = "step-ahead" in pass_schedules(self.name, self.schedules)
        if self.objective == "latency" and ahead:
            result = choose_step_ahead(program, result, architecture, precision=precision,
                                       chips=chips, budget=budget)
        return result
