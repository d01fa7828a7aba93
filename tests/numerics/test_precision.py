"""The precision modes' numeric emulation (rnnc.numerics.precision), against independent
references, and the accuracy of mixed precision on whole LSTM/GRU sequences."""

from __future__ import annotations

import math
from collections.abc import Callable

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rnnc.interpreters.rnn_kernels import Activation
from rnnc.numerics import precision as precision_module
from rnnc.numerics.precision import (
    FP32,
    MIXED,
    NumericMode,
    _round_to_f16_in_place,  # the exhaustive check's subject
    activation,
    compare_outputs,
    dot,
    error_report,
    largest_magnitude,
    lookup_table,
    parse_precision,
    quantize,
    quantize_weights,
)

E4M3 = ml_dtypes.float8_e4m3fn
E5M2 = ml_dtypes.float8_e5m2

U8 = 2.0**-4  # E4M3 unit roundoff: 3 mantissa bits, half an ulp relative
ETA8 = 2.0**-10  # E4M3 absolute rounding error below 2^-5: half the spacing 2^-9
U16 = 2.0**-11  # binary16 unit roundoff
U32 = 2.0**-24  # binary32 unit roundoff


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def gamma(k: int) -> float:
    """Higham's gamma_k: the relative error bound of a float32 sum of k + 1 terms."""
    return k * U32 / (1 - k * U32)


def ml_dtypes_round(x: np.ndarray, dtype: type = E4M3) -> np.ndarray:
    """Independent reference of the 8-bit rounding: ml_dtypes' cast, via float64."""
    return np.asarray(x, dtype=np.float64).astype(dtype).astype(np.float64)


# ---- NumericMode and parse_precision ---------------------------------------------------------


def test_constants() -> None:
    assert FP32.name == "fp32" and not FP32.mixed
    assert MIXED.name == "mixed" and MIXED.mixed
    assert MIXED.float8_dtype == np.dtype(E4M3)
    assert (MIXED.lut_entries, MIXED.lut_range, MIXED.lut_interp) == (1024, 8.0, "linear")
    assert hash(MIXED) == hash(NumericMode())
    with pytest.raises(AttributeError):
        MIXED.lut_entries = 12  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fp32", FP32),
        ("mixed", MIXED),
        (" Mixed ", MIXED),
        ("mixed:lut=512,range=6", NumericMode(lut_entries=512, lut_range=6.0)),
        ("mixed: LUT = 512 , Range=6.5", NumericMode(lut_entries=512, lut_range=6.5)),
        ("mixed:interp=nearest", NumericMode(lut_interp="nearest")),
        ("mixed:fmt=e5m2", NumericMode(float8="float8_e5m2")),
        ("mixed:fmt=float8_e4m3", NumericMode(float8="float8_e4m3")),
        ("mixed:fmt=E4M3", MIXED),
    ],
)
def test_parse_precision(text: str, expected: NumericMode) -> None:
    assert parse_precision(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "unknown precision"),
        ("fp16", "unknown precision"),
        ("fp32:lut=512", "fp32 takes no options"),
        ("mixed:", "bad option"),
        ("mixed:lut", "bad option"),
        ("mixed:lut=", "bad option"),
        ("mixed:foo=1", "bad option"),
        ("mixed:lut=abc", "needs an integer"),
        ("mixed:lut=1.5", "needs an integer"),
        ("mixed:range=wide", "needs a number"),
        ("mixed:lut=1", "at least 2"),
        ("mixed:range=-1", "positive and finite"),
        ("mixed:range=inf", "positive and finite"),
        ("mixed:interp=cubic", "'nearest' or 'linear'"),
        ("mixed:fmt=e3m9", "unknown 8-bit float format"),
        ("mixed:fmt=float8_e8m0fnu", "signed 1-byte float"),
        ("mixed:lut=512,lut=256", "given twice"),
    ],
)
def test_parse_precision_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        parse_precision(text)
    assert repr(text) in str(error.value) or text == ""


def test_precision_validation() -> None:
    with pytest.raises(ValueError, match="'fp32', 'mixed' or a weight format"):
        NumericMode("fp16")
    with pytest.raises(ValueError, match="integer"):
        NumericMode(lut_entries=True)
    with pytest.raises(ValueError, match="integer"):
        NumericMode(lut_entries=512.0)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(
    fmt=st.sampled_from(["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e3m4"]),
    entries=st.integers(2, 1 << 16),
    half_range=st.floats(1e-3, 1e3, allow_nan=False),
    interp=st.sampled_from(["linear", "nearest"]),
)
def test_spec_round_trips(fmt: str, entries: int, half_range: float, interp: str) -> None:
    precision = NumericMode("mixed", fmt, entries, half_range, interp)  # type: ignore[arg-type]
    assert parse_precision(precision.spec) == precision
    assert parse_precision(str(precision)) == precision
    assert precision.describe().startswith("mixed (")


def test_spec_spelling() -> None:
    assert FP32.spec == "fp32" and MIXED.spec == "mixed"
    assert parse_precision("mixed:range=6,lut=512").spec == "mixed:lut=512,range=6"
    assert parse_precision("mixed:fmt=float8_e5m2").spec == "mixed:fmt=e5m2"
    assert "1024-entry linear lookup tables over [-8, 8]" in MIXED.describe()


# ---- 8-bit rounding ---------------------------------------------------------------------------


def _spread(rng: np.random.Generator, size: int, low: float, high: float) -> np.ndarray:
    """Signed values log-uniform in [2^low, 2^high]: every binade, subnormals included."""
    magnitude = 2.0 ** rng.uniform(low, high, size)
    return (magnitude * rng.choice([-1.0, 1.0], size)).astype(np.float32)


@pytest.mark.parametrize("fmt", ["float8_e4m3fn", "float8_e5m2"])
def test_quantize_is_ml_dtypes_rounding(fmt: str) -> None:
    precision = NumericMode(float8=fmt)
    x = _spread(np.random.default_rng(1), 20000, -20, 8)
    got = quantize(precision, x)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, ml_dtypes_round(x, getattr(ml_dtypes, fmt)))
    np.testing.assert_array_equal(quantize(precision, got), got)  # idempotent
    np.testing.assert_array_equal(quantize_weights(precision, x), got)


