"""Study files: what `rnnc sweep` runs, validated, and expanded into points.

A study (YAML or JSON) names models, architectures with parameter grids applied on top,
pipelines, precision modes, objectives, chip counts and how far each point goes
(`run`). It is checked against `study.schema.json` and then for what the schema cannot
state (one model source per entry, grid fields that exist in the architecture, grid values
that fit the grid's layout, files that exist); every problem is one `StudyError` naming the
study file and the field. Grid values whose units the grid's layout cannot hold (a
`pcu.count` that is not the tile's PCU sites, or counts `fit_grid` cannot spread over the
rows) are refused before anything runs, with the `fit_grid` hint: they are a mistake in the
study, not a design point. Any other grid value that makes an architecture invalid is a
row with status `invalid-arch` and the architecture checker's reason.

Every combination of model x architecture variant x pipeline x precision x objective x
chips is one `Point`, numbered in that order (the order of the result table).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import product
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from rnnc.backend.input_files import check_input_file
from rnnc.diagnostics import Diagnostic
from rnnc.driver.pipeline import MAX_MODEL_BYTES
from rnnc.driver.pipelines import DECOMPOSED_LOOP_PIPELINE, LOOP_PIPELINE
from rnnc.target.arch import (
    ArchitectureError,
    NoAliasLoader,
    architecture_from_dict,
    load_architecture,
    schema_problem,
)

SCHEMA_PATH = Path(__file__).parent / "study.schema.json"

#: How far a point goes, in order: the design-space search, a routed config.json, and
#: the config simulator's run of it.
RUN_LEVELS = ("search", "config", "sim")

#: A study is a few kilobytes; this bounds what a wrong path makes us read.
MAX_STUDY_BYTES = 16 << 20


#: Pass pipelines from the rnn level to resource-assigned loops, per study pipeline name.
PIPELINES = {
    "fused": f"{LOOP_PIPELINE},loop-assign-resources",
    "decomposed": f"{DECOMPOSED_LOOP_PIPELINE},loop-assign-resources",
}

_DEFAULTS: dict[str, Any] = {
    "pipelines": ["fused"],
    "precisions": [None],  # the architecture's default mode
    "objectives": ["latency"],
    "chips": [1],
    "run": "search",
}

#: The point settings, in the order of `Point`'s fields, by the study field listing them.
_SETTINGS = {
    "pipeline": "pipelines",
    "precision": "precisions",
    "objective": "objectives",
    "chips": "chips",
}
_MODEL_SOURCES = ("file", "csv_row", "gen", "suite")
_ARCH_SOURCES = ("preset", "file")


class StudyError(Diagnostic):
    """A study file that cannot be run: `<study>: error: field 'a.b': ...`."""


@dataclass(frozen=True)
class Model:
    """One model of a study. Generated models (`gen`, `suite`, `csv_row`) are rebuilt from
    their sizes in the worker; a file model travels as its text, so that a worker needs no
    access to the study's folder (a Ray cluster's nodes may not have it)."""

    label: str
    source: str
    """Where it comes from: `gen`, `suite:paper`, `csv:<file>:<row>`, `file:<path>`."""
    cell: str | None
    hidden: int | None
    input: int | None
    steps: int | None
    batch: int | None
    text: str | None = None
    """The model's text (file models only)."""

    def identity(self) -> dict[str, Any]:
        """What the compiled result depends on (not the label): the sizes of a generated
        model, the text of a file model."""
        if self.text is not None:
            return {"file_sha256": hashlib.sha256(self.text.encode()).hexdigest()}
        return {
            "cell": self.cell,
            "hidden": self.hidden,
            "input": self.input,
            "steps": self.steps,
            "batch": self.batch,
        }


@dataclass(frozen=True)
class Variant:
    """One architecture of a study: a base (preset or file) with grid values set on it."""

    base: str
    data_json: str
    """The architecture description with the grid values applied, as canonical JSON."""
    varied: tuple[tuple[str, Any], ...]
    """(dotted field, value) for each grid field of this entry."""

    def data(self) -> dict[str, Any]:
        return json.loads(self.data_json)


