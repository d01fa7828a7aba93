"""Mapping between MLIR element types and numpy dtypes."""

from __future__ import annotations

import numpy as np
from xdsl.ir import Attribute

_DTYPES = {
    "f16": np.float16,
    "f32": np.float32,
    "f64": np.float64,
    "i32": np.int32,
    "i64": np.int64,
}


def numpy_dtype(element_type: Attribute) -> np.dtype:
    """The numpy dtype of an MLIR element type (f32 for anything unlisted)."""
    return np.dtype(_DTYPES.get(str(element_type), np.float32))
