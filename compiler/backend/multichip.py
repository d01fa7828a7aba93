"""config.json of a model split over several chips: each chip's own section, and the
`links` between chips.

A configuration of one chip keeps its program, design points and I/O at the top level. A
configuration of N > 1 chips has no top-level `program`: each `chips[k]` carries its own
`program`, `design` (its nests' factors), `inputs` and `outputs` (its address generators)
and `rows` (the hidden units [lo, hi) it computes, `rnnc.target.multichip.chip_rows`); the
top level's `inputs`/`outputs` declare the model's tensors. `chip_view` turns one chip of
such a file into the one-chip configuration the loader, the checks and the simulator take.

`links` lists every transfer of the exchange, explicitly:

    {"id": "h.0-1", "memory": "h", "from": 0, "to": 1, "rows": [0, 1024], "bytes": 4096,
     "path": [0, 1], "after": "n1", "send": ["pcu12", ...], "receive": ["pmu3", ...]}

chip `from` sends its rows of memory `memory` (every dimension but the last whole, one
buffer) once nest `after` has written them each step, over the chips of `path` (the
architecture's topology), from the units that write them (`send`) to the PMUs of chip `to`
that hold the memory (`receive`). Each chip's `exchange` lists its on-chip legs of the
exchange: the routes from the writers to the link ports, between ports, and from the ports
to the PMUs (`rnnc.target.exchange_routes`). `check_links` refuses a links section a
machine could not run, each problem naming the field, and a link whose on-chip legs are
missing or unroutable (`rnnc.backend.exchange_legs`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from rnnc.backend.exchange_legs import Rebuild, check_legs, holds
from rnnc.target.arch import Architecture
from rnnc.target.multichip import link_path

Config = Mapping[str, Any]
Problem = tuple[str, str]

#: The fields a chip of a multi-chip configuration carries that a one-chip configuration
#: has at the top level (the chip's `design` is the top level's `design.nests`).
CHIP_FIELDS = ("program", "design", "inputs", "outputs", "rows")
#: And what only a chip of several may have: its legs of the exchange (`exchange`, checked
#: with the links, `rnnc.backend.exchange_legs`).
CHIP_OWN = (*CHIP_FIELDS, "exchange")


def is_multichip(data: Config) -> bool:
    return len(data["chips"]) > 1


def chip_view(data: Config, chip: int) -> dict[str, Any]:
    """Chip `chip` of a multi-chip configuration as a one-chip configuration."""
    own = data["chips"][chip]
    view = {key: value for key, value in data.items() if key != "links"}
    view |= {
        "program": own["program"],
        "design": {**data["design"], "chips": 1, "nests": own["design"]},
        "inputs": own["inputs"],
        "outputs": own["outputs"],
        "chips": [{"id": 0, **{k: v for k, v in own.items()
                               if k not in (*CHIP_OWN, "id")}}],
    }
    return view


def view_field(field: str, chip: int) -> str:
    """The multi-chip file's field of a field of `chip_view(data, chip)`."""
    head, _, rest = field.partition(".")
    if head == "chips" and rest.startswith("0"):
        return f"chips.{chip}{rest[1:]}"
    if head == "design" and rest.startswith("nests"):
        return f"chips.{chip}.design{rest[5:]}"
    if head in ("program", "inputs", "outputs"):
        return f"chips.{chip}.{field}"
    return field


def check_sections(data: Config) -> list[Problem]:
    """Where the program lives: at the top level with one chip, in every chip with more."""
    problems: list[Problem] = []
    many = is_multichip(data)
    if not many:
        if "program" not in data:
            problems.append(("program", "missing (a configuration of one chip has its program "
                             "at the top level)"))
        problems += [(f"chips.0.{key}", "only a chip of a multi-chip configuration has its "
                      "own") for key in CHIP_OWN if key in data["chips"][0]]
        if "links" in data:
            problems.append(("links", "a configuration of one chip has no links"))
        return problems
    if "program" in data:
        problems.append(("program", f"a configuration of {len(data['chips'])} chips has a "
                         "program per chip, not one at the top level"))
    for index, chip in enumerate(data["chips"]):
        problems += [(f"chips.{index}.{key}", "missing (required: each chip of a multi-chip "
                      "configuration has its own)") for key in CHIP_FIELDS if key not in chip]
    if "links" not in data:
        problems.append(("links", f"missing: {len(data['chips'])} chips exchange their state "
                         "over links"))
    return problems


