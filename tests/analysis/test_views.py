"""Reshapes and transposes as relabellings of a memory's indices (`rnnc.analysis.views`),
checked against numpy's reshape and transpose of an array of element numbers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from rnnc.analysis.views import IndexMap


def _apply(view: IndexMap, index: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sum(c * index[a] for a, c in expr) for expr in view.exprs)


def _check(view: IndexMap, array: np.ndarray, result: np.ndarray) -> None:
    """Every element of `array` lands where `view` says in `result`."""
    assert view.shape == result.shape
    for index in itertools.product(*(range(n) for n in array.shape)):
        assert result[_apply(view, index)] == array[index]


def test_joining_two_directions_is_a_relabelling() -> None:
    # PyTorch's bidirectional output: Y (t, d, b, i) -> transpose(0, 2, 1, 3) -> (t, b, d*H+i)
    y = np.arange(5 * 2 * 3 * 4).reshape(5, 2, 3, 4)
    view = IndexMap.identity(y.shape).permute((0, 2, 1, 3)).reshape((5, 3, 8))
    assert view is not None
    assert view.exprs == (((0, 1),), ((2, 1),), ((1, 4), (3, 1)))
    _check(view, y, y.transpose(0, 2, 1, 3).reshape(5, 3, 8))


@pytest.mark.parametrize(
    ("shape", "to"),
    [((5, 1, 1, 8), (5, 1, 8)), ((5, 1, 8), (5, 1, 1, 8)), ((5, 2, 1, 8), (5, 16)),
     ((1, 5, 8), (5, 8)), ((2, 1, 3), (1, 2, 3, 1))],
)
def test_squeeze_unsqueeze_and_merge_are_relabellings(
    shape: tuple[int, ...], to: tuple[int, ...]
) -> None:
    array = np.arange(int(np.prod(shape))).reshape(shape)
    view = IndexMap.identity(shape).reshape(to)
    assert view is not None
    _check(view, array, array.reshape(to))


@pytest.mark.parametrize(("shape", "to"), [((5, 8), (5, 2, 4)), ((6, 4), (4, 6))])
def test_a_reshape_that_needs_a_division_is_refused(
    shape: tuple[int, ...], to: tuple[int, ...]
) -> None:
    assert IndexMap.identity(shape).reshape(to) is None


def test_reading_through_a_transpose_inverts_it() -> None:
    # X (b, t, k) transposed to (t, b, k): index (t, b, k) of the view reads X[b, t, k]
    view = IndexMap.identity((25, 2, 8)).inverse_permute((1, 0, 2))
    assert view.shape == (2, 25, 8)
    assert _apply(view, (7, 1, 3)) == (1, 7, 3)
    assert IndexMap.identity((3, 4)).is_identity
    assert not view.is_identity
