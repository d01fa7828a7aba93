"""Input files read safely: a regular file of bounded size (never a device read forever),
and `.npz` archives whose every member header is checked against what the reader expects
before any data is inflated (a zip bomb or a truncated member is a diagnostic)."""

from __future__ import annotations

import math
import os
import stat
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO

import numpy as np
from rnnc.diagnostics import Diagnostic, check_fits_in_memory, human_bytes


def os_reason(error: OSError) -> str:
    """An operating-system error's reason, as a diagnostic says it."""
    return (error.strerror or str(error)).lower()


def check_input_file(path: str, limit: int, what: str) -> None:
    """`path` is a regular file of at most `limit` bytes: not a folder, and not a device or
    pipe that could be read forever (`/dev/zero`)."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise Diagnostic(path, "no such file") from None
    except OSError as error:
        raise Diagnostic(path, f"cannot read the file: {os_reason(error)}") from None
    if stat.S_ISDIR(status.st_mode):
        raise Diagnostic(path, f"is a directory, not {what}")
    if not stat.S_ISREG(status.st_mode):
        raise Diagnostic(path, f"is not a regular file (a device or a pipe), so not {what}")
    if status.st_size > limit:
        raise Diagnostic(path, f"is {human_bytes(status.st_size)}, larger than {what} may be "
                         f"({human_bytes(limit)})")


# ---- reading .npz archives safely ----------------------------------------------------------

#: The dtype kinds an array of each element class may have: floats for float tensors,
#: signed or unsigned integers for integer ones (e.g. sequence_lens).
KINDS = {"float": "f", "integer": "iu"}


@dataclass(frozen=True)
class Expected:
    """What a member must hold: a shape and an element class ("float" or "integer")."""

    shape: tuple[int, ...]
    element: str


def load_npz(
    path: str,
    expected: Mapping[str, Expected] | None = None,
    *,
    what: str = "array",
    allow_extra: bool = False,
) -> dict[str, np.ndarray]:
    """The arrays of the `.npz` at `path`, each member's header checked before its data is
    read (or inflated): a numeric, non-structured dtype of the expected class, a shape as
    `expected` says (by member name) and a size that fits in memory. A member that is
    missing, or unknown when `allow_extra` is False, is an error naming it. Without
    `expected` every member is accepted; an empty `expected` expects none (every member
    is unknown, and only checked as a numeric array when `allow_extra`)."""
    check_input_file(path, 1 << 62, "an .npz archive")  # members are checked one by one
    try:
        archive = zipfile.ZipFile(path)
    except OSError as error:
        raise Diagnostic(path, f"cannot read the file: {os_reason(error)}") from None
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):
        raise Diagnostic(path, "not an .npz archive (a zip file of .npy arrays)") from None
    with archive:
        members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
        others = [name for name, info in members.items() if not info.filename.endswith(".npy")]
        if others:
            raise Diagnostic(path, f"member '{others[0]}' is not an .npy array")
        if expected is not None:
            _check_names(path, set(members), expected, what, allow_extra)
        wanted = expected or {}
        return {
            name: _read_member(archive, info, f"{path}: {name}", wanted.get(name), what)
            for name, info in members.items()
        }


def _check_names(
    path: str, present: set[str], expected: Mapping[str, Expected], what: str, extra: bool
) -> None:
    names = ", ".join(expected) or "none"
    missing = [name for name in expected if name not in present]
    if missing:
        raise Diagnostic(path, f"missing {what}(s) {', '.join(missing)} (expected {names})")
    unknown = sorted(present - set(expected))
    if unknown and not extra:
        raise Diagnostic(path, f"unknown {what}(s) {', '.join(unknown)} (expected {names})")


def _read_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    where: str,
    expected: Expected | None,
    what: str,
) -> np.ndarray:
    name = where.rsplit(": ", 1)[1]
    try:
        with archive.open(info) as stream:
            version = np.lib.format.read_magic(stream)
            shape, fortran, dtype = _read_header(stream, version)
            _check_header(f"{what} '{name}'", where, shape, dtype, expected)
            array = np.empty(shape, dtype, order="F" if fortran else "C")
            got = _read_into(stream, memoryview(array.reshape(-1, order="A")).cast("B"))
    # what a damaged member raises: zipfile (an unknown compression method or version, an
    # encrypted member), zlib, and numpy's header parser
    except (ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error, NotImplementedError,
            RuntimeError, SyntaxError) as error:
        raise Diagnostic(where, f"member '{name}' is not a readable .npy array "
                         f"({_first_line(error)})") from None
    if got != array.nbytes:
        raise Diagnostic(where, f"member '{name}' is truncated: {got} of its {array.nbytes} "
                         "bytes of data are present")
    return array


#: Bytes inflated at a time when a member is read into its array.
_CHUNK = 1 << 24


def _read_into(stream: IO[bytes], into: memoryview) -> int:
    """Fill `into` from `stream` chunk by chunk (the array is the only full-size copy of
    the data: a large weight file is read at the cost of inflating it); the bytes read."""
    got = 0
    while got < len(into):
        chunk = stream.read(min(_CHUNK, len(into) - got))
        if not chunk:
            break
        into[got:got + len(chunk)] = chunk
        got += len(chunk)
    return got


def _read_header(
    stream: IO[bytes], version: tuple[int, int]
) -> tuple[tuple[int, ...], bool, np.dtype]:
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(stream)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(stream)
    raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]}")


def _check_header(
    name: str, where: str, shape: tuple[int, ...], dtype: np.dtype, expected: Expected | None
) -> None:
    """`name` ("input 'X'") may hold what its header says: checked before any data is read."""
    if any(d < 0 for d in shape):
        raise Diagnostic(where, f"{name} has a negative dimension in its shape {shape}")
    kinds = KINDS[expected.element] if expected is not None else "fiu"
    if dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in kinds:
        wanted = {"f": "a floating-point", "iu": "an integer"}.get(kinds, "a numeric")
        raise Diagnostic(where, f"{name} has dtype {dtype.descr if dtype.fields else dtype}, "
                         f"expected {wanted} dtype")
    if expected is not None and tuple(shape) != expected.shape:
        raise Diagnostic(where, f"{name} has shape {_dims(shape)}, expected "
                         f"{_dims(expected.shape)}")
    check_fits_in_memory(math.prod(shape) * dtype.itemsize, where,
                         f"{name} ({_dims(shape)} x {dtype})")


def _dims(shape: Sequence[int]) -> str:
    return "x".join(map(str, shape)) or "scalar"


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


