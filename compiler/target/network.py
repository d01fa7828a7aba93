"""The chip's sites and switch networks, as data derived from an `Architecture`.

Unit sites form the `rows x cols` grid; the tile pattern gives each site's kind (PCU or
PMU). Switches sit at the unit corners, a `(rows+1) x (cols+1)` mesh: the unit at (r, c)
is wired to switches (r, c), (r, c+1), (r+1, c) and (r+1, c+1). DRAM address generators
(AGs) sit outside the grid on the edges the architecture names; with
`network.address_generator_attachment = "unit-row"` the AG beside unit row r sits at
(r, -1) (left) or (r, cols) (right) and is wired to the two edge switches of that row;
with `"switch"` (Plasticine's RTL and PIR: one memory channel per edge switch) the AG at
(r, -1) / (r, cols), 0 <= r <= rows, is wired to switch (r, 0) / (r, cols) alone. Top and
bottom edges mirror this with rows and columns exchanged.

Every network (scalar, vector, control) has the same mesh. Between two orthogonally
adjacent switches each network has `links_per_switch[network]` links per direction; a data
link carries one stream for the whole program (a multicast stream uses it once however
many of its sinks lie beyond it), a control link one-cycle pulses of any streams, up to
its links per cycle (`rnnc.target.routing`). A hop costs `hop_latency_cycles`.

Switches are numbered row-major, `row * (cols + 1) + col`; the directed link leaving switch
`s` towards direction `d` (0 north, 1 east, 2 south, 3 west) is `4 * s + d`.

This module serves the placer and the router. The verifier (`checks.py`) deliberately
recomputes the same geometry on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from rnnc.dialects.spatial import Network
from rnnc.target.arch import Architecture, ArchitectureError

#: (row, col) steps of the four directions, in link-number order.
DIRECTIONS = ((-1, 0), (0, 1), (1, 0), (0, -1))
DIRECTION_NAMES = ("north", "east", "south", "west")

Site = tuple[int, int]


@dataclass(frozen=True)
class Topology:
    """Sites, switch attachments and link capacities of one architecture."""

    rows: int
    cols: int
    sites: dict[str, tuple[Site, ...]]
    """Per unit kind, its sites in row-major order (AGs: left edge first, top to bottom)."""
    attachments: dict[Site, tuple[int, ...]]
    """Per site (of any kind), the switches it is wired to."""
    links: dict[str, int]
    """Per network, links per direction between adjacent switches."""
    hop_latency_cycles: int
    kinds: dict[Site, str]
    """The kind of every site."""
    positions: dict[Site, tuple[float, float]]
    """Every site's position in switch coordinates: the mean of its attached switches."""
    edges: dict[Site, str]
    """The edge of every AG site."""

    @property
    def switch_rows(self) -> int:
        return self.rows + 1

    @property
    def switch_cols(self) -> int:
        return self.cols + 1

    @property
    def switches(self) -> int:
        return self.switch_rows * self.switch_cols

    def switch(self, row: int, col: int) -> int:
        return row * self.switch_cols + col

    def switch_site(self, switch: int) -> Site:
        return divmod(switch, self.switch_cols)

    def neighbour(self, switch: int, direction: int) -> int:
        """The switch one hop from `switch` towards `direction`, or -1 off the mesh."""
        row, col = divmod(switch, self.switch_cols)
        d_row, d_col = DIRECTIONS[direction]
        row, col = row + d_row, col + d_col
        if 0 <= row < self.switch_rows and 0 <= col < self.switch_cols:
            return row * self.switch_cols + col
        return -1

    @property
    def controller(self) -> Site:
        """The switch whose control block runs the schedule's sequential controller
        (ISCA'17 §3.5: outer controllers map onto switch control blocks): the centre, where
        the longest control path is shortest. `spatial-place` writes it on the design's
        `spatial.controller`; everything after reads it from there."""
        return (self.switch_rows // 2, self.switch_cols // 2)

    def link_capacity(self, network: str) -> np.ndarray:
        """Capacity of every directed link (0 for the links that would leave the mesh)."""
        return _link_capacity(self.switch_rows, self.switch_cols, self.links[network])

    def position(self, site: Site) -> tuple[float, float]:
        """Where a site sits in switch coordinates: the mean of its attached switches."""
        return self.positions[site]

    def kind_at(self, site: Site) -> str | None:
        """The kind of unit a site holds, or None if there is no site there."""
        return self.kinds.get(site)

    def site_class(self, site: Site) -> str | None:
        """What may sit at a site: its kind, and for an AG site its edge ("ag:left")."""
        kind = self.kinds.get(site)
        if kind == "ag":
            return f"ag:{self.edges[site]}"
        return kind

    def class_sites(self, site_class: str) -> tuple[Site, ...]:
        """The sites of a class ("pcu", "pmu", "ag" for every AG site, "ag:left", ...)."""
        kind, _, edge = site_class.partition(":")
        found = self.sites.get(kind, ())
        return tuple(site for site in found if self.edges[site] == edge) if edge else found


@cache
def _link_capacity(switch_rows: int, switch_cols: int, links: int) -> np.ndarray:
    capacity = np.full((switch_rows, switch_cols, 4), links, dtype=np.int64)
    capacity[0, :, 0] = 0
    capacity[:, -1, 1] = 0
    capacity[-1, :, 2] = 0
    capacity[:, 0, 3] = 0
    capacity.flags.writeable = False
    return capacity.reshape(-1)


def topology(arch: Architecture) -> Topology:
    """The network model of `arch` (raises `ArchitectureError` if its AGs do not fit)."""
    return _topology(arch)


@cache
def _topology(arch: Architecture) -> Topology:
    rows, cols = arch.grid.rows, arch.grid.cols
    switch_cols = cols + 1
    sites: dict[str, list[Site]] = {"pcu": [], "pmu": [], "ag": []}
    attachments: dict[Site, tuple[int, ...]] = {}
    for row in range(rows):
        for col in range(cols):
            sites[arch.grid.unit_at(row, col)].append((row, col))
            attachments[(row, col)] = tuple(
                r * switch_cols + c for r in (row, row + 1) for c in (col, col + 1)
            )
    edges: dict[Site, str] = {}
    for edge, site, attached in _address_generators(arch):
        sites["ag"].append(site)
        attachments[site] = attached
        edges[site] = edge
    return Topology(
        rows=rows,
        cols=cols,
        sites={kind: tuple(found) for kind, found in sites.items()},
        attachments=attachments,
        links={network: arch.links(network) for network in Network},
        hop_latency_cycles=arch.network.hop_latency_cycles,
        kinds={site: kind for kind, found in sites.items() for site in found},
        positions={site: _mean_position(attached, switch_cols)
                   for site, attached in attachments.items()},
        edges=edges,
    )


def _mean_position(switches: tuple[int, ...], switch_cols: int) -> tuple[float, float]:
    rows = [s // switch_cols for s in switches]
    cols = [s % switch_cols for s in switches]
    return sum(rows) / len(rows), sum(cols) / len(cols)


def _address_generators(arch: Architecture) -> list[tuple[str, Site, tuple[int, ...]]]:
    """The edge, site and wired switches of every AG."""
    rows, cols = arch.grid.rows, arch.grid.cols
    switch_cols = cols + 1
    per_edge = arch.dram.address_generators_per_edge
    by_switch = arch.network.address_generator_attachment == "switch"
    found = []
    for edge in arch.dram.address_generator_edges:
        vertical = edge in ("left", "right")
        length = rows if vertical else cols
        positions = length + 1 if by_switch else length
        if per_edge > positions:
            where = "switch" if by_switch else ("unit row" if vertical else "unit column")
            raise ArchitectureError(
                arch.name,
                f"field 'dram.address_generators_per_edge': expected at most {positions} "
                f"(one per {where} of the {edge} edge, network.address_generator_attachment "
                f"{arch.network.address_generator_attachment!r}), got {per_edge}",
            )
        # Fewer AGs than positions are spread evenly along the edge.
        for index in range(per_edge):
            along = index * positions // per_edge
            span = (along,) if by_switch else (along, along + 1)
            fixed = {"left": 0, "right": cols, "top": 0, "bottom": rows}[edge]
            outside = {"left": -1, "right": cols, "top": -1, "bottom": rows}[edge]
            if vertical:
                site = (along, outside)
                attached = tuple(r * switch_cols + fixed for r in span)
            else:
                site = (outside, along)
                attached = tuple(fixed * switch_cols + c for c in span)
            found.append((edge, site, attached))
    return found


__all__ = ["DIRECTIONS", "DIRECTION_NAMES", "Site", "Topology", "topology"]
