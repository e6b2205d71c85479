"""Validation of fullfield.laminate, the elasto-viscoplastic laminate of paper Section 4 (eqs. 17-24)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.optimize import brentq

from dataset.contract import failures, validate
from dataset.sampler import sample_paths, uniform_time
from dataset.shards import solve_shard
from fullfield import laminate as lam
from pipeline.registry import load
from pipeline.config import make_case

LAM, MU = 24000.0, 25000.0
M3 = dict(sigma0=[50.0, 500.0], m=[0.02, 0.2])  # Table 1, the high-contrast case
M4 = dict(sigma0=[250.0, 500.0], m=[0.4, 0.2])


def paths(n, case, key=0, **loading):
    """(inputs (S, n_time, 2, 2), time) from the paper's sampler with the case's loading."""
    cfg = {**case.loading, **loading}
    p = sample_paths(n, 2, case.rng("test-paths", key), F_max=cfg["F_max"], T=cfg["T"], M=cfg["M"],
                     n_steps=cfg["n_steps"])
    return p.values, p.time


def vec(x):
    """(..., 2, 2) -> (..., 3) in (11, 22, 12) order."""
    return np.stack([x[..., 0, 0], x[..., 1, 1], x[..., 0, 1]], -1)


def plastic(ds):
    """eps_p (S, n_time, 2, 3) in (11, 22, 12) order and q (S, n_time, 2) from a dataset."""
    return np.stack([ds["eps_p11"].values, ds["eps_p22"].values, ds["eps_p12"].values], -1), ds["q"].values


def hooke3(e, lam_, mu_):
    """3D isotropic Hooke on (..., 4) strains (11, 22, 33, 12) -> stresses (11, 22, 33, 12)."""
    tr = e[..., 0] + e[..., 1] + e[..., 2]
    out = 2.0 * mu_ * e
    out[..., :3] += lam_ * tr[..., None]
    return out


def p4(p):
    """(..., 3) plastic strain (11, 22, 12) -> (..., 4) (11, 22, 33, 12), p33 = -(p11 + p22)."""
    return np.stack([p[..., 0], p[..., 1], -p[..., 0] - p[..., 1], p[..., 2]], -1)


def effective(sig):
    """sbar = sqrt(3/2) |dev sigma| of (..., 4) stresses (11, 22, 33, 12), and dev sigma (..., 4)."""
    s = sig.copy()
    s[..., :3] -= sig[..., :3].mean(-1, keepdims=True)
    norm2 = (s[..., :3] ** 2).sum(-1) + 2.0 * s[..., 3] ** 2
    return np.sqrt(1.5 * norm2), s


def H_of(q, sigma0, hardening, h):
    return np.ones_like(q) if hardening == "none" else 1.0 - np.exp(-h * q / sigma0)


# 1. closed forms: eq. (24) is what the elimination gives with compatible eps_33 and <sigma_33> = 0
def test_eq24_and_elimination():
    y = np.random.default_rng(0).normal(size=(5, 9)) * 1e-2  # (eps_bar11, 22, 12, p+11, 22, 12, p-11, 22, 12)
    jump = lambda p, i: p[:, 3 + i] - p[:, 6 + i]  # noqa: E731
    mean = lam.elastic_maps(lam.material(make_case("laminate")))
    np.testing.assert_allclose(y @ mean["jump"].T, np.stack([MU / (LAM + 2 * MU) * jump(y, 0), jump(y, 2)], -1),
                               rtol=1e-10, atol=1e-14)
    layer = lam.elastic_maps(lam.material(make_case("laminate", plane_stress="layer")))
    a1 = 0.5 * (jump(y, 0) + LAM / (2 * (LAM + MU)) * jump(y, 1))  # sigma_33 = 0 in each layer instead
    np.testing.assert_allclose(y @ layer["jump"].T, np.stack([a1, jump(y, 2)], -1), rtol=1e-10, atol=1e-14)
    for maps in (mean, layer):  # X = -2 dW/dP: the driving forces are conjugate to the plastic strains
        np.testing.assert_allclose(maps["X"], -2.0 * maps["energy"][3:], atol=1e-9 * np.abs(maps["X"]).max())
        assert np.allclose(maps["A"], maps["A"].T) and np.linalg.eigvalsh(maps["A"]).min() > -1e-6


# 2. homogeneous laminate = one plane-stress J2 layer, here integrated by an independent scalar return map
def single_layer(eps, time, sigma0, m, q0_dot, hardening="none", h=0.0):
    """Backward-Euler plane-stress J2 (sigma_33 = 0) for one path eps (n_time, 3) in (11, 22, 12) order.

    sigma = C_ps (eps - p), dp = gamma P sigma with P the deviator map under sigma_33 = 0 and gamma = 3/2 dq / Y;
    for given dq the stress is linear, and brentq finds dq with sbar(sigma) = Y(dq) = sigma0 (H + (dq/dt/q0)^m).
    """
    ls = 2 * LAM * MU / (LAM + 2 * MU)
    C = np.array([[ls + 2 * MU, ls, 0.0], [ls, ls + 2 * MU, 0.0], [0.0, 0.0, 2 * MU]])
    P = np.array([[2.0, -1.0, 0.0], [-1.0, 2.0, 0.0], [0.0, 0.0, 3.0]]) / 3.0
    p, q = np.zeros(3), 0.0
    out_s, out_p, out_q = [np.zeros(3)], [p], [q]

    def sbar(sig):
        s = P @ sig
        return np.sqrt(1.5 * (s[0] ** 2 + s[1] ** 2 + (s[0] + s[1]) ** 2 + 2 * s[2] ** 2))

    for n in range(1, len(time)):
        dt = time[n] - time[n - 1]
        Y = lambda dq: sigma0 * (H_of(np.array(q + dq), sigma0, hardening, h) + (dq / (dt * q0_dot)) ** m)  # noqa
        trial = C @ (eps[n] - p)
        stress_of = lambda dq: np.linalg.solve(np.eye(3) + 1.5 * dq / Y(dq) * C @ P, trial)  # noqa: E731
        f = lambda x: np.log(sbar(stress_of(np.exp(x)))) - np.log(Y(np.exp(x)))  # noqa: E731
        if sbar(trial) > 0 and f(np.log(1e-30)) > 0:
            dq = np.exp(brentq(f, np.log(1e-30), np.log(10.0), xtol=1e-14, rtol=1e-14))
            sig = stress_of(dq)
            p = p + 1.5 * dq / Y(dq) * (P @ sig)
            q = q + dq
        else:
            sig = trial
        out_s.append(sig), out_p.append(p), out_q.append(q)
    return np.array(out_s), np.array(out_p), np.array(out_q)


@pytest.mark.parametrize("plane_stress", ["mean", "layer"])
@pytest.mark.parametrize("hardening, m", [("none", 0.1), ("exponential", 0.2)])
def test_homogeneous_equals_single_layer(plane_stress, hardening, m):
    case = make_case("laminate", sigma0=300.0, m=m, hardening=hardening, h=2000.0, plane_stress=plane_stress, seed=1,
                         loading={"n_steps": 300})
    inputs, time = paths(3, case)
    ds = lam.solve(inputs, time, case)
    eps_p, q = plastic(ds)
    assert q.max() > 0.05  # well into plastic flow
    np.testing.assert_allclose(eps_p[:, :, 0], eps_p[:, :, 1], rtol=0, atol=1e-14)  # identical layers: no jump
    np.testing.assert_allclose(q[:, :, 0], q[:, :, 1], rtol=1e-12, atol=0)
    for s in range(3):
        sig, p, qq = single_layer(vec(inputs[s]), time, 300.0, m, 1.0, hardening, 2000.0)
        np.testing.assert_allclose(vec(ds["stress"].values[s]), sig, rtol=0, atol=1e-7 * np.abs(sig).max())
        np.testing.assert_allclose(eps_p[s, :, 0], p, rtol=0, atol=1e-9 * np.abs(p).max())
        np.testing.assert_allclose(q[s, :, 0], qq, rtol=1e-8, atol=1e-12)


# 3. equal layers (same material in both) give zero jump, for a soft and strongly rate-sensitive material too
@pytest.mark.parametrize("plane_stress", ["mean", "layer"])
def test_equal_layers_zero_jump(plane_stress):
    case = make_case("laminate", sigma0=50.0, m=0.02, plane_stress=plane_stress, loading={"n_steps": 200})
    inputs, time = paths(4, case)
    ds = lam.solve(inputs, time, case)
    eps_p, _ = plastic(ds)
    maps = lam.elastic_maps(lam.material(case))
    y = np.concatenate([vec(inputs), eps_p.reshape(*eps_p.shape[:2], 6)], -1)
    assert np.abs(y @ maps["jump"].T).max() < 1e-14
    strain, stress = lam.layer_fields(vec(inputs), eps_p, lam.material(case))
    np.testing.assert_allclose(strain[..., 0, :], strain[..., 1, :], rtol=0, atol=1e-14)
    assert np.abs(stress[..., 2]).max() < 1e-9  # sigma_33 = 0 in both layers


# 4. elastic limit: plane-stress Hooke's law
@pytest.mark.parametrize("plane_stress", ["mean", "layer"])
def test_elastic_limit(plane_stress):
    case = make_case("laminate", sigma0=[1e12, 2e12], m=[0.1, 0.3], plane_stress=plane_stress, loading={"n_steps": 100})
    inputs, time = paths(5, case)
    ds = lam.solve(inputs, time, case)
    e = vec(inputs)
    nu = LAM / (2 * (LAM + MU))
    E = MU * (3 * LAM + 2 * MU) / (LAM + MU)
    hooke = np.stack([E / (1 - nu**2) * (e[..., 0] + nu * e[..., 1]), E / (1 - nu**2) * (nu * e[..., 0] + e[..., 1]),
                      2 * MU * e[..., 2]], -1)
    np.testing.assert_allclose(vec(ds["stress"].values), hooke, rtol=0, atol=1e-10 * np.abs(hooke).max())
    assert all(np.abs(ds[v].values).max() == 0.0 for v in ("eps_p11", "eps_p12", "eps_p22", "q"))


# 5. time-step refinement: the same path on 1000, 2000, 4000 steps over (0, 200] s; backward Euler is first order.
# To keep the test short only the first 50 s (250, 500, 1000 steps of 0.2, 0.1, 0.05 s) are integrated.
def test_time_step_refinement():
    case = make_case("laminate", **M4, seed=3)
    out = []
    for n_steps in (1000, 2000, 4000):
        inputs, time = paths(2, case, key=5, n_steps=n_steps)  # the knots do not depend on n_steps
        keep = n_steps // 4 + 1
        ds = lam.solve(inputs[:, :keep], time[:keep], case)
        out.append(vec(ds["stress"].values[:, ::n_steps // 1000]))
        assert ds["q"].values.max() > 0.02  # plastic flow within the first 50 s
    scale = np.abs(out[-1]).max()
    e1, e2 = np.abs(out[0] - out[1]), np.abs(out[1] - out[2])
    assert 1e-5 < e1.max() / scale < 5e-2 and e1.max() / e2.max() > 1.8, (e1.max() / scale, e2.max() / scale)
    rms = np.sqrt((e1 ** 2).mean() / (e2 ** 2).mean())
    assert rms > 1.7, rms


# 6. interface conditions (eq. 23), plane stress, incompressibility and the discrete flow rule at every step
@pytest.fixture(scope="module", params=["mean", "layer"])
def high_contrast(request):
    case = make_case("laminate", "M3-EH", **M3, hardening="exponential", h=1000.0, plane_stress=request.param, seed=2,
                         loading={"n_steps": 400})
    inputs, time = paths(8, case)
    return case, inputs, time, lam.solve(inputs, time, case)


def test_interface_conditions_every_step(high_contrast):
    case, inputs, time, ds = high_contrast
    mat = lam.material(case)
    eps_bar = vec(inputs)
    eps_p, q = plastic(ds)
    assert np.abs(eps_p[..., 0, 2] - eps_p[..., 1, 2]).max() > 1e-3  # the layers do differ
    strain, stress = lam.layer_fields(eps_bar, eps_p, mat)
    scale = np.abs(stress).max()
    jump = strain[..., 0, :] - strain[..., 1, :]
    # eps_+ - eps_- = a (x) e1 + e1 (x) a: only 11 and 12 jump in-plane (eps_13 = eps_23 = 0 in both layers)
    assert np.abs(jump[..., 1]).max() < 1e-14
    if case.config["plane_stress"] == "mean":
        assert np.abs(jump[..., 2]).max() < 1e-14  # eps_33 is compatible too
        np.testing.assert_allclose(jump[..., 0], 2 * MU / (LAM + 2 * MU) * (eps_p[..., 0, 0] - eps_p[..., 1, 0]),
                                   atol=1e-14)  # eq. (24): a_1 = mu / (lambda + 2 mu) [p_11]
    np.testing.assert_allclose(jump[..., 3], eps_p[..., 0, 2] - eps_p[..., 1, 2], atol=1e-14)  # a_2 = [p_12]
    # sigma_+ e1 = sigma_- e1
    np.testing.assert_allclose(stress[..., 0, 0], stress[..., 1, 0], atol=1e-10 * scale)
    np.testing.assert_allclose(stress[..., 0, 3], stress[..., 1, 3], atol=1e-10 * scale)
    # averages: in-plane strain is the prescribed one; stress is the dataset's
    np.testing.assert_allclose(strain[..., [0, 1, 3]].mean(-2), eps_bar, atol=1e-15)
    np.testing.assert_allclose(stress[..., [0, 1, 3]].mean(-2), vec(ds["stress"].values), atol=1e-10 * scale)
    # plane stress: sigma_33 = 0 on average ("mean") or in each layer ("layer")
    s33 = stress[..., 2]
    assert np.abs(s33.mean(-1)).max() < 1e-10 * scale
    if case.config["plane_stress"] == "layer":
        assert np.abs(s33).max() < 1e-10 * scale
    else:
        assert np.abs(s33).max() > 1e-3 * scale  # the layers' sigma_33 are opposite, not zero
    # independently: Hooke's law on the layer strains, with p_33 = -(p_11 + p_22) (plastic incompressibility)
    np.testing.assert_allclose(hooke3(strain - p4(eps_p), LAM, MU), stress, atol=1e-9 * scale)


def test_flow_rule_every_step(high_contrast):
    """The stored history satisfies eqs. (18-19) discretised by backward Euler, layer by layer and step by step."""
    case, inputs, time, ds = high_contrast
    mat = lam.material(case)
    eps_p, q = plastic(ds)
    _, stress = lam.layer_fields(vec(inputs), eps_p, mat)
    sbar, s = effective(stress[:, 1:])
    dp = p4(np.diff(eps_p, axis=1))
    dq = np.diff(q, axis=1)
    dt = np.diff(time)[None, :, None]
    c = dt * mat["q0_dot"]
    assert np.abs(dp[..., :3].sum(-1)).max() == 0.0  # trace-free plastic increments
    np.testing.assert_allclose(dp, 1.5 * (dq / np.maximum(sbar, 1e-300))[..., None] * s, rtol=0,
                               atol=1e-9 * np.abs(dp).max())
    flowing = dq > 0
    assert flowing[..., 0].mean() > 0.5 and flowing[..., 1].any() and not flowing.all()
    Y = mat["sigma0"] * (H_of(q[:, 1:], mat["sigma0"], "exponential", mat["h"]) + (dq / c) ** mat["m"])
    # dq is recovered as a difference of the stored q, so it carries a rounding error of ~1e-16 q: compare strictly
    # where dq is not tiny, loosely elsewhere
    clear = flowing & (dq > 1e-9)
    np.testing.assert_allclose(sbar[clear], Y[clear], rtol=1e-8)
    np.testing.assert_allclose(sbar[flowing], Y[flowing], rtol=1e-3)
    # no flow: the flow that the stress would drive is negligible (flows below DQ_MIN = 1e-18 are dropped). With
    # m = 0.02 a flow of 1e-18 per step already needs 44% of sigma0 of overstress, so compare flows, not stresses.
    over = np.maximum(sbar / mat["sigma0"] - H_of(q[:, :-1], mat["sigma0"], "exponential", mat["h"]), 0.0)
    implied = c * over ** (1.0 / mat["m"])
    assert implied[~flowing].max() < 1e-16


# 7. rate dependence: monotone constrained stretch eps_11 = r t; steady flow has sbar = sigma0 (1 + (qdot/q0)^m)
def test_rate_dependence_monotone():
    sigma0, m = 200.0, 0.2
    case = make_case("laminate", sigma0=sigma0, m=m)
    sbar_end = []
    for r in (1e-3, 1e-2, 1e-1):
        time = uniform_time(0.25 / r, 500)  # to eps_11 = 0.25, about 40 yield strains
        inputs = np.zeros((1, time.size, 2, 2))
        inputs[0, :, 0, 0] = r * time
        ds = lam.solve(inputs, time, case)
        sig = ds["stress"].values[0, -1]
        sbar = np.sqrt(sig[0, 0] ** 2 + sig[1, 1] ** 2 - sig[0, 0] * sig[1, 1] + 3 * sig[0, 1] ** 2)
        # steady state: elastic strain constant, so dp_11/dt = r, dp_22/dt = 0 (eps_22 = 0), qdot = 2 r / sqrt(3)
        predicted = sigma0 * (1 + (2 * r / np.sqrt(3)) ** m)
        assert abs(sbar / predicted - 1) < 1e-4, (r, sbar, predicted)
        qdot = np.diff(ds["q"].values[0, -2:, 0])[0] / (time[1] - time[0])
        assert abs(qdot / (2 * r / np.sqrt(3)) - 1) < 1e-4
        sbar_end.append(sbar)
    assert sbar_end[0] < sbar_end[1] < sbar_end[2]


# 8. determinism, batch independence
def test_deterministic_and_batch_independent():
    case = make_case("laminate", "det", **M3, seed=2, loading={"n_steps": 150})
    inputs, time = paths(5, case)
    a, b = lam.solve(inputs, time, case), lam.solve(inputs, time, case)
    for var in ("stress", "eps_p11", "eps_p12", "eps_p22", "q"):
        np.testing.assert_array_equal(a[var].values, b[var].values)
    part = lam.solve(inputs[2:3], time, case)
    np.testing.assert_allclose(part["stress"].values[0], a["stress"].values[2], rtol=0,
                               atol=1e-8 * np.abs(a["stress"].values).max())


# 9. contract, registry, shard, failures
def test_contract_shapes_units():
    case = make_case("laminate", "MH-EH", hardening="exponential", seed=5, loading={"n_steps": 120})
    inputs, time = paths(4, case)
    ds = validate(lam.solve(inputs, time, case), require_split=False)
    assert ds["stress"].shape == ds["strain"].shape == (4, 121, 2, 2)
    np.testing.assert_array_equal(ds["strain"].values, inputs)
    for v in ("eps_p11", "eps_p12", "eps_p22", "q"):
        assert ds[v].dims == ("sample", "time", "layer") and ds[v].attrs["units"] == "1"
    units = {"lambda": "MPa", "mu": "MPa", "sigma0": "MPa", "m": "1", "q0_dot": "1/s", "h": "MPa", "hardening": "1"}
    assert {k: ds[k].attrs["units"] for k in units} == units
    assert all(ds[k].dims == ("layer",) for k in ("lambda", "mu", "sigma0", "m", "q0_dot"))
    assert int(ds["hardening"]) == 1 and float(ds["h"]) == 1000.0
    assert ds.attrs["producer"] == "laminate" and ds.attrs["input"] == "strain" and failures(ds) == []
    assert json.loads(ds.attrs["case_config"])["hardening"] == "exponential"
    with pytest.raises(ValueError):
        lam.solve(inputs, time[:-1], case)
    with pytest.raises(ValueError, match="plane_stress"):
        lam.material(make_case("laminate", plane_stress="strain"))
    # through the registry and a shard
    module = load("laminate")
    assert module is lam and (module.NAME, module.INPUT, module.DIM) == ("laminate", "strain", 2)
    shard = validate(solve_shard(lam, case, 1, 3), require_split=False)
    np.testing.assert_array_equal(shard["sample"].values, [3, 4, 5])


def test_failures_are_listed_never_nan():
    case = make_case("laminate", **M3, seed=6, loading={"n_steps": 100})
    inputs, time = paths(4, case)
    inputs[2, 50, 0, 1] = inputs[2, 50, 1, 0] = np.nan
    ds = validate(lam.solve(inputs, time, case), require_split=False)
    np.testing.assert_array_equal(ds["sample"].values, [0, 1, 3])
    assert [f["sample"] for f in failures(ds)] == [2] and "non-finite" in failures(ds)[0]["reason"]
    # a Newton budget of one iteration cannot converge once the layers flow: listed, not NaN; sample 0 stays elastic
    inputs = inputs[[0, 1, 3]]
    inputs[0] *= 1e-4
    ds = validate(lam.solve(inputs, time, make_case("laminate", **M3, seed=6, max_iter=1)), require_split=False)
    np.testing.assert_array_equal(ds["sample"].values, [0])
    assert [f["sample"] for f in failures(ds)] == [1, 2]
    assert all("did not converge" in f["reason"] for f in failures(ds))
    assert all(np.isfinite(ds[v].values).all() for v in ("stress", "eps_p11", "q"))


def test_newton_jacobian_matches_finite_differences():
    mat = lam.material(make_case("laminate", **M3, hardening="exponential"))
    ret = lam._Return(mat, 0.2, 1e-10, 60)
    rng = np.random.default_rng(1)
    Xtr = rng.normal(size=(6, 6)) * 300.0
    qn = rng.uniform(0, 0.1, size=(6, 2))
    u = np.log(rng.uniform(1e-7, 1e-4, size=(6, 2)))
    active = np.ones((6, 2), bool)
    rho, J, _ = ret.residual(u, active, Xtr, qn)
    h = 1e-6
    for k in range(2):
        du = np.zeros(2)
        du[k] = h
        fd = (ret.residual(u + du, active, Xtr, qn)[0] - ret.residual(u - du, active, Xtr, qn)[0]) / (2 * h)
        np.testing.assert_allclose(J[:, :, k], fd, rtol=1e-5, atol=1e-8)


def test_substeps_equal_a_finer_grid_on_a_ramp():
    """substeps = k subdivides each interval with the strain linear in between: on a linear path that is exactly
    the k times finer grid."""
    case = make_case("laminate", **M4)
    time = uniform_time(20.0, 300)
    inputs = np.zeros((2, time.size, 2, 2))
    inputs[0, :, 0, 0] = 5e-3 * time
    inputs[1, :, 0, 1] = inputs[1, :, 1, 0] = 4e-3 * time
    inputs[1, :, 1, 1] = -2e-3 * time
    fine = lam.solve(inputs, time, case)
    coarse = lam.solve(inputs[:, ::3], time[::3], make_case("laminate", **M4, substeps=3))
    np.testing.assert_allclose(coarse["stress"].values, fine["stress"].values[:, ::3], rtol=0,
                               atol=1e-9 * np.abs(fine["stress"].values).max())
    np.testing.assert_allclose(coarse["q"].values, fine["q"].values[:, ::3], rtol=1e-9, atol=1e-15)
    assert fine["q"].values.max() > 0.05