def test_quantize_e4m3_error_bound() -> None:
    """The unit roundoff the dot-product bound below relies on."""
    x = _spread(np.random.default_rng(2), 20000, -12, 8).astype(np.float64)
    error = np.abs(quantize(MIXED, x) - x)
    assert np.all(error <= U8 * np.abs(x) + ETA8)
    normal = np.abs(x) >= 2.0**-6
    assert np.all(error[normal] <= U8 * np.abs(x[normal]))
    assert np.max(error[normal] / np.abs(x[normal])) > 0.9 * U8  # and it is attained


def test_quantize_saturates() -> None:
    x = np.array([448, 464, 1000, -1e30, np.inf, -np.inf, np.nan, 0.0, -0.0], np.float32)
    got = quantize(MIXED, x)
    np.testing.assert_array_equal(got[:6], [448, 448, 448, -448, 448, -448])
    assert np.isnan(got[6]) and got[7] == 0 and np.signbit(got[8])
    # ml_dtypes itself would give NaN for the out-of-range finite values
    assert np.isnan(np.float32(1000).astype(E4M3).astype(np.float32))


def test_quantize_fp32_is_identity() -> None:
    x = np.random.default_rng(3).normal(size=(5, 7))
    np.testing.assert_array_equal(quantize(FP32, x), x.astype(np.float32))
    np.testing.assert_array_equal(quantize_weights(FP32, x), x.astype(np.float32))


# ---- dot -----------------------------------------------------------------------------------------

# (a shape, b shape, axis): row-major matrix-vector, the interpreter's layout (the reduced
# counter is axis 0), broadcasting over several axes, odd and tiny lengths
SHAPES = [
    ((7,), (7,), -1),
    ((6, 33), (33,), -1),
    ((33, 6), (33, 1), 0),
    ((64, 40), (64, 1), 0),
    ((16, 1, 9), (1, 5, 9), -1),
    ((4, 3, 10), (4, 1, 10), 2),
    ((1,), (1,), 0),
    ((2, 2), (2, 2), 1),
]


def stagewise_reference(a: np.ndarray, b: np.ndarray, axis: int, dtype: type = E4M3) -> tuple:
    """Fig 6 computed stage by stage in float64, with one cast per rounding step.

    Returns the float16 pair sums (the reduction's first stage, with the lone last
    product of an odd length as a pair with 0) and their exact float64 sum; the emulation
    may differ from the latter only by its float32 accumulation."""
    a8 = np.moveaxis(
        np.broadcast_to(ml_dtypes_round(a, dtype), np.broadcast_shapes(a.shape, b.shape)), axis, -1
    )
    b8 = np.moveaxis(
        np.broadcast_to(ml_dtypes_round(b, dtype), np.broadcast_shapes(a.shape, b.shape)), axis, -1
    )
    with np.errstate(over="ignore", invalid="ignore"):
        products = (a8 * b8).astype(np.float16).astype(np.float64)  # exact f64 product
        if products.shape[-1] % 2:
            products = np.concatenate([products, np.zeros_like(products[..., :1])], axis=-1)
        pairs = (products[..., 0::2] + products[..., 1::2]).astype(np.float16)  # one rounding
        return pairs, np.sum(pairs.astype(np.float64), axis=-1)


@pytest.mark.parametrize(("a_shape", "b_shape", "axis"), SHAPES)
def test_dot_fp32_is_numpy(a_shape: tuple, b_shape: tuple, axis: int) -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=a_shape), rng.normal(size=b_shape)
    got = dot(FP32, a, b, axis=axis)
    assert got.dtype == np.float32
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    np.testing.assert_array_equal(got, np.sum(a32 * b32, axis=axis))
    exact = np.sum(a32.astype(np.float64) * b32, axis=axis)
    length = np.broadcast_shapes(a_shape, b_shape)[axis]
    bound = gamma(length) * np.sum(np.abs(a32.astype(np.float64) * b32), axis=axis)
    assert np.all(np.abs(got - exact) <= bound)


@pytest.mark.parametrize(("a_shape", "b_shape", "axis"), SHAPES)
def test_dot_mixed_is_fig6(a_shape: tuple, b_shape: tuple, axis: int) -> None:
    """Against the stage-by-stage reference: equal up to the float32 accumulation of the
    float16 pair sums."""
    rng = np.random.default_rng(5)
    a, b = rng.uniform(-1, 1, a_shape), rng.uniform(-1, 1, b_shape)
    got = dot(MIXED, a, b, axis=axis)
    assert got.dtype == np.float32
    pairs, reference = stagewise_reference(a, b, axis)
    accumulation = gamma(pairs.shape[-1]) * np.sum(np.abs(pairs.astype(np.float64)), axis=-1)
    assert np.all(np.abs(got - reference) <= accumulation)
    # two pairs or fewer: the float32 stage adds at most one rounding, usually none
    if pairs.shape[-1] == 1:
        np.testing.assert_array_equal(got, reference)


def test_dot_sixteen_bit_stage() -> None:
    """1 + 2^-12 is not a binary16 value: the first pair's sum rounds to 1, while an odd
    last product skips the 16-bit add and reaches the float32 stage unrounded."""
    v = np.array([1.0, 2.0**-6, 2.0**-6])
    assert dot(MIXED, v[:2], v[:2]) == 1.0
    assert dot(MIXED, v, v) == 1.0 + 2.0**-12
    assert dot(FP32, v, v) == 1.0 + 2.0**-11
    # products are paired (0,1), (2,3): here both small products share a pair
    w = np.array([1.0, 0.0, 2.0**-6, 2.0**-6])
    assert dot(MIXED, w, w) == 1.0 + 2.0**-11


