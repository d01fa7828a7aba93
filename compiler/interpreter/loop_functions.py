"""Numpy implementations of the `loop` dialect: whole loops run as array operations.

A `loop.foreach` evaluates its body once, with each counter standing for all of its values
at once (an array axis; see `loop_values`): loads become slices or gathers, stores become
slice assignments or scatters, and a `loop.reduce` becomes a reduction over the axis of its
counter -- a matrix product when its body multiplies two loaded values. Only
`loop.sequential` iterates in Python, once per time step.

The top-level ops of a function go through xDSL's interpreter like every other level's.
Loop bodies run in `_Evaluator`, a small dispatcher over the same ops: the per-op overhead
of the generic interpreter would otherwise dominate time steps that do little work.
While a `loop.foreach` runs, a `ConflictChecker` records the accesses its iterations make
and reports any two that conflict.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
from xdsl.dialects import arith
from xdsl.dialects.builtin import IndexType, IntegerType, MemRefType
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    impl,
    register_impls,
)
from xdsl.ir import Block, Operation, SSAValue

from compiler.diagnostics import Diagnostic
from compiler.interpreter.loop_conflicts import Access, ConflictChecker
from compiler.interpreter.loop_values import (
    Affine,
    Memory,
    index_add,
    index_mul,
    load,
    materialize,
    store,
)
from compiler.interpreter.rnn_kernels import Activation
from compiler.interpreter.types import numpy_dtype
from dialects import loop

_CMPI = {
    0: operator.eq, 1: operator.ne, 2: operator.lt, 3: operator.le, 4: operator.gt,
    5: operator.ge, 6: operator.lt, 7: operator.le, 8: operator.gt, 9: operator.ge,
}  # fmt: skip

_COMBINE: dict[str, Callable[[Any, Any], Any]] = {
    "add": np.add,
    "mul": np.multiply,
    "max": np.maximum,
    "min": np.minimum,
}

_FOLD: dict[str, Callable[..., Any]] = {
    "add": np.sum,
    "mul": np.prod,
    "max": np.max,
    "min": np.min,
}


def _name(value: SSAValue) -> str:
    return value.name_hint or "memory"


# ---- static facts about ops, computed once per op and run --------------------------------------


class _Facts:
    """Facts about ops the evaluator needs at every execution, memoized for one run (a
    pass may change the ops between runs)."""

    def __init__(self) -> None:
        self._free: dict[Operation, tuple[SSAValue, ...]] = {}
        self._stored: dict[Operation, tuple[SSAValue, ...]] = {}
        self._products: dict[Block, loop.MulOp | None] = {}
        self._activations: dict[Operation, Activation] = {}

    def free_values(self, op: Operation) -> tuple[SSAValue, ...]:
        """Values used inside `op`'s regions but defined outside `op`."""
        if op not in self._free:
            inside: set[SSAValue] = set()
            for nested in op.walk():
                for region in nested.regions:
                    for block in region.blocks:
                        inside.update(block.args)
                inside.update(nested.results)
            used = {v: None for n in op.walk() if n is not op for v in n.operands}
            self._free[op] = tuple(v for v in used if v not in inside)
        return self._free[op]

    def stored_memories(self, op: loop.ForeachOp) -> tuple[SSAValue, ...]:
        """The memories stored to anywhere inside a foreach."""
        if op not in self._stored:
            stored = {s.memref: None for s in op.walk() if isinstance(s, loop.StoreOp)}
            self._stored[op] = tuple(stored)
        return self._stored[op]

    def contraction(self, block: Block) -> loop.MulOp | None:
        """The multiplication whose value a reduction segment yields and nothing else
        uses: its fold over the counter is a matrix product."""
        if block not in self._products:
            last = block.last_op
            assert isinstance(last, loop.YieldOp)
            product = last.values[0].owner
            found = (
                isinstance(product, loop.MulOp)
                and product.parent_block() is block
                and product.result.has_one_use()
            )
            self._products[block] = product if found else None  # type: ignore[assignment]
        return self._products[block]

    def activation(self, op: loop.ActivationOp) -> Activation:
        if op not in self._activations:
            self._activations[op] = Activation(op.ONNX_NAME, **op.parameter_values())
        return self._activations[op]


