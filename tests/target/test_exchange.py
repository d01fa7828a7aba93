"""The split of the hidden units over chips and the exchange over the links
(`rnnc.target.multichip`): the closed form the cost model uses against the transfer by
transfer timing `rnnc sim` uses, on both topologies."""

from __future__ import annotations

import dataclasses

import pytest
from rnnc.target.arch import Interchip, load_architecture
from rnnc.target.multichip import (
    LegHops,
    MultichipError,
    all_gather,
    chip_rows,
    exchange_cycles,
    link_path,
    link_ports,
    port_towards,
    simulate_exchange,
)

ARCH = load_architecture()


def _arch(topology: str, links: int):
    interchip = Interchip(link_bandwidth_gbs=12.5, link_latency_cycles=500,
                          links_per_chip=links, topology=topology)
    return dataclasses.replace(ARCH, interchip=interchip)


def test_rows_are_even_and_in_order() -> None:
    assert chip_rows(7, 2) == ((0, 4), (4, 7))
    assert chip_rows(4, 3) == ((0, 2), (2, 3), (3, 4))
    assert chip_rows(2048, 2) == ((0, 1024), (1024, 2048))
    with pytest.raises(MultichipError, match="7 hidden units cannot be split over 8 chips"):
        chip_rows(7, 8)


def test_paths_follow_the_topology() -> None:
    assert link_path(2, 1, 4, "ring") == (2, 3, 0, 1)
    assert link_path(0, 1, 4, "ring") == (0, 1)
    assert link_path(2, 1, 4, "all-to-all") == (2, 1)


@pytest.mark.parametrize("chips", [2, 3, 4, 5])
@pytest.mark.parametrize(("topology", "links"), [("ring", 2), ("ring", 4), ("all-to-all", 1),
                                                 ("all-to-all", 2), ("all-to-all", 8)])
def test_the_timed_exchange_is_the_closed_form(chips: int, topology: str, links: int) -> None:
    arch = _arch(topology, links)
    hidden = 1024 * chips  # equal slices: the closed form is exact
    transfers = all_gather(chip_rows(hidden, chips), 4, topology)
    assert len(transfers) == chips * (chips - 1)
    assert simulate_exchange(transfers, arch) == exchange_cycles(4096, chips, arch)


def test_the_exchange_by_hand() -> None:
    # 4096 bytes at 12.5 bytes per cycle: 328 cycles on the link, then 500 cycles' latency
    assert exchange_cycles(4096, 2, _arch("ring", 2)) == 828
    assert exchange_cycles(4096, 3, _arch("ring", 2)) == 2 * 828  # store and forward
    assert exchange_cycles(4096, 3, _arch("ring", 4)) == 2 * (164 + 500)  # two links a side
    assert exchange_cycles(4096, 4, _arch("all-to-all", 2)) == 2 * 328 + 500  # two rounds
    assert exchange_cycles(4096, 1, _arch("ring", 2)) == 0


@pytest.mark.parametrize("chips", [2, 3, 4])
@pytest.mark.parametrize(("topology", "links"), [("ring", 2), ("all-to-all", 2)])
def test_the_timed_exchange_over_the_legs_is_the_closed_form(chips: int, topology: str,
                                                             links: int) -> None:
    """Legs of equal length on every chip: the closed form adds the send leg once, the
    forward leg at each chip a ring slice passes and the receive leg once."""
    arch = _arch(topology, links)
    every = range(chips)
    legs = LegHops(send=dict.fromkeys(every, 11), forward=dict.fromkeys(every, 23),
                   receive=dict.fromkeys(every, 7))
    transfers = all_gather(chip_rows(1024 * chips, chips), 4, topology)
    bare = exchange_cycles(4096, chips, arch)
    assert simulate_exchange(transfers, arch, legs) == exchange_cycles(4096, chips, arch, legs)
    passed = chips - 2 if topology == "ring" else 0
    assert exchange_cycles(4096, chips, arch, legs) == bare + 11 + passed * 23 + 7


