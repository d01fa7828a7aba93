"""`rnnc plot`: pictures of a sweep's result table (matplotlib; PNG and SVG).

    rnnc plot results.parquet --kind pareto  [--x pcus|area|error] -o pareto.png [-o pareto.svg]
    rnnc plot results.parquet --kind speedup                       -o speedup.png
    rnnc plot results.parquet --kind heatmap [--axes FIELD FIELD]  -o heatmap.png
    ... [--where COLUMN=VALUE ...]   keep only the rows where COLUMN is VALUE

- pareto: latency against the PCUs a design uses (or the chip's die area), one colour per
  model; faint markers are every design, the line is each model's Pareto front.
- speedup: (a) the fused cell over the BLAS-style decomposed program, per task and
  architecture variant; (b) rnnc's latency over the paper's published Plasticine latency
  (`paper_deepbench.json`) for the tasks of the paper run on its chip, `plasticine-rnn`.
- heatmap: latency over two swept architecture fields, one panel per model, coloured by
  latency relative to the model's fastest cell.

Latencies are the simulator's when every plotted row has one, else the cost model's, and
the axis says which ("model prediction" until a design has been simulated).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rnnc.diagnostics import Diagnostic
from rnnc.driver.io import Outputs
from rnnc.driver.sweep import table
from rnnc.driver.sweep.job import RESULT_FIELDS
from rnnc.target.arch import DEFAULT_ARCHITECTURE, PAPER_DEEPBENCH, load_architecture
from rnnc.target.cost import MEMORY_BANDWIDTH

KINDS = ("pareto", "speedup", "heatmap")
IMAGE_FORMATS = (".png", ".svg")

Row = dict[str, Any]

#: Columns that are not varied architecture fields.
_FIXED = dict.fromkeys([*table.POINT_FIELDS, *table.SETTING_FIELDS, *RESULT_FIELDS])
#: Columns whose values tell rows of one model apart, besides the varied fields.
_SETTINGS = ("pipeline", "precision", "objective", "chips")
_MARKERS = {"fused": "o", "decomposed": "X"}


def plot(
    results: str,
    kind: str,
    outputs: Sequence[str],
    *,
    where: Sequence[str] = (),
    x: str = "pcus",
    axes: Sequence[str] | None = None,
) -> None:
    """Draw `kind` from the results table and save it to every file of `outputs`."""
    for output in outputs:
        if Path(output).suffix not in IMAGE_FORMATS:
            raise Diagnostic(output, f"expected a .png or .svg file, got '{Path(output).suffix}'")
    rows = _filter(_checked(table.read(results), results), where, results)
    with Outputs() as files:  # every picture or none
        files.protect(results, "the results table")
        for output in outputs:
            files.reserve(output)
        for output in outputs:
            # one figure each: a layout done for one format shifts another's
            figure = draw(kind, rows, Path(results).stem, x=x, axes=axes)
            files.write(output, _saver(figure, output))
        files.commit()


def draw(
    kind: str, rows: list[Row], title: str, *, x: str = "pcus", axes: Sequence[str] | None = None
) -> Any:
    """The matplotlib figure of `kind` for the (filtered) rows; nothing to plot in them is a
    `Diagnostic`."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise Diagnostic(
            "rnnc plot", "needs matplotlib (pip install matplotlib)"
        ) from None
    figure = Figure(layout="constrained")
    if kind == "pareto":
        _pareto(figure, rows, x, title)
    elif kind == "speedup":
        _speedup(figure, rows, title)
    else:
        _heatmap(figure, rows, axes, title)
    return figure


def _saver(figure: Any, output: str) -> Callable[[Path], None]:
    """Same table, same bytes: no dates or random ids in the files."""
    import matplotlib

    fmt = Path(output).suffix[1:]
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}

    def save(tmp: Path) -> None:
        with matplotlib.rc_context({"svg.hashsalt": "rnnc", "svg.fonttype": "none"}):
            figure.savefig(tmp, format=fmt, dpi=130, metadata=metadata)

    return save


# ---- rows ------------------------------------------------------------------------------------


