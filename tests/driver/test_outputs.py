"""Output files are written all-or-nothing, through symbolic links, and into devices and
pipes (`-o /dev/stdout`) without replacing them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from bad_inputs import MODEL
from rnnc.diagnostics import Diagnostic
from rnnc.driver import cli
from rnnc.driver.io import Outputs
from test_bad_inputs import RNNC


def test_a_failing_part_leaves_no_file(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("before")

    def fail(tmp: Path) -> None:
        raise Diagnostic("b.txt", "cannot compute b")

    with pytest.raises(Diagnostic), Outputs() as outputs:
        outputs.write(str(tmp_path / "a.txt"), lambda tmp: tmp.write_text("a"))
        outputs.write(str(tmp_path / "old.txt"), lambda tmp: tmp.write_text("after"))
        outputs.write(str(tmp_path / "b.txt"), fail)
        outputs.commit()

    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.txt"]
    assert (tmp_path / "old.txt").read_text() == "before"


def test_all_parts_land_together(tmp_path: Path) -> None:
    with Outputs() as outputs:
        for name in ("a.txt", "b.txt"):
            outputs.write(str(tmp_path / name), lambda tmp, name=name: tmp.write_text(name))
        assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == []
        outputs.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]
    assert (tmp_path / "b.txt").read_text() == "b.txt"


def test_gen_writes_its_three_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["gen", "gru", "8", "2", "-o", "m.mlir"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.inputs.npz", "m.mlir", "m.npz"]


def test_output_through_a_symbolic_link_fills_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.mlir").write_text(MODEL)
    (tmp_path / "real.mlir").write_text("old")
    os.symlink("real.mlir", tmp_path / "link.mlir")

    assert cli.main(["model.mlir", "-o", "link.mlir"]) == 0

    assert os.readlink(tmp_path / "link.mlir") == "real.mlir"
    assert "rnn.gru" in (tmp_path / "real.mlir").read_text()


@pytest.mark.skipif(not Path("/dev/stdout").exists(), reason="no /dev/stdout on this system")
def test_output_to_dev_stdout_writes_the_stream(tmp_path: Path) -> None:
    assert RNNC is not None
    (tmp_path / "model.mlir").write_text(MODEL)
    before = os.lstat("/dev/stdout")

    done = subprocess.run(
        [RNNC, "model.mlir", "-o", "/dev/stdout"], cwd=tmp_path, capture_output=True,
        text=True, check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "rnn.gru" in done.stdout
    after = os.lstat("/dev/stdout")
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)  # not replaced
