"""Numeric semantics of the ONNX ``LSTM``, ``GRU`` and ``RNN`` operators in numpy.

These kernels are the reference the rest of the compiler is checked against: the ``rnn``
dialect interpreter calls them, and every lower level must agree with them. They follow
the ONNX operator specification (opset 22) and, where the specification is silent, what
onnxruntime 1.31.1 does (see ``shared/reference/rnn-semantics.md``):

* ``clip`` bounds every gate pre-activation just before its activation (for LSTM that
  includes the peephole terms); it is never applied to the LSTM cell state ``C``.
* ``input_forget`` couples the gates as ``f = 1 - i``; the forget-gate weights are unused.
* Batch entry ``b`` only runs its first ``L_b = sequence_lens[b]`` steps: ``Y`` is zero
  past ``L_b`` and the final states come from the last step processed. A reverse direction
  starts at the entry's own last step ``L_b - 1``. An entry with ``L_b = 0`` reports zero
  final states (onnxruntime's behaviour), not its initial state.
* ``activation_alpha`` / ``activation_beta`` are consumed compactly, in activation order
  over all directions: only an activation that takes an alpha (beta) pops the next value.
  Missing values fall back to onnxruntime's defaults (``ACTIVATION_PARAMETERS`` of the
  ``rnn`` dialect); surplus values are ignored, as onnxruntime ignores them.

All arithmetic stays in the dtype of ``X`` (float32 normally). The time loop does one
recurrent matrix product per step for all directions and batch entries together; the
input projection of every step is one matrix product up front.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from rnnc.dialects import rnn as rnn_dialect

Array = np.ndarray
_Step = Callable[[Array, tuple[Array, ...]], tuple[Array, ...]]


def _sigmoid(x: Array) -> Array:
    # The tanh form is exact algebra and, unlike 1 / (1 + exp(-x)), cannot overflow (which
    # would raise RuntimeWarnings for large negative inputs).
    return 0.5 + 0.5 * np.tanh(0.5 * x)


def _make_function(name: str, a: float | None, b: float | None) -> Callable[[Array], Array]:
    """The elementwise function for a canonical name with resolved parameters."""
    # Parameters are Python floats, so under NumPy 2 promotion they never widen the dtype.
    if name == "Relu":
        return lambda x: np.maximum(x, 0)
    if name == "Tanh":
        return np.tanh
    if name == "Sigmoid":
        return _sigmoid
    if name == "Affine":
        return lambda x: a * x + b
    if name == "LeakyRelu":
        return lambda x: np.where(x >= 0, x, a * x)
    if name == "ThresholdedRelu":
        return lambda x: np.where(x > a, x, 0)
    if name == "ScaledTanh":
        return lambda x: a * np.tanh(b * x)
    if name == "HardSigmoid":
        return lambda x: np.clip(a * x + b, 0, 1)
    if name == "Elu":
        # expm1 of min(x, 0): the discarded positive branch cannot overflow.
        return lambda x: np.where(x >= 0, x, a * np.expm1(np.minimum(x, 0)))
    if name == "Softsign":
        return lambda x: x / (1 + np.abs(x))
    if name == "Softplus":
        # log(1 + exp(x)) without overflow for large x (onnxruntime's returns inf past 88).
        return lambda x: np.logaddexp(x, 0)
    raise AssertionError(name)  # unreachable: names are validated before this


@dataclass(frozen=True)
class Activation(rnn_dialect.ActivationFunction):
    """An ONNX RNN activation function (`rnn_dialect.ActivationFunction`: its name and
    resolved parameters) that applies itself to numpy arrays, e.g.
    ``Activation("LeakyRelu", 0.1)(x)``."""

    _fn: Callable[[Array], Array] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "_fn", _make_function(self.name, self.alpha, self.beta))

    def __call__(self, x: Array) -> Array:
        """Apply the function elementwise; the result has the dtype of ``x``."""
        return self._fn(x)

    def __reduce__(self) -> tuple:
        # Rebuild from the public fields: the cached function is a closure, not picklable.
        return (Activation, (self.name, self.alpha, self.beta))


def _num_directions(direction: str) -> int:
    if direction not in rnn_dialect.DIRECTIONS:
        raise ValueError(
            f"direction must be one of {', '.join(rnn_dialect.DIRECTIONS)}, got {direction!r}"
        )
    return 2 if direction == "bidirectional" else 1


def resolve_activations(
    cell: str,
    direction: str,
    names: Sequence[str] | None,
    alpha: Sequence[float] | None,
    beta: Sequence[float] | None,
) -> tuple[tuple[Activation, ...], ...]:
    """`rnn_dialect.resolve_activations` for the ONNX cell named `cell` (``"LSTM"``,
    ``"GRU"`` or ``"RNN"``, any case), as functions on arrays.

    Raises ValueError for an unknown cell, direction or function name, or a wrong number
    of names.
    """
    op = rnn_dialect.CELL_BY_ONNX_NAME.get(cell.upper())
    if op is None:
        raise ValueError(f"unknown RNN cell {cell!r}; expected LSTM, GRU or RNN")
    resolved = rnn_dialect.resolve_activations(op, direction, names, alpha, beta)
    return tuple(tuple(Activation(f.name, f.alpha, f.beta) for f in fs) for fs in resolved)


def _gate(acts: Sequence[Activation], clip: float | None) -> Callable[[Array], Array]:
    """``x -> act_d(clip(x[d]))`` over the leading direction axis of ``x``."""
    if all(a == acts[0] for a in acts):
        fn = acts[0]._fn  # the common case: one vectorised call for every direction
        if clip is None:
            return fn
        return lambda x: fn(np.clip(x, -clip, clip))

    def per_direction(x: Array) -> Array:
        if clip is not None:
            x = np.clip(x, -clip, clip)
        out = np.empty_like(x)
        for d, act in enumerate(acts):
            out[d] = act._fn(x[d])
        return out

    return per_direction


@dataclass
class _Problem:
    """Validated operands in layout 0, shared by the three cells."""

    x: Array  # [S, B, I]
    w: Array  # [nd, G*H, I]
    r: Array  # [nd, G*H, H]
    wb: Array  # [nd, G*H]
    rb: Array  # [nd, G*H]
    lens: Array | None  # [B] int64, None when every entry runs all S steps
    states: tuple[Array, ...]  # initial states, each [nd, B, H]
    reverse: tuple[bool, ...]  # per direction
    hidden_size: int
    layout: int

    @property
    def dtype(self) -> np.dtype:
        return self.x.dtype


def _check_shape(op: str, what: str, a: Array, expected: tuple[int, ...]) -> None:
    if a.shape != expected:
        raise ValueError(f"{op}: {what} must have shape {list(expected)}, got {list(a.shape)}")


def _prepare(
    cell: type[rnn_dialect.RecurrentOp],
    X: Array,
    W: Array,
    R: Array,
    *,
    B: Array | None,
    sequence_lens: Array | None,
    initial_states: Sequence[tuple[str, Array | None]],
    hidden_size: int,
    direction: str,
    layout: int,
    clip: float | None,
) -> _Problem:
    """Validate the operands of any of the three cells and bring them to layout 0."""
    op, n_gates = cell.ONNX_NAME, cell.gate_count()
    nd = _num_directions(direction)
    if layout not in (0, 1):
        raise ValueError(f"{op}: layout must be 0 or 1, got {layout!r}")
    if not isinstance(hidden_size, (int, np.integer)) or hidden_size <= 0:
        raise ValueError(f"{op}: hidden_size must be a positive integer, got {hidden_size!r}")
    if clip is not None and not clip > 0:
        raise ValueError(f"{op}: clip must be positive, got {clip!r}")
    X = np.asarray(X)
    if X.ndim != 3 or not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"{op}: X must be a 3-d floating-point array, got {X.dtype} {X.shape}")
    dtype = X.dtype
    if layout == 1:
        X = X.transpose(1, 0, 2)  # [B, S, I] -> [S, B, I]
    S, batch, n_in = X.shape
    H = int(hidden_size)
    GH = n_gates * H

    def operand(a: Array | None, what: str, shape: tuple[int, ...]) -> Array | None:
        if a is None:
            if what in ("W", "R"):
                raise ValueError(f"{op}: input {what} is required")
            return None
        a = np.asarray(a)
        _check_shape(op, what, a, shape)
        return a.astype(dtype, copy=False)

    W = operand(W, "W", (nd, GH, n_in))
    R = operand(R, "R", (nd, GH, H))
    bias = operand(B, "B", (nd, 2 * GH))
    if bias is None:
        bias = np.zeros((nd, 2 * GH), dtype)

    lens = None
    if sequence_lens is not None:
        lens = np.asarray(sequence_lens)
        _check_shape(op, "sequence_lens", lens, (batch,))
        if not np.issubdtype(lens.dtype, np.integer):
            raise ValueError(f"{op}: sequence_lens must be integers, got {lens.dtype}")
        if lens.size and (lens.min() < 0 or lens.max() > S):
            raise ValueError(f"{op}: sequence_lens must lie in [0, {S}], got {lens.tolist()}")
        lens = lens.astype(np.int64)
        if np.all(lens == S):
            lens = None  # every entry runs the full sequence: no masking needed

    state_shape = (nd, batch, H) if layout == 0 else (batch, nd, H)
    states = []
    for what, given in initial_states:
        state = operand(given, what, state_shape)
        if state is None:
            state = np.zeros((nd, batch, H), dtype)
        elif layout == 1:
            state = state.transpose(1, 0, 2)
        states.append(np.ascontiguousarray(state))

    reverse = (direction == "reverse",) if nd == 1 else (False, True)
    return _Problem(X, W, R, bias[:, :GH], bias[:, GH:], lens, tuple(states), reverse, H, layout)


def _time_index(p: _Problem) -> Array | None:
    """Per direction and batch entry, the time step processed at each loop iteration.

    Returns ``idx[k, d, b]`` (None when every direction runs forward). A reverse direction
    visits ``L_b - 1, ..., 0`` and then the padding steps in place; reversing a prefix is
    its own inverse, so the same index also maps outputs back to time order.
    """
    if not any(p.reverse):
        return None
    S, batch = p.x.shape[:2]
    k = np.arange(S)[:, None]
    lens = np.full(batch, S) if p.lens is None else p.lens
    backward = np.where(k < lens, lens - 1 - k, k)  # [S, B]
    forward = np.broadcast_to(k, (S, batch))
    return np.stack([backward if rev else forward for rev in p.reverse], axis=1)


def _gather_time(a: Array, idx: Array | None) -> Array:
    """``a[idx[k, d, b], d, b]`` for ``a`` of shape [S, nd, B, ...]."""
    if idx is None:
        return a
    nd, batch = idx.shape[1:]
    return a[idx, np.arange(nd)[:, None], np.arange(batch)]


def _project(p: _Problem, bias: Array, idx: Array | None) -> Array:
    """X·Wᵀ + bias for every step and direction at once, in processing order.

    Returns [S, nd, B, G*H], contiguous per step so the time loop reads whole blocks.
    """
    S, batch, n_in = p.x.shape
    xw = np.matmul(p.x.reshape(1, S * batch, n_in), p.w.transpose(0, 2, 1))  # [nd, S*B, GH]
    xw += bias[:, None, :]
    xw = xw.reshape(-1, S, batch, xw.shape[-1]).transpose(1, 0, 2, 3)
    return np.ascontiguousarray(_gather_time(xw, idx))


def _scan(
    p: _Problem, step: _Step, xw: Array, idx: Array | None
) -> tuple[Array, tuple[Array, ...]]:
    """Run ``step`` over the sequence; return Y [S, nd, B, H] in time order and the finals.

    ``step(xw_k, states) -> new_states`` advances every direction and batch entry by one
    step; the first state is the hidden state that goes to Y. It must return new arrays.
    """
    S, nd, batch = xw.shape[:3]
    states = p.states
    Y = np.zeros((S, nd, batch, p.hidden_size), p.dtype)
    if p.lens is None:
        for k in range(S):
            states = step(xw[k], states)
            Y[k] = states[0]
    else:
        # Until the shortest sequence ends nothing needs masking; after that, finished
        # entries keep their state and get zero output; past the longest nothing runs.
        n_full, n_run = int(p.lens.min()), int(p.lens.max())
        valid = (np.arange(S)[:, None] < p.lens)[:, None, :, None]  # [S, 1, B, 1]
        for k in range(n_run):
            new = step(xw[k], states)
            if k < n_full:
                states = new
                Y[k] = new[0]
            else:
                m = valid[k]
                states = tuple(np.where(m, n, s) for n, s in zip(new, states, strict=True))
                np.copyto(Y[k], new[0], where=m)
        if n_full == 0:
            # onnxruntime reports zero final states for an empty sequence.
            ran = (p.lens > 0)[None, :, None]
            states = tuple(np.where(ran, s, 0) for s in states)
    return _gather_time(Y, idx), states


def _finish(p: _Problem, Y: Array, finals: tuple[Array, ...]) -> tuple[Array, ...]:
    """Outputs in the caller's layout: (Y, Y_h[, Y_c])."""
    if p.layout == 1:
        Y = Y.transpose(2, 0, 1, 3)  # [S, nd, B, H] -> [B, S, nd, H]
        finals = tuple(f.transpose(1, 0, 2) for f in finals)  # [nd, B, H] -> [B, nd, H]
    return tuple(np.ascontiguousarray(a) for a in (Y, *finals))


