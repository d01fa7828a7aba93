"""`spatial-partition` builds the plan of every nest (`rnnc.target.plan.nest_plan`).

The partition reads its units, their weight slices and placement, its trees and the
element-wise grouping off each nest's plan at the nest's factors; what it still lays out
itself (operand PMUs shared by identical boxes, an element-wise unit's own PMUs, tables)
must come out as the plan counts. Checked at random design points of random LSTM/GRU/RNN
programs, fused and decomposed, batch 1 to 4, on the default chip and on chips with small
PMUs where weight slices are split over two PMUs or (partly) stream -- there also that the
address generators stream the bytes the plan streams. (The plan itself is tested by hand
in tests/target/test_plan.py, the cost model summing it against the simulator in
tests/backend/test_sim_time.py.)
"""

from __future__ import annotations

import os
import random
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from interpreters.test_loop_property import models
from loop_models import DECOMPOSED, FUSED, RnnModel, compile_to
from rnnc.analysis.program import nest_plan_of
from rnnc.dialects import loop
from rnnc.passes.loop_assign_resources import assign
from rnnc.passes.spatial_partition import PartitionError, partition
from rnnc.target.arch import architecture_from_dict, load_architecture
from rnnc.target.cost import Factors
from rnnc.target.machine import Machine, machine_from_module
from rnnc.target.stream_buffers import loaded_boxes
from target.test_plan import built, planned

ARCH = load_architecture("plasticine-rnn")


def assert_builds_the_plan(module, arch=ARCH, precision: str = "mixed") -> Machine:
    """Partition `module` (however many units it takes) and check that every nest's units,
    weight PMUs and their bytes, and other PMUs are its plan's; streamed weight slices load
    from DRAM the elements the plan streams."""
    machine = machine_from_module(partition(module, arch, precision, check=False))
    found = built(machine)
    nests = [op for op in module.walk() if isinstance(op, loop.ForeachOp)
             and not isinstance(op.parent_op(), loop.ForeachOp)]  # fmt: skip
    mode = arch.precision(precision)
    wbytes = mode.weight_bytes
    fifos = {u.id: u for u in machine.units if u.kind == "pmu" and u.banking == "fifo"}
    loaded = loaded_boxes(machine.units)
    consumer = {s.source.unit: s.sinks[0].unit for s in machine.streams if s.source.port == "vo0"}
    nest_of = {u.id: u.nest for u in machine.units if u.kind == "pcu"}
    for n, nest in enumerate(nests):
        plan = nest_plan_of(nest, arch, mode)
        assert +found[f"n{n}"] == +planned(plan), f"n{n}"
        streamed = sum(sum(b.elements for b in u.boxes if b in loaded) * wbytes
                       for u in fifos.values()
                       if nest_of[consumer[u.id]] == f"n{n}")  # fmt: skip
        assert streamed == int(plan.streamed_bytes), f"n{n}"
    return machine


def _random_point(module, rng: random.Random) -> None:
    for nest in module.walk():
        if isinstance(nest, loop.ForeachOp) and not isinstance(nest.parent_op(), loop.ForeachOp):
            has_reduce = any(isinstance(op, loop.ReduceOp) for op in nest.walk())
            hu = rng.randint(1, min(nest.trip_count, 24))
            ru, rv = (rng.randint(1, 12), rng.choice([1, 4, 16, 64])) if has_reduce else (1, 1)
            assign(nest, Factors(hu, ru, rv))


#: A chip whose PMUs hold 4 KiB: weight slices split over two PMUs or stream from DRAM.
SMALL = architecture_from_dict(
    {**ARCH.to_dict(), "name": "small-pmus", "pmu": {**ARCH.to_dict()["pmu"], "capacity_kib": 4}}
)


def _random_model(
    rng: random.Random, seed: int, sizes: tuple[int, int], batches: int
) -> RnnModel:
    """LSTM, GRU or RNN by seed; input and hidden sizes in `sizes`, batch 1..`batches`."""
    cell = ["lstm", "gru", "rnn"][seed % 3]
    return RnnModel(
        cell, rng.randint(*sizes), rng.randint(*sizes), 2, batch=rng.randint(1, batches),
        direction=rng.choice(["forward", "bidirectional"]),
        linear_before_reset=int(cell == "gru" and rng.random() < 0.5),
    )


@pytest.mark.parametrize("seed", range(36))
def test_random_design_points(seed: int) -> None:
    rng = random.Random(seed)
    model = _random_model(rng, seed, sizes=(3, 40), batches=4)
    module = compile_to(model.mlir(), FUSED if seed % 2 else DECOMPOSED)
    arch = SMALL if seed % 3 == 0 else ARCH
    # (the small chip's PMUs cannot hold mixed precision's 8 KiB lookup tables)
    precision = "fp32" if arch is SMALL else rng.choice(["mixed", "fp32"])
    # a legal point: one whose every PMU holds what it must (draw again otherwise)
    for _ in range(20):
        _random_point(module, rng)
        try:
            partition(module, arch, precision, check=False)
        except PartitionError as error:
            assert "must hold" in str(error)
            continue
        break
    assert_builds_the_plan(module, arch, precision)


