"""The commands around `config.json`: compile to one, simulate one, picture one.

    rnnc model.mlir -o config.json [design options]         the default pipeline to a config
    rnnc sim config.json --inputs in.npz [-o out.npz] [--report report.json]
    rnnc show config.json -o place.svg|png

`cli.py` dispatches here; the argument parsers of `sim` and `show` live here too.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rnnc.backend.input_files import load_npz
from rnnc.diagnostics import Diagnostic
from rnnc.driver.arguments import ArgumentParser
from rnnc.driver.io import Outputs, load_weights, model_weights_path, save_npz
from rnnc.driver.pipelines import CONFIG_PIPELINE

if TYPE_CHECKING:
    from rnnc.backend.emit import Prediction
    from rnnc.numerics.precision import NumericMode
    from rnnc.target.arch import Architecture
    from rnnc.target.machine import Machine



def wants_config(emit: str | None, output: str | None) -> bool:
    """`--emit=config`, or no --emit and an output file ending in .json."""
    return emit == "config" or (emit is None and output is not None and output.endswith(".json"))


def compile_to_config(
    args: argparse.Namespace, transform: Callable[..., Any], optional: frozenset[str]
) -> dict[str, Any]:
    """Run the default pipeline on `args.model`, write the configuration + weights and
    return the configuration.

    `transform(text, args, pipeline, optional)` is the CLI's own (parsing, pass options,
    plug-ins and diagnostics stay in one place); `optional` are the design options the
    command takes whether or not a pass does. The pipeline runs once over one module, which
    ends with the loop level beside the routed design and its prediction."""
    if args.output is None or not args.output.endswith(".json"):
        raise Diagnostic("--emit=config", "a configuration is written to a file with its "
                         "weights beside it: give -o FILE.json")
    if args.passes is not None:
        raise Diagnostic("-p", "a configuration comes from the default pipeline "
                         f"({CONFIG_PIPELINE}); drop -p or use --emit=loop")
    if args.chips is not None and args.chips != 1:
        from rnnc.driver.multichip import compile_chips

        return compile_chips(args, transform, optional, _compile_one_chip)
    return _compile_one_chip(args, transform, optional)


def _compile_one_chip(args: argparse.Namespace, transform: Callable[..., Any],
                      optional: frozenset[str]) -> dict[str, Any]:
    """The one-chip configuration of `args.model`, written to `args.output`."""
    from rnnc.backend.emit import prediction_of, weights_path
    from rnnc.driver import pipeline
    from rnnc.driver.folded_weights import folded_arrays
    from rnnc.driver.stored_weights import held_in_format, stored_weights
    from rnnc.numerics.precision import FP32, parse_precision
    from rnnc.target.arch import load_architecture
    from rnnc.target.machine import machine_from_module

    with Outputs() as files:  # outputs over the inputs are refused before anything is written
        files.protect(args.model, "the model")
        files.reserve(args.output)
        files.reserve(str(weights_path(Path(args.output))), "-o (its weights, beside it)")
        module = transform(pipeline.read_text(args.model), args, CONFIG_PIPELINE, optional)
        source = model_weights_path(module, args.model)
        if source is not None:
            files.protect(source, "the model's weights")
        # the loop level, kept beside the design, names what the weight file must hold
        weights = load_weights(module, args.model)
        machine = machine_from_module(module)
        arch = load_architecture(args.arch) if args.arch else load_architecture()
        prediction = prediction_of(module)
        precision = FP32 if machine.precision == "fp32" else parse_precision(
            args.precision or machine.precision)
        # the weights held in a block-scaled format rounded to it, before and after the
        # arrays of the memories filled when compiling (loop-fold-constants) are computed
        # in the precision the design runs in
        held = held_in_format(machine, precision)
        given = {name: weights[name] for name in sorted(held) if name in weights}
        weights = stored_weights(weights, held, precision)
        weights = stored_weights(
            {**weights, **folded_arrays(module, weights, precision)}, held, precision)
        return write_config(args.output, machine, arch, precision=precision,
                            prediction=prediction, weights=weights, given=given, files=files)


def write_config(
    path: str,
    machine: Machine,
    arch: Architecture,
    *,
    precision: NumericMode,
    prediction: Prediction,
    weights: Mapping[str, np.ndarray],
    given: Mapping[str, np.ndarray] | None = None,
    files: Outputs | None = None,
    **options: int,
) -> dict[str, Any]:
    """Write `path` and its weight file beside it, both or neither; returns the
    configuration. `given` are the model's values of arrays `weights` holds rounded to a
    weight format, kept beside them (`given_name`) for `rnnc sim --compare`. `files` are
    the command's outputs, when it has reserved them (and protected its inputs) already.

    The configuration is not validated against the schema here: what the emitter writes
    is checked once by the tests (`tests/backend/test_main_command.py` and every test that
    loads a configuration), and `rnnc sim` validates every file it reads."""
    from rnnc.backend.emit import config_data, dumps, given_name, weight_arrays, weights_path

    arrays = weight_arrays(path, machine, weights)
    arrays |= {given_name(name): np.asarray(a, np.float32) for name, a in (given or {}).items()}
    npz = io.BytesIO()
    save_npz(npz, arrays)
    weights_file = weights_path(Path(path))
    config = config_data(
        machine, arch, precision=precision, prediction=prediction, weights=arrays,
        weights_file=weights_file.name, weights_sha256=hashlib.sha256(npz.getbuffer()).hexdigest(),
        **options,
    )
    with contextlib.nullcontext(files) if files is not None else Outputs() as outputs:
        outputs.write(str(weights_file), lambda tmp: tmp.write_bytes(npz.getbuffer()),
                      "-o (its weights, beside it)")
        outputs.write(path, lambda tmp: tmp.write_text(dumps(config)))
        outputs.commit()
    return config


def summary_line(path: str, config: dict) -> str:
    """One line: the design, the units it uses and the predicted latency (of a multi-chip
    configuration: the first chip's design and units, and the chips)."""
    from rnnc.backend.multichip import chip_view, is_multichip

    chips = len(config["chips"])
    if is_multichip(config):
        path, config = f"{path}: {chips} chips", chip_view(config, 0) | {
            "predicted": config["predicted"]}
    units = config["chips"][0]["units"]
    count = {kind: sum(1 for u in units if u["kind"] == kind) for kind in ("pcu", "pmu", "ag")}
    looped = {nest for phase in config["program"]["schedule"] if phase["kind"] == "loop"
              for nest in phase["nests"]}
    design = ", ".join(
        f"hu={point['hu']} ru={point['ru']} rv={point['rv']}"
        for point in config["design"]["nests"] if point["nest"] in looped
    )
    predicted = config["predicted"]
    return (
        f"{path}: design {design}; {count['pcu']} PCUs, {count['pmu']} PMUs, {count['ag']} AGs, "
        f"{len(config['chips'][0]['routes'])} routes; predicted {predicted['latency_ms']:.4g} ms "
        f"({predicted['total_cycles']} cycles, {config['precision']['name']})"
    )


# ---- rnnc sim ----------------------------------------------------------------------------------


def _sim_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="rnnc sim",
        description="Run a configuration: rebuild the machine from config.json alone and "
        "simulate its values and its cycles.",
    )
    parser.add_argument("config", help="the configuration (.json)")
    parser.add_argument("--inputs", required=True, help=".npz keyed by the model's input names")
    parser.add_argument("-o", "--output", help=".npz to write the outputs to, keyed by name")
    parser.add_argument("--report", metavar="FILE.json", help="write the timing report here")
    parser.add_argument("--compare", metavar="fp32", choices=["fp32"],
                        help="also run the machine in fp32 on the model's given weights and "
                        "print the error of the outputs against it")
    return parser