def _filter(rows: list[Row], where: Sequence[str], source: str) -> list[Row]:
    """The rows that match every `COLUMN=VALUE` clause. A clause that no row matches is an
    error naming the column and the values it has (a typo, not an empty picture)."""
    for index, clause in enumerate(where):
        column, sep, value = clause.partition("=")
        if not sep:
            raise Diagnostic("--where", f"expected COLUMN=VALUE, got '{clause}'")
        if rows and column not in rows[0]:
            raise Diagnostic("--where", f"no column '{column}' in {source} "
                             f"(columns: {', '.join(rows[0])})")
        kept = [r for r in rows if _matches(r[column], value)]
        if rows and not kept:
            earlier = " left by the earlier --where" if index else ""
            raise Diagnostic("--where", f"no row{earlier} has {column}={value} (the values of "
                             f"{column}: {_values(r[column] for r in rows)})")
        rows = kept
    return rows


def _values(cells: Iterable[Any], shown: int = 12) -> str:
    """The distinct values of a column, in order, the first `shown` of them."""
    distinct = sorted({"" if c is None else str(c) for c in cells}, key=_natural)
    text = ", ".join(value or "(empty)" for value in distinct[:shown])
    return text + f", ... ({len(distinct)} values)" if len(distinct) > shown else text


def _natural(text: str) -> tuple[int, float, str]:
    """Numbers by value before text, text alphabetically."""
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


def _checked(rows: list[Row], source: str) -> list[Row]:
    """The rows of a table that has every column `rnnc sweep` writes but the varied ones
    (a table edited by hand, or another program's, is refused by the column it lacks) and
    at least one row (a sweep writes one per point)."""
    if not rows:
        raise Diagnostic(source, "the results table has no rows (a sweep writes one per point)")
    missing = [name for name in _FIXED if name not in rows[0]]
    if missing:
        raise Diagnostic(source, f"not a results table of rnnc sweep: no column "
                         f"'{missing[0]}'" + (f" (nor {len(missing) - 1} other columns)"
                                              if len(missing) > 1 else ""))
    return rows


def _matches(cell: Any, text: str) -> bool:
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        try:
            return float(text) == cell
        except ValueError:
            return False
    return str(cell) == text


def _ok(rows: list[Row], what: str) -> list[Row]:
    ok = [r for r in rows if r["status"] == "ok"]
    if not ok:
        raise Diagnostic("rnnc plot", f"no row with status ok to plot ({what})")
    return ok


def _latency(rows: Sequence[Row]) -> tuple[Callable[[Row], float], str]:
    """The latency to plot and its label: simulated only when every row was simulated."""
    if all(r["simulated_latency_ms"] is not None for r in rows):
        return (lambda r: r["simulated_latency_ms"]), "simulated"
    return (lambda r: r["predicted_latency_ms"]), "model prediction"


def varied_fields(rows: Sequence[Row]) -> list[str]:
    """The architecture fields the study varied (the table's columns of its own)."""
    return [name for name in rows[0] if name not in _FIXED] if rows else []


def _variant(row: Row, fields: Sequence[str]) -> str:
    return ", ".join(f"{name}={row[name]}" for name in fields) or row["arch"]


def _differing(rows: Sequence[Row], columns: Sequence[str]) -> list[str]:
    return [c for c in columns if len({json.dumps(r[c]) for r in rows}) > 1]


def _models(rows: Sequence[Row]) -> list[str]:
    return list(dict.fromkeys(r["model"] for r in rows))


def _colours(count: int) -> list[Any]:
    from matplotlib import colormaps

    palette = colormaps["tab10" if count <= 10 else "tab20"]
    return [palette(i % palette.N) for i in range(count)]


# ---- pareto ----------------------------------------------------------------------------------