def test_the_partition_fits_what_the_search_chose_with_batch() -> None:
    """Batch 4 compiles: the weight rows are shared by the batch (one slice per hidden-unit
    copy), so the plan has one weight read for all four."""
    model = RnnModel("lstm", 64, 64, 3, batch=4)
    module = compile_to(model.mlir(), FUSED + ",loop-assign-resources")
    machine = assert_builds_the_plan(module)
    weights = [u for u in machine.units if u.kind == "pmu" and u.holds and "w" in u.memories]
    rows = sum(
        len(range(*b.slices[1])) for u in weights for b in u.boxes if b.memory == "w"
    )
    assert rows == 4 * 64  # every weight row of W once: no copy per batch element


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(model=models(), seed=st.integers(0, 2**16), fused=st.booleans())
def test_property_builds_the_plan(model: RnnModel, seed: int, fused: bool) -> None:
    """Every attribute the loop level supports, at random design points. The partition
    refuses a nest whose element-wise units need more vector inputs than a PCU has only
    when its plan says so (`NestPlan.ports_fit`), and the point is drawn again."""
    module = compile_to(model.mlir(), FUSED if fused else DECOMPOSED)
    _random_point(module, random.Random(seed))
    precision = "mixed" if seed % 2 else "fp32"
    try:
        assert_builds_the_plan(module, ARCH, precision)
    except PartitionError as error:
        assert re.fullmatch(r"unit \S+ needs \d+ vector inputs, a PCU has \d+", str(error))
        nests = [n for n in module.walk() if isinstance(n, loop.ForeachOp)
                 and not isinstance(n.parent_op(), loop.ForeachOp)]  # fmt: skip
        mode = ARCH.precision(precision)
        assert not all(nest_plan_of(n, ARCH, mode).ports_fit(ARCH) for n in nests)
        assume(False)


def test_partition_is_byte_identical_across_hash_seeds(tmp_path: Path) -> None:
    """Same input, same output, whatever the interpreter's hash seed."""
    model = tmp_path / "model.mlir"
    model.write_text(RnnModel("gru", 12, 7, 3, batch=2, direction="bidirectional").mlir())
    outputs = set()
    for seed in ("1", "2"):
        result = subprocess.run(
            ["rnnc", str(model), "-p", DECOMPOSED + ",loop-assign-resources,spatial-partition"],
            capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )  # fmt: skip
        outputs.add(result.stdout)
    assert len(outputs) == 1 and "spatial.design" in next(iter(outputs))


#: A chip whose PMUs hold 16 KiB: fp32 weight slices of a few copies and parts stream, the
#: element-wise units' biases still fit.
STREAMING = architecture_from_dict(
    {**ARCH.to_dict(), "name": "16k-pmus", "pmu": {**ARCH.to_dict()["pmu"], "capacity_kib": 16}}
)


@pytest.mark.parametrize("seed", range(12))
def test_streamed_weights_on_a_small_pmu_chip(seed: int) -> None:
    """On 16 KiB PMUs, points with few copies and parts have weight slices that two PMUs
    cannot hold: the partition streams the slices and bytes of the plan (the bytes are the
    slices' elements)."""
    rng = random.Random(seed)
    model = _random_model(rng, seed, sizes=(96, 128), batches=2)
    module = compile_to(model.mlir(), FUSED if seed % 2 else DECOMPOSED)
    reducing = 0
    for nest in module.walk():
        if isinstance(nest, loop.ForeachOp) and not isinstance(nest.parent_op(), loop.ForeachOp):
            if not any(isinstance(op, loop.ReduceOp) for op in nest.walk()):
                assign(nest, Factors(rng.randint(1, 4), 1, 1))
                continue
            # the first matrix product in one copy of one part (its slices stream), the
            # others anywhere (resident, split or streamed)
            hu, ru = (1, 1) if reducing == 0 else (rng.randint(1, 4), rng.randint(1, 3))
            assign(nest, Factors(hu, ru, rng.choice([4, 16])))
            reducing += 1
    machine = assert_builds_the_plan(module, STREAMING, "fp32")
    assert any(u.kind == "pmu" and u.banking == "fifo" for u in machine.units)


def test_a_slot_two_levels_take_is_one_multicast_stream() -> None:
    """A GRU with linear_before_reset, clip and no bias: its candidate gate's x product
    (added after r scales the h product, two clip ops deeper) is packed with the h product
    into one slot, but element-wise level 1 takes it while level 0 takes the h product.
    The slot's port carries one stream, multicast to both levels (it once carried two,
    which the spatial verifier rejects: "already carries stream")."""
    model = RnnModel("gru", 3, 2, 2, bias=False, clip=1.0, linear_before_reset=1)
    # the pipeline verifies the spatial IR after the pass
    compile_to(model.mlir(), FUSED + ",loop-assign-resources,spatial-partition")
    module = compile_to(model.mlir(), FUSED + ",loop-assign-resources")
    machine = machine_from_module(partition(module, ARCH))
    sources = Counter(s.source for s in machine.streams)
    assert max(sources.values()) == 1
    levels = [{sink.unit.split("_")[1] for sink in s.sinks} for s in machine.streams
              if s.network == "scalar"]
    assert {"ew0", "ew1"} in levels