def lstm(  # noqa: PLR0917 - positional operands in ONNX input order
    X: Array,
    W: Array,
    R: Array,
    B: Array | None = None,
    sequence_lens: Array | None = None,
    initial_h: Array | None = None,
    initial_c: Array | None = None,
    P: Array | None = None,
    *,
    hidden_size: int,
    direction: str = "forward",
    activations: Sequence[str] | None = None,
    activation_alpha: Sequence[float] | None = None,
    activation_beta: Sequence[float] | None = None,
    clip: float | None = None,
    input_forget: int = 0,
    layout: int = 0,
) -> tuple[Array, Array, Array]:
    """ONNX ``LSTM``: returns ``(Y, Y_h, Y_c)``.

    Operands and attributes are those of the ONNX operator (gate order i, o, f, c; peephole
    order i, o, f); absent optional inputs are None. With ``layout=0`` X is [S, B, I], Y is
    [S, nd, B, H] and the states are [nd, B, H]; ``layout=1`` swaps the batch and sequence
    axes (X [B, S, I], Y [B, S, nd, H], states [B, nd, H]).
    """
    p = _prepare(
        rnn_dialect.LSTMOp,
        X,
        W,
        R,
        B=B,
        sequence_lens=sequence_lens,
        initial_states=(("initial_h", initial_h), ("initial_c", initial_c)),
        hidden_size=hidden_size,
        direction=direction,
        layout=layout,
        clip=clip,
    )
    H = p.hidden_size
    acts = resolve_activations("LSTM", direction, activations, activation_alpha, activation_beta)
    f_gate, g_gate = _gate([a[0] for a in acts], clip), _gate([a[1] for a in acts], clip)
    h_act = _gate([a[2] for a in acts], None)  # clip acts on gates only, never on C
    # A transposed view, not a copy: BLAS takes it as is, and copying a large R costs more
    # than the whole time loop.
    rt = p.r.transpose(0, 2, 1)  # [nd, H, 4H]
    peep = None
    if P is not None:
        P = np.asarray(P)
        _check_shape("LSTM", "P", P, (len(p.reverse), len(rnn_dialect.LSTMOp.PEEPHOLE_GATES) * H))
        # [nd, 1, H] each, to broadcast over the batch.
        peep = [P[:, None, j * H : (j + 1) * H].astype(p.dtype) for j in range(3)]
    coupled = bool(input_forget)

    def step(xw: Array, states: tuple[Array, ...]) -> tuple[Array, ...]:
        h, c = states
        pre = xw + h @ rt  # [nd, B, 4H] pre-activations, order i, o, f, c
        if peep is None:
            # o's pre-activation is already final, so f runs once over i, o, f together.
            iof = f_gate(pre[..., : 3 * H])
            i, o, f = iof[..., :H], iof[..., H : 2 * H], iof[..., 2 * H :]
        else:
            i = f_gate(pre[..., :H] + peep[0] * c)
            f = f_gate(pre[..., 2 * H : 3 * H] + peep[2] * c)
        if coupled:
            f = 1 - i
        c = f * c + i * g_gate(pre[..., 3 * H :])
        if peep is not None:
            o = f_gate(pre[..., H : 2 * H] + peep[1] * c)  # the o peephole sees the new C
        return o * h_act(c), c

    idx = _time_index(p)
    Y, finals = _scan(p, step, _project(p, p.wb + p.rb, idx), idx)
    Y, Y_h, Y_c = _finish(p, Y, finals)
    return Y, Y_h, Y_c


