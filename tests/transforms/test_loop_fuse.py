"""loop-fuse: the structure it produces from decomposed cells, fusion of a non-RNN chain,
refusals where fusing would be wrong, and that every result still computes the same."""

from __future__ import annotations

import numpy as np
import pytest
from loop_models import DECOMPOSED, FUSED, RnnModel, compile_to, parse, relative_error
from rnnc import interpreters as interpreter
from rnnc.analysis.access import INTERMEDIATE, memory_role, time_loops
from rnnc.dialects import loop


def _step_nests(module) -> list[loop.ForeachOp]:
    (step,) = time_loops(module)
    return [op for op in step.body.block.ops if isinstance(op, loop.ForeachOp)]


def _reductions(nest: loop.ForeachOp) -> list[tuple[int, ...]]:
    return [r.lengths for r in nest.walk() if isinstance(r, loop.ReduceOp)]


def _memories(module) -> dict[str, loop.AllocOp]:
    return {op.memref.name_hint: op for op in module.walk() if isinstance(op, loop.AllocOp)}


def _intermediates(module) -> list[str]:
    return [
        name for name, op in _memories(module).items() if memory_role(op.memref) == INTERMEDIATE
    ]


LSTMS = [
    RnnModel("lstm", 5, 3, 4),
    RnnModel("lstm", 5, 3, 4, batch=2, direction="bidirectional", sequence_lens=True,
             initial=True, peepholes=True, clip=1.0, results=("Y", "Y_h", "Y_c")),
    RnnModel("lstm", 5, 3, 4, batch=3, direction="reverse", layout=1, input_forget=1),
]  # fmt: skip


@pytest.mark.parametrize("model", LSTMS, ids=["forward", "bidirectional", "reverse"])
def test_fused_lstm_is_one_nest_of_four_gate_reductions(model: RnnModel) -> None:
    module = compile_to(model.mlir(), FUSED)
    (nest,) = _step_nests(module)
    assert nest.shape == (model.nd, model.batch, model.hidden)
    gates = 3 if model.input_forget else 4
    assert _reductions(nest) == [(model.inputs_size, model.hidden)] * gates
    assert _intermediates(module) == []
    memories = _memories(module)
    assert memories["h"].buffer_count == 2  # step t reads h(t-1) while writing h(t)
    assert memories["c"].buffer_count == 1  # c(t)[i] only needs c(t-1)[i]


def test_decomposed_lstm_has_a_nest_per_kernel_and_h_sized_buffers() -> None:
    model = RnnModel("lstm", 6, 3, 4)
    module = compile_to(model.mlir(), DECOMPOSED)
    nests = _step_nests(module)
    assert len(nests) == 25
    assert sum(len(_reductions(n)) for n in nests) == 8  # W·x and R·h for each gate
    assert all(len(_reductions(n)) <= 1 for n in nests)
    buffers = _intermediates(module)
    assert len(buffers) == 23
    assert {_memories(module)[b].memref.type.get_shape() for b in buffers} == {(1, 1, 6)}
    assert _memories(module)["h"].buffer_count == 1


def test_fused_gru_linear_before_reset_is_one_pass() -> None:
    model = RnnModel("gru", 5, 3, 4, linear_before_reset=1)
    module = compile_to(model.mlir(), FUSED)
    (nest,) = _step_nests(module)
    # r multiplies only the candidate's recurrent product, so its x and h parts stay apart
    assert sorted(_reductions(nest)) == [(3,), (3, 5), (3, 5), (5,)]
    assert _intermediates(module) == []


def test_fused_gru_reset_before_the_product_needs_two_passes() -> None:
    """With linear_before_reset = 0 the candidate's dot product runs over r∘h, so all of r
    must exist first: fusion stops there, keeping one H-sized buffer."""
    model = RnnModel("gru", 5, 3, 4)
    module = compile_to(model.mlir(), FUSED)
    first, second = _step_nests(module)
    assert _reductions(first) == [(3, 5)]
    assert _reductions(second) == [(3, 5), (3, 5)]
    assert _intermediates(module) == ["rh"]


def test_fused_rnn() -> None:
    module = compile_to(RnnModel("rnn", 5, 3, 4).mlir(), FUSED)
    (nest,) = _step_nests(module)
    assert _reductions(nest) == [(3, 5)]


def test_fusion_is_idempotent() -> None:
    fused = compile_to(RnnModel("lstm", 4, 3, 2).mlir(), FUSED)
    again = compile_to(str(fused), "loop-fuse")
    assert str(again) == str(fused)


