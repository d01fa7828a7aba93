"""`rnnc.driver.io.load_npz`: which members an `expected` mapping admits, and how each is
checked. Without a mapping every member is accepted; an empty mapping expects none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rnnc.backend.input_files import Expected, load_npz
from rnnc.diagnostics import Diagnostic


@pytest.fixture
def archive(tmp_path: Path) -> str:
    path = tmp_path / "a.npz"
    np.savez(path, X=np.arange(6, dtype=np.float32).reshape(2, 3),
             lens=np.array([2, 1], np.int32))
    return str(path)


def test_without_a_mapping_every_member_is_read(archive: str) -> None:
    arrays = load_npz(archive)
    assert sorted(arrays) == ["X", "lens"]
    assert arrays["X"].shape == (2, 3) and arrays["lens"].dtype == np.int32


def test_an_empty_mapping_makes_every_member_unknown(archive: str) -> None:
    with pytest.raises(Diagnostic) as error:
        load_npz(archive, {}, what="input")
    assert str(error.value) == f"{archive}: error: unknown input(s) X, lens (expected none)"


def test_an_empty_mapping_with_allow_extra_reads_every_member_unchecked(archive: str) -> None:
    arrays = load_npz(archive, {}, allow_extra=True)
    assert sorted(arrays) == ["X", "lens"]
    np.testing.assert_array_equal(arrays["lens"], [2, 1])


def test_an_empty_archive_meets_an_empty_mapping(tmp_path: Path) -> None:
    path = tmp_path / "empty.npz"
    np.savez(path)
    assert load_npz(str(path), {}) == {}


def test_an_extra_member_is_not_checked_against_another_members_expectation(
    archive: str,
) -> None:
    arrays = load_npz(archive, {"X": Expected((2, 3), "float")}, allow_extra=True)
    assert arrays["lens"].dtype == np.int32


def test_an_expected_member_of_the_wrong_shape_is_an_error(archive: str) -> None:
    with pytest.raises(Diagnostic, match=r"input 'X' has shape 2x3, expected 3x2"):
        load_npz(archive, {"X": Expected((3, 2), "float"), "lens": Expected((2,), "integer")},
                 what="input")
