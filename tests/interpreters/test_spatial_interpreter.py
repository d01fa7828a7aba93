"""The spatial level computes what the rnn level computes.

`spatial-partition` output runs on the machine-description interpreter (`spatial_values`),
which evaluates every unit from its configuration; the rnn-level interpreter (ONNX
semantics, checked against onnxruntime elsewhere) is the reference. Random models with
every attribute the loop level supports, fused and decomposed, at random design points
(foreach copies, reduction parts and lanes), agree to 1e-5 relative in fp32.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loop_models import DECOMPOSED, FUSED, RnnModel, compile_to, parse, relative_error
from rnnc import interpreters as interpreter
from rnnc.dialects import loop
from rnnc.interpreters.spatial_values import MachineError, run_machine
from rnnc.numerics.precision import MIXED, compare_outputs
from rnnc.passes.loop_assign_resources import assign
from rnnc.passes.spatial_partition import partition
from rnnc.target.arch import architecture_from_dict, load_architecture
from rnnc.target.cost import Factors
from rnnc.target.machine import PCU, PMU, machine_from_module
from test_loop_property import models

ARCH = load_architecture("plasticine-rnn")
TOLERANCE = 1e-5


def _random_factors(module, rng: random.Random) -> None:
    """Random par/vec on every nest (a design point the search could have chosen)."""
    for nest in module.walk():
        if isinstance(nest, loop.ForeachOp) and not isinstance(nest.parent_op(), loop.ForeachOp):
            has_reduce = any(isinstance(op, loop.ReduceOp) for op in nest.walk())
            hu = rng.randint(1, nest.trip_count)
            ru, rv = (rng.randint(1, 4), rng.randint(1, 5)) if has_reduce else (1, 1)
            assign(nest, Factors(hu, ru, rv))


def spatial_outputs(model: RnnModel, pipeline: str, inputs, seed: int, precision: str = "fp32"):
    module = compile_to(model.mlir(), pipeline)
    _random_factors(module, random.Random(seed))
    machine = machine_from_module(partition(module, ARCH, precision, check=False))
    return run_machine(machine, inputs), machine


CASES = [
    RnnModel("lstm", 7, 5, 3),
    RnnModel("gru", 6, 4, 3, linear_before_reset=1),
    RnnModel("gru", 5, 3, 4, direction="reverse"),
    RnnModel("rnn", 9, 4, 3, activations=("Relu",)),
    RnnModel("lstm", 6, 3, 4, direction="bidirectional", sequence_lens=True, batch=2),
    RnnModel("lstm", 5, 3, 4, clip=0.5, initial=True, peepholes=True, batch=3, layout=1),
    RnnModel("gru", 5, 3, 4, batch=2, sequence_lens=True, direction="bidirectional"),
]


@pytest.mark.parametrize("model", CASES, ids=lambda m: f"{m.cell}-{m.hidden}-{m.direction}")
@pytest.mark.parametrize("pipeline", [FUSED, DECOMPOSED], ids=["fused", "decomposed"])
def test_spatial_level_agrees_with_the_rnn_level(model: RnnModel, pipeline: str) -> None:
    inputs = model.inputs(1)
    expected = interpreter.run(parse(model.mlir()), inputs)
    for seed in range(3):
        got, _ = spatial_outputs(model, pipeline, inputs, seed)
        for name in model.results:
            assert relative_error(got[name], expected[name]) <= TOLERANCE, (name, seed)


def test_rnnc_run_executes_the_spatial_module() -> None:
    """The `run` entry point takes a module after spatial-partition, and the printed IR
    round-trips to the same machine."""
    model = RnnModel("lstm", 6, 4, 3)
    pipeline = FUSED + ",loop-assign-resources,spatial-partition{precision=fp32}"
    module = compile_to(model.mlir(), pipeline)
    inputs = model.inputs(2)
    got = interpreter.run(module, inputs)
    expected = interpreter.run(parse(model.mlir()), inputs)
    for name in model.results:
        assert relative_error(got[name], expected[name]) <= TOLERANCE
    machine = machine_from_module(module)
    assert machine_from_module(parse(str(module))) == machine


def test_mixed_precision_is_close_to_the_loop_levels_emulation() -> None:
    """In `mixed` the map-reduce folds as precision.dot and activations read lookup tables
    in PMUs. The loop interpreter folds a whole reduction as one stream of pairs while the
    units fold their own ranges, so the float16 pairs at part boundaries differ: agreement
    is at the level of the 8-bit arithmetic's own error, not bit for bit."""
    model = RnnModel("lstm", 16, 12, 4)
    inputs = model.inputs(3)
    module = compile_to(model.mlir(), FUSED)
    _random_factors(module, random.Random(0))
    loop_level = interpreter.run(module, inputs, precision=MIXED)
    reference = interpreter.run(parse(model.mlir()), inputs)
    machine = machine_from_module(partition(module, ARCH, "mixed", check=False))
    assert any(u.kind == "pmu" and u.lut for u in machine.units)
    got = run_machine(machine, inputs, precision=MIXED)
    ours = compare_outputs(loop_level, got)
    theirs = compare_outputs(reference, loop_level)
    for name in model.results:
        assert ours[name].max_abs <= max(theirs[name].max_abs, 1e-3)


