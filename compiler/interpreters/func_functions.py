"""The `func` dialect for xDSL's interpreter: calls, returns, function bodies.

The same semantics as `xdsl.interpreters.func.FuncFunctions`, defined here because
importing any module of `xdsl.interpreters` runs that package's `__init__`, which imports
every interpreter xDSL ships (RISC-V, affine, ...): most of a second of every compile
that folds constants (`rnnc.driver.folded_weights`) or runs a model.
"""

from __future__ import annotations

from typing import Any

from xdsl.dialects import func
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    ReturnedValues,
    TerminatorValue,
    impl,
    impl_callable,
    impl_terminator,
    register_impls,
)


@register_impls
class FuncFunctions(InterpreterFunctions):
    """`func.return` ends a body with its operands, `func.call` calls by symbol, a
    `func.func` runs its body (an external one, without a body, is the interpreter's)."""

    @impl_terminator(func.ReturnOp)
    def run_return(
        self, interpreter: Interpreter, op: func.ReturnOp, args: tuple[Any, ...]
    ) -> tuple[TerminatorValue, PythonValues]:
        return ReturnedValues(args), ()

    @impl(func.CallOp)
    def run_call(
        self, interpreter: Interpreter, op: func.CallOp, args: tuple[Any, ...]
    ) -> tuple[Any, ...]:
        return interpreter.call_op(op.callee, args)

    @impl_callable(func.FuncOp)
    def call_func(
        self, interpreter: Interpreter, op: func.FuncOp, args: tuple[Any, ...]
    ) -> PythonValues:
        first = op.body.blocks.first
        if first is None or not first.ops:
            return interpreter.call_external(op.sym_name.data, op, args)
        return interpreter.run_ssacfg_region(op.body, args, op.sym_name.data)
