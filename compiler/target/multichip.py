"""A model split over several chips: which hidden units each chip computes, and the
exchange of the state slices over the chip-to-chip links each step.

The split (`chip_rows`) gives each chip at most ceil(H / N) of the H hidden units, the
share the search's per-chip program assumes (`rnnc.target.cost.per_chip_program`); each
chip holds
those rows of every gate's weights and computes that slice of h. Every chip multiplies by
the whole of h, so after each step (after each nest that writes a state another nest reads
across the hidden units, e.g. r * h of an ONNX GRU) every chip sends its slice to every
other chip over the links of the architecture's `interchip` section:

* `ring`: the chips form a ring; a slice travels from chip to chip, stored and forwarded,
  one way round, over `links_per_chip // 2` parallel links between neighbours;
* `all-to-all`: a chip has a link to every other chip, `links_per_chip` of them at once
  (a chip with fewer links than other chips sends its slices in rounds).

Each link has a port on the edge of the chip's switch mesh (`link_ports`: the
architecture's `interchip.ports`). On chip the exchange is routed like any stream
(`rnnc.target.exchange_routes`): a `send` leg takes the slice from the stream that writes
it to the port of the link towards the next chip of its path (`port_towards`), a `forward`
leg carries a slice a ring chip passes on from one port to the other, a `receive` leg
takes it from the port to the PMUs that hold the memory. A leg adds the hops of its
longest routed path (`LegHops`).

A transfer of `b` bytes over one link takes `ceil(b / bytes_per_cycle)` cycles to send and
arrives `link_latency_cycles` later. `exchange_cycles` is the cost model's closed form;
`rnnc sim` times the same transfers event by event (`rnnc.simulator.multichip`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from rnnc.target.arch import Architecture


class MultichipError(ValueError):
    """A split that cannot be made (more chips than hidden units, a chip left empty)."""


def chip_rows(hidden: int, chips: int) -> tuple[tuple[int, int], ...]:
    """Per chip, the hidden units [lo, hi) it computes, in order: as even as they go (the
    first `hidden % chips` chips one more), so no chip has more than ceil(hidden / chips),
    the share the search designs each chip for. Every chip gets at least one."""
    if not 1 <= chips <= hidden:
        raise MultichipError(f"{hidden} hidden units cannot be split over {chips} chips "
                             "(each chip computes at least one)")
    share, more = divmod(hidden, chips)
    bounds = [k * share + min(k, more) for k in range(chips + 1)]
    return tuple(itertools.pairwise(bounds))


def link_path(source: int, target: int, chips: int, topology: str) -> tuple[int, ...]:
    """The chips a slice from `source` to `target` crosses, both ends included: one way
    round a ring (the chip after k is k + 1 mod chips), straight across all-to-all."""
    if topology == "all-to-all":
        return (source, target)
    return tuple((source + n) % chips for n in range((target - source) % chips + 1))


def link_ports(arch: Architecture) -> tuple[tuple[int, int], ...]:
    """Per link of a chip, the edge switch (row, col) where its port sits: the
    architecture's `interchip.ports`, or by default the middle switches of the right
    (even links) and left (odd links) edges, rows counting on from the middle (a ring's
    chips side by side, the link to the next chip on the right)."""
    if arch.interchip.ports:
        return arch.interchip.ports
    rows, cols = arch.grid.rows, arch.grid.cols
    return tuple((min(rows, rows // 2 + k // 2), cols if k % 2 == 0 else 0)
                 for k in range(arch.interchip.links_per_chip))


def port_towards(chip: int, other: int, chips: int, arch: Architecture, *,
                 arriving: bool = False) -> int:
    """The link (its port) by which chip `chip` sends to, or with `arriving` receives
    from, its neighbour `other` on a path. On a ring slices travel one way: they leave by
    the first of the links facing the next chip and arrive by the first of those facing
    the previous one; all-to-all a chip's links are dealt to the other chips in order,
    each carrying both ways."""
    if arch.interchip.topology == "ring":
        return lanes(arch) % arch.interchip.links_per_chip if arriving else 0
    others = [k for k in range(chips) if k != chip]
    return others.index(other) % arch.interchip.links_per_chip


@dataclass(frozen=True)
class LegHops:
    """Per chip, the cycles the on-chip legs of the exchange add (hop latency times the
    hops of the longest routed path): `send` before its slice leaves it, `forward` when
    it passes a slice on, `receive` after a slice arrives."""

    send: Mapping[int, int] = field(default_factory=dict)
    forward: Mapping[int, int] = field(default_factory=dict)
    receive: Mapping[int, int] = field(default_factory=dict)
    receive_rate: Mapping[int, float] = field(default_factory=dict)
    """Per chip, the bytes per cycle its receive legs carry (none given: no slower than
    the link)."""

    def largest(self) -> tuple[int, int, int]:
        """The longest send, forward and receive leg over the chips."""
        return tuple(max(legs.values(), default=0)  # type: ignore[return-value]
                     for legs in (self.send, self.forward, self.receive))

    def slowest_rate(self) -> float:
        """The bytes per cycle of the slowest receive leg."""
        return min(self.receive_rate.values(), default=math.inf)


def taken_in(nbytes: int, rate: float, arriving: int, free: int) -> int:
    """When a slice of `nbytes` that starts arriving at `arriving` and has wholly arrived
    `arriving + send` later has gone through a receive port of `rate` bytes per cycle
    that is free from `free`: the port takes it as it comes, no faster than `rate`."""
    start = max(arriving, free)
    return start + (math.ceil(nbytes / rate) if math.isfinite(rate) else 0)


def lanes(arch: Architecture) -> int:
    """How many links carry one transfer between two chips side by side: half of a chip's
    links on a ring (the other half face the other neighbour), one all-to-all."""
    interchip = arch.interchip
    return max(1, interchip.links_per_chip // 2) if interchip.topology == "ring" else 1


def send_cycles(nbytes: int, arch: Architecture) -> int:
    """Cycles to put `nbytes` on the link(s) between two neighbouring chips."""
    return math.ceil(nbytes / (arch.interchip_bytes_per_cycle() * lanes(arch)))


def exchange_cycles(slice_bytes: int, chips: int, arch: Architecture,
                    legs: LegHops | None = None) -> int:
    """The closed form of one all-gather of `chips` slices of `slice_bytes` each, from the
    end of the step that wrote them to the last slice's arrival in the PMUs (see the
    module doc); without `legs` (before routing) the on-chip legs count nothing."""
    if chips == 1:
        return 0
    interchip = arch.interchip
    legs = legs or LegHops()
    send, latency = send_cycles(slice_bytes, arch), interchip.link_latency_cycles
    out, forward, receive = legs.largest()
    if interchip.topology == "ring":
        # slice k (from the chip k + 1 back) starts arriving after k forwards, by one port
        starts = [(0, 0, out + k * (send + latency + forward) + latency)
                  for k in range(chips - 1)]
    else:
        # chip a sends to its k-th other chip in round k // links_per_chip; chip b takes
        # chip a's slice by the port it deals to a
        links, others = interchip.links_per_chip, _others(chips)
        starts = sorted((b, others[b].index(a) % links,
                         out + others[a].index(b) // links * send + latency)
                        for a in range(chips) for b in others[a])
    through: dict[tuple[int, int], int] = {}
    for target, port, start in starts:
        key = (target, port)
        through[key] = max(start + send, taken_in(slice_bytes, legs.slowest_rate(), start,
                                                  through.get(key, 0)))
    return max(through.values()) + receive


def _others(chips: int) -> list[list[int]]:
    """Per chip, the other chips in order."""
    return [[k for k in range(chips) if k != chip] for chip in range(chips)]


@dataclass(frozen=True)
class Transfer:
    """One slice sent from chip `source` to chip `target` over `path`, `nbytes` long."""

    source: int
    target: int
    nbytes: int
    path: tuple[int, ...]


def simulate_exchange(transfers: list[Transfer], arch: Architecture,
                      legs: LegHops | None = None) -> int:
    """The cycles from the start of an exchange to the arrival of its last slice in the
    receiving PMUs, transfer by transfer: a slice reaches its chip's port over the send
    leg; each hop of a path is a directed link (ring: the `lanes` links from chip a to
    chip a + 1 as one; all-to-all: a chip's links to the others, `links_per_chip` at a
    time, taken in the order of the transfers); a link sends one slice at a time, in the
    order slices reach it, a chip forwards a slice (over its forward leg) once it has
    wholly arrived, and a slice crosses a link once however many chips beyond it take it
    (a ring all-gather); the receive leg takes it on to the PMUs. The legs are routed
    over links no other stream holds, so they wait for nothing but the link."""
    latency = arch.interchip.link_latency_cycles
    legs = legs or LegHops()
    free: dict[object, int] = {}
    port_free: dict[tuple[int, int], int] = {}
    chips = 1 + max((max(t.source, t.target) for t in transfers), default=0)
    crossed: dict[tuple[int, tuple[int, ...]], int] = {}
    ready = {index: legs.send.get(transfer.source, 0)
             for index, transfer in enumerate(transfers)}
    hop = {index: 0 for index in range(len(transfers))}
    done = 0
    while ready:
        # the slice that can move first (ties: lowest transfer), over its next hop
        index = min(ready, key=lambda n: (ready[n], n))
        transfer = transfers[index]
        step = transfer.path[hop[index]:hop[index] + 2]
        if (transfer.source, step) not in crossed:
            link = _link(step, transfer, transfers, arch)
            start = max(ready[index], free.get(link, 0))
            free[link] = start + send_cycles(transfer.nbytes, arch)
            crossed[(transfer.source, step)] = free[link] + latency
        arrival = crossed[(transfer.source, step)]
        hop[index] += 1
        if hop[index] == len(transfer.path) - 1:
            del ready[index]
            target = transfer.target
            port = (target, port_towards(target, step[0], chips, arch, arriving=True))
            rate = legs.receive_rate.get(target, math.inf)
            through = max(arrival, taken_in(transfer.nbytes, rate, arrival - send_cycles(
                transfer.nbytes, arch), port_free.get(port, 0)))
            port_free[port] = through
            done = max(done, through + legs.receive.get(target, 0))
        else:
            ready[index] = arrival + legs.forward.get(step[1], 0)
    return done


def _link(hop: tuple[int, ...], transfer: Transfer, transfers: list[Transfer],
          arch: Architecture) -> object:
    """The directed link a hop from chip a to chip b uses: on a ring the link(s) from a to
    b; all-to-all, chip a's links dealt to its transfers in turn."""
    a, _ = hop
    if arch.interchip.topology == "ring":
        return hop
    own = [t for t in transfers if t.source == a]
    return (a, own.index(transfer) % arch.interchip.links_per_chip)


def all_gather(rows: tuple[tuple[int, int], ...], bytes_per_row: int,
               topology: str) -> list[Transfer]:
    """Every chip's slice to every other chip (rows: per chip its hidden units)."""
    chips = len(rows)
    return [
        Transfer(a, b, (hi - lo) * bytes_per_row, link_path(a, b, chips, topology))
        for a, (lo, hi) in enumerate(rows)
        for b in range(chips)
        if a != b
    ]
