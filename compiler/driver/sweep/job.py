"""One point of a study, compiled in a worker (a pool process or a Ray task).

`run_point` takes a `Point` and returns its result fields (a dict of plain values, the
same whatever the engine). It never raises for a problem of the point itself: an
architecture that a grid value made invalid is status `invalid-arch`, a model the
pipeline or the search cannot handle is `failed`, each with the reason; an unexpected
exception (a compiler bug) is `error`, which the sweep reports but does not cache.

How far a point goes is its `run` level, one function per level, each building on the one
before: `search` compiles the model to resource-assigned loops (decompose, fuse unless the
pipeline is `decomposed`, then loop-assign-resources with the point's architecture,
precision, objective and chips) and reads the chosen design, units, predicted latency and
bound off the IR's `loop.cost` attributes. `config` runs the whole default pipeline of
`rnnc model.mlir -o config.json` (the point's loop pipeline, then partition, place, route,
verify, the search run again while its point does not fit) and reads the design, the units
placed and the prediction off the written config.json. `sim` runs that config in the config
simulator on random inputs and adds the simulated cycles and latency. The weights (config,
sim) and inputs (sim) are random with a fixed seed: the rows are reproducible, and a file
model's weight file need not travel to the worker.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rnnc.diagnostics import Diagnostic
from rnnc.driver.sweep.study import PIPELINES, Model, Point
from rnnc.target.arch import Architecture, ArchitectureError, architecture_from_dict
from xdsl.dialects.builtin import DictionaryAttr, FloatAttr, IntegerAttr, ModuleOp, StringAttr

OK = "ok"
INVALID_ARCH = "invalid-arch"
FAILED = "failed"
ERROR = "error"

#: The seed of the random weights and inputs of the `config` and `sim` levels.
SEED = 0

#: Statuses that are a property of the point (cached); `error` is a compiler bug.
CACHEABLE = (OK, INVALID_ARCH, FAILED)

#: The result fields of a point, in table order, with their types.
RESULT_FIELDS: dict[str, type] = {
    "arch_sha256": str,
    "arch_pcus": int,
    "arch_pmus": int,
    "die_area_mm2": float,
    "precision": str,
    "status": str,
    "reason": str,
    "design": str,
    "pcus": int,
    "pmus": int,
    "chips_used": int,
    "cycles_per_step": int,
    "total_cycles": int,
    "predicted_latency_ms": float,
    "simulated_cycles": int,
    "simulated_latency_ms": float,
    "error": float,
    "bound": str,
    "compile_seconds": float,
}


class _Failed(Exception):
    """A point that cannot be compiled, with the status and reason of its row."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def run_point(point: Point) -> dict[str, Any]:
    """Compile one point as far as its run level; the row's result fields."""
    start = time.perf_counter()
    result: dict[str, Any] = dict.fromkeys(RESULT_FIELDS)
    try:
        arch = _architecture(point)
        result.update(_arch_facts(arch))
        result["precision"] = _precision(arch, point.precision)
        result.update(LEVELS[point.run](point, arch))
        result["status"] = OK
    except _Failed as failure:
        result.update(status=failure.status, reason=failure.reason)
    except Exception as error:  # a compiler bug: the sweep goes on, the row says so
        result.update(status=ERROR, reason=f"internal error: {type(error).__name__}: {error}")
    result["compile_seconds"] = time.perf_counter() - start
    return result


def _architecture(point: Point) -> Architecture:
    try:
        return architecture_from_dict(point.arch.data(), point.arch.base)
    except ArchitectureError as error:
        raise _Failed(INVALID_ARCH, error.message) from None


def _arch_facts(arch: Architecture) -> dict[str, Any]:
    return {
        "arch_sha256": arch.digest(),
        "arch_pcus": arch.pcu.count,
        "arch_pmus": arch.pmu.count,
        "die_area_mm2": arch.die_area_mm2(),
    }


def _precision(arch: Architecture, name: str | None) -> str:
    try:
        return arch.precision(name).name
    except ValueError as error:
        raise _Failed(FAILED, str(error)) from None


# ---- levels -------------------------------------------------------------------------------


def search_level(point: Point, arch: Architecture) -> dict[str, Any]:
    """Compile to resource-assigned loops; the design and its modelled cost."""
    from rnnc.analysis.access import time_loops

    module = _compile(point, arch)
    steps = time_loops(module)
    costs = [_attribute_values(step.attributes["loop.cost"]) for step in steps]
    return {
        "design": " | ".join(_design(step) for step in steps),
        # Several time loops (stacked layers) are resident at once, each on its share of
        # the chip; they run one after the other, so their units add up and so does time.
        "pcus": sum(cost["pcus"] for cost in costs),
        "pmus": sum(cost["pmus"] for cost in costs),
        "chips_used": max(cost["chips"] for cost in costs),
        "cycles_per_step": sum(cost["cycles_per_step"] for cost in costs),
        "total_cycles": sum(cost["total_cycles"] for cost in costs),
        "predicted_latency_ms": math.fsum(cost["latency_ms"] for cost in costs),
        "bound": " | ".join(dict.fromkeys(cost["bound"] for cost in costs)),
    }


