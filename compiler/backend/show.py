"""`rnnc show config.json -o place.svg|png`: a picture of a configuration.

Left: the chip's grid with every placed unit drawn in the shape of its kind (PCU a square,
PMU a circle, AG a triangle on the edge) filled in the colour of its role, and outlined in
the colour of the loop nest it computes for (units shared by the nests, memories and AGs,
keep a thin black outline); sites left empty are drawn faint in the shape and colour of
their kind; every routed stream is drawn along its switch path, one colour per network.
Right: one heat map per network of link utilisation: each link between two adjacent
switches is drawn in the colour of the streams it carries over the links it has
(`links_per_switch`), both directions added (a network with no routes says so; control
links are shared in time, so their routes may outnumber them).

In an SVG every unit is an element whose id is `unit-` and the unit's id, with a
`<title>` (the tooltip a browser shows on hovering it) giving its kind, site, role, nest
and configuration.

Works on the configuration's data alone (a loaded, validated `config.json` dictionary).
"""

from __future__ import annotations

import html
import io
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from itertools import pairwise
from pathlib import Path
from typing import Any

from rnnc.diagnostics import Diagnostic
from rnnc.dialects.spatial import Network

NETWORK_COLOURS = {"scalar": "#08306b", "vector": "#67000d", "control": "#00441b"}
#: Routes of the three networks are drawn side by side, shifted by this much (in switches).
NETWORK_OFFSET = {"scalar": -0.12, "vector": 0.0, "control": 0.12}
KIND_COLOURS = {"pcu": "#f4a582", "pmu": "#92c5de", "ag": "#bababa"}
#: The shape of each kind of unit, as a matplotlib marker (for the legend) and a patch.
KIND_MARKERS = {"pcu": "s", "pmu": "o", "ag": "^"}
KIND_NAMES = {"pcu": "PCU (square)", "pmu": "PMU (circle)", "ag": "AG (triangle)"}
#: A fixed palette for roles, assigned in sorted role order (deterministic pictures).
ROLE_PALETTE = (
    "#fdb462", "#80b1d3", "#b3de69", "#bc80bd", "#fb8072", "#8dd3c7", "#ffed6f",
    "#fccde5", "#bebada", "#ccebc5", "#d9d9d9", "#ffffb3",
)
#: Outline colours of the nests, in the order of the config's design (dark, to stand out
#: from the pastel role colours); units of no nest keep a thin black outline.
NEST_PALETTE = (
    "#d95f02", "#1b9e77", "#e7298a", "#1f78b4", "#66a61e", "#e6ab02", "#a6761d", "#7570b3",
)
#: The prefix of a unit's element id in an SVG (matplotlib's own ids never start with it).
UNIT_ID_PREFIX = "unit-"

Link = tuple[tuple[int, int], tuple[int, int]]


def link_use(chip: Mapping[str, Any]) -> dict[str, Counter[Link]]:
    """Per network, how many streams cross each undirected switch-to-switch link (a
    multicast stream counts once per link however many of its sink paths share it)."""
    use: dict[str, Counter[Link]] = {network: Counter() for network in Network}
    for route in chip["routes"]:
        links: set[Link] = set()
        for path in route["paths"]:
            for a, b in pairwise(path):
                links.add(_undirected(a, b))
        use[route["network"]].update(links)
    return use


def _undirected(a: list[int], b: list[int]) -> Link:
    first, second = (int(a[0]), int(a[1])), (int(b[0]), int(b[1]))
    return (first, second) if first <= second else (second, first)


def _use_matplotlib() -> None:
    """matplotlib, drawing to files (no display)."""
    try:
        import matplotlib
    except ImportError:
        raise Diagnostic("rnnc show", "needs matplotlib (pip install matplotlib)") from None
    matplotlib.use("Agg")


