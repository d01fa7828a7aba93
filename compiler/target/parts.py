"""A reduction cut into parts of whole chunks: the arithmetic the plan
(`rnnc.target.plan`) and the block-scaled formats' byte count (`rnnc.target.format_blocks`)
share. Every function takes ints or numpy arrays of design points alike."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.int64]
IntLike = int | Array


def cdiv(a: IntLike, b: IntLike) -> Array:
    return -(-np.asarray(a, dtype=np.int64) // np.asarray(b, dtype=np.int64))


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
