"""The spatial dialect's typed attributes: enums defined once, ports, the architecture."""

from __future__ import annotations

import pytest
from rnnc.dialects.spatial import (
    ArchAttr,
    Network,
    PortAttr,
    PortDirection,
    UnitKind,
    is_value,
)
from rnnc.driver.pipeline import make_context
from xdsl.parser import Parser


def _parse(text: str):
    return Parser(make_context(), text).parse_attribute()


def test_a_port_by_name_and_typed() -> None:
    port = PortAttr.from_name("co3")
    assert (port.network.data, port.direction.data, port.index.data) == (
        Network.CONTROL, PortDirection.OUT, 3)
    assert port.port_name == "co3"
    assert _parse("#spatial.port<control, out, 3>") == port
    assert str(port) == "#spatial.port<control, out, 3>"
    with pytest.raises(ValueError, match="bad port name 'xi0'"):
        PortAttr.from_name("xi0")


def test_the_architecture_attribute_with_and_without_digest() -> None:
    assert _parse('#spatial.arch<"strip">') == ArchAttr("strip")
    assert str(ArchAttr("strip")) == '#spatial.arch<"strip">'
    assert _parse('#spatial.arch<"strip", "ab12">') == ArchAttr("strip", "ab12")
    assert str(ArchAttr("strip", "ab12")) == '#spatial.arch<"strip", "ab12">'


def test_enum_values_are_plain_strings() -> None:
    assert list(Network) == ["scalar", "vector", "control"]
    assert is_value(UnitKind, "ag") and not is_value(UnitKind, "alu")
    assert not is_value(UnitKind, ["pcu"])  # not a string: not a value
