"""Analytic cost model of an RNN loop program on a Plasticine-style chip.

The model works on an IR-independent description of the loop program (`ProgramSpec`: a
sequential time loop whose body runs `NestSpec` loop nests one after another) and one
`Factors` (hu, ru, rv) per nest. It gives cycles, resources and the limiting bound, and is
written once over numpy arrays so that the design-space search (`rnnc.target.dse`) evaluates
thousands of candidates at a time with exactly the arithmetic `evaluate` uses for one.

Timing of one nest per time step (paper-notes §2.3-2.4, §5.5), a model of the mechanisms
the config simulator (`rnnc sim`, `rnnc.simulator`) times on the machine the partition builds:

    iterations = ceil(extent / hu)                 outer foreach, hu LSTM-1 instances abreast
    II         = ceil(R / (rv * ru))               dot-product chunks per outer iteration;
                                                   only R is padded (hv = 1)
    compute    = iterations * II
    fill/drain = PMU read + map-reduce (prefix + log2 lanes + 1)
                 + combining levels x PCU stages
                 + element-wise levels x PCU stages
                 + table levels x PMU read                     (mixed: activations in PMUs)
                 + gather levels x PCU stages                  (the writes of h and y merge)
                 + write-back
                 + wires: the hops of the transfers between them
    sync       = control handshake that ends a sequential stage: done tokens to the
                 controller and its enable back

Wires and sync are distances on the chip. Before placement the model estimates them: every
transfer crosses `transfer_hops` switches (two units that talk to each other are
neighbours; a table is a round trip) and the handshake spans the array (rows + cols hops).
After routing they are measured (`RoutedHops`, from `rnnc.target.routed_hops`): the
prediction of a placed and routed design uses the hops its streams and control tokens
really cross, as the simulator does.

A step is the sum over its nests (plus the calibration-free `step_overhead_cycles`, 0 in the
presets); a time loop adds two DRAM latencies (x(0) in before its first step, the last
y out after its last; the others are prefetched and posted). Weight rows that a map-reduce
unit's PMUs cannot hold (`plan.weight_placement`) are streamed from DRAM every step, their
elements at the DRAM bandwidth (the simulator's AGs share it); that stream overlaps the
step's compute, so the step takes max(compute, stream) + the fixed latencies.
tests/backend/test_sim_time.py checks the model against the simulator at many design
points.

Resources are the nest's plan (`rnnc.target.plan.nest_plan`), the units and PMUs
`spatial-partition` builds from the same plan, summed: map-reduce PCUs per copy, slot and
part of the reduction, combining trees, the element-wise chain and its gather trees; a
weight slice per map-reduce unit (one PMU, two, or one and a FIFO for the streamed rest),
operand PMUs, the element-wise units' own PMUs and their lookup tables.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from rnnc.target import plan, step_ahead
from rnnc.target.arch import Architecture, Precision
from rnnc.target.plan import WORD_BYTES, CostError, NestPlan, NestSpec

Array = NDArray[np.int64]

COMPUTE_UNITS = "compute units"
MEMORY_CAPACITY = "memory capacity"
MEMORY_BANDWIDTH = "memory bandwidth"
RECURRENCE_LATENCY = "recurrence latency"
BOUNDS = (COMPUTE_UNITS, MEMORY_CAPACITY, MEMORY_BANDWIDTH, RECURRENCE_LATENCY)


# ----------------------------------------------------------------------------------------
# The program description (built from the loop dialect, or by the helpers below)
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramSpec:
    """A sequential time loop of `steps` iterations whose body runs `nests` in order."""

    steps: int
    nests: tuple[NestSpec, ...]
    state_elems: int
    """Recurrent state kept on chip (double-buffered h, c, x), every buffer counted: a
    double-buffered h of H elements is 2H."""

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise CostError(f"steps must be >= 1, got {self.steps}")
        if not self.nests:
            raise CostError("a program needs at least one nest")
        if self.state_elems < 0:
            raise CostError(f"state_elems must be >= 0, got {self.state_elems}")

    @property
    def recurrent_elems(self) -> int:
        """Length of h, the vector all chips need every step: the last nest produces it."""
        return self.nests[-1].extent


@dataclass(frozen=True)
class Factors:
    """Per nest: par of the foreach (hu), par and vec of the reduce (ru, rv)."""

    hu: int
    ru: int
    rv: int
    ahead: int = 0
    """Parts of the input projection computed a step ahead (`rnnc.target.step_ahead`);
    0: the fused form, one sequence of ru parts over the whole reduction."""

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.hu, self.ru, self.rv)


@dataclass(frozen=True)
class Budget:
    """Units a design may use on each chip (by default the whole chip)."""

    pcus: int
    pmus: int

    @staticmethod
    def of(arch: Architecture) -> Budget:
        return Budget(arch.pcu.count, arch.pmu.count)

    def scaled(self, pcus: float = 1.0, pmus: float = 1.0) -> Budget:
        return Budget(int(self.pcus * pcus), int(self.pmus * pmus))


# ----------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoutedHops:
    """Switch hops one nest's step crosses on a routed design (`rnnc.target.routed_hops`),
    in place of the model's estimates."""

    wires: int
    """Along the step's longest chain of transfers: operands into the map-reduce units,
    through the combining, element-wise (table round trips included) and gather levels, to
    the memories and address generators the step writes."""
    control: int
    """The enable from the controller to the units that start the step, plus the done
    tokens from the units that end it back to the controller."""
    swap: bool = False
    """The step starts on the state buffer's swap (`rnnc.target.swap_start`): `control` is
    the hops of its token to the unit that starts the step's longest path, and the swap
    takes `buffer_swap_cycles` where the controller took `controller_cycles`."""
    prefetch: tuple[PrefetchLoad, ...] = ()
    """Each load of a step's input from DRAM into a double-buffered PMU, for a loop of
    one nest (`prefetch_bound`); empty: no such load."""


