"""Reading, verifying and transforming rnnc modules: the pieces every driver shares.

Parsing records where each operation starts in the source, so that a verifier error can be
reported at the operation that caused it. Passes come from xDSL's universe (upstream
passes, rnnc's own and any installed `xdsl.universe` plug-in) plus passes loaded from
single files with `--load-pass-plugin`.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

from rnnc.diagnostics import Diagnostic, at_span
from rnnc.dialects.spatial import DesignOp, PipelineOp
from rnnc.driver import routable
from rnnc.target.design_checks import DesignError, verify_design
from rnnc.target.registry import DesignArchitectureError, architectures
from rnnc.universe import RNNC_UNIVERSE
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.parser import Parser
from xdsl.parser.generic_parser import ParserState
from xdsl.passes import ModulePass
from xdsl.printer import Printer
from xdsl.universe import Universe
from xdsl.utils.arg_spec import ArgSpecParseError, parse_pipeline
from xdsl.utils.exceptions import DiagnosticException, ParseError, VerifyException
from xdsl.utils.lexer import Input, Span
from xdsl.utils.mlir_lexer import MLIRLexer

PassFactory = Callable[[], type[ModulePass]]


def _universe() -> Universe:
    """Every installed universe, with rnnc's own even when it is run from a source tree."""
    universe = Universe.get_multiverse()
    for name, factory in RNNC_UNIVERSE.all_dialects.items():
        universe.all_dialects.setdefault(name, factory)
    for name, factory in RNNC_UNIVERSE.all_passes.items():
        universe.all_passes.setdefault(name, factory)
    return universe


def make_context(arch: str = "") -> Context:
    """A context in which every dialect of every installed universe is registered, whose
    architectures (`rnnc.target.registry`) are the presets and `arch` (a preset name or a
    JSON/YAML file; its `Diagnostic` if it is bad)."""
    ctx = Context()
    for name, factory in _universe().all_dialects.items():
        ctx.register_dialect(name, factory)
    if arch:
        registry = architectures(ctx)
        registry.add(registry.get(arch))
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


class _Lexer(MLIRLexer):
    """xDSL 0.74's lexer with a string-literal pattern that runs in linear time.

    Upstream's `"(?:[^"...]+|escape)*"` nests `+` in `*`, so an unterminated string (one
    stray `"`) makes the regex engine try every split of the rest of the line: a 40
    character tail already takes minutes. Matching one character at a time accepts the
    same strings without the ambiguity."""

    _unescaped_characters_regex = re.compile(
        r'"(?:[^"\\\n\v\f]|\\(?:["nt\\]|[0-9A-Fa-f]{2}))*"'
    )


class _LocatingParser(Parser):
    """A parser that records the source span at which each operation starts."""

    def __init__(self, ctx: Context, text: str, path: str, source_map: SourceMap):
        super().__init__(ctx, text, path)
        self._parser_state = ParserState(_Lexer(Input(text, path)))
        self._source_map = source_map

    @property
    def last_token_span(self) -> Span[str]:
        """Where the parser is: the token it stopped at."""
        return self._current_token.span

    def parse_operation(self) -> Operation:
        start = self._current_token.span
        op = super().parse_operation()
        self._source_map.spans[op] = start
        return op


#: What some editors put at the start of a UTF-8 file.
BYTE_ORDER_MARK = "\ufeff"


def parse_module(ctx: Context, text: str, path: str) -> tuple[ModuleOp, SourceMap]:
    """Parse and verify `text`; every error becomes a located `Diagnostic`."""
    source_map = SourceMap(path)
    if text.startswith(BYTE_ORDER_MARK):
        raise Diagnostic(f"{path}:1:1", "the file starts with a UTF-8 byte-order mark "
                         "(U+FEFF), which MLIR text does not take: save it without one")
    try:  # the parser reads the first token as it is made
        parser = _LocatingParser(ctx, text, path, source_map)
        module = parser.parse_module()
    except ParseError as error:
        raise at_span(error.span, _parse_message(error, text)) from None
    except RecursionError:
        raise Diagnostic(path, "the input is nested too deeply to parse "
                         "(brackets, braces or regions inside each other)") from None
    except (VerifyException, ValueError, OverflowError) as error:  # e.g. 2**70 as an i64
        raise at_span(parser.last_token_span, _first_line(error)) from None
    verify_module(module, source_map)
    verify_designs(ctx, module, source_map)
    return module, source_map


def _parse_message(error: ParseError, text: str) -> str:
    """xDSL's message, or one that says something where xDSL's is blank or only context
    (a truncated file gives ' in block definition')."""
    message = error.msg.strip()
    if message == "End of file reached before closing string literal.":  # or of the line
        return "unterminated string literal: no closing '\"' on this line"
    if message and message != "in block definition":
        return message
    if not text[error.span.start :].strip():
        return "unexpected end of file: the input is truncated (a '}' or more is missing)"
    return "expected an operation, a block label or '}'"


