"""The split of the hidden units over chips and the exchange over the links
(`rnnc.target.multichip`): the closed form the cost model uses against the transfer by
transfer timing `rnnc sim` uses, on both topologies."""

from __future__ import annotations

import dataclasses

import pytest
from rnnc.target.arch import Interchip, load_architecture
from rnnc.target.multichip import (
    MultichipError,
    all_gather,
    chip_rows,
    exchange_cycles,
    link_path,
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
