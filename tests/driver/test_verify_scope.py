"""What the driver verifies after a pass (`rnnc.driver.pipeline.VERIFY_SCOPES`).

Every pass's IR is verified after it, except what a pass declares it leaves as verified:
spatial-verify leaves the module unchanged; spatial-post-writes, -place, -route and -predict
change only the units', streams' and design's own properties, so the ops inside the units
(a PCU's pipeline, most of a design's ops) are not verified again. A pass that declares
nothing (a plug-in's) gets the whole module verified.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rnnc.diagnostics import Diagnostic
from rnnc.dialects.spatial import StageOp
from rnnc.driver import pipeline

ROUNDTRIP = Path(__file__).parents[1] / "filecheck" / "dialects" / "spatial" / "roundtrip.mlir"
TINY = ROUNDTRIP.parent / "Inputs" / "tiny.json"


def test_every_pass_declares_a_known_scope() -> None:
    passes = pipeline.available_passes().factories
    scopes = {name: getattr(factory(), "VERIFY_AFTER", "all") for name, factory in passes.items()}
    assert set(scopes.values()) <= set(pipeline.VERIFY_SCOPES)
    assert scopes["spatial-verify"] == "none"
    assert {scopes[f"spatial-{n}"] for n in ("post-writes", "place", "route", "predict")} \
        == {"units"}
    assert scopes["spatial-partition"] == "all"


def test_units_scope_leaves_out_only_the_ops_inside_units() -> None:
    ctx = pipeline.make_context(str(TINY))
    module, source_map = pipeline.parse_module(ctx, ROUNDTRIP.read_text(), str(ROUNDTRIP))
    read = next(op for op in module.walk() if isinstance(op, StageOp) and op.memory is not None)
    del read.properties["memory"]  # a read without its memory: invalid
    pipeline.verify_module(module, source_map, bodies=False)
    with pytest.raises(Diagnostic, match=r"spatial\.op read: needs memory"):
        pipeline.verify_module(module, source_map)
