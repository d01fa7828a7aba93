"""The loop level's implementations for xDSL's interpreter.

The top-level ops of a function go through xDSL's interpreter like every other level's;
each runs as one compiled step of the closure compiler (`loop_compiler`), which executes
whole loops on numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnnc.dialects import loop
from rnnc.interpreters.loop_compiler import Evaluator, LoopCompiler, fingerprint
from rnnc.numerics.precision import FP32, NumericMode
from xdsl.dialects.builtin import ModuleOp
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    impl,
    register_impls,
)
from xdsl.ir import Operation


@dataclass
class _Program:
    """A module compiled for this functions object, and the fingerprint it had then."""

    module: ModuleOp
    fingerprint: tuple[Any, ...]
    compiler: LoopCompiler


@register_impls
class LoopFunctions(InterpreterFunctions):
    """Executes the top-level `loop` ops of a function, each as one compiled step, in the
    numeric mode `precision`.

    Compiling a loop program takes a few milliseconds, which matters for a model that is
    run many times: an instance keeps the compiled steps of the module it last ran, and
    reuses them in its next run (a new `Interpreter`) as long as that run is of the same
    module with the same fingerprint (`loop_compiler.fingerprint`). Register one instance
    with the interpreter of every run to profit (`rnnc.interpreters.Runner` does).
    """

    def __init__(self, precision: NumericMode = FP32) -> None:
        self._precision = precision
        self._program: _Program | None = None
        self._interpreter: Interpreter | None = None  # the run the program is prepared for

    def _compiler(self, interpreter: Interpreter) -> LoopCompiler:
        if interpreter is not self._interpreter:  # the first loop op of a run
            self._interpreter = interpreter
            self._prepare(interpreter.module)
        assert self._program is not None
        return self._program.compiler

    def _prepare(self, module: ModuleOp) -> None:
        """Keep the compiled program if the module is the one it was compiled from,
        unchanged; else compile anew."""
        current = fingerprint(module)
        program = self._program
        if program is None or program.module is not module or program.fingerprint != current:
            self._program = _Program(module, current, LoopCompiler(self._precision))
        else:
            program.compiler.new_run()

    def _run(self, interpreter: Interpreter, op: Operation, args: PythonValues) -> PythonValues:
        del args  # the operands are among the free values
        compiler = self._compiler(interpreter)
        step = compiler.top_level(op)
        registers: list[Any] = [None] * compiler.register_count
        free = compiler.free_values(op)
        for value, python_value in zip(free, interpreter.get_values(free), strict=True):
            registers[compiler.slot(value)] = python_value
        step(Evaluator(registers))
        return tuple(registers[compiler.slot(r)] for r in op.results)

    @impl(loop.SequentialOp)
    def run_sequential(
        self, interpreter: Interpreter, op: Operation, args: PythonValues
    ) -> PythonValues:
        return self._run(interpreter, op, args)

    @impl(loop.ForeachOp)
    def run_foreach(
        self, interpreter: Interpreter, op: Operation, args: PythonValues
    ) -> PythonValues:
        return self._run(interpreter, op, args)

    @impl(loop.AllocOp)
    def run_alloc(
        self, interpreter: Interpreter, op: Operation, args: PythonValues
    ) -> PythonValues:
        return self._run(interpreter, op, args)

    @impl(loop.FromTensorOp)
    def run_from_tensor(
        self, interpreter: Interpreter, op: Operation, args: PythonValues
    ) -> PythonValues:
        return self._run(interpreter, op, args)

    @impl(loop.ToTensorOp)
    def run_to_tensor(
        self, interpreter: Interpreter, op: Operation, args: PythonValues
    ) -> PythonValues:
        return self._run(interpreter, op, args)

    @impl(loop.LoadOp)
    def run_load(self, interpreter: Interpreter, op: Operation, args: PythonValues) -> PythonValues:
        return self._run(interpreter, op, args)

    @impl(loop.StoreOp)
    def run_store(
        self, interpreter: Interpreter, op: Operation, args: PythonValues
    ) -> PythonValues:
        return self._run(interpreter, op, args)
