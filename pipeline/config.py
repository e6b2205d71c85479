"""The workflow config: validation against pipeline/schemas/config.schema.yaml, defaults, and cases.

The schemas are the single source of defaults: ``validate`` fills every ``default`` of the schema into the config
(in place, as snakemake.utils.validate(..., set_default=True) does). A producer's case defaults sit on its
``producers.<name>.defaults`` object only, so that a case resolves as the merge, later winning, of

    the top-level ``seed`` and ``loading``  <  ``producers.<name>.defaults`` (schema defaults filled in)  <  the case.

Validating imports no producer and no learning code (docs/workflow.md: under a second).
"""
from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any, Mapping

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from dataset.case import Case

from . import registry

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
SCHEMA_PATH = SCHEMA_DIR / "config.schema.yaml"


class ConfigError(ValueError):
    """The config is wrong; the message names the key."""


def _key_path(path) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _with_defaults(validator_class):
    """A validator class that fills each property's ``default`` before validating it (the jsonschema recipe)."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def properties(validator, props, instance, schema):
        if validator.is_type(instance, "object"):
            for name, sub in props.items():
                if isinstance(sub, Mapping) and "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, props, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": properties})


@functools.lru_cache(maxsize=None)
def _validator(schema_path: Path):
    # every *.schema.yaml beside the main one can be $ref'd by file name (e.g. learning.schema.yaml)
    def contents(path: Path) -> dict:
        # without its $schema, a referenced file is validated by this (default-filling) class, not jsonschema's own
        return {k: v for k, v in yaml.safe_load(path.read_text()).items() if k != "$schema"}

    registry_ = Registry().with_resources(
        (p.name, Resource.from_contents(contents(p), default_specification=DRAFT202012))
        for p in schema_path.parent.glob("*.schema.yaml"))
    cls = _with_defaults(jsonschema.Draft202012Validator)
    return cls(yaml.safe_load(schema_path.read_text()), registry=registry_)


def validate(config: dict, schema_path: Path = SCHEMA_PATH) -> dict:
    """Fill in the schema's defaults (in place) and check the config; raise ConfigError naming the first offending
    key (all schema errors are listed). Returns the config."""
    errors = sorted(_validator(Path(schema_path)).iter_errors(config),
                    key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        lines = [f"config key {_key_path(e.absolute_path)}: {e.message}" for e in errors]
        raise ConfigError("invalid config:\n  " + "\n  ".join(lines))
    for producer, section in config.get("producers", {}).items():
        for name in section["cases"]:
            resolve_case(config, producer, name)  # semantic checks (ranges, sizes)
    from . import studies  # the learning section's cross-references (cases exist, resolutions divide)

    studies.check(config)
    return config


def load(path: str | Path) -> dict:
    """The config at ``path``, validated, defaults filled in."""
    return validate(yaml.safe_load(Path(path).read_text()))


def deep_merge(base: Mapping, override: Mapping) -> dict:
    """``base`` updated by ``override``, nested mappings merged (copies; later wins)."""
    out = copy.deepcopy(dict(base))
    for k, v in override.items():
        merge = isinstance(v, Mapping) and isinstance(out.get(k), Mapping)
        out[k] = deep_merge(out[k], v) if merge else copy.deepcopy(v)
    return out


def resolve_case(config: Mapping[str, Any], producer: str, name: str) -> Case:
    """The Case ``producers.<producer>.cases.<name>`` of a validated config (seed and loading merged)."""
    section = config["producers"][producer]
    if name not in section["cases"]:
        raise ConfigError(f"config key producers.{producer}.cases: no case {name!r}")
    merged = {"seed": config.get("seed", 0), "loading": config.get("loading", {})}
    for layer in (section.get("defaults", {}), section["cases"][name]):
        merged = deep_merge(merged, layer)
    return _checked(Case(producer, name, merged), f"producers.{producer}.cases.{name}")


def _checked(case: Case, where: str, sizes: bool = True) -> Case:
    merged = case.config
    for key in ("T", "M", "n_steps", "F_max"):
        if key not in merged["loading"]:
            raise ConfigError(f"config key {where}.loading.{key}: missing (set it under loading)")
    if sizes and merged.get("n_train", 0) + merged.get("n_test", 0) < 1:
        raise ConfigError(f"config key {where}: n_train + n_test must be at least 1")
    for key in registry.entry(case.producer).ranges:
        lo, hi = merged[key]
        if lo > hi:
            raise ConfigError(f"config key {where}.{key}: range [{lo}, {hi}] has lower bound above upper bound")
    return case


def cases(config: Mapping[str, Any]) -> list[Case]:
    """Every configured case of every producer."""
    return [resolve_case(config, p, n) for p, s in config.get("producers", {}).items() for n in s["cases"]]


def fill_defaults(config: dict) -> dict:
    """The schema's defaults filled into a possibly partial config (in place, no checks), e.g. one figure's spec:
    ``fill_defaults({"learning": {"figures": {"fig07": {...}}}})``."""
    for _ in _validator(SCHEMA_PATH).iter_errors(config):  # fills the defaults as it goes; errors ignored
        pass
    return config


def producer_defaults(producer: str) -> dict:
    """The schema's case defaults of ``producer`` (what ``producers.<producer>.defaults`` starts from)."""
    config = fill_defaults({"producers": {producer: {"cases": {}}}})
    return config["producers"][producer]["defaults"]


def make_case(producer: str, name: str = "custom", seed: int = 0, **overrides) -> Case:
    """A Case outside any config file: the producer's paper loading (pipeline.registry), the schema's case
    defaults, then ``seed`` and ``overrides`` (nested mappings such as ``loading`` and ``slip`` merged)."""
    base = {"seed": int(seed), "loading": dict(registry.entry(producer).loading)}
    merged = deep_merge(deep_merge(base, producer_defaults(producer)), {"seed": int(seed), **overrides})
    return _checked(Case(producer, name, merged), f"make_case({producer!r}, {name!r})", sizes=False)
