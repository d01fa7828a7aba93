"""`rnnc --stats`: the fused cell keeps O(1) registers per gate between its kernels where
the decomposed program keeps H-sized on-chip buffers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rnnc.driver import cli


def _stats(tmp_path: Path, capsys: pytest.CaptureFixture[str], hidden: int) -> dict[str, str]:
    model = tmp_path / f"lstm{hidden}.mlir"
    assert cli.main(["gen", "lstm", str(hidden), "25", "-o", str(model)]) in (0, None)
    capsys.readouterr()
    assert cli.main([str(model), "--stats"]) == 0
    report = capsys.readouterr().out
    sections = re.split(r"^== (.*) ==$", report, flags=re.MULTILINE)[1:]
    return dict(zip(sections[::2], sections[1::2], strict=True))


def _field(section: str, name: str) -> str:
    match = re.search(rf"^  {name} +(.*)$", section, flags=re.MULTILINE)
    assert match is not None, f"no '{name}' in:\n{section}"
    return match.group(1)


def test_fused_cell_keeps_registers_not_buffers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    levels = _stats(tmp_path, capsys, 512)
    assert set(levels) == {"rnn", "loop, decomposed", "loop, fused"}

    decomposed = levels["loop, decomposed"]
    buffers = _field(decomposed, "intermediate buffers")
    count, sizes = re.match(r"(\d+) buffers of ([\d, ]+) elements", buffers).groups()  # type: ignore[union-attr]
    assert int(count) >= 4 * 4  # at least one buffer per gate and kernel
    assert sizes == "512"  # every one of them H-sized

    fused = levels["loop, fused"]
    assert _field(fused, "intermediate buffers") == "0 buffers, 0 elements"
    registers = _field(fused, "intermediate registers")
    per_dot = float(re.search(r"([\d.]+) per dot product", registers).group(1))  # type: ignore[union-attr]
    assert "4 dot products per iteration" in registers
    assert per_dot <= 8
    assert re.search(r"^    h +1x1x512 +sram +state +1024 x2 buffers$", fused, re.MULTILINE)


def test_registers_per_gate_do_not_grow_with_h(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small = _stats(tmp_path, capsys, 64)["loop, fused"]
    large = _stats(tmp_path, capsys, 512)["loop, fused"]
    assert _field(small, "intermediate registers") == _field(large, "intermediate registers")
