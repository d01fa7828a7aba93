"""Reading a `config.json` back: parse, validate against the schema, check the
architecture's and the weights' hashes. Every problem is one `ConfigError` naming the
field (`config.json: error: field 'chips.0.units.3.row': ...`), never a traceback.

The checks of the design itself (sites, routes, links) are in `rnnc.backend.checks`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
from rnnc.backend.consistency import check_consistency
from rnnc.backend.input_files import Expected, check_input_file, load_npz
from rnnc.diagnostics import Diagnostic
from rnnc.numerics.precision import parse_precision
from rnnc.target.arch import Architecture, ArchitectureError, architecture_from_dict
from rnnc.target.machine import Machine, from_data

SCHEMA_PATH = Path(__file__).parent / "config.schema.json"
FORMAT = "rnnc-config"
#: The format this compiler writes; it reads the same MAJOR with any MINOR up to its own.
FORMAT_VERSION = (2, 2)


class ConfigError(Diagnostic):
    """A configuration that cannot be used: `<file>: error: field 'a.b': ...`."""


@dataclass(frozen=True)
class LoadedConfig:
    """A validated configuration with its architecture and weight arrays."""

    path: Path
    data: Mapping[str, Any]
    arch: Architecture
    weights: Mapping[str, np.ndarray]


def field_name(path: Sequence[object]) -> str:
    return ".".join(str(part) for part in path) or "<top level>"


@cache
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_errors(data: object) -> list[str]:
    """Every schema violation of `data`, as 'field ...: ...' sentences, in document order."""
    errors = sorted(validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return [_describe(error) for error in errors]


def _describe(error: jsonschema.ValidationError) -> str:
    path = list(error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1]
        return f"field '{field_name([*path, missing])}': missing (required)"
    if error.validator == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - known)
        return f"field '{field_name([*path, extra[0]])}': unknown field"
    shown = json.dumps(error.instance)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"field '{field_name(path)}': expected {_expected(error)}, got {shown}"


_ARTICLES = {"integer": "an integer", "object": "an object", "array": "an array"}


def _expected(error: jsonschema.ValidationError) -> str:
    """What the schema wanted where `error` is, in words."""
    schema = error.schema
    if error.validator == "const":
        return json.dumps(schema["const"])
    if error.validator == "enum":
        return "one of " + ", ".join(json.dumps(value) for value in schema["enum"])
    if error.validator == "type":
        kind = schema["type"]
        return _ARTICLES.get(kind, f"a {kind}")
    if error.validator == "pattern":
        return f"a string matching {schema['pattern']}"
    if error.validator in ("minimum", "exclusiveMinimum", "minItems", "maxItems", "minLength"):
        return f"{error.validator} {schema[error.validator]}"
    return error.message


def check_schema(data: object, source: str) -> None:
    problems = schema_errors(data)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(source, problems[0] + more)


def _version(data: Mapping[str, Any], source: str) -> None:
    major, minor = (int(part) for part in data["format_version"].split("."))
    if major != FORMAT_VERSION[0] or minor > FORMAT_VERSION[1]:
        ours = ".".join(map(str, FORMAT_VERSION))
        raise ConfigError(
            source,
            f"field 'format_version': this rnnc reads format {FORMAT_VERSION[0]}.0 to {ours}, "
            f"got {data['format_version']}",
        )


def _architecture(data: Mapping[str, Any], source: str) -> Architecture:
    try:
        arch = architecture_from_dict(data["arch"]["description"], f"{source}: arch.description")
    except ArchitectureError as error:
        raise ConfigError(source, f"field 'arch.description': {error.message}") from None
    if arch.name != data["arch"]["name"]:
        raise ConfigError(source, f"field 'arch.name': is '{data['arch']['name']}', the "
                          f"description's name is '{arch.name}'")
    if arch.digest() != data["arch"]["sha256"]:
        raise ConfigError(
            source,
            f"field 'arch.sha256': does not match the architecture description (its sha256 is "
            f"{arch.digest()})",
        )
    return arch


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_file(path: Path, data: Mapping[str, Any]) -> Path:
    """The weight file of the configuration `data` read from `path`."""
    return path.parent / data["weights"]["path"]


def _weights(data: Mapping[str, Any], path: Path, source: str) -> dict[str, np.ndarray]:
    entry = data["weights"]
    file = weights_file(path, data)
    try:  # a regular file: hashing /dev/zero would never end
        check_input_file(str(file), 1 << 62, "a weight file")
    except Diagnostic as error:
        raise ConfigError(source, f"field 'weights.path': {file}: {error.message}") from None
    if file_sha256(file) != entry["sha256"]:
        raise ConfigError(
            source, f"field 'weights.sha256': does not match the file {file} (altered or replaced)"
        )
    for name, spec in entry["arrays"].items():
        if spec["dtype"] not in WEIGHT_DTYPES:
            raise ConfigError(source, f"field 'weights.arrays.{name}.dtype': '{spec['dtype']}' "
                              f"is not a weight dtype ({', '.join(WEIGHT_DTYPES)})")
    expected = {name: Expected(tuple(spec["shape"]), "float")
                for name, spec in entry["arrays"].items()}
    try:  # every member's header checked before its data is read: a hash says nothing
        arrays = load_npz(str(file), expected, what="weight array")
    except Diagnostic as error:
        raise ConfigError(source, f"field 'weights.path': {error.location}: "
                          f"{error.message}") from None
    for name, spec in entry["arrays"].items():
        if name not in arrays:
            raise ConfigError(source, f"field 'weights.arrays.{name}': not in {file.name}")
        if list(arrays[name].shape) != spec["shape"] or str(arrays[name].dtype) != spec["dtype"]:
            raise ConfigError(
                source,
                f"field 'weights.arrays.{name}': {file.name} holds {arrays[name].dtype} "
                f"{list(arrays[name].shape)}, the config says {spec['dtype']} {spec['shape']}",
            )
    return arrays


def _stored_in_format(data: Mapping[str, Any], weights: Mapping[str, np.ndarray],
                      source: str) -> None:
    """The arrays the PMUs hold in the precision's weight format hold values of it (the
    simulator computes with the file's values as the chip's widened weights)."""
    mode = parse_precision(data["precision"]["spec"])  # checked by check_consistency
    held = sorted({h["array"] for chip in data["chips"] for unit in chip["units"]
                   for h in unit.get("holds", ()) if h["quantization"] == mode.name})
    for name, member in data["weights"].get("given", {}).items():
        if name not in held or member not in weights \
                or weights[member].shape != weights[name].shape:
            raise ConfigError(source, f"field 'weights.given.{name}': expected an array held "
                              f"in the weight format ({', '.join(held) or 'none'}) and a "
                              f"weight array of its shape, got '{member}'")
    if mode.weight_format is None:
        return
    for name in held:
        array = weights[name]
        if not np.isfinite(array).all():
            raise ConfigError(source, f"field 'weights.arrays.{name}': holds a value that is "
                              f"not finite, which {mode.name} cannot store")
        stored = mode.quantize_matrix(array)
        wrong = np.argwhere(stored.view(np.uint32) != array.view(np.uint32))
        if wrong.size:
            index = tuple(int(i) for i in wrong[0])
            raise ConfigError(
                source,
                f"field 'weights.arrays.{name}': holds {float(array[index])!r} at {list(index)}, "
                f"which is not a {mode.name} value (it stores {float(stored[index])!r} there; "
                f"blocks of {mode.weight_format.block} along the last axis)",
            )


#: The largest configuration read: far above any real one, and a bound on what reading
#: `/dev/zero` or a runaway pipe may take.
MAX_CONFIG_BYTES = 1 << 30


def parse(path: Path) -> object:
    """The JSON of a configuration file. Strict JSON: NaN and Infinity, which Python's
    reader would take, are refused, and so are nesting too deep to read and integers too
    long to convert."""
    source = str(path)
    try:
        check_input_file(source, MAX_CONFIG_BYTES, "a configuration")
        text = path.read_text()
    except Diagnostic as error:
        raise ConfigError(source, error.message) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(source, f"cannot read the file ({error})") from None
    try:
        return json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{source}:{error.lineno}:{error.colno}",
                          f"invalid JSON: {error.msg}") from None
    except RecursionError:
        raise ConfigError(source, "invalid JSON: nested too deeply to read") from None
    except ValueError as error:  # NaN, Infinity; an integer of thousands of digits
        raise ConfigError(source, f"invalid JSON: {error}") from None


def _not_json(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


#: The dtypes a weight array may have in the weight file.
WEIGHT_DTYPES = ("float16", "float32", "float64")


def machine_of(config: Mapping[str, Any], chip: int = 0) -> Machine:
    """Rebuild the machine a configuration describes (the inverse of `config_data`)."""
    own = config["chips"][chip]  # a chip of several has its own program, design and I/O
    routes, controller = own["routes"], own.get("controller")
    units = []
    for unit in own["units"]:
        derived = ("row", "col") if unit["kind"] in ("pcu", "pmu") else ("row", "col", "role")
        data = {k: v for k, v in unit.items() if k not in derived}
        units.append({**data, "site": [unit["row"], unit["col"]]})
    data = dict(own.get("program", config.get("program")))
    data |= {
        "arch": config["arch"]["name"],
        "arch_digest": config["arch"]["sha256"],
        "precision": config["precision"]["name"],
        "design": own.get("design", config["design"]["nests"]),
        "inputs": [_binding(b) for b in own.get("inputs", config["inputs"])],
        "outputs": [_binding(b) for b in own.get("outputs", config["outputs"])],
        "units": units,
        "streams": [r for r in routes if r.get("network") != "control"],
        "control": [r for r in routes if r.get("network") == "control"],
    }
    if controller is not None:
        data["controller"] = {"id": controller["id"], "site": [controller["row"],
                                                               controller["col"]]}
    return from_data(Machine, data)


def _binding(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": entry["name"],
        "shape": entry["shape"],
        "dtype": entry["dtype"],
        "memory": entry["location"]["memory"],
    }


def _design(data: Mapping[str, Any], arch: Architecture, source: str) -> None:
    """The placed and routed design is legal on its architecture and every unit's
    configuration is one a chip could run: the independent checker of `spatial-verify`
    (`rnnc.target.checks.check_machine`), on the machine rebuilt from the file."""
    from rnnc.target.checks import check_machine

    for index, chip in enumerate(data["chips"]):
        try:
            machine = machine_of(data, index)
        except ValueError as error:
            raise ConfigError(source, f"field 'chips.{index}': {error}") from None
        problems = check_machine(arch, machine)
        if problems:
            first = problems[0]
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            field = _subject_field(chip, index, first)
            raise ConfigError(source, f"field '{field}': {first.subject}: {first.message}{more}")


def _subject_field(chip: Mapping[str, Any], index: int, problem: Any) -> str:
    """The config field of the unit or route a problem is about (`unit 'x'`, `stream 'x'`,
    or an over-used link, which names the routes crossing it in parentheses), down to the
    field of its configuration the problem names."""
    subject, message = problem.subject, problem.message
    phase = re.match(r"phase (\d+) of the schedule", subject)
    if phase:  # a chip of several has its own program
        program = f"chips.{index}.program" if "program" in chip else "program"
        return field_name([f"{program}.schedule.{phase[1]}", *filter(None, [problem.field])])
    quoted = re.match(r"(unit|stream) '([^']*)'", subject)
    if quoted:
        kind, name = ("units", quoted[2]) if quoted[1] == "unit" else ("routes", quoted[2])
    else:
        crossing = re.search(r"\(([^,)]+)", message)
        kind, name = "routes", crossing[1].strip() if crossing else ""
    items = chip[kind]
    for k, item in enumerate(items):
        if item["id"] == name:
            return field_name([f"chips.{index}.{kind}.{k}", *filter(None, [problem.field])])
    return f"chips.{index}"


def multichip_problems(data: Mapping[str, Any], arch: Architecture) -> list[tuple[str, str]]:
    """The consistency problems of a configuration: where its sections are, each chip's own
    (a chip of several checked as the one-chip configuration it is), then its links."""
    from rnnc.backend.multichip import (
        check_links,
        check_sections,
        chip_view,
        is_multichip,
        view_field,
    )

    problems = check_sections(data)
    if problems or not is_multichip(data):
        return problems or check_consistency(data, arch)
    for index in range(len(data["chips"])):
        problems += [(view_field(field, index), message) for field, message
                     in check_consistency(chip_view(data, index), arch)]
    return problems or check_links(data, arch, machine_of)


def load_config(path: str | Path) -> LoadedConfig:
    """Parse and validate a configuration, check its design on its architecture and load
    its weights (hash checked)."""
    path = Path(path)
    source = str(path)
    data = parse(path)
    check_schema(data, source)
    assert isinstance(data, dict)
    _version(data, source)
    arch = _architecture(data, source)
    problems = multichip_problems(data, arch)
    if problems:
        (field, message), more = problems[0], len(problems) - 1
        raise ConfigError(source, f"field '{field}': {message}"
                          + (f" (and {more} more)" if more else ""))
    _design(data, arch, source)
    weights = _weights(data, path, source)
    _stored_in_format(data, weights, source)
    return LoadedConfig(path, data, arch, weights)