#: The largest model text read: far above any real model (weights live in .npz files), and
#: a bound on what reading `/dev/zero` or a runaway pipe may take.
MAX_MODEL_BYTES = 1 << 30


def read_text(path: str) -> str:
    """The text of a model file; `-` reads standard input."""
    if Path(path).is_dir():
        raise Diagnostic(path, "cannot read the model: it is a directory")
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_MODEL_BYTES + 1)
        else:
            with open(path, "rb") as stream:
                data = stream.read(MAX_MODEL_BYTES + 1)
    except OSError as error:
        raise Diagnostic(path, f"cannot read the model: {error.strerror}") from None
    if len(data) > MAX_MODEL_BYTES:
        raise Diagnostic(path, f"the model is larger than {MAX_MODEL_BYTES >> 20} MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Diagnostic(
            path, f"the model is not a UTF-8 text file (byte {error.start} is "
            f"{data[error.start]:#x})"
        ) from None


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


#: What `_apply_pass` verifies after a pass, by the pass's `VERIFY_AFTER` (a class
#: attribute; passes without one, such as plug-ins, get "all"): "all" the module;
#: "units" all but the ops inside the units (a PCU's pipeline), for passes that change
#: only the units', streams' and design's own properties (post-writes, place, route,
#: predict);
#: "none" for a pass that leaves the module unchanged (spatial-verify).
VERIFY_SCOPES = ("all", "units", "none")


def verify_module(module: ModuleOp, source_map: SourceMap, *, bodies: bool = True) -> None:
    """Verify op by op so that the first failure is reported where that op is; without
    `bodies`, the ops inside units are left out (verified before, and unchanged)."""
    for op in module.walk():
        if not bodies and isinstance(op, PipelineOp):
            continue
        try:
            op.verify(verify_nested_ops=False)
        except VerifyException as error:
            raise source_map.diagnostic(op, str(error)) from None


def verify_designs(ctx: Context, module: ModuleOp, source_map: SourceMap) -> None:
    """Check each `spatial.design` of the module against the architecture it names, from
    the context's registry (the checks its op verifiers cannot make alone)."""
    for op in module.walk():
        if not isinstance(op, DesignOp):
            continue
        try:
            verify_design(op, architectures(ctx).for_design(op))
        except DesignArchitectureError as error:
            raise source_map.diagnostic(op, str(error)) from None
        except DesignError as error:
            raise source_map.diagnostic(error.op, str(error)) from None


def load_pass_plugin(path: str) -> dict[str, type[ModulePass]]:
    """Import a single-file plug-in and return the `ModulePass` classes it defines, by name."""
    file = Path(path).resolve()
    if not file.is_file():
        raise Diagnostic(path, "no such pass plug-in file")
    spec = importlib.util.spec_from_file_location(f"rnnc_plugin_{file.stem}", file)
    if spec is None or spec.loader is None:
        raise Diagnostic(path, "cannot load this file as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__
    try:
        spec.loader.exec_module(module)
    # A broken plug-in is user input, whatever it raises: report it, never exit or crash.
    except (Exception, SystemExit, KeyboardInterrupt) as error:
        del sys.modules[spec.name]
        raise Diagnostic(path, f"the plug-in failed to import: {_describe(error)}") from None
    finally:
        sys.dont_write_bytecode = writes_bytecode
    classes = [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, ModulePass)
        and value.__module__ == module.__name__
        and not inspect.isabstract(value)
    ]
    if not classes:
        raise Diagnostic(path, "the plug-in defines no ModulePass subclass")
    found = {}
    for pass_type in classes:
        name = getattr(pass_type, "name", None)
        if not isinstance(name, str) or not _PASS_NAME.fullmatch(name):
            raise Diagnostic(path, f"the pass class {pass_type.__name__} needs a `name`: a "
                             f"string class attribute such as 'my-pass', got {name!r}")
        found[name] = pass_type
    return found


#: What a pass name may look like in a pipeline text.
_PASS_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def available_passes(plugin_files: Iterable[str] = ()) -> Passes:
    """Every pass by name: the universe's and those of each plug-in file."""
    passes = Passes(dict(_universe().all_passes), {})
    for path in plugin_files:
        for name, pass_type in load_pass_plugin(path).items():
            passes.factories[name] = lambda pass_type=pass_type: pass_type
            passes.plugins[name] = path
    return passes


@dataclass(frozen=True)
class Passes:
    """Passes by name, and the file of those that come from a `--load-pass-plugin`."""

    factories: dict[str, PassFactory]
    plugins: dict[str, str]


