"""The ONNX importer against onnxruntime on random single-node models.

Each configuration from `onnx_cases.random_case` (every attribute and optional input of
LSTM/GRU/RNN, both layouts, skipped outputs) is imported with `import_model`, its printed
text parsed back and verified, and the module interpreted; every requested output must
match onnxruntime to the kernel tests' relative error (`onnx_cases.rel_err`). Half
the cases keep W, R, B and P as initializers, so the `rnn.weight`/.npz path is exercised
as much as the function-argument one. A few cases go through the command line as well.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the differential ONNX tests need onnxruntime")

from onnx_cases import OPS, TOLERANCE, RnnCase, random_case, rel_err, run_onnxruntime
from rnnc import interpreters as interpreter
from rnnc.driver import cli, pipeline
from rnnc.frontends.onnx_import import import_model

CASES_PER_OP = 110  # 330 configurations in all


def _case(op: str, seed: int) -> RnnCase:
    return random_case(
        np.random.default_rng([seed, OPS.index(op)]), op, weights_as_initializers=seed % 2 == 1
    )


def _assert_matches(case: RnnCase, got: dict[str, np.ndarray]) -> None:
    expected = run_onnxruntime(case)
    assert got.keys() == expected.keys(), case.describe()
    for name, exp in expected.items():
        assert got[name].shape == exp.shape, f"{name}: {case.describe()}"
        err = rel_err(got[name], exp)
        assert err <= TOLERANCE, f"{name}: relative error {err:.3g}; {case.describe()}"


@pytest.mark.parametrize("op", OPS)
def test_random_configurations_match_onnxruntime(op: str) -> None:
    ctx = pipeline.make_context()
    for seed in range(CASES_PER_OP):
        case = _case(op, seed)
        text, weights = import_model(case.model, "weights.npz")
        module, _ = pipeline.parse_module(ctx, text, f"{op}-{seed}.mlir")
        _assert_matches(case, interpreter.run(module, case.inputs, weights))


@pytest.mark.parametrize(("op", "seed"), [(op, seed) for op in OPS for seed in (0, 1)])
def test_command_line_matches_onnxruntime(op: str, seed: int, tmp_path: Path) -> None:
    import onnx

    case = _case(op, seed)
    onnx.save(case.model, tmp_path / "model.onnx")
    np.savez(tmp_path / "in.npz", **case.inputs)
    mlir, out = tmp_path / "model.mlir", tmp_path / "out.npz"
    assert cli.main(["import", str(tmp_path / "model.onnx"), "-o", str(mlir)]) == 0
    # Weights, when the case has initializers, are written beside the module.
    assert (tmp_path / "model.npz").exists() == bool(case.model.graph.initializer)
    assert cli.main(["run", str(mlir), "--inputs", str(tmp_path / "in.npz"), "-o", str(out)]) == 0
    with np.load(out) as results:
        _assert_matches(case, {name: results[name] for name in results.files})
