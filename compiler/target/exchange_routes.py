"""The on-chip legs of a multi-chip exchange, built and routed like any stream.

A chip-to-chip link leaves the chip at a port on the edge of the switch mesh
(`rnnc.target.multichip.link_ports`). Per chip, what the `links` of the exchange ask of it
(`legs_needed`) becomes these legs, each routed by the chip's router (`routing.route`,
PathFinder) around the chip's own routed streams, so no leg takes a link another stream
holds:

* `send` (memory m, port p): the chip's slice of m leaves by link p. Each stream that
  writes m (a vector stream from a PCU of the time loop to the PMUs holding m) gains one
  more sink, the port: the slice is tapped from the writes as an address generator's
  store is, one branch per writing stream (`routes`, `paths`);
* `forward` (m, from port q to port p): a ring chip passes a slice it received on;
* `receive` (m, port p): the slices arriving by link p go to every PMU holding m, on an
  input no other stream uses (`sinks`, `paths`): a vector input, or where some PMU has
  none left (a small design packs x and h in one PMU written by three streams) a scalar
  input, one word a cycle (`network`; the slower port then paces the slices,
  `LegHops.receive_rate`).

Legs are config data (`chips[k].exchange` in config.json, docs/config-format.md); the
loader checks them (`rnnc.backend.exchange_legs`) and the simulator times them
(`leg_hops`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from rnnc.diagnostics import Diagnostic
from rnnc.target.arch import Architecture
from rnnc.target.machine import PCU, PMU, Machine, Stream
from rnnc.target.multichip import LegHops, link_ports, port_towards
from rnnc.target.network import Topology, topology
from rnnc.target.plan import WORD_BYTES
from rnnc.target.routing import RouteRequest, RoutingError, route

Leg = dict[str, Any]


def legs_needed(chip: int, chips: int, links: Sequence[Mapping[str, Any]],
                arch: Architecture) -> list[Leg]:
    """The legs (kind, memory, ports; not yet routed) the `links` ask of chip `chip`, each
    once, in a fixed order."""
    needed: dict[str, Leg] = {}
    for link in links:
        path, memory = link["path"], link["memory"]
        for k, here in enumerate(path):
            if here != chip:
                continue
            came = port_towards(chip, path[k - 1], chips, arch, arriving=True) if k else None
            goes = port_towards(chip, path[k + 1], chips, arch) if k < len(path) - 1 else None
            leg = _leg(memory, came, goes)
            needed.setdefault(leg["id"], leg)
    return [needed[name] for name in sorted(needed)]


def _leg(memory: str, came: int | None, goes: int | None) -> Leg:
    if came is None:
        return {"id": f"{memory}.send.{goes}", "memory": memory, "kind": "send", "port": goes}
    if goes is None:
        return {"id": f"{memory}.receive.{came}", "memory": memory, "kind": "receive",
                "port": came}
    return {"id": f"{memory}.forward.{came}-{goes}", "memory": memory, "kind": "forward",
            "from_port": came, "port": goes}


def writing_streams(machine: Machine, memory: str) -> list[Stream]:
    """The vector streams that carry a time-loop PCU's writes of `memory` to the PMUs that
    hold it."""
    looped = {n for phase in machine.schedule if phase.kind == "loop" for n in phase.nests}
    units = {unit.id: unit for unit in machine.units}
    holding = {unit.id for unit in machine.units if isinstance(unit, PMU)
               and any(box.memory == memory for box in unit.boxes)}
    return [s for s in machine.streams if s.network == "vector"
            and isinstance(units.get(s.source.unit), PCU)
            and units[s.source.unit].nest in looped  # type: ignore[union-attr]
            and any(sink.unit in holding for sink in s.sinks)]


def free_input(machine: Machine, pmu: PMU, network: str, arch: Architecture,
               taken: set[tuple[str, str]]) -> str | None:
    """The first input port of `pmu` on `network` no stream uses and no leg has `taken`."""
    used = {sink.port for stream in machine.streams for sink in stream.sinks
            if sink.unit == pmu.id} | {port for unit, port in taken if unit == pmu.id}
    return next((f"{network[0]}i{k}" for k in range(arch.ports("pmu", network, "inputs"))
                 if f"{network[0]}i{k}" not in used), None)


def route_exchange(machine: Machine, chip: int, chips: int,
                   links: Sequence[Mapping[str, Any]], arch: Architecture) -> list[Leg]:
    """Chip `chip`'s legs of the exchange, routed around its streams (see the module doc);
    a leg that cannot be built or routed is a `Diagnostic` naming the chip."""
    mesh = topology(arch)
    ports = [mesh.switch(*switch) for switch in link_ports(arch)]
    wired = {unit.id: mesh.attachments[unit.site] for unit in machine.units
             if unit.site is not None}
    legs = legs_needed(chip, chips, links, arch)
    requests: list[RouteRequest] = []
    taken: set[tuple[str, str]] = set()
    for leg in legs:
        requests += _requests(machine, chip, leg, ports=ports, wired=wired, arch=arch,
                              taken=taken)
    fixed = [(s.network, tuple(tuple(mesh.switch(*site) for site in path) for path in s.paths))
             for s in machine.streams if s.paths]
    try:
        routing = route(mesh, requests, fixed)
    except RoutingError as error:
        raise Diagnostic("--chips", f"chip {chip}: the on-chip routes of the exchange do not "
                         f"fit its network: {error}") from None
    found = {request.name: paths for request, paths in zip(requests, routing.paths,
                                                            strict=True)}
    return [_routed(leg, found, mesh) for leg in legs]


def _requests(machine: Machine, chip: int, leg: Leg, *, ports: Sequence[int],
              wired: Mapping[str, tuple[int, ...]], arch: Architecture,
              taken: set[tuple[str, str]]) -> list[RouteRequest]:
    """What to route for `leg`, filling in its endpoints (`routes`, `sinks`)."""
    port, memory = (ports[leg["port"]],), leg["memory"]
    if leg["kind"] == "send":
        streams = writing_streams(machine, memory)
        if not streams:
            raise Diagnostic("--chips", f"chip {chip}: no stream writes '{memory}' in the time "
                             "loop, so none can take it to a link port")
        leg["routes"] = [s.id for s in streams]
        return [RouteRequest(f"{leg['id']}:{s.id}", "vector", wired[s.source.unit], (port,))
                for s in streams]
    if leg["kind"] == "forward":
        return [RouteRequest(leg["id"], "vector", (ports[leg["from_port"]],), (port,))]
    holding = sorted((unit for unit in machine.units if isinstance(unit, PMU)
                      and any(box.memory == memory for box in unit.boxes)),
                     key=lambda unit: unit.id)
    for network in ("vector", "scalar"):
        free = [free_input(machine, unit, network, arch, taken) for unit in holding]
        if None not in free:
            break
    else:
        full = holding[free.index(None)].id
        raise Diagnostic("--chips", f"chip {chip}: PMU '{full}' holds '{memory}' but has no "
                         "free vector or scalar input for the exchange's slices")
    leg["network"] = network
    taken.update(zip((unit.id for unit in holding), free, strict=True))  # type: ignore[arg-type]
    leg["sinks"] = [{"unit": unit.id, "port": name}
                    for unit, name in zip(holding, free, strict=True)]
    return [RouteRequest(leg["id"], network, port,
                         tuple(wired[sink["unit"]] for sink in leg["sinks"]))]


def _routed(leg: Leg, found: Mapping[str, Sequence[Sequence[int]]], mesh: Topology) -> Leg:
    """`leg` with its `paths` (per route or sink, the [row, col] switches crossed)."""
    def sites(path: Sequence[int]) -> list[list[int]]:
        return [list(mesh.switch_site(switch)) for switch in path]

    if leg["kind"] == "send":
        paths = [sites(found[f"{leg['id']}:{name}"][0]) for name in leg["routes"]]
    else:
        paths = [sites(path) for path in found[leg["id"]]]
    return {**leg, "paths": paths}


def leg_hops(chips: Sequence[Mapping[str, Any]], arch: Architecture) -> LegHops:
    """Per chip, the cycles each kind of leg adds: its longest routed path's hops times the
    hop latency; and the bytes per cycle of its receive legs, a word per lane of its
    network (config data: each chip's `exchange`)."""
    hop = arch.network.hop_latency_cycles
    kinds: dict[str, dict[int, int]] = {"send": {}, "forward": {}, "receive": {}}
    rate: dict[int, float] = {}
    for index, chip in enumerate(chips):
        for leg in chip.get("exchange", ()):
            longest = max((len(path) - 1 for path in leg["paths"]), default=0)
            own = kinds[leg["kind"]]
            own[index] = max(own.get(index, 0), longest * hop)
            if leg["kind"] == "receive":
                words = arch.pcu.lanes if leg.get("network", "vector") == "vector" else 1
                rate[index] = min(rate.get(index, math.inf), words * WORD_BYTES)
    return LegHops(send=kinds["send"], forward=kinds["forward"], receive=kinds["receive"],
                   receive_rate=rate)
