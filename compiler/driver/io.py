"""File input and output: all-or-nothing writes, and `.npz` archives read safely (every
header checked before any data is inflated) and written reproducibly.

`np.savez` stamps every member with the current time, so the same arrays give different
bytes on every run. Generated models must be byte-for-byte reproducible, so members are
written here with a fixed timestamp, in the order given.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from rnnc.backend.input_files import Expected, load_npz, os_reason
from rnnc.diagnostics import Diagnostic
from rnnc.dialects.rnn import WeightOp
from xdsl.dialects.builtin import IntegerType, ModuleOp, StringAttr, TensorType

#: The earliest time a zip archive can record; any fixed value would do.
_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


def save_npz(
    path: Path | str | BinaryIO, arrays: Mapping[str, np.ndarray], *, compress: bool = False
) -> None:
    """Write `arrays` to `path` as an `.npz` that `np.load` reads; same input, same bytes.

    `compress` deflates the members (at level 1: most of the gain for a fraction of the
    time), which pays off for weights drawn from a small set of values.
    """
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=method, allowZip64=True) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=False)
            member = zipfile.ZipInfo(f"{name}.npy", date_time=_TIMESTAMP)
            member.external_attr = 0o644 << 16  # a plain file, readable by all
            archive.writestr(member, buffer.getbuffer(), compress_type=method, compresslevel=1)


@dataclass(frozen=True)
class _Planned:
    """One reserved output: the path as given, where it goes, and its temporary."""

    given: str
    target: Path  # the file itself (through symbolic links), or the device/pipe to fill
    tmp: Path
    stream: bool  # a device or pipe (/dev/stdout): filled at the end, never replaced
    flag: str  # the option that names it (-o, --report, ...)


class Outputs:
    """The output files of one command, written all-or-nothing.

    `reserve(path)` checks that `path` can be written and returns a temporary file beside
    it to write instead; `commit()` moves every temporary into place once all parts are
    written. Used as a context manager, an exception before `commit()` removes every
    temporary, so a failed command leaves no file, new or changed. Two outputs of one
    command that name the same file are refused. A device or pipe (`-o /dev/stdout`) is
    filled from its temporary at the end instead of being replaced.
    """

    def __init__(self) -> None:
        self._planned: dict[Path, _Planned] = {}  # by resolved path
        self._inputs: dict[Path, tuple[str, str]] = {}  # resolved -> (as given, what it is)

    def protect(self, path: str | Path, what: str) -> None:
        """`path` is an input of the command (`what`: "the configuration"): no output may
        replace it, whether reserved before or after (a link to it counts as it)."""
        given = str(path)
        resolved = Path(path).resolve()
        self._inputs[resolved] = (given, what)
        for planned in self._planned.values():
            self._check_not_input(planned.given, planned.flag)

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self.discard()

    def reserve(self, path: str, flag: str = "-o") -> Path:
        if not path:
            raise Diagnostic(flag, "the output path is empty")
        given = Path(path)
        if path.endswith(os.sep) or given.name in ("", ".", ".."):
            raise Diagnostic(path, "cannot write the output: it names a folder, not a file")
        resolved = given.resolve()
        self._check_not_input(path, flag)
        if resolved in self._planned:
            first = self._planned[resolved].given
            raise Diagnostic(path, f"{flag} names the file {first} twice: it is already "
                             "another output of this command")
        if _is_stream(given):
            planned = _Planned(path, given, _temporary(path, None, "output"), True, flag)
        else:
            parent = resolved.parent
            if not given.parent.is_dir():
                what = "is not a directory" if given.parent.exists() else "does not exist"
                raise Diagnostic(path, f"cannot write the output: the folder {given.parent} "
                                 f"{what}")
            if resolved.is_dir():
                raise Diagnostic(path, "cannot write the output: it is a directory")
            planned = _Planned(path, resolved, _temporary(path, parent, resolved.name), False,
                               flag)
        self._planned[resolved] = planned
        return planned.tmp

    def _check_not_input(self, path: str, flag: str) -> None:
        """Refuse an output that is one of the command's inputs."""
        target = Path(path).resolve()
        for resolved, (given, what) in self._inputs.items():
            if target == resolved or _same_file(target, resolved):
                raise Diagnostic(path, f"{flag} names {what} {given}, an input of this "
                                 "command: writing there would replace it")

    def write(self, path: str, write: Callable[[Path], None], flag: str = "-o") -> None:
        """Call `write(tmp)` to fill the temporary of `path` (reserving it if need be)."""
        planned = self._planned.get(Path(path).resolve())
        tmp = planned.tmp if planned is not None else self.reserve(path, flag)
        try:
            write(tmp)
        except OSError as error:
            raise Diagnostic(path, f"cannot write the output: {os_reason(error)}") from None

    def release(self, path: str) -> None:
        """Give up a reserved output: the command has nothing to write there after all."""
        planned = self._planned.pop(Path(path).resolve())
        with contextlib.suppress(OSError):
            planned.tmp.unlink()

    def commit(self) -> None:
        """Put every written temporary in place: streams first (the only step that can fail
        half-way, e.g. a closed pipe), then files, each by an atomic rename."""
        mode = 0o666 & ~_umask()  # mkstemp makes files private; outputs are not
        for planned in sorted(self._planned.values(), key=lambda p: not p.stream):
            try:
                if planned.stream:
                    with open(planned.tmp, "rb") as source, open(planned.target, "wb") as sink:
                        shutil.copyfileobj(source, sink)
                    planned.tmp.unlink()
                else:
                    os.chmod(planned.tmp, mode)
                    os.replace(planned.tmp, planned.target)
            except BrokenPipeError:
                raise
            except OSError as error:
                raise Diagnostic(planned.given, f"cannot write the output: "
                                 f"{os_reason(error)}") from None
        self._planned.clear()

    def discard(self) -> None:
        for planned in self._planned.values():
            with contextlib.suppress(OSError):
                planned.tmp.unlink()
        self._planned.clear()


