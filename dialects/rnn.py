"""The `rnn` dialect: recurrent layers at the tensor level, with ONNX operator semantics.

`rnn.lstm`, `rnn.gru` and `rnn.rnn` mirror the ONNX LSTM/GRU/RNN operators (opset 22)
exactly: the same operands in the same order, the same attributes with the same defaults,
and the same results. Results are always all present; unused ones are simply not read.
Shapes are static. See ../shared/reference/rnn-semantics.md for the semantics.

Around the cells sit a few data-movement ops (`rnn.weight`, `rnn.transpose`,
`rnn.reshape`, `rnn.concat`, `rnn.slice`) so that graphs exported by frameworks (stacked
and bidirectional layers, batch-first layouts) can be expressed without leaving the level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from xdsl.dialects.builtin import (
    I64,
    ArrayAttr,
    DenseArrayBase,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    StringAttr,
    TensorType,
    i64,
)
from xdsl.ir import Attribute, Dialect, Operation, SSAValue
from xdsl.irdl import (
    AttrSizedOperandSegments,
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import Parser, UnresolvedOperand
from xdsl.printer import Printer
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

DIRECTIONS = ("forward", "reverse", "bidirectional")

#: The ONNX RNN activation functions: name -> (default alpha, default beta), None where the
#: function takes no such parameter. The defaults are onnxruntime's: they match the
#: standalone ONNX ops where one exists, except ThresholdedRelu (ONNX op default 1.0,
#: onnxruntime uses 0.0 inside RNNs); Affine and ScaledTanh have no standalone op and
#: default to 0.0 (so they output zero).
ACTIVATION_PARAMETERS: dict[str, tuple[float | None, float | None]] = {
    "Relu": (None, None),
    "Tanh": (None, None),
    "Sigmoid": (None, None),
    "Affine": (0.0, 0.0),
    "LeakyRelu": (0.01, None),
    "ThresholdedRelu": (0.0, None),
    "ScaledTanh": (0.0, 0.0),
    "HardSigmoid": (0.2, 0.5),
    "Elu": (1.0, None),
    "Softsign": (None, None),
    "Softplus": (None, None),
}

ACTIVATION_NAMES: frozenset[str] = frozenset(ACTIVATION_PARAMETERS)

# Names are matched case-insensitively, as onnxruntime's LSTM and GRU do.
_CANONICAL_ACTIVATIONS: dict[str, str] = {name.lower(): name for name in ACTIVATION_PARAMETERS}


def canonical_activation(name: str) -> str | None:
    """The canonical spelling of an activation name (`tanh` -> `Tanh`), None if unknown."""
    return _CANONICAL_ACTIVATIONS.get(name.lower())


@dataclass(frozen=True)
class ActivationFunction:
    """One resolved ONNX RNN activation function, e.g. `ActivationFunction("LeakyRelu", 0.1)`.

    `alpha`/`beta` are None for functions that do not take them; for functions that do,
    None means onnxruntime's default. `name` is matched case-insensitively and stored in
    its canonical spelling. Raises ValueError for an unknown name or a parameter the
    function does not take.
    """

    name: str
    alpha: float | None = None
    beta: float | None = None

    def __post_init__(self) -> None:
        canonical = canonical_activation(self.name) if isinstance(self.name, str) else None
        if canonical is None:
            raise ValueError(
                f"unknown activation function {self.name!r}; "
                f"expected one of {', '.join(sorted(ACTIVATION_NAMES))}"
            )
        default_alpha, default_beta = ACTIVATION_PARAMETERS[canonical]
        # Frozen dataclass: normalise the fields in place once, at construction.
        object.__setattr__(self, "name", canonical)
        object.__setattr__(self, "alpha", _parameter(canonical, "alpha", self.alpha, default_alpha))
        object.__setattr__(self, "beta", _parameter(canonical, "beta", self.beta, default_beta))

    @property
    def takes_alpha(self) -> bool:
        """Whether this function has an alpha parameter."""
        return ACTIVATION_PARAMETERS[self.name][0] is not None

    @property
    def takes_beta(self) -> bool:
        """Whether this function has a beta parameter."""
        return ACTIVATION_PARAMETERS[self.name][1] is not None


def _parameter(name: str, which: str, value: float | None, default: float | None) -> float | None:
    if default is None:
        if value is not None:
            raise ValueError(f"activation {name} takes no {which} (got {value!r})")
        return None
    # float(): a NumPy float64 scalar would otherwise promote float32 arrays to float64.
    return float(default if value is None else value)


def resolve_activations(
    cell: type[RecurrentOp],
    direction: str,
    names: Sequence[str] | None,
    alpha: Sequence[float] | None,
    beta: Sequence[float] | None,
) -> tuple[tuple[ActivationFunction, ...], ...]:
    """Resolve ONNX `activations`/`activation_alpha`/`activation_beta` attributes of a cell.

    Returns one tuple of functions per direction (forward first), `cell.DEFAULT_ACTIVATIONS`
    long (LSTM: f, g, h; GRU: f, g; RNN: f). Absent or empty `names` give the ONNX
    defaults. Alpha and beta values are consumed compactly and in order across all
    directions, as onnxruntime does: only a function that takes an alpha (beta) pops the
    next value; when the list runs out the default applies, and surplus values are
    ignored. A forward or reverse RNN also accepts two names (the schema default is
    `["Tanh", "Tanh"]`) and, like onnxruntime, uses the first.

    Raises ValueError for an unknown direction or function name, or a wrong number of names.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    nd = 2 if direction == "bidirectional" else 1
    per_direction = cell.activations_per_direction()
    names = list(names) if names else list(cell.DEFAULT_ACTIVATIONS * nd)
    if per_direction == 1 and nd == 1 and len(names) == 2:
        names = names[:1]
    if len(names) != per_direction * nd:
        raise ValueError(
            f"{cell.ONNX_NAME} with direction={direction!r} needs {per_direction * nd} "
            f"activations ({per_direction} per direction), got {len(names)}: {names}"
        )
    alphas = iter(alpha or ())
    betas = iter(beta or ())
    resolved = []
    for name in names:
        probe = ActivationFunction(name)  # validates the name, tells which parameters it takes
        a = next(alphas, None) if probe.takes_alpha else None
        b = next(betas, None) if probe.takes_beta else None
        resolved.append(ActivationFunction(probe.name, a, b))
    return tuple(tuple(resolved[d * per_direction : (d + 1) * per_direction]) for d in range(nd))


