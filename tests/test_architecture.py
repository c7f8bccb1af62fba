"""The import rules of docs/architecture.md, read from the source (every import, lazy ones inside
functions and ``TYPE_CHECKING`` blocks included).

Data flows one way: io → data → sim → models → train → evaluate → report → bench → predict,
→ serve, with the command layer (the cli/ package, commands/) on top.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gait2hip"

#: (package or module, forbidden imports, why); a prefix matches itself and its submodules.
RULES = [
    ("evaluate", ("train", "report", "sim", "predict", "bench", "commands", "cli"), "scoring only"),
    ("report", ("train", "sim", "bench", "predict", "commands", "cli"), "reads a run folder"),
    ("train", ("evaluate", "report", "bench", "predict", "commands", "cli", "sim"), "flow is one way"),
    ("bench", ("commands", "cli"), "library code never prints"),
    ("io", ("torch", "rich"), "light, no deep learning"),
    ("data", ("torch", "rich"), "light, no deep learning"),
    ("predict", ("sim", "train", "bench", "commands", "cli"), "deployable without OpenSim"),
    ("models", ("train", "evaluate", "bench", "report", "predict", "commands", "cli"), "flow is one way"),
    ("sim", ("models", "train", "evaluate", "report", "bench", "predict", "commands", "cli"), "flow"),
    ("serve", ("sim", "train", "bench", "commands", "cli"), "deployable without OpenSim"),
]
#: Only the command layer imports rich.
RICH_ALLOWED = ("cli", "commands")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute, wherever the import statement is."""
    tree = ast.parse(path.read_text(), filename=str(path))
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.add(name)
            found |= {f"{name}.{alias.name}" for alias in node.names}  # `from pkg import module`
    return found


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


GRAPH = _graph()


def _inside(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _violations(source: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for module, imported in GRAPH.items():
        if not _inside(module, f"gait2hip.{source}"):
            continue
        for name in sorted(imported):
            for bad in forbidden:
                target = bad if bad in ("torch", "rich") else f"gait2hip.{bad}"
                if _inside(name, target):
                    found.append(f"{module} imports {name}")
    return sorted(set(found))


def _case(source: str, forbidden: tuple[str, ...], why: str):
    return pytest.param(source, forbidden, id=f"{source}-{why.replace(' ', '-')}")


@pytest.mark.parametrize(("source", "forbidden"), [_case(*rule) for rule in RULES])
def test_import_rule(source, forbidden):
    assert _violations(source, forbidden) == []


def _rich_users() -> dict[str, list[str]]:
    users = defaultdict(list)
    for module, imported in GRAPH.items():
        if any(_inside(module, f"gait2hip.{ok}") for ok in RICH_ALLOWED):
            continue
        if any(_inside(name, "rich") for name in imported):
            users[module.split(".")[1]].append(module)
    return users


RICH_USERS = _rich_users()


@pytest.mark.parametrize(
    "package", ["evaluate", "report", "train", "bench", "io", "data", "sim", "models", "predict", "serve"]
)
def test_only_the_command_layer_imports_rich(package):
    assert RICH_USERS.get(package, []) == []


def _cycles() -> list[list[str]]:
    """Import cycles between modules of the package (Tarjan's strongly connected components)."""
    modules = set(GRAPH)
    edges = {m: {n for n in GRAPH[m] if n in modules and n != m} for m in modules}
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle():
    assert _cycles() == []


def test_the_rules_see_lazy_imports():
    # bench.settings imports train lazily (inside plan_units): the reader must see it
    assert "gait2hip.train.protocols" in GRAPH["gait2hip.bench.settings"]