def render(
    config: Mapping[str, Any], output: str | Path, chip_index: int = 0, fmt: str | None = None
) -> None:
    """Draw chip `chip_index` of `config` to `output` (.svg or .png)."""
    _use_matplotlib()
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(16, 9))
    try:
        grid = figure.add_gridspec(3, 2, width_ratios=(2.2, 1))
        _draw_chip(figure.add_subplot(grid[:, 0]), config, chip_index)
        _draw_link_use(figure, [figure.add_subplot(grid[k, 1]) for k in range(3)], config,
                       config["chips"][chip_index])
        figure.tight_layout()
        save_figure(figure, output, fmt, config["chips"][chip_index]["units"], dpi=110)
    finally:
        plt.close(figure)


def save_figure(figure: Any, output: str | Path, fmt: str | None,
                units: Iterable[Mapping[str, Any]], dpi: int) -> None:
    """Write `figure` to `output` as `fmt` (default: the suffix's); an SVG gets a tooltip
    per unit of `units`. No date, software stamp or random ids: the same config gives the
    same file."""
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "rnnc"}):
        if (fmt or Path(output).suffix.lstrip(".")) == "svg":
            text = io.StringIO()
            figure.savefig(text, format="svg", metadata={"Date": None, "Creator": None})
            tips = {unit["id"]: unit_tooltip(unit) for unit in units}
            Path(output).write_text(with_tooltips(text.getvalue(), tips))
        else:
            figure.savefig(output, dpi=dpi, metadata={"Software": None}, format=fmt)


def _draw_chip(ax: Any, config: Mapping[str, Any], chip_index: int) -> None:
    """The grid, its units (shape: kind, fill: role, outline: nest), the routes and the
    legend of all three."""
    from matplotlib.collections import LineCollection

    arch = config["arch"]["description"]
    rows, cols = arch["grid"]["rows"], arch["grid"]["cols"]
    chip = config["chips"][chip_index]
    roles = sorted({unit["role"] for unit in chip["units"]})
    role_colour = {role: ROLE_PALETTE[k % len(ROLE_PALETTE)] for k, role in enumerate(roles)}
    nests = [entry["nest"] for entry in config["design"]["nests"]]
    nest_colour = {nest: NEST_PALETTE[k % len(NEST_PALETTE)] for k, nest in enumerate(nests)}
    _draw_sites(ax, arch, rows, cols)
    for unit in chip["units"]:
        nest = unit.get("nest")
        patch = _unit_patch(unit["kind"], unit["row"], unit["col"], 0.42,
                            facecolor=role_colour[unit["role"]],
                            edgecolor=nest_colour.get(nest, "black"),
                            linewidth=1.6 if nest in nest_colour else 0.4, zorder=2)
        patch.set_gid(UNIT_ID_PREFIX + unit["id"])
        ax.add_patch(patch)
    for network in Network:
        shift = NETWORK_OFFSET[network]
        segments = [
            [(col + shift, row + shift) for row, col in path]
            for route in chip["routes"] if route["network"] == network
            for path in route["paths"] if len(path) > 1
        ]
        ax.add_collection(LineCollection(segments, colors=NETWORK_COLOURS[network],
                                         linewidths=1.0, alpha=0.45, zorder=3))
    _frame(ax, rows, cols)
    ax.set_title(_title(config, chip_index, chip))
    used = {unit.get("nest") for unit in chip["units"]}
    ax.legend(handles=_legend_handles(config, chip, role_colour,
                                      {n: c for n, c in nest_colour.items() if n in used}),
              loc="upper left", bbox_to_anchor=(0, -0.01), ncol=5, fontsize=7, frameon=False,
              title="kind (shape), role (fill), nest (outline), routes", title_fontsize=7)


