"""The autoencoder study's machinery (learning/autoencoder.py): eq. (25), autoencoders, the eq. (26) map."""
import numpy as np
import pytest
import torch
import xarray as xr

from dataset.case import Case
from dataset.contract import build_dataset
from learning import artifacts
from learning.autoencoder import (Autoencoder, MicroDecoder, decode_latent, fit_autoencoder,
                                  fit_latent_map, fit_micro_decoder, latent_trajectories, micro_data, micro_labels,
                                  reconstruct, reconstruction_error, rno_internal)
from learning.train import evaluate_error
from pipeline.studies import net_settings

torch.set_num_threads(1)


def curve_points(n=2000, seed=0):
    """Points on a 1D curve embedded in R^6 (nonlinear): a 1-dimensional manifold."""
    s = np.random.default_rng(seed).uniform(-1.0, 1.0, n)
    return np.stack([s, s ** 2, np.sin(2 * s), 0.5 * s, -s ** 3, np.cos(s)], axis=1)


def test_eq25_is_mean_relative_l2_and_skips_vanishing_points():
    truth = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]])
    approx = np.array([[3.0, 4.5], [9.0, 9.0], [1.0, 0.1]])
    assert reconstruction_error(truth, approx) == pytest.approx((0.5 / 5 + 0.1 / 1) / 2)
    with pytest.raises(ValueError):
        reconstruction_error(np.zeros((3, 2)), np.ones((3, 2)))


def test_autoencoder_finds_a_one_dimensional_manifold():
    x = curve_points()
    s = net_settings(None, "settings", hidden=[50], epochs=150, batch_size=250, lr=1e-2)
    ae1, hist = fit_autoencoder(x, 1, s)
    err1 = reconstruction_error(x, reconstruct(ae1, x))
    assert hist[-1]["train_error"] < 0.1 * hist[0]["train_error"]
    assert err1 < 0.05, err1
    # a linear projection onto one direction cannot do as well: PCA-1 is the best linear 1D code
    c = x - x.mean(0)
    u = np.linalg.svd(c, full_matrices=False)[2][0]
    pca = x.mean(0) + np.outer(c @ u, u)
    assert err1 < 0.5 * reconstruction_error(x, pca)


def test_autoencoder_is_deterministic_and_round_trips(tmp_path):
    x = curve_points(300)
    s = net_settings(None, "settings", hidden=[16], epochs=3, batch_size=100)
    a, history = fit_autoencoder(x, 2, s)
    b, _ = fit_autoencoder(x, 2, s)
    assert np.array_equal(reconstruct(a, x), reconstruct(b, x))
    out = artifacts.save(a, tmp_path / "ae-m2", settings=s.to_dict(), history=history,
                         data={"labels": list("abcdef")})
    assert sorted(p.name for p in out.iterdir()) == sorted(artifacts.FILES["autoencoder"])
    for path in (out, out / "model.pt"):  # the directory or its model.pt
        c = artifacts.load(path)
        assert isinstance(c, Autoencoder) and c.spec() == a.spec() and not c.training
        assert list(c.state_dict()) == list(a.state_dict())
        for name, t in a.state_dict().items():
            assert torch.equal(c.state_dict()[name], t), name
        assert np.array_equal(reconstruct(c, x), reconstruct(a, x))
    config = artifacts.read_json(out, "config.json")
    assert (config["kind"], config["data"]["labels"][0], config["settings"]) == ("autoencoder", "a", s.to_dict())
    assert artifacts.read_json(out / "model.pt", "history.json") == history
    assert torch.load(out / "model.pt", weights_only=True)["kind"] == "autoencoder"


