"""The result table of a sweep: one row per point, in the study's order, as Parquet
(pyarrow, `pip install 'rnnc[sweep]'`) or CSV.

Columns: the point's number; the model (label, source, cell and sizes); the architecture
(its base, the SHA-256 of the whole validated description, one column per grid field the
study varies, the chip's PCUs, PMUs and die area); the pipeline, precision, objective,
chips and run level; then the result: status (`ok`, `invalid-arch`, `failed`, `error`)
and reason, the chosen design (`hu/ru/rv` per loop nest), units used, cycles, the
predicted latency, the simulated one when the point ran that far, the bound that limits
the design, and the compile seconds.

Every column but `compile_seconds` is a function of the study and the compiler alone, so
tables from any engine and any number of workers are equal on them (`DETERMINISTIC`);
compile seconds are measured, and a cached point keeps the seconds it first took.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rnnc.backend.input_files import check_input_file
from rnnc.diagnostics import Diagnostic
from rnnc.driver.io import write_atomically
from rnnc.driver.sweep.job import RESULT_FIELDS
from rnnc.driver.sweep.study import Point, Study

FORMATS = (".parquet", ".csv")
#: A bound on what `rnnc plot` reads (a million points' rows are a few hundred megabytes).
MAX_TABLE_BYTES = 4 << 30

#: The columns that describe the point, before the varied architecture fields.
POINT_FIELDS: dict[str, type] = {
    "point": int,
    "model": str,
    "source": str,
    "cell": str,
    "hidden": int,
    "input": int,
    "steps": int,
    "batch": int,
    "arch": str,
}

#: The columns after the varied fields that describe how the point was compiled.
SETTING_FIELDS: dict[str, type] = {
    "pipeline": str,
    "objective": str,
    "chips": int,
    "run": str,
}

#: The measured column, the only one that may differ between two runs of one study.
TIMING_FIELDS = ("compile_seconds",)


def columns(study: Study) -> dict[str, type]:
    """Every column of the study's table, in order, with its type (a varied field's type
    is int or float when all its values are, else the values' JSON text)."""
    cols: dict[str, type] = dict(POINT_FIELDS)
    arch_facts = ("arch_sha256", "arch_pcus", "arch_pmus", "die_area_mm2")
    cols["arch_sha256"] = str
    for name in study.varied_fields:
        cols[name] = _varied_type(study, name)
    cols.update((name, RESULT_FIELDS[name]) for name in arch_facts[1:])
    cols.update(SETTING_FIELDS)
    cols.update((n, t) for n, t in RESULT_FIELDS.items() if n not in arch_facts)
    return cols


def deterministic_columns(table_columns: Sequence[str]) -> list[str]:
    """The columns that are equal whatever the engine and worker count."""
    return [name for name in table_columns if name not in TIMING_FIELDS]


def _varied_type(study: Study, name: str) -> type:
    values = [v for p in study.points for n, v in p.arch.varied if n == name]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return int
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return float
    return str


def row(point: Point, result: Mapping[str, Any], cols: Mapping[str, type]) -> dict[str, Any]:
    """The table row of a point and its result, each value of its column's type."""
    model = point.model
    values: dict[str, Any] = {
        "point": point.index,
        "model": model.label,
        "source": model.source,
        "cell": model.cell,
        "hidden": model.hidden,
        "input": model.input,
        "steps": model.steps,
        "batch": model.batch,
        "arch": point.arch.base,
        **dict(point.arch.varied),
        "pipeline": point.pipeline,
        "objective": point.objective,
        "chips": point.chips,
        "run": point.run,
        **result,
    }
    if values.get("precision") is None:  # an invalid architecture: the mode as asked
        values["precision"] = point.precision
    return {name: _typed(values.get(name), kind) for name, kind in cols.items()}


def _typed(value: Any, kind: type) -> Any:
    if value is None:
        return None
    if kind is str and not isinstance(value, str):
        return json.dumps(value, sort_keys=True)
    return kind(value)


# ---- writing and reading ----------------------------------------------------------------------


def check_output(path: str) -> None:
    """Fail before anything runs when the table cannot be written in the asked format."""
    suffix = Path(path).suffix
    if suffix not in FORMATS:
        raise Diagnostic(path, f"expected a .parquet or .csv output file, got '{suffix}'")
    if suffix == ".parquet":
        _pyarrow()


def writer(
    path: str, rows: Sequence[Mapping[str, Any]], cols: Mapping[str, type]
) -> Callable[[Path], None]:
    """What writes the table to a (temporary) file, Parquet or CSV by `path`'s suffix."""
    if Path(path).suffix == ".csv":
        return lambda tmp: _write_csv(tmp, rows, cols)
    return lambda tmp: _write_parquet(tmp, rows, cols)


def write(path: str, rows: Sequence[Mapping[str, Any]], cols: Mapping[str, type]) -> None:
    """Write the table all-or-nothing (no partial file)."""
    write_atomically(path, writer(path, rows, cols))


def _write_csv(path: Path, rows: Sequence[Mapping[str, Any]], cols: Mapping[str, type]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(cols)
        for each in rows:
            writer.writerow("" if each[name] is None else _text(each[name]) for name in cols)


def _text(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _write_parquet(
    path: Path, rows: Sequence[Mapping[str, Any]], cols: Mapping[str, type]
) -> None:
    pa, parquet = _pyarrow()
    kinds = {int: pa.int64(), float: pa.float64(), str: pa.string()}
    schema = pa.schema([(name, kinds[kind]) for name, kind in cols.items()])
    table = pa.Table.from_pylist(list(rows), schema=schema)
    parquet.write_table(table, path)


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise Diagnostic(
            "-o", "writing and reading .parquet needs pyarrow (pip install 'rnnc[sweep]'); "
            "or name a .csv file"
        ) from None
    return pyarrow, pyarrow.parquet


def read(path: str) -> list[dict[str, Any]]:
    """The rows of a table written by `write` (CSV values typed back: integers, then
    floats, then text; empty is None)."""
    suffix = Path(path).suffix
    if suffix not in FORMATS:
        raise Diagnostic(path, f"expected a .parquet or .csv results file, got '{suffix}'")
    check_input_file(path, MAX_TABLE_BYTES, "a results table")  # not a pipe read forever
    try:
        if suffix == ".parquet":
            _, parquet = _pyarrow()
            return parquet.read_table(path).to_pylist()
        with open(path, newline="") as handle:
            return [{k: _parse(v) for k, v in r.items()} for r in csv.DictReader(handle)]
    except Diagnostic:
        raise
    except OSError as error:
        raise Diagnostic(path, f"cannot read the results ({error.strerror})") from None
    except Exception as error:  # pyarrow's errors for a file that is not Parquet
        raise Diagnostic(path, f"not a results table: {error}") from None


def _parse(text: str) -> Any:
    if text == "":
        return None
    for kind in (int, float):
        try:
            value = kind(text)
        except ValueError:
            continue
        return value if not (isinstance(value, float) and math.isnan(value)) else None
    return text


__all__ = ["FORMATS", "TIMING_FIELDS", "check_output", "columns", "deterministic_columns",
           "read", "row", "write", "writer"]