def _legend_handles(
    config: Mapping[str, Any], chip: Mapping[str, Any], role_colour: Mapping[str, str],
    nest_colour: Mapping[str, str],
) -> list[Any]:
    """The kinds by shape, the roles by fill (in their kind's shape), the nests by outline
    (with the phase of the schedule they run in), and the networks' routes."""
    from matplotlib.lines import Line2D

    def marker(shape: str, face: str, edge: str, width: float, label: str) -> Any:
        return Line2D([], [], linestyle="", marker=shape, markersize=8, markerfacecolor=face,
                      markeredgecolor=edge, markeredgewidth=width, label=label)

    kind_of = {unit["role"]: unit["kind"] for unit in chip["units"]}
    phase = {nest: f"{entry['kind']}, {entry['steps']} step{'s' if entry['steps'] > 1 else ''}"
             for entry in config["program"]["schedule"] for nest in entry["nests"]}
    return [
        *(marker(KIND_MARKERS[kind], KIND_COLOURS[kind], "black", 0.4, KIND_NAMES[kind])
          for kind in KIND_MARKERS),
        *(marker(KIND_MARKERS[kind_of[role]], colour, "black", 0.4, role)
          for role, colour in role_colour.items()),
        *(marker("s", "white", colour, 1.6, f"nest {nest} ({phase.get(nest, 'not scheduled')})")
          for nest, colour in nest_colour.items()),
        marker("s", "white", "black", 0.4, "no nest (shared)"),
        *(Line2D([], [], color=NETWORK_COLOURS[n], label=f"{n} route") for n in Network),
    ]


def _unit_patch(kind: str, row: int, col: int, radius: float, **style: Any) -> Any:
    """The patch of a unit of `kind` at site (row, col): a unit at (r, c) spans switch
    corners (r, c)..(r+1, c+1); x = col, y = row (the y axis points down)."""
    from matplotlib.patches import Circle, Rectangle, RegularPolygon

    centre = (col + 0.5, row + 0.5)
    if kind == "pcu":
        return Rectangle((centre[0] - radius, centre[1] - radius), 2 * radius, 2 * radius,
                         **style)
    if kind == "pmu":
        return Circle(centre, radius, **style)
    # turned by pi to point up on the page, where the y axis points down
    return RegularPolygon(centre, 3, radius=radius * 1.15, orientation=math.pi, **style)


def _draw_link_use(
    figure: Any, axes: list[Any], config: Mapping[str, Any], chip: Mapping[str, Any]
) -> None:
    """One heat map per network of how many of its links each switch-to-switch link uses."""
    import matplotlib.pyplot as plt
    from matplotlib import cm, colors
    from matplotlib.collections import LineCollection

    arch = config["arch"]["description"]
    rows, cols = arch["grid"]["rows"], arch["grid"]["cols"]
    links = arch["network"]["links_per_switch"]
    use = link_use(chip)
    norm = colors.Normalize(vmin=0.0, vmax=1.0)
    cmap = plt.get_cmap("inferno_r")
    for ax, network in zip(axes, Network, strict=True):
        capacity = 2 * links[network]  # both directions of the link pair
        if not use[network]:
            ax.text(0.5, 0.5, f"no {network} routes on this chip", ha="center", va="center",
                    transform=ax.transAxes, fontsize=9)
            ax.set_axis_off()
            continue
        segments, values = [], []
        for row in range(rows + 1):
            for col in range(cols + 1):
                for other in ((row, col + 1), (row + 1, col)):
                    if other[0] > rows or other[1] > cols:
                        continue
                    count = use[network][((row, col), other)]
                    segments.append([(col, row), (other[1], other[0])])
                    values.append(count / capacity)
        lines = LineCollection(segments, cmap=cmap, norm=norm, linewidths=2.2)
        lines.set_array(values)
        ax.add_collection(lines)
        _frame(ax, rows, cols)
        busiest = max(use[network].values(), default=0)
        # a control link is shared in time (one-cycle pulses, `rnnc.target.routing`): its
        # routes may outnumber its links, and tokens that meet on it wait their turn
        shared = " routes, shared in time by" if network == Network.CONTROL else " of"
        ax.set_title(f"{network} links: busiest carries {busiest}{shared} {capacity} "
                     f"(both directions)", fontsize=9)
        figure.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.04,
                        label="utilisation")


