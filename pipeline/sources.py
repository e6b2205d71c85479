"""The source files a module depends on inside this project: its import closure, found by reading import
statements (nothing is imported or executed, so this is cheap at DAG-build time).

A shard rule lists its producer's closure as inputs: editing any file in it (the producer, the shared mechanics,
the data contract) reruns exactly the shards that depend on it (Snakemake's mtime trigger).
"""
from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Top-level packages of this project; imports of anything else (numpy, torch, ...) are outside the closure.
PACKAGES = ("dataset", "mechanics", "fullfield", "taylor", "learning", "deploy", "macroscale", "pipeline")


def module_file(name: str, root: Path = ROOT) -> Path | None:
    """The file of project module ``name`` (a package's __init__.py), or None if it is not in the project."""
    if name.split(".")[0] not in PACKAGES:
        return None
    base = root.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path) -> set[str]:
    """Module names imported anywhere in ``path`` (also inside functions), relative imports resolved."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module
            out.add(stem)
            out.update(f"{stem}.{a.name}" for a in node.names)  # `from pkg import module`
    return out


@functools.lru_cache(maxsize=None)
def closure(module: str, root: Path = ROOT) -> tuple[str, ...]:
    """Sorted paths (relative to ``root``) of the project files that ``module`` imports, directly or not, itself
    and the __init__.py of every package on the way included."""
    seen: set[Path] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        # importing a.b.c runs a/__init__.py and a/b/__init__.py first
        for i in range(1, len(parts) + 1):
            path = module_file(".".join(parts[:i]), root)
            if path is not None and path not in seen:
                seen.add(path)
                todo.extend(_imports(path, root))
    return tuple(sorted(str(p.relative_to(root)) for p in seen))
