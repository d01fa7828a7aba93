"""Reading, verifying and transforming rnnc modules: the pieces every driver shares.

Parsing records where each operation starts in the source, so that a verifier error can be
reported at the operation that caused it. Passes come from xDSL's universe (upstream
passes, rnnc's own and any installed `xdsl.universe` plug-in) plus passes loaded from
single files with `--load-pass-plugin`.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from rnnc.diagnostics import Diagnostic, at_span
from rnnc.universe import RNNC_UNIVERSE
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.parser import Parser
from xdsl.passes import ModulePass, PassPipeline
from xdsl.universe import Universe
from xdsl.utils.arg_spec import ArgSpecParseError
from xdsl.utils.exceptions import DiagnosticException, ParseError, VerifyException
from xdsl.utils.lexer import Span

PassFactory = Callable[[], type[ModulePass]]


def _universe() -> Universe:
    """Every installed universe, with rnnc's own even when it is run from a source tree."""
    universe = Universe.get_multiverse()
    for name, factory in RNNC_UNIVERSE.all_dialects.items():
        universe.all_dialects.setdefault(name, factory)
    for name, factory in RNNC_UNIVERSE.all_passes.items():
        universe.all_passes.setdefault(name, factory)
    return universe


def make_context() -> Context:
    """A context in which every dialect of every installed universe is registered."""
    ctx = Context()
    for name, factory in _universe().all_dialects.items():
        ctx.register_dialect(name, factory)
    return ctx


class SourceMap:
    """Where each parsed operation starts in its source file."""

    def __init__(self, path: str):
        self.path = path
        self.spans: dict[Operation, Span[str]] = {}

    def diagnostic(self, op: Operation, message: str) -> Diagnostic:
        span = self.spans.get(op)
        if span is None:  # created by a pass: the best location is the file and the op
            return Diagnostic(self.path, f"in {op.name}: {message}")
        return at_span(span, message)


class _LocatingParser(Parser):
    """A parser that records the source span at which each operation starts."""

    def __init__(self, ctx: Context, text: str, path: str, source_map: SourceMap):
        super().__init__(ctx, text, path)
        self._source_map = source_map

    def parse_operation(self) -> Operation:
        start = self._current_token.span
        op = super().parse_operation()
        self._source_map.spans[op] = start
        return op


def parse_module(ctx: Context, text: str, path: str) -> tuple[ModuleOp, SourceMap]:
    """Parse and verify `text`; every error becomes a located `Diagnostic`."""
    source_map = SourceMap(path)
    try:
        module = _LocatingParser(ctx, text, path, source_map).parse_module()
    except ParseError as error:
        raise at_span(error.span, error.msg) from None
    verify_module(module, source_map)
    return module, source_map


def read_text(path: str) -> str:
    """The text of a model file; `-` reads standard input."""
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text()
    except OSError as error:
        raise Diagnostic(path, f"cannot read the model: {error.strerror}") from None
    except UnicodeDecodeError:
        raise Diagnostic(path, "the model is not a UTF-8 text file") from None


def split_input(text: str) -> list[str]:
    """Chunks of a file separated by `// -----` lines, each padded with blank lines so that
    the line numbers of its diagnostics are those of the whole file."""
    chunks, start_line = [], 0
    lines = text.split("\n")
    current: list[str] = []
    for line in [*lines, "// -----"]:
        if line.strip() == "// -----":
            chunks.append("\n" * start_line + "\n".join(current))
            start_line += len(current) + 1
            current = []
        else:
            current.append(line)
    return chunks


def verify_module(module: ModuleOp, source_map: SourceMap) -> None:
    """Verify op by op so that the first failure is reported where that op is."""
    for op in module.walk():
        try:
            op.verify(verify_nested_ops=False)
        except VerifyException as error:
            raise source_map.diagnostic(op, str(error)) from None


def load_pass_plugin(path: str) -> dict[str, type[ModulePass]]:
    """Import a single-file plug-in and return the `ModulePass` classes it defines."""
    file = Path(path).resolve()
    if not file.is_file():
        raise Diagnostic(path, "no such pass plug-in file")
    spec = importlib.util.spec_from_file_location(f"rnnc_plugin_{file.stem}", file)
    if spec is None or spec.loader is None:
        raise Diagnostic(path, "cannot load this file as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # a broken plug-in is user input: report it, do not crash
        raise Diagnostic(path, f"the plug-in failed to import: {error!r}") from None
    found = {
        value.name: value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, ModulePass)
        and value.__module__ == module.__name__
        and not inspect.isabstract(value)
    }
    if not found:
        raise Diagnostic(path, "the plug-in defines no ModulePass subclass")
    return found


def available_passes(plugin_files: Iterable[str] = ()) -> dict[str, PassFactory]:
    passes = dict(_universe().all_passes)
    for path in plugin_files:
        for name, pass_type in load_pass_plugin(path).items():
            passes[name] = lambda pass_type=pass_type: pass_type
    return passes


PassCallback = Callable[[ModulePass, ModuleOp, ModulePass], None]


def build_pipeline(
    spec: str, passes: dict[str, PassFactory], callback: PassCallback | None = None
) -> PassPipeline:
    """Parse an xDSL pipeline text (`a,b{opt=1}`); a bad spec becomes a `Diagnostic`."""
    try:
        return PassPipeline.parse_spec(passes, spec, callback)
    except (ValueError, ArgSpecParseError, KeyError) as error:
        raise Diagnostic("-p", f"invalid pass pipeline '{spec}': {_first_line(error)}") from None


def run_pipeline(ctx: Context, module: ModuleOp, pipeline: PassPipeline, path: str) -> None:
    """Apply `pipeline`; pass failures and verifier errors after a pass are diagnostics."""
    try:
        pipeline.apply(ctx, module)
    except VerifyException as error:
        raise Diagnostic(path, f"invalid IR after a pass: {error}") from None
    except DiagnosticException as error:
        raise Diagnostic(path, str(error)) from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