def shape_str(shape: Sequence[int]) -> str:
    """`[2, 3]` -> `2x3`, the way MLIR spells a tensor shape."""
    return "x".join(str(d) for d in shape)


def _static_shape(op: Operation, name: str, value: SSAValue) -> tuple[int, ...]:
    ty = value.type
    if not isinstance(ty, TensorType):
        raise VerifyException(f"{op.name}: operand '{name}' must be a tensor, got {ty}")
    shape = tuple(ty.get_shape())
    if any(d < 0 for d in shape):
        raise VerifyException(
            f"{op.name}: operand '{name}' must have a static shape, got {shape_str(shape)}"
        )
    return shape


def _expect_shape(
    op: Operation, what: str, found: Sequence[int], expected: Sequence[int], meaning: str
) -> None:
    if tuple(found) != tuple(expected):
        raise VerifyException(
            f"{op.name}: {what} has shape {shape_str(found)}, expected "
            f"{shape_str(expected)} ({meaning})"
        )


class RecurrentOp(IRDLOperation):
    """Common operands, properties and verification of the three recurrent cells.

    The facts about a cell are class-level, so that every part of the compiler reads them
    from here: `ONNX_NAME` (the ONNX operator), `GATE_NAMES` (the gate blocks stacked in W,
    R and B, in ONNX order) and `DEFAULT_ACTIVATIONS` (the ONNX default activation
    functions of one direction).
    """

    ONNX_NAME: ClassVar[str]
    GATE_NAMES: ClassVar[tuple[str, ...]]
    DEFAULT_ACTIVATIONS: ClassVar[tuple[str, ...]]

    # Operands X, W, R, B, sequence_lens, initial_h and results Y, Y_h are declared by each
    # cell, in ONNX order: IRDL puts a subclass's definitions before its base class's.

    hidden_size = prop_def(IntegerAttr[I64])
    direction = prop_def(StringAttr, default_value=StringAttr("forward"))
    activations = opt_prop_def(ArrayAttr[StringAttr])
    activation_alpha = opt_prop_def(ArrayAttr[FloatAttr])
    activation_beta = opt_prop_def(ArrayAttr[FloatAttr])
    clip = opt_prop_def(FloatAttr)
    layout = prop_def(IntegerAttr[I64], default_value=IntegerAttr(0, i64))

    irdl_options = (AttrSizedOperandSegments(as_property=True),)
    traits = traits_def(Pure())

    # ---- typed views used by the interpreter and the passes ------------------------------

    @property
    def hidden(self) -> int:
        return self.hidden_size.value.data

    @property
    def direction_name(self) -> str:
        return self.direction.data

    @property
    def num_directions(self) -> int:
        return 2 if self.direction.data == "bidirectional" else 1

    @classmethod
    def gate_count(cls) -> int:
        """How many gate blocks W, R and B stack (G: 4 for LSTM, 3 for GRU, 1 for RNN)."""
        return len(cls.GATE_NAMES)

    @classmethod
    def gate_index(cls, gate: str) -> int:
        """The position of gate `gate` (an ONNX gate name such as "f") in W, R and B."""
        return cls.GATE_NAMES.index(gate)

    @classmethod
    def activations_per_direction(cls) -> int:
        return len(cls.DEFAULT_ACTIVATIONS)

    @classmethod
    def cell_properties(cls) -> tuple[str, ...]:
        """The properties only this cell has (LSTM's input_forget, GRU's
        linear_before_reset), each an integer flag."""
        common = {*vars(RecurrentOp), "operandSegmentSizes"}
        return tuple(n for n in cls.get_irdl_definition().properties if n not in common)

    @property
    def gates(self) -> int:
        return self.gate_count()

    def resolved_activations(self) -> tuple[tuple[ActivationFunction, ...], ...]:
        """The activation functions of each direction, defaults and parameters resolved."""
        return resolve_activations(
            type(self), self.direction_name, self.activation_names(), self.alphas(), self.betas()
        )

    @property
    def batch_first(self) -> bool:
        return self.layout.value.data == 1

    def activation_names(self) -> tuple[str, ...] | None:
        return None if self.activations is None else tuple(a.data for a in self.activations)

    def alphas(self) -> tuple[float, ...] | None:
        return _floats(self.activation_alpha)

    def betas(self) -> tuple[float, ...] | None:
        return _floats(self.activation_beta)

    def clip_value(self) -> float | None:
        return None if self.clip is None else self.clip.value.data

    @classmethod
    def operand_names(cls) -> tuple[str, ...]:
        """Every operand's ONNX name, in ONNX input order."""
        return ("X", "W", "R", *(field for _, field in cls.optional_operand_keywords()))

    @classmethod
    def state_operand_names(cls) -> tuple[str, ...]:
        """The initial states, each [num_directions, batch, hidden_size] (layout 0)."""
        return ("initial_h",)

    def sizes(self) -> tuple[int, int, int, int]:
        """(seq_length, batch, input_size, num_directions) read off X and the layout."""
        x = _static_shape(self, "X", self.X)
        if len(x) != 3:
            raise VerifyException(
                f"{self.name}: operand 'X' has rank {len(x)}, expected rank 3 "
                f"([seq_length, batch, input_size] for layout {self.layout.value.data})"
            )
        seq, batch = (x[1], x[0]) if self.batch_first else (x[0], x[1])
        return seq, batch, x[2], self.num_directions

    def state_shape(self) -> tuple[int, int, int]:
        seq, batch, _, nd = self.sizes()
        del seq
        return (batch, nd, self.hidden) if self.batch_first else (nd, batch, self.hidden)

    def output_shape(self) -> tuple[int, int, int, int]:
        seq, batch, _, nd = self.sizes()
        if self.batch_first:
            return (batch, seq, nd, self.hidden)
        return (seq, nd, batch, self.hidden)

    # ---- custom syntax ----------------------------------------------------------------------
    # %y, %yh = rnn.gru %X, %W, %R bias %B initial_h %h0 {hidden_size = 8 : i64}
    #     : (types of the operands) -> (types of the results)
    # Optional operands are introduced by their ONNX name; properties at their default
    # value are left out.

    @classmethod
    def optional_operand_keywords(cls) -> tuple[tuple[str, str], ...]:
        """(keyword in the custom syntax, operand field) for each optional operand."""
        return (
            ("bias", "B"),
            ("sequence_lens", "sequence_lens"),
            ("initial_h", "initial_h"),
        )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_list((self.X, self.W, self.R), printer.print_operand)
        for keyword, field in self.optional_operand_keywords():
            value = getattr(self, field)
            if value is not None:
                printer.print_string(f" {keyword} ")
                printer.print_operand(value)
        shown = {
            name: attr
            for name, attr in self.properties.items()
            if name != "operandSegmentSizes" and attr != _default_property(type(self), name)
        }
        printer.print_op_attributes(shown | dict(self.attributes))
        printer.print_string(" : ")
        printer.print_function_type(self.operand_types, self.result_types)

    @classmethod
    def parse(cls, parser: Parser) -> RecurrentOp:
        required = parser.parse_comma_separated_list(
            parser.Delimiter.NONE, parser.parse_unresolved_operand
        )
        if len(required) != 3:
            parser.raise_error(f"{cls.name} expects the operands X, W, R before the optional ones")
        present: dict[str, UnresolvedOperand] = {}
        keywords = dict(cls.optional_operand_keywords())
        while (keyword := parser.parse_optional_keyword_in(keywords)) is not None:
            present[keywords[keyword]] = parser.parse_unresolved_operand()
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        function_type = parser.parse_function_type()
        unresolved = [*required, *present.values()]
        if len(function_type.inputs) != len(unresolved):
            parser.raise_error(
                f"{cls.name}: {len(unresolved)} operands but {len(function_type.inputs)} "
                "operand types"
            )
        values = [
            parser.resolve_operand(operand, ty)
            for operand, ty in zip(unresolved, function_type.inputs.data, strict=True)
        ]
        by_field = dict(zip(present, values[3:], strict=True))
        operands = [[v] for v in values[:3]] + [
            [by_field[field]] if field in by_field else []
            for _, field in cls.optional_operand_keywords()
        ]
        property_names = set(cls.get_irdl_definition().properties)
        return cls.build(
            operands=operands,
            result_types=list(function_type.outputs.data),
            properties={k: v for k, v in attributes.items() if k in property_names},
            attributes={k: v for k, v in attributes.items() if k not in property_names},
        )

    # ---- verification ---------------------------------------------------------------------

    def verify_(self) -> None:
        if self.hidden < 1:
            raise VerifyException(f"{self.name}: hidden_size must be >= 1, got {self.hidden}")
        if self.direction.data not in DIRECTIONS:
            raise VerifyException(
                f"{self.name}: direction must be one of {', '.join(DIRECTIONS)}, "
                f'got "{self.direction.data}"'
            )
        if self.layout.value.data not in (0, 1):
            raise VerifyException(
                f"{self.name}: layout must be 0 or 1, got {self.layout.value.data}"
            )
        clip = self.clip_value()
        if clip is not None and not clip > 0:  # also refuses NaN; +inf clips nothing
            raise VerifyException(f"{self.name}: clip must be a positive number, got {clip}")
        if self.sizes()[0] < 1:
            raise VerifyException(
                f"{self.name}: the sequence length (the time dimension of X) must be at "
                "least 1, got 0"
            )
        self._verify_activations()
        self._verify_operand_shapes()
        self._verify_result_shapes()

    def _verify_activations(self) -> None:
        names = self.activation_names()
        if names is None:
            return
        per_direction = self.activations_per_direction()
        expected = per_direction * self.num_directions
        if len(names) != expected:
            raise VerifyException(
                f"{self.name}: activations has {len(names)} entries, expected {expected} "
                f"({per_direction} per direction, {self.num_directions} direction(s))"
            )
        for name in names:
            if name not in ACTIVATION_NAMES:
                raise VerifyException(
                    f'{self.name}: unknown activation "{name}" (expected one of '
                    f"{', '.join(sorted(ACTIVATION_NAMES))})"
                )

    def _verify_operand_shapes(self) -> None:
        _, batch, inputs, nd = self.sizes()
        gh = self.gates * self.hidden
        self._expect_operand(
            "W", self.W, (nd, gh, inputs), "[num_directions, G*hidden_size, input_size]"
        )
        self._expect_operand(
            "R", self.R, (nd, gh, self.hidden), "[num_directions, G*hidden_size, hidden_size]"
        )
        if self.B is not None:
            self._expect_operand("B", self.B, (nd, 2 * gh), "[num_directions, 2*G*hidden_size]")
        if self.sequence_lens is not None:
            self._expect_operand("sequence_lens", self.sequence_lens, (batch,), "[batch]")
            elem = self.sequence_lens.type.get_element_type()  # type: ignore[union-attr]
            if not (isinstance(elem, IntegerType) and elem.width.data == 32):
                raise VerifyException(
                    f"{self.name}: operand 'sequence_lens' must have element type i32, got {elem}"
                )
        for name in self.state_operand_names():
            value = getattr(self, name)
            if value is not None:
                self._expect_operand(name, value, self.state_shape(), self._state_meaning())
        self._verify_extra_operands()

    def _verify_extra_operands(self) -> None:
        """Hook for operands only one cell has (LSTM's peepholes)."""

    def _state_meaning(self) -> str:
        if self.batch_first:
            return "[batch, num_directions, hidden_size]"
        return "[num_directions, batch, hidden_size]"

    def _expect_operand(
        self, name: str, value: SSAValue, expected: Sequence[int], meaning: str
    ) -> None:
        _expect_shape(
            self, f"operand '{name}'", _static_shape(self, name, value), expected, meaning
        )

    def _verify_result_shapes(self) -> None:
        y_meaning = (
            "[batch, seq_length, num_directions, hidden_size]"
            if self.batch_first
            else "[seq_length, num_directions, batch, hidden_size]"
        )
        self._expect_result("Y", self.Y, self.output_shape(), y_meaning)
        for name, value in self.state_results():
            self._expect_result(name, value, self.state_shape(), self._state_meaning())
        element = self.X.type.get_element_type()  # type: ignore[union-attr]
        for result in self.results:
            result_element = result.type.get_element_type()  # type: ignore[union-attr]
            if result_element != element:
                raise VerifyException(
                    f"{self.name}: result element type {result_element} differs from "
                    f"the element type {element} of X"
                )

    def state_results(self) -> tuple[tuple[str, SSAValue], ...]:
        return (("Y_h", self.Y_h),)

    def _expect_result(
        self, name: str, value: SSAValue, expected: Sequence[int], meaning: str
    ) -> None:
        if not isinstance(value.type, TensorType):
            raise VerifyException(f"{self.name}: result '{name}' must be a tensor")
        _expect_shape(self, f"result '{name}'", value.type.get_shape(), expected, meaning)


