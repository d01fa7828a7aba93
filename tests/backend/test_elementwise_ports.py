"""Element-wise units within a PCU's vector inputs, counted by the plan (issue 15).

An LSTM with peepholes, `input_forget` and `sequence_lens` has a three-level element-wise
chain whose last level takes values from both earlier levels, reads one PMU of its own and
(in `mixed`) a lookup table: four vector inputs where a PCU has three. The partition
refused it at every factor in `mixed` (`unit n0_ew2_0 needs 4 vector inputs, a PCU has
3`); now the layout has the middle level relay the first level's values
(`rnnc.analysis.layout._relay`), the plan counts the ports (`NestSpec.vector_inputs`), and
the design builds at those factors, its element-wise PCUs within the limit. The fp32
configuration, which relays too (the layout counts the table in every precision), agrees
with onnxruntime through `rnnc sim`.
"""

from __future__ import annotations

import contextlib
import io
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from onnx_cases import TOLERANCE, RnnCase, make_case, rel_err, run_onnxruntime
from rnnc.analysis.program import nest_plan_of
from rnnc.backend.emit import Prediction
from rnnc.dialects import loop
from rnnc.driver.backend_commands import write_config
from rnnc.driver.cli import main
from rnnc.driver.design_points import compile_at
from rnnc.driver.folded_weights import folded_arrays
from rnnc.driver.io import load_npz, save_npz
from rnnc.frontends.onnx_import import import_model
from rnnc.numerics.precision import FP32
from rnnc.target.arch import DEFAULT_ARCHITECTURE, load_architecture
from rnnc.target.cost import Factors
from rnnc.target.machine import Machine

ARCH = load_architecture(DEFAULT_ARCHITECTURE)
HIDDEN, INPUTS, STEPS, BATCH = 6, 4, 3, 2
#: Points the partition refused before, in `mixed` (all it tried: the refusal did not
#: depend on the factors).
REFUSED = [Factors(1, 1, 1), Factors(2, 2, 4), Factors(3, 1, 1), Factors(6, 2, 4)]


def _case() -> RnnCase:
    rng = np.random.default_rng(15)

    def uniform(*shape: int) -> np.ndarray:
        return rng.uniform(-1, 1, shape).astype(np.float32)

    h = HIDDEN
    values = {"X": uniform(STEPS, BATCH, INPUTS), "W": uniform(1, 4 * h, INPUTS),
              "R": uniform(1, 4 * h, h), "B": uniform(1, 8 * h),
              "sequence_lens": np.array([STEPS, STEPS - 1], dtype=np.int32),
              "P": uniform(1, 3 * h)}
    return make_case("LSTM", values, {"hidden_size": h, "input_forget": 1},
                     initializers=["W", "R", "B", "P"])


def _vector_inputs(machine: Machine) -> dict[str, int]:
    """Vector input ports each element-wise PCU of the machine is fed on."""
    ports: dict[str, set[str]] = defaultdict(set)
    for stream in machine.streams:
        for sink in stream.sinks:
            if stream.network == "vector" and "_ew" in sink.unit:
                ports[sink.unit].add(sink.port)
    return {unit: len(p) for unit, p in ports.items()}


@pytest.mark.parametrize("factors", REFUSED, ids=str)
def test_refused_points_build_within_the_ports_the_plan_counts(factors: Factors) -> None:
    text, _ = import_model(_case().model, "weights.npz")
    compiled = compile_at(text, ARCH, DEFAULT_ARCHITECTURE, [factors], precision="mixed")
    used = _vector_inputs(compiled.machine)
    assert max(used.values()) == ARCH.pcu.vector_inputs, used
    (nest,) = [n for n in compiled.module.walk() if isinstance(n, loop.ForeachOp)
               and isinstance(n.parent_op(), loop.SequentialOp)]  # fmt: skip
    plan = nest_plan_of(nest, ARCH, ARCH.precision("mixed"))
    assert plan.spec.vector_inputs == max(n for u, n in used.items() if u.startswith("n0_"))
    assert plan.ports_fit(ARCH)


@pytest.mark.parametrize("factors", REFUSED[::3], ids=str)
def test_fp32_values_match_onnxruntime(tmp_path: Path, factors: Factors) -> None:
    case = _case()
    expected = run_onnxruntime(case)
    text, weights = import_model(case.model, "weights.npz")
    compiled = compile_at(text, ARCH, DEFAULT_ARCHITECTURE, [factors], precision="fp32")
    # the last level's values from the first come through the middle one
    links = {(s.source.unit.split("_")[1], k.unit.split("_")[1])
             for s in compiled.machine.streams for k in s.sinks
             if "_ew" in s.source.unit and "_ew" in k.unit}
    assert ("ew1", "ew2") in links and ("ew0", "ew2") not in links, links
    config, feed, out = tmp_path / "c.json", tmp_path / "in.npz", tmp_path / "o.npz"
    write_config(str(config), compiled.machine, ARCH, precision=FP32,
                 prediction=Prediction(100, 100, 100, 1e-4, "compute units"),
                 weights={**weights, **folded_arrays(compiled.module, weights, FP32)})
    save_npz(feed, case.inputs)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["sim", str(config), "--inputs", str(feed), "-o", str(out)]) == 0
    got = load_npz(str(out))
    assert got.keys() == expected.keys()
    for name, value in expected.items():
        assert rel_err(got[name], value) <= TOLERANCE, name


def test_the_search_compiles_it_in_mixed(tmp_path: Path) -> None:
    """The default command (mixed precision, the search's point) writes a configuration."""
    text, weights = import_model(_case().model, "weights.npz")
    model = tmp_path / "m.mlir"
    model.write_text(text)
    save_npz(tmp_path / "weights.npz", weights)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main([str(model), "-o", str(tmp_path / "config.json")]) == 0
