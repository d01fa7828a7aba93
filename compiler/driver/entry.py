"""The `rnnc` console script: what must be settled before numpy loads, then the command
line (`rnnc.driver.cli.main`).

BLAS libraries read their thread count once, when numpy loads them. rnnc's dense linear
algebra is small systems (placement's quadratic solve, a few hundred units, a few times per
design), where BLAS threads cost far more than they give: on a busy 2-core machine a
300 x 300 `numpy.linalg.solve` took 40 ms of CPU and 80 ms or more of wall time with
OpenBLAS's default threads against 1 ms with one thread, and the compile of an LSTM(64,
128) spent 2.5 s in 16 such solves. A sweep runs one process per core already. So the
command runs BLAS on one thread unless the user's environment says otherwise.
"""

from __future__ import annotations

import os
import sys

#: The variables that set the BLAS thread count of numpy's builds (OpenBLAS wheels, MKL).
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def entry_point() -> None:
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")  # a user's own setting wins
    from rnnc.driver.cli import main  # numpy loads here, with the setting

    sys.exit(main())
