"""The one training loop (learning.train.train_loop), the error-table selector (learning.panels.select_errors) and
the figure functions' draw signature."""
import importlib
import inspect

import numpy as np
import pandas as pd
import pytest
import torch

from learning.autoencoder import Autoencoder, fit_autoencoder
from learning.panels import select_errors
from learning.rno import init_lecun
from learning.settings import NetSettings
from learning.train import train_loop
from pipeline.studies import train_settings, net_settings
from conftest import Crash, crash_at

torch.set_num_threads(1)


def points(n=400, seed=0):
    s = np.random.default_rng(seed).uniform(-1.0, 1.0, n)
    return torch.as_tensor(np.stack([s, s ** 2, np.sin(2 * s), 0.5 * s], axis=1), dtype=torch.float32)


def autoencoder_run(settings, checkpoint=None, on_epoch_end=None, fingerprint="ae"):
    """What fit_autoencoder does, through train_loop directly (with a checkpoint)."""
    x = points()
    model = Autoencoder(4, 1, settings.hidden)
    init_lecun(model, torch.Generator().manual_seed(settings.seed))
    model.fit_scaling(x)
    z = (x - model.mean) / model.scale

    def loss_of(idx):
        return ((model.decoder(model.encoder(z[idx])) - z[idx]) ** 2).mean()

    history = train_loop(model, x.shape[0], loss_of, settings, checkpoint=checkpoint, fingerprint=fingerprint,
                         on_epoch_end=on_epoch_end)
    return model, history


def same_weights(a, b):
    return list(a.state_dict()) == list(b.state_dict()) and all(
        torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_point_wise_networks_train_through_the_one_loop():
    s = net_settings(None, "settings", hidden=[8], epochs=4, batch_size=64, seed=2)
    direct, h_direct = autoencoder_run(s)
    fitted, h_fitted = fit_autoencoder(points().numpy(), 1, s)
    assert same_weights(direct, fitted) and not fitted.training
    strip = lambda h: [{k: v for k, v in row.items() if k != "seconds"} for row in h]  # noqa: E731
    assert strip(h_direct) == strip(h_fitted)
    assert [row["epoch"] for row in h_fitted] == [1, 2, 3, 4]
    # the cosine schedule of NetSettings: lr at the first epoch, lr_min reached after the last
    assert h_fitted[0]["lr"] == s.lr and h_fitted[-1]["lr"] > s.lr_min and h_fitted[0]["test_error"] is None


def test_the_loop_resumes_a_point_wise_network_bit_identically(tmp_path):
    """Checkpoints are the loop's, so every network gets them (TrainSettings-like checkpoint_every)."""
    class Every2(NetSettings):
        checkpoint_every = 2

    s = Every2(**net_settings(None, "settings", hidden=[8], epochs=5, batch_size=64).to_dict())
    straight, h_straight = autoencoder_run(s, checkpoint=tmp_path / "a.pt")

    with pytest.raises(Crash):
        autoencoder_run(s, checkpoint=tmp_path / "b.pt", on_epoch_end=crash_at(3))
    assert torch.load(tmp_path / "b.pt", weights_only=False)["epoch"] == 2
    resumed, h_resumed = autoencoder_run(s, checkpoint=tmp_path / "b.pt")
    assert same_weights(straight, resumed)
    assert [r["train_error"] for r in h_resumed] == [r["train_error"] for r in h_straight]
    other, _ = autoencoder_run(s, checkpoint=tmp_path / "b.pt", fingerprint="other data")  # not resumed
    assert same_weights(other, straight)


def test_settings_give_the_loop_what_it_reads():
    for s in (train_settings(), net_settings(None, "settings")):
        for name in ("epochs", "batch_size", "lr", "lr_schedule", "weight_decay", "clip_grad_norm", "seed",
                     "checkpoint_every", "eval_every", "patience"):
            assert hasattr(s, name), (type(s).__name__, name)
    assert net_settings(None, "settings", lr_min=0.0).lr_schedule == {"kind": "cosine", "lr_min": 0.0}
    assert set(net_settings(None, "settings").to_dict()) == {"hidden", "epochs", "batch_size", "lr", "lr_min", "seed"}


def table():
    rows = [{"producer": "p", "case": c, "variant": "evp", "target": t, "k": k, "train_size": n, "init_from": i,
             "train_steps": 20, "test_steps": 20, "error": 0.1}
            for c in ("A", "B") for t in ("stress", "pressure") for k in (0, 1) for n in (0, 5)
            for i in ("", "A")]
    return pd.DataFrame(rows)


def test_select_errors():
    e = table()
    r = select_errors(e, case="B", target="stress", k=[1], train_size=lambda n: n > 0, init_from="")
    assert len(r) == 1 and list(r.index) == list(e.index[(e.case == "B") & (e.target == "stress") & (e.k == 1)
                                                          & (e.train_size == 5) & (e.init_from == "")])
    assert select_errors(e, case=None).equals(e)
    # a missing value or column of init_from, train_size, target reads as a direct, whole-split stress model
    nan = e.assign(init_from=e["init_from"].replace("", np.nan))
    assert select_errors(nan, init_from="").equals(nan[e["init_from"] == ""])
    bare = e.drop(columns=["init_from", "train_size", "target"])
    assert select_errors(bare, init_from="", train_size=0, target="stress").equals(bare)
    assert select_errors(bare, target="pressure").empty
    with pytest.raises(KeyError, match="no column 'foo'"):
        select_errors(e, foo=1)


INPUTS = {"figures:fig01": {"law", "errors", "ds_paths", "model_paths", "ds_internal", "model_internal"},
          "figures:fig10": {"errors"}, "figures_laminate:fig03": {"errors", "ds_paths", "model_paths"},
          "figures_laminate:fig04": {"ae_errors", "dataset", "autoencoder", "latent_map"},
          "figures_laminate:fig05": {"dataset", "model", "decoder"},
          "figures_laminate:fig06": {"errors", "ae_errors", "ds_paths", "model_paths", "ds_ae", "autoencoder"},
          "figures_polycrystal:fig07": {"errors", "ds_paths", "model_paths", "histories"},
          "figures_polycrystal:fig08": {"errors", "ds_paths", "model_paths"},
          "figures_baselines:fig09": {"predictions", "errors"}}
#: inputs a config may leave out (pipeline.figures gives them only when configured): keyword-only, default None
OPTIONAL = {"figures_polycrystal:fig08": {"baseline_errors"}}


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_every_figure_has_the_draw_signature(name):
    module, function = name.split(":")
    params = inspect.signature(getattr(importlib.import_module(f"learning.{module}"), function)).parameters
    optional = OPTIONAL.get(name, set())
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
    assert all((p.default is None) if n in optional else (p.default is inspect.Parameter.empty)
               for n, p in params.items())
    assert set(params) == {"stem", "spec"} | INPUTS[name] | optional
