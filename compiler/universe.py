"""rnnc's entry in xDSL's `xdsl.universe` plug-in group.

With rnnc installed, plain `xdsl-opt` parses and prints rnnc's dialects and runs its
passes. This module is imported by every xDSL tool at start-up, so it imports nothing
heavy: each factory imports its dialect or pass only when asked.
"""

from __future__ import annotations

from xdsl.ir import Dialect
from xdsl.universe import Universe


def _rnn_dialect() -> Dialect:
    from dialects.rnn import RNN

    return RNN


RNNC_UNIVERSE = Universe(
    all_dialects={"rnn": _rnn_dialect},
    all_passes={},
)
