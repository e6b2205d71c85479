"""The workflow config: validation against workflow/schemas/config.schema.yaml and resolution into Cases.

A case's resolved config is the merge, later winning, of: the top-level ``seed`` and ``loading``, the producer
module's DEFAULTS, the producer's ``defaults`` in the config, and the case's own entry.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Mapping

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from . import producers
from .case import Case
from .provenance import PROJECT_ROOT

SCHEMA_DIR = PROJECT_ROOT / "workflow" / "schemas"
SCHEMA_PATH = SCHEMA_DIR / "config.schema.yaml"


class ConfigError(ValueError):
    """The config is wrong; the message names the key."""


def _key_path(path) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def validate_config(config: Mapping[str, Any], schema_path: Path = SCHEMA_PATH) -> None:
    """Raise ConfigError naming the first offending key (all schema errors are listed)."""
    schema_path = Path(schema_path)
    # every *.schema.yaml beside the main one can be $ref'd by file name (e.g. learning.schema.yaml)
    registry = Registry().with_resources(
        (p.name, Resource.from_contents(yaml.safe_load(p.read_text()), default_specification=DRAFT202012)) for p in schema_path.parent.glob("*.schema.yaml"))
    validator = jsonschema.Draft202012Validator(yaml.safe_load(schema_path.read_text()), registry=registry)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        lines = [f"config key {_key_path(e.absolute_path)}: {e.message}" for e in errors]
        raise ConfigError("invalid config:\n  " + "\n  ".join(lines))
    for producer, section in config.get("producers", {}).items():
        for name in section["cases"]:
            resolve_case(config, producer, name)  # semantic checks (ranges, sizes)


def load_config(path: str | Path) -> dict:
    config = yaml.safe_load(Path(path).read_text())
    validate_config(config)
    return config


def deep_merge(base: Mapping, override: Mapping) -> dict:
    out = copy.deepcopy(dict(base))
    for k, v in override.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) else copy.deepcopy(v)
    return out


def resolve_case(config: Mapping[str, Any], producer: str, name: str) -> Case:
    section = config["producers"][producer]
    if name not in section["cases"]:
        raise ConfigError(f"config key producers.{producer}.cases: no case {name!r}")
    module = producers.get(producer)
    merged = {"seed": config.get("seed", 0), "loading": config.get("loading", {})}
    for layer in (getattr(module, "DEFAULTS", {}), section.get("defaults", {}), section["cases"][name]):
        merged = deep_merge(merged, layer)
    where = f"producers.{producer}.cases.{name}"
    for key in ("T", "M", "n_steps", "F_max"):
        if key not in merged["loading"]:
            raise ConfigError(f"config key {where}.loading.{key}: missing (set it under loading)")
    if merged.get("n_train", 0) + merged.get("n_test", 0) < 1:
        raise ConfigError(f"config key {where}: n_train + n_test must be at least 1")
    for key in getattr(module, "RANGES", ()):
        lo, hi = merged[key]
        if lo > hi:
            raise ConfigError(f"config key {where}.{key}: range [{lo}, {hi}] has lower bound above upper bound")
    return Case(producer, name, merged)


def cases(config: Mapping[str, Any]) -> list[Case]:
    """Every configured case of every producer."""
    return [resolve_case(config, p, n) for p, s in config.get("producers", {}).items() for n in s["cases"]]
