"""How fast the interpreter runs a model, against plain numpy and onnxruntime.

    python bench/interp.py [--repeats N]

For LSTM H=512 T=25 and GRU H=1024 T=100 (batch 1, input size = hidden size, DeepBench
weights), every implementation is timed in the same run on the same inputs; the table gives
the median time of N runs and its ratio to plain numpy, and checks that every
implementation computes the same Y_h as plain numpy.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
from rnnc import interpreters as interpreter
from rnnc.driver import pipeline
from rnnc.frontends import deepbench
from rnnc.numerics.precision import MIXED, NumericMode, activation, dot, quantize_weights

Runner = Callable[[], np.ndarray]  # returns Y_h, [1, batch, hidden]

#: Pipelines whose output the interpreter runs, by the row name of the table.
LEVELS = {
    "rnn interpreter": "",
    "loop, decomposed": "rnn-decompose",
    "loop, fused": "rnn-decompose,loop-fuse",
}

MODELS = (deepbench.Task("lstm", 512, 25), deepbench.Task("gru", 1024, 100))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


Nonlinearity = Callable[[np.ndarray], np.ndarray]


def _lstm_step(
    g: np.ndarray, c: np.ndarray, sigmoid: Nonlinearity, tanh: Nonlinearity
) -> tuple[np.ndarray, np.ndarray]:
    """h and c after one LSTM step from the gate pre-activations `g` (ONNX order iofc)."""
    H = c.shape[0]
    i, o, f = sigmoid(g[:H]), sigmoid(g[H : 2 * H]), sigmoid(g[2 * H : 3 * H])
    c = f * c + i * tanh(g[3 * H :])
    return o * tanh(c), c


def _gru_step(
    xw: np.ndarray, hr: np.ndarray, h: np.ndarray, sigmoid: Nonlinearity, tanh: Nonlinearity
) -> np.ndarray:
    """h after one GRU step (linear_before_reset = 1) from the input and recurrent
    products with their biases (ONNX order zrh)."""
    H = h.shape[0]
    z = sigmoid(xw[:H] + hr[:H])
    r = sigmoid(xw[H : 2 * H] + hr[H : 2 * H])
    n = tanh(xw[2 * H :] + r * hr[2 * H :])
    return (1 - z) * n + z * h


def plain_numpy(task: deepbench.Task, w: dict[str, np.ndarray], x: np.ndarray) -> Runner:
    """What a numpy user would write: the input products for all steps in one matmul, then
    one recurrent matmul and the gate arithmetic per step (ONNX gate orders)."""
    W, R, B = w["W"][0], w["R"][0], w["B"][0]
    H = task.hidden
    wb, rb = B[: W.shape[0]], B[W.shape[0] :]

    def lstm() -> np.ndarray:
        xw = x[:, 0] @ W.T + (wb + rb)
        h = np.zeros(H, np.float32)
        c = np.zeros(H, np.float32)
        for t in range(task.steps):
            h, c = _lstm_step(xw[t] + R @ h, c, _sigmoid, np.tanh)
        return h.reshape(1, 1, H)

    def gru() -> np.ndarray:  # linear_before_reset = 1
        xw = x[:, 0] @ W.T + wb
        h = np.zeros(H, np.float32)
        for t in range(task.steps):
            h = _gru_step(xw[t], R @ h + rb, h, _sigmoid, np.tanh)
        return h.reshape(1, 1, H)

    return lstm if task.cell == "lstm" else gru


def plain_numpy_mixed(
    task: deepbench.Task, w: dict[str, np.ndarray], x: np.ndarray, precision: NumericMode = MIXED
) -> Runner:
    """`plain_numpy` with the chip's mixed-precision arithmetic (`rnnc.numerics.precision`):
    the weights rounded to 8 bits once per run, each step's products with x and h through
    `precision.dot`, the nonlinearities through lookup tables. What a numpy emulation of
    that arithmetic costs with none of a simulator's bookkeeping (its numbers are not the
    simulator's to the bit: its pairs of products are not the machine's)."""
    W, R, B = w["W"][0], w["R"][0], w["B"][0]
    H = task.hidden
    wb, rb = B[: W.shape[0]], B[W.shape[0] :]

    def sigmoid(v: np.ndarray) -> np.ndarray:
        return activation(precision, _sigmoid, v)

    def tanh(v: np.ndarray) -> np.ndarray:
        return activation(precision, np.tanh, v)

    def products(weights: np.ndarray, v: np.ndarray) -> np.ndarray:
        return dot(precision, weights, v, axis=-1, a_quantized=True)

    def lstm() -> np.ndarray:
        weights = quantize_weights(precision, np.concatenate([W, R], axis=1))
        h = np.zeros(H, np.float32)
        c = np.zeros(H, np.float32)
        for t in range(task.steps):
            g = products(weights, np.concatenate([x[t, 0], h])) + (wb + rb)
            h, c = _lstm_step(g, c, sigmoid, tanh)
        return h.reshape(1, 1, H)

    def gru() -> np.ndarray:  # linear_before_reset = 1
        w8, r8 = quantize_weights(precision, W), quantize_weights(precision, R)
        h = np.zeros(H, np.float32)
        for t in range(task.steps):
            h = _gru_step(products(w8, x[t, 0]) + wb, products(r8, h) + rb, h, sigmoid, tanh)
        return h.reshape(1, 1, H)

    return lstm if task.cell == "lstm" else gru


def onnxruntime_runner(task: deepbench.Task, w: dict[str, np.ndarray], x: np.ndarray) -> Runner:
    import onnx
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper

    attributes = {"hidden_size": task.hidden}
    if task.cell == "gru":
        attributes["linear_before_reset"] = 1
    node = helper.make_node(task.cell.upper(), ["X", "W", "R", "B"], ["", "Y_h"], **attributes)
    graph = helper.make_graph(
        [node],
        "bench",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, [1, 1, task.hidden])],
        [numpy_helper.from_array(w[k], k) for k in ("W", "R", "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    onnx.checker.check_model(model)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # the interpreter and plain numpy use one thread too
    session = onnxruntime.InferenceSession(model.SerializeToString(), options)
    return lambda: session.run(None, {"X": x})[0]


def interpreter_runner(
    task: deepbench.Task, w: dict[str, np.ndarray], x: np.ndarray, passes: str
) -> Runner:
    ctx = pipeline.make_context()
    module = deepbench.build_module(task, "weights.npz")
    if passes:
        spec = pipeline.build_pipeline(passes, pipeline.available_passes())
        pipeline.run_pipeline(ctx, module, spec, task.name)
    runner = interpreter.Runner(module, w)  # compiles the loop program once, in the warm-up
    return lambda: runner({"X": x})["Y_h"]


def median_seconds(runners: dict[str, Runner], repeats: int) -> dict[str, float]:
    """Median wall time of each runner; the runners take turns, so that a change in the
    machine's load during the run affects them all alike."""
    for run in runners.values():
        run()  # warm-up: first-call costs (imports, caches) are not what is measured
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(samples) for name, samples in times.items()}


def bench_model(task: deepbench.Task, repeats: int) -> list[tuple[str, float, float]]:
    weights = deepbench.random_weights(task, seed=0)
    x = deepbench.random_inputs(task, seed=0)["X"]
    runners: dict[str, Runner] = {"plain numpy": plain_numpy(task, weights, x)}
    runners["onnxruntime (1 thread)"] = onnxruntime_runner(task, weights, x)
    for name, passes in LEVELS.items():
        runners[name] = interpreter_runner(task, weights, x, passes)
    reference = runners["plain numpy"]()
    seconds = median_seconds(runners, repeats)
    return [
        (name, seconds[name], float(np.max(np.abs(run() - reference))))
        for name, run in runners.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    header = f"{'model':<16} {'implementation':<26} {'median ms':>10} {'x numpy':>8}"
    print(f"{header} {'max|dY_h|':>10}")
    for task in MODELS:
        rows = bench_model(task, args.repeats)
        numpy_time = rows[0][1]
        for name, seconds, error in rows:
            print(
                f"{task.name:<16} {name:<26} {seconds * 1e3:>10.2f} "
                f"{seconds / numpy_time:>8.2f} {error:>10.1e}"
            )


if __name__ == "__main__":
    main()
