"""Config, file names and figures of the laminate study (pipeline.studies tagged transfer, Figures 3-6)."""
import copy
import hashlib

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from pipeline.config import ConfigError
from pipeline.config import validate as validate_config
from pipeline import studies as lc
from learning import figures_laminate as figs
from pipeline import figures as pfigures
from pipeline import targets
from pipeline.paths import Paths
from learning.autoencoder import fit_autoencoder, fit_latent_map, fit_micro_decoder, latent_trajectories
from learning.autoencoder import micro_data, rno_internal
from learning.evaluate import COLUMNS
from learning.train import fit
from test_autoencoder import micro_dataset
from pipeline.studies import train_settings, net_settings

torch.set_num_threads(1)

CFG = yaml.safe_load("""
results: results
seed: 1
loading: {T: 200.0, M: 10, n_steps: 1000, F_max: 0.007379}
producers:
  laminate:
    shard_size: 10
    defaults: {n_train: 20, n_test: 10}
    cases:
      MH: {}
      M3: {sigma0: [50.0, 500.0], m: [0.02, 0.2]}
      M3-EH: {sigma0: [50.0, 500.0], m: [0.02, 0.2], hardening: exponential, h: 1000.0}
learning:
  train_steps: 100
  test_steps: [100]
  defaults: {hidden: [8], epochs: 2}
  studies:
    direct: {producer: laminate, cases: [MH, M3, M3-EH], variants: [evp], k: [0, 1, 2]}
    transfer: {producer: laminate, cases: [M3, M3-EH], variants: [evp], k: [0, 1, 2], init_from: MH, tagged: true}
  autoencoder: {settings: {epochs: 3}, map: {hidden: [16, 16]}}
  figures:
    fig03: {cases: [M3], k: [0, 1, 2], paths_case: M3, paths_k: 2, paths_init: MH}
    fig04: {cases: [MH, M3], latent: [1, 2], case: M3, map_latent: 3}
    fig05: {case: M3, k: 2, init: ""}
    fig06: {cases: [M3-EH], k: [1, 2], paths_case: M3-EH, paths_k: 2, paths_init: "", ae_cases: [M3-EH],
            latent: [1, 2], ae_case: M3-EH, ae_latent: 4}
""")


def checked(cfg):
    validate_config(cfg)
    lc.check(cfg)
    return cfg


def test_tagged_transfer_models_live_beside_the_direct_ones():
    cfg = checked(copy.deepcopy(CFG))
    keys = lc.models(cfg)
    assert len(keys) == 9 + 6
    tagged = lc.ModelKey("laminate", "M3", "evp", 2, "MH")
    assert tagged in keys and lc.ModelKey("laminate", "M3", "evp", 2) in keys
    assert Paths("r").model(tagged, "") == "r/models/laminate/M3/evp-k2-from-MH/"
    assert lc.parse_model("laminate", "M3", "evp-k2-from-MH") == tagged
    assert lc.parse_model("laminate", "M3", "ve-k10") == lc.ModelKey("laminate", "M3", "ve", 10)
    with pytest.raises(ValueError):
        lc.parse_model("laminate", "M3", "ae-m3")
    assert lc.init_from(cfg, tagged) == lc.ModelKey("laminate", "MH", "evp", 2)
    assert lc.init_from(cfg, lc.ModelKey("laminate", "M3", "evp", 2)) is None
    assert "results/tables/rno_errors/laminate/M3/evp-k2-from-MH.csv" in targets.error_tables(cfg)
    assert lc.net_settings(cfg, "map").hidden == [16, 16] and lc.net_settings(cfg, "settings").epochs == 3


def test_figures_name_their_models_autoencoders_and_inputs():
    cfg = checked(copy.deepcopy(CFG))
    f3 = lc.figure_models(cfg, "fig03")
    assert lc.ModelKey("laminate", "M3", "evp", 0, "MH") in f3 and lc.ModelKey("laminate", "MH", "evp", 1) in f3
    assert lc.figure_autoencoders(cfg, "fig04") == [("laminate", c, m) for c, m in
                                                    (("M3", 1), ("M3", 2), ("M3", 3), ("MH", 1), ("MH", 2))]
    assert ("laminate", "M3-EH", 4) in lc.autoencoders(cfg)
    inputs = pfigures.FIGURES["fig04"].inputs(cfg, Paths("results"))
    assert inputs["latent_map"] == "results/models/laminate/M3/map-ae-m3/model.pt"
    assert inputs["autoencoder"] == "results/models/laminate/M3/ae-m3/model.pt"
    fig05 = pfigures.FIGURES["fig05"].inputs(cfg, Paths("results"))
    assert fig05["decoder"] == "results/models/laminate/M3/micro-evp-k2/model.pt"
    assert "results/tables/ae_errors.csv" in targets.tables(cfg)


