"""The `rnnc` command line.

    rnnc model.mlir [-p PIPELINE] [--emit=LEVEL] [-o OUT]   compile (print or write the IR)
    rnnc run model.mlir --inputs in.npz [-p PIPELINE] [-o out.npz]   interpret
    rnnc import model.onnx -o model.mlir                     ONNX front end
    rnnc gen CELL HIDDEN STEPS [--batch N] [--seed S] -o model.mlir   DeepBench-style model
    rnnc gen --csv-row N [--csv FILE] [--seed S] -o model.mlir         ... from a DeepBench row
    rnnc sweep STUDY.yaml -o results.parquet|.csv [--engine local|ray]  design-space study
    rnnc plot results.parquet --kind pareto|speedup|heatmap -o fig.png  its pictures

Errors in user input are printed as one `location: error: message` diagnostic and exit
with status 1; no traceback, and no output file is left behind. Set RNNC_TRACEBACK=1 to see
the traceback of an internal error.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable, Sequence
from io import StringIO
from pathlib import Path
from typing import NoReturn

import numpy as np
from rnnc.diagnostics import Diagnostic
from rnnc.driver import pipeline
from rnnc.driver.io import load_npz, save_npz, write_atomically
from rnnc.numerics.precision import Precision, parse_precision
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.passes import ModulePass, PassPipeline
from xdsl.printer import Printer

#: Pass pipelines that take a model from the rnn level down to each level.
LEVEL_PIPELINES: dict[str, str] = {
    "rnn": "",
    "loop": "rnn-decompose,loop-fuse,loop-assign-resources",
}


class _ArgumentParser(argparse.ArgumentParser):
    """argparse, but usage errors are diagnostics with exit status 1 like every other."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise Diagnostic(self.prog, message)


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
    design = parser.add_argument_group(
        "design options", "set the option of the same name on every pass in the pipeline that "
        "has it (loop-assign-resources)"
    )
    design.add_argument("--arch", metavar="NAME|FILE", help="architecture preset or JSON/YAML file")
    design.add_argument("--objective", choices=["latency", "resources"])
    design.add_argument("--chips", type=int, metavar="N",
                        help="chips to split each layer over (0: the fewest that hold its weights)")
    design.add_argument("--dse-dump", metavar="FILE.csv", help="write every evaluated design point")
    design.add_argument("--precision", metavar="MODE",
                        help="fp32 or mixed (the paper's 8/16/32-bit mode); `rnnc run` emulates "
                        "it, e.g. mixed:lut=512,range=6")


#: Command-line flags that set the option of the same name on the passes that have one.
PASS_OPTION_FLAGS = ("arch", "objective", "chips", "dse_dump", "precision")


def _pass_options(args: argparse.Namespace) -> dict[str, object]:
    options: dict[str, object] = {
        flag: getattr(args, flag) for flag in PASS_OPTION_FLAGS if getattr(args, flag) is not None
    }
    if "precision" in options:  # passes take the mode's name; its LUT details are run-time
        options["precision"] = _precision(args.precision).name
    return options


def _precision(text: str, flag: str = "--precision") -> Precision:
    try:
        return parse_precision(text)
    except ValueError as error:
        raise Diagnostic(flag, str(error)) from None


def _with_options(
    passes: PassPipeline, options: dict[str, object], optional: frozenset[str] = frozenset()
) -> PassPipeline:
    """`passes` with each option set on every pass that has a field of that name; an
    option that no pass takes is an error rather than silently ignored, unless the command
    has another use for it (`optional`)."""
    unused = set(options) - optional
    configured = []
    for each in passes.passes:
        fields = {f.name for f in dataclasses.fields(each)}
        taken = {k: v for k, v in options.items() if k in fields}
        unused -= set(taken)
        configured.append(dataclasses.replace(each, **taken))
    if unused:
        flags = ", ".join("--" + name.replace("_", "-") for name in sorted(unused))
        raise Diagnostic(flags, "no pass in the pipeline takes this option (add "
                         "loop-assign-resources, e.g. --emit=loop)")
    return PassPipeline(tuple(configured), passes.callback)


def _compile_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="rnnc",
        description="Compile an rnnc model (see also: rnnc run, rnnc import, rnnc gen).",
    )
    parser.add_argument("model", help="the model (.mlir)")
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
    _add_pipeline_options(parser)
    return parser


def _run_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog="rnnc run", description="Interpret a model on numpy inputs.")
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
    parser = _ArgumentParser(prog="rnnc import", description="Import an ONNX model.")
    parser.add_argument("model", help="the ONNX model (.onnx)")
    parser.add_argument(
        "-o", "--output", required=True, help="the .mlir to write; weights go to a .npz beside it"
    )
    return parser


