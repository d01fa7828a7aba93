"""PyTorch's recurrent layers, exported to ONNX, imported by rnnc, and run against torch.

`torch.onnx.export(..., dynamo=False)` (the exporter that works offline) writes one ONNX
LSTM/GRU/RNN node per layer, reorders the gate blocks, and surrounds the nodes with the
Shape/Gather/Unsqueeze/Concat/Expand scaffolding that builds zero initial states at run
time, Squeeze/Transpose/Reshape for the direction axis and batch_first, and Slice/Concat
for user-given initial states. All of it must import and give torch's numbers.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="the PyTorch export tests need torch (CI installs torch==2.13.0, CPU)"
)
from onnx_cases import TOLERANCE, rel_err  # noqa: E402
from rnnc.driver import cli  # noqa: E402

SEQ, BATCH, INPUT, HIDDEN = 5, 3, 4, 6

CELLS = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "RNN": torch.nn.RNN}

CONFIGS = {
    "plain": {},
    "two-layers": {"num_layers": 2},
    "bidirectional": {"bidirectional": True},
    "batch-first": {"batch_first": True},
    "all-three": {"num_layers": 2, "bidirectional": True, "batch_first": True},
    "relu": {"nonlinearity": "relu"},  # nn.RNN only
}


def _export(
    module: torch.nn.Module,
    args: tuple,
    names: list[str],
    outputs: list[str],
    path: Path,
    **options: object,
) -> None:
    with warnings.catch_warnings():  # the TorchScript exporter announces its deprecation
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            args,
            str(path),
            dynamo=False,
            input_names=names,
            output_names=outputs,
            **options,
        )


def _import_and_run(
    tmp_path: Path, inputs: dict[str, np.ndarray]
) -> tuple[str, dict[str, np.ndarray]]:
    mlir, out = tmp_path / "model.mlir", tmp_path / "out.npz"
    np.savez(tmp_path / "in.npz", **inputs)
    assert cli.main(["import", str(tmp_path / "model.onnx"), "-o", str(mlir)]) == 0
    assert cli.main(["run", str(mlir), "--inputs", str(tmp_path / "in.npz"), "-o", str(out)]) == 0
    with np.load(out) as results:
        return mlir.read_text(), {name: results[name] for name in results.files}


def _flatten(result: tuple) -> list[np.ndarray]:
    """torch's (output, h_n) or (output, (h_n, c_n)) as a flat list of arrays."""
    output, states = result
    states = states if isinstance(states, tuple) else (states,)
    return [t.detach().numpy() for t in (output, *states)]


def _output_names(cell: str) -> list[str]:
    return ["Y", "h_n", "c_n"] if cell == "LSTM" else ["Y", "h_n"]


def _assert_close(got: dict[str, np.ndarray], names: list[str], expected: list[np.ndarray]) -> None:
    assert sorted(got) == sorted(names)
    for name, exp in zip(names, expected, strict=True):
        assert got[name].shape == exp.shape, name
        assert rel_err(got[name], exp) <= TOLERANCE, f"{name}: {rel_err(got[name], exp):.3g}"