def test_dot_rounds_operands() -> None:
    a, b = np.array([0.3]), np.array([0.7])  # round to 0.3125 and 0.6875 in E4M3
    assert dot(MIXED, a, b) == np.float32(0.3125 * 0.6875)


def test_dot_overflow_and_wide_format() -> None:
    """Products beyond binary16 take the explicit product-rounding path: the multiplier's
    16-bit output overflows to inf, and inf - inf is NaN, as in hardware."""
    a = np.array([[300.0, 1.0], [300.0, 300.0], [3.0, 0.5]])
    b = np.array([[300.0, 1.0], [300.0, -300.0], [3.0, 0.5]])
    got = dot(MIXED, a, b)
    _, reference = stagewise_reference(a, b, -1)
    np.testing.assert_array_equal(got, reference.astype(np.float32))
    assert np.isposinf(got[0]) and np.isnan(got[1]) and got[2] == 9.25
    # E5M2's tiny products are not binary16 values: rounded like the multiplier output
    e5m2 = NumericMode(float8="float8_e5m2")
    rng = np.random.default_rng(6)
    x, y = _spread(rng, 4001, -16, 2), _spread(rng, 4001, -16, 2)
    pairs, reference = stagewise_reference(x, y, -1, E5M2)
    bound = gamma(pairs.size) * np.sum(np.abs(pairs.astype(np.float64)))
    assert abs(float(dot(e5m2, x, y)) - reference) <= bound


def test_dot_prequantized_operands() -> None:
    rng = np.random.default_rng(7)
    w = rng.uniform(-0.05, 0.05, (96, 130))
    x = rng.uniform(-1, 1, 130)
    wq = quantize_weights(MIXED, w)
    expected = dot(MIXED, w, x)
    np.testing.assert_array_equal(dot(MIXED, wq, x, a_quantized=True), expected)
    np.testing.assert_array_equal(dot(MIXED, x, wq, b_quantized=True), expected)
    np.testing.assert_array_equal(dot(MIXED, wq.T, x[:, None], axis=0, a_quantized=True), expected)


def test_dot_degenerate() -> None:
    assert dot(MIXED, np.zeros(0), np.zeros(0)) == 0.0
    np.testing.assert_array_equal(dot(MIXED, np.ones((3, 0)), np.ones(0)), np.zeros(3))
    with pytest.raises(ValueError, match="axis"):
        dot(MIXED, np.float32(2), np.float32(3))


# ---- the float16 rounding of the pair sums ------------------------------------------------------

F16_NORMAL_LOW = np.float32(2.0**-14)  # binary16's smallest normal
F16_MAX = np.float32(65504.0)


def _bits(x: np.ndarray) -> np.ndarray:
    """Bit patterns: equality that tells -0 from 0 and compares NaNs."""
    return np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)


def _f16_cast(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float16).astype(np.float32)


def _rounded(x: np.ndarray) -> np.ndarray:
    out = x.copy()
    _round_to_f16_in_place(out)
    return out


def test_f16_rounding_every_value() -> None:
    """The float32 rounding of the pair sums equals numpy's float16 cast on every value a
    pair sum below the overflow bound can take: every float32 of 2^-14 <= |x| <= 65504,
    one binade of bit patterns at a time (about 2.5 s), and the multiples of 2^-24 below
    2^-14 (binary16's subnormals; other float32 values there are no sum of two binary16
    values)."""
    low, high = int(F16_NORMAL_LOW.view(np.uint32)), int(F16_MAX.view(np.uint32))
    checked = 0
    for start in range(low, high + 1, 2**23):
        patterns = np.arange(start, min(start + 2**23, high + 1), dtype=np.uint32)
        for x in (patterns.view(np.float32), -patterns.view(np.float32)):
            mismatches = np.flatnonzero(_bits(_rounded(x)) != _bits(_f16_cast(x)))
            assert mismatches.size == 0, f"{x[mismatches[:5]]} round differently"
            checked += x.size
    subnormal = np.arange(1024, dtype=np.float32) * np.float32(2.0**-24)  # 0 and all
    for x in (subnormal, -subnormal):
        np.testing.assert_array_equal(_bits(_rounded(x)), _bits(_f16_cast(x)))
        np.testing.assert_array_equal(_bits(_rounded(x)), _bits(x))
        checked += x.size
    assert checked == 2 * (high - low + 1) + 2 * 1024 == 503_302_146


def test_f16_rounding_ties_go_to_even() -> None:
    """In every binade of normal binary16 values, the midpoints between neighbours round
    to the neighbour with an even last bit, as IEEE binary16 rounding does."""
    k = np.arange(1024, dtype=np.float64)  # the midpoint of (1024 + k) and (1025 + k) ulps
    for exponent in range(-14, 16):
        ulp = 2.0 ** (exponent - 10)
        midpoint = ((1024 + k + 0.5) * ulp).astype(np.float32)
        even = ((1024 + k + k % 2) * ulp).astype(np.float32)
        keep = midpoint <= F16_MAX  # 65520, the last one, overflows binary16
        for sign in (1, -1):
            x, expected = sign * midpoint[keep], sign * even[keep]
            np.testing.assert_array_equal(_rounded(x), expected)
            np.testing.assert_array_equal(_f16_cast(x), expected)


def cast_reference_dot(a8: np.ndarray, b8: np.ndarray, axis: int) -> np.ndarray:
    """The documented mixed `dot` of 8-bit operands (as float32), straightforwardly, with
    numpy's float16 cast: every product rounded to float16, the pair sums rounded to
    float16 once (a float32 sum of two binary16 values, then the cast: one correct
    rounding) and summed in float32, a lone last product added after them."""
    with np.errstate(invalid="ignore"):
        products = a8.astype(np.float32) * b8.astype(np.float32)
    axis = axis % products.ndim
    length = products.shape[axis]
    index = [slice(None)] * products.ndim
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = _f16_cast(products)
        index[axis] = slice(0, length - 1, 2)
        even = rounded[tuple(index)]
        index[axis] = slice(1, None, 2)
        odd = rounded[tuple(index)]
        total = np.sum(_f16_cast(even + odd), axis=axis, dtype=np.float32)
        if length % 2:
            index[axis] = length - 1
            total = total + rounded[tuple(index)]
    return np.asarray(total, dtype=np.float32)


