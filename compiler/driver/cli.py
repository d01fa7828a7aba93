"""The `rnnc` command line.

    rnnc model.mlir [-p PIPELINE] [--emit=LEVEL] [-o OUT]   compile (print or write the IR)
    rnnc run model.mlir --inputs in.npz [-p PIPELINE] [-o out.npz]   interpret
    rnnc import model.onnx -o model.mlir                     ONNX front end
    rnnc gen CELL HIDDEN STEPS [--batch N] [--seed S] -o model.mlir   DeepBench-style model
    rnnc gen --csv-row N [--csv FILE] [--seed S] -o model.mlir         ... from a DeepBench row
    rnnc sweep STUDY.yaml -o results.parquet|.csv [--engine local|ray]  design-space study
    rnnc plot results.parquet --kind pareto|speedup|heatmap -o fig.png  its pictures
    rnnc sim config.json --inputs in.npz [-o out.npz]        simulate a configuration
    rnnc show config.json -o place.svg                       draw it
    rnnc --list-passes [--load-pass-plugin FILE.py]          the passes -p can name

Errors in user input are printed as one `location: error: message` diagnostic and exit
with status 1; no traceback, and no output file is left behind. Set RNNC_TRACEBACK=1 to see
the traceback of an internal error.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from rnnc.analysis.names import argument_names
from rnnc.backend.input_files import check_input_file, load_npz
from rnnc.diagnostics import Diagnostic, check_fits_in_memory
from rnnc.dialects import rnn
from rnnc.dialects.spatial import design_of
from rnnc.driver import backend_commands, pipeline, pipelines
from rnnc.driver.arguments import ArgumentParser
from rnnc.driver.io import Outputs, expected_of, load_weights, model_weights_path, save_npz
from rnnc.numerics.precision import NumericMode, parse_precision
from rnnc.target.arch import load_architecture
from rnnc.target.schedules import enabled_schedules
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.passes import ModulePass

#: Pass pipelines that take a model from the rnn level down to each level. Below the loop
#: level the driver searches again when a point does not partition, place and route
#: (`rnnc.driver.routable`); --emit=config (or -o FILE.json) writes the design that comes
#: out, --emit=spatial prints it without the loop level it was built from.
LEVEL_PIPELINES: dict[str, str] = {
    "rnn": "",
    "loop": f"{pipelines.LOOP_PIPELINE},loop-assign-resources",
    "spatial": f"{pipelines.CONFIG_PIPELINE},spatial-strip",
    "config": pipelines.CONFIG_PIPELINE,
}


def _add_pipeline_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-p", "--passes", metavar="PIPELINE", help="xDSL pass pipeline, e.g. 'a,b{opt=1}'"
    )
    parser.add_argument(
        "--load-pass-plugin",
        action="append",
        default=[],
        metavar="FILE.py",
        help="load the ModulePass classes of a single-file plug-in (repeatable)",
    )
    parser.add_argument(
        "--print-ir-after-all", action="store_true", help="print the IR to stderr after every pass"
    )
    parser.add_argument(
        "--progress", action="store_true",
        help="print a line to stderr as each pass finishes, with its seconds (the default "
        "when stderr is a terminal)"
    )
    design = parser.add_argument_group(
        "design options", "set the option of the same name on every pass in the pipeline that "
        "has it (loop-assign-resources)"
    )
    design.add_argument("--arch", metavar="NAME|FILE", help="architecture preset or JSON/YAML file")
    design.add_argument("--objective", choices=["latency", "resources"])
    design.add_argument("--chips", type=_chip_count, metavar="N|auto",
                        help="chips to split the layer's hidden units over, exchanging h every "
                        "step (0 or auto: the fewest that hold its weights)")
    design.add_argument("--max-chips", type=int, metavar="N",
                        help="with --chips auto: of the chip counts up to N that hold the "
                        "weights on chip, the one the cost model predicts fastest")
    design.add_argument("--dse-dump", metavar="FILE.csv", help="write every evaluated design point")
    design.add_argument("--precision", metavar="MODE",
                        help="fp32, mixed (the paper's 8/16/32-bit mode; the default of "
                        "plasticine-rnn, see below) or a weight format the chip supports (int4, "
                        "mxfp4, int5, mxfp6 on plasticine-rnn: weights stored narrow, the "
                        "mixed mode's arithmetic); `rnnc run` (default fp32) emulates it, e.g. "
                        "mixed:lut=512,range=6; auto (with -o config.json): the fastest within "
                        "--max-error on --inputs")
    design.add_argument("--schedules", metavar="LIST",
                        help="schedules beyond the paper's to allow: all (the default), none, "
                        "a comma list of names, or all,-NAME to switch one off (names: see "
                        "rnnc.target.schedules)")


#: Command-line flags that set the option of the same name on the passes that have one.
PASS_OPTION_FLAGS = ("arch", "objective", "chips", "max_chips", "dse_dump", "precision",
                     "schedules")


def _chip_count(text: str) -> int:
    """`--chips`: a number, or `auto` (0: the fewest chips that hold the weights)."""
    if text == "auto":
        return 0
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of chips or auto, got '{text}'")\
            from None


def _pass_options(args: argparse.Namespace) -> dict[str, object]:
    options: dict[str, object] = {
        flag: getattr(args, flag) for flag in PASS_OPTION_FLAGS if getattr(args, flag) is not None
    }
    if args.chips is not None and args.chips < 0:
        raise Diagnostic("--chips", f"must be at least 0 (0: the fewest chips that hold the "
                         f"weights), got {args.chips}")
    if args.max_chips is not None and (args.max_chips < 1 or args.chips != 0):
        given = "" if args.chips == 0 else (
            " without --chips" if args.chips is None else f" with --chips {args.chips}")
        raise Diagnostic("--max-chips", "takes a number of chips of at least 1, with --chips "
                         f"auto (got --max-chips {args.max_chips}{given})")
    if "precision" in options:  # passes take the mode's name; its LUT details are run-time
        options["precision"] = _precision(args.precision).name
    if "schedules" in options:
        try:
            enabled_schedules(args.schedules)
        except ValueError as error:
            raise Diagnostic("--schedules", str(error)) from None
    return options


def _precision(text: str, flag: str = "--precision") -> NumericMode:
    try:
        precision = parse_precision(text)
    except ValueError as error:
        raise Diagnostic(flag, str(error)) from None
    # each nonlinearity's table is float64 samples; refuse before building them
    check_fits_in_memory(precision.lut_entries * 8, flag,
                         f"a lookup table of {precision.lut_entries} entries")
    return precision


def _with_options(
    passes: tuple[ModulePass, ...],
    options: dict[str, object],
    optional: frozenset[str] = frozenset(),
) -> tuple[ModulePass, ...]:
    """`passes` with each option set on every pass that has a field of that name; an
    option that no pass takes is an error rather than silently ignored, unless the command
    has another use for it (`optional`)."""
    unused = set(options) - optional
    configured = []
    for each in passes:
        fields = {f.name for f in dataclasses.fields(each)}
        taken = {k: v for k, v in options.items() if k in fields}
        unused -= set(taken)
        configured.append(dataclasses.replace(each, **taken))
    if unused:
        flags = ", ".join("--" + name.replace("_", "-") for name in sorted(unused))
        raise Diagnostic(flags, "no pass in the pipeline takes this option (add "
                         "loop-assign-resources, e.g. --emit=loop)")
    for each in configured:
        _check_architecture(each)
    return tuple(configured)


def _check_architecture(configured: ModulePass) -> None:
    """Load the architecture a pass names (`--arch`, or `arch=` in -p) before any pass
    runs, so that a bad file is reported at that file, not as the pass's failure."""
    arch = getattr(configured, "arch", None)
    if isinstance(arch, str) and arch:
        load_architecture(arch)


