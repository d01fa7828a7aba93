"""Errors in user input, through the command line: each one exits with status 1 and prints
exactly one `location: error: message` line, never a traceback, and leaves no output file
(not even a temporary one) behind."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from bad_inputs import MODEL
from onnx_graphs import unsupported_op
from rnnc.driver import cli

#: A diagnostic line: a non-empty location, then `error:` and a message.
DIAGNOSTIC = re.compile(r"^\S[^\n]*?: error: \S")


def _model(directory: Path, text: str = MODEL, weights: bool = True) -> str:
    """Write a model (and, unless told otherwise, its weights) into `directory`."""
    path = directory / "model.mlir"
    path.write_text(text)
    if weights:
        rng = np.random.default_rng(0)
        np.savez(
            directory / "model.npz",
            W=rng.uniform(-1, 1, (1, 15, 4)).astype(np.float32),
            R=rng.uniform(-1, 1, (1, 15, 5)).astype(np.float32),
        )
    return str(path)


def _inputs(directory: Path, **shapes: tuple[int, ...]) -> str:
    path = directory / "in.npz"
    np.savez(path, **{name: np.zeros(shape, np.float32) for name, shape in shapes.items()})
    return str(path)


def _run(directory: Path, **shapes: tuple[int, ...]) -> list[str]:
    inputs = _inputs(directory, **shapes)
    return ["run", _model(directory), "--inputs", inputs, "-o", str(directory / "out.npz")]


def _compile(directory: Path, text: str) -> list[str]:
    return [_model(directory, text, weights=False), "-o", str(directory / "out.mlir")]


def _import(directory: Path, write: Callable[[Path], None]) -> list[str]:
    write(directory / "model.onnx")
    return ["import", str(directory / "model.onnx"), "-o", str(directory / "out.mlir")]


def _missing_weights(directory: Path) -> list[str]:
    model = _model(directory, weights=False)
    inputs = _inputs(directory, X=(3, 2, 4), h0=(1, 2, 5))
    return ["run", model, "--inputs", inputs, "-o", str(directory / "out.npz")]


#: name -> (writes the files and returns argv, expected location (a regular expression,
#: after the directory), fragment of the message)
CASES: dict[str, tuple[Callable[[Path], list[str]], str, str]] = {
    "malformed MLIR": (
        lambda d: _compile(d, MODEL.replace("-> tensor<1x2x5xf32> {", "-> {")),
        r"model\.mlir:2:\d+",
        "",
    ),
    "unknown op": (
        lambda d: _compile(d, MODEL.replace("rnn.gru", "rnn.grue")),
        r"model\.mlir:5:\d+",
        "rnn.grue",
    ),
    "wrong operand shapes": (
        lambda d: _compile(d, MODEL.replace("1x15x4", "1x12x4")),
        r"model\.mlir:5:\d+",
        "operand 'W' has shape 1x12x4, expected 1x15x4",
    ),
    "missing input": (lambda d: _run(d, X=(3, 2, 4)), r"in\.npz", "missing input(s) h0"),
    "misnamed input": (
        lambda d: _run(d, x=(3, 2, 4), h0=(1, 2, 5)),
        r"in\.npz",
        "missing input(s) X",
    ),
    "input of the wrong shape": (
        lambda d: _run(d, X=(3, 2, 5), h0=(1, 2, 5)),
        r"in\.npz: X",
        "input 'X' has shape 3x2x5, expected 3x2x4",
    ),
    "corrupt ONNX file": (
        lambda d: _import(d, lambda p: p.write_bytes(b"\x08\x07 this is not a protobuf")),
        r"model\.onnx",
        "not an ONNX model",
    ),
    "unsupported ONNX op": (
        lambda d: _import(d, lambda p: onnx.save(unsupported_op(), p)),
        r"model\.onnx: node 'add' \(Add\)",
        "unsupported op type 'Add'",
    ),
    "unknown pass": (
        lambda d: [*_compile(d, MODEL), "-p", "no-such-pass"],
        "-p",
        "no-such-pass",
    ),
    "missing weights file": (_missing_weights, r"model\.npz", "no such file"),
}


def _check_diagnostic(stderr: str, location: str, message: str) -> None:
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, stderr
    assert DIAGNOSTIC.match(errors[0]), errors[0]
    assert re.match(rf"(\S*/)?{location}: error: ", errors[0]), errors[0]  # any directory
    assert message in errors[0]


@pytest.mark.parametrize("name", CASES)
def test_user_error_is_one_located_diagnostic(
    name: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    make, location, message = CASES[name]
    argv = make(tmp_path)
    before = sorted(tmp_path.iterdir())

    assert cli.main(argv) == 1

    out, err = capfd.readouterr()
    _check_diagnostic(err, location, message)
    assert out == ""
    assert sorted(tmp_path.iterdir()) == before  # no output, no temporary file


@pytest.mark.parametrize("name", ["corrupt ONNX file", "input of the wrong shape"])
def test_the_installed_command_exits_with_status_1(name: str, tmp_path: Path) -> None:
    make, location, message = CASES[name]
    argv = make(tmp_path)
    before = sorted(tmp_path.iterdir())
    entry = (
        "import sys; from rnnc.driver.entry import entry_point; sys.argv[0] = 'rnnc'; entry_point()"
    )

    done = subprocess.run(
        [sys.executable, "-c", entry, *argv], capture_output=True, text=True, check=False
    )

    assert done.returncode == 1
    _check_diagnostic(done.stderr, location, message)
    assert sorted(tmp_path.iterdir()) == before
