"""The ``learning`` section of the workflow config (schema: pipeline/schemas/learning.schema.yaml): which models,
autoencoders and figures a config asks for. Every function takes a config validated by pipeline.config (the
schema's defaults filled in) and imports no learning code until it builds a TrainSettings.

A study names a producer, some of its cases, variants and k; the models to train are the union over studies of
(producer, case, variant, k). A model's training settings are the merge, later winning, of ``learning.defaults``
(the schema's defaults filled in) and the study's ``overrides``, plus the global ``train_steps``; a model reached
from two studies must resolve identically. ``init_from: <case>`` starts every model of a study from the model of
that case with the same variant and k (transfer learning). With ``tagged: true`` as well, the study's models are
kept apart from the directly trained models of the same case: ModelKey.init = <case>, stored at
<variant>-k<k>-from-<case> (the paper's "A <- B", Figures 3 and 6), so both can be trained and compared.
"""
from __future__ import annotations

import copy
import functools
import itertools
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from .config import ConfigError, deep_merge, resolve_case

#: Figures of test error vs test resolution (evp and ve models of one case): Figure 10 (a) and (b).
RESOLUTION_FIGURES = ("fig10a", "fig10b")
#: Figures whose RNO panels compare direct training with transfer learning from spec["reference"].
TRANSFER_FIGURES = ("fig03", "fig06")
#: Producers whose datasets carry the micro variables of the internal-variable study (learning.study1d).
INTERNAL_STUDY_PRODUCERS = ("composite1d",)


@dataclass(frozen=True, order=True)
class ModelKey:
    """One trained model: results/models/<producer>/<case>/<name>/ (ModelKey.name)."""

    producer: str
    case: str
    variant: str
    k: int
    init: str = ""  # source case of a tagged transfer-learned model ("A <- B": init = B), "" otherwise
    target: str = "stress"  # what the RNO returns: stress, deviatoric or pressure (Section 5.1)
    train_size: int = 0  # trained on the first train_size trajectories of the split (Fig. 8b); 0: all

    @property
    def name(self) -> str:
        """The model's folder name: <variant>[-<target>]-k<k>[-n<train_size>][-from-<init>], the target left out
        when it is the stress, the size when it is all, the source unless tagged (e.g. evp-k1, evp-deviatoric-k2,
        evp-k5-n100, evp-k3-from-MH)."""
        return (self.variant + (f"-{self.target}" if self.target != "stress" else "") + f"-k{self.k}"
                + (f"-n{self.train_size}" if self.train_size else "") + (f"-from-{self.init}" if self.init else ""))

    def __str__(self) -> str:
        return f"{self.producer}/{self.case}/{self.name}"


MODEL_NAME = re.compile(r"^(evp|ve)(?:-(deviatoric|pressure))?-k(\d+)(?:-n([1-9]\d*))?(?:-from-([A-Za-z0-9_-]+))?$")


def parse_model(producer: str, case: str, name: str) -> ModelKey:
    """The ModelKey of folder ``name`` (ModelKey.name) of a producer's case; ValueError if malformed."""
    match = MODEL_NAME.match(name)
    if match is None:
        raise ValueError(f"not a model name: {name!r} (expected <variant>[-<target>]-k<k>[-n<size>][-from-<case>])")
    return ModelKey(producer, case, match[1], int(match[3]), match[5] or "", match[2] or "stress",
                    int(match[4] or 0))


def section(config: Mapping[str, Any]) -> dict:
    """config["learning"] of a validated config (pipeline.config.validate fills in its defaults)."""
    return config["learning"]


def _resolved(config: Mapping[str, Any]) -> dict[ModelKey, tuple[dict, str | None, tuple[int, ...], str]]:
    """Every model with its training settings (a dict of TrainSettings' fields), its transfer source case (or
    None), its test resolutions and the study that first named it. Computed once per learning section (the DAG
    asks for it per job): treat the result as read-only."""
    return _resolved_section(json.dumps(section(config)))  # key order kept: "first named" is study order


