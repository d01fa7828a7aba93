"""Run-time inputs checked against the model before anything executes, at every level.

A shape or dtype error would otherwise surface deep in a numpy kernel, and a value the model
forbids (a `sequence_lens` entry outside [0, sequence length]) would be silently clamped by
the loop level while the rnn level refuses it. The model's contract is read from its rnn-level
ops (`sequence_limits`); the driver reads it before lowering, so the same inputs are refused
whatever level then runs them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from rnnc.analysis.names import argument_names
from rnnc.diagnostics import Diagnostic, check_fits_in_memory
from rnnc.dialects.rnn import RecurrentOp
from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerType, MemRefType, ModuleOp, TensorType
from xdsl.ir import Attribute, BlockArgument


def sequence_limits(module: ModuleOp) -> dict[str, int]:
    """For each function argument that is a recurrent op's `sequence_lens`, by name, the
    sequence length its entries may not exceed."""
    limits: dict[str, int] = {}
    for op in module.walk():
        if not isinstance(op, RecurrentOp) or op.sequence_lens is None:
            continue
        lens = op.sequence_lens
        function = lens.block.parent_op() if isinstance(lens, BlockArgument) else None
        if isinstance(function, func.FuncOp):
            assert isinstance(lens, BlockArgument)
            name = argument_names(function)[lens.index]
            steps = op.sizes()[0]
            limits[name] = min(steps, limits.get(name, steps))
    return limits


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
