"""Johnson-Cook finite-strain J2 plasticity (mechanics/johnson_cook.py): the elastic limit, the radial return in
closed form, the flow rule, the rate dependence and objectivity."""
import numpy as np
import pytest

from mechanics import mixed_bc as mb
from mechanics.johnson_cook import JohnsonCook, hencky_stress

MU, KAPPA = 17300.0, 35200.0  # MPa


def rotation(axis, angle):
    """Rotation matrices (..., 3, 3) about unit ``axis`` by ``angle`` (rad), Rodrigues."""
    a = np.asarray(axis, float) / np.linalg.norm(axis)
    K = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    angle = np.asarray(angle, float)[..., None, None]
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K


def von_mises(s):
    dev = s - np.trace(s, axis1=-2, axis2=-1)[..., None, None] / 3 * np.eye(3)
    return np.sqrt(1.5 * (dev * dev).sum((-1, -2)))


def random_F(rng, n, scale):
    F = np.eye(3) + scale * rng.normal(size=(n, 3, 3))
    assert np.all(np.linalg.det(F) > 0)
    return F


def test_below_yield_the_response_is_exactly_hencky_elastic():
    jc = JohnsonCook(mu=MU, kappa=KAPPA, A=300.0, B=500.0, n=0.3, C=0.05, eps_dot_0=1.0)
    rng = np.random.default_rng(0)
    F = random_F(rng, 50, 0.002) @ rotation([1, 2, 3], rng.uniform(0, np.pi, 50))  # rotations included
    sigma, new = jc.update(None, F, 1e-3, jc.initial_state(50))
    assert von_mises(sigma * np.linalg.det(F)[:, None, None]).max() < 300.0
    assert sigma == pytest.approx(hencky_stress(F, MU, KAPPA), abs=1e-10)
    assert np.all(new["eps_p"] == 0)
    # Cp^-1 = I (no plastic flow), up to the round-off of exp(ln be)
    assert np.abs(new["Cp_inv"] - np.eye(3)).max() < 1e-12
    # and Hencky is Hooke at small strain: sigma = lambda tr(eps) I + 2 mu eps
    eps = 1e-7 * rng.normal(size=(3, 3))
    eps = 0.5 * (eps + eps.T)
    s = hencky_stress((np.eye(3) + eps)[None], MU, KAPPA)[0]
    hooke = (KAPPA - 2 * MU / 3) * np.trace(eps) * np.eye(3) + 2 * MU * eps
    assert s == pytest.approx(hooke, rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("stretches", [(1.02, 0.995, 0.99), (0.97, 1.01, 1.012), (1.05, 1.0, 1.0)])
def test_one_step_radial_return_matches_the_closed_form(stretches):
    """C = 0, n = 1 (sigma_y = A + B eps_p), one step F = diag(l) from the reference state: h_tr = ln l,
    q_tr = sqrt(3/2) |2 mu dev h_tr|, dgamma = (q_tr - A)/(3 mu + B), dev tau = (1 - 3 mu dgamma/q_tr) 2 mu dev h_tr,
    tr tau = 3 kappa tr h_tr, sigma = tau / det F."""
    A, B = 120.0, 800.0
    jc = JohnsonCook(mu=MU, kappa=KAPPA, A=A, B=B, n=1.0, C=0.0, eps_dot_0=1.0)
    lam = np.array(stretches)
    h = np.log(lam)
    dev = h - h.mean()
    q_tr = np.sqrt(1.5) * np.linalg.norm(2 * MU * dev)
    assert q_tr > A
    dgamma = (q_tr - A) / (3 * MU + B)
    tau = (1 - 3 * MU * dgamma / q_tr) * 2 * MU * dev + KAPPA * h.sum()
    sigma, new = jc.update(None, np.diag(lam)[None], 0.1, jc.initial_state(1))
    assert new["eps_p"][0] == pytest.approx(dgamma, rel=1e-12)
    assert sigma[0] == pytest.approx(np.diag(tau / lam.prod()), rel=1e-12, abs=1e-9)
    assert von_mises(sigma[0] * lam.prod()) == pytest.approx(A + B * dgamma, rel=1e-12)
    # plastic flow is isochoric and along the deviatoric trial direction: Cp^-1 = diag(exp(-2 dgamma N))
    N = 1.5 * 2 * MU * dev / q_tr
    assert new["Cp_inv"][0] == pytest.approx(np.diag(np.exp(-2 * dgamma * N)), rel=1e-10, abs=1e-14)
    assert np.linalg.det(new["Cp_inv"][0]) == pytest.approx(1.0, abs=1e-13)


def test_the_return_satisfies_the_rate_dependent_yield_condition():
    jc = JohnsonCook(mu=MU, kappa=KAPPA, A=150.0, B=400.0, n=0.25, C=0.03, eps_dot_0=1e-2)
    rng = np.random.default_rng(1)
    F = random_F(rng, 40, 0.03)
    state = jc.initial_state(40)
    state["eps_p"] = rng.uniform(0, 0.2, 40)
    for dt in (1e-4, 1.0, 1e3):  # eps_dot_p above and below eps_dot_0
        sigma, new = jc.update(None, F, dt, state)
        plastic = new["eps_p"] > state["eps_p"]
        assert plastic.sum() > 30
        q = von_mises(sigma * np.linalg.det(F)[:, None, None])
        y = jc.flow_stress(new["eps_p"], (new["eps_p"] - state["eps_p"]) / dt)
        assert q[plastic] == pytest.approx(y[plastic], rel=1e-10)
        assert np.all(q[~plastic] <= jc.flow_stress(state["eps_p"], 0)[~plastic])
        assert new["eps_dot_p"] == pytest.approx((new["eps_p"] - state["eps_p"]) / dt)


def _uniaxial_flow_stress(jc, rate, eps_max=0.1, n=21):
    eps = np.linspace(0, eps_max, n)
    F, S, M = mb.uniaxial_stress(eps[None])
    res = mb.drive(jc, eps / rate, F, S, M)
    assert res["converged"].all()
    return res["stress"][0, :, 0, 0], res["state"]["eps_p"][0]


def test_rate_dependence_raises_the_flow_stress_above_eps_dot_0_only():
    params = dict(mu=MU, kappa=KAPPA, A=100.0, B=300.0, n=0.5, eps_dot_0=1.0)
    jc = JohnsonCook(C=0.05, **params)
    slow, _ = _uniaxial_flow_stress(jc, 1.0)
    fast, _ = _uniaxial_flow_stress(jc, 100.0)
    plastic = slow > 101.0
    assert plastic.sum() > 10
    assert np.all(fast[plastic] > slow[plastic])
    # at eps_dot = 100 /s, once the elastic strain rate is small, the factor is ~ 1 + C ln 100
    assert fast[-1] / slow[-1] == pytest.approx((1 + 0.05 * np.log(100.0)) / 1.0, rel=0.02)
    # below eps_dot_0 no rate effect; with C = 0 none at all
    slower, _ = _uniaxial_flow_stress(jc, 1e-2)
    assert np.abs(slower - _uniaxial_flow_stress(jc, 1e-3)[0]).max() < 1e-8
    jc0 = JohnsonCook(C=0.0, **params)
    assert np.abs(_uniaxial_flow_stress(jc0, 1.0)[0] - _uniaxial_flow_stress(jc0, 100.0)[0]).max() < 1e-8


def test_objectivity_a_superposed_rotation_rotates_the_stress():
    jc = JohnsonCook(mu=MU, kappa=KAPPA, A=80.0, B=300.0, n=0.4, C=0.02, eps_dot_0=1e-3)
    rng = np.random.default_rng(2)
    n_steps, B = 12, 6
    G = rng.normal(size=(B, 3, 3))
    t = np.linspace(0, 1, n_steps + 1)
    F = np.eye(3) + 0.08 * np.sin(3 * t)[:, None, None, None] * G  # (time, B, 3, 3), non-symmetric, load-unload
    Q = rotation([0.3, -1.0, 0.5], 2.0 * t)  # time-dependent rigid rotation
    s1, s2 = jc.initial_state(B), jc.initial_state(B)
    for k in range(1, n_steps + 1):
        sig1, s1 = jc.update(F[k - 1], F[k], t[k] - t[k - 1], s1)
        sig2, s2 = jc.update(Q[k - 1] @ F[k - 1], Q[k] @ F[k], t[k] - t[k - 1], s2)
        assert sig2 == pytest.approx(Q[k] @ sig1 @ Q[k].T, abs=1e-8)
        assert s2["eps_p"] == pytest.approx(s1["eps_p"], rel=1e-10, abs=1e-14)
        assert s2["Cp_inv"] == pytest.approx(s1["Cp_inv"], abs=1e-10)
    assert s1["eps_p"].min() > 0.01  # plastic along the way


def test_det_F_not_positive_is_a_failed_point_and_bad_parameters_raise():
    jc = JohnsonCook(mu=MU, kappa=KAPPA, A=100.0, B=0.0, n=1.0, C=0.0, eps_dot_0=1.0)
    F = np.stack([np.eye(3), np.diag([1.0, 1.0, -1.0])])
    sigma, _ = jc.update(None, F, 1.0, jc.initial_state(2))
    assert np.all(np.isfinite(sigma[0])) and np.all(np.isnan(sigma[1]))
    with pytest.raises(ValueError, match="A must be positive"):
        JohnsonCook(mu=MU, kappa=KAPPA, A=0.0, B=0.0, n=1.0, C=0.0, eps_dot_0=1.0)
    with pytest.raises(ValueError, match="C must be >= 0"):
        JohnsonCook(mu=MU, kappa=KAPPA, A=1.0, B=0.0, n=1.0, C=-0.1, eps_dot_0=1.0)
    assert isinstance(jc, mb.Material)
