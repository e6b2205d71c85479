"""Config validation names the culprit key; case resolution and hashes."""
from pathlib import Path

import numpy as np
import pytest
import yaml

from pipeline.config import ConfigError, cases, resolve_case
from pipeline.config import load as load_config
from pipeline.config import validate as validate_config

ROOT = Path(__file__).resolve().parents[1]


def default():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


@pytest.mark.parametrize("name", ["config.yaml", "config.paper.yaml"])
def test_shipped_configs_validate(name):
    config = load_config(ROOT / name)
    assert cases(config)


def test_paper_config_has_the_paper_1d_study():
    config = load_config(ROOT / "config.paper.yaml")
    one_d = [c for c in cases(config) if c.producer == "composite1d"]
    assert sorted(c.config["n_phases"] for c in one_d) == list(range(1, 11))
    assert all((c.n_train, c.n_test, c.loading["n_steps"]) == (300, 100, 1000) for c in one_d)


@pytest.mark.parametrize(
    "edit, key",
    [
        (lambda c: c["producers"]["composite1d"].update(shard_size=0), "producers.composite1d.shard_size"),
        (lambda c: c["producers"]["composite1d"]["cases"]["N1"].update(n_phase=2), "producers.composite1d.cases.N1"),
        (lambda c: c["loading"].update(T="long"), "loading.T"),
        (lambda c: c["producers"]["composite1d"]["cases"]["N3"].update(E=[5.0, 1.0]), "producers.composite1d.cases.N3.E"),
        (lambda c: c["producers"]["composite1d"]["defaults"].update(n_train=0, n_test=0), "producers.composite1d.cases.N1"),
        (lambda c: c["producers"]["composite1d"]["cases"]["N1"].update(n=[0.5, 2.0]), "producers.composite1d.cases.N1.n.0"),
        (lambda c: c.update(sed=1), "<top level>"),
        (lambda c: c["producers"].update(composite9d={}), "producers"),
    ],
)
def test_bad_config_names_the_key(edit, key):
    config = default()
    edit(config)
    with pytest.raises(ConfigError, match=f"config key {key}"):
        validate_config(config)


def resolved(config, producer, case):
    """resolve_case on a config validated first (its schema defaults filled in)."""
    return resolve_case(validate_config(config), producer, case)


def test_case_resolution_precedence_and_hash():
    config = default()
    config["producers"]["composite1d"]["defaults"]["loading"] = {"F_max": 0.02}
    config["producers"]["composite1d"]["cases"]["N3"]["loading"] = {"M": 4}
    n3 = resolved(config, "composite1d", "N3")
    n1 = resolved(config, "composite1d", "N1")
    assert n3.loading == {"T": 200.0, "M": 4, "n_steps": 1000, "F_max": 0.02}
    assert n1.loading["M"] == 10 and n3.config["edot0"] == 1.0  # the schema's producer defaults fill in
    bigger = default()
    bigger["producers"]["composite1d"]["defaults"]["n_train"] = 999
    assert resolved(bigger, "composite1d", "N1").hash == resolved(default(), "composite1d", "N1").hash
    changed = default()
    changed["producers"]["composite1d"]["cases"]["N1"]["edot0"] = 2.0
    assert resolved(changed, "composite1d", "N1").hash != resolved(default(), "composite1d", "N1").hash


def test_keyed_rng_is_order_independent():
    case = resolved(default(), "composite1d", "N3")
    a = case.rng("paths", 3).random(4)
    case.rng("paths", 0).random(100)
    np.testing.assert_array_equal(a, case.rng("paths", 3).random(4))
    assert not np.allclose(a, case.rng("paths", 4).random(4))



def test_schema_defaults_are_the_cited_mg_values():
    """taylor_mg's schema defaults are the Hill average of Tromans 2011 and the mapping of Wang et al. 2014
    (taylor.magnesium), so the one place the defaults live cannot drift from their sources."""
    from pipeline.config import producer_defaults
    from taylor import magnesium as mg

    d = producer_defaults("taylor_mg")
    mu, kappa = mg.elastic_moduli(**mg.ELASTIC_CONSTANTS)
    assert (d["mu"], d["kappa"]) == (round(mu, 1), round(kappa, 1))
    plastic = mg.plastic_defaults()
    assert {k: d[k] for k in plastic} == plastic


def test_make_case_starts_from_the_paper_loading_and_the_schema_defaults():
    from pipeline.config import make_case

    case = make_case("laminate", "x", seed=3, sigma0=[50.0, 500.0], loading={"n_steps": 20})
    assert case.config["mu"] == 25000.0 and case.config["sigma0"] == [50.0, 500.0] and case.config["seed"] == 3
    assert case.loading == {"T": 200.0, "M": 10, "n_steps": 20, "F_max": 0.33 / (10 * 200.0) ** 0.5}
    slip = make_case("polycrystal2d", slip={"tau0": [5.0, 5.0]}).config["slip"]
    assert slip["tau0"] == [5.0, 5.0] and slip["h"] == [7100.0, 7100.0]  # nested keys merge
    assert make_case("taylor_mg").loading["volumetric"] == 0.1
