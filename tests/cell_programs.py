"""The cost model's view of the three RNN cells, written by hand: the reference programs
the tests cost and search at any size without building a model.

`tests/analysis/test_loop_program.py` checks that each equals what `rnnc.analysis.program`
reads off the loop level that `rnn-decompose` and `loop-fuse` produce, so a test that uses
them costs the program the compiler would build.
"""

from __future__ import annotations

from rnnc.dialects import rnn
from rnnc.target.cost import CostError, NestSpec, ProgramSpec

# Critical path of the fused cell's element-wise ops after the gates' dot products.
# LSTM: bias add, LUT (sigmoid/tanh), {f*c, i*j}, add -> c, tanh LUT, * o -> h.
# GRU (linear_before_reset, the cuDNN form that runs in one pass, paper-notes §2.2):
#   bias add, sigmoid LUT (r), r * (Rn h + Rbn), + (Wn x + Wbn), tanh LUT -> n,
#   (1 - z) * n, + z * h -> h.
# RNN: bias add, tanh LUT.
FUSED_DEPTH = {"lstm": 6, "gru": 7, "rnn": 2}


def _cell_gates(cell: str) -> int:
    if cell not in rnn.CELLS:
        raise CostError(f"unknown cell '{cell}' (expected one of {', '.join(rnn.CELLS)})")
    return rnn.CELLS[cell].gate_count()


def _bias_elems(cell: str, hidden: int) -> int:
    """ONNX has input and recurrent biases; they are pre-summed per gate, except the GRU
    candidate gate's recurrent bias, which linear_before_reset multiplies by r."""
    gates = _cell_gates(cell)
    return gates * hidden + (hidden if cell == "gru" else 0)


def _state_elems(cell: str, hidden: int, input: int) -> int:
    """h and x double-buffered (step t reads h(t-1) and x(t) while h(t) and x(t+1) are
    written); LSTM's c is read and written by the same iteration, so single-buffered."""
    return 2 * hidden + 2 * input + (hidden if cell == "lstm" else 0)


def fused_cell_program(cell: str, hidden: int, input: int, steps: int) -> ProgramSpec:
    """The paper's fused cell: one foreach over the hidden units whose body holds the G
    gates' dot products over [x, h] (length D + H) and the whole element-wise update."""
    gates = _cell_gates(cell)
    reduction = input + hidden
    nest = NestSpec(
        name=f"{cell}_cell",
        extent=hidden,
        reductions=(reduction,) * gates,
        segments=((input, hidden),) * gates,  # [W R]
        # the x segment reads nothing the time loop writes: computable a step ahead (the
        # GRU's candidate, r * (R h), packs its x and h products apart: no such slot)
        ahead=(input,) * gates if cell != "gru" else (),
        elementwise_depth=FUSED_DEPTH[cell],
        weight_elems=gates * hidden * reduction + _bias_elems(cell, hidden),
        buffer_elems=0,
        shape=(1, 1, hidden),
        weight_dims=(0, 2),
        operand_dims=(0, 1),
        **FUSED_LAYOUT[cell],
    )
    return ProgramSpec(steps, (nest,), _state_elems(cell, hidden, input))


# The layout of the fused cells' nest (direction forward, batch 1) as `rnnc.analysis.layout`
# reads it off the loop program: foreach (d, b, i); weights depend on d and i, the [x, h]
# operand on d and b; LSTM: bias adds of the 4 gates side by side, i*j and f*c and the
# tanh(c) * o crossing into a second PCU of the chain; GRU (linear_before_reset, one pass):
# 3 gates, the candidate's x and h products apart (so its units read other operand ranges
# than z's and r's), 2 levels; RNN: one level.
# An element-wise PCU of each uses at most 2 vector inputs: its PMU (or the stream from the
# level before) and its lookup table.
FUSED_LAYOUT: dict[str, dict] = {
    "lstm": {"width": 4, "live": 2, "results": 4, "read_groups": (1, 0), "lut_levels": 2,
             "operand_groups": ((0, 1, 2, 3),), "vector_inputs": 2},
    "gru": {"width": 4, "live": 3, "results": 3, "read_groups": (1, 0), "lut_levels": 2,
            "operand_groups": ((0, 1), (2,)), "vector_inputs": 2},
    "rnn": {"width": 1, "live": 0, "results": 1, "read_groups": (1,), "lut_levels": 1,
            "operand_groups": ((0,),), "vector_inputs": 2},
}  # fmt: skip


def _elementwise(name: str, extent: int, weights: int = 0, lut: bool = False) -> NestSpec:
    """One BLAS-style element-wise kernel: one op per element into a full buffer, reading
    its operands from one PMU of its own per PCU."""
    return NestSpec(name, extent, (), 1, weights, extent, lut_levels=int(lut))


def decomposed_cell_program(cell: str, hidden: int, input: int, steps: int) -> ProgramSpec:
    """The BLAS-style program the paper argues against (cuDNN/TensorFlow structure):
    separate matrix-vector products for W x and R h over all gates stacked, then one
    kernel per element-wise op, each writing a full intermediate buffer."""
    gates = _cell_gates(cell)
    rows = gates * hidden
    nests = [
        NestSpec("mv_x", rows, (input,), 0, rows * input, rows, read_groups=(0,)),
        NestSpec("mv_h", rows, (hidden,), 0, rows * hidden, rows, read_groups=(0,)),
    ]
    if cell == "gru":
        nests += [
            _elementwise("add_bias_x", rows, rows),
            _elementwise("add_bias_h", rows, rows),
            _elementwise("add_rz", 2 * hidden),
            _elementwise("sigmoid_r", hidden, lut=True),
            _elementwise("sigmoid_z", hidden, lut=True),
            _elementwise("mul_r_hn", hidden),
            _elementwise("add_n", hidden),
            _elementwise("tanh_n", hidden, lut=True),
            _elementwise("one_minus_z", hidden),
            _elementwise("mul_zn", hidden),
            _elementwise("mul_zh", hidden),
            _elementwise("add_h", hidden),
        ]
    else:
        nests += [_elementwise("add_xh", rows), _elementwise("add_bias", rows, rows)]
        if cell == "lstm":
            nests += [
                _elementwise("sigmoid_i", hidden, lut=True),
                _elementwise("tanh_j", hidden, lut=True),
                _elementwise("sigmoid_f", hidden, lut=True),
                _elementwise("sigmoid_o", hidden, lut=True),
                _elementwise("mul_fc", hidden),
                _elementwise("mul_ij", hidden),
                _elementwise("add_c", hidden),
                _elementwise("tanh_c", hidden, lut=True),
                _elementwise("mul_oh", hidden),
            ]
        else:
            nests.append(_elementwise("tanh_h", hidden, lut=True))
    return ProgramSpec(steps, tuple(nests), _state_elems(cell, hidden, input))
