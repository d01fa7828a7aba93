"""docs/config-format.md names every field of the configuration schema and every word of
the enumerations a configuration holds, so that a field added to the format cannot ship
undocumented."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path

import pytest
from rnnc.backend.load import FORMAT_VERSION, SCHEMA_PATH
from rnnc.dialects import spatial

DOC = Path(__file__).resolve().parents[2] / "docs" / "config-format.md"

#: The enumerations whose values a configuration spells out.
ENUMS = (spatial.Network, spatial.UnitKind, spatial.PCURole, spatial.PCUMode, spatial.PMUKind,
         spatial.Banking, spatial.Interpolation, spatial.AGEdge, spatial.AGDirection,
         spatial.MemorySpace, spatial.MemoryInit, spatial.PhaseKind)


def schema_properties(node: object) -> set[str]:
    """Every property name anywhere in a JSON Schema (nested and under `$defs`)."""
    found: set[str] = set()
    if isinstance(node, dict):
        found |= set(node.get("properties", {}))
        for value in node.values():
            found |= schema_properties(value)
    elif isinstance(node, list):
        for value in node:
            found |= schema_properties(value)
    return found


def code_spans(text: str) -> list[str]:
    """The text of every `code` span of a Markdown document (one may break across lines)."""
    return [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", text)]


def documented_names(text: str) -> set[str]:
    """The identifiers that appear inside code spans (`a.b`, `{unit, port}`: a, b, unit,
    port)."""
    return {word for span in code_spans(text)
            for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", span)}


def test_the_doc_names_every_field_of_the_schema() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    missing = sorted(schema_properties(schema) - documented_names(DOC.read_text()))
    assert missing == []


@pytest.mark.parametrize("enum", ENUMS, ids=lambda enum: enum.__name__)
def test_the_doc_names_every_value_of_an_enumeration(enum: type[StrEnum]) -> None:
    spans = code_spans(DOC.read_text())
    missing = [value.value for value in enum
               if not any(span == value or span.startswith(f"{value}:") for span in spans)]
    assert missing == []


def test_the_doc_is_of_the_format_shipped() -> None:
    major, minor = FORMAT_VERSION
    title = DOC.read_text().splitlines()[0]
    assert title.endswith(f"(format_version {major}.{minor})")


def test_a_field_missing_from_the_doc_is_found() -> None:
    text = "| `boxes` | `memory`, `slices` |"
    assert schema_properties({"properties": {"boxes": {}, "per_step": {}}}) \
        - documented_names(text) == {"per_step"}