#: `rnnc --help`: every command, one line each (`rnnc COMMAND --help` says more).
COMMANDS_HELP = """\
commands:
  rnnc MODEL.mlir [-o OUT]               compile: print IR (--emit LEVEL) or write config.json
  rnnc run MODEL.mlir --inputs IN.npz    interpret a model at any level on numpy inputs
  rnnc sim CONFIG.json --inputs IN.npz   simulate a configuration's values and cycles
  rnnc show CONFIG.json -o FILE.svg      draw a configuration's units and routes
  rnnc import MODEL.onnx -o MODEL.mlir   import an ONNX model (e.g. torch.onnx.export's)
  rnnc gen CELL HIDDEN STEPS -o M.mlir   generate a DeepBench-style model, random weights
  rnnc sweep STUDY.yaml -o TABLE.csv     compile every point of a design-space study
  rnnc plot TABLE.csv --kind K -o F.png  draw a sweep's results

precision: a configuration is compiled in the architecture's default mode: `mixed` on the
default plasticine-rnn (8-bit float weights, float16 first reduction stage, float32 sums
and element-wise ops, lookup-table activations); its outputs differ from fp32 by about
2e-2 (largest absolute error 1.7e-2 on examples/deepbench/lstm-512-25, 2.3e-2 on a
PyTorch LSTM(64, 128), by `rnnc run --precision mixed --compare fp32`). --precision fp32
compiles exact float32. `rnnc run` interprets in fp32 unless given --precision.
"""