def _default_property(op_type: type[IRDLOperation], name: str) -> Attribute | None:
    definition = op_type.get_irdl_definition().properties.get(name)
    return None if definition is None else definition.default_value


def _floats(attr: ArrayAttr[FloatAttr] | None) -> tuple[float, ...] | None:
    return None if attr is None else tuple(a.value.data for a in attr)


@irdl_op_definition
class LSTMOp(RecurrentOp):
    """An ONNX LSTM layer: gates i, o, f, c in W, R and B; optional peepholes P (i, o, f).

    Results are Y (every hidden state), Y_h (last hidden state) and Y_c (last cell state).

        %y, %yh, %yc = rnn.lstm %x, %w, %r bias %b {hidden_size = 8 : i64}
            : (tensor<5x2x4xf32>, tensor<1x32x4xf32>, tensor<1x32x8xf32>, tensor<1x64xf32>)
            -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>)
    """

    name = "rnn.lstm"
    ONNX_NAME: ClassVar[str] = "LSTM"
    GATE_NAMES: ClassVar[tuple[str, ...]] = ("i", "o", "f", "c")
    DEFAULT_ACTIVATIONS: ClassVar[tuple[str, ...]] = ("Sigmoid", "Tanh", "Tanh")
    #: The gates with a peephole, in the order of P.
    PEEPHOLE_GATES: ClassVar[tuple[str, ...]] = ("i", "o", "f")

    X = operand_def(TensorType)
    W = operand_def(TensorType)
    R = operand_def(TensorType)
    B = opt_operand_def(TensorType)
    sequence_lens = opt_operand_def(TensorType)
    initial_h = opt_operand_def(TensorType)
    initial_c = opt_operand_def(TensorType)
    P = opt_operand_def(TensorType)

    Y = result_def(TensorType)
    Y_h = result_def(TensorType)
    Y_c = result_def(TensorType)

    input_forget = prop_def(IntegerAttr[I64], default_value=IntegerAttr(0, i64))

    @classmethod
    def state_operand_names(cls) -> tuple[str, ...]:
        return ("initial_h", "initial_c")

    @classmethod
    def optional_operand_keywords(cls) -> tuple[tuple[str, str], ...]:
        return (
            *super().optional_operand_keywords(),
            ("initial_c", "initial_c"),
            ("peepholes", "P"),
        )

    def state_results(self) -> tuple[tuple[str, SSAValue], ...]:
        return (("Y_h", self.Y_h), ("Y_c", self.Y_c))

    def _verify_extra_operands(self) -> None:
        if self.input_forget.value.data not in (0, 1):
            raise VerifyException(
                f"rnn.lstm: input_forget must be 0 or 1, got {self.input_forget.value.data}"
            )
        if self.P is not None:
            self._expect_operand(
                "P",
                self.P,
                (self.num_directions, len(self.PEEPHOLE_GATES) * self.hidden),
                f"[num_directions, {len(self.PEEPHOLE_GATES)}*hidden_size]",
            )