def _gen_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="rnnc gen", description="Generate a DeepBench-style model with random weights."
    )
    # Either the sizes, or a row of a DeepBench table: both spellings are optional here and
    # gen_main checks that exactly one is given.
    parser.add_argument("cell", nargs="?", choices=["lstm", "gru", "rnn"])
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
    parser = _ArgumentParser(
        prog="rnnc sweep",
        description="Compile every point of a design-space study (models x architectures x "
        "pipelines x precisions x objectives x chips) and write one row per point.",
    )
    parser.add_argument("study", help="the study (.yaml or .json)")
    parser.add_argument("-o", "--output", required=True, help="the table: .parquet or .csv")
    parser.add_argument("--engine", choices=["local", "ray"], default="local",
                        help="a local process pool (default) or Ray tasks")
    parser.add_argument("--address", metavar="ADDR",
                        help="with --engine ray: an existing Ray cluster (default: start one)")
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

    parser = _ArgumentParser(prog="rnnc plot", description="Draw a sweep's results.")
    parser.add_argument("results", help="the table written by rnnc sweep (.parquet or .csv)")
    parser.add_argument("--kind", choices=KINDS, required=True)
    parser.add_argument("-o", "--output", action="append", required=True, metavar="FILE",
                        help=".png or .svg (repeatable)")
    parser.add_argument("--where", action="append", default=[], metavar="COLUMN=VALUE",
                        help="keep only the rows where COLUMN is VALUE (repeatable)")
    parser.add_argument("--x", choices=["pcus", "area"], default="pcus",
                        help="pareto: PCUs used by the design, or the chip's die area")
    parser.add_argument("--axes", nargs=2, metavar=("FIELD", "FIELD"),
                        help="heatmap: the two varied architecture fields (default: the two "
                        "the study varies)")
    return parser


