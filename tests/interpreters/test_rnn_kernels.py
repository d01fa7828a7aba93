"""Tests of the numpy ONNX LSTM/GRU/RNN kernels in ``rnnc.interpreters.rnn_kernels``.

The oracle is onnxruntime (via ``onnx_cases.run_onnxruntime``). Every comparison uses the
relative error of one output tensor::

    rel(got, exp) = max|got - exp| / max(1, max|exp|)

(maxima over all elements), i.e. an absolute error for outputs of magnitude up to 1 and a
relative one beyond; it must be at most ``TOLERANCE`` = 1e-5 (float32 throughout).
"""

from __future__ import annotations

import pickle
from collections import Counter

import numpy as np
import pytest
from onnx_cases import (
    ACTIVATION_PARAMETERS,
    INPUT_NAMES,
    OPS,
    TOLERANCE,
    RnnCase,
    make_case,
    random_case,
    rel_err,
    run_onnxruntime,
)
from rnnc.dialects.rnn import ACTIVATION_NAMES
from rnnc.interpreters.rnn_kernels import (
    Activation,
    gru,
    lstm,
    resolve_activations,
    rnn,
)

N_RANDOM = 360  # differential cases, 120 per operator
KERNELS = {"LSTM": lstm, "GRU": gru, "RNN": rnn}


def run_kernel(case: RnnCase) -> dict[str, np.ndarray]:
    """The kernel's values of the case's requested outputs."""
    return case.select_outputs(KERNELS[case.op](*case.operands, **case.attrs))


def assert_matches_onnxruntime(case: RnnCase) -> dict[str, np.ndarray]:
    """Compare every requested output with onnxruntime; return the kernel's outputs."""
    expected = run_onnxruntime(case)
    got = run_kernel(case)
    assert got.keys() == expected.keys()
    for name, exp in expected.items():
        assert np.all(np.isfinite(exp)), f"onnxruntime {name} is not finite: {case.describe()}"
        assert got[name].shape == exp.shape, f"{name}: {case.describe()}"
        assert got[name].dtype == exp.dtype, f"{name}: {case.describe()}"
        err = rel_err(got[name], exp)
        assert err <= TOLERANCE, f"{name}: relative error {err:.3g}; {case.describe()}"
    return got