def test_the_longest_legs_time_the_exchange() -> None:
    # chip 0's slice: 12 hops to its port, 828 cycles over the link, 9 hops on chip 1;
    # chip 1's: 10 + 828 + 7
    legs = LegHops(send={0: 12, 1: 10}, receive={0: 7, 1: 9})
    transfers = all_gather(((0, 1024), (1024, 2048)), 4, "ring")
    assert simulate_exchange(transfers, _arch("ring", 2), legs) == 12 + 828 + 9


def test_link_ports_sit_on_the_edge() -> None:
    # by default the link to the next chip leaves by the right edge's middle switch, the
    # one from the previous chip arrives by the left edge's
    assert link_ports(ARCH) == ((12, 24), (12, 0))
    assert [port_towards(0, 1, 3, ARCH), port_towards(1, 0, 3, ARCH, arriving=True)] == [0, 1]
    wide = _arch("all-to-all", 2)
    assert [port_towards(1, k, 4, wide) for k in (0, 2, 3)] == [0, 1, 0]
    given = dataclasses.replace(ARCH, interchip=dataclasses.replace(
        ARCH.interchip, ports=((0, 3), (24, 3))))
    assert link_ports(given) == ((0, 3), (24, 3))


@pytest.mark.parametrize(("ports", "message"), [
    ([[12, 24]], "field 'interchip.ports': expected one switch per link (2), got 1"),
    ([[12, 24], [12, 12]],
     "field 'interchip.ports.1': switch [12, 12] is not on the edge of the 25 x 25 switch mesh"),
    ([[12, 24], [12, 24]],
     "field 'interchip.ports.1': switch [12, 24] is already the port of link 0"),
])
def test_link_ports_off_the_edge_are_refused(tmp_path, ports: list, message: str) -> None:
    import json

    from rnnc.target.arch import PRESET_DIR, ArchitectureError

    data = json.loads((PRESET_DIR / "plasticine-rnn.json").read_text())
    data["interchip"]["ports"] = ports
    path = tmp_path / "arch.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ArchitectureError) as refused:
        load_architecture(str(path))
    assert message in str(refused.value)


def test_given_ports_round_trip(tmp_path) -> None:
    import json

    data = ARCH.to_dict()
    assert "ports" not in data["interchip"]
    data["interchip"]["ports"] = [[0, 5], [24, 5]]
    path = tmp_path / "arch.json"
    path.write_text(json.dumps(data))
    loaded = load_architecture(str(path))
    assert loaded.interchip.ports == ((0, 5), (24, 5))
    assert loaded.to_dict()["interchip"]["ports"] == [[0, 5], [24, 5]]


@pytest.mark.parametrize("chips", [2, 3, 4])
@pytest.mark.parametrize(("topology", "links"), [("ring", 2), ("all-to-all", 1),
                                                 ("all-to-all", 4)])
def test_a_slow_receive_port_paces_the_slices_alike(chips: int, topology: str,
                                                   links: int) -> None:
    """A receive leg on the scalar network (4 bytes a cycle, below the link's 12.5): the
    slices queue at the port, in the transfer by transfer timing as in the closed form."""
    arch = _arch(topology, links)
    every = range(chips)
    legs = LegHops(send=dict.fromkeys(every, 5), forward=dict.fromkeys(every, 9),
                   receive=dict.fromkeys(every, 3), receive_rate=dict.fromkeys(every, 4.0))
    transfers = all_gather(chip_rows(1024 * chips, chips), 4, topology)
    timed = simulate_exchange(transfers, arch, legs)
    assert timed == exchange_cycles(4096, chips, arch, legs)
    assert timed > exchange_cycles(4096, chips, arch, dataclasses.replace(legs, receive_rate={}))


def test_a_scalar_receive_port_by_hand() -> None:
    # 4096 bytes at 4 a cycle: 1024 cycles through the port, from the slice's first byte
    # (5 + 500 cycles after the step) on: 5 + 500 + 1024 + 3
    legs = LegHops(send={0: 5, 1: 5}, receive={0: 3, 1: 3}, receive_rate={0: 4.0, 1: 4.0})
    assert exchange_cycles(4096, 2, _arch("ring", 2), legs) == 5 + 500 + 1024 + 3
