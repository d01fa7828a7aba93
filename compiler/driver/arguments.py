"""The command line's argument parser."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from rnnc.diagnostics import Diagnostic


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but usage errors are diagnostics with exit status 1 like every other."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise Diagnostic(self.prog, message)