def _compile_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="rnnc",
        description="Compile an rnnc model: from the rnn level (an imported or generated "
        ".mlir) down to a routed design and its config.json.",
        epilog=COMMANDS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", nargs="?", help="the model (.mlir)")
    parser.add_argument(
        "--list-passes",
        action="store_true",
        help="print every pass -p can name, with its options and their defaults (with "
        "--load-pass-plugin: the plug-in's too), and exit",
    )
    parser.add_argument("-o", "--output", help="write the result here instead of stdout")
    parser.add_argument(
        "--emit",
        choices=sorted(LEVEL_PIPELINES),
        default=None,
        help="stop at this level and print its IR (default: rnn)",
    )
    parser.add_argument("--print-op-generic", action="store_true", help="print the generic op form")
    parser.add_argument(
        "--stats",
        action="store_true",
        help="instead of the IR, print loop nests, on-chip memories and the storage between "
        "kernels at the rnn, decomposed-loop and fused-loop levels (with -p: after PIPELINE)",
    )
    parser.add_argument(
        "--split-input-file",
        action="store_true",
        help="compile each '// -----'-separated chunk on its own",
    )
    parser.add_argument("--max-error", type=float, metavar="E",
                        help="with --precision auto: the largest |error| of an output against "
                        "fp32 on --inputs the chosen mode may make")
    parser.add_argument("--inputs", metavar="IN.npz",
                        help="with --precision auto: the inputs the error is measured on")
    _add_pipeline_options(parser)
    return parser


def _run_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="rnnc run", description="Interpret a model on numpy inputs.")
    parser.add_argument("model", help="the model (.mlir)")
    parser.add_argument("--inputs", required=True, help=".npz keyed by function-argument name")
    parser.add_argument("-o", "--output", help=".npz to write the results to, keyed by result name")
    parser.add_argument("--symbol", default="main", help="function to run (default: main)")
    parser.add_argument("--compare", metavar="MODE",
                        help="also run in MODE (e.g. fp32) and print the error of --precision "
                        "against it, per output")
    _add_pipeline_options(parser)
    return parser


def _import_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="rnnc import", description="Import an ONNX model.")
    parser.add_argument("model", help="the ONNX model (.onnx)")
    parser.add_argument(
        "-o", "--output", required=True, help="the .mlir to write; weights go to a .npz beside it"
    )
    return parser


def _gen_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="rnnc gen", description="Generate a DeepBench-style model with random weights."
    )
    # Either the sizes, or a row of a DeepBench table: both spellings are optional here and
    # gen_main checks that exactly one is given.
    parser.add_argument("cell", nargs="?", choices=list(rnn.CELLS))
    parser.add_argument("hidden", nargs="?", type=int)
    parser.add_argument("steps", nargs="?", type=int)
    parser.add_argument("--input", type=int, default=None, help="input size (default: = hidden)")
    parser.add_argument("--batch", type=int, default=None, help="batch size (default: 1)")
    parser.add_argument("--csv-row", type=int, metavar="N",
                        help="take cell, hidden, batch and steps from data row N (from 1) of --csv")
    parser.add_argument("--csv", metavar="FILE", default=None,
                        help="DeepBench table for --csv-row (default: "
                        "examples/deepbench/deepbench-inference-server.csv)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "-o", "--output", required=True, help="the .mlir to write; weights go to a .npz beside it"
    )
    return parser


