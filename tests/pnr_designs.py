"""Synthetic designs for the placer, router and checker tests: the shape of a fused LSTM
partition (map-reduce PCUs each fed by weight PMUs, operand PMUs multicast to them, partial
sums into combining PCUs, an element-wise tail, state PMUs, edge AGs), as plain data."""

from __future__ import annotations

from dataclasses import dataclass

from rnnc.target.network import Topology
from rnnc.target.placement import PlacementProblem
from rnnc.target.routing import RouteRequest


@dataclass(frozen=True)
class Design:
    names: tuple[str, ...]
    classes: tuple[str, ...]
    nets: tuple[tuple[int, ...], ...]
    networks: tuple[str, ...]

    def problem(self, topology: Topology, pinned: dict[int, tuple[int, int]] | None = None
                ) -> PlacementProblem:
        pins = pinned or {}
        return PlacementProblem(
            names=self.names,
            kinds=self.classes,
            pinned=tuple(pins.get(i) for i in range(len(self.names))),
            nets=self.nets,
            weights=tuple(1.0 / topology.links[n] for n in self.networks),
            networks=self.networks,
        )

    def requests(self, topology: Topology, sites: tuple[tuple[int, int], ...]
                 ) -> list[RouteRequest]:
        return [
            RouteRequest(
                f"s{i}", network, topology.attachments[sites[net[0]]],
                tuple(topology.attachments[sites[u]] for u in net[1:]),
            )
            for i, (net, network) in enumerate(zip(self.nets, self.networks, strict=True))
        ]


def lstm_like(*, map_reduce: int = 176, combine: int = 11, elementwise: int = 4,
              operands: int = 11, ags: int = 50, weights_per_pcu: int = 2) -> Design:
    names: list[str] = []
    classes: list[str] = []
    nets: list[tuple[int, ...]] = []
    networks: list[str] = []

    def unit(name: str, site_class: str) -> int:
        names.append(name)
        classes.append(site_class)
        return len(names) - 1

    def stream(net: tuple[int, ...], network: str) -> None:
        nets.append(net)
        networks.append(network)

    mrs = [unit(f"mr{i}", "pcu") for i in range(map_reduce)]
    cmb = [unit(f"cmb{i}", "pcu") for i in range(combine)]
    ews = [unit(f"ew{i}", "pcu") for i in range(elementwise)]
    ops = [unit(f"op{i}", "pmu") for i in range(operands)]
    edge_ags = [unit(f"ag{i}", "ag:left" if i % 2 else "ag:right") for i in range(ags)]
    for i, m in enumerate(mrs):
        for j in range(weights_per_pcu):
            stream((unit(f"w{i}_{j}", "pmu"), m), "vector")
    for j, o in enumerate(ops):
        stream((o, *mrs[j::operands]), "vector")
    for i, m in enumerate(mrs):
        stream((m, cmb[i * combine // map_reduce]), "scalar")
    for i, c in enumerate(cmb):
        stream((c, ews[i * elementwise // combine]), "scalar")
    for i, e in enumerate(ews):
        state = unit(f"h{i}", "pmu")
        stream((e, state), "vector")
        stream((state, *ops), "vector")
        stream((e, state), "control")
    for i, a in enumerate(edge_ags):
        stream((a, ops[i % operands]), "vector")
    return Design(tuple(names), tuple(classes), tuple(nets), tuple(networks))
