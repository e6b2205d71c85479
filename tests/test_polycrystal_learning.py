"""Learning the polycrystal data (paper Section 5): deviatoric and pressure targets (eq. 28), training-set-size
models, their config keys, and Figures 7, 8 and 10(b), on tiny datasets solved inside the tests."""
import copy

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

pytest.importorskip("petsc4py")
from pipeline.config import ConfigError
from pipeline.config import validate as validate_config  # noqa: E402
from dataset.contract import validate  # noqa: E402
from pipeline.shards import solve_shard  # noqa: E402
from learning import artifacts, load  # noqa: E402
from pipeline import studies as lc  # noqa: E402
from pipeline.config import fill_defaults, make_case  # noqa: E402
from learning.data import target_components, to_components, trajectories  # noqa: E402
from learning.evaluate import COLUMNS, error_rows  # noqa: E402
from learning.figures import fig10  # noqa: E402
from learning.figures_polycrystal import fig07, fig08  # noqa: E402
from learning.train import evaluate_error, fit  # noqa: E402
from pipeline.studies import train_settings  # noqa: E402

torch.set_num_threads(1)
STEPS = 10
pytestmark = pytest.mark.filterwarnings("ignore:The given NumPy array is not writable")


@pytest.fixture(scope="module")
def poly():
    """6 paths (4 train, 2 test) of an 8 x 8, 4-grain cell, 20 steps on (0, 4] s; neo-Hookean grains, since the
    crystal update would make this fixture cost minutes (the targets' plumbing does not depend on the material)."""
    case = make_case("polycrystal2d", "PH", seed=5, grid=8, n_grains=4, model="neohookean",
                              loading={"n_steps": 20, "T": 4.0, "F_max": 0.02})
    ds = solve_shard(case, 0, 6)
    ds["split"] = ("sample", np.where(ds["sample"].values < 4, "train", "test").astype(object))
    return validate(ds)


def tiny(**kw):
    return train_settings(**{**dict(k=1, hidden=[16, 16], epochs=30, batch_size=2, train_steps=STEPS, eval_every=0,
                                   checkpoint_every=0, validation_fraction=0.0), **kw})


def test_targets_are_the_producers_pressure_and_deviator(poly):
    """The learning targets, computed from the stored stress, equal the producer's own split (eq. 28)."""
    p = trajectories(poly, None, target="pressure")
    dev = trajectories(poly, None, target="deviatoric")
    assert p.stress.shape == (6, 21, 1) and dev.stress.shape == (6, 21, 3)
    np.testing.assert_allclose(p.stress[..., 0], poly["pressure"].values, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(dev.stress, to_components(poly["stress_dev"].values), rtol=1e-12, atol=1e-9)
    assert np.abs(poly["pressure"].values).max() > 1.0  # the paths load the cell
    assert list(p.weights) == [1.0] and list(dev.weights) == [1.0, 2.0, 1.0]


def test_three_dimensional_split_is_traceless_and_complete():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 3, 3))
    sigma = a + np.swapaxes(a, -1, -2)
    p = target_components(sigma, "pressure")[..., 0]
    dev = target_components(sigma, "deviatoric")
    np.testing.assert_allclose(dev[..., 0] + dev[..., 3] + dev[..., 5], 0.0, atol=1e-12)
    np.testing.assert_allclose(dev - to_components(p[:, None, None] * np.eye(3)), to_components(sigma), atol=1e-12)
    with pytest.raises(ValueError, match="target must be one of"):
        target_components(sigma, "von_mises")


def test_pressure_and_deviatoric_rnos_train_export_and_evaluate(poly, tmp_path):
    models = {}
    for target, k in (("pressure", 0), ("deviatoric", 1)):
        train = trajectories(poly, "train", STEPS, target)
        test = trajectories(poly, "test", STEPS, target)
        model, history = fit(train, tiny(k=k, target=target, epochs=100), device="cpu")
        assert (model.target, model.n_out) == (target, 1 if target == "pressure" else 3)
        assert history[-1]["train_error"] < 0.3 * history[0]["train_error"], (target, history[0], history[-1])
        assert np.isfinite(evaluate_error(model, test)).all()
        models[target] = model
    pressure = models["pressure"]
    with pytest.raises(ValueError, match="predicts 'pressure'"):
        evaluate_error(pressure, trajectories(poly, "test", STEPS, "deviatoric"))
    with pytest.raises(ValueError, match="settings.target"):
        fit(trajectories(poly, "train", STEPS), tiny(target="pressure"), device="cpu")
    # artifacts: model.pt and the TorchScript export keep the target and give the same pressure
    out = artifacts.save(pressure, tmp_path / "m", settings=tiny(k=0, target="pressure").to_dict(), history=[],
                         data={})
    x, _, time = trajectories(poly, "test", STEPS, "pressure").tensors()
    scripted = torch.jit.load(str(out / "model.ts"))
    with torch.no_grad():
        np.testing.assert_allclose(scripted(x, time).numpy(), pressure(x, time).numpy(), rtol=1e-6)
    assert load(out).target == "pressure" and scripted.target == "pressure"
    assert artifacts.read_json(out, "config.json")["target"] == "pressure"
    rows = error_rows(models["deviatoric"], poly, train_steps=STEPS, test_steps=[5, 10, 20], train_size=4)
    assert list(rows.columns) == COLUMNS and set(rows["target"]) == {"deviatoric"}
    assert (rows["train_size"] == 4).all() and rows["error"].between(0, 10).all()


