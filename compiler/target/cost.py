"""Analytic cost model of an RNN loop program on a Plasticine-style chip.

The model works on an IR-independent description of the loop program (`ProgramSpec`: a
sequential time loop whose body runs `NestSpec` loop nests one after another) and one
`Factors` (hu, ru, rv) per nest. It gives cycles, resources and the limiting bound, and is
written once over numpy arrays so that the design-space search (`rnnc.target.dse`) evaluates
thousands of candidates at a time with exactly the arithmetic `evaluate` uses for one.

Timing of one nest per time step (paper-notes §2.3-2.4, §5.5):

    iterations = ceil(extent / hu)                 outer foreach, hu LSTM-1 instances abreast
    II         = max(ceil(R / (rv * ru)), min_ii)  dot-product chunks per outer iteration;
                                                   only R is padded (hv = 1)
    compute    = iterations * II
    fill/drain = PMU read + transfer + map-reduce (prefix + log2 lanes + 1)
                 + ru-way tree (transfer + log2 ru) + element-wise chain + write-back
    sync       = control handshake that ends a sequential stage (rows + cols hops)

A step is the sum over its nests, plus a per-step overhead, plus (over several chips) the
exchange of h. Weights that do not fit in the PMUs are streamed from DRAM every step; that
stream overlaps the step's compute, so the step takes max(compute, stream) + the fixed
latencies. The calibration against the paper's Table 7 points is in the preset's notes and
in `tests/test_cost.py`.

Resources: hu*G*ru map-reduce PCUs (G = reductions in the nest), ceil(hu*G*ru / lanes)
PCUs combining the ru partial sums with their cross-lane trees, ceil(hu*G / lanes) x
ceil(depth / stages) element-wise PCUs. PMUs: each map-reduce PCU reads rv weights a cycle,
a whole PMU's read bandwidth, so its weight slice gets its own ceil(slice / capacity) >= 1
PMUs; ru PMUs serve the reduction operand (x,h) chunks; plus biases, intermediate buffers,
one PMU of tables beside each element-wise PCU, and the recurrent state.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from rnnc.target.arch import Architecture, Precision

Array = NDArray[np.int64]

COMPUTE_UNITS = "compute units"
MEMORY_CAPACITY = "memory capacity"
MEMORY_BANDWIDTH = "memory bandwidth"
RECURRENCE_LATENCY = "recurrence latency"
BOUNDS = (COMPUTE_UNITS, MEMORY_CAPACITY, MEMORY_BANDWIDTH, RECURRENCE_LATENCY)

# Intermediate buffers, biases added in 32-bit and the recurrent state are held as 32-bit
# words (paper §4.1: accumulation and element-wise operations are 32-bit).
WORD_BYTES = 4

CELL_GATES = {"lstm": 4, "gru": 3, "rnn": 1}


class CostError(ValueError):
    """A program or factor choice the model cannot cost (a caller bug, not user input)."""


# ----------------------------------------------------------------------------------------
# The program description (built from the loop dialect, or by the helpers below)
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NestSpec:
    """One loop nest run once per time step: a foreach over `extent` independent iterations."""

    name: str
    extent: int
    """Foreach trip count (H for the fused cell)."""
    reductions: tuple[int, ...]
    """Lengths of the dot-product reductions in its body (G x (D+H) for the fused cell,
    (D,) or (H,) for an unfused matvec kernel, () for an element-wise kernel)."""
    elementwise_depth: int
    """Length of the chain of element-wise ops after the reductions: the longest path of
    dependent ops (bias add, LUT nonlinearity, Hadamard product, ...), one per PCU stage;
    ops that run side by side count once (6 for the fused LSTM cell)."""
    weight_elems: int
    """Weight/bias elements this nest reads (stored on chip or streamed): at least the
    extent x sum(reductions) matrix elements the reductions multiply, plus biases."""
    buffer_elems: int
    """Elements of on-chip intermediate buffers this nest writes (0: results in registers)."""

    def __post_init__(self) -> None:
        if self.extent < 1:
            raise CostError(f"nest '{self.name}': extent must be >= 1, got {self.extent}")
        if any(length < 1 for length in self.reductions):
            raise CostError(f"nest '{self.name}': reduction lengths must be >= 1")
        if self.elementwise_depth < 0 or self.buffer_elems < 0:
            raise CostError(f"nest '{self.name}': depth and buffer size must be >= 0")
        if self.weight_elems < self.matrix_elems:
            raise CostError(
                f"nest '{self.name}': weight_elems {self.weight_elems} is smaller than the "
                f"{self.matrix_elems} matrix elements its reductions read "
                f"(extent x sum of reduction lengths)"
            )

    @property
    def map_reduce_units(self) -> tuple[int, ...]:
        """The reductions packed onto map-reduce units, as the lengths each unit reduces.

        A unit runs its reductions one after another within an outer iteration, so
        reductions shorter than the longest share a unit while their lengths add up to no
        more than it (first fit, longest first). The fused GRU's candidate gate keeps its x
        and h products apart (the reset gate scales only the h part), and so costs what one
        gate over [x, h] does, as in the paper's single-pass GRU.
        """
        longest = max(self.reductions, default=0)
        units: list[int] = []
        for length in sorted(self.reductions, reverse=True):
            fit = next((k for k, used in enumerate(units) if used + length <= longest), None)
            if fit is None:
                units.append(length)
            else:
                units[fit] += length
        return tuple(units)

    @property
    def gates(self) -> int:
        """G: map-reduce units per foreach iteration (one per dot product over [x, h])."""
        return len(self.map_reduce_units)

    @property
    def matrix_elems(self) -> int:
        """Weights the reductions multiply: one row of each reduction per iteration."""
        return self.extent * sum(self.reductions)

    @property
    def macs(self) -> int:
        return self.matrix_elems


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


#: The parts of a nest's pipeline fill/drain, in the order a value flows through them.
FILL_PARTS = ("pmu_read", "transfer_in", "map_reduce", "reduction_tree", "elementwise", "writeback")


@dataclass(frozen=True)
class Fill:
    """Latency of one outer iteration through a nest: the pipeline fill/drain of a step."""

    pmu_read: int
    transfer_in: int
    map_reduce: int
    reduction_tree: int
    elementwise: int
    writeback: int

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


def _cdiv(a: Array | int, b: Array | int) -> Array:
    return -(-np.asarray(a, dtype=np.int64) // np.asarray(b, dtype=np.int64))


def _clog2(values: Array) -> Array:
    """ceil(log2(v)) for integers v >= 1, exactly: the bit length of v - 1."""
    return np.frexp(np.asarray(values, dtype=np.int64) - 1)[1].astype(np.int64)


def _combine_tree(dot_products: Array, ru: Array, lanes: int) -> tuple[Array, Array]:
    """PCUs and PCU levels that add up the ru partial sums of each dot product. A combining
    PCU takes `lanes` partials in its lanes and folds them with its cross-lane tree (several
    dot products' partials side by side when ru < lanes); ru > lanes needs further levels,
    each reached by one more transfer."""
    pcus, levels, partials = np.zeros_like(ru), np.zeros_like(ru), ru.copy()
    while (partials > 1).any():
        active = partials > 1
        pcus = pcus + np.where(active, _cdiv(dot_products * partials, lanes), 0)
        levels = levels + active
        partials = np.where(active, _cdiv(partials, lanes), 1)
    return pcus, levels


@dataclass(frozen=True)
class NestArrays:
    """The nest model evaluated on arrays of (hu, ru, rv) candidates."""

    hu: Array
    ru: Array
    rv: Array
    iterations: Array
    chunks: Array
    ii: Array
    compute: Array
    pmu_read: Array
    transfer_in: Array
    map_reduce: Array
    reduction_tree: Array
    elementwise: Array
    writeback: Array
    sync: Array
    map_reduce_pcus: Array
    combine_pcus: Array
    elementwise_pcus: Array
    weight_pmus: Array
    other_pmus: Array
    weight_bytes: Array
    read_bytes_per_cycle: Array
    slice_count: Array
    """(reductions, N): map-reduce PCUs per reduction, each holding one weight slice."""
    slice_bytes: Array
    """(reductions, N): bytes of one such slice."""
    fixed_bytes: Array
    """Bytes of biases and buffers (resident, not streamed)."""

    @property
    def fill(self) -> Array:
        return sum(getattr(self, part) for part in FILL_PARTS)

    @property
    def pcus(self) -> Array:
        return self.map_reduce_pcus + self.combine_pcus + self.elementwise_pcus

    @property
    def cycles(self) -> Array:
        return self.compute + self.fill + self.sync


def nest_arrays(
    nest: NestSpec, hu: Array, ru: Array, rv: Array, *, arch: Architecture, mode: Precision
) -> NestArrays:
    """The per-nest model for arrays of factors (all three broadcast to one shape)."""
    hu, ru, rv = (np.asarray(v, dtype=np.int64) for v in np.broadcast_arrays(hu, ru, rv))
    lanes, cap = arch.pcu.lanes, arch.pmu.capacity_bytes
    wbytes, transfer = mode.weight_bytes, arch.transfer_latency()
    gates = nest.gates
    zero = np.zeros_like(hu)

    iterations = _cdiv(nest.extent, hu)
    if gates:
        lengths = np.asarray(nest.map_reduce_units, dtype=np.int64)[:, None]
        chunk_counts = _cdiv(lengths, (rv * ru)[None, :])
        chunks = chunk_counts.max(axis=0)
        ii = np.maximum(chunks, arch.timing.min_ii_cycles)
        map_reduce = zero + arch.map_reduce_latency(mode.name)
        map_reduce_pcus = hu * gates * ru
        combine_pcus, combine_levels = _combine_tree(hu * gates, ru, lanes)
        reduction_tree = _clog2(ru) + combine_levels * transfer
        # Reductions of equal length have equal slices: one group each, with a multiplicity.
        _, first, multiplicity = np.unique(
            np.asarray(nest.map_reduce_units), return_index=True, return_counts=True
        )
        slice_bytes = iterations[None, :] * chunk_counts[first] * rv[None, :] * wbytes
        slice_count = (hu * ru)[None, :] * multiplicity[:, None]
        weight_pmus = (slice_count * _cdiv(slice_bytes, cap)).sum(axis=0)
        weight_bytes = (slice_count * slice_bytes).sum(axis=0)
        # ru banked copies of the operand vector (x,h), one chunk stream each, broadcast
        # to the hu*G map-reduce PCUs; double-buffered so step t+1's copy can be written.
        longest = max(nest.map_reduce_units)
        operand_pmus = ru * np.maximum(1, _cdiv(2 * _cdiv(longest, ru) * wbytes, cap))
        read_bytes = map_reduce_pcus * rv * wbytes
        width = hu * gates
    else:
        chunks = ii = zero + 1
        map_reduce = reduction_tree = map_reduce_pcus = combine_pcus = zero
        slice_bytes = slice_count = np.zeros((0, hu.size), dtype=np.int64)
        weight_pmus = weight_bytes = operand_pmus = read_bytes = zero
        width = hu

    # The element-wise chain: one op per PCU stage, `stages` ops per PCU, a transfer into
    # each PCU of the chain; the hu instances (hu * G values for the gates' bias and LUT)
    # side by side in lanes. A nest without reductions is all chain (at least a copy).
    depth = nest.elementwise_depth
    chain_levels = math.ceil(max(depth, 1) / arch.pcu.stages)
    elementwise_pcus = _cdiv(width, lanes) * chain_levels if (depth or not gates) else zero
    chain = depth * arch.timing.elementwise_op_cycles + chain_levels * transfer if depth else 0
    read_width = arch.pmu.read_bytes_per_cycle
    bias_elems = nest.weight_elems - nest.matrix_elems
    bias_pmus = (
        np.maximum(_cdiv(bias_elems * wbytes, cap), _cdiv(hu * wbytes, read_width))
        if bias_elems
        else zero
    )
    # A buffer takes the hu words a cycle its nest writes (and its consumer reads).
    buffer_pmus = (
        np.maximum(
            _cdiv(nest.buffer_elems * WORD_BYTES, cap),
            _cdiv(hu * WORD_BYTES, read_width),
        )
        if nest.buffer_elems
        else zero
    )
    return NestArrays(
        hu=hu,
        ru=ru,
        rv=rv,
        iterations=iterations,
        chunks=chunks,
        ii=ii,
        compute=iterations * ii,
        pmu_read=zero + arch.pmu_read_latency(),
        transfer_in=zero + transfer,
        map_reduce=map_reduce,
        reduction_tree=reduction_tree,
        elementwise=zero + chain,
        writeback=zero + transfer + arch.timing.pmu_write_cycles,
        sync=zero + arch.control_sync_latency(),
        map_reduce_pcus=map_reduce_pcus,
        combine_pcus=combine_pcus,
        elementwise_pcus=elementwise_pcus,
        weight_pmus=weight_pmus,
        other_pmus=operand_pmus + bias_pmus + buffer_pmus + elementwise_pcus,
        weight_bytes=weight_bytes,
        read_bytes_per_cycle=read_bytes,
        slice_count=slice_count,
        slice_bytes=slice_bytes,
        fixed_bytes=zero + bias_elems * wbytes + nest.buffer_elems * WORD_BYTES,
    )


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
    """Home PMUs of the recurrent state (h, c and x, double-buffered)."""
    return math.ceil(program.state_elems * WORD_BYTES / arch.pmu.capacity_bytes)


def exchange_cycles(chip_program: ProgramSpec, arch: Architecture, chips: int) -> int:
    """Per step over several chips: a ring all-gather of h. Each chip owns the slice of h
    its share of the foreach produces, sent as 32-bit words; chips - 1 ring steps."""
    if chips == 1:
        return 0
    slice_bytes = chip_program.recurrent_elems * WORD_BYTES
    hop = arch.interchip.link_latency_cycles + math.ceil(
        slice_bytes / arch.interchip_bytes_per_cycle()
    )
    return (chips - 1) * hop


def resident_bytes(pmus: Array, count: Array, slice_bytes: Array, cap: int) -> Array:
    """Weight bytes `pmus` PMUs can hold, filled greedily: whole-capacity PMUs of any slice
    first, then the partly filled last PMUs of slices, largest first. This maximizes the
    bytes on chip, so the fewest are streamed. `count`/`slice_bytes`: (groups, N)."""
    pmus = np.maximum(pmus, 0)
    if slice_bytes.shape[0] == 0:
        return np.zeros_like(pmus)
    per_slice = _cdiv(slice_bytes, cap)
    full = (count * (per_slice - 1)).sum(axis=0)
    tails = slice_bytes - (per_slice - 1) * cap
    if slice_bytes.shape[0] == 1:
        taken = np.clip(pmus - full, 0, count[0])
        return cap * np.minimum(pmus, full) + tails[0] * taken
    order = np.argsort(-tails, axis=0, kind="stable")
    tails = np.take_along_axis(tails, order, axis=0)
    counts = np.take_along_axis(count, order, axis=0)
    before = np.cumsum(counts, axis=0) - counts
    taken = np.clip(pmus - full - before, 0, counts)
    return cap * np.minimum(pmus, full) + (tails * taken).sum(axis=0)


def program_arrays(
    program: ProgramSpec,
    nests: Sequence[NestArrays],
    arch: Architecture,
    budget: Budget,
    chips: int,
) -> ProgramArrays:
    """Combine per-nest arrays (broadcast against each other) into program totals."""
    cap = arch.pmu.capacity_bytes
    compute = sum(n.compute for n in nests)
    natural = sum(n.iterations * n.chunks for n in nests)
    fill = sum(n.fill for n in nests)
    sync = sum(n.sync for n in nests)
    pcus = sum(n.pcus for n in nests)
    nonweight = state_pmus(program, arch) + sum(n.other_pmus for n in nests)
    slots = sum(n.weight_pmus for n in nests)
    shape = np.broadcast_shapes(*(n.hu.shape for n in nests))
    count = np.concatenate([np.broadcast_to(n.slice_count, (n.slice_count.shape[0], *shape))
                            for n in nests])
    slices = np.concatenate([np.broadcast_to(n.slice_bytes, (n.slice_bytes.shape[0], *shape))
                             for n in nests])
    weight_pmus = budget.pmus - nonweight
    weight_bytes = sum(n.weight_bytes for n in nests)
    resident = resident_bytes(weight_pmus, count, slices, cap)
    streamed = weight_bytes - resident
    stream = np.ceil(streamed / arch.dram_bytes_per_cycle()).astype(np.int64)
    overhead = arch.timing.step_overhead_cycles
    exchange = exchange_cycles(program, arch, chips)
    state_bytes = program.state_elems * WORD_BYTES
    return ProgramArrays(
        compute=np.broadcast_to(compute, shape),
        stream=stream,
        fill=np.broadcast_to(fill, shape),
        sync=np.broadcast_to(sync, shape),
        overhead=overhead,
        exchange=exchange,
        cycles_per_step=np.maximum(compute, stream) + fill + sync + overhead + exchange,
        pcus=np.broadcast_to(pcus, shape),
        pmus=nonweight + np.minimum(np.maximum(weight_pmus, 0), slots),
        nonweight_pmus=np.broadcast_to(nonweight, shape),
        weight_bytes=np.broadcast_to(weight_bytes, shape),
        resident_bytes=resident,
        streamed_bytes=streamed,
        on_chip_bytes=resident + sum(n.fixed_bytes for n in nests) + state_bytes,
        read_bytes_per_cycle=np.broadcast_to(sum(n.read_bytes_per_cycle for n in nests), shape),
        fits=(pcus <= budget.pcus) & (nonweight <= budget.pmus),
        natural_compute=np.broadcast_to(natural, shape),
    )


def point_bound(
    *,
    pcus: int,
    nonweight_pmus: int,
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
    if nonweight_pmus > budget.pmus:
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
        extent = math.ceil(nest.extent / chips)
        bias = nest.weight_elems - nest.matrix_elems
        return NestSpec(
            name=nest.name,
            extent=extent,
            reductions=nest.reductions,
            elementwise_depth=nest.elementwise_depth,
            weight_elems=extent * sum(nest.reductions) + math.ceil(bias * extent / nest.extent),
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
) -> Cost:
    """Cost of `program` with one `Factors` per nest. `precision` is one of the
    architecture's modes ("mixed", "fp32"; None: its default). With `chips` > 1 the
    foreach iterations are split over that many chips and the factors apply to each
    chip's share; cycles and resources are then per chip."""
    mode = arch.precision(precision)
    budget = budget or Budget.of(arch)
    chip_program = per_chip_program(program, chips)
    check_factors(chip_program, factors, arch, mode)
    arrays = [
        nest_arrays(
            nest, np.array([f.hu]), np.array([f.ru]), np.array([f.rv]), arch=arch, mode=mode
        )
        for nest, f in zip(chip_program.nests, factors, strict=True)
    ]
    totals = program_arrays(chip_program, arrays, arch, budget, chips)
    return _cost(
        chip_program, factors, arrays, totals, arch=arch, mode=mode, budget=budget, chips=chips
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
                transfer_in=scalar(a.transfer_in),
                map_reduce=scalar(a.map_reduce),
                reduction_tree=scalar(a.reduction_tree),
                elementwise=scalar(a.elementwise),
                writeback=scalar(a.writeback),
            ),
            sync_cycles=scalar(a.sync),
            map_reduce_pcus=scalar(a.map_reduce_pcus),
            combine_pcus=scalar(a.combine_pcus),
            elementwise_pcus=scalar(a.elementwise_pcus),
            weight_pmus=scalar(a.weight_pmus),
            other_pmus=scalar(a.other_pmus),
            weight_bytes=scalar(a.weight_bytes),
        )
        for nest, f, a in zip(program.nests, factors, arrays, strict=True)
    )
    per_step = scalar(totals.cycles_per_step)
    total = per_step * program.steps
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
            nonweight_pmus=scalar(totals.nonweight_pmus),
            compute=scalar(totals.compute),
            natural=scalar(totals.natural_compute),
            stream=scalar(totals.stream),
            streamed=streamed,
            fixed=scalar(totals.fill + totals.sync) + totals.overhead + totals.exchange,
            budget=budget,
        ),
    )


