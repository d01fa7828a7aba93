"""What a FIFO PMU of a streamed weight slice holds: the rows it keeps on chip beside its
stream buffer (`plan.weight_placement`), told apart from the rows the address generators
load into that buffer from DRAM every step by the boxes those AGs name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def loaded_boxes(units: Sequence[Any]) -> frozenset[Any]:
    """The boxes the load AGs among `units` name (the rows they move every step)."""
    return frozenset(box for unit in units if unit.kind == "ag" and unit.direction == "load"
                     for box in unit.boxes)


def kept_boxes(pmu: Any, loaded: frozenset[Any]) -> tuple[Any, ...]:
    """The boxes of a FIFO PMU that no AG loads: rows it holds for the whole run."""
    return tuple(box for box in pmu.boxes if box not in loaded)


__all__ = ["kept_boxes", "loaded_boxes"]
