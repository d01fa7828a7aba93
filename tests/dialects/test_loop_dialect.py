"""The loop dialect: printing and parsing of whole lowered programs, and its op catalogue."""

from __future__ import annotations

from io import StringIO

import numpy as np
import pytest
from loop_models import DECOMPOSED, FUSED, RnnModel, compile_to, parse
from rnnc import interpreters as interpreter
from rnnc.dialects import loop, rnn
from rnnc.interpreters.rnn_kernels import Activation
from xdsl.dialects.builtin import IndexType, f32
from xdsl.ir import Block, Region
from xdsl.printer import Printer

MODELS = [
    RnnModel("lstm", 3, 2, 3, batch=2, direction="bidirectional", sequence_lens=True,
             initial=True, peepholes=True, clip=1.0,
             activations=("HardSigmoid", "Tanh", "Softsign", "Sigmoid", "ScaledTanh", "Elu"),
             alpha=(0.25, 0.5, 1.5), beta=(0.5, 1.0), results=("Y", "Y_h", "Y_c")),
    RnnModel("gru", 3, 2, 3, direction="reverse", layout=1, sequence_lens=True),
    RnnModel("rnn", 3, 2, 3, activations=("LeakyRelu",), alpha=(0.125,)),
]  # fmt: skip


def _generic(module) -> str:
    buffer = StringIO()
    Printer(stream=buffer, print_generic_format=True).print_op(module)
    return buffer.getvalue()


@pytest.mark.parametrize("passes", [DECOMPOSED, FUSED])
@pytest.mark.parametrize("model", MODELS, ids=["lstm", "gru", "rnn"])
def test_lowered_programs_round_trip(model: RnnModel, passes: str) -> None:
    module = compile_to(model.mlir(), passes)
    custom = str(module)
    assert str(parse(custom)) == custom
    assert str(parse(_generic(module))) == custom
    assert parse(custom).is_structurally_equivalent(module)


@pytest.mark.parametrize("name", sorted(rnn.ACTIVATION_NAMES))
def test_every_onnx_activation_has_an_op_that_computes_it(name: str) -> None:
    op_type = loop.ACTIVATION_BY_ONNX_NAME[name]
    parameters = " ".join(f"{p} 0.75" for p in op_type.PARAMETERS)
    text = f"""
func.func @main(%X: tensor<7xf32>) -> tensor<7xf32> {{
  %x = loop.from_tensor %X : tensor<7xf32> -> memref<7xf32, #loop.space<sram>>
  %y = loop.alloc : memref<7xf32, #loop.space<dram>>
  loop.foreach (%i) in (7) par (1) {{
    %v = loop.load %x[%i] : memref<7xf32, #loop.space<sram>>
    %a = {op_type.name} %v {parameters} : f32
    loop.store %a, %y[%i] : memref<7xf32, #loop.space<dram>>
  }}
  %Y = loop.to_tensor %y : memref<7xf32, #loop.space<dram>> -> tensor<7xf32>
  func.return %Y : tensor<7xf32>
}}
"""
    x = np.linspace(-3, 3, 7, dtype=np.float32)
    got = interpreter.run(parse(text), {"X": x})["Y"]
    values = {p: 0.75 for p in op_type.PARAMETERS}
    np.testing.assert_allclose(got, Activation(name, **values)(x), rtol=1e-6)


def test_access_selectors() -> None:
    h = loop.AllocOp(loop.memory_type(f32, [4], "sram"), buffers=2)
    index = loop.ForeachOp([4], _empty_body(1)).counters[0]
    load = loop.LoadOp(h.memref, [index], [1], (None, 3))
    assert load.index_offsets == (1,)
    assert load.selector_offset == 3 and load.buffer is None
    moved = load.with_selector((index, 1))
    assert moved.buffer is index and moved.selector_offset == 1
    assert moved.index_offsets == (1,)


def _empty_body(counters: int) -> Region:
    return Region(Block([loop.YieldOp()], arg_types=[IndexType()] * counters))


def test_reduce_length_is_the_concatenated_length() -> None:
    text = str(compile_to(RnnModel("lstm", 5, 3, 2).mlir(), FUSED))
    reductions = [op for op in parse(text).walk() if isinstance(op, loop.ReduceOp)]
    assert {r.lengths for r in reductions} == {(3, 5)}
    assert {r.length for r in reductions} == {8}
