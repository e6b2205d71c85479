"""Training, checkpoints, transfer learning, artifacts, evaluation, the 1D study and the figures, on tiny datasets of
the 1D composite (fullfield.composite1d, paper Section 3) solved inside the tests."""
import json
import logging

import numpy as np
import pandas as pd
import pytest
import torch

from dataset.contract import validate
from dataset.sampler import sample_paths
from fullfield import composite1d
from fullfield.composite1d import solve
from pipeline.config import make_case
from learning import artifacts, load
from learning.data import trajectories
from learning.evaluate import COLUMNS, concat_tables, error_rows, read_table, write_table
from learning.figures import fig01, fig10
from learning.rno import fit_normalisation
from learning.study1d import affine_fit, internal_variable_study, monotone_fit
from learning.train import build_model, evaluate_error, fit
from pipeline.studies import train_settings
from conftest import Crash, crash_at

torch.set_num_threads(1)
STEPS = 50  # training resolution of the tests; the data have 100 steps


def composite_dataset(n_phases, n_train=24, n_test=8, n_steps=100, seed=0):
    """A contract dataset of the 1D composite: n_train + n_test strain paths on (0, 200] s."""
    case = make_case("composite1d", f"N{n_phases}", n_phases=n_phases, seed=seed, loading={"n_steps": n_steps})
    p = sample_paths(n_train + n_test, 1, case.rng("paths", 0), F_max=0.01, T=200.0, M=10, n_steps=n_steps)
    ds = solve(p.values, p.time, case)
    ds["split"] = ("sample", np.where(ds["sample"].values < n_train, "train", "test").astype(object))
    return validate(ds)


def tiny(**kw):
    base = dict(k=1, hidden=[32, 32], epochs=40, batch_size=8, lr=3e-3, lr_schedule={"kind": "cosine"},
                train_steps=STEPS, eval_every=0, checkpoint_every=0, validation_fraction=0.0)
    return train_settings(**{**base, **kw})


@pytest.fixture(scope="module")
def ds1():
    return composite_dataset(1)


@pytest.fixture(scope="module")
def ds2():
    return composite_dataset(2, seed=1)


@pytest.fixture(scope="module")
def trained(ds2):
    """A k = 1 model trained on ds2 for 40 epochs, its history and its untrained twin's test error."""
    settings = tiny(eval_every=10)
    train, test = trajectories(ds2, "train", STEPS), trajectories(ds2, "test", STEPS)
    untrained = fit_normalisation(build_model(settings, 1), *train.tensors())
    model, history = fit(train, settings, test=test, device="cpu")
    return model, history, float(evaluate_error(untrained, test).mean())


def test_training_reduces_the_test_error_at_least_twofold(trained, ds2):
    model, history, before = trained
    after = float(evaluate_error(model, trajectories(ds2, "test", STEPS)).mean())
    assert after < before / 2, (before, after)
    assert history[-1]["train_error"] < history[0]["train_error"] / 2
    assert [h["epoch"] for h in history] == list(range(1, 41))
    assert history[-1]["test_error"] == pytest.approx(after, rel=1e-6)  # evaluated on the last epoch


def test_memory_helps_on_viscoplastic_data(trained, ds2):
    """k = 0 (no internal variable) cannot represent the history dependence; k = 1 does better (paper Fig. 1c)."""
    model, _, _ = trained
    train, test = trajectories(ds2, "train", STEPS), trajectories(ds2, "test", STEPS)
    k0, _ = fit(train, tiny(k=0), device="cpu")
    assert evaluate_error(k0, test).mean() > 1.5 * evaluate_error(model, test).mean()


def test_same_seed_same_model_other_seed_other_model(ds1):
    train = trajectories(ds1, "train", STEPS)
    a, ha = fit(train, tiny(epochs=3), device="cpu")
    b, hb = fit(train, tiny(epochs=3), device="cpu")
    c, _ = fit(train, tiny(epochs=3, seed=7), device="cpu")
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(p, q), name
    assert [h["train_error"] for h in ha] == [h["train_error"] for h in hb]
    assert not torch.equal(a.f[0].weight, c.f[0].weight)


@pytest.mark.parametrize("extra", [{}, {"validation_fraction": 0.25, "patience": 2, "lr": 0.03,
                                       "lr_schedule": {"kind": "step", "step_size": 2, "gamma": 1.0}}],
                         ids=["plain", "validation-patience"])
