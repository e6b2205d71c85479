"""Validation of mechanics.crystal (paper Appendix A) in 2D with the two slip systems of Table 2, and in 3D."""
from __future__ import annotations

import numpy as np
import pytest

from mechanics import crystal as cr
from mechanics import elasticity, slip
from mechanics.tensor import cauchy

B2, N2 = [[1.0, 0.0], [1.0, 1.0]], [[0.0, 1.0], [-1.0, 1.0]]  # Table 2


def params2(m=0.05, tau0=100.0, sigma_inf=2.0, h=7100.0, **kw):
    return cr.Params.create(2, mu=19000.0, kappa=48000.0, tau0=tau0, gamma_dot0=1.0, m=m, sigma_inf=sigma_inf,
                            h=h, **kw)


def shear_path(gamma_max, n, T=20.0, d=2):
    t = np.linspace(0.0, T, n + 1)
    F = np.broadcast_to(np.eye(d), (n + 1, d, d)).copy()
    F[:, 0, 1] = gamma_max * t / T
    return F, t


def neo_hookean_cauchy(F, mu, kappa):
    """Independent formula: sigma = mu/J (B/J^(2/d) - tr(B)/(d J^(2/d)) I) + kappa (J - 1) I, B = F F^T."""
    d = F.shape[-1]
    J = np.linalg.det(F)[..., None, None]
    B = F @ np.swapaxes(F, -1, -2)
    trB = np.trace(B, axis1=-2, axis2=-1)[..., None, None]
    return mu / J * J ** (-2.0 / d) * (B - trB / d * np.eye(d)) + kappa * (J - 1.0) * np.eye(d)


def test_det_Fp_one_and_plastic_flow():
    s = slip.schmid_tensors(B2, N2, slip.rotation_2d(np.linspace(0.0, 3.0, 6)))
    F, t = shear_path(0.05, 40)
    out = cr.drive(F[None], t, s, params2())
    assert out["converged"].all()
    assert np.abs(np.linalg.det(out["state"]["Fp"]) - 1.0).max() < 1e-13
    assert out["state"]["e"].max() > 0.01  # it flowed
    assert np.isfinite(out["stress"]).all()


def test_elastic_regime_is_neo_hookean():
    p = params2(tau0=1e9)
    rng = np.random.default_rng(0)
    F = np.eye(2) + 0.05 * rng.normal(size=(5, 2, 2))
    s = slip.schmid_tensors(B2, N2, slip.rotation_2d(rng.uniform(0, np.pi, 5)))
    P, st, conv = cr.update(F, cr.initial_state(5, 2, 2), 1.0, s, p)
    assert conv.all() and np.abs(st["e"]).max() < 1e-100
    np.testing.assert_allclose(cauchy(P, F), neo_hookean_cauchy(F, 19000.0, 48000.0), rtol=1e-10, atol=1e-8)
    Fe = F[0]
    h = 1e-6  # P = dW/dF by central differences of W^e
    dW = np.array([[(elasticity.energy(Fe + h * np.outer(np.eye(2)[i], np.eye(2)[j]), 19000.0, 48000.0)
                     - elasticity.energy(Fe - h * np.outer(np.eye(2)[i], np.eye(2)[j]), 19000.0, 48000.0)) / (2 * h)
                    for j in range(2)] for i in range(2)])
    np.testing.assert_allclose(P[0], dW, rtol=1e-6)