# ----------------------------------------------------------------------------------------
# Program descriptions of the RNN cells (cross-checked against the loop dialect's)
# ----------------------------------------------------------------------------------------

# Critical path of the fused cell's element-wise ops after the gates' dot products.
# LSTM: bias add, LUT (sigmoid/tanh), {f*c, i*j}, add -> c, tanh LUT, * o -> h.
# GRU (linear_before_reset, the cuDNN form that runs in one pass, paper-notes §2.2):
#   bias add, sigmoid LUT (r), r * (Rn h + Rbn), + (Wn x + Wbn), tanh LUT -> n,
#   (1 - z) * n, + z * h -> h.
# RNN: bias add, tanh LUT.
FUSED_DEPTH = {"lstm": 6, "gru": 7, "rnn": 2}


def _cell_gates(cell: str) -> int:
    if cell not in CELL_GATES:
        raise CostError(f"unknown cell '{cell}' (expected one of {', '.join(CELL_GATES)})")
    return CELL_GATES[cell]


def _bias_elems(cell: str, hidden: int) -> int:
    """ONNX has input and recurrent biases; they are pre-summed per gate, except the GRU
    candidate gate's recurrent bias, which linear_before_reset multiplies by r."""
    gates = _cell_gates(cell)
    return gates * hidden + (hidden if cell == "gru" else 0)