def _sweep_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="rnnc sweep",
        description="Compile every point of a design-space study (models x architectures x "
        "pipelines x precisions x objectives x chips) and write one row per point.",
    )
    parser.add_argument("study", help="the study (.yaml or .json)")
    parser.add_argument("-o", "--output", required=True, help="the table: .parquet or .csv")
    parser.add_argument("--engine", choices=["local", "ray"], default="local",
                        help="a local process pool (default) or Ray tasks")
    parser.add_argument("--address", metavar="ADDR",
                        help="with --engine ray: an existing Ray cluster, whose nodes have rnnc "
                        "installed (default: start a local instance)")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="processes (local) or CPUs of the local Ray instance "
                        "(default: this machine's cores)")
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument("--cache", metavar="DIR",
                       help="the result cache (default: $RNNC_CACHE_DIR or ~/.cache/rnnc/sweep)")
    cache.add_argument("--no-cache", action="store_true", help="compute every point")
    parser.add_argument("--max-points", type=int, metavar="N",
                        help="compute at most N points not cached yet, then stop (no table "
                        "until every point has a result; run again to resume)")
    return parser


def _plot_parser() -> argparse.ArgumentParser:
    from rnnc.driver.plot import KINDS

    parser = ArgumentParser(prog="rnnc plot", description="Draw a sweep's results.")
    parser.add_argument("results", help="the table written by rnnc sweep (.parquet or .csv)")
    parser.add_argument("--kind", choices=KINDS, required=True)
    parser.add_argument("-o", "--output", action="append", required=True, metavar="FILE",
                        help=".png or .svg (repeatable)")
    parser.add_argument("--where", action="append", default=[], metavar="COLUMN=VALUE",
                        help="keep only the rows where COLUMN is VALUE (repeatable)")
    parser.add_argument("--x", choices=["pcus", "area", "error"], default="pcus",
                        help="pareto: PCUs used by the design, the chip's die area, or the "
                        "error against fp32 (rows of the sim run level)")
    parser.add_argument("--axes", nargs=2, metavar=("FIELD", "FIELD"),
                        help="heatmap: the two varied architecture fields (default: the two "
                        "the study varies)")
    return parser


def _emit_text(text: str, output: str | None, outputs: Outputs) -> None:
    """Print `text`, or write it to `output` when the command commits its outputs."""
    if output is None:
        sys.stdout.write(text)
    else:
        outputs.write(output, lambda tmp: tmp.write_text(text))


# ---- the shared front half: read, verify, transform ------------------------------------------


def _transform(
    text: str,
    args: argparse.Namespace,
    default_pipeline: str = "",
    optional: frozenset[str] = frozenset(),
    *,
    dse_dump: str | None = None,
    before_passes: Callable[[ModuleOp], None] | None = None,
) -> ModuleOp:
    """Parse and verify `text`, then apply `-p` (or `default_pipeline`) with the design
    options of the command line (see `_with_options` for `optional`). `dse_dump` is where
    the search's points go (a temporary that the command moves into place at the end);
    `before_passes` sees the module as parsed."""
    # the architecture goes to the context (every pass and the design checks find it by
    # name there) and, as an option, to the passes that choose one (spatial-partition)
    ctx = pipeline.make_context(args.arch or "")
    module, source_map = pipeline.parse_module(ctx, text, args.model)
    if before_passes is not None:
        before_passes(module)
    spec = args.passes if args.passes is not None else default_pipeline
    options = _pass_options(args)
    if dse_dump is not None:
        options["dse_dump"] = dse_dump
    passes = pipeline.available_passes(args.load_pass_plugin)  # reports a broken plug-in
    built = pipeline.build_pipeline(spec, passes) if spec else ()
    if _reads_architectures(module, built):
        optional |= {"arch"}  # the context's architecture is used even if no pass takes it
    configured = _with_options(built, options, optional)
    callbacks = [_print_after_pass] if args.print_ir_after_all else []
    if args.progress or sys.stderr.isatty():
        callbacks.append(_Progress())
    pipeline.run_pipeline(ctx, module, configured, source_map, _each(callbacks))
    return module


