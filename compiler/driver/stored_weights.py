"""The weights as a precision stores them: the arrays a design holds in a block-scaled
weight format (`rnnc.numerics.formats`) rounded to it once, when the configuration is
written, so that its weight file holds the values the chip computes with and every
consumer -- the folded nests, `rnnc sim`, the interpreters -- reads the same numbers."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from rnnc.dialects import rnn
from rnnc.numerics.precision import NumericMode
from rnnc.target.machine import Machine
from xdsl.dialects.builtin import ModuleOp


def held_in_format(machine: Machine, precision: NumericMode) -> set[str]:
    """The arrays some PMU of `machine` holds in `precision`'s weight format."""
    if precision.weight_format is None:
        return set()
    return {h.array for unit in machine.units for h in getattr(unit, "holds", ())
            if h.quantization == precision.name}


def cell_matrices(module: ModuleOp) -> set[str]:
    """The `rnn.weight` arrays that are some cell's input or recurrent weights (`W`, `R`):
    what a design holds in weight slices."""
    found: set[str] = set()
    for op in module.walk():
        if isinstance(op, rnn.LSTMOp | rnn.GRUOp | rnn.RNNOp):
            found |= {v.owner.key.data for v in (op.W, op.R) if isinstance(v.owner, rnn.WeightOp)}
    return found


def stored_weights(
    weights: Mapping[str, np.ndarray], names: set[str], precision: NumericMode
) -> dict[str, np.ndarray]:
    """`weights` with the arrays `names` rounded to `precision`'s weight format (blocks
    along their last axis); the others, and every array without a format, unchanged."""
    if precision.weight_format is None:
        return dict(weights)
    return {name: precision.quantize_matrix(array) if name in names else array
            for name, array in weights.items()}


__all__ = ["cell_matrices", "held_in_format", "stored_weights"]
