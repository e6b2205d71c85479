"""Validation of the Taylor-averaged magnesium polycrystal (taylor.magnesium, issue 5 items 1-4)."""
from __future__ import annotations

import numpy as np
import pytest

from dataset.contract import failures, validate
from dataset.sampler import sample_paths
from mechanics import crystal as cr
from mechanics import slip
from pipeline.config import make_case, producer_defaults
from taylor import magnesium as mg

MG_DEFAULTS = producer_defaults("taylor_mg")  # the schema's case defaults


def small_case(**kw):
    return make_case("taylor_mg", seed=kw.pop("seed", 3), n_grains=kw.pop("n_grains", 4), **kw)


def neo_hookean_cauchy(F, mu, kappa):
    J = np.linalg.det(F)[..., None, None]
    B = F @ np.swapaxes(F, -1, -2)
    trB = np.trace(B, axis1=-2, axis2=-1)[..., None, None]
    return mu / J * J ** (-2.0 / 3) * (B - trB / 3 * np.eye(3)) + kappa * (J - 1.0) * np.eye(3)


def test_hydrostatic_path_is_elastic():
    case = small_case(n_grains=8)
    t = np.linspace(0.0, 20.0, 11)
    lam = 1.0 + 0.01 * np.sin(t / 5.0)
    F = lam[None, :, None, None] * np.eye(3)
    ds = mg.solve(F, t, case)
    assert not failures(ds)
    assert np.abs(ds["slip"].values).max() < 1e-30
    J = lam**3
    np.testing.assert_allclose(ds["stress"].values[0], MG_DEFAULTS["kappa"] * (J - 1.0)[:, None, None] * np.eye(3),
                               rtol=1e-10, atol=1e-8)


def test_macroscopic_pressure_is_elastic_on_plastic_paths():
    """det Fp = 1 and the J^(-2/3) split of W^e: every grain's pressure is kappa (J - 1), whatever its history (28)."""
    case = small_case(n_grains=6, loading={"n_steps": 40, "volumetric": 0.5})
    p = sample_paths(3, 3, case.rng("p"), F_max=0.01, T=200.0, M=10, n_steps=40, identity=True, volumetric=0.5)
    ds = mg.solve(p.values, p.time, case)
    assert ds["slip"].values[:, -1].sum(-1).min() > 1e-3  # plastic
    J = np.linalg.det(p.values)
    np.testing.assert_allclose(np.trace(ds["stress"].values, axis1=-2, axis2=-1) / 3, MG_DEFAULTS["kappa"] * (J - 1),
                               rtol=1e-10, atol=1e-8)


def test_parameters_follow_their_sources():
    """Hill average exact for isotropic constants; the Wang et al. 2014 power law mapped as documented."""
    lam, mu = 30000.0, 17000.0
    np.testing.assert_allclose(mg.elastic_moduli(lam + 2 * mu, lam, lam, lam + 2 * mu, mu), (mu, lam + 2 * mu / 3))
    mu_mg, kappa_mg = mg.elastic_moduli(**mg.ELASTIC_CONSTANTS)
    assert 17000 < mu_mg < 17600 and 35000 < kappa_mg < 35400  # between Reuss and Voigt of Tromans 2011
    d = MG_DEFAULTS
    assert d["tau0"] == [10.0, 55.0, 60.0, 40.0] and d["xi_inf"] == [40.0, 135.0, 150.0]
    assert d["h0"] == [500.0] * 3 and d["a"] == 2.25 and (d["h0_twin_slip"], d["h0_twin_twin"]) == (150.0, 50.0)
    assert d["m"] == 1 / 20 and d["gamma_dot0"] == 1e-3
    assert make_case("taylor_mg").loading["volumetric"] == 0.1


def test_elastic_regime_equals_neo_hookean():
    case = small_case(tau0=[1e9] * 4, xi_inf=[2e9] * 3, loading={"n_steps": 10})
    p = sample_paths(2, 3, case.rng("p"), F_max=0.01, T=200.0, M=10, n_steps=10, identity=True)
    ds = mg.solve(p.values, p.time, case)
    np.testing.assert_allclose(ds["stress"].values, neo_hookean_cauchy(p.values, MG_DEFAULTS["mu"], MG_DEFAULTS["kappa"]),
                               rtol=1e-9, atol=1e-7)


