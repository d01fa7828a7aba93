"""Random single-node ONNX ``LSTM`` / ``GRU`` / ``RNN`` test cases, with onnxruntime as oracle.

``random_case(rng, op)`` draws a configuration that can exercise every attribute and
optional input of the operator (directions, ``sequence_lens`` shorter than the sequence,
non-zero initial states, peepholes, ``clip``, non-default activations with alpha/beta,
``input_forget``, ``linear_before_reset``, both layouts, skipped optional inputs and
outputs) and builds the one-node model for it. ``run_onnxruntime(case)`` evaluates it.

onnxruntime rejects ``layout=1``, so for those cases it runs an equivalent layout-0 model
that transposes X and the initial states on the way in and the outputs on the way out.

Typical use::

    case = random_case(np.random.default_rng(seed), "GRU")
    expected = run_onnxruntime(case)                    # {"Y": ..., "Y_h": ...}
    got = case.select_outputs(rnn_kernels.gru(*case.operands, **case.attrs))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

OPSET = 22
IR_VERSION = 10  # onnxruntime 1.31 accepts IR <= 13; onnx 1.23 would write 14

OPS = ("LSTM", "GRU", "RNN")

# The operator schemas' input and output names, in order; also used as graph names.
INPUT_NAMES: dict[str, tuple[str, ...]] = {
    "LSTM": ("X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"),
    "GRU": ("X", "W", "R", "B", "sequence_lens", "initial_h"),
    "RNN": ("X", "W", "R", "B", "sequence_lens", "initial_h"),
}
OUTPUT_NAMES: dict[str, tuple[str, ...]] = {
    "LSTM": ("Y", "Y_h", "Y_c"),
    "GRU": ("Y", "Y_h"),
    "RNN": ("Y", "Y_h"),
}
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
ACTIVATIONS_PER_DIRECTION = {"LSTM": 3, "GRU": 2, "RNN": 1}
DEFAULT_ACTIVATIONS = {
    "LSTM": ("Sigmoid", "Tanh", "Tanh"),
    "GRU": ("Sigmoid", "Tanh"),
    "RNN": ("Tanh",),
}
WEIGHT_NAMES = ("W", "R", "B", "P")  # inputs that random_case can make initializers

_Range = tuple[float, float] | None

# Random ranges for activation parameters: (alpha range, beta range), None if not taken.
# They keep the functions in a regime where fp32 results are well conditioned.
ACTIVATION_PARAMETERS: dict[str, tuple[_Range, _Range]] = {
    "Relu": (None, None),
    "Tanh": (None, None),
    "Sigmoid": (None, None),
    "Affine": ((-1.5, 1.5), (-1.0, 1.0)),
    "LeakyRelu": ((0.01, 0.5), None),
    "ThresholdedRelu": ((0.0, 1.0), None),
    "ScaledTanh": ((0.5, 2.0), (0.5, 2.0)),
    "HardSigmoid": ((0.1, 0.5), (0.3, 0.7)),
    "Elu": ((0.1, 2.0), None),
    "Softsign": (None, None),
    "Softplus": (None, None),
}


@dataclass(frozen=True)
class RnnCase:
    """One single-node test case.

    ``operands`` holds the value of every node input in ONNX order (None where the input is
    skipped), so ``kernel(*case.operands, **case.attrs)`` calls a numpy kernel with the
    ONNX signature. ``inputs`` holds only the graph inputs (initializers live in the model).
    ``outputs`` is the node's output list, with ``""`` for a skipped output.
    """

    op: str
    model: onnx.ModelProto
    inputs: dict[str, np.ndarray]
    attrs: dict[str, Any]
    operands: tuple[np.ndarray | None, ...]
    outputs: tuple[str, ...]

    @property
    def output_names(self) -> tuple[str, ...]:
        """Names of the requested outputs, in ONNX order."""
        return tuple(name for name in self.outputs if name)

    def select_outputs(self, values: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        """Map a kernel's full output tuple (Y, Y_h[, Y_c]) to the requested outputs."""
        return {
            name: value
            for name, value in zip(OUTPUT_NAMES[self.op], values, strict=False)
            if name in self.outputs
        }

    def describe(self) -> str:
        """A one-line summary for test failure messages."""
        present = [
            n for n, v in zip(INPUT_NAMES[self.op], self.operands, strict=False) if v is not None
        ]
        shape = self.operands[0].shape
        return (
            f"{self.op} X{list(shape)} inputs={present} outputs={list(self.outputs)} {self.attrs}"
        )


