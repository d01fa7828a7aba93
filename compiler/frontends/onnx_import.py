"""The ONNX front end: an ONNX graph of LSTM/GRU/RNN layers becomes an `rnn`-dialect module.

    rnnc import model.onnx -o model.mlir      # also writes model.npz beside model.mlir

The graph becomes `func.func @main`. Its arguments and results keep the graph's input and
output names in the `rnn.name` argument/result attribute, so `in.npz`/`out.npz` use the
ONNX names. Initializers (and constants that survive folding) become `rnn.weight` ops whose
arrays go to `<model>.npz`, named by the module attribute `rnn.weights`.

Shapes are static: every graph input must have fixed dimensions, and the scaffolding that
exporters emit to compute shapes at run time (`Shape`, `Gather`, `Unsqueeze`, `Concat`,
`Expand`, `ConstantOfShape`, ... on the zero initial states of `torch.onnx.export`) is
evaluated here, with numpy. What remains maps onto the rnn dialect, one handler per ONNX op
type (`_HANDLERS`): LSTM/GRU/RNN to `rnn.lstm`/`rnn.gru`/`rnn.rnn`, Transpose to
`rnn.transpose`, Squeeze/Unsqueeze/Reshape/Flatten to `rnn.reshape`, Concat to `rnn.concat`,
Slice and Gather with constant indices to `rnn.slice` (+ `rnn.reshape`), Identity to its
input. Anything else is a `Diagnostic` naming the node.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from io import StringIO

import numpy as np
from rnnc.analysis.names import NAME_ATTR
from rnnc.diagnostics import Diagnostic
from rnnc.dialects import rnn
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    TensorType,
    f32,
    i32,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

try:
    import onnx
    from onnx import numpy_helper
except ImportError:  # the `onnx` extra is not installed: `load_model` says how to install it
    onnx = None  # type: ignore[assignment]

#: How to install what `rnnc import` needs (the `onnx` extra of pyproject.toml).
ONNX_INSTALL = "pip install 'rnnc[onnx]' (from a checkout: pip install -e '.[onnx]')"

#: A graph value: an SSA value computed at run time, or a constant known at import time.
Value = SSAValue | np.ndarray

#: Element types a tensor may have in the imported program (sequence_lens is int32).
_ELEMENT_TYPES: dict[np.dtype, Attribute] = {np.dtype(np.float32): f32, np.dtype(np.int32): i32}

_ONNX_DOMAINS = ("", "ai.onnx")


def import_file(onnx_path: str, weights_name: str) -> tuple[str, dict[str, np.ndarray]]:
    """Import `onnx_path`: the module's text (its weights named `weights_name`) and weights."""
    model = load_model(onnx_path)
    return import_model(model, weights_name, source=onnx_path)


def load_model(path: str) -> onnx.ModelProto:
    """Read an ONNX file; a missing, unreadable or non-ONNX file is a `Diagnostic`."""
    if onnx is None:
        raise Diagnostic(
            path, f"importing ONNX needs the onnx package, which is not installed: {ONNX_INSTALL}"
        )
    try:
        model = onnx.load(path)
    except FileNotFoundError:
        raise Diagnostic(path, "no such file") from None
    except Exception as error:  # protobuf raises several unrelated types
        raise Diagnostic(path, f"not an ONNX model ({type(error).__name__}: {error})") from None
    # Protobuf decodes many byte strings as a message of unknown fields; a real model has
    # an IR version and a graph.
    if model.ir_version == 0 or not model.HasField("graph"):
        raise Diagnostic(path, "not an ONNX model (no IR version or no graph)")
    try:  # a damaged file can still decode: undefined types, names that are not UTF-8, ...
        onnx.checker.check_model(model)
    except (onnx.checker.ValidationError, UnicodeDecodeError, ValueError) as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise Diagnostic(path, f"not a valid ONNX model: {reason}") from None
    return model