def test_stacked_layers_and_data_movement_ops() -> None:
    """rnn.transpose and rnn.reshape between the layers become indexing: the first layer
    writes its output joined (4x2x8), the second reads that memory; the values hold."""
    text = """
func.func @main(%X: tensor<4x2x3xf32>, %W1: tensor<2x16x3xf32>, %R1: tensor<2x16x4xf32>,
                %W2: tensor<1x12x8xf32>, %R2: tensor<1x12x4xf32>) -> tensor<4x1x2x4xf32> {
  %y1, %h1, %c1 = rnn.lstm %X, %W1, %R1 {hidden_size = 4 : i64, direction = "bidirectional"}
      : (tensor<4x2x3xf32>, tensor<2x16x3xf32>, tensor<2x16x4xf32>)
      -> (tensor<4x2x2x4xf32>, tensor<2x2x4xf32>, tensor<2x2x4xf32>)
  %t = rnn.transpose %y1 {perm = array<i64: 0, 2, 1, 3>}
      : tensor<4x2x2x4xf32> -> tensor<4x2x2x4xf32>
  %x2 = rnn.reshape %t : tensor<4x2x2x4xf32> -> tensor<4x2x8xf32>
  %y2, %h2 = rnn.gru %x2, %W2, %R2 {hidden_size = 4 : i64, linear_before_reset = 1 : i64}
      : (tensor<4x2x8xf32>, tensor<1x12x8xf32>, tensor<1x12x4xf32>)
      -> (tensor<4x1x2x4xf32>, tensor<1x2x4xf32>)
  func.return %y2 : tensor<4x1x2x4xf32>
}
"""
    rng = np.random.default_rng(3)
    shapes = {
        "X": (4, 2, 3),
        "W1": (2, 16, 3),
        "R1": (2, 16, 4),
        "W2": (1, 12, 8),
        "R2": (1, 12, 4),
    }
    inputs = {k: rng.uniform(-1, 1, s).astype(np.float32) for k, s in shapes.items()}
    expected = interpreter.run(parse(text), inputs)["y2"]
    for passes in (DECOMPOSED, FUSED):
        module = compile_to(text, passes)
        assert len(time_loops(module)) == 2
        assert not any(op.name.startswith("rnn.") for op in module.walk())
        joined = [op for op in module.walk() if isinstance(op, loop.AllocOp)
                  and op.memref.type.get_shape() == (4, 2, 8)]  # fmt: skip
        assert len(joined) == 1
        assert relative_error(interpreter.run(module, inputs)["y2"], expected) < 1e-6


CHAIN = """
func.func @mlp(%W: tensor<8x4xf32>, %X: tensor<4xf32>, %B: tensor<8xf32>) -> tensor<8xf32> {
  %w = loop.from_tensor %W : tensor<8x4xf32> -> memref<8x4xf32, #loop.space<sram>>
  %x = loop.from_tensor %X : tensor<4xf32> -> memref<4xf32, #loop.space<sram>>
  %b = loop.from_tensor %B : tensor<8xf32> -> memref<8xf32, #loop.space<sram>>
  %t1 = loop.alloc : memref<8xf32, #loop.space<sram>>
  %t2 = loop.alloc : memref<8xf32, #loop.space<sram>>
  %y = loop.alloc : memref<8xf32, #loop.space<dram>>
  loop.foreach (%i) in (8) par (1) {
    %dot = loop.reduce add par 1 vec 1 (%k in 4) {
      %wv = loop.load %w[%i, %k] : memref<8x4xf32, #loop.space<sram>>
      %xv = loop.load %x[%k] : memref<4xf32, #loop.space<sram>>
      %p = loop.mul %wv, %xv : f32
      loop.yield %p : f32
    } : f32
    loop.store %dot, %t1[%i] : memref<8xf32, #loop.space<sram>>
  }
  SECOND
  loop.foreach (%i) in (8) par (1) {
    %v = loop.load %t2[%i] : memref<8xf32, #loop.space<sram>>
    %r = loop.relu %v : f32
    loop.store %r, %y[%i] : memref<8xf32, #loop.space<dram>>
  }
  %Y = loop.to_tensor %y : memref<8xf32, #loop.space<dram>> -> tensor<8xf32>
  func.return %Y : tensor<8xf32>
}
"""

BIAS_ADD = """
  loop.foreach (%i) in (8) par (1) {
    %u = loop.load %t1[%i] : memref<8xf32, #loop.space<sram>>
    %bv = loop.load %b[%i] : memref<8xf32, #loop.space<sram>>
    %s = loop.add %u, %bv : f32
    loop.store %s, %t2[%i] : memref<8xf32, #loop.space<sram>>
  }
"""


def _chain_inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "W": rng.standard_normal((8, 4)).astype(np.float32),
        "X": rng.standard_normal(4).astype(np.float32),
        "B": rng.standard_normal(8).astype(np.float32),
    }


