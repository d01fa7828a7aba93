"""Block-scaled weight formats (`rnnc.numerics.formats`): element codes and rounding against
ml_dtypes, exhaustively over each element format's codes and rounding cases; scales; the
widening to the multiplier's E4M3; bytes; and the precision modes named after them."""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest
from rnnc.numerics.formats import format_names, parse_format, scale_range
from rnnc.numerics.precision import NumericMode, parse_precision

E4M3 = np.dtype(ml_dtypes.float8_e4m3fn)
MX_FLOATS = {"mxfp8": "float8_e4m3fn", "mxfp8e5m2": "float8_e5m2", "mxfp6": "float6_e2m3fn",
             "mxfp6e3m2": "float6_e3m2fn", "mxfp4": "float4_e2m1fn"}
#: ml_dtypes' own integer types of these widths
ML_INTS = {"int2": ml_dtypes.int2, "int4": ml_dtypes.int4}


def _every_code(dtype_name: str) -> np.ndarray:
    """Every finite value of an ml_dtypes float type, from all its bit patterns."""
    dtype = np.dtype(getattr(ml_dtypes, dtype_name))
    bits = 8 if dtype.itemsize == 1 and "float8" in dtype_name else int(dtype_name[5])
    values = np.arange(2**bits, dtype=np.uint8).view(dtype).astype(np.float64)
    return values[np.isfinite(values)]


def _blocks_at_scale(fmt_name: str, values: np.ndarray, k: int) -> np.ndarray:
    """Rows of one block: element 0 the format's largest value x 2^k (which makes the
    block's scale 2^k), element 1 one of `values` x 2^k, the rest zero."""
    fmt = parse_format(fmt_name)
    rows = np.zeros((values.size, fmt.block))
    rows[:, 0] = np.ldexp(fmt.largest, k)
    rows[:, 1] = np.ldexp(values, k)
    return rows.astype(np.float32)


@pytest.mark.parametrize("name", sorted(MX_FLOATS))
def test_mx_element_values_are_ml_dtypes_codes(name: str) -> None:
    assert np.array_equal(parse_format(name).values, np.unique(_every_code(MX_FLOATS[name])))


@pytest.mark.parametrize("name", sorted(ML_INTS))
def test_int_element_values_are_ml_dtypes_codes(name: str) -> None:
    bits = parse_format(name).bits
    codes = np.arange(2**bits, dtype=np.uint8).view(np.dtype(ML_INTS[name]))
    assert np.array_equal(parse_format(name).values, np.sort(codes.astype(np.float64)))


@pytest.mark.parametrize("name", format_names())
@pytest.mark.parametrize("k", [-127, -9, -3, 0, 5, 100])
def test_every_code_round_trips(name: str, k: int) -> None:
    """Every element value at a scale 2^k is stored as itself, with exponent k (the
    integers are symmetric: their most negative code is never produced)."""
    fmt = parse_format(name)
    values = fmt.values[1:] if fmt.element == "int" else fmt.values
    rows = _blocks_at_scale(name, values, k)
    elements, exponents = fmt.encode(rows)
    assert (exponents == k).all()
    assert np.array_equal(elements[:, 1], values)
    assert np.array_equal(fmt.quantize(rows).view(np.uint32), rows.view(np.uint32))


def _rounding_cases() -> np.ndarray:
    """Every sign, exponent and top 9 fraction bits of float32, low bits zero or not (as
    the float8 test: every rounding case of a format of at most 7 fraction bits)."""
    high = np.arange(1 << 18, dtype=np.uint32) << np.uint32(14)
    low = np.array([0, 1, 0x2000, 0x3FFF], dtype=np.uint32)
    x = (high[:, None] | low).reshape(-1).view(np.float32)
    return x[np.isfinite(x)]


@pytest.mark.parametrize("name", sorted(MX_FLOATS))
def test_mx_rounding_is_ml_dtypes_cast(name: str) -> None:
    """At scale 1 an element is ml_dtypes' cast of the value clipped to the element type's
    range (saturating), for every rounding case below 2^(emax + 1), where the scale is 1."""
    x = _rounding_cases()
    fmt = parse_format(name)
    x = x[np.abs(x) < 2.0 ** math.frexp(fmt.largest)[1]]
    got = fmt.quantize(_blocks_at_scale(name, x.astype(np.float64), 0))[:, 1]
    dtype = np.dtype(getattr(ml_dtypes, MX_FLOATS[name]))
    expected = np.clip(x, -fmt.largest, fmt.largest).astype(dtype).astype(np.float32)
    wrong = np.flatnonzero(got.view(np.uint32) != expected.view(np.uint32))
    assert wrong.size == 0, f"{x[wrong[0]]!r} -> {got[wrong[0]]!r}, cast {expected[wrong[0]]!r}"