@dataclass(frozen=True)
class Point:
    """One compilation of a study: a model on an architecture variant with one pipeline,
    precision mode, objective and chip count, taken as far as `run`."""

    index: int
    model: Model
    arch: Variant
    pipeline: str
    precision: str | None
    objective: str
    chips: int
    run: str

    def identity(self) -> dict[str, Any]:
        """Everything the result depends on, as JSON (the cache key is its hash)."""
        return {
            "model": self.model.identity(),
            "arch": self.arch.data(),
            "pipeline": PIPELINES[self.pipeline],
            "precision": self.precision,
            "objective": self.objective,
            "chips": self.chips,
            "run": self.run,
        }


@dataclass(frozen=True)
class Study:
    """A validated study: its points in table order and the architecture fields it varies."""

    path: str
    name: str
    points: tuple[Point, ...]
    varied_fields: tuple[str, ...] = field(default=())
    varied_settings: tuple[str, ...] = field(default=())
    """The point settings (pipeline, precision, objective, chips) given more than one value."""

    def describe(self, point: Point) -> str:
        """How progress lines and the summary name a point: its number, model, architecture
        with its grid values, and the settings the study varies."""
        arch = " ".join([point.arch.base, *(f"{name}={json.dumps(value)}"
                                            for name, value in point.arch.varied)])
        settings = [str(getattr(point, name)) for name in self.varied_settings]
        return f"point {point.index} ({', '.join([point.model.label, arch, *settings])})"


# ----------------------------------------------------------------------------------------
# Loading and checking
# ----------------------------------------------------------------------------------------


def load_study(path: str) -> Study:
    """Read, validate and expand a study file; every problem is one `StudyError`."""
    data = _parse(path)
    problem = schema_problem(_validator(), data)
    if problem is not None:
        raise StudyError(path, problem)
    assert isinstance(data, dict)
    run = data.get("run", _DEFAULTS["run"])
    folder = Path(path).parent
    models = _models(data["models"], folder, path)
    variants = [
        variant
        for index, entry in enumerate(data["architectures"])
        for variant in _variants(entry, index, folder, path)
    ]
    settings = {name: data.get(key, _DEFAULTS[key]) for name, key in _SETTINGS.items()}
    axes = product(models, variants, *settings.values())
    points = tuple(Point(index, *axis, run=run) for index, axis in enumerate(axes))
    varied = dict.fromkeys(name for variant in variants for name, _ in variant.varied)
    several = tuple(name for name, values in settings.items() if len(values) > 1)
    return Study(path, data.get("name", Path(path).stem), points, tuple(varied), several)


def _parse(path: str) -> object:
    check_input_file(path, MAX_STUDY_BYTES, "a study")  # not /dev/zero, nor a folder
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise StudyError(path, f"cannot read the study ({error.strerror})") from None
    except UnicodeDecodeError:
        raise StudyError(path, "the study is not a UTF-8 text file") from None
    try:  # YAML is a superset of JSON; no aliases (a small file could expand to billions)
        return yaml.load(text, Loader=NoAliasLoader)
    except RecursionError:
        raise StudyError(path, "invalid YAML: nested too deeply to read") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        location = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        problem = getattr(error, "problem", None) or error
        raise StudyError(location, f"invalid YAML: {problem}") from None


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _one_of(entry: Mapping[str, Any], keys: Sequence[str], where: str, study: str) -> str:
    given = [key for key in keys if key in entry]
    if len(given) != 1:
        found = f"got {', '.join(given)}" if given else "got none"
        raise StudyError(study, f"field '{where}': expected exactly one of {', '.join(keys)}, "
                         f"{found}")
    return given[0]


# ---- models -------------------------------------------------------------------------------


def _models(entries: Sequence[Mapping[str, Any]], folder: Path, study: str) -> list[Model]:
    from rnnc.frontends import deepbench

    models: list[Model] = []
    for index, entry in enumerate(entries):
        where = f"models.{index}"
        source = _one_of(entry, _MODEL_SOURCES, where, study)
        if "csv" in entry and source != "csv_row":
            raise StudyError(study, f"field '{where}.csv': only goes with csv_row")
        if source == "suite":
            if "label" in entry:
                raise StudyError(study, f"field '{where}.label': a suite labels its own tasks")
            models.extend(_suite(entry["suite"]))
            continue
        model = _single_model(entry, source, folder)
        if source == "gen":  # sizes that cannot be built are the study's error, found now
            try:
                deepbench.check_task(_task(entry["gen"]), study)
            except Diagnostic as error:
                raise StudyError(study, f"field '{where}.gen': {error.message}") from None
        if "label" in entry:
            model = _relabel(model, entry["label"])
        models.append(model)
    labels = [model.label for model in models]
    for label in labels:
        if labels.count(label) > 1:
            raise StudyError(study, f"field 'models': the model '{label}' appears twice "
                             "(give the entries distinct labels)")
    return models


