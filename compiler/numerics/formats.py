"""Narrow weight storage formats: block-scaled integers and the OCP microscaling (MX) formats.

A weight matrix in such a format is cut, along its last axis (the reduction axis: a row
of ``W`` or ``R`` is one hidden unit's gate), into blocks of ``block`` elements; each
block stores one shared scale, a power of two 2^k in the 8-bit ``e8m0`` code (k + 127, as
``ml_dtypes.float8_e8m0fnu``), and each element a ``bits``-bit code:

``intN`` (N = 2..8)
    two's complement integers in [-2^(N-1), 2^(N-1) - 1], blocks of 32 (``intNbK``:
    blocks of K). The scale is the least power of two with ``max|block| <= (2^(N-1) - 1)
    * 2^k``, so no element is clipped (symmetric: the code -2^(N-1) is never produced).
``mxfp8`` / ``mxfp8e5m2`` / ``mxfp6`` / ``mxfp6e3m2`` / ``mxfp4`` / ``mxint8``
    the OCP Microscaling v1.0 formats, blocks of 32, with element types from ml_dtypes:
    float8 e4m3 / e5m2, float6 e2m3 / e3m2, float4 e2m1, and MXINT8's 8-bit integers
    with an implicit 2^-6. The scale is OCP's: ``2^(floor(log2 max|block|) - emax)`` with
    emax the element type's largest exponent; elements beyond the element type's range
    saturate.

Elements are rounded to nearest, ties to even: by ml_dtypes' cast for the float element
types, by ``np.rint`` for the integers. The value of an element is its code's value times
the block's scale.

On the chip (`NumericMode` with a format as its name) the weights are stored this way and
widened, on the way from the PMU to the PCU, to the 8-bit multiplier's input format
(`NumericMode.float8`, OCP E4M3 by default): the element's value with the scale's
exponent added. That is exact only for scales in a range (`scale_range`) -- e.g. 2^-8 ..
2^6 for mxfp4 into E4M3 -- so the quantizer clamps the block's exponent to it, and a
format none of whose scales embeds (int8 has 8 significant bits, E4M3 4) is refused for
that multiplier. The arithmetic after the widening is the mixed mode's (paper Fig 6).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any

import ml_dtypes
import numpy as np

__all__ = [
    "MX_BLOCK",
    "SCALE_BYTES",
    "WeightFormat",
    "format_names",
    "is_format_name",
    "parse_format",
    "scale_range",
]

#: Bytes of a block's scale: one e8m0 code.
SCALE_BYTES = 1
#: OCP MX block size.
MX_BLOCK = 32
#: Exponents an e8m0 scale can hold (code 255 is NaN).
_E8M0_RANGE = (-127, 127)

#: The MX formats: (element dtype name or "int8" for MXINT8, element bits).
_MX = {
    "mxfp8": ("float8_e4m3fn", 8),
    "mxfp8e5m2": ("float8_e5m2", 8),
    "mxfp6": ("float6_e2m3fn", 6),
    "mxfp6e3m2": ("float6_e3m2fn", 6),
    "mxfp4": ("float4_e2m1fn", 4),
    "mxint8": ("int8", 8),
}
_INT = re.compile(r"int([2-8])(?:b([1-9][0-9]*))?")


@dataclass(frozen=True)
class WeightFormat:
    """A block-scaled weight storage format (see the module doc).

    Attributes:
        name: its spelling, e.g. ``int4``, ``int3b64``, ``mxfp4``.
        bits: bits of an element's code.
        block: elements along the last axis that share one scale.
        element: the ml_dtypes name of a float element type, or ``"int"``.
    """

    name: str
    bits: int
    block: int
    element: str

    @property
    def values(self) -> np.ndarray:
        """Every finite value an element's code decodes to (before scaling), float64."""
        return _element_values(self.element, self.bits, self.name == "mxint8")

    @property
    def largest(self) -> float:
        """The largest element value."""
        return float(np.max(self.values))

    def row_bytes(self, elements: Any, blocks: Any = None) -> Any:
        """Bytes of a row of `elements` elements as stored: the codes packed bit-wise,
        rounded up to whole bytes, and the scales of the `blocks` blocks it touches
        (default: a row from a block's start, one per started block)."""
        if blocks is None:
            blocks = -(-elements // self.block)
        return -(-elements * self.bits // 8) + SCALE_BYTES * blocks

    def blocks_touched(self, start: Any, stop: Any) -> Any:
        """Blocks of a row that its elements [start, stop) fall in (0 when empty)."""
        start, stop = np.asarray(start), np.asarray(stop)
        return np.where(stop > start, (stop - 1) // self.block - start // self.block + 1, 0)

    def record(self, scales: tuple[int, int]) -> dict[str, object]:
        """What config.json records of the format, with the scale exponents `scales`
        its quantizer clamps to."""
        return {"element": self.element if self.name != "mxint8" else "int8x2^-6",
                "bits": self.bits, "block": self.block, "scale": "float8_e8m0fnu",
                "scale_exponents": list(scales)}

    def describe(self) -> str:
        """One line for humans."""
        element = f"{self.bits}-bit integers" if self.element == "int" else self.element
        if self.name == "mxint8":
            element = "8-bit integers x 2^-6"
        return f"{element} in blocks of {self.block} under one e8m0 scale"

    def encode(
        self, weights: np.ndarray, scale_range: tuple[int, int] = _E8M0_RANGE
    ) -> tuple[np.ndarray, np.ndarray]:
        """(element values, scale exponents) of `weights` (float32; the last block of a
        row may be shorter than `block`): the element values as float64 of shape
        ``weights.shape`` and the exponents k (int) of shape ``(*weights.shape[:-1],
        blocks)``, clamped to `scale_range`. Raises ValueError on a non-finite weight."""
        w = np.asarray(weights, dtype=np.float32).astype(np.float64)
        if not np.isfinite(w).all():
            raise ValueError(f"weights stored in {self.name} must be finite")
        blocks = _blocked(w, self.block)
        largest = np.max(np.abs(blocks), axis=-1)
        exponent = self._exponent(largest)
        exponent = np.clip(exponent, *scale_range)
        scaled = np.ldexp(blocks, -exponent[..., None])  # exact: a power of two
        elements = self._round(scaled)
        n = w.shape[-1]
        return elements.reshape(*w.shape[:-1], -1)[..., :n], exponent

    def decode(self, elements: np.ndarray, exponents: np.ndarray) -> np.ndarray:
        """The weights, float32, from `encode`'s element values and scale exponents."""
        n = elements.shape[-1]
        blocks = _blocked(np.asarray(elements, dtype=np.float64), self.block)
        values = np.ldexp(blocks, np.asarray(exponents)[..., None])
        return values.reshape(*elements.shape[:-1], -1)[..., :n].astype(np.float32)

    def quantize(
        self, weights: np.ndarray, scale_range: tuple[int, int] = _E8M0_RANGE
    ) -> np.ndarray:
        """`weights` rounded to the format: ``decode(*encode(weights))``."""
        return self.decode(*self.encode(weights, scale_range))

    def _exponent(self, largest: np.ndarray) -> np.ndarray:
        """The scale's exponent of blocks whose largest magnitude is `largest`."""
        positive = largest > 0
        safe = np.where(positive, largest, 1.0)
        if self.element == "int" and self.name != "mxint8":
            top = 2 ** (self.bits - 1) - 1
            # the least k with largest <= top * 2^k; log2 gives it up to one off either way
            k = np.ceil(np.log2(safe / top)).astype(np.int64)
            k = np.where(safe > top * np.ldexp(1.0, k), k + 1, k)
            k = np.where(safe <= top * np.ldexp(1.0, k - 1), k - 1, k)
        else:  # OCP MX, MXINT8 included (its elements' emax is 0)
            emax = math.frexp(self.largest)[1] - 1
            k = np.frexp(safe)[1].astype(np.int64) - 1 - emax  # floor(log2) exactly
        return np.where(positive, k, _E8M0_RANGE[0])

    def _round(self, scaled: np.ndarray) -> np.ndarray:
        """Values already divided by their scale, rounded to element values (saturating)."""
        top = self.largest
        if self.element == "int":
            step = 2.0**-6 if self.name == "mxint8" else 1.0
            low = -(2 ** (self.bits - 1)) * step
            return np.clip(np.rint(scaled / step) * step, low, top)
        dtype = np.dtype(getattr(ml_dtypes, self.element))
        clipped = np.clip(scaled, -top, top)
        return clipped.astype(dtype).astype(np.float64)


def _blocked(w: np.ndarray, block: int) -> np.ndarray:
    """`w` with its last axis cut into blocks (the last one padded with zeros)."""
    n = w.shape[-1]
    pad = -n % block
    if pad:
        w = np.concatenate([w, np.zeros((*w.shape[:-1], pad), dtype=w.dtype)], axis=-1)
    return w.reshape(*w.shape[:-1], -1, block)


@functools.cache
def _element_values(element: str, bits: int, mxint8: bool) -> np.ndarray:
    if element == "int":
        codes = np.arange(-(2 ** (bits - 1)), 2 ** (bits - 1), dtype=np.float64)
        return codes * 2.0**-6 if mxint8 else codes
    dtype = np.dtype(getattr(ml_dtypes, element))
    codes = np.arange(2**bits, dtype=np.uint8).view(dtype)  # every bit pattern
    values = codes.astype(np.float64)
    values = np.unique(values[np.isfinite(values)])
    values.flags.writeable = False
    return values


def format_names() -> tuple[str, ...]:
    """The format names with their default blocks (``intNbK`` spells other blocks)."""
    return (*(f"int{n}" for n in range(2, 9)), *_MX)


def is_format_name(name: str) -> bool:
    """Whether `name` spells a weight format."""
    try:
        parse_format(name)
    except ValueError:
        return False
    return True


@functools.cache
def parse_format(name: str) -> WeightFormat:
    """The format `name` spells; ValueError naming the known ones otherwise."""
    if name in _MX:
        element, bits = _MX[name]
        return WeightFormat(name, bits, MX_BLOCK, "int" if element == "int8" else element)
    match = _INT.fullmatch(name)
    if match:
        return WeightFormat(name, int(match[1]), int(match[2] or MX_BLOCK), "int")
    raise ValueError(
        f"unknown weight format {name!r}; expected intN (N = 2..8, blocks of 32), intNbK "
        f"(blocks of K) or one of {', '.join(_MX)}"
    )


@functools.cache
def scale_range(fmt: WeightFormat, multiplier: np.dtype) -> tuple[int, int]:
    """The exponents k for which every element value times 2^k is a finite value of the
    `multiplier` format: the scales at which the widening to the multiplier is exact.
    ValueError when there is none."""
    values = fmt.values[fmt.values != 0]
    fits = []
    for k in range(_E8M0_RANGE[0], _E8M0_RANGE[1] + 1):
        scaled = np.ldexp(values, k)
        with np.errstate(over="ignore"):
            back = scaled.astype(multiplier).astype(np.float64)
        if np.array_equal(back, scaled):
            fits.append(k)
    if not fits:
        raise ValueError(
            f"weight format {fmt.name} does not widen exactly to the multiplier format "
            f"{np.dtype(multiplier).name}: no power-of-two scale makes all its element "
            f"values values of {np.dtype(multiplier).name}"
        )
    if fits != list(range(fits[0], fits[-1] + 1)):  # pragma: no cover - no such format
        raise ValueError(f"weight format {fmt.name}: its exact scales are not one range")
    return fits[0], fits[-1]
