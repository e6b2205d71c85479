"""The classical paths of Figure 9 (mechanics.classical_paths) and their Taylor Mg truth (taylor.classical)."""
import numpy as np
import pytest
from scipy.optimize import brentq

from dataset.case import Case
from mechanics import classical_paths as cp
from mechanics.mixed_bc import COMPONENTS, from_components
from taylor.classical import classical_arrays
from taylor.uniaxial import MAIN_CASE, SAMPLER_RATE

C11, C22, C33 = (COMPONENTS.index((i, i)) for i in range(3))


def equivalent_log_strain(F):
    """von Mises equivalent of the deviatoric Hencky strain of F (..., 3, 3)."""
    w = np.linalg.eigvalsh(F @ np.swapaxes(F, -1, -2))
    h = 0.5 * np.log(w)
    h = h - h.mean(-1, keepdims=True)
    return np.sqrt(2.0 / 3.0 * (h * h).sum(-1))


def test_defaults_are_the_training_rate_and_grid():
    assert cp.RATE == SAMPLER_RATE  # the sampler's mean von Mises strain rate (taylor.uniaxial)
    t = cp.classical_time(1.0)
    assert t[0] == 0 and t[-1] == pytest.approx(cp.EPS_MAX / cp.RATE) and np.allclose(np.diff(t), 1.0)
    t = cp.classical_time(0.2)
    assert t.size == 301 and np.allclose(np.diff(t), 0.2)


def test_uniaxial_tension_control():
    t = cp.classical_time(1.0)
    F, s, m = cp.uniaxial_tension(t)
    assert F.shape == s.shape == m.shape == (1, t.size, 6)
    assert np.allclose(np.log(F[0, :, C11]), cp.RATE * t, rtol=0, atol=1e-15)
    assert not m[..., C11].any() and m[..., [1, 2, 3, 4, 5]].all() and np.all(s == 0)


def test_triangle_wave():
    t = np.linspace(0.0, 60.0, 601)
    for a in cp.AMPLITUDES:
        e = cp.triangle(t, cp.RATE, a)
        assert e[0] == 0 and e[1] > 0  # starts in tension
        assert e.max() == pytest.approx(a) and e.min() == pytest.approx(-a)
        assert np.allclose(np.abs(np.diff(e)) / np.diff(t), cp.RATE, rtol=1e-9)  # turning points on the grid
        peaks = t[1:-1][(e[1:-1] > e[:-2]) & (e[1:-1] >= e[2:])]
        assert np.allclose(peaks, a / cp.RATE + np.arange(peaks.size) * 4 * a / cp.RATE)  # period 4 a / rate
    n_cycles = cp.EPS_MAX / (4 * np.array(cp.AMPLITUDES))
    assert np.allclose(n_cycles, [3, 1.5, 1])


def test_cavity_expansion_is_the_wall_of_an_incompressible_sphere():
    t = cp.classical_time(1.0)
    F, s, m = cp.cavity_expansion(t)
    assert not m.any()  # all of F prescribed
    U = from_components(F[0])
    lam = U[:, 1, 1]
    assert np.allclose(U[:, 2, 2], lam) and np.allclose(U[:, 0, 0], lam ** -2)
    assert np.allclose(np.linalg.det(U), 1.0, atol=1e-14)
    assert np.allclose(equivalent_log_strain(U), cp.RATE * t, atol=1e-12)
    # the radial stretch is dr/dr0 at r0 = a0 of the incompressible map r^3 - a^3 = r0^3 - a0^3 (Hill 1950)
    a0 = 1.0
    for L in lam[[10, 30, 60]]:
        a = L * a0
        r = lambda r0: (r0 ** 3 + a ** 3 - a0 ** 3) ** (1 / 3)  # noqa: E731
        h = 1e-6
        assert (r(a0 + h) - r(a0 - h)) / (2 * h) == pytest.approx(L ** -2, rel=1e-8)
        # and the hoop stretch is r/r0 at the wall
        assert brentq(lambda r0: r(r0) - a, 0.5 * a0, 2 * a0) == pytest.approx(a0)


def test_controls_in_order():
    names, F, s, m = cp.classical_controls(cp.classical_time(2.0))
    assert names == ["uniaxial", "cavity", "cyclic_0.025", "cyclic_0.05", "cyclic_0.075"]
    assert F.shape == (5, 31, 6) and [cp.kind_of(n) for n in names] == ["uniaxial", "cavity"] + ["cyclic"] * 3
    with pytest.raises(ValueError):
        cp.kind_of("shear")


def test_taylor_mg_classical_paths_small():
    """3 grains of the taylor_mg defaults, 12 steps of 5 s: every path converges, the prescribed F components are
    exact, the prescribed stresses hold, and the polycrystal yields (flow stress well above its elastic limit)."""
    case = Case("taylor_mg", "classical", {**MAIN_CASE, "n_grains": 3})
    r = classical_arrays(case, 5.0)
    assert r["converged"].all() and not r["errors"]
    names, F_t, s_t, m = cp.classical_controls(r["time"])
    assert list(r["names"]) == names
    Fc = r["F"][..., [0, 0, 0, 1, 1, 2], [0, 1, 2, 1, 2, 2]]
    Sc = r["stress"][..., [0, 0, 0, 1, 1, 2], [0, 1, 2, 1, 2, 2]]
    assert np.array_equal(Fc[~m], F_t[~m])
    scale = np.maximum(1.0, np.linalg.norm(r["stress"], axis=(-1, -2)))[..., None]
    assert np.all(np.abs(Sc - s_t)[m] <= 1.01e-6 * np.broadcast_to(scale, Sc.shape)[m])
    s11 = r["stress"][..., 0, 0]
    assert s11[0, -1] > 150  # tension to 30 %: above the ~100 MPa yield (docs/taylor.md)
    assert s11[1, -1] < -100 and r["stress"][1, -1, 1, 1] > 0  # cavity: radial compression, hoop tension
    assert s11[3].max() > 50 and s11[3].min() < -50  # cyclic: tension and compression


def test_classical_dataset_is_a_contract_store(tmp_path):
    from dataset.contract import validate
    from dataset.store import open_store, write_atomic
    from taylor import classical, magnesium

    train = Case("taylor_mg", "MG", {**MAIN_CASE, "n_grains": 2})
    ds = classical.classical_dataset(train, 10.0, amplitudes=(0.075,))
    validate(ds)
    assert ds.attrs["case"] == "classical" and list(ds["path_name"].values) == ["uniaxial", "cavity", "cyclic_0.075"]
    assert set(ds["split"].values) == {"test"} and ds.sizes["time"] == 7
    # the training case's polycrystal (the texture depends on the case name)
    assert np.array_equal(ds["orientation"].values, magnesium.texture(train)[0])
    back = open_store(write_atomic(ds, tmp_path / "classical.zarr"))
    assert np.array_equal(back["stress"].values, ds["stress"].values)