def test_resume_from_checkpoint_is_bit_identical(ds1, tmp_path, caplog, extra):
    """Also with a validation part and early stopping (the checkpoint holds the best weights, error and epoch):
    lr = 0.03 is too large, the validation error rises after epoch 2 and the run stops at epoch 4, after the
    interruption."""
    train, test = trajectories(ds1, "train", STEPS), trajectories(ds1, "test", STEPS)
    settings = tiny(**{"epochs": 6, "checkpoint_every": 2, "eval_every": 2,
                       "lr_schedule": {"kind": "step", "step_size": 2, "gamma": 0.5}, **extra})
    straight, h_straight = fit(train, settings, test=test, checkpoint=tmp_path / "a.pt", device="cpu")
    if extra:
        assert [row["epoch"] - row["best_epoch"] for row in h_straight[1:]] == [0, 1, 2]  # stopped at epoch 4

    with pytest.raises(Crash):
        fit(train, settings, test=test, checkpoint=tmp_path / "b.pt", device="cpu", on_epoch_end=crash_at(3))
    assert torch.load(tmp_path / "b.pt", weights_only=False)["epoch"] == 2
    with caplog.at_level(logging.INFO, logger="rno-factory.learning"):
        resumed, h_resumed = fit(train, settings, test=test, checkpoint=tmp_path / "b.pt", device="cpu")
    assert "resuming" in caplog.text and "epoch 2" in caplog.text
    for (name, p), q in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(p, q), name
    strip = lambda h: [{k: v for k, v in row.items() if k != "seconds"} for row in h]  # noqa: E731
    assert strip(h_resumed) == strip(h_straight)
    # a checkpoint of other settings is not resumed
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="rno-factory.learning"):
        fit(train, tiny(epochs=1, seed=3, checkpoint_every=1), checkpoint=tmp_path / "b.pt", device="cpu")
    assert "ignoring checkpoint" in caplog.text


def test_transfer_learning_starts_from_the_source_model(trained, ds1):
    source, _, _ = trained
    train = trajectories(ds1, "train", STEPS)
    target, _ = fit(train, tiny(epochs=1, lr=1e-9), init_from=source, device="cpu")
    for name in ("x_mean", "x_std", "stress_mean", "stress_std", "t_scale"):
        assert torch.equal(getattr(target, name), getattr(source, name)), name  # normalisation kept
    drift = max((p - q).abs().max().item() for p, q in zip(target.parameters(), source.parameters()))
    assert drift < 1e-5  # a tiny step away from the source, not a fresh initialisation
    with pytest.raises(ValueError, match="same architecture"):
        fit(train, tiny(k=2, epochs=1), init_from=source, device="cpu")


def test_artifacts_evaluation_and_table(trained, ds2, tmp_path):
    model, history, _ = trained
    settings = tiny()
    out = artifacts.model_dir(tmp_path, "composite1d", "N2", "evp", 1)
    artifacts.save(model, out, settings=settings.to_dict(), history=history,
                   data={"producer": "composite1d", "case": "N2"})
    assert sorted(p.name for p in out.iterdir()) == sorted(artifacts.FILES["rno"])
    config = json.loads((out / "config.json").read_text())
    assert config["settings"]["k"] == 1 and config["units"]["stress"] == "MPa"
    assert len(json.loads((out / "history.json").read_text())) == 40
    again = load(out)
    x, _, time = trajectories(ds2, "test", 100).tensors()
    assert torch.equal(again(x, time), model(x, time))

    rows = error_rows(again, ds2, train_steps=STEPS, test_steps=[100, 25, 50])
    assert list(rows.columns) == COLUMNS and list(rows["test_steps"]) == [25, 50, 100]
    assert rows["error"].between(0, 1).all()
    at_train = rows.loc[rows["test_steps"] == STEPS, "error"].item()
    assert at_train == pytest.approx(evaluate_error(model, trajectories(ds2, "test", STEPS)).mean())
    other = rows.assign(case="N1", k=0, error=rows["error"] * 2)
    paths = [write_table(rows, tmp_path / "a.csv"), write_table(other, tmp_path / "b.csv")]
    one = concat_tables(paths, tmp_path / "all1.csv")
    concat_tables(paths[::-1], tmp_path / "all2.csv")
    assert (tmp_path / "all1.csv").read_bytes() == (tmp_path / "all2.csv").read_bytes()
    assert list(one["case"]) == ["N1"] * 3 + ["N2"] * 3
    assert np.allclose(read_table(tmp_path / "all1.csv")["error"], one["error"], rtol=1e-6)
    with pytest.raises(ValueError, match="duplicate"):
        concat_tables([paths[0], paths[0]], tmp_path / "dup.csv")