@pytest.mark.parametrize("bits", range(2, 9))
def test_int_rounding_to_nearest_even(bits: int) -> None:
    """Integers round to nearest, ties to even (Python's round), within the code range:
    every multiple of 1/4 over it (all ties and all non-ties) and the values just off them."""
    name = f"int{bits}"
    fmt = parse_format(name)
    quarters = np.arange(-4 * fmt.largest, 4 * fmt.largest + 1) / 4
    x = np.concatenate([quarters, np.nextafter(quarters, 0), np.nextafter(quarters, 99)])
    x = x[np.abs(x) <= fmt.largest].astype(np.float32)
    got = fmt.quantize(_blocks_at_scale(name, x.astype(np.float64), 0))[:, 1]
    expected = np.array([round(float(v)) for v in x], dtype=np.float32)
    assert np.array_equal(got, expected)


def test_scales_follow_ocp_and_cover_the_block() -> None:
    """MX: 2^(floor(log2 max) - emax); int: the least power of two with max <= top 2^k."""
    mx, int4 = parse_format("mxfp4"), parse_format("int4")
    block = np.zeros((1, 32), np.float32)
    block[0, 3] = 0.1  # log2 0.1 = -3.3, e2m1's emax 2
    assert mx.encode(block)[1].tolist() == [[-6]]
    assert int4.encode(block)[1].tolist() == [[-6]]  # 7 / 64 = 0.109 >= 0.1 > 7 / 128
    block[0, 3] = 7 / 64
    assert int4.encode(block)[1].tolist() == [[-6]]
    assert mx.encode(np.zeros((1, 40), np.float32))[1].shape == (1, 2)  # a shorter last block


def test_quantize_is_idempotent_and_saturates() -> None:
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((16, 100)) * 10.0 ** rng.integers(-4, 2, (16, 1))).astype(np.float32)
    for name in ("int2", "int4", "int5", "mxfp4", "mxfp6", "mxfp6e3m2", "mxfp8"):
        mode = NumericMode(name)
        once = mode.quantize_matrix(w)
        assert np.array_equal(mode.quantize_matrix(once), once), name
        assert np.max(np.abs(once - w)) <= np.max(np.abs(w)), name


@pytest.mark.parametrize("name,expected", [
    ("int2", (-9, 7)), ("int3", (-9, 6)), ("int4", (-9, 5)), ("int5", (-9, 4)),
    ("mxfp4", (-8, 6)), ("mxfp6", (-6, 5)), ("mxfp6e3m2", (-5, 4)), ("mxfp8", (0, 0)),
])
def test_scale_range_widens_exactly_to_e4m3(name: str, expected: tuple[int, int]) -> None:
    fmt = parse_format(name)
    low, high = scale_range(fmt, E4M3)
    assert (low, high) == expected
    for k, exact in ((low, True), (high, True), (low - 1, False), (high + 1, False)):
        values = np.ldexp(fmt.values, k)
        with np.errstate(over="ignore"):
            widened = values.astype(E4M3).astype(np.float64)
        assert np.array_equal(widened, values) == exact, (name, k)


def test_mode_clamps_scales_to_the_exact_range() -> None:
    """Tiny weights: the block scale stops at 2^-8 (mxfp4), so every stored weight is an
    E4M3 value (what the 8-bit multiplier takes)."""
    w = np.full((1, 32), 1e-4, np.float32)
    stored = NumericMode("mxfp4").quantize_matrix(w)
    assert np.array_equal(stored, stored.astype(E4M3).astype(np.float32))
    assert stored[0, 0] == 0.0  # 1e-4 / 2^-8 = 0.026 rounds to e2m1's 0


@pytest.mark.parametrize("name,message", [
    ("int6", "weight format int6 does not widen exactly to the multiplier format "
             "float8_e4m3fn: no power-of-two scale makes all its element values values of "
             "float8_e4m3fn"),
    ("mxint8", "weight format mxint8 does not widen exactly"),
    ("mxfp8e5m2", "weight format mxfp8e5m2 does not widen exactly"),
    ("int9", "unknown precision 'int9'"),
    ("int4b0", "unknown precision 'int4b0'"),
    ("mxfp4:lut=1", "lut_entries must be at least 2"),
])
def test_precision_errors(name: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_precision(name)


def test_precision_spellings() -> None:
    mode = parse_precision("MXFP4:lut=512")
    assert (mode.name, mode.lut_entries, mode.spec, mode.mixed) == ("mxfp4", 512, "mxfp4:lut=512",
                                                                    True)
    assert parse_precision("int3b64").weight_format == parse_format("int3b64")
    assert parse_format("int3b64").block == 64
    assert parse_precision("mixed").weight_format is None
    assert parse_precision("mxfp4:fmt=e5m2").scale_range == (-15, 13)  # e2m1 into e5m2


@pytest.mark.parametrize("name,elements,expected", [
    ("int4", 64, 32 + 2), ("mxfp4", 100, 50 + 4), ("int3", 10, 4 + 1), ("mxfp6", 32, 24 + 1),
    ("int5b16", 48, 30 + 3),
])
def test_row_bytes_count_codes_and_scales(name: str, elements: int, expected: int) -> None:
    assert parse_format(name).row_bytes(elements) == expected
    assert (parse_format(name).row_bytes(np.array([elements, 0])) == [expected, 0]).all()
