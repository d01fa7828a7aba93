"""Configurations for the backend tests: a small placed and routed design, and the
shipped example compiled once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from rnnc.backend.emit import Prediction
from rnnc.driver import pipeline
from rnnc.driver.backend_commands import write_config
from rnnc.driver.cli import main
from rnnc.numerics.precision import FP32
from rnnc.target.arch import load_architecture
from rnnc.target.machine import machine_from_module

INPUTS = Path(__file__).parents[1] / "filecheck" / "transforms" / "Inputs"
STRIP = INPUTS / "strip.json"
#: The shipped example (the README's main command), without its suffix.
EXAMPLE = Path(__file__).parents[2] / "examples" / "deepbench" / "lstm-512-25"


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
        prediction=Prediction(100, 100, 100, 1e-4, "compute units"), weights={},
    )
    return path


@pytest.fixture(scope="session")
def fused_example_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped example compiled with no schedule beyond the paper's (`--schedules
    none`): every step's recurrence holds its whole reduction, so the control round trip
    is on its critical path."""
    config = tmp_path_factory.mktemp("fused-example") / "config.json"
    assert main([f"{EXAMPLE}.mlir", "-o", str(config), "--schedules", "none"]) == 0
    return config


@pytest.fixture(scope="session")
def example_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped example's `config.json` (+ weights), compiled once per session; tests
    that change it work on a copy."""
    config = tmp_path_factory.mktemp("example") / "config.json"
    assert main([f"{EXAMPLE}.mlir", "-o", str(config)]) == 0
    return config