def build_model(
    op: str,
    attrs: Mapping[str, Any],
    operands: Sequence[np.ndarray | None],
    outputs: Sequence[str],
    *,
    initializers: Sequence[str] = (),
    output_shapes: Mapping[str, Sequence[int]] | None = None,
) -> onnx.ModelProto:
    """Build a one-node model for ``op``: graph inputs and outputs named as in the schema.

    ``operands`` are the node inputs in ONNX order (None = skipped, written as ``""``;
    trailing skipped inputs are dropped). Inputs named in ``initializers`` become graph
    initializers instead of graph inputs. ``outputs`` is the node's output list (``""`` =
    skipped); ``output_shapes`` optionally gives their static shapes.
    """
    names = INPUT_NAMES[op]
    node_inputs = [n if v is not None else "" for n, v in zip(names, operands, strict=False)]
    while node_inputs and not node_inputs[-1]:
        node_inputs.pop()
    node_outputs = list(outputs)
    while node_outputs and not node_outputs[-1]:
        node_outputs.pop()
    values = dict(zip(names, operands, strict=False))
    graph_inputs, inits = [], []
    for name in filter(None, node_inputs):
        if name in initializers:
            inits.append(numpy_helper.from_array(values[name], name))
        else:
            dtype = helper.np_dtype_to_tensor_dtype(values[name].dtype)
            graph_inputs.append(helper.make_tensor_value_info(name, dtype, values[name].shape))
    elem = helper.np_dtype_to_tensor_dtype(operands[0].dtype)
    shapes = output_shapes or {}
    graph_outputs = [
        helper.make_tensor_value_info(name, elem, shapes.get(name))
        for name in filter(None, node_outputs)
    ]
    node = helper.make_node(op, node_inputs, node_outputs, **attrs)
    graph = helper.make_graph([node], f"{op.lower()}_case", graph_inputs, graph_outputs, inits)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION
    )
    onnx.checker.check_model(model)
    return model


def output_shapes(op: str, attrs: Mapping[str, Any], x_shape: Sequence[int]) -> dict[str, tuple]:
    """Static shapes of the operator's outputs for an X of ``x_shape``."""
    nd = 2 if attrs.get("direction", "forward") == "bidirectional" else 1
    hidden = attrs["hidden_size"]
    if attrs.get("layout", 0):
        batch, seq = x_shape[:2]
        state: tuple[int, ...] = (batch, nd, hidden)
        y: tuple[int, ...] = (batch, seq, nd, hidden)
    else:
        seq, batch = x_shape[:2]
        state, y = (nd, batch, hidden), (seq, nd, batch, hidden)
    return {name: (y if name == "Y" else state) for name in OUTPUT_NAMES[op]}


# Functions with bounded output. An unbounded one (Relu, Affine, ...) in a gate lets the
# state grow doubly exponentially over the steps, until fp32 overflows (and onnxruntime's
# Softplus, log(1 + exp(x)), already returns inf past x = 88). So unbounded functions are
# only drawn when clip bounds every gate pre-activation, and never for the LSTM h function,
# whose input is the unclipped cell state.
BOUNDED_ACTIVATIONS = ("HardSigmoid", "ScaledTanh", "Sigmoid", "Softsign", "Tanh")


def _random_activations(
    rng: np.random.Generator, op: str, nd: int, clipped: bool
) -> tuple[list[str], list[float] | None, list[float] | None]:
    per_direction = ACTIVATIONS_PER_DIRECTION[op]
    names = []
    for slot in range(nd * per_direction):
        unclipped_input = op == "LSTM" and slot % per_direction == 2
        pool = (
            BOUNDED_ACTIVATIONS if unclipped_input or not clipped else sorted(ACTIVATION_PARAMETERS)
        )
        names.append(str(rng.choice(pool)))
    alphas, betas = [], []
    for name in names:  # alpha/beta lists are consumed compactly, one value per user
        alpha_range, beta_range = ACTIVATION_PARAMETERS[name]
        if alpha_range:
            alphas.append(round(float(rng.uniform(*alpha_range)), 3))
        if beta_range:
            betas.append(round(float(rng.uniform(*beta_range)), 3))
    # Sometimes cut a list short (or drop it) so that the defaults are exercised too.
    if alphas and rng.random() < 0.2:
        alphas = alphas[: rng.integers(len(alphas))]
    if betas and rng.random() < 0.2:
        betas = betas[: rng.integers(len(betas))]
    return names, alphas or None, betas or None


