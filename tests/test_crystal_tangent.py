"""The compiled consistent tangent (mechanics/crystal_tangent.py) against the torch.func reference
(mechanics.crystal.tangent) and against central differences of mechanics.crystal.update, in 2D and 3D."""
from __future__ import annotations

import numpy as np
import pytest

from mechanics import crystal as cr
from mechanics import crystal_tangent as ct
from mechanics import elasticity, slip
from mechanics.crystal_kernel import _expm1

B2, N2 = [[1.0, 0.0], [1.0, 1.0]], [[0.0, 1.0], [-1.0, 1.0]]  # Table 2
pytestmark = pytest.mark.filterwarnings("ignore:The given NumPy array is not writable")  # the torch reference


def params2(m=0.05, **kw):
    return cr.Params.create(2, mu=19000.0, kappa=48000.0, tau0=100.0, gamma_dot0=1.0, m=m, sigma_inf=2.0, h=7100.0,
                            **kw)


def mg_like(m=0.05, n_grains=3, seed=5):
    """The 18 HCP systems (6 unidirectional twins) with Mg-like moduli and strengths, random orientations."""
    b, n, fam, uni = slip.hcp_systems()
    p = cr.Params.create(18, mu=17000.0, kappa=36000.0, tau0=np.array([10.0, 55, 60, 15])[fam], gamma_dot0=1.0, m=m,
                         sigma_inf=20.0, h=1000.0, K=100.0, unidirectional=uni)
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(n_grains, 3, 3)))
    return p, slip.schmid_tensors(b, n, q * np.sign(np.linalg.det(q))[:, None, None])


def rel_err(a, b):
    """Largest difference per point relative to the point's largest modulus."""
    a, b = np.asarray(a), np.asarray(b)
    axes = tuple(range(a.ndim - 4, a.ndim))
    return float((np.abs(a - b).max(axes) / np.abs(b).max(axes)).max())


def two_steps(F1, F2, s, p, dt, **options):
    """State after F1 (from the reference state), then the step to F2: (state_old, P, state_new, converged)."""
    d, N = F1.shape[-1], p.n_systems
    _, old, _ = cr.update(F1, cr.initial_state(F1.shape[:-2], d, N), dt, s, p)
    P, new, conv = cr.update(F2, old, dt, s, p, **options)
    return old, P, new, conv


# ------------------------------------------------------------------------------------------ the derivative of exp

def test_closed_form_exp_and_its_derivative_2d_equal_the_block_exponential():
    """exp(X) and L(X, Y) of the 2D closed forms equal the blocks of exp([[X, Y], [0, X]]) (crystal_kernel's
    Taylor/squaring exponential), for small and large X, both signs of delta = -det(dev X), and X with a trace."""
    rng = np.random.default_rng(0)
    B, Yb, Tb, out = np.empty((4, 4)), np.empty((4, 4)), np.empty((4, 4)), np.empty((4, 4))
    L, E = np.empty((2, 2)), np.empty((2, 2))
    for scale in [0.0, 1e-9, 1e-3, 0.4, 0.99, 1.01, 2.5]:
        for _ in range(20):
            X, Y = scale * rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
            blk = np.zeros((4, 4))
            blk[:2, :2] = blk[2:, 2:] = X
            blk[:2, 2:] = Y
            _expm1(blk, 4, out, B, Yb, Tb)
            ct._dexp2(X, Y, L)
            ct._exp2(X, E)
            np.testing.assert_allclose(L, out[:2, 2:], rtol=0, atol=2e-14 * np.abs(out[:2, 2:]).max())
            np.testing.assert_allclose(E, np.eye(2) + out[:2, :2], rtol=0, atol=2e-14 * np.abs(E).max())


# ------------------------------------------------------------------------------------------ against the reference

def test_2d_equals_the_torch_reference_on_random_points():
    """Plastic points of all orientations (Table 2 systems), steps of different sizes, 1/m = 20 and 5."""
    rng = np.random.default_rng(1)
    for m in (0.05, 0.2):
        n = 64
        p = params2(m=m)
        s = slip.schmid_tensors(B2, N2, slip.rotation_2d(rng.uniform(0, np.pi, n)))
        F1 = np.eye(2) + 0.004 * rng.normal(size=(n, 2, 2))
        F2 = F1 + 0.003 * rng.normal(size=(n, 2, 2))
        old, _, new, conv = two_steps(F1, F2, s, p, 0.2)
        assert conv.all() and (np.abs(new["slip_rate"]).max(-1) > 1e-6).mean() > 0.5
        assert rel_err(ct.tangent(F2, old, new, 0.2, s, p), cr.tangent(F2, old, new, 0.2, s, p)) < 1e-8