@dataclass(frozen=True)
class PrefetchLoad:
    """One address generator's load of a step's input (x) into a double-buffered PMU, as
    the routed design makes it (`rnnc.target.routed_hops`)."""

    hops: int
    """The hops of the controller's enable to the address generator (after the swap
    token's to the controller, in a swap-started loop) and of the load to the PMU."""
    path: int
    """Hops of the longest path from the PMU to the step's end: the state buffers in a
    swap-started loop, else the done tokens' arrival at the controller. 0 for a PMU only
    the step-ahead units read: the path through them is not traced, and the bound counts
    the step's fill without its wires."""
    bytes: int
    """Bytes the address generator moves into the PMU a step."""
    elements: int
    """Elements one buffer of the PMU holds a step: the generator moves them as one token
    per vector of them."""
    lead: int = 1
    """Steps ahead of the step that reads it the load runs: 1, or 2 for a PMU read by
    the units folding the next step's input projection (`rnnc.target.step_ahead`)."""


#: The parts of a nest's pipeline fill/drain, in the order a value flows through them.
FILL_PARTS = ("pmu_read", "map_reduce", "reduction_tree", "elementwise", "writeback", "wires")


@dataclass(frozen=True)
class Fill:
    """Latency of one outer iteration through a nest: the pipeline fill/drain of a step."""

    pmu_read: int
    map_reduce: int
    reduction_tree: int
    elementwise: int
    writeback: int
    wires: int
    """Hop latency of the transfers between the parts above."""

    @property
    def total(self) -> int:
        return sum(getattr(self, part) for part in FILL_PARTS)


@dataclass(frozen=True)
class NestCost:
    """The model's figures for one nest at one factor choice (per chip, per step)."""

    name: str
    factors: Factors
    iterations: int
    chunks: int
    """ceil(R / (rv * ru)) for the longest reduction: the II the datapath alone needs."""
    ii: int
    compute_cycles: int
    fill: Fill
    sync_cycles: int
    map_reduce_pcus: int
    combine_pcus: int
    elementwise_pcus: int
    weight_pmus: int
    """PMUs holding the weight slices when they are all resident."""
    other_pmus: int
    """Operand copies, biases, buffers and element-wise tables."""
    weight_bytes: int
    """Padded matrix bytes the map-reduce PCUs read each step."""

    @property
    def pcus(self) -> int:
        return self.map_reduce_pcus + self.combine_pcus + self.elementwise_pcus

    @property
    def cycles(self) -> int:
        return self.compute_cycles + self.fill.total + self.sync_cycles


