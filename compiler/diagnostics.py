"""User-facing errors: one diagnostic with a location, never a traceback.

Every error caused by user input (model files, input arrays, pipelines, architecture and
configuration files) is raised as a `Diagnostic`. The command-line driver prints it to
stderr and exits with status 1.
"""

from __future__ import annotations

import os

from xdsl.utils.lexer import Span


class Diagnostic(Exception):
    """An error in user input, located at `location` (`file`, `file:line:col`, `file: key`)."""

    def __init__(self, location: str, message: str, context: str = ""):
        super().__init__(f"{location}: error: {message}")
        self.location = location
        self.message = message
        self.context = context

    def render(self) -> str:
        """The diagnostic as printed: a `location: error: message` line, then any context."""
        text = str(self)
        return f"{text}\n{self.context}" if self.context else text


def at_span(span: Span[str], message: str) -> Diagnostic:
    """A diagnostic at a parsed source span, with the source line and a caret under it."""
    context = span.print_with_context().split("\n", 1)[1].rstrip("\n")
    return Diagnostic(str(span.get_location()), message, context)


def memory_bytes() -> int:
    """The physical memory of this machine, in bytes: no single array may be larger."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not reported (non-POSIX): assume 16 GiB
        return 16 << 30


def human_bytes(count: int) -> str:
    """`count` bytes in binary units, e.g. '3.6 TiB'."""
    size = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024:
            return f"{count} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.3g} PiB"


def check_fits_in_memory(count: int, location: str, what: str) -> None:
    """Refuse, before allocating it, `what` taking `count` bytes when that exceeds memory."""
    limit = memory_bytes()
    if count > limit:
        raise Diagnostic(
            location,
            f"{what} would take {human_bytes(count)} ({count:.3g} bytes), more than this "
            f"machine's {human_bytes(limit)} of memory",
        )