def _same_file(a: Path, b: Path) -> bool:
    """Whether two existing paths are one file (hard links included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _is_stream(path: Path) -> bool:
    """Whether `path` is (a link to) something other than a file or folder: a device, a
    pipe, a terminal. Replacing it would replace, say, /dev/stdout itself."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _temporary(path: str, folder: Path | None, name: str) -> Path:
    """A new empty file in `folder` (the system's temporary folder when None)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    except OSError as error:
        where = folder if folder is not None else tempfile.gettempdir()
        raise Diagnostic(path, f"cannot write the output: cannot create a file in {where} "
                         f"({os_reason(error)})") from None
    os.close(fd)
    return Path(tmp)


def write_atomically(path: str, write: Callable[[Path], None]) -> None:
    """Write one output file all-or-nothing (see `Outputs`)."""
    with Outputs() as outputs:
        outputs.write(path, write)
        outputs.commit()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def model_weights_path(module: ModuleOp, model_path: str) -> Path | None:
    """The `.npz` the module's `rnn.weights` attribute names, beside the model, if any."""
    attr = module.attributes.get("rnn.weights")
    if attr is None:
        return None
    if not isinstance(attr, StringAttr):
        raise Diagnostic(model_path, "the module attribute rnn.weights must be a string")
    return Path(model_path).parent / attr.data


def load_weights(module: ModuleOp, model_path: str) -> dict[str, np.ndarray]:
    """The arrays of the `.npz` named by the module's `rnn.weights` attribute, if any, each
    checked against the `rnn.weight` ops that read it before its data is read."""
    path = model_weights_path(module, model_path)
    if path is None:
        return {}
    expected = {
        op.key.data: expected_of(op.result.type) for op in module.walk() if isinstance(op, WeightOp)
    }
    return load_npz(str(path), expected, what="weight", allow_extra=True)


def expected_of(ty: object) -> Expected:
    """What an npz member read into a value of tensor type `ty` must be."""
    assert isinstance(ty, TensorType)
    element = "integer" if isinstance(ty.get_element_type(), IntegerType) else "float"
    return Expected(tuple(ty.get_shape()), element)