def _each(callbacks: Sequence[pipeline.PassCallback]) -> pipeline.PassCallback | None:
    """One callback after each pass that calls `callbacks` in order (None: there are none)."""
    if not callbacks:
        return None

    def after(done: ModulePass, module: ModuleOp) -> None:
        for callback in callbacks:
            callback(done, module)

    return after


class _Progress:
    """A line on stderr as each pass finishes: `rnnc: <pass> done (<seconds> s)`, the seconds
    since the previous pass finished (the pass and the verification of its IR). A search
    the driver repeats (`rnnc.driver.routable`) shows each pass it runs again."""

    def __init__(self) -> None:
        self.last = time.perf_counter()

    def __call__(self, done: ModulePass, module: ModuleOp) -> None:
        now = time.perf_counter()
        sys.stderr.write(f"rnnc: {done.name} done ({now - self.last:.2f} s)\n")
        sys.stderr.flush()
        self.last = now


def _reads_architectures(module: ModuleOp, passes: Sequence[ModulePass]) -> bool:
    """Whether the context's architectures are used: the module holds a design (which the
    driver checks against its architecture) or a spatial pass will make or read one."""
    return design_of(module) is not None or any(p.name.startswith("spatial-") for p in passes)


def _print_after_pass(done: ModulePass, module: ModuleOp) -> None:
    sys.stderr.write(f"// -----// IR Dump After {done.name} //----- //\n")
    sys.stderr.write(pipeline.print_ir(module))


def _entry_function(module: ModuleOp, symbol: str, model_path: str) -> func.FuncOp:
    """The interpreter's entry function, its absence reported at the model file."""
    from rnnc import interpreters as interpreter

    try:
        return interpreter.entry_function(module, symbol)
    except Diagnostic as error:
        raise Diagnostic(model_path, error.message) from None


# ---- subcommands --------------------------------------------------------------------------------


def compile_main(argv: Sequence[str]) -> int:
    parser = _compile_parser()
    args = parser.parse_args(argv)
    if args.list_passes:
        from rnnc.driver.pass_list import list_passes

        sys.stdout.write(list_passes(pipeline.available_passes(args.load_pass_plugin)))
        return 0
    if args.model is None:
        parser.error("the following arguments are required: model")
    if backend_commands.wants_config(args.emit, args.output) and not args.stats:
        if args.precision is not None and args.precision.strip().lower() == "auto":
            from rnnc.driver.auto_precision import choice_lines, choose_precision

            args.precision, candidates = choose_precision(
                args, _transform, frozenset(PASS_OPTION_FLAGS))
            print(choice_lines(args.precision, candidates, args.max_error))
        config = backend_commands.compile_to_config(
            args, _transform, frozenset(PASS_OPTION_FLAGS))
        print(backend_commands.summary_line(args.output, config))
        return 0
    default_pipeline = LEVEL_PIPELINES[args.emit or "rnn"]
    text = pipeline.read_text(args.model)
    with Outputs() as outputs:
        outputs.protect(args.model, "the model")
        if args.output is not None:
            outputs.reserve(args.output)
        dump = None if args.dse_dump is None else str(outputs.reserve(args.dse_dump,
                                                                      "--dse-dump"))
        status = _compile(text, args, default_pipeline, outputs, dump)
        if status == 0:
            outputs.commit()
    if status == 0 and args.output is not None:
        print(f"{args.output}: {_written_what(args)}")
    return status


def _written_what(args: argparse.Namespace) -> str:
    """What `rnnc MODEL -o FILE` wrote, for its success line."""
    what = "statistics" if args.stats else "IR"
    if args.passes is not None:
        return f"{what} after -p {args.passes}" if args.passes else f"{what} as parsed"
    return f"{what} at the {args.emit or 'rnn'} level"