def _suite(name: str) -> list[Model]:
    from rnnc.frontends import deepbench

    assert name == "paper"  # the schema allows no other
    return [_task_model(task, "suite:paper") for task in deepbench.PAPER_TASKS]


def _single_model(entry: Mapping[str, Any], source: str, folder: Path) -> Model:
    from rnnc.frontends import deepbench

    if source == "gen":
        return _task_model(_task(entry["gen"]), "gen")
    if source == "csv_row":
        table = folder / entry["csv"] if "csv" in entry else deepbench.CSV_PATH
        check_input_file(str(table), deepbench.MAX_TABLE_BYTES, "a task table")  # /dev/zero
        task = deepbench.csv_task(entry["csv_row"], table)  # a Diagnostic at the CSV row
        return _task_model(task, f"csv:{entry.get('csv', table.name)}:{entry['csv_row']}")
    path = folder / entry["file"]
    if path.exists():  # a device (/dev/zero) or a folder is refused before it is read
        check_input_file(str(path), MAX_MODEL_BYTES, "a model")
    return _file_model(path, entry["file"])


def _task(spec: Mapping[str, Any]) -> Any:
    """The DeepBench task of a `gen` entry."""
    from rnnc.frontends import deepbench

    return deepbench.Task(spec["cell"], spec["hidden"], spec["steps"], spec.get("batch", 1),
                          spec.get("input"))


def _task_model(task: Any, source: str) -> Model:
    return Model(task.name, source, task.cell, task.hidden, task.inputs, task.steps, task.batch)


def _relabel(model: Model, label: str) -> Model:
    return Model(label, model.source, model.cell, model.hidden, model.input, model.steps,
                 model.batch, model.text)


def _file_model(path: Path, written: str) -> Model:
    """Parse and verify the file now (a broken model is an error in the study's input, to
    be reported before anything runs), and read its first recurrent layer's sizes."""
    from rnnc.dialects.rnn import RecurrentOp
    from rnnc.driver import pipeline

    text = pipeline.read_text(str(path))
    module, _ = pipeline.parse_module(pipeline.make_context(), text, str(path))
    layer = next((op for op in module.walk() if isinstance(op, RecurrentOp)), None)
    if layer is None:
        return Model(path.stem, f"file:{written}", None, None, None, None, None, text)
    steps, batch, inputs, _ = layer.sizes()
    cell = layer.name.removeprefix("rnn.")
    return Model(path.stem, f"file:{written}", cell, layer.hidden, inputs, steps, batch, text)


# ---- architectures --------------------------------------------------------------------------


def _variants(entry: Mapping[str, Any], index: int, folder: Path, study: str) -> Iterator[Variant]:
    where = f"architectures.{index}"
    source = _one_of(entry, _ARCH_SOURCES, where, study)
    name = entry[source] if source == "preset" else str(folder / entry["file"])
    if source == "preset":
        from rnnc.target.arch import preset_names

        if name not in preset_names():
            raise StudyError(study, f"field '{where}.preset': no preset '{name}' (presets: "
                             f"{', '.join(preset_names())})")
    base = load_architecture(name).to_dict()  # a broken file is an ArchitectureError
    grid: Mapping[str, list[Any]] = entry.get("grid", {})
    for key in grid:
        _check_field(base, key, f"{where}.grid.{key}", study)
    fit = entry.get("fit_grid", False)
    for values in product(*grid.values()):
        varied = tuple(zip(grid, values, strict=True))
        data = _apply(base, varied, fit, where, study)
        yield Variant(entry[source], _canonical(data), varied)


def _check_field(base: Mapping[str, Any], dotted: str, where: str, study: str) -> None:
    """A grid field must name a field of the base architecture (a typo is a study error,
    not a column of invalid rows)."""
    node: Any = base
    for depth, part in enumerate(dotted.split(".")):
        if not isinstance(node, dict) or part not in node:
            parent = ".".join(dotted.split(".")[:depth]) or "the architecture"
            known = ", ".join(sorted(node)) if isinstance(node, dict) else "no fields"
            raise StudyError(study, f"field '{where}': no such architecture field "
                             f"({parent} has: {known})")
        node = node[part]


