"""An independent check of a placed and routed design against its architecture.

`check_design` is the core of `spatial-verify`, and of `rnnc sim`'s check of a loaded
configuration. It shares no code with the placer (`placement.py`), the router
(`routing.py`) or their network model (`network.py`): the geometry of sites, corner
switches, edge address generators and links is recomputed here from the architecture's
fields, so that a mistake in one is caught by the other.

It reads any design whose units have `id`, `kind` ("pcu", "pmu", "ag"), `site` (row, col)
and, for PMUs, `bytes`, for AGs `edge`; and whose streams have `id`, `network`, `source`
and `sinks` (each with `unit` and `port`, a port named like `vo0`: network initial, `i` or
`o`, index) and `paths` (per sink, the (row, col) switches it crosses) -- the machine
description (`rnnc.target.machine.Machine`) and a loaded config.json both qualify.

Checked: every unit sits on a site of its kind inside the chip (AGs on their edge), no
two units share a site; every port exists on its unit and carries at most one stream; every
stream has one path per sink, each a chain of orthogonally adjacent switches from a switch
the producer is wired to to a switch the consumer is wired to; per network, no directed
link between two switches carries more streams than the architecture's links per direction
(a stream counts once per link however many of its paths cross it); every path is simple.

`check_machine` adds the configuration contract, on a whole machine description (units
with their configurations, memories, schedule): every unit's configuration within the
architecture (lanes, stages, `rv`, ports), each PMU's bytes computed from its boxes
(`pmu_bytes`) within its capacity and equal to what it declares, every value carried by a
route, every PCU fired by the schedule, every unit the schedule fires reached by a
routed enable from the controller and sending its done token over a routed control
stream to it, no PCU chaining more counters than `pcu.counters`. The controller is a
switch (`controller.site`): a control route starts or ends there, and control links are
shared in time, so only data links are held to their capacity. docs/config-format.md
lists the rules.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rnnc.target.arch import Architecture
from rnnc.target.chained_sums import sum_inputs
from rnnc.target.machine import fired_units, lut_tables
from rnnc.target.stream_buffers import kept_boxes, loaded_boxes
from rnnc.target.swap_start import swap_problems

_NETWORK_OF_PREFIX = {"s": "scalar", "v": "vector", "c": "control"}
#: The kind the port checks give the controller (a switch's control block, not a unit).
CONTROLLER_KIND = "controller"
_REPORT_LIMIT = 10


@dataclass(frozen=True)
class Problem:
    """One violated rule: the unit or stream it concerns, the field of its configuration
    at fault (dotted, e.g. `ops.3.stage`; empty when the whole unit or stream is), and
    what is wrong."""

    subject: str
    message: str
    field: str = ""

    def __str__(self) -> str:
        where = f" field '{self.field}'" if self.field else ""
        return f"{self.subject}{where}: {self.message}"


def check_design(arch: Architecture, units: Sequence[Any], streams: Sequence[Any],
                 controller: Any = None, switch_ends: Sequence[Any] = ()) -> list[Problem]:
    """Every rule a placed and routed design breaks, in a fixed order (empty: it is legal).
    `controller` (with `id` and `site`, a switch) is where control streams start and end;
    `switch_ends` are other switches streams start or end at (link ports, same fields),
    checked as the controller is."""
    chip = _Chip(arch)
    problems: list[Problem] = []
    wired: dict[str, set[tuple[int, int]]] = {}
    kinds: dict[str, str] = {}
    for unit in units:
        kinds[unit.id] = unit.kind
        found = _check_unit(chip, unit, problems)
        if found is not None:
            wired[unit.id] = chip.wired_switches(*found)
    _check_overlaps(units, wired, problems)
    for end in (*([controller] if controller is not None else []), *switch_ends):
        kinds[end.id] = CONTROLLER_KIND
        switch = _check_controller(chip, end, problems)
        if switch is not None:
            wired[end.id] = {switch}
    _check_ports(chip, kinds, streams, problems)
    use: dict[tuple[str, tuple[int, int], tuple[int, int]], list[str]] = {}
    for stream in streams:
        _check_stream(chip, wired, stream, use, problems)
    _check_links(chip, use, problems)
    return problems


def _check_controller(chip: _Chip, controller: Any,
                      problems: list[Problem]) -> tuple[int, int] | None:
    """The controller's switch, which must be one of the mesh's."""
    site = _site(controller.site)
    subject = f"controller '{controller.id}'"
    if site is None:
        problems.append(Problem(subject, "has no site (run spatial-place)"))
        return None
    if not chip.on_mesh(site):
        problems.append(Problem(subject, f"at ({site[0]}, {site[1]}), which is not a switch of "
                                         f"the chip"))
        return None
    return site


def format_problems(problems: Sequence[Problem]) -> str:
    """The first few problems on one line, with a count of the rest."""
    shown = "; ".join(str(problem) for problem in problems[:_REPORT_LIMIT])
    rest = len(problems) - _REPORT_LIMIT
    return shown + (f" (and {rest} more)" if rest > 0 else "")


class _Chip:
    """The architecture's geometry, computed here from its fields."""

    def __init__(self, arch: Architecture):
        self.arch = arch
        self.rows, self.cols = arch.grid.rows, arch.grid.cols
        self.by_switch = arch.network.address_generator_attachment == "switch"
        self.edges = arch.dram.address_generator_edges
        self.per_edge = arch.dram.address_generators_per_edge

    def kind_at(self, row: int, col: int) -> str | None:
        if 0 <= row < self.rows and 0 <= col < self.cols:
            return self.arch.grid.unit_at(row, col)
        if self.ag_edge(row, col) is not None:
            return "ag"
        return None

    def ag_edge(self, row: int, col: int) -> str | None:
        """The edge of the address generator site at (row, col), if there is one."""
        for edge in self.edges:
            vertical = edge in ("left", "right")
            outside = {"left": -1, "right": self.cols, "top": -1, "bottom": self.rows}[edge]
            across, along = (col, row) if vertical else (row, col)
            if across != outside:
                continue
            length = (self.rows if vertical else self.cols) + (1 if self.by_switch else 0)
            # AG number i sits at position i * length // per_edge along the edge.
            for index in range(self.per_edge):
                if index * length // self.per_edge == along:
                    return edge
        return None

    def wired_switches(self, row: int, col: int) -> set[tuple[int, int]]:
        """The switches a unit at (row, col) is wired to: its corners (a PCU or PMU), or the
        edge switch(es) beside it (an address generator)."""
        if 0 <= row < self.rows and 0 <= col < self.cols:
            return {(row + dr, col + dc) for dr in (0, 1) for dc in (0, 1)}
        span = (0,) if self.by_switch else (0, 1)
        if col == -1:
            return {(row + d, 0) for d in span}
        if col == self.cols:
            return {(row + d, self.cols) for d in span}
        if row == -1:
            return {(0, col + d) for d in span}
        return {(self.rows, col + d) for d in span}

    def on_mesh(self, switch: tuple[int, int]) -> bool:
        return 0 <= switch[0] <= self.rows and 0 <= switch[1] <= self.cols


