"""The arrays `loop-fold-constants` leaves to be computed when the configuration is
written: passes never see weight values (they live in the model's `.npz`), so the nests the
pass marks folded are run here, on the weights, by the loop interpreter in the precision the
design runs in, and their results go into the configuration's weight file."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from rnnc.dialects import loop, rnn
from rnnc.interpreters.loop_compiler import Evaluator, LoopCompiler
from rnnc.interpreters.loop_values import Memory
from rnnc.numerics.precision import NumericMode
from rnnc.passes.loop_fold_constants import folded_array, is_folded
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue


def folded_arrays(
    module: ModuleOp, weights: Mapping[str, np.ndarray], precision: NumericMode
) -> dict[str, np.ndarray]:
    """The contents of every memory the folded nests of `module` write, keyed by their
    `folded_array`: each nest run on the model's `weights` by the loop interpreter in
    `precision`."""
    arrays: dict[str, np.ndarray] = {}
    for nest in [o for o in module.walk() if isinstance(o, loop.ForeachOp) and is_folded(o)]:
        compiler = LoopCompiler(precision)
        step = compiler.top_level(nest)
        registers: list[object] = [None] * compiler.register_count
        written: dict[SSAValue, Memory] = {}
        for value in compiler.free_values(nest):
            registers[compiler.slot(value)] = _memory(value, weights, written)
        step(Evaluator(registers))
        for memref, memory in written.items():
            name = folded_array(memref.owner)  # type: ignore[arg-type]
            assert name is not None  # the pass names every memory a folded nest writes
            arrays[name] = memory.data[0]
    return arrays


def _memory(value: SSAValue, weights: Mapping[str, np.ndarray],
            written: dict[SSAValue, Memory]) -> Memory:
    """The run-time memory of a free value of a folded nest: a weight, or a memory it
    writes (starting as the loop interpreter starts it: NaN, or zero)."""
    owner = value.owner
    if isinstance(owner, loop.FromTensorOp):
        assert isinstance(owner.tensor.owner, rnn.WeightOp)
        data = np.asarray(weights[owner.tensor.owner.key.data], dtype=np.float32)
        return Memory(value.name_hint or "w", data[None])
    assert isinstance(owner, loop.AllocOp)
    shape = (owner.buffer_count, *value.type.get_shape())  # type: ignore[union-attr]
    memory = Memory(value.name_hint or "m", np.full(shape, 0.0 if owner.zeroed else np.nan,
                                                     dtype=np.float32))
    written[value] = memory
    return memory


__all__ = ["folded_arrays"]
