"""One entry point that executes an rnnc module at any level on numpy arrays: `run`, or
`Runner` for a module run many times (it keeps the compiled loop program between runs).

Built on xDSL's interpreter framework: each level's dialect registers numpy
implementations of its ops (`rnn_functions`, `loop_functions`), and values are
numpy arrays throughout. Function arguments and results are named (see `names`), so inputs
and outputs travel as `{name: array}` mappings, e.g. the contents of `in.npz`/`out.npz`.

A precision mode (`rnnc.numerics.precision`) is emulated by the loop level only: the rnn level's
kernels have ONNX semantics and are the float32 reference, so a module that never reaches
the loop level (`uses_loop_level`) runs in float32 whatever the mode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from rnnc.analysis.names import argument_names, result_names
from rnnc.diagnostics import Diagnostic
from rnnc.dialects import loop
from rnnc.dialects.spatial import DesignOp, design_of
from rnnc.interpreters.func_functions import FuncFunctions
from rnnc.interpreters.inputs import check_runtime_inputs
from rnnc.interpreters.loop_functions import LoopFunctions
from rnnc.interpreters.rnn_functions import RnnFunctions
from rnnc.interpreters.types import numpy_dtype
from rnnc.numerics.precision import FP32, NumericMode
from rnnc.target.machine import machine_from_module
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.interpreter import Interpreter, InterpreterFunctions


def entry_function(module: ModuleOp, symbol: str = "main") -> func.FuncOp:
    for op in module.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == symbol:
            return op
    raise Diagnostic("<module>", f"no function @{symbol} to run")


def uses_loop_level(module: ModuleOp) -> bool:
    """Whether `module` contains loop-level ops or a spatial design (whose units compute in
    a precision mode), the only ones a precision mode changes."""
    return design_of(module) is not None or any(
        op.dialect_name() == loop.LOOP.name for op in module.walk()
    )


def check_input_names(
    names: Sequence[str], inputs: Mapping[str, np.ndarray], source: str
) -> None:
    """`inputs` names exactly the inputs `names`: none missing, none unknown."""
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


def check_inputs(
    function: func.FuncOp, inputs: Mapping[str, np.ndarray], source: str
) -> list[np.ndarray]:
    """The arguments of `function` from `inputs`, by name, with shapes and dtypes checked."""
    names = argument_names(function)
    check_input_names(names, inputs, source)
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


class Runner:
    """`@symbol` of `module`, ready to run many times on different inputs.

    Each call is a new run of xDSL's interpreter, with the same implementations of every
    level's ops: the loop level keeps its compiled program between calls (see
    `LoopFunctions`), as long as the module does not change. Loop-level ops compute in
    `precision`; every other op in float32 (see the module docstring).
    """

    def __init__(
        self,
        module: ModuleOp,
        weights: Mapping[str, np.ndarray] | None = None,
        *,
        symbol: str = "main",
        precision: NumericMode = FP32,
    ) -> None:
        self.module = module
        self.function = entry_function(module, symbol)
        self._functions: list[InterpreterFunctions] = [
            FuncFunctions(),
            RnnFunctions(weights or {}),
            LoopFunctions(precision),
        ]

    def __call__(
        self, inputs: Mapping[str, np.ndarray], *, source: str = "inputs"
    ) -> dict[str, np.ndarray]:
        """The results of one run by name, on `inputs` by argument name (read from
        `source`, for messages)."""
        check_runtime_inputs(self.module, self.function, inputs, source)
        arguments = check_inputs(self.function, inputs, source)
        interpreter = Interpreter(self.module)
        for functions in self._functions:
            interpreter.register_implementations(functions)
        results = interpreter.call_op(self.function, tuple(arguments))
        names = result_names(self.function)
        return {name: np.asarray(value) for name, value in zip(names, results, strict=True)}


def _run_spatial(
    design: DesignOp,
    inputs: Mapping[str, np.ndarray],
    weights: Mapping[str, np.ndarray],
    source: str,
    precision: NumericMode,
) -> dict[str, np.ndarray]:
    """A spatial design runs from its machine description (`spatial_values`); it computes
    in its own precision mode unless `precision` asks for another."""
    # imported here: the compiler imports this package for the loop level's evaluator only
    from rnnc.interpreters.spatial_values import run_machine

    machine = machine_from_module(design)
    names = [b.name for b in machine.inputs]
    check_input_names(names, inputs, source)
    for binding in machine.inputs:
        shape = np.asarray(inputs[binding.name]).shape
        if shape != binding.shape:
            raise Diagnostic(
                f"{source}: {binding.name}",
                f"input '{binding.name}' has shape {_dims(shape)}, expected {_dims(binding.shape)}",
            )
    return run_machine(machine, inputs, weights, precision)


def run(
    module: ModuleOp,
    inputs: Mapping[str, np.ndarray],
    weights: Mapping[str, np.ndarray] | None = None,
    *,
    symbol: str = "main",
    source: str = "inputs",
    precision: NumericMode = FP32,
) -> dict[str, np.ndarray]:
    """Execute `@symbol` of `module` once and return its results by name (a `Runner` used
    once). Loop-level ops compute in `precision`; every other op in float32 (see the module
    docstring). A module at the spatial level (a `spatial.design`) runs its machine
    description."""
    design = design_of(module)
    if design is not None:
        return _run_spatial(design, inputs, weights or {}, source, precision)
    return Runner(module, weights, symbol=symbol, precision=precision)(inputs, source=source)