def gru(  # noqa: PLR0917 - positional operands in ONNX input order
    X: Array,
    W: Array,
    R: Array,
    B: Array | None = None,
    sequence_lens: Array | None = None,
    initial_h: Array | None = None,
    *,
    hidden_size: int,
    direction: str = "forward",
    activations: Sequence[str] | None = None,
    activation_alpha: Sequence[float] | None = None,
    activation_beta: Sequence[float] | None = None,
    clip: float | None = None,
    linear_before_reset: int = 0,
    layout: int = 0,
) -> tuple[Array, Array]:
    """ONNX ``GRU``: returns ``(Y, Y_h)``.

    Gate order z, r, h. ``linear_before_reset=0`` computes the candidate as
    ``g(X·Whᵀ + (r∘H)·Rhᵀ + Rbh + Wbh)``, any other value as
    ``g(X·Whᵀ + r∘(H·Rhᵀ + Rbh) + Wbh)`` (the PyTorch/cuDNN form). Shapes and layouts as
    for :func:`lstm`.
    """
    p = _prepare(
        rnn_dialect.GRUOp,
        X,
        W,
        R,
        B=B,
        sequence_lens=sequence_lens,
        initial_states=(("initial_h", initial_h),),
        hidden_size=hidden_size,
        direction=direction,
        layout=layout,
        clip=clip,
    )
    H = p.hidden_size
    acts = resolve_activations("GRU", direction, activations, activation_alpha, activation_beta)
    f_gate, g_gate = _gate([a[0] for a in acts], clip), _gate([a[1] for a in acts], clip)
    rt = p.r.transpose(0, 2, 1)  # [nd, H, 3H], a view as in lstm()
    rt_zr, rt_h = rt[..., : 2 * H], rt[..., 2 * H :]
    before_reset = bool(linear_before_reset)
    bias = p.wb + p.rb
    if before_reset:
        # Rbh sits inside r∘(...), so it cannot be folded into the input projection.
        rb_h = p.rb[:, None, 2 * H :]
        bias[:, 2 * H :] = p.wb[:, 2 * H :]

    def step(xw: Array, states: tuple[Array, ...]) -> tuple[Array, ...]:
        (h,) = states
        if before_reset:
            hr = h @ rt  # one product serves all three gates
            zr = f_gate(xw[..., : 2 * H] + hr[..., : 2 * H])
            r = zr[..., H:]
            cand = g_gate(xw[..., 2 * H :] + r * (hr[..., 2 * H :] + rb_h))
        else:
            zr = f_gate(xw[..., : 2 * H] + h @ rt_zr)
            r = zr[..., H:]
            cand = g_gate(xw[..., 2 * H :] + (r * h) @ rt_h)
        z = zr[..., :H]
        return ((1 - z) * cand + z * h,)

    idx = _time_index(p)
    Y, finals = _scan(p, step, _project(p, bias, idx), idx)
    Y, Y_h = _finish(p, Y, finals)
    return Y, Y_h