@irdl_op_definition
class GRUOp(RecurrentOp):
    """An ONNX GRU layer: gates z, r, h in W, R and B.

    `linear_before_reset = 1` is the cuDNN/PyTorch variant that applies the reset gate
    after the recurrent matrix product. Results are Y and Y_h.

        %y, %yh = rnn.gru %x, %w, %r {hidden_size = 8 : i64, linear_before_reset = 1 : i64}
            : (tensor<5x2x4xf32>, tensor<1x24x4xf32>, tensor<1x24x8xf32>)
            -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>)
    """

    name = "rnn.gru"
    ONNX_NAME: ClassVar[str] = "GRU"
    GATE_NAMES: ClassVar[tuple[str, ...]] = ("z", "r", "h")
    DEFAULT_ACTIVATIONS: ClassVar[tuple[str, ...]] = ("Sigmoid", "Tanh")

    X = operand_def(TensorType)
    W = operand_def(TensorType)
    R = operand_def(TensorType)
    B = opt_operand_def(TensorType)
    sequence_lens = opt_operand_def(TensorType)
    initial_h = opt_operand_def(TensorType)

    Y = result_def(TensorType)
    Y_h = result_def(TensorType)

    linear_before_reset = prop_def(IntegerAttr[I64], default_value=IntegerAttr(0, i64))

    def _verify_extra_operands(self) -> None:
        if self.linear_before_reset.value.data not in (0, 1):
            raise VerifyException(
                "rnn.gru: linear_before_reset must be 0 or 1, got "
                f"{self.linear_before_reset.value.data}"
            )