def test_non_rnn_chain_fuses_into_one_nest() -> None:
    text = CHAIN.replace("SECOND", BIAS_ADD)
    module = compile_to(text, "loop-fuse")
    nests = [op for op in module.walk() if isinstance(op, loop.ForeachOp)]
    assert len(nests) == 1
    assert set(_memories(module)) == {"y"}
    inputs = _chain_inputs()
    expected = np.maximum(inputs["W"] @ inputs["X"] + inputs["B"], 0)
    for program in (parse(text), module):
        got = interpreter.run(program, inputs, symbol="mlp")["Y"]
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_fusion_past_an_op_that_reads_the_producers_output_elsewhere() -> None:
    """Between producer and consumer a nest reduces over all of t1: the producer cannot
    move down past it, so the consumer moves up to the producer."""
    reader = """
  %sum = loop.alloc : memref<8xf32, #loop.space<dram>>
  loop.foreach (%i) in (8) par (1) {
    %all = loop.reduce add par 1 vec 1 (%k in 8) {
      %v = loop.load %t1[%k] : memref<8xf32, #loop.space<sram>>
      loop.yield %v : f32
    } : f32
    loop.store %all, %sum[%i] : memref<8xf32, #loop.space<dram>>
  }
"""
    text = CHAIN.replace("SECOND", reader + BIAS_ADD)
    module = compile_to(text, "loop-fuse")
    first, *_ = [op for op in module.walk() if isinstance(op, loop.ForeachOp)]
    stored = {s.memref.name_hint for s in first.walk() if isinstance(s, loop.StoreOp)}
    assert {"t1", "y"} <= stored  # matvec, bias and relu fused; t1 still feeds the sum
    inputs = _chain_inputs()
    expected = interpreter.run(parse(text), inputs, symbol="mlp")["Y"]
    np.testing.assert_array_equal(interpreter.run(module, inputs, symbol="mlp")["Y"], expected)


@pytest.mark.parametrize(
    "consumer",
    [
        # reads element 7 - i, which another iteration writes
        """%last = arith.constant 7 : index
    %j = arith.subi %last, %i : index
    %u = loop.load %t1[%j] : memref<8xf32, #loop.space<sram>>""",
        # reads every element, in a reduction
        """%u = loop.reduce max par 1 vec 1 (%k in 8) {
      %e = loop.load %t1[%k] : memref<8xf32, #loop.space<sram>>
      loop.yield %e : f32
    } : f32""",
    ],
    ids=["other-index", "reduction"],
)
def test_refuses_to_fuse_a_consumer_reading_another_index(consumer: str) -> None:
    second = f"""
  loop.foreach (%i) in (8) par (1) {{
    {consumer}
    %bv = loop.load %b[%i] : memref<8xf32, #loop.space<sram>>
    %s = loop.add %u, %bv : f32
    loop.store %s, %t2[%i] : memref<8xf32, #loop.space<sram>>
  }}
"""
    text = CHAIN.replace("SECOND", second)
    before = parse(text)
    after = compile_to(text, "loop-fuse")
    # the bias/ReLU pair fuses; the matvec and its consumer stay apart, t1 stays
    nests = [op for op in after.walk() if isinstance(op, loop.ForeachOp)]
    assert len(nests) == 2
    assert "t1" in _memories(after)
    inputs = _chain_inputs()
    expected = interpreter.run(before, inputs, symbol="mlp")["Y"]
    np.testing.assert_array_equal(interpreter.run(after, inputs, symbol="mlp")["Y"], expected)


def test_refusal_leaves_the_ir_unchanged() -> None:
    """A matrix-vector product of a matrix-vector product: nothing to fuse, nothing changes."""
    text = """
func.func @twice(%W: tensor<8x8xf32>, %X: tensor<8xf32>) -> tensor<8xf32> {
  %w = loop.from_tensor %W : tensor<8x8xf32> -> memref<8x8xf32, #loop.space<sram>>
  %x = loop.from_tensor %X : tensor<8xf32> -> memref<8xf32, #loop.space<sram>>
  %t = loop.alloc : memref<8xf32, #loop.space<sram>>
  %y = loop.alloc : memref<8xf32, #loop.space<dram>>
  loop.foreach (%i) in (8) par (1) {
    %dot = loop.reduce add par 1 vec 1 (%k in 8) {
      %wv = loop.load %w[%i, %k] : memref<8x8xf32, #loop.space<sram>>
      %xv = loop.load %x[%k] : memref<8xf32, #loop.space<sram>>
      %p = loop.mul %wv, %xv : f32
      loop.yield %p : f32
    } : f32
    loop.store %dot, %t[%i] : memref<8xf32, #loop.space<sram>>
  }
  loop.foreach (%i) in (8) par (1) {
    %dot = loop.reduce add par 1 vec 1 (%k in 8) {
      %wv = loop.load %w[%i, %k] : memref<8x8xf32, #loop.space<sram>>
      %tv = loop.load %t[%k] : memref<8xf32, #loop.space<sram>>
      %p = loop.mul %wv, %tv : f32
      loop.yield %p : f32
    } : f32
    loop.store %dot, %y[%i] : memref<8xf32, #loop.space<dram>>
  }
  %Y = loop.to_tensor %y : memref<8xf32, #loop.space<dram>> -> tensor<8xf32>
  func.return %Y : tensor<8xf32>
}
"""
    assert compile_to(text, "loop-fuse").is_structurally_equivalent(parse(text))
