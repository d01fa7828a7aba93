"""A small placed and routed design written as a configuration, for the backend tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from rnnc.backend.emit import Prediction
from rnnc.driver import pipeline
from rnnc.driver.backend_commands import write_config
from rnnc.numerics.precision import FP32
from rnnc.target.arch import load_architecture
from rnnc.target.machine import machine_from_module

INPUTS = Path(__file__).parents[1] / "filecheck" / "transforms" / "Inputs"
STRIP = INPUTS / "strip.json"


def routed_strip():
    """The place-and-route tests' 1x6 strip design, placed and routed by rnnc's passes."""
    ctx = pipeline.make_context(str(STRIP))
    path = str(INPUTS / "strip_design.mlir")
    module, _ = pipeline.parse_module(ctx, pipeline.read_text(path), path)
    passes = pipeline.build_pipeline("spatial-place,spatial-route", pipeline.available_passes())
    pipeline.run_pipeline(ctx, module, passes, path)
    return machine_from_module(module)


@pytest.fixture
def strip_config(tmp_path: Path) -> Path:
    """`config.json` (+ weights) of the routed strip design in a fresh directory."""
    path = tmp_path / "config.json"
    write_config(
        str(path), routed_strip(), load_architecture(str(STRIP)), precision=FP32,
        prediction=Prediction(100, 100, 1e-4, "compute units"), weights={},
    )
    return path
