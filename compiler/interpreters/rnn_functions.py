"""Numpy implementations of the `rnn` dialect for xDSL's interpreter.

Each recurrent op runs as one call into `rnn_kernels`, which is vectorized per time step;
the data-movement ops are single numpy calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from rnnc.diagnostics import Diagnostic
from rnnc.dialects import rnn
from rnnc.interpreters import rnn_kernels
from rnnc.interpreters.types import numpy_dtype
from xdsl.dialects import arith
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    impl,
    register_impls,
)


def _operands_by_name(op: rnn.RecurrentOp, args: PythonValues) -> dict[str, Any]:
    """The op's present operands keyed by their ONNX names (absent ones are None)."""
    by_value = dict(zip(op.operands, args, strict=True))
    return {
        name: None if getattr(op, name) is None else by_value[getattr(op, name)]
        for name in op.operand_names()
    }


def _common_attributes(op: rnn.RecurrentOp) -> dict[str, Any]:
    return {
        "hidden_size": op.hidden,
        "direction": op.direction_name,
        "activations": op.activation_names(),
        "activation_alpha": op.alphas(),
        "activation_beta": op.betas(),
        "clip": op.clip_value(),
        "layout": op.layout.value.data,
    }


@register_impls
class RnnFunctions(InterpreterFunctions):
    """Executes `rnn` ops; `weights` holds the arrays that `rnn.weight` ops name."""

    def __init__(self, weights: Mapping[str, np.ndarray]):
        self.weights = weights

    @impl(rnn.LSTMOp)
    def run_lstm(
        self, interpreter: Interpreter, op: rnn.LSTMOp, args: PythonValues
    ) -> PythonValues:
        return rnn_kernels.lstm(
            **_operands_by_name(op, args),
            **_common_attributes(op),
            input_forget=op.input_forget.value.data,
        )

    @impl(rnn.GRUOp)
    def run_gru(self, interpreter: Interpreter, op: rnn.GRUOp, args: PythonValues) -> PythonValues:
        return rnn_kernels.gru(
            **_operands_by_name(op, args),
            **_common_attributes(op),
            linear_before_reset=op.linear_before_reset.value.data,
        )

    @impl(rnn.RNNOp)
    def run_rnn(self, interpreter: Interpreter, op: rnn.RNNOp, args: PythonValues) -> PythonValues:
        return rnn_kernels.rnn(**_operands_by_name(op, args), **_common_attributes(op))

    @impl(rnn.WeightOp)
    def run_weight(
        self, interpreter: Interpreter, op: rnn.WeightOp, args: PythonValues
    ) -> PythonValues:
        key = op.key.data
        if key not in self.weights:
            raise Diagnostic("weights", f'rnn.weight "{key}" is not in the weights file')
        array = self.weights[key]
        expected = tuple(op.result.type.get_shape())  # type: ignore[union-attr]
        if array.shape != expected:
            raise Diagnostic(
                f"weights: {key}",
                f"weight '{key}' has shape {rnn.shape_str(array.shape)}, the IR declares "
                f"{rnn.shape_str(expected)}",
            )
        return (array,)

    @impl(rnn.TransposeOp)
    def run_transpose(
        self, interpreter: Interpreter, op: rnn.TransposeOp, args: PythonValues
    ) -> PythonValues:
        return (np.ascontiguousarray(np.transpose(args[0], op.permutation())),)

    @impl(rnn.ReshapeOp)
    def run_reshape(
        self, interpreter: Interpreter, op: rnn.ReshapeOp, args: PythonValues
    ) -> PythonValues:
        return (np.reshape(args[0], op.result.type.get_shape()),)  # type: ignore[union-attr]

    @impl(rnn.ConcatOp)
    def run_concat(
        self, interpreter: Interpreter, op: rnn.ConcatOp, args: PythonValues
    ) -> PythonValues:
        return (np.concatenate(args, axis=op.axis.value.data),)

    @impl(rnn.SliceOp)
    def run_slice(
        self, interpreter: Interpreter, op: rnn.SliceOp, args: PythonValues
    ) -> PythonValues:
        axis, start = op.axis.value.data, op.start.value.data
        size = op.result.type.get_shape()[axis]  # type: ignore[union-attr]
        return (np.take(args[0], np.arange(start, start + size), axis=axis),)

    @impl(arith.ConstantOp)
    def run_constant(
        self, interpreter: Interpreter, op: arith.ConstantOp, args: PythonValues
    ) -> PythonValues:
        """Dense tensor constants (small weights written inline) become numpy arrays."""
        value = op.value
        if isinstance(value, DenseIntOrFPElementsAttr):
            dtype = numpy_dtype(value.get_element_type())
            return (np.asarray(value.get_values(), dtype=dtype).reshape(value.get_shape() or ()),)
        return (value.value.data,)  # type: ignore[union-attr]