def _state_elems(cell: str, hidden: int, input: int) -> int:
    """h and x double-buffered (step t reads h(t-1) and x(t) while h(t) and x(t+1) are
    written); LSTM's c is read and written by the same iteration, so single-buffered."""
    return 2 * hidden + 2 * input + (hidden if cell == "lstm" else 0)


def fused_cell_program(cell: str, hidden: int, input: int, steps: int) -> ProgramSpec:
    """The paper's fused cell: one foreach over the hidden units whose body holds the G
    gates' dot products over [x, h] (length D + H) and the whole element-wise update."""
    gates = _cell_gates(cell)
    reduction = input + hidden
    nest = NestSpec(
        name=f"{cell}_cell",
        extent=hidden,
        reductions=(reduction,) * gates,
        elementwise_depth=FUSED_DEPTH[cell],
        weight_elems=gates * hidden * reduction + _bias_elems(cell, hidden),
        buffer_elems=0,
    )
    return ProgramSpec(steps, (nest,), _state_elems(cell, hidden, input))


def _elementwise(name: str, extent: int, weights: int = 0) -> NestSpec:
    """One BLAS-style element-wise kernel: one op per element into a full buffer."""
    return NestSpec(name, extent, (), 1, weights, extent)


def decomposed_cell_program(cell: str, hidden: int, input: int, steps: int) -> ProgramSpec:
    """The BLAS-style program the paper argues against (cuDNN/TensorFlow structure):
    separate matrix-vector products for W x and R h over all gates stacked, then one
    kernel per element-wise op, each writing a full intermediate buffer."""
    gates = _cell_gates(cell)
    rows = gates * hidden
    nests = [
        NestSpec("mv_x", rows, (input,), 0, rows * input, rows),
        NestSpec("mv_h", rows, (hidden,), 0, rows * hidden, rows),
    ]
    if cell == "gru":
        nests += [
            _elementwise("add_bias_x", rows, rows),
            _elementwise("add_bias_h", rows, rows),
            _elementwise("add_rz", 2 * hidden),
            _elementwise("sigmoid_r", hidden),
            _elementwise("sigmoid_z", hidden),
            _elementwise("mul_r_hn", hidden),
            _elementwise("add_n", hidden),
            _elementwise("tanh_n", hidden),
            _elementwise("one_minus_z", hidden),
            _elementwise("mul_zn", hidden),
            _elementwise("mul_zh", hidden),
            _elementwise("add_h", hidden),
        ]
    else:
        nests += [_elementwise("add_xh", rows), _elementwise("add_bias", rows, rows)]
        if cell == "lstm":
            nests += [
                _elementwise("sigmoid_i", hidden),
                _elementwise("tanh_j", hidden),
                _elementwise("sigmoid_f", hidden),
                _elementwise("sigmoid_o", hidden),
                _elementwise("mul_fc", hidden),
                _elementwise("mul_ij", hidden),
                _elementwise("add_c", hidden),
                _elementwise("tanh_c", hidden),
                _elementwise("mul_oh", hidden),
            ]
        else:
            nests.append(_elementwise("tanh_h", hidden))
    return ProgramSpec(steps, tuple(nests), _state_elems(cell, hidden, input))


