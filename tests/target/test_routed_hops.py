"""The routed design's hops (`rnnc.target.routed_hops`) and the cost model that uses them.

With every routed path cut to one switch, a step's longest chain counts its transfers:
they must be the transfers the model charges before placement (one into the map-reduce
units, one into each level of the combining tree, the element-wise chain and the gather
tree, a round trip per table level, one to write back), nest by nest, fused and
decomposed. The timing against the simulator is tests/backend/test_sim_time.py.
"""

from __future__ import annotations

import dataclasses

import pytest
from rnnc.dialects.spatial import DesignOp, design_of
from rnnc.driver.design_points import Compiled, compile_at
from rnnc.frontends import deepbench
from rnnc.target.arch import DEFAULT_ARCHITECTURE, load_architecture
from rnnc.target.cost import Factors, evaluate
from rnnc.target.design_view import design_view
from rnnc.target.first_loads import first_load_cycles
from rnnc.target.routed_hops import end_hops, routed_hops
from xdsl.dialects.builtin import ArrayAttr, DenseArrayBase, i64

ARCH = load_architecture(DEFAULT_ARCHITECTURE)


def _compiled(cell: str, factors: tuple[int, int, int] | None, precision: str,
              fuse: bool = True, schedules: str = "all") -> Compiled:
    text, _, _ = deepbench.generate(deepbench.Task(cell, 64, 5), "w.npz", 0)
    chosen = [Factors(*factors)] if factors else None
    return compile_at(text, ARCH, DEFAULT_ARCHITECTURE, chosen, precision=precision, fuse=fuse,
                      schedules=schedules)


def _design(compiled: Compiled) -> DesignOp:
    design = design_of(compiled.module)
    assert design is not None
    return design


def _one_switch_paths(compiled: Compiled) -> DesignOp:
    """A copy of the design with every path of the data and control streams cut to its
    first switch: every chain's hops count its transfers (and every done token and enable
    crosses one switch)."""
    design = _design(compiled).clone()
    for stream in design.streams():
        if stream.paths is not None:
            stream.paths = ArrayAttr(DenseArrayBase.from_list(i64, path.get_values()[:2])
                                     for path in stream.paths.data)
    return design


@pytest.mark.parametrize(("cell", "factors", "precision", "fuse"), [
    ("lstm", (1, 2, 16), "mixed", True),
    ("lstm", (2, 3, 16), "fp32", True),
    ("gru", (1, 2, 16), "mixed", True),
    ("rnn", (2, 2, 16), "fp32", True),
    ("lstm", None, "fp32", False),
    ("gru", None, "mixed", False),
])
def test_longest_chain_has_the_transfers_the_model_charges(
    cell: str, factors: tuple[int, int, int] | None, precision: str, fuse: bool
) -> None:
    # combining trees: every path of a nest crosses as many transfers (a chain of partial
    # sums has paths of every length, the routed critical one set by the enable's hops)
    compiled = _compiled(cell, factors, precision, fuse, schedules="none")
    (hops,) = routed_hops(_one_switch_paths(compiled))
    per_transfer = ARCH.transfer_latency()
    assert [h.wires for h in hops] == [n.fill.wires // per_transfer
                                       for n in compiled.estimate.nests]


def test_prediction_uses_the_routed_hops() -> None:
    compiled = _compiled("lstm", (2, 3, 16), "fp32")
    (hops,) = routed_hops(_design(compiled))
    (nest,) = compiled.cost.nests
    assert nest.fill.wires == hops[0].wires * ARCH.network.hop_latency_cycles
    assert nest.sync_cycles == (hops[0].control * ARCH.network.hop_latency_cycles
                                + ARCH.mechanisms.controller_cycles)
    # placed units are spread out: more hops than the estimate's neighbours, less control
    # than a handshake across the whole array
    assert nest.fill.wires > compiled.estimate.nests[0].fill.wires
    assert nest.sync_cycles < compiled.estimate.nests[0].sync_cycles


def _first_loads(compiled: Compiled) -> int:
    """The cycles x(0) takes to reach the chip (`rnnc.target.first_loads`), as
    `spatial-predict` charges them."""
    return first_load_cycles(design_view(_design(compiled)), ARCH)


def test_each_hop_costs_a_hop_latency_every_step() -> None:
    compiled = _compiled("rnn", (2, 2, 16), "fp32")
    ((hops,),) = routed_hops(_design(compiled))

    def cycles(extra_wires: int, extra_control: int) -> int:
        routed = dataclasses.replace(hops, wires=hops.wires + extra_wires,
                                     control=hops.control + extra_control)
        return evaluate(compiled.program, [n.factors for n in compiled.cost.nests], ARCH,
                        compiled.cost.precision, routed=[routed],
                        end_hops=end_hops(_design(compiled)),
                        first_loads=_first_loads(compiled)).total_cycles

    assert cycles(0, 0) == compiled.cost.total_cycles
    per_hop = 5 * ARCH.network.hop_latency_cycles  # 5 steps
    assert cycles(10, 0) - cycles(0, 0) == 10 * per_hop
    assert cycles(0, 3) - cycles(0, 0) == 3 * per_hop


def test_an_unrouted_stream_is_refused() -> None:
    unrouted = _design(_compiled("rnn", (2, 2, 16), "fp32")).clone()
    for stream in unrouted.streams():
        stream.properties.pop("paths", None)
    with pytest.raises(ValueError, match="is not routed"):
        routed_hops(unrouted)


def test_the_loop_ends_cost_their_routed_hops_once() -> None:
    """x(0) in and the last y out cross the chip once per inference, whatever the steps."""
    compiled = _compiled("rnn", (2, 2, 16), "fp32")
    ends = end_hops(_design(compiled))
    assert ends > 0

    def cycles(extra: int) -> int:
        return evaluate(compiled.program, [n.factors for n in compiled.cost.nests], ARCH,
                        compiled.cost.precision, routed=[routed_hops(_design(compiled))[0][0]],
                        end_hops=ends + extra, first_loads=_first_loads(compiled)).total_cycles

    assert cycles(0) == compiled.cost.total_cycles
    assert cycles(7) - cycles(0) == 7 * ARCH.network.hop_latency_cycles