def import_model(
    model: onnx.ModelProto, weights_name: str, *, source: str = "model.onnx"
) -> tuple[str, dict[str, np.ndarray]]:
    """Translate `model` into rnn-dialect text whose weights live in `weights_name`.

    Returns the MLIR text and the weight arrays by `rnn.weight` name; `source` is the
    location diagnostics are reported at.
    """
    module, weights = _Importer(source).build(model)
    if weights:
        module.attributes["rnn.weights"] = StringAttr(weights_name)
    buffer = StringIO()
    Printer(stream=buffer).print_op(module)
    return buffer.getvalue() + "\n", weights


# ---- the importer ----------------------------------------------------------------------------


def _node_label(node: onnx.NodeProto, index: int) -> str:
    name = f"'{node.name}'" if node.name else f"#{index}"
    return f"node {name} ({node.op_type})"


def _ssa_name(onnx_name: str) -> str | None:
    """An SSA name hint close to an ONNX value name (`/LSTM_output_0` -> `LSTM_output_0`)."""
    name = re.sub(r"[^A-Za-z0-9_$.-]", "_", onnx_name).lstrip("_")
    if not name:
        return None
    return name if not name[0].isdigit() else f"v{name}"


def _shape(value: Value) -> tuple[int, ...]:
    if isinstance(value, np.ndarray):
        return value.shape
    assert isinstance(value.type, TensorType)
    return tuple(value.type.get_shape())


def _tensor(element: Attribute, shape: Sequence[int]) -> TensorType:
    return TensorType(element, list(shape))


class _NodeError(Exception):
    """A reason why the node being imported is not supported; located by the caller."""


