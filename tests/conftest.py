"""Settings for the whole test session, made before any test module loads numpy.

The tests call `rnnc.driver.cli.main` in-process, not the `rnnc` console script, so they
would run numpy's BLAS on its default threads where the command runs it on one
(`rnnc.driver.entry`: its small solves cost far more in thread hand-offs than they gain,
worst on a busy 2-core machine). The session takes the command's setting, so the tests
compile as `rnnc` does; a thread count in the environment still wins.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from rnnc.driver.entry import BLAS_THREAD_VARIABLES

if TYPE_CHECKING:
    from rnnc.driver.design_points import Compiled

# BLAS reads its thread count once, when numpy loads it: nothing may have loaded it yet
assert "numpy" not in sys.modules, "numpy loaded before tests/conftest.py set its threads"
for _name in BLAS_THREAD_VARIABLES:
    os.environ.setdefault(_name, "1")

DEEPBENCH = Path(__file__).parents[1] / "examples" / "deepbench"


@pytest.fixture(scope="session")
def deepbench_design() -> Callable[[str], Compiled]:
    """`examples/deepbench/NAME.mlir` compiled at the search's point (`compile_at` with no
    factors: the default pipeline's search with its routability retries, partition, place
    and route), once per session for every test that needs the task: the cost model's
    check against the simulator and the place-and-route tests. Read-only: a test that runs
    passes on the module runs them on a clone."""
    from rnnc.driver.design_points import compile_at
    from rnnc.target.arch import DEFAULT_ARCHITECTURE, load_architecture

    arch = load_architecture(DEFAULT_ARCHITECTURE)

    @cache
    def compiled(name: str) -> Compiled:
        path = DEEPBENCH / f"{name}.mlir"
        return compile_at(path.read_text(), arch, DEFAULT_ARCHITECTURE, None, path=str(path))

    return compiled
