"""The `rnnc` console script's process settings (`rnnc.driver.entry`)."""

from __future__ import annotations

import subprocess
import sys

from rnnc.driver.entry import GC_THRESHOLD


def test_the_command_collects_young_objects_every_gc_threshold_allocations() -> None:
    # the command line is replaced by a report of what the entry point set up before it
    script = ("import gc, rnnc.driver.cli as cli; "
              "cli.main = lambda: print(gc.get_threshold()) or 0; "
              "from rnnc.driver.entry import entry_point; entry_point()")

    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)

    assert done.stdout.strip() == str((GC_THRESHOLD, 10, 10))
