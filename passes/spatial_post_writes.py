"""`spatial-post-writes`: the writes of a time loop that its steps need not wait for.

A step of the time loop ends when every unit it fires has sent its done token to the
sequential controller. Two kinds of write cannot matter to the next step: a store to DRAM
(y(t): nothing on the chip reads it back) and a write into a PMU that no unit of the loop
reads (a copy of h kept for the read-out after the loop). With the `posted-writes`
schedule, those units are listed in the loop phase's `posted` field of the design's
program (config.json's `program.schedule[k].posted`): their done tokens leave the step's
done set, and only the loop's end waits for them (`rnnc sim` times it so; the loader
refuses a posted write that the next step could depend on, `rnnc.backend.posted_writes`).

    rnnc model.mlir --emit=spatial     (the default pipeline runs it after spatial-partition)

With `--schedules none` (or without `posted-writes`) the design is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnc.dialects.spatial import DesignOp, design_of, from_attr, to_attr
from rnnc.target.machine import AG, PCU, PMU, Machine, Phase, machine_from_module, to_data
from rnnc.target.schedules import enabled_schedules
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException


def posted_writes(machine: Machine, phase: Phase) -> tuple[str, ...]:
    """The units of a loop phase whose writes can be posted: store AGs that the phase's
    units feed, and PMUs that they write and none of them reads (in unit order). A loop of
    one step posts nothing: no next step could start before the writes land."""
    if phase.kind != "loop" or phase.steps < 2:
        return ()
    units = {unit.id: unit for unit in machine.units}
    nests = set(phase.nests)

    def in_phase(unit_id: str) -> bool:
        unit = units[unit_id]
        return isinstance(unit, PCU) and unit.nest in nests

    written, read = set(), set()
    for stream in machine.streams:
        sinks = [sink.unit for sink in stream.sinks]
        if in_phase(stream.source.unit):
            written.update(sinks)
        if any(in_phase(sink) for sink in sinks):
            read.add(stream.source.unit)
    return tuple(
        unit.id for unit in machine.units
        if unit.id in written and unit.id not in read
        and ((isinstance(unit, AG) and unit.direction == "store") or isinstance(unit, PMU))
    )


@dataclass(frozen=True)
class SpatialPostWritesPass(ModulePass):
    """List each time loop's posted writes on the design (see the module doc).

    Options: `schedules` (`rnnc.target.schedules`): the pass does nothing without
    `posted-writes`."""

    name = "spatial-post-writes"
    #: it sets only the design's program (`rnnc.driver.pipeline.VERIFY_SCOPES`)
    VERIFY_AFTER: ClassVar[str] = "units"

    schedules: str = "all"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        try:
            chosen = enabled_schedules(self.schedules)
        except ValueError as error:
            raise PassFailedException(f"{self.name}: schedules: {error}") from None
        design = design_of(op)
        if design is None:
            raise PassFailedException(f"{self.name}: no spatial.design; run "
                                      "spatial-partition first")
        if "posted-writes" in chosen:
            post(design)


def post(design: DesignOp) -> None:
    """Write each loop phase's posted writes into the design's program."""
    machine = machine_from_module(design)
    schedule = []
    for phase in machine.schedule:
        posted = posted_writes(machine, phase)
        schedule.append(Phase(phase.kind, phase.steps, phase.nests, posted or None))
    program = from_attr(design.program)
    program["schedule"] = to_data(tuple(schedule))
    design.program = to_attr(program)
