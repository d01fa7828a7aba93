"""`rnnc show` of a configuration of several chips: every chip, and the links between them.

The chips are drawn side by side, each as `rnnc show` draws one chip (its grid, units by
kind, role and nest, its routes; `rnnc.backend.show`), titled with the hidden units it
computes; in an SVG a unit's element id is `unit-chip<k>.<id>`. Every link of the
exchange (`links`) is an arrow from the units of the sending chip that write the memory
(their centre) to the PMUs of the receiving chip that hold it, labelled with the memory,
its rows and bytes; a link that crosses chips on the way (a ring) is drawn hop by hop over
them. The per-network link-use heat maps of one chip are left to `rnnc show --chip K`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

from rnnc.backend.multichip import chip_view
from rnnc.backend.show import _draw_chip, _use_matplotlib, save_figure

LINK_COLOUR = "#6a3d9a"


def render_chips(config: Mapping[str, Any], output: str | Path, fmt: str | None = None
                 ) -> None:
    """Draw every chip of a multi-chip `config` and its links to `output` (.svg or .png)."""
    _use_matplotlib()
    import matplotlib.pyplot as plt

    chips = config["chips"]
    figure = plt.figure(figsize=(9 * len(chips), 10))
    try:
        axes = figure.subplots(1, len(chips))
        views = [_named(chip_view(config, index), index) for index in range(len(chips))]
        for index, (ax, view) in enumerate(zip(axes, views, strict=True)):
            _draw_chip(ax, view, 0)
            lo, hi = chips[index]["rows"]
            ax.set_title(f"chip {index}, hidden units [{lo}, {hi}): "
                         f"{ax.get_title().split(': ', 1)[1]}", fontsize=9)
        for link in config["links"]:
            _draw_link(figure, axes, chips, link)
        figure.tight_layout()
        save_figure(figure, output, fmt,
                    [unit for view in views for unit in view["chips"][0]["units"]], dpi=80)
    finally:
        plt.close(figure)


def _named(view: dict[str, Any], index: int) -> dict[str, Any]:
    """A chip's view with its units named `chip<k>.<id>`: the chips' units share names, the
    elements of one picture may not."""
    chip = view["chips"][0]
    units = [{**unit, "id": f"chip{index}.{unit['id']}"} for unit in chip["units"]]
    return {**view, "chips": [{**chip, "units": units}]}


def _centre(chip: Mapping[str, Any], names: Sequence[str]) -> tuple[float, float]:
    """The mean site (col, row) of the named units of a chip."""
    units = [u for u in chip["units"] if u["id"] in set(names)]
    return (sum(u["col"] for u in units) / len(units), sum(u["row"] for u in units) / len(units))


def _draw_link(figure: Any, axes: Sequence[Any], chips: Sequence[Mapping[str, Any]],
               link: Mapping[str, Any]) -> None:
    """One link as arrows over its path: from the sender's writing units, through the chips
    it crosses (their centre), to the receiver's PMUs."""
    from matplotlib.patches import ConnectionPatch

    path = link["path"]
    points = [_centre(chips[path[0]], link["send"])]
    for chip in path[1:-1]:
        grid = [(u["col"], u["row"]) for u in chips[chip]["units"]]
        points.append((sum(c for c, _ in grid) / len(grid), sum(r for _, r in grid) / len(grid)))
    points.append(_centre(chips[path[-1]], link["receive"]))
    label = f"{link['memory']}[{link['rows'][0]}:{link['rows'][1]}] {link['bytes']} B"
    for hop, (a, b) in enumerate(pairwise(path)):
        arrow = ConnectionPatch(
            xyA=points[hop], coordsA=axes[a].transData, xyB=points[hop + 1],
            coordsB=axes[b].transData, arrowstyle="-|>", color=LINK_COLOUR, linewidth=1.4,
            alpha=0.8, connectionstyle=f"arc3,rad={0.15 if a < b else -0.15}", zorder=5)
        figure.add_artist(arrow)
    middle = points[0]
    axes[path[0]].annotate(label, middle, fontsize=7, color=LINK_COLOUR,
                           xytext=(4, 6 if path[-1] > path[0] else -10),
                           textcoords="offset points", zorder=6)