@dataclass(frozen=True)
class Cost:
    """Cycles, resources and the limiting bound of a program at one factor choice."""

    precision: str
    chips: int
    steps: int
    nests: tuple[NestCost, ...]
    compute_cycles: int
    stream_cycles: int
    fill_cycles: int
    sync_cycles: int
    step_overhead_cycles: int
    exchange_cycles: int
    cycles_per_step: int
    total_cycles: int
    latency_ms: float
    pcus: int
    pmus: int
    budget: Budget
    on_chip_bytes: int
    weight_bytes: int
    resident_weight_bytes: int
    streamed_bytes_per_step: int
    pmu_read_bytes_per_cycle: int
    dram_gbs: float
    fits: bool
    weights_on_chip: bool
    bound: str

    @property
    def ii(self) -> tuple[int, ...]:
        return tuple(nest.ii for nest in self.nests)

    @property
    def pipeline_depth(self) -> int:
        """Cycles of a step that are not initiation intervals: fills, syncs and overheads."""
        return self.cycles_per_step - max(self.compute_cycles, self.stream_cycles)


# ----------------------------------------------------------------------------------------
# The model over arrays of candidates
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NestArrays:
    """The nest model on arrays of (hu, ru, rv) candidates: the nest's plan (its units,
    PMUs and bytes, `rnnc.target.plan.NestPlan`) and the timing of one step on it."""

    hu: Array
    plan: NestPlan
    ii: Array
    compute: Array
    pmu_read: Array
    map_reduce: Array
    reduction_tree: Array
    elementwise: Array
    writeback: Array
    wires: Array
    sync: Array

    @property
    def ru(self) -> Array:
        return self.plan.ru

    @property
    def rv(self) -> Array:
        return self.plan.rv

    @property
    def iterations(self) -> Array:
        return self.plan.iterations

    @property
    def chunks(self) -> Array:
        return self.plan.chunks

    @property
    def fill(self) -> Array:
        return sum(getattr(self, part) for part in FILL_PARTS)

    @property
    def pcus(self) -> Array:
        return self.plan.pcus

    @property
    def weight_pmus(self) -> Array:
        return self.plan.weight_pmus

    @property
    def other_pmus(self) -> Array:
        return self.plan.other_pmus

    @property
    def weight_bytes(self) -> Array:
        return self.plan.weight_bytes

    @property
    def cycles(self) -> Array:
        return self.compute + self.fill + self.sync


def nest_arrays(
    nest: NestSpec, hu: Array, ru: Array, rv: Array, *, arch: Architecture, mode: Precision,
    routed: RoutedHops | None = None, ahead: int = 0, wait: int = 0,
) -> NestArrays:
    """The per-nest model for arrays of factors (all three broadcast to one shape): the
    plan at `hu` copies (`plan.nest_plan_at`; with `ahead` parts of the input projection a
    step ahead, `step_ahead.ahead_plan_at`), timed. With `routed`, the wires and the
    handshake are the hops of the routed design instead of estimates. `wait`: cycles the
    step waits after the nest (a multi-chip exchange), which a step-ahead nest's units
    folding the next input projection work through."""
    hu, ru, rv = (np.asarray(v, dtype=np.int64) for v in np.broadcast_arrays(hu, ru, rv))
    planned = (step_ahead.ahead_plan_at(nest, hu, ru, rv, ahead, arch=arch, mode=mode)
               if ahead else plan.nest_plan_at(nest, hu, ru, rv, arch=arch, mode=mode))
    return nest_timing(planned, hu, arch=arch, mode=mode, routed=routed, wait=wait)