@functools.lru_cache(maxsize=8)
def _resolved_section(learning_json: str) -> dict[ModelKey, tuple[dict, str | None, tuple[int, ...], str]]:
    learn = json.loads(learning_json)
    out: dict[ModelKey, tuple[dict, str | None, tuple[int, ...], str]] = {}
    for name, study in learn["studies"].items():
        merged = deep_merge(learn["defaults"], study.get("overrides", {}))
        where = f"learning.studies.{name}"
        for case, variant, k, target, size in itertools.product(
                study["cases"], study["variants"], study["k"], study.get("targets", ["stress"]),
                study.get("train_sizes", [0])):
            key = ModelKey(study["producer"], case, variant, int(k), study["init_from"] if study.get("tagged") else "",
                           target, int(size or 0))
            settings = {**copy.deepcopy(merged), "variant": variant, "k": int(k), "target": target,
                        "train_size": int(size) or None, "train_steps": learn["train_steps"]}
            tests = tuple(int(n) for n in study.get("test_steps", learn["test_steps"]))
            entry = (settings, study.get("init_from"), tests, name)
            if key in out and out[key][:3] != entry[:3]:
                raise ConfigError(f"config key {where}: model {key} is also in study {out[key][3]!r} "
                                  "with other settings, init_from or test_steps")
            out.setdefault(key, entry)
    return out


def models(config: Mapping[str, Any]) -> list[ModelKey]:
    """Every model the config asks for, sorted."""
    return sorted(_resolved(config))


def settings(config: Mapping[str, Any], key: ModelKey):
    """The learning.TrainSettings of a model."""
    from learning.settings import TrainSettings

    try:
        return TrainSettings.from_dict(_resolved(config)[key][0])
    except KeyError:
        raise ConfigError(f"no model {key} in learning.studies") from None
    except ValueError as err:
        raise ConfigError(f"config key learning.studies.{_resolved(config)[key][3]}: {err}") from None


def test_steps(config: Mapping[str, Any], key: ModelKey) -> list[int]:
    """Test resolutions of a model's error-table rows: its study's test_steps, else learning.test_steps."""
    try:
        return list(_resolved(config)[key][2])
    except KeyError:
        raise ConfigError(f"no model {key} in learning.studies") from None


def init_from(config: Mapping[str, Any], key: ModelKey) -> ModelKey | None:
    """The model a key's training starts from (transfer learning), or None. A tagged study starts from the
    untagged model of its init_from case (which may itself be transfer-learned)."""
    case = _resolved(config)[key][1]
    return None if case is None else ModelKey(key.producer, case, key.variant, key.k, "", key.target, key.train_size)


def internal_models(config: Mapping[str, Any]) -> list[ModelKey]:
    """Models of the internal-variable study: "evp", k = 1, producers with micro eps_p."""
    return [m for m in models(config) if m.producer in INTERNAL_STUDY_PRODUCERS and m.variant == "evp"
            and m.k == 1 and not m.init and m.target == "stress" and not m.train_size]


def figures(config: Mapping[str, Any]) -> dict[str, dict]:
    """The figures listed under learning.figures, each with the schema's defaults filled in."""
    return {name: dict(spec or {}) for name, spec in section(config).get("figures", {}).items()}


