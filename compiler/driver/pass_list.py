"""`rnnc --list-passes`: every pass `-p` can name, with its options and their defaults.

Read off each pass's dataclass fields (a pass's options are its fields, as xDSL's pipeline
syntax sets them), so the listing cannot disagree with what `-p 'name{option=value}'`
accepts. rnnc's own passes come first, then each plug-in file's, then xDSL's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from rnnc.driver.pipeline import Passes
from xdsl.passes import ModulePass


def _value(value: object) -> str:
    """A default as the pipeline syntax spells it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple | list):
        return "[" + ",".join(_value(v) for v in value) + "]"
    return str(value)


def _type_name(field: dataclasses.Field) -> str:
    kind = field.type
    return kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))


def _option(field: dataclasses.Field) -> str:
    if field.default is not dataclasses.MISSING:
        return f"{field.name}={_value(field.default)}"
    if field.default_factory is not dataclasses.MISSING:
        return f"{field.name}={_value(field.default_factory())}"
    return f"{field.name}: {_type_name(field)} (required)"


def _summary(pass_type: type[ModulePass]) -> str:
    """The first sentence of the pass's docstring ('' for dataclass's generated one)."""
    paragraph = " ".join((pass_type.__doc__ or "").strip().split("\n\n")[0].split())
    if paragraph.startswith(f"{pass_type.__name__}("):
        return ""
    end = paragraph.find(". ")
    return paragraph if end < 0 else paragraph[: end + 1]


def describe(pass_type: type[ModulePass]) -> str:
    """`name{option=default ...}`, then the first sentence of the pass's docstring."""
    options = [_option(f) for f in dataclasses.fields(pass_type) if f.init]
    signature = pass_type.name + ("{" + " ".join(options) + "}" if options else "")
    summary = _summary(pass_type)
    return f"  {signature}\n      {summary}" if summary else f"  {signature}"


def _section(title: str, types: Iterable[type[ModulePass]]) -> list[str]:
    return [title, *(describe(t) for t in sorted(types, key=lambda t: t.name))]


def list_passes(passes: Passes) -> str:
    """Every pass of `passes`, by origin: rnnc's, each plug-in file's, xDSL's."""
    types = {name: factory() for name, factory in passes.factories.items()}
    ours = [t for n, t in types.items() if n not in passes.plugins
            and t.__module__.startswith("rnnc.")]  # fmt: skip
    lines = _section("rnnc passes (rnnc MODEL -p 'name{option=value option=value},name'):", ours)
    for path in sorted(set(passes.plugins.values())):
        plugin = [types[n] for n, p in passes.plugins.items() if p == path]
        lines += ["", *_section(f"plug-in passes from {path}:", plugin)]
    xdsl = [t for n, t in types.items() if n not in passes.plugins and t not in ours]
    lines += ["", *_section("xDSL passes:", xdsl)]
    return "\n".join(lines) + "\n"
