"""Validation of fullfield.composite1d, the 1D elasto-viscoplastic composite of paper Section 3 (eqs. 8-15)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.interpolate import PchipInterpolator

from dataset.contract import failures, validate
from dataset.sampler import sample_paths, uniform_time
from dataset.shards import solve_shard
from fullfield import composite1d as c1d
from pipeline.registry import load
from pipeline.config import make_case, producer_defaults


def paths(n, case, key=0, **loading):
    """(inputs (S, n_time, 1, 1), time) from the paper's sampler with the case's loading."""
    cfg = {**case.loading, **loading}
    p = sample_paths(n, 1, case.rng("test-paths", key), F_max=cfg["F_max"], T=cfg["T"], M=cfg["M"],
                     n_steps=cfg["n_steps"])
    return p.values, p.time


def rel_l2(a, b):
    """Per-sample relative L2 error over time (paper eq. 16 without the mean), a, b (S, n_time)."""
    return np.sqrt(((a - b) ** 2).sum(-1) / (b ** 2).sum(-1))


# 1. analytical limit: one phase with n = 1 is a linear Maxwell element
# (tau = 10 s over 50 s; tau = 0.03 s over 0.2 s). The absolute tolerance follows the strain scale r T, so the
# stress is accurate relative to Ebar r T; tau/T is kept >= 0.15 so that this is 1e-5 of the stress too.
@pytest.mark.parametrize("E, sigma0, edot0, T, r",
                         [(2000.0, 20000.0, 1.0, 50.0, 1e-3), (5000.0, 300.0, 2.0, 0.2, 0.25)])
def test_linear_maxwell_ramp(E, sigma0, edot0, T, r):
    case = make_case("composite1d", n_phases=1, E=[E, E], sigma0=[sigma0, sigma0], n=[1.0, 1.0], edot0=edot0)
    time = uniform_time(T, 500)  # eps_bar = r t, r in 1/s
    eps_bar = r * time
    ds = c1d.solve(eps_bar[None, :, None, None], time, case)
    tau = sigma0 / (E * edot0)
    exact = E * r * tau * (1.0 - np.exp(-time / tau))
    sigma = ds["stress"].values[0, :, 0, 0]
    assert np.abs(sigma - exact).max() <= 1e-5 * np.abs(exact).max()
    assert np.abs(sigma[1:] - exact[1:]).max() / np.abs(exact[1:]).min() < 1e-4  # pointwise, early times too
    # eps_p of the single phase closes eq. (11): sigma = E (eps_bar - eps_p)
    np.testing.assert_allclose(ds["eps_p"].values[0, :, 0], eps_bar - exact / E, rtol=0, atol=1e-5 * r * time[-1])


# 2. elastic limit: no plastic flow, the stress is the Reuss bound Ebar eps_bar
def test_elastic_limit_reuss():
    case = make_case("composite1d", n_phases=3, seed=4, sigma0=[1e12, 1e12], n=[5.0, 20.0], loading={"n_steps": 200})
    inputs, time = paths(6, case)
    ds = c1d.solve(inputs, time, case)
    E = ds["E"].values
    assert len(np.unique(E)) == 3
    Ebar = 1.0 / np.mean(1.0 / E)  # harmonic mean, computed here independently
    assert E.min() < Ebar < E.mean()
    np.testing.assert_allclose(ds["stress"].values, Ebar * inputs, rtol=1e-10, atol=1e-10 * np.abs(Ebar * inputs).max())
    assert np.abs(ds["eps_p"].values).max() < 1e-20


# 3. convergence: errors against a tight-tolerance reference shrink with rtol
@pytest.mark.slow  # over a minute on 2 cores; the default suite stays under ~15 min (make test ARGS="-m slow")
def test_tolerance_refinement_stiff():
    base = dict(n_phases=5, seed=7, E=[5000.0, 10000.0], sigma0=[100.0, 300.0], n=[10.0, 20.0],
                loading={"n_steps": 400, "F_max": 0.01})
    case = make_case("composite1d", **base)
    inputs, time = paths(6, case)
    ref = c1d.solve(inputs, time, make_case("composite1d", **base, rtol=1e-10))["stress"].values[:, :, 0, 0]
    assert np.abs(ref).max() > 50.0  # the paths do reach the plastic range (sigma0 >= 100 MPa)
    errs = []
    for rtol in (1e-3, 1e-5, 1e-7):
        out = c1d.solve(inputs, time, make_case("composite1d", **base, rtol=rtol))["stress"].values[:, :, 0, 0]
        errs.append(rel_l2(out, ref).max())
    assert errs[0] > 10 * errs[1] > 100 * errs[2], errs
    assert errs[1] < 1e-4 and errs[2] < 1e-6, errs


# 4. paper eqs. (14, 15): sigma = f~(eta), d<eps_p>/dt = g~(eta) with eta = eps_bar - <eps_p>
@pytest.fixture(scope="module")
def four_phase():
    case = make_case("composite1d", n_phases=4, seed=11, loading={"n_steps": 1000, "F_max": 0.01})
    inputs, time = paths(40, case)
    return case, inputs, time, c1d.solve(inputs, time, case)


def test_stress_is_function_of_eta(four_phase):
    case, inputs, time, ds = four_phase
    Ebar = 1.0 / np.mean(1.0 / ds["E"].values)
    xi = ds["eps_p"].values.mean(-1)
    eta = inputs[:, :, 0, 0] - xi
    np.testing.assert_allclose(ds["stress"].values[:, :, 0, 0], Ebar * eta, rtol=1e-12, atol=1e-9)


def g_tilde(eta, E, sigma0, n, edot0):
    """Written out here, independently of the module: mean_a edot0 sign(Ebar eta) (|Ebar eta|/sigma0_a)^n_a."""
    sigma = np.asarray(eta)[..., None] / np.mean(1.0 / E)
    return np.mean(edot0 * np.sign(sigma) * (np.abs(sigma) / sigma0) ** n, axis=-1)


def test_internal_variable_rate_collapses(four_phase):
    case, inputs, time, ds = four_phase
    E, sigma0, n, edot0 = (ds[k].values for k in ("E", "sigma0", "n", "edot0"))
    xi = ds["eps_p"].values.mean(-1)
    eta = inputs[:, :, 0, 0] - xi
    rate_fd = np.diff(xi, axis=1) / np.diff(time)  # (S, n_time - 1), midpoint rule
    rate = 0.5 * (g_tilde(eta[:, 1:], E, sigma0, n, edot0) + g_tilde(eta[:, :-1], E, sigma0, n, edot0))
    scale = np.abs(rate).max()
    assert scale > 1e-4  # plastic flow happens in this data set
    dev = np.abs(rate_fd - rate)
    # one curve across all samples: the collapse holds to discretisation error, worst at the sharp flow onsets
    assert np.median(dev) < 1e-3 * scale and np.sqrt((dev ** 2).mean()) < 3e-2 * scale
    assert np.abs(c1d.g_tilde(eta, c1d.material(case)) - g_tilde(eta, E, sigma0, n, edot0)).max() <= 1e-12 * scale


def test_single_internal_variable_reproduces_stress(four_phase):
    """Eq. (13): xi' = g~(eps_bar - xi), a scalar ODE per path, reproduces the N-phase stress history."""
    case, inputs, time, ds = four_phase
    E, sigma0, n, edot0 = (ds[k].values for k in ("E", "sigma0", "n", "edot0"))
    Ebar = 1.0 / np.mean(1.0 / E)
    for s in range(0, 40, 8):
        eps_bar = PchipInterpolator(time, inputs[s, :, 0, 0])
        sol = solve_ivp(lambda t, xi: g_tilde(eps_bar(t) - xi, E, sigma0, n, edot0), (0.0, time[-1]), [0.0],
                        method="LSODA", t_eval=time, rtol=1e-10, atol=1e-14, max_step=time[1])
        assert sol.success
        sigma = Ebar * (inputs[s, :, 0, 0] - sol.y[0])
        assert rel_l2(ds["stress"].values[s, :, 0, 0], sigma) < 2e-5