# ---- reductions --------------------------------------------------------------------------------


def _lift(value: Any, ndim: int) -> np.ndarray:
    array = np.asarray(value)
    return array.reshape((1,) * (ndim - array.ndim) + array.shape)


def _fold(kind: str, value: Any, ndim: int, length: int) -> Any:
    """Fold `value` over axis 0 of a frame of `ndim` axes (the innermost counter)."""
    array = _lift(value, ndim)
    if array.shape[0] == length:
        return _FOLD[kind](array, axis=0)
    # the body does not depend on the counter: every index yields the same value
    if kind == "add":
        return array[0] * length
    if kind == "mul":
        return array[0] ** length
    return array[0]


def _contract(lhs: Any, rhs: Any, ndim: int, length: int) -> Any:
    """`sum over axis 0 of lhs * rhs` as a (batched) matrix product.

    Axes where both operands vary are batch axes, axes where only one varies are the rows
    or columns of the product.
    """
    a, b = _lift(lhs, ndim), _lift(rhs, ndim)
    if a.shape[0] != length or b.shape[0] != length:
        return _fold("add", a * b, ndim, length)
    rest = range(1, ndim)
    batch = [j for j in rest if a.shape[j] > 1 and b.shape[j] > 1]
    rows = [j for j in rest if a.shape[j] > 1 and b.shape[j] == 1]
    cols = [j for j in rest if a.shape[j] == 1 and b.shape[j] > 1]
    units_a = [j for j in rest if a.shape[j] == 1]
    units_b = [j for j in rest if b.shape[j] == 1]
    sizes = [max(a.shape[j], b.shape[j]) for j in range(ndim)]
    count = [int(np.prod([sizes[j] for j in axes])) for axes in (batch, rows, cols)]
    a2 = a.transpose([*batch, *rows, 0, *units_a]).reshape(count[0], count[1], length)
    b2 = b.transpose([*batch, 0, *cols, *units_b]).reshape(count[0], length, count[2])
    product = a2[0] @ b2[0] if count[0] == 1 else np.matmul(a2, b2)
    grouped = product.reshape([sizes[j] for j in (*batch, *rows, *cols)])
    order = [*batch, *rows, *cols]
    result = grouped.transpose(sorted(range(len(order)), key=lambda j: order[j]))
    shape = [sizes[j] if j in order else 1 for j in rest]
    return result.reshape(shape)


# ---- the evaluator of loop bodies ----------------------------------------------------------------


