"""`quantize` against ml_dtypes' cast on every float32 bit pattern, and both timed.

    python bench/quantize_exhaustive.py [--formats NAME ...] [--repeats N]

For each 8-bit format (default float8_e4m3fn and float8_e5m2) all 2^32 float32 bit
patterns are run, in chunks of 2^24, through `rnnc.numerics.precision.quantize` and
through the reference, the cast-based rounding `quantize` used before: clip to the
largest finite value, cast to the format with ml_dtypes and back to float32. A pattern
matches when both results are NaN or both have the same float32 bits (so -0 and +0
differ). Printed per format: the patterns checked, the NaN results, the mismatches with
up to five examples, and the best of N times of both on a (2048, 1024) array of
uniform(-0.1, 0.1) weights (the size of LSTM-512's recurrent matrices, 2M values).
Takes about a minute per format, most of it in the reference cast.
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable

import ml_dtypes
import numpy as np
from rnnc.numerics.precision import NumericMode, quantize

CHUNK = 1 << 24
PATTERNS = 1 << 32
EXAMPLES = 5


def reference(dtype: np.dtype) -> Callable[[np.ndarray], np.ndarray]:
    """The cast-based rounding to `dtype`, saturating at its largest finite value."""
    limit = np.float32(ml_dtypes.finfo(dtype).max)

    def rounded(x: np.ndarray) -> np.ndarray:
        return np.clip(x, -limit, limit).astype(dtype).astype(np.float32)

    return rounded


def mismatches(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Positions where the results differ: not both NaN and not the same bits."""
    both_nan = np.isnan(got) & np.isnan(expected)
    return np.flatnonzero((got.view(np.uint32) != expected.view(np.uint32)) & ~both_nan)


def check_all_patterns(fmt: str) -> tuple[int, int, list[str]]:
    """(NaN results, mismatches, examples of mismatches) over all 2^32 patterns."""
    precision = NumericMode(float8=fmt)
    expect = reference(precision.float8_dtype)
    nans = bad = 0
    examples: list[str] = []
    for start in range(0, PATTERNS, CHUNK):
        bits = np.arange(start, start + CHUNK, dtype=np.uint64).astype(np.uint32)
        x = bits.view(np.float32)
        with np.errstate(invalid="ignore"):  # signalling NaNs, in both
            got, expected = quantize(precision, x), expect(x)
        nans += int(np.count_nonzero(np.isnan(expected)))
        wrong = mismatches(got, expected)
        bad += wrong.size
        for i in wrong[: EXAMPLES - len(examples)]:
            examples.append(
                f"0x{bits[i]:08x} ({x[i]!r}): got {got[i]!r}, cast gives {expected[i]!r}"
            )
    return nans, bad, examples


def best_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        fn()
        times.append(time.perf_counter() - begin)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", nargs="+", default=["float8_e4m3fn", "float8_e5m2"])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    weights = np.random.default_rng(0).uniform(-0.1, 0.1, (2048, 1024)).astype(np.float32)
    print(
        f"{'format':<18} {'checked':>10} {'NaN':>10} {'mismatches':>10} "
        f"{'quantize ms':>11} {'cast ms':>8} {'speed-up':>8}"
    )
    for fmt in args.formats:
        precision = NumericMode(float8=fmt)
        fast = best_time(functools.partial(quantize, precision, weights), args.repeats)
        cast_rounding = reference(precision.float8_dtype)
        cast = best_time(functools.partial(cast_rounding, weights), args.repeats)
        nans, bad, examples = check_all_patterns(fmt)
        print(
            f"{fmt:<18} {PATTERNS:>10} {nans:>10} {bad:>10} "
            f"{fast * 1e3:>11.2f} {cast * 1e3:>8.2f} {cast / fast:>8.1f}"
        )
        for example in examples:
            print(f"    {example}")


if __name__ == "__main__":
    main()