@irdl_op_definition
class RNNOp(RecurrentOp):
    """An ONNX vanilla RNN layer: H_t = f(X_t Wᵀ + H_{t-1} Rᵀ + Wb + Rb).

    %y, %yh = rnn.rnn %x, %w, %r {hidden_size = 8 : i64}
        : (tensor<5x2x4xf32>, tensor<1x8x4xf32>, tensor<1x8x8xf32>)
        -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>)
    """

    name = "rnn.rnn"
    ONNX_NAME: ClassVar[str] = "RNN"
    GATE_NAMES: ClassVar[tuple[str, ...]] = ("i",)
    DEFAULT_ACTIVATIONS: ClassVar[tuple[str, ...]] = ("Tanh",)

    X = operand_def(TensorType)
    W = operand_def(TensorType)
    R = operand_def(TensorType)
    B = opt_operand_def(TensorType)
    sequence_lens = opt_operand_def(TensorType)
    initial_h = opt_operand_def(TensorType)

    Y = result_def(TensorType)
    Y_h = result_def(TensorType)


@irdl_op_definition
class WeightOp(IRDLOperation):
    """A named constant tensor stored outside the IR text, in the `.npz` file named by the
    module attribute `rnn.weights` (a path relative to the model file).

        builtin.module attributes {rnn.weights = "model.npz"} {
          %w = rnn.weight "W" : tensor<1x32x4xf32>
    """

    name = "rnn.weight"

    key = prop_def(StringAttr)

    irdl_options = (ParsePropInAttrDict(),)
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = "$key attr-dict `:` type($result)"

    def __init__(self, key: str, result_type: Attribute):
        super().__init__(properties={"key": StringAttr(key)}, result_types=[result_type])


