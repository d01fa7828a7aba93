"""The checks of a `spatial.design` that need its architecture.

The dialect's verifiers check what a design says on its own (enums, port names and
directions, stream networks, one stream per port, operands that refer to earlier ops).
Whether it fits the chip it names -- sites on the grid and of the unit's kind, lanes and
pipeline stages of each PCU, ports that each unit kind has, bytes each PMU holds -- is
`verify_design`, which the driver runs after every pass on a module holding a design and
`spatial-verify` runs too. The architecture is an argument: one the caller looked up (e.g.
in its context's `rnnc.target.registry.ArchitectureRegistry`), never reloaded here.
"""

from __future__ import annotations

from rnnc.dialects.spatial import (
    UNIT_NAMES,
    AGOp,
    DesignOp,
    PCUOp,
    PMUOp,
    UnitKind,
    UnitOp,
)
from rnnc.target.arch import Architecture
from xdsl.ir import Operation
from xdsl.utils.exceptions import VerifyException


class DesignError(VerifyException):
    """A design that does not fit its architecture; `op` is the unit or stream at fault."""

    def __init__(self, op: Operation, error: VerifyException):
        super().__init__(str(error))
        self.op = op


def verify_design(design: DesignOp, arch: Architecture) -> None:
    """Check every unit and stream of `design` against `arch`; the first problem is raised
    as a `DesignError` naming the unit or stream, the resource and the limit."""
    units = {unit.unit_id: unit for unit in design.units()}
    for unit in units.values():
        try:
            _verify_site(unit, arch)
            _verify_unit(unit, arch)
        except VerifyException as error:
            raise DesignError(unit, error) from None
    for stream in design.streams():
        ends = [(stream.source_endpoint, "out")] + [(sink, "in") for sink in stream.sink_endpoints]
        for (unit_id, port), direction in ends:
            if unit_id not in units:
                continue  # the controller: a switch's control block, not a unit with ports
            try:
                _check_port(units[unit_id], port, arch, direction)
            except VerifyException as error:
                raise DesignError(stream, error) from None


def _ag_rows(arch: Architecture) -> int:
    """The rows AGs may sit in: one per unit row, or one per edge switch (rows + 1) when
    the architecture wires them to the switches."""
    return arch.grid.rows + (arch.network.address_generator_attachment == "switch")


def _verify_site(unit: UnitOp, arch: Architecture) -> None:
    site = unit.site_value
    if site is None:
        return
    row, col = site
    rows, cols = arch.grid.rows, arch.grid.cols
    span = _ag_rows(arch) if unit.KIND == UnitKind.AG else rows
    if not 0 <= row < span:
        raise unit.fail(f"site row {row} is outside the {span} rows of the grid")
    if isinstance(unit, AGOp):
        edge = unit.edge.data
        want = -1 if edge == "left" else cols
        if col != want:
            raise unit.fail(
                f"an address generator on the {edge} edge sits at column {want}, got {col}"
            )
        return
    if not 0 <= col < cols:
        raise unit.fail(f"site column {col} is outside the {cols} columns of the grid")
    kind = arch.grid.unit_at(row, col)
    if kind != unit.KIND:
        raise unit.fail(f"site ({row}, {col}) holds a {kind}, not a {unit.KIND}")


def _verify_unit(unit: UnitOp, arch: Architecture) -> None:
    if isinstance(unit, PCUOp):
        used, lanes = unit.lanes.data, arch.pcu.lanes
        if not 1 <= used <= lanes:
            raise unit.fail(f"uses {used} lanes, the PCU has {lanes}")
        stages = unit.stages
        if stages > arch.pcu.stages:
            raise unit.fail(
                f"its ops occupy {stages} pipeline stages, the PCU has {arch.pcu.stages}"
            )
    if isinstance(unit, PMUOp):
        capacity, held = arch.pmu.capacity_bytes, unit.bytes.data
        if held > capacity:
            raise unit.fail(
                f"holds {held} bytes, {held - capacity} more than its capacity of {capacity}"
            )
    for port in sorted(unit.ports()):
        _check_port(unit, port, arch)


def _check_port(unit: UnitOp, port: str, arch: Architecture, direction: str | None = None) -> None:
    """The port exists on the unit's kind: its index is below the architecture's count."""
    network, way, index = unit.check_port(port, direction)
    plural = "inputs" if way == "in" else "outputs"
    limit = arch.ports(unit.KIND, network, plural)
    if index >= limit:
        raise unit.fail(
            f"port {port} does not exist: {UNIT_NAMES[unit.KIND]} has {limit} {network} "
            f"{plural}"
        )


__all__ = ["DesignError", "verify_design"]