class _Evaluator:
    """Runs loop-dialect ops over all iterations of the parallel loops in scope."""

    def __init__(self, facts: _Facts, env: dict[SSAValue, Any]):
        self.facts = facts
        self.env = env
        self.frame: list[int] = []  # extents of the parallel counters in scope, axis 0 first
        self.checkers: list[ConflictChecker] = []
        self.handlers: dict[type[Operation], Callable[[Any], None]] = {
            loop.SequentialOp: self.sequential,
            loop.ForeachOp: self.foreach,
            loop.ReduceOp: self.reduce,
            loop.LoadOp: self.load,
            loop.StoreOp: self.store,
            loop.AllocOp: self.alloc,
            loop.FromTensorOp: self.from_tensor,
            loop.ToTensorOp: self.to_tensor,
            loop.SelectOp: self.select,
            arith.ConstantOp: self.constant,
            arith.AddiOp: lambda op: self.index(op, lambda a, b: index_add(a, b)),
            arith.SubiOp: lambda op: self.index(op, lambda a, b: index_add(a, b, -1)),
            arith.MuliOp: lambda op: self.index(op, index_mul),
            arith.CmpiOp: self.cmpi,
            arith.SelectOp: self.select,
            arith.IndexCastOp: self.index_cast,
            arith.AndIOp: lambda op: self.index(op, lambda a, b: materialize(a) & materialize(b)),
            arith.OrIOp: lambda op: self.index(op, lambda a, b: materialize(a) | materialize(b)),
        }
        binary = {
            loop.AddOp: np.add,
            loop.SubOp: np.subtract,
            loop.MulOp: np.multiply,
            loop.MaxOp: np.maximum,
            loop.MinOp: np.minimum,
        }
        for op_type, function in binary.items():
            self.handlers[op_type] = lambda op, f=function: self.binary(op, f)
        for op_type in loop.ACTIVATIONS:
            self.handlers[op_type] = self.activation

    def run(self, op: Operation) -> None:
        handler = self.handlers.get(type(op))
        if handler is None:
            raise Diagnostic(op.name, "this op cannot be interpreted inside a loop nest")
        handler(op)

    def run_block(self, block: Block, skip: Operation | None = None) -> None:
        """Run the ops of a loop body up to its `loop.yield`, except `skip`."""
        for op in block.ops:
            if not isinstance(op, loop.YieldOp) and op is not skip:
                self.run(op)

    # ---- loops --------------------------------------------------------------------------------

    def sequential(self, op: loop.SequentialOp) -> None:
        for step in range(op.step_count):
            self.env[op.counter] = step
            self.run_block(op.body.block)

    def foreach(self, op: loop.ForeachOp) -> None:
        first = len(self.frame)
        for counter, extent in zip(op.counters, op.shape, strict=True):
            self.env[counter] = Affine.counter(len(self.frame), extent)
            self.frame.append(extent)
        written = {id(self.env[m]) for m in self.facts.stored_memories(op)}
        checker = ConflictChecker([_name(c) for c in op.counters], first, self.frame, written)
        self.checkers.append(checker)
        try:
            self.run_block(op.body.block)
        finally:
            self.checkers.pop()
            del self.frame[first:]
        checker.check()

    def reduce(self, op: loop.ReduceOp) -> None:
        total: Any = None
        for region, length in zip(op.segments, op.lengths, strict=True):
            block = region.block
            self.env[block.args[0]] = Affine.counter(len(self.frame), length)
            self.frame.append(length)
            ndim = len(self.frame)
            try:
                product = self.facts.contraction(block)
                if product is not None:
                    self.run_block(block, skip=product)
                    lhs, rhs = self.env[product.lhs], self.env[product.rhs]
                    partial = _contract(lhs, rhs, ndim, length)
                else:
                    self.run_block(block)
                    value = self.env[block.last_op.operands[0]]  # type: ignore[union-attr]
                    partial = _fold(op.kind, value, ndim, length)
            finally:
                self.frame.pop()
            total = partial if total is None else _COMBINE[op.kind](total, partial)
        self.env[op.result] = total

    # ---- memories -------------------------------------------------------------------------------

    def _access(self, op: loop.AccessOp) -> tuple[Memory, tuple[Any, ...], Any]:
        env = self.env
        memory = env[op.memref]
        indices = tuple(
            index_add(env[v], offset) if offset else env[v]
            for v, offset in zip(op.indices, op.index_offsets, strict=True)
        )
        selector: Any = op.selector_offset
        if op.buffer is not None:
            selector = index_add(env[op.buffer], selector)
        return memory, indices, materialize(selector)

    def _record(self, memory: Memory, write: bool, indices: tuple[Any, ...], selector: Any) -> None:
        if self.checkers:
            access = Access(write, indices, selector, len(self.frame))
            for checker in self.checkers:
                checker.record(memory, access)

    def load(self, op: loop.LoadOp) -> None:
        memory, indices, selector = self._access(op)
        self._record(memory, False, indices, selector)
        self.env[op.result] = load(memory, op.name, indices, selector)

    def store(self, op: loop.StoreOp) -> None:
        memory, indices, selector = self._access(op)
        self._record(memory, True, indices, selector)
        store(memory, op.name, indices, selector, self.env[op.value], self.frame)

    def alloc(self, op: loop.AllocOp) -> None:
        ty = op.memref.type
        assert isinstance(ty, MemRefType)
        dtype = numpy_dtype(ty.get_element_type())
        # undefined contents: NaN makes a read before the first write visible in results
        fill = np.nan if np.issubdtype(dtype, np.floating) else 0
        data = np.full((op.buffer_count, *ty.get_shape()), fill, dtype)
        self.env[op.memref] = Memory(_name(op.memref), data)

    def from_tensor(self, op: loop.FromTensorOp) -> None:
        ty = op.memref.type
        assert isinstance(ty, MemRefType)
        data = np.array(self.env[op.tensor], dtype=numpy_dtype(ty.get_element_type()))[None]
        self.env[op.memref] = Memory(_name(op.memref), data)

    def to_tensor(self, op: loop.ToTensorOp) -> None:
        self.env[op.tensor] = self.env[op.memref].data[0].copy()

    # ---- scalars and the datapath ---------------------------------------------------------------

    def constant(self, op: arith.ConstantOp) -> None:
        raw = op.value.value.data  # type: ignore[union-attr]
        ty = op.result.type
        if isinstance(ty, IndexType | IntegerType):
            self.env[op.result] = int(raw)
        else:  # a float of the op's own type, so that it does not widen float32 arrays
            self.env[op.result] = numpy_dtype(ty).type(raw)

    def index(self, op: Operation, function: Callable[[Any, Any], Any]) -> None:
        lhs, rhs = (self.env[v] for v in op.operands)
        self.env[op.results[0]] = function(lhs, rhs)

    def cmpi(self, op: arith.CmpiOp) -> None:
        compare = _CMPI[op.predicate.value.data]
        lhs, rhs = (materialize(self.env[v]) for v in op.operands)
        self.env[op.result] = compare(lhs, rhs)

    def index_cast(self, op: arith.IndexCastOp) -> None:
        value = materialize(self.env[op.input])
        self.env[op.result] = value.astype(np.int64) if isinstance(value, np.ndarray) else int(value)

    def select(self, op: loop.SelectOp | arith.SelectOp) -> None:
        cond, true_value, false_value = (materialize(self.env[v]) for v in op.operands)
        self.env[op.result] = np.where(cond, true_value, false_value)

    def binary(self, op: loop.BinaryOp, function: Callable[[Any, Any], Any]) -> None:
        self.env[op.result] = function(self.env[op.lhs], self.env[op.rhs])

    def activation(self, op: loop.ActivationOp) -> None:
        self.env[op.result] = self.facts.activation(op)(np.asarray(self.env[op.input]))