def _draw_sites(ax: Any, arch: Mapping[str, Any], rows: int, cols: int) -> None:
    tile = arch["grid"]["tile"]
    for row in range(rows):
        pattern = tile[row % len(tile)]
        for col in range(cols):
            kind = pattern[col % len(pattern)]
            ax.add_patch(_unit_patch(kind, row, col, 0.4, facecolor=KIND_COLOURS[kind],
                                     alpha=0.25, edgecolor="none", zorder=1))


def _frame(ax: Any, rows: int, cols: int) -> None:
    ax.set_xlim(-1.5, cols + 1.5)
    ax.set_ylim(rows + 0.5, -0.5)  # row 0 at the top, as the grid is printed
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def _title(config: Mapping[str, Any], chip_index: int, chip: Mapping[str, Any]) -> str:
    kinds = Counter(unit["kind"] for unit in chip["units"])
    latency = config["predicted"]["latency_ms"]
    return (
        f"{config['arch']['description']['name']} chip {chip_index}: {kinds['pcu']} PCUs, "
        f"{kinds['pmu']} PMUs, {kinds['ag']} AGs, {len(chip['routes'])} routes; "
        f"{config['precision']['name']}, predicted {latency:.4g} ms"
    )


# ---- tooltips -----------------------------------------------------------------------------------


def unit_tooltip(unit: Mapping[str, Any]) -> str:
    """What hovering a unit in the SVG shows: its id, kind, site, role and nest, then its
    configuration, one line each."""
    kind = unit["kind"]
    where = (f"on the {unit['edge']} edge at row {unit['row']}" if kind == "ag"
             else f"at row {unit['row']}, column {unit['col']}")
    nest = f" of nest {unit['nest']}" if unit.get("nest") else ""
    lines = [f"{unit['id']}: {kind.upper()} {where}", f"role: {unit['role']}{nest}"]
    if kind == "pcu":
        lines += _pcu_lines(unit)
    elif kind == "pmu":
        lines += _pmu_lines(unit)
    else:
        lines.append(f"{unit['direction']}s '{unit['memory']}' from/to DRAM")
    return "\n".join(lines)


def _pcu_lines(unit: Mapping[str, Any]) -> list[str]:
    counters = ", ".join(f"{c['name']} {c['start']}:{c['stop']}:{c['stride']}"
                         for c in unit["counters"]) or "none"
    ops = Counter(op["op"] for op in unit["ops"])
    lines = [f"mode {unit['mode']}, {unit['lanes']} lane{'s' if unit['lanes'] > 1 else ''}",
             f"counters: {counters}",
             "ops: " + (", ".join(f"{count} {op}" for op, count in ops.items()) or "none")]
    if "reduce" in unit:
        reduce = unit["reduce"]
        lines.append(f"reduce: {reduce['combiner']} over rv={reduce['rv']} into "
                     f"{reduce['output']}")
    memories = sorted({op["params"]["memory"] for op in unit["ops"] if "memory" in op["params"]})
    if memories:
        lines.append(f"memories: {', '.join(memories)}")
    return lines


def _pmu_lines(unit: Mapping[str, Any]) -> list[str]:
    buffers = f"{unit['buffers']} buffer{'s' if unit['buffers'] > 1 else ''}"
    lines = [f"{unit['bytes']} bytes, {buffers}, {unit['banking']} banking"]
    if unit["lut"]:
        lines.append(f"lookup tables: {unit['lut']}")
    lines.append(f"holds: {unit['pattern']}")
    return lines


def with_tooltips(svg: str, tips: Mapping[str, str]) -> str:
    """`svg` with a `<title>` of `tips[id]` as the first child of each unit's group (the
    element matplotlib writes for a patch whose gid is `unit-<id>`)."""

    def add_title(match: re.Match[str]) -> str:
        unit = html.unescape(match.group(2))
        return f"{match.group(0)}\n   <title>{html.escape(tips[unit], quote=False)}</title>"

    pattern = re.compile(rf'<g id="({re.escape(UNIT_ID_PREFIX)}([^"]*))">')
    return pattern.sub(add_title, svg)
