"""Numeric emulation of the accelerator's precision modes (paper-notes §3.3, §6.2 items 3-4).

The modes:

``fp32``
    Everything in IEEE float32: the reference the paper's CPU baseline computes.
``mixed``
    The mixed-precision PCU of the paper's Fig 6: weights stored and multiplied in an
    8-bit float format ("4-float8"), the first reduction stage in float16 ("2-float16"),
    the rest of the reduction, the accumulation and every element-wise op in float32, and
    the nonlinearities read from lookup tables held in SRAM.
a weight format (``int4``, ``mxfp4``, ...: `rnnc.numerics.formats`)
    ``mixed``'s arithmetic on weights stored block-scaled and narrow, widened exactly to
    the 8-bit multiplier's inputs (`NumericMode.quantize_matrix` rounds them once).

The paper specifies neither the float8 format nor the tables (§6.2 items 3-4); the
choices made here, with their reasons, are documented on `NumericMode`.

The functions take the precision as their first argument and work on whole numpy arrays,
so that an interpreter wires them in where it multiplies-and-reduces (`dot`), applies a
nonlinearity (`activation`) and loads weights (`quantize_weights`)::

    weights = quantize_weights(precision, weights)         # once, when weights are bound
    acc = dot(precision, w_rows, xh, axis=0, a_quantized=True)   # per reduction
    h = activation(precision, np.tanh, acc + bias)          # per nonlinearity

Element-wise adds and Hadamard products are float32 in both modes and need no hook.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import ml_dtypes
import numpy as np
from numpy.lib.array_utils import normalize_axis_index
from rnnc.numerics.formats import WeightFormat, is_format_name, parse_format, scale_range

__all__ = [
    "FP32",
    "MIXED",
    "LookupTable",
    "NumericMode",
    "OutputError",
    "activation",
    "compare_outputs",
    "dot",
    "error_report",
    "largest_magnitude",
    "lookup_table",
    "parse_precision",
    "quantize",
    "quantize_weights",
]

Interpolation = Literal["nearest", "linear"]

# The first reduction stage of Fig 6 ("2x16 add") works on IEEE binary16.
_F16 = np.dtype(np.float16)
_F16_MAX = float(np.finfo(np.float16).max)
_F16_SMALLEST_SUBNORMAL = float(np.finfo(np.float16).smallest_subnormal)
_F16_MANTISSA_BITS = 10

# Short spellings accepted by `parse_precision` for the two OCP FP8 formats.
_FORMAT_ALIASES = {"e4m3": "float8_e4m3fn", "e5m2": "float8_e5m2"}


def _float8_dtype(name: str) -> np.dtype:
    """The numpy dtype of the ml_dtypes 8-bit float format `name`, or ValueError."""
    scalar = getattr(ml_dtypes, name, None) if name.startswith("float8_") else None
    if scalar is None:
        raise ValueError(
            f"unknown 8-bit float format {name!r}; expected an ml_dtypes float8 type such "
            f"as float8_e4m3fn or float8_e5m2"
        )
    dtype = np.dtype(scalar)
    info = ml_dtypes.finfo(dtype)
    if dtype.itemsize != 1 or float(info.min) >= 0:
        # e.g. float8_e8m0fnu: unsigned, a scale format rather than a value format
        raise ValueError(f"8-bit float format {name!r} must be a signed 1-byte float")
    return dtype


@dataclass(frozen=True)
class NumericMode:
    """A precision mode of the accelerator and the parameters of its emulation: how numbers
    are computed. (The chip's throughput and storage facts of a mode are another thing,
    `rnnc.target.arch.Precision`, which the cost model reads.)

    Attributes:
        name: ``"fp32"``, ``"mixed"`` or a weight format (`rnnc.numerics.formats`, e.g.
            ``int4``, ``mxfp4``): the mixed mode's arithmetic on weights stored in that
            format and widened exactly to `float8` values (`weight_format`). In ``fp32``
            the other fields are ignored.
        float8: the ml_dtypes name of the 8-bit float format of weights and multiplier
            inputs. Default ``float8_e4m3fn`` (OCP FP8 E4M3: 3 mantissa bits, finite
            range ±448, subnormals down to 2^-9). Why E4M3 rather than E5M2: the RNN's
            multiplier inputs are bounded -- h, tanh and sigmoid outputs lie in [-1, 1],
            the inputs here in [-1, 1], and weights initialised or trained around
            ±1/sqrt(H) (about 0.02-0.06 for the DeepBench sizes) -- so E5M2's extra
            exponent range (to 57344 and down to 2^-16) buys nothing, while its one fewer
            mantissa bit doubles the unit roundoff (2^-3 instead of 2^-4) on every weight
            and activation. This is also the standard split (Micikevicius et al. 2022, the
            OCP FP8 spec): E4M3 for weights and activations in the forward pass, E5M2 for
            gradients. A further fit with Fig 6: the product of two E4M3 values has at
            most 8 significant bits and magnitude at least 2^-18, so the 8-to-16-bit
            widening of the products is exact (binary16 has 11 bits and a subnormal quantum
            of 2^-24) as long as the product is below 65504, i.e. for any operands in
            [-255, 255]; E5M2 products below 2^-14 lose bits in binary16.
        lut_entries: number of entries of each nonlinearity's lookup table. Default 1024
            (4 KiB of float32 values per function, plus as much again of slopes with
            linear interpolation: a small part of one 84 KiB PMU).
        lut_range: the tables sample ``[-lut_range, lut_range]`` at ``lut_entries``
            equally spaced points including both ends (spacing 2*range/(entries-1)); inputs
            outside are clamped, saturating the way a hardware table index does. Default
            8: sigmoid and tanh are flat to within 3.4e-4 and 2.3e-7 of their limits there
            (clamping error) where the older lab tables' ±5 would leave 6.7e-3 (sigmoid),
            and 1024 entries still keep the spacing at 16/1023 = 0.0156.
        lut_interp: ``"linear"`` (default) or ``"nearest"``. Linear interpolation stores
            a second table of slopes and costs one more SRAM read and one float32 FMA in
            the element-wise chain, which is float32 anyway; in exchange its error (h^2/8
            times max|f''|: 2.4e-5 for tanh at the defaults) is negligible next to the
            8-bit dot products', whereas nearest-entry lookup adds up to h/2 times
            max|f'| (7.8e-3 for tanh), as large as the quantisation noise of the gates'
            pre-activations (measured on the tests' sequences: final hidden-state error
            0.013 instead of 0.010 for LSTM-512, 0.029 instead of 0.024 for GRU-1024).
            With the default, the mixed mode's error is the 8-bit arithmetic's, the paper's
            actual design choice, not an artefact of the table.
    """

    name: str = "mixed"
    float8: str = "float8_e4m3fn"
    lut_entries: int = 1024
    lut_range: float = 8.0
    lut_interp: Interpolation = "linear"
    _dtype: np.dtype = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.name not in ("fp32", "mixed") and not is_format_name(self.name):
            raise ValueError(
                f"precision name must be 'fp32', 'mixed' or a weight format, got {self.name!r}"
            )
        object.__setattr__(self, "_dtype", _float8_dtype(self.float8))
        if self.weight_format is not None:
            self.scale_range  # noqa: B018 -- refuses a format that does not widen exactly
        if isinstance(self.lut_entries, bool) or not isinstance(self.lut_entries, int):
            raise ValueError(f"lut_entries must be an integer, got {self.lut_entries!r}")
        if self.lut_entries < 2:
            raise ValueError(f"lut_entries must be at least 2, got {self.lut_entries}")
        if not (
            isinstance(self.lut_range, int | float)
            and not isinstance(self.lut_range, bool)
            and math.isfinite(self.lut_range)
            and self.lut_range > 0
        ):
            raise ValueError(f"lut_range must be positive and finite, got {self.lut_range!r}")
        object.__setattr__(self, "lut_range", float(self.lut_range))
        if self.lut_interp not in ("nearest", "linear"):
            raise ValueError(f"lut_interp must be 'nearest' or 'linear', got {self.lut_interp!r}")

    @property
    def mixed(self) -> bool:
        """Whether the arithmetic is the mixed-precision mode's (8-bit multiplies, tables):
        ``mixed`` and the weight formats."""
        return self.name != "fp32"

    @property
    def weight_format(self) -> WeightFormat | None:
        """The weights' storage format, None in ``fp32`` and ``mixed`` (weights stored as
        `float8` values)."""
        return parse_format(self.name) if self.name not in ("fp32", "mixed") else None

    @property
    def scale_range(self) -> tuple[int, int]:
        """The block scale exponents at which `weight_format` widens exactly to `float8`."""
        assert self.weight_format is not None
        return scale_range(self.weight_format, self._dtype)

    def quantize_matrix(self, weights: Any) -> np.ndarray:
        """A weight matrix (rows along its last axis) as this mode stores it, float32:
        rounded to `weight_format` (blocks along the last axis), or to `float8` in
        ``mixed``, or float32."""
        if self.weight_format is None:
            return quantize(self, weights)
        return self.weight_format.quantize(np.asarray(weights), self.scale_range)

    @property
    def float8_dtype(self) -> np.dtype:
        """The numpy dtype of the 8-bit format (an ml_dtypes type)."""
        return self._dtype

    @property
    def spec(self) -> str:
        """The canonical `parse_precision` spelling: ``parse_precision(p.spec) == p``."""
        if not self.mixed:
            return "fp32"
        options = []
        name = self.name
        default = MIXED
        if self.float8 != default.float8:
            short = {v: k for k, v in _FORMAT_ALIASES.items()}.get(self.float8, self.float8)
            options.append(f"fmt={short}")
        if self.lut_entries != default.lut_entries:
            options.append(f"lut={self.lut_entries}")
        if self.lut_range != default.lut_range:
            options.append(f"range={_number(self.lut_range)}")
        if self.lut_interp != default.lut_interp:
            options.append(f"interp={self.lut_interp}")
        return name + (":" + ",".join(options) if options else "")

    def describe(self) -> str:
        """One line for humans, e.g. for ``rnnc run --precision``."""
        if not self.mixed:
            return "fp32 (float32 everywhere)"
        stored = f"{self.float8} weights" if self.weight_format is None else (
            f"weights stored as {self.weight_format.describe()}, widened to {self.float8}"
        )
        return (
            f"{self.name} ({stored}, {self.float8} multiplies, float16 first reduction stage, "
            f"float32 accumulation and element-wise ops; {self.lut_entries}-entry "
            f"{self.lut_interp} lookup tables over [-{_number(self.lut_range)}, "
            f"{_number(self.lut_range)}])"
        )

    def __str__(self) -> str:
        return self.spec


def _number(x: float) -> str:
    """`x` spelled so that float() gives it back: 6 rather than 6.0."""
    return str(int(x)) if x.is_integer() and abs(x) < 2**53 else repr(x)


FP32 = NumericMode("fp32")
MIXED = NumericMode("mixed")

_OPTION_SYNTAX = (
    "expected fp32, mixed, a weight format (intN, intNbK, mxfp8, mxfp8e5m2, mxfp6, mxfp6e3m2, "
    "mxfp4, mxint8) or one of those but fp32 with :KEY=VALUE[,KEY=VALUE...], KEY in fmt, "
    "lut, range, interp"
)


def parse_precision(text: str) -> NumericMode:
    """Parse a precision from the command line.

    Syntax: ``fp32``, ``mixed``, or ``mixed:KEY=VALUE[,KEY=VALUE...]`` where KEY is

    - ``fmt``: the 8-bit format, ``e4m3`` (= float8_e4m3fn), ``e5m2`` (= float8_e5m2)
      or any ml_dtypes float8 type name;
    - ``lut``: the number of table entries (integer >= 2);
    - ``range``: the table covers [-range, range] (positive number);
    - ``interp``: ``linear`` or ``nearest``.

    Names and keys are case-insensitive and spaces around them are ignored, e.g.
    ``mixed:lut=512,range=6,interp=nearest``. Anything else raises ValueError.
    """
    if not isinstance(text, str):
        raise ValueError(f"precision must be a string, got {type(text).__name__}")
    name, sep, rest = text.strip().partition(":")
    name = name.strip().lower()
    if name not in ("fp32", "mixed") and not is_format_name(name):
        raise ValueError(f"unknown precision {text!r}: {_OPTION_SYNTAX}")
    if not sep and name in ("fp32", "mixed"):
        return FP32 if name == "fp32" else MIXED
    if name == "fp32":
        raise ValueError(f"precision {text!r}: fp32 takes no options")
    updates: dict[str, Any] = {}
    keys = {"fmt": "float8", "lut": "lut_entries", "range": "lut_range", "interp": "lut_interp"}
    for item in rest.split(",") if sep else ():
        key, eq, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not eq or key not in keys or not value:
            raise ValueError(f"precision {text!r}: bad option {item.strip()!r}; {_OPTION_SYNTAX}")
        if keys[key] in updates:
            raise ValueError(f"precision {text!r}: option {key!r} given twice")
        try:
            if key == "fmt":
                updates["float8"] = _FORMAT_ALIASES.get(value.lower(), value.lower())
            elif key == "lut":
                updates["lut_entries"] = int(value)
            elif key == "range":
                updates["lut_range"] = float(value)
            else:
                updates["lut_interp"] = value.lower()
        except ValueError:
            raise ValueError(
                f"precision {text!r}: option {key!r} needs "
                f"{'an integer' if key == 'lut' else 'a number'}, got {value!r}"
            ) from None
    try:
        return replace(MIXED, name=name, **updates)
    except ValueError as error:
        raise ValueError(f"precision {text!r}: {error}") from None


# ---- 8-bit operands -----------------------------------------------------------------------------


@functools.cache
def _largest_finite(dtype: np.dtype) -> float:
    return float(ml_dtypes.finfo(dtype).max)


# float32 bit fields, as 0-d arrays: numpy takes them faster than scalars
_SIGN_BIT = np.array(0x8000_0000, dtype=np.uint32)
_EXPONENT_FIELD = np.array(0x7F80_0000, dtype=np.uint32)
_F32_FRACTION_BITS = 23
_F32_MIN_EXPONENT = -126
_F32_MAX_EXPONENT = 127
# Elements rounded per step: a block and its two scratch blocks (768 KiB) stay in a core's
# L2 cache through the seven passes over them, which takes a third less time than passes
# over the whole array (1.2 instead of 1.9 ms for 2M values on the development machine).
_BLOCK = 1 << 16


@dataclass(frozen=True, eq=False)
class _MagicRounding:
    """The constants with which `quantize` rounds float32 to an 8-bit format by float32
    additions (see `_magic_rounding`).

    Attributes:
        floor: `_BLOCK` copies of the exponent field of the format's smallest normal value
            (numpy's maximum of an array and a scalar is several times slower than of two
            arrays): a smaller value is rounded with the quantum of that binade, the
            subnormal spacing.
        offset: added to an exponent field 2^e as integers, gives the bits of the magic
            number 1.5 * 2^(e + 23 - nmant).
        signed_zero: whether the format has -0 (the ``fnuz`` formats turn -0 into +0).
    """

    floor: np.ndarray
    offset: np.ndarray
    signed_zero: bool


@functools.cache
def _magic_rounding(dtype: np.dtype) -> _MagicRounding | None:
    """The constants of `quantize`'s float32 rounding to `dtype`, from ``ml_dtypes.finfo``;
    None for a format it does not apply to (then `quantize` casts).

    It applies to a binary format with ``nmant`` fraction bits whose values are those of
    float32 with ``nmant + 1`` significant bits, the normal ones from ``smallest_normal``
    = 2^emin up and the subnormal ones the multiples of 2^(emin - nmant) below, provided
    the magic numbers 1.5 * 2^(e + 23 - nmant), for e from emin to the largest value's
    exponent, are normal float32 numbers whose spacing 2^(e - nmant) leaves room for the
    whole binade of e: ``nmant <= 21``.
    """
    info = ml_dtypes.finfo(dtype)
    nmant = int(info.nmant)
    smallest_normal = float(info.smallest_normal)
    emin = math.frexp(smallest_normal)[1] - 1  # smallest_normal = 2^emin if a power of 2
    emax = math.frexp(float(info.max))[1] - 1
    shift = _F32_FRACTION_BITS - nmant
    applies = (
        0 <= nmant <= _F32_FRACTION_BITS - 2
        and smallest_normal == math.ldexp(1.0, emin)
        and float(info.smallest_subnormal) == math.ldexp(1.0, emin - nmant)
        and emin >= _F32_MIN_EXPONENT
        and emax + shift <= _F32_MAX_EXPONENT
    )
    if not applies:
        return None
    floor_field = np.array(smallest_normal, dtype=np.float32).view(np.uint32)
    floor = np.full(_BLOCK, floor_field, dtype=np.uint32)
    floor.flags.writeable = False
    negative_zero = np.array(-0.0, dtype=np.float32).astype(dtype).astype(np.float32)
    return _MagicRounding(
        floor=floor,
        # shift the exponent by `shift` and set the fraction's leading bit: x1.5
        offset=np.array(
            (shift << _F32_FRACTION_BITS) | (1 << (_F32_FRACTION_BITS - 1)), dtype=np.uint32
        ),
        signed_zero=bool(np.signbit(negative_zero)),
    )


def _round_in_place(values: np.ndarray, rounding: _MagicRounding) -> None:
    """Round the 1-d contiguous float32 `values`, within the format's range or NaN, to the
    format, block by block (see `quantize` for why this is the cast's rounding)."""
    bits = values.view(np.uint32)
    scratch = min(values.size, _BLOCK)
    magic_bits, sign = np.empty(scratch, np.uint32), np.empty(scratch, np.uint32)
    magic = magic_bits.view(np.float32)
    for start in range(0, values.size, _BLOCK):
        stop = min(start + _BLOCK, values.size)
        size = stop - start
        block, block_bits = values[start:stop], bits[start:stop]
        if size < scratch:  # the last block of several
            magic_bits, sign, magic = magic_bits[:size], sign[:size], magic[:size]
        # 2^e of each value's binade, at least the smallest normal, to 1.5 * 2^(e+23-nmant);
        # a NaN's field wraps around to some number, and NaN + number is NaN
        np.bitwise_and(block_bits, _EXPONENT_FIELD, out=magic_bits)
        np.maximum(magic_bits, rounding.floor[:size], out=magic_bits)
        np.add(magic_bits, rounding.offset, out=magic_bits)
        if rounding.signed_zero:
            np.bitwise_and(block_bits, _SIGN_BIT, out=sign)
        np.add(block, magic, out=block)
        np.subtract(block, magic, out=block)
        if rounding.signed_zero:
            # x - x is +0: a negative value that rounds to zero gets its sign back
            np.bitwise_or(block_bits, sign, out=block_bits)


def quantize(precision: NumericMode, x: Any) -> np.ndarray:
    """`x` rounded to the 8-bit format (in mixed mode) and returned as float32.

    The rounding is ml_dtypes' cast of float32 to the format: to nearest, ties to even,
    subnormals included. Values beyond the format's largest finite value saturate to it
    (as FP8 conversion does in ML hardware and OCP's saturating mode) rather than becoming
    NaN, which is what ml_dtypes does for the ``fn`` formats that have no infinity; NaN
    stays NaN. In fp32 mode: ``x`` as float32. Rounding is idempotent, so quantizing an
    already quantized array changes nothing.

    How, without the cast (which takes about 20 times as long; `quantize_exhaustive.py` in
    bench/ times both): ``x`` is clipped to the largest finite value as before, then each
    value y is rounded by two float32 additions, ``(y + M) - M``, with the magic number
    M = 1.5 * 2^(e + 23 - nmant) built from the bits of y, where 2^e is y's binade or,
    below the smallest normal value, that value's. The format's values near y are the
    multiples of Q = 2^(e - nmant) -- nmant + 1 significant bits in a normal binade, the
    subnormal spacing below it --, and y + M lies in M's binade, where float32's spacing
    is exactly Q; so the float32 addition rounds y to a multiple of Q, to nearest, ties to
    the even multiple (M = 3 * 2^22 * Q is even), i.e. to the format's even mantissa; a
    value at the top of its binade rounds to 2^(e+1), the next binade's first value, and
    none exceeds the clipped largest value, itself a multiple of its Q. Subtracting M is
    exact. Since ``x - x`` is +0, the sign bit of y is put back (a small negative value
    gives -0, as the cast does; the ``fnuz`` formats, which have no -0, give +0, as their
    cast does). Checked to give the cast's float32 bits (or NaN where it gives NaN) for all
    2^32 float32 values (``bench/quantize_exhaustive.py``), and in the tests for every
    float32 of the binades around E4M3's and E5M2's smallest subnormal, smallest normal and
    largest value and for every rounding case of each signed ml_dtypes float8 format. A
    format whose values do not fit the scheme (`_magic_rounding`) is cast.
    """
    x32 = np.asarray(x, dtype=np.float32)
    if not precision.mixed:
        return x32
    limit = _largest_finite(precision.float8_dtype)
    rounded = np.empty(x32.shape, dtype=np.float32)
    np.clip(x32, -limit, limit, out=rounded)
    rounding = _magic_rounding(precision.float8_dtype)
    if rounding is None:
        return rounded.astype(precision.float8_dtype).astype(np.float32)
    _round_in_place(rounded.reshape(-1), rounding)
    return rounded


def quantize_weights(precision: NumericMode, w: Any) -> np.ndarray:
    """The weights as stored on chip: 8-bit values (as float32) in mixed mode, float32
    in fp32 mode.

    Rounding a large matrix costs about as much as several mixed dot products with it, so
    a caller quantizes weights once and passes ``a_quantized``/``b_quantized`` to `dot`.
    """
    return quantize(precision, w)


# ---- the map-reduce -----------------------------------------------------------------------------


@functools.cache
def _products_fit_f16(dtype: np.dtype) -> bool:
    """Whether every product of two finite values of `dtype` that is below binary16's
    maximum is exactly a binary16 value: the significand product fits in 11 bits and
    its quantum is a multiple of binary16's subnormal quantum."""
    info = ml_dtypes.finfo(dtype)
    significand_bits = 2 * (int(info.nmant) + 1)
    quantum = float(info.smallest_subnormal) ** 2
    return significand_bits <= _F16_MANTISSA_BITS + 1 and quantum >= _F16_SMALLEST_SUBNORMAL


def largest_magnitude(array: np.ndarray) -> float:
    """max |array| (NaN if it holds NaN, 0 if empty), as `dot` bounds its products."""
    # two reductions and no temporary: cheaper than np.abs(array).max() on big weights
    if array.size == 0:
        return 0.0
    return max(abs(float(np.max(array))), abs(float(np.min(array))))


# Veltkamp's splitting constant for float32 (24 significant bits) and 11 kept bits: 2^13 + 1
_VELTKAMP_F16 = np.float32(2 ** (24 - (_F16_MANTISSA_BITS + 1)) + 1)


def _round_to_f16_in_place(s: np.ndarray) -> None:
    """Round the float32 array `s` to binary16 in place, as ``s.astype(float16)`` would,
    where `s` holds pair sums of two binary16 values with ``|s| <= 65504``: three float32
    array operations, which cost a fraction of numpy's float16 cast round trip.

    Veltkamp's splitting ``t = C s; hi = t - (t - s)`` with ``C = 2^13 + 1`` rounds a
    float32 to its leading 24 - 13 = 11 significant bits, to nearest (Dekker 1971); that
    its ties go to even, like binary16's, is not assumed but checked: the tests compare
    it with the cast bit for bit on every float32 of 2^-14 <= |s| <= 65504, where
    binary16 has 11 significant bits. Below 2^-14 binary16 is subnormal, with the fixed
    quantum 2^-24; but a sum of two binary16 values is a multiple of 2^-24, and there
    one with at most 10 significant bits, so float32 holds it exactly, it is already a
    binary16 value (the cast keeps it), and having fewer than 11 bits the splitting keeps
    it too. Above 65504 the cast overflows to inf where the splitting does not: the
    caller bounds |s|. ``C s`` stays far inside float32's range, and a signed zero stays
    as it is. Each step is its own float32 ufunc, so no fused multiply-add or wider
    intermediate can alter the splitting.
    """
    t = np.multiply(s, _VELTKAMP_F16)
    np.subtract(t, s, out=s)
    np.subtract(t, s, out=s)


def _take(array: np.ndarray, axis: int, index: slice) -> np.ndarray:
    key: list[slice] = [slice(None)] * array.ndim
    key[axis] = index
    return array[tuple(key)]


def dot(
    precision: NumericMode,
    a: Any,
    b: Any,
    axis: int = -1,
    *,
    a_quantized: bool = False,
    b_quantized: bool = False,
    a_largest: float | None = None,
) -> np.ndarray:
    """``sum(a * b)`` along `axis` (after broadcasting `a` and `b`), as the PCU computes it.

    fp32: float32 products summed in float32 (numpy's summation order).

    mixed, the map-reduce of Fig 6: both operands rounded to the 8-bit format; the
    products formed exactly (float32 holds them; so does the 16-bit output of the 8-bit
    multipliers); adjacent pairs of products (0+1, 2+3, ...) added in float16 with one
    rounding each -- an odd-length reduction pads a zero product, i.e. its last product
    skips the 16-bit add --; those sums widened to float32 and reduced in float32.

    Why this is Fig 6: the ``4x8 mul`` stage multiplies four 8-bit pairs per lane; the
    ``8-16 split`` widens the products into two registers of 2-float16; the ``2x16 add``
    adds them pairwise in float16, the only stage with low-precision accumulation; the
    ``16-32 split`` widens to float32, and the ``32 add``, the cross-lane reduction
    network and the accumulation across chunks are float32. So exactly one float16
    rounding per pair of products, all further rounding in float32. Which two of a lane's
    four products form a pair depends on the split's register layout, which the paper
    does not give; adjacent pairs are used here (statistically the same). The float32
    stages are modelled as one float32 sum, whose order differs from the hardware's
    lane/ru trees and accumulation only by float32 roundings, orders of magnitude below
    the 8-bit ones.

    `a_quantized` / `b_quantized` declare that an operand already holds 8-bit values
    (from `quantize_weights`), which skips re-rounding it: the result is the same, only
    faster. `a_largest` is ``largest_magnitude(a)`` of such an operand if the caller
    knows it (weights used again and again): it bounds the products, and measuring it
    costs two passes over `a`.
    """
    if not precision.mixed:
        a32 = np.asarray(a, dtype=np.float32)
        b32 = np.asarray(b, dtype=np.float32)
        return np.asarray(np.sum(a32 * b32, axis=axis, dtype=np.float32))

    a8 = np.asarray(a, dtype=np.float32) if a_quantized else quantize(precision, a)
    b8 = np.asarray(b, dtype=np.float32) if b_quantized else quantize(precision, b)
    # exact: two 8-bit significands give at most 2 * (mantissa + 1) <= 24 bits, and the
    # exponents stay far inside float32's range
    products = a8 * b8
    axis = normalize_axis_index(axis, products.ndim)  # AxisError, a ValueError, if none
    length = products.shape[axis]
    even = _take(products, axis, slice(0, length - 1, 2))
    odd = _take(products, axis, slice(1, None, 2))

    bound = largest_magnitude(a8) if a_largest is None else a_largest
    largest = bound * largest_magnitude(b8)  # NaN if an operand holds NaN: no fast path
    fit = _products_fit_f16(precision.float8_dtype)
    # float16 overflows to inf (and inf - inf gives NaN) as in IEEE hardware: not an error
    # of the emulation, so numpy's warnings are silenced
    with np.errstate(over="ignore", invalid="ignore"):
        if fit and 2.0 * largest <= _F16_MAX:
            # The fast path below, with the float16 rounding of the pair sums done in
            # float32 arithmetic. It may: every |product| <= largest, so the exact pair
            # sum is at most 2 * largest <= 65504, and so is its float32 rounding s (which
            # is monotone, and 65504 is a float32), the range `_round_to_f16_in_place`
            # covers. `pairs` is a fresh array laid out like the cast's result, so that
            # np.sum adds in the same order as the path below.
            pairs = np.add(even, odd)
            _round_to_f16_in_place(pairs)
        elif fit and largest <= _F16_MAX:
            # Fast path. The products are binary16 values, so rounding them to float16 is
            # the identity, and float32's rounding of the pair sum followed by float16's
            # equals one correct float16 rounding (double rounding is innocuous for a sum of
            # two binary16 values since 24 >= 2*11 + 2; Figueroa 1995). numpy's own float16
            # add computes exactly this.
            pairs = (even + odd).astype(_F16).astype(np.float32)
        else:
            # Products that binary16 cannot hold (overflow, or a wide format's tiny values):
            # round each product to float16 first, as the multiplier's 16-bit output does.
            even16 = even.astype(_F16).astype(np.float32)
            odd16 = odd.astype(_F16).astype(np.float32)
            pairs = (even16 + odd16).astype(_F16).astype(np.float32)
        total = np.sum(pairs, axis=axis, dtype=np.float32)
        if length % 2:
            last = _take(products, axis, slice(length - 1, length))
            # the multiplier's 16-bit output, which has no partner to be added to
            last = last.astype(_F16).astype(np.float32)
            total = total + np.squeeze(last, axis=axis)
    return np.asarray(total, dtype=np.float32)


# ---- nonlinearities -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LookupTable:
    """A nonlinearity sampled at equally spaced points, as held in a PMU.

    ``values[k] = fn(lo + k * step)`` in float32; ``slopes[k] = values[k+1] - values[k]``
    (the second table that linear interpolation reads; 0 after the last entry).
    """

    lo: float
    step: float
    values: np.ndarray
    slopes: np.ndarray
    interp: Interpolation

    def __call__(self, x: Any) -> np.ndarray:
        """Look `x` up, with the arithmetic of the element-wise chain (float32): index =
        (clamp(x) - lo) / step, then the nearest entry or a linear interpolation between
        the two around it. NaN inputs give NaN."""
        x32 = np.asarray(x, dtype=np.float32)
        last = self.values.shape[0] - 1
        # clamping the index rather than x makes the end entries exact and sends +-inf to
        # them too
        with np.errstate(over="ignore", invalid="ignore"):
            position = (x32 - np.float32(self.lo)) * np.float32(1.0 / self.step)
        position = np.clip(position, np.float32(0), np.float32(last))
        nan = np.isnan(position)
        if nan.any():
            position = np.where(nan, np.float32(0), position)
        if self.interp == "nearest":
            index = np.rint(position).astype(np.intp)
            result = self.values[index]
        else:
            index = np.minimum(position.astype(np.intp), last - 1)  # floor: position >= 0
            fraction = position - index.astype(np.float32)
            result = self.values[index] + fraction * self.slopes[index]
        if nan.any():
            result = np.where(nan, np.float32(np.nan), result)
        return np.asarray(result, dtype=np.float32)


@functools.lru_cache(maxsize=256)
def _cached_table(
    fn: Callable[[np.ndarray], Any], entries: int, half_range: float, interp: Interpolation
) -> LookupTable:
    return _build_table(fn, entries, half_range, interp)


def _build_table(
    fn: Callable[[np.ndarray], Any], entries: int, half_range: float, interp: Interpolation
) -> LookupTable:
    # Sample in float64 and round once to float32: the table's own error is then one
    # float32 rounding of the exact function value.
    points = np.linspace(-half_range, half_range, entries, dtype=np.float64)
    values = np.asarray(fn(points), dtype=np.float64)
    if values.shape != points.shape:
        raise ValueError(f"activation function {fn!r} is not element-wise")
    stored = values.astype(np.float32)
    slopes = np.zeros_like(stored)
    slopes[:-1] = np.diff(stored)
    stored.flags.writeable = False
    slopes.flags.writeable = False
    step = 2.0 * half_range / (entries - 1)
    return LookupTable(-half_range, step, stored, slopes, interp)


def lookup_table(precision: NumericMode, fn: Callable[[np.ndarray], Any]) -> LookupTable:
    """The table of `fn` for `precision`'s table parameters, built once and cached per
    (fn, entries, range, interpolation). `fn` must be element-wise, accept float64
    arrays and, to be cached, be hashable (numpy ufuncs, functions and frozen dataclasses
    such as the interpreter's `Activation` are); an unhashable `fn` gets a fresh table
    every call."""
    key = (precision.lut_entries, precision.lut_range, precision.lut_interp)
    try:
        hash(fn)
    except TypeError:
        return _build_table(fn, *key)
    return _cached_table(fn, *key)


def activation(precision: NumericMode, fn: Callable[[np.ndarray], Any], x: Any) -> np.ndarray:
    """The nonlinearity `fn` applied to `x`, as float32.

    fp32: ``fn`` itself on float32 input. mixed: through `fn`'s lookup table, inputs
    clamped to the table's range. Note that clamping also saturates functions that do not
    level off (relu, affine, softsign's slow tail), as a hardware table would; such
    functions would be computed by an FU rather than a table on the real chip.
    """
    x32 = np.asarray(x, dtype=np.float32)
    if not precision.mixed:
        return np.asarray(fn(x32), dtype=np.float32)
    return lookup_table(precision, fn)(x32)


# ---- comparing two runs -------------------------------------------------------------------------

# Relative errors of elements smaller than this fraction of the output's largest magnitude
# are measured against that floor: a hidden unit crossing zero would otherwise report an
# arbitrarily large relative error for an absolute error that is fine.
RELATIVE_FLOOR = 1e-3


@dataclass(frozen=True)
class OutputError:
    """How far one output of a run is from the reference run's."""

    name: str
    shape: tuple[int, ...]
    max_abs: float
    max_rel: float
    max_ref: float


def compare_outputs(reference: Mapping[str, Any], got: Mapping[str, Any]) -> dict[str, OutputError]:
    """Max absolute and max relative error of each output present in both runs.

    ``max_rel`` is ``max |got - ref| / max(|ref|, RELATIVE_FLOOR * max|ref|)`` over the
    elements. Outputs missing from either run, or of different shapes, raise ValueError.
    NaN anywhere makes the errors NaN.
    """
    missing = sorted(set(reference) ^ set(got))
    if missing:
        raise ValueError(f"outputs present in only one run: {', '.join(missing)}")
    result: dict[str, OutputError] = {}
    for name in reference:
        ref = np.asarray(reference[name], dtype=np.float64)
        out = np.asarray(got[name], dtype=np.float64)
        if ref.shape != out.shape:
            raise ValueError(f"output {name!r}: shape {out.shape} differs from {ref.shape}")
        if ref.size == 0:
            result[name] = OutputError(name, ref.shape, 0.0, 0.0, 0.0)
            continue
        with np.errstate(invalid="ignore"):
            error = np.abs(out - ref)
            magnitude = np.abs(ref)
            largest = float(np.max(magnitude))
            floor = RELATIVE_FLOOR * largest
            if floor > 0:
                relative = float(np.max(error / np.maximum(magnitude, floor)))
            else:  # the reference is all zeros: any error is infinitely relative
                relative = 0.0 if not np.any(error) else math.inf
        if np.isnan(error).any() or np.isnan(largest):
            relative = math.nan
        result[name] = OutputError(name, ref.shape, float(np.max(error)), relative, largest)
    return result


def error_report(
    reference: Mapping[str, Any],
    got: Mapping[str, Any],
    reference_label: str = "fp32",
    got_label: str = "mixed",
) -> str:
    """A table of `compare_outputs`, one line per output, for
    ``rnnc run --precision mixed --compare fp32``."""
    errors = compare_outputs(reference, got)
    header = f"error of {got_label} against {reference_label}"
    width = max([len("output"), *(len(name) for name in errors)])
    lines = [
        header,
        f"  {'output':<{width}}  {'shape':>14}  {'max |ref|':>10}  {'max abs err':>11}  "
        f"{'max rel err':>11}",
    ]
    for error in errors.values():
        shape = "x".join(str(n) for n in error.shape) or "scalar"
        lines.append(
            f"  {error.name:<{width}}  {shape:>14}  {error.max_ref:>10.4g}  "
            f"{error.max_abs:>11.3e}  {error.max_rel:>11.3e}"
        )
    return "\n".join(lines)
