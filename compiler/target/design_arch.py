"""Which architecture a `spatial.design` is placed, routed and checked on."""

from __future__ import annotations

from rnnc.diagnostics import Diagnostic
from rnnc.dialects.spatial import DesignOp
from rnnc.target.arch import Architecture, load_architecture


class DesignArchitectureError(Exception):
    """The architecture cannot be loaded or does not match the design."""


def design_architecture(design: DesignOp, arch: str = "") -> Architecture:
    """`arch` (a preset name or file) if given, else the architecture the design names,
    which must still have the digest recorded in the design; either way its grid must be
    the design's."""
    try:
        chosen = load_architecture(arch or design.arch.data)
    except Diagnostic as error:  # a bad or missing architecture file
        raise DesignArchitectureError(f"{error.location}: {error.message}") from None
    if not arch and chosen.digest() != design.digest.data:
        raise DesignArchitectureError(
            f"the design was made for architecture '{design.arch.data}' with digest "
            f"{design.digest.data[:12]}, which now has digest {chosen.digest()[:12]} "
            f"(give the arch option to use it anyway)"
        )
    limits = design.limit_values
    tile = [",".join(row) for row in chosen.grid.tile]
    shape = (limits.get("rows"), limits.get("cols"), [row.data for row in design.tile.data])
    if shape != (chosen.grid.rows, chosen.grid.cols, tile):
        raise DesignArchitectureError(
            f"architecture '{chosen.name}' has a {chosen.grid.rows}x{chosen.grid.cols} grid "
            f"tiled {tile}, the design a {shape[0]}x{shape[1]} grid tiled {shape[2]}"
        )
    return chosen


__all__ = ["DesignArchitectureError", "design_architecture"]