def _compile(
    text: str, args: argparse.Namespace, default_pipeline: str, outputs: Outputs,
    dump: str | None,
) -> int:
    if args.stats:
        _emit_text(_stats(text, args, dump), args.output, outputs)
        return 0
    protect = functools.partial(_protect_weights, outputs, args.model)
    if not args.split_input_file:
        module = _transform(text, args, default_pipeline, dse_dump=dump, before_passes=protect)
        _emit_text(pipeline.print_ir(module, args.print_op_generic), args.output, outputs)
        return 0
    # As in mlir-opt: every chunk is compiled on its own and its diagnostics reported; the
    # command fails if any chunk did, and then writes no output file.
    results, failed = [], False
    for chunk in pipeline.split_input(text):
        try:
            module = _transform(chunk, args, default_pipeline, dse_dump=dump,
                                before_passes=protect)
            results.append(pipeline.print_ir(module, args.print_op_generic))
        except Diagnostic as diagnostic:
            sys.stderr.write(diagnostic.render() + "\n")
            failed = True
    if failed and args.output is not None:
        return 1
    _emit_text("// -----\n".join(results), args.output, outputs)
    return 1 if failed else 0


def _protect_weights(outputs: Outputs, model: str, module: ModuleOp) -> None:
    """No output of the command replaces the weight file the parsed model names."""
    path = model_weights_path(module, model)
    if path is not None:
        outputs.protect(path, "the model's weights")


def _stats(text: str, args: argparse.Namespace, dump: str | None) -> str:
    from rnnc.analysis import stats

    levels = stats.LEVELS if args.passes is None else ((f"after -p {args.passes}", args.passes),)
    if args.passes is None and args.emit == "spatial":
        levels = (*levels, ("spatial", LEVEL_PIPELINES["spatial"]))
    as_given = argparse.Namespace(**{**vars(args), "passes": ""})
    if args.passes is None and _is_spatial(text, as_given):  # a design: nothing to lower
        # (--arch gives the chip the design names, or a chip of another name on which its
        # figures are measured)
        return stats.format_stats([stats.level_stats(_transform(text, as_given), "spatial",
                                                     args.arch or "")])
    figures = []
    for label, spec in levels:
        level_args = argparse.Namespace(**{**vars(args), "passes": spec})
        module = _transform(text, level_args, dse_dump=dump)
        figures.append(stats.level_stats(module, label, args.arch or ""))
    return stats.format_stats(figures)


def _is_spatial(text: str, args: argparse.Namespace) -> bool:
    from rnnc.dialects.spatial import design_of

    return design_of(_transform(text, args)) is not None


def run_main(argv: Sequence[str]) -> None:
    from rnnc import interpreters as interpreter
    from rnnc.driver.stored_weights import cell_matrices, stored_weights
    from rnnc.interpreters import inputs as model_inputs
    from rnnc.numerics.precision import error_report

    args = _run_parser().parse_args(argv)
    precision = _precision(args.precision or "fp32")
    reference = None if args.compare is None else _precision(args.compare, "--compare")
    # The contract of the inputs is read off the model as given (its rnn-level ops), so
    # that it holds at whatever level the pipeline lowers the model to.
    limits: dict[str, int] = {}
    matrices: set[str] = set()

    def read_model(parsed: ModuleOp) -> None:
        limits.update(model_inputs.sequence_limits(parsed))
        matrices.update(cell_matrices(parsed))  # the weights a format stores

    module = _transform(
        pipeline.read_text(args.model),
        args,
        optional=frozenset({"precision"}),  # emulated whether or not a pass also takes it
        before_passes=read_model,
    )
    if precision.mixed and not interpreter.uses_loop_level(module):
        raise Diagnostic(
            "--precision",
            f"{precision} is emulated at the loop level; add a pipeline that reaches it, "
            "e.g. -p rnn-decompose,loop-fuse",
        )
    function = _entry_function(module, args.symbol, args.model)
    model_inputs.check_value_sizes(module, args.model)
    with Outputs() as outputs:
        outputs.protect(args.model, "the model")
        outputs.protect(args.inputs, "the inputs")
        _protect_weights(outputs, args.model, module)
        if args.output is not None:
            outputs.reserve(args.output)
        weights = load_weights(module, args.model)
        expected = {
            name: expected_of(ty)
            for name, ty in zip(
                argument_names(function), function.function_type.inputs, strict=True
            )
            if isinstance(ty, TensorType)
        }
        inputs = load_npz(args.inputs, expected, what="input")
        model_inputs.check_sequence_lens(limits, inputs, args.inputs)

        def execute(mode: NumericMode) -> dict[str, np.ndarray]:
            stored = stored_weights(weights, matrices, mode)
            return interpreter.run(
                module, inputs, stored, symbol=args.symbol, source=args.inputs, precision=mode
            )

        results = execute(precision)
        if reference is not None:
            print(error_report(execute(reference), results, str(reference), str(precision)))
        if args.output is None:
            if reference is None:
                for name, value in results.items():
                    print(f"{name}: shape {list(value.shape)}\n{value}")
        else:
            outputs.write(args.output, lambda tmp: save_npz(tmp, results))
            outputs.commit()
            print(f"{args.output}: {_shapes(results)} ({precision})")


