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
(a stream counts once per link however many of its paths cross it); no PMU holds more
bytes than its capacity.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rnnc.target.arch import Architecture

_NETWORK_OF_PREFIX = {"s": "scalar", "v": "vector", "c": "control"}
_REPORT_LIMIT = 10


@dataclass(frozen=True)
class Problem:
    """One violated rule: the unit or stream it concerns and what is wrong."""

    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"


def check_design(arch: Architecture, units: Sequence[Any], streams: Sequence[Any]) -> list[Problem]:
    """Every rule a placed and routed design breaks, in a fixed order (empty: it is legal)."""
    chip = _Chip(arch)
    problems: list[Problem] = []
    sites: dict[str, tuple[int, int]] = {}
    kinds: dict[str, str] = {}
    for unit in units:
        kinds[unit.id] = unit.kind
        found = _check_unit(chip, unit, problems)
        if found is not None:
            sites[unit.id] = found
    _check_overlaps(units, sites, problems)
    _check_ports(chip, kinds, streams, problems)
    use: dict[tuple[str, tuple[int, int], tuple[int, int]], list[str]] = {}
    for stream in streams:
        _check_stream(chip, sites, stream, use, problems)
    _check_links(chip, use, problems)
    return problems


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
    if unit.kind == "pmu":
        capacity = chip.arch.pmu.capacity_bytes
        if int(unit.bytes) > capacity:
            problems.append(Problem(subject, f"holds {unit.bytes} bytes, more than the PMU's "
                                             f"{capacity}"))
    return site


def _check_overlaps(units: Sequence[Any], sites: dict[str, tuple[int, int]],
                    problems: list[Problem]) -> None:
    holder: dict[tuple[int, int], str] = {}
    for unit in units:
        site = sites.get(unit.id)
        if site is None:
            continue
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
            ports = chip.arch.ports(kind, parsed[0], direction)
            if parsed[2] >= ports:
                problems.append(Problem(subject, f"port '{end.port}' of '{end.unit}' does not "
                                                 f"exist (a {kind.upper()} has {ports} "
                                                 f"{stream.network} {direction})"))
                continue
            key = (end.unit, end.port)
            if key in owner and owner[key] != stream.id:
                problems.append(Problem(subject, f"port '{end.port}' of '{end.unit}' already "
                                                 f"carries stream '{owner[key]}'"))
            owner.setdefault(key, stream.id)


def _check_stream(chip: _Chip, sites: dict[str, tuple[int, int]], stream: Any,
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
    source = sites.get(stream.source.unit)
    links: dict[tuple[tuple[int, int], tuple[int, int]], None] = {}
    for sink, raw in zip(stream.sinks, paths, strict=True):
        path = [_site(switch) for switch in raw]
        target = sites.get(sink.unit)
        if source is None or target is None:
            continue  # the unit's own problem is reported
        where = f"path to '{sink.unit}'"
        if not path:
            problems.append(Problem(subject, f"{where} is empty"))
            continue
        if path[0] not in chip.wired_switches(*source):
            problems.append(Problem(subject, f"{where} starts at switch {path[0]}, which "
                                             f"'{stream.source.unit}' is not wired to"))
        if path[-1] not in chip.wired_switches(*target):
            problems.append(Problem(subject, f"{where} ends at switch {path[-1]}, which "
                                             f"'{sink.unit}' is not wired to"))
        for a, b in itertools.pairwise(path):
            adjacent = abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1
            if not (chip.on_mesh(a) and chip.on_mesh(b) and adjacent):
                problems.append(Problem(subject, f"{where} jumps from switch {a} to {b}, "
                                                 f"which are not adjacent switches"))
                break
            links[(a, b)] = None
    for a, b in links:
        use.setdefault((stream.network, a, b), []).append(stream.id)


def _check_links(chip: _Chip, use: dict[tuple[str, tuple[int, int], tuple[int, int]], list[str]],
                 problems: list[Problem]) -> None:
    for (network, a, b), streams in sorted(use.items()):
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


__all__ = ["Problem", "check_design", "format_problems"]