def test_affine_fit_recovers_a_change_of_variables():
    rng = np.random.default_rng(0)
    xi = rng.normal(size=(5, 40))
    a, b, r2 = affine_fit(xi, 0.5 * xi - 1.5)
    assert (a, b) == pytest.approx((0.5, -1.5)) and r2 == pytest.approx(1.0)
    *_, r2_noisy = affine_fit(xi, 0.5 * xi + 0.5 * rng.normal(size=xi.shape))
    assert 0.3 < r2_noisy < 0.7  # var(signal) / var(total) = 0.25 / 0.5


def test_monotone_fit_recovers_a_nonlinear_change_of_variables():
    rng = np.random.default_rng(0)
    xi = rng.normal(size=(5, 40))
    for true in (np.tanh(2 * xi), -np.exp(xi)):  # increasing and decreasing, both invertible (eq. 5)
        fitted, r2 = monotone_fit(xi, true)
        assert fitted.shape == xi.shape and r2 == pytest.approx(1.0)
        np.testing.assert_allclose(fitted, true, atol=1e-12)
        assert affine_fit(xi, true)[2] < 0.99  # the affine map does not see it
    _, r2_noise = monotone_fit(xi, rng.normal(size=xi.shape))  # no relation: little to explain
    assert r2_noise < 0.3


def test_internal_variable_study_of_a_trained_model(ds1, tmp_path):
    train = trajectories(ds1, "train", STEPS)
    model, _ = fit(train, tiny(epochs=60), device="cpu")
    study = internal_variable_study(model, ds1, STEPS, law=composite1d)
    n_test = int((ds1["split"] == "test").sum())
    assert study.xi.shape == study.eps_p.shape == study.eta.shape == (n_test, STEPS + 1)
    # the true internal variable is the phase average of the producer's eps_p; stress = Ebar (eps_bar - <eps_p>)
    Ebar = 1.0 / np.mean(1.0 / ds1["E"].values)
    test = trajectories(ds1, "test", STEPS)
    np.testing.assert_allclose(Ebar * (study.eps_bar - study.eps_p), test.stress[..., 0], rtol=1e-9, atol=1e-9)
    # after a short training the learned xi already tracks <eps_p> up to an affine map
    assert study.r2 > 0.8 and study.r2_monotone >= study.r2 - 1e-9, study.summary()
    assert study.f_error < 0.5, study.summary()
    with pytest.raises(ValueError, match="k = 1"):
        internal_variable_study(fit(train, tiny(k=0, epochs=1), device="cpu")[0], ds1, STEPS, law=composite1d)


@pytest.mark.slow  # over a minute on 2 cores; the default suite stays under ~15 min (make test ARGS="-m slow")
def test_figures_are_written_and_deterministic(trained, ds1, ds2, tmp_path):
    model, _, _ = trained
    rows = []
    for case, n in (("N1", 1), ("N2", 2)):
        for k, err in ((0, 0.3), (1, 0.02 * n), (2, 0.019 * n)):
            for steps in (25, 50, 100):
                for variant in ("evp", "ve"):
                    rows.append({"producer": "composite1d", "case": case, "variant": variant, "target": "stress",
                                 "k": k, "train_size": 0, "init_from": "", "train_steps": STEPS, "test_steps": steps,
                                 "error": err * (1 if variant == "evp" else steps / STEPS + STEPS / steps)})
    errors = pd.DataFrame(rows, columns=COLUMNS)
    common = dict(ds_paths=ds2, model_paths=model, ds_internal=ds2, model_internal=model, errors=errors,
                  law=composite1d, spec={"n_phases": {"N1": 1, "N2": 2}, "train_steps": STEPS, "n_paths": 3})
    a = fig01(**common, stem=tmp_path / "a" / "fig01")
    b = fig01(**common, stem=tmp_path / "b" / "fig01")
    assert [p.suffix for p in a] == [".png", ".pdf"]
    for p, q in zip(a, b):
        assert p.stat().st_size > 10_000 and p.read_bytes() == q.read_bytes()
    spec10 = {"producer": "composite1d", "case": "N2", "k": 1, "train_steps": STEPS}
    c = fig10(errors=errors, spec=spec10, stem=tmp_path / "fig10a")
    assert all(p.exists() for p in c)
    with pytest.raises(ValueError, match="no rows"):
        fig10(errors=errors, spec={**spec10, "case": "N9"}, stem=tmp_path / "x")