def test_a_unit_fed_the_wrong_memory_is_caught() -> None:
    """A read whose port is fed by a PMU that does not hold the memory is an error, not a
    number: the interpreter checks the configuration it runs."""
    model = RnnModel("rnn", 4, 3, 2)
    module = compile_to(model.mlir(), FUSED)
    machine = machine_from_module(partition(module, ARCH, "fp32", check=False))
    pmus = [u for u in machine.units if u.kind == "pmu" and u.boxes]
    swapped = {pmus[0].id: pmus[-1], pmus[-1].id: pmus[0]}
    import dataclasses

    units = tuple(
        dataclasses.replace(swapped[u.id], id=u.id) if u.id in swapped else u
        for u in machine.units
    )
    with pytest.raises(MachineError, match="reads"):
        run_machine(dataclasses.replace(machine, units=units), model.inputs(0))


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(model=models(), seed=st.integers(0, 2**16), fused=st.booleans())
def test_property_spatial_agrees_with_rnn(model: RnnModel, seed: int, fused: bool) -> None:
    inputs = model.inputs(seed)
    expected = interpreter.run(parse(model.mlir()), inputs)
    got, _ = spatial_outputs(model, FUSED if fused else DECOMPOSED, inputs, seed)
    for name in model.results:
        assert np.all(np.isfinite(got[name]))
        assert relative_error(got[name], expected[name]) <= TOLERANCE, name


#: PMUs of 16 KiB: at one copy and one part an fp32 weight slice of a model with ~100
#: hidden units does not fit two PMUs, so it streams from DRAM.
STREAMING = architecture_from_dict(
    {**ARCH.to_dict(), "name": "16k-pmus", "pmu": {**ARCH.to_dict()["pmu"], "capacity_kib": 16}}
)


@pytest.mark.parametrize(("model", "pipeline"), [
    (RnnModel("lstm", 100, 96, 2), FUSED),
    (RnnModel("gru", 97, 100, 2, linear_before_reset=1, batch=2), FUSED),
    (RnnModel("lstm", 100, 96, 2, direction="bidirectional"), DECOMPOSED),
], ids=["lstm-fused", "gru-fused", "lstm-decomposed"])
def test_streamed_weights_compute_what_the_rnn_level_computes(model: RnnModel,
                                                              pipeline: str) -> None:
    """Weight slices that stream from DRAM (all of a slice, or all but a head of rows held
    in a PMU, read on the unit's two weight inputs) give the rnn level's values."""
    module = compile_to(model.mlir(), pipeline)
    for nest in module.walk():
        if isinstance(nest, loop.ForeachOp) and not isinstance(nest.parent_op(), loop.ForeachOp):
            has_reduce = any(isinstance(op, loop.ReduceOp) for op in nest.walk())
            assign(nest, Factors(1, 1, 16) if has_reduce else Factors(1, 1, 1))
    machine = machine_from_module(partition(module, STREAMING, "fp32", check=False))
    fifo = {u.id for u in machine.units if isinstance(u, PMU) and u.banking == "fifo"}
    feeds = {(sink.unit, sink.port): s.source.unit for s in machine.streams for sink in s.sinks}
    headed = [
        op for u in machine.units if isinstance(u, PCU) for op in u.ops
        if op.op == "read" and "," in op.param("port")
        and any(feeds[(u.id, p)] in fifo for p in op.param("port").split(","))
    ]
    assert fifo and headed
    inputs = model.inputs(3)
    got = run_machine(machine, inputs)
    expected = interpreter.run(parse(model.mlir()), inputs)
    for name in model.results:
        assert relative_error(got[name], expected[name]) <= TOLERANCE, name


def test_gathers_of_one_configuration_receiving_unlike_streams_compute_apart() -> None:
    """16 writers of h and y (two values each) merge three at a time: the second level's
    gathers have one configuration (three whole streams passed on) but receive 6, 6, 6 and
    6, 6, 2 values. Stacked as one group they took the first's value counts for both
    ("port vi2 carries 2 values, not value 2"); they may share a group only when what they
    receive is alike."""
    model = RnnModel("lstm", 4, 2, 2, batch=4)
    module = compile_to(model.mlir(), FUSED)
    for nest in module.walk():
        if isinstance(nest, loop.ForeachOp) and not isinstance(nest.parent_op(), loop.ForeachOp):
            has_reduce = any(isinstance(op, loop.ReduceOp) for op in nest.walk())
            assign(nest, Factors(16, 1, 5) if has_reduce else Factors(1, 1, 1))
    machine = machine_from_module(partition(module, ARCH, "fp32", check=False))
    feeds = {(sink.unit, sink.port): s.source.unit for s in machine.streams for sink in s.sinks}
    second = sorted(u.id for u in machine.units if "_ga1_l1_" in u.id)
    # the second gather's last input is a writer's stream, passed by the first level
    assert len(second) == 2 and feeds[(second[1], "vi2")].split("_")[1] == "ew1"
    inputs = model.inputs(4)
    got = run_machine(machine, inputs)
    expected = interpreter.run(parse(model.mlir()), inputs)
    for name in model.results:
        assert relative_error(got[name], expected[name]) <= TOLERANCE, name