def test_tangent_matches_finite_differences():
    p = params2(m=0.2)
    s = slip.schmid_tensors(B2, N2, slip.rotation_2d(np.array([0.3, 1.1])))
    state = cr.initial_state(2, 2, 2)
    F1 = np.array([[[1.0, 0.004], [0.001, 0.998]], [[1.002, -0.003], [0.0, 1.0]]])
    _, state, _ = cr.update(F1, state, 0.5, s, p)
    F2 = F1 + np.array([[0.0, 0.004], [0.002, 0.0]])
    P, new, conv = cr.update(F2, state, 0.5, s, p)
    assert conv.all() and new["e"].min() > 0
    Ct = cr.tangent(F2, state, new, 0.5, s, p)
    h = 1e-7
    for k in range(2):
        for l in range(2):
            dF = np.zeros((2, 2))
            dF[k, l] = h
            Pp = cr.update(F2 + dF, state, 0.5, s, p, tol=1e-13)[0]
            Pm = cr.update(F2 - dF, state, 0.5, s, p, tol=1e-13)[0]
            np.testing.assert_allclose(Ct[..., k, l], (Pp - Pm) / (2 * h), rtol=2e-5, atol=1e-3)


def test_rate_independent_like_limit():
    """One system along the shear: the flow stress is tau0 (rate/gamma_dot0)^m + g(e); as m -> 0 it no longer
    depends on the rate."""
    p = cr.Params.create(1, mu=19000.0, kappa=48000.0, tau0=100.0, gamma_dot0=1.0, m=0.01, sigma_inf=20.0,
                         h=1000.0)
    s = slip.schmid_tensors([[1.0, 0.0]], [[0.0, 1.0]])
    taus = []
    for T in (10.0, 100.0):  # shear rates 1e-2 and 1e-3 1/s
        F, t = shear_path(0.1, 100, T=T)
        out = cr.drive(F[None], t, s[None], p)
        assert out["converged"].all()
        e = out["state"]["e"][0, 0]
        rate = out["state"]["slip_rate"][0, 0]
        Fe = F[-1] @ np.linalg.inv(out["state"]["Fp"][0])
        tau = cr.resolved_shear(Fe, s, 19000.0, 48000.0)[0]
        g = cr.hardening(out["state"]["e"][0] - np.abs(rate) * (t[1] - t[0]), p)[0]  # hardening at step start
        np.testing.assert_allclose(tau, 100.0 * rate ** 0.01 + g, rtol=1e-8)
        taus.append(tau)
        assert e > 0.09
    assert abs(taus[0] / taus[1] - 1.0) < 0.03  # (10)^0.01 = 1.023 on the viscous part


def test_dissipation_decreases_stored_energy_at_fixed_F():
    """Relaxation at fixed F: W^e(Fe) + W^p(e) must not increase (the dissipation tau.slip_rate >= 0)."""
    p = params2(m=0.1, sigma_inf=50.0, h=100.0)
    s = slip.schmid_tensors(B2, N2, slip.rotation_2d(np.array([0.2, 0.9, 2.0])))
    F = np.array([[1.0, 0.02], [0.0, 1.0]])
    state = cr.initial_state(3, 2, 2)
    energy = []
    for k in range(30):
        P, state, conv = cr.update(F if k else F * 1.0, state, 0.05, s, p)
        Fe = F @ np.linalg.inv(state["Fp"])
        energy.append(elasticity.energy(Fe, 19000.0, 48000.0) + cr.plastic_energy(state["e"], p))
        tau = cr.resolved_shear(Fe, s, 19000.0, 48000.0)
        assert np.all((tau * state["slip_rate"]).sum(-1) >= 0)
    assert np.all(np.diff(np.array(energy), axis=0) <= 1e-9)


def test_unidirectional_system_never_reverses():
    p = params2(unidirectional=[True, False])
    s = slip.schmid_tensors(B2, N2)
    F, t = shear_path(-0.02, 20)
    out = cr.drive(F[None], t, s[None], p)
    assert out["converged"].all() and np.all(out["state"]["slip_rate"][..., 0] >= 0)


