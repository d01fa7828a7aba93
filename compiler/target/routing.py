"""Routing: paths through the switch mesh for every stream, within the links' capacity.

PathFinder (McMurchie and Ebeling, 1995), the negotiated-congestion router of FPGA and CGRA
tools, run on each network separately. A stream is routed as a tree: its sinks one by one,
nearest first, each by an A* search that starts from every switch the stream's tree already
holds and stops at any switch the sink is wired to. A tree switch starts at its distance
from the source (a token's latency is the hops of its whole path, not of the branch added),
a little under a fresh link's cost per hop, so a multicast shares the tree's links where
that costs no detour and otherwise takes a shortest path of its own. A directed link costs

    (1 + history) * (1 + present_factor * overuse_if_taken)

where `overuse_if_taken` is how far one more stream would take it past its capacity
(`links_per_switch` of its network). After each round the links still over capacity
raise their history cost, the present factor grows, and the streams that use an over-used
link are ripped up and routed again, until no link is over capacity or the round limit is
reached; then `RoutingError` names the over-used links, their shortfall and the streams on
them.

The control network is routed once, without rip-up: a control token is a one-cycle pulse
that the switches' control blocks forward, so a control link is not held by one stream
for the whole program but carries `links_per_switch.control` pulses per cycle, shared in
time by every stream routed over it (the done tokens of all units converge on the
controller). Each control stream takes a shortest path, among them one whose links are
least over their capacity in streams so far (a detour costs a cycle per hop for certain,
sharing costs only when tokens meet), so routes spread over the links as far as that
costs no detour; tokens that meet on a link wait their turn, which the simulator times
(`rnnc.simulator.timing`).

Plain data in (`RouteRequest`: the switches the producer and each consumer are wired to),
plain data out (per sink, the switches its path crosses, from a switch of the producer to a
switch of the consumer). The order of work is fixed (the requests' order, ties broken by
index), so the result is deterministic.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from rnnc.dialects.spatial import Network
from rnnc.target.network import DIRECTION_NAMES, DIRECTIONS, Topology

#: Rounds of rip-up and reroute before the router gives up.
MAX_ROUNDS = 40
#: Growth of the present-congestion factor per round, and its start.
PRESENT_START = 0.5
PRESENT_GROWTH = 1.6
#: What one unit of over-use adds to a link's history cost per round.
HISTORY_STEP = 1.0
#: The cost of a hop on a stream's own tree, against 1 for a free link: below 1 so that a
#: sink reached as quickly through the tree takes the tree (sharing its links), close to 1
#: so that no sink takes a detour to share them.
TREE_HOP = 0.99
#: On links shared in time (the control network), what a stream beyond a link's capacity
#: adds to its cost: small enough that no load makes a detour cheaper (below 1 / the most
#: streams a mesh holds), so it only breaks ties between shortest paths.
SHARED_LOAD = 1e-6


class RoutingError(Exception):
    """Some links stay over capacity: the message names them and the streams on them."""


@dataclass(frozen=True)
class RouteRequest:
    """One stream to route: its network, the producer's switches and each sink's switches."""

    name: str
    network: str
    source: tuple[int, ...]
    sinks: tuple[tuple[int, ...], ...]


Path = tuple[int, ...]


@dataclass(frozen=True)
class Routing:
    """Per request (in order), per sink, the switches of its path; and the rounds used."""

    paths: tuple[tuple[Path, ...], ...]
    rounds: dict[str, int]


def route(topology: Topology, requests: Sequence[RouteRequest],
          fixed: Sequence[tuple[str, Sequence[Path]]] = ()) -> Routing:
    """Route every request around the `fixed` routes (already routed streams: network and
    per-sink paths, which keep their links); raises `RoutingError` if some network cannot be
    routed."""
    paths: list[tuple[Path, ...]] = [() for _ in requests]
    rounds: dict[str, int] = {}
    problems: list[str] = []
    for network in Network:
        members = [i for i, request in enumerate(requests) if request.network == network]
        if not members:
            continue
        router = _PathFinder(topology, network, [requests[i] for i in members])
        for kept in (paths for kept_network, paths in fixed if kept_network == network):
            for link in _links_of(topology, kept):
                router.occupancy[link] += 1
        try:
            found = router.run_shared() if network == Network.CONTROL else router.run()
        except RoutingError as error:
            problems.append(str(error))
            continue
        rounds[network] = router.rounds
        for index, sink_paths in zip(members, found, strict=True):
            paths[index] = sink_paths
    if problems:
        raise RoutingError("; ".join(problems))
    return Routing(tuple(paths), rounds)


class _PathFinder:
    """Negotiated-congestion routing of the streams of one network."""

    def __init__(self, topology: Topology, network: str, requests: list[RouteRequest]):
        self.topology = topology
        self.network = network
        self.requests = requests
        self.capacity = topology.link_capacity(network).tolist()
        links = len(self.capacity)
        self.occupancy = [0] * links
        self.history = [0.0] * links
        self.present = PRESENT_START
        self.width = topology.switch_cols
        # neighbours[s]: (next switch, link number) for every link leaving s.
        self.neighbours = [
            [(topology.neighbour(s, d), 4 * s + d) for d in range(4) if self.capacity[4 * s + d]]
            for s in range(topology.switches)
        ]
        self.trees: list[list[int]] = [[] for _ in requests]
        self.paths: list[tuple[Path, ...]] = [() for _ in requests]
        self.rounds = 0

    def run(self) -> list[tuple[Path, ...]]:
        # Widest multicasts first: they have the least freedom.
        order = sorted(range(len(self.requests)), key=lambda i: (-len(self.requests[i].sinks), i))
        pending = order
        for self.rounds in range(1, MAX_ROUNDS + 1):
            for index in pending:
                self._rip_up(index)
                self._route(index)
            over = [link for link, used in enumerate(self.occupancy) if used > self.capacity[link]]
            if not over:
                return self.paths
            for link in over:
                self.history[link] += HISTORY_STEP * (self.occupancy[link] - self.capacity[link])
            self.present *= PRESENT_GROWTH
            hot = set(over)
            pending = [i for i in order if any(link in hot for link in self.trees[i])]
        raise RoutingError(self._describe_failure())

    def run_shared(self) -> list[tuple[Path, ...]]:
        """Route every stream once, widest multicast first, on links shared in time (the
        control network, see the module doc): among shortest paths, the least over their
        capacity; no stream is refused."""
        self.rounds = 1
        self.present = SHARED_LOAD
        for index in sorted(range(len(self.requests)),
                            key=lambda i: (-len(self.requests[i].sinks), i)):
            self._route(index)
        return self.paths

    def _rip_up(self, index: int) -> None:
        for link in self.trees[index]:
            self.occupancy[link] -= 1
        self.trees[index] = []

    def _route(self, index: int) -> None:
        """Route one stream as a tree, sink by sink, nearest sink first."""
        request = self.requests[index]
        parent: dict[int, int] = {switch: -1 for switch in request.source}
        tree: list[int] = []
        sink_order = sorted(
            range(len(request.sinks)),
            key=lambda k: (self._distance(request.source, request.sinks[k]), k),
        )
        ends: list[int] = [0] * len(request.sinks)
        for k in sink_order:
            ends[k] = self._connect(parent, tree, request.sinks[k])
        for link in tree:
            self.occupancy[link] += 1
        self.trees[index] = tree
        self.paths[index] = tuple(self._path_to(parent, end) for end in ends)

    def _connect(self, parent: dict[int, int], tree: list[int],
                 targets: tuple[int, ...]) -> int:
        """A* from the tree to any of `targets`; grows the tree; returns the switch reached."""
        for target in targets:
            if target in parent:
                return target
        width = self.width
        rows = [t // width for t in targets]
        cols = [t % width for t in targets]
        top, bottom, left, right = min(rows), max(rows), min(cols), max(cols)

        def estimate(switch: int) -> int:
            row, col = divmod(switch, width)
            return max(top - row, 0, row - bottom) + max(left - col, 0, col - right)

        best: dict[int, float] = {}
        came: dict[int, tuple[int, int]] = {}
        frontier: list[tuple[float, int, float, int]] = []
        for switch in parent:
            start = TREE_HOP * self._depth(parent, switch)
            best[switch] = start
            frontier.append((start + estimate(switch), switch, start, switch))
        heapq.heapify(frontier)
        target_set = set(targets)
        occupancy, capacity, history = self.occupancy, self.capacity, self.history
        present, neighbours = self.present, self.neighbours
        while frontier:
            _, _, cost, switch = heapq.heappop(frontier)
            if cost > best[switch]:
                continue
            if switch in target_set:
                return self._graft(parent, tree, came, switch)
            for following, link in neighbours[switch]:
                if following in parent:
                    continue
                over = occupancy[link] + 1 - capacity[link]
                step = (1.0 + history[link]) * (1.0 + present * over if over > 0 else 1.0)
                total = cost + step
                if total < best.get(following, float("inf")):
                    best[following] = total
                    came[following] = (switch, link)
                    heapq.heappush(frontier, (total + estimate(following), following, total,
                                              following))
        raise RoutingError(f"no path to switches {sorted(targets)}")  # a disconnected mesh

    @staticmethod
    def _depth(parent: dict[int, int], switch: int) -> int:
        """Hops from the source to `switch` along the tree."""
        depth = 0
        while parent[switch] != -1:
            switch = parent[switch]
            depth += 1
        return depth

    @staticmethod
    def _graft(parent: dict[int, int], tree: list[int],
               came: dict[int, tuple[int, int]], end: int) -> int:
        """Add the searched path ending at `end` to the tree."""
        switch = end
        while switch not in parent:
            previous, link = came[switch]
            parent[switch] = previous
            tree.append(link)
            switch = previous
        return end

    @staticmethod
    def _path_to(parent: dict[int, int], end: int) -> Path:
        path = [end]
        while parent[path[-1]] != -1:
            path.append(parent[path[-1]])
        return tuple(reversed(path))

    def _distance(self, source: tuple[int, ...], sink: tuple[int, ...]) -> int:
        width = self.width
        return min(abs(a // width - b // width) + abs(a % width - b % width)
                   for a in source for b in sink)

    def _describe_failure(self) -> str:
        over = [link for link, used in enumerate(self.occupancy) if used > self.capacity[link]]
        over.sort(key=lambda link: (self.capacity[link] - self.occupancy[link], link))
        shortfall = sum(self.occupancy[link] - self.capacity[link] for link in over)
        described = [self._describe_link(link) for link in over[:4]]
        more = f" and {len(over) - 4} more" if len(over) > 4 else ""
        hot = set(over)
        streams = [request.name for request, tree in zip(self.requests, self.trees, strict=True)
                   if any(link in hot for link in tree)]
        named = ", ".join(streams[:8]) + (f" and {len(streams) - 8} more" if len(streams) > 8
                                           else "")
        links = self.topology.links[self.network]
        return (
            f"cannot route the {self.network} network with {links} link(s) per direction "
            f"after {self.rounds} rounds: {len(over)} link(s) over capacity by {shortfall} "
            f"stream(s) in all: {'; '.join(described)}{more}; streams on them: {named}"
        )

    def _describe_link(self, link: int) -> str:
        switch, direction = divmod(link, 4)
        row, col = divmod(switch, self.width)
        d_row, d_col = DIRECTIONS[direction]
        return (
            f"({row}, {col})->({row + d_row}, {col + d_col}) {DIRECTION_NAMES[direction]} "
            f"carries {self.occupancy[link]} of {self.capacity[link]}"
        )


def _links_of(topology: Topology, sink_paths: Sequence[Path]) -> list[int]:
    """The directed links a stream's paths use, each once; ValueError if two consecutive
    switches of a path are not neighbours."""
    width = topology.switch_cols
    links: dict[int, None] = {}
    for path in sink_paths:
        for a, b in itertools.pairwise(path):
            step = (b // width - a // width, b % width - a % width)
            if step not in DIRECTIONS:
                raise ValueError(f"switches {topology.switch_site(a)} and "
                                 f"{topology.switch_site(b)} are not neighbours")
            links[4 * a + DIRECTIONS.index(step)] = None
    return list(links)


def link_use(topology: Topology, networks: Sequence[str],
             paths: Sequence[Sequence[Path]]) -> dict[str, list[int]]:
    """Streams per directed link, per network (a stream counts once per link), for streams
    on `networks` with per-sink `paths`."""
    use = {network: [0] * (4 * topology.switches) for network in Network}
    for network, sink_paths in zip(networks, paths, strict=True):
        for link in _links_of(topology, sink_paths):
            use[network][link] += 1
    return use


__all__ = ["MAX_ROUNDS", "RouteRequest", "Routing", "RoutingError", "link_use", "route"]