def test_short_excursion_after_rest_is_resolved():
    """At rest (eps_bar = 0, no flow) the integrator's steps would grow without bound and could jump over a short
    loading pulse; the steps are capped at the grid interval, so the pulse and its residual stress are resolved."""
    case = make_case("composite1d", n_phases=2, seed=1, E=[2000.0, 4000.0], sigma0=[100.0, 200.0], n=[3.0, 6.0])
    time = uniform_time(200.0, 1000)
    eps_bar = np.where(np.abs(time - 150.0) < 2.0, 0.1, 0.0) * np.clip(1 - np.abs(time - 150.0) / 2.0, 0, 1) * 2
    ds = c1d.solve(eps_bar[None, :, None, None], time, case)
    E, sigma0, n, edot0 = (ds[k].values for k in ("E", "sigma0", "n", "edot0"))
    path = PchipInterpolator(time, eps_bar)
    sol = solve_ivp(lambda t, xi: g_tilde(path(t) - xi, E, sigma0, n, edot0), (0.0, time[-1]), [0.0],
                    method="LSODA", t_eval=time, rtol=1e-10, atol=1e-14, max_step=time[1])
    sigma = (eps_bar - sol.y[0]) / np.mean(1.0 / E)
    assert sigma[-1] < -1.0  # reverse residual stress relaxing after the pulse
    assert rel_l2(ds["stress"].values[:, :, 0, 0], sigma[None]) < 1e-4


