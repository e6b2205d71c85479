"""Provenance sidecars for figures and tables: what a figure was made from, so it can be rebuilt and checked.

    from provenance import write_sidecar          # in a Snakemake script (its folder is on sys.path)
    write_sidecar(snakemake)                      # after the figure files are written

writes the rule's output named ``provenance`` (or <first output stem>.provenance.json) with
  outputs      sha256 of every other output (PNG, PDF, CSV)
  inputs       sha256 of every input: a file, or a directory tree (Zarr dataset, model folder) hashed as the
               sorted list of (relative path, sha256 of the file); kind "dataset", "model", "code" or "file"
  params       the rule's params and their hash
  config_hash  sha256 of the whole workflow config (canonical JSON)
  git_commit   HEAD of the checkout ("-dirty" when tracked files differ), package version, Snakemake version
No timestamps: rebuilding an unchanged figure gives an identical sidecar (and identical PNG, dataset/figstyle.py).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from dataset.case import canonical_json
from dataset.provenance import git_commit, package_version


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_tree(path: str | os.PathLike) -> str:
    """Hash of a directory: every file's relative path and content hash, in sorted order."""
    root = Path(path)
    h = hashlib.sha256()
    for p in sorted(q for q in root.rglob("*") if q.is_file()):
        h.update(f"{p.relative_to(root).as_posix()}\0{sha256_file(p)}\n".encode())
    return h.hexdigest()


def sha256_path(path: str | os.PathLike) -> str:
    return sha256_tree(path) if Path(path).is_dir() else sha256_file(path)


def kind_of(path: str | os.PathLike) -> str:
    parts = Path(path).parts
    if "datasets" in parts or str(path).endswith(".zarr"):
        return "dataset"
    if "models" in parts:
        return "model"
    if Path(path).suffix == ".py":
        return "code"
    return "file"


def config_hash(config) -> str:
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()


def _plain(value):
    """params as JSON-able values (Snakemake's Namedlist, numpy scalars, ...)."""
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))


def provenance(inputs, outputs, *, rule: str, params: dict, config) -> dict:
    params = _plain(params)
    return {
        "rule": rule,
        "outputs": {Path(p).name: sha256_path(p) for p in outputs},
        "inputs": {str(p): {"kind": kind_of(p), "sha256": sha256_path(p)} for p in inputs},
        "params": params,
        "params_hash": hashlib.sha256(canonical_json(params).encode()).hexdigest(),
        "config_hash": config_hash(config),
        "git_commit": git_commit(),
        "package_version": package_version(),
        "snakemake_version": _snakemake_version(),
    }


def _snakemake_version() -> str:
    try:
        from snakemake import __version__
    except ImportError:
        return "unknown"
    return __version__


def write_sidecar(sm, path: str | os.PathLike | None = None) -> Path:
    """Write the provenance sidecar of a Snakemake job ``sm`` (the ``snakemake`` object of a script)."""
    named = dict(sm.output.items())
    path = Path(path or named.get("provenance") or Path(sm.output[0]).with_suffix(".provenance.json"))
    outputs = [p for p in sm.output if Path(p) != path]
    params = {k: v for k, v in sm.params.items()}
    record = provenance(list(sm.input), outputs, rule=sm.rule, params=params, config=sm.config)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path
