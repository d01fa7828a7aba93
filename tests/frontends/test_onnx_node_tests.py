"""The ONNX backend node tests for LSTM, GRU and RNN, through `rnnc import` and `rnnc run`.

onnx 1.23 wheels no longer ship the node-test data, only the generators, so the session
fixture regenerates the 18 tests into a temporary directory in the standard layout
(`model.onnx`, `test_data_set_0/input_k.pb`, `output_k.pb`), as
shared/reference/scripts/gen_onnx_rnn_node_tests.py does. Each test then goes through the
real command line: import the model, run it on the inputs, compare with the expected
outputs. The layout=1 ("batchwise") tests are included. Most of these tests use constant
weights, so they are a smoke test; the differential test against onnxruntime
(test_onnx_import_ort.py) is the strong one.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the ONNX tests need the onnx package")
from onnx import numpy_helper  # noqa: E402
from rnnc.driver import cli  # noqa: E402

NODE_TESTS = (
    "test_gru_batchwise",
    "test_gru_bidirectional",
    "test_gru_defaults",
    "test_gru_reverse",
    "test_gru_seq_length",
    "test_gru_with_initial_bias",
    "test_lstm_batchwise",
    "test_lstm_bidirectional",
    "test_lstm_defaults",
    "test_lstm_reverse",
    "test_lstm_with_initial_bias",
    "test_lstm_with_peepholes",
    "test_rnn_seq_length",
    "test_simple_rnn_batchwise",
    "test_simple_rnn_bidirectional",
    "test_simple_rnn_defaults",
    "test_simple_rnn_reverse",
    "test_simple_rnn_with_initial_bias",
)

# The worst error measured is 1.2e-7 absolute; the tolerance leaves a margin of 8.
RTOL, ATOL = 1e-6, 1e-6


def _write_case(case: object, directory: Path) -> None:
    """One test case in the backend-test layout."""
    model = case.model  # type: ignore[attr-defined]
    directory.mkdir()
    onnx.save(model, directory / "model.onnx")
    for index, (inputs, outputs) in enumerate(case.data_sets):  # type: ignore[attr-defined]
        data = directory / f"test_data_set_{index}"
        data.mkdir()
        for kind, arrays, infos in (
            ("input", inputs, model.graph.input),
            ("output", outputs, model.graph.output),
        ):
            for k, (array, info) in enumerate(zip(arrays, infos, strict=True)):
                tensor = numpy_helper.from_array(array, info.name)
                (data / f"{kind}_{k}.pb").write_bytes(tensor.SerializeToString())


@pytest.fixture(scope="session")
def node_tests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The LSTM/GRU/RNN node tests regenerated from the installed onnx's case generators."""
    from onnx.backend.test.case import node as node_cases

    root = tmp_path_factory.mktemp("onnx_node_tests")
    with warnings.catch_warnings():  # other ops' generators warn about their own data
        warnings.simplefilter("ignore")
        cases = node_cases.collect_testcases()
    for case in cases:
        if case.model.graph.node[0].op_type in ("LSTM", "GRU", "RNN"):
            _write_case(case, root / case.name)
    return root


def _arrays(directory: Path, kind: str) -> dict[str, np.ndarray]:
    """`input_k.pb` / `output_k.pb` of one data set, by tensor name, in order k."""
    paths = sorted(directory.glob(f"{kind}_*.pb"), key=lambda p: int(p.stem.split("_")[1]))
    tensors = [onnx.load_tensor(str(p)) for p in paths]
    return {t.name: numpy_helper.to_array(t) for t in tensors}


def test_all_eighteen_are_generated(node_tests: Path) -> None:
    assert sorted(p.name for p in node_tests.iterdir()) == list(NODE_TESTS)


@pytest.mark.parametrize("name", NODE_TESTS)
def test_node_test(name: str, node_tests: Path, tmp_path: Path) -> None:
    test_dir = node_tests / name
    data = test_dir / "test_data_set_0"
    inputs, expected = _arrays(data, "input"), _arrays(data, "output")
    np.savez(tmp_path / "in.npz", **inputs)
    mlir, out = tmp_path / "model.mlir", tmp_path / "out.npz"

    assert cli.main(["import", str(test_dir / "model.onnx"), "-o", str(mlir)]) == 0
    assert cli.main(["run", str(mlir), "--inputs", str(tmp_path / "in.npz"), "-o", str(out)]) == 0

    with np.load(out) as results:
        assert sorted(results.files) == sorted(expected)
        for key, want in expected.items():
            np.testing.assert_allclose(results[key], want, rtol=RTOL, atol=ATOL, err_msg=key)