def figure_models(config: Mapping[str, Any], name: str) -> list[ModelKey]:
    """The models a figure plots directly (its error-table rows come from all models of its producer)."""
    spec = figures(config)[name]
    if name == "fig13":  # the cost study builds its own networks (deploy/cost.py)
        return []
    p = spec["producer"]
    if name == "fig01":
        return [ModelKey(p, spec["paths_case"], spec["variant"], 1), ModelKey(p, spec["internal_case"], "evp", 1)]
    if name in RESOLUTION_FIGURES:
        return [ModelKey(p, spec["case"], v, int(spec["k"])) for v in ("evp", "ve")]
    if name == "fig07":
        v = spec["variant"]
        keys = {ModelKey(p, c, v, int(k), target=t) for c in spec["cases"] for k in spec["k"]
                for t in ("deviatoric", "pressure")}
        keys |= {ModelKey(p, c, v, int(k), target="deviatoric") for c in spec["hardening_cases"] for k in spec["k"]}
        keys |= {ModelKey(p, spec["epochs_case"], v, int(k), target="deviatoric") for k in spec["k"]}
        keys.add(ModelKey(p, spec["paths_case"], v, int(spec["paths_k"]), target="deviatoric"))
        return sorted(keys)
    if name == "fig08":
        v, case = spec["variant"], spec["case"]
        keys = {ModelKey(p, case, v, int(k)) for k in spec["k"]}
        keys |= {ModelKey(p, case, v, int(spec["size_k"]), train_size=int(n)) for n in spec["train_sizes"]}
        keys |= {ModelKey(p, case, v, int(spec["size_k"])), ModelKey(p, case, v, int(spec["paths_k"]))}
        return sorted(keys)
    if name in TRANSFER_FIGURES:
        v, ref = spec["variant"], spec["reference"]
        keys = [ModelKey(p, ref, v, int(k)) for k in spec["k"]]
        for case in spec["cases"]:
            keys += [ModelKey(p, case, v, int(k), init) for k in spec["k"] for init in ("", ref) if case != ref]
        keys.append(ModelKey(p, spec["paths_case"], v, int(spec["paths_k"]), spec["paths_init"] or ""))
        return sorted(set(keys))
    if name == "fig05":
        return [ModelKey(p, spec["case"], spec["variant"], int(spec["k"]), spec["init"] or "")]
    if name == "fig04":
        return []
    raise ConfigError(f"config key learning.figures.{name}: unknown figure")


def figure_autoencoders(config: Mapping[str, Any], name: str) -> list[tuple[str, str, int]]:
    """(producer, case, latent size) of the autoencoders a figure needs (eq. 25 panels), sorted."""
    spec = figures(config)[name]
    if name == "fig04":
        cases, case, m = spec["cases"], spec["case"], spec["map_latent"]
    elif name == "fig06":
        cases, case, m = spec["ae_cases"], spec["ae_case"], spec["ae_latent"]
    else:
        return []
    out = {(spec["producer"], c, int(k)) for c in cases for k in spec["latent"]} | {(spec["producer"], case, int(m))}
    return sorted(out)


