"""How many chips to split a layer over when the user leaves it to the compiler.

`--chips auto` alone takes the fewest chips over which some design keeps every weight on
chip (`rnnc.target.dse.fewest_chips`): the least hardware that avoids streaming weights
from DRAM every step. `--chips auto --max-chips N` takes, among the chip counts from that
fewest up to N, the one whose searched design the cost model predicts fastest for the
whole inference (ties: fewer chips). More chips shorten each chip's share of the step and
lengthen the exchange (the slices of h over the links, `rnnc.target.multichip`), so the
fastest count need not be the largest. A model that no count up to N keeps on chip is
refused, as a weight that does not fit the chips given is.
"""

from __future__ import annotations

from collections.abc import Callable

from rnnc.target.arch import Architecture
from rnnc.target.cost import ProgramSpec
from rnnc.target.dse import SearchResult, fewest_chips


def fastest_chips(program: ProgramSpec, arch: Architecture, most: int,
                  search_at: Callable[[int], SearchResult], *,
                  precision: str | None = None) -> SearchResult:
    """The searched design (`search_at(chips)`) of the chip count, between the fewest that
    hold the weights and `most`, that the cost model predicts fastest; every weight stays
    on chip. Raises `CostError` when no count up to `most` holds them."""
    fewest = fewest_chips(program, arch, precision, limit=most)
    largest = min(most, *(nest.extent for nest in program.nests))
    results = [search_at(chips) for chips in range(fewest, largest + 1)]
    resident = [r for r in results if r.cost.streamed_bytes_per_step == 0]
    return min(resident, key=lambda r: (r.cost.total_cycles, r.cost.chips))
