"""Run-time values of the loop-level interpreter: memories and vectorized indices.

Inside loop nests every value stands for all iterations at once. The parallel counters
currently in scope are numbered from the outermost (axis 0) inwards; a value is a numpy
array (or a scalar) whose array axes are those counters, *innermost first*: with n
counters in scope, axis `a` sits at array position `n - 1 - a`. Values computed outside an
inner loop therefore broadcast against values computed inside it without any reshaping,
because numpy aligns shapes from the right.

An index that is an affine function of counters is kept symbolic (`Affine`) so that loads
and stores whose indices are affine become numpy slices (views, no copies) instead of
gathers and scatters.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, NamedTuple

import numpy as np
from rnnc.diagnostics import Diagnostic

Index = Any  # int | np.ndarray | Affine


class Memory:
    """A memory at run time: `data` has shape `(buffers, *shape)`."""

    def __init__(self, name: str, data: np.ndarray):
        self.name = name
        self.data = data

    @property
    def buffers(self) -> int:
        return self.data.shape[0]

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape[1:]

    def __repr__(self) -> str:
        return f"Memory({self.name}, {self.data.shape})"


class Affine(NamedTuple):
    """`const + sum(coefficient * counter)` over parallel counters in scope.

    `terms` holds `(axis, coefficient, extent)` sorted by axis; counters of extent 1 are
    always 0 and never appear, and neither do zero coefficients. (A named tuple: indices
    are dictionary keys of the slicing caches, and tuples hash fast.)
    """

    const: int
    terms: tuple[tuple[int, int, int], ...]

    @staticmethod
    @cache  # one object per counter and extent: cheaper to hash and compare
    def counter(axis: int, extent: int) -> Index:
        """The counter of `axis`, which runs over `range(extent)`."""
        return Affine(0, ((axis, 1, extent),)) if extent > 1 else 0

    @property
    def ndim(self) -> int:
        return self.terms[-1][0] + 1

    def materialize(self) -> np.ndarray:
        ndim = self.ndim
        total: Any = self.const
        for axis, coefficient, extent in self.terms:
            shape = [1] * ndim
            shape[ndim - 1 - axis] = extent
            total = total + np.arange(extent, dtype=np.int64).reshape(shape) * coefficient
        return np.asarray(total, dtype=np.int64)


def _affine(const: int, terms: dict[int, tuple[int, int]]) -> Index:
    kept = tuple(sorted((a, c, e) for a, (c, e) in terms.items() if c != 0))
    return Affine(const, kept) if kept else const


def materialize(value: Index) -> Any:
    """The value as an int or a numpy array."""
    return value.materialize() if isinstance(value, Affine) else value


def index_add(lhs: Index, rhs: Index, sign: int = 1) -> Index:
    """`lhs + sign * rhs` on indices, staying symbolic where both sides are."""
    if isinstance(rhs, int):  # a counter plus an offset, the common case
        if isinstance(lhs, Affine):
            return Affine(lhs.const + sign * rhs, lhs.terms)
        if isinstance(lhs, int):
            return lhs + sign * rhs
    if isinstance(lhs, Affine | int) and isinstance(rhs, Affine | int):
        terms: dict[int, tuple[int, int]] = {}
        const = 0
        for part, s in ((lhs, 1), (rhs, sign)):
            if isinstance(part, int):
                const += s * part
                continue
            const += s * part.const
            for axis, coefficient, extent in part.terms:
                old = terms.get(axis, (0, extent))[0]
                terms[axis] = (old + s * coefficient, extent)
        return _affine(const, terms)
    return materialize(lhs) + sign * materialize(rhs)


def index_mul(lhs: Index, rhs: Index) -> Index:
    """`lhs * rhs` on indices, staying symbolic when one side is a constant."""
    if isinstance(lhs, int) and isinstance(rhs, Affine):
        lhs, rhs = rhs, lhs
    if isinstance(lhs, Affine) and isinstance(rhs, int):
        return _affine(lhs.const * rhs, {a: (c * rhs, e) for a, c, e in lhs.terms})
    return materialize(lhs) * materialize(rhs)


# ---- reading and writing memories -------------------------------------------------------------


def _bounds(memory: Memory, op_name: str, dim: int, low: int, high: int) -> None:
    size = memory.shape[dim]
    if low < 0 or high >= size:
        raise Diagnostic(
            op_name,
            f"index out of bounds in memory '{memory.name}': dimension {dim} is indexed over "
            f"[{low}, {high}], its size is {size}",
        )


def _buffer(memory: Memory, selector: Any) -> Any:
    if isinstance(selector, int):
        return selector % memory.buffers
    if np.ndim(selector) == 0:
        return int(selector) % memory.buffers
    return np.asarray(selector) % memory.buffers


def _as_slices(
    memory: Memory, op_name: str, indices: Sequence[Index]
) -> tuple[tuple[Any, ...], list[int]] | None:
    """`indices` as basic indexing (ints and slices) and the counter axis of each sliced
    dimension, or None when some index is not an int or a single-counter `Affine`."""
    keys: list[Any] = []
    axes: list[int] = []
    for dim, index in enumerate(indices):
        if isinstance(index, int | np.integer):
            _bounds(memory, op_name, dim, int(index), int(index))
            keys.append(int(index))
        elif isinstance(index, Affine) and len(index.terms) == 1:
            axis, coefficient, extent = index.terms[0]
            if axis in axes:
                return None  # the same counter on two dimensions (a diagonal): gather
            last = index.const + coefficient * (extent - 1)
            _bounds(memory, op_name, dim, min(index.const, last), max(index.const, last))
            stop = last + (1 if coefficient > 0 else -1)
            keys.append(slice(index.const, None if stop < 0 else stop, coefficient))
            axes.append(axis)
        else:
            return None
    # the Ellipsis keeps the result a view (a 0-d array) when every index is an int
    return (*keys, Ellipsis), axes


def _to_frame(view: np.ndarray, axes: list[int]) -> np.ndarray:
    """A view whose dimensions are the counters `axes` (in memory order), laid out as a
    value: innermost counter first, unit dimensions for the counters it does not use."""
    if not axes:
        return view
    ndim = max(axes) + 1
    shape = [1] * ndim
    for axis, size in zip(axes, view.shape, strict=True):
        shape[ndim - 1 - axis] = size
    order = sorted(range(len(axes)), key=lambda j: -axes[j])
    return view.transpose(order).reshape(shape)  # only unit dimensions are added: a view


def _gather_indices(memory: Memory, op_name: str, indices: Sequence[Index]) -> list[Any]:
    arrays = []
    for dim, index in enumerate(indices):
        value = materialize(index)
        low, high = int(np.min(value)), int(np.max(value))
        _bounds(memory, op_name, dim, low, high)
        arrays.append(value)
    return arrays


_StorePlan = tuple[np.ndarray, tuple[Any, ...], list[int], tuple[int, ...] | None]


class Accessor:
    """Reads or writes the elements one load or store addresses, for every iteration in
    scope. The slicing of an address is worked out once and kept: a weight row block is
    the same view at every time step."""

    def __init__(self, op_name: str, copy: bool):
        self.op_name = op_name
        self.copy = copy  # loads from a memory that stores may change: copy, not a view
        self._loads: dict[tuple[Any, ...], np.ndarray | None] = {}
        self._stores: dict[tuple[Any, ...], _StorePlan | None] = {}

    def forget(self) -> None:
        """Drop the slicings worked out so far (the memories of a finished run)."""
        self._loads.clear()
        self._stores.clear()

    def load(self, memory: Memory, indices: tuple[Index, ...], selector: Any) -> Any:
        buffer = _buffer(memory, selector)
        if isinstance(buffer, int):
            try:
                view = self._loads[(memory, buffer, indices)]
            except KeyError:
                basic = _as_slices(memory, self.op_name, indices)
                view = None if basic is None else _to_frame(memory.data[buffer][basic[0]], basic[1])
                self._loads[(memory, buffer, indices)] = view
            except TypeError:  # an index is an array: not hashable, not a slice
                view = None
            if view is not None:
                return view.copy() if self.copy else view
        return memory.data[(buffer, *_gather_indices(memory, self.op_name, indices))]

    def store(
        self,
        memory: Memory,
        indices: tuple[Index, ...],
        selector: Any,
        value: Any,
        frame: Sequence[int],
    ) -> None:
        """`frame` holds the extents of the counters in scope (axis 0 first). When several
        iterations write one element, one of them wins; the conflict checker reports it."""
        buffer = _buffer(memory, selector)
        ndim = len(frame)
        value = np.asarray(value)
        if isinstance(buffer, int):
            try:
                plan = self._stores[(memory, buffer, indices, ndim)]
            except KeyError:
                plan = self._plan(memory, buffer, indices, ndim)
                self._stores[(memory, buffer, indices, ndim)] = plan
            except TypeError:
                plan = None
            if plan is not None:
                target, keep, order, shape = plan
                if value.shape == shape:  # one value per element, in memory order
                    target[...] = value.reshape(target.shape)
                    return
                # a value that does not vary along a kept counter broadcasts over it
                lifted = value.reshape((1,) * (ndim - value.ndim) + value.shape)
                target[...] = lifted[keep].transpose(order)
                return
        arrays = _gather_indices(memory, self.op_name, indices)
        shape = np.broadcast_shapes(value.shape, *(np.shape(a) for a in arrays), np.shape(buffer))
        targets = tuple(np.broadcast_to(a, shape) for a in (buffer, *arrays))
        memory.data[targets] = np.broadcast_to(value, shape)

    def _plan(
        self, memory: Memory, buffer: int, indices: tuple[Index, ...], ndim: int
    ) -> _StorePlan | None:
        """How to store by basic indexing: the target view; which of the value's elements
        to keep (the counters the index uses; along the others every iteration writes the
        same element, so one of them is taken) and in which order; and the value shape
        that needs no rearranging (when the kept counters are in memory order)."""
        basic = _as_slices(memory, self.op_name, indices)
        if basic is None:
            return None
        keys, axes = basic
        target = memory.data[buffer][keys]
        keep = tuple(slice(None) if (ndim - 1 - p) in axes else 0 for p in range(ndim))
        kept = sorted(axes, reverse=True)  # the order of the kept dimensions
        order = [kept.index(a) for a in axes]
        sizes = dict(zip(axes, target.shape, strict=True))
        shape = tuple(sizes.get(ndim - 1 - p, 1) for p in range(ndim))
        in_order = order == sorted(order)
        return target, keep, order, shape if in_order else None
