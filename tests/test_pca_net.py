"""PCA-Net (learning.pca_net, the paper's ref. [25]): the PCA round trip, training beats the mean, and its error is
the RNO's eq. (16)."""
import numpy as np
import pytest
import torch
import xarray as xr

from learning import pca_net
from learning.data import Trajectories, component_weights, trajectories
from learning.rno import RNO
from learning.train import evaluate_error

torch.set_num_threads(1)


def smooth_paths(S, n_time, C, seed, T=10.0):
    """F-like histories (S, n_time, C): 1 on the diagonal components plus random sums of sines vanishing at t = 0."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, T, n_time)
    a = rng.normal(size=(S, 4, C)) * 0.02
    k = np.arange(1, 5)
    x = np.einsum("skc,tk->stc", a, np.sin(np.pi * np.outer(t, k) / (2 * T)))
    diag = np.array([1.0 if i == j else 0.0 for i in range(3) for j in range(i, 3)])[:C]
    return t, x + diag


def sls_stress(t, x, E_inf=1000.0, E_1=3000.0, tau=2.0):
    """Standard linear solid per component (MPa): sigma = E_inf e + q, dq/dt = E_1 de/dt - q/tau (backward Euler),
    e = x - x(0): a history-dependent, causal map for the synthetic set."""
    e = x - x[:, :1]
    q = np.zeros_like(e)
    for n in range(1, t.size):
        dt = t[n] - t[n - 1]
        q[:, n] = (q[:, n - 1] + E_1 * (e[:, n] - e[:, n - 1])) / (1 + dt / tau)
    return E_inf * e + q


def synthetic(S, n_time=21, seed=0):
    t, x = smooth_paths(S, n_time, 6, seed)
    return Trajectories(x=x, stress=sls_stress(t, x), time=t, sample=np.arange(S), input_name="F", d=3)


def test_pca_round_trip_exact_with_full_modes():
    torch.manual_seed(0)
    h = torch.randn(30, 11, 3, dtype=torch.float64)
    new = torch.randn(5, 11, 3, dtype=torch.float64)
    for center in (False, True):
        W, mean = pca_basis_and_check(h, 11, center)
        assert W.shape == (3, 11, 11)
        coef = torch.einsum("stc,ctm->scm", new - mean.T, W)
        back = torch.einsum("scm,ctm->stc", coef, W) + mean.T
        assert torch.allclose(back, new, rtol=0, atol=1e-12)  # any history: the bases span R^(N+1)
    # fewer paths than times: the S modes (uncentred) reproduce the training histories exactly, not others
    few = h[:4]
    W, mean = pca_basis_and_check(few, 100, False)
    assert W.shape == (3, 11, 4)
    back = torch.einsum("scm,ctm->stc", torch.einsum("stc,ctm->scm", few, W), W)
    assert torch.allclose(back, few, rtol=0, atol=1e-12)
    out = torch.einsum("scm,ctm->stc", torch.einsum("stc,ctm->scm", new, W), W)
    assert (out - new).abs().max() > 1e-2
    # truncation loses information: 3 of 11 modes do not reproduce random histories
    W3, _ = pca_basis_and_check(h, 3, False)
    back3 = torch.einsum("scm,ctm->stc", torch.einsum("stc,ctm->scm", h, W3), W3)
    assert (back3 - h).abs().max() > 1e-2


def pca_basis_and_check(h, modes, center):
    W, mean = pca_net.pca_basis(h, modes, center)
    eye = torch.eye(W.shape[2], dtype=W.dtype)
    assert torch.allclose(W.transpose(1, 2) @ W, eye.expand(W.shape[0], -1, -1), atol=1e-12)  # orthonormal
    assert torch.all(W.gather(1, W.abs().argmax(1, keepdim=True)) > 0)  # deterministic signs
    if not center:
        assert torch.all(mean == 0)
    return W, mean


def test_network_round_trip_in_float32():
    train = synthetic(40)
    s = pca_net.PCASettings(modes_in=21, modes_out=21, hidden=(8,), epochs=1, stop_below=None)
    model = pca_net.build(train, s)
    y = torch.as_tensor(train.stress, dtype=torch.float32)
    back = model.decode(model.coefficients(y))
    assert torch.allclose(back, y, rtol=0, atol=1e-5 * float(y.abs().max()))


def test_trained_net_beats_the_mean_prediction():
    train, test = synthetic(64, seed=1), synthetic(16, seed=2)
    s = pca_net.PCASettings(modes_in=6, modes_out=6, hidden=(32, 32), epochs=300, batch_size=16, lr=1e-3,
                            lr_min=1e-5, seed=3, stop_below=None)
    model, history = pca_net.fit(train, s)
    mean = np.broadcast_to(train.stress.mean(0), test.stress.shape)
    err_mean = pca_net.path_errors(mean, test).mean()
    err_net = pca_net.evaluate(model, test).mean()
    assert len(history) == 300 and history[-1]["train_error"] < history[0]["train_error"]
    assert err_mean > 0.3  # the paths differ: the mean history is a poor prediction
    assert err_net < 0.5 * err_mean, (err_net, err_mean)
    # deterministic: the same settings give the same model
    again, _ = pca_net.fit(train, s)
    assert np.array_equal(pca_net.predict(model, test), pca_net.predict(again, test))


def test_stop_below_ends_training_early():
    train = synthetic(32, seed=4)
    s = pca_net.PCASettings(modes_in=6, modes_out=6, hidden=(32, 32), epochs=500, batch_size=8, lr=1e-3,
                            stop_below=0.5, seed=0)
    _, history = pca_net.fit(train, s)
    assert len(history) < 500 and history[-1]["train_error"] < 0.5
    assert all(r["train_error"] >= 0.5 for r in history[:-1])


def test_error_is_the_rnos_eq16():
    """path_errors is what learning.train.evaluate_error gives the RNO for the same predictions."""
    data = synthetic(5, n_time=13, seed=5)
    rno = RNO(6, 2, "evp", (16,))
    rno.init_weights(torch.Generator().manual_seed(0))
    rno = rno.double().eval()
    with torch.no_grad():
        approx = rno(torch.as_tensor(data.x), torch.as_tensor(data.time)).numpy()
    assert np.allclose(pca_net.path_errors(approx, data), evaluate_error(rno, data), rtol=1e-13, atol=0)
    # and it is eq. (16): the trapezoid in time, off-diagonal components counted twice
    w_t = np.zeros(13)
    dt = np.diff(data.time)
    w_t[:-1] += dt / 2
    w_t[1:] += dt / 2
    num = (((approx - data.stress) ** 2) * component_weights(3)).sum(-1) @ w_t
    den = ((data.stress ** 2) * component_weights(3)).sum(-1) @ w_t
    assert np.allclose(pca_net.path_errors(approx, data), np.sqrt(num / den), rtol=1e-12)


def test_time_grid_must_match():
    train = synthetic(8)
    model = pca_net.build(train, pca_net.PCASettings(modes_in=4, modes_out=4, hidden=(4,), epochs=1))
    with pytest.raises(ValueError, match="time grid"):
        pca_net.predict(model, synthetic(2, n_time=11))
    other = Trajectories(x=train.x, stress=train.stress, time=train.time * 2, sample=train.sample, input_name="F",
                         d=3)
    with pytest.raises(ValueError, match="time grid"):
        pca_net.predict(model, other)


def test_bad_settings_raise():
    for bad in ({"modes_in": 0}, {"hidden": []}, {"epochs": 0}, {"lr": 0.0}, {"lr_min": 1.0}):
        with pytest.raises(ValueError):
            pca_net.PCASettings(**bad)


def test_error_vs_size_on_a_store():
    t, x = smooth_paths(24, 21, 6, seed=6)
    stress = sls_stress(t, x)
    from learning.data import from_components
    ds = xr.Dataset({"F": (("sample", "time", "i", "j"), from_components(x, 3)),
                     "stress": (("sample", "time", "i", "j"), from_components(stress, 3)),
                     "split": ("sample", np.array(["train"] * 20 + ["test"] * 4, dtype=object))},
                    coords={"sample": np.arange(24), "time": t, "i": np.arange(3), "j": np.arange(3)},
                    attrs={"input": "F", "producer": "toy", "case": "SLS"})
    s = pca_net.PCASettings(modes_in=4, modes_out=4, hidden=(16,), epochs=20, batch_size=8, lr=1e-3,
                            stop_below=None)
    df = pca_net.error_vs_size(ds, [20, 5], s)
    assert list(df.columns) == pca_net.COLUMNS
    assert df["train_size"].tolist() == [20, 5] and set(df["model"]) == {"pca_net"} and set(df["paths"]) == {"random"}
    test = trajectories(ds, "test")
    model, _ = pca_net.fit(trajectories(ds, "train", size=5), s)
    assert df["error"].iloc[1] == pytest.approx(pca_net.evaluate(model, test).mean(), rel=1e-12)