@dataclass
class _Importer:
    """Walks an ONNX graph in order, mapping each value name to a `Value`."""

    source: str
    block: Block = field(default_factory=Block)
    values: dict[str, Value] = field(default_factory=dict)
    #: `rnn.weight` results already created, by ONNX value name.
    materialized: dict[str, SSAValue] = field(default_factory=dict)
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    #: The node being imported (constants it uses become weights named by its inputs).
    node: onnx.NodeProto | None = None

    def build(self, model: onnx.ModelProto) -> tuple[ModuleOp, dict[str, np.ndarray]]:
        graph = model.graph
        for initializer in graph.initializer:
            self.values[initializer.name] = self._initializer(initializer)
        names = [v.name for v in graph.input if v.name not in self.values]
        types = [self._input_type(v) for v in graph.input if v.name not in self.values]
        self.block = Block(arg_types=types)
        for arg, name in zip(self.block.args, names, strict=True):
            arg.name_hint = _ssa_name(name)
            self.values[name] = arg
        for index, node in enumerate(graph.node):
            self._import_node(node, index)
        results = [self._graph_output(v.name) for v in graph.output]
        self.block.add_op(func.ReturnOp(*results))
        self._erase_dead_ops()
        main = func.FuncOp(
            "main",
            (types, [r.type for r in results]),
            Region(self.block),
            arg_attrs=_name_attrs(names),
            res_attrs=_name_attrs([v.name for v in graph.output]),
        )
        used = {op.key.data for op in self.block.ops if isinstance(op, rnn.WeightOp)}
        return ModuleOp([main]), {k: v for k, v in self.weights.items() if k in used}

    # ---- graph interface ---------------------------------------------------------------------

    def _initializer(self, tensor: onnx.TensorProto) -> np.ndarray:
        try:
            return numpy_helper.to_array(tensor)
        except Exception as error:  # external data missing, bad raw data, ...
            raise Diagnostic(
                f"{self.source}: initializer '{tensor.name}'", f"cannot be read ({error})"
            ) from None

    def _input_type(self, info: onnx.ValueInfoProto) -> TensorType:
        where = f"{self.source}: input '{info.name}'"
        if not info.type.HasField("tensor_type"):
            raise Diagnostic(where, "only tensor inputs are supported")
        tensor_type = info.type.tensor_type
        dtype = _numpy_dtype(tensor_type.elem_type)
        if dtype not in _ELEMENT_TYPES:
            raise Diagnostic(
                where,
                f"element type {_onnx_type_name(tensor_type.elem_type)} is not supported "
                "(rnnc takes float32 tensors, and int32 for sequence_lens)",
            )
        if not tensor_type.HasField("shape"):
            raise Diagnostic(where, "the input has no shape; rnnc needs static shapes")
        dims = []
        for dim in tensor_type.shape.dim:
            if not dim.HasField("dim_value") or dim.dim_value <= 0:
                what = f"'{dim.dim_param}'" if dim.dim_param else dim.dim_value or "unknown"
                raise Diagnostic(
                    where, f"dimension {len(dims)} is {what}; rnnc needs static, positive sizes"
                )
            dims.append(dim.dim_value)
        return _tensor(_ELEMENT_TYPES[dtype], dims)

    def _graph_output(self, name: str) -> SSAValue:
        if name not in self.values:
            raise Diagnostic(f"{self.source}: output '{name}'", "no node produces this output")
        value = self.values[name]
        if isinstance(value, SSAValue):
            return value
        try:
            return self._materialize(name, value)
        except _NodeError as error:
            raise Diagnostic(f"{self.source}: output '{name}'", str(error)) from None

    # ---- nodes -------------------------------------------------------------------------------

    def _import_node(self, node: onnx.NodeProto, index: int) -> None:
        label = _node_label(node, index)
        handler = _HANDLERS.get(node.op_type) if node.domain in _ONNX_DOMAINS else None
        if handler is None:
            supported = ", ".join(sorted(_HANDLERS))
            raise Diagnostic(
                f"{self.source}: {label}",
                f"unsupported op type '{_op_type(node)}' (rnnc imports {supported})",
            )
        self.node = node
        try:
            inputs = [self._node_input(name) for name in node.input]
            outputs = handler(self, node, inputs)
        except _NodeError as error:
            raise Diagnostic(f"{self.source}: {label}", str(error)) from None
        for name, value in zip(node.output, outputs, strict=False):
            if name:  # an optional output the node leaves out has no name
                self._define(name, value)

    def _define(self, name: str, value: Value) -> None:
        if isinstance(value, SSAValue):
            if value.name_hint is None:
                value.name_hint = _ssa_name(name)
            self.values[name] = value
        else:  # numpy folds 0-d results to scalars
            self.values[name] = np.asarray(value)

    def _node_input(self, name: str) -> Value | None:
        if not name:
            return None
        if name not in self.values:
            raise _NodeError(f"input '{name}' is not defined before this node")
        return self.values[name]

    def emit(self, op: Operation) -> Operation:
        """Append `op`; a verifier error is reported at the node being imported."""
        try:
            op.verify()
        except VerifyException as error:
            raise _NodeError(str(error)) from None
        self.block.add_op(op)
        return op

    def operand(self, index: int, value: Value) -> SSAValue:
        """Input `index` of the current node as an SSA value (constants become weights)."""
        if isinstance(value, SSAValue):
            return value
        assert self.node is not None
        return self._materialize(self.node.input[index], value)

    def _materialize(self, name: str, array: np.ndarray) -> SSAValue:
        if name not in self.materialized:
            element = _ELEMENT_TYPES.get(array.dtype)
            if element is None:
                raise _NodeError(
                    f"constant '{name}' has element type {array.dtype}; rnnc takes float32 "
                    "tensors (and int32 for sequence_lens)"
                )
            op = rnn.WeightOp(name, _tensor(element, array.shape))
            op.result.name_hint = _ssa_name(name)
            self.block.add_op(op)
            self.materialized[name] = op.result
            self.weights[name] = np.ascontiguousarray(array)
        return self.materialized[name]

    def _erase_dead_ops(self) -> None:
        """Drop ops whose results nothing uses (e.g. a layer output only shapes were read
        from); every rnn op is pure."""
        for op in reversed(list(self.block.ops)):
            if op.results and all(not r.uses for r in op.results):
                self.block.erase_op(op)

    # ---- data movement: folded on constants, rnn ops on run-time values -------------------

    def reshape(self, value: Value, shape: Sequence[int]) -> Value:
        shape = tuple(shape)
        if isinstance(value, np.ndarray):
            return value.reshape(shape)
        if isinstance(value.owner, rnn.ReshapeOp):  # one reshape, not a chain of them
            value = value.owner.input
        if _shape(value) == shape:
            return value
        element = value.type.get_element_type()  # type: ignore[attr-defined]
        op = rnn.ReshapeOp.build(operands=[value], result_types=[_tensor(element, shape)])
        return self.emit(op).results[0]

    def transpose(self, value: Value, perm: Sequence[int]) -> Value:
        if isinstance(value, np.ndarray):
            return np.transpose(value, perm)
        shape = _shape(value)
        if len(perm) != len(shape) or sorted(perm) != list(range(len(shape))):
            raise _NodeError(f"perm {list(perm)} is not a permutation of {len(shape)} axes")
        element = value.type.get_element_type()  # type: ignore[attr-defined]
        op = rnn.TransposeOp.build(
            operands=[value],
            result_types=[_tensor(element, [shape[p] for p in perm])],
            properties={"perm": DenseArrayBase.from_list(i64, list(perm))},
        )
        return self.emit(op).results[0]

    def slice(self, value: SSAValue, axis: int, start: int, size: int) -> SSAValue:
        """`value[start:start+size]` along `axis` (constants are sliced by numpy directly)."""
        shape = list(_shape(value))
        if start == 0 and size == shape[axis]:
            return value
        shape[axis] = size
        element = value.type.get_element_type()  # type: ignore[attr-defined]
        op = rnn.SliceOp.build(
            operands=[value],
            result_types=[_tensor(element, shape)],
            properties={"axis": IntegerAttr(axis, i64), "start": IntegerAttr(start, i64)},
        )
        return self.emit(op).results[0]

    def concat(self, values: Sequence[Value], axis: int) -> Value:
        if all(isinstance(v, np.ndarray) for v in values):
            return np.concatenate(values, axis=axis)
        operands = [self.operand(i, v) for i, v in enumerate(values)]
        shape = list(_shape(operands[0]))
        shape[axis] = sum(_shape(v)[axis] for v in operands)
        element = operands[0].type.get_element_type()  # type: ignore[attr-defined]
        op = rnn.ConcatOp.build(
            operands=[operands],
            result_types=[_tensor(element, shape)],
            properties={"axis": IntegerAttr(axis, i64)},
        )
        return self.emit(op).results[0]


