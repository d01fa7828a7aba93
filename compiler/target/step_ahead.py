"""The input projection a step ahead: the plan of a nest whose W_x x(t + 1) is folded
while step t runs (the `step-ahead` schedule, `rnnc.target.schedules`).

Each reduction of the nest (a gate over [x(t); h(t-1)]) has a leading range that reads
nothing the time loop writes (`NestSpec.ahead`: x and its weights) and the rest (h). In
the fused form one sequence of `ru` parts of whole `rv`-chunks covers both. A step ahead,
the leading range is cut in `ahead_ru` parts of its own and the rest in `ru` parts: the
map-reduce units of the leading parts read x(t + 1) from operand PMUs of their own (role
`ahead`, loaded two steps ahead) and fold it during step t; their partial sums wait in the
combining tree's input FIFOs, so a step holds only W_h h(t-1), the combine and the
element-wise chain. The units of the leading parts may take a whole step per iteration
space (`ahead_chunks` per iteration), which frees map-reduce units for the recurrence.

`ahead_plan` is that plan, a `NestPlan` like the fused one: its parts, weight slices
(the leading parts' kinds first, `AheadPlan.kind_of`), combining trees and operand PMUs
count both sequences; its `chunks` are the recurrence's, `ahead_chunks` the leading
parts'. `rnnc.target.cost` times it; `spatial-partition` builds it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rnnc.target.arch import Architecture, Precision
from rnnc.target.plan import (
    Array,
    CostError,
    IntLike,
    NestPlan,
    NestSpec,
    WeightSlices,
    combine_tree,
    copies_per_dim,
    nest_plan,
    part_bounds,
    sharing_copies,
    tree_levels,
)


@dataclass(frozen=True)
class AheadPlan(NestPlan):
    """A nest planned with its input projection a step ahead (see the module doc). The
    inherited counts cover both part sequences; per slot, parts [0, ahead_parts) fold the
    leading range and run a step ahead."""

    ahead_ru: Array
    ahead_parts: tuple[Array, ...]
    """Per slot: map-reduce units per copy folding the leading range."""
    ahead_chunks: Array
    """`rv`-chunks the busiest leading-range unit folds per iteration."""
    ahead_kinds: int
    """Weight-slice kinds of the leading parts (the recurrence's are numbered after)."""
    leading: NestPlan
    recurrence: NestPlan

    def kind_of(self, slot: int, part: int) -> int:
        first = int(self.ahead_parts[slot])
        if part < first:
            return self.leading.kind_of(slot, part)
        return self.ahead_kinds + self.recurrence.kind_of(slot, part - first)

    def ahead_part(self, slot: int, part: int) -> bool:
        """Whether part `part` of slot `slot` folds the leading range (a step ahead)."""
        return part < int(self.ahead_parts[slot])

    def bounds(self, reduction: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """[start, stop) of the leading parts and of the recurrence's parts of reduction
        `reduction`, in the whole reduction's indices."""
        ahead = self.spec.ahead[reduction]
        length = self.spec.reductions[reduction]
        first = part_bounds(ahead, int(self.ahead_ru), int(self.rv))
        rest = part_bounds(length - ahead, int(self.ru), int(self.rv))
        return first, [(ahead + a, ahead + b) for a, b in rest]


def applies(spec: NestSpec) -> bool:
    """Whether the nest has an input projection to compute a step ahead, one slot per
    reduction (so the leading and recurrent sequences pack the same way)."""
    return bool(spec.ahead) and all(len(slot) == 1 for slot in spec.slots)


def _part_spec(spec: NestSpec, leading: bool) -> NestSpec:
    """`spec` cut to each reduction's leading range (`leading`) or to the rest, with the
    segments on that side (`ahead` ends at a segment's end: whole segments are x's)."""
    sides = [_split_segments(spec.segments_of(i), at) for i, at in enumerate(spec.ahead)]
    segments = tuple(side[0] if leading else side[1] for side in sides)
    return dataclasses.replace(spec, reductions=tuple(map(sum, segments)), ahead=(),
                               segments=segments)


def _split_segments(segments: Sequence[int], at: int) -> tuple[tuple[int, ...], ...]:
    """The segment lengths before and after element `at` of a reduction."""
    before: list[int] = []
    after: list[int] = []
    start = 0
    for length in segments:
        if start + length <= at:
            before.append(length)
        elif start >= at:
            after.append(length)
        else:
            before.append(at - start)
            after.append(start + length - at)
        start += length
    return tuple(before), tuple(after)


def _concat(a: WeightSlices, b: WeightSlices) -> WeightSlices:
    """Both sequences' slice kinds, a's first (each covers every weight row once)."""
    fields = {
        f.name: np.concatenate([getattr(a, f.name), getattr(b, f.name)])
        for f in dataclasses.fields(WeightSlices) if f.name != "weight_rows"
    }
    return WeightSlices(**fields, weight_rows=a.weight_rows)


def ahead_plan(
    spec: NestSpec, par: Sequence[IntLike], ru: IntLike, rv: IntLike, ahead_ru: IntLike, *,
    arch: Architecture, mode: Precision,
) -> AheadPlan:
    """The plan of `spec` at copies `par`, the recurrence in `ru` parts and the leading
    range in `ahead_ru` parts, both of `rv`-chunks (arrays broadcast to one shape)."""
    if not applies(spec):
        raise CostError(
            f"nest '{spec.name}' has no input projection to compute a step ahead: every "
            "reduction must begin with a part that reads nothing the time loop writes (x) "
            "and end with one that does (h)"
        )
    # the two sequences' partial sums meet in combining units (the form the partition
    # builds for a step-ahead nest), whatever the search allows the fused form
    spec = dataclasses.replace(spec, chained_sums=False)
    ru_, rv_, ahead_ru_, *par_ = (
        np.asarray(v, dtype=np.int64) for v in np.broadcast_arrays(ru, rv, ahead_ru, *par)
    )
    if (ahead_ru_ < 1).any():
        raise CostError(f"nest '{spec.name}': the input projection's parts (step_ahead) must "
                        f"be >= 1, got {int(ahead_ru_.min())}")
    fused = _plan(spec, par_, ru_, rv_, arch=arch, mode=mode)
    leading = _plan(_part_spec(spec, True), par_, ahead_ru_, rv_, arch=arch, mode=mode)
    recurrence = _plan(_part_spec(spec, False), par_, ru_, rv_, arch=arch, mode=mode)
    parts = tuple(a + b for a, b in zip(leading.parts, recurrence.parts, strict=True))
    zero = np.zeros_like(ru_)
    pcu = arch.pcu
    most = np.max(np.stack(parts), axis=0)
    groups = spec.operand_groups or (tuple(range(len(parts))),)
    fields = {f.name: getattr(fused, f.name) for f in dataclasses.fields(NestPlan)}
    fields.update(
        parts=parts,
        chunks=recurrence.chunks,
        combine_pcus=sum(
            (combine_tree(fused.copies, p, pcu.scalar_inputs, pcu.scalar_outputs)
             for p in parts), zero,
        ),
        combine_levels=tree_levels(most, pcu.scalar_inputs),
        weights=_concat(leading.weights, recurrence.weights),
        operand_pmus=sharing_copies(spec.operand_dims, par_)
        * sum((parts[group[0]] for group in groups if group), zero),
        read_bytes_per_cycle=fused.copies * sum(parts, zero) * rv_ * mode.weight_bytes,
    )
    return AheadPlan(
        **fields, ahead_ru=ahead_ru_, ahead_parts=leading.parts, ahead_chunks=leading.chunks,
        ahead_kinds=int(leading.weights.count.shape[0]), leading=leading, recurrence=recurrence,
    )


def _plan(spec: NestSpec, par: Sequence[Array], ru: Array, rv: Array, *,
          arch: Architecture, mode: Precision) -> NestPlan:
    """`nest_plan`; at one design point, remembered (`_point_plan`)."""
    if ru.size != 1:
        return nest_plan(spec, par, ru, rv, arch=arch, mode=mode)
    return _point_plan(spec, tuple(int(p.flat[0]) for p in par), int(ru.flat[0]),
                       int(rv.flat[0]), shape=ru.shape, arch=arch, mode=mode)


@lru_cache(maxsize=256)
def _point_plan(spec: NestSpec, par: tuple[int, ...], ru: int, rv: int, *,
                shape: tuple[int, ...], arch: Architecture, mode: Precision) -> NestPlan:
    """The plan at one design point, every array of `shape`. The step-ahead search costs
    the fused form and each sequence at the same copies and parts for many splits of the
    other sequence (48 distinct plans of 432 on lstm-512-25), so each is made once; a plan
    is a value, never changed in place."""
    def full(value: int) -> Array:
        return np.full(shape, value, dtype=np.int64)

    return nest_plan(spec, [full(p) for p in par], full(ru), full(rv), arch=arch, mode=mode)


def ahead_compute(p: AheadPlan, arch: Architecture, fixed: Array) -> Array:
    """The least compute a step charges for the units folding the input projection, given
    its `fixed` cycles (fill and handshake). They fold one step's iterations back to back
    (their next step's work cannot start before), so a step lasts at least iterations x
    their II. And their partial sums wait for the step that takes them in the combining
    units' input FIFOs (`fifo_depth.scalar` words): while a step fills and hands over,
    they get at most a FIFO ahead, and the rest of theirs comes during its compute."""
    ii = np.maximum(p.ahead_chunks, arch.timing.min_ii_cycles)
    ahead = np.maximum(p.iterations - arch.mechanisms.fifo_depth.scalar, 0) * ii
    return np.maximum(p.iterations * ii - fixed, ahead)


def ahead_plan_at(
    spec: NestSpec, hu: IntLike, ru: IntLike, rv: IntLike, ahead_ru: IntLike, *,
    arch: Architecture, mode: Precision,
) -> AheadPlan:
    """The plan at `hu` copies (`plan.copies_per_dim`), as the search counts them."""
    return ahead_plan(spec, copies_per_dim(spec.shape, hu), ru, rv, ahead_ru, arch=arch,
                      mode=mode)