def _site(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    row, col = value
    return int(row), int(col)


def _check_unit(chip: _Chip, unit: Any, problems: list[Problem]) -> tuple[int, int] | None:
    site = _site(getattr(unit, "site", None))
    subject = f"unit '{unit.id}'"
    if site is None:
        problems.append(Problem(subject, "has no site (run spatial-place)"))
        return None
    found = chip.kind_at(*site)
    if found != unit.kind:
        what = f"a {found.upper()} site" if found else "not a site of the chip"
        problems.append(Problem(subject, f"{unit.kind.upper()} at ({site[0]}, {site[1]}), "
                                         f"which is {what}"))
        return None
    edge = getattr(unit, "edge", None)
    if unit.kind == "ag" and edge is not None and chip.ag_edge(*site) != edge:
        problems.append(Problem(subject, f"AG of the {edge} edge at ({site[0]}, {site[1]}), "
                                         f"on the {chip.ag_edge(*site)} edge"))
    return site


def _check_overlaps(units: Sequence[Any], placed: Iterable[str],
                    problems: list[Problem]) -> None:
    holder: dict[tuple[int, int], str] = {}
    on_site = set(placed)
    for unit in units:
        if unit.id not in on_site:
            continue
        site = _site(unit.site)
        assert site is not None
        if site in holder:
            problems.append(Problem(f"unit '{unit.id}'", f"shares site ({site[0]}, {site[1]}) "
                                                         f"with '{holder[site]}'"))
        else:
            holder[site] = unit.id


def _parse_port(port: str) -> tuple[str, str, int] | None:
    if len(port) < 3 or port[0] not in _NETWORK_OF_PREFIX or port[1] not in "io":
        return None
    if not port[2:].isdigit():
        return None
    return _NETWORK_OF_PREFIX[port[0]], "inputs" if port[1] == "i" else "outputs", int(port[2:])


def _check_ports(chip: _Chip, kinds: dict[str, str], streams: Sequence[Any],
                 problems: list[Problem]) -> None:
    """Every endpoint names an existing port of the right network and direction, and no
    port carries two streams."""
    owner: dict[tuple[str, str], str] = {}
    for stream in streams:
        ends = [(stream.source, "outputs")] + [(sink, "inputs") for sink in stream.sinks]
        for end, direction in ends:
            subject = f"stream '{stream.id}'"
            kind = kinds.get(end.unit)
            if kind is None:
                problems.append(Problem(subject, f"names unit '{end.unit}', which does not exist"))
                continue
            parsed = _parse_port(end.port)
            if parsed is None or parsed[0] != stream.network or parsed[1] != direction:
                problems.append(Problem(subject, f"port '{end.port}' of '{end.unit}' is not a "
                                                 f"{stream.network} {direction[:-1]} port"))
                continue
            # the controller is a switch's control block: no port count of the chip's
            ports = chip.arch.ports(kind, parsed[0], direction) if kind != CONTROLLER_KIND else 0
            if kind != CONTROLLER_KIND and parsed[2] >= ports:
                problems.append(Problem(subject, f"port '{end.port}' of '{end.unit}' does not "
                                                 f"exist (a {kind.upper()} has {ports} "
                                                 f"{stream.network} {direction})"))
                continue
            key = (end.unit, end.port)
            if key in owner and owner[key] != stream.id:
                problems.append(Problem(subject, f"port '{end.port}' of '{end.unit}' already "
                                                 f"carries stream '{owner[key]}'"))
            owner.setdefault(key, stream.id)


def _check_stream(chip: _Chip, wired: dict[str, set[tuple[int, int]]], stream: Any,
                  use: dict[tuple[str, tuple[int, int], tuple[int, int]], list[str]],
                  problems: list[Problem]) -> None:
    subject = f"stream '{stream.id}'"
    paths = getattr(stream, "paths", None)
    if paths is None:
        problems.append(Problem(subject, "has no route (run spatial-route)"))
        return
    if len(paths) != len(stream.sinks):
        problems.append(Problem(subject, f"has {len(paths)} paths for {len(stream.sinks)} "
                                         f"sinks"))
        return
    source = wired.get(stream.source.unit)
    links: dict[tuple[tuple[int, int], tuple[int, int]], None] = {}
    for k, (sink, raw) in enumerate(zip(stream.sinks, paths, strict=True)):
        path = [_site(switch) for switch in raw]
        target = wired.get(sink.unit)
        if source is None or target is None:
            continue  # the unit's own problem is reported
        where, field = f"path to '{sink.unit}'", f"paths.{k}"
        if not path:
            problems.append(Problem(subject, f"{where} is empty", field))
            continue
        if path[0] not in source:
            problems.append(Problem(subject, f"{where} starts at switch {path[0]}, which "
                                             f"'{stream.source.unit}' is not wired to", field))
        if path[-1] not in target:
            problems.append(Problem(subject, f"{where} ends at switch {path[-1]}, which "
                                             f"'{sink.unit}' is not wired to", field))
        again = next((s for i, s in enumerate(path) if s in path[:i]), None)
        if again is not None:
            problems.append(Problem(subject, f"{where} visits switch {again} twice", field))
        for a, b in itertools.pairwise(path):
            adjacent = abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1
            if not (chip.on_mesh(a) and chip.on_mesh(b) and adjacent):
                problems.append(Problem(subject, f"{where} jumps from switch {a} to {b}, "
                                                 f"which are not adjacent switches", field))
                break
            links[(a, b)] = None
    for a, b in links:
        use.setdefault((stream.network, a, b), []).append(stream.id)


def _check_links(chip: _Chip, use: dict[tuple[str, tuple[int, int], tuple[int, int]], list[str]],
                 problems: list[Problem]) -> None:
    """No data link carries more streams than its links; control links carry pulses shared
    in time (`rnnc.target.routing`), which the simulator serialises."""
    for (network, a, b), streams in sorted(use.items()):
        if network == "control":
            continue
        capacity = chip.arch.links(network)
        if len(streams) > capacity:
            problems.append(Problem(
                f"link {a}->{b} of the {network} network",
                f"carries {len(streams)} streams, {len(streams) - capacity} more than its "
                f"{capacity} links ({', '.join(_first(streams))})",
            ))


def _first(names: Iterable[str], count: int = 5) -> list[str]:
    names = list(names)
    return names[:count] + ([f"{len(names) - count} more"] if len(names) > count else [])




# ----------------------------------------------------------------------------------------
# The configuration contract: what a unit is configured to do, a chip could do
# ----------------------------------------------------------------------------------------

_BANKING = ("strided", "fifo", "duplicated")


def check_machine(arch: Architecture, machine: Any) -> list[Problem]:
    """Every rule a placed and routed design breaks, read off the configuration model
    (`rnnc.target.machine.Machine`, a loaded config.json) or the IR's view of a design
    (`rnnc.target.design_view.DesignView`, spatial-verify), which have the same fields: the
    geometry of `check_design`, then each unit's configuration within the architecture
    (lanes, stages, `rv`, the ports its ops name, PMU bytes computed from its boxes), every
    value carried by a route (`_Flow`), and every PCU fired by the schedule."""
    problems = check_design(arch, machine.units, (*machine.streams, *machine.control),
                            machine.controller)
    flow = _Flow(machine)
    held = pmu_bytes(arch, machine)
    for unit in machine.units:
        if unit.kind == "pcu":
            _check_pcu(arch, machine, unit, problems)
            flow.check_pcu(unit, problems)
        elif unit.kind == "pmu":
            _check_pmu(arch, unit, held[unit.id], problems)
            flow.check_pmu(unit, problems)
        else:
            flow.check_ag(unit, problems)
    _check_schedule(machine, problems)
    _check_control(machine, problems)
    problems += [Problem(subject, message, field)
                 for subject, field, message in swap_problems(machine)]
    return problems


def _check_pcu(arch: Architecture, machine: Any, unit: Any, problems: list[Problem]) -> None:
    """Lanes, copies (one per lane), pipeline stages, counters and the reduction's `rv`
    within the PCU; every port the unit's configuration names exists on a PCU."""
    subject, lanes = f"unit '{unit.id}'", arch.pcu.lanes
    if not 1 <= unit.lanes <= lanes:
        problems.append(Problem(subject, f"uses {unit.lanes} lanes, a PCU has {lanes}", "lanes"))
    if unit.mode == "elementwise" and len(unit.copies) > lanes:
        problems.append(Problem(subject, f"serves {len(unit.copies)} copies, one per lane; a "
                                         f"PCU has {lanes} lanes", "copies"))
    for k, op in enumerate(unit.ops):
        if not 0 <= op.stage < arch.pcu.stages:
            problems.append(Problem(subject, f"op '{op.op}' at pipeline stage {op.stage}, a PCU "
                                             f"has stages 0 to {arch.pcu.stages - 1}",
                                    f"ops.{k}.stage"))
    if len(unit.counters) > arch.pcu.counters:
        problems.append(Problem(subject, f"chains {len(unit.counters)} counters, a PCU has "
                                         f"{arch.pcu.counters}", "counters"))
    for k, counter in enumerate(unit.counters):
        if counter.stride < 1:
            problems.append(Problem(subject, f"counter '{counter.name}' has stride "
                                             f"{counter.stride}, a counter counts up",
                                    f"counters.{k}.stride"))
    if unit.reduce is not None:
        try:
            most = arch.max_rv(machine.precision)
        except ValueError as error:
            problems.append(Problem(subject, str(error), "reduce.rv"))
        else:
            if not 1 <= unit.reduce.rv <= most:
                problems.append(Problem(
                    subject, f"map-reduces {unit.reduce.rv} indices per cycle (rv); a PCU's "
                    f"{lanes} lanes take at most {most} in {machine.precision}", "reduce.rv"))
        _check_added_sums(arch, machine, unit, problems)
    for port, field in _pcu_ports(unit):
        _check_own_port(arch, unit, port, field, problems)


def _check_added_sums(arch: Architecture, machine: Any, unit: Any,
                      problems: list[Problem]) -> None:
    """Partial sums a map-reduce unit adds to its own (`Reduce.inputs`, the chained-sums
    schedule): one scalar input each, one pipeline stage each after the prefix stages and
    the folded tree (`chained_sums.sum_inputs`)."""
    inputs = unit.reduce.inputs
    if not inputs:
        return
    subject = f"unit '{unit.id}'"
    if unit.role != "map_reduce":
        problems.append(Problem(subject, f"a unit of role {unit.role} adds partial sums in a "
                                         "reduction (only a map_reduce unit folds)",
                                "reduce.inputs"))
        return
    for k, ref in enumerate(inputs):
        parsed = _parse_port(ref[3:]) if ref.startswith("in:") else None
        if parsed is None or parsed[:2] != ("scalar", "inputs") or "." in ref or "," in ref:
            problems.append(Problem(subject, f"adds '{ref}', expected one scalar input port "
                                             "(in:siN)", f"reduce.inputs.{k}"))
    room = sum_inputs(arch, machine.precision)
    if len(inputs) > room:
        free = arch.pcu.stages - arch.precision(machine.precision).map_reduce_prefix_stages - 1
        problems.append(Problem(
            subject, f"adds {len(inputs)} partial sums in its reduction; a PCU has room for "
                     f"{room} in {machine.precision} ({arch.pcu.stages} stages, "
                     f"{max(free, 0)} left after the prefix and the folded tree)",
            "reduce.inputs"))


def _pcu_ports(unit: Any) -> list[tuple[str, str]]:
    """(port, field) of every port a PCU's configuration names."""
    found = []
    for k, op in enumerate(unit.ops):
        if op.op in ("read", "write"):
            found += [(p, f"ops.{k}.params.port") for p in str(op.param("port", "")).split(",")]
        found += [(p, f"ops.{k}.args.{j}") for j, a in enumerate(op.args) for p in _in_ports(a)]
    for k, emit in enumerate(unit.emits):
        found.append((emit.port, f"emits.{k}.port"))
        found += [(p, f"emits.{k}.values.{j}") for j, v in enumerate(emit.values)
                  for p in _in_ports(v)]
    if unit.reduce is not None:
        found.append((unit.reduce.output, "reduce.output"))
        found += [(p, f"reduce.inputs.{k}") for k, ref in enumerate(unit.reduce.inputs)
                  for p in _in_ports(ref)]
        found += [(p, f"reduce.segments.{k}.value") for k, s in enumerate(unit.reduce.segments)
                  for p in _in_ports(s.value)]
    return found


def _in_ports(ref: str) -> list[str]:
    """The input ports an operand reference reads: `in:vi0` -> [vi0], `in:si0,si1.2` ->
    [si0, si1] (one port per lane; `.2` the third value of the stream)."""
    if not ref.startswith("in:"):
        return []
    return ref[3:].split(".", maxsplit=1)[0].split(",")


def _check_own_port(arch: Architecture, unit: Any, port: str, field: str,
                    problems: list[Problem]) -> None:
    parsed = _parse_port(port)
    if parsed is None:
        problems.append(Problem(f"unit '{unit.id}'", f"'{port}' is not a port name", field))
        return
    network, direction, index = parsed
    count = arch.ports(unit.kind, network, direction)
    if index >= count:
        problems.append(Problem(f"unit '{unit.id}'", f"port '{port}' does not exist (a "
                                                     f"{unit.kind.upper()} has {count} "
                                                     f"{network} {direction})", field))


def _check_pmu(arch: Architecture, unit: Any, held: int | str, problems: list[Problem]) -> None:
    """Banking and buffers are ones a PMU has; each box's address chain (a counter per
    dimension) within the PMU's counters; the bytes its boxes take (`held`, from
    `pmu_bytes`, or why they cannot be computed) fit in it and are the bytes the
    configuration declares."""
    subject = f"unit '{unit.id}'"
    if unit.banking not in _BANKING:
        problems.append(Problem(subject, f"banking '{unit.banking}' is not one of "
                                         f"{', '.join(_BANKING)}", "banking"))
    for k, box in enumerate(unit.boxes):
        # a box is read by a chain of one counter per dimension
        if len(box.slices) > arch.pmu.counters:
            problems.append(Problem(subject, f"addresses box {k} ('{box.memory}') with a chain "
                                             f"of {len(box.slices)} counters, a PMU has "
                                             f"{arch.pmu.counters}", f"boxes.{k}.slices"))
    if isinstance(held, str):
        problems.append(Problem(subject, held, "boxes"))
        return
    capacity = arch.pmu.capacity_bytes
    takes = f"its boxes take {held} bytes"
    if held > capacity:
        problems.append(Problem(subject, f"{takes}, more than the PMU's {capacity}", "boxes"))
    elif unit.bytes != held:
        problems.append(Problem(subject, f"declares {unit.bytes} bytes, {takes}", "bytes"))


def pmu_bytes(arch: Architecture, machine: Any) -> dict[str, int | str]:
    """The bytes each PMU's configuration takes, computed from what it holds (or, for a
    PMU whose contents make no sense, why not):

    * lookup tables (`lut`): entries x one word per table, twice (value and slope) when
      interpolated linearly;
    * a weight slice read by a map-reduce unit: its rows, each of the reader's whole
      `rv`-word vectors (each reduction's range rounded up to a multiple of `rv`), in the
      weight format of its holdings; a `fifo` (rows streamed from DRAM) holds `buffers`
      rows beside the rows of its boxes no AG loads (`stream_buffers.kept_boxes`);
    * anything else: `buffers` copies of each box, a word per element (a weight box: an
      element of its holding's format), one time step's slice of a `per_step` box."""
    word = arch.pmu.bank_width_bits // 8
    steps = [phase.steps for phase in machine.schedule if phase.kind == "loop"]
    # weights are constants or, when the model takes them as inputs, inputs
    constants = {m.name for m in machine.memories if m.init.startswith("weight:")}
    inputs = {m.name for m in machine.memories if m.init.startswith("input:")}
    readers = _weight_readers(machine, constants | inputs)
    loaded = loaded_boxes(machine.units)
    found: dict[str, int | str] = {}
    for pmu in (u for u in machine.units if u.kind == "pmu"):
        try:
            if pmu.buffers < 1:
                raise ValueError(f"has {pmu.buffers} buffers")
            if pmu.lut:
                found[pmu.id] = sum(_table_bytes(table, word) for table in lut_tables(pmu.lut))
                continue
            widths = [_element_bytes(arch, machine, pmu, box, word) for box in pmu.boxes]
            slice_of = _weight_slice(pmu, readers, constants)
            if slice_of is not None:
                rows, row = slice_of
                if pmu.banking == "fifo":  # its stream buffer and the rows it keeps
                    kept = kept_boxes(pmu, loaded)
                    rows = pmu.buffers + (_slice_rows(pmu, readers[pmu.id], kept)[0]
                                          if kept else 0)
                found[pmu.id] = rows * _row_bytes(arch, machine, row, widths[0], pmu.boxes)
                continue
            found[pmu.id] = pmu.buffers * sum(
                _box_bytes(arch, machine, box, steps, width)
                for box, width in zip(pmu.boxes, widths, strict=True))
        except ValueError as error:
            found[pmu.id] = str(error)
    return found


def _weight_slice(
    pmu: Any, readers: dict[str, Any], constants: set[str]
) -> tuple[int, int] | None:
    """(rows, padded row length) of a PMU holding a weight slice, or None. Weights the
    model takes as inputs may share a PMU with other inputs; a PMU that does not hold
    whole rows of its reader's reduction is then counted box by box. Constant weights that
    are not whole rows are a malformed slice (ValueError)."""
    if pmu.id not in readers:
        return None
    try:
        return _slice_rows(pmu, readers[pmu.id])
    except ValueError:
        if all(box.memory in constants for box in pmu.boxes):
            raise
        return None


def _weight_readers(machine: Any, weights: set[str]) -> dict[str, Any]:
    """PMU -> the map-reduce PCU reading its weight slice (a slice split by rows over two
    PMUs is read on `vi0,vi2`). A weight PMU is one the partition made for weights (its
    `role`) holding only `weights`."""
    units = {unit.id: unit for unit in machine.units}
    found: dict[str, Any] = {}
    for stream in machine.streams:
        pmu = units.get(stream.source.unit)
        if pmu is None or pmu.kind != "pmu" or pmu.role != "weights" or not pmu.boxes \
                or pmu.id in found:
            continue
        if not all(box.memory in weights for box in pmu.boxes):
            continue
        for sink in stream.sinks:
            reader = units.get(sink.unit)
            if reader is None or reader.kind != "pcu" or reader.reduce is None:
                continue
            for op in reader.ops:
                ports = str(op.param("port", "")).split(",")
                if op.op == "read" and op.param("memory") in weights and sink.port in ports:
                    found[pmu.id] = reader
                    break
            if pmu.id in found:
                break
    return found


def _table_bytes(table: str, word: int) -> int:
    """`fn:entries:range:interp` -> its bytes."""
    parts = table.split(":")
    if len(parts) != 4 or not parts[1].isdigit():
        raise ValueError(f"lookup table '{table}' is not fn:entries:range:interp")
    return int(parts[1]) * word * (2 if parts[3] == "linear" else 1)


def _element_bytes(
    arch: Architecture, machine: Any, pmu: Any, box: Any, word: int
) -> int | None:
    """A box of weights is stored in its holding's format: fp32 in words, anything else in
    the precision's weight format (None when that is a block-scaled format, counted by
    rows: `_row_bytes`); other boxes in words."""
    holding = next((h for h in pmu.holds if h.slices == box.slices), None)
    if holding is None or holding.quantization == "fp32":
        return word
    mode = arch.precision(machine.precision)
    return None if mode.weight_format is not None else mode.weight_bytes


def _row_bytes(arch: Architecture, machine: Any, elements: int, width: int | None,
               boxes: Sequence[Any] = ()) -> int:
    """Bytes of a row of `elements` stored `width` bytes each, or (None) in the precision's
    weight format: its codes and the scales of the blocks the `boxes`' ranges of the last
    dimension touch (the row's own blocks without boxes)."""
    if width is None:
        from rnnc.target.format_blocks import held_row_bytes

        mode = arch.precision(machine.precision)
        if not boxes:
            return int(mode.row_bytes(elements))
        # boxes of one memory over the same columns (its rows cut in two: a FIFO PMU's
        # kept and streamed rows) are one row's columns, whose scales count once
        ranges = dict.fromkeys((box.memory, box.slices[-1][:2]) for box in boxes)
        return held_row_bytes(mode, elements, [columns for _, columns in ranges])
    return elements * width


def _box_bytes(arch: Architecture, machine: Any, box: Any, steps: list[int],
               width: int | None) -> int:
    """Bytes of a box (see `_row_bytes`), rows along its last dimension."""
    words = _box_words(box, steps)
    if width is not None or not box.slices:
        return words * (width or 1)
    last = len(range(*box.slices[-1]))
    return words // last * _row_bytes(arch, machine, last, None, (box,))


def _box_words(box: Any, steps: list[int]) -> int:
    """Elements of a box; a `per_step` box holds one time step's slice of its time
    dimension (one spanning a time loop's steps)."""
    if not box.per_step:
        return box.elements
    lengths = [len(range(*s)) for s in box.slices]
    step = next((n for n in steps if n in lengths), None)
    if step is None:
        raise ValueError(f"per-step box of '{box.memory}' has no dimension of the time loop's "
                         f"{' or '.join(map(str, steps)) or 'no'} steps")
    return box.elements // step


def _slice_rows(
    pmu: Any, reader: Any, boxes: Sequence[Any] | None = None
) -> tuple[int, int]:
    """(rows, padded row length in elements) of a weight slice: its boxes (or `boxes` of
    them) hold rows of the reductions its reader folds (`segments`), each padded to whole
    `rv`-word vectors."""
    ranges: dict[str, list[int]] = {}
    for segment in reader.reduce.segments:
        if segment.start < segment.stop:
            ranges.setdefault(segment.reduction, []).extend((segment.start, segment.stop))
    length = sum(max(r) - min(r) for r in ranges.values())
    rv = max(reader.reduce.rv, 1)
    padded = sum(-(-(max(r) - min(r)) // rv) * rv for r in ranges.values())
    elements = sum(box.elements for box in (pmu.boxes if boxes is None else boxes))
    if length == 0 or elements % length:
        raise ValueError(f"holds {elements} weights, not rows of the {length} reduction "
                         f"indices its reader '{reader.id}' folds")
    return elements // length, padded


class _Flow:
    """The routes as a graph between (unit, port) ends, and the rule that every value a
    unit's configuration uses or makes is carried by one: what a unit reads from an input
    port arrives on a route into that port, from a unit holding the memory it reads; what
    it sends or writes leaves on a route; a write reaches a PMU or AG holding its memory
    (through units that pass the value on unchanged, such as gather trees); a PMU holding
    a memory that units write is reached by such a write, one holding a DRAM memory (or
    streamed weights) by a route from an AG loading it; a lookup table is reached and
    answers over routes; an AG moves its data over a route."""

    def __init__(self, machine: Any):
        self.units = {unit.id: unit for unit in machine.units}
        self.spaces = {memory.name: memory.space for memory in machine.memories}
        self.into: dict[tuple[str, str], Any] = {}
        self.out_of: dict[tuple[str, str], Any] = {}
        self.sent: dict[str, list[Any]] = {}
        self.arriving: dict[str, list[Any]] = {}
        for stream in machine.streams:
            self.out_of.setdefault((stream.source.unit, stream.source.port), stream)
            self.sent.setdefault(stream.source.unit, []).append(stream)
            for sink in stream.sinks:
                self.into.setdefault((sink.unit, sink.port), stream)
                self.arriving.setdefault(sink.unit, []).append(stream)
        self.written: dict[str, set[str]] = {}
        """memory -> the units that writes of it reach."""
        for unit in machine.units:
            for op in getattr(unit, "ops", ()):
                if op.op == "write":
                    reached = self.reach(unit.id, str(op.param("port", "")))
                    self.written.setdefault(str(op.param("memory")), set()).update(reached)

    def reach(self, unit: str, port: str) -> set[str]:
        """The units a value sent on (unit, port) arrives at, following it through units
        that emit what arrives on an input port unchanged (`in:<port>`)."""
        reached: set[str] = set()
        pending, seen = [(unit, port)], set()
        while pending:
            end = pending.pop()
            stream = self.out_of.get(end)
            if stream is None or end in seen:
                continue
            seen.add(end)
            for sink in stream.sinks:
                reached.add(sink.unit)
                for emit in getattr(self.units.get(sink.unit), "emits", ()):
                    if f"in:{sink.port}" in emit.values:
                        pending.append((sink.unit, emit.port))
        return reached

    def holds(self, unit_id: str, memory: str) -> bool:
        unit = self.units.get(unit_id)
        if unit is None or unit.kind == "pcu":
            return False
        if unit.kind == "ag":
            return memory == unit.memory or any(box.memory == memory for box in unit.boxes)
        return memory in unit.memories

    def check_pcu(self, unit: Any, problems: list[Problem]) -> None:
        subject = f"unit '{unit.id}'"
        for port, field in _pcu_ports(unit):
            parsed = _parse_port(port)
            if parsed is None:
                continue  # reported by _check_own_port
            ends = self.into if parsed[1] == "inputs" else self.out_of
            if (unit.id, port) not in ends:
                verb = "reads" if parsed[1] == "inputs" else "sends on"
                problems.append(Problem(subject, f"{verb} '{port}', which no route carries",
                                        field))
        for k, op in enumerate(unit.ops):
            if op.op == "read":
                self._check_read(unit, k, op, problems)
            elif op.op == "write":
                self._check_write(unit, k, op, problems)
            if op.param("lut"):
                self._check_table(unit, k, str(op.param("lut")), problems)

    def _check_read(self, unit: Any, k: int, op: Any, problems: list[Problem]) -> None:
        memory = str(op.param("memory"))
        for port in str(op.param("port", "")).split(","):
            stream = self.into.get((unit.id, port))
            if stream is not None and not self.holds(stream.source.unit, memory):
                problems.append(Problem(
                    f"unit '{unit.id}'", f"reads '{memory}' on '{port}', whose route comes "
                    f"from '{stream.source.unit}', which does not hold '{memory}'",
                    f"ops.{k}.params.port"))

    def _check_write(self, unit: Any, k: int, op: Any, problems: list[Problem]) -> None:
        memory, port = str(op.param("memory")), str(op.param("port", ""))
        if (unit.id, port) not in self.out_of:
            return  # reported as a port no route carries
        if not any(self.holds(u, memory) for u in self.reach(unit.id, port)):
            problems.append(Problem(
                f"unit '{unit.id}'", f"writes '{memory}' on '{port}', and no route from there "
                f"reaches a PMU or AG holding '{memory}'", f"ops.{k}.params.port"))

    def _check_table(self, unit: Any, k: int, table: str, problems: list[Problem]) -> None:
        there = any(stream.source.unit == unit.id for stream in self.arriving.get(table, ()))
        back = any(stream.source.unit == table for stream in self.arriving.get(unit.id, ()))
        if not (there and back):
            problems.append(Problem(f"unit '{unit.id}'", f"looks up table '{table}', with no "
                                                         f"route {'back' if there else 'to it'}",
                                    f"ops.{k}.params.lut"))

    def check_pmu(self, unit: Any, problems: list[Problem]) -> None:
        subject = f"unit '{unit.id}'"
        if not self.sent.get(unit.id):
            problems.append(Problem(subject, "no route leaves it: nothing reads it"))
        for memory in unit.memories:
            if memory in self.written:
                if unit.id not in self.written[memory]:
                    problems.append(Problem(subject, f"holds '{memory}', which units write, and "
                                                     f"no write of it reaches the PMU", "boxes"))
            elif self.spaces.get(memory) == "dram" or unit.banking == "fifo":
                sources = (s.source.unit for s in self.arriving.get(unit.id, ()))
                if not any(self.units[u].kind == "ag" and self.holds(u, memory) for u in sources):
                    problems.append(Problem(subject, f"holds '{memory}' from DRAM, and no route "
                                                     f"from an AG loading it reaches the PMU",
                                            "boxes"))

    def check_ag(self, unit: Any, problems: list[Problem]) -> None:
        moves = (self.sent if unit.direction == "load" else self.arriving).get(unit.id)
        if not moves:
            way = "from" if unit.direction == "load" else "into"
            problems.append(Problem(f"unit '{unit.id}'", f"{unit.direction}s '{unit.memory}', "
                                                         f"and no route leads {way} it",
                                    "direction"))


def _check_schedule(machine: Any, problems: list[Problem]) -> None:
    """With a schedule, every PCU belongs to a nest that runs (a phase with steps)."""
    if not machine.schedule:
        return
    running = {nest for phase in machine.schedule if phase.steps >= 1 for nest in phase.nests}
    for unit in machine.units:
        if unit.kind == "pcu" and unit.nest not in running:
            problems.append(Problem(f"unit '{unit.id}'", f"belongs to nest '{unit.nest}', which "
                                                         f"the schedule never runs", "nest"))




def _check_control(machine: Any, problems: list[Problem]) -> None:
    """With a schedule, every unit it fires (`fired_units`) takes the enable over a routed
    control stream from the controller and sends its done token over one to it (the
    simulator times both over these paths)."""
    if not machine.schedule:
        return
    controller = machine.controller.id if machine.controller is not None else None
    enabled, reported = set(), set()
    for stream in machine.control:
        if stream.paths is None or len(stream.paths) != len(stream.sinks):
            continue  # the stream's own problem is reported
        if stream.source.unit == controller:
            enabled |= {sink.unit for sink in stream.sinks}
        elif any(sink.unit == controller for sink in stream.sinks):
            reported.add(stream.source.unit)
    where = f"the controller '{controller}'" if controller else "a controller (the design has none)"
    for unit in fired_units(machine.units):
        if unit.id not in enabled:
            problems.append(Problem(f"unit '{unit.id}'", f"the schedule fires it, and no "
                                    f"control route brings it the enable from {where}"))
        if unit.id not in reported:
            problems.append(Problem(f"unit '{unit.id}'", f"the schedule fires it, and no "
                                    f"control route takes its done token to {where}"))


__all__ = ["Problem", "check_design", "check_machine", "format_problems", "lut_tables",
           "pmu_bytes"]
