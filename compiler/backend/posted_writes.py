"""The loader's check of a loop's posted writes (`Phase.posted`, `spatial-post-writes`).

A posted write is one a step does not wait for: its unit's done token is not in the step's
done set, and only the loop's end waits for it. A chip can do that for a store to DRAM
(nothing on the chip reads it back) and for a PMU that no unit of the loop reads (a copy
of h read out after the loop): the next step cannot depend on either. It cannot for an
address generator that loads, for a PCU (its results feed the step), or for a PMU a unit
of the loop reads (the next step could read it before the write has landed).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Config = Mapping[str, Any]
Problem = tuple[str, str]


def posted_problems(data: Config) -> Iterator[Problem]:
    """Every posted write of every phase that no chip could post, by field."""
    units = {unit["id"]: unit for chip in data["chips"] for unit in chip["units"]}
    readers: dict[str, set[str]] = {}
    """Per unit, the nests of the PCUs its routes feed."""
    for chip in data["chips"]:
        for route in chip["routes"]:
            nests = readers.setdefault(route["source"]["unit"], set())
            for sink in route["sinks"]:
                unit = units.get(sink["unit"])
                if unit is not None and unit["kind"] == "pcu":
                    nests.add(unit["nest"])
    for k, phase in enumerate(data["program"]["schedule"]):
        for j, name in enumerate(phase.get("posted", [])):
            where = f"program.schedule.{k}.posted.{j}"
            if phase["kind"] != "loop":
                yield where, f"phase {k} runs once: only a loop's steps have writes to post"
                continue
            unit = units.get(name)
            if unit is None:
                yield where, f"'{name}' is not a unit of the configuration"
            elif unit["kind"] == "pcu":
                yield where, f"'{name}' is a PCU: only a store or a memory the loop does not " \
                             "read can be posted"
            elif unit["kind"] == "ag" and unit["direction"] == "load":
                yield where, f"'{name}' loads: only a store or a memory the loop does not " \
                             "read can be posted"
            elif unit["kind"] == "pmu":
                read = sorted(readers.get(name, set()) & set(phase["nests"]))
                if read:
                    yield where, f"'{name}' is read by nest '{read[0]}' of the loop: the next " \
                                 "step could read it before the write lands"
