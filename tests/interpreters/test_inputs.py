"""Run-time inputs are checked against the model at every level, through `run` itself."""

from __future__ import annotations

import numpy as np
import pytest
from loop_models import compile_to
from rnnc import interpreters as interpreter
from rnnc.diagnostics import Diagnostic
from rnnc.interpreters.inputs import sequence_limits

MODEL = """\
func.func @main(%X: tensor<3x2x4xf32>, %W: tensor<1x20x4xf32>, %R: tensor<1x20x5xf32>,
                %lens: tensor<2xi32>) -> tensor<1x2x5xf32> {
  %Y, %Y_h, %Y_c = rnn.lstm %X, %W, %R sequence_lens %lens {hidden_size = 5 : i64}
      : (tensor<3x2x4xf32>, tensor<1x20x4xf32>, tensor<1x20x5xf32>, tensor<2xi32>)
      -> (tensor<3x1x2x5xf32>, tensor<1x2x5xf32>, tensor<1x2x5xf32>)
  func.return %Y_h : tensor<1x2x5xf32>
}
"""

LEVELS = ["", "rnn-decompose", "rnn-decompose,loop-fuse"]


def _inputs(lens: list[int]) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "X": rng.uniform(-1, 1, (3, 2, 4)).astype(np.float32),
        "W": rng.uniform(-1, 1, (1, 20, 4)).astype(np.float32),
        "R": rng.uniform(-1, 1, (1, 20, 5)).astype(np.float32),
        "lens": np.array(lens, np.int32),
    }


@pytest.mark.parametrize("passes", LEVELS)
def test_the_sequence_length_is_found_at_every_level(passes: str) -> None:
    assert sequence_limits(compile_to(MODEL, passes)) == {"lens": 3}


@pytest.mark.parametrize("passes", LEVELS)
@pytest.mark.parametrize("lens", [[3, 4], [-1, 2]])
def test_sequence_lens_out_of_range_are_refused_at_every_level(
    passes: str, lens: list[int]
) -> None:
    module = compile_to(MODEL, passes)
    with pytest.raises(Diagnostic, match=r"must lie in \[0, 3\]"):
        interpreter.run(module, _inputs(lens), source="in.npz")


@pytest.mark.parametrize("passes", LEVELS)
def test_every_level_agrees_on_lengths_in_range(passes: str) -> None:
    """The check refuses nothing valid: 0 and the full length run, as at the rnn level."""
    reference = interpreter.run(compile_to(MODEL, ""), _inputs([0, 3]))
    got = interpreter.run(compile_to(MODEL, passes), _inputs([0, 3]))
    np.testing.assert_allclose(got["Y_h"], reference["Y_h"], rtol=1e-5, atol=1e-6)


def test_a_float_input_of_integer_dtype_is_refused() -> None:
    inputs = {**_inputs([3, 3]), "X": np.zeros((3, 2, 4), np.int32)}
    with pytest.raises(Diagnostic, match="input 'X' has dtype int32, expected a floating-point"):
        interpreter.run(compile_to(MODEL, ""), inputs, source="in.npz")