def test_2d_elastic_points_equal_the_elastic_tangent():
    """No slip (huge tau0): dP/dF is the neo-Hookean tangent of mechanics.elasticity at F (Fp = I)."""
    rng = np.random.default_rng(2)
    p = cr.Params.create(2, mu=19000.0, kappa=48000.0, tau0=1e12, gamma_dot0=1.0, m=0.05, sigma_inf=2.0, h=7100.0)
    s = slip.schmid_tensors(B2, N2, slip.rotation_2d(rng.uniform(0, np.pi, 8)))
    F = np.eye(2) + 0.05 * rng.normal(size=(8, 2, 2))
    st = cr.initial_state(8, 2, 2)
    _, new, conv = cr.update(F, st, 1.0, s, p)
    assert conv.all()
    A = ct.tangent(F, st, new, 1.0, s, p)
    assert rel_err(A, elasticity.tangent(F, 19000.0, 48000.0)) < 1e-13
    assert rel_err(A, cr.tangent(F, st, new, 1.0, s, p)) < 1e-12


def test_2d_sub_stepped_points_equal_the_reference():
    """Points that converge only with sub-steps (Newton held to 6 iterations): both tangents are that of the last
    full step."""
    rng = np.random.default_rng(3)
    n = 32
    p = params2(m=0.05)
    s = slip.schmid_tensors(B2, N2, slip.rotation_2d(rng.uniform(0, np.pi, n)))
    F1 = np.eye(2) + 0.01 * rng.normal(size=(n, 2, 2))
    F2 = F1 + 0.003 * rng.normal(size=(n, 2, 2))
    old, _, new, conv = two_steps(F1, F2, s, p, 2.0, max_iter=6)
    sub = conv & ~cr.update(F2, old, 2.0, s, p, max_iter=6, max_cutback=0)[2]
    assert sub.sum() >= 5, "the test wants sub-stepped points"
    A, R = ct.tangent(F2, old, new, 2.0, s, p), cr.tangent(F2, old, new, 2.0, s, p)
    assert rel_err(A, R) < 1e-8


def test_3d_with_twins_equals_the_torch_reference():
    """HCP Mg-like: 18 systems of which 6 unidirectional twins, latent hardening, batch (grains, samples)."""
    p, s = mg_like(m=0.1, n_grains=3)
    rng = np.random.default_rng(4)
    F1 = np.eye(3) + 0.003 * rng.normal(size=(2, 3, 3, 3))  # (samples, grains, 3, 3)
    F2 = F1 + 0.002 * rng.normal(size=(2, 3, 3, 3))
    old, _, new, conv = two_steps(F1, F2, s, p, 0.1, tol=1e-12)
    assert conv.all() and (new["slip_rate"][..., 12:] > 0).any()  # some twins shear
    A = ct.tangent(F2, old, new, 0.1, s, p)
    assert A.shape == (2, 3, 3, 3, 3, 3)
    assert rel_err(A, cr.tangent(F2, old, new, 0.1, s, p)) < 1e-8


def test_shapes_broadcast_and_errors():
    p = params2()
    s = slip.schmid_tensors(B2, N2, slip.rotation_2d(np.array(0.3)))  # one orientation for all points
    F = np.broadcast_to(np.eye(2) + np.array([[0.002, 0.004], [0.0, -0.001]]), (2, 3, 2, 2)).copy()
    st = cr.initial_state((2, 3), 2, 2)
    _, new, _ = cr.update(F, st, 0.5, s, p)
    A = ct.tangent(F, st, new, np.full((2, 3), 0.5), s, p)
    assert A.shape == (2, 3, 2, 2, 2, 2)
    np.testing.assert_allclose(A, np.broadcast_to(A[0, 0], A.shape), rtol=1e-14)
    with pytest.raises(ValueError, match="schmid"):
        ct.tangent(F, st, new, 0.5, s[..., :1, :, :], p)
    with pytest.raises(ValueError, match="d = 2 or 3"):
        ct.tangent(np.ones((2, 4, 4)), st, new, 0.5, s, p)


# ------------------------------------------------------------------------------------------ against differences

