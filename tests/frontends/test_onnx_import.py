"""The ONNX importer on hand-built graphs: exporter patterns it must fold and map, and
models it must refuse with a diagnostic that names the node and the reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from onnx_cases import TOLERANCE, make_case, rel_err, run_onnxruntime
from onnx_graphs import BAD_GRAPHS, stacked, stacked_inputs
from rnnc import interpreters as interpreter
from rnnc.diagnostics import Diagnostic
from rnnc.driver import cli, pipeline
from rnnc.frontends.onnx_import import import_model


def _import_and_run(model, inputs: dict[str, np.ndarray]) -> tuple[str, dict[str, np.ndarray]]:
    text, weights = import_model(model, "weights.npz")
    module, _ = pipeline.parse_module(pipeline.make_context(), text, "model.mlir")
    return text, interpreter.run(module, inputs, weights)


def test_stacked_graph_with_shape_scaffolding_matches_onnxruntime() -> None:
    model, inputs = stacked(), stacked_inputs()
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    expected = dict(zip(["Y", "state"], session.run(["Y", "state"], inputs), strict=True))

    text, got = _import_and_run(model, inputs)

    assert got.keys() == expected.keys()
    for name, exp in expected.items():
        assert got[name].shape == exp.shape
        assert rel_err(got[name], exp) <= TOLERANCE, name
    # The run-time shape arithmetic was folded: the zero initial state is gone, and no
    # constant other than the six weight tensors reached the IR.
    assert "initial_h %gru_h0" in text and text.count("initial_h") == 1
    assert text.count("= rnn.weight ") == 6


def test_two_activations_for_a_forward_rnn_use_the_first() -> None:
    # The RNN schema's default list has two entries; onnxruntime uses the first for one
    # direction, and so does the importer.
    rng = np.random.default_rng(3)
    operands = {
        "X": rng.uniform(-2, 2, (4, 2, 3)).astype(np.float32),
        "W": rng.uniform(-1, 1, (1, 5, 3)).astype(np.float32),
        "R": rng.uniform(-1, 1, (1, 5, 5)).astype(np.float32),
    }
    case = make_case("RNN", operands, {"hidden_size": 5, "activations": ["Relu", "Tanh"]})

    text, got = _import_and_run(case.model, case.inputs)

    assert 'activations = ["Relu"]' in text
    for name, exp in run_onnxruntime(case).items():
        assert rel_err(got[name], exp) <= TOLERANCE, name


@pytest.mark.parametrize("name", BAD_GRAPHS)
def test_unsupported_graph_is_a_diagnostic(name: str) -> None:
    build, message = BAD_GRAPHS[name]
    with pytest.raises(Diagnostic) as caught:
        import_model(build(), "weights.npz", source="model.onnx")
    assert f"model.onnx: {message}" in str(caught.value)


def test_import_is_deterministic(tmp_path: Path) -> None:
    import onnx

    onnx.save(stacked(), tmp_path / "model.onnx")
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        mlir = str(tmp_path / run / "model.mlir")
        assert cli.main(["import", str(tmp_path / "model.onnx"), "-o", mlir]) == 0
    for file in ("model.mlir", "model.npz"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
