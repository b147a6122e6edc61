"""The package's layers (docs/architecture.md) import one way: no module imports from a
layer above its own, and every module is small enough to read."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "planner"

#: the layers, lowest first, as docs/architecture.md draws them
LAYERS = ["scenario", "model", "plan", "solving", "insight", "analysis", "plots", "sweeps", "cli"]
#: the one upward reference, a shortcut imported when called: Plan.explain()
ALLOWED = {("planner.plan.plan", "planner.insight.explain")}
MAX_LINES = 500


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def name_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int | None:
    """The layer of ``planner.x...`` (None for the top-level package itself)."""
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 else None


def imports(path: Path) -> set[str]:
    """Every planner module ``path`` imports, at module level or inside functions."""
    module = name_of(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("planner")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("planner"):
                found.add(target)
                for alias in node.names:  # ``from . import accounting`` names a module
                    where = ROOT.joinpath(*target.split("."), alias.name)
                    if where.is_dir() or where.with_suffix(".py").is_file():
                        found.add(f"{target}.{alias.name}")
    return found


def test_every_folder_is_a_layer():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders | {"sweeps"} == set(LAYERS)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_imports_from_a_layer_above_its_own(path: Path):
    module = name_of(path)
    mine = layer_of(module)
    if mine is None:
        return  # the package's front door may import from every layer
    for target in imports(path):
        theirs = layer_of(target)
        if theirs is None or (module, target) in ALLOWED:
            continue
        assert theirs <= mine, f"{module} ({LAYERS[mine]}) imports {target} ({LAYERS[theirs]})"


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_imports_on_its_own(layer: str):
    importlib.import_module(f"planner.{layer}")


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_the_limit(path: Path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines"


def test_the_allowed_upward_reference_is_still_needed():
    for importer, target in ALLOWED:
        path = ROOT / Path(*importer.split(".")).with_suffix(".py")
        assert target in imports(path)


def test_architecture_doc_names_every_layer_in_order():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    positions = [text.index(f"`planner/{layer}") for layer in LAYERS]
    assert positions == sorted(positions)
