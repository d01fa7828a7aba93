"""The spatial value interpreter checks the configuration it runs at every step.

Reads and writes outside their memories, reads outside the boxes of the PMUs that feed
them, and weights that are not numbers are errors or NaN in the outputs, whether an index
depends on the step (checked each step) or not (made and checked once, then reused).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from loop_models import FUSED, RnnModel, compile_to
from rnnc.interpreters.spatial_values import MachineError, run_machine
from rnnc.passes.spatial_partition import partition
from rnnc.target.arch import load_architecture
from rnnc.target.machine import PCU, PMU, Box, Machine, machine_from_module

ARCH = load_architecture("plasticine-rnn")
MODEL = RnnModel("rnn", 4, 3, 2)
LSTM = RnnModel("lstm", 4, 3, 2)


def _machine() -> Machine:
    module = compile_to(MODEL.mlir(), FUSED)
    return machine_from_module(partition(module, ARCH, "fp32", check=False))


def _with_offsets(machine: Machine, op_name: str, memory: str, offsets: list[int]) -> Machine:
    """`machine` with the offsets of every `op_name` of `memory` replaced."""

    def changed(op: Any) -> Any:
        if op.op != op_name or op.param("memory") != memory:
            return op
        params = tuple((k, offsets if k == "offsets" else v) for k, v in op.params)
        return dataclasses.replace(op, params=params)

    units = tuple(
        dataclasses.replace(u, ops=tuple(changed(op) for op in u.ops)) if isinstance(u, PCU)
        else u
        for u in machine.units
    )
    return dataclasses.replace(machine, units=units)


def test_the_unchanged_machine_runs() -> None:
    out = run_machine(_machine(), MODEL.inputs(0))
    assert all(np.isfinite(value).all() for value in out.values())


@pytest.mark.parametrize(
    ("op", "memory", "offsets", "message"),
    [
        # x is read at the step's row: shifted by one, only the last step is outside
        ("read", "x", [1, 0, 0],
         "a read of memory 'x' is out of bounds in dimension 1 (index 2..2, size 2)"),
        ("read", "w", [0, 0, 1],
         "a read of memory 'w' is out of bounds in dimension 3 (index 1..3, size 3)"),
        ("write", "y", [1, 0, 0, 0],
         "a write of memory 'y' is out of bounds in dimension 1 (index 2..2, size 2)"),
    ],
    ids=["read-at-a-later-step", "read-in-a-steady-index", "write-at-a-later-step"],
)
def test_an_access_out_of_bounds_is_caught(
    op: str, memory: str, offsets: list[int], message: str
) -> None:
    machine = _with_offsets(_machine(), op, memory, offsets)
    with pytest.raises(MachineError) as caught:
        run_machine(machine, MODEL.inputs(0))
    assert caught.value.message == message


def test_a_read_outside_its_pmus_boxes_is_caught() -> None:
    """The PMU feeding w's reads holds one column too few."""
    machine = _machine()

    def shrunk(box: Box) -> Box:
        if box.memory != "w":
            return box
        *rest, (start, stop, step) = box.slices
        return dataclasses.replace(box, slices=(*rest, (start, stop - 1, step)))

    units = tuple(
        dataclasses.replace(u, boxes=tuple(shrunk(b) for b in u.boxes)) if isinstance(u, PMU)
        else u
        for u in machine.units
    )
    with pytest.raises(MachineError, match="reads 'w' outside the boxes of the PMUs"):
        run_machine(dataclasses.replace(machine, units=units), MODEL.inputs(0))


def test_a_nan_weight_times_a_zero_input_shows_in_the_outputs() -> None:
    """NaN * 0 is NaN in the fold, as in numpy's element-wise sum (a matrix-vector
    product of a BLAS may skip zero factors: the fold must not)."""
    inputs = MODEL.inputs(0)
    inputs["X"] = np.zeros_like(inputs["X"])
    inputs["W"] = inputs["W"].copy()
    inputs["W"][0, 0, 0] = np.nan
    out = run_machine(_machine(), inputs)
    assert np.isnan(out["Y"][0, 0, 0, 0])
    assert np.isnan(out["Y_h"]).all()  # the recurrence spreads it to every unit


def test_a_value_read_before_a_write_keeps_what_it_read() -> None:
    """The LSTM's element-wise unit reads c (op 6) and writes the new c (op 16). Sending
    a copy of the value read (`max(%6, %6)`) instead of the new c computes h from the old
    c: the same whether that copy is made before or after the write."""
    module = compile_to(LSTM.mlir(), FUSED)
    machine = machine_from_module(partition(module, ARCH, "fp32", check=False))
    (unit,) = [u for u in machine.units if isinstance(u, PCU) and u.id == "n2_ew0_0"]
    assert (unit.ops[6].op, unit.ops[6].param("memory")) == ("read", "c")
    assert (unit.ops[16].op, unit.ops[16].param("memory")) == ("write", "c")
    copy = dataclasses.replace(unit.ops[15], op="max", args=("%6", "%6"))

    def sending_old_c(ops: tuple[Any, ...], sent: str) -> Machine:
        emits = tuple(dataclasses.replace(e, values=(sent, *e.values[1:])) for e in unit.emits)
        changed = dataclasses.replace(unit, ops=ops, emits=emits)
        return dataclasses.replace(machine, units=tuple(
            changed if u.id == unit.id else u for u in machine.units))

    after = run_machine(sending_old_c((*unit.ops, copy), "%17"), LSTM.inputs(0))
    before = run_machine(sending_old_c((*unit.ops[:16], copy, unit.ops[16]), "%16"),
                         LSTM.inputs(0))
    unchanged = run_machine(machine, LSTM.inputs(0))
    assert not np.allclose(after["Y_h"], unchanged["Y_h"])
    for name in unchanged:
        np.testing.assert_array_equal(after[name], before[name])
