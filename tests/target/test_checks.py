"""The independent checker: a placed and routed design passes; each corruption is named."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import pytest
from pnr_designs import lstm_like
from rnnc.target.arch import load_architecture
from rnnc.target.checks import check_design
from rnnc.target.network import topology
from rnnc.target.placement import place
from rnnc.target.routing import route


@dataclass(frozen=True)
class Unit:
    id: str
    kind: str
    site: tuple[int, int] | None
    bytes: int = 0
    edge: str | None = None


@dataclass(frozen=True)
class End:
    unit: str
    port: str


@dataclass(frozen=True)
class Stream:
    id: str
    network: str
    source: End
    sinks: tuple[End, ...]
    paths: tuple[tuple[tuple[int, int], ...], ...] | None


ARCH = load_architecture("plasticine-rnn")


def _routed():
    """A small LSTM-like design placed and routed, with ports numbered per unit."""
    chip = topology(ARCH)
    design = lstm_like(map_reduce=24, combine=4, elementwise=2, operands=3, ags=3)
    sites = place(chip, design.problem(chip), seed=0)
    requests = design.requests(chip, sites)
    routing = route(chip, requests)
    units = [
        Unit(name, cls.partition(":")[0], site, 1000 if cls == "pmu" else 0,
             cls.partition(":")[2] or None)
        for name, cls, site in zip(design.names, design.classes, sites, strict=True)
    ]
    used: dict[tuple[str, str], int] = {}

    def port(unit: int, network: str, direction: str) -> End:
        key = (design.names[unit], network[0] + direction)
        used[key] = used.get(key, -1) + 1
        return End(design.names[unit], f"{key[1]}{used[key]}")

    streams = [
        Stream(
            f"s{i}", network, port(net[0], network, "o"),
            tuple(port(u, network, "i") for u in net[1:]),
            tuple(tuple(chip.switch_site(s) for s in path) for path in paths),
        )
        for i, (net, network, paths) in enumerate(
            zip(design.nets, design.networks, routing.paths, strict=True))
    ]
    return units, streams


def test_a_placed_and_routed_design_passes() -> None:
    units, streams = _routed()
    assert check_design(ARCH, units, streams) == []


def _messages(units, streams) -> list[str]:
    return [str(p) for p in check_design(ARCH, units, streams)]


def test_a_unit_on_the_wrong_kind_of_site() -> None:
    units, streams = _routed()
    units[0] = replace(units[0], site=(0, 0))
    assert "unit 'mr0': PCU at (0, 0), which is a PMU site" in _messages(units, streams)


def test_two_units_on_one_site() -> None:
    units, streams = _routed()
    units[1] = replace(units[1], site=units[0].site)
    assert any("unit 'mr1': shares site" in m for m in _messages(units, streams))


def test_an_ag_on_the_wrong_edge() -> None:
    units, streams = _routed()
    index = next(i for i, u in enumerate(units) if u.edge == "left")
    units[index] = replace(units[index], site=(3, 24))
    assert any("AG of the left edge at (3, 24), on the right edge" in m
               for m in _messages(units, streams))


def test_a_broken_path() -> None:
    units, streams = _routed()
    index = next(i for i, s in enumerate(streams) if len(s.paths[0]) >= 3)
    path = streams[index].paths[0]
    broken = (path[0], *path[2:])
    streams[index] = replace(streams[index], paths=(broken, *streams[index].paths[1:]))
    assert any("which are not adjacent switches" in m for m in _messages(units, streams))


def test_a_path_that_misses_its_consumer() -> None:
    units, streams = _routed()
    stream = streams[0]
    streams[0] = replace(stream, paths=((stream.paths[0][0],), *stream.paths[1:]))
    if stream.paths[0][0] != stream.paths[0][-1]:
        assert any("which 'mr0' is not wired to" in m for m in _messages(units, streams))


def test_a_link_over_capacity() -> None:
    """Five copies of a stream over the same switches: one more than the 4 links."""
    units, streams = _routed()
    index = next(i for i, s in enumerate(streams) if s.network == "vector" and len(s.paths[0]) >= 2)
    stream = streams[index]
    copies = [replace(stream, id=f"copy{k}", source=End(stream.source.unit, "vo0"),
                      sinks=stream.sinks) for k in range(4)]
    messages = _messages(units, [*streams, *copies])
    a, b = stream.paths[0][0], stream.paths[0][1]
    over = [m for m in messages if m.startswith(f"link {a}->{b} of the vector network: ")]
    assert len(over) == 1
    # the link may carry other streams of the design too (the placement decides)
    found = re.fullmatch(r".*: carries (\d+) streams, (\d+) more than its 4 links \((.*)\)",
                         over[0])
    assert found is not None
    carried, excess = int(found[1]), int(found[2])
    assert carried >= 5 and excess == carried - 4 and "copy0" in found[3]


def test_ports_that_do_not_exist_or_are_shared() -> None:
    units, streams = _routed()
    streams[0] = replace(streams[0], source=End(streams[0].source.unit, "vo5"))
    messages = _messages(units, streams)
    assert any("port 'vo5' of" in m and "does not exist (a PMU has 1 vector outputs)" in m
               for m in messages)
    units, streams = _routed()
    streams[1] = replace(streams[1], source=streams[0].source)
    assert any("already carries stream 's0'" in m for m in _messages(units, streams))


def test_a_missing_route() -> None:
    # (a PMU's bytes are computed from its boxes by `check_machine`: tests/backend)
    units, streams = _routed()
    streams[0] = replace(streams[0], paths=None)
    assert "stream 's0': has no route (run spatial-route)" in _messages(units, streams)


def test_a_path_that_visits_a_switch_twice() -> None:
    """Back and forth over one link: every hop adjacent, ends unchanged, not simple."""
    units, streams = _routed()
    index = next(i for i, s in enumerate(streams) if len(s.paths[0]) >= 2)
    stream = streams[index]
    path = stream.paths[0]
    bounced = (path[0], path[1], *path)
    streams[index] = replace(stream, paths=(bounced, *stream.paths[1:]))
    assert f"stream '{stream.id}' field 'paths.0': path to '{stream.sinks[0].unit}' visits " \
           f"switch {path[0]} twice" in _messages(units, streams)


@pytest.mark.parametrize("site", [(-1, 3), (30, 2), (24, 24)])
def test_sites_off_the_chip(site) -> None:
    units, streams = _routed()
    units[0] = replace(units[0], site=site)
    assert any(m.startswith("unit 'mr0': PCU at") for m in _messages(units, streams))
