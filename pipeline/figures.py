"""The figure table: name -> (inputs, draw function, report caption). One generic rule and one job script
(workflow/rules/figures.smk, workflow/scripts/figure.py) serve every entry.

A figure is one ``Figure`` entry below plus its draw function, written anywhere below the workflow layer as

    def draw(*, stem: Path, spec: dict, **inputs) -> list[Path]      # writes stem.png and stem.pdf

The job loads each input by its file type before calling it (``load_input``): a ``*.zarr`` store with
dataset.store.open_store, a network's ``model.pt`` with learning.load, a ``*.csv`` table with
learning.evaluate.read_table, ``*.json`` as JSON, a list of paths as a list. ``spec`` is what ``Figure.spec``
returns (by default the figure's config section with the schema's defaults, plus ``train_steps``); it is the
rule's params, so a change in it redraws the figure. docs/add-a-figure.md walks through an example.
"""
from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from . import studies
from .config import resolve_case
from .paths import Paths
from .studies import ModelKey

Config = Mapping[str, Any]


def _learning_spec(name: str) -> Callable[[Config], dict]:
    def spec(config: Config) -> dict:
        return {**studies.figures(config)[name], "train_steps": int(studies.section(config)["train_steps"])}

    return spec


@dataclass(frozen=True)
class Figure:
    """One figure: where its inputs are, what draws it, how the report introduces it."""

    name: str
    draw: str  # "module:function", imported in the job (the DAG build needs no plotting code)
    inputs: Callable[[Config, Paths], dict]  # input name -> path or list of paths
    caption: str  # workflow/report/<caption>.rst
    category: str = "Paper figures"
    spec: Callable[[Config], dict] | None = None  # None: the learning section's figure spec, plus train_steps
    law: str | None = None  # "module": passed to draw as ``law`` (e.g. the exact 1D law of Figure 1)
    enabled: Callable[[Config], bool] | None = None  # None: drawn when listed under learning.figures

    def params(self, config: Config) -> dict:
        return (self.spec or _learning_spec(self.name))(config)

    def wanted(self, config: Config) -> bool:
        return self.enabled(config) if self.enabled else self.name in studies.figures(config)


# ------------------------------------------------------------------------------------------------ inputs
def _loading_paths_spec(config: Config) -> dict:
    figure = config.get("figures", {}).get("loading_paths", {})
    return {"loading": dict(config["loading"]), "seed": int(figure.get("seed", config["seed"])),
            "n_paths": int(figure["n_paths"])}


def _fig01_inputs(config: Config, p: Paths) -> dict:
    spec = studies.figures(config)["fig01"]
    paths, internal = studies.figure_models(config, "fig01")
    return {"errors": p.table("rno_errors", spec["producer"]), "ds_paths": p.dataset(spec["producer"], spec["paths_case"]),
            "model_paths": p.model(paths), "ds_internal": p.dataset(spec["producer"], spec["internal_case"]),
            "model_internal": p.model(internal)}


def _fig01_spec(config: Config) -> dict:
    spec = _learning_spec("fig01")(config)
    producer = spec["producer"]
    spec["n_phases"] = {case: int(resolve_case(config, producer, case).config.get("n_phases", 0))
                        for case in config["producers"][producer]["cases"]}
    return spec


def _errors_only(name: str) -> Callable[[Config, Paths], dict]:
    def inputs(config: Config, p: Paths) -> dict:
        return {"errors": p.table("rno_errors", studies.figures(config)[name]["producer"])}

    return inputs


def _transfer_inputs(config: Config, p: Paths, name: str) -> dict:
    spec = studies.figures(config)[name]
    key = ModelKey(spec["producer"], spec["paths_case"], spec["variant"], int(spec["paths_k"]),
                   spec["paths_init"] or "")
    return {"errors": p.table("rno_errors", key.producer), "ds_paths": p.dataset(key.producer, key.case),
            "model_paths": p.model(key)}


def _fig03_inputs(config: Config, p: Paths) -> dict:
    return _transfer_inputs(config, p, "fig03")


def _fig04_inputs(config: Config, p: Paths) -> dict:
    spec = studies.figures(config)["fig04"]
    producer, case, m = spec["producer"], spec["case"], spec["map_latent"]
    return {"ae_errors": p.table("ae_errors"), "dataset": p.dataset(producer, case),
            "autoencoder": p.file(p.autoencoder_dir(producer, case, m), "model.pt"),
            "latent_map": p.file(p.latent_map_dir(producer, case, m), "model.pt")}


def _fig05_inputs(config: Config, p: Paths) -> dict:
    key = studies.figure_models(config, "fig05")[0]
    return {"dataset": p.dataset(key.producer, key.case), "model": p.model(key),
            "decoder": p.file(p.micro_decoder_dir(key.producer, key.case, key.name), "model.pt")}


def _fig06_inputs(config: Config, p: Paths) -> dict:
    spec = studies.figures(config)["fig06"]
    producer, case, m = spec["producer"], spec["ae_case"], spec["ae_latent"]
    return {**_transfer_inputs(config, p, "fig06"), "ae_errors": p.table("ae_errors"),
            "ds_ae": p.dataset(producer, case), "autoencoder": p.file(p.autoencoder_dir(producer, case, m), "model.pt")}