def _name_attrs(names: Sequence[str]) -> ArrayAttr[DictionaryAttr]:
    return ArrayAttr([DictionaryAttr({NAME_ATTR: StringAttr(n)}) for n in names])


def _op_type(node: onnx.NodeProto) -> str:
    return f"{node.domain}.{node.op_type}" if node.domain else node.op_type


def _numpy_dtype(elem_type: int) -> np.dtype | None:
    try:
        return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type))
    except (KeyError, TypeError, ValueError):
        return None


def _onnx_type_name(elem_type: int) -> str:
    try:
        return onnx.TensorProto.DataType.Name(elem_type)
    except ValueError:
        return str(elem_type)


# ---- attributes and constant inputs ------------------------------------------------------------


def _attributes(node: onnx.NodeProto) -> dict[str, object]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _check_attributes(node: onnx.NodeProto, known: Sequence[str]) -> dict[str, object]:
    """The node's attributes; one that rnnc does not know is an error, not ignored."""
    attributes = _attributes(node)
    unknown = sorted(set(attributes) - set(known))
    if unknown:
        raise _NodeError(f"unsupported attribute(s) {', '.join(unknown)}")
    return attributes


def _constant(inputs: Sequence[Value | None], index: int, what: str) -> np.ndarray:
    """A node input that must be known at import time (shapes, axes, indices)."""
    value = inputs[index] if index < len(inputs) else None
    if value is None:
        raise _NodeError(f"the {what} input is missing")
    if not isinstance(value, np.ndarray):
        raise _NodeError(
            f"the {what} input is computed at run time; rnnc needs it constant (static shapes)"
        )
    return value


