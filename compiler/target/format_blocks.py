"""The scales a weight slice stores in a block-scaled format (`rnnc.numerics.formats`): the
blocks its rows touch. A reduction's weights are the rows of one or more arrays one after
another (its segments: the fused cell's [W R]), each cut into blocks from its own start;
a part of a reduction starts where the parts before it end (`parts.reduction_parts`),
which need not be a block's start. So the slices of one kind (`plan.slot_slices`) may
touch different numbers of blocks; the plan sizes them all by the largest, as it places
every copy's slice of a kind alike, and the partition declares each PMU's own."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from rnnc.numerics.formats import WeightFormat
from rnnc.target.arch import Precision
from rnnc.target.parts import Array, IntLike, chunk_count, reduction_parts


def kind_blocks(
    segments: Sequence[Sequence[int]], ru: IntLike, rv: IntLike, fmt: WeightFormat
) -> list[Array]:
    """Per kind of `plan.slot_slices` for a slot of reductions made of `segments` (same
    order): the most blocks a row of a slice of that kind touches, summed over the slot's
    reductions (whole parts: the most over them; the last part; none)."""
    states = [_state_blocks(tuple(s), ru, rv, fmt) for s in segments]
    found = []
    for combo in itertools.product(*[(0, 1, 2)] * len(segments)):
        total = np.zeros(np.broadcast(np.asarray(ru), np.asarray(rv)).shape, dtype=np.int64)
        for state, blocks in zip(combo, states, strict=True):
            if state < 2:
                total = total + blocks[state]
        found.append(total)
    return found


def _touched(segments: tuple[int, ...], fmt: WeightFormat, start: Array, stop: Array) -> Array:
    """Blocks that the elements [start, stop) of a reduction of `segments` fall in."""
    total = np.zeros(np.shape(start), dtype=np.int64)
    offset = 0
    for length in segments:
        lo = np.clip(start - offset, 0, length)
        hi = np.clip(stop - offset, 0, length)
        total = total + fmt.blocks_touched(lo, hi)
        offset += length
    return total


def _state_blocks(
    segments: tuple[int, ...], ru: IntLike, rv: IntLike, fmt: WeightFormat
) -> tuple[Array, Array]:
    """(the most blocks a whole part touches, the blocks the last part touches) of a
    reduction of `segments`: whole part r holds [r span, (r + 1) span), the last
    [full span, n)."""
    n = sum(segments)
    span = chunk_count(n, ru, rv) * np.asarray(rv, dtype=np.int64)
    _, full, _ = reduction_parts(n, ru, rv)
    whole = np.zeros(np.shape(span), dtype=np.int64)
    # one segment: the parts' offsets in their blocks repeat within `block` parts
    parts = min(int(np.max(full, initial=0)), fmt.block if len(segments) == 1 else n)
    for r in range(parts):
        touched = _touched(segments, fmt, r * span, (r + 1) * span)
        whole = np.where(r < full, np.maximum(whole, touched), whole)
    last = _touched(segments, fmt, full * span, np.maximum(full * span, n))
    return whole, last


def held_row_bytes(mode: Precision, elements: int, ranges: Sequence[tuple[int, int]]) -> int:
    """Bytes of a held row of `elements` whose weights are the ranges [start, stop) of the
    last dimension of the arrays it holds: the codes, and in a block-scaled format the
    scales of the blocks those ranges touch."""
    fmt = mode.weight_format
    blocks = None if fmt is None else sum(int(fmt.blocks_touched(a, b)) for a, b in ranges)
    return int(mode.row_bytes(elements, blocks))


__all__ = ["held_row_bytes", "kind_blocks"]