def _element_count(shape: Sequence[int]) -> int:
    count = 1
    for d in shape:
        count *= d
    return count


@irdl_op_definition
class TransposeOp(IRDLOperation):
    """Permutes the axes of a tensor: result axis i is input axis perm[i] (ONNX Transpose).

    %t = rnn.transpose %y {perm = array<i64: 0, 2, 1, 3>}
        : tensor<5x2x3x8xf32> -> tensor<5x3x2x8xf32>
    """

    name = "rnn.transpose"

    input = operand_def(TensorType)
    result = result_def(TensorType)
    perm = prop_def(DenseArrayBase)

    irdl_options = (ParsePropInAttrDict(),)

    traits = traits_def(Pure())
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"

    def permutation(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.perm.get_values())

    def verify_(self) -> None:
        shape = _static_shape(self, "input", self.input)
        perm = self.permutation()
        if sorted(perm) != list(range(len(shape))):
            raise VerifyException(
                f"rnn.transpose: perm {list(perm)} is not a permutation of the "
                f"{len(shape)} axes of the input"
            )
        expected = tuple(shape[p] for p in perm)
        found = self.result.type.get_shape()  # type: ignore[union-attr]
        _expect_shape(self, "the result", found, expected, f"the input permuted by {list(perm)}")


@irdl_op_definition
class ReshapeOp(IRDLOperation):
    """Reinterprets a tensor with another static shape of the same element count, in
    row-major order (ONNX Reshape, Squeeze, Unsqueeze, Flatten).

        %r = rnn.reshape %y : tensor<5x1x2x8xf32> -> tensor<5x2x8xf32>
    """

    name = "rnn.reshape"

    input = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"

    def verify_(self) -> None:
        found = _element_count(_static_shape(self, "input", self.input))
        wanted = _element_count(_static_shape(self, "result", self.result))
        if found != wanted:
            raise VerifyException(
                f"rnn.reshape: cannot reshape {found} elements into {wanted} "
                f"({self.input.type} -> {self.result.type})"
            )


