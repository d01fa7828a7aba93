"""One entry point that executes an rnnc module at any level on numpy arrays.

Built on xDSL's interpreter framework: each level's dialect registers numpy
implementations of its ops (`rnn_functions`, and the loop level's own), and values are
numpy arrays throughout. Function arguments and results are named (see `names`), so inputs
and outputs travel as `{name: array}` mappings, e.g. the contents of `in.npz`/`out.npz`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.interpreter import Interpreter, InterpreterFunctions
from xdsl.interpreters.func import FuncFunctions

from compiler.diagnostics import Diagnostic
from compiler.interpreter.loop_functions import LoopFunctions
from compiler.interpreter.names import argument_names, result_names
from compiler.interpreter.rnn_functions import RnnFunctions
from compiler.interpreter.types import numpy_dtype


def entry_function(module: ModuleOp, symbol: str = "main") -> func.FuncOp:
    for op in module.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == symbol:
            return op
    raise Diagnostic("<module>", f"no function @{symbol} to run")


def _level_functions(weights: Mapping[str, np.ndarray]) -> list[InterpreterFunctions]:
    """The numpy implementations of every level's ops."""
    return [FuncFunctions(), RnnFunctions(weights), LoopFunctions()]


def check_inputs(
    function: func.FuncOp, inputs: Mapping[str, np.ndarray], source: str
) -> list[np.ndarray]:
    """The arguments of `function` from `inputs`, by name, with shapes and dtypes checked."""
    names = argument_names(function)
    missing = [n for n in names if n not in inputs]
    if missing:
        raise Diagnostic(
            source, f"missing input(s) {', '.join(missing)} (expected {', '.join(names)})"
        )
    unknown = sorted(set(inputs) - set(names))
    if unknown:
        raise Diagnostic(
            source, f"unknown input(s) {', '.join(unknown)} (expected {', '.join(names)})"
        )
    arrays = []
    for name, ty in zip(names, function.function_type.inputs.data, strict=True):
        array = np.asarray(inputs[name])
        if isinstance(ty, TensorType):
            expected = tuple(ty.get_shape())
            if array.shape != expected:
                raise Diagnostic(
                    f"{source}: {name}",
                    f"input '{name}' has shape {_dims(array.shape)}, expected {_dims(expected)}",
                )
            array = array.astype(numpy_dtype(ty.get_element_type()), copy=False)
        arrays.append(array)
    return arrays


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) or "scalar"


def run(
    module: ModuleOp,
    inputs: Mapping[str, np.ndarray],
    weights: Mapping[str, np.ndarray] | None = None,
    *,
    symbol: str = "main",
    source: str = "inputs",
) -> dict[str, np.ndarray]:
    """Execute `@symbol` of `module` and return its results by name."""
    function = entry_function(module, symbol)
    arguments = check_inputs(function, inputs, source)
    interpreter = Interpreter(module)
    for functions in _level_functions(weights or {}):
        interpreter.register_implementations(functions)
    results = interpreter.call_op(function, tuple(arguments))
    return {
        name: np.asarray(value) for name, value in zip(result_names(function), results, strict=True)
    }
