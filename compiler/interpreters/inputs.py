"""Run-time inputs checked against the model before anything executes, at every level.

A shape or dtype error would otherwise surface deep in a numpy kernel, and a value the model
forbids (a `sequence_lens` entry outside [0, sequence length]) would be silently clamped by
the loop level while the rnn level refuses it. The model's contract is read from its rnn-level
ops, or at the loop level from how the time loop masks the steps past each length
(`sequence_limits`); the driver reads it before lowering too, so the same inputs are refused
whatever level then runs them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from rnnc.analysis.names import argument_names
from rnnc.diagnostics import Diagnostic, check_fits_in_memory
from rnnc.dialects import loop
from rnnc.dialects.rnn import RecurrentOp
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import IntegerType, MemRefType, ModuleOp, TensorType
from xdsl.ir import Attribute, BlockArgument, SSAValue


def sequence_limits(module: ModuleOp) -> dict[str, int]:
    """For each function argument that holds sequence lengths, by name, the length of the
    sequence its entries may not exceed: the `sequence_lens` of a recurrent op at the rnn
    level; at the loop level an integer input compared with a time loop's counter
    (`arith.cmpi slt, %t, %len` is how the loop level masks the steps past a length)."""
    limits: dict[str, int] = {}

    def limit(value: SSAValue, steps: int) -> None:
        name = _input_name(value)
        if name is not None:
            limits[name] = min(steps, limits.get(name, steps))

    for op in module.walk():
        if isinstance(op, RecurrentOp) and op.sequence_lens is not None:
            limit(op.sequence_lens, op.sizes()[0])
        elif isinstance(op, arith.CmpiOp):
            loops = [_time_loop(v) for v in op.operands]
            for value, other in ((op.lhs, loops[1]), (op.rhs, loops[0])):
                if other is not None:
                    limit(_loaded_from(value), other.step_count)
    return limits


def _time_loop(value: SSAValue) -> loop.SequentialOp | None:
    """The time loop whose counter `value` is, if it is one."""
    if isinstance(value, BlockArgument):
        owner = value.block.parent_op()
        if isinstance(owner, loop.SequentialOp):
            return owner
    return None


def _loaded_from(value: SSAValue) -> SSAValue:
    """The tensor a scalar was read from: `index_cast(loop.load(loop.from_tensor(%x)))` -> %x
    (`value` itself when it is not such a read)."""
    source = value.owner
    if isinstance(source, arith.IndexCastOp):
        source = source.input.owner
    if isinstance(source, loop.LoadOp) and isinstance(source.memref.owner, loop.FromTensorOp):
        return source.memref.owner.tensor
    return value


def _input_name(value: SSAValue) -> str | None:
    """The name of the function argument `value` is, if it is one."""
    if isinstance(value, BlockArgument):
        function = value.block.parent_op()
        if isinstance(function, func.FuncOp):
            return argument_names(function)[value.index]
    return None


def check_sequence_lens(
    limits: Mapping[str, int], inputs: Mapping[str, np.ndarray], source: str
) -> None:
    """Every `sequence_lens` input holds integers in [0, its sequence length]."""
    for name, steps in limits.items():
        if name not in inputs:
            continue
        lens = np.asarray(inputs[name])
        if lens.dtype.kind not in "iu":
            raise Diagnostic(f"{source}: {name}", f"sequence_lens '{name}' has dtype "
                             f"{lens.dtype}, expected integers")
        outside = lens[(lens < 0) | (lens > steps)]
        if outside.size:
            raise Diagnostic(
                f"{source}: {name}",
                f"sequence_lens '{name}' must lie in [0, {steps}] (the sequence length), "
                f"got {int(outside[0])}",
            )


def check_element_kinds(
    function: func.FuncOp, inputs: Mapping[str, np.ndarray], source: str
) -> None:
    """Every given input has a dtype of its argument's element class: floating point for a
    float tensor, integer for an integer one (no silent casts of strings, booleans, ...)."""
    for name, ty in zip(argument_names(function), function.function_type.inputs, strict=True):
        if name not in inputs or not isinstance(ty, TensorType):
            continue
        dtype = np.asarray(inputs[name]).dtype
        wanted = "iu" if isinstance(ty.get_element_type(), IntegerType) else "f"
        if dtype.fields is not None or dtype.kind not in wanted:
            expected = "integer" if wanted == "iu" else "floating-point"
            raise Diagnostic(f"{source}: {name}", f"input '{name}' has dtype {dtype}, "
                             f"expected a {expected} dtype for {ty}")


def check_value_sizes(module: ModuleOp, location: str) -> None:
    """Refuse a model with a value too large for memory, before any array is allocated."""
    for op in module.walk():
        for value in (*op.results, *(a for r in op.regions for b in r.blocks for a in b.args)):
            size = _bytes(value.type)
            if size:
                check_fits_in_memory(size, location, f"the value of type {value.type} "
                                     f"(in {op.name})")


def _bytes(ty: Attribute) -> int:
    if not isinstance(ty, TensorType | MemRefType):
        return 0
    shape = ty.get_shape()
    if any(d < 0 for d in shape):
        return 0
    element = ty.get_element_type()
    width = getattr(element, "bitwidth", 64)
    return math.prod(shape) * max(1, width // 8)


def check_runtime_inputs(
    module: ModuleOp, function: func.FuncOp, inputs: Mapping[str, np.ndarray], source: str
) -> None:
    """What `run` checks before executing, besides the names and shapes of the arguments."""
    check_element_kinds(function, inputs, source)
    check_sequence_lens(sequence_limits(module), inputs, source)
