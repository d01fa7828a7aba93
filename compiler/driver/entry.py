"""The `rnnc` console script: what must be settled before numpy loads, then the command
line (`rnnc.driver.cli.main`).

BLAS libraries read their thread count once, when numpy loads them. rnnc's dense linear
algebra is small systems (placement's quadratic solve, a few hundred units, a few times per
design), where BLAS threads cost far more than they give: on a busy 2-core machine a
300 x 300 `numpy.linalg.solve` took 40 ms of CPU and 80 ms or more of wall time with
OpenBLAS's default threads against 1 ms with one thread, and the compile of an LSTM(64,
128) spent 2.5 s in 16 such solves. A sweep runs one process per core already. So the
command runs BLAS on one thread unless the user's environment says otherwise.

The cyclic garbage collector runs its young generation every `GC_THRESHOLD` allocations
instead of Python's 700. A compile allocates mostly long-lived objects (the IR's ops and
attributes, the machine description), which every collection scans again and never frees:
compiling GRU-2560 ran 1,346 young collections and 7.3-7.5 s of CPU at 700, 27 and
6.6-6.7 s at 50,000, with the same peak memory (487 MB).
"""

from __future__ import annotations

import gc
import os
import sys

#: The variables that set the BLAS thread count of numpy's builds (OpenBLAS wheels, MKL).
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
#: Allocations between two collections of the youngest generation (see above).
GC_THRESHOLD = 50_000


def entry_point() -> None:
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")  # a user's own setting wins
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    from rnnc.driver.cli import main  # numpy loads here, with the setting

    sys.exit(main())
