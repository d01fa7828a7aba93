"""`rnnc sim`'s entry: a configuration of one chip or of several."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from rnnc.backend.load import LoadedConfig
from rnnc.simulator.multichip import simulate_chips
from rnnc.simulator.run import simulate_chip


def simulate_config(
    loaded: LoadedConfig, inputs: Mapping[str, np.ndarray], *, source: str = "inputs"
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The outputs (by name) and the timing report of a loaded configuration: every chip's
    values, and the time of the chips with their exchange (`simulate_chips`)."""
    if len(loaded.data["chips"]) > 1:
        return simulate_chips(loaded, inputs, source=source)
    return simulate_chip(loaded, inputs, source=source)
