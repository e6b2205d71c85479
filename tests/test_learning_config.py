"""The learning section of the workflow config: schema (pipeline/schemas/learning.schema.yaml) and pipeline.studies."""
import copy

import pytest
import yaml

from pipeline.config import ConfigError
from pipeline.config import validate as validate_config
from pipeline import studies as lc
from pipeline.paths import Paths

BASE = yaml.safe_load("""
results: results
seed: 1
loading: {T: 200.0, M: 10, n_steps: 1000, F_max: 0.01}
producers:
  composite1d:
    shard_size: 10
    defaults: {n_train: 20, n_test: 10}
    cases:
      N1: {n_phases: 1}
      N3: {n_phases: 3}
      N4: {n_phases: 4}
learning:
  device: auto
  train_steps: 200
  test_steps: [50, 100, 200, 500, 1000]
  defaults: {hidden: [100, 100, 100, 100], epochs: 100, batch_size: 30, lr: 1.0e-3,
             lr_schedule: {kind: cosine, lr_min: 1.0e-5}, seed: 0}
  studies:
    internal:
      producer: composite1d
      cases: [N1, N3]
      variants: [evp]
      k: [0, 1, 2]
    resolution:
      producer: composite1d
      cases: [N3]
      variants: [evp, ve]
      k: [1]
    transfer:
      producer: composite1d
      cases: [N4]
      variants: [evp]
      k: [1]
      init_from: N3
      overrides: {epochs: 20}
  figures:
    fig01: {}
    fig10a: {case: N3}
""")


def checked(cfg):
    validate_config(cfg)
    lc.check(cfg)
    return cfg


def test_models_settings_and_transfer():
    cfg = checked(copy.deepcopy(BASE))
    keys = lc.models(cfg)
    assert [str(k) for k in keys] == ["composite1d/N1/evp-k0", "composite1d/N1/evp-k1", "composite1d/N1/evp-k2",
                                      "composite1d/N3/evp-k0", "composite1d/N3/evp-k1", "composite1d/N3/evp-k2",
                                      "composite1d/N3/ve-k1", "composite1d/N4/evp-k1"]
    n4 = lc.ModelKey("composite1d", "N4", "evp", 1)
    s = lc.settings(cfg, n4)
    assert (s.epochs, s.lr, s.train_steps, s.k, s.variant) == (20, 1e-3, 200, 1, "evp")  # override wins
    assert lc.settings(cfg, keys[0]).epochs == 100
    assert lc.init_from(cfg, n4) == lc.ModelKey("composite1d", "N3", "evp", 1)
    assert lc.init_from(cfg, keys[0]) is None
    assert Paths("results").model(n4) == "results/models/composite1d/N4/evp-k1/model.pt"
    assert lc.internal_models(cfg) == [lc.ModelKey("composite1d", c, "evp", 1) for c in ("N1", "N3", "N4")]
    assert lc.figures(cfg)["fig01"]["paths_case"] == "N3" and lc.figures(cfg)["fig10a"]["k"] == 1


@pytest.mark.parametrize("edit,message", [
    (lambda c: c["learning"]["defaults"].update(lr=0), "learning.defaults.lr"),
    (lambda c: c["learning"]["defaults"].update(hidden=[]), "learning.defaults.hidden"),
    (lambda c: c["learning"]["defaults"].update(lr_schedule={"kind": "linear"}), "learning.defaults.lr_schedule"),
    (lambda c: c["learning"]["defaults"].update(momentum=0.9), "learning.defaults"),
    (lambda c: c["learning"]["defaults"].update(max_dt=0), "learning.defaults.max_dt"),
    (lambda c: c["learning"].update(device="gpu"), "learning.device"),
    (lambda c: c["learning"].update(test_steps=[]), "learning.test_steps"),
    (lambda c: c["learning"]["studies"]["internal"].update(variants=["lstm"]), "learning.studies.internal.variants"),
    (lambda c: c["learning"]["studies"]["internal"].update(k=[-1]), "learning.studies.internal.k"),
    (lambda c: c["learning"]["studies"]["internal"].pop("producer"), "learning.studies.internal"),
])
def test_schema_names_the_key(edit, message):
    cfg = copy.deepcopy(BASE)
    edit(cfg)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        validate_config(cfg)


@pytest.mark.parametrize("edit,message", [
    (lambda c: c["learning"].update(train_steps=300), "do not divide"),
    (lambda c: c["learning"].update(test_steps=[50, 2000]), "do not divide"),
    (lambda c: c["learning"]["studies"]["internal"].update(cases=["N7"]), "no case 'N7'"),
    (lambda c: c["learning"]["studies"]["internal"].update(producer="taylor3d"), "no producer"),
    (lambda c: c["learning"]["studies"]["resolution"].update(overrides={"epochs": 5}), "also in study"),
    (lambda c: c["learning"]["studies"]["transfer"].update(init_from="N4"), "transfer cycle"),
    (lambda c: c["learning"]["studies"]["transfer"].update(k=[3]), "not trained by any study"),
    (lambda c: c["learning"]["figures"].update(fig10a={"case": "N1"}), "learning.figures.fig10a"),
    (lambda c: c["learning"]["defaults"].update(validation_fraction=0.999), "validation_fraction = 0.999"),
    (lambda c: c["learning"].update(baselines={"case": "MG"}), r"learning\.baselines\.case: no case 'MG'"),
    (lambda c: c.update(macroscale={"enabled": True}), r"macroscale\.model: needs model"),
])
def test_semantic_checks(edit, message):
    cfg = copy.deepcopy(BASE)
    edit(cfg)
    with pytest.raises(ConfigError, match=message):
        checked(cfg)
