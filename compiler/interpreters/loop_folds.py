"""The folds of `loop.reduce` on numpy arrays, in float32 and in mixed precision.

A reduction's body is evaluated once for all values of its counter (axis 0 of a frame of
parallel axes, see `loop_values`); these functions fold that axis away: `fold` with the
reduction's combiner, `contract` as a (batched) matrix product when the body yields a
product of two loaded values, and `mixed_contract` as `precision.dot` computes it in the
mixed mode, pairs of products that straddle two segments of one stream included
(`Pairs`, `boundary_pair`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from rnnc.numerics.precision import NumericMode, dot, quantize

_FOLD: dict[str, Callable[..., Any]] = {
    "add": np.sum,
    "mul": np.prod,
    "max": np.max,
    "min": np.min,
}


def _lift(value: Any, ndim: int) -> np.ndarray:
    array = np.asarray(value)
    return array.reshape((1,) * (ndim - array.ndim) + array.shape)


def fold(kind: str, value: Any, ndim: int, length: int) -> Any:
    """Fold `value` over axis 0 of a frame of `ndim` axes (the innermost counter)."""
    array = _lift(value, ndim)
    if array.shape[0] == length:
        return _FOLD[kind](array, axis=0)
    # the body does not depend on the counter: every index yields the same value
    if kind == "add":
        return array[0] * length
    if kind == "mul":
        return array[0] ** length
    return array[0]


def contract(lhs: Any, rhs: Any, ndim: int, length: int) -> Any:
    """`sum over axis 0 of lhs * rhs` as a (batched) matrix product.

    Axes where both operands vary are batch axes, axes where only one varies are the rows
    or columns of the product.
    """
    a, b = _lift(lhs, ndim), _lift(rhs, ndim)
    if a.shape[0] != length or b.shape[0] != length:
        return fold("add", a * b, ndim, length)
    if b.size == length:  # a matrix times a vector, the common case: one BLAS call
        return np.dot(b.reshape(length), a.reshape(length, -1)).reshape(a.shape[1:])
    if a.size == length:
        return np.dot(a.reshape(length), b.reshape(length, -1)).reshape(b.shape[1:])
    rest = range(1, ndim)
    batch = [j for j in rest if a.shape[j] > 1 and b.shape[j] > 1]
    rows = [j for j in rest if a.shape[j] > 1 and b.shape[j] == 1]
    cols = [j for j in rest if a.shape[j] == 1 and b.shape[j] > 1]
    units_a = [j for j in rest if a.shape[j] == 1]
    units_b = [j for j in rest if b.shape[j] == 1]
    sizes = [max(a.shape[j], b.shape[j]) for j in range(ndim)]
    count = [int(np.prod([sizes[j] for j in axes])) for axes in (batch, rows, cols)]
    a2 = a.transpose([*batch, *rows, 0, *units_a]).reshape(count[0], count[1], length)
    b2 = b.transpose([*batch, 0, *cols, *units_b]).reshape(count[0], length, count[2])
    product = a2[0] @ b2[0] if count[0] == 1 else np.matmul(a2, b2)
    grouped = product.reshape([sizes[j] for j in (*batch, *rows, *cols)])
    order = [*batch, *rows, *cols]
    result = grouped.transpose(sorted(range(len(order)), key=lambda j: order[j]))
    shape = [sizes[j] if j in order else 1 for j in rest]
    return result.reshape(shape)


Factors = tuple[np.ndarray, np.ndarray]


class Pairs(NamedTuple):
    """A contraction segment's fold in mixed precision, before it joins its reduction.

    `total` is the float32 sum of the float16 sums of the pairs of products that lie within
    the segment. `head` and `tail` are the 8-bit factors (counter axis of length 1) of the
    products a pair shares with a neighbouring segment of the stream: the first product when
    the segment starts in the middle of a pair, the last when it ends in the middle of one.
    """

    total: np.ndarray
    head: Factors | None
    tail: Factors | None


#: Products one `dot` call forms at most (1 MiB of float32). Without a limit, the hoisted
#: input projections of a long sequence would form every product at once, e.g. 10^8 per
#: gate of GRU-1024 over 100 steps.
_DOT_CHUNK = 1 << 18


def mixed_contract(
    precision: NumericMode,
    lhs: Any,
    rhs: Any,
    ndim: int,
    length: int,
    *,
    start: int,
    quantized: tuple[bool, bool],
) -> Pairs:
    """`sum over axis 0 of lhs * rhs` as `precision.dot` computes it, for a segment whose
    products start at position `start` of its reduction's stream. `quantized` says which
    factors are 8-bit already."""
    a, b = _lift(lhs, ndim), _lift(rhs, ndim)
    # a factor that does not depend on the counter is the same in every product
    if a.shape[0] != length:
        a = np.broadcast_to(a, (length, *a.shape[1:]))
    if b.shape[0] != length:
        b = np.broadcast_to(b, (length, *b.shape[1:]))
    first = start % 2  # 1: the first product completes the previous segment's last pair
    end = length - (start + length) % 2  # the products before `end` pair up within the segment
    head = _factors(precision, a, b, slice(0, 1), quantized) if first else None
    tail = _factors(precision, a, b, slice(end, length), quantized) if end < length else None
    total = _chunked_dot(precision, a[first:end], b[first:end], quantized)
    return Pairs(total, head, tail)


def _factors(
    precision: NumericMode, a: np.ndarray, b: np.ndarray, index: slice, quantized: tuple[bool, bool]
) -> Factors:
    """The 8-bit factors of the products `index` selects along axis 0."""
    return (
        a[index] if quantized[0] else quantize(precision, a[index]),
        b[index] if quantized[1] else quantize(precision, b[index]),
    )


def _chunked_dot(
    precision: NumericMode, a: np.ndarray, b: np.ndarray, quantized: tuple[bool, bool]
) -> np.ndarray:
    """`dot` over axis 0, in pieces of at most `_DOT_CHUNK` products, split along the
    largest of the other axes (the pieces are independent: pairs run along axis 0)."""
    shape = np.broadcast_shapes(a.shape, b.shape)
    size = math.prod(shape)
    axis = max(range(1, len(shape)), key=lambda j: shape[j], default=0)
    if size <= _DOT_CHUNK or axis == 0 or shape[axis] == 1:
        return dot(precision, a, b, axis=0, a_quantized=quantized[0], b_quantized=quantized[1])
    step = max(1, _DOT_CHUNK * shape[axis] // size)
    result = np.empty(shape[1:], np.float32)
    for low in range(0, shape[axis], step):
        part = slice(low, low + step)
        result[(slice(None),) * (axis - 1) + (part,)] = _chunked_dot(
            precision, _part(a, axis, part), _part(b, axis, part), quantized
        )
    return result


def _part(array: np.ndarray, axis: int, part: slice) -> np.ndarray:
    """`array[part]` along `axis`, unless it broadcasts along it."""
    if array.shape[axis] == 1:
        return array
    return array[(slice(None),) * axis + (part,)]


def boundary_pair(precision: NumericMode, first: Factors, second: Factors) -> np.ndarray:
    """The float16 sum of two adjacent products of the stream that two segments share,
    from their factors, by `dot` itself: one pair of length 2."""
    a = _stack(first[0], second[0])
    b = _stack(first[1], second[1])
    return dot(precision, a, b, axis=0, a_quantized=True, b_quantized=True)


def _stack(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    shape = np.broadcast_shapes(x.shape, y.shape)
    return np.concatenate([np.broadcast_to(x, shape), np.broadcast_to(y, shape)])
