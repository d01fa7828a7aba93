"""PathFinder on the switch mesh: legal trees, capacities respected, clear failures."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest
from pnr_designs import lstm_like
from rnnc.target.arch import PRESET_DIR, architecture_from_dict, load_architecture
from rnnc.target.network import topology
from rnnc.target.placement import place
from rnnc.target.routing import RouteRequest, RoutingError, link_use, route


def _chip(links: dict[str, int] | None = None):
    data = json.loads((PRESET_DIR / "plasticine-rnn.json").read_text())
    if links:
        data["network"]["links_per_switch"] = links
    return topology(architecture_from_dict(data))


def _adjacent(chip, a: int, b: int) -> bool:
    (ra, ca), (rb, cb) = chip.switch_site(a), chip.switch_site(b)
    return abs(ra - rb) + abs(ca - cb) == 1


def test_routes_the_lstm_like_design_within_capacity() -> None:
    chip = topology(load_architecture("plasticine-rnn"))
    design = lstm_like()
    sites = place(chip, design.problem(chip), seed=0)
    requests = design.requests(chip, sites)
    routing = route(chip, requests)
    for request, paths in zip(requests, routing.paths, strict=True):
        assert len(paths) == len(request.sinks)
        for path, sink in zip(paths, request.sinks, strict=True):
            assert path[0] in request.source and path[-1] in sink
            assert all(_adjacent(chip, a, b) for a, b in pairwise(path))
    for network, use in link_use(chip, [r.network for r in requests], routing.paths).items():
        assert max(use) <= chip.links[network]


def test_a_multicast_uses_each_link_once() -> None:
    """One source, sinks in a row: the tree shares the trunk, one stream per link."""
    chip = _chip({"scalar": 1, "vector": 1, "control": 1})
    s = chip.switch
    request = RouteRequest("bcast", "vector", (s(5, 0),), tuple((s(5, c),) for c in range(3, 10)))
    routing = route(chip, [request])
    use = link_use(chip, ["vector"], routing.paths)["vector"]
    assert max(use) == 1
    assert sum(use) == 9  # the trunk (5,0) -> (5,9)
    assert [len(p) - 1 for p in routing.paths[0]] == list(range(3, 10))


def test_congestion_is_negotiated_around() -> None:
    """Three streams between the same two switches on one link per direction: two detour."""
    chip = _chip({"scalar": 1, "vector": 1, "control": 1})
    s = chip.switch
    requests = [RouteRequest(f"s{i}", "scalar", (s(5, 5),), ((s(5, 9),),)) for i in range(3)]
    routing = route(chip, requests)
    assert max(link_use(chip, [r.network for r in requests], routing.paths)["scalar"]) == 1
    assert sorted(len(p[0]) - 1 for p in routing.paths) == [4, 6, 6]


def test_too_few_links_names_links_and_streams() -> None:
    """Five streams out of one corner switch that has four outgoing links."""
    chip = _chip({"scalar": 1, "vector": 1, "control": 1})
    s = chip.switch
    requests = [RouteRequest(f"s{i}", "scalar", (s(5, 5),), ((s(0, i),),)) for i in range(5)]
    with pytest.raises(RoutingError, match=r"cannot route the scalar network with 1 link\(s\) "
                       r"per direction after 40 rounds: 1 link\(s\) over capacity by 1 "
                       r"stream\(s\) in all: \(5, 5\)->\(.*carries 2 of 1; streams on them: s"):
        route(chip, requests)


def test_routing_is_deterministic() -> None:
    chip = topology(load_architecture("plasticine-rnn"))
    design = lstm_like(map_reduce=80, combine=8, operands=8, ags=10)
    requests = design.requests(chip, place(chip, design.problem(chip), seed=1))
    assert route(chip, requests) == route(chip, requests)


def test_fixed_routes_keep_their_links() -> None:
    """A kept route fills the only direct link, so the new stream detours."""
    chip = _chip({"scalar": 1, "vector": 1, "control": 1})
    s = chip.switch
    kept = ("scalar", ((s(5, 5), s(5, 6), s(5, 7)),))
    request = RouteRequest("new", "scalar", (s(5, 5),), ((s(5, 7),),))
    routing = route(chip, [request], fixed=[kept])
    assert len(routing.paths[0][0]) - 1 == 4


def test_control_streams_share_links_in_time_on_shortest_paths() -> None:
    """Twelve done tokens into one controller switch with one link per direction: the
    scalar network refuses them (four links into the switch); the control network routes
    each on a shortest path, its links shared in time."""
    chip = _chip({"scalar": 1, "vector": 1, "control": 1})
    s = chip.switch
    controller = (s(12, 12),)
    sources = [s(12, 2 + k) for k in range(6)] + [s(2 + k, 12) for k in range(6)]
    requests = [RouteRequest(f"done{k}", "control", (source,), (controller,))
                for k, source in enumerate(sources)]
    paths = route(chip, requests).paths
    for source, (path,) in zip(sources, paths, strict=True):
        (r0, c0), (r1, c1) = chip.switch_site(source), chip.switch_site(path[-1])
        assert path[0] == source and path[-1] == controller[0]
        assert len(path) - 1 == abs(r0 - r1) + abs(c0 - c1)
    use = link_use(chip, ["control"] * len(requests), paths)["control"]
    assert max(use) > chip.links["control"]
    with pytest.raises(RoutingError):
        route(chip, [RouteRequest(r.name, "scalar", r.source, r.sinks) for r in requests])