def test_objectivity():
    """F -> Q F (Q superposed from t = 0, the plastic state unchanged) gives sigma -> Q sigma Q^T, grain by grain
    and hence for the Taylor average."""
    case = small_case()
    _, Qg = mg.texture(case)
    b, n, _, _ = slip.hcp_systems()
    s = slip.schmid_tensors(b, n, Qg)
    p = sample_paths(1, 3, case.rng("p"), F_max=0.01, T=20.0, M=4, n_steps=10, identity=True)
    c, sn = np.cos(0.7), np.sin(0.7)
    Q = np.array([[c, -sn, 0.0], [sn, c, 0.0], [0.0, 0.0, 1.0]]) @ np.array(
        [[1.0, 0.0, 0.0], [0.0, np.cos(1.1), -np.sin(1.1)], [0.0, np.sin(1.1), np.cos(1.1)]])
    params = mg.material(case)
    a = cr.drive(p.values[0][None], p.time, s, params)
    state = cr.initial_state(4, 3, 18)
    state["F"] = np.broadcast_to(Q, (4, 3, 3)).copy()
    r = cr.drive((Q @ p.values[0])[None], p.time, s, params, state=state)
    assert a["converged"].all() and r["converged"].all()
    sa, sr = a["stress"].mean(0), r["stress"].mean(0)
    np.testing.assert_allclose(sr, Q @ sa @ Q.T, rtol=1e-8, atol=1e-8 * np.abs(sa).max())


def test_time_step_refinement_converges():
    """Backward Euler is first order: halving dt halves the error against a fine reference."""
    case = small_case(n_grains=2)
    T, path = 10.0, lambda t: np.eye(3) + 0.004 * t[:, None, None] / 10.0 * np.array(
        [[1.0, 0.5, 0.0], [0.5, -0.5, 0.2], [0.0, 0.2, -0.3]])
    out = {}
    for n in (10, 20, 40, 160):
        t = np.linspace(0.0, T, n + 1)
        out[n] = mg.solve(path(t)[None], t, case)["stress"].values[0, -1]
    err = [np.abs(out[n] - out[160]).max() for n in (10, 20, 40)]
    assert err[0] > err[1] > err[2]
    assert err[2] < 0.02 * np.abs(out[160]).max()


def test_single_grain_yields_first_on_largest_schmid_factor():
    """Uniaxial stretch along d: equal tau0 on every system, so the first slip is on the largest Schmid factor
    (b.d)(n.d) (its absolute value for slip, its positive value for the unidirectional twins)."""
    b, n, fam, uni = slip.hcp_systems()
    rng = np.random.default_rng(7)
    for _ in range(3):
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        schmid = (b @ d) * (n @ d)
        expected = np.argmax(np.where(uni, schmid, np.abs(schmid)))
        p = cr.Params.create(18, mu=19000.0, kappa=48000.0, tau0=50.0, gamma_dot0=1.0, m=0.05, sigma_inf=20.0,
                             h=1000.0, K=100.0, unidirectional=uni)
        F = np.eye(3) + 1e-3 * np.outer(d, d)
        s = slip.schmid_tensors(b, n)
        _, st, conv = cr.update(F[None], cr.initial_state(1, 3, 18), 0.1, s[None], p)
        assert conv.all()
        assert np.argmax(np.abs(st["slip_rate"][0])) == expected


def test_contract_and_texture_stored():
    case = small_case(loading={"n_steps": 5})
    p = sample_paths(2, 3, case.rng("p"), F_max=0.01, T=2.0, M=2, n_steps=5, identity=True)
    ds = validate(mg.solve(p.values, p.time, case), require_split=False)
    assert ds["orientation"].shape == (4, 4)
    q2 = mg.solve(p.values[:1], p.time, case)["orientation"].values
    np.testing.assert_array_equal(ds["orientation"].values, q2)  # one texture per case, from its seed
    assert not np.allclose(mg.solve(p.values[:1], p.time, small_case(seed=4, loading={"n_steps": 5}))
                           ["orientation"].values, q2)
    assert ds["stress"].dims == ("sample", "time", "i", "j")


def test_bad_input_errors():
    case = small_case()
    t = np.linspace(0.0, 1.0, 3)
    with pytest.raises(ValueError, match="inputs must be"):
        mg.solve(np.ones((1, 3, 2, 2)), t, case)
    F = np.broadcast_to(np.eye(3), (1, 3, 3, 3)).copy()
    F[0, 2] = np.diag([1.0, 1.0, -1.0])
    with pytest.raises(ValueError, match="det F"):
        mg.solve(F, t, case)


