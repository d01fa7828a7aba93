"""The unit limits a design is checked against come from the architecture it is compiled
for: a copy of the default preset with other port counts is carried whole in config.json
(`arch.description`, no copy of its limits in `program`), and the design checks
(`verify_design`) hold a design to its port counts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx_cases import random_case
from rnnc.backend.load import schema_errors
from rnnc.dialects.spatial import ArchAttr, DesignOp
from rnnc.driver.cli import main
from rnnc.target import arch as arch_module
from rnnc.target.arch import DEFAULT_ARCHITECTURE, architecture_from_dict
from rnnc.target.design_checks import DesignError, verify_design
from rnnc.target.design_ops import pcu_op
from rnnc.target.machine import Op
from xdsl.ir import Block, Region

PRESET = Path(arch_module.__file__).parent / "presets" / f"{DEFAULT_ARCHITECTURE}.json"

# Port counts other than the preset's (AG vector 1/1, PCU control 4/4, PCU vector 3/3,
# PMU scalar inputs 4), large enough for any design the default one takes.
CHANGED_PORTS = {
    ("ag", "vector_inputs"): 2,
    ("ag", "vector_outputs"): 3,
    ("pcu", "control_inputs"): 5,
    ("pcu", "control_outputs"): 6,
    ("pcu", "vector_inputs"): 4,
    ("pmu", "scalar_inputs"): 7,
}


def _arch_data(ports: dict[tuple[str, str], int]) -> dict:
    data = json.loads(PRESET.read_text())
    for (kind, field), count in ports.items():
        assert data[kind][field] != count, "the change must differ from the preset"
        data[kind][field] = count
    return data


def _model_mlir(tmp_path: Path) -> Path:
    case = random_case(np.random.default_rng(5), "GRU",
                       attr_overrides={"direction": "forward", "activations": None, "layout": 0},
                       weights_as_initializers=True)
    onnx_path, mlir = tmp_path / "model.onnx", tmp_path / "model.mlir"
    onnx.save(case.model, onnx_path)
    assert main(["import", str(onnx_path), "-o", str(mlir)]) == 0
    return mlir


def _design_reading(port: str) -> DesignOp:
    """A design whose one PCU reads its operand on input `port`."""
    pcu = pcu_op("a", nest="n", role="elementwise", mode="elementwise", lanes=1, counters=(),
                 copies=(), ops=(Op(0, "tanh", (f"in:{port}",)),))
    return DesignOp("main", arch=ArchAttr(DEFAULT_ARCHITECTURE), precision="fp32",
                    body=Region(Block([pcu])))


def test_the_design_checks_read_the_port_counts_of_the_architecture() -> None:
    changed = architecture_from_dict(_arch_data(CHANGED_PORTS))
    preset = architecture_from_dict(json.loads(PRESET.read_text()))
    design = _design_reading("vi3")  # the fourth vector input: the changed PCU has one
    verify_design(design, changed)
    with pytest.raises(DesignError, match="port vi3 does not exist: a PCU has 3 vector inputs"):
        verify_design(design, preset)


def test_the_config_carries_the_architecture_it_was_compiled_for(tmp_path: Path) -> None:
    arch_file, config = tmp_path / "arch.json", tmp_path / "config.json"
    arch_file.write_text(json.dumps(_arch_data(CHANGED_PORTS)))
    assert main([str(_model_mlir(tmp_path)), "--arch", str(arch_file), "-o", str(config)]) == 0
    data = json.loads(config.read_text())
    assert schema_errors(data) == []
    assert "limits" not in data["program"] and "tile" not in data["program"]
    described = data["arch"]["description"]
    for (kind, field), count in CHANGED_PORTS.items():
        assert described[kind][field] == count, (kind, field)


def test_a_design_needing_a_port_the_architecture_lacks_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """AGs without vector ports cannot load or store a stream: the design is refused with
    the port named, and no config is written."""
    arch_file, config = tmp_path / "arch.json", tmp_path / "config.json"
    arch_file.write_text(json.dumps(_arch_data({("ag", "vector_inputs"): 0,
                                                ("ag", "vector_outputs"): 0})))
    assert main([str(_model_mlir(tmp_path)), "--arch", str(arch_file), "-o", str(config)]) == 1
    err = capsys.readouterr().err
    assert ("the architecture's address generators have no vector inputs (ag.vector_inputs)"
            in err), err
    assert "invalid IR" not in err
    assert "Traceback" not in err
    assert not config.exists()
