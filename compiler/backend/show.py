"""`rnnc show config.json -o place.svg|png`: a picture of a configuration.

Left: the chip's grid with every placed unit coloured by its role (sites left empty are
drawn faint in the colour of their kind) and every routed stream drawn along its switch
path, one colour per network. Right: one heat map per network of link utilisation: each
link between two adjacent switches is drawn in the colour of the streams it carries over
the links it has (`links_per_switch`), both directions added.

Works on the configuration's data alone (a loaded, validated `config.json` dictionary).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from itertools import pairwise
from pathlib import Path
from typing import Any

from rnnc.diagnostics import Diagnostic
from rnnc.dialects.spatial import Network

NETWORK_COLOURS = {"scalar": "#08306b", "vector": "#67000d", "control": "#00441b"}
#: Routes of the three networks are drawn side by side, shifted by this much (in switches).
NETWORK_OFFSET = {"scalar": -0.12, "vector": 0.0, "control": 0.12}
KIND_COLOURS = {"pcu": "#f4a582", "pmu": "#92c5de", "ag": "#bababa"}
#: A fixed palette for roles, assigned in sorted role order (deterministic pictures).
ROLE_PALETTE = (
    "#fdb462", "#80b1d3", "#b3de69", "#bc80bd", "#fb8072", "#8dd3c7", "#ffed6f",
    "#fccde5", "#bebada", "#ccebc5", "#d9d9d9", "#ffffb3",
)

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
    from matplotlib import cm, colors
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    arch = config["arch"]["description"]
    rows, cols = arch["grid"]["rows"], arch["grid"]["cols"]
    links = arch["network"]["links_per_switch"]
    chip = config["chips"][chip_index]
    roles = sorted({unit["role"] for unit in chip["units"]})
    role_colour = {role: ROLE_PALETTE[k % len(ROLE_PALETTE)] for k, role in enumerate(roles)}

    figure = plt.figure(figsize=(16, 9))
    grid = figure.add_gridspec(3, 2, width_ratios=(2.2, 1))
    chip_ax = figure.add_subplot(grid[:, 0])
    _draw_sites(chip_ax, arch, rows, cols, Rectangle)
    for unit in chip["units"]:
        # a unit at (r, c) spans switch corners (r, c)..(r+1, c+1); x = col, y = row
        chip_ax.add_patch(Rectangle((unit["col"] + 0.1, unit["row"] + 0.1), 0.8, 0.8,
                                    facecolor=role_colour[unit["role"]], edgecolor="black",
                                    linewidth=0.3, zorder=2))
    for network in Network:
        shift = NETWORK_OFFSET[network]
        segments = [
            [(col + shift, row + shift) for row, col in path]
            for route in chip["routes"] if route["network"] == network
            for path in route["paths"] if len(path) > 1
        ]
        chip_ax.add_collection(LineCollection(segments, colors=NETWORK_COLOURS[network],
                                              linewidths=1.0, alpha=0.45, zorder=3))
    _frame(chip_ax, rows, cols)
    chip_ax.set_title(_title(config, chip_index, chip))
    handles = [Patch(facecolor=role_colour[r], edgecolor="black", label=r) for r in roles]
    handles += [Line2D([], [], color=NETWORK_COLOURS[n], label=f"{n} route") for n in Network]
    chip_ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, -0.02), ncol=4,
                   fontsize=7, frameon=False)

    use = link_use(chip)
    norm = colors.Normalize(vmin=0.0, vmax=1.0)
    cmap = plt.get_cmap("inferno_r")
    for k, network in enumerate(Network):
        ax = figure.add_subplot(grid[k, 1])
        capacity = 2 * links[network]  # both directions of the link pair
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
        ax.set_title(f"{network} links: busiest carries {busiest} of {capacity} "
                     f"(both directions)", fontsize=9)
        figure.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.04,
                        label="utilisation")
    figure.tight_layout()
    # a fixed date and no software stamps: the same config gives the same file
    svg = (fmt or Path(output).suffix.lstrip(".")) == "svg"
    metadata = {"Date": None, "Creator": None} if svg else {
        "Software": None}
    figure.savefig(output, dpi=110, metadata=metadata, format=fmt)
    plt.close(figure)


def _draw_sites(ax: Any, arch: Mapping[str, Any], rows: int, cols: int, rectangle: Any) -> None:
    tile = arch["grid"]["tile"]
    for row in range(rows):
        pattern = tile[row % len(tile)]
        for col in range(cols):
            kind = pattern[col % len(pattern)]
            ax.add_patch(rectangle((col + 0.1, row + 0.1), 0.8, 0.8, facecolor=KIND_COLOURS[kind],
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
