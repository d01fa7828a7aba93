"""User-facing errors: one diagnostic with a location, never a traceback.

Every error caused by user input (model files, input arrays, pipelines, architecture and
configuration files) is raised as a `Diagnostic`. The command-line driver prints it to
stderr and exits with status 1.
"""

from __future__ import annotations

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
