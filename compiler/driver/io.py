"""File input and output: atomic writes, and `.npz` archives read safely and written reproducibly.

`np.savez` stamps every member with the current time, so the same arrays give different
bytes on every run. Generated models must be byte-for-byte reproducible, so members are
written here with a fixed timestamp, in the order given.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
from rnnc.diagnostics import Diagnostic

#: The earliest time a zip archive can record; any fixed value would do.
_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


def save_npz(path: Path | str, arrays: Mapping[str, np.ndarray], *, compress: bool = False) -> None:
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
            archive.writestr(member, buffer.getvalue(), compress_type=method, compresslevel=1)


def write_atomically(path: str, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` on a temporary file beside `path`, then move it into place, so that a
    failure never leaves a half-written `path`."""
    target = Path(path)
    if target.parent and not target.parent.is_dir():
        raise Diagnostic(path, f"the output directory {target.parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=target.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes files private; outputs are not
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load_npz(path: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise Diagnostic(path, "no such file") from None
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise Diagnostic(path, f"not a readable .npz archive ({error})") from None