def _ints(
    node: onnx.NodeProto, inputs: Sequence[Value | None], index: int, name: str
) -> list[int] | None:
    """Integers given as attribute `name` (older opsets) or as constant input `index`."""
    attributes = _attributes(node)
    if name in attributes:
        return [int(v) for v in attributes[name]]  # type: ignore[union-attr]
    if index < len(inputs) and inputs[index] is not None:
        return [int(v) for v in _constant(inputs, index, name).reshape(-1)]
    return None


def _axis(axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise _NodeError(f"axis {axis} is out of range for rank {rank}")
    return axis % rank


def _data(inputs: Sequence[Value | None]) -> Value:
    if not inputs or inputs[0] is None:
        raise _NodeError("the data input is missing")
    return inputs[0]


# ---- handlers: (importer, node, inputs) -> outputs ----------------------------------------------

# (a string: the module must import without onnx, to say how to install it)
Handler = Callable[[_Importer, "onnx.NodeProto", list[Value | None]], list[Value]]


def _identity(imp: _Importer, node: onnx.NodeProto, inputs: list[Value | None]) -> list[Value]:
    _check_attributes(node, ())
    return [_data(inputs)]


def _constant_node(imp: _Importer, node: onnx.NodeProto, inputs: list[Value | None]) -> list[Value]:
    attributes = _check_attributes(
        node, ("value", "value_float", "value_floats", "value_int", "value_ints")
    )
    if len(attributes) != 1:
        raise _NodeError("expected exactly one value attribute")
    ((name, value),) = attributes.items()
    if name == "value":
        return [numpy_helper.to_array(value)]  # type: ignore[arg-type]
    dtype = np.float32 if name.startswith("value_float") else np.int64
    return [np.asarray(value, dtype=dtype)]


def _shape_node(imp: _Importer, node: onnx.NodeProto, inputs: list[Value | None]) -> list[Value]:
    attributes = _check_attributes(node, ("start", "end"))
    shape = _shape(_data(inputs))
    start, end = attributes.get("start", 0), attributes.get("end", len(shape))
    return [np.asarray(shape[start:end], dtype=np.int64)]  # type: ignore[misc]


def _constant_of_shape(
    imp: _Importer, node: onnx.NodeProto, inputs: list[Value | None]
) -> list[Value]:
    attributes = _check_attributes(node, ("value",))
    shape = [int(d) for d in _constant(inputs, 0, "shape")]
    fill = (
        numpy_helper.to_array(attributes["value"]).reshape(-1)  # type: ignore[arg-type]
        if "value" in attributes
        else np.zeros(1, np.float32)
    )
    return [np.full(shape, fill[0], dtype=fill.dtype)]


def _expand(imp: _Importer, node: onnx.NodeProto, inputs: list[Value | None]) -> list[Value]:
    _check_attributes(node, ())
    data = _data(inputs)
    target = [int(d) for d in _constant(inputs, 1, "shape")]
    try:
        shape = np.broadcast_shapes(_shape(data), tuple(target))
    except ValueError:
        raise _NodeError(f"cannot broadcast {list(_shape(data))} to {target}") from None
    if isinstance(data, np.ndarray):
        return [np.broadcast_to(data, shape).copy()]
    if shape != _shape(data):
        raise _NodeError("broadcasting a tensor computed at run time is not supported")
    return [data]


def _transpose(imp: _Importer, node: onnx.NodeProto, inputs: list[Value | None]) -> list[Value]:
    attributes = _check_attributes(node, ("perm",))
    data = _data(inputs)
    rank = len(_shape(data))
    perm = attributes.get("perm", list(reversed(range(rank))))
    return [imp.transpose(data, [int(p) for p in perm])]  # type: ignore[union-attr]


def _reshape(imp: _Importer, node: onnx.NodeProto, inputs: list[Value | None]) -> list[Value]:
    attributes = _check_attributes(node, ("allowzero",))
    data = _data(inputs)
    old = _shape(data)
    new = [int(d) for d in _constant(inputs, 1, "shape")]
    if not attributes.get("allowzero", 0):  # 0 copies the input's dimension
        new = [old[i] if d == 0 else d for i, d in enumerate(new)]
    if new.count(-1) == 1:
        known = int(np.prod([d for d in new if d != -1]))
        if known == 0 or int(np.prod(old)) % known:
            raise _NodeError(f"cannot reshape {list(old)} to {new}")
        new[new.index(-1)] = int(np.prod(old)) // known
    if any(d < 0 for d in new) or int(np.prod(new)) != int(np.prod(old)):
        raise _NodeError(f"cannot reshape {list(old)} to {new}")
    return [imp.reshape(data, new)]


def _squeeze(imp: _Importer, node: onnx.NodeProto, inputs: list[Value | None]) -> list[Value]:
    _check_attributes(node, ("axes",))
    data = _data(inputs)
    shape = _shape(data)
    axes = _ints(node, inputs, 1, "axes")
    drop = (
        {i for i, d in enumerate(shape) if d == 1}
        if axes is None
        else {_axis(a, len(shape)) for a in axes}
    )
    if any(shape[a] != 1 for a in drop):
        raise _NodeError(f"cannot squeeze axes {sorted(drop)} of shape {list(shape)}")
    return [imp.reshape(data, [d for i, d in enumerate(shape) if i not in drop])]


def _unsqueeze(imp: _Importer, node: onnx.NodeProto, inputs: list[Value | None]) -> list[Value]:
    _check_attributes(node, ("axes",))
    data = _data(inputs)
    axes = _ints(node, inputs, 1, "axes")
    if axes is None:
        raise _NodeError("the axes are missing")
    shape = list(_shape(data))
    rank = len(shape) + len(axes)
    for axis in sorted(_axis(a, rank) for a in axes):
        shape.insert(axis, 1)
    return [imp.reshape(data, shape)]


def _flatten(imp: _Importer, node: onnx.NodeProto, inputs: list[Value | None]) -> list[Value]:
    attributes = _check_attributes(node, ("axis",))
    data = _data(inputs)
    shape = _shape(data)
    axis = int(attributes.get("axis", 1))  # type: ignore[call-overload]
    axis = axis if axis == len(shape) else _axis(axis, len(shape))
    return [imp.reshape(data, [int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))])]