#: The architecture fields that decide which unit sits on which site of the grid.
_LAYOUT = re.compile(r"field '(grid\.[A-Za-z_.]+|pcu\.count|pmu\.count)'")


def _apply(
    base: Mapping[str, Any], varied: Sequence[tuple[str, Any]], fit: bool, where: str,
    study: str,
) -> dict[str, Any]:
    """The base architecture with one combination of grid values set on it (and its grid
    laid out anew by `fit_grid` when the entry asks for it). Values the layout cannot hold
    are a `StudyError` with the hint that fixes them."""
    data = copy.deepcopy(dict(base))
    for dotted, value in varied:
        *parents, leaf = dotted.split(".")
        node = data
        for part in parents:
            node = node[part]
        node[leaf] = value
    names = {name for name, _ in varied}
    sets_grid = any(name.startswith("grid.") for name in names)
    sets_counts = bool(names & {"pcu.count", "pmu.count"})
    if not (sets_grid or sets_counts):
        return data
    fitted = fit and not sets_grid
    problem = fit_grid(data) if fitted else _layout_problem(data)
    if problem is None:
        return data
    values = ", ".join(f"{name}={json.dumps(value)}" for name, value in varied
                       if name.startswith("grid.") or name in ("pcu.count", "pmu.count"))
    if fitted:
        hint = (f"with fit_grid, give counts that are multiples of the grid's "
                f"{data['grid']['rows']} rows")
    elif sets_grid:
        hint = ("vary the grid's fields and the unit counts together so that they agree, or "
                "vary only pcu.count and pmu.count with 'fit_grid: true'")
    else:
        hint = (f"add 'fit_grid: true' to {where} to lay the grid out anew for each variant's "
                "counts")
    raise StudyError(study, f"field '{where}.grid': {values} does not fit the grid's layout "
                     f"({problem}): {hint}")


def _layout_problem(data: dict[str, Any]) -> str | None:
    """The architecture checker's complaint about the grid's layout or the unit counts it
    must hold, if it has one (other problems are left to the point's row)."""
    try:
        architecture_from_dict(data)
    except ArchitectureError as error:
        return error.message if _LAYOUT.match(error.message) else None
    return None


def fit_grid(data: dict[str, Any]) -> str | None:
    """Lay out `data`'s grid anew for its PCU and PMU counts: the same rows; per row, its
    share of each unit kind, spread evenly in a one-row tile (for the paper's 192 PCUs and
    384 PMUs on 24 rows this is its own PMU-PCU-PMU layout). The number of columns follows,
    and with it the control handshake's latency (rows + cols hops). Returns why it cannot
    (the counts do not divide over the rows), or None."""
    rows, pcus, pmus = data["grid"]["rows"], data["pcu"]["count"], data["pmu"]["count"]
    if not (isinstance(pcus, int) and isinstance(pmus, int)) or min(pcus, pmus) < 1:
        return None  # no layout to fit: the architecture check reports the count
    if pcus % rows or pmus % rows:
        return (f"fit_grid: {pcus} PCUs and {pmus} PMUs do not divide evenly over the grid's "
                f"{rows} rows")
    per_row_pcus, per_row_pmus = pcus // rows, pmus // rows
    common = math.gcd(per_row_pcus, per_row_pmus)
    tile = spread(per_row_pcus // common, per_row_pmus // common)
    data["grid"] = {"rows": rows, "cols": per_row_pcus + per_row_pmus, "tile": [tile]}
    return None


def spread(pcus: int, pmus: int) -> list[str]:
    """`pcus` PCUs spread evenly among `pmus` PMUs: PCU i at floor((2i + 1) n / 2 pcus)."""
    width = pcus + pmus
    sites = {(2 * i + 1) * width // (2 * pcus) for i in range(pcus)}
    return ["pcu" if column in sites else "pmu" for column in range(width)]


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


__all__ = [
    "PIPELINES",
    "RUN_LEVELS",
    "Model",
    "Point",
    "Study",
    "StudyError",
    "Variant",
    "fit_grid",
    "load_study",
    "spread",
]