def rnn(  # noqa: PLR0917 - positional operands in ONNX input order
    X: Array,
    W: Array,
    R: Array,
    B: Array | None = None,
    sequence_lens: Array | None = None,
    initial_h: Array | None = None,
    *,
    hidden_size: int,
    direction: str = "forward",
    activations: Sequence[str] | None = None,
    activation_alpha: Sequence[float] | None = None,
    activation_beta: Sequence[float] | None = None,
    clip: float | None = None,
    layout: int = 0,
) -> tuple[Array, Array]:
    """ONNX ``RNN``: ``H_t = f(X_t·Wᵀ + H_{t-1}·Rᵀ + Wb + Rb)``; returns ``(Y, Y_h)``.

    Shapes and layouts as for :func:`lstm`.
    """
    p = _prepare(
        rnn_dialect.RNNOp,
        X,
        W,
        R,
        B=B,
        sequence_lens=sequence_lens,
        initial_states=(("initial_h", initial_h),),
        hidden_size=hidden_size,
        direction=direction,
        layout=layout,
        clip=clip,
    )
    acts = resolve_activations("RNN", direction, activations, activation_alpha, activation_beta)
    f_gate = _gate([a[0] for a in acts], clip)
    rt = p.r.transpose(0, 2, 1)  # [nd, H, H], a view as in lstm()

    def step(xw: Array, states: tuple[Array, ...]) -> tuple[Array, ...]:
        return (f_gate(xw + states[0] @ rt),)

    idx = _time_index(p)
    Y, finals = _scan(p, step, _project(p, p.wb + p.rb, idx), idx)
    Y, Y_h = _finish(p, Y, finals)
    return Y, Y_h
