"""`spatial-place`: give every unit of a `spatial.design` a site on the chip.

The design's controller goes to the architecture's controller switch (the centre of the
mesh, `Topology.controller`) unless it has one already. Units that already have a site
are pinned and keep it; the others get a free site of their
kind (an AG one on its edge) from `rnnc.target.placement`: analytic placement, legalisation
and simulated annealing of the wire length of the streams, each weighted by the scarcity of
its network's links, then again with the streams in congested regions weighted up. The
`seed` option fixes every random choice, so a seed gives the same sites byte for byte; a
placed design is its own placement (every unit is pinned).

    rnnc design.mlir -p 'spatial-place{seed=1}'

Fails with a diagnostic naming the kind, how many units need a site and how many the chip
has, when there are too few sites of a kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnc.diagnostics import Diagnostic
from rnnc.dialects.spatial import AGOp, ControllerOp, DesignOp, Network, UnitOp
from rnnc.target.arch import Architecture
from rnnc.target.network import Site, Topology, topology
from rnnc.target.placement import PlacementError, PlacementProblem, place
from rnnc.target.registry import designs_on_their_architectures
from rnnc.target.schedules import pass_schedules
from rnnc.target.timing_placement import place_for_timing, step_paths
from xdsl.context import Context
from xdsl.dialects.builtin import DenseArrayBase, ModuleOp, i64
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException


def site_class(unit: UnitOp) -> str:
    """The class of site a unit needs: its kind, and for an AG its edge."""
    if isinstance(unit, AGOp):
        return f"ag:{unit.edge.data}"
    return unit.KIND


def placement_problem(design: DesignOp, chip: Topology) -> PlacementProblem:
    """The design's units (placed ones pinned) and its streams as nets, source first."""
    units = design.units()
    index = {unit.unit_id: n for n, unit in enumerate(units)}
    nets, weights, networks = [], [], []
    for stream in design.streams():
        # control streams do not pull units together: they end at the controller, whose
        # site is the architecture's, and their links carry pulses shared in time
        if stream.network.data == Network.CONTROL:
            continue
        members = [stream.source_endpoint[0], *(unit for unit, _ in stream.sink_endpoints)]
        net = tuple(dict.fromkeys(index[member] for member in members))
        if len(net) > 1:
            nets.append(net)
            weights.append(1.0 / chip.links[stream.network.data])
            networks.append(stream.network.data)
    return PlacementProblem(
        names=tuple(unit.unit_id for unit in units),
        kinds=tuple(site_class(unit) for unit in units),
        pinned=tuple(unit.site_value for unit in units),
        nets=tuple(nets),
        weights=tuple(weights),
        networks=tuple(networks),
    )


def write_sites(design: DesignOp, sites: tuple[Site, ...]) -> None:
    for unit, site in zip(design.units(), sites, strict=True):
        if unit.site_value != site:
            unit.site = DenseArrayBase.from_list(i64, list(site))


def place_controller(controller: ControllerOp | None, chip: Topology) -> None:
    """The controller goes to the architecture's controller switch (`Topology.controller`)
    unless it is pinned."""
    if controller is not None and controller.site_value is None:
        controller.site = DenseArrayBase.from_list(i64, list(chip.controller))


@dataclass(frozen=True)
class SpatialPlacePass(ModulePass):
    """Place the units of every `spatial.design` (see the module doc).

    The chip is the architecture the design names, from the context's registry
    (`rnnc.target.registry`). Options: `seed` (the random seed of the annealer);
    `schedules` (`rnnc.target.schedules`): with `timing-placement`, the streams are
    weighted by their criticality and the best of several seeds kept
    (`rnnc.target.timing_placement`).
    """

    name = "spatial-place"
    #: it sets the units' sites (`rnnc.driver.pipeline.VERIFY_SCOPES`)
    VERIFY_AFTER: ClassVar[str] = "units"

    seed: int = 0
    schedules: str = "all"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for design, arch in designs_on_their_architectures(ctx, op, self.name, "place"):
            self.place(design, arch)

    def place(self, design: DesignOp, arch: Architecture) -> None:
        chosen = pass_schedules(self.name, self.schedules)
        try:
            chip = topology(arch)
            problem = placement_problem(design, chip)
            if "timing-placement" in chosen:
                controller = design.controller()
                centre = controller.site_value if controller is not None else None
                paths = step_paths(design, arch, centre or chip.controller)
                sites = place_for_timing(chip, problem, paths, self.seed)
            else:
                sites = place(chip, problem, self.seed)
        except PlacementError as error:
            raise PassFailedException(f"{self.name}: {error}") from None
        except Diagnostic as error:  # an architecture whose AGs do not fit its edges
            raise PassFailedException(f"{self.name}: {error.location}: {error.message}") from None
        write_sites(design, sites)
        place_controller(design.controller(), chip)
