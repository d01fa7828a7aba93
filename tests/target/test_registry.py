"""The architectures of a context: presets by name, the driver's `--arch` file by its name,
and the digest a design records checked against the architecture it names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rnnc.diagnostics import Diagnostic
from rnnc.dialects.spatial import ArchAttr, DesignOp
from rnnc.driver.pipeline import make_context
from rnnc.target.arch import load_architecture
from rnnc.target.registry import ArchitectureRegistry, DesignArchitectureError, architectures
from xdsl.context import Context
from xdsl.ir import Block, Region

STRIP = Path(__file__).parents[1] / "filecheck" / "transforms" / "Inputs" / "strip.json"


def _design(name: str, digest: str = "") -> DesignOp:
    return DesignOp("main", arch=ArchAttr(name, digest), precision="fp32",
                    body=Region(Block()))


def test_each_context_has_its_own_registry() -> None:
    ctx, other = Context(), Context()
    assert architectures(ctx) is architectures(ctx)
    assert architectures(ctx) is not architectures(other)


def test_presets_by_name_and_the_default() -> None:
    registry = ArchitectureRegistry()
    assert registry.get().name == "plasticine-rnn"
    assert registry.get("plasticine").grid.rows == 16


def test_a_file_is_known_by_its_name_once_given() -> None:
    registry = architectures(make_context(str(STRIP)))
    assert registry.get("strip").grid.cols == 6
    assert registry.for_design(_design("strip")).name == "strip"


def test_an_architecture_given_shadows_the_preset_of_its_name(tmp_path: Path) -> None:
    data = load_architecture("plasticine-rnn").to_dict() | {"clock_ghz": 2.0}
    changed = tmp_path / "faster.json"
    changed.write_text(json.dumps(data))
    registry = architectures(make_context(str(changed)))
    assert registry.get("plasticine-rnn").clock_ghz == 2.0


def test_an_unknown_architecture_is_named() -> None:
    registry = ArchitectureRegistry()
    with pytest.raises(DesignArchitectureError, match="the design names architecture 'strip', "
                       "which is neither a preset nor given with --arch"):
        registry.for_design(_design("strip"))
    with pytest.raises(Diagnostic, match="not a preset name"):
        registry.get("strip")


def test_the_digest_is_checked_and_both_digests_named() -> None:
    registry = ArchitectureRegistry()
    preset = registry.get("plasticine-rnn")
    assert registry.for_design(_design("plasticine-rnn", preset.digest())) is preset
    with pytest.raises(DesignArchitectureError) as error:
        registry.for_design(_design("plasticine-rnn", "0" * 64))
    assert str(error.value) == (
        f"the design was made for architecture 'plasticine-rnn' with digest {'0' * 64}, which "
        f"now has digest {preset.digest()}"
    )