@irdl_op_definition
class ConcatOp(IRDLOperation):
    """Concatenates tensors along `axis` (ONNX Concat).

    %h = rnn.concat %a, %b {axis = 0 : i64}
        : (tensor<2x1x8xf32>, tensor<2x1x8xf32>) -> tensor<4x1x8xf32>
    """

    name = "rnn.concat"

    inputs = var_operand_def(TensorType)
    result = result_def(TensorType)
    axis = prop_def(IntegerAttr[I64])

    irdl_options = (ParsePropInAttrDict(),)
    traits = traits_def(Pure())
    assembly_format = "$inputs attr-dict `:` functional-type($inputs, $result)"

    def verify_(self) -> None:
        if not self.inputs:
            raise VerifyException("rnn.concat: expected at least one input")
        shapes = [_static_shape(self, f"inputs[{i}]", v) for i, v in enumerate(self.inputs)]
        axis = self.axis.value.data
        if not 0 <= axis < len(shapes[0]):
            raise VerifyException(f"rnn.concat: axis {axis} out of range for rank {len(shapes[0])}")
        expected = list(shapes[0])
        for i, shape in enumerate(shapes[1:], start=1):
            rest = [d for k, d in enumerate(shape) if k != axis]
            first = [d for k, d in enumerate(shapes[0]) if k != axis]
            if len(shape) != len(shapes[0]) or rest != first:
                raise VerifyException(
                    f"rnn.concat: operand 'inputs[{i}]' has shape {shape_str(shape)}, which "
                    f"differs from inputs[0] ({shape_str(shapes[0])}) off axis {axis}"
                )
            expected[axis] += shape[axis]
        found = self.result.type.get_shape()  # type: ignore[union-attr]
        _expect_shape(self, "the result", found, expected, f"the inputs joined on axis {axis}")