def build_pipeline(spec: str, passes: Passes) -> tuple[ModulePass, ...]:
    """Parse an xDSL pipeline text (`a,b{opt=1}`); a bad spec becomes a `Diagnostic`, and
    so does a plug-in pass that cannot be constructed (naming its file)."""
    try:
        specs = list(parse_pipeline(spec))
    except ArgSpecParseError as error:
        raise Diagnostic("-p", f"invalid pass pipeline '{spec}': {_spec_error(error)}") from None
    except (ValueError, KeyError) as error:
        raise Diagnostic("-p", f"invalid pass pipeline '{spec}': {_first_line(error)}") from None
    unknown = [each.name for each in specs if each.name not in passes.factories]
    if unknown:
        raise Diagnostic("-p", f"invalid pass pipeline '{spec}': unknown pass "
                         f"'{unknown[0]}' (see `xdsl-opt --help` for the passes)")
    built = []
    for each in specs:
        try:
            built.append(passes.factories[each.name]().from_pass_spec(each))
        except (ValueError, ArgSpecParseError, KeyError, TypeError) as error:
            raise Diagnostic("-p", f"invalid pass pipeline '{spec}': {_first_line(error)}") \
                from None
        except (Exception, SystemExit) as error:
            if each.name not in passes.plugins:
                raise
            raise Diagnostic(passes.plugins[each.name], f"pass '{each.name}' cannot be "
                             f"constructed: {_describe(error)}") from None
    return tuple(built)


PassCallback = Callable[[ModulePass, ModuleOp], None]


def run_pipeline(
    ctx: Context,
    module: ModuleOp,
    passes: Sequence[ModulePass],
    source: SourceMap | str,
    after_each: PassCallback | None = None,
) -> None:
    """Apply `passes` in order, verifying the IR after each one, so that a pass that leaves
    invalid IR is named as the culprit. Failures are diagnostics at the model file: what
    the pass reported, or for a pass from outside rnnc (upstream xDSL, a plug-in), whatever
    it raised. `source` locates the ops of the input (or is just the file's name).

    A design-space search followed by spatial passes runs until its point partitions,
    places and routes (`rnnc.driver.routable`)."""
    source_map = source if isinstance(source, SourceMap) else SourceMap(source)
    at = routable.search_index(passes)

    def apply(target: ModuleOp, each_of: Sequence[ModulePass]) -> None:
        for each in each_of:
            _apply_pass(ctx, target, each, source_map, fitting=at is not None)
            if after_each is not None:
                after_each(each, target)

    if at is None:
        apply(module, passes)
        return
    apply(module, passes[:at])
    try:
        routable.run_until_it_fits(module, passes[at], passes[at + 1 :], apply)
    except routable.DoesNotFit as error:
        raise Diagnostic(source_map.path, str(error)) from None


def _apply_pass(ctx: Context, module: ModuleOp, each: ModulePass, source_map: SourceMap, *,
                fitting: bool) -> None:
    """Apply one pass and verify the IR after it. With `fitting`, a spatial pass that
    refuses the design point raises `routable.DoesNotFit` (the search then tries again)."""
    try:
        each.apply(ctx, module)
    except VerifyException as error:
        raise Diagnostic(source_map.path, f"pass '{each.name}' failed: {error}") from None
    except DiagnosticException as error:
        if fitting and routable.refuses_the_point(each, error):
            raise routable.DoesNotFit(str(error)) from None
        raise Diagnostic(source_map.path, str(error)) from None
    except Diagnostic:
        raise
    except (Exception, SystemExit) as error:
        if _is_rnnc_pass(each) and not isinstance(error, SystemExit):
            raise  # a bug of rnnc's own: an internal error
        raise Diagnostic(source_map.path, f"pass '{each.name}' failed: "
                         f"{_describe(error)}") from None
    scope = getattr(each, "VERIFY_AFTER", "all")
    if scope == "none":
        return
    try:
        verify_module(module, source_map, bodies=scope == "all")
        verify_designs(ctx, module, source_map)
    except Diagnostic as error:
        raise Diagnostic(error.location, f"invalid IR after pass '{each.name}': "
                         f"{error.message}", error.context) from None


def _spec_error(error: ArgSpecParseError) -> str:
    """xDSL's multi-line report (a title, `pass-pipeline:1:COL`, the text, a caret, the
    message) in one line: the message and the column."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    column = lines[1].rsplit(":", 1)[-1] if len(lines) > 1 else "?"
    return f"{lines[-1]} (at column {column})"


def _is_rnnc_pass(each: ModulePass) -> bool:
    return type(each).__module__.split(".")[0] == "rnnc"


def _describe(error: BaseException) -> str:
    """An exception in one line: its type and message."""
    if isinstance(error, RecursionError):
        return "RecursionError: maximum recursion depth exceeded"
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def print_ir(module: ModuleOp, generic: bool = False) -> str:
    """The module's text, custom or generic form, with a final newline."""
    buffer = StringIO()
    Printer(stream=buffer, print_generic_format=generic).print_op(module)
    return buffer.getvalue() + "\n"
