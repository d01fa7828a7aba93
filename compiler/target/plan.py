"""How a loop nest is laid out on units, decided once per nest and design point.

`nest_plan(spec, par, ru, rv, arch=..., mode=...)` is that decision: a `NestPlan` giving,
for the nest described by `spec` (`NestSpec`, read off the loop level by
`rnnc.analysis.program`) at copies `par` per foreach dimension and reduce factors (ru, rv),

* the units: map-reduce PCUs (`parts` per slot and copy), the combining trees
  (`combine_step`), or none when the spec chains its partial sums in the map-reduce units
  (`chained_sums`: `sum_inputs` per unit, `chain_depth` adds deep), the element-wise
  chain (`levels` PCUs deep, `per_pcu` copies in each one's lanes) and the gather trees
  merging its writes (`gather_step`);
* the PMUs: weight slices by kind (`WeightSlices`: how many, bytes, rows, and where each
  lives -- one PMU, split over two, or partly streamed from DRAM every step), the operand
  PMUs, the element-wise units' own PMUs and their lookup tables;
* the bytes: resident, streamed per step, read per cycle.

Every field is a numpy array over the design points (the design-space search plans
thousands at a time) or a 0-d array for one point (`spatial-partition` builds its units
from the plan of each nest at the factors on the loops). `rnnc.target.cost` sums the plan
and adds timing to it; nothing here is decided a second time elsewhere.

The rules the plan is made of are the functions below (`copies_per_dim`,
`reduction_parts`, `combine_step`, `elementwise_copies`, `gather_step`,
`weight_placement`, ...); each works on arrays and on plain ints.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rnnc.target import chained_sums, joint_chunks
from rnnc.target.arch import Architecture, Precision
from rnnc.target.format_blocks import kind_blocks
from rnnc.target.parts import Array, IntLike, cdiv, chunk_count, reduction_parts


class CostError(ValueError):
    """A program or factor choice the model cannot cost (a caller bug, not user input)."""


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
    # -- the layout on units (`rnnc.analysis.layout`; defaults: a one-dimensional foreach
    #    whose every iteration has its own weight rows, a one-level chain)
    shape: tuple[int, ...] = ()
    """The foreach's extents (their product is `extent`); () means (extent,)."""
    weight_dims: tuple[int, ...] | None = None
    """Dimensions the weights depend on (copies differing elsewhere share a slice: a
    batch); None means all."""
    operand_dims: tuple[int, ...] = ()
    """Dimensions the reductions' operands ([x, h]) depend on."""
    operand_groups: tuple[tuple[int, ...], ...] | None = None
    """Slots (see `slots`) whose map-reduce units read the same operand ranges (one PMU set
    per group); None means one group of all slots."""
    width: int = 1
    """The most element-wise ops at one depth of the chain."""
    live: int = 0
    """Values one level of the chain passes to the next, per copy."""
    results: int | None = None
    """Reduction results (scalar streams) per copy the busiest chain level takes; None
    means one per slot."""
    global_write_levels: int = 1
    """Chain levels whose writes go to a memory read elsewhere (merged by a gather tree)."""
    read_groups: tuple[int, ...] | None = None
    """Per chain level, the PMUs of its own each of its PCUs reads from; None means one at
    the first level."""
    lut_levels: int = 0
    """Chain levels computing nonlinearities (a lookup-table PMU per PCU in `mixed`)."""
    ahead: tuple[int, ...] = ()
    """Per reduction, the length of its leading part that reads nothing the time loop
    writes (the input projection W_x x(t), computable a step ahead:
    `rnnc.target.step_ahead`); () when some reduction has no such part or no part after."""
    segments: tuple[tuple[int, ...], ...] | None = None
    """Per reduction, the lengths of the stretches of its weights that are rows of one
    array (the fused cell's [W R]: (D, H)), whose blocks a block-scaled format starts
    afresh; None means one per reduction."""
    chained_sums: bool = False
    """Whether the parts of its reductions add their partial sums in their map-reduce
    units where the chip allows (`rnnc.target.chained_sums`) instead of combining PCUs."""
    vector_inputs: int = 0
    """The most vector inputs one element-wise PCU of the chain uses: streams from earlier
    levels, its own PMUs and a lookup table (`rnnc.analysis.layout.LevelLayout`)."""
    joint_chunks: bool = False
    """Whether a slot of several reductions cuts them as one chunk sequence
    (`rnnc.target.joint_chunks`) instead of each in `ru` parts of its own."""

    def segments_of(self, reduction: int) -> tuple[int, ...]:
        """The segment lengths of reduction `reduction` (see `segments`)."""
        if self.segments is None:
            return (self.reductions[reduction],)
        return self.segments[reduction]

    def __post_init__(self) -> None:
        if not self.shape:
            object.__setattr__(self, "shape", (self.extent,))
        if self.segments is not None and all(len(s) == 1 for s in self.segments):
            object.__setattr__(self, "segments", None)  # one spelling of the default
        if self.segments is not None and tuple(map(sum, self.segments)) != self.reductions:
            raise CostError(f"nest '{self.name}': segments {self.segments} do not add up to "
                            f"the reductions {self.reductions}")
        if math.prod(self.shape) != self.extent:
            raise CostError(f"nest '{self.name}': shape {self.shape} is not {self.extent} long")
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
    def slots(self) -> tuple[tuple[int, ...], ...]:
        """The reductions packed onto map-reduce units (`plan.pack_reductions`)."""
        return pack_reductions(self.reductions)

    def joint(self, slot: int) -> bool:
        """Whether slot `slot`'s reductions form one chunk sequence (`joint_chunks`)."""
        return self.joint_chunks and len(self.slots[slot]) > 1

    def slot_lengths(self, slot: int) -> list[int]:
        return [self.reductions[i] for i in self.slots[slot]]

    @property
    def map_reduce_units(self) -> tuple[int, ...]:
        """The lengths each map-reduce unit of one copy reduces, per slot."""
        return tuple(sum(self.reductions[i] for i in slot) for slot in self.slots)

    @property
    def weight_rows(self) -> int:
        """Distinct weight rows over the whole foreach (the weights' own dimensions)."""
        dims = range(len(self.shape)) if self.weight_dims is None else self.weight_dims
        return math.prod(self.shape[d] for d in dims)

    @property
    def gates(self) -> int:
        """G: map-reduce units per foreach iteration (one per dot product over [x, h])."""
        return len(self.map_reduce_units)

    @property
    def matrix_elems(self) -> int:
        """Weights the reductions multiply: one row of each reduction per weight row (every
        iteration of a batch reads the same rows)."""
        return self.weight_rows * sum(self.reductions)

    @property
    def macs(self) -> int:
        return self.extent * sum(self.reductions)