def _shapes(arrays: dict[str, np.ndarray]) -> str:
    return ", ".join(f"{name} {'x'.join(map(str, a.shape)) or 'scalar'}"
                     for name, a in arrays.items())


#: Protobuf cannot hold a message larger than 2 GiB, so neither can an ONNX file.
MAX_ONNX_BYTES = 2 << 30


def import_main(argv: Sequence[str]) -> None:
    args = _import_parser().parse_args(argv)  # --help needs no onnx
    from rnnc.frontends import onnx_import

    check_input_file(args.model, MAX_ONNX_BYTES, "an ONNX model")
    with Outputs() as outputs:
        outputs.protect(args.model, "the ONNX model")
        outputs.reserve(args.output)
        weights_path = str(Path(args.output).with_suffix(".npz"))
        outputs.reserve(weights_path, "-o (its weights, beside it)")
        text, weights = onnx_import.import_file(args.model, Path(weights_path).name)
        outputs.write(args.output, lambda tmp: tmp.write_text(text))
        if weights:
            outputs.write(weights_path, lambda tmp: save_npz(tmp, weights))
        else:
            outputs.release(weights_path)
        outputs.commit()
    layers = re.findall(r"= rnn\.(lstm|gru|rnn) ", text)
    kept = f"; {len(weights)} weight arrays in {weights_path}" if weights else ""
    print(f"{args.output}: imported {args.model}: {len(layers)} recurrent layer(s) "
          f"({', '.join(layers)}){kept}")


def gen_main(argv: Sequence[str]) -> None:
    from rnnc.frontends import deepbench

    args = _gen_parser().parse_args(argv)
    for flag, value, least in (("--batch", args.batch, 1), ("--input", args.input, 1),
                               ("--seed", args.seed, 0)):
        if value is not None and value < least:
            raise Diagnostic(flag, f"must be at least {least}, got {value}")
    if args.csv_row is not None:
        if args.cell is not None or args.batch is not None:
            raise Diagnostic(
                "rnnc gen", "give CELL HIDDEN STEPS [--batch N] or --csv-row N, not both"
            )
        csv = args.csv or str(deepbench.CSV_PATH)
        check_input_file(csv, deepbench.MAX_TABLE_BYTES, "a task table")
        task, where = deepbench.csv_task(args.csv_row, csv), f"{csv}:{args.csv_row + 1}"
    elif args.steps is None:
        raise Diagnostic("rnnc gen", "expected CELL HIDDEN STEPS (or --csv-row N)")
    else:
        task, where = deepbench.Task(args.cell, args.hidden, args.steps, args.batch or 1), \
            "rnnc gen"
    task = deepbench.Task(task.cell, task.hidden, task.steps, task.batch, args.input)
    deepbench.check_task(task, where)
    with Outputs() as outputs:
        if args.csv_row is not None:
            outputs.protect(csv, "the task table")
        outputs.reserve(args.output)
        target = Path(args.output)
        weights_path, inputs_path = target.with_suffix(".npz"), target.with_suffix(".inputs.npz")
        outputs.reserve(str(weights_path), "-o (its weights, beside it)")
        outputs.reserve(str(inputs_path), "-o (its inputs, beside it)")
        text, weights, inputs = deepbench.generate(task, weights_path.name, args.seed)
        outputs.write(str(weights_path), lambda tmp: save_npz(tmp, weights, compress=True))
        outputs.write(str(inputs_path), lambda tmp: save_npz(tmp, inputs))
        outputs.write(args.output, lambda tmp: tmp.write_text(text))
        outputs.commit()
    print(f"{args.output}: {task.cell} hidden {task.hidden}, input {task.inputs}, "
          f"{task.steps} steps, batch {task.batch}; weights {weights_path}, inputs {inputs_path}")