# Largest operand magnitudes: E4M3 rounds 176 to itself, 184 to 192 and 300 to 288.
# 2 * 176^2 <= 65504 takes the float32 rounding of the pair sums; 192^2 <= 65504 < 2 * 192^2
# the float16 cast (some pair sums overflow to inf); 288^2 > 65504 the product rounding.
LIMITS = [0.05, 1.0, 176.0, 184.0, 300.0]


@pytest.mark.parametrize("limit", LIMITS)
@pytest.mark.parametrize("fmt", ["float8_e4m3fn", "float8_e5m2"])
def test_dot_mixed_bit_identical_to_cast_reference(limit: float, fmt: str) -> None:
    """`dot` against `cast_reference_dot` bit for bit: both axes, row-major and transposed
    operands, even and odd lengths, operands up to and past the bounds of the fast paths,
    E5M2 (whose products are not binary16 values)."""
    precision = NumericMode(float8=fmt)
    rng = np.random.default_rng(int(limit * 100))
    for rows, length in [(1, 1), (3, 2), (5, 7), (64, 256), (33, 1023), (40, 1025)]:
        a = rng.uniform(-limit, limit, (rows, length))
        b = rng.uniform(-limit, limit, length)
        a.flat[rng.integers(a.size)] = -limit  # the bound is attained
        b[rng.integers(length)] = limit
        for lhs, rhs, axis in [
            (a, b, -1),
            (a, b, 1),
            (a.T, b[:, None], 0),
            (np.ascontiguousarray(a.T), b[:, None], 0),
        ]:
            a8, b8 = quantize(precision, lhs), quantize(precision, rhs)
            expected = _bits(cast_reference_dot(a8, b8, axis))
            np.testing.assert_array_equal(_bits(dot(precision, lhs, rhs, axis=axis)), expected)
            got = dot(precision, a8, b8, axis=axis, a_quantized=True, b_quantized=True)
            np.testing.assert_array_equal(_bits(got), expected)


def test_dot_mixed_bit_identical_pair_sums_near_overflow() -> None:
    """Pair sums of the float32-rounded path up to 2 * 176^2 = 61952, where binary16's
    spacing is 32, mixed with small products that the rounding drops; then the same with
    192, which takes the float16 cast and overflows."""
    rng = np.random.default_rng(8)
    for top in (176.0, 192.0):
        values = np.array([top, -top, 160.0, -144.0, 15.0, 2.0**-7, -0.0, 0.0])
        a, b = rng.choice(values, (200, 65)), rng.choice(values, 65)
        expected = cast_reference_dot(a, b, -1)
        np.testing.assert_array_equal(_bits(dot(MIXED, a, b)), _bits(expected))
        assert np.isinf(expected).any() == (top == 192.0)


def test_dot_mixed_with_the_weights_bound_given() -> None:
    """`a_largest` (the bound a caller measured once) gives the same bits as `dot`
    measuring it, on both sides of the float32-rounded path's limit and with NaN."""
    rng = np.random.default_rng(10)
    for top in (176.0, 192.0):
        values = np.array([top, -top, 160.0, -144.0, 15.0, 2.0**-7, -0.0, 0.0])
        a, b = rng.choice(values, (50, 33)).astype(np.float32), rng.choice(values, 33)
        a[3, 5] = np.nan
        for lhs in (a, np.nan_to_num(a)):
            got = dot(MIXED, lhs, b, a_quantized=True, a_largest=largest_magnitude(lhs))
            np.testing.assert_array_equal(_bits(got), _bits(cast_reference_dot(lhs, b, -1)))


def test_dot_mixed_nan_and_inf_operands() -> None:
    """NaN and inf operands (inf only when declared quantized: `quantize` saturates it)
    take the product-rounding path and agree with the reference, NaNs included."""
    rng = np.random.default_rng(9)
    a = quantize(MIXED, rng.uniform(-1, 1, (6, 11)))
    b = quantize(MIXED, rng.uniform(-1, 1, 11))
    a_nan, b_inf = a.copy(), b.copy()
    a_nan[1, 3] = np.nan
    b_inf[4] = np.inf
    a_zero = a.copy()
    a_zero[2, 4] = 0.0  # inf * 0: NaN
    for lhs, rhs in [(a_nan, b), (a, b_inf), (a_nan, b_inf), (a_zero, b_inf)]:
        expected = _bits(cast_reference_dot(lhs, rhs, -1))
        with np.errstate(invalid="ignore"):  # inf * 0
            got = dot(MIXED, lhs, rhs, a_quantized=True, b_quantized=True)
        np.testing.assert_array_equal(_bits(got), expected)
        assert not np.isfinite(got).all()  # the non-finite values reach the result
    np.testing.assert_array_equal(
        _bits(dot(MIXED, a_nan, b)), _bits(cast_reference_dot(a_nan, b, -1))
    )


