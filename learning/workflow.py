"""File names of the learning rules (workflow/rules/learning.smk): models, tables, figures and their inputs."""
from __future__ import annotations

from typing import Any, Mapping

from dataset.config import resolve_case
from dataset.store import dataset_path

from . import config as lconfig

MODEL_FILES = ("model.pt", "model.ts", "config.json", "history.json")


def results(config: Mapping[str, Any]) -> str:
    return str(config["results"])


def model_key(config: Mapping[str, Any], wildcards) -> lconfig.ModelKey:
    """The model named by the wildcards producer, case, model (ModelKey.name); ValueError if no study trains it."""
    key = lconfig.parse_model(wildcards.producer, wildcards.case, wildcards.model)
    if key not in lconfig.models(config):
        raise ValueError(f"no model {key} in learning.studies")
    return key


def model_file(config: Mapping[str, Any], key: lconfig.ModelKey, name: str = "model.pt") -> str:
    return str(key.path(results(config)) / name)


def dataset(config: Mapping[str, Any], producer: str, case: str) -> str:
    return str(dataset_path(results(config), producer, case))


def transfer_source(config: Mapping[str, Any], wildcards) -> dict:
    """{"init": model.pt of the source} for a transfer-learning job, {} otherwise."""
    source = lconfig.init_from(config, model_key(config, wildcards))
    return {} if source is None else {"init": model_file(config, source)}


def error_tables(config: Mapping[str, Any]) -> list[str]:
    return [f"{results(config)}/tables/rno_errors/{m.producer}/{m.case}/{m.name}.csv"
            for m in lconfig.models(config)]


def internal_tables(config: Mapping[str, Any]) -> list[str]:
    return [f"{results(config)}/tables/rno_internal/{m.producer}/{m.case}/{m.name}.csv"
            for m in lconfig.internal_models(config)]


def figure_files(config: Mapping[str, Any], name: str) -> list[str]:
    return [f"{results(config)}/figures/{name}.png", f"{results(config)}/figures/{name}.pdf"]


def n_phases(config: Mapping[str, Any], producer: str) -> dict[str, int]:
    """case -> number of phases N of a producer's cases (legends of Figure 1)."""
    return {name: int(resolve_case(config, producer, name).config.get("n_phases", 0))
            for name in config["producers"][producer]["cases"]}


def fig01_inputs(config: Mapping[str, Any]) -> dict[str, str]:
    spec = lconfig.figures(config)["fig01"]
    paths, internal = lconfig.figure_models(config, "fig01")
    return {"errors": f"{results(config)}/tables/rno_errors.csv",
            "ds_paths": dataset(config, spec["producer"], spec["paths_case"]),
            "model_paths": model_file(config, paths),
            "ds_internal": dataset(config, spec["producer"], spec["internal_case"]),
            "model_internal": model_file(config, internal)}


def targets(config: Mapping[str, Any]) -> list[str]:
    """Everything the learning section asks for: the tables and the configured figures (none without models)."""
    if not lconfig.models(config):
        return []
    out = [f"{results(config)}/tables/rno_errors.csv"]
    if lconfig.internal_models(config):
        out.append(f"{results(config)}/tables/rno_internal.csv")
    if lconfig.autoencoders(config):
        out.append(f"{results(config)}/tables/ae_errors.csv")
    for name in lconfig.figures(config):
        out += figure_files(config, name)
    return out


# ------------------------------------------------------------------ autoencoder study (workflow/rules/laminate_learning.smk)
def autoencoder_file(config: Mapping[str, Any], producer: str, case: str, m: int) -> str:
    return f"{results(config)}/models/{producer}/{case}/ae-m{int(m)}/autoencoder.pt"


def ae_error_tables(config: Mapping[str, Any]) -> list[str]:
    return [f"{results(config)}/tables/ae_errors/{p}/{c}/ae-m{m}.csv" for p, c, m in lconfig.autoencoders(config)]


def latent_map_dir(config: Mapping[str, Any], producer: str, case: str, m: int) -> str:
    return f"{results(config)}/models/{producer}/{case}/map-ae-m{int(m)}"


def micro_decoder_file(config: Mapping[str, Any], key: lconfig.ModelKey) -> str:
    return f"{results(config)}/models/{key.producer}/{key.case}/micro-{key.name}/decoder.pt"


def laminate_figure_inputs(config: Mapping[str, Any], name: str) -> dict[str, str]:
    """Inputs of Figures 3-6 (workflow/rules/laminate_learning.smk): tables, datasets, models, networks."""
    spec = lconfig.figures(config)[name]
    p, r = spec["producer"], results(config)
    out: dict[str, str] = {}
    if name in lconfig.TRANSFER_FIGURES:
        out["errors"] = f"{r}/tables/rno_errors.csv"
        out["ds_paths"] = dataset(config, p, spec["paths_case"])
        out["model_paths"] = model_file(config, lconfig.ModelKey(p, spec["paths_case"], spec["variant"],
                                                                 int(spec["paths_k"]), spec["paths_init"] or ""))
    if name in ("fig04", "fig06"):
        case, m = (spec["case"], spec["map_latent"]) if name == "fig04" else (spec["ae_case"], spec["ae_latent"])
        out["ae_errors"] = f"{r}/tables/ae_errors.csv"
        out["dataset" if name == "fig04" else "ds_ae"] = dataset(config, p, case)
        out["autoencoder"] = autoencoder_file(config, p, case, m)
        if name == "fig04":
            out["latent_map"] = f"{latent_map_dir(config, p, case, m)}/model.pt"
    if name == "fig05":
        key = lconfig.figure_models(config, "fig05")[0]
        out["dataset"] = dataset(config, p, spec["case"])
        out["model"] = model_file(config, key)
        out["decoder"] = micro_decoder_file(config, key)
    return out


# ------------------------------------------------------------------ polycrystal figures (polycrystal_learning.smk)
def polycrystal_figure_inputs(config: Mapping[str, Any], name: str) -> dict:
    """Inputs of Figures 7 and 8: the error table, a dataset and a model for the path panels and, for Figure 7,
    the training histories of the deviatoric models of epochs_case (ordered as history_ks)."""
    spec = lconfig.figures(config)[name]
    p, r = spec["producer"], results(config)
    target = "deviatoric" if name == "fig07" else "stress"
    paths = lconfig.ModelKey(p, spec["paths_case"] if name == "fig07" else spec["case"], spec["variant"],
                             int(spec["paths_k"]), target=target)
    out: dict = {"errors": f"{r}/tables/rno_errors.csv", "ds_paths": dataset(config, p, paths.case),
                 "model_paths": model_file(config, paths)}
    if name == "fig07":
        out["histories"] = [model_file(config, key, "history.json") for key in _history_models(config)]
    return out


def _history_models(config: Mapping[str, Any]) -> list[lconfig.ModelKey]:
    spec = lconfig.figures(config)["fig07"]
    return [lconfig.ModelKey(spec["producer"], spec["epochs_case"], spec["variant"], int(k), target="deviatoric")
            for k in sorted(int(k) for k in spec["k"])]


def history_ks(config: Mapping[str, Any]) -> list[int]:
    """k of each entry of Figure 7's ``histories`` input, in order."""
    return [key.k for key in _history_models(config)]