def sweep_main(argv: Sequence[str]) -> int:
    from rnnc.driver import sweep
    from rnnc.driver.sweep import cache, table

    args = _sweep_parser().parse_args(argv)
    if args.address is not None and args.engine != "ray":
        raise Diagnostic("--address", "only goes with --engine ray")
    for flag, value in (("--workers", args.workers), ("--max-points", args.max_points)):
        if value is not None and value < 1:
            raise Diagnostic(flag, f"expected at least 1, got {value}")
    table.check_output(args.output)
    study = sweep.load_study(args.study)
    folder = Path(args.cache) if args.cache else cache.default_cache_dir()
    with Outputs() as outputs:
        outputs.protect(args.study, "the study")
        outputs.reserve(args.output)  # a sweep can be long: know first that it can be written
        outcome = sweep.run_sweep(study, engine=args.engine, workers=args.workers,
                                  address=args.address,
                                  cache_dir=None if args.no_cache else folder,
                                  max_points=args.max_points)
        if outcome.interrupted:
            kept = "nothing kept (--no-cache)" if args.no_cache else "finished points are cached"
            sys.stderr.write(f"rnnc sweep: interrupted; {kept}\n")
        sys.stderr.write(f"rnnc sweep: {outcome.summary()}\n")
        sys.stderr.writelines(f"  {line}\n" for line in outcome.failure_lines(study))
        if outcome.interrupted:
            return 130
        if outcome.rows is None:
            return 0
        outputs.write(args.output, table.writer(args.output, outcome.rows, outcome.columns))
        outputs.commit()
    return 0


def plot_main(argv: Sequence[str]) -> None:
    from rnnc.driver.plot import plot

    args = _plot_parser().parse_args(argv)
    plot(args.results, args.kind, args.output, where=args.where, x=args.x, axes=args.axes)
    print(f"{', '.join(args.output)}: {args.kind} plot of {args.results}")


SUBCOMMANDS: dict[str, Callable[[Sequence[str]], int | None]] = {
    "run": run_main,
    "import": import_main,
    "gen": gen_main,
    "sim": backend_commands.sim_main,
    "show": backend_commands.show_main,
    "sweep": sweep_main,
    "plot": plot_main,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = SUBCOMMANDS.get(argv[0], compile_main) if argv else compile_main
    if argv and argv[0] in SUBCOMMANDS:
        argv = argv[1:]
    try:
        status = command(argv) or 0
        sys.stdout.flush()
    except Diagnostic as diagnostic:
        sys.stderr.write(diagnostic.render() + "\n")
        return 1
    except BrokenPipeError:  # `rnnc run ... | head`: the reader left; nothing to report
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("rnnc: interrupted\n")
        return 130
    except Exception as error:
        if os.environ.get("RNNC_TRACEBACK"):
            raise
        sys.stderr.write(
            f"rnnc: internal error: {type(error).__name__}: {error}\n"
            "This is a bug in rnnc. Please report it with the command line and its input "
            "files (RNNC_TRACEBACK=1 shows where it happened).\n"
        )
        return 1
    return status


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not fail too."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def entry_point() -> None:
    """The console script of installs made before it moved to `rnnc.driver.entry` (which
    also sets the BLAS threads before numpy loads)."""
    sys.exit(main())
