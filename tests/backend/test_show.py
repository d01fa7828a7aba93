"""`rnnc show`: units drawn by kind (shape), role (fill) and nest (outline), each unit an
SVG element with its id and a tooltip, the same config giving the same bytes, and misuse
one diagnostic with no picture."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from rnnc.backend.show import NEST_PALETTE, UNIT_ID_PREFIX, unit_tooltip
from rnnc.driver.cli import main

pytest.importorskip("matplotlib", reason="matplotlib is not installed (pip install matplotlib)")

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], bytes]:
    """A tiny LSTM's config.json, its data, and its picture as SVG."""
    folder = tmp_path_factory.mktemp("show")
    model, config, picture = folder / "m.mlir", folder / "config.json", folder / "place.svg"
    assert main(["gen", "lstm", "8", "3", "--input", "5", "-o", str(model)]) == 0
    assert main([str(model), "-o", str(config)]) == 0
    assert main(["show", str(config), "-o", str(picture)]) == 0
    return config, json.loads(config.read_text()), picture.read_bytes()


def _unit_groups(svg: bytes) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {g.attrib["id"].removeprefix(UNIT_ID_PREFIX): g for g in root.iter(f"{SVG}g")
            if g.attrib.get("id", "").startswith(UNIT_ID_PREFIX)}


def test_every_unit_is_an_element_with_its_id_and_tooltip(
    small: tuple[Path, dict[str, Any], bytes],
) -> None:
    _, config, svg = small
    units = {unit["id"]: unit for unit in config["chips"][0]["units"]}
    groups = _unit_groups(svg)
    assert sorted(groups) == sorted(units)
    for name, group in groups.items():
        title = group[0]
        assert title.tag == f"{SVG}title" and title.text == unit_tooltip(units[name])


def test_tooltips_give_role_nest_and_configuration(
    small: tuple[Path, dict[str, Any], bytes],
) -> None:
    _, config, _ = small
    units = {unit["id"]: unit for unit in config["chips"][0]["units"]}
    # the time loop's nest (the bias sum and the zero state run no nest of their own)
    (nest,) = next(p["nests"] for p in config["program"]["schedule"] if p["kind"] == "loop")
    pcu = units[f"{nest}_mr0_s0_p0"]
    tip = unit_tooltip(pcu).splitlines()
    assert tip[:2] == [f"{nest}_mr0_s0_p0: PCU at row {pcu['row']}, column {pcu['col']}",
                       f"role: map_reduce of nest {nest}"]
    assert tip[2] == f"mode map_reduce, {pcu['lanes']} lanes"
    assert tip[3].startswith("counters: d0 0:1:1, ")
    assert any(line.startswith("reduce: add over rv=13 into ") for line in tip)
    ag = next(unit for unit in units.values() if unit["role"] == "dram-load")
    assert unit_tooltip(ag) == (
        f"{ag['id']}: AG on the {ag['edge']} edge at row {ag['row']}\n"
        f"role: dram-load\nloads '{ag['memory']}' from/to DRAM"
    )
    lut = units[f"{nest}_ew0_0_lut"]
    assert unit_tooltip(lut).splitlines()[1:4] == [
        "role: lookup-table", f"{lut['bytes']} bytes, 1 buffer, {lut['banking']} banking",
        f"lookup tables: {lut['lut']}",
    ]


def _path(group: ET.Element) -> ET.Element:
    return next(group.iter(f"{SVG}path"))


def test_kinds_by_shape_nests_by_outline(small: tuple[Path, dict[str, Any], bytes]) -> None:
    """A PCU is a square (four straight sides), a PMU a circle (curves), an AG a triangle;
    a unit of nest k is outlined in the k-th nest colour, a shared unit in black."""
    _, config, svg = small
    nests = [entry["nest"] for entry in config["design"]["nests"]]
    groups = _unit_groups(svg)
    for unit in config["chips"][0]["units"]:
        path = _path(groups[unit["id"]])
        commands = "".join(re.findall(r"[MLCz]", path.attrib["d"]))
        if unit["kind"] == "pmu":
            assert set(commands) == {"M", "C", "z"}, unit["id"]
        else:
            assert commands == {"pcu": "MLLLz", "ag": "MLLz"}[unit["kind"]], unit["id"]
        stroke = re.search(r"stroke: (#[0-9a-f]{6})", path.attrib["style"])
        assert stroke is not None
        nest = unit.get("nest")
        assert stroke.group(1) == (NEST_PALETTE[nests.index(nest)] if nest else "#000000")


def test_the_legend_names_shapes_nests_and_empty_networks(
    small: tuple[Path, dict[str, Any], bytes],
) -> None:
    _, _, svg = small
    # (the model's one nest is its time loop: its own stores write Y_h, no nest runs once)
    for text in ("PCU (square)", "PMU (circle)", "AG (triangle)", "nest n0 (loop, 3 steps)",
                 "no nest (shared)"):
        assert f"<!-- {text} -->".encode() in svg, text
    # the control network's panel: the done routes converge on the controller's switch
    assert re.search(rb"<!-- control links: busiest carries \d+ routes, shared in time by 8 ",
                     svg)


def test_the_same_config_gives_the_same_pictures(
    small: tuple[Path, dict[str, Any], bytes], tmp_path: Path,
) -> None:
    config, _, svg = small
    again, png, png_again = tmp_path / "a.svg", tmp_path / "a.png", tmp_path / "b.png"
    for picture in (again, png, png_again):
        assert main(["show", str(config), "-o", str(picture)]) == 0
    assert again.read_bytes() == svg
    assert png.read_bytes() == png_again.read_bytes()
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(("argv", "expected"), [
    (["--chip", "1", "-o", "p.svg"], "--chip: error: the configuration has 1 chip(s), got 1"),
    (["-o", "p.pdf"], "p.pdf: error: unknown picture format '.pdf' (expected .svg or .png)"),
    (["-o", "nowhere/p.png"],
     "nowhere/p.png: error: cannot write the output: the folder nowhere does not exist"),
])
def test_misuse_is_one_diagnostic_and_no_picture(
    *, argv: list[str], expected: str, small: tuple[Path, dict[str, Any], bytes],
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    config, _, _ = small
    monkeypatch.chdir(tmp_path)
    assert main(["show", str(config), *argv]) == 1
    assert capsys.readouterr().err == expected + "\n"
    assert list(tmp_path.iterdir()) == []