@pytest.mark.parametrize(
    ("cell", "config"),
    [(cell, config) for cell in CELLS for config in CONFIGS if config != "relu" or cell == "RNN"],
)
def test_exported_layers_match_torch(cell: str, config: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    options = CONFIGS[config]
    module = CELLS[cell](INPUT, HIDDEN, **options).eval()
    shape = (BATCH, SEQ, INPUT) if options.get("batch_first") else (SEQ, BATCH, INPUT)
    x = torch.randn(*shape)
    names = _output_names(cell)
    _export(module, (x,), ["X"], names, tmp_path / "model.onnx")

    text, got = _import_and_run(tmp_path, {"X": x.numpy()})

    with torch.no_grad():
        _assert_close(got, names, _flatten(module(x)))
    # One rnn op per layer, and the exporter's zero initial states were folded away.
    assert text.count(f"rnn.{cell.lower()} ") == options.get("num_layers", 1)
    assert "initial_h" not in text


@pytest.mark.parametrize("cell", CELLS)
def test_user_given_initial_states_match_torch(cell: str, tmp_path: Path) -> None:
    torch.manual_seed(1)
    module = CELLS[cell](INPUT, HIDDEN, num_layers=2, bidirectional=True).eval()
    x = torch.randn(SEQ, BATCH, INPUT)
    h0 = torch.randn(4, BATCH, HIDDEN)  # layers x directions
    states = (h0, torch.randn(4, BATCH, HIDDEN)) if cell == "LSTM" else h0
    state_names = ["h0", "c0"] if cell == "LSTM" else ["h0"]
    names = _output_names(cell)
    _export(module, (x, states), ["X", *state_names], names, tmp_path / "model.onnx")

    arrays = [x, *(states if isinstance(states, tuple) else (states,))]
    inputs = {n: t.numpy() for n, t in zip(["X", *state_names], arrays, strict=True)}
    text, got = _import_and_run(tmp_path, inputs)

    with torch.no_grad():
        _assert_close(got, names, _flatten(module(x, states)))
    assert text.count("initial_h") == 2  # each layer reads its slice of h0


@pytest.mark.parametrize("cell", CELLS)
def test_opset_11_export_with_initializers_as_inputs_matches_torch(
    cell: str, tmp_path: Path
) -> None:
    # Older opsets give Squeeze/Unsqueeze/Slice their axes as attributes, and old exporters
    # list the initializers among the graph inputs too: they are still weights.
    torch.manual_seed(2)
    module = CELLS[cell](INPUT, HIDDEN, num_layers=2).eval()
    x = torch.randn(SEQ, BATCH, INPUT)
    names = _output_names(cell)
    path = tmp_path / "model.onnx"
    _export(module, (x,), ["X"], names, path, opset_version=11, keep_initializers_as_inputs=True)

    text, got = _import_and_run(tmp_path, {"X": x.numpy()})

    with torch.no_grad():
        _assert_close(got, names, _flatten(module(x)))
    assert 'rnn.name = "X"}) ->' in text  # X is the only argument


#: Layers compiled to config.json and simulated: each exercises another view the exporter
#: puts around the nodes (Squeeze of the direction axis; Transpose + Reshape joining two
#: directions; Transpose of batch_first; Concat of the layers' final states; Slice of the
#: user-given initial states).
COMPILED = [
    ("LSTM", {"num_layers": 2, "bidirectional": True, "batch_first": True}, False),
    ("GRU", {"num_layers": 2}, False),
    ("RNN", {"bidirectional": True, "batch_first": True}, False),
    ("GRU", {"num_layers": 2, "bidirectional": True}, True),
]


@pytest.mark.parametrize(
    ("cell", "options", "given_states"),
    COMPILED,
    ids=["LSTM-all-three", "GRU-two-layers", "RNN-bidirectional-batch-first", "GRU-given-h0"],
)
def test_exported_layers_compile_and_simulate_as_torch(
    cell: str, options: dict, given_states: bool, tmp_path: Path
) -> None:
    torch.manual_seed(3)
    module = CELLS[cell](INPUT, HIDDEN, **options).eval()
    seq, batch = SEQ, 2
    x = torch.randn(*((batch, seq, INPUT) if options.get("batch_first") else (seq, batch, INPUT)))
    args, arrays = (x,), {"X": x.numpy()}
    if given_states:  # (h0 of nn.GRU: layers x directions, batch, hidden)
        h0 = torch.randn(4, batch, HIDDEN)
        args, arrays = (x, h0), {**arrays, "h0": h0.numpy()}
    names = _output_names(cell)
    _export(module, args, list(arrays), names, tmp_path / "model.onnx")
    np.savez(tmp_path / "in.npz", **arrays)
    mlir, config, out = tmp_path / "model.mlir", tmp_path / "model.json", tmp_path / "out.npz"

    assert cli.main(["import", str(tmp_path / "model.onnx"), "-o", str(mlir)]) == 0
    assert cli.main([str(mlir), "--precision", "fp32", "-o", str(config)]) == 0
    sim = ["sim", str(config), "--inputs", str(tmp_path / "in.npz"), "-o", str(out)]
    assert cli.main(sim) == 0

    with torch.no_grad():
        expected = _flatten(module(*args))
    with np.load(out) as results:
        assert sorted(results.files) == sorted(names)
        for name, exp in zip(names, expected, strict=True):
            assert results[name].shape == exp.shape, name
            np.testing.assert_allclose(results[name], exp, rtol=1e-5, atol=1e-6, err_msg=name)