def config_level(point: Point, arch: Architecture) -> dict[str, Any]:
    """Compile to a routed, verified config.json; its design, units and prediction."""
    from rnnc.backend.load import load_config

    with tempfile.TemporaryDirectory(prefix="rnnc-sweep-") as folder:
        return _config_facts(load_config(_write_config(point, arch, Path(folder))).data)


def sim_level(point: Point, arch: Architecture) -> dict[str, Any]:
    """`config_level`, and the config simulator's cycles and latency for its config, and
    its error: the largest |error| of an output against the same machine in fp32 on the
    model's given weights (`rnnc sim --compare fp32`), on the random inputs."""
    from rnnc.backend.load import load_config
    from rnnc.simulator.compare import reference_error
    from rnnc.simulator.simulate import simulate_config

    with tempfile.TemporaryDirectory(prefix="rnnc-sweep-") as folder:
        loaded = load_config(_write_config(point, arch, Path(folder)))
        inputs = _random_inputs(loaded.data["inputs"])
        outputs, report = simulate_config(loaded, inputs)
        errors = reference_error(loaded, inputs, outputs, "the random inputs")
    return {
        **_config_facts(loaded.data),
        "simulated_cycles": report["total_cycles"],
        "simulated_latency_ms": report["latency_ms"],
        "error": max((e["max_abs"] for e in errors.values()), default=0.0),
    }


#: Each run level's function (see the module docstring).
LEVELS: dict[str, Callable[[Point, Architecture], dict[str, Any]]] = {
    "search": search_level,
    "config": config_level,
    "sim": sim_level,
}


def _compile(point: Point, arch: Architecture) -> ModuleOp:
    """The model through the point's pipeline; the architecture reaches the pass as a file
    (the pass option is a preset name or a path), written to a private folder."""
    from rnnc.driver import pipeline

    ctx = pipeline.make_context()
    with tempfile.TemporaryDirectory(prefix="rnnc-sweep-") as folder:
        arch_file = _arch_file(point, Path(folder))
        try:
            module = _build(point.model, ctx)
            passes = _configured(PIPELINES[point.pipeline], _options(point, arch_file))
            pipeline.run_pipeline(ctx, module, passes, point.model.label)
        except Diagnostic as error:
            raise _Failed(FAILED, error.message.replace(str(arch_file), arch.name)) from None
    return module


def _write_config(point: Point, arch: Architecture, folder: Path) -> Path:
    """Write the point's config.json (and its weights) into `folder` the way `rnnc
    model.mlir -o config.json` does, from the model with random weights; its path."""
    from rnnc.driver import backend_commands, pipeline
    from rnnc.driver.io import save_npz

    module = _build(point.model, pipeline.make_context())
    module.attributes["rnn.weights"] = StringAttr("weights.npz")
    save_npz(folder / "weights.npz", _random_weights(module))
    model_file = folder / "model.mlir"
    model_file.write_text(pipeline.print_ir(module))
    arch_file = _arch_file(point, folder)
    args = argparse.Namespace(
        model=str(model_file), output=str(folder / "config.json"), arch=str(arch_file),
        precision=point.precision, chips=point.chips, passes=None,
    )
    try:
        backend_commands.compile_to_config(
            args, _transform(point, _options(point, arch_file)), frozenset())
    except Diagnostic as error:
        message = error.message.replace(str(arch_file), arch.name)
        raise _Failed(FAILED, message.replace(str(folder) + "/", "")) from None
    return Path(args.output)


def _transform(point: Point, options: dict[str, Any]) -> Callable[..., ModuleOp]:
    """The `transform` `compile_to_config` runs its pipeline with: the point's design
    options on every pass that takes them, and the point's loop pipeline (fused or not) in
    place of the command line's."""
    from rnnc.driver import pipeline, pipelines

    spec = f"{PIPELINES[point.pipeline]},{pipelines.SPATIAL_PIPELINE}"

    def transform(text: str, args: argparse.Namespace, given: str, _: frozenset[str]) -> ModuleOp:
        ctx = pipeline.make_context()
        module, source_map = pipeline.parse_module(ctx, text, args.model)
        # a chip of a multi-chip configuration: its share after the search, as given
        split = re.search(r"loop-split-chips\{chip=\d+\}", given)
        own = spec if split is None else spec.replace(
            "loop-assign-resources", f"loop-assign-resources,{split[0]}")
        pipeline.run_pipeline(ctx, module, _configured(own, options), source_map)
        return module

    return transform


def _arch_file(point: Point, folder: Path) -> Path:
    arch_file = folder / "arch.json"
    arch_file.write_text(point.arch.data_json)
    return arch_file