def sim_main(argv: Sequence[str]) -> None:
    """Simulate a configuration. Its outputs (`-o`, `--report`) are written all or none,
    once the simulation is done, and never over one of its inputs (the configuration, its
    weight file, the inputs)."""
    from rnnc.backend.load import load_config, weights_file
    from rnnc.simulator.compare import error_table, reference_error
    from rnnc.simulator.simulate import simulate_config

    args = _sim_parser().parse_args(argv)
    with Outputs() as files:
        files.protect(args.config, "the configuration")
        files.protect(args.inputs, "the inputs")
        for path, flag in ((args.report, "--report"), (args.output, "-o")):
            if path is not None:
                files.reserve(path, flag)
        loaded = load_config(args.config)
        files.protect(weights_file(loaded.path, loaded.data), "the configuration's weights")
        inputs = load_npz(args.inputs)
        outputs, report = simulate_config(loaded, inputs, source=args.inputs)
        if args.compare is not None:
            report["error"] = reference_error(loaded, inputs, outputs, args.inputs)
        if args.report is not None:
            text = json.dumps(report, sort_keys=True, indent=1) + "\n"
            files.write(args.report, lambda tmp: tmp.write_text(text), "--report")
        if args.output is not None:
            files.write(args.output, lambda tmp: save_npz(tmp, outputs))
        files.commit()
    if args.output is None and args.compare is None:
        for name, value in outputs.items():
            print(f"{name}: shape {list(value.shape)}\n{value}")
    if args.compare is not None:
        print(error_table(report["error"], loaded.data["precision"]["spec"]))
    print(report_line(args.config, report), file=sys.stderr if args.output is None else sys.stdout)