def mixed_dot_bound(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A priori bound on |dot(MIXED, a, b) - sum(a * b)| (exact) along the last axis.

    Operands: |a8 - a| <= u8 |a| + eta8 (u8 = 2^-4 for E4M3's 3 mantissa bits; eta8 =
    2^-10 covers the subnormals and the lowest binade), so per product
    |a8 b8 - a b| <= (u8|a| + eta8)(|b|(1 + u8) + eta8) + |a|(u8|b| + eta8).
    Products: exact. Pair sums: one binary16 rounding each, relative u16 = 2^-11 (exact
    when subnormal). Float32 accumulation of m = ceil(n/2) terms: gamma_(m-1) times the
    sum of their magnitudes, which is at most (1 + u16) sum |a8 b8|. For operands in the
    normal range this is about (2 u8 + u16 + (m - 1) u32) sum |a b| ~ 0.126 sum |a b|: a
    worst case, attained only if every rounding errs the same way.
    """
    a, b = np.abs(a.astype(np.float64)), np.abs(b.astype(np.float64))
    operands = (U8 * a + ETA8) * (b * (1 + U8) + ETA8) + a * (U8 * b + ETA8)
    magnitude = (a * (1 + U8) + ETA8) * (b * (1 + U8) + ETA8)
    terms = math.ceil(a.shape[-1] / 2)
    arithmetic = (U16 + gamma(terms - 1) * (1 + U16)) * np.sum(magnitude, axis=-1)
    return np.sum(operands, axis=-1) + arithmetic + 1e-12  # + float64 reference rounding


@pytest.mark.parametrize(("hidden", "length"), [(512, 1024), (1024, 2048), (256, 1023)])
def test_dot_error_bound(hidden: int, length: int) -> None:
    """Rows of RNN-like weights (±1/sqrt(H)) against [-1, 1] activations, vs float64."""
    rng = np.random.default_rng(hidden + length)
    scale = 1 / math.sqrt(hidden)
    w = rng.uniform(-scale, scale, (64, length)).astype(np.float32)
    x = rng.uniform(-1, 1, length).astype(np.float32)
    exact = np.sum(w.astype(np.float64) * x.astype(np.float64), axis=-1)
    error = np.abs(dot(MIXED, w, x) - exact)
    bound = mixed_dot_bound(w, np.broadcast_to(x, w.shape))
    assert np.all(error <= bound)
    # rounding errors mostly cancel: typically ~sqrt(n) rather than n times one product's
    assert np.max(error / bound) < 0.1  # measured 0.01-0.03
    assert np.min(error) >= 0 and np.max(error) > 1e-3  # it does quantize


# ---- activation ----------------------------------------------------------------------------------

# (function, max |f'|, max |f''|, f(+inf), f(-inf))
FUNCTIONS = {
    "tanh": (np.tanh, 1.0, 4 / (3 * math.sqrt(3)), 1.0, -1.0),
    "sigmoid": (sigmoid, 0.25, 1 / (6 * math.sqrt(3)), 1.0, 0.0),
}
TABLES = [MIXED, parse_precision("mixed:interp=nearest"), parse_precision("mixed:lut=512,range=6")]


@pytest.mark.parametrize("precision", TABLES, ids=lambda p: p.spec)
@pytest.mark.parametrize("which", FUNCTIONS)
def test_lut_error_bound(precision: NumericMode, which: str) -> None:
    """Inside the range: nearest entry errs by at most h/2 max|f'|, linear interpolation
    by h^2/8 max|f''| (h the spacing), plus float32 roundings of the table and of the
    index arithmetic (at most 2^-12 of a step, so 2^-12 h max|f'|, and a few ulps)."""
    fn, slope, curvature, _, _ = FUNCTIONS[which]
    r = precision.lut_range
    h = 2 * r / (precision.lut_entries - 1)
    x = np.random.default_rng(8).uniform(-r, r, 200_000).astype(np.float32)
    x[:3] = [-r, 0, r]
    error = np.abs(activation(precision, fn, x) - fn(x.astype(np.float64)))
    rounding = 2.0**-12 * h * slope + 4 * U32
    if precision.lut_interp == "nearest":
        bound = h / 2 * slope + rounding
    else:
        bound = h**2 / 8 * curvature + rounding
    assert np.max(error) <= bound
    assert np.max(error) > bound / 4  # the table's resolution is what limits it


@pytest.mark.parametrize("which", FUNCTIONS)
def test_lut_clamps_outside_range(which: str) -> None:
    fn, _, _, top, bottom = FUNCTIONS[which]
    for precision in TABLES:
        r = precision.lut_range
        x = np.array([r + 1e-3, 2 * r, 1e30, np.inf, -r, -r - 1e-3, -1e30, -np.inf])
        got = activation(precision, fn, x)
        # saturated exactly at the end entries
        np.testing.assert_array_equal(got[:4], np.float32(fn(np.float64(r))))
        np.testing.assert_array_equal(got[4:], np.float32(fn(np.float64(-r))))
        # the end point itself, up to the float32 rounding of the index
        assert abs(activation(precision, fn, np.float32(r)) - fn(np.float64(r))) < 1e-6
    # at the default range the clamping error is below 3.4e-4 (sigmoid) and 2.3e-7 (tanh)
    ends = activation(MIXED, fn, np.array([np.inf, -np.inf]))
    assert np.max(np.abs(ends - [top, bottom])) < 3.4e-4


def test_lut_nan() -> None:
    got = activation(MIXED, np.tanh, np.array([np.nan, 0.5]))
    assert np.isnan(got[0]) and abs(got[1] - np.tanh(0.5)) < 1e-4


class CountingTanh:
    """A hashable element-wise function that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.calls += 1
        return np.tanh(x)


def test_lut_cache() -> None:
    fn = CountingTanh()
    x = np.linspace(-3, 3, 11)
    for _ in range(3):
        activation(MIXED, fn, x)
    assert fn.calls == 1
    assert lookup_table(MIXED, fn) is lookup_table(parse_precision("mixed"), fn)
    # the table depends on the table parameters only, not the float8 format
    assert lookup_table(MIXED, fn) is lookup_table(parse_precision("mixed:fmt=e5m2"), fn)
    small = lookup_table(parse_precision("mixed:lut=512"), fn)
    assert small is not lookup_table(MIXED, fn) and small.values.shape == (512,)
    assert fn.calls == 2
    # the interpreter's activations are equal-by-value frozen dataclasses
    assert lookup_table(MIXED, Activation("Sigmoid")) is lookup_table(MIXED, Activation("sigmoid"))
    assert not lookup_table(MIXED, np.tanh).values.flags.writeable


def test_lut_unhashable_function() -> None:
    class Unhashable(CountingTanh):
        __hash__ = None  # type: ignore[assignment]

    fn = Unhashable()
    np.testing.assert_array_equal(
        activation(MIXED, fn, np.array([0.25])), activation(MIXED, np.tanh, np.array([0.25]))
    )
    activation(MIXED, fn, np.array([0.25]))
    assert fn.calls == 2  # rebuilt, not cached


@pytest.mark.parametrize("fn", [np.tanh, sigmoid, Activation("Relu"), Activation("HardSigmoid")])
def test_activation_fp32_is_exact(fn: Callable[[np.ndarray], np.ndarray]) -> None:
    x = np.random.default_rng(9).normal(scale=4, size=(3, 50))
    got = activation(FP32, fn, x)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, fn(x.astype(np.float32)))


# ---- comparing runs ------------------------------------------------------------------------------


def test_compare_outputs() -> None:
    reference = {"Y_h": np.array([1.0, -0.5, 0.0, 1e-6]), "Y_c": np.array([[2.0]])}
    got = {"Y_h": np.array([1.1, -0.5, 0.01, 0.0]), "Y_c": np.array([[2.0]])}
    errors = compare_outputs(reference, got)
    assert errors["Y_h"].max_abs == pytest.approx(0.1)
    # 0.01 against the floor 1e-3 * max|ref| = 1e-3 -> 10
    assert errors["Y_h"].max_rel == pytest.approx(10.0)
    assert errors["Y_c"].max_abs == 0 and errors["Y_c"].max_rel == 0
    report = error_report(reference, got)
    assert report.splitlines()[0] == "error of mixed against fp32"
    assert "Y_h" in report and "1.000e-01" in report and "1.000e+01" in report
    nan = compare_outputs({"y": np.array([1.0, 2.0])}, {"y": np.array([np.nan, 2.0])})
    assert math.isnan(nan["y"].max_abs) and math.isnan(nan["y"].max_rel)
    with pytest.raises(ValueError, match="only one run: Y_c"):
        compare_outputs(reference, {"Y_h": got["Y_h"]})
    with pytest.raises(ValueError, match="shape"):
        compare_outputs({"y": np.zeros(3)}, {"y": np.zeros(4)})


# ---- whole sequences: the accuracy of the paper's mixed precision ------------------------------
#
# The paper reports no accuracy evaluation (paper-notes §6.2 item 4). These run DeepBench
# shapes (D = H, batch 1) with random weights in ±1/sqrt(H) (PyTorch's RNN initialisation)
# and inputs in [-1, 1], through cells written from the ONNX equations with `dot` for the
# gates' matrix-vector products, `activation` for the nonlinearities and float32
# element-wise ops, in both modes side by side from the same inputs and zero state.
#
# Measured max |h_T(mixed) - h_T(fp32)| (final hidden state; seed 0 as below, and 9 other
# weight draws): LSTM H=512 T=25 0.0104 (0.010-0.014; max |h| about 0.27), GRU H=1024
# T=100 0.0240 (0.024-0.033; max |h| about 0.56). The error after the first step is
# already as large (LSTM 0.0105, GRU 0.020), and the largest over any step of any draw is
# 0.021 (LSTM) and 0.043 (GRU): a per-step noise that the recurrence does not amplify.
#
# Why such a size: a gate's pre-activation sums R = 2H products, each off by E4M3's
# relative rounding of both operands (unit roundoff 2^-4, RMS relative error about 2.5%
# each); the errors are independent, so they add up like sqrt(R) times one product's, not
# R times: for the LSTM sqrt(1024) * 0.035 * rms(w * xh) (about 0.011) = 0.012 of
# pre-activation noise, which tanh passes with slope <= 1 and sigmoid <= 1/4; the largest
# of H units is 3-4 of these standard deviations. The state update is contractive for
# these weights -- the recurrent matrices have spectral norm about 2/sqrt(3) = 1.15,
# multiplied by the gates' slopes (sigmoid' <= 1/4, an output gate around 1/2, a GRU's
# 1 - z around 1/2) -- so an error made at one step decays in the next ones instead of
# accumulating.
#
# Bounds: 0.04 (LSTM) and 0.06 (GRU): about 3x and 2x the largest final error measured,
# 1.4x the largest error at any step, and 2-3% of the [-1, 1] output range, which is what
# 3 mantissa bits can be expected to give. They leave room for other seeds, platforms and
# summation orders, and fail on an error that grows through the recurrence or on a much
# coarser arithmetic; they do not separate E4M3 from E5M2 (0.028 / 0.039 at seed 0), which
# `test_float8_format_choice` compares directly. The float16 stage alone (2^-11) is far
# too fine to show at this scale; `test_dot_sixteen_bit_stage` checks it. A mode that
# silently fails to quantize is caught by the lower limit.

LSTM_BOUND = 0.04
GRU_BOUND = 0.06
QUANTIZED_AT_LEAST = 2e-3  # both models measure 5x more: mixed really rounds


def _uniform(rng: np.random.Generator, scale: float, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(-scale, scale, shape).astype(np.float32)


def lstm_step(
    precision: NumericMode,
    weights: np.ndarray,
    bias: np.ndarray,
    x: np.ndarray,
    state: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """One ONNX LSTM step (gates i, o, f, c; f = sigmoid, g = h = tanh; no peepholes) from
    state (h, c) to the next. `weights` is [W | R] (4H x (D + H), quantized), `bias`
    Wb + Rb: the fused loop nest's single reduction over xh = [x, h] per gate
    (paper-notes §2.3)."""
    h, c = state
    gates = dot(precision, weights, np.concatenate([x, h]), a_quantized=True) + bias
    i, o, f, g = np.split(gates, 4)
    i, o, f = (activation(precision, sigmoid, v) for v in (i, o, f))
    g = activation(precision, np.tanh, g)
    c = f * c + i * g
    h = o * activation(precision, np.tanh, c)
    return h, c


def gru_step(
    precision: NumericMode,
    weights: tuple[np.ndarray, np.ndarray, np.ndarray],
    biases: tuple[np.ndarray, np.ndarray, np.ndarray],
    x: np.ndarray,
    h: np.ndarray,
) -> np.ndarray:
    """One ONNX GRU step with linear_before_reset = 1 (the cuDNN form the project maps,
    paper-notes §2.2): gates z, r, h; f = sigmoid, g = tanh.
    ``h~ = tanh(W_h x + Wb_h + r * (R_h h + Rb_h))``, ``h' = (1 - z) * h~ + z * h``."""
    zr_weights, wh, rh = weights
    zr_bias, wbh, rbh = biases
    zr = dot(precision, zr_weights, np.concatenate([x, h]), a_quantized=True) + zr_bias
    z, r = (activation(precision, sigmoid, v) for v in np.split(zr, 2))
    recurrent = dot(precision, rh, h, a_quantized=True) + rbh
    n = activation(
        precision, np.tanh, dot(precision, wh, x, a_quantized=True) + wbh + r * recurrent
    )
    return (1 - z) * n + z * h


def _check_sequence(errors: list[float], bound: float, name: str) -> None:
    final = errors[-1]
    quarter = max(1, len(errors) // 4)
    early, late = max(errors[:quarter]), max(errors[-quarter:])
    detail = f"{name}: final max |h error| {final:.4g}, first quarter {early:.4g}, last {late:.4g}"
    assert final < bound, detail
    assert final > QUANTIZED_AT_LEAST, detail
    # no accumulation over the sequence: the recurrence is contractive
    assert late < 2.5 * early, detail


def lstm_errors(mixed: NumericMode) -> tuple[list[float], float]:
    """Max |h(mixed) - h(fp32)| after each step of an LSTM H=512 T=25 run, and max |h| in
    fp32 at the end."""
    hidden, steps = 512, 25
    rng = np.random.default_rng(0)
    scale = 1 / math.sqrt(hidden)
    w = _uniform(rng, scale, (4 * hidden, hidden))  # ONNX W, D = H
    r = _uniform(rng, scale, (4 * hidden, hidden))  # ONNX R
    b = _uniform(rng, scale, (8 * hidden,))  # ONNX B = [Wb, Rb]
    xs = _uniform(rng, 1.0, (steps, hidden))
    bias = b[: 4 * hidden] + b[4 * hidden :]
    weights = {p: quantize_weights(p, np.concatenate([w, r], axis=1)) for p in (FP32, mixed)}
    zero = np.zeros(hidden, np.float32)
    states = {p: (zero, zero) for p in (FP32, mixed)}
    errors = []
    for x in xs:
        for precision, state in states.items():
            states[precision] = lstm_step(precision, weights[precision], bias, x, state)
        errors.append(float(np.max(np.abs(states[mixed][0] - states[FP32][0]))))
    return errors, float(np.max(np.abs(states[FP32][0])))


def test_lstm_sequence_mixed_vs_fp32() -> None:
    errors, largest = lstm_errors(MIXED)
    assert largest < 1  # outputs in (-1, 1)
    _check_sequence(errors, LSTM_BOUND, "LSTM H=512 T=25")


def test_float8_format_choice() -> None:
    """E4M3 against its neighbours on the same LSTM run: E5M2 has one mantissa bit less
    (measured 0.028 against E4M3's 0.010), E3M4 one more but a smallest normal of 2^-2, so
    that weights of ±1/sqrt(512) = ±0.044 keep only a few subnormal levels (0.064)."""
    e4m3 = lstm_errors(MIXED)[0][-1]
    for other in ("float8_e5m2", "float8_e3m4"):
        assert 2 * e4m3 < lstm_errors(NumericMode(float8=other))[0][-1], other


def test_gru_sequence_mixed_vs_fp32() -> None:
    hidden, steps = 1024, 100
    rng = np.random.default_rng(0)
    scale = 1 / math.sqrt(hidden)
    w = _uniform(rng, scale, (3 * hidden, hidden))
    r = _uniform(rng, scale, (3 * hidden, hidden))
    b = _uniform(rng, scale, (6 * hidden,))
    xs = _uniform(rng, 1.0, (steps, hidden))
    two = 2 * hidden
    biases = (b[:two] + b[3 * hidden : 3 * hidden + two], b[two : 3 * hidden], b[5 * hidden :])
    weights = {}
    hs = {}
    for precision in (FP32, MIXED):
        weights[precision] = (
            quantize_weights(precision, np.concatenate([w[:two], r[:two]], axis=1)),
            quantize_weights(precision, w[two:]),
            quantize_weights(precision, r[two:]),
        )
        hs[precision] = np.zeros(hidden, np.float32)
    errors = []
    for x in xs:
        for precision, h in hs.items():
            hs[precision] = gru_step(precision, weights[precision], biases, x, h)
        errors.append(float(np.max(np.abs(hs[MIXED] - hs[FP32]))))
    assert np.max(np.abs(hs[FP32])) < 1
    _check_sequence(errors, GRU_BOUND, "GRU H=1024 T=100")


# ---- quantize's arithmetic rounding against the cast, bit for bit ------------------------------

# Every ml_dtypes 8-bit float format that `NumericMode` accepts (signed, one byte).
SIGNED_FLOAT8 = [
    name
    for name in sorted(dir(ml_dtypes))
    if name.startswith("float8_") and ml_dtypes.finfo(getattr(ml_dtypes, name)).min < 0
]
F32_SIGN = np.uint32(0x8000_0000)


def cast_quantize(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The reference: `quantize` as it was before it rounded by arithmetic -- clip to the
    largest finite value, ml_dtypes' cast to the format and back to float32."""
    limit = np.float32(ml_dtypes.finfo(dtype).max)
    return np.clip(x, -limit, limit).astype(dtype).astype(np.float32)


def assert_same_bits(x: np.ndarray, fmt: str) -> None:
    """`quantize` of the float32 `x` is NaN where the cast is and has its bits elsewhere."""
    got = quantize(NumericMode(float8=fmt), x)
    expected = cast_quantize(x, np.dtype(getattr(ml_dtypes, fmt)))
    nan = np.isnan(expected)
    wrong = np.flatnonzero((got.view(np.uint32) != expected.view(np.uint32)) & ~nan)
    assert np.array_equal(np.isnan(got), nan), f"{fmt}: NaN differs"
    if wrong.size:
        i = wrong[0]
        pytest.fail(
            f"{fmt}: {wrong.size} mismatches, e.g. {x[i]!r} (0x{x.view(np.uint32)[i]:08x}) -> "
            f"{got[i]!r}, cast {expected[i]!r}"
        )


def binade(low: float, sign: int) -> np.ndarray:
    """Every float32 of magnitude in [low, 2 low), `low` a normal power of two, of `sign`."""
    first = int(np.array(low, dtype=np.float32).view(np.uint32))
    bits = np.arange(first, first + (1 << 23), dtype=np.uint32)
    return (bits | F32_SIGN if sign < 0 else bits).view(np.float32)


@pytest.mark.parametrize("fmt", ["float8_e4m3fn", "float8_e5m2"])
def test_quantize_bits_whole_binades(fmt: str) -> None:
    """All 2^23 float32 values, both signs, of the binades where the rounding changes
    regime: below the smallest subnormal q (rounding to 0 or q), q's (the first multiples
    of q), below the smallest normal (subnormals rounding up into it), the smallest
    normal's, and the largest value's (the values above it saturating)."""
    info = ml_dtypes.finfo(getattr(ml_dtypes, fmt))
    q, normal = float(info.smallest_subnormal), float(info.smallest_normal)
    top = 2.0 ** math.floor(math.log2(float(info.max)))
    for low in (q / 2, q, normal / 2, normal, top):
        for sign in (1, -1):
            assert_same_bits(binade(low, sign), fmt)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # signalling NaNs
@pytest.mark.parametrize("fmt", SIGNED_FLOAT8)
def test_quantize_bits_every_rounding_case(fmt: str) -> None:
    """Every sign, exponent and top 9 fraction bits of float32, with the 14 low fraction
    bits 0 or not: for a format of at most 7 fraction bits the cast's result depends on
    the bits above its rounding position, always among the top 8 fraction bits (even in
    the subnormal binades, where the position only moves up), and on whether the bits
    below are zero (a tie) -- so this meets every case of every binade."""
    high = np.arange(1 << 18, dtype=np.uint32) << np.uint32(14)  # sign, exponent, 9 bits
    low = np.array([0, 1, 0x2000, 0x3FFF], dtype=np.uint32)
    assert ml_dtypes.finfo(getattr(ml_dtypes, fmt)).nmant <= 7
    assert_same_bits((high[:, None] | low).reshape(-1).view(np.float32), fmt)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # signalling NaNs
@pytest.mark.parametrize("fmt", SIGNED_FLOAT8)
def test_quantize_bits_specials(fmt: str) -> None:
    info = ml_dtypes.finfo(getattr(ml_dtypes, fmt))
    f32 = np.finfo(np.float32)
    magnitudes = [
        0.0,
        np.inf,
        f32.max,
        f32.smallest_subnormal,
        f32.smallest_normal * (1 - 2**-23),  # the largest float32 subnormal
        f32.smallest_normal,
        float(info.max),
        np.nextafter(np.float32(info.max), np.float32(np.inf)),
        float(info.smallest_normal),
        float(info.smallest_subnormal) / 2,  # a tie between 0 and q: gives 0
    ]
    values = np.array(magnitudes, dtype=np.float32)
    nans = np.array([0x7FC0_0000, 0x7F80_0001, 0x7FFF_FFFF, 0xFFC0_0000], np.uint32)
    x = np.concatenate([values, -values, nans.view(np.float32)])
    assert_same_bits(x, fmt)


def test_quantize_zero_signs() -> None:
    """-0 and small negative values round to -0 in the formats that have it, +0 in the
    ``fnuz`` ones (as the cast does; `test_quantize_bits_specials` checks the bits)."""
    x = np.array([-0.0, -1e-30, -1e-40], np.float32)
    assert np.all(np.signbit(quantize(MIXED, x)))
    assert not np.any(np.signbit(quantize(NumericMode(float8="float8_e4m3fnuz"), x)))


def test_quantize_layouts_and_sizes() -> None:
    """Shapes, strides and sizes the block loop must handle: several blocks with a short
    last one, a transposed and a broadcast operand, float64 input, 0-d and empty."""
    rng = np.random.default_rng(4)
    many = _spread(rng, precision_module._BLOCK * 2 + 123, -12, 10)
    for x in (
        many,
        many[:600].reshape(3, 200).T,
        np.broadcast_to(many[:7], (5, 7)),
        np.float32(0.3),
        np.empty((0, 4), np.float32),
    ):
        got = quantize(MIXED, x)
        assert got.shape == np.shape(x) and got.dtype == np.float32
        np.testing.assert_array_equal(got, cast_quantize(np.asarray(x), np.dtype(E4M3)))
    wide = rng.normal(size=100)  # float64: rounded to float32 first, as before
    expected = cast_quantize(wide.astype(np.float32), np.dtype(E4M3))
    np.testing.assert_array_equal(quantize(MIXED, wide), expected)
    x = many[:10].copy()
    quantize(MIXED, x)
    np.testing.assert_array_equal(x, many[:10])  # the input is left alone


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # signalling NaNs
def test_quantize_casts_where_the_arithmetic_does_not_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    # float32 itself has too many fraction bits; e8m0's smallest value is below float32's
    # smallest normal
    assert precision_module._magic_rounding(np.dtype(np.float32)) is None
    assert precision_module._magic_rounding(np.dtype(ml_dtypes.float8_e8m0fnu)) is None
    for fmt in SIGNED_FLOAT8:
        assert precision_module._magic_rounding(np.dtype(getattr(ml_dtypes, fmt))) is not None
    # the cast path of such a format rounds the same way
    monkeypatch.setattr(precision_module, "_magic_rounding", lambda dtype: None)
    test_quantize_bits_specials("float8_e4m3fn")
    x = _spread(np.random.default_rng(5), 1000, -12, 10)
    np.testing.assert_array_equal(quantize(MIXED, x), cast_quantize(x, np.dtype(E4M3)))
