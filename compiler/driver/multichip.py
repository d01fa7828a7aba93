"""`rnnc model.mlir -o config.json --chips N` (N > 1, or 0: the fewest chips that hold the
weights, or with `--max-chips M` the fastest count up to M that holds them,
`rnnc.target.chip_count`): one configuration of N chips.

The search (`loop-assign-resources`, option `chips`) chooses each chip's factors for its
share of the hidden units; the chip count it settles on is the one on its `loop.cost`.
Then each chip k is compiled by the default pipeline with `loop-split-chips{chip=k}` after
the search (its program keeps its hidden units, `rnnc.passes.loop_split_chips`), and the N
placed and routed designs are written as one configuration with the `links` of the
exchange between them (`rnnc.backend.multichip`), each chip with the on-chip legs of the
exchange routed around its streams (`rnnc.target.exchange_routes`). The prediction is the
slowest chip's plus, every step, the cost model's exchange of each exchanged memory over
the routed legs (`rnnc.target.multichip.exchange_cycles`).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import hashlib
import io
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rnnc.backend.emit import Prediction
from rnnc.diagnostics import Diagnostic
from rnnc.driver.io import Outputs, load_weights, model_weights_path, save_npz
from rnnc.numerics.precision import NumericMode
from rnnc.target.arch import Architecture
from rnnc.target.machine import PCU, PMU, Machine
from rnnc.target.multichip import LegHops
from xdsl.dialects.builtin import DenseArrayBase, DictionaryAttr, IntegerAttr, ModuleOp

#: The search alone: what fixes the chip count and the bytes each chip streams.
SEARCH = "loop-assign-resources"


def compile_chips(args: argparse.Namespace, transform: Callable[..., Any],
                  optional: frozenset[str], compile_one_chip: Callable[..., dict[str, Any]],
                  ) -> dict[str, Any]:
    """The configuration of `args.model` over `args.chips` chips (0: the fewest that hold
    the weights); a model that one chip holds, with `--chips 0`, is compiled as one chip,
    by `compile_one_chip` (the command's own, passed in so this module does not import
    the command that calls it)."""
    from rnnc.backend.emit import weights_path
    from rnnc.driver import pipeline
    from rnnc.driver.pipelines import CONFIG_PIPELINE, LOOP_PIPELINE

    text = pipeline.read_text(args.model)
    searched = transform(text, args, f"{LOOP_PIPELINE},{SEARCH}", optional)
    chips, streamed, on_chip = _searched(searched)
    if streamed:
        raise Diagnostic("--chips", f"the model does not fit {chips} chips: each chip is "
                         f"{streamed} bytes short (the search's best design for {chips} chips "
                         f"holds {on_chip} bytes on each chip and would stream {streamed} bytes "
                         "of weights from DRAM every step); give more chips, or --chips auto "
                         "for the fewest that hold the weights")
    chosen = copy.copy(args)
    chosen.chips, chosen.max_chips = chips, None  # decided: each chip's compile is told
    if chips == 1:
        return compile_one_chip(chosen, transform, optional)
    with Outputs() as files:
        files.protect(args.model, "the model")
        files.reserve(args.output)
        files.reserve(str(weights_path(Path(args.output))), "-o (its weights, beside it)")
        modules = [
            transform(text, chosen, CONFIG_PIPELINE.replace(
                SEARCH, f"{SEARCH},loop-split-chips{{chip={k}}}"), optional)
            for k in range(chips)
        ]
        source = model_weights_path(modules[0], args.model)
        if source is not None:
            files.protect(source, "the model's weights")
        return _write(args, modules, files)


def _searched(module: ModuleOp) -> tuple[int, int, int]:
    """The chips the search split the time loop over, the bytes per step each streams and
    the bytes each holds on chip."""
    from rnnc.analysis.access import time_loops

    steps = time_loops(module)
    if len(steps) != 1:
        raise Diagnostic("--chips", f"a model of {len(steps)} time loops (layers) is compiled "
                         "for one chip only: a split layer's output would need gathering "
                         "before the next")
    cost = steps[0].attributes["loop.cost"]
    assert isinstance(cost, DictionaryAttr)
    return (_int(cost, "chips"), _int(cost, "streamed_bytes_per_step"),
            _int(cost, "on_chip_bytes"))


def _int(attr: DictionaryAttr, key: str) -> int:
    value = attr.data[key]
    assert isinstance(value, IntegerAttr)
    return value.value.data


def _split(module: ModuleOp) -> tuple[tuple[int, int], tuple[str, ...]]:
    """The hidden units [lo, hi) of the chip and the memories it exchanges, as
    `loop-split-chips` recorded them."""
    from rnnc.analysis.access import time_loops
    from rnnc.passes.loop_split_chips import CHIP_ATTR

    split = time_loops(module)[0].attributes[CHIP_ATTR]
    assert isinstance(split, DictionaryAttr)
    rows = split.data["rows"]
    assert isinstance(rows, DenseArrayBase)
    lo, hi = rows.get_values()
    exchange = split.data["exchange"]
    return (int(lo), int(hi)), tuple(name.data for name in exchange.data)  # type: ignore


def _write(args: argparse.Namespace, modules: Sequence[ModuleOp], files: Outputs
           ) -> dict[str, Any]:
    from rnnc.driver.folded_weights import folded_arrays
    from rnnc.driver.stored_weights import held_in_format, stored_weights
    from rnnc.numerics.precision import FP32, parse_precision
    from rnnc.target.arch import load_architecture
    from rnnc.target.exchange_routes import leg_hops, route_exchange
    from rnnc.target.machine import machine_from_module

    machines = [machine_from_module(module) for module in modules]
    arch = load_architecture(args.arch) if args.arch else load_architecture()
    precision = FP32 if machines[0].precision == "fp32" else parse_precision(
        args.precision or machines[0].precision)
    # as on one chip (`backend_commands`): the weights held in a block-scaled format
    # rounded to it, before and after the folded arrays are computed, the given ones kept
    held = set().union(*(held_in_format(machine, precision) for machine in machines))
    weights: dict[str, np.ndarray] = {}
    given: dict[str, np.ndarray] = {}
    for module in modules:
        own = load_weights(module, args.model)
        given |= {name: own[name] for name in sorted(held) if name in own}
        own = stored_weights(own, held, precision)
        weights |= stored_weights({**own, **folded_arrays(module, own, precision)}, held,
                                  precision)
    splits = [_split(module) for module in modules]
    rows = tuple(rows for rows, _ in splits)
    exchanged = splits[0][1]
    links = plan_links(machines, rows, exchanged, arch)
    legs = [route_exchange(machine, k, len(machines), links, arch)
            for k, machine in enumerate(machines)]
    waits = exchange_per_nest(links, len(machines), arch,
                              leg_hops([{"exchange": own} for own in legs], arch))
    prediction = combined_prediction(
        [chip_prediction(module, machine, arch, waits)
         for module, machine in zip(modules, machines, strict=True)], waits, arch)
    return write_multichip_config(args.output, machines, arch, precision=precision,
                                  prediction=prediction, weights=weights, given=given,
                                  rows=rows, links=links, legs=legs, files=files)


def plan_links(machines: Sequence[Machine], rows: Sequence[tuple[int, int]],
               exchanged: Sequence[str], arch: Architecture) -> list[dict[str, Any]]:
    """Every transfer of the exchange, as config data: per exchanged memory, every chip's
    rows to every other chip, over the topology's path, from the units of the time loop
    that write them (after their nest) to the PMUs that hold the memory."""
    from rnnc.target.multichip import all_gather

    links = []
    for memory in exchanged:
        shape = machines[0].memory(memory).shape
        per_row = math.prod(shape[:-1]) * machines[0].memory(memory).element_bytes
        for transfer in all_gather(tuple(rows), per_row, arch.interchip.topology):
            sender, receiver = machines[transfer.source], machines[transfer.target]
            looped = {n for phase in sender.schedule if phase.kind == "loop" for n in phase.nests}
            send = [u for u in sender.units if isinstance(u, PCU) and u.nest in looped and any(
                op.op == "write" and op.param("memory") == memory for op in u.ops)]
            receive = [u.id for u in receiver.units if isinstance(u, PMU)
                       and any(box.memory == memory for box in u.boxes)]
            links.append({
                "id": f"{memory}.{transfer.source}-{transfer.target}",
                "memory": memory,
                "from": transfer.source,
                "to": transfer.target,
                "rows": list(rows[transfer.source]),
                "bytes": transfer.nbytes,
                "path": list(transfer.path),
                "after": send[0].nest,
                "send": sorted(u.id for u in send),
                "receive": sorted(receive),
            })
    return links


def exchange_per_nest(links: Sequence[Mapping[str, Any]], chips: int,
                      arch: Architecture, legs: LegHops) -> dict[str, int]:
    """The cost model's cycles of a step's exchanges after each nest (`after`): one
    all-gather per exchanged memory, one after the other, each of the largest slice (the
    first chip's), over the routed on-chip legs."""
    from rnnc.target.multichip import exchange_cycles

    largest: dict[str, int] = {}
    after: dict[str, str] = {}
    for link in links:
        largest[link["memory"]] = max(largest.get(link["memory"], 0), link["bytes"])
        after[link["memory"]] = link["after"]
    waits: dict[str, int] = {}
    for memory, nbytes in largest.items():
        waits[after[memory]] = waits.get(after[memory], 0) + exchange_cycles(
            nbytes, chips, arch, legs)
    return waits


def chip_prediction(module: ModuleOp, machine: Machine, arch: Architecture,
                    waits: Mapping[str, int]) -> Prediction:
    """The cost model's prediction of one chip whose steps wait for the exchange after
    each nest (`waits`): with the routed design's hops, as `spatial-predict`, the
    exchange overlapped with a step-ahead nest's input projection (`cost.evaluate`)."""
    from rnnc.backend.emit import prediction_from
    from rnnc.dialects.spatial import design_of
    from rnnc.passes.spatial_predict import predicted_cycles, prediction_attr, searched_bounds

    per_loop = [[waits.get(nest, 0) for nest in phase.nests]
                for phase in machine.schedule if phase.kind == "loop"]
    design = design_of(module)
    assert design is not None
    costs, once = predicted_cycles(module, design, arch, per_loop)
    return prediction_from(prediction_attr(costs, once, searched_bounds(module), arch))


def combined_prediction(predictions: Sequence[Prediction], waits: Mapping[str, int],
                        arch: Architecture) -> Prediction:
    """The slowest chip's prediction (each chip's with the exchange)."""
    exchange = sum(waits.values())
    slowest = max(predictions, key=lambda p: (p.total_cycles, p.time_loop_cycles))
    return dataclasses.replace(
        slowest, bound=f"{slowest.bound}; chip-to-chip exchange {exchange} cycles per step "
        "(overlapped with a step-ahead input projection)")


def write_multichip_config(
    path: str, machines: Sequence[Machine], arch: Architecture, *, precision: NumericMode,
    prediction: Prediction, weights: Mapping[str, np.ndarray],
    rows: Sequence[tuple[int, int]], links: list[dict[str, Any]],
    legs: Sequence[list[dict[str, Any]]], files: Outputs,
    given: Mapping[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Write the configuration of `machines` (chip k computes hidden units `rows[k]`, its
    legs of the exchange `legs[k]`) and its weight file, both or neither, once it
    validates. `given`: as `backend_commands.write_config`'s (for `rnnc sim --compare`)."""
    from rnnc.backend.emit import config_data, dumps, given_name, weight_arrays, weights_path
    from rnnc.backend.exchange_legs import check_legs
    from rnnc.backend.load import check_schema, machine_of

    arrays: dict[str, np.ndarray] = {}
    for machine in machines:
        arrays |= weight_arrays(path, machine, weights)
    arrays |= {given_name(name): np.asarray(a, np.float32) for name, a in (given or {}).items()}
    arrays = dict(sorted(arrays.items()))
    npz = io.BytesIO()
    save_npz(npz, arrays)
    weights_file = weights_path(Path(path))
    sha = hashlib.sha256(npz.getbuffer()).hexdigest()
    chips = [config_data(machine, arch, precision=precision, prediction=prediction,
                         weights=arrays, weights_file=weights_file.name, weights_sha256=sha)
             for machine in machines]
    config = merged_config(chips, rows, links, legs)
    check_schema(config, path)
    # each chip passed spatial-verify before its legs were routed: verify the legs too
    problems = check_legs(config, arch, machine_of)
    if problems:
        field, message = problems[0]
        raise Diagnostic(path, f"field '{field}': {message}")
    with contextlib.nullcontext(files) as outputs:
        outputs.write(str(weights_file), lambda tmp: tmp.write_bytes(npz.getbuffer()),
                      "-o (its weights, beside it)")
        outputs.write(path, lambda tmp: tmp.write_text(dumps(config)))
        outputs.commit()
    return config


def merged_config(chips: Sequence[Mapping[str, Any]], rows: Sequence[tuple[int, int]],
                  links: list[dict[str, Any]], legs: Sequence[list[dict[str, Any]]]
                  ) -> dict[str, Any]:
    """One configuration from the one-chip configurations of each chip: the envelope of
    the first, each chip's own sections in its `chips` entry (`rnnc.backend.multichip`)."""
    first = chips[0]
    config = {key: value for key, value in first.items() if key != "program"}
    config["design"] = {**first["design"], "chips": len(chips), "nests": []}
    config["weights"] = {**first["weights"], "arrays": dict(sorted(
        {name: spec for chip in chips for name, spec in chip["weights"]["arrays"].items()
         }.items()))}
    config["chips"] = [
        {**chip["chips"][0], "id": k, "rows": list(rows[k]), "program": chip["program"],
         "design": chip["design"]["nests"], "inputs": chip["inputs"], "outputs": chip["outputs"],
         "exchange": legs[k]}
        for k, chip in enumerate(chips)
    ]
    config["links"] = links
    return config