def _fig07_inputs(config: Config, p: Paths) -> dict:
    spec = studies.figures(config)["fig07"]
    key = ModelKey(spec["producer"], spec["paths_case"], spec["variant"], int(spec["paths_k"]), target="deviatoric")
    return {"errors": p.table("rno_errors", key.producer), "ds_paths": p.dataset(key.producer, key.case),
            "model_paths": p.model(key),
            "histories": [p.model(k, "history.json") for k in studies.history_models(config)]}


def _fig07_spec(config: Config) -> dict:
    return {**_learning_spec("fig07")(config), "history_ks": [k.k for k in studies.history_models(config)]}


def _fig08_inputs(config: Config, p: Paths) -> dict:
    spec = studies.figures(config)["fig08"]
    key = ModelKey(spec["producer"], spec["case"], spec["variant"], int(spec["paths_k"]))
    inputs = {"errors": p.table("rno_errors", key.producer), "ds_paths": p.dataset(key.producer, key.case),
              "model_paths": p.model(key)}
    if studies.baselines(config):  # PCA-Net and Johnson-Cook in panels (a) and (b)
        inputs["baseline_errors"] = p.table("baseline_errors")
    return inputs


def _fig09_inputs(config: Config, p: Paths) -> dict:
    key = studies.baseline_model(config)
    return {"predictions": p._("baselines", key.producer, key.case, "classical_predictions.json"),
            "errors": p.table("baseline_errors")}


def _fig09_spec(config: Config) -> dict:
    b = studies.baselines(config)
    return {"case": b["case"], "k": int(b["k"]), "note": b.get("note", "")}


def _fig13_inputs(config: Config, p: Paths) -> dict:
    model = studies.figures(config)["fig13"].get("model") or ""
    return {"model": model if model.endswith("model.pt") else f"{model.rstrip('/')}/model.pt"} if model else {}


# ------------------------------------------------------------------------------------------------- table
FIGURES: dict[str, Figure] = {f.name: f for f in (
    Figure("loading_paths", "dataset.plot_paths:loading_paths", lambda c, p: {}, "loading_paths",
           category="Data factory", spec=_loading_paths_spec, enabled=lambda c: True),
    Figure("fig01", "learning.figures:fig01", _fig01_inputs, "fig01", spec=_fig01_spec,
           law="fullfield.composite1d"),
    Figure("fig03", "learning.figures_laminate:fig03", _fig03_inputs, "fig03"),
    Figure("fig04", "learning.figures_laminate:fig04", _fig04_inputs, "fig04"),
    Figure("fig05", "learning.figures_laminate:fig05", _fig05_inputs, "fig05"),
    Figure("fig06", "learning.figures_laminate:fig06", _fig06_inputs, "fig06"),
    Figure("fig07", "learning.figures_polycrystal:fig07", _fig07_inputs, "fig07", spec=_fig07_spec),
    Figure("fig08", "learning.figures_polycrystal:fig08", _fig08_inputs, "fig08"),
    Figure("fig09", "learning.figures_baselines:fig09", _fig09_inputs, "fig09", spec=_fig09_spec,
           enabled=lambda c: bool(studies.baselines(c))),
    Figure("fig10a", "learning.figures:fig10", _errors_only("fig10a"), "fig10a"),
    Figure("fig10b", "learning.figures:fig10", _errors_only("fig10b"), "fig10b"),
    Figure("fig13", "deploy.cost:fig13", _fig13_inputs, "fig13", spec=lambda c: studies.figures(c)["fig13"]),
)}


def wanted(config: Config) -> list[Figure]:
    """The figures a config asks for, in table order."""
    return [f for f in FIGURES.values() if f.wanted(config)]


# ------------------------------------------------------------------------------------------------ the job
def load_input(path: str | list) -> Any:
    """An input of a draw function, loaded by its file type (see the module docstring)."""
    if isinstance(path, (list, tuple)):
        return [load_input(p) for p in path]
    path = str(path)
    if path.endswith(".zarr"):
        from dataset.store import open_store

        return open_store(path)
    if path.endswith("model.pt"):
        from learning import load

        return load(path)
    if path.endswith(".csv"):
        from learning.evaluate import read_table

        return read_table(path)
    if path.endswith(".json"):
        return json.loads(Path(path).read_text())
    raise ValueError(f"figure input {path}: no loader for this file type (.zarr, model.pt, .csv, .json)")


def draw_function(figure: Figure) -> Callable[..., list[Path]]:
    module, _, name = figure.draw.partition(":")
    return getattr(importlib.import_module(module), name)


def draw(name: str, inputs: Mapping[str, Any], spec: Mapping[str, Any], stem: str | Path) -> list[Path]:
    """Draw figure ``name`` to ``stem``.png/.pdf from its input paths and spec."""
    figure = FIGURES[name]
    loaded = {key: load_input(value) for key, value in inputs.items()}
    if figure.law:
        loaded["law"] = importlib.import_module(figure.law)
    return draw_function(figure)(stem=Path(stem), spec=dict(spec), **loaded)


def main(argv=None) -> int:
    """python -m pipeline.figures NAME STEM [--configfile FILE]: draw figure NAME of a config's results to STEM."""
    import argparse

    from .config import load

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("name", choices=sorted(FIGURES))
    parser.add_argument("stem", help="output path without suffix (.png and .pdf are written)")
    parser.add_argument("--configfile", default="config.yaml")
    args = parser.parse_args(argv)
    config = load(args.configfile)
    figure = FIGURES[args.name]
    for path in draw(args.name, figure.inputs(config, Paths(config["results"])), figure.params(config), args.stem):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
