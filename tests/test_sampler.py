"""Loading-path sampler (paper Section 2): determinism, the random-walk statistics, PCHIP, symmetry."""
import numpy as np
import pytest
from scipy import stats
from scipy.interpolate import PchipInterpolator

from dataset.sampler import pchip_slopes, sample_paths, uniform_time

F_MAX = 0.01


def draw(seed, n=2000, dim=2, **kw):
    return sample_paths(n, dim, np.random.default_rng(seed), F_max=F_MAX, n_steps=400, **kw)


def test_deterministic_for_a_seed_and_differs_between_seeds():
    a, b, c = draw(7, n=50), draw(7, n=50), draw(8, n=50)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.knot_times, b.knot_times)
    assert not np.allclose(a.values, c.values)


def test_shapes_grid_and_reference_state():
    p = draw(0, n=5, dim=3, identity=True)
    assert p.values.shape == (5, 401, 3, 3) and p.knot_values.shape == (5, 11, 3, 3)
    np.testing.assert_allclose(p.time, uniform_time(200.0, 400))
    np.testing.assert_array_equal(p.values[:, 0], np.broadcast_to(np.eye(3), (5, 3, 3)))
    np.testing.assert_array_equal(draw(0, n=5, dim=1).values[:, 0], 0.0)


def test_symmetric_with_independent_upper_components():
    p = draw(1, n=500, dim=3)
    np.testing.assert_array_equal(p.values, np.swapaxes(p.values, -1, -2))
    k = p.knot_values[:, -1]
    upper = np.stack([k[:, i, j] for i in range(3) for j in range(i, 3)])
    corr = np.corrcoef(upper)
    assert np.abs(corr - np.eye(6)).max() < 0.15  # six independent walks, not copies


def test_knot_times_are_uniform_and_ordered():
    p = draw(2)
    inner = p.knot_times[:, 1:-1]
    assert np.all(np.diff(p.knot_times, axis=-1) > 0)
    assert np.all(p.knot_times[:, 0] == 0) and np.all(p.knot_times[:, -1] == 200.0)
    assert stats.kstest(inner.ravel() / 200.0, "uniform").pvalue > 1e-3


def test_knot_steps_are_rademacher_times_sqrt_dt():
    p = draw(3)
    steps = np.diff(p.knot_values[:, :, 0, 1], axis=-1)
    scale = F_MAX * np.sqrt(np.diff(p.knot_times, axis=-1))
    np.testing.assert_allclose(np.abs(steps), scale, rtol=1e-12)
    signs = np.sign(steps).ravel()
    assert stats.binomtest(int((signs > 0).sum()), signs.size).pvalue > 1e-3


def test_endpoint_variance_is_brownian():
    """Var F_ij(T) = F_max^2 * sum_m dt_m = F_max^2 T: the knots are a random walk in time."""
    p = draw(4, n=20000, dim=1)
    var = p.values[:, -1, 0, 0].var()
    assert var == pytest.approx(F_MAX**2 * 200.0, rel=0.05)


def test_pchip_equals_scipy_and_does_not_overshoot():
    p = draw(5, n=30)
    for s in range(30):
        ref = PchipInterpolator(p.knot_times[s], p.knot_values[s, :, 0, 0])(p.time)
        np.testing.assert_allclose(p.values[s, :, 0, 0], ref, rtol=0, atol=1e-15)
    x, y = p.knot_times, p.knot_values[..., 1, 1]
    seg = np.clip(np.searchsorted(x[0], p.time, side="right") - 1, 0, 9)
    lo = np.minimum(y[0, seg], y[0, seg + 1]) - 1e-15
    hi = np.maximum(y[0, seg], y[0, seg + 1]) + 1e-15
    assert np.all((p.values[0, :, 1, 1] >= lo) & (p.values[0, :, 1, 1] <= hi))
    assert pchip_slopes(x, y).shape == y.shape


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="dim=4"):
        sample_paths(3, 4, np.random.default_rng(0), F_max=0.1)


def test_volumetric_scaling_of_F_paths():
    """ln det F is scaled by v, the isochoric part F / det(F)^(1/3) is the paper sampler's (same draws)."""
    full = draw(4, n=20, dim=3, identity=True)
    for v in (0.0, 0.1, 0.5):
        p = draw(4, n=20, dim=3, identity=True, volumetric=v)
        J, J_full = np.linalg.det(p.values), np.linalg.det(full.values)
        np.testing.assert_allclose(np.log(J), v * np.log(J_full), atol=1e-12)
        iso = lambda F, J: F / np.cbrt(J)[..., None, None]  # noqa: E731
        np.testing.assert_allclose(iso(p.values, J), iso(full.values, J_full), atol=1e-12)
        np.testing.assert_allclose(p.values, np.swapaxes(p.values, -1, -2), atol=0)
        np.testing.assert_allclose(np.log(np.linalg.det(p.knot_values)),
                                   v * np.log(np.linalg.det(full.knot_values)), atol=1e-12)
    assert np.ptp(np.log(np.linalg.det(full.values))) > 0.3  # the paper sampler changes volume a lot


def test_volumetric_scaling_of_strain_paths_and_bad_values():
    full, p = draw(5, n=10, dim=2), draw(5, n=10, dim=2, volumetric=0.25)
    tr = lambda e: np.trace(e, axis1=-2, axis2=-1)  # noqa: E731
    np.testing.assert_allclose(tr(p.values), 0.25 * tr(full.values), atol=1e-15)
    dev = lambda e: e - tr(e)[..., None, None] / 2 * np.eye(2)  # noqa: E731
    np.testing.assert_allclose(dev(p.values), dev(full.values), atol=1e-15)
    for v in (-0.1, 1.5):
        with pytest.raises(ValueError, match="volumetric"):
            draw(0, n=2, volumetric=v)


def test_shard_paths_error_names_the_case_and_shard():
    """A volumetric scaling that cannot apply (det F <= 0 from a huge F_max) names the case and the shard."""
    from dataset.case import Case
    from dataset.shards import shard_inputs
    case = Case("taylor_mg", "BIG", {"seed": 0, "loading": {"T": 200.0, "M": 10, "n_steps": 20, "F_max": 1.0,
                                                              "volumetric": 0.5}})
    with pytest.raises(ValueError, match=r"taylor_mg/BIG shard 3: .*det F"):
        shard_inputs(case, 3, 50, 3, "F")
