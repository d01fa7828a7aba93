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
bound off the IR's `loop.cost` attributes.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rnnc.diagnostics import Diagnostic
from rnnc.driver.sweep.study import PIPELINES, Model, Point
from rnnc.target.arch import Architecture, ArchitectureError, architecture_from_dict
from xdsl.dialects.builtin import DictionaryAttr, FloatAttr, IntegerAttr, ModuleOp, StringAttr

OK = "ok"
INVALID_ARCH = "invalid-arch"
FAILED = "failed"
ERROR = "error"

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
    if point.arch.problem is not None:
        raise _Failed(INVALID_ARCH, point.arch.problem)
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


#: Each run level's function (see the module docstring).
LEVELS: dict[str, Callable[[Point, Architecture], dict[str, Any]]] = {"search": search_level}


def _compile(point: Point, arch: Architecture) -> ModuleOp:
    """The model through the point's pipeline; the architecture reaches the pass as a file
    (the pass option is a preset name or a path), written to a private folder."""
    from rnnc.driver import pipeline

    ctx = pipeline.make_context()
    with tempfile.TemporaryDirectory(prefix="rnnc-sweep-") as folder:
        arch_file = Path(folder) / "arch.json"
        arch_file.write_text(point.arch.data_json)
        options = {
            "arch": str(arch_file),
            "objective": point.objective,
            "precision": point.precision or "",
            "chips": point.chips,
        }
        try:
            module = _build(point.model, ctx)
            passes = pipeline.build_pipeline(PIPELINES[point.pipeline], pipeline.available_passes())
            configured = tuple(
                dataclasses.replace(each, **options) if each.name == "loop-assign-resources"
                else each
                for each in passes
            )
            pipeline.run_pipeline(ctx, module, configured, point.model.label)
        except Diagnostic as error:
            raise _Failed(FAILED, error.message.replace(str(arch_file), arch.name)) from None
    return module


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
           "run_point", "search_level"]
