"""The machine description: a design in the IR read as a Machine, and Machine <-> plain
data round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rnnc.driver.pipeline import make_context, parse_module
from rnnc.target.machine import (
    PCU,
    Box,
    Emit,
    Machine,
    Reduce,
    Segment,
    from_data,
    machine_from_module,
    to_data,
)

SPATIAL_TESTS = Path(__file__).parents[1] / "filecheck" / "dialects" / "spatial"
ROUNDTRIP = SPATIAL_TESTS / "roundtrip.mlir"
TINY = SPATIAL_TESTS / "Inputs" / "tiny.json"


def _machine() -> Machine:
    ctx = make_context(str(TINY))  # the architecture the design names
    module, _ = parse_module(ctx, ROUNDTRIP.read_text(), str(ROUNDTRIP))
    return machine_from_module(module)


def test_data_round_trip() -> None:
    """The emitter's `to_data` and the loader's `from_data` are inverses."""
    machine = _machine()
    text = json.dumps(to_data(machine), sort_keys=True)
    assert from_data(Machine, json.loads(text)) == machine


def test_units_and_streams_read_back() -> None:
    machine = _machine()
    assert [u.kind for u in machine.units] == ["ag"] * 2 + ["pmu"] * 3 + ["pcu"] * 5
    # the typed parameters of a unit's ops read back as the configuration's plain ones
    read, const, cmpi, sigmoid, write = machine.unit("io").ops  # type: ignore[union-attr]
    assert dict(read.params) == {"memory": "w", "port": "vi0,vi2", "offsets": (1,)}
    assert dict(const.params) == {"value": 0.25, "type": "float"}
    assert dict(cmpi.params) == {"predicate": 2}
    assert dict(sigmoid.params) == {"alpha": 0.2, "beta": 0.5}
    assert dict(write.params) == {"memory": "y", "port": "vo0", "offsets": (0,),
                                  "buffer_offset": 1}
    assert machine.unit("t_0").lut == (  # type: ignore[union-attr]
        "tanh:64:8:linear,hard_sigmoid(alpha=0.2,beta=0.5):64:4.5:nearest")
    assert machine.unit("mr_0").site == (0, 1)
    assert machine.unit("ew_0").site is None
    assert machine.unit("w_0").holds[0].array == "W"  # type: ignore[union-attr]
    assert machine.unit("w_in").boxes[1] == Box("w", ((4, 8, 2), (0, 4, 1)), True)  # type: ignore[union-attr]
    stream = machine.streams[2]
    assert stream.paths == (((0, 1), (0, 2), (1, 2)),)
    assert (machine.arch, machine.arch_digest) == ("tiny", "")


def test_a_pcu_body_reads_back_as_operand_references() -> None:
    """Counters, inputs and earlier ops of a PCU's body are its ops' `ctr:`, `in:` and `%n`
    references; a segment with no value folds ""."""
    machine = _machine()
    mr = machine.unit("mr_0")
    assert isinstance(mr, PCU)
    assert [(op.stage, op.op, op.args) for op in mr.ops] == [
        (0, "read", ("ctr:d0", "ctr:k")), (1, "mul", ("%0", "in:vi1"))]
    assert mr.ops[0].param("offsets") == (0, 0)
    assert mr.reduce == Reduce("add", "so0", (Segment("r0", 0, 4, "%1"), Segment("r0", 4, 4, "")),
                               (), 4)
    combine, ew = machine.unit("cb_0"), machine.unit("ew_0")
    assert isinstance(combine, PCU) and isinstance(ew, PCU)
    assert combine.reduce is not None and combine.reduce.inputs == ("in:si0", "in:si1")
    assert ew.emits == (Emit("vo0", ("%0", "in:si0,si1.1")),)
    assert ew.copies == (0, 1)


def test_malformed_data_names_the_field() -> None:
    data = to_data(_machine())
    del data["units"][5]["counters"]
    with pytest.raises(ValueError, match=r"Machine.units\[5\]: missing field 'counters'"):
        from_data(Machine, data)
    data = to_data(_machine())
    data["units"][0]["kind"] = "gpu"
    with pytest.raises(ValueError, match="expected a unit with kind pcu, pmu or ag"):
        from_data(Machine, data)


def test_program_reads_back() -> None:
    """The design's program ops are the machine's program fields, in the config's spelling
    (`init` as `kind:source`, an input bound to no memory as "", a phase's posted writes)."""
    machine = _machine()
    assert [(m.name, m.space, m.init) for m in machine.memories] == [
        ("x", "dram", "input:X"), ("w", "sram", "weight:W"), ("b", "sram", "weight:n0.folded"),
        ("h", "sram", "zero"), ("y", "dram", "undefined")]
    assert machine.memory("w").element_bytes == 1 and machine.memory("h").buffers == 2
    assert [(b.name, b.shape, b.memory) for b in machine.inputs] == [
        ("X", (2, 1, 4), "x"), ("unused", (1,), "")]
    assert [(b.name, b.memory) for b in machine.outputs] == [("Y", "y")]
    assert [(n.id, n.extents, n.par) for n in machine.nests] == [("cell", (4, 8), (1, 2))]
    assert [(p.nest, p.hu, p.ru, p.rv) for p in machine.design] == [("cell", 2, 1, 4)]
    assert [(p.kind, p.steps, p.nests, p.posted) for p in machine.schedule] == [
        ("once", 1, ("cell",), None), ("loop", 2, ("cell",), ("x_0",))]