def _pareto(figure: Any, rows: list[Row], x: str, title: str) -> None:
    rows = _ok(rows, "pareto")
    latency, source = _latency(rows)
    axis_x, x_label = {
        "pcus": ("pcus", "PCUs used by the design"),
        "area": ("die_area_mm2", "chip die area (mm²)"),
        "error": ("error", "largest |error| against fp32 (simulated, random inputs)"),
    }[x]
    if any(r[axis_x] is None for r in rows):
        raise Diagnostic("--x", f"{x}: a row has no '{axis_x}' (the error is measured by the "
                         "sim run level)")
    figure.set_size_inches(10, 6)
    ax = figure.add_subplot()
    pipelines = list(dict.fromkeys(r["pipeline"] for r in rows))
    for model, colour in zip(_models(rows), _colours(len(_models(rows))), strict=True):
        mine = [r for r in rows if r["model"] == model]
        for pipeline in pipelines:
            points = [(r[axis_x], latency(r)) for r in mine if r["pipeline"] == pipeline]
            if points:
                ax.scatter(*zip(*points, strict=True), color=colour, alpha=0.35, s=22,
                           marker=_MARKERS.get(pipeline, "s"), linewidths=0)
        front = pareto_front([(r[axis_x], latency(r)) for r in mine])
        ax.plot(*zip(*front, strict=True), color=colour, marker="o", markersize=4,
                label=model, drawstyle="steps-post")
    ax.set_yscale("log")
    ax.set_xlabel(x_label)
    ax.set_ylabel(f"latency per inference (ms, {source})")
    ax.set_title(f"{title}: latency against {x_label.split(' (')[0]}; lines are Pareto fronts")
    ax.grid(True, which="both", alpha=0.3)
    # Legends of the figure beside the axes, which the layout makes room for (a legend
    # added to the axes as an artist is clipped to them, and vanished out there).
    figure.legend(*ax.get_legend_handles_labels(), title="model (Pareto front)",
                  loc="outside right upper", fontsize=8)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="grey", marker=_MARKERS.get(p, "s"), linestyle="",
                      alpha=0.6, label=p) for p in pipelines]
    figure.legend(handles=handles, title="every design, by pipeline", loc="outside right lower",
                  fontsize=8)


