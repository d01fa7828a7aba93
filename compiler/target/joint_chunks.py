"""One chunk sequence over the reductions of a slot: the `joint-chunks` schedule.

A slot packs reductions shorter than the longest onto one map-reduce unit (a GRU's
candidate gate: its x product `W_n x` and its h product `R_n h`, kept apart because the
reset gate scales only the h part; `plan.pack_reductions`). In the paper's form each
reduction of the slot is cut in `ru` parts of its own, so a part holds ceil(n / (ru rv))
chunks of every reduction: GRU-2048 at ru 13, rv 64 folds 3 + 3 = 6 chunks per unit where
the gates over [x, h] fold 5.

Jointly, the slot's reductions form one sequence of chunks, each reduction in whole
`rv`-chunks of its own (a chunk never straddles two reductions: the folded tree sums all
its lanes into one value), one after another in program order; the sequence is cut in `ru`
parts of ceil(C / ru) chunks (C: the chunks of all of them). A part that straddles the
boundary of two reductions folds the end of the first and the start of the second; its
unit sends one sum per reduction, as every unit of a slot does (`Reduce.segments`: the
accumulator's value leaves, and restarts, where a reduction's chunks end; a reduction with
no chunk in the part sends the combiner's identity). So the chip needs no new mechanism:
what changes is where the parts' boundaries lie, what their weight slices hold, and how
many chunks the busiest unit folds.

The plan (`rnnc.target.plan`) counts a joint slot with `parts`, `chunks` and `slices`
below, `spatial-partition` builds its units from `bounds`, `rnnc sim` times each unit's
chunks from its segments (whole chunks per reduction), and `loop-assign-resources` keeps
the form only where it is faster (`rnnc.target.joint_chunks_search`). Not for block-scaled
weight formats (their per-kind block count assumes a part holds each reduction's own
part). Every function takes ints or numpy arrays of design points alike.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from rnnc.dialects import loop
from rnnc.target.parts import Array, IntLike, cdiv
from xdsl.dialects.builtin import UnitAttr

#: The schedule's name (`rnnc.target.schedules.SCHEDULES`).
NAME = "joint-chunks"

#: The loop-level attribute on a `loop.foreach` whose slots cut their reductions as one
#: chunk sequence (`loop-assign-resources` decides it).
ATTRIBUTE = "loop.joint_chunks"


def span(lengths: Sequence[int], ru: IntLike, rv: IntLike) -> Array:
    """Chunks per part: ceil(C / ru), C the chunks of all the slot's reductions."""
    return cdiv(total_chunks(lengths, rv), ru)


def total_chunks(lengths: Sequence[int], rv: IntLike) -> Array:
    """C: every reduction of the slot in whole `rv`-chunks of its own."""
    return sum((cdiv(n, rv) for n in lengths), np.zeros_like(np.asarray(rv, dtype=np.int64)))


def parts(lengths: Sequence[int], ru: IntLike, rv: IntLike) -> Array:
    """Non-empty parts of the sequence (at most ru): map-reduce units per copy."""
    return cdiv(total_chunks(lengths, rv), span(lengths, ru, rv))


def _part_ranges(
    lengths: Sequence[int], ru: IntLike, rv: IntLike, part: IntLike
) -> list[tuple[Array, Array]]:
    """Per reduction, [start, stop) of its elements in part `part` (start == stop: none)."""
    rv_ = np.asarray(rv, dtype=np.int64)
    width = span(lengths, ru, rv)
    first, last = np.asarray(part) * width, (np.asarray(part) + 1) * width
    ranges = []
    offset = np.zeros_like(width)
    for n in lengths:
        chunks = cdiv(n, rv_)
        lo = np.clip(first - offset, 0, chunks)
        hi = np.clip(last - offset, 0, chunks)
        ranges.append((np.minimum(lo * rv_, n), np.minimum(hi * rv_, n)))
        offset = offset + chunks
    return ranges


def bounds(lengths: Sequence[int], ru: int, rv: int) -> list[list[tuple[int, int]]]:
    """Per reduction of the slot, the [start, stop) of each part of the sequence (the
    partition's view; an empty range where the part holds none of it)."""
    count = int(parts(lengths, ru, rv))
    per_part = [_part_ranges(lengths, ru, rv, r) for r in range(count)]
    return [[(int(per_part[r][j][0]), int(per_part[r][j][1])) for r in range(count)]
            for j in range(len(lengths))]


def _end_parts(lengths: Sequence[int], ru: IntLike, rv: IntLike) -> list[Array]:
    """Per reduction of the slot, the part holding its last chunk (non-decreasing)."""
    width = span(lengths, ru, rv)
    ends = np.cumsum([cdiv(n, np.asarray(rv, dtype=np.int64)) for n in lengths], axis=0)
    return [(end - 1) // width for end in ends]


def kinds(lengths: Sequence[int]) -> int:
    """Weight-slice kinds of a joint slot: the parts holding no reduction's end (whole
    chunks of rv, `span` of them: all alike), then one per reduction for the part holding
    its end when no later reduction ends there. So as few as the reductions + 1, whatever
    the number of parts (one kind per part made the search's plan of many points slow)."""
    return len(lengths) + 1


def kind_of(lengths: Sequence[int], ru: int, rv: int, part: int) -> int:
    """Which of `slices`' kinds part `part` holds (at one design point)."""
    ends = [int(p) for p in _end_parts(lengths, ru, rv)]
    return max((1 + j for j, p in enumerate(ends) if p == part), default=0)


def slices(
    lengths: Sequence[int], ru: IntLike, rv: IntLike
) -> list[tuple[Array, Array, Array]]:
    """The weight slices of one copy of a joint slot, as `plan.slot_slices` gives them:
    per kind (see `kinds`), (how many parts of the kind, padded elements per row: the
    part's chunks of rv, elements per row)."""
    rv_ = np.asarray(rv, dtype=np.int64)
    count = parts(lengths, ru, rv)
    ends = _end_parts(lengths, ru, rv)
    # the part where reduction j ends is its kind's unless reduction j + 1 ends there too
    last = [(p != q).astype(np.int64) for p, q in itertools.pairwise(ends)]
    last.append(np.ones_like(count))
    whole = span(lengths, ru, rv) * rv_
    found = [(count - sum(last, np.zeros_like(count)), whole, whole)]
    for end, number in zip(ends, last, strict=True):
        ranges = _part_ranges(lengths, ru, rv, end)
        padded = sum((cdiv(hi - lo, rv_) * rv_ for lo, hi in ranges), np.zeros_like(count))
        elements = sum((hi - lo for lo, hi in ranges), np.zeros_like(count))
        found.append((number, padded, elements))
    return found


def applies(slots: Sequence[Sequence[int]]) -> bool:
    """Whether a nest has a slot of two reductions or more (a joint sequence to cut)."""
    return any(len(slot) > 1 for slot in slots)


def mark(nest: loop.ForeachOp, joint: bool) -> None:
    """Record on the loop level whether the nest's slots cut their reductions as one
    sequence (`ATTRIBUTE`), which `rnnc.analysis.program.nest_spec` reads back."""
    if joint:
        nest.attributes[ATTRIBUTE] = UnitAttr()
    else:
        nest.attributes.pop(ATTRIBUTE, None)


__all__ = ["ATTRIBUTE", "NAME", "applies", "bounds", "kind_of", "kinds", "mark", "parts",
           "slices", "span"]