def random_attrs(rng: np.random.Generator, op: str) -> dict[str, Any]:
    """Draw node attributes for ``op``; defaults are sometimes explicit, sometimes omitted."""
    if op not in OPS:
        raise ValueError(f"op must be one of {OPS}, got {op!r}")
    attrs: dict[str, Any] = {"hidden_size": int(rng.integers(1, 6))}
    direction = str(rng.choice(["forward", "reverse", "bidirectional"]))
    if direction != "forward" or rng.random() < 0.5:
        attrs["direction"] = direction
    nd = 2 if direction == "bidirectional" else 1
    if rng.random() < 0.4:
        attrs["clip"] = round(float(rng.uniform(0.3, 3.0)), 3)
    draw = rng.random()
    if draw < 0.5:
        names, alphas, betas = _random_activations(rng, op, nd, "clip" in attrs)
        attrs["activations"] = names
        if alphas:
            attrs["activation_alpha"] = alphas
        if betas:
            attrs["activation_beta"] = betas
    elif draw < 0.6:
        attrs["activations"] = list(DEFAULT_ACTIVATIONS[op] * nd)
    if op == "LSTM" and rng.random() < 0.4:
        attrs["input_forget"] = int(rng.random() < 0.75)
    if op == "GRU" and rng.random() < 0.7:
        attrs["linear_before_reset"] = int(rng.random() < 0.6)
    if rng.random() < 0.35:
        attrs["layout"] = int(rng.random() < 0.8)
    return attrs


def random_case(
    rng: np.random.Generator,
    op: str,
    *,
    attr_overrides: Mapping[str, Any] | None = None,
    weights_as_initializers: bool = False,
) -> RnnCase:
    """Draw a random ``op`` configuration and build its single-node model.

    Shapes are small (sequence 3-6, batch 2-4, input 1-5, hidden 1-5) so that many cases
    run quickly; initial states are non-zero when present, and ``sequence_lens`` values lie
    in [1, sequence]. Unbounded activations are only drawn together with ``clip`` (see
    ``BOUNDED_ACTIVATIONS``), so outputs stay finite and well conditioned.

    ``attr_overrides`` forces attributes after drawing (a value of None removes the
    attribute, leaving the ONNX default). With ``weights_as_initializers``,
    W, R, B and P are stored in the model as initializers rather than fed as inputs.
    """
    attrs = random_attrs(rng, op)
    for key, value in (attr_overrides or {}).items():
        if value is None:
            attrs.pop(key, None)
        else:
            attrs[key] = value
    nd = 2 if attrs.get("direction", "forward") == "bidirectional" else 1
    hidden = attrs["hidden_size"]
    seq, batch, n_in = int(rng.integers(3, 7)), int(rng.integers(2, 5)), int(rng.integers(1, 6))
    gh = GATES[op] * hidden
    layout = attrs.get("layout", 0)

    def uniform(*shape: int, scale: float = 1.0) -> np.ndarray:
        return (scale * rng.uniform(-1.0, 1.0, shape)).astype(np.float32)

    x_shape = (batch, seq, n_in) if layout else (seq, batch, n_in)
    state_shape = (batch, nd, hidden) if layout else (nd, batch, hidden)
    values: dict[str, np.ndarray | None] = {
        "X": uniform(*x_shape, scale=2.0),
        # Weights about 1/sqrt(fan-in) keep activations out of deep saturation.
        "W": uniform(nd, gh, n_in, scale=1.5 / np.sqrt(n_in)),
        "R": uniform(nd, gh, hidden, scale=1.5 / np.sqrt(hidden)),
        "B": uniform(nd, 2 * gh, scale=0.5) if rng.random() < 0.7 else None,
        "sequence_lens": None,
        "initial_h": uniform(*state_shape) if rng.random() < 0.7 else None,
    }
    draw = rng.random()
    if draw < 0.5:  # at least one entry shorter than the sequence, sometimes one full
        lens = rng.integers(1, seq + 1, batch)
        short, full = rng.permutation(batch)[:2]
        lens[short] = rng.integers(1, seq)
        if rng.random() < 0.5:
            lens[full] = seq
        values["sequence_lens"] = lens.astype(np.int32)
    elif draw < 0.6:  # present but all full
        values["sequence_lens"] = np.full(batch, seq, np.int32)
    if op == "LSTM":
        values["initial_c"] = uniform(*state_shape) if rng.random() < 0.7 else None
        values["P"] = uniform(nd, 3 * hidden) if rng.random() < 0.5 else None

    outputs = list(OUTPUT_NAMES[op])
    if rng.random() < 0.35:  # request a random non-empty subset of the outputs
        keep = rng.random(len(outputs)) < 0.5
        keep[rng.integers(len(outputs))] = True
        outputs = [name if k else "" for name, k in zip(outputs, keep, strict=True)]

    initializers = WEIGHT_NAMES if weights_as_initializers else ()
    return make_case(op, values, attrs, outputs, initializers=initializers)


