"""Small hand-built ONNX graphs for the importer's tests, and a script that saves one.

    python tests/onnx_graphs.py DIR      writes DIR/NAME.onnx for every graph (lit tests)

`GRAPHS` holds graphs the importer must accept, built around the patterns exporters
produce (run-time shape arithmetic for zero initial states, layer stacking through
Transpose/Reshape, Gather/Slice/Squeeze/Unsqueeze/Flatten, skipped optional outputs);
`BAD_GRAPHS` holds graphs it must reject, each with a fragment of the expected diagnostic.
Every graph is a valid ONNX model (`onnx.checker` passes), so a rejection is rnnc's.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

IR_VERSION = 10  # onnxruntime 1.31 reads IR <= 13
OPSET = 22

SEQ, BATCH, INPUT, HIDDEN = 4, 2, 3, 5


def _model(
    nodes: list[onnx.NodeProto],
    inputs: list[onnx.ValueInfoProto],
    outputs: dict[str, list[int]],
    initializers: dict[str, np.ndarray] | None = None,
) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "graph",
        inputs,
        [
            helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)
            for name, shape in outputs.items()
        ],
        [numpy_helper.from_array(v, k) for k, v in (initializers or {}).items()],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION
    )
    onnx.checker.check_model(model)
    return model


def _x(shape: list[int | str] | None = None, elem: int = TensorProto.FLOAT) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info("X", elem, shape or [SEQ, BATCH, INPUT])


def _ints(name: str, values: list[int]) -> onnx.NodeProto:
    return helper.make_node(
        "Constant", [], [name], value=numpy_helper.from_array(np.array(values, np.int64))
    )


def _weights(prefix: str, gates: int, nd: int, inputs: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(len(prefix) + gates)
    g = gates * HIDDEN
    return {
        f"{prefix}W": rng.uniform(-0.5, 0.5, (nd, g, inputs)).astype(np.float32),
        f"{prefix}R": rng.uniform(-0.5, 0.5, (nd, g, HIDDEN)).astype(np.float32),
        f"{prefix}B": rng.uniform(-0.5, 0.5, (nd, 2 * g)).astype(np.float32),
    }


def stacked() -> onnx.ModelProto:
    """A bidirectional LSTM whose zero initial state is computed from X's shape at run time,
    stacked under a GRU that starts from one layer of the input `h0`; the GRU's sequence is
    squeezed, its last three steps sliced and flattened."""
    scalar_one = numpy_helper.from_array(np.array(1, np.int64))
    nodes = [
        # zeros[2, batch, H], as torch.onnx.export builds it.
        helper.make_node("Shape", ["X"], ["shape"]),
        helper.make_node("Constant", [], ["one"], value=scalar_one),
        helper.make_node("Gather", ["shape", "one"], ["batch"], axis=0),
        _ints("zero_axis", [0]),
        helper.make_node("Unsqueeze", ["batch", "zero_axis"], ["batch1"]),
        _ints("two", [2]),
        _ints("hidden", [HIDDEN]),
        helper.make_node("Concat", ["two", "batch1", "hidden"], ["state_shape"], axis=0),
        helper.make_node("ConstantOfShape", ["state_shape"], ["zeros"]),
        helper.make_node(
            "LSTM",
            ["X", "lstm_W", "lstm_R", "lstm_B", "", "zeros"],
            ["Y1", "Y1_h"],
            name="lstm",
            hidden_size=HIDDEN,
            direction="bidirectional",
        ),
        helper.make_node("Transpose", ["Y1"], ["Y1_t"], perm=[0, 2, 1, 3]),
        _ints("merge", [0, 0, -1]),
        helper.make_node("Reshape", ["Y1_t", "merge"], ["X2"]),
        # initial_h of the GRU: h0[1], with the direction axis put back.
        helper.make_node("Gather", ["h0", "one"], ["h0_1"], axis=0),
        helper.make_node("Unsqueeze", ["h0_1", "zero_axis"], ["gru_h0"]),
        helper.make_node(
            "GRU",
            ["X2", "gru_W", "gru_R", "gru_B", "", "gru_h0"],
            ["Y2", ""],
            name="gru",
            hidden_size=HIDDEN,
            linear_before_reset=1,
        ),
        _ints("direction_axis", [1]),
        helper.make_node("Squeeze", ["Y2", "direction_axis"], ["Y2_s"]),
        _ints("starts", [1]),
        _ints("ends", [SEQ]),
        helper.make_node("Slice", ["Y2_s", "starts", "ends", "zero_axis"], ["Y2_last"]),
        helper.make_node("Flatten", ["Y2_last"], ["Y"], axis=1),
        helper.make_node("Identity", ["Y1_h"], ["state"]),
    ]
    h0 = helper.make_tensor_value_info("h0", TensorProto.FLOAT, [2, BATCH, HIDDEN])
    weights = _weights("lstm_", 4, 2, INPUT) | _weights("gru_", 3, 1, 2 * HIDDEN)
    outputs = {"Y": [SEQ - 1, BATCH * HIDDEN], "state": [2, BATCH, HIDDEN]}
    return _model(nodes, [_x(), h0], outputs, weights)


def stacked_inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "X": rng.uniform(-1, 1, (SEQ, BATCH, INPUT)).astype(np.float32),
        "h0": rng.uniform(-1, 1, (2, BATCH, HIDDEN)).astype(np.float32),
    }


_Y = {"Y": [SEQ, 1, BATCH, HIDDEN]}


def _rnn_node(**attributes: object) -> onnx.NodeProto:
    return helper.make_node(
        "RNN", ["X", "rnn_W", "rnn_R"], ["Y"], name="rnn", hidden_size=HIDDEN, **attributes
    )


def _rnn_weights() -> dict[str, np.ndarray]:
    weights = _weights("rnn_", 1, 1, INPUT)
    del weights["rnn_B"]
    return weights


def unsupported_op() -> onnx.ModelProto:
    return _model([helper.make_node("Add", ["X", "X"], ["Y"], name="add")], [_x()], _Y)


def dynamic_shape() -> onnx.ModelProto:
    return _model([_rnn_node()], [_x(["seq", BATCH, INPUT])], _Y, _rnn_weights())


def double_input() -> onnx.ModelProto:
    return _model([_rnn_node()], [_x(elem=TensorProto.DOUBLE)], _Y, _rnn_weights())


def bad_direction() -> onnx.ModelProto:
    return _model([_rnn_node(direction="sideways")], [_x()], _Y, _rnn_weights())


def bad_activation() -> onnx.ModelProto:
    return _model([_rnn_node(activations=["Swish"])], [_x()], _Y, _rnn_weights())


def strided_slice() -> onnx.ModelProto:
    nodes = [
        _ints("start", [0]),
        _ints("end", [SEQ]),
        _ints("axis", [0]),
        _ints("step", [2]),
        helper.make_node("Slice", ["X", "start", "end", "axis", "step"], ["Y"], name="slice"),
    ]
    return _model(nodes, [_x()], {"Y": [SEQ // 2, BATCH, INPUT]})


def run_time_shape() -> onnx.ModelProto:
    shape = helper.make_tensor_value_info("shape", TensorProto.INT32, [2])
    nodes = [helper.make_node("Reshape", ["X", "shape"], ["Y"], name="reshape")]
    return _model(nodes, [_x(), shape], _Y)


GRAPHS: dict[str, Callable[[], onnx.ModelProto]] = {"stacked": stacked}

#: name -> (builder, fragment of the diagnostic)
BAD_GRAPHS: dict[str, tuple[Callable[[], onnx.ModelProto], str]] = {
    "unsupported_op": (unsupported_op, "node 'add' (Add): error: unsupported op type 'Add'"),
    "dynamic_shape": (dynamic_shape, "input 'X': error: dimension 0 is 'seq'"),
    "double_input": (double_input, "input 'X': error: element type DOUBLE is not supported"),
    "bad_direction": (bad_direction, "node 'rnn' (RNN): error: rnn.rnn: direction must be one of"),
    "bad_activation": (bad_activation, "node 'rnn' (RNN): error: rnn.rnn: unknown activation"),
    "strided_slice": (strided_slice, "node 'slice' (Slice): error: only slices with step 1"),
    "run_time_shape": (
        run_time_shape,
        "node 'reshape' (Reshape): error: the shape input is computed at run time",
    ),
}


def save_all(directory: Path) -> None:
    """Every graph, good and bad, as `directory/NAME.onnx`."""
    builders = GRAPHS | {name: build for name, (build, _) in BAD_GRAPHS.items()}
    for name, build in builders.items():
        onnx.save(build(), directory / f"{name}.onnx")


if __name__ == "__main__":
    save_all(Path(sys.argv[1]))