def nest_timing(
    nest_plan: NestPlan, hu: Array, *, arch: Architecture, mode: Precision,
    routed: RoutedHops | None = None, wait: int = 0,
) -> NestArrays:
    """One step of a planned nest: `iterations` x II of compute, and the fill through the
    plan's map-reduce units, combining tree, element-wise chain (its table round trips in
    `mixed`) and gather tree to the write-back."""
    p = nest_plan
    zero = np.zeros_like(p.copies)
    stages = arch.pcu.stages
    reduces = bool(p.parts)
    luts = p.spec.lut_levels if p.tables else 0
    gathers = p.gather_levels
    chain = p.levels * stages + luts * arch.pmu_read_latency() + gathers * stages
    # a transfer into the map-reduce units (if any), into each level of the combining
    # tree, the chain and the gather tree, and the write-back; a table is a round trip
    transfers = (int(reduces) + p.combine_levels + p.chain_depth + p.levels + 2 * luts
                 + gathers + 1)
    wires, sync = _distances(transfers, routed, arch)
    ii = np.maximum(p.chunks, arch.timing.min_ii_cycles) if reduces else zero + 1
    arrays = NestArrays(
        hu=hu,
        plan=p,
        ii=ii,
        compute=p.iterations * ii,
        pmu_read=zero + arch.pmu_read_latency(),
        map_reduce=zero + (arch.map_reduce_latency(mode.name) if reduces else 0),
        reduction_tree=p.combine_levels * stages
        + p.chain_depth * arch.timing.elementwise_op_cycles,
        elementwise=zero + chain,
        writeback=zero + arch.timing.pmu_write_cycles,
        wires=zero + wires,
        sync=zero + sync,
    )
    if routed is not None and routed.prefetch:
        # the step after the nest's fill: its handshake, and the wait the step adds
        prefetched = prefetch_bound(routed, arch, arrays, wait) - wait
        arrays = dataclasses.replace(arrays, sync=np.maximum(
            arrays.sync, prefetched - arrays.compute - arrays.fill))
    if isinstance(p, step_ahead.AheadPlan):
        # the units folding the next step's input projection bound the step when they
        # are busier than it (`step_ahead.ahead_compute`)
        bound = step_ahead.ahead_compute(p, arch, arrays.fill + arrays.sync + wait)
        arrays = dataclasses.replace(arrays, compute=np.maximum(arrays.compute, bound))
    return arrays


def prefetch_bound(routed: RoutedHops, arch: Architecture, arrays: NestArrays,
                   wait: int = 0) -> Array:
    """The least step of a loop whose next input is prefetched, timed as the simulator's
    machine runs it (`rnnc.simulator.machine_timing`). The load of x(t + 2) starts when
    step t + 1 starts: on the controller's enable, which crosses its tree to the address
    generator (in a swap-started loop the controller relays the swap token,
    `controller_cycles` after it has crossed to the controller). The generator issues one
    token per vector the PMU's buffer holds, at its share of the DRAM bandwidth
    (`_load_issue`); the last token's data lands a DRAM latency and the load's hops later,
    is written and the double buffer swaps. Step t + 2's path from that PMU to the step's
    end follows (to the state buffers, whose swap starts step t + 3; or to the controller,
    whose enable does, `controller_cycles` and `wait` later): the two steps t + 1 and
    t + 2 hold both, so a step lasts at least half of them (a third for a load two steps
    ahead). Steps that alternate short and long (the short one reads an x that arrived
    early) average the same."""
    hop, mech = arch.network.hop_latency_cycles, arch.mechanisms
    relay, turn = ((mech.controller_cycles, mech.buffer_swap_cycles) if routed.swap
                   else (0, mech.controller_cycles + wait))
    issue = _load_issue(routed.prefetch, arch)
    bound = np.zeros_like(arrays.compute)
    for load, last in zip(routed.prefetch, issue, strict=True):
        arrival = (load.hops * hop + relay + last + mech.dram_latency_cycles
                   + arch.timing.pmu_write_cycles + mech.buffer_swap_cycles)
        path = arrays.compute + arrays.fill - arrays.wires + load.path * hop + turn
        bound = np.maximum(bound, np.ceil((arrival + path) / (load.lead + 1)).astype(np.int64))
    return bound