def make_case(
    op: str,
    operands: Mapping[str, np.ndarray | None],
    attrs: Mapping[str, Any],
    outputs: Sequence[str] | None = None,
    *,
    initializers: Sequence[str] = (),
) -> RnnCase:
    """Build the case for given operand values (keyed by ONNX input name; missing = skipped).

    ``outputs`` is the node's output list (``""`` = skipped; default: all outputs).
    Operands named in ``initializers`` go into the model instead of the graph inputs.
    """
    if op not in OPS:
        raise ValueError(f"op must be one of {OPS}, got {op!r}")
    unknown = set(operands) - set(INPUT_NAMES[op])
    if unknown:
        raise ValueError(f"{op} has no inputs {sorted(unknown)}")
    values = tuple(operands.get(name) for name in INPUT_NAMES[op])
    outputs = list(OUTPUT_NAMES[op] if outputs is None else outputs)
    while outputs and not outputs[-1]:
        outputs.pop()  # ONNX drops trailing skipped outputs
    if not outputs:
        raise ValueError("a case needs at least one output")
    attrs = dict(attrs)
    model = build_model(
        op,
        attrs,
        values,
        outputs,
        initializers=initializers,
        output_shapes=output_shapes(op, attrs, values[0].shape),
    )
    inputs = {
        name: value
        for name, value in zip(INPUT_NAMES[op], values, strict=True)
        if value is not None and name not in initializers
    }
    return RnnCase(op, model, inputs, attrs, values, tuple(outputs))


def batch1_case(op: str, seed: int, overrides: Mapping[str, Any]) -> RnnCase:
    """A random case (odd sizes, sequence_lens, initial states, ...) with weights as
    initializers, cut to batch 1 (layout 0): what the compiler's design search takes."""
    case = random_case(np.random.default_rng(seed), op,
                       attr_overrides={**overrides, "layout": 0}, weights_as_initializers=True)
    values = dict(zip(INPUT_NAMES[op], case.operands, strict=True))
    for name in ("X", "initial_h", "initial_c"):
        if values.get(name) is not None:
            values[name] = np.ascontiguousarray(values[name][:, :1])
    if values.get("sequence_lens") is not None:
        values["sequence_lens"] = values["sequence_lens"][:1]
    return make_case(op, values, case.attrs, case.outputs, initializers=WEIGHT_NAMES)


def layout0_model(model: onnx.ModelProto) -> onnx.ModelProto:
    """An equivalent model whose RNN node uses ``layout=0``, for runtimes without layout 1.

    The graph interface (names, shapes, initializers) is unchanged: Transpose nodes turn X
    [B, S, I] and the initial states [B, nd, H] into layout 0 on the way in, and Y and the
    final states back into layout 1 on the way out. A model already in layout 0 is returned
    unchanged.
    """
    (node,) = model.graph.node
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if not attrs.get("layout", 0):
        return model
    del attrs["layout"]
    op = node.op_type
    inputs_to_swap = {"X", "initial_h", "initial_c"}
    nodes, new_inputs = [], []
    for role, name in zip(INPUT_NAMES[op], node.input, strict=False):
        if name and role in inputs_to_swap:
            nodes.append(helper.make_node("Transpose", [name], [f"{name}__l0"], perm=[1, 0, 2]))
            new_inputs.append(f"{name}__l0")
        else:
            new_inputs.append(name)
    new_outputs, tails = [], []
    for role, name in zip(OUTPUT_NAMES[op], node.output, strict=False):
        if not name:
            new_outputs.append("")
            continue
        perm = [2, 0, 1, 3] if role == "Y" else [1, 0, 2]
        new_outputs.append(f"{name}__l0")
        tails.append(helper.make_node("Transpose", [f"{name}__l0"], [name], perm=perm))
    nodes.append(helper.make_node(op, new_inputs, new_outputs, name=node.name, **attrs))
    graph = helper.make_graph(
        [*nodes, *tails],
        model.graph.name,
        list(model.graph.input),
        list(model.graph.output),
        list(model.graph.initializer),
    )
    return helper.make_model(
        graph, opset_imports=list(model.opset_import), ir_version=model.ir_version
    )


def run_onnxruntime(case: RnnCase) -> dict[str, np.ndarray]:
    """Evaluate ``case`` with onnxruntime (CPU); returns the requested outputs by name.

    Layout-1 cases run through :func:`layout0_model`, since onnxruntime has no layout 1.
    """
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 1  # deterministic and cheap for these tiny shapes
    session = ort.InferenceSession(
        layout0_model(case.model).SerializeToString(),
        options,
        providers=["CPUExecutionProvider"],
    )
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, case.inputs), strict=True))


#: Worst relative error (`rel_err`) allowed against a reference, float32 throughout.
TOLERANCE = 1e-5


def rel_err(got: np.ndarray, exp: np.ndarray) -> float:
    """max|got - exp| / max(1, max|exp|), computed in float64."""
    diff = np.abs(got.astype(np.float64) - exp.astype(np.float64))
    return float(diff.max(initial=0.0) / max(1.0, float(np.abs(exp).max(initial=0.0))))
