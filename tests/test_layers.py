"""The packages of `referral/` import downward only (DESIGN §5): no two packages import each other,
and none imports from a layer above its own. Imports under ``if TYPE_CHECKING:`` are ignored (they
never run); imports inside functions count, so a lazy import cannot hide a cycle."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import networkx as nx

PACKAGE_ROOT = Path(__file__).resolve().parent.parent / "referral"

# DESIGN §5, bottom up. Top-level modules (db, clock, access, config…) are not packages and are
# not listed; the engines sit at the bottom with the reference lists and the audit log.
LAYERS: list[set[str]] = [
    {"matching", "network", "search", "reference", "audit"},
    {"territories"},
    {"tasks"},
    {"cases", "partners"},
    {"referrals"},
    {"ecosystem", "reporting"},
    {"scheduling"},
    {"web", "bench"},
]
LAYER_OF = {package: level for level, packages in enumerate(LAYERS) for package in packages}


def _is_type_checking(test: ast.expr) -> bool:
    return "TYPE_CHECKING" in ast.unparse(test)


def _imported_modules(tree: ast.AST, module: str, is_package: bool) -> list[str]:
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                base = parts if is_package else parts[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base)
                target = f"{prefix}.{node.module}" if node.module else prefix
            else:
                target = node.module or ""
            found.append(target)
            found.extend(f"{target}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def package_imports() -> dict[str, set[str]]:
    """For each package of `referral/`, the other packages it imports."""
    packages = {path.name for path in PACKAGE_ROOT.iterdir() if (path / "__init__.py").exists()}
    edges: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE_ROOT.rglob("*.py"):
        relative = path.relative_to(PACKAGE_ROOT.parent).with_suffix("")
        parts = relative.parts
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        if len(parts) < 3:
            continue  # a top-level module, not a package's
        owner = parts[1]
        for target in _imported_modules(ast.parse(path.read_text()), module, is_package):
            pieces = target.split(".")
            if len(pieces) >= 2 and pieces[0] == "referral" and pieces[1] in packages and pieces[1] != owner:
                edges[owner].add(pieces[1])
    return dict(edges)


def test_every_package_has_a_layer() -> None:
    packages = {path.name for path in PACKAGE_ROOT.iterdir() if (path / "__init__.py").exists()}
    assert packages - set(LAYER_OF) == set()


def test_no_two_packages_import_each_other() -> None:
    edges = package_imports()
    mutual = sorted(
        {tuple(sorted((a, b))) for a, targets in edges.items() for b in targets if a in edges.get(b, ())}
    )
    assert mutual == []
    graph = nx.DiGraph([(a, b) for a, targets in edges.items() for b in targets])
    assert nx.is_directed_acyclic_graph(graph), nx.find_cycle(graph)


def test_packages_import_only_from_layers_below() -> None:
    """Packages of one layer may use each other one way (the cycle test forbids both ways)."""
    upward = sorted(
        f"{package} (layer {LAYER_OF[package]}) imports {target} (layer {LAYER_OF[target]})"
        for package, targets in package_imports().items()
        for target in targets
        if LAYER_OF[target] > LAYER_OF[package]
    )
    assert upward == []


def test_the_walk_sees_lazy_imports_and_skips_type_checking() -> None:
    """The checker itself: an import inside a function counts, one under TYPE_CHECKING does not."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from referral.web import app\n"
        "def f():\n    from referral.cases import services\n"
    )
    found = _imported_modules(ast.parse(source), "referral.partners.x", is_package=False)
    assert "referral.cases.services" in found
    assert not any(name.startswith("referral.web") for name in found)


# In-function imports of another package that stay, and why: the application factory imports its
# blueprints inside (Flask's pattern), and a benchmark loads only when one is run.
LAZY_ALLOWED = {("referral/web/app.py", "referral.hooks"), ("referral/cli.py", "referral.bench")}


def test_no_lazy_import_between_packages() -> None:
    """An import inside a function hides a dependency (and used to dodge cycles): none are left."""
    lazy = []
    for path in PACKAGE_ROOT.rglob("*.py"):
        relative = str(path.relative_to(PACKAGE_ROOT.parent))
        owner = path.relative_to(PACKAGE_ROOT).parts[0].removesuffix(".py")
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                    continue
                if node.module == "referral":  # ``from referral import hooks``
                    targets = [f"referral.{alias.name}" for alias in node.names]
                elif node.module.startswith("referral."):
                    targets = [node.module]
                else:
                    continue
                for target in targets:
                    if target.split(".")[1] == owner:
                        continue
                    if any(
                        relative == allowed and target.startswith(prefix) for allowed, prefix in LAZY_ALLOWED
                    ):
                        continue
                    lazy.append(f"{relative}:{node.lineno} {target}")
    assert sorted(set(lazy)) == []