def test_large_steps_converge_without_nan():
    """50 steps for 200 s (per-step strains ~1e-2, 20x the paper's): every grain converges, finite stress."""
    case = small_case(n_grains=8)
    p = sample_paths(2, 3, case.rng("p"), F_max=0.01, T=200.0, M=10, n_steps=50, identity=True)
    ds = mg.solve(p.values, p.time, case)
    assert not failures(ds) and np.isfinite(ds["stress"].values).all()
    assert ds["slip"].values[:, -1].max() > 1e-3  # it flowed


def test_loading_is_the_registry_loading():
    from pipeline.registry import entry

    assert mg.LOADING == entry("taylor_mg").loading == make_case("taylor_mg").loading


def test_sampler_paths_bounded_twinning_and_physical_stresses():
    """On the producer's own paths (LOADING, 1000 steps): every grain's twin volume fraction stays <= 1 at every step
    (the stored grain maximum), and the von Mises stress stays below 450 MPa (Mg polycrystals flow at ~100-300 MPa
    at these strains; the former linear latent hardening reached 680-880 MPa)."""
    case = make_case("taylor_mg", seed=1, n_grains=16)
    p = sample_paths(3, 3, case.rng("p"), identity=True, **mg.LOADING)
    ds = mg.solve(p.values, p.time, case)
    assert not failures(ds)
    f_max, f_mean = ds["twin_fraction_max"].values, ds["twin_fraction_mean"].values
    assert f_max.max() <= 1.0 and f_mean.max() <= 1.0 and f_max.max() > 0.5  # it twins, within the bound
    # the stored family-mean twin shear gives the same grain-mean fraction (6 twins, shear 0.129)
    np.testing.assert_allclose(6 * ds["slip"].sel(family="tension_twin").values / slip.twin_shear(), f_mean,
                               rtol=1e-10, atol=1e-12)
    sigma = ds["stress"].values
    dev = sigma - np.trace(sigma, axis1=-2, axis2=-1)[..., None, None] / 3 * np.eye(3)
    von_mises = np.sqrt(1.5 * (dev**2).sum((-1, -2)))
    assert 100.0 < von_mises.max() <= 450.0


def test_twin_fraction_bounded_at_any_step_size():
    """Backward Euler in the untwinned fraction: a grain that only twins fills its volume asymptotically, never
    beyond, even with steps far larger than the producer's."""
    case = small_case(n_grains=1)
    params = mg.material(case)
    b, n, fam, uni = slip.hcp_systems()
    c_axis_tension = np.diag([1.0 / np.sqrt(1.3), 1.0 / np.sqrt(1.3), 1.3])  # along the lattice c axis: twins
    s = slip.schmid_tensors(b, n)
    for n_steps in (2, 20):
        t = np.linspace(0.0, 200.0, n_steps + 1)
        F = np.eye(3) + (c_axis_tension - np.eye(3)) * (t / t[-1])[:, None, None]
        out = cr.drive(F[None], t, s[None], params)
        f = cr.twin_fraction(out["e"], params)
        assert out["converged"].all() and f.max() <= 1.0 and f[0, -1] > 0.9


def test_power_law_hardening_is_the_integrated_damask_rate_and_saturates():
    """PowerLawTotalSlip's closed form against a numerical integration of DAMASK's phenopowerlaw rates with unit
    interactions (d xi_sl = h0 (1 - xi/xi_inf)^a dGamma_sl; d xi_tw = h0_tw_sl Gamma_sl^c3 dGamma_sl + h0_tw_tw
    dGamma_tw), and the slip resistances saturate at xi_inf - xi_0."""
    from scipy.integrate import solve_ivp

    params = mg.material(small_case())
    law = params.hardening
    _, _, fam, uni = slip.hcp_systems()
    rng = np.random.default_rng(0)
    direction = rng.uniform(size=18)  # a fixed mix of slip and twin shear
    direction /= direction.sum()

    def rate(gamma, xi):
        d_sl, d_tw = direction[~uni].sum(), direction[uni].sum()
        g_sl = gamma * d_sl
        slip_rate = law.h0 * (1.0 - xi / law.xi_inf) ** law.a * d_sl
        twin_rate = law.h0_tw_sl * g_sl**law.c3 * d_sl + law.h0_tw_tw * d_tw
        return np.where(uni, twin_rate, slip_rate)

    gammas = np.array([0.01, 0.1, 0.5, 2.0])
    ode = solve_ivp(rate, (0.0, gammas[-1]), law.xi_0, t_eval=gammas, rtol=1e-10, atol=1e-10)
    closed = cr.hardening(gammas[:, None] * direction, params) + law.xi_0
    np.testing.assert_allclose(closed, ode.y.T, rtol=1e-7)
    big = cr.hardening(np.where(uni, 0.0, 1000.0)[None], params)[0]  # algebraic approach: ~Gamma^(-1/(a-1))
    np.testing.assert_allclose(big[~uni], (law.xi_inf - law.xi_0)[~uni], rtol=1e-3)
    np.testing.assert_allclose(big[~uni][[0, 3, 6]], [30.0, 80.0, 90.0], rtol=1e-3)  # Wang et al. 2014