def uniform(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return (scale * rng.uniform(-1.0, 1.0, shape)).astype(np.float32)


def random_operands(
    rng: np.random.Generator, op: str, *, seq: int, batch: int, hidden: int, nd: int = 1
) -> dict[str, np.ndarray]:
    """Random values for every input but sequence_lens (layout 0, input size 3)."""
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
    values = {
        "X": uniform(rng, seq, batch, 3, scale=2.0),
        "W": uniform(rng, nd, gates * hidden, 3),
        "R": uniform(rng, nd, gates * hidden, hidden),
        "B": uniform(rng, nd, 2 * gates * hidden, scale=0.5),
        "initial_h": uniform(rng, nd, batch, hidden),
    }
    if op == "LSTM":
        values["initial_c"] = uniform(rng, nd, batch, hidden)
        values["P"] = uniform(rng, nd, 3 * hidden)
    return values


# --- differential test against onnxruntime ---------------------------------------------


@pytest.mark.parametrize("seed", range(N_RANDOM))
def test_random_configuration_matches_onnxruntime(seed: int) -> None:
    case = random_case(np.random.default_rng(seed), OPS[seed % len(OPS)])
    assert_matches_onnxruntime(case)


def test_random_configurations_cover_every_feature() -> None:
    """The seeds of the differential test exercise every attribute and optional input."""
    seen: Counter[str] = Counter()
    for seed in range(N_RANDOM):
        case = random_case(np.random.default_rng(seed), OPS[seed % len(OPS)])
        a, ops = case.attrs, dict(zip(INPUT_NAMES[case.op], case.operands, strict=True))
        seq = case.operands[0].shape[1 if a.get("layout", 0) else 0]
        seen[f"{case.op} {a.get('direction', 'forward')}"] += 1
        seen[f"layout {a.get('layout', 0)}"] += 1
        seen.update(f"activation {name}" for name in a.get("activations", ()))
        seen["alpha"] += "activation_alpha" in a
        seen["beta"] += "activation_beta" in a
        seen["clip"] += "clip" in a
        seen[f"{case.op} input_forget {a.get('input_forget', 0)}"] += 1
        seen[f"{case.op} linear_before_reset {a.get('linear_before_reset', 0)}"] += 1
        seen["no B"] += ops["B"] is None
        seen["no lens"] += ops["sequence_lens"] is None
        seen["lens < seq"] += ops["sequence_lens"] is not None and bool(
            np.any(ops["sequence_lens"] < seq)
        )
        seen["lens == seq"] += ops["sequence_lens"] is not None and bool(
            np.all(ops["sequence_lens"] == seq)
        )
        seen["initial_h"] += ops["initial_h"] is not None and bool(np.any(ops["initial_h"] != 0))
        seen["initial_c"] += ops.get("initial_c") is not None
        seen["peepholes"] += ops.get("P") is not None
        seen["skipped input"] += "" in case.model.graph.node[0].input
        seen["skipped output"] += len(case.output_names) < len(case.model.graph.node[0].output)
        seen["output subset"] += len(case.output_names) < {"LSTM": 3}.get(case.op, 2)
    wanted = [f"{op} {d}" for op in OPS for d in ("forward", "reverse", "bidirectional")]
    wanted += ["layout 0", "layout 1", "alpha", "beta", "clip", "no B", "no lens"]
    wanted += ["lens < seq", "lens == seq", "initial_h", "initial_c", "peepholes"]
    wanted += ["skipped input", "skipped output", "output subset"]
    wanted += ["LSTM input_forget 0", "LSTM input_forget 1"]
    wanted += ["GRU linear_before_reset 0", "GRU linear_before_reset 1"]
    wanted += [f"activation {name}" for name in ACTIVATION_NAMES]
    missing = [feature for feature in wanted if seen[feature] < 3]
    assert not missing, f"features drawn fewer than 3 times: {missing}"


# --- directed tests of the quirks ---------------------------------------------------------


def test_clip_bounds_gate_preactivations_but_not_the_cell_state() -> None:
    # Positive inputs and weights push every gate pre-activation far above the clip, so
    # each step sees exactly i = f = o = sigmoid(clip) and c~ = tanh(clip). C then grows
    # past the clip value; h must use the unclipped C.
    clip, seq, batch, hidden = 0.3, 6, 2, 3
    rng = np.random.default_rng(1)
    operands = {
        "X": rng.uniform(1.0, 2.0, (seq, batch, 2)).astype(np.float32),
        "W": np.full((1, 4 * hidden, 2), 5.0, np.float32),
        "R": np.full((1, 4 * hidden, hidden), 0.5, np.float32),
    }
    case = make_case("LSTM", operands, {"hidden_size": hidden, "clip": clip})
    got = assert_matches_onnxruntime(case)
    s, g = 1 / (1 + np.exp(-clip)), np.tanh(clip)
    c, hs = 0.0, []
    for _ in range(seq):
        c = s * c + s * g
        hs.append(s * np.tanh(c))
    assert c > clip  # the state did exceed the clip value...
    np.testing.assert_allclose(got["Y_c"], c, rtol=1e-5)  # ...and was not clipped
    np.testing.assert_allclose(got["Y"][:, 0, 0, 0], hs, rtol=1e-5)


def test_input_forget_ignores_the_forget_gate_weights() -> None:
    rng = np.random.default_rng(2)
    hidden = 3
    operands = random_operands(rng, "LSTM", seq=5, batch=2, hidden=hidden, nd=2)
    attrs = {"hidden_size": hidden, "direction": "bidirectional", "input_forget": 1}
    got = assert_matches_onnxruntime(make_case("LSTM", operands, attrs))
    # Scramble everything that feeds the forget gate: W, R, Wb, Rb rows 2H:3H and Pf.
    scrambled = {k: v.copy() for k, v in operands.items()}
    f_rows = slice(2 * hidden, 3 * hidden)
    scrambled["W"][:, f_rows] = uniform(rng, 2, hidden, 3, scale=5.0)
    scrambled["R"][:, f_rows] = uniform(rng, 2, hidden, hidden, scale=5.0)
    scrambled["B"][:, f_rows] = 7.0
    scrambled["B"][:, 4 * hidden + 2 * hidden : 4 * hidden + 3 * hidden] = -3.0
    scrambled["P"][:, 2 * hidden :] = 9.0
    again = run_kernel(make_case("LSTM", scrambled, attrs))
    for name, value in got.items():
        np.testing.assert_array_equal(again[name], value)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
def test_outputs_are_zero_past_each_sequence_length(op: str, direction: str) -> None:
    rng = np.random.default_rng(3)
    seq, hidden = 6, 3
    lens = np.array([6, 2, 4, 1], np.int32)
    nd = 2 if direction == "bidirectional" else 1
    operands = random_operands(rng, op, seq=seq, batch=len(lens), hidden=hidden, nd=nd)
    operands["sequence_lens"] = lens
    case = make_case(op, operands, {"hidden_size": hidden, "direction": direction})
    got = assert_matches_onnxruntime(case)
    Y, Y_h = got["Y"], got["Y_h"]
    reverse = [direction == "reverse"] if nd == 1 else [False, True]
    for b, length in enumerate(lens):
        assert np.all(Y[length:, :, b] == 0)
        assert np.all(Y[:length, :, b] != 0)
        for d, rev in enumerate(reverse):
            # The final state is the state after the last step processed: time L_b - 1
            # going forward, time 0 going backward.
            np.testing.assert_array_equal(Y_h[d, b], Y[0 if rev else length - 1, d, b])


@pytest.mark.parametrize("op", OPS)
def test_reverse_starts_at_each_sequences_own_last_step(op: str) -> None:
    rng = np.random.default_rng(4)
    seq, hidden = 5, 2
    lens = np.array([5, 3, 1], np.int32)
    operands = random_operands(rng, op, seq=seq, batch=len(lens), hidden=hidden)
    operands["sequence_lens"] = lens
    attrs = {"hidden_size": hidden, "direction": "reverse"}
    got = assert_matches_onnxruntime(make_case(op, operands, attrs))
    for b, length in enumerate(lens):
        # Entry b alone, its valid prefix reversed in time, run forward: the same steps.
        alone = {k: v for k, v in operands.items() if k != "sequence_lens"}
        alone["X"] = operands["X"][length - 1 :: -1, b : b + 1]
        for state in ("initial_h", "initial_c"):
            if state in alone:
                alone[state] = operands[state][:, b : b + 1]
        forward = run_kernel(make_case(op, alone, {"hidden_size": hidden}))
        np.testing.assert_allclose(got["Y"][:length, :, b], forward["Y"][::-1, :, 0], rtol=1e-6)
        np.testing.assert_allclose(got["Y_h"][:, b], forward["Y_h"][:, 0], rtol=1e-6)


@pytest.mark.parametrize("op", OPS)
def test_empty_sequence_reports_zero_final_state(op: str) -> None:
    # onnxruntime accepts sequence_lens = 0 and returns zero (not the initial state).
    rng = np.random.default_rng(5)
    operands = random_operands(rng, op, seq=4, batch=3, hidden=2, nd=2)
    operands["sequence_lens"] = np.array([0, 4, 2], np.int32)
    case = make_case(op, operands, {"hidden_size": 2, "direction": "bidirectional"})
    got = assert_matches_onnxruntime(case)
    for name, value in got.items():
        batch_axis = 2 if name == "Y" else 1
        assert np.all(value.take(0, axis=batch_axis) == 0), name


def test_alpha_and_beta_lists_are_consumed_compactly() -> None:
    # Only functions that take an alpha (beta) pop the next value, across directions.
    acts = resolve_activations("RNN", "bidirectional", ["Tanh", "LeakyRelu"], [0.3], None)
    assert acts == ((Activation("Tanh"),), (Activation("LeakyRelu", 0.3),))
    names = ["HardSigmoid", "Affine", "LeakyRelu", "Sigmoid", "ScaledTanh", "Elu"]
    acts = resolve_activations("LSTM", "bidirectional", names, [0.1, 2.0, 0.2, 0.7], [0.6, 0.5])
    assert acts == (
        (
            Activation("HardSigmoid", 0.1, 0.6),
            Activation("Affine", 2.0, 0.5),
            Activation("LeakyRelu", 0.2),
        ),
        (Activation("Sigmoid"), Activation("ScaledTanh", 0.7, 0.0), Activation("Elu", 1.0)),
    )
    # The same in numbers, against onnxruntime: the backward LeakyRelu gets 0.3.
    operands = {
        "X": np.array([[[-1.0]], [[0.5]]], np.float32),
        "W": np.ones((2, 1, 1), np.float32),
        "R": np.zeros((2, 1, 1), np.float32),
    }
    attrs = {
        "hidden_size": 1,
        "direction": "bidirectional",
        "activations": ["Tanh", "LeakyRelu"],
        "activation_alpha": [0.3],
    }
    got = assert_matches_onnxruntime(make_case("RNN", operands, attrs))
    np.testing.assert_allclose(got["Y"][:, 1, 0, 0], [-0.3, 0.5], rtol=1e-6)
    rng = np.random.default_rng(6)
    operands = random_operands(rng, "LSTM", seq=4, batch=2, hidden=2, nd=2)
    attrs = {
        "hidden_size": 2,
        "direction": "bidirectional",
        "clip": 2.0,
        "activations": names,
        "activation_alpha": [0.1, 2.0, 0.2, 0.7],
        "activation_beta": [0.6, 0.5, 1.2],
    }
    assert_matches_onnxruntime(make_case("LSTM", operands, attrs))


def test_surplus_alpha_values_are_ignored() -> None:
    acts = resolve_activations("GRU", "forward", ["LeakyRelu", "Tanh"], [0.2, 0.9, 0.4], [1.0])
    assert acts == ((Activation("LeakyRelu", 0.2), Activation("Tanh")),)


@pytest.mark.parametrize(
    ("name", "given"),
    [(name, False) for name in sorted(ACTIVATION_NAMES)]
    + [(name, True) for name in sorted(ACTIVATION_NAMES) if ACTIVATION_PARAMETERS[name][0]],
)
def test_each_activation_matches_onnxruntime(name: str, given: bool) -> None:
    """Each function, with default and with given alpha/beta."""
    # RNN with W = 1, R = 0: Y is the activation applied to X itself.
    x = np.linspace(-3.0, 3.0, 25, dtype=np.float32).reshape(-1, 1, 1)
    attrs: dict = {"hidden_size": 1, "activations": [name]}
    alpha_range, beta_range = ACTIVATION_PARAMETERS[name]
    if given and alpha_range:
        attrs["activation_alpha"] = [sum(alpha_range) / 2]
    if given and beta_range:
        attrs["activation_beta"] = [sum(beta_range) / 2]
    operands = {"X": x, "W": np.ones((1, 1, 1), np.float32), "R": np.zeros((1, 1, 1), np.float32)}
    assert_matches_onnxruntime(make_case("RNN", operands, attrs))
    act = resolve_activations("RNN", "forward", [name], attrs.get("activation_alpha"), None)[0][0]
    assert act(x).dtype == np.float32
    assert pickle.loads(pickle.dumps(act)) == act


def test_activation_defaults_are_onnxruntimes() -> None:
    defaults = {a.name: (a.alpha, a.beta) for a in map(Activation, sorted(ACTIVATION_NAMES))}
    assert defaults["HardSigmoid"] == (0.2, 0.5)
    assert defaults["LeakyRelu"] == (0.01, None)
    assert defaults["Elu"] == (1.0, None)
    assert defaults["ThresholdedRelu"] == (0.0, None)  # the ONNX op's default would be 1.0
    assert defaults["Affine"] == (0.0, 0.0)
    assert defaults["ScaledTanh"] == (0.0, 0.0)
    assert defaults["Tanh"] == (None, None)
    x = np.array([-2.0, 0.5, 100.0], np.float32)
    np.testing.assert_allclose(Activation("ThresholdedRelu")(x), [0.0, 0.5, 100.0])
    np.testing.assert_allclose(Activation("Affine")(x), 0.0)
    np.testing.assert_allclose(Activation("Softplus")(x), [0.126928, 0.974077, 100.0], rtol=1e-6)


def test_default_activations_per_cell() -> None:
    assert resolve_activations("LSTM", "forward", None, None, None) == (
        (Activation("Sigmoid"), Activation("Tanh"), Activation("Tanh")),
    )
    assert (
        resolve_activations("GRU", "bidirectional", [], None, None)
        == ((Activation("Sigmoid"), Activation("Tanh")),) * 2
    )
    assert resolve_activations("RNN", "reverse", None, None, None) == ((Activation("Tanh"),),)


def test_forward_rnn_takes_the_first_of_two_activations() -> None:
    # The RNN schema's default is ["Tanh", "Tanh"]; onnxruntime uses the first of two.
    assert resolve_activations("RNN", "forward", ["Relu", "Tanh"], None, None) == (
        (Activation("Relu"),),
    )
    operands = {
        "X": np.array([[[-1.0]], [[0.5]]], np.float32),
        "W": np.ones((1, 1, 1), np.float32),
        "R": np.zeros((1, 1, 1), np.float32),
    }
    attrs = {"hidden_size": 1, "direction": "reverse", "activations": ["Relu", "Tanh"]}
    got = assert_matches_onnxruntime(make_case("RNN", operands, attrs))
    np.testing.assert_array_equal(got["Y"].ravel(), [0.0, 0.5])


def test_activation_names_are_case_insensitive() -> None:
    assert Activation("leakyrelu", 0.5) == Activation("LeakyRelu", 0.5)
    assert Activation("TANH").name == "Tanh"


def test_unknown_activation_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown activation function 'Swish'"):
        resolve_activations("GRU", "forward", ["Sigmoid", "Swish"], None, None)
    rng = np.random.default_rng(7)
    operands = random_operands(rng, "RNN", seq=3, batch=2, hidden=2)
    with pytest.raises(ValueError, match="unknown activation"):
        rnn(operands["X"], operands["W"], operands["R"], hidden_size=2, activations=["Gelu"])
    with pytest.raises(ValueError, match="takes no alpha"):
        Activation("Tanh", alpha=1.0)


@pytest.mark.parametrize(
    ("cell", "direction", "count"),
    [
        ("LSTM", "forward", 2),
        ("LSTM", "bidirectional", 3),
        ("GRU", "reverse", 1),
        ("GRU", "bidirectional", 3),
        ("RNN", "bidirectional", 1),
        ("RNN", "forward", 3),
    ],
)
def test_wrong_number_of_activations_is_rejected(cell: str, direction: str, count: int) -> None:
    with pytest.raises(ValueError, match=f"needs .* activations .* got {count}"):
        resolve_activations(cell, direction, ["Tanh"] * count, None, None)


# --- layout, dtype and operand checks -------------------------------------------------------


@pytest.mark.parametrize("op", OPS)
def test_layout_1_is_layout_0_with_batch_and_sequence_swapped(op: str) -> None:
    rng = np.random.default_rng(8)
    operands = random_operands(rng, op, seq=4, batch=3, hidden=2, nd=2)
    lens = np.array([4, 1, 3], np.int32)
    attrs = {"hidden_size": 2, "direction": "bidirectional"}
    base = KERNELS[op](*make_case(op, {**operands, "sequence_lens": lens}, attrs).operands, **attrs)
    swapped = {
        k: v.transpose(1, 0, 2) if k in ("X", "initial_h", "initial_c") else v
        for k, v in operands.items()
    }
    case = make_case(op, {**swapped, "sequence_lens": lens}, {**attrs, "layout": 1})
    batchwise = KERNELS[op](*case.operands, **case.attrs)
    np.testing.assert_array_equal(batchwise[0], base[0].transpose(2, 0, 1, 3))
    for got, want in zip(batchwise[1:], base[1:], strict=True):
        np.testing.assert_array_equal(got, want.transpose(1, 0, 2))


@pytest.mark.parametrize("op", OPS)
def test_computes_in_the_input_dtype(op: str) -> None:
    rng = np.random.default_rng(9)
    operands = random_operands(rng, op, seq=3, batch=2, hidden=2)
    case = make_case(op, operands, {"hidden_size": 2})
    single = KERNELS[op](*case.operands, **case.attrs)
    wide = [None if v is None else v.astype(np.float64) for v in case.operands]
    double = KERNELS[op](*wide, **case.attrs)
    assert all(v.dtype == np.float32 for v in single)
    assert all(v.dtype == np.float64 for v in double)
    for a, b in zip(single, double, strict=True):
        assert rel_err(a, b) < 1e-6


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"W": np.zeros((1, 8, 3), np.float32)}, r"W must have shape \[1, 12, 3\]"),
        ({"sequence_lens": np.array([4, 1], np.int32)}, r"sequence_lens must lie in \[0, 3\]"),
        ({"initial_h": np.zeros((2, 2, 3), np.float32)}, r"initial_h must have shape"),
        ({"P": np.zeros((1, 12), np.float32)}, r"P must have shape \[1, 9\]"),
        ({"clip": 0.0}, "clip must be positive"),
        ({"direction": "sideways"}, "direction must be one of"),
        ({"layout": 2}, "layout must be 0 or 1"),
        ({"hidden_size": 4}, r"W must have shape \[1, 16, 3\]"),
    ],
)
def test_invalid_operands_are_rejected(change: dict, message: str) -> None:
    rng = np.random.default_rng(10)
    arguments: dict = random_operands(rng, "LSTM", seq=3, batch=2, hidden=3)
    arguments["hidden_size"] = 3
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        lstm(**arguments)


@pytest.mark.parametrize("op", OPS)
def test_cases_with_weights_as_initializers(op: str) -> None:
    # The generator's other mode: W, R, B and P live in the model, not in the feeds.
    case = random_case(
        np.random.default_rng(11), op, attr_overrides={"layout": 1}, weights_as_initializers=True
    )
    assert "W" not in case.inputs
    assert {i.name for i in case.model.graph.initializer} >= {"W", "R"}
    assert_matches_onnxruntime(case)
