"""The configuration emitter: a placed and routed `Machine` as `config.json` + weights.

The configuration is the serialization of the machine description
(`rnnc.target.machine`), wrapped in what an independent tool needs to check and run it
without the compiler's IR: the architecture (whole, with its hash), the precision mode,
the design point and the cost model's prediction, the weight file (by path and hash) and
the model's inputs and outputs. `docs/config-format.md` documents every field;
`config.schema.json` is its JSON Schema.

Determinism: keys are sorted, floats are written by `repr` (shortest round-trip form),
arrays in a fixed order, and the `.npz` with fixed timestamps, so the same machine gives
the same bytes.

The weights go to `<config stem>.weights.npz` beside the config: exactly the arrays the
PMUs and address generators reference, as float32 (the model's values, unquantized: each
PMU's `holds.quantization` says how the chip stores them). The two files are written
all-or-nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from rnnc.backend.load import FORMAT, FORMAT_VERSION
from rnnc.backend.schema import PLACED_FIELDS
from rnnc.diagnostics import Diagnostic
from rnnc.dialects.spatial import design_of
from rnnc.numerics.precision import NumericMode
from rnnc.target.arch import Architecture
from rnnc.target.machine import AG, PMU, Machine, Stream, Unit, to_data
from xdsl.dialects.builtin import DictionaryAttr, FloatAttr, IntegerAttr, ModuleOp, StringAttr


@dataclass(frozen=True)
class Prediction:
    """The cost model's figures for the design: the whole inference (`total_cycles`,
    `latency_ms`), of which `time_loop_cycles` in its time loops, their summed
    `cycles_per_step`, and what bounds them."""

    cycles_per_step: int
    total_cycles: int
    time_loop_cycles: int
    latency_ms: float
    bound: str


def prediction_of(module: ModuleOp) -> Prediction:
    """The prediction `spatial-predict` wrote on the module's design."""
    design = design_of(module)
    predicted = None if design is None else design.attributes.get("predicted")
    if not isinstance(predicted, DictionaryAttr):
        raise Diagnostic("<module>", "the design has no prediction: run spatial-predict "
                         "before emitting a configuration")
    return prediction_from(predicted)


def prediction_from(predicted: DictionaryAttr) -> Prediction:
    """A prediction as `spatial-predict` writes it (`prediction_attr`)."""
    fields = predicted.data

    def number(key: str) -> int | float:
        value = fields[key]
        assert isinstance(value, IntegerAttr | FloatAttr)
        return value.value.data

    bound = fields["bound"]
    assert isinstance(bound, StringAttr)
    return Prediction(int(number("cycles_per_step")), int(number("total_cycles")),
                      int(number("time_loop_cycles")), float(number("latency_ms")), bound.data)


def compiler_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rnnc")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def weights_path(config: Path) -> Path:
    """Where the weights of `config` go: `name.weights.npz` beside `name.json`."""
    return config.with_name(config.stem + ".weights.npz")


def unit_role(unit: Unit, machine: Machine) -> str:
    """What a unit does, in a word or two: a compute or memory unit's role as the partition
    decided it, an address generator's direction."""
    if isinstance(unit, AG):
        return f"dram-{unit.direction}"
    return unit.role


def _unit_data(unit: Unit, machine: Machine) -> dict[str, Any]:
    if unit.site is None:
        raise Diagnostic(unit.id, "the unit has no site: place the design before emitting it")
    data = to_data(unit)
    del data["site"]
    row, col = unit.site
    # a PCU's or PMU's role is part of its configuration; an AG's is derived for readers
    return {"role": unit_role(unit, machine), **data, "row": row, "col": col}


def _route_data(stream: Stream) -> dict[str, Any]:
    if stream.paths is None:
        raise Diagnostic(stream.id, "the stream has no route: route the design before emitting it")
    data = to_data(replace(stream, paths=None))  # the paths are converted here
    data["paths"] = [[list(switch) for switch in path] for path in stream.paths]
    return data


def _controller_data(machine: Machine) -> dict[str, Any]:
    """`controller`: the controller and the switch it sits at (its control routes are among
    the routes); nothing for a design without one (a design with no schedule)."""
    controller = machine.controller
    if controller is None:
        return {}
    if controller.site is None:
        raise Diagnostic(controller.id, "the controller has no site: place the design before "
                         "emitting it")
    row, col = controller.site
    return {"controller": {"id": controller.id, "row": row, "col": col}}