def _emit_text(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomically(output, lambda tmp: tmp.write_text(text))


def print_ir(module: ModuleOp, generic: bool = False) -> str:
    buffer = StringIO()
    Printer(stream=buffer, print_generic_format=generic).print_op(module)
    return buffer.getvalue() + "\n"


# ---- the shared front half: read, verify, transform ------------------------------------------


def _transform(
    text: str,
    args: argparse.Namespace,
    default_pipeline: str = "",
    optional: frozenset[str] = frozenset(),
) -> ModuleOp:
    """Parse and verify `text`, then apply `-p` (or `default_pipeline`) with the design
    options of the command line (see `_with_options` for `optional`)."""
    ctx = pipeline.make_context()
    module, _ = pipeline.parse_module(ctx, text, args.model)
    spec = args.passes if args.passes is not None else default_pipeline
    options = _pass_options(args)
    if spec:
        passes = pipeline.available_passes(args.load_pass_plugin)
        callback = _print_after_each_pass if args.print_ir_after_all else None
        built = pipeline.build_pipeline(spec, passes, callback)
        configured = _with_options(built, options, optional)
        pipeline.run_pipeline(ctx, module, configured, args.model)
    else:
        if args.load_pass_plugin:
            pipeline.available_passes(args.load_pass_plugin)  # still report a broken plug-in
        _with_options(PassPipeline(()), options, optional)
    return module


def _print_after_each_pass(previous: ModulePass, module: ModuleOp, following: ModulePass) -> None:
    del following
    sys.stderr.write(f"// -----// IR Dump After {previous.name} //----- //\n")
    sys.stderr.write(print_ir(module))


def _load_weights(module: ModuleOp, model_path: str) -> dict[str, np.ndarray]:
    """The arrays of the `.npz` named by the module's `rnn.weights` attribute, if any."""
    attr = module.attributes.get("rnn.weights")
    if attr is None:
        return {}
    if not isinstance(attr, StringAttr):
        raise Diagnostic(model_path, "the module attribute rnn.weights must be a string")
    path = Path(model_path).parent / attr.data
    return load_npz(str(path))


# ---- subcommands --------------------------------------------------------------------------------


def compile_main(argv: Sequence[str]) -> int:
    args = _compile_parser().parse_args(argv)
    default_pipeline = LEVEL_PIPELINES[args.emit or "rnn"]
    text = pipeline.read_text(args.model)
    if args.stats:
        _emit_text(_stats(text, args), args.output)
        return 0
    if not args.split_input_file:
        module = _transform(text, args, default_pipeline)
        _emit_text(print_ir(module, args.print_op_generic), args.output)
        return 0
    # As in mlir-opt: every chunk is compiled on its own and its diagnostics reported; the
    # command fails if any chunk did.
    outputs, failed = [], False
    for chunk in pipeline.split_input(text):
        try:
            outputs.append(
                print_ir(_transform(chunk, args, default_pipeline), args.print_op_generic)
            )
        except Diagnostic as diagnostic:
            sys.stderr.write(diagnostic.render() + "\n")
            failed = True
    _emit_text("// -----\n".join(outputs), args.output)
    return 1 if failed else 0


def _stats(text: str, args: argparse.Namespace) -> str:
    from rnnc.analysis import stats

    levels = stats.LEVELS if args.passes is None else ((f"after -p {args.passes}", args.passes),)
    figures = []
    for label, spec in levels:
        module = _transform(text, argparse.Namespace(**{**vars(args), "passes": spec}))
        figures.append(stats.level_stats(module, label))
    return stats.format_stats(figures)


def run_main(argv: Sequence[str]) -> None:
    from rnnc import interpreters as interpreter
    from rnnc.numerics.precision import error_report

    args = _run_parser().parse_args(argv)
    precision = _precision(args.precision or "fp32")
    # the interpreter emulates --precision whether or not a pass also takes it
    module = _transform(pipeline.read_text(args.model), args, optional=frozenset({"precision"}))
    if precision.mixed and not interpreter.uses_loop_level(module):
        raise Diagnostic(
            "--precision",
            f"{precision} is emulated at the loop level; add a pipeline that reaches it, "
            "e.g. -p rnn-decompose,loop-fuse",
        )
    weights = _load_weights(module, args.model)
    inputs = load_npz(args.inputs)

    def execute(mode: Precision) -> dict[str, np.ndarray]:
        return interpreter.run(
            module, inputs, weights, symbol=args.symbol, source=args.inputs, precision=mode
        )

    results = execute(precision)
    if args.compare is not None:
        reference = _precision(args.compare, "--compare")
        print(error_report(execute(reference), results, str(reference), str(precision)))
    if args.output is None:
        if args.compare is None:
            for name, value in results.items():
                print(f"{name}: shape {list(value.shape)}\n{value}")
    else:
        write_atomically(args.output, lambda tmp: save_npz(tmp, results))


def import_main(argv: Sequence[str]) -> None:
    from rnnc.frontends import onnx_import

    args = _import_parser().parse_args(argv)
    weights_name = Path(args.output).with_suffix(".npz").name
    text, weights = onnx_import.import_file(args.model, weights_name)
    if weights:
        weights_path = str(Path(args.output).with_name(weights_name))
        write_atomically(weights_path, lambda tmp: save_npz(tmp, weights))
    write_atomically(args.output, lambda tmp: tmp.write_text(text))


def gen_main(argv: Sequence[str]) -> None:
    from rnnc.frontends import deepbench

    args = _gen_parser().parse_args(argv)
    if args.csv_row is not None:
        if args.cell is not None or args.batch is not None:
            raise Diagnostic(
                "rnnc gen", "give CELL HIDDEN STEPS [--batch N] or --csv-row N, not both"
            )
        task = deepbench.csv_task(args.csv_row, args.csv or deepbench.CSV_PATH)
    elif args.steps is None:
        raise Diagnostic("rnnc gen", "expected CELL HIDDEN STEPS (or --csv-row N)")
    else:
        task = deepbench.Task(args.cell, args.hidden, args.steps, args.batch or 1)
    task = deepbench.Task(task.cell, task.hidden, task.steps, task.batch, args.input)
    target = Path(args.output)
    weights_path = target.with_suffix(".npz")
    text, weights, inputs = deepbench.generate(task, weights_path.name, args.seed)
    write_atomically(str(weights_path), lambda tmp: save_npz(tmp, weights, compress=True))
    write_atomically(str(target.with_suffix(".inputs.npz")), lambda tmp: save_npz(tmp, inputs))
    write_atomically(args.output, lambda tmp: tmp.write_text(text))


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
    try:
        outcome = sweep.run_sweep(study, engine=args.engine, workers=args.workers,
                                  address=args.address,
                                  cache_dir=None if args.no_cache else folder,
                                  max_points=args.max_points)
    except KeyboardInterrupt:
        sys.stderr.write("rnnc sweep: interrupted; finished points are cached: run the sweep "
                         "again to resume\n")
        return 130
    sys.stderr.write(f"rnnc sweep: {outcome.summary()}\n")
    if outcome.rows is not None:
        table.write(args.output, outcome.rows, outcome.columns)
    return 0


def plot_main(argv: Sequence[str]) -> None:
    from rnnc.driver.plot import plot

    args = _plot_parser().parse_args(argv)
    plot(args.results, args.kind, args.output, where=args.where, x=args.x, axes=args.axes)


SUBCOMMANDS: dict[str, Callable[[Sequence[str]], int | None]] = {
    "run": run_main,
    "import": import_main,
    "gen": gen_main,
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
    except Diagnostic as diagnostic:
        sys.stderr.write(diagnostic.render() + "\n")
        return 1
    except Exception as error:
        if os.environ.get("RNNC_TRACEBACK"):
            raise
        sys.stderr.write(f"rnnc: internal error: {type(error).__name__}: {error}\n")
        return 1
    return status


def entry_point() -> None:
    sys.exit(main())
