"""The JSON Schema of config.json, generated from the machine description's dataclasses.

`config.schema.json` (beside this file, shipped with the package) is this module's output,
checked in so that the format is versioned and reviewable; `tests/backend` regenerates it
and fails if the file differs, so a change to `rnnc.target.machine` cannot silently
change the format (regenerate with `python -m rnnc.backend.schema`, and raise
`FORMAT_VERSION`: the minor version for an added optional field, the major version for
anything else).

The envelope (format, arch, precision, design, prediction, weights, I/O) is written out
here; the units, routes and program structure are the machine's own dataclasses, mapped
field by field: `int` -> integer, `str` -> string, `tuple[X, ...]` -> array of X, a fixed
tuple -> prefixItems, a dataclass -> an object of its fields (those without a default
required, no others allowed), `params`/`limits` pairs -> an object.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any, Union

from rnnc.backend.load import FORMAT_VERSION, SCHEMA_PATH
from rnnc.dialects.spatial import Network, UnitKind
from rnnc.target import machine

#: Machine fields that live elsewhere in the configuration than under `program`.
PLACED_FIELDS = ("arch", "arch_digest", "precision", "design", "inputs", "outputs", "units",
                 "streams", "controller", "control")
#: Descriptive fields a unit carries in the configuration beyond its machine fields.
UNIT_EXTRAS = {
    "row": {"type": "integer", "minimum": 0},
    "col": {"type": "integer", "minimum": -1,
            "description": "-1: the left edge (address generators); cols: the right edge."},
    "role": {"type": "string", "minLength": 1,
             "description": "What the unit does (derived; for people and pictures)."},
}
PORT = {"type": "string", "pattern": "^[svc][io][0-9]+$"}


def _type(hint: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin = typing.get_origin(hint)
    if hint is Any:
        return {}
    if hint is int:
        return {"type": "integer"}
    if hint is str:
        return {"type": "string"}
    if hint is bool:
        return {"type": "boolean"}
    if hint is float:
        return {"type": "number"}
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(options) == 1:
            return _type(options[0], defs)
        return {"anyOf": [_type(a, defs) for a in options]}
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _type(args[0], defs)}
        return {"type": "array", "prefixItems": [_type(a, defs) for a in args],
                "minItems": len(args), "maxItems": len(args)}
    if dataclasses.is_dataclass(hint):
        _define(hint, defs)
        return {"$ref": f"#/$defs/{hint.__name__}"}
    raise TypeError(f"no JSON Schema for {hint!r}")


def _define(cls: type, defs: dict[str, Any], drop: tuple[str, ...] = (),
            extra: dict[str, Any] | None = None, name: str | None = None) -> None:
    key = name or cls.__name__
    if key in defs:
        return
    defs[key] = {}  # reserve (recursive types)
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for f in dataclasses.fields(cls):
        if f.name in drop:
            continue
        if f.name in ("params", "limits"):
            properties[f.name] = {"type": "object"}
        elif f.name == "port" or (f.name in ("output",) and cls is machine.Reduce):
            properties[f.name] = PORT
        else:
            properties[f.name] = _type(hints[f.name], defs)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    for field, spec in (extra or {}).items():
        if field not in properties:
            properties[field] = spec
        if field not in required:
            required.append(field)
    schema = {"type": "object", "additionalProperties": False, "required": required,
              "properties": properties}
    doc = (cls.__doc__ or "").strip()
    if doc:
        schema["description"] = " ".join(doc.split())
    defs[key] = schema


def _kind_constant(defs: dict[str, Any], name: str, kind: str) -> None:
    defs[name]["properties"]["kind"] = {"const": kind}
    defs[name]["required"].append("kind")


def _tensor() -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": ["shape", "dtype"],
            "properties": {"shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                           "dtype": {"type": "string"}}}


def config_schema() -> dict[str, Any]:
    """The schema of the configuration format `FORMAT_VERSION`."""
    defs: dict[str, Any] = {}
    for cls in (machine.PCU, machine.PMU, machine.AG):
        _define(cls, defs, drop=("site",), extra=UNIT_EXTRAS)
        _kind_constant(defs, cls.__name__, cls.__name__.lower())
    _define(machine.Stream, defs)
    defs["Stream"]["required"] = [*defs["Stream"]["required"], "paths"]
    defs["Stream"]["properties"]["network"] = {"enum": list(Network)}
    defs["unit"] = {
        "description": "A placed unit: kind, site and its full configuration.",
        "type": "object", "required": ["kind"],
        "properties": {"kind": {"enum": list(UnitKind)}},
        "allOf": [{"if": {"properties": {"kind": {"const": k}}},
                   "then": {"$ref": f"#/$defs/{k.upper()}"}} for k in UnitKind],
    }
    _define(machine.Machine, defs, drop=PLACED_FIELDS, name="program")
    defs["controller"] = {
        "description": "The schedule's sequential controller: the control block of the switch "
        "(row, col) of the (rows+1) x (cols+1) mesh; control routes start (the enable) and end "
        "(each unit's done token) at its ports. Required when the schedule fires units.",
        "type": "object", "additionalProperties": False, "required": ["id", "row", "col"],
        "properties": {"id": {"type": "string", "minLength": 1},
                       "row": {"type": "integer", "minimum": 0},
                       "col": {"type": "integer", "minimum": 0}},
    }
    _define(machine.DesignPoint, defs)
    defs["sha256"] = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
    defs["io"] = {
        "type": "object", "additionalProperties": False,
        "required": ["name", "shape", "dtype", "location"],
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "dtype": {"type": "string"},
            "location": {
                "description": "The program memory holding the tensor, its space, and the "
                "address generators that move it.",
                "type": "object", "additionalProperties": False,
                "required": ["memory", "space", "units"],
                "properties": {"memory": {"type": "string"},
                               "space": {"enum": ["dram", "sram", "reg"]},
                               "units": {"type": "array", "items": {"type": "string"}}},
            },
        },
    }
    defs["link"] = _link()
    major = FORMAT_VERSION[0]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://rnnc.invalid/schemas/rnnc-config-{major}.json",
        "title": f"rnnc configuration (config.json), format_version {major}.x",
        "description": "The hardware configuration of a placed and routed spatial design: "
        "everything an independent tool needs to check and run it. Generated by "
        "rnnc.backend.schema from rnnc.target.machine; see docs/config-format.md.",
        "type": "object",
        "additionalProperties": False,
        "required": ["format", "format_version", "compiler_version", "arch", "precision",
                     "design", "predicted", "weights", "inputs", "outputs", "time_loop",
                     "chips"],
        "properties": {
            "format": {"const": "rnnc-config"},
            "format_version": {"type": "string", "pattern": f"^{major}\\.[0-9]+$",
                               "description": "MAJOR.MINOR"},
            "compiler_version": {"type": "string", "minLength": 1},
            "arch": {
                "type": "object", "additionalProperties": False,
                "required": ["name", "sha256", "description"],
                "properties": {"name": {"type": "string"}, "sha256": {"$ref": "#/$defs/sha256"},
                               "description": {"type": "object", "description":
                                               "The architecture as validated "
                                               "(architecture.schema.json)."}},
            },
            "precision": {
                "type": "object", "additionalProperties": False,
                "required": ["name", "spec", "weight_bits"],
                "properties": {"name": {"type": "string", "pattern": "^[a-z][a-z0-9]*$",
                                        "description": "fp32, mixed or a weight format "
                                        "(rnnc.numerics.formats)"},
                               "spec": {"type": "string"},
                               "weight_bits": {"enum": [2, 3, 4, 5, 6, 7, 8, 16, 32]},
                               "weight_format": {
                                   "type": "object", "additionalProperties": False,
                                   "required": ["element", "bits", "block", "scale",
                                                "scale_exponents"],
                                   "properties": {
                                       "element": {"type": "string"},
                                       "bits": {"type": "integer", "minimum": 1},
                                       "block": {"type": "integer", "minimum": 1},
                                       "scale": {"type": "string"},
                                       "scale_exponents": {
                                           "type": "array", "items": {"type": "integer"},
                                           "minItems": 2, "maxItems": 2}}},
                               "float8": {"type": "string"},
                               "lut_entries": {"type": "integer", "minimum": 2},
                               "lut_range": {"type": "number", "exclusiveMinimum": 0},
                               "lut_interp": {"enum": ["linear", "nearest"]}},
            },
            "design": {
                "type": "object", "additionalProperties": False,
                "required": ["chips", "nests"],
                "properties": {"chips": {"type": "integer", "minimum": 1},
                               "seed": {"type": "integer"},
                               "retries": {"type": "integer", "minimum": 0},
                               "nests": {"type": "array",
                                         "items": {"$ref": "#/$defs/DesignPoint"}}},
            },
            "predicted": {
                "type": "object", "additionalProperties": False,
                "description": "The cost model's prediction: total_cycles and latency_ms of "
                "the whole inference, time_loop_cycles of its time loops alone.",
                "required": ["cycles_per_step", "total_cycles", "time_loop_cycles",
                             "latency_ms", "bound"],
                "properties": {"cycles_per_step": {"type": "integer", "minimum": 0},
                               "total_cycles": {"type": "integer", "minimum": 0},
                               "time_loop_cycles": {"type": "integer", "minimum": 0},
                               "latency_ms": {"type": "number", "minimum": 0},
                               "bound": {"type": "string"}},
            },
            "weights": {
                "type": "object", "additionalProperties": False,
                "required": ["path", "sha256", "arrays"],
                "properties": {"path": {"type": "string", "minLength": 1},
                               "sha256": {"$ref": "#/$defs/sha256"},
                               "arrays": {"type": "object", "additionalProperties": _tensor()},
                               "given": {
                                   "type": "object", "additionalProperties": {"type": "string"},
                                   "description": "Arrays stored rounded to a weight format: "
                                   "the member of the weight file holding the values the model "
                                   "gave (for `rnnc sim --compare fp32`)."}},
            },
            "inputs": {"type": "array", "items": {"$ref": "#/$defs/io"}},
            "outputs": {"type": "array", "items": {"$ref": "#/$defs/io"}},
            "time_loop": {
                "type": "object", "additionalProperties": False, "required": ["steps"],
                "properties": {"steps": {"type": "integer", "minimum": 1}},
            },
            "program": {"$ref": "#/$defs/program",
                        "description": "The program of a one-chip configuration (required "
                        "then); a chip of a multi-chip configuration has its own."},
            "chips": {
                "type": "array", "minItems": 1,
                "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["id", "units", "routes"],
                    "properties": {"id": {"type": "integer", "minimum": 0},
                                   "units": {"type": "array", "items": {"$ref": "#/$defs/unit"}},
                                   "controller": {"$ref": "#/$defs/controller"},
                                   "routes": {"type": "array",
                                              "items": {"$ref": "#/$defs/Stream"}},
                                   **_chip_sections()},
                },
            },
            "links": {"type": "array", "items": {"$ref": "#/$defs/link"},
                      "description": "A multi-chip configuration's transfers of the "
                      "exchange between its chips (rnnc.backend.multichip)."},
        },
        "$defs": dict(sorted(defs.items())),
    }


def _chip_sections() -> dict[str, Any]:
    """What a chip of a multi-chip configuration has of its own (all of them, then)."""
    return {
        "rows": {"type": "array", "items": {"type": "integer", "minimum": 0},
                 "minItems": 2, "maxItems": 2,
                 "description": "The hidden units [lo, hi) the chip computes."},
        "program": {"$ref": "#/$defs/program"},
        "design": {"type": "array", "items": {"$ref": "#/$defs/DesignPoint"}},
        "inputs": {"type": "array", "items": {"$ref": "#/$defs/io"}},
        "outputs": {"type": "array", "items": {"$ref": "#/$defs/io"}},
        "exchange": {"type": "array", "items": _leg(),
                     "description": "The chip's on-chip legs of the exchange "
                     "(rnnc.target.exchange_routes)."},
    }


def _leg() -> dict[str, Any]:
    """One on-chip leg of the exchange: `send` (branches of the streams `routes` to link
    port `port`), `forward` (link port `from_port` to `port`) or `receive` (link port
    `port` to the PMU ports `sinks` on `network`), with its routed `paths` (one per route
    or sink)."""
    port = {"type": "integer", "minimum": 0}
    switch = {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}
    return {
        "type": "object", "additionalProperties": False,
        "required": ["id", "memory", "kind", "port", "paths"],
        "properties": {
            "id": {"type": "string", "minLength": 1},
            "memory": {"type": "string", "minLength": 1},
            "kind": {"enum": ["send", "forward", "receive"]},
            "network": {"enum": ["vector", "scalar"]},
            "port": port,
            "from_port": port,
            "routes": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "sinks": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["unit", "port"],
                "properties": {"unit": {"type": "string", "minLength": 1},
                               "port": {"type": "string", "minLength": 1}}}},
            "paths": {"type": "array", "items": {"type": "array", "minItems": 1,
                                                 "items": switch}},
        },
    }


def _link() -> dict[str, Any]:
    """One transfer of the exchange: chip `from`'s rows of `memory`, after its nest `after`
    writes them, over the chips of `path` to chip `to`, from units `send` to PMUs `receive`."""
    chip = {"type": "integer", "minimum": 0}
    names = {"type": "array", "items": {"type": "string", "minLength": 1}}
    return {
        "type": "object", "additionalProperties": False,
        "required": ["id", "memory", "from", "to", "rows", "bytes", "path", "after", "send",
                     "receive"],
        "properties": {
            "id": {"type": "string", "minLength": 1}, "memory": {"type": "string"},
            "from": chip, "to": chip,
            "rows": {"type": "array", "items": {"type": "integer", "minimum": 0},
                     "minItems": 2, "maxItems": 2},
            "bytes": {"type": "integer", "minimum": 1},
            "path": {"type": "array", "items": chip, "minItems": 2},
            "after": {"type": "string"}, "send": names, "receive": names,
        },
    }


def schema_text() -> str:
    return json.dumps(config_schema(), indent=1, sort_keys=False) + "\n"


def main() -> None:
    Path(sys.argv[1] if len(sys.argv) > 1 else SCHEMA_PATH).write_text(schema_text())


if __name__ == "__main__":
    main()