def micro_dataset(n=24, n_time=41, seed=0):
    """A contract dataset with laminate-like micro-state: stress and six eps_p variables driven by one
    internal variable p(t) that relaxes towards the strain (dp/dt = (eps - p) / tau)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 20.0, n_time)
    amp = rng.uniform(-0.02, 0.02, (n, 1, 3))
    freq = rng.uniform(0.05, 0.2, (n, 1, 1))
    comps = amp * np.sin(freq * t[None, :, None])  # (n, T, 3): 11, 12, 22
    strain = np.stack([np.stack([comps[..., 0], comps[..., 1]], -1), np.stack([comps[..., 1], comps[..., 2]], -1)],
                      -2)
    p = np.zeros_like(comps)
    for i in range(1, n_time):  # test data only: the exact relaxation step
        p[:, i] = p[:, i - 1] + (1 - np.exp(-(t[i] - t[i - 1]) / 5.0)) * (comps[:, i] - p[:, i - 1])
    pt = np.stack([np.stack([p[..., 0], p[..., 1]], -1), np.stack([p[..., 1], p[..., 2]], -1)], -2)
    stress = 1000.0 * (strain - pt)
    dims = ("sample", "time", "layer")
    micro = {name: xr.DataArray(np.stack([p[..., j], 0.5 * p[..., j]], -1), dims=dims, attrs={"units": "1"})
             for name, j in (("eps_p11", 0), ("eps_p12", 1), ("eps_p22", 2))}
    case = Case("laminate", "toy", {"seed": seed})
    ds = build_dataset(case, t, strain, stress, input_name="strain",
                       params={"hardening": xr.DataArray(np.int8(0), attrs={"units": "1"})}, micro=micro)
    return ds.assign(split=("sample", np.array(["train"] * (n - 6) + ["test"] * 6)))


def test_micro_state_layout_and_hardening_flag():
    ds = micro_dataset(n=8)
    assert micro_labels(ds) == ["eps_p11+", "eps_p11-", "eps_p12+", "eps_p12-", "eps_p22+", "eps_p22-"]
    d = micro_data(ds, "train", 20)
    assert d.micro.shape == (2, 21, 6) and np.allclose(d.micro[..., 1], 0.5 * d.micro[..., 0])
    hard = ds.assign(hardening=xr.DataArray(np.int8(1), attrs={"units": "1"}),
                     q=ds["eps_p11"].rename("q"))
    assert micro_labels(hard)[-2:] == ["q+", "q-"]


def test_latent_map_eq26_and_micro_decoder_learn_the_toy_law():
    ds = micro_dataset()
    train, test = micro_data(ds, "train"), micro_data(ds, "test")
    ae, _ = fit_autoencoder(train.micro, 3, net_settings(None, "settings", hidden=[50], epochs=300, batch_size=200, lr=1e-2))
    xi = latent_trajectories(ae, train.micro)
    assert np.allclose(xi[:, 0], 0.0, atol=1e-6)  # xi^0 = 0: the RNO's initial state
    assert reconstruction_error(train.micro, decode_latent(ae, xi)) < 0.1
    untrained, _ = fit_latent_map(train.traj, xi, net_settings(None, "settings", hidden=[64, 64], epochs=1, lr=1e-9))
    model, hist = fit_latent_map(train.traj, xi, net_settings(None, "settings", hidden=[64, 64], epochs=60, batch_size=100, lr=3e-3))
    assert model.k == 3 and hist[-1]["train_error"] < 0.2 * hist[0]["train_error"]
    err = evaluate_error(model, test.traj).mean()
    assert err < 0.5 * evaluate_error(untrained, test.traj).mean() and err < 0.3, err
    # Figure 5's decoder: from the internal variables of this model back to the micro-state
    dec, _ = fit_micro_decoder(rno_internal(model, train.traj)[1], train.micro,
                               net_settings(None, "settings", hidden=[50], epochs=60, batch_size=100, lr=5e-3))
    rec = reconstruct(dec, rno_internal(model, test.traj)[1])
    assert rec.shape == test.micro.shape
    assert reconstruction_error(test.micro, rec) < 0.5


def test_every_network_kind_saves_and_loads_through_one_format(tmp_path):
    """The eq. (26) map (an RNO) and a micro decoder: one directory each, the right class back, same weights."""
    ds = micro_dataset(n=10, n_time=11)
    train = micro_data(ds, "train")
    net = net_settings(None, "settings", hidden=[8], epochs=2, batch_size=50)
    ae, _ = fit_autoencoder(train.micro, 2, net)
    latent_map, h_map = fit_latent_map(train.traj, latent_trajectories(ae, train.micro), net)
    decoder, h_dec = fit_micro_decoder(rno_internal(latent_map, train.traj)[1], train.micro, net)
    for model, history, cls, kind in ((latent_map, h_map, type(latent_map), "rno"),
                                      (decoder, h_dec, MicroDecoder, "micro_decoder")):
        out = artifacts.save(model, tmp_path / kind, settings=net.to_dict(), history=history, data={"case": "toy"})
        assert sorted(p.name for p in out.iterdir()) == sorted(artifacts.FILES[kind])
        again = artifacts.load(out / "model.pt")
        assert type(again) is cls and artifacts.read_json(out, "config.json")["kind"] == kind
        for name, t in model.state_dict().items():
            assert torch.equal(again.state_dict()[name], t), name
    with pytest.raises(TypeError, match="not a network"):
        artifacts.save(torch.nn.Linear(2, 2), tmp_path / "x", settings={}, history=[], data={})
