"""A configuration's own consistency: what the schema cannot say and the design checks
(`rnnc.target.checks.check_machine`) take for granted.

The schema checks types and shapes of fields; these checks make sure that every name a
configuration uses resolves and every number is one a machine could have, before anything
is built from it:

- names are unique (memories, nests, units, routes, inputs, outputs) and every reference
  resolves: a schedule's nests, a design point's nest, a binding's memory and address
  generators, an op's or box's memory, a holding's array, a counter or result an op reads;
- sizes are possible: memory shapes, nest extents and `par` at least 1, element bytes of a
  machine word, buffers at least 1, and no memory larger than this machine's memory;
- ranges stay inside what they index: a counter counts up from 0 within its nest's
  dimension, a box's or holding's slices lie inside the array they slice, an access's
  offsets and buffer inside its memory, a copy inside its nest's `par` grid;
- the schedule runs: phases `once` (one step) or `loop` (the time loop's steps);
- the words name something: a PCU's `mode` and `role`, a PMU's `role`, an AG's `direction`,
  a holding's `quantization` (`fp32`, or the precision's float8 format), the dtypes;
- the precision section is the mode its `spec` parses to, on the architecture's weight
  width.

Every problem is `(field, message)` with the configuration's dotted field path; the loader
reports the first and counts the rest.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from rnnc.backend.posted_writes import posted_problems
from rnnc.diagnostics import memory_bytes
from rnnc.dialects import loop
from rnnc.dialects.loop import COMBINERS
from rnnc.dialects.spatial import AGDirection, PCUMode, PCURole, PMUKind
from rnnc.numerics.formats import is_format_name
from rnnc.numerics.precision import parse_precision
from rnnc.target.arch import Architecture
from rnnc.target.checks import lut_tables

Problem = tuple[str, str]
Config = Mapping[str, Any]

#: Element types a binding may have, as the IR spells them, and their numpy dtypes.
DTYPES = {"f16": "float16", "f32": "float32", "f64": "float64", "i32": "int32", "i64": "int64"}
#: The bytes a memory's element may take.
ELEMENT_BYTES = (1, 2, 4, 8)
PHASES = ("once", "loop")
#: Counters a PCU's ops may read without declaring them: the reduction index and the step.
IMPLICIT_COUNTERS = ("k", "t")
#: The functions a lookup table may tabulate: the activations of the loop level.
TABLE_FUNCTIONS = tuple(cls.name.split(".", 1)[1] for cls in loop.ACTIVATIONS)


def check_consistency(data: Config, arch: Architecture) -> list[Problem]:
    """Every consistency problem of a schema-valid configuration, in document order."""
    problems = _unit_and_route_names(data)
    if is_skeleton(data):
        return problems
    program = data["program"]
    memories = _unique(program["memories"], "name", "program.memories", "memory", problems)
    nests = _unique(program["nests"], "id", "program.nests", "nest", problems)
    for side in ("inputs", "outputs"):
        problems += _bindings(data, side, memories)
    for k, memory in enumerate(program["memories"]):
        problems += _memory(memory, f"program.memories.{k}", data)
    for k, nest in enumerate(program["nests"]):
        problems += _nest(nest, f"program.nests.{k}")
    problems += _schedule(data, nests)
    problems += posted_problems(data)
    problems += _design(data, nests)
    problems += _precision(data, arch)
    if data["design"]["chips"] != len(data["chips"]):
        problems.append(("design.chips", f"says {data['design']['chips']} chip(s), the "
                                         f"configuration has {len(data['chips'])}"))
    for index, chip in enumerate(data["chips"]):
        where = f"chips.{index}"
        if chip["id"] != index:
            problems.append((f"{where}.id", f"chip {index} has id {chip['id']}"))
        for k, unit in enumerate(chip["units"]):
            problems += _unit(unit, f"{where}.units.{k}", data, memories, nests)
    return problems


def is_skeleton(data: Config) -> bool:
    """Whether the configuration is a placed and routed design without a program (no
    memories, nests or schedule: the place-and-route tests' designs). Its geometry can be
    checked and drawn; there is nothing to simulate."""
    program = data["program"]
    return not (program["memories"] or program["nests"] or program["schedule"])


def _unit_and_route_names(data: Config) -> list[Problem]:
    """Every chip's units and routes have names of their own."""
    problems: list[Problem] = []
    for index, chip in enumerate(data["chips"]):
        _unique(chip["units"], "id", f"chips.{index}.units", "unit", problems)
        _unique(chip["routes"], "id", f"chips.{index}.routes", "route", problems)
    return problems


def _unique(items: Sequence[Config], key: str, where: str, what: str,
            problems: list[Problem]) -> dict[str, Config]:
    """The items by `key`; a second item of the same name is a problem."""
    found: dict[str, Config] = {}
    for k, item in enumerate(items):
        name = item[key]
        if name in found:
            problems.append((f"{where}.{k}.{key}", f"{what} '{name}' is declared twice"))
        else:
            found[name] = item
    return found


# ---- the program ---------------------------------------------------------------------------


def _memory(memory: Config, where: str, data: Config) -> Iterator[Problem]:
    name = f"memory '{memory['name']}'"
    if not memory["shape"] or min(memory["shape"]) < 1:
        yield f"{where}.shape", f"{name} has shape {memory['shape']}; every dimension is at " \
                                "least 1"
        return
    if memory["element_bytes"] not in ELEMENT_BYTES:
        yield f"{where}.element_bytes", f"{name} has elements of {memory['element_bytes']} " \
                                        f"bytes, expected one of {_listed(ELEMENT_BYTES)}"
    if memory["buffers"] < 1:
        yield f"{where}.buffers", f"{name} has {memory['buffers']} buffers, expected at least 1"
    if memory["space"] not in ("dram", "sram", "reg"):
        yield f"{where}.space", f"{name} is in space '{memory['space']}', expected dram, " \
                                "sram or reg"
    size = math.prod(memory["shape"]) * max(memory["element_bytes"], 1) * max(
        memory["buffers"], 1)
    if size > memory_bytes():
        yield f"{where}.shape", f"{name} of shape {memory['shape']} takes {size:.3g} bytes, " \
                                "more than this machine's memory"
    kind, _, source = memory["init"].partition(":")
    sources = {"weight": data["weights"]["arrays"],
               "input": {entry["name"] for entry in data["inputs"]}}
    if memory["init"] not in ("undefined", "zero") and source not in sources.get(kind, ()):
        yield f"{where}.init", f"{name} is initialised from '{memory['init']}', which names " \
                               "no weight array or input (expected undefined, zero, " \
                               "weight:NAME or input:NAME)"


def _nest(nest: Config, where: str) -> Iterator[Problem]:
    name = f"nest '{nest['id']}'"
    if not nest["extents"] or len(nest["par"]) != len(nest["extents"]):
        yield f"{where}.par", f"{name} has {len(nest['extents'])} extents and " \
                              f"{len(nest['par'])} par factors, expected one each per dimension"
        return
    for d, (extent, par) in enumerate(zip(nest["extents"], nest["par"], strict=True)):
        if extent < 1:
            yield f"{where}.extents.{d}", f"{name} has extent {extent} in dimension {d}, " \
                                          "expected at least 1"
        elif not 1 <= par <= extent:
            yield f"{where}.par.{d}", f"{name} has par {par} in dimension {d}, expected 1 to " \
                                      f"its extent {extent}"


def _schedule(data: Config, nests: Mapping[str, Config]) -> Iterator[Problem]:
    loop_steps = 0
    for k, phase in enumerate(data["program"]["schedule"]):
        where = f"program.schedule.{k}"
        if phase["kind"] not in PHASES:
            yield f"{where}.kind", f"phase {k} is '{phase['kind']}', expected once or loop"
        elif phase["kind"] == "once" and phase["steps"] != 1:
            yield f"{where}.steps", f"a phase run once has 1 step, got {phase['steps']}"
        elif phase["steps"] < 1:
            yield f"{where}.steps", f"the time loop runs {phase['steps']} steps, expected at " \
                                    "least 1"
        else:
            loop_steps += phase["steps"] if phase["kind"] == "loop" else 0
        for j, nest in enumerate(phase["nests"]):
            if nest not in nests:
                yield f"{where}.nests.{j}", f"phase {k} runs nest '{nest}', which " \
                                            "program.nests does not declare"
    if loop_steps and loop_steps != data["time_loop"]["steps"]:
        yield "time_loop.steps", f"says {data['time_loop']['steps']} steps, the schedule's " \
                                 f"loop phases run {loop_steps}"


def _design(data: Config, nests: Mapping[str, Config]) -> Iterator[Problem]:
    seen: set[str] = set()
    for k, point in enumerate(data["design"]["nests"]):
        where = f"design.nests.{k}"
        if point["nest"] not in nests:
            yield f"{where}.nest", f"a design point of nest '{point['nest']}', which " \
                                   "program.nests does not declare"
        elif point["nest"] in seen:
            yield f"{where}.nest", f"a second design point of nest '{point['nest']}'"
        seen.add(point["nest"])
        for key in ("hu", "ru", "rv"):
            if point[key] < 1:
                yield f"{where}.{key}", f"nest '{point['nest']}' has {key} = {point[key]}, " \
                                        "expected at least 1"


def _precision(data: Config, arch: Architecture) -> Iterator[Problem]:
    """The section is what its spec parses to (the simulator runs the spec)."""
    section = data["precision"]
    try:
        mode = parse_precision(section["spec"])
    except ValueError as error:
        yield "precision.spec", str(error)
        return
    try:
        bits = arch.precision(mode.name).weight_bits
    except ValueError as error:
        yield "precision.name", str(error)
        return
    expected: dict[str, Any] = {"name": mode.name, "weight_bits": bits}
    if mode.weight_format is not None:
        expected["weight_format"] = mode.weight_format.record(mode.scale_range)
    if mode.mixed:
        expected |= {"float8": mode.float8, "lut_entries": mode.lut_entries,
                     "lut_range": mode.lut_range, "lut_interp": mode.lut_interp}
    for key in sorted(set(expected) | set(section) - {"spec"}):
        if section.get(key) != expected.get(key):
            given = "absent" if key not in section else repr(section[key])
            wanted = "absent" if key not in expected else repr(expected[key])
            yield f"precision.{key}", f"is {given}, the spec '{section['spec']}' on " \
                                      f"{arch.name} makes it {wanted}"


def _bindings(data: Config, side: str, memories: Mapping[str, Config]) -> Iterator[Problem]:
    units = {unit["id"]: unit for chip in data["chips"] for unit in chip["units"]}
    names: set[str] = set()
    for k, entry in enumerate(data[side]):
        where, name = f"{side}.{k}", entry["name"]
        if name in names:
            yield f"{where}.name", f"'{name}' is declared twice"
        names.add(name)
        if entry["dtype"] not in DTYPES:
            yield f"{where}.dtype", f"'{name}' has dtype '{entry['dtype']}', expected one of " \
                                    f"{_listed(DTYPES)}"
        location = entry["location"]
        memory = memories.get(location["memory"])
        if memory is None:
            yield f"{where}.location.memory", f"'{name}' is in memory '{location['memory']}', " \
                                              "which program.memories does not declare"
            continue
        if entry["shape"] != memory["shape"]:
            yield f"{where}.shape", f"'{name}' has shape {entry['shape']}, its memory " \
                                    f"'{memory['name']}' {memory['shape']}"
        if location["space"] != memory["space"]:
            yield f"{where}.location.space", f"'{name}' is in {location['space']}, its memory " \
                                             f"'{memory['name']}' in {memory['space']}"
        for j, unit in enumerate(location["units"]):
            ag = units.get(unit)
            if ag is None or ag["kind"] != "ag" or ag["memory"] != memory["name"]:
                yield f"{where}.location.units.{j}", f"'{name}' is moved by '{unit}', which " \
                    f"is not an address generator of memory '{memory['name']}'"


# ---- units ---------------------------------------------------------------------------------


def _unit(unit: Config, where: str, data: Config, memories: Mapping[str, Config],
          nests: Mapping[str, Config]) -> Iterator[Problem]:
    subject = f"unit '{unit['id']}'"
    if unit["kind"] == "pcu":
        problems = _pcu(unit, where, memories, nests)
    elif unit["kind"] == "pmu":
        problems = _pmu(unit, where, data, memories)
    else:
        problems = _ag(unit, where, memories)
    for field, message in problems:
        yield field, f"{subject}: {message}"


def _pcu(unit: Config, where: str, memories: Mapping[str, Config],
         nests: Mapping[str, Config]) -> Iterator[Problem]:
    yield from _word(unit, "mode", PCUMode, where)
    yield from _word(unit, "role", PCURole, where)
    folds = unit["role"] == PCURole.MAP_REDUCE
    if unit["mode"] in list(PCUMode) and folds != (unit["mode"] == PCUMode.MAP_REDUCE):
        yield f"{where}.mode", f"a unit of role {unit['role']} in mode {unit['mode']} (a " \
                               "map_reduce unit, and only one, runs in mode map_reduce)"
    nest = nests.get(unit["nest"])  # a nest of no phase: `check_machine` says so
    counters: set[str] = set(IMPLICIT_COUNTERS)
    for k, counter in enumerate(unit["counters"]):
        if nest is not None:
            yield from _counter(counter, f"{where}.counters.{k}", nest["extents"], counters)
        counters.add(counter["name"])
    if nest is not None and len(nest["extents"]) == len(nest["par"]):
        grid = math.prod(nest["par"])
        for k, copy in enumerate(unit["copies"]):
            if not 0 <= copy < grid:
                yield f"{where}.copies.{k}", f"serves copy {copy} of nest '{nest['id']}', " \
                                             f"whose par grid has copies 0 to {grid - 1}"
    for k, op in enumerate(unit["ops"]):
        yield from _op(op, k, f"{where}.ops.{k}", counters, memories)
    reduce = unit.get("reduce")
    if reduce is not None:
        if reduce["combiner"] not in COMBINERS:
            yield f"{where}.reduce.combiner", f"folds with '{reduce['combiner']}', expected " \
                                              f"one of {_listed(COMBINERS)}"
        for k, segment in enumerate(reduce["segments"]):
            if segment["value"] == "" and segment["start"] == segment["stop"]:
                continue  # an empty range (a packed slot's shorter reduction) folds nothing
            yield from _ref(segment["value"], len(unit["ops"]), counters,
                            f"{where}.reduce.segments.{k}.value")
    for k, emit in enumerate(unit["emits"]):
        for j, value in enumerate(emit["values"]):
            yield from _ref(value, len(unit["ops"]), counters, f"{where}.emits.{k}.values.{j}")


def _counter(counter: Config, where: str, extents: Sequence[int],
             declared: set[str]) -> Iterator[Problem]:
    name, start, stop = counter["name"], counter["start"], counter["stop"]
    if name in declared:
        yield f"{where}.name", f"counter '{name}' is declared twice (or shadows k or t)"
    dimension = int(name[1:]) if name[:1] == "d" and name[1:].isdigit() else None
    if dimension is None or dimension >= len(extents):
        yield f"{where}.name", f"counter '{name}' names no dimension of its nest (d0 to " \
                               f"d{len(extents) - 1})"
    elif not 0 <= start < stop <= extents[dimension]:
        yield f"{where}.stop", f"counter '{name}' counts from {start} to {stop}, expected " \
                               f"0 <= start < stop <= the nest's extent {extents[dimension]}"


def _op(op: Config, k: int, where: str, counters: set[str],
        memories: Mapping[str, Config]) -> Iterator[Problem]:
    for j, arg in enumerate(op["args"]):
        yield from _ref(arg, k, counters, f"{where}.args.{j}")
    params = op["params"]
    if op["op"] not in ("read", "write"):
        return
    memory = memories.get(params.get("memory"))  # type: ignore[arg-type]
    if memory is None:
        yield f"{where}.params.memory", f"op {k} ({op['op']}) accesses memory " \
                                        f"{params.get('memory')!r}, which program.memories " \
                                        "does not declare"
        return
    offsets = params.get("offsets", [0] * len(memory["shape"]))
    if not isinstance(offsets, list) or len(offsets) != len(memory["shape"]) or any(
            not isinstance(o, int) or not 0 <= o < n for o, n in
            zip(offsets, memory["shape"], strict=False)):
        yield f"{where}.params.offsets", f"op {k} ({op['op']}) offsets {offsets} do not lie " \
                                         f"inside memory '{memory['name']}' {memory['shape']}"
    buffer = params.get("buffer_offset", 0)
    if not isinstance(buffer, int) or isinstance(buffer, bool):
        yield f"{where}.params.buffer_offset", f"op {k} ({op['op']}) has buffer offset " \
                                               f"{buffer!r}, expected an integer"


def _ref(ref: str, before: int, counters: set[str], where: str) -> Iterator[Problem]:
    """An operand: `%n` the result of an earlier op, `ctr:NAME` a counter, `in:PORT...`."""
    if ref.startswith("%"):
        if not ref[1:].isdigit() or int(ref[1:]) >= before:
            yield where, f"'{ref}' is not the result of an earlier op (there are {before})"
    elif ref.startswith("ctr:"):
        if ref[4:] not in counters:
            yield where, f"'{ref}' reads a counter the unit does not have " \
                         f"({_listed(sorted(counters))})"
    elif not ref.startswith("in:"):
        yield where, f"'{ref}' is not an operand (%N, ctr:NAME or in:PORT)"


def _pmu(unit: Config, where: str, data: Config,
         memories: Mapping[str, Config]) -> Iterator[Problem]:
    yield from _word(unit, "role", PMUKind, where)
    if unit["lut"]:
        yield from _tables(unit["lut"], data["precision"], f"{where}.lut")
    for k, box in enumerate(unit["boxes"]):
        memory = memories.get(box["memory"])
        if memory is None:
            yield f"{where}.boxes.{k}.memory", f"holds memory '{box['memory']}', which " \
                                               "program.memories does not declare"
        else:
            yield from _slices(box["slices"], memory["shape"], f"memory '{memory['name']}'",
                               f"{where}.boxes.{k}.slices")
    arrays = {name: spec["shape"] for name, spec in data["weights"]["arrays"].items()}
    arrays |= {entry["name"]: entry["shape"] for entry in data["inputs"]}
    precision = data["precision"]
    formats = ("fp32", precision["float8"]) if "float8" in precision else ("fp32",)
    if is_format_name(precision["name"]):
        formats = ("fp32", precision["name"])
    for k, holding in enumerate(unit["holds"]):
        shape = arrays.get(holding["array"])
        if shape is None:
            yield f"{where}.holds.{k}.array", f"holds array '{holding['array']}', which is no " \
                                              "weight array (weights.arrays) or input"
        else:
            yield from _slices(holding["slices"], shape, f"array '{holding['array']}'",
                               f"{where}.holds.{k}.slices")
        if holding["quantization"] not in formats:
            yield f"{where}.holds.{k}.quantization", f"stores '{holding['array']}' as " \
                f"'{holding['quantization']}', expected {_listed(formats)} in " \
                f"{precision['name']}"


def _tables(lut: str, precision: Config, where: str) -> Iterator[Problem]:
    """Each table `fn:entries:range:interp` tabulates an activation as the precision says
    (the simulator computes the precision's tables)."""
    if precision["name"] == "fp32":
        yield where, f"holds lookup tables '{lut}'; {precision['name']} uses none"
        return
    wanted = [str(precision["lut_entries"]), precision["lut_range"], precision["lut_interp"]]
    for table in lut_tables(lut):
        parts = table.split(":")
        function = parts[0].split("(", 1)[0]
        if function not in TABLE_FUNCTIONS:
            yield where, f"table '{table}' tabulates '{function}', which is not an " \
                         f"activation ({_listed(TABLE_FUNCTIONS)})"
        elif len(parts) != 4 or [parts[1], _number(parts[2]), parts[3]] != wanted:
            yield where, f"table '{table}' is not {function}:{wanted[0]}:{wanted[1]:g}:" \
                         f"{wanted[2]}, as the precision '{precision['spec']}' makes it"


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _slices(slices: Sequence[Sequence[int]], shape: Sequence[int], what: str,
            where: str) -> Iterator[Problem]:
    if len(slices) != len(shape):
        yield where, f"{len(slices)} slices of {what}, which has {len(shape)} dimensions"
        return
    for d, ((start, stop, step), size) in enumerate(zip(slices, shape, strict=True)):
        if not (0 <= start < stop <= size and step >= 1):
            yield f"{where}.{d}", f"slice [{start}, {stop}, {step}] of {what} in dimension " \
                                  f"{d}: expected 0 <= start < stop <= {size}, step >= 1"


def _ag(unit: Config, where: str, memories: Mapping[str, Config]) -> Iterator[Problem]:
    yield from _word(unit, "direction", AGDirection, where)
    memory = memories.get(unit["memory"])
    if memory is None:
        yield f"{where}.memory", f"moves memory '{unit['memory']}', which program.memories " \
                                 "does not declare"
        return
    for k, box in enumerate(unit["boxes"]):
        if box["memory"] != memory["name"]:
            yield f"{where}.boxes.{k}.memory", f"moves parts of '{box['memory']}', not of " \
                                               f"its memory '{memory['name']}'"
        else:
            yield from _slices(box["slices"], memory["shape"], f"memory '{memory['name']}'",
                               f"{where}.boxes.{k}.slices")


def _word(unit: Config, key: str, words: Any, where: str) -> Iterator[Problem]:
    allowed = [str(word) for word in words]
    if unit[key] not in allowed:
        yield f"{where}.{key}", f"{key} '{unit[key]}' is not one of {_listed(allowed)}"


def _listed(values: Sequence[object]) -> str:
    return ", ".join(str(value) for value in values)


__all__ = ["check_consistency", "is_skeleton"]