def _concat(imp: _Importer, node: onnx.NodeProto, inputs: list[Value | None]) -> list[Value]:
    attributes = _check_attributes(node, ("axis",))
    if "axis" not in attributes or not inputs or any(v is None for v in inputs):
        raise _NodeError("expected an axis and at least one input")
    values: list[Value] = [v for v in inputs if v is not None]
    axis = _axis(int(attributes["axis"]), len(_shape(values[0])))  # type: ignore[call-overload]
    return [imp.concat(values, axis)]


def _slice(imp: _Importer, node: onnx.NodeProto, inputs: list[Value | None]) -> list[Value]:
    _check_attributes(node, ("starts", "ends", "axes"))
    data = _data(inputs)
    shape = _shape(data)
    starts, ends = _ints(node, inputs, 1, "starts"), _ints(node, inputs, 2, "ends")
    if starts is None or ends is None or len(starts) != len(ends):
        raise _NodeError("expected as many starts as ends")
    axes = _ints(node, inputs, 3, "axes") or list(range(len(starts)))
    steps = _ints(node, inputs, 4, "steps") or [1] * len(starts)
    if isinstance(data, np.ndarray):
        index = [slice(None)] * len(shape)
        for axis, start, end, step in zip(axes, starts, ends, steps, strict=True):
            index[_axis(axis, len(shape))] = slice(start, end, step)
        return [data[tuple(index)]]
    if any(step != 1 for step in steps):
        raise _NodeError("only slices with step 1 of run-time tensors are supported")
    result = data
    for onnx_axis, start, end in zip(axes, starts, ends, strict=True):
        axis = _axis(onnx_axis, len(shape))
        first, stop, _ = slice(start, end).indices(shape[axis])  # ONNX clamps like Python
        result = imp.slice(result, axis, first, max(stop - first, 0))
    return [result]