def _options(point: Point, arch_file: Path) -> dict[str, Any]:
    return {
        "arch": str(arch_file),
        "objective": point.objective,
        "precision": point.precision or "",
        "chips": point.chips,
    }


def _configured(spec: str, options: dict[str, Any]) -> tuple[Any, ...]:
    """The passes of `spec`, each with the options it has a field for."""
    from rnnc.driver import pipeline

    return tuple(
        dataclasses.replace(each, **{
            name: value for name, value in options.items()
            if name in {f.name for f in dataclasses.fields(each)}
        })
        for each in pipeline.build_pipeline(spec, pipeline.available_passes())
    )


def _random_weights(module: ModuleOp) -> dict[str, np.ndarray]:
    """Values for every `rnn.weight` the module reads (uniform in +-0.1: the design and the
    cycles do not depend on them)."""
    from rnnc.dialects.rnn import WeightOp
    from rnnc.driver.io import expected_of

    rng = np.random.default_rng([SEED, 0])
    weights = {}
    for op in module.walk():
        if isinstance(op, WeightOp) and op.key.data not in weights:
            expected = expected_of(op.result.type)
            if expected.element != "float":
                raise _Failed(FAILED, f"the sweep draws random float weights; '{op.key.data}' "
                              "is an integer weight")
            weights[op.key.data] = rng.uniform(-0.1, 0.1, expected.shape).astype(np.float32)
    return weights


def _random_inputs(declared: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Uniform values in [-1, 1) for the config's inputs (integer inputs, such as sequence
    lengths, have no random value that is valid, and are refused)."""
    from rnnc.simulator.run import numpy_dtype

    rng = np.random.default_rng([SEED, 1])
    inputs = {}
    for entry in declared:
        dtype = numpy_dtype(entry["dtype"])
        if dtype.kind != "f":
            raise _Failed(FAILED, f"the sweep simulates random float inputs; input "
                          f"'{entry['name']}' is {entry['dtype']}")
        inputs[entry["name"]] = rng.uniform(-1.0, 1.0, entry["shape"]).astype(dtype)
    return inputs


def _config_facts(config: Any) -> dict[str, Any]:
    """The row's design and unit columns from a config (the units actually placed), and
    the cost model's prediction it records."""
    from rnnc.backend.multichip import chip_view, is_multichip

    chips, predicted = config["design"]["chips"], config["predicted"]
    if is_multichip(config):  # the first chip's design and units
        config = chip_view(config, 0)
    looped = {nest for phase in config["program"]["schedule"] if phase["kind"] == "loop"
              for nest in phase["nests"]}
    units = config["chips"][0]["units"]
    return {
        "design": " ".join(f"{nest['hu']}/{nest['ru']}/{nest['rv']}"
                           for nest in config["design"]["nests"] if nest["nest"] in looped),
        "pcus": sum(1 for unit in units if unit["kind"] == "pcu"),
        "pmus": sum(1 for unit in units if unit["kind"] == "pmu"),
        "chips_used": chips,
        "cycles_per_step": predicted["cycles_per_step"],
        "total_cycles": predicted["total_cycles"],
        "predicted_latency_ms": predicted["latency_ms"],
        "bound": predicted["bound"],
    }


def _build(model: Model, ctx: Any) -> ModuleOp:
    from rnnc.driver import pipeline
    from rnnc.frontends import deepbench

    if model.text is not None:
        module, _ = pipeline.parse_module(ctx, model.text, model.label)
        return module
    assert model.cell and model.hidden and model.steps and model.batch
    task = deepbench.Task(model.cell, model.hidden, model.steps, model.batch, model.input)
    return deepbench.build_module(task, f"{model.label}.npz")


def _attribute_values(attr: Any) -> dict[str, Any]:
    assert isinstance(attr, DictionaryAttr)
    values: dict[str, Any] = {}
    for name, value in attr.data.items():
        if isinstance(value, IntegerAttr | FloatAttr):
            values[name] = value.value.data
        elif isinstance(value, StringAttr):
            values[name] = value.data
    return values


def _design(step: Any) -> str:
    """`hu/ru/rv` of each nest of a time loop (hu: copies of the foreach; ru, rv: par and vec
    of its reduction, 1/1 for an element-wise nest)."""
    from rnnc.dialects import loop

    factors = []
    for nest in step.body.block.ops:
        if not isinstance(nest, loop.ForeachOp):
            continue
        hu = math.prod(nest.par.get_values())
        reduce = next((op for op in nest.walk() if isinstance(op, loop.ReduceOp)), None)
        ru, rv = (reduce.par.value.data, reduce.vec.value.data) if reduce else (1, 1)
        factors.append(f"{hu}/{ru}/{rv}")
    return " ".join(factors)


__all__ = ["CACHEABLE", "ERROR", "FAILED", "INVALID_ARCH", "LEVELS", "OK", "RESULT_FIELDS",
           "SEED", "config_level", "run_point", "search_level", "sim_level"]
