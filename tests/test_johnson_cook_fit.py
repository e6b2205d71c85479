"""Johnson-Cook fits (mechanics.johnson_cook_fit): known parameters are recovered from JC-generated data, on paths
of prescribed F (the random training paths) and on the classical mixed paths."""
import numpy as np
import pytest

from mechanics import classical_paths as cp
from mechanics import johnson_cook_fit as jf
from mechanics.johnson_cook import JohnsonCook
from mechanics.mixed_bc import drive, to_components

MU, KAPPA = 17299.8, 35229.3  # the taylor_mg moduli (MPa)
TRUE = {"A": 80.0, "B": 300.0, "n": 0.4, "C": 0.03}


def smooth_U(S=6, n_time=61, T=60.0, seed=0):
    """(time, symmetric F components (S, n_time, 6)): sums of sines, strain rates ~1e-3..1e-2 1/s."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, T, n_time)
    a = rng.normal(size=(S, 3, 6)) * 0.06
    U = np.einsum("skc,tk->stc", a, np.sin(np.pi * np.outer(t, [1, 2, 3]) / (2 * T))) + to_components(np.eye(3))
    return t, U


def test_response_of_prescribed_F_is_the_drivers():
    jc = JohnsonCook(mu=MU, kappa=KAPPA, eps_dot_0=1e-3, **TRUE)
    t, U = smooth_U(S=3, n_time=21)
    mask = np.zeros(U.shape, bool)
    direct = jf.response(jc, t, U, 0 * U, mask)
    # the same path with one stress component prescribed at the value the direct run gives
    mask2 = mask.copy()
    mask2[:, :, 3] = True
    via = jf.response(jc, t, U, direct, mask2)
    # the driver holds sigma_22 to rtol 1e-8 of |sigma| (~1e3 MPa here), so F_22 and the stress agree to ~1e-5 MPa
    assert np.abs(via - direct).max() <= 1e-7 * np.abs(direct).max()
    assert np.abs(direct).max() > 100  # beyond yield


def test_recovers_known_parameters_from_prescribed_F_paths():
    jc = JohnsonCook(mu=MU, kappa=KAPPA, eps_dot_0=jf.EPS_DOT_0, **TRUE)
    t, U = smooth_U()
    mask = np.zeros(U.shape, bool)
    truth = jf.response(jc, t, U, 0 * U, mask)
    r = jf.fit((t, U, 0 * U, mask, truth, 1.0), mu=MU, kappa=KAPPA)
    assert r.success
    for p in jf.PARAMS:
        assert r.params[p] == pytest.approx(TRUE[p], rel=1e-6), (p, r.params)
    assert r.material().flow_stress(0.1, 1e-2) == pytest.approx(jc.flow_stress(0.1, 1e-2), rel=1e-8)
    # the starting point was wrong: the fit moved
    assert r.history[0]["cost"] > 1e3 * r.cost


def test_recovers_known_parameters_from_classical_paths():
    """Uniaxial tension and one cyclic path through the driver, 15 steps of 4 s, two groups on two grids."""
    jc = JohnsonCook(mu=MU, kappa=KAPPA, eps_dot_0=jf.EPS_DOT_0, **TRUE)
    t1 = cp.classical_time(4.0)
    t2 = cp.classical_time(3.0, eps_max=0.15)
    groups = []
    for t, (F, s, m) in ((t1, cp.uniaxial_tension(t1)), (t2, cp.uniaxial_cyclic(t2, cp.RATE, 0.0375))):
        truth = to_components(drive(jc, t, F, s, m)["stress"])
        groups.append((t, F, s, m, truth, 1.0))
    r = jf.fit(groups, mu=MU, kappa=KAPPA, x0={"A": 120.0, "B": 150.0, "n": 0.6, "C": 0.0})
    assert r.success
    for p in ("A", "B", "n"):
        assert r.params[p] == pytest.approx(TRUE[p], rel=1e-4), (p, r.params)
    assert r.params["C"] == pytest.approx(TRUE["C"], abs=1e-4)


def test_weights_enter_as_squares():
    t, U = smooth_U(S=2, n_time=11)
    mask = np.zeros(U.shape, bool)
    truth = np.ones(U.shape)
    r1 = jf.residuals(TRUE, (t, U, 0 * U, mask, truth, 1.0), mu=MU, kappa=KAPPA)
    r4 = jf.residuals(TRUE, (t, U, 0 * U, mask, truth, 4.0), mu=MU, kappa=KAPPA)
    assert np.allclose(r4, 2 * r1)