def _gather(imp: _Importer, node: onnx.NodeProto, inputs: list[Value | None]) -> list[Value]:
    attributes = _check_attributes(node, ("axis",))
    data = _data(inputs)
    shape = _shape(data)
    axis = _axis(int(attributes.get("axis", 0)), len(shape))  # type: ignore[call-overload]
    indices = _constant(inputs, 1, "indices").astype(np.int64)
    indices = np.where(indices < 0, indices + shape[axis], indices)
    if np.any(indices < 0) or np.any(indices >= shape[axis]):
        raise _NodeError(f"indices out of range for axis {axis} of size {shape[axis]}")
    if isinstance(data, np.ndarray):
        return [np.take(data, indices, axis=axis)]
    flat = indices.reshape(-1)
    if indices.ndim > 1 or flat.size == 0 or np.any(np.diff(flat) != 1):
        raise _NodeError("only a constant scalar index or a contiguous index range is supported")
    sliced = imp.slice(data, axis, int(flat[0]), flat.size)
    if indices.ndim == 0:  # a scalar index removes the axis
        return [imp.reshape(sliced, [d for i, d in enumerate(shape) if i != axis])]
    return [sliced]


# ---- the recurrent layers ---------------------------------------------------------------------


def _activation_name(name: bytes | str) -> StringAttr:
    """onnxruntime matches activation names case-insensitively; the dialect wants the
    canonical spelling (an unknown name is kept, for the verifier to report)."""
    text = name.decode() if isinstance(name, bytes) else name
    return StringAttr(rnn.canonical_activation(text) or text)


def _floats(values: Sequence[float]) -> ArrayAttr[FloatAttr]:
    return ArrayAttr([FloatAttr(float(v), f32) for v in values])


def _integer(value: object) -> Attribute:
    return IntegerAttr(value, i64)  # type: ignore[arg-type]


#: Common attribute -> (ONNX attribute type, property builder).
_CELL_ATTRIBUTES: dict[str, tuple[str, Callable[..., Attribute]]] = {
    "hidden_size": ("INT", _integer),
    "direction": ("STRING", lambda v: StringAttr(v.decode())),
    "activations": ("STRINGS", lambda v: ArrayAttr([_activation_name(s) for s in v])),
    "activation_alpha": ("FLOATS", _floats),
    "activation_beta": ("FLOATS", _floats),
    "clip": ("FLOAT", lambda v: FloatAttr(float(v), f32)),
    "layout": ("INT", _integer),
}


def _cell_properties(node: onnx.NodeProto, cell: type[rnn.RecurrentOp]) -> dict[str, Attribute]:
    table = _CELL_ATTRIBUTES | {flag: ("INT", _integer) for flag in cell.cell_properties()}
    properties = {}
    for attribute in node.attribute:
        if attribute.name not in table:
            raise _NodeError(f"unsupported attribute '{attribute.name}'")
        expected, build = table[attribute.name]
        if onnx.AttributeProto.AttributeType.Name(attribute.type) != expected:
            raise _NodeError(f"attribute '{attribute.name}' must be of type {expected}")
        properties[attribute.name] = build(onnx.helper.get_attribute_value(attribute))
    return properties


