"""learning/laminate_argument.py: the measures of paper Section 4.1's three-variable argument and the latent size
rule, on constructed cases and on small real laminate solves (fullfield.laminate)."""
from __future__ import annotations

import numpy as np
import pytest

from dataset.sampler import sample_paths
from fullfield.laminate import layer_fields, material, solve
from learning import laminate_argument as la
from pipeline.config import make_case


# ------------------------------------------------------------------------------------------ constructed cases
def test_relative_difference_exact_values():
    a = np.array([[3.0, -1.0], [0.5, 2.0]])
    assert la.relative_difference(a, a) == 0.0
    assert la.relative_difference(a, np.zeros_like(a)) == pytest.approx(np.sqrt(2.0))
    assert la.relative_difference(a, -a) == pytest.approx(2.0)
    # x+ = 2 a, x- = a: |a| / sqrt((4 + 1) / 2 |a|^2)
    assert la.relative_difference(2 * a, a) == pytest.approx(1.0 / np.sqrt(2.5))
    assert la.relative_difference(7e-3 * a, 3.5e-3 * a) == pytest.approx(1.0 / np.sqrt(2.5))  # scale invariant
    assert la.relative_difference([3.0, 0.0], [0.0, 4.0]) == pytest.approx(5.0 / np.sqrt(12.5))
    assert np.isnan(la.relative_difference(np.zeros(3), np.zeros(3)))


def test_plastic_strain_and_component_measures():
    rng = np.random.default_rng(0)
    p11, p22 = rng.normal(size=(4, 7)), rng.normal(size=(4, 7))
    p12 = rng.normal(size=(4, 7, 2))
    eps_p = la.plastic_strain(np.stack([p11, p11], -1), np.stack([p22, p22], -1), p12)
    assert eps_p.shape == (4, 7, 2, 4)
    np.testing.assert_array_equal(eps_p[..., 2], -(eps_p[..., 0] + eps_p[..., 1]))  # incompressible
    D = la.equality_measures(eps_p)
    assert D["11"] == D["22"] == D["33"] == 0.0 and la.interface_difference(eps_p) == 0.0
    diff = np.linalg.norm(p12[..., 0] - p12[..., 1])
    assert D["12"] == pytest.approx(diff / np.sqrt(0.5 * (p12 ** 2).sum()))
    # the interface measure pools 22 and 33 (not an average of D22 and D33)
    q = eps_p.copy()
    q[..., 0, 1] += 0.1
    q[..., 0, 2] -= 0.1
    jump = q[..., 0, 1:3] - q[..., 1, 1:3]
    expect = np.linalg.norm(jump) / np.sqrt(0.5 * (q[..., 1:3] ** 2).sum())
    assert la.interface_difference(q) == pytest.approx(expect)
    # shear ratio: hard layer with a tenth of the soft layer's eps_p12
    s = rng.normal(size=(5, 3))
    assert la.shear_ratio(np.stack([s, 0.1 * s], -1), hard=1) == pytest.approx(0.1)
    assert la.shear_ratio(np.stack([0.1 * s, s], -1), hard=0) == pytest.approx(0.1)


def test_compatibility_bound_on_constructed_strains():
    """[eps_p_c] = -[eps_e_c] in the interface components => D_interface = elastic_jump_ratio <= 2 R, and the
    point-wise d <= 2 r."""
    rng = np.random.default_rng(1)
    eps_e = 1e-3 * rng.normal(size=(20, 30, 2, 4))
    eps_p = 1e-2 * rng.normal(size=(20, 30, 2, 4))
    eps_p[..., 0, 1:3] = eps_p[..., 1, 1:3] - (eps_e[..., 0, 1:3] - eps_e[..., 1, 1:3])
    D = la.interface_difference(eps_p)
    assert D == pytest.approx(la.elastic_jump_ratio(eps_e, eps_p), rel=1e-12)
    assert 0 < D <= 2 * la.elastic_plastic_ratio(eps_e, eps_p)
    assert la.elastic_plastic_ratio(eps_e, eps_p, ("22",)) == pytest.approx(
        la.rms(eps_e[..., 1]) / la.rms(eps_p[..., 1]))
    a, d, r = la.pointwise_interface(eps_e, eps_p)
    assert a.shape == d.shape == (20, 30) and np.all(d <= 2 * r * (1 + 1e-12))
    # binned: fractions of all points, medians per bin
    edges = [0.0, np.median(a), np.inf]
    b = la.binned_interface(eps_e, eps_p, edges)
    assert sum(b["fraction"]) == pytest.approx(1.0)
    low = a < edges[1]
    assert b["median_d"][0] == pytest.approx(np.median(d[low]))
    assert b["median_r"][1] == pytest.approx(np.median(r[~low]))
    empty = la.binned_interface(eps_e, eps_p, [10.0, 20.0])
    assert empty["fraction"] == [0.0] and np.isnan(empty["median_d"][0])


def test_von_mises_and_flow_statistics():
    sig = np.array([[100.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 40.0], [30.0, 30.0, 30.0, 0.0]])
    np.testing.assert_allclose(la.von_mises(sig), [100.0, np.sqrt(3.0) * 40.0, 0.0], atol=1e-12)
    time = np.linspace(0.0, 10.0, 11)
    qdot = np.array([1e-3, 0.0])  # layer + flows at 1e-3 / s, layer - is elastic
    q = np.broadcast_to(time[None, :, None] * qdot, (3, 11, 2))
    sigma0, m, q0 = np.array([50.0, 500.0]), np.array([0.2, 0.2]), np.array([1.0, 1.0])
    sbar = np.broadcast_to(sigma0 * (1 + (qdot / q0) ** m), (3, 11, 2))
    f = la.flow_statistics(q, time, sbar, sigma0, m, q0)
    assert f["flowing_fraction"] == [1.0, 0.0]
    assert f["qdot"][0] == pytest.approx(1e-3) and f["rate_term"][0] == pytest.approx(1e-3 ** 0.2)
    assert f["sbar_over_sigma0"][0] == pytest.approx(1 + 1e-3 ** 0.2) and np.isnan(f["sbar"][1])


