"""Detection of conflicting accesses between the iterations of a parallel loop.

The iterations of a `loop.foreach` are independent by contract: no iteration may write an
element of a memory that another iteration reads or writes. The vectorized interpreter
runs all iterations at once, so a program that breaks the contract would silently compute
something else; instead, every access to a memory the loop writes is recorded while the
body runs, and the record is checked when the loop ends.

Most loops pass a cheap symbolic check: each memory is written at one affine index that is
injective in the loop's counters, and read either at that same index (by the iteration that
writes it) or in another buffer. Anything else is checked element by element, with the
accessed elements and the iterations accessing them as numpy arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rnnc.diagnostics import Diagnostic
from rnnc.interpreters.loop_values import Affine, Index, Memory, materialize


@dataclass(frozen=True)
class Access:
    """One load or store executed for all iterations in scope (`ndim` counters)."""

    write: bool
    indices: tuple[Index, ...]
    selector: Any
    ndim: int


class ConflictChecker:
    """Checks the iterations of one execution of a `loop.foreach` for conflicts.

    Its counters are the axes `first .. first + len(extents) - 1`; axes below `first`
    belong to enclosing parallel loops, whose every iteration runs this loop separately.
    """

    def __init__(
        self, counter_names: Sequence[str], first: int, frame: Sequence[int], written: set[int]
    ):
        self.names = tuple(counter_names)
        self.first = first
        self.frame = tuple(frame)  # extents of every axis in scope, axis 0 first
        self.written = written  # id() of the memories this loop writes
        self.accesses: dict[int, tuple[Memory, list[Access]]] = {}

    @property
    def extents(self) -> tuple[int, ...]:
        return self.frame[self.first :]

    def record(self, memory: Memory, access: Access) -> None:
        """Note an access to a memory this loop writes (see `written`)."""
        self.accesses.setdefault(id(memory), (memory, []))[1].append(access)

    def check(self) -> None:
        for memory, accesses in self.accesses.values():
            if not self._provably_disjoint(memory, accesses):
                self._check_elements(memory, accesses)

    # ---- the symbolic check ---------------------------------------------------------------

    def _provably_disjoint(self, memory: Memory, accesses: list[Access]) -> bool:
        if not all(_is_symbolic(a) for a in accesses):
            return False
        written_at: dict[int, Access] = {}
        for a in accesses:
            if a.write:
                buffer = int(a.selector) % memory.buffers
                if buffer in written_at and written_at[buffer].indices != a.indices:
                    return False
                if not self._injective(a):
                    return False
                written_at[buffer] = a
        return all(
            written_at[buffer].indices == a.indices
            for a in accesses
            if (buffer := int(a.selector) % memory.buffers) in written_at
        )

    def _injective(self, access: Access) -> bool:
        """Whether distinct iterations of this loop write distinct elements."""
        used: dict[int, int] = {}  # this loop's (and inner loops') axes -> dimension
        for dim, index in enumerate(access.indices):
            if not isinstance(index, Affine):
                continue
            local = [axis for axis, _, _ in index.terms if axis >= self.first]
            if len(local) > 1:
                return False
            for axis in local:
                used[axis] = dim
        own = range(self.first, len(self.frame))
        return all(axis in used for axis in own if self.frame[axis] > 1)

    # ---- the element-wise check -------------------------------------------------------------

    def _keys(self, memory: Memory, access: Access) -> tuple[np.ndarray, np.ndarray]:
        """Per instance of the access: a key of the element within this loop's enclosing
        iteration, and the iteration of this loop that makes it (broadcastable arrays)."""
        strides = [s // memory.data.itemsize for s in memory.data.strides]
        flat: Any = (np.asarray(access.selector) % memory.buffers) * strides[0]
        for index, stride in zip(access.indices, strides[1:], strict=True):
            flat = flat + np.asarray(materialize(index), dtype=np.int64) * stride
        outer = self._linear(range(self.first), access.ndim)
        key = outer * memory.data.size + flat
        return np.asarray(key, dtype=np.int64), self._linear(
            range(self.first, len(self.frame)), access.ndim
        )

    def _linear(self, axes: range, ndim: int) -> np.ndarray:
        """The row-major number of the iteration over `axes`, in a value of `ndim` axes."""
        total: Any = np.int64(0)
        for axis in axes:
            shape = [1] * ndim
            shape[ndim - 1 - axis] = self.frame[axis]
            total = total * self.frame[axis] + np.arange(self.frame[axis]).reshape(shape)
        return np.asarray(total, dtype=np.int64)

    def _check_elements(self, memory: Memory, accesses: list[Access]) -> None:
        keys, iters = [], []
        for access in (a for a in accesses if a.write):
            k, i = np.broadcast_arrays(*self._keys(memory, access))
            keys.append(k.ravel())
            iters.append(i.ravel())
        key, it = np.concatenate(keys), np.concatenate(iters)
        order = np.lexsort((it, key))
        key, it = key[order], it[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        ends = np.r_[starts[1:], len(key)] - 1
        clash = np.flatnonzero(it[starts] != it[ends])
        if clash.size:
            j = clash[0]
            raise self._error(memory, key[starts[j]], it[starts[j]], it[ends[j]], "writes")
        owner_keys, owner_iters = key[starts], it[starts]
        for access in (a for a in accesses if not a.write):
            self._check_read(memory, access, owner_keys, owner_iters)

    def _check_read(
        self, memory: Memory, access: Access, owner_keys: np.ndarray, owner_iters: np.ndarray
    ) -> None:
        key, it = self._keys(memory, access)
        pos = np.minimum(np.searchsorted(owner_keys, key), len(owner_keys) - 1)
        hit = owner_keys[pos] == key
        shape = (1,) * (access.ndim - key.ndim) + key.shape
        for axis in range(self.first, len(self.frame)):
            if self.frame[axis] > 1 and shape[access.ndim - 1 - axis] == 1:
                # every iteration along `axis` reads the same elements: any of them that
                # one iteration writes is read by another
                if hit.any():
                    j = np.flatnonzero(hit.ravel())[0]
                    owner = int(owner_iters[pos.ravel()[j]])
                    raise self._error(
                        memory, key.ravel()[j], owner, self._neighbour(owner, axis), "reads"
                    )
                return
        key, it, pos, hit = np.broadcast_arrays(key, it, pos, hit)
        bad = np.flatnonzero((hit & (owner_iters[pos] != it)).ravel())
        if bad.size:
            j = bad[0]
            owner = int(owner_iters[pos.ravel()[j]])
            raise self._error(memory, key.ravel()[j], owner, int(it.ravel()[j]), "reads")

    def _neighbour(self, iteration: int, axis: int) -> int:
        """An iteration that differs from `iteration` only along `axis`."""
        coords = list(np.unravel_index(iteration, self.extents))
        local = axis - self.first
        coords[local] = 1 if coords[local] == 0 else 0
        return int(np.ravel_multi_index(coords, self.extents))

    def _error(self, memory: Memory, key: int, first: int, second: int, verb: str) -> Diagnostic:
        element = np.unravel_index(int(key) % memory.data.size, memory.data.shape)
        where = f"{memory.name}[{', '.join(str(int(i)) for i in element[1:])}]"
        if memory.buffers > 1:
            where += f" (buffer {int(element[0])})"
        return Diagnostic(
            "loop.foreach",
            f"iterations conflict on memory '{memory.name}': iteration {self._describe(first)} "
            f"writes {where}, which iteration {self._describe(second)} {verb}",
        )

    def _describe(self, iteration: int) -> str:
        coords = np.unravel_index(iteration, self.extents)
        return (
            "(" + ", ".join(f"{n}={int(c)}" for n, c in zip(self.names, coords, strict=True)) + ")"
        )


def _is_symbolic(access: Access) -> bool:
    return np.ndim(access.selector) == 0 and all(
        isinstance(i, int | Affine) for i in access.indices
    )