def report_line(path: str, report: dict) -> str:
    return (
        f"{path}: {report['total_cycles']} cycles = {report['latency_ms']:.4g} ms at "
        f"{report['clock_ghz']:g} GHz; {report['cycles_per_step']:g} cycles per step; "
        f"{report['steps']['simulated']} steps simulated, {report['steps']['extrapolated']} "
        f"extrapolated; weights {report['weights']['weight_bytes'] / 2**20:.4g} MiB, "
        f"{report['weights']['streamed_share']:.1%} streamed every step"
    )


# ---- rnnc show ---------------------------------------------------------------------------------


def _show_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="rnnc show",
        description="Draw a configuration: units by role, routes, link utilisation per network.",
    )
    parser.add_argument("config", help="the configuration (.json)")
    parser.add_argument("-o", "--output", required=True, help="the picture (.svg or .png)")
    parser.add_argument("--chip", type=int, help="which chip (default: the only one; of "
                        "several, all of them side by side with the links between them)")
    return parser


def show_main(argv: Sequence[str]) -> None:
    from rnnc.backend.load import load_config, weights_file
    from rnnc.backend.multichip import chip_view
    from rnnc.backend.show import render

    args = _show_parser().parse_args(argv)
    suffix = Path(args.output).suffix.lower()
    if suffix not in (".svg", ".png"):
        raise Diagnostic(args.output, f"unknown picture format '{suffix}' (expected .svg or .png)")
    with Outputs() as files:
        files.protect(args.config, "the configuration")
        files.reserve(args.output)
        loaded = load_config(args.config)
        files.protect(weights_file(loaded.path, loaded.data), "the configuration's weights")
        chips = len(loaded.data["chips"])
        if args.chip is not None and not 0 <= args.chip < chips:
            raise Diagnostic("--chip", f"the configuration has {chips} chip(s), got {args.chip}")
        if args.chip is None and chips > 1:
            from rnnc.backend.show_chips import render_chips

            files.write(args.output, lambda tmp: render_chips(loaded.data, tmp, suffix[1:]))
            files.commit()
            print(f"{args.output}: {chips} chips of {args.config}, "
                  f"{len(loaded.data['links'])} links")
            return
        index = args.chip or 0
        data = loaded.data if chips == 1 else chip_view(loaded.data, index)
        files.write(args.output, lambda tmp: render(data, tmp, 0 if chips > 1 else index,
                                                    suffix[1:]))
        files.commit()
    chip = loaded.data["chips"][index]
    print(f"{args.output}: chip {index} of {args.config}, {len(chip['units'])} units, "
          f"{len(chip['routes'])} routes")
