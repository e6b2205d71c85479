"""Config validation names the culprit key; case resolution and hashes."""
from pathlib import Path

import numpy as np
import pytest
import yaml

from dataset.config import ConfigError, cases, load_config, resolve_case, validate_config

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


def test_case_resolution_precedence_and_hash():
    config = default()
    config["producers"]["composite1d"]["defaults"]["loading"] = {"F_max": 0.02}
    config["producers"]["composite1d"]["cases"]["N3"]["loading"] = {"M": 4}
    n3 = resolve_case(config, "composite1d", "N3")
    n1 = resolve_case(config, "composite1d", "N1")
    assert n3.loading == {"T": 200.0, "M": 4, "n_steps": 1000, "F_max": 0.02}
    assert n1.loading["M"] == 10 and n3.config["edot0"] == 1.0  # producer DEFAULTS fill in
    bigger = default()
    bigger["producers"]["composite1d"]["defaults"]["n_train"] = 999
    assert resolve_case(bigger, "composite1d", "N1").hash == resolve_case(default(), "composite1d", "N1").hash
    changed = default()
    changed["producers"]["composite1d"]["cases"]["N1"]["edot0"] = 2.0
    assert resolve_case(changed, "composite1d", "N1").hash != resolve_case(default(), "composite1d", "N1").hash


def test_keyed_rng_is_order_independent():
    case = resolve_case(default(), "composite1d", "N3")
    a = case.rng("paths", 3).random(4)
    case.rng("paths", 0).random(100)
    np.testing.assert_array_equal(a, case.rng("paths", 3).random(4))
    assert not np.allclose(a, case.rng("paths", 4).random(4))

