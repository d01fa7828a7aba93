"""The architectures a compilation knows, reachable from the xDSL `Context` passes get.

A `spatial.design` names its architecture (`#spatial.arch<name, digest>`); a pass asks the
registry of its context for it (`architectures(ctx).for_design(design)`), as mlir-aie
passes ask their target model, instead of reloading a file or copying limits into the IR.
The registry holds the architectures the driver added (the user's `--arch FILE`) and
falls back to the shipped presets by name, so that `xdsl-opt`, whose context the driver
never saw, works with presets. It lives on the context object itself: one per context,
no module-level state.
"""

from __future__ import annotations

from rnnc.diagnostics import Diagnostic
from rnnc.dialects.spatial import DesignOp
from rnnc.target.arch import DEFAULT_ARCHITECTURE, Architecture, load_architecture
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import PassFailedException

#: The name of the context attribute holding the registry.
_ATTRIBUTE = "rnnc_architectures"


class DesignArchitectureError(Exception):
    """The architecture a design names is unknown, or no longer has its digest."""


class ArchitectureRegistry:
    """Architectures by name: those added, then the presets."""

    def __init__(self) -> None:
        self._known: dict[str, Architecture] = {}

    def add(self, arch: Architecture) -> None:
        """Make `arch` known by its name (it shadows a preset of the same name)."""
        self._known[arch.name] = arch

    def get(self, name: str = "") -> Architecture:
        """The architecture called `name` (default: the default preset): one added, a
        preset, or a JSON/YAML file by path, which is then known by its name (in place of
        any other of that name). Raises the loader's `Diagnostic` for an unknown name or a
        bad file."""
        name = name or DEFAULT_ARCHITECTURE
        if name not in self._known:
            arch = load_architecture(name)
            self._known[arch.name] = arch
            return arch
        return self._known[name]

    def for_design(self, design: DesignOp) -> Architecture:
        """The architecture `design` names, which must still have the digest the design
        records (if it records one)."""
        name, digest = design.arch.arch_name.data, design.arch.digest.data
        if name in self._known:
            arch = self._known[name]
        else:
            try:
                arch = load_architecture(name) if name else None
            except Diagnostic:
                arch = None
            if arch is None or arch.name != name:
                raise DesignArchitectureError(
                    f"the design names architecture '{name}', which is neither a preset nor "
                    f"given with --arch"
                )
            self._known[name] = arch
        if digest and arch.digest() != digest:
            raise DesignArchitectureError(
                f"the design was made for architecture '{name}' with digest {digest}, which "
                f"now has digest {arch.digest()}"
            )
        return arch


def architectures(ctx: Context) -> ArchitectureRegistry:
    """The registry of `ctx` (made, holding no added architecture, on first use)."""
    registry = getattr(ctx, _ATTRIBUTE, None)
    if not isinstance(registry, ArchitectureRegistry):
        registry = ArchitectureRegistry()
        setattr(ctx, _ATTRIBUTE, registry)
    return registry


def design_for_pass(module: ModuleOp, pass_name: str, verb: str = "",
                    needs: str = "spatial-partition") -> DesignOp:
    """The `spatial.design` of `module` a pass works on; a module without one is the pass's
    failure, naming what to run first (`needs`) and, with `verb`, what the pass would do."""
    design = next((c for c in module.walk() if isinstance(c, DesignOp)), None)
    if design is None:
        purpose = f" to {verb}" if verb else ""
        raise PassFailedException(f"{pass_name}: no spatial.design{purpose}; run {needs} first")
    return design


def designs_on_their_architectures(
    ctx: Context, module: ModuleOp, pass_name: str, verb: str
) -> list[tuple[DesignOp, Architecture]]:
    """Every `spatial.design` of `module` with the architecture it names, for a pass that
    `verb`s designs: a module without one, or a design whose architecture the registry
    cannot give, is the pass's failure."""
    design_for_pass(module, pass_name, verb)
    designs = [child for child in module.walk() if isinstance(child, DesignOp)]
    try:
        return [(design, architectures(ctx).for_design(design)) for design in designs]
    except DesignArchitectureError as error:
        raise PassFailedException(f"{pass_name}: {error}") from None


__all__ = [
    "ArchitectureRegistry",
    "DesignArchitectureError",
    "architectures",
    "design_for_pass",
    "designs_on_their_architectures",
]