def paper_flops(cell: str, hidden: int, input: int, steps: int) -> int:
    """The paper's FLOP count: 2 G H (H + D) T, the matrix-vector multiply-adds only."""
    return 2 * _cell_gates(cell) * hidden * (hidden + input) * steps


# ----------------------------------------------------------------------------------------
# The paper's DeepBench tasks (compiler/arch/paper_deepbench.json)
# ----------------------------------------------------------------------------------------

# Table 7 prints hu = 2 for every GRU task, but 2 x 3 gates x 8 x 64 MACs a cycle cannot
# reach the reported 15 TFLOPS; hu = 5 reproduces every GRU latency (paper-notes §5.5).
GRU_TABLE7_HU = 5


@dataclass(frozen=True)
class PaperTask:
    """One DeepBench task as the paper reports it."""

    cell: str
    hidden: int
    input: int
    steps: int
    latency_ms: dict[str, float]
    """Published latencies: plasticine, brainwave_stratix10, v100_cudnn_fp16, xeon_tf."""
    table7: Factors
    """The paper's Plasticine design point (GRU hu corrected to 5)."""

    @property
    def label(self) -> str:
        return f"{self.cell.upper()}-{self.hidden} T={self.steps}"

    def fused(self) -> ProgramSpec:
        return fused_cell_program(self.cell, self.hidden, self.input, self.steps)

    def decomposed(self) -> ProgramSpec:
        return decomposed_cell_program(self.cell, self.hidden, self.input, self.steps)

    @property
    def flops(self) -> int:
        return paper_flops(self.cell, self.hidden, self.input, self.steps)


def paper_tasks() -> tuple[PaperTask, ...]:
    """The 11 DeepBench tasks of the paper's Table 6, in its order."""
    from rnnc.target.arch import PAPER_DEEPBENCH

    tasks = json.loads(PAPER_DEEPBENCH.read_text())["tasks"]
    return tuple(
        PaperTask(
            cell=task["cell"],
            hidden=task["hidden"],
            input=task["input"],
            steps=task["steps"],
            latency_ms=dict(task["latency_ms"]),
            table7=Factors(
                hu=GRU_TABLE7_HU if task["cell"] == "gru"
                else task["plasticine_params_as_printed"]["hu"],
                ru=task["plasticine_params_as_printed"]["ru"],
                rv=task["plasticine_params_as_printed"]["rv"],
            ),
        )
        for task in tasks
    )


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
    "PaperTask",
    "ProgramSpec",
    "decomposed_cell_program",
    "evaluate",
    "fused_cell_program",
    "paper_flops",
    "paper_tasks",
]