def test_superposed_rotation_of_a_non_symmetric_path():
    """solve on R(t) F(t), R a time-dependent rotation (R(0) = I) and F non-symmetric, gives R sigma R^T."""
    case = small_case(loading={"n_steps": 40})
    p = sample_paths(2, 3, case.rng("p"), F_max=0.01, T=40.0, M=10, n_steps=40, identity=True, volumetric=0.1)
    t = p.time
    skew = np.array([[0.0, -0.3, 0.2], [0.3, 0.0, -0.1], [-0.2, 0.1, 0.0]])
    F = p.values + 0.01 * (t / t[-1])[None, :, None, None] * skew  # non-symmetric, F(0) = I
    assert np.abs(F - np.swapaxes(F, -1, -2)).max() > 1e-3
    from scipy.spatial.transform import Rotation

    R = Rotation.from_rotvec(np.outer(0.02 * t, [1.0, 2.0, -0.5])).as_matrix()  # up to 0.9 rad at t = 40 s
    a, r = mg.solve(F, t, case), mg.solve(R @ F, t, case)
    assert not failures(a) and not failures(r)
    sa = a["stress"].values
    np.testing.assert_allclose(r["stress"].values, R @ sa @ np.swapaxes(R, -1, -2), rtol=1e-7,
                               atol=1e-7 * np.abs(sa).max())


def test_one_grain_against_an_independent_ode_integration():
    """One Mg grain, every mechanism on (slip, twins with the (1 - f) factor, the hardening law): the backward-Euler
    update against scipy's Radau on dFp/dt = sum_i slip_rate_i s_i Fp, de_i/dt = |slip_rate_i| with the kinetics of
    crystal.slip_rate_law at the current state (no shared time stepping); first order: the error halves with dt."""
    from scipy.integrate import solve_ivp

    params = mg.material(small_case())
    b, n, _, _ = slip.hcp_systems()
    _, Q = slip.random_orientations(1, np.random.default_rng(5))
    s = slip.schmid_tensors(b, n, Q)[0]
    T, H = 20.0, np.array([[0.06, 0.02, 0.0], [0.01, -0.02, 0.015], [0.0, -0.01, -0.04]])
    F_of = lambda t: np.eye(3) + (np.asarray(t) / T)[..., None, None] * H  # noqa: E731

    def rhs(t, y):
        Fp, e = y[:9].reshape(3, 3), y[9:]
        tau = cr.resolved_shear(F_of(t) @ np.linalg.inv(Fp), s, params.mu, params.kappa)
        rate = cr.slip_rate_law(tau, e, params)
        return np.concatenate([(np.einsum("i,ijk->jk", rate, s) @ Fp).ravel(), np.abs(rate)])

    ode = solve_ivp(rhs, (0.0, T), np.concatenate([np.eye(3).ravel(), np.zeros(18)]), method="Radau",
                    rtol=1e-9, atol=1e-12)
    Fp_end = ode.y[:9, -1].reshape(3, 3)
    P_ref = cr._piola(F_of(T)[None], Fp_end[None], cr._NP(params))[0]
    assert ode.success and ode.y[9:, -1].sum() > 0.02  # well into plasticity
    err = []
    for n_steps in (100, 200, 400):
        t = np.linspace(0.0, T, n_steps + 1)
        out = cr.drive(F_of(t)[None], t, s[None], params, tol=1e-10)
        assert out["converged"].all()
        err.append(np.abs(out["P"][0, -1] - P_ref).max())
    assert err[2] < 0.6 * err[1] < 0.36 * err[0] and err[2] < 0.01 * np.abs(P_ref).max()
