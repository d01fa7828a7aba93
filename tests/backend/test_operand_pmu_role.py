"""A map-reduce unit's operand PMU that holds a reverse layer's sequence lengths beside x
alone is an operand PMU, not a weight slice.

A reverse layer addresses x by `len - 1 - t`, so its x operands come with the sequence
lengths (`sequence_lens`, a model input held in the PMU). A map-reduce unit that folds
x and no h (a part of the x reduction beyond the h reduction's parts, or in the
`joint-chunks` form a part of the sequence before h begins) has an operand PMU of those
two alone. The partition once called it `weights` (it holds a model input), so
spatial-verify took it for a weight slice and counted its bytes in padded weight rows:
`unit 'pmu27' field 'bytes': declares 48 bytes, its boxes take 56 bytes` (paper form),
`declares 48 bytes, its boxes take 300` (the joint form of
tests/backend/test_sim_values.py's reverse GRU at batch 3). Both forms compile here, the
PMU's role is `operand`, and the fp32 values agree with onnxruntime through `rnnc sim`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from backend.test_sim_time import ARCH
from compiled_sim import WEIGHTS, simulate_compiled
from onnx_cases import TOLERANCE, RnnCase, make_case, rel_err, run_onnxruntime
from rnnc.driver.design_points import Compiled, compile_at
from rnnc.frontends.onnx_import import import_model
from rnnc.target.arch import DEFAULT_ARCHITECTURE
from rnnc.target.cost import Factors

HIDDEN, INPUTS, STEPS = 6, 20, 3
#: ru 4, rv 2: x is 10 chunks (3 a part: 4 parts), h 3 (1 a part: 3 parts), so in the
#: paper's form part 3 folds x alone; jointly 13 chunks in parts of 4, parts 0 and 1 x alone
POINT = Factors(2, 4, 2)


def _case() -> RnnCase:
    rng = np.random.default_rng(27)

    def uniform(*shape: int) -> np.ndarray:
        return rng.uniform(-1, 1, shape).astype(np.float32)

    values = {"X": uniform(STEPS, 2, INPUTS), "W": uniform(1, 3 * HIDDEN, INPUTS),
              "R": uniform(1, 3 * HIDDEN, HIDDEN), "B": uniform(1, 6 * HIDDEN),
              "sequence_lens": np.array([STEPS, 1], dtype=np.int32)}
    return make_case("GRU", values, {"hidden_size": HIDDEN, "linear_before_reset": 1,
                                     "direction": "reverse"},
                     initializers=["W", "R", "B"])


def _x_alone_operand_roles(compiled: Compiled) -> list[str]:
    """The roles of the PMUs holding the sequence lengths and x alone that feed a
    map-reduce unit."""
    units = {u.id: u for u in compiled.machine.units}
    feeds_map_reduce = {s.source.unit for s in compiled.machine.streams
                        if any(units[k.unit].kind == "pcu" and units[k.unit].role == "map_reduce"
                               for k in s.sinks)}
    return [u.role for u in units.values() if u.kind == "pmu" and u.id in feeds_map_reduce
            and {b.memory for b in u.boxes} == {"lens", "x"}]


@pytest.mark.parametrize("schedules", ["none", "joint-chunks"])
def test_the_x_alone_operand_pmu_is_an_operand(tmp_path: Path, schedules: str) -> None:
    case = _case()
    text, weights = import_model(case.model, WEIGHTS)
    # compile_at runs spatial-verify: it raised on the bytes before the fix
    compiled = compile_at(text, ARCH, DEFAULT_ARCHITECTURE, [POINT], precision="fp32",
                          schedules=schedules)
    roles = _x_alone_operand_roles(compiled)
    assert roles and set(roles) == {"operand"}
    got = simulate_compiled(tmp_path / "c.json", compiled, weights, case.inputs,
                            precision="fp32", arch=ARCH)
    for name, value in run_onnxruntime(case).items():
        assert rel_err(got[name], value) <= TOLERANCE, name