def check_links(data: Config, arch: Architecture, rebuild: Rebuild) -> list[Problem]:
    """Every link a machine could run, and together an exchange every chip can compute with:
    each chip receives every other chip's rows of every exchanged memory exactly once; then
    the links' on-chip legs (`check_legs`, with `rebuild`)."""
    chips = data["chips"]
    problems: list[Problem] = []
    rows = [tuple(chip["rows"]) for chip in chips]
    problems += _rows(rows)
    seen: dict[tuple[str, int, int], str] = {}
    names: set[str] = set()
    for k, link in enumerate(data["links"]):
        where = f"links.{k}"
        if link["id"] in names:
            problems.append((f"{where}.id", f"link '{link['id']}' is declared twice"))
        names.add(link["id"])
        found = list(_link(link, where, chips, rows, arch))
        problems += found
        key = (link["memory"], link["from"], link["to"])
        if not found and key in seen:
            problems.append((f"{where}", f"chip {link['to']} receives chip {link['from']}'s "
                             f"rows of '{link['memory']}' twice (also link '{seen[key]}')"))
        seen.setdefault(key, link["id"])
    if problems:
        return problems
    for memory in sorted({m for m, _, _ in seen}):
        for a in range(len(chips)):
            for b in range(len(chips)):
                if a != b and (memory, a, b) not in seen:
                    problems.append(("links", f"chip {b} never receives chip {a}'s rows "
                                     f"{list(rows[a])} of '{memory}'"))
    return problems or check_legs(data, arch, rebuild)


def _rows(rows: Sequence[tuple[int, ...]]) -> list[Problem]:
    """The chips' rows tile [0, H) in order."""
    problems: list[Problem] = []
    start = 0
    for index, span in enumerate(rows):
        if len(span) != 2 or span[0] != start or span[1] <= span[0]:
            problems.append((f"chips.{index}.rows", f"is {list(span)}: the chips' rows must "
                             f"follow each other from 0, chip {index}'s from {start}"))
            return problems
        start = span[1]
    return problems


def _link(link: Config, where: str, chips: Sequence[Config],
          rows: Sequence[tuple[int, ...]], arch: Architecture) -> Iterator[Problem]:
    count = len(chips)
    source, target = link["from"], link["to"]
    for field, chip in (("from", source), ("to", target)):
        if not 0 <= chip < count:
            yield f"{where}.{field}", f"chip {chip} does not exist ({count} chips)"
            return
    if source == target:
        yield f"{where}.to", f"a link joins two chips, got chip {source} to itself"
        return
    memory = _memory(chips[source], link["memory"])
    if memory is None or _memory(chips[target], link["memory"]) is None:
        side = "from" if memory is None else "to"
        yield f"{where}.memory", f"chip {link[side]} has no memory '{link['memory']}'"
        return
    if link["rows"] != list(rows[source]):
        yield f"{where}.rows", (f"is {link['rows']}, chip {source} computes rows "
                                f"{list(rows[source])}")
        return
    lo, hi = link["rows"]
    if hi > memory["shape"][-1]:
        yield f"{where}.rows", f"rows {link['rows']} lie outside '{link['memory']}' " \
                               f"{memory['shape']}"
        return
    nbytes = (hi - lo) * math.prod(memory["shape"][:-1]) * memory["element_bytes"]
    if link["bytes"] != nbytes:
        yield f"{where}.bytes", f"is {link['bytes']}, rows {link['rows']} of " \
                                f"'{link['memory']}' are {nbytes} bytes"
    path = link_path(source, target, count, arch.interchip.topology)
    if link["path"] != list(path):
        yield f"{where}.path", (f"is {link['path']}, on the {arch.interchip.topology} of "
                                f"{count} chips chip {source} reaches chip {target} over "
                                f"{list(path)}")
    yield from _ends(link, where, chips)


def _memory(chip: Config, name: str) -> Config | None:
    return next((m for m in chip["program"]["memories"] if m["name"] == name), None)


def _ends(link: Config, where: str, chips: Sequence[Config]) -> Iterator[Problem]:
    """`after` is a nest of the sender, `send` its units that write the memory, `receive`
    the receiver's PMUs that hold it."""
    sender, receiver = chips[link["from"]], chips[link["to"]]
    if link["after"] not in {nest["id"] for nest in sender["program"]["nests"]}:
        yield f"{where}.after", f"chip {link['from']} has no nest '{link['after']}'"
    memory = link["memory"]
    ends = (("send", link["from"], sender, writes, f"does not write '{memory}'"),
            ("receive", link["to"], receiver, holds, f"is not a PMU holding '{memory}'"))
    for field, chip, config, does, refusal in ends:
        units = {unit["id"]: unit for unit in config["units"]}
        if not link[field]:
            yield f"{where}.{field}", "names no unit"
        for k, name in enumerate(link[field]):
            unit = units.get(name)
            if unit is None or not does(unit, memory):
                yield f"{where}.{field}.{k}", f"unit '{name}' of chip {chip} {refusal}"


def writes(unit: Config, memory: str) -> bool:
    """Whether a PCU (as configuration data) writes `memory`."""
    return unit["kind"] == "pcu" and any(
        op["op"] == "write" and dict(op.get("params", {})).get("memory") == memory
        for op in unit.get("ops", ()))