# 5. determinism and keyed material draws
def test_deterministic_and_material_per_case():
    case = make_case("composite1d", "det", n_phases=3, seed=2, loading={"n_steps": 100})
    inputs, time = paths(3, case)
    a, b = c1d.solve(inputs, time, case), c1d.solve(inputs, time, case)
    for var in ("stress", "eps_p", "E", "sigma0", "n"):
        np.testing.assert_array_equal(a[var].values, b[var].values)
    m1, m2 = c1d.material(case), c1d.material(case)
    for key in ("E", "sigma0", "n"):
        np.testing.assert_array_equal(m1[key], m2[key])
        lo, hi = producer_defaults("composite1d")[key]
        assert np.all((lo <= m1[key]) & (m1[key] <= hi))
    rng = case.rng("material")  # documented draw: E, sigma0, n in turn, i.i.d. uniform, from case.rng("material")
    for key in ("E", "sigma0", "n"):
        np.testing.assert_array_equal(m1[key], rng.uniform(*producer_defaults("composite1d")[key], size=3))
    other_name = c1d.material(make_case("composite1d", "other", n_phases=3, seed=2))
    other_seed = c1d.material(make_case("composite1d", "det", n_phases=3, seed=3))
    for other in (other_name, other_seed):
        assert not np.any(np.isin(other["E"], m1["E"]))
    # the solve depends on the case's material only, not on which other samples share the batch (to tolerance)
    part = c1d.solve(inputs[1:2], time, case)
    assert rel_l2(part["stress"].values[:, :, 0, 0], a["stress"].values[1:2, :, 0, 0]).max() < 1e-5


# 6. contract
def test_contract_shapes_units():
    case = make_case("composite1d", n_phases=2, seed=5, loading={"n_steps": 150})
    inputs, time = paths(4, case)
    ds = validate(c1d.solve(inputs, time, case), require_split=False)
    assert ds["stress"].shape == ds["strain"].shape == (4, 151, 1, 1)
    assert ds["eps_p"].dims == ("sample", "time", "phase") and ds["eps_p"].shape == (4, 151, 2)
    units = {"stress": "MPa", "strain": "1", "E": "MPa", "sigma0": "MPa", "n": "1", "edot0": "1/s", "eps_p": "1"}
    assert {k: ds[k].attrs["units"] for k in units} == units
    assert ds["eps_p"].attrs["long_name"] == "plastic strain per phase"
    assert ds["E"].dims == ds["sigma0"].dims == ds["n"].dims == ("phase",) and ds["edot0"].dims == ()
    assert ds["time"].attrs["units"] == "s"
    np.testing.assert_array_equal(ds["sample"].values, np.arange(4))
    np.testing.assert_array_equal(ds["strain"].values, inputs)
    assert ds.attrs["producer"] == "composite1d" and ds.attrs["input"] == "strain" and failures(ds) == []
    assert json.loads(ds.attrs["case_config"])["n_phases"] == 2
    with pytest.raises(ValueError):
        c1d.solve(inputs[:, :, :, :], time[:-1], case)


def test_registry_and_shard():
    module = load("composite1d")
    assert module is c1d and (module.NAME, module.INPUT, module.DIM) == ("composite1d", "strain", 1)
    case = make_case("composite1d", n_phases=2, seed=1, loading={"n_steps": 100})
    ds = validate(solve_shard(c1d, case, 1, 3), require_split=False)
    np.testing.assert_array_equal(ds["sample"].values, [3, 4, 5])