def _load_issue(loads: Sequence[PrefetchLoad], arch: Architecture) -> list[float]:
    """Per load, cycles from its start to its last token's issue. The loads that start
    together (the same lead) share the bandwidth round-robin, each moving its bytes in
    whole bursts: a load of m bytes is done after sum_j min(m_j, m) / bandwidth, over as
    many tokens as its PMU holds vectors, at least a cycle apart (the simulator's
    `_share_bandwidth`)."""
    burst = arch.mechanisms.dram_burst_bytes
    moved = [-(-load.bytes // burst) * burst for load in loads]
    issue = []
    for load, size in zip(loads, moved, strict=True):
        shared = sum(min(other, size) for each, other in zip(loads, moved, strict=True)
                     if each.lead == load.lead)
        tokens = max(1, -(-load.elements // arch.pmu.banks))
        issue.append((tokens - 1) * max(1.0, shared / arch.dram_bytes_per_cycle() / tokens))
    return issue


def _distances(
    transfers: Array, routed: RoutedHops | None, arch: Architecture
) -> tuple[Array | int, int]:
    """Cycles of the wires of a step's `transfers` and of its control handshake: estimated
    before placement, the routed design's hops after."""
    hop = arch.network.hop_latency_cycles
    if routed is None:
        return transfers * arch.transfer_latency(), arch.control_sync_latency()
    mech = arch.mechanisms
    turn = mech.buffer_swap_cycles if routed.swap else mech.controller_cycles
    return routed.wires * hop, routed.control * hop + turn


@dataclass(frozen=True)
class ProgramArrays:
    """Program totals for arrays of candidates (one factor array per nest, broadcast).
    Cycles are per step; PMUs count the weight PMUs actually filled; `fits` means the
    units fit the budget (weights beyond the PMUs stream); `natural_compute` is the
    compute without the minimum-II padding."""

    compute: Array
    stream: Array
    fill: Array
    sync: Array
    overhead: int
    exchange: int
    cycles_per_step: Array
    pcus: Array
    pmus: Array
    nonweight_pmus: Array
    weight_bytes: Array
    resident_bytes: Array
    streamed_bytes: Array
    on_chip_bytes: Array
    read_bytes_per_cycle: Array
    fits: Array
    natural_compute: Array


def state_pmus(program: ProgramSpec, arch: Architecture) -> int:
    """PMUs outside the nests: none -- the recurrent state lives in the PMUs of the units
    that read it (operand PMUs hold h, element-wise PMUs hold c)."""
    del program, arch
    return 0


def exchange_cycles(chip_program: ProgramSpec, arch: Architecture, chips: int) -> int:
    """Per step over several chips: an all-gather of h over the architecture's links
    (`rnnc.target.multichip.exchange_cycles`). Each chip owns the slice of h its share of
    the foreach produces, sent as 32-bit words."""
    from rnnc.target.multichip import exchange_cycles as all_gather_cycles

    return all_gather_cycles(chip_program.recurrent_elems * WORD_BYTES, chips, arch)


def program_arrays(
    program: ProgramSpec,
    nests: Sequence[NestArrays],
    arch: Architecture,
    budget: Budget,
    chips: int,
) -> ProgramArrays:
    """Combine per-nest arrays (broadcast against each other) into program totals."""
    compute = sum(n.compute for n in nests)
    natural = sum(n.iterations * n.chunks for n in nests)
    fill = sum(n.fill for n in nests)
    sync = sum(n.sync for n in nests)
    pcus = sum(n.pcus for n in nests)
    nonweight = state_pmus(program, arch) + sum(n.other_pmus for n in nests)
    slots = sum(n.weight_pmus for n in nests)
    shape = np.broadcast_shapes(*(n.hu.shape for n in nests))
    weight_bytes = sum(n.weight_bytes for n in nests)
    streamed = np.broadcast_to(sum(n.plan.streamed_bytes for n in nests), shape)
    resident = sum(n.plan.resident_bytes for n in nests)
    stream = np.ceil(streamed / arch.dram_bytes_per_cycle()).astype(np.int64)
    overhead = arch.timing.step_overhead_cycles
    exchange = exchange_cycles(program, arch, chips)
    state_bytes = program.state_elems * WORD_BYTES
    pmus = nonweight + slots
    return ProgramArrays(
        compute=np.broadcast_to(compute, shape),
        stream=stream,
        fill=np.broadcast_to(fill, shape),
        sync=np.broadcast_to(sync, shape),
        overhead=overhead,
        exchange=exchange,
        cycles_per_step=np.maximum(compute, stream) + fill + sync + overhead + exchange,
        pcus=np.broadcast_to(pcus, shape),
        pmus=np.broadcast_to(pmus, shape),
        nonweight_pmus=np.broadcast_to(nonweight, shape),
        weight_bytes=np.broadcast_to(weight_bytes, shape),
        resident_bytes=np.broadcast_to(resident, shape),
        streamed_bytes=streamed,
        on_chip_bytes=np.broadcast_to(resident + state_bytes, shape),
        read_bytes_per_cycle=np.broadcast_to(
            sum(n.plan.read_bytes_per_cycle for n in nests), shape
        ),
        fits=(pcus <= budget.pcus) & (pmus <= budget.pmus)
        & all(n.plan.ports_fit(arch) for n in nests),
        natural_compute=np.broadcast_to(natural, shape),
    )


def point_bound(
    *,
    pcus: int,
    pmus: int,
    compute: int,
    natural: int,
    stream: int,
    streamed: int,
    fixed: int,
    budget: Budget,
) -> str:
    """What dominates one design point's step, from its own figures. (The search asks
    instead whether more units would make it faster; see `rnnc.target.dse`.)"""
    if pcus > budget.pcus:
        return COMPUTE_UNITS
    if pmus > budget.pmus:
        return MEMORY_CAPACITY
    if stream > compute:
        return MEMORY_BANDWIDTH
    if streamed > 0:
        return MEMORY_CAPACITY
    if fixed + compute - natural >= natural:
        # Most of the step is latency (fills, handshakes, the minimum II), not dot products.
        return RECURRENCE_LATENCY
    return COMPUTE_UNITS


# ----------------------------------------------------------------------------------------
# Evaluating one design point
# ----------------------------------------------------------------------------------------


def loop_ends(arch: Architecture, routed_hops: int | None = None, first_loads: int = 0) -> int:
    """What a time loop adds to its steps: x(0) comes from DRAM before the first step (later
    steps' x is prefetched into a double buffer), and the last step's y must reach DRAM
    (earlier stores are posted and overlap): a DRAM latency each, and each a crossing
    between the chip's edge, where the address generators are, and the units. Before
    placement each crossing is estimated as half the grid's perimeter side; `routed_hops`
    are the two crossings' hops on a routed design (`rnnc.target.routed_hops.end_hops`),
    `first_loads` the cycles the channels take to move x(0) on it
    (`rnnc.target.first_loads`; 0 before placement)."""
    if routed_hops is None:
        routed_hops = 2 * ((arch.grid.rows + arch.grid.cols) // 2)
    return (2 * arch.mechanisms.dram_latency_cycles + first_loads
            + routed_hops * arch.network.hop_latency_cycles)


def per_chip_program(program: ProgramSpec, chips: int) -> ProgramSpec:
    """The share of one chip when the foreach iterations (rows of the weights) are split
    over `chips`; every chip keeps the whole state (it multiplies by all of x and h)."""
    if chips < 1:
        raise CostError(f"chips must be >= 1, got {chips}")
    if chips == 1:
        return program
    smallest = min(nest.extent for nest in program.nests)
    if chips > smallest:
        raise CostError(f"cannot split a nest of extent {smallest} over {chips} chips")

    def share(nest: NestSpec) -> NestSpec:
        # the innermost dimension (the hidden units: the weights' rows) is split
        last = math.ceil(nest.shape[-1] / chips)
        shape = (*nest.shape[:-1], last)
        extent = math.prod(shape)
        bias = nest.weight_elems - nest.matrix_elems
        split = dataclasses.replace(nest, extent=extent, shape=shape, weight_elems=10**18)
        return dataclasses.replace(
            split,
            weight_elems=split.matrix_elems + math.ceil(bias * extent / nest.extent),
            buffer_elems=math.ceil(nest.buffer_elems * extent / nest.extent),
        )

    return ProgramSpec(program.steps, tuple(share(n) for n in program.nests), program.state_elems)


def check_factors(
    program: ProgramSpec, factors: Sequence[Factors], arch: Architecture, mode: Precision
) -> None:
    """One legal Factors per nest: hu within the extent, rv within what a PCU multiplies
    at the precision, and no ru/rv on a nest without reductions."""
    if len(factors) != len(program.nests):
        raise CostError(f"{len(program.nests)} nests but {len(factors)} factor choices")
    max_rv = arch.pcu.lanes * mode.macs_per_lane
    for nest, factor in zip(program.nests, factors, strict=True):
        where = f"nest '{nest.name}'"
        if not 1 <= factor.hu <= nest.extent:
            raise CostError(f"{where}: hu must be in [1, {nest.extent}], got {factor.hu}")
        if nest.gates:
            if factor.ru < 1:
                raise CostError(f"{where}: ru must be >= 1, got {factor.ru}")
            if not 1 <= factor.rv <= max_rv:
                raise CostError(
                    f"{where}: rv must be in [1, {max_rv}] ({arch.pcu.lanes} lanes x "
                    f"{mode.macs_per_lane} {mode.name} multiplies), got {factor.rv}"
                )
        elif (factor.ru, factor.rv) != (1, 1):
            raise CostError(f"{where} has no reduction: ru and rv must be 1")


def evaluate(
    program: ProgramSpec,
    factors: Sequence[Factors],
    arch: Architecture,
    precision: str | None = None,
    *,
    chips: int = 1,
    budget: Budget | None = None,
    routed: Sequence[RoutedHops] | None = None,
    end_hops: int | None = None,
    waits: Sequence[int] | None = None,
    first_loads: int = 0,
) -> Cost:
    """Cost of `program` with one `Factors` per nest. `precision` is one of the
    architecture's modes ("mixed", "fp32"; None: its default). With `chips` > 1 the
    foreach iterations are split over that many chips and the factors apply to each
    chip's share; cycles and resources are then per chip. `routed` (one per nest) are the
    hops of the placed and routed design, and `end_hops` those of the loop's ends
    (`loop_ends`), for a prediction after routing; `first_loads` the cycles x(0) takes
    at the DRAM bandwidth on it. `waits` (one per nest): cycles each step waits after the
    nest, a chip's known exchange (`rnnc.driver.multichip`), counted in `exchange_cycles`
    and overlapped with a step-ahead nest's input projection."""
    mode = arch.precision(precision)
    budget = budget or Budget.of(arch)
    chip_program = per_chip_program(program, chips)
    check_factors(chip_program, factors, arch, mode)
    hops = routed if routed is not None else [None] * len(factors)
    if len(hops) != len(factors):
        raise CostError(f"{len(factors)} nests but routed hops for {len(hops)}")
    # before routing, the exchange of h over `chips` (`program_arrays`) follows the last nest
    known = list(waits) if waits is not None else [0] * len(factors)
    overlapped = known if waits is not None else [0] * (len(factors) - 1) + [
        exchange_cycles(chip_program, arch, chips)]
    arrays = [
        nest_arrays(
            nest, np.array([f.hu]), np.array([f.ru]), np.array([f.rv]), arch=arch, mode=mode,
            routed=h, ahead=f.ahead, wait=w,
        )
        for nest, f, h, w in zip(chip_program.nests, factors, hops, overlapped, strict=True)
    ]
    totals = program_arrays(chip_program, arrays, arch, budget, chips)
    totals = dataclasses.replace(totals, exchange=totals.exchange + sum(known),
                                 cycles_per_step=totals.cycles_per_step + sum(known))
    return _cost(
        chip_program, factors, arrays, totals, arch=arch, mode=mode, budget=budget, chips=chips,
        ends=loop_ends(arch, end_hops, first_loads),
    )


def _cost(
    program: ProgramSpec,
    factors: Sequence[Factors],
    arrays: Sequence[NestArrays],
    totals: ProgramArrays,
    *,
    arch: Architecture,
    mode: Precision,
    budget: Budget,
    chips: int,
    ends: int,
) -> Cost:
    def scalar(values: Array) -> int:
        return int(np.asarray(values).flat[0])

    nests = tuple(
        NestCost(
            name=nest.name,
            factors=f,
            iterations=scalar(a.iterations),
            chunks=scalar(a.chunks),
            ii=scalar(a.ii),
            compute_cycles=scalar(a.compute),
            fill=Fill(
                pmu_read=scalar(a.pmu_read),
                map_reduce=scalar(a.map_reduce),
                reduction_tree=scalar(a.reduction_tree),
                elementwise=scalar(a.elementwise),
                writeback=scalar(a.writeback),
                wires=scalar(a.wires),
            ),
            sync_cycles=scalar(a.sync),
            map_reduce_pcus=scalar(a.plan.map_reduce_pcus),
            combine_pcus=scalar(a.plan.combine_pcus),
            elementwise_pcus=scalar(a.plan.elementwise_pcus),
            weight_pmus=scalar(a.weight_pmus),
            other_pmus=scalar(a.other_pmus),
            weight_bytes=scalar(a.weight_bytes),
        )
        for nest, f, a in zip(program.nests, factors, arrays, strict=True)
    )
    per_step = scalar(totals.cycles_per_step)
    total = per_step * program.steps + ends
    streamed = scalar(totals.streamed_bytes)
    return Cost(
        precision=mode.name,
        chips=chips,
        steps=program.steps,
        nests=nests,
        compute_cycles=scalar(totals.compute),
        stream_cycles=scalar(totals.stream),
        fill_cycles=scalar(totals.fill),
        sync_cycles=scalar(totals.sync),
        step_overhead_cycles=totals.overhead,
        exchange_cycles=totals.exchange,
        cycles_per_step=per_step,
        total_cycles=total,
        latency_ms=total / (arch.clock_ghz * 1e6),
        pcus=scalar(totals.pcus),
        pmus=scalar(totals.pmus),
        budget=budget,
        on_chip_bytes=scalar(totals.on_chip_bytes),
        weight_bytes=scalar(totals.weight_bytes),
        resident_weight_bytes=scalar(totals.resident_bytes),
        streamed_bytes_per_step=streamed,
        pmu_read_bytes_per_cycle=scalar(totals.read_bytes_per_cycle),
        dram_gbs=streamed * arch.clock_ghz / per_step,
        fits=bool(np.asarray(totals.fits).flat[0]),
        weights_on_chip=streamed == 0,
        bound=point_bound(
            pcus=scalar(totals.pcus),
            pmus=scalar(totals.pmus),
            compute=scalar(totals.compute),
            natural=scalar(totals.natural_compute),
            stream=scalar(totals.stream),
            streamed=streamed,
            fixed=scalar(totals.fill + totals.sync) + totals.overhead + totals.exchange,
            budget=budget,
        ),
    )



# ----------------------------------------------------------------------------------------
# Nests that run once (before or after the time loops)
# ----------------------------------------------------------------------------------------


def once_nest_cycles(
    nest: NestSpec,
    factors: Factors,
    arch: Architecture,
    precision: str | None = None,
    *,
    routed: RoutedHops | None = None,
    off_chip_reads: bool = False,
    off_chip_writes: bool = False,
) -> int:
    """Cycles of a nest that runs once, before or after the time loops (what compiling
    could not fold: an initial state read in): one pass of its foreach with its fill and
    handshake, as one step of a time loop, plus a DRAM latency
    for its first off-chip read and one for its last off-chip write, which no other step
    overlaps."""
    mode = arch.precision(precision)
    check_factors(ProgramSpec(1, (nest,), 0), (factors,), arch, mode)
    arrays = nest_arrays(
        nest, np.array([factors.hu]), np.array([factors.ru]), np.array([factors.rv]),
        arch=arch, mode=mode, routed=routed,
    )
    dram = arch.mechanisms.dram_latency_cycles * (int(off_chip_reads) + int(off_chip_writes))
    return int(arrays.cycles[0]) + dram


def once_nest_factors(nest: NestSpec, arch: Architecture, precision: str | None = None) -> Factors:
    """The factors of a nest that runs once: the fastest foreach parallelism (hu a power
    of two, or the whole extent) that needs no more units than one copy at a time does --
    the copies side by side in a PCU's lanes cost nothing, and more units would be taken
    from the time loop, where they pay for every step. Ties go to the smaller hu."""
    mode = arch.precision(precision)
    hu = sorted({1 << k for k in range(nest.extent.bit_length()) if 1 << k <= nest.extent}
                | {nest.extent})
    arrays = nest_arrays(nest, np.array(hu), np.ones(len(hu)), np.ones(len(hu)),
                         arch=arch, mode=mode)
    pmus = arrays.other_pmus + arrays.weight_pmus
    free = (arrays.pcus <= arrays.pcus[0]) & (pmus <= pmus[0])
    cycles = np.where(free, arrays.cycles, np.iinfo(np.int64).max)
    return Factors(int(hu[int(np.argmin(cycles))]), 1, 1)


__all__ = [
    "BOUNDS",
    "COMPUTE_UNITS",
    "MEMORY_BANDWIDTH",
    "MEMORY_CAPACITY",
    "RECURRENCE_LATENCY",
    "Budget",
    "Cost",
    "CostError",
    "Factors",
    "Fill",
    "NestCost",
    "NestSpec",
    "ProgramSpec",
    "evaluate",
    "once_nest_cycles",
    "once_nest_factors",
]