def test_training_set_size_takes_the_first_samples(poly):
    full = trajectories(poly, "train", STEPS)
    two = trajectories(poly, "train", STEPS, size=2)
    np.testing.assert_array_equal(two.x, full.x[:2])
    np.testing.assert_array_equal(two.sample, full.sample[:2])
    with pytest.raises(ValueError, match="asked for 5 train samples"):
        trajectories(poly, "train", STEPS, size=5)
    with pytest.raises(ValueError, match="train_size must be >= 1"):
        train_settings(train_size=0)


CONFIG = yaml.safe_load("""
results: results
seed: 1
loading: {T: 200.0, M: 10, n_steps: 200, F_max: 0.01}
producers:
  polycrystal2d:
    shard_size: 2
    defaults: {n_train: 2, n_test: 1, grid: 8, n_grains: 4}
    cases: {PH: {}, P3: {slip: {sigma_inf: [50.0, 50.0], h: [100.0, 100.0]}}}
  taylor_mg:
    shard_size: 4
    defaults: {n_train: 4, n_test: 2, n_grains: 8}
    cases: {MG: {}}
learning:
  train_steps: 100
  test_steps: [50, 100, 200]
  studies:
    poly: {producer: polycrystal2d, cases: [PH, P3], variants: [evp], targets: [deviatoric, pressure], k: [0, 2]}
    mg: {producer: taylor_mg, cases: [MG], variants: [evp, ve], k: [0, 1], test_steps: [100, 200]}
    mg_size: {producer: taylor_mg, cases: [MG], variants: [evp], k: [1], train_sizes: [1, 2], overrides: {validation_fraction: 0.0}}
  figures:
    fig07: {cases: [PH, P3], hardening_cases: [P3], k: [0, 2], paths_k: 2}
    fig08: {k: [0, 1], size_k: 1, train_sizes: [1, 2], paths_k: 1}
    fig10b: {k: 1}
""")


def test_config_targets_sizes_and_figures():
    cfg = copy.deepcopy(CONFIG)
    validate_config(cfg)
    lc.check(cfg)
    names = {str(m) for m in lc.models(cfg)}
    assert {"polycrystal2d/PH/evp-deviatoric-k2", "polycrystal2d/P3/evp-pressure-k0", "taylor_mg/MG/evp-k1-n2",
            "taylor_mg/MG/ve-k1"} <= names and len(names) == 8 + 4 + 2
    key = lc.parse_model("taylor_mg", "MG", "evp-k1-n2")
    assert (key.train_size, key.target) == (2, "stress")
    s = lc.settings(cfg, key)
    assert (s.train_size, s.target, s.k) == (2, "stress", 1)
    assert lc.settings(cfg, lc.parse_model("polycrystal2d", "PH", "evp-pressure-k2")).target == "pressure"
    assert lc.test_steps(cfg, lc.ModelKey("taylor_mg", "MG", "ve", 1)) == [100, 200]
    assert lc.test_steps(cfg, key) == [50, 100, 200]
    assert lc.ModelKey("polycrystal2d", "PH", "evp", 2, target="deviatoric") in lc.figure_models(cfg, "fig07")
    assert lc.ModelKey("taylor_mg", "MG", "evp", 1, train_size=1) in lc.figure_models(cfg, "fig08")
    with pytest.raises(ValueError, match="not a model name"):
        lc.parse_model("taylor_mg", "MG", "evp-k1-n0")


