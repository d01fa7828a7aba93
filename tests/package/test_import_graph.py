"""The project's import graph: no cycles, and dependencies that point one way.

Built with `ast` from the sources (compiler/ = rnnc, dialects/ = rnnc.dialects, passes/ =
rnnc.passes), every import counted, the ones inside functions included: a lazy import is
still a dependency. The layers, from the top: the driver; the passes, the front ends and
the interpreters; the analyses and the target model; the numerics; the dialects; and
`rnnc.diagnostics`, which everyone may use.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {
    "rnnc": ROOT / "compiler",
    "rnnc.dialects": ROOT / "dialects",
    "rnnc.passes": ROOT / "passes",
}

#: What each part of the package may import of rnnc (besides itself and rnnc.diagnostics).
ALLOWED: dict[str, tuple[str, ...]] = {
    "rnnc.dialects": (),
    "rnnc.numerics": (),
    "rnnc.target": ("rnnc.dialects", "rnnc.numerics"),
    "rnnc.analysis": ("rnnc.dialects", "rnnc.target", "rnnc.numerics"),
    "rnnc.passes": ("rnnc.dialects", "rnnc.analysis", "rnnc.target", "rnnc.numerics"),
    "rnnc.frontends": ("rnnc.dialects", "rnnc.analysis"),
    "rnnc.interpreters": ("rnnc.dialects", "rnnc.analysis", "rnnc.target", "rnnc.numerics"),
    "rnnc.driver": (
        "rnnc.dialects", "rnnc.analysis", "rnnc.target", "rnnc.numerics", "rnnc.passes",
        "rnnc.frontends", "rnnc.interpreters", "rnnc.universe",
    ),
    "rnnc.universe": ("rnnc.dialects", "rnnc.passes"),
    "rnnc.diagnostics": (),
    "rnnc": (),  # the package's __init__
}  # fmt: skip


def _module_name(path: Path) -> str:
    for package, folder in sorted(SOURCES.items(), key=lambda item: -len(item[0])):
        if path.is_relative_to(folder):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            return ".".join(parts)
    raise AssertionError(path)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package, folder in SOURCES.items():
        for path in folder.rglob("*.py"):
            name = _module_name(path)
            if package == "rnnc" and name.split(".")[1:2] in (["dialects"], ["passes"]):
                raise AssertionError(f"{path} shadows a package of another folder")
            found[name] = path
    return found


def _resolve(name: str) -> str | None:
    """The project module `name` is, or is in (None if not the project's)."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


@cache
def imports() -> dict[str, frozenset[str]]:
    """Each project module -> the project modules it imports."""
    graph = {}
    for name, path in modules().items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(_resolve(alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:  # `from rnnc.dialects import loop` imports a module
                    targets.add(_resolve(f"{node.module}.{alias.name}"))
        graph[name] = frozenset(t for t in targets if t is not None and t != name)
    return graph


def _part(module: str) -> str:
    """The layer a module belongs to: its entry in ALLOWED."""
    parts = [p for p in ALLOWED if module == p or (p != "rnnc" and module.startswith(p + "."))]
    assert parts, f"{module}: a new part of the package; add its layer to ALLOWED"
    return max(parts, key=len)


def test_the_graph_is_the_whole_package() -> None:
    graph = imports()
    assert {"rnnc.dialects.rnn", "rnnc.passes.loop_fuse", "rnnc.driver.cli"} <= graph.keys()
    assert "rnnc.dialects.loop" in graph["rnnc.passes.loop_fuse"]
    assert "rnnc.frontends.onnx_import" in graph["rnnc.driver.cli"]  # a lazy import counts


def test_no_import_cycle() -> None:
    graph = imports()
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycle = [*path[path.index(module) :], module]
            raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_dependencies_point_one_way() -> None:
    wrong = []
    for module, targets in sorted(imports().items()):
        part = _part(module)
        allowed = (part, "rnnc.diagnostics", *ALLOWED[part])
        wrong += [
            f"{module} imports {target}"
            for target in sorted(targets)
            if not any(target == a or target.startswith(a + ".") for a in allowed)
        ]
    assert not wrong, "\n".join(wrong)


def test_the_checks_can_fail() -> None:
    # The rules in use catch what the issue found: a pass importing the interpreter, and
    # the front ends importing the driver back.
    assert _part("rnnc.passes.rnn_decompose") == "rnnc.passes"
    assert not any("rnnc.interpreters".startswith(a) for a in ALLOWED["rnnc.passes"])
    assert not any("rnnc.driver".startswith(a) for a in ALLOWED["rnnc.frontends"])
    assert ALLOWED["rnnc.dialects"] == ()
