"""The content-addressed cache of point results.

A point's key is the SHA-256 of the canonical JSON of everything its result depends on
(`Point.identity`: the model's sizes or text, the whole architecture description, the
pipeline, precision, objective, chips, run level) together with the compiler's
fingerprint: its version and a hash of its own source files, so that a changed compiler
never serves a stale result. A result is one small JSON file, `<dir>/<k[:2]>/<k>.json`,
written atomically as soon as the point finishes: an interrupted sweep loses no finished
point, and a repeated one computes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from rnnc.driver.sweep.study import Point


def default_cache_dir() -> Path:
    """`$RNNC_CACHE_DIR`, else `$XDG_CACHE_HOME/rnnc/sweep` (`~/.cache/rnnc/sweep`)."""
    if "RNNC_CACHE_DIR" in os.environ:
        return Path(os.environ["RNNC_CACHE_DIR"])
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "rnnc" / "sweep"


@cache
def compiler_fingerprint() -> str:
    """rnnc's version and the SHA-256 of its source: every .py and .json file of the
    installed packages (rnnc, rnnc.dialects, rnnc.passes), by relative path."""
    import rnnc.dialects
    import rnnc.passes

    roots = {
        "rnnc": Path(__file__).resolve().parents[2],  # the rnnc package: driver/sweep/..
        "rnnc.dialects": Path(rnnc.dialects.__file__).parent,
        "rnnc.passes": Path(rnnc.passes.__file__).parent,
    }
    digest = hashlib.sha256()
    for name, root in roots.items():
        files = sorted(p for p in root.rglob("*") if p.suffix in (".py", ".json") and p.is_file())
        for path in files:
            digest.update(f"{name}/{path.relative_to(root).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return f"{_version()}+{digest.hexdigest()[:16]}"


def _version() -> str:
    try:
        return metadata.version("rnnc")
    except metadata.PackageNotFoundError:  # run from a source tree without installing
        return "unknown"


def point_key(point: Point, fingerprint: str) -> str:
    canonical = json.dumps(
        {"compiler": fingerprint, "point": point.identity()},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class ResultCache:
    """Point results by key in a folder (None: a cache that keeps nothing)."""

    def __init__(self, folder: Path | None):
        self.folder = folder

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        if self.folder is None:
            return None
        try:
            return json.loads(self._path(key).read_text())
        except (OSError, ValueError):  # absent, or a damaged entry: compute it again
            return None

    def put(self, key: str, result: dict[str, Any]) -> None:
        if self.folder is None:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key}.", suffix=".json")
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(result, handle, sort_keys=True)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


__all__ = ["ResultCache", "compiler_fingerprint", "default_cache_dir", "point_key"]