def referenced_arrays(machine: Machine) -> list[str]:
    """Names of the weight arrays the machine's units and memories refer to, sorted (a
    PMU may also hold a model input bound on chip, e.g. sequence_lens: that comes with
    the inputs at run time, not from the weight file)."""
    inputs = {binding.name for binding in machine.inputs}
    names = {
        holding.array
        for unit in machine.units
        if isinstance(unit, PMU)
        for holding in unit.holds
        if holding.array not in inputs
    }
    names |= {m.init.split(":", 1)[1] for m in machine.memories if m.init.startswith("weight:")}
    return sorted(names)


def _io(bindings: Sequence[Any], machine: Machine) -> list[dict[str, Any]]:
    return [
        {
            "name": b.name,
            "shape": list(b.shape),
            "dtype": b.dtype,
            "location": {
                "memory": b.memory,
                "space": {m.name: m.space for m in machine.memories}.get(b.memory, "dram"),
                "units": sorted(
                    u.id for u in machine.units if isinstance(u, AG) and u.memory == b.memory
                ),
            },
        }
        for b in bindings
    ]


def _precision(precision: NumericMode, arch: Architecture) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": precision.name,
        "spec": precision.spec,
        "weight_bits": arch.precision(precision.name).weight_bits,
    }
    if precision.weight_format is not None:
        data["weight_format"] = precision.weight_format.record(precision.scale_range)
    if precision.mixed:
        data |= {
            "float8": precision.float8,
            "lut_entries": precision.lut_entries,
            "lut_range": precision.lut_range,
            "lut_interp": precision.lut_interp,
        }
    return data


def _given(weights: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """The `weights.given` entry: the arrays of `weights` a `given_name` member shadows."""
    given = {name: given_name(name) for name in weights if given_name(name) in weights}
    return {"given": given} if given else {}


def config_data(
    machine: Machine,
    arch: Architecture,
    *,
    precision: NumericMode,
    prediction: Prediction,
    weights: Mapping[str, np.ndarray],
    weights_file: str,
    weights_sha256: str,
    seed: int = 0,
    retries: int = 0,
) -> dict[str, Any]:
    """The configuration of a placed and routed machine, as JSON-able data."""
    program = {k: v for k, v in to_data(machine).items() if k not in PLACED_FIELDS}
    steps = [phase.steps for phase in machine.schedule if phase.kind == "loop"]
    return {
        "format": FORMAT,
        "format_version": ".".join(map(str, FORMAT_VERSION)),
        "compiler_version": compiler_version(),
        "arch": {"name": arch.name, "sha256": arch.digest(), "description": arch.to_dict()},
        "precision": _precision(precision, arch),
        "design": {
            "chips": 1,
            "seed": seed,
            "retries": retries,
            "nests": [to_data(point) for point in machine.design],
        },
        "predicted": {
            "cycles_per_step": prediction.cycles_per_step,
            "total_cycles": prediction.total_cycles,
            "time_loop_cycles": prediction.time_loop_cycles,
            "latency_ms": prediction.latency_ms,
            "bound": prediction.bound,
        },
        "weights": {
            "path": weights_file,
            "sha256": weights_sha256,
            "arrays": {
                name: {"shape": list(weights[name].shape), "dtype": "float32"}
                for name in [*referenced_arrays(machine), *_given(weights).get("given", {})
                             .values()]
            },
            **_given(weights),
        },
        "inputs": _io(machine.inputs, machine),
        "outputs": _io(machine.outputs, machine),
        "time_loop": {"steps": sum(steps) if steps else 1},
        "program": program,
        "chips": [
            {
                "id": 0,
                "units": [_unit_data(unit, machine) for unit in machine.units],
                **_controller_data(machine),
                "routes": [_route_data(stream) for stream in (*machine.streams,
                                                               *machine.control)],
            }
        ],
    }


def dumps(config: Mapping[str, Any]) -> str:
    """The file's text: sorted keys, one level of indentation per nesting, a newline."""
    return json.dumps(config, sort_keys=True, indent=1, allow_nan=False) + "\n"


def given_name(array: str) -> str:
    """The weight file's member holding the model's values of `array`, which the design
    holds rounded to a weight format."""
    return f"{array}.given"


def weight_arrays(
    path: str, machine: Machine, weights: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """What the weight file beside the configuration `path` holds: exactly the arrays the
    units refer to, as float32."""
    names = referenced_arrays(machine)
    missing = [name for name in names if name not in weights]
    if missing:
        raise Diagnostic(path, f"the design refers to weight arrays the model does not have: "
                         f"{', '.join(missing)}")
    return {name: np.asarray(weights[name], dtype=np.float32) for name in names}