@irdl_op_definition
class SliceOp(IRDLOperation):
    """Takes `input[start:start+size]` along `axis`, every other axis whole (ONNX Slice and
    Gather with a constant index followed by a reshape).

        %h0 = rnn.slice %h {axis = 0 : i64, start = 2 : i64}
            : tensor<4x1x8xf32> -> tensor<2x1x8xf32>
    """

    name = "rnn.slice"

    input = operand_def(TensorType)
    result = result_def(TensorType)
    axis = prop_def(IntegerAttr[I64])
    start = prop_def(IntegerAttr[I64])

    irdl_options = (ParsePropInAttrDict(),)

    traits = traits_def(Pure())
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"

    def verify_(self) -> None:
        shape = _static_shape(self, "input", self.input)
        found = _static_shape(self, "result", self.result)
        axis, start = self.axis.value.data, self.start.value.data
        if not 0 <= axis < len(shape):
            raise VerifyException(f"rnn.slice: axis {axis} out of range for rank {len(shape)}")
        size = found[axis] if len(found) == len(shape) else -1
        expected = list(shape)
        expected[axis] = size
        if size < 0 or start < 0 or start + size > shape[axis]:
            raise VerifyException(
                f"rnn.slice: result {shape_str(found)} with start {start} does not fit in "
                f"input {shape_str(shape)} along axis {axis}"
            )
        _expect_shape(self, "the result", found, expected, f"a slice along axis {axis}")


#: The recurrent cells, by the name `rnnc gen` and the cost model use (`lstm`, `gru`, `rnn`).
CELLS: dict[str, type[RecurrentOp]] = {
    cell.name.removeprefix("rnn."): cell for cell in (LSTMOp, GRUOp, RNNOp)
}

#: The recurrent cells by ONNX operator name (`LSTM`, `GRU`, `RNN`).
CELL_BY_ONNX_NAME: dict[str, type[RecurrentOp]] = {cell.ONNX_NAME: cell for cell in CELLS.values()}

RNN = Dialect(
    "rnn",
    [LSTMOp, GRUOp, RNNOp, WeightOp, TransposeOp, ReshapeOp, ConcatOp, SliceOp],
    [],
)
