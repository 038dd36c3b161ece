"""The architecture holds: imports go one way down the layers of src/npgrad/README.md,
no module is past the size limit, and only tests/internal imports private names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ..conftest import REPO

SRC = REPO / "src" / "npgrad"

# lowest first: a module may import its own layer and those before it, never after
LAYERS = [
    ["npgrad._errors"],
    ["npgrad._dtypes"],
    ["npgrad._convert"],
    ["npgrad._policy"],
    ["npgrad._trace._state"],
    [
        "npgrad._trace._index",
        "npgrad._trace._registry",
        "npgrad._trace._write",
        "npgrad._trace._promote",
    ],
    ["npgrad._trace._array"],
    ["npgrad._trace._fusion", "npgrad._trace._scipy"],
    ["npgrad._trace._engine", "npgrad._trace"],
    ["npgrad._mappings"],
    ["npgrad._call"],
    ["npgrad._modes"],
    ["npgrad._bridge"],
    ["npgrad._function"],
    [
        "npgrad._check",
        "npgrad._backward_passes",
        "npgrad._numpy_leaves",
        "npgrad._numpy_api",
        "npgrad._jit",
        "npgrad.losses",
        "npgrad.nn",
    ],
    [
        "npgrad._supported",
        "npgrad.bench",
        "npgrad.bench_problems",
        "npgrad.bench_compiled",
        "npgrad.experiment",
        "npgrad.cli",
        "npgrad.__main__",
    ],
    ["npgrad"],  # the package's __init__: re-exports everything
]
MAX_LINES = 800


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(name: str) -> int:
    best, found = -1, None
    for i, layer in enumerate(LAYERS):
        for prefix in layer:
            if name == prefix or name.startswith(prefix + "."):
                if len(prefix) > best:
                    best, found = len(prefix), i
    if found is None:
        raise AssertionError(f"{name} is in no layer of tests/internal/test_layers.py")
    return found


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every npgrad module ``path`` imports, at module level or inside functions."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("npgrad")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("npgrad"):
                continue
            # "from . import x" names submodules; "from .m import f" names m
            if node.module is None:
                found += [
                    (node.lineno, f"{mod}.{a.name}")
                    for a in node.names
                    if not a.name.startswith("__")  # __version__: a string, no code
                ]
            else:
                found.append((node.lineno, mod))
    return found


SOURCES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_go_down_the_layers(path: Path):
    here = _module_name(path)
    mine = _layer(here)
    for line, target in _imports(path):
        if target == "npgrad":
            continue  # `from npgrad import __version__`: the version string, no code
        theirs = _layer(target)
        assert theirs <= mine, (
            f"{path.relative_to(SRC)}:{line} imports {target} (layer {theirs}) from layer "
            f"{mine}: imports go one way, down the layers (src/npgrad/README.md)"
        )


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_is_past_the_size_limit(path: Path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(SRC)} has {lines} lines: split it by family"


def test_the_design_note_names_every_layer():
    note = (SRC / "README.md").read_text()
    for layer in LAYERS[:-1]:
        for prefix in layer:
            short = prefix.removeprefix("npgrad.")
            assert short in note, f"src/npgrad/README.md does not mention {short}"


def _private_uses(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("npgrad"):
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            names = [f"{node.value.id}.{node.attr}"] if node.value.id == "npgrad" else []
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "npgrad" and any(
                p.startswith("_") and not p.startswith("__") for p in parts[1:]
            ):
                found.append((node.lineno, name))
    return found


def test_only_internal_tests_import_private_names():
    for path in sorted((REPO / "tests").glob("*.py")):
        uses = _private_uses(ast.parse(path.read_text()))
        assert not uses, f"{path.name} uses private names (only tests/internal may): {uses}"
