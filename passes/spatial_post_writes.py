"""`spatial-post-writes`: the writes of a time loop that its steps need not wait for.

A step of the time loop ends when every unit it fires has sent its done token to the
sequential controller. Two kinds of write cannot matter to the next step: a store to DRAM
(y(t): nothing on the chip reads it back) and a write into a PMU that no unit of the loop
reads (a copy of h kept for the read-out after the loop). With the `posted-writes`
schedule, those units are listed as the `posted` writes of the loop's `spatial.phase`
(config.json's `program.schedule[k].posted`): their done tokens leave the step's
done set, and only the loop's end waits for them (`rnnc sim` times it so; the loader
refuses a posted write that the next step could depend on, `rnnc.backend.posted_writes`).

    rnnc model.mlir --emit=spatial     (the default pipeline runs it after spatial-partition)

With `--schedules none` (or without `posted-writes`) the design is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnc.dialects.spatial import (
    AGDirection,
    AGOp,
    DesignOp,
    Network,
    PCUOp,
    PhaseKind,
    PhaseOp,
    PMUOp,
)
from rnnc.target.registry import design_for_pass
from rnnc.target.schedules import pass_schedules
from xdsl.context import Context
from xdsl.dialects.builtin import ArrayAttr, ModuleOp, StringAttr
from xdsl.passes import ModulePass


def posted_writes(design: DesignOp, phase: PhaseOp) -> tuple[str, ...]:
    """The units of a loop phase whose writes can be posted: store AGs that the phase's
    units feed, and PMUs that they write and none of them reads (in unit order). A loop of
    one step posts nothing: no next step could start before the writes land."""
    if phase.kind.data != PhaseKind.LOOP or phase.steps.data < 2:
        return ()
    units = {unit.unit_id: unit for unit in design.units()}
    nests = set(phase.nest_ids)

    def in_phase(unit_id: str) -> bool:
        unit = units[unit_id]
        return isinstance(unit, PCUOp) and unit.nest.data in nests

    written, read = set(), set()
    for stream in design.streams():
        if stream.network.data == Network.CONTROL:
            continue
        source = stream.source_endpoint[0]
        sinks = [unit for unit, _ in stream.sink_endpoints]
        if in_phase(source):
            written.update(sinks)
        if any(in_phase(sink) for sink in sinks):
            read.add(source)
    return tuple(
        unit.unit_id for unit in design.units()
        if unit.unit_id in written and unit.unit_id not in read
        and ((isinstance(unit, AGOp) and unit.direction.data == AGDirection.STORE)
             or isinstance(unit, PMUOp))
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
        chosen = pass_schedules(self.name, self.schedules)
        design = design_for_pass(op, self.name)
        if "posted-writes" in chosen:
            post(design)


def post(design: DesignOp) -> None:
    """Write each loop phase's posted writes on it (none: no `posted`)."""
    for phase in design.phases():
        posted = posted_writes(design, phase)
        if posted:
            phase.posted = ArrayAttr(StringAttr(unit) for unit in posted)
        else:
            phase.properties.pop("posted", None)
