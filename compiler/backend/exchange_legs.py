"""The loader's check of the on-chip legs of a multi-chip exchange (`chips[k].exchange`).

Every link needs, on each chip of its path, the leg that carries its slice there
(`rnnc.target.exchange_routes.legs_needed`): a `send` leg on the sending chip, a
`forward` leg on each chip between, a `receive` leg on the receiving chip; a link without
one is refused, naming the chip, the link port and the leg. Each leg must connect what it
says (a `send` leg branches from streams that write its memory into PMUs holding it, a
`receive` leg reaches every PMU holding its memory) and be routed as any stream is: its
paths checked by `rnnc.target.checks.check_design` together with the chip's own routes
(the link ports as switch endpoints), so a leg over a link the chip's streams already
fill, or into a PMU port another stream uses, is refused too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rnnc.target.arch import Architecture
from rnnc.target.exchange_routes import legs_needed
from rnnc.target.machine import Endpoint, Machine, Stream
from rnnc.target.multichip import link_ports

Config = Mapping[str, Any]
Problem = tuple[str, str]
#: A chip of a configuration as a machine (`rnnc.backend.load.machine_of`, passed in: the
#: loader imports this module).
Rebuild = Callable[[Config, int], Machine]

_MISSING = {
    "send": "chip {chip} has no on-chip route taking its rows of '{memory}' to link port "
            "{port}",
    "forward": "chip {chip} has no on-chip route passing '{memory}' on from link port "
               "{from_port} to link port {port}",
    "receive": "chip {chip} has no on-chip route taking '{memory}' from link port {port} to "
               "the PMUs holding it",
}


@dataclass(frozen=True)
class LinkPort:
    """A link port as `check_design` takes a switch endpoint."""

    id: str
    site: tuple[int, int]


def port_name(port: int) -> str:
    """The name a link port goes by in the checks' messages."""
    return f"link{port}"


def check_legs(data: Config, arch: Architecture, rebuild: Rebuild) -> list[Problem]:
    """Every link's legs present (see the module doc), then every leg well formed and
    routed; `rebuild` gives a chip's machine (the loader's `machine_of`)."""
    chips = data["chips"]
    problems: list[Problem] = []
    for k, link in enumerate(data["links"]):
        for chip in dict.fromkeys(link["path"]):
            have = {leg["id"] for leg in chips[chip].get("exchange", ())}
            for leg in legs_needed(chip, len(chips), [link], arch):
                if leg["id"] not in have:
                    problems.append((f"links.{k}", _MISSING[leg["kind"]].format(chip=chip, **leg)
                                     + f" (no leg '{leg['id']}' in chips.{chip}.exchange)"))
    if problems:
        return problems
    for index in range(len(chips)):
        problems += list(_leg_problems(data, index, arch, rebuild))
    return problems


def _leg_problems(data: Config, index: int, arch: Architecture,
                  rebuild: Rebuild) -> Iterator[Problem]:
    """Chip `index`'s legs: ends that exist, then their routes (with the chip's own)."""
    from rnnc.target.checks import check_design

    chip = data["chips"][index]
    legs = chip.get("exchange", ())
    ports = link_ports(arch)
    found = False
    for i, leg in enumerate(legs):
        for problem in _ends(chip, leg, len(ports)):
            found = True
            yield f"chips.{index}.exchange.{i}.{problem[0]}", problem[1]
    if found or not legs:
        return
    machine = rebuild(data, index)
    own = [*machine.streams, *machine.control]
    ends = [LinkPort(port_name(p), site) for p, site in enumerate(ports)]
    before = {str(p) for p in check_design(arch, machine.units, own, machine.controller, ends)}
    after = check_design(arch, machine.units, [*own, *leg_streams(chip, legs)],
                         machine.controller, ends)
    for problem in after:
        if str(problem) not in before:
            yield f"chips.{index}.exchange", str(problem)


def _ends(chip: Config, leg: Config, ports: int) -> Iterator[Problem]:
    """What a leg names exists: its link ports, the streams it branches from (writing its
    memory), the PMUs it reaches (all that hold its memory), one path per branch or sink."""
    memory = leg["memory"]
    for field in ("port", "from_port"):
        if field in leg and not 0 <= leg[field] < ports:
            yield field, f"link port {leg[field]} does not exist (a chip has {ports} links)"
            return
    units = {unit["id"]: unit for unit in chip["units"]}
    holding = sorted(name for name, unit in units.items() if holds(unit, memory))
    ends: list[str] = []
    if leg["kind"] == "send":
        routes = {route["id"]: route for route in chip["routes"]}
        ends = leg.get("routes", [])
        if not ends:
            yield "routes", "names no route (a send leg branches from the writes of " \
                            f"'{memory}')"
        for k, name in enumerate(ends):
            route = routes.get(name)
            if route is None or route["network"] != "vector" or not any(
                    sink["unit"] in holding for sink in route["sinks"]):
                yield f"routes.{k}", f"route '{name}' does not carry writes of '{memory}' " \
                                     "to a PMU holding it"
    elif leg["kind"] == "receive":
        ends = [sink["unit"] for sink in leg.get("sinks", [])]
        if sorted(ends) != holding:
            yield "sinks", f"reaches {sorted(ends)}, the PMUs holding '{memory}' are {holding}"
    else:
        ends = ["one"]
    if len(leg["paths"]) != len(ends):
        yield "paths", f"has {len(leg['paths'])} paths for {len(ends)} " \
                       f"{'routes' if leg['kind'] == 'send' else 'sinks'}"


def holds(unit: Config, memory: str) -> bool:
    """Whether a unit (configuration data) is a PMU holding part of `memory`."""
    return unit["kind"] == "pmu" and any(box["memory"] == memory for box in unit["boxes"])


def leg_streams(chip: Config, legs: Sequence[Config]) -> list[Stream]:
    """The legs as streams the design checks take: a send leg as one more sink (the link
    port) of each stream it branches from (same id: a multicast counts a link once), a
    forward or receive leg as a stream of its own from its link port."""
    routes = {route["id"]: route for route in chip["routes"]}
    taken: dict[str, int] = {}

    def port_end(port: int, direction: str, network: str = "vector") -> Endpoint:
        name = port_name(port)
        key = name + network + direction
        taken[key] = taken.get(key, -1) + 1
        return Endpoint(name, f"{network[0]}{direction}{taken[key]}")

    streams = []
    for leg in legs:
        paths = [tuple(tuple(switch) for switch in path) for path in leg["paths"]]
        if leg["kind"] == "send":
            for name, path in zip(leg["routes"], paths, strict=True):
                source = routes[name]["source"]
                streams.append(Stream(name, "vector", Endpoint(source["unit"], source["port"]),
                                      (port_end(leg["port"], "i"),), (path,)))
        elif leg["kind"] == "forward":
            streams.append(Stream(leg["id"], "vector", port_end(leg["from_port"], "o"),
                                  (port_end(leg["port"], "i"),), tuple(paths)))
        else:
            network = leg.get("network", "vector")
            sinks = tuple(Endpoint(sink["unit"], sink["port"]) for sink in leg["sinks"])
            streams.append(Stream(leg["id"], network, port_end(leg["port"], "o", network),
                                  sinks, tuple(paths)))
    return streams
