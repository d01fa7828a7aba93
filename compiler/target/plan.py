"""How a loop nest is laid out on units: the decisions `spatial-partition` builds and the
cost model counts, in one place.

Every function works on numpy arrays of candidate factors (the design-space search costs
thousands at a time) and on plain ints (the partition asks about one design point):

* `copies_per_dim` -- a foreach's `hu` copies spread over its dimensions, innermost first;
* `reduction_parts` -- the reduce split into `ru` parts of whole `rv`-chunks: how many parts
  are non-empty and how many chunks each holds;
* `combine_tree` -- the PCUs adding up a dot product's partial sums with a fan-in that
  respects the PCU's scalar inputs and outputs;
* `elementwise_copies` -- how many foreach copies one element-wise PCU serves side by side
  in its lanes, under its lanes and scalar inputs;
* `gather_tree` -- PCUs merging the writes of several units into one stream when a memory
  they write is read elsewhere at other addresses (a memory unit has few input ports);
* `weight_placement` -- whether a weight slice sits in one PMU, is split over two, or
  (partly) streams from DRAM every step.

The counts of PCUs, PMUs and bytes are sums of these; `rnnc.target.cost` and
`passes/spatial_partition.py` both use them, and a test checks that the units a partition
builds are the units the cost model counts.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.int64]
IntLike = int | Array


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


def cdiv(a: IntLike, b: IntLike) -> Array:
    return -(-np.asarray(a, dtype=np.int64) // np.asarray(b, dtype=np.int64))


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


def copies(extents: Sequence[int], hu: IntLike) -> Array:
    """How many copies a foreach with `hu` runs: the product of `copies_per_dim`."""
    total = np.ones_like(np.asarray(hu, dtype=np.int64))
    for p in copies_per_dim(extents, hu):
        total = total * p
    return total


def iterations(extents: Sequence[int], hu: IntLike) -> Array:
    """Iterations of the busiest copy: the product of ceil(extent / par) over dims."""
    total = np.ones_like(np.asarray(hu, dtype=np.int64))
    for extent, p in zip(extents, copies_per_dim(extents, hu), strict=True):
        total = total * cdiv(extent, p)
    return total


def rows(extents: Sequence[int], dims: Sequence[int], hu: IntLike) -> Array:
    """Distinct values, for one copy, of the foreach dimensions `dims` (e.g. the weight rows
    one map-reduce copy reads: its hidden units, not its batch elements)."""
    par = copies_per_dim(extents, hu)
    total = np.ones_like(np.asarray(hu, dtype=np.int64))
    for dim in dims:
        total = total * cdiv(extents[dim], par[dim])
    return total


def sharing_copies(extents: Sequence[int], dims: Sequence[int], hu: IntLike) -> Array:
    """Copies that read distinct rows along `dims`: the product of their par (copies that
    differ only in other dimensions share one weight slice, multicast)."""
    par = copies_per_dim(extents, hu)
    total = np.ones_like(np.asarray(hu, dtype=np.int64))
    for dim in dims:
        total = total * par[dim]
    return total


def chunk_count(length: int, ru: IntLike, rv: IntLike) -> Array:
    """Chunks of rv elements per part when a reduction of `length` is split in ru parts of
    whole chunks: ceil(length / (rv * ru))."""
    return cdiv(length, np.asarray(rv) * np.asarray(ru))


def reduction_parts(length: int, ru: IntLike, rv: IntLike) -> tuple[Array, Array, Array]:
    """(parts, full, last_chunks): a reduction of `length` in parts of `chunk_count` chunks
    of rv: `parts` non-empty parts (at most ru), `full` of them whole, the last holding
    `last_chunks` chunks (0 when every part is whole)."""
    span = chunk_count(length, ru, rv) * np.asarray(rv)
    full = length // span
    rest = length - full * span
    last_chunks = cdiv(rest, rv)
    return full + (rest > 0), full, last_chunks


def part_bounds(length: int, ru: int, rv: int) -> list[tuple[int, int]]:
    """[start, stop) of each non-empty part of a reduction (the partition's view)."""
    span = int(chunk_count(length, ru, rv)) * rv
    return [(start, min(start + span, length)) for start in range(0, length, span)]


def combine_tree(dots: IntLike, partials: IntLike, fan_in: int, outputs: int) -> Array:
    """PCUs that add up `partials` partial sums of each of `dots` dot products.

    A combining PCU takes at most `fan_in` scalar inputs. While a dot product has more
    partials than that, its partials go in groups of `fan_in` to PCUs of their own (one
    output each; a last group of one value passes on unchanged). When `partials` fit one
    PCU, several dot products share it, as many as fit its inputs and outputs."""
    dots = np.asarray(dots, dtype=np.int64)
    p = np.broadcast_to(np.asarray(partials, dtype=np.int64), np.broadcast(dots, partials).shape)
    pcus = np.zeros(p.shape, dtype=np.int64)
    while (p > 1).any():
        wide = p > fan_in
        groups = p // fan_in + ((p % fan_in) > 1)
        per_pcu = np.minimum(fan_in // np.maximum(p, 1), outputs)
        narrow = cdiv(dots, np.maximum(per_pcu, 1))
        pcus = pcus + np.where(wide, dots * groups, np.where(p > 1, narrow, 0))
        p = np.where(wide, cdiv(p, fan_in), 1)
    return pcus


def combine_levels(partials: IntLike, fan_in: int) -> Array:
    """Levels of the combining tree (transfers a partial sum goes through)."""
    p = np.asarray(partials, dtype=np.int64)
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


def gather_tree(writers: IntLike, fan_in: int) -> Array:
    """PCUs merging `writers` streams into one, `fan_in` at a time (0 for one writer); a
    last group of one stream passes on to the next level unmerged."""
    w = np.asarray(writers, dtype=np.int64)
    pcus = np.zeros_like(w)
    while (w > 1).any():
        merging = w > 1
        pcus = pcus + np.where(merging, w // fan_in + (w % fan_in > 1), 0)
        w = np.where(merging, cdiv(w, fan_in), 1)
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


def weight_placement(
    slice_bytes: IntLike, last_rows: IntLike, *, capacity: int, vector_inputs: int
) -> tuple[Array, Array]:
    """Where a map-reduce unit's weight slice of `slice_bytes` lives, as (PMUs, rows held
    on chip), rows counted along the weights' last dimension (`last_rows` of them):

    * in one PMU when it fits: 1, all rows;
    * split by rows over two PMUs when half the rows fit one, the unit reading the second
      on a vector input of its own (it needs one more for its operand): 2, all rows;
    * else as many rows as one PMU holds stay in it and the rest stream from DRAM every
      step through a FIFO PMU on the unit's other weight input: 2, those rows (a unit
      reads one PMU per vector input, a PMU is banked one way, so no placement of these
      factors streams less);
      without room for a row or a second weight input, all of it streams: 1, 0 rows.

    Every copy's slice is placed alike, by the largest copy's bytes; the partition and the
    cost model both ask this function."""
    slice_bytes = np.asarray(slice_bytes, dtype=np.int64)
    last_rows = np.asarray(last_rows, dtype=np.int64)
    row = np.maximum(slice_bytes // last_rows, 1)
    two_inputs = vector_inputs >= 3
    fits = slice_bytes <= capacity
    split = ~fits & (row * cdiv(last_rows, 2) <= capacity) & two_inputs
    head = np.minimum(capacity // row, last_rows) if two_inputs else np.zeros_like(row)
    held = np.where(fits | split, last_rows, head)
    return np.where(fits | (held == 0), 1, 2), held


__all__ = [
    "cdiv",
    "chunk_count",
    "combine_levels",
    "combine_tree",
    "copies",
    "copies_per_dim",
    "elementwise_copies",
    "gather_tree",
    "iterations",
    "pack_reductions",
    "part_bounds",
    "reduction_parts",
    "rows",
    "sharing_copies",
    "slot_chunks",
    "slot_parts",
    "slot_slices",
    "weight_placement",
]