# Intermediate buffers, biases added in 32-bit and the recurrent state are held as 32-bit
# words (paper §4.1: accumulation and element-wise operations are 32-bit).
WORD_BYTES = 4
STREAM_BUFFERS = 2
"""Rows of a weight slice streamed from DRAM that its FIFO PMU buffers (double-buffered)."""


def pack_reductions(lengths: Sequence[int]) -> tuple[tuple[int, ...], ...]:
    """Reductions shorter than the longest share a map-reduce unit while their lengths add
    up to no more than it (first fit, longest first; ties in program order): the units'
    slots, as indices into `lengths`. A GRU's candidate gate keeps its x and h products
    apart (r scales only the h part), and so costs what one gate over [x, h] does."""
    longest = max(lengths, default=0)
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    slots: list[list[int]] = []
    used: list[int] = []
    for i in order:
        fit = next((k for k, u in enumerate(used) if u + lengths[i] <= longest), None)
        if fit is None:
            slots.append([i])
            used.append(lengths[i])
        else:
            slots[fit].append(i)
            used[fit] += lengths[i]
    return tuple(tuple(sorted(slot)) for slot in slots)


def copies_per_dim(extents: Sequence[int], hu: IntLike) -> list[Array]:
    """`hu` copies spread over a foreach's dimensions, innermost (hidden units) first: the
    innermost dimension takes min(hu, extent) copies, the next min(hu // that, extent),
    and so on. The product can be less than hu (what does not divide is not used)."""
    remaining = np.asarray(hu, dtype=np.int64)
    par: list[Array] = [np.ones_like(remaining)] * len(extents)
    for dim in reversed(range(len(extents))):
        par[dim] = np.maximum(1, np.minimum(remaining, extents[dim]))
        remaining = np.maximum(1, remaining // par[dim])
    return par


def _product(values: Sequence[IntLike], like: Array) -> Array:
    total = np.ones_like(like)
    for value in values:
        total = total * value
    return total


def iterations(extents: Sequence[int], hu: IntLike) -> Array:
    """Iterations of the busiest copy: the product of ceil(extent / par) over dims."""
    par = copies_per_dim(extents, hu)
    return rows(extents, range(len(extents)), par)


def rows(extents: Sequence[int], dims: Sequence[int], par: Sequence[Array]) -> Array:
    """Distinct values, for the largest copy, of the foreach dimensions `dims` at copies
    `par` per dimension (e.g. the weight rows one map-reduce copy reads: its hidden units,
    not its batch elements)."""
    like = np.asarray(par[0]) if par else np.ones((), dtype=np.int64)
    return _product([cdiv(extents[d], par[d]) for d in dims], like)


def sharing_copies(dims: Sequence[int], par: Sequence[Array]) -> Array:
    """Copies that read distinct rows along `dims`: the product of their par (copies that
    differ only in other dimensions share one weight slice, multicast)."""
    like = np.asarray(par[0]) if par else np.ones((), dtype=np.int64)
    return _product([par[d] for d in dims], like)


def part_bounds(length: int, ru: int, rv: int) -> list[tuple[int, int]]:
    """[start, stop) of each non-empty part of a reduction (the partition's view)."""
    span = int(chunk_count(length, ru, rv)) * rv
    return [(start, min(start + span, length)) for start in range(0, length, span)]


def merge_groups(count: int, fan_in: int) -> tuple[list[range], list[int]]:
    """One level of a tree merging `count` inputs `fan_in` at a time, in order: (the groups
    of two or more one unit each merges, the inputs passed on unmerged: a last group of
    one). `combine_step` (more partials than `fan_in`) and `gather_step` count these."""
    groups = [range(k, min(k + fan_in, count)) for k in range(0, count, fan_in)]
    return [g for g in groups if len(g) > 1], [g[0] for g in groups if len(g) == 1]


def combine_step(partials: IntLike, fan_in: int, outputs: int) -> tuple[Array, Array, Array]:
    """One level of a combining tree while a dot product has `partials` partial sums:
    (sums per dot product made at this level, dot products one PCU of the level serves,
    partial sums per dot product after it).

    A combining PCU takes at most `fan_in` scalar inputs. While a dot product has more
    partials than that, they go in groups of `fan_in` to PCUs of their own (one output
    each; a last group of one value passes on unchanged). When they fit one PCU, several
    dot products share it, as many as fit its inputs and `outputs`; one partial is done."""
    p = np.asarray(partials, dtype=np.int64)
    wide = p > fan_in
    sums = np.where(wide, p // fan_in + ((p % fan_in) > 1), (p > 1).astype(np.int64))
    shared = np.maximum(np.minimum(fan_in // np.maximum(p, 1), outputs), 1)
    return sums, np.where(wide, 1, shared), np.where(wide, cdiv(p, fan_in), 1)


def combine_tree(dots: IntLike, partials: IntLike, fan_in: int, outputs: int) -> Array:
    """PCUs that add up `partials` partial sums of each of `dots` dot products, level by
    level as `combine_step` says."""
    dots = np.asarray(dots, dtype=np.int64)
    p = np.broadcast_to(np.asarray(partials, dtype=np.int64), np.broadcast(dots, partials).shape)
    pcus = np.zeros(p.shape, dtype=np.int64)
    while (p > 1).any():
        sums, per_pcu, p = combine_step(p, fan_in, outputs)
        pcus = pcus + cdiv(dots * sums, per_pcu)
    return pcus


def tree_levels(inputs: IntLike, fan_in: int) -> Array:
    """Levels of a tree merging `inputs` values `fan_in` at a time (the transfers a value
    goes through): a combining tree's partial sums, a gather tree's streams."""
    p = np.asarray(inputs, dtype=np.int64)
    levels = np.zeros_like(p)
    while (p > 1).any():
        levels = levels + (p > 1)
        p = np.where(p > 1, cdiv(p, fan_in), 1)
    return levels


def elementwise_copies(
    copies_: IntLike, *, lanes: int, scalar_inputs: int, width: int, live: int, results: int
) -> Array:
    """Copies one element-wise PCU serves in its lanes: each stage runs `width` ops (the
    most ops of one depth) on every copy, `live` values per copy cross from one PCU of the
    chain to the next in one vector, and `results` reduction results per copy arrive on
    scalar inputs."""
    c = lanes // max(width, live, 1)
    if results:
        c = min(c, scalar_inputs // results)
    return np.minimum(np.asarray(copies_, dtype=np.int64), max(c, 1))


def gather_step(writers: IntLike, fan_in: int) -> tuple[Array, Array]:
    """One level of a gather tree merging `writers` streams `fan_in` at a time: (PCUs of
    the level, streams after it); a last group of one stream passes on unmerged."""
    w = np.asarray(writers, dtype=np.int64)
    merging = w > 1
    pcus = np.where(merging, w // fan_in + (w % fan_in > 1), 0)
    return pcus, np.where(merging, cdiv(w, fan_in), w)


def gather_tree(writers: IntLike, fan_in: int) -> Array:
    """PCUs merging `writers` streams into one (0 for one writer), as `gather_step` says."""
    w = np.asarray(writers, dtype=np.int64)
    pcus = np.zeros_like(w)
    while (w > 1).any():
        level, w = gather_step(w, fan_in)
        pcus = pcus + level
    return pcus


def slot_parts(lengths: Sequence[int], ru: IntLike, rv: IntLike) -> Array:
    """Map-reduce units one copy of a slot needs: its longest reduction's parts."""
    return np.max(np.stack([reduction_parts(n, ru, rv)[0] for n in lengths]), axis=0)


def slot_chunks(lengths: Sequence[int], ru: IntLike, rv: IntLike) -> Array:
    """Chunks the busiest unit of a slot folds per iteration: one part of each reduction."""
    return sum(chunk_count(n, ru, rv) for n in lengths)  # type: ignore[return-value]


def slot_slices(
    lengths: Sequence[int], ru: IntLike, rv: IntLike
) -> list[tuple[Array, Array, Array]]:
    """The weight slices of one copy of a slot as (how many, padded elements per row,
    elements per row): part r of the slot holds, for each reduction, its part r's chunks of
    rv (whole parts `chunk_count` chunks, the last part of a reduction fewer, parts beyond
    it none). A PMU holds the padded row (its unit reads whole chunks); DRAM holds, and a
    stream moves, only the elements."""
    rv_ = np.asarray(rv, dtype=np.int64)
    states = []
    for n in lengths:
        _, full, last = reduction_parts(n, ru, rv)
        chunks = chunk_count(n, ru, rv)
        has_last = (last > 0).astype(np.int64)
        rest = n - full * chunks * rv_
        # (start, stop) of the parts r in each state, the chunks and the elements a part
        # holds there
        states.append((
            (np.zeros_like(full), full, chunks, chunks * rv_),
            (full, full + has_last, last, rest),
        ))  # fmt: skip
    parts = slot_parts(lengths, ru, rv)
    found: list[tuple[Array, Array, Array]] = []
    for combo in itertools.product(*[(0, 1, 2)] * len(lengths)):
        lo = np.zeros_like(parts)
        hi = parts.copy()
        chunks = np.zeros_like(parts)
        elements = np.zeros_like(parts)
        for state, options in zip(combo, states, strict=True):
            if state < 2:
                start, stop, count, held = options[state]
            else:  # beyond this reduction's parts
                start, stop = options[1][1], parts
                count = held = np.zeros_like(parts)
            lo, hi = np.maximum(lo, start), np.minimum(hi, stop)
            chunks = chunks + count
            elements = elements + held
        number = np.maximum(hi - lo, 0)
        found.append((number, chunks * rv_, elements))
    return found


def spec_slot_parts(spec: NestSpec, slot: int, ru: IntLike, rv: IntLike) -> Array:
    """Map-reduce units one copy of slot `slot` needs: `slot_parts`, or the parts of its
    one chunk sequence (`joint_chunks.parts`)."""
    lengths = spec.slot_lengths(slot)
    return joint_chunks.parts(lengths, ru, rv) if spec.joint(slot) else slot_parts(lengths, ru, rv)


def spec_slot_chunks(spec: NestSpec, slot: int, ru: IntLike, rv: IntLike) -> Array:
    """Chunks the busiest unit of slot `slot` folds per iteration: `slot_chunks`, or a
    part of its one chunk sequence (`joint_chunks.span`)."""
    lengths = spec.slot_lengths(slot)
    return joint_chunks.span(lengths, ru, rv) if spec.joint(slot) else slot_chunks(lengths, ru, rv)


def spec_slot_slices(
    spec: NestSpec, slot: int, ru: IntLike, rv: IntLike
) -> list[tuple[Array, Array, Array]]:
    """The weight-slice kinds of slot `slot`: `slot_slices`, or those of its one chunk
    sequence (`joint_chunks.slices`)."""
    lengths = spec.slot_lengths(slot)
    if spec.joint(slot):
        return joint_chunks.slices(lengths, ru, rv)
    return slot_slices(lengths, ru, rv)


def slot_kinds(spec: NestSpec, slot: int) -> int:
    """How many of `WeightSlices`' kinds slot `slot` has (`spec_slot_slices`)."""
    if spec.joint(slot):
        return joint_chunks.kinds(spec.slot_lengths(slot))
    return 3 ** len(spec.slots[slot])


def part_kind(lengths: Sequence[int], ru: int, rv: int, part: int) -> int:
    """Which of `slot_slices`' kinds part `part` of a slot's map-reduce units holds: for
    each reduction, a whole part, its last (shorter) part, or none (beyond its parts)."""
    kind = 0
    for n in lengths:
        _, full, last = (int(v) for v in reduction_parts(n, ru, rv))
        state = 0 if part < full else 1 if part < full + (last > 0) else 2
        kind = 3 * kind + state
    return kind


def weight_placement(
    slice_bytes: IntLike, last_rows: IntLike, *, capacity: int, vector_inputs: int,
    buffer_bytes: IntLike = 0,
) -> tuple[Array, Array, Array]:
    """Where a map-reduce unit's weight slice of `slice_bytes` lives, as (PMUs, rows of the
    first PMU, rows held on chip), rows counted along the weights' last dimension
    (`last_rows` of them):

    * in one PMU when it fits: 1, all rows, all rows;
    * split by rows over two PMUs when half the rows fit one, the unit reading the second
      on a vector input of its own (it needs one more for its operand): 2, half, all rows;
    * else only the overflow streams: the first PMU holds as many rows as fit it, the
      second (a FIFO PMU on the unit's other weight input) as many more as fit beside its
      stream buffer (`buffer_bytes`, `STREAM_BUFFERS` rows), and the rest streams from
      DRAM every step through that buffer: 2, head, head + tail (a unit reads one PMU per
      vector input, so no placement of these factors holds more);
      without room for a row or a second weight input, all of it streams: 1, 0, 0.

    Every copy's slice is placed alike, by the largest copy's bytes (`nest_plan`)."""
    slice_bytes = np.asarray(slice_bytes, dtype=np.int64)
    last_rows = np.asarray(last_rows, dtype=np.int64)
    row = np.maximum(slice_bytes // last_rows, 1)
    two_inputs = vector_inputs >= 3
    fits = slice_bytes <= capacity
    split = ~fits & (row * cdiv(last_rows, 2) <= capacity) & two_inputs
    zero = np.zeros_like(row)
    head = np.minimum(capacity // row, last_rows) if two_inputs else zero
    tail = np.maximum((capacity - np.asarray(buffer_bytes)) // row, 0)
    streams = ~(fits | split)
    held = np.where(streams, np.where(head > 0, np.minimum(head + tail, last_rows), 0),
                    last_rows)
    first = np.where(split, cdiv(last_rows, 2), np.where(streams, head, last_rows))
    return np.where(fits | (held == 0), 1, 2), first, held


# ----------------------------------------------------------------------------------------
# The plan of a nest
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightSlices:
    """A nest's weight slices by kind (axis 0: for each slot in order, `slot_slices`'
    kinds; `NestPlan.kind_of` names the kind of a map-reduce unit) at the design points
    (the other axes). Every copy's slice of a kind is placed like the largest copy's
    (`rows` weight rows, `last_rows` of them along the weights' last dimension): the same
    PMUs, cut at the same row; a PMU holds the rows of its own copy."""

    per_copy: Array
    """Slices of the kind per copy of the weights."""
    count: Array
    """Slices of the kind in the nest (a map-reduce unit each)."""
    row_bytes: Array
    """Bytes of one row as a PMU holds it: whole `rv`-element chunks of each reduction."""
    row_words: Array
    """Elements of one row as a PMU holds it (whole chunks)."""
    row_elements: Array
    """Elements of one row (what DRAM holds and a stream moves: no padding)."""
    stream_row_bytes: Array
    """Bytes of one row's elements as stored (what a stream moves)."""
    rows: Array
    last_rows: Array
    pmus: Array
    """PMUs one slice takes (`weight_placement`): 1, or 2 (split, or a head and a FIFO)."""
    piece_rows: Array
    """Rows along the last dimension of the slice's first PMU: all of them, the first
    half when split over two, the head when the rest streams (0: all streamed)."""
    held_rows: Array
    """Rows along the last dimension held on chip (a streamed slice's head and the tail
    its FIFO PMU keeps beside the stream buffer); the others stream every step."""
    resident_rows: Array
    """Weight rows (of all the nest's) the slices of the kind hold in PMUs, every copy's."""
    weight_rows: int

    @property
    def bytes(self) -> Array:
        """Bytes of one slice, all its rows held (before placement)."""
        return self.rows * self.row_bytes

    @property
    def streamed(self) -> Array:
        return self.held_rows < self.last_rows

    @property
    def resident_bytes(self) -> Array:
        """Bytes of the rows held in PMUs, as they hold them (padded rows)."""
        return (self.per_copy * self.row_bytes * self.resident_rows).sum(axis=0)

    @property
    def streamed_elements(self) -> Array:
        """Elements streamed from DRAM every step (a stream moves no padding)."""
        streamed_rows = self.weight_rows - self.resident_rows
        return (self.per_copy * self.row_elements * streamed_rows).sum(axis=0)

    @property
    def streamed_bytes(self) -> Array:
        """Bytes streamed from DRAM every step, in the weights' storage format."""
        streamed_rows = self.weight_rows - self.resident_rows
        return (self.per_copy * self.stream_row_bytes * streamed_rows).sum(axis=0)


@dataclass(frozen=True)
class NestPlan:
    """The units, PMUs and bytes of one nest at design points (see the module doc). Counts
    are for the whole nest; `par`, `ru` and `rv` are the factors it was planned at."""

    spec: NestSpec
    par: tuple[Array, ...]
    ru: Array
    rv: Array
    copies: Array
    iterations: Array
    """Iterations of the busiest copy."""
    parts: tuple[Array, ...]
    """Per slot: map-reduce units (non-empty parts of its longest reduction) per copy."""
    chunks: Array
    """`rv`-chunks the busiest map-reduce unit folds per iteration (1 without reductions)."""
    combine_pcus: Array
    combine_levels: Array
    chain_depth: Array
    """Partial sums added one after another in the map-reduce units' free stages on the
    longest path (`chained_sums.chain_depth`); 0 when combining PCUs add them."""
    sum_inputs: int
    """Partial sums one map-reduce unit adds (`chained_sums.sum_inputs`); 0 unless the
    spec chains its sums and the chip can."""
    weights: WeightSlices
    operand_pmus: Array
    levels: int
    """PCUs of the element-wise chain, one after another (`stages` ops each)."""
    per_pcu: Array
    """Copies one element-wise PCU serves side by side in its lanes."""
    gather_pcus: Array
    gather_levels: Array
    element_pmus: Array
    tables: bool
    """Whether nonlinearities are lookup tables in PMUs (the `mixed` mode)."""
    lut_pmus: Array
    read_bytes_per_cycle: Array
    mode: Precision
    """The precision, whose format says the bytes of a row of weights."""

    @property
    def map_reduce_pcus(self) -> Array:
        return self.copies * sum(self.parts, np.zeros_like(self.copies))

    @property
    def groups(self) -> Array:
        """Element-wise PCUs per level of the chain."""
        return cdiv(self.copies, self.per_pcu)

    @property
    def elementwise_pcus(self) -> Array:
        """The chain's PCUs and the gather trees merging their writes."""
        return self.levels * self.groups + self.gather_pcus

    @property
    def pcus(self) -> Array:
        return self.map_reduce_pcus + self.combine_pcus + self.elementwise_pcus

    def ports_fit(self, arch: Architecture) -> bool:
        """Whether the element-wise PCUs' vector inputs fit a PCU's (the layout relays
        values through earlier levels to make them fit; a level reading more PMUs than a
        PCU has inputs does not, at any factors)."""
        return self.spec.vector_inputs <= arch.pcu.vector_inputs

    @property
    def weight_pmus(self) -> Array:
        return (self.weights.count * self.weights.pmus).sum(axis=0)

    @property
    def streamed_pmus(self) -> Array:
        """Weight slices (partly) streamed: a FIFO PMU each (in `weight_pmus` too)."""
        return (self.weights.count * self.weights.streamed).sum(axis=0)

    @property
    def other_pmus(self) -> Array:
        """Operand copies, the element-wise units' PMUs (biases, state) and tables."""
        return self.operand_pmus + self.element_pmus + self.lut_pmus

    @property
    def pmus(self) -> Array:
        return self.weight_pmus + self.other_pmus

    @property
    def weight_bytes(self) -> Array:
        """Bytes of every slice as PMUs would hold them (padded rows), resident or not."""
        return (self.weights.count * self.weights.bytes).sum(axis=0)

    @property
    def resident_bytes(self) -> Array:
        """Bytes of the slices' rows held in PMUs (not streamed)."""
        return self.weights.resident_bytes

    @property
    def streamed_bytes(self) -> Array:
        """Weight bytes streamed from DRAM every step."""
        return self.weights.streamed_bytes

    def kind_of(self, slot: int, part: int) -> int:
        """The `weights` kind of part `part` of slot `slot` (at one design point)."""
        before = sum(slot_kinds(self.spec, s) for s in range(slot))
        if self.spec.joint(slot):
            lengths = self.spec.slot_lengths(slot)
            return before + joint_chunks.kind_of(lengths, int(self.ru), int(self.rv), part)
        return before + part_kind(self.spec.slot_lengths(slot), int(self.ru), int(self.rv), part)


def _weight_slices(
    spec: NestSpec, par: Sequence[Array], ru: Array, rv: Array, *, arch: Architecture,
    mode: Precision,
) -> WeightSlices:
    """One weight slice per (weight copy, slot, part), placed by `weight_placement`.

    The copies' slices of a kind hold every weight row once: ceil(rows / par) rows for
    some copies, one fewer for others. So the PMUs of a kind hold (its number per copy) x
    (all the weight rows, or the rows streamed slices keep on chip) rows, and stream
    the others, what the partition's address generators load."""
    shape = spec.shape
    dims = tuple(range(len(shape))) if spec.weight_dims is None else spec.weight_dims
    kinds = [k for s in range(len(spec.slots)) for k in spec_slot_slices(spec, s, ru, rv)]
    empty = np.zeros((0, *ru.shape), dtype=np.int64)

    def stack(values: list[Array]) -> Array:
        return np.stack(values) if values else empty

    rows_ = rows(shape, dims, par)
    last_rows = rows(shape, dims[-1:], par)
    per_copy = stack([number for number, _, _ in kinds])
    blocks: list[Array | None] = [None] * len(kinds)
    if mode.weight_format is not None:  # the scales of the blocks a slice's rows touch
        if any(spec.joint(s) for s in range(len(spec.slots))):
            raise CostError(f"nest '{spec.name}': one chunk sequence over a slot's "
                            f"reductions is not for block-scaled weights ({mode.name})")
        blocks = [b for slot in spec.slots for b in kind_blocks(
            [spec.segments_of(i) for i in slot], ru, rv, mode.weight_format)]
    row_bytes = stack([mode.row_bytes(padded, b)
                       for (_, padded, _), b in zip(kinds, blocks, strict=True)])
    elements = stack([count for _, _, count in kinds])
    pmus, first, held = weight_placement(
        rows_ * row_bytes, last_rows, capacity=arch.pmu.capacity_bytes,
        vector_inputs=arch.pcu.vector_inputs, buffer_bytes=STREAM_BUFFERS * row_bytes,
    )  # fmt: skip
    # a head of h rows along the last dimension holds h x (the copy's rows along the
    # others) of every copy: h x (copies along the last) x (the others' extents) in all;
    # all rows when every copy's are held (h = ceil(extent / copies))
    heads = sharing_copies(dims[-1:], par) * math.prod(shape[d] for d in dims[:-1])
    return WeightSlices(
        per_copy=per_copy,
        count=sharing_copies(dims, par) * per_copy,
        row_bytes=row_bytes,
        row_words=stack([padded for _, padded, _ in kinds]),
        row_elements=elements,
        stream_row_bytes=stack([mode.row_bytes(count, b)
                                for (_, _, count), b in zip(kinds, blocks, strict=True)]),
        rows=np.broadcast_to(rows_, row_bytes.shape),
        last_rows=np.broadcast_to(last_rows, row_bytes.shape),
        pmus=pmus,
        piece_rows=first,
        held_rows=held,
        resident_rows=np.minimum(spec.weight_rows, held * heads),
        weight_rows=spec.weight_rows,
    )


def nest_plan(
    spec: NestSpec, par: Sequence[IntLike], ru: IntLike, rv: IntLike, *, arch: Architecture,
    mode: Precision,
) -> NestPlan:
    """The plan of the nest `spec` at copies `par` per foreach dimension and reduce factors
    (ru, rv): arrays broadcast to one shape (0-d for one design point)."""
    ru_, rv_, *par_ = (np.asarray(v, dtype=np.int64) for v in np.broadcast_arrays(ru, rv, *par))
    pcu = arch.pcu
    zero = np.zeros_like(ru_)
    copies = sharing_copies(range(len(par_)), par_) + zero
    slots = range(len(spec.slots))
    parts = tuple(spec_slot_parts(spec, s, ru_, rv_) for s in slots)
    if slots:
        chunks = np.max(np.stack([spec_slot_chunks(spec, s, ru_, rv_) for s in slots]), 0)
        most = np.max(np.stack(parts), axis=0)
    else:
        chunks, most = zero + 1, zero
    groups = spec.operand_groups
    if groups is None:
        groups = (tuple(range(len(slots))),)
    results = len(slots) if spec.results is None else spec.results
    per_pcu = elementwise_copies(
        copies, lanes=pcu.lanes, scalar_inputs=pcu.scalar_inputs, width=spec.width,
        live=spec.live, results=results,
    )  # fmt: skip
    writers = cdiv(copies, per_pcu)
    tables = mode.tables
    read_groups = spec.read_groups if spec.read_groups is not None else (1,)
    fan_in = chained_sums.sum_inputs(arch, mode.name) if spec.chained_sums else 0
    return NestPlan(
        spec=spec,
        par=tuple(par_),
        ru=ru_,
        rv=rv_,
        copies=copies,
        iterations=rows(spec.shape, range(len(par_)), par_) + zero,
        parts=parts,
        chunks=chunks,
        combine_pcus=zero if fan_in else sum(
            (combine_tree(copies, p, pcu.scalar_inputs, pcu.scalar_outputs) for p in parts),
            zero,
        ),
        combine_levels=zero if fan_in else tree_levels(most, pcu.scalar_inputs),
        chain_depth=chained_sums.chain_depth(most, fan_in) if fan_in else zero,
        sum_inputs=fan_in,
        weights=_weight_slices(spec, par_, ru_, rv_, arch=arch, mode=mode),
        operand_pmus=sharing_copies(spec.operand_dims, par_)
        * sum((parts[group[0]] for group in groups if group), zero),
        levels=math.ceil(max(spec.elementwise_depth, 1) / pcu.stages),
        per_pcu=per_pcu,
        gather_pcus=spec.global_write_levels * gather_tree(writers, pcu.vector_inputs),
        gather_levels=spec.global_write_levels * tree_levels(writers, pcu.vector_inputs),
        element_pmus=writers * sum(read_groups),
        tables=tables,
        lut_pmus=writers * spec.lut_levels if tables else zero,
        read_bytes_per_cycle=copies * sum(parts, zero) * mode.row_bytes(rv_),
        mode=mode,
    )


def nest_plan_at(
    spec: NestSpec, hu: IntLike, ru: IntLike, rv: IntLike, *, arch: Architecture,
    mode: Precision,
) -> NestPlan:
    """The plan at `hu` copies of the foreach, spread over its dimensions as
    `copies_per_dim` says (the design-space search's points)."""
    return nest_plan(spec, copies_per_dim(spec.shape, hu), ru, rv, arch=arch, mode=mode)


__all__ = [
    "WORD_BYTES",
    "CostError",
    "NestPlan",
    "NestSpec",
    "WeightSlices",
    "cdiv",
    "chunk_count",
    "combine_step",
    "combine_tree",
    "copies_per_dim",
    "elementwise_copies",
    "gather_step",
    "gather_tree",
    "iterations",
    "merge_groups",
    "nest_plan",
    "nest_plan_at",
    "pack_reductions",
    "part_bounds",
    "part_kind",
    "reduction_parts",
    "rows",
    "sharing_copies",
    "slot_chunks",
    "slot_kinds",
    "slot_parts",
    "slot_slices",
    "spec_slot_chunks",
    "spec_slot_parts",
    "spec_slot_slices",
    "tree_levels",
    "weight_placement",
]
