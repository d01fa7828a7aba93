"""A compiled design point through config.json and `rnnc sim`, as the tests of one
schedule run it (the point's prediction and folded weights written beside the machine),
and the loop level's outputs of the same model that its mixed-precision values must equal."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
from onnx_cases import RnnCase
from rnnc.backend.emit import Prediction
from rnnc.driver.backend_commands import write_config
from rnnc.driver.cli import main
from rnnc.driver.design_points import Compiled
from rnnc.driver.folded_weights import folded_arrays
from rnnc.driver.io import load_npz, save_npz
from rnnc.frontends.onnx_import import import_model
from rnnc.numerics.precision import parse_precision
from rnnc.target.arch import Architecture

WEIGHTS = "weights.npz"
"""The weight file a test's imported model names."""


def simulate_compiled(config: Path, compiled: Compiled, weights: dict[str, np.ndarray],
                      inputs: dict[str, np.ndarray], *, precision: str,
                      arch: Architecture) -> dict[str, np.ndarray]:
    """`compiled` written to `config` (its inputs and outputs beside it) and run by
    `rnnc sim`; the outputs by name."""
    feed, out = config.with_suffix(".in.npz"), config.with_suffix(".out.npz")
    cost = compiled.cost
    prediction = Prediction(cost.cycles_per_step, cost.total_cycles, cost.total_cycles,
                            cost.latency_ms, cost.bound)
    mode = parse_precision(precision)
    weights = {**weights, **folded_arrays(compiled.module, weights, mode)}
    write_config(str(config), compiled.machine, arch, precision=mode, prediction=prediction,
                 weights=weights)
    save_npz(feed, inputs)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["sim", str(config), "--inputs", str(feed), "-o", str(out)]) == 0
    return load_npz(str(out))


def loop_level_outputs(tmp_path: Path, case: RnnCase, weights: dict[str, np.ndarray],
                       precision: str) -> dict[str, np.ndarray]:
    """`case`'s model run by `rnnc run` at the loop level (decomposed, fused, factors
    assigned) at `precision`: the reference of a config's mixed-precision values."""
    text, _ = import_model(case.model, WEIGHTS)
    model, feed, out = (tmp_path / n for n in ("m.mlir", "loop.in.npz", "loop.npz"))
    model.write_text(text)
    save_npz(tmp_path / WEIGHTS, weights)
    save_npz(feed, case.inputs)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["run", str(model), "--inputs", str(feed), "-p",
                     "rnn-decompose,loop-fuse,loop-assign-resources", "--precision",
                     precision, "-o", str(out)]) == 0
    return load_npz(str(out))