# --------------------------------------------------------------------------------------------- latent size
def test_latent_dimension_clear_knee_and_noisy_tail():
    assert la.latent_dimension([0.9, 0.4, 0.01, 0.009, 0.011, 0.008]) == 3  # clear knee at 3
    # a noisy flat tail: the noisiest minimum (m = 6) is not chosen, the first m of the tail is
    assert la.latent_dimension([0.5, 0.2, 0.05, 0.03, 0.035, 0.028]) == 3
    assert la.latent_dimension([0.5, 0.2, 0.06, 0.03, 0.035, 0.028]) == 4
    # a curve that keeps halving has no knee: the rule gives the end of the sweep minus one
    assert la.latent_dimension([0.8, 0.4, 0.2, 0.1, 0.05, 0.025]) == 5
    # below the floor counts as good enough
    assert la.latent_dimension({1: 0.3, 2: 0.015, 3: 0.002, 4: 0.001}) == 2
    assert la.latent_dimension({2: 0.3, 3: 0.1, 4: 0.09}, factor=1.5, floor=0.0) == 3  # m from the keys
    assert la.latent_dimension([0.01, 0.005]) == 1
    for bad in ([], [0.1, np.nan], [0.1, -0.2], {0: 0.1}):
        with pytest.raises(ValueError):
            la.latent_dimension(bad)
    with pytest.raises(ValueError):
        la.latent_dimension([0.1, 0.05], factor=0.5)


def test_sharpest_drop():
    assert la.sharpest_drop([0.9, 0.4, 0.01, 0.009, 0.011, 0.008]) == 3
    assert la.sharpest_drop({3: 0.2, 4: 0.01, 5: 0.009}) == 4
    with pytest.raises(ValueError):
        la.sharpest_drop([0.1])
    with pytest.raises(ValueError):
        la.sharpest_drop({1: 0.1, 3: 0.01})


# ------------------------------------------------------------------------------------------ real laminate
def measured(sigma0, m, n=6, n_steps=200):
    """eps_p, eps_e (S, N+1, 2, 4) and q of a small laminate solve (the paper's sampler and T, 200 steps)."""
    case = make_case("laminate", "argument-test", seed=5, sigma0=sigma0, m=m, loading={"n_steps": n_steps})
    lo = case.loading
    p = sample_paths(n, 2, case.rng("paths", 0), F_max=lo["F_max"], T=lo["T"], M=lo["M"], n_steps=lo["n_steps"])
    ds = solve(p.values, p.time, case)
    assert ds.sizes["sample"] == n
    eps_p = la.plastic_strain(ds["eps_p11"].values, ds["eps_p22"].values, ds["eps_p12"].values)
    s = ds["strain"].values
    eps_bar = np.stack([s[..., 0, 0], s[..., 1, 1], s[..., 0, 1]], -1)
    eps, _ = layer_fields(eps_bar, eps_p[..., [0, 1, 3]], material(case))
    return eps_p, eps - eps_p


def test_identical_layers_give_vanishing_measures():
    eps_p, eps_e = measured([500.0, 500.0], [0.2, 0.2])  # MH
    assert la.rms(eps_p) > 1e-2  # it does flow
    D = la.equality_measures(eps_p)
    assert max(D.values()) < 1e-10 and la.interface_difference(eps_p) < 1e-10
    assert la.shear_ratio(eps_p[..., 3], hard=1) == pytest.approx(1.0, abs=1e-10)


def test_m3_contrast_small_m_equality_within_elastic_bound():
    """sigma0 = [50, 500] MPa, m = 0.01 in both layers: compatibility makes the interface equality measure the
    elastic jump ratio exactly, below 2 R; with strains ~ 0.1 >> sbar/E it is small, and the hard layer's shear
    stays small. Point-wise the equality improves with the plastic strain magnitude (the argument's 'large
    strain')."""
    eps_p, eps_e = measured([50.0, 500.0], [0.01, 0.01])
    D, R = la.interface_difference(eps_p), la.elastic_plastic_ratio(eps_e, eps_p)
    assert D == pytest.approx(la.elastic_jump_ratio(eps_e, eps_p), rel=1e-8)
    assert D <= 2 * R
    assert R < 0.15 and D < 0.25
    Dc = la.equality_measures(eps_p)
    for c in la.INTERFACE:
        assert Dc[c] <= 2 * la.elastic_plastic_ratio(eps_e, eps_p, (c,))
    assert Dc["12"] > 1.0  # eps_p12 is NOT equal in the layers ...
    assert la.shear_ratio(eps_p[..., 3], hard=1) < 0.2  # ... the hard layer's stays small
    a, d, r = la.pointwise_interface(eps_e, eps_p)
    ok = a > 0
    assert np.all(d[ok] <= 2 * r[ok] * (1 + 1e-8))
    b = la.binned_interface(eps_e, eps_p, [0.0, 0.01, 0.05, 1.0])
    assert b["median_d"][0] > 0.5 > 0.2 > b["median_d"][2]
