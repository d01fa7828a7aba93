"""`spatial-verify`: check a placed and routed `spatial.design` independently.

First `rnnc.target.design_checks.verify_design` (the design against the architecture it
names: sites, lanes, stages, ports, PMU capacity), then `rnnc.target.checks.check_machine`
(what `rnnc sim` checks of a configuration: the same rules, read here off the design's ops
through `rnnc.target.design_view`, there off the loaded configuration), which shares no
code with the placer and router: every unit on a site of its kind (AGs on their edge), no
two on one site, every port existing and carrying one stream, every stream routed along a
simple path of adjacent switches from its producer to each consumer, no link over its
network's capacity; every unit's configuration within the architecture, PMU bytes computed
from the boxes, every value carried by a route, every PCU scheduled, every fired unit
reached by the enable and sending its done token over routed control streams, no counter
chain longer than a PCU's.
The architecture comes from the context's registry (`rnnc.target.registry`). The module
is left unchanged; a problem is a diagnostic naming the unit, stream or link.

    rnnc design.mlir -p spatial-verify
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnc.dialects.spatial import DesignOp
from rnnc.target.arch import Architecture
from rnnc.target.checks import check_machine, format_problems
from rnnc.target.design_checks import DesignError, verify_design
from rnnc.target.design_view import design_view
from rnnc.target.registry import designs_on_their_architectures
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException


@dataclass(frozen=True)
class SpatialVerifyPass(ModulePass):
    """Check every placed and routed `spatial.design` (see the module doc)."""

    name = "spatial-verify"
    #: it leaves the module unchanged (`rnnc.driver.pipeline.VERIFY_SCOPES`)
    VERIFY_AFTER: ClassVar[str] = "none"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for design, arch in designs_on_their_architectures(ctx, op, self.name, "verify"):
            self.verify(design, arch)

    def verify(self, design: DesignOp, arch: Architecture) -> None:
        try:
            verify_design(design, arch)
        except DesignError as error:
            raise PassFailedException(f"{self.name}: {error}") from None
        problems = check_machine(arch, design_view(design))
        if problems:
            count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
            raise PassFailedException(f"{self.name}: {count}: {format_problems(problems)}")
