"""The network model: sites, corner switches, edge address generators, link capacities."""

from __future__ import annotations

import json

import pytest
from rnnc.target.arch import (
    PRESET_DIR,
    ArchitectureError,
    architecture_from_dict,
    load_architecture,
)
from rnnc.target.network import topology


def _preset(name: str = "plasticine-rnn") -> dict:
    return json.loads((PRESET_DIR / f"{name}.json").read_text())


def test_sites_follow_the_tile_and_the_edges() -> None:
    arch = load_architecture("plasticine-rnn")
    chip = topology(arch)
    assert len(chip.sites["pcu"]) == arch.pcu.count == 192
    assert len(chip.sites["pmu"]) == arch.pmu.count == 384
    assert len(chip.sites["ag"]) == arch.dram.address_generators == 50
    assert chip.kind_at((0, 0)) == "pmu" and chip.kind_at((0, 1)) == "pcu"
    assert chip.switches == 25 * 25


def test_a_unit_is_wired_to_its_four_corners() -> None:
    chip = topology(load_architecture("plasticine-rnn"))
    corners = {chip.switch_site(s) for s in chip.attachments[(3, 7)]}
    assert corners == {(3, 7), (3, 8), (4, 7), (4, 8)}


def test_address_generators_per_edge_switch() -> None:
    """plasticine-rnn: one AG per edge switch (25 per edge), each on that switch alone."""
    chip = topology(load_architecture("plasticine-rnn"))
    assert [chip.switch_site(s) for s in chip.attachments[(24, -1)]] == [(24, 0)]
    assert [chip.switch_site(s) for s in chip.attachments[(0, 24)]] == [(0, 24)]
    assert chip.site_class((5, -1)) == "ag:left" and chip.site_class((5, 24)) == "ag:right"


def test_address_generators_per_unit_row() -> None:
    """The issue's model: an AG beside unit row r, on the two edge switches of that row."""
    data = _preset()
    data["network"]["address_generator_attachment"] = "unit-row"
    data["dram"]["address_generators_per_edge"] = 24
    chip = topology(architecture_from_dict(data))
    assert len(chip.sites["ag"]) == 48
    assert [chip.switch_site(s) for s in chip.attachments[(3, -1)]] == [(3, 0), (4, 0)]
    assert [chip.switch_site(s) for s in chip.attachments[(3, 24)]] == [(3, 24), (4, 24)]


def test_too_many_address_generators_for_the_edge() -> None:
    data = _preset()
    data["network"]["address_generator_attachment"] = "unit-row"
    with pytest.raises(ArchitectureError, match=r"expected at most 24 \(one per unit row of "
                       r"the left edge"):
        topology(architecture_from_dict(data))


def test_links_leaving_the_mesh_have_no_capacity() -> None:
    data = _preset()
    data["network"]["links_per_switch"] = {"scalar": 4, "vector": 2, "control": 1}
    chip = topology(architecture_from_dict(data))
    vector = chip.link_capacity("vector").reshape(25, 25, 4)
    assert vector[0, 3, 0] == 0 and vector[1, 3, 0] == 2  # north
    assert vector[3, 24, 1] == 0 and vector[3, 23, 1] == 2  # east
    # every switch pair is joined in both directions: 2 * 2 * 25 * 24 directed links
    assert int((vector > 0).sum()) == 2 * 2 * 25 * 24
    assert chip.link_capacity("control").max() == 1


def test_ports_per_kind_and_network() -> None:
    arch = load_architecture("plasticine-rnn")
    assert arch.ports("pcu", "scalar", "inputs") == 6
    assert arch.ports("pmu", "scalar", "outputs") == 0
    assert arch.ports("ag", "vector", "outputs") == 1
    data = _preset()
    del data["ag"]
    assert architecture_from_dict(data).ports("ag", "vector", "outputs") == 0