def pareto_front(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points no other one beats on both coordinates (lower is better), by x."""
    front: list[tuple[float, float]] = []
    for px, py in sorted(points):
        if not front or py < front[-1][1]:
            if front and front[-1][0] == px:
                front.pop()
            front.append((px, py))
    return front


# ---- speedup ---------------------------------------------------------------------------------


def _speedup(figure: Any, rows: list[Row], title: str) -> None:
    rows = _ok(rows, "speedup")
    latency, source = _latency(rows)
    pairs, groups = fusion_speedups(rows, latency), paper_speedups(rows, latency)
    if not (pairs or groups):
        raise Diagnostic("rnnc plot", f"nothing to plot (speedup): {_NO_FUSION_PAIR}, and "
                         f"{_NO_PAPER_TASK}")
    figure.set_size_inches(13, 5.5)
    fusion, paper = figure.subplots(1, 2)
    _fusion_panel(fusion, rows, pairs, source)
    _paper_panel(paper, groups, source)
    figure.suptitle(f"{title}: speedups ({source})")


_NO_FUSION_PAIR = "no model has both a fused and a decomposed point with status ok"
_NO_PAPER_TASK = f"no fused point of a paper task on its chip ({DEFAULT_ARCHITECTURE})"


def _nothing(ax: Any, why: str) -> None:
    """A panel with nothing to show says why, with no empty axes around it."""
    ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes, wrap=True)
    ax.set_axis_off()


def fusion_speedups(
    rows: Sequence[Row], latency: Callable[[Row], float]
) -> dict[str, dict[str, float]]:
    """Decomposed over fused latency, per variant (the varied fields and settings that
    differ, as a label) and model, where both pipelines compiled."""
    fields = varied_fields(rows) + [c for c in _SETTINGS if c != "pipeline"]
    shown = _differing(rows, fields)
    pairs: dict[str, dict[str, float]] = {}
    by_key = {(r["model"], r["pipeline"], _variant(r, fields)): r for r in rows}
    for (model, pipeline, variant), fused in by_key.items():
        decomposed = by_key.get((model, "decomposed", variant))
        if pipeline == "fused" and decomposed is not None:
            label = _variant(fused, shown) if shown else "all points"
            pairs.setdefault(label, {})[model] = latency(decomposed) / latency(fused)
    return pairs


def paper_speedups(
    rows: Sequence[Row], latency: Callable[[Row], float]
) -> dict[str, list[tuple[Row, float]]]:
    """The paper's published Plasticine latency over ours, for the fused rows of its tasks
    on its chip (`plasticine-rnn`, by hash), per setting that differs among them."""
    chip = load_architecture(DEFAULT_ARCHITECTURE).digest()
    published = {
        (t["cell"], t["hidden"], t["input"], t["steps"], t["batch"]): t["latency_ms"]["plasticine"]
        for t in json.loads(PAPER_DEEPBENCH.read_text())["tasks"]
    }
    mine = [
        r for r in rows
        if r["arch_sha256"] == chip and r["pipeline"] == "fused" and _task(r) in published
    ]
    settings = _differing(mine, list(_SETTINGS))
    groups: dict[str, list[tuple[Row, float]]] = {}
    for r in mine:
        label = _variant(r, settings) if settings else "fused"
        groups.setdefault(label, []).append((r, published[_task(r)] / latency(r)))
    return groups


def _fusion_panel(
    ax: Any, rows: list[Row], pairs: Mapping[str, Mapping[str, float]], source: str
) -> None:
    ax.set_title(f"(a) fusion speedup per task ({source})")
    if not pairs:
        _nothing(ax, _NO_FUSION_PAIR)
        return
    models = _models(rows)
    width = 0.8 / max(len(pairs), 1)
    for k, ((label, ratios), colour) in enumerate(
        zip(pairs.items(), _colours(len(pairs)), strict=True)
    ):
        xs = [models.index(m) - 0.4 + width * (k + 0.5) for m in ratios]
        ax.bar(xs, list(ratios.values()), width=width, color=colour, label=label)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(models)), models, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("decomposed latency / fused latency (×)")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    # below both panels, where it hides no bar
    ax.figure.legend(*ax.get_legend_handles_labels(), fontsize=7, title="variant (panel a)",
                     title_fontsize=8, loc="outside lower center", ncols=3)


def _paper_panel(
    ax: Any, groups: Mapping[str, Sequence[tuple[Row, float]]], source: str
) -> None:
    ax.set_title(f"(b) rnnc ({source}) over the paper's published\nPlasticine latency, "
                 f"on {DEFAULT_ARCHITECTURE} (> 1: rnnc faster)")
    if not groups:
        _nothing(ax, _NO_PAPER_TASK)
        return
    mine = [r for group in groups.values() for r, _ in group]
    models = _models(mine)
    width = 0.8 / max(len(groups), 1)
    for k, ((label, group), colour) in enumerate(
        zip(groups.items(), _colours(len(groups)), strict=True)
    ):
        ratios = [ratio for _, ratio in group]
        xs = [models.index(r["model"]) - 0.4 + width * (k + 0.5) for r, _ in group]
        bars = ax.bar(xs, ratios, width=width, color=colour, label=label)
        for bar, (r, _) in zip(bars, group, strict=True):
            if MEMORY_BANDWIDTH in (r["bound"] or ""):
                bar.set_hatch("//")
                bar.set_edgecolor("white")
        for bar_x, ratio in zip(xs, ratios, strict=True):
            ax.annotate(f"{ratio:.2g}", (bar_x, ratio), ha="center", va="bottom", fontsize=7)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(models)), models, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("paper's Plasticine latency / rnnc latency (×)")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=colour, label=label)
               for label, colour in zip(groups, _colours(len(groups)), strict=True)]
    if any(MEMORY_BANDWIDTH in (r["bound"] or "") for r in mine):
        handles.append(Patch(facecolor="grey", hatch="//", edgecolor="white",
                             label="weights streamed from DRAM (do not fit on one chip)"))
    ax.legend(handles=handles, fontsize=7, loc="center right")


def _task(row: Row) -> tuple[Any, ...]:
    return (row["cell"], row["hidden"], row["input"], row["steps"], row["batch"])


# ---- heatmap ---------------------------------------------------------------------------------


def _heatmap(figure: Any, rows: list[Row], axes: Sequence[str] | None, title: str) -> None:
    fields = varied_fields(rows)
    if len(fields) < 2:
        raise Diagnostic("rnnc plot", f"nothing to plot (heatmap): a heatmap needs two varied "
                         f"architecture fields, the table varies {', '.join(fields) or 'none'}")
    if axes is None:
        if len(fields) > 2:
            raise Diagnostic("--axes", f"the table varies {len(fields)} architecture fields "
                             f"({', '.join(fields)}): name the two to plot")
        axes = fields
    for name in axes:
        if name not in fields:
            raise Diagnostic("--axes", f"'{name}' is not a varied architecture field of the "
                             f"table (varied: {', '.join(fields) or 'none'})")
    a, b = axes
    others = _differing(rows, [f for f in fields if f not in axes] + list(_SETTINGS))
    if others:
        choices = ", ".join(f"{c} ({'/'.join(sorted({str(r[c]) for r in rows}))})" for c in others)
        raise Diagnostic("rnnc plot", f"the rows also differ in {choices}: keep one with "
                         f"--where, e.g. --where {others[0]}={rows[0][others[0]]}")
    latency, source = _latency(_ok(rows, "heatmap"))
    xs = sorted({r[a] for r in rows}, key=_order)
    ys = sorted({r[b] for r in rows}, key=_order)
    models = _models(rows)
    columns = min(4, len(models))
    grid_rows = math.ceil(len(models) / columns)
    figure.set_size_inches(3.4 * columns + 1.2, 3.0 * grid_rows + 0.8)
    panels = figure.subplots(grid_rows, columns, squeeze=False)
    image = None
    for panel, model in zip(panels.flat, models, strict=False):
        cells = {(r[a], r[b]): r for r in rows if r["model"] == model}
        image = _heat_panel(panel, cells, xs, ys, latency) or image
        panel.set_title(model, fontsize=9)
        panel.set_xlabel(_unit_label(a), fontsize=8)
        panel.set_ylabel(_unit_label(b), fontsize=8)
    for panel in list(panels.flat)[len(models):]:
        panel.set_visible(False)
    if image is not None:
        bar = figure.colorbar(image, ax=panels, shrink=0.6, ticks=[1, 2, 4, 8])
        bar.ax.set_yticklabels(["1", "2", "4", "≥ 8"])
        bar.ax.minorticks_off()
        bar.set_label("latency / the model's fastest cell (×)")
    figure.suptitle(f"{title}: latency ({source}, ms in each cell) over {a} and {b}")


def _heat_panel(
    ax: Any, cells: Mapping[tuple[Any, Any], Row], xs: list[Any], ys: list[Any],
    latency: Callable[[Row], float],
) -> Any:
    import numpy as np
    from matplotlib.colors import LogNorm

    values = np.full((len(ys), len(xs)), np.nan)
    for (x, y), r in cells.items():
        if r["status"] == "ok":
            values[ys.index(y), xs.index(x)] = latency(r)
    best = np.nanmin(values) if np.isfinite(values).any() else 1.0
    image = ax.imshow(values / best, origin="lower", cmap="viridis_r",
                      norm=LogNorm(vmin=1.0, vmax=8.0), aspect="auto")
    for (x, y), r in cells.items():
        ok = r["status"] == "ok"
        # Dark text on the light (fast) end of the colour map, light text on the dark end.
        dark = not ok or values[ys.index(y), xs.index(x)] / best < 2.5
        ax.text(xs.index(x), ys.index(y), f"{latency(r):.3g}" if ok else r["status"],
                ha="center", va="center", fontsize=7, color="black" if dark else "white")
    ax.set_xticks(range(len(xs)), [str(x) for x in xs], fontsize=7)
    ax.set_yticks(range(len(ys)), [str(y) for y in ys], fontsize=7)
    return image


def _order(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int | float) else (1, str(value))


#: Units of architecture fields for axis labels (the field's name says the rest).
_UNITS = {"capacity_kib": "KiB", "clock_ghz": "GHz", "bandwidth_gbs": "GB/s", "count": "units",
          "area_mm2": "mm²", "cycles": "cycles", "bits": "bits", "lanes": "lanes",
          "stages": "stages", "vector": "links", "scalar": "links", "control": "links"}


def _unit_label(field: str) -> str:
    if field in ("pcu.count", "pmu.count"):
        return f"{field} ({field[:3].upper()}s)"
    leaf = field.rsplit(".", 1)[-1]
    unit = next((u for key, u in _UNITS.items() if leaf == key or leaf.endswith(key)), None)
    return f"{field} ({unit})" if unit else field


__all__ = ["IMAGE_FORMATS", "KINDS", "draw", "fusion_speedups", "paper_speedups", "pareto_front",
           "plot", "varied_fields"]
