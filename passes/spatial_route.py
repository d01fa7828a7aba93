"""`spatial-route`: a path through the switch mesh for every stream of a placed design.

Negotiated-congestion routing (PathFinder, `rnnc.target.routing`) on the scalar and vector
networks, within `links_per_switch` links per direction; a multicast stream is a tree that
uses each link once. Control streams (the enable tree and the done tokens, which start or
end at the `spatial.controller`'s switch) take shortest paths on links shared in time.
Each stream's `paths` (per sink, the (row, col) switches it crosses, from a switch
its producer is wired to to one its consumer is wired to) are written on the stream, and
the rounds of rip-up and reroute each network needed on the design (`route_rounds`).
Streams that already have paths keep them (their links are taken), so a routed design is
its own routing.

    rnnc design.mlir -p spatial-route

Fails with a diagnostic naming the over-used links, their shortfall and the streams on them
when a network cannot be routed, or the unit that has no site.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnc.diagnostics import Diagnostic
from rnnc.dialects.spatial import DesignOp, StreamOp
from rnnc.target.arch import Architecture
from rnnc.target.network import Topology, topology
from rnnc.target.registry import designs_on_their_architectures
from rnnc.target.routing import Path, RouteRequest, RoutingError, route
from xdsl.context import Context
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    DictionaryAttr,
    IntegerAttr,
    ModuleOp,
    i64,
)
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException


def _switches(design: DesignOp, chip: Topology) -> dict[str, tuple[int, ...]]:
    """The switches each unit is wired to (its site must be one of the chip's)."""
    wired = {}
    for unit in design.units():
        site = unit.site_value
        if site is None:
            raise RoutingError(f"unit @{unit.unit_id} has no site; run spatial-place first")
        if site not in chip.attachments:
            raise RoutingError(f"unit @{unit.unit_id} is at ({site[0]}, {site[1]}), which is not "
                               f"a site of the chip")
        wired[unit.unit_id] = chip.attachments[site]
    controller = design.controller()
    if controller is not None:
        site = controller.site_value
        if site is None:
            raise RoutingError(f"controller @{controller.controller_id} has no site; run "
                               "spatial-place first")
        row, col = site
        if not (0 <= row < chip.switch_rows and 0 <= col < chip.switch_cols):
            raise RoutingError(f"controller @{controller.controller_id} is at ({row}, {col}), "
                               "which is not a switch of the chip")
        wired[controller.controller_id] = (chip.switch(row, col),)
    return wired


def _fixed(stream: StreamOp, chip: Topology) -> tuple[str, tuple[Path, ...]]:
    paths = stream.path_sites or []
    for path in paths:
        for row, col in path:
            if not (0 <= row < chip.switch_rows and 0 <= col < chip.switch_cols):
                raise RoutingError(f"stream @{stream.stream_id} crosses ({row}, {col}), which is "
                                   f"not a switch of the chip")
    return stream.network.data, tuple(tuple(chip.switch(r, c) for r, c in p) for p in paths)


def _paths_attr(paths: tuple[Path, ...], chip: Topology) -> ArrayAttr:
    return ArrayAttr([
        DenseArrayBase.from_list(i64, [c for s in path for c in chip.switch_site(s)])
        for path in paths
    ])


@dataclass(frozen=True)
class SpatialRoutePass(ModulePass):
    """Route the streams of every placed `spatial.design` (see the module doc).

    The chip is the architecture the design names, from the context's registry
    (`rnnc.target.registry`).
    """

    name = "spatial-route"
    #: it sets the streams' paths and the design's route rounds
    #: (`rnnc.driver.pipeline.VERIFY_SCOPES`)
    VERIFY_AFTER: ClassVar[str] = "units"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for design, arch in designs_on_their_architectures(ctx, op, self.name, "route"):
            self.route(design, arch)

    def route(self, design: DesignOp, arch: Architecture) -> None:
        try:
            chip = topology(arch)
            wired = _switches(design, chip)
            pending = [s for s in design.streams() if s.paths is None]
            fixed = [_fixed(s, chip) for s in design.streams() if s.paths is not None]
            requests = [
                RouteRequest(s.stream_id, s.network.data, wired[s.source_endpoint[0]],
                             tuple(wired[unit] for unit, _ in s.sink_endpoints))
                for s in pending
            ]
            routing = route(chip, requests, fixed)
        except (RoutingError, ValueError) as error:
            raise PassFailedException(f"{self.name}: {error}") from None
        except Diagnostic as error:  # an architecture whose AGs do not fit its edges
            raise PassFailedException(f"{self.name}: {error.location}: {error.message}") from None
        for stream, paths in zip(pending, routing.paths, strict=True):
            stream.paths = _paths_attr(paths, chip)
        if pending:
            design.attributes["route_rounds"] = DictionaryAttr(
                {network: IntegerAttr(rounds, i64) for network, rounds in routing.rounds.items()}
            )