def central_differences(F2, old, dt, s, p, pairs, h=1e-7, tol=1e-13):
    out = {}
    for k, l in pairs:
        dF = np.zeros(F2.shape[-2:])
        dF[k, l] = h
        Pp = cr.update(F2 + dF, old, dt, s, p, tol=tol)[0]
        Pm = cr.update(F2 - dF, old, dt, s, p, tol=tol)[0]
        out[k, l] = (Pp - Pm) / (2 * h)
    return out


def test_2d_matches_central_differences_of_the_update():
    p = params2(m=0.2)
    s = slip.schmid_tensors(B2, N2, slip.rotation_2d(np.array([0.3, 1.1, 2.5])))
    F1 = np.array([[[1.0, 0.004], [0.001, 0.998]], [[1.002, -0.003], [0.0, 1.0]], [[0.999, 0.0], [0.003, 1.0]]])
    F2 = F1 + np.array([[0.0, 0.004], [0.002, 0.0]])
    old, _, new, conv = two_steps(F1, F2, s, p, 0.5, tol=1e-13)
    assert conv.all() and new["e"].min() > 0
    A = ct.tangent(F2, old, new, 0.5, s, p)
    for (k, l), D in central_differences(F2, old, 0.5, s, p, [(0, 0), (0, 1), (1, 0), (1, 1)]).items():
        np.testing.assert_allclose(A[..., k, l], D, rtol=2e-5, atol=1e-3)


def test_3d_with_twins_matches_central_differences_of_the_update():
    p, s = mg_like(m=0.1, n_grains=3)
    F1 = np.eye(3) + 0.002 * np.array([[1.0, 0.5, 0.0], [0.5, -0.5, 0.2], [0.0, 0.2, -0.3]])
    F2 = F1 + 0.001 * np.array([[0.2, 1.0, 0.0], [0.0, -0.4, 0.3], [0.1, 0.0, 0.1]])
    old, _, new, conv = two_steps(F1, F2, s, p, 0.1, tol=1e-12)
    assert conv.all() and np.abs(new["slip_rate"]).max() > 1e-4
    A = ct.tangent(F2, old, new, 0.1, s, p)
    for (k, l), D in central_differences(F2, old, 0.1, s, p, [(0, 0), (0, 1), (1, 0), (2, 1), (2, 2)],
                                         tol=1e-12).items():
        np.testing.assert_allclose(A[..., k, l], D, rtol=1e-4, atol=2e-3)


def test_3d_twin_fraction_coupling_equals_the_reference_and_differences():
    """DAMASK-like hardening (PowerLawTotalSlip) and twins that shear only the untwinned volume (twin_shear > 0):
    the twins' increments share D = 1 + sum w q, a rank-one coupling of the kinetics (d dgamma/dx = diag - u v^T)."""
    b, n, fam, uni = slip.hcp_systems()
    law = cr.PowerLawTotalSlip.create(18, xi_0=np.array([10.0, 55, 60, 15])[fam],
                                      xi_inf=np.array([40.0, 135, 150, np.nan])[fam],
                                      h0=np.array([500.0, 500, 500, np.nan])[fam], a=2.0, twin=uni, h0_tw_sl=150.0,
                                      c3=1.0, h0_tw_tw=50.0)
    p = cr.Params.create(18, mu=17000.0, kappa=36000.0, tau0=law.xi_0, gamma_dot0=1.0, m=0.1, hardening=law,
                         unidirectional=uni, twin_shear=np.where(uni, slip.twin_shear(), 0.0))
    q, _ = np.linalg.qr(np.random.default_rng(7).normal(size=(4, 3, 3)))
    s = slip.schmid_tensors(b, n, q * np.sign(np.linalg.det(q))[:, None, None])
    step = np.diag([-1.0, 0.5, 0.5]) * 0.004  # compression along x: tension twins in some grains
    st = cr.initial_state(4, 3, 18)
    for k in (1, 2, 3):
        old = st
        F = np.broadcast_to(np.eye(3) + k * step, (4, 3, 3)).copy()
        _, st, conv = cr.update(F, old, 1.0, s, p, tol=1e-12)
        assert conv.all()
    assert cr.twin_fraction(old["e"], p).max() > 0.05 and st["slip_rate"][:, uni].max() > 1e-3
    A = ct.tangent(F, old, st, 1.0, s, p)
    assert rel_err(A, cr.tangent(F, old, st, 1.0, s, p)) < 1e-8
    for (k, l), D in central_differences(F, old, 1.0, s, p, [(0, 0), (1, 2), (2, 1)], tol=1e-12).items():
        np.testing.assert_allclose(A[..., k, l], D, rtol=1e-4, atol=2e-3)
