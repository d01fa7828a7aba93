"""Reshapes and transposes of a whole tensor as relabellings of the indices of one memory.

A framework's graph surrounds its recurrent layers with data-movement ops that move no data
on an accelerator: PyTorch's `Squeeze` of the direction axis, the `Transpose` and `Reshape`
that join two directions into one feature axis, the `Transpose` of `batch_first`. Each
element of the result is one element of the input, so a program can write (or read) the
memory at the final shape directly, at an index computed from the original one.

An `IndexMap` says, for each dimension of a memory, its index as a sum of multiples of
*atoms*, the dimensions of the tensor the map starts from (each with its extent):

    IndexMap.identity((25, 2, 1, 16)).permute((0, 2, 1, 3)).reshape((25, 1, 32))
    # dims: (t, b, 16*d + i) over the atoms (t, d, b, i)

A reshape is a relabelling only where each atom's multiple lands within one dimension of
the new shape (merging, splitting off or dropping dimensions of extent 1, as `Squeeze`,
`Unsqueeze` and `Flatten` do); anything else would need division, and `reshape` says so
by returning None. Semantics of the ops: `rnnc.dialects.rnn.TransposeOp` (result axis i is
input axis perm[i]) and `ReshapeOp` (row-major order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Term = tuple[int, int]
"""(atom, coefficient)."""


def _strides(shape: Sequence[int]) -> list[int]:
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return strides[::-1]


@dataclass(frozen=True)
class IndexMap:
    """Per dimension of a memory of `shape`, its index as a sum of atom multiples."""

    extents: tuple[int, ...]
    """The extent of each atom."""
    shape: tuple[int, ...]
    exprs: tuple[tuple[Term, ...], ...]
    """Per dimension of `shape`: the terms of its index (none: always 0), atoms ascending."""

    @staticmethod
    def identity(shape: Sequence[int]) -> IndexMap:
        shape = tuple(shape)
        return IndexMap(shape, shape, tuple(((j, 1),) for j in range(len(shape))))

    @property
    def is_identity(self) -> bool:
        return self == IndexMap.identity(self.extents)

    def permute(self, order: Sequence[int]) -> IndexMap:
        """Dimension j of the result is dimension order[j] of this one."""
        return IndexMap(
            self.extents,
            tuple(self.shape[o] for o in order),
            tuple(self.exprs[o] for o in order),
        )

    def inverse_permute(self, order: Sequence[int]) -> IndexMap:
        """The map `m` with `m.permute(order) == self`."""
        inverse = [0] * len(order)
        for j, o in enumerate(order):
            inverse[o] = j
        return self.permute(inverse)

    def reshape(self, shape: Sequence[int]) -> IndexMap | None:
        """The same elements in `shape` (row-major), or None if an index of the new shape is
        not a sum of atom multiples."""
        shape = tuple(shape)
        linear: dict[int, int] = {}
        for stride, expr in zip(_strides(self.shape), self.exprs, strict=True):
            for atom, coefficient in expr:
                linear[atom] = linear.get(atom, 0) + coefficient * stride
        terms = {a: c for a, c in linear.items() if c and self.extents[a] > 1}
        exprs: list[tuple[Term, ...]] = []
        for stride, size in zip(_strides(shape), shape, strict=True):
            mine = {a: c // stride for a, c in terms.items() if stride <= c < stride * size}
            if any(terms[a] % stride for a in mine):
                return None
            if sum(c * (self.extents[a] - 1) for a, c in mine.items()) >= size:
                return None  # the index would carry into the next dimension
            for a in mine:
                del terms[a]
            exprs.append(tuple(sorted(mine.items())))
        if terms:
            return None
        return IndexMap(self.extents, shape, tuple(exprs))
