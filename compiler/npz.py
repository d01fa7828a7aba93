"""Writing `.npz` archives reproducibly.

`np.savez` stamps every member with the current time, so the same arrays give different
bytes on every run. Generated models must be byte-for-byte reproducible, so members are
written here with a fixed timestamp, in the order given.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

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
