"""The built wheel installs one package, `rnnc`, and nothing else into site-packages.

Builds a wheel of the project with pip (about 3 s, in an isolated build environment from a
copy of the sources, so that the build writes nothing into the repository) and reads its
file list.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: What the build reads: the metadata and the three folders that become `rnnc`.
BUILD_INPUTS = ("pyproject.toml", "README.md", "compiler", "dialects", "passes")


def test_the_wheel_holds_only_rnnc(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(path, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q",
         "-w", str(tmp_path / "wheel")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "wheel").glob("rnnc-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    (metadata,) = top - {"rnnc"}
    assert metadata.startswith("rnnc-") and metadata.endswith(".dist-info"), top
    for expected in (
        "rnnc/dialects/loop.py",
        "rnnc/passes/loop_fuse.py",
        "rnnc/driver/cli.py",
        "rnnc/target/presets/plasticine-rnn.json",
    ):
        assert expected in names, expected