def test_jacobian_matches_finite_differences():
    mat = c1d.material(make_case("composite1d", n_phases=4, seed=3, n=[1.0, 5.0]))
    mat["n"][0] = 1.0  # exercise n_a == 1
    case = make_case("composite1d", n_phases=4)
    inputs, time = paths(3, case)
    system = c1d._System(inputs[:, :, 0, 0], time, mat)
    y = np.random.default_rng(0).normal(0.0, 0.01, 12)
    J = system.jac(50.0, y).toarray()
    h = 1e-7
    fd = np.stack([(system.rhs(50.0, y + h * e) - system.rhs(50.0, y - h * e)) / (2 * h) for e in np.eye(12)], 1)
    np.testing.assert_allclose(J, fd, rtol=1e-5, atol=1e-7 * np.abs(J).max())
    assert np.all(J[np.abs(np.subtract.outer(np.arange(12) // 4, np.arange(12) // 4)) > 0] == 0)
    J0 = system.jac(0.0, np.zeros(12)).toarray()  # sigma = 0: only n == 1 phases respond, finitely
    Ebar = c1d.effective_modulus(mat["E"])
    np.testing.assert_allclose(J0[0, :4], -Ebar / 4 * mat["edot0"] / mat["sigma0"][0])
    assert np.all(J0[1:4] == 0) and np.isfinite(J0).all()


def test_rejects_exponent_below_one():
    with pytest.raises(ValueError, match="n must be >= 1"):
        c1d.material(make_case("composite1d", n=[0.5, 0.9]))


# 7. failures are listed, never stored as NaN
def test_nonfinite_input_is_a_failure():
    case = make_case("composite1d", n_phases=2, seed=6, loading={"n_steps": 100})
    inputs, time = paths(4, case)
    inputs[2, 50] = np.nan
    ds = validate(c1d.solve(inputs, time, case), require_split=False)
    np.testing.assert_array_equal(ds["sample"].values, [0, 1, 3])
    assert [f["sample"] for f in failures(ds)] == [2] and failures(ds)[0]["reason"]
    assert all(np.isfinite(ds[v].values).all() for v in ("stress", "strain", "eps_p"))


def test_solver_failure_falls_back_per_sample(monkeypatch):
    case = make_case("composite1d", n_phases=3, seed=8, loading={"n_steps": 100})
    inputs, time = paths(4, case)
    good = c1d.solve(inputs, time, case)
    real, calls = c1d.solve_ivp, []

    def flaky(fun, *args, **kwargs):  # the batched call and the lone retry of sample 1 fail
        result = real(fun, *args, **kwargs)
        calls.append(fun.__self__.S)
        if len(calls) in (1, 3):
            result.status, result.success, result.message = -1, False, "forced failure"
        return result

    monkeypatch.setattr(c1d, "solve_ivp", flaky)
    ds = validate(c1d.solve(inputs, time, case), require_split=False)
    assert calls == [4, 1, 1, 1, 1]
    np.testing.assert_array_equal(ds["sample"].values, [0, 2, 3])
    (failed,) = failures(ds)
    assert failed["sample"] == 1 and "forced failure" in failed["reason"]
    assert all(np.isfinite(ds[v].values).all() for v in ("stress", "strain", "eps_p"))
    # the retried samples agree with the batched solve to the tolerance (global error ~ 10 rtol on these paths)
    ref = good["stress"].values[[0, 2, 3], :, 0, 0]
    assert rel_l2(ds["stress"].values[:, :, 0, 0], ref).max() < 1e-4


def test_evaluation_budget_ends_as_failures(monkeypatch):
    """A solve that exceeds its RHS budget is a listed failure, not a job that never returns."""
    case = make_case("composite1d", n_phases=2, seed=9, loading={"n_steps": 100})
    inputs, time = paths(3, case)
    monkeypatch.setattr(c1d, "MAX_NFEV_PER_POINT", 0.05)
    ds = validate(c1d.solve(inputs, time, case), require_split=False)
    assert ds.sizes["sample"] == 0 and ds["stress"].shape == (0, 101, 1, 1)
    assert [f["sample"] for f in failures(ds)] == [0, 1, 2]
    assert all("RHS evaluations" in f["reason"] for f in failures(ds))