def _recurrent(imp: _Importer, node: onnx.NodeProto, inputs: list[Value | None]) -> list[Value]:
    cell = rnn.CELL_BY_ONNX_NAME[node.op_type]
    names = cell.operand_names()  # the op's operands are the ONNX inputs, in ONNX order
    if len(inputs) > len(names):
        raise _NodeError(f"expected at most {len(names)} inputs, got {len(inputs)}")
    given = dict(zip(names, inputs, strict=False))
    if any(given.get(name) is None for name in ("X", "W", "R")):
        raise _NodeError("the inputs X, W and R are required")
    properties = _cell_properties(node, cell)
    if cell is rnn.RNNOp:
        _keep_first_rnn_activation(properties)
    if "hidden_size" not in properties:  # optional in the schema: R is [nd, G*H, H]
        properties["hidden_size"] = IntegerAttr(_shape(given["R"])[-1], i64)  # type: ignore[arg-type]
    shapes = _result_shapes(_shape(given["X"]), properties)  # type: ignore[arg-type]
    operands = {
        name: imp.operand(i, value)
        for i, (name, value) in enumerate(given.items())
        if value is not None and not _is_zero_state(name, value, shapes[1])
    }
    for name, value in operands.items():
        _check_element_type(name, value)
    states = len(cell.get_irdl_definition().results) - 1  # Y_h (and Y_c) after Y
    op = cell.build(
        operands=[[operands[n]] if n in operands else [] for n in names],
        result_types=[_tensor(f32, shapes[0]), *[_tensor(f32, shapes[1])] * states],
        properties=properties,
    )
    return list(imp.emit(op).results)


def _keep_first_rnn_activation(properties: dict[str, Attribute]) -> None:
    """The RNN schema's default activations are ["Tanh", "Tanh"], so models may list two
    for one direction; onnxruntime then uses the first. The dialect wants one per direction."""
    activations = properties.get("activations")
    direction = properties.get("direction", StringAttr("forward"))
    if (
        isinstance(activations, ArrayAttr)
        and len(activations) == 2
        and direction != StringAttr("bidirectional")
    ):
        properties["activations"] = ArrayAttr(activations.data[:1])


def _result_shapes(
    x: tuple[int, ...], properties: dict[str, Attribute]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(shape of Y, shape of each final state) for an X of shape `x`."""
    if len(x) != 3:
        raise _NodeError(f"input X has rank {len(x)}, expected 3")
    hidden = properties["hidden_size"].value.data  # type: ignore[attr-defined]
    direction = properties.get("direction", StringAttr("forward")).data  # type: ignore[attr-defined]
    nd = 2 if direction == "bidirectional" else 1
    if properties.get("layout", IntegerAttr(0, i64)).value.data == 1:  # type: ignore[attr-defined]
        batch, seq = x[0], x[1]
        return (batch, seq, nd, hidden), (batch, nd, hidden)
    seq, batch = x[0], x[1]
    return (seq, nd, batch, hidden), (nd, batch, hidden)


def _is_zero_state(name: str, value: Value, state_shape: tuple[int, ...]) -> bool:
    """A constant all-zero initial state means the same as none; exporters build one."""
    return (
        name in ("initial_h", "initial_c")
        and isinstance(value, np.ndarray)
        and value.shape == state_shape
        and not np.any(value)
    )


def _check_element_type(name: str, value: SSAValue) -> None:
    expected = i32 if name == "sequence_lens" else f32
    element = value.type.get_element_type()  # type: ignore[attr-defined]
    if element != expected:
        raise _NodeError(f"input {name} has element type {element}, expected {expected}")


_HANDLERS: dict[str, Handler] = {
    **dict.fromkeys(rnn.CELL_BY_ONNX_NAME, _recurrent),
    "Identity": _identity,
    "Constant": _constant_node,
    "Shape": _shape_node,
    "ConstantOfShape": _constant_of_shape,
    "Expand": _expand,
    "Transpose": _transpose,
    "Reshape": _reshape,
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
    "Flatten": _flatten,
    "Concat": _concat,
    "Slice": _slice,
    "Gather": _gather,
}