@pytest.mark.parametrize("edit,message", [
    (lambda c: c["learning"]["studies"].pop("transfer"), "needs model laminate/M3/evp-k0-from-MH"),
    (lambda c: c["learning"]["figures"]["fig05"].update(k=3), "needs model laminate/M3/evp-k3"),
    (lambda c: c["learning"]["figures"]["fig04"].update(cases=["M7"]), "no case 'M7'"),
    (lambda c: c["learning"]["autoencoder"]["map"].update(width=3), "learning.autoencoder.map"),
    (lambda c: c["learning"]["studies"]["transfer"].update(tagged="yes"), "tagged"),
])
def test_checks_name_the_key(edit, message):
    cfg = copy.deepcopy(CFG)
    edit(cfg)
    with pytest.raises(ConfigError, match=message):
        checked(cfg)


def _sha(paths):
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.suffix == ".png"]


@pytest.mark.slow  # over a minute on 2 cores; the default suite stays under ~15 min (make test ARGS="-m slow")
def test_figures_3_to_6_are_written_and_deterministic(tmp_path):
    ds = micro_dataset(n=14, n_time=21)
    tiny = train_settings(k=2, hidden=[8], epochs=1, batch_size=4, train_steps=20, eval_every=0, checkpoint_every=0,
                          validation_fraction=0.0)
    rno, _ = fit(micro_data(ds, "train").traj, tiny, device="cpu")
    rows = [{"producer": "laminate", "case": c, "variant": "evp", "target": "stress", "k": k, "train_size": 0,
             "init_from": i, "train_steps": 20,
             "test_steps": 20, "error": 0.1 / (k + 1) + (0.01 if i else 0)}
            for c, i in (("MH", ""), ("M3", ""), ("M3", "MH")) for k in (0, 1, 2)]
    errors = pd.DataFrame(rows, columns=COLUMNS)
    ae_errors = pd.DataFrame([{"producer": "laminate", "case": c, "latent": m, "test_error": 0.3 / m}
                              for c in ("MH", "M3") for m in (1, 2, 3)])
    net = net_settings(None, "settings", hidden=[8], epochs=1)
    train = micro_data(ds, "train")
    ae, _ = fit_autoencoder(train.micro, 3, net)
    latent_map, _ = fit_latent_map(train.traj, latent_trajectories(ae, train.micro), net)
    decoder, _ = fit_micro_decoder(rno_internal(rno, train.traj)[1], train.micro, net)
    figures = lc.figures(checked(copy.deepcopy(CFG)))  # the schema's defaults filled in
    spec3 = {**figures["fig03"], "train_steps": 20}
    spec4 = {**figures["fig04"], "train_steps": 20}
    spec5 = {**figures["fig05"], "train_steps": 20, "n_paths": 3}
    spec6 = {**figures["fig06"], "cases": ["M3"], "ae_cases": ["M3"], "train_steps": 20}

    def draw(d):
        return [*figs.fig03(errors=errors, spec=spec3, ds_paths=ds, model_paths=rno, stem=d / "fig03"),
                *figs.fig04(ae_errors=ae_errors, spec=spec4, dataset=ds, autoencoder=ae, latent_map=latent_map,
                            stem=d / "fig04"),
                *figs.fig05(dataset=ds, model=rno, decoder=decoder, spec=spec5, stem=d / "fig05"),
                *figs.fig06(errors=errors, ae_errors=ae_errors.assign(), spec=spec6, ds_paths=ds, model_paths=rno,
                            ds_ae=ds, autoencoder=ae, stem=d / "fig06")]

    first = draw(tmp_path / "a")
    assert len(first) == 8 and all(p.stat().st_size > 5000 for p in first)
    again = figs.fig05(dataset=ds, model=rno, decoder=decoder, spec=spec5, stem=tmp_path / "b" / "fig05")
    assert _sha(again) == _sha([p for p in first if p.stem == "fig05"])
    with pytest.raises(ValueError, match="no error rows"):
        figs.fig03(errors=errors[errors["init_from"] == ""], spec=spec3, ds_paths=ds, model_paths=rno,
                   stem=tmp_path / "c" / "fig03")