@pytest.mark.parametrize("edit,message", [
    (lambda c: c["learning"]["studies"]["mg_size"].update(train_sizes=[9]), r"mg_size.train_sizes: \[9\] exceed"),
    (lambda c: c["learning"]["figures"]["fig07"].update(k=[0, 1]),
     "fig07: needs model polycrystal2d/P3/evp-deviatoric-k1"),
    (lambda c: c["learning"]["figures"]["fig08"].update(train_sizes=[3]), "fig08: needs model taylor_mg/MG/evp-k1-n3"),
    (lambda c: c["learning"]["studies"]["mg"].update(test_steps=[30]), "which 30 steps"),
    (lambda c: c["learning"]["studies"].update(again={"producer": "taylor_mg", "cases": ["MG"], "variants": ["evp"],
                                                       "k": [0]}), "evp-k0 is also in study 'mg'"),
])
def test_config_errors_name_the_key(edit, message):
    cfg = copy.deepcopy(CONFIG)
    edit(cfg)
    with pytest.raises(ConfigError, match=message):
        validate_config(cfg)
        lc.check(cfg)


def test_bad_target_is_a_schema_error():
    cfg = copy.deepcopy(CONFIG)
    cfg["learning"]["studies"]["poly"]["targets"] = ["shear"]
    with pytest.raises(ConfigError, match="targets"):
        validate_config(cfg)


def _error_table(producer_name, cases, targets, ks, sizes=(0,)):
    rows = []
    for case in cases:
        for target in targets:
            for k in ks:
                for size in sizes:
                    for variant in ("evp", "ve"):
                        for steps in (5, 10, 20):
                            err = (0.3 if k == 0 else 0.02) * (1 + 5 / (size or 50)) * (1 + (steps != STEPS))
                            rows.append({"producer": producer_name, "case": case, "variant": variant,
                                         "target": target, "k": k, "train_size": size, "init_from": "",
                                         "train_steps": STEPS, "test_steps": steps, "error": err})
    return pd.DataFrame(rows, columns=COLUMNS)


@pytest.mark.slow  # over a minute on 2 cores; the default suite stays under ~15 min (make test ARGS="-m slow")
def test_figures_7_8_and_10b_are_written_and_deterministic(poly, tmp_path):
    spec7 = fill_defaults({"learning": {"figures": {"fig07": {"cases": ["PH", "P1"], "hardening_cases": ["P3"],
                                                              "k": [0, 1], "paths_k": 1}}}})["learning"]["figures"]["fig07"]
    spec7 = {**spec7, "train_steps": STEPS, "history_ks": [0, 1]}
    errors = _error_table("polycrystal2d", ["PH", "P1", "P3"], ["deviatoric", "pressure"], [0, 1])
    model, history = fit(trajectories(poly, "train", STEPS, "deviatoric"), tiny(target="deviatoric", epochs=3),
                         device="cpu")
    args = dict(errors=errors, histories=[history, history], ds_paths=poly, model_paths=model, spec=spec7)
    a, b = fig07(**args, stem=tmp_path / "a" / "fig07"), fig07(**args, stem=tmp_path / "b" / "fig07")
    for p, q in zip(a, b):
        assert p.stat().st_size > 10_000 and p.read_bytes() == q.read_bytes()
    with pytest.raises(ValueError, match="no pressure error rows for case P1"):
        fig07(**{**args, "errors": errors[~((errors["case"] == "P1") & (errors["target"] == "pressure"))]},
              stem=tmp_path / "x")

    # Figure 8 and 10(b) are generic over the producer: drawn here from the 2D data's stress models
    spec8 = fill_defaults({"learning": {"figures": {"fig08": {"producer": "polycrystal2d", "case": "PH", "k": [0, 1],
                                                              "size_k": 1, "train_sizes": [2], "paths_k": 1}}}})
    spec8 = {**spec8["learning"]["figures"]["fig08"], "train_steps": STEPS}
    errors8 = _error_table("polycrystal2d", ["PH"], ["stress"], [0, 1], sizes=(0, 2))
    stress_model, _ = fit(trajectories(poly, "train", STEPS), tiny(epochs=3), device="cpu")
    paths = fig08(errors=errors8, ds_paths=poly, model_paths=stress_model, spec=spec8, stem=tmp_path / "fig08")
    assert all(p.stat().st_size > 10_000 for p in paths)
    with pytest.raises(ValueError, match="two or more training-set sizes"):
        fig08(errors=errors8[errors8["train_size"] == 0], ds_paths=poly, model_paths=stress_model, spec=spec8,
              stem=tmp_path / "y")
    c = fig10(errors=errors8, spec={"producer": "polycrystal2d", "case": "PH", "k": 1, "train_steps": STEPS},
              stem=tmp_path / "fig10b")
    assert all(p.exists() for p in c)