def _evaluate(
    facts: _Facts, interpreter: Interpreter, op: Operation, args: PythonValues
) -> PythonValues:
    """Run one op of a function body in a fresh evaluator; return its results."""
    free = facts.free_values(op)
    env = dict(zip(free, interpreter.get_values(free), strict=True))
    env.update(zip(op.operands, args, strict=True))
    _Evaluator(facts, env).run(op)
    return tuple(env[r] for r in op.results)


@register_impls
class LoopFunctions(InterpreterFunctions):
    """Executes the top-level `loop` ops of a function; loops run in `_Evaluator`."""

    def __init__(self) -> None:
        self.facts = _Facts()

    def _run(self, interpreter: Interpreter, op: Operation, args: PythonValues) -> PythonValues:
        return _evaluate(self.facts, interpreter, op, args)

    @impl(loop.SequentialOp)
    def run_sequential(self, interpreter: Interpreter, op: Operation, args: PythonValues) -> PythonValues:
        return self._run(interpreter, op, args)

    @impl(loop.ForeachOp)
    def run_foreach(self, interpreter: Interpreter, op: Operation, args: PythonValues) -> PythonValues:
        return self._run(interpreter, op, args)

    @impl(loop.AllocOp)
    def run_alloc(self, interpreter: Interpreter, op: Operation, args: PythonValues) -> PythonValues:
        return self._run(interpreter, op, args)

    @impl(loop.FromTensorOp)
    def run_from_tensor(self, interpreter: Interpreter, op: Operation, args: PythonValues) -> PythonValues:
        return self._run(interpreter, op, args)

    @impl(loop.ToTensorOp)
    def run_to_tensor(self, interpreter: Interpreter, op: Operation, args: PythonValues) -> PythonValues:
        return self._run(interpreter, op, args)

    @impl(loop.LoadOp)
    def run_load(self, interpreter: Interpreter, op: Operation, args: PythonValues) -> PythonValues:
        return self._run(interpreter, op, args)

    @impl(loop.StoreOp)
    def run_store(self, interpreter: Interpreter, op: Operation, args: PythonValues) -> PythonValues:
        return self._run(interpreter, op, args)