def autoencoders(config: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """Every autoencoder the configured figures need, sorted."""
    return sorted({a for name in figures(config) for a in figure_autoencoders(config, name)})


def train_settings(**fields):
    """learning.TrainSettings outside a config: the schema's learning defaults (learning.defaults, train_steps),
    variant "evp", target "stress" (the study defaults), k = 1, the whole training split, then ``fields``."""
    from learning.settings import TrainSettings

    from .config import fill_defaults

    learn = fill_defaults({"learning": {}})["learning"]
    base = {**learn["defaults"], "variant": "evp", "target": "stress", "k": 1, "train_size": None,
            "train_steps": learn["train_steps"]}
    return TrainSettings.from_dict({**base, **fields})


def net_settings(config: Mapping[str, Any] | None, which: str, **fields):
    """learning.NetSettings of learning.autoencoder.<which> ("settings", "map" or "decoder") of a validated config,
    or of the schema's defaults when ``config`` is None; ``fields`` override."""
    from learning.settings import NetSettings

    from .config import fill_defaults

    learn = section(config) if config is not None else fill_defaults({"learning": {}})["learning"]
    try:
        return NetSettings.from_dict({**learn["autoencoder"][which], **fields})
    except ValueError as err:
        raise ConfigError(f"config key learning.autoencoder.{which}: {err}") from None


def check(config: Mapping[str, Any]) -> None:
    """Semantic checks beyond the schema: cases exist, resolutions divide the data grid, sources and figures
    refer to trained models, no transfer cycles. Raises ConfigError naming the key."""
    learn = section(config)
    resolved = _resolved(config)
    producers = config.get("producers", {})
    for name, study in learn["studies"].items():
        where = f"config key learning.studies.{name}"
        if study["producer"] not in producers:
            raise ConfigError(f"{where}.producer: no producer {study['producer']!r} under producers")
        for case in study["cases"] + ([study["init_from"]] if "init_from" in study else []):
            if case not in producers[study["producer"]]["cases"]:
                raise ConfigError(f"{where}: no case {case!r} under producers.{study['producer']}.cases")
            resolved_case = resolve_case(config, study["producer"], case)
            n_steps = int(resolved_case.loading["n_steps"])
            too_big = [n for n in study.get("train_sizes", []) if int(n) > resolved_case.n_train]
            if too_big:
                raise ConfigError(f"{where}.train_sizes: {too_big} exceed case {case}'s n_train = "
                                  f"{resolved_case.n_train}")
            for steps in [learn["train_steps"], *study.get("test_steps", learn["test_steps"])]:
                if n_steps % int(steps):
                    raise ConfigError(f"{where}: case {case} has {n_steps} steps, which {steps} steps (train_steps "
                                      "or test_steps) do not divide")
    for key, (settings, _, _, study_name) in resolved.items():
        v = float(settings.get("validation_fraction") or 0.0)
        n = key.train_size or resolve_case(config, key.producer, key.case).n_train
        if v > 0 and not 1 <= math.ceil(v * n - 1e-9) <= n - 1:  # as learning.train.split_validation
            raise ConfigError(f"config key learning.studies.{study_name} (or learning.defaults): "
                              f"validation_fraction = {v} of model {key}'s {n} training trajectories leaves no "
                              "trajectory to train on or none to validate on")
    for key in resolved:
        seen = [key]
        source = init_from(config, key)
        while source is not None:
            if source not in resolved:
                raise ConfigError(f"config key learning.studies.{resolved[key][3]}.init_from: model {source} is "
                                  "not trained by any study")
            if source in seen:
                raise ConfigError(f"config key learning.studies: transfer cycle {' <- '.join(map(str, seen))}")
            seen.append(source)
            source = init_from(config, source)
    for name in figures(config):
        for key in figure_models(config, name):
            if key not in resolved:
                raise ConfigError(f"config key learning.figures.{name}: needs model {key}, which no study trains")
        for producer, case, m in figure_autoencoders(config, name):
            if case not in producers.get(producer, {}).get("cases", {}):
                raise ConfigError(f"config key learning.figures.{name}: no case {case!r} under "
                                  f"producers.{producer}.cases")
            n_steps = int(resolve_case(config, producer, case).loading["n_steps"])
            if n_steps % int(learn["train_steps"]):
                raise ConfigError(f"config key learning.figures.{name}: case {case} has {n_steps} steps, which "
                                  f"train_steps {learn['train_steps']} does not divide")
    if baselines(config):
        key = baseline_model(config)
        if key.case not in producers.get(key.producer, {}).get("cases", {}):
            raise ConfigError(f"config key learning.baselines.case: no case {key.case!r} under "
                              f"producers.{key.producer}.cases")
        if key not in resolved:
            raise ConfigError(f"config key learning.baselines: needs model {key}, which no study trains")
    macro = config.get("macroscale") or {}
    if macro.get("enabled"):
        m = {"producer": "taylor_mg", "case": "MG", "variant": "evp", "k": 2, **(macro.get("model") or {})}
        key = ModelKey(m["producer"], m["case"], m["variant"], int(m["k"]))
        if key not in resolved:
            raise ConfigError(f"config key macroscale.model: needs model {key}, which no study trains")


def baselines(config: Mapping[str, Any]) -> dict:
    """learning.baselines with the schema's defaults ({} when the config asks for no baselines)."""
    return dict(section(config).get("baselines") or {})


def baseline_model(config: Mapping[str, Any]) -> ModelKey:
    """The RNO that the baselines are compared with (learning.baselines: producer, case, variant, k)."""
    b = baselines(config)
    return ModelKey(b["producer"], b["case"], b["variant"], int(b["k"]))


def history_models(config: Mapping[str, Any]) -> list[ModelKey]:
    """The deviatoric models of Figure 7's epochs_case whose training histories panel (a) plots, by k."""
    spec = figures(config)["fig07"]
    return [ModelKey(spec["producer"], spec["epochs_case"], spec["variant"], int(k), target="deviatoric")
            for k in sorted(int(k) for k in spec["k"])]