def test_bad_input_errors():
    p = params2()
    s = slip.schmid_tensors(B2, N2)
    st = cr.initial_state(1, 2, 2)
    with pytest.raises(ValueError, match="det F"):
        cr.update(np.array([[[-1.0, 0.0], [0.0, 1.0]]]), st, 0.1, s, p)
    with pytest.raises(ValueError, match="d = 2 or 3"):
        cr.update(np.ones((1, 2, 3)), st, 0.1, s, p)
    with pytest.raises(ValueError, match="schmid"):
        cr.update(np.eye(2)[None], st, 0.1, s[:1], p)
    with pytest.raises(ValueError, match="orthogonal"):
        slip.schmid_tensors([[1.0, 0.0]], [[1.0, 1.0]])
    with pytest.raises(ValueError, match="zero diagonal"):
        cr.Params.create(2, mu=1.0, kappa=1.0, tau0=1.0, gamma_dot0=1.0, m=0.1, sigma_inf=1.0, h=1.0, K=np.ones((2, 2)))


def mg_like(m=0.05):
    b, n, fam, uni = slip.hcp_systems()
    p = cr.Params.create(18, mu=17000.0, kappa=36000.0, tau0=np.array([10.0, 55, 60, 15])[fam], gamma_dot0=1.0, m=m,
                         sigma_inf=20.0, h=1000.0, K=100.0, unidirectional=uni)
    rng = np.random.default_rng(5)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3, 3)))
    return p, slip.schmid_tensors(b, n, q * np.sign(np.linalg.det(q))[:, None, None])


def test_tangent_matches_finite_differences_3d():
    p, s = mg_like(m=0.1)
    F1 = np.eye(3) + 0.002 * np.array([[1.0, 0.5, 0.0], [0.5, -0.5, 0.2], [0.0, 0.2, -0.3]])
    _, st, _ = cr.update(F1, cr.initial_state(3, 3, 18), 0.1, s, p)
    F2 = F1 + 0.001 * np.array([[0.2, 1.0, 0.0], [0.0, -0.4, 0.3], [0.1, 0.0, 0.1]])
    P, new, conv = cr.update(F2, st, 0.1, s, p, tol=1e-12)
    assert conv.all() and np.abs(new["slip_rate"]).max() > 1e-4
    Ct = cr.tangent(F2, st, new, 0.1, s, p)
    h = 1e-7
    for k, l in [(0, 0), (0, 1), (1, 0), (2, 1), (2, 2)]:
        dF = np.zeros((3, 3))
        dF[k, l] = h
        Pp = cr.update(F2 + dF, st, 0.1, s, p, tol=1e-12)[0]
        Pm = cr.update(F2 - dF, st, 0.1, s, p, tol=1e-12)[0]
        np.testing.assert_allclose(Ct[..., k, l], (Pp - Pm) / (2 * h), rtol=1e-4, atol=2e-3)


@pytest.mark.parametrize("m", [0.05, 0.07])  # 1/m - 1 = 19 by multiplication; 13.29 by pow (mechanics.crystal_kernel)
def test_converged_step_solves_the_slip_equations_3d(m):
    """The stress-based solution satisfies the slip-increment form of the same step (the residual behind
    ``tangent``): tau0 x_i = sign(tau_i) <|tau_i| - g_i(e_n)> with tau from Fe = F Fp^-1, det Fp = 1."""
    p, s = mg_like(m)
    F = np.eye(3) + 0.01 * np.array([[1.0, 0.3, 0.0], [0.3, -0.6, 0.1], [0.0, 0.1, -0.3]])
    P, st, conv = cr.update(F, cr.initial_state(3, 3, 18), 0.2, s, p, tol=1e-12)
    assert conv.all()
    assert np.abs(np.linalg.det(st["Fp"]) - 1.0).max() < 1e-14
    tau = cr.resolved_shear(F @ np.linalg.inv(st["Fp"]), s, 17000.0, 36000.0)
    rate = cr.slip_rate_law(tau, np.zeros((3, 18)), p)
    np.testing.assert_allclose(st["slip_rate"], rate, rtol=1e-6, atol=1e-9 * np.abs(rate).max())
    assert np.abs(rate).max() > 1e-3
