"""Property: the decomposed and the fused loop programs compute what the rnn level computes.

Random shapes and every attribute the loop level supports (cells, directions,
linear_before_reset, sequence_lens, initial states, bias, clip, activations with
alpha/beta, input_forget, peepholes, layout, batch); the rnn-level interpreter (ONNX
semantics, checked against onnxruntime elsewhere) is the reference.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from loop_models import (
    DECOMPOSED,
    FUSED,
    RnnModel,
    compile_to,
    parse,
    relative_error,
)
from rnnc import interpreters as interpreter
from rnnc.dialects import rnn

ACTIVATIONS = tuple(rnn.ACTIVATION_PARAMETERS)

TOLERANCE = 1e-5


@st.composite
def models(draw: st.DrawFn) -> RnnModel:
    cell = draw(st.sampled_from(["lstm", "gru", "rnn"]))
    direction = draw(st.sampled_from(["forward", "reverse", "bidirectional"]))
    nd = 2 if direction == "bidirectional" else 1
    activations = alpha = beta = None
    if draw(st.booleans()):
        count = rnn.CELLS[cell].activations_per_direction() * nd
        activations = tuple(
            draw(st.lists(st.sampled_from(ACTIVATIONS), min_size=count, max_size=count))
        )
        # exact in float32, like the attributes they become
        parameters = st.lists(st.sampled_from([0.125, 0.25, 0.5, 1.0, 1.5]), max_size=count)
        alpha, beta = tuple(draw(parameters)) or None, tuple(draw(parameters)) or None
    outputs = ["Y", "Y_h", "Y_c"] if cell == "lstm" else ["Y", "Y_h"]
    results = tuple(draw(st.lists(st.sampled_from(outputs), min_size=1, unique=True)))
    return RnnModel(
        cell=cell,
        hidden=draw(st.integers(1, 5)),
        inputs_size=draw(st.integers(1, 4)),
        steps=draw(st.integers(1, 4)),
        batch=draw(st.integers(1, 3)),
        direction=direction,
        layout=draw(st.sampled_from([0, 1])),
        bias=draw(st.booleans()),
        sequence_lens=draw(st.booleans()),
        initial=draw(st.booleans()),
        peepholes=cell == "lstm" and draw(st.booleans()),
        clip=draw(st.none() | st.sampled_from([0.5, 1.0, 3.0])),
        activations=activations,
        alpha=alpha,
        beta=beta,
        input_forget=int(cell == "lstm" and draw(st.booleans())),
        linear_before_reset=int(cell == "gru" and draw(st.booleans())),
        results=results,
    )


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(model=models(), seed=st.integers(0, 2**16))
# the models of tests/filecheck/transforms/rnn-decompose-{gru,rnn}.mlir
@example(model=RnnModel("gru", 4, 3, 5, linear_before_reset=0), seed=1)
@example(model=RnnModel("gru", 4, 3, 5, linear_before_reset=1), seed=2)
@example(model=RnnModel("rnn", 4, 3, 5), seed=3)
def test_loop_levels_agree_with_the_rnn_level(model: RnnModel, seed: int) -> None:
    text = model.mlir()
    inputs = model.inputs(seed)
    expected = interpreter.run(parse(text), inputs)
    for pipeline in (DECOMPOSED, FUSED):
        got = interpreter.run(compile_to(text, pipeline), inputs)
        assert got.keys() == expected.keys()
        for name, value in expected.items():
            assert got[name].shape == value.shape
            assert got[name].dtype == value.dtype
            error = relative_error(got[name], value)
            assert error <= TOLERANCE, f"{pipeline}: {name} relative error {error:.2e}\n{text}"
            assert np.isfinite(got[name]).all()
