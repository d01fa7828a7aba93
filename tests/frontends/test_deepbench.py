"""`rnnc gen` and the shipped DeepBench examples.

A generated model must compute what its cell means in ONNX/cuDNN terms (checked against
onnxruntime on the same weights), be reproducible byte for byte, and the files shipped in
examples/deepbench must be exactly what the generator writes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx_cases import TOLERANCE, make_case, rel_err, run_onnxruntime
from paper_data import published_rows
from rnnc.driver import cli, pipeline
from rnnc.frontends import deepbench

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "deepbench"

#: ONNX attributes that a generated cell must be equivalent to.
ONNX_CELLS = {
    "lstm": ("LSTM", {}),
    "gru": ("GRU", {"linear_before_reset": 1}),  # cuDNN's GRU
    "rnn": ("RNN", {}),
}


def _gen(directory: Path, *argv: str) -> Path:
    output = directory / "model.mlir"
    assert cli.main(["gen", *argv, "-o", str(output)]) == 0
    return output


def _load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as archive:
        return {name: archive[name] for name in archive.files}


@pytest.mark.parametrize("cell", ONNX_CELLS)
def test_generated_model_matches_onnxruntime(cell: str, tmp_path: Path) -> None:
    mlir = _gen(tmp_path, cell, "8", "5", "--batch", "2", "--input", "3", "--seed", "4")
    weights = _load(tmp_path / "model.npz")
    inputs, out = tmp_path / "model.inputs.npz", tmp_path / "out.npz"
    assert cli.main(["run", str(mlir), "--inputs", str(inputs), "-o", str(out)]) == 0

    op, attrs = ONNX_CELLS[cell]
    operands = _load(inputs) | weights
    case = make_case(op, operands, {"hidden_size": 8, **attrs}, ["Y", "Y_h"])
    got = _load(out)
    for name, exp in run_onnxruntime(case).items():
        assert got[name].shape == exp.shape
        assert rel_err(got[name], exp) <= TOLERANCE, name


def test_weights_are_on_an_8_bit_grid(tmp_path: Path) -> None:
    _gen(tmp_path, "gru", "16", "2")
    weights = _load(tmp_path / "model.npz")
    assert {name: w.shape for name, w in weights.items()} == {
        "W": (1, 48, 16),  # input size defaults to the hidden size
        "R": (1, 48, 16),
        "B": (1, 96),
    }
    step = np.float32(1 / (127 * np.sqrt(16)))
    for w in weights.values():
        assert w.dtype == np.float32
        levels = w / step
        np.testing.assert_array_equal(levels, np.round(levels))
        assert np.abs(levels).max() <= 127
    assert len(np.unique(weights["R"])) > 200  # and they do use the grid


def test_generation_is_deterministic_and_seeded(tmp_path: Path) -> None:
    files = ("model.mlir", "model.npz", "model.inputs.npz")
    contents = {}
    for run, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        (tmp_path / run).mkdir()
        _gen(tmp_path / run, "lstm", "32", "3", "--seed", seed)
        contents[run] = [(tmp_path / run / f).read_bytes() for f in files]
    assert contents["a"] == contents["b"]
    assert contents["a"][0] == contents["c"][0]  # the module does not depend on the seed
    assert contents["a"][1] != contents["c"][1] and contents["a"][2] != contents["c"][2]


def test_the_paper_tasks_are_shipped_as_generated() -> None:
    shipped = sorted(p.name for p in EXAMPLES.glob("*.mlir"))
    assert shipped == sorted(f"{task.name}.mlir" for task in deepbench.PAPER_TASKS)
    for task in deepbench.PAPER_TASKS:
        module = deepbench.build_module(task, f"{task.name}.npz")
        text = (EXAMPLES / f"{task.name}.mlir").read_text()
        assert text == pipeline.print_ir(module), task.name


def test_the_paper_data_is_about_the_paper_tasks() -> None:
    # paper_data.paper_tasks() pairs PAPER_TASKS with the paper's data file row by row, so
    # the file must list the same tasks in the same order.
    sizes = [(r["cell"], r["hidden"], r["input"], r["steps"]) for r in published_rows()]
    assert sizes == [(t.cell, t.hidden, t.inputs, t.steps) for t in deepbench.PAPER_TASKS]


def test_the_shipped_weights_are_the_generated_ones(tmp_path: Path) -> None:
    # The one task whose weights are in the repository (the README's example).
    output = tmp_path / "lstm-512-25.mlir"
    assert cli.main(["gen", "lstm", "512", "25", "-o", str(output)]) == 0
    for name in ("lstm-512-25.mlir", "lstm-512-25.npz", "lstm-512-25.inputs.npz"):
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name


def test_csv_row_selects_a_deepbench_problem(tmp_path: Path) -> None:
    table = tmp_path / "table.csv"
    table.write_text("cell,hidden,batch,steps\nlstm,512,1,25\ngru,6,4,7\n")
    _gen(tmp_path, "--csv-row", "2", "--csv", str(table))
    assert "tensor<7x4x6xf32> {rnn.name = \"X\"}" in (tmp_path / "model.mlir").read_text()
    assert "linear_before_reset = 1" in (tmp_path / "model.mlir").read_text()
    # The shipped copy of the suite: 69 problems, 15 LSTM then 54 GRU.
    assert deepbench.csv_task(1) == deepbench.Task("lstm", 512, 25, 1)
    assert deepbench.csv_task(69).cell == "gru"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--csv-row", "70"], "row 70 does not exist (the table has rows 1 to 69)"),
        (["--csv-row", "0"], "row 0 does not exist"),
        (["lstm", "8", "2", "--csv-row", "1"], "not both"),
        (["lstm", "8"], "expected CELL HIDDEN STEPS"),
        (["gru", "0", "5"], "the hidden size must be at least 1, got 0"),
    ],
)
def test_bad_gen_arguments_are_diagnostics(
    argv: list[str], message: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["gen", *argv, "-o", str(tmp_path / "model.mlir")]) == 1
    assert message in capfd.readouterr().err
    assert list(tmp_path.iterdir()) == []
