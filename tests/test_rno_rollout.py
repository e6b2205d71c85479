"""The rollout (xi recurrence alone with a written-out backward pass, then f on all steps) is eq. (3): it equals the
step-by-step form (RNO.step) and autograd through it, to round-off, for every variant, sub-stepping and grid."""
import warnings

import pytest
import torch

from learning.recurrence import xi_path
from learning.rno import MLP, RNO


def _model(n_comp=3, k=2, variant="evp", max_dt=0.0, hidden=(7, 5, 6), dtype=torch.float64, seed=0):
    model = RNO(n_comp, k, variant, hidden=hidden, hidden_g=(6, 4), max_dt=max_dt).to(dtype)
    model.init_weights(torch.Generator().manual_seed(seed))
    with torch.no_grad():  # non-trivial normalisation
        model.x_mean.uniform_(-0.1, 0.1), model.x_std.uniform_(0.5, 2.0)
        model.rate_mean.uniform_(-0.1, 0.1), model.rate_std.uniform_(0.5, 2.0)
        model.stress_mean.uniform_(-5, 5), model.stress_std.uniform_(1, 10)
        model.t_scale.fill_(7.0)
    return model


def _paths(B=4, N=9, n_comp=3, per_sample_time=False, dtype=torch.float64, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, N + 1, n_comp, generator=g, dtype=dtype).cumsum(1)
    dt = 0.2 + torch.rand(B if per_sample_time else 1, N, generator=g, dtype=dtype)  # non-uniform grids
    time = torch.cat([torch.zeros_like(dt[:, :1]), dt.cumsum(1)], dim=1)
    return x, (time if per_sample_time else time[0])


def _stepwise(model, x, time):
    """eq. (3) one RNO.step at a time (autograd through every step)."""
    xi = model.initial_state(x[:, 0])
    out, xis = [model.step(x[:, 0], xi, torch.zeros((), dtype=x.dtype))[0]], [xi]
    for n in range(1, x.shape[1]):
        dt = time[..., n] - time[..., n - 1]
        s, xi = model.step(x[:, n], xi, dt, x[:, n - 1])
        out.append(s)
        xis.append(xi)
    return torch.stack(out, 1), torch.stack(xis, 1)


@pytest.mark.parametrize("variant, k, max_dt, per_sample_time", [
    ("evp", 2, 0.0, False), ("evp", 1, 0.0, True), ("ve", 3, 0.0, False), ("evp", 2, 0.35, False),
    ("ve", 1, 0.25, True), ("evp", 0, 0.0, False)])
def test_rollout_equals_stepwise_and_its_gradients(variant, k, max_dt, per_sample_time):
    model = _model(k=k, variant=variant, max_dt=max_dt)
    x, time = _paths(per_sample_time=per_sample_time)
    target = torch.randn(x.shape[0], x.shape[1], 3, dtype=x.dtype, generator=torch.Generator().manual_seed(2))
    results = []
    for run in (model.rollout, lambda a, b: _stepwise(model, a, b)):
        model.zero_grad()
        stress, xi = run(x, time)
        (((stress - target) ** 2).sum() + (xi ** 3).sum()).backward()  # gradients reach xi both ways
        results.append((stress.detach(), xi.detach(), [p.grad.clone() for p in model.parameters()]))
    (s1, xi1, g1), (s2, xi2, g2) = results
    assert xi1.shape == (x.shape[0], x.shape[1], k)
    torch.testing.assert_close(s1, s2, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(xi1, xi2, rtol=1e-12, atol=1e-12)
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_step_in_blocks_equals_one_block():
    model = _model(k=2, variant="ve", max_dt=0.3)
    g = torch.Generator().manual_seed(3)
    x, x_prev, xi = (torch.randn(10, n, generator=g, dtype=torch.float64) for n in (3, 3, 2))
    dt = 0.1 + torch.rand(10, generator=g, dtype=torch.float64)
    whole = model.step(x, xi, dt, x_prev)
    model.block = 3
    for a, b in zip(model.step(x, xi, dt, x_prev), whole):
        torch.testing.assert_close(a, b, rtol=1e-14, atol=1e-14)


def test_xi_path_passes_gradcheck_in_inputs_and_weights():
    g = MLP(2 + 2, [5, 4], 2).double()
    u = torch.randn(3, 6, 2, dtype=torch.float64, requires_grad=True)
    c = 0.1 + torch.rand(3, 6, dtype=torch.float64)
    params = list(g.parameters())

    # d/du by gradcheck, d/d(weights) against central differences
    assert torch.autograd.gradcheck(lambda u: xi_path(g, u, c), (u,))
    for q in params:
        q.requires_grad_(True)
    out = xi_path(g, u, c)
    w = torch.randn_like(out)
    grads = torch.autograd.grad((out * w).sum(), params)
    eps = 1e-6
    for q, gq in zip(params, grads):
        idx = (0,) * q.dim()
        with torch.no_grad():
            q[idx] += eps
            plus = (xi_path(g, u, c) * w).sum()
            q[idx] -= 2 * eps
            minus = (xi_path(g, u, c) * w).sum()
            q[idx] += eps
        assert abs(float((plus - minus) / (2 * eps)) - float(gq[idx])) < 1e-7


def test_torchscript_export_runs_the_same_rollout():
    model = _model(k=2, variant="ve", max_dt=0.3)
    x, time = _paths()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(model)
    with torch.no_grad():
        for a, b in zip(model.rollout(x, time), scripted.rollout(x, time)):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_float32_rollout_matches_float64():
    model = _model(k=2)
    x, time = _paths(N=200)
    with torch.no_grad():
        s64 = model.rollout(x, time)[0]
        s32 = model.float().rollout(x.float(), time.float())[0]
    assert float((s32.double() - s64).abs().max() / s64.abs().max()) < 1e-5


def test_xi_path_rejects_a_network_that_is_not_a_selu_mlp():
    g = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    with pytest.raises(TypeError, match="SELU"):
        xi_path(g, torch.zeros(1, 2, 2), torch.ones(2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_rollout_on_cuda_matches_the_cpu():
    model = _model(k=2)
    x, time = _paths()
    ref = model.rollout(x, time)[0]
    model.zero_grad()
    ref.sum().backward()
    ref_grads = [p.grad.clone() for p in model.parameters()]
    gpu = model.to("cuda")
    gpu.zero_grad()
    out = gpu.rollout(x.cuda(), time.cuda())[0]
    out.sum().backward()
    torch.testing.assert_close(out.cpu(), ref.detach(), rtol=1e-10, atol=1e-10)
    for p, r in zip(gpu.parameters(), ref_grads):
        torch.testing.assert_close(p.grad.cpu(), r, rtol=1e-8, atol=1e-10)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fit_on_cuda_trains_and_returns_a_cpu_model():
    import numpy as np

    from learning.data import Trajectories
    from learning.train import fit
    from pipeline.studies import train_settings

    x, time = _paths(B=6, N=20, n_comp=1)
    data = Trajectories(x=x.numpy(), stress=(3 * x).numpy(), time=time.numpy(), sample=np.arange(6),
                        input_name="strain", d=1)
    settings = train_settings(k=1, hidden=[8], epochs=3, batch_size=3, eval_every=1, checkpoint_every=0,
                              validation_fraction=0.34)
    model, history = fit(data, settings, device="cuda")
    assert next(model.parameters()).device.type == "cpu"
    assert history[-1]["validation_error"] is not None and np.isfinite(history[-1]["train_error"])
