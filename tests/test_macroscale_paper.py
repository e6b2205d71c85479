"""macroscale/paper.py and macroscale/figures.py: the paper's two problems (Figures 11, 12) run end to end on tiny
meshes with a Mg-like J2 stand-in (Johnson-Cook, Hill moduli of Mg, A = 100 MPa: an illustration, not the RNO) and
drawn. Checked: energy balance, the reaction force's first plateau (the elastic-plastic wave: between the yield
stress and rho c V times the area), snapshots at the requested times, the section faces, the plate's supports and
the files written. Units: mm, s, MPa. CPU, one thread."""
import numpy as np
import pytest
import torch

from macroscale import figures, mesh, paper
from mechanics.johnson_cook import JohnsonCook

torch.set_num_threads(1)

MG_J2 = JohnsonCook(mu=17.30e3, kappa=35.23e3, A=100.0, B=200.0, n=0.5, C=0.0, eps_dot_0=1.0)


def test_section_faces_and_von_mises():
    """The faces on y = 0 of a 2 x 2 x 3 box: 2 x 3 of them, all nodes at y = 0; von Mises of uniaxial stress s is
    |s|, of a pressure 0."""
    m = mesh.box((1.0, 1.0, 1.5), (2, 2, 3))
    e, faces = paper.section_faces(m)
    assert len(e) == 6 and np.all(m.nodes[faces][..., 1] == 0.0)
    assert paper.von_mises(np.diag([-300.0, 0, 0])) == pytest.approx(300.0)
    assert paper.von_mises(-50.0 * np.eye(3)) == pytest.approx(0.0, abs=1e-12)


def test_taylor_impact_and_figure(tmp_path):
    """Mg-like bar (5 mm x 1 mm, 200 m/s) to 2 us on mesh (2, 2, 10): energy error < 1 %, the wall force after the
    first contact has its mean between the yield force A pi R^2 and the elastic rho c V pi R^2, its impulse is the
    bar's momentum change (2 % of the initial momentum), the bar shortens and
    mushrooms, snapshots at 1 and 2 us; fig12 writes png and pdf."""
    runs = [paper.taylor_impact(MG_J2, t_end=2e-6, mesh=(2, 2, 10), safety=s, snapshot_times=[1e-6, 2e-6])
            for s in (0.9, 0.45)]
    r = runs[0]
    assert r["energy_error"] < 0.01 and r["hourglass_over_internal"] < 0.05
    t, force = np.asarray(r["time"]), np.asarray(r["reaction_force"])
    area = np.pi * 0.25  # mm^2
    c = np.sqrt((MG_J2.kappa + 4 * MG_J2.mu / 3) / paper.MG["density"])
    mean = force[(t > 0.2e-6) & (t < 1.0e-6)].mean()  # the force rings (no bulk viscosity): its mean
    assert 0.5 * MG_J2.A * area < mean < paper.MG["density"] * c * 2e5 * area
    p = np.asarray(r["momentum"])  # the wall's impulse is the bar's momentum change
    impulse = np.concatenate([[0.0], np.cumsum(0.5 * (force[1:] + force[:-1]) * np.diff(t))])
    assert np.abs(impulse - (p - p[0])).max() < 0.02 * abs(p[0])
    assert r["length"] < 5.0 - 0.5 * 2e5 * 2e-6 and r["radius"] > 0.5
    assert [s["time"] for s in r["snapshots"]] == pytest.approx([1e-6, 2e-6], rel=0.02)
    assert len(r["snapshots"][0]["polygons"]) == len(r["snapshots"][0]["von_mises"]) == 4 * 10
    paths = figures.fig12(stem=tmp_path / "fig12", runs=runs, note="J2 stand-in")
    assert all(p.exists() and p.stat().st_size > 1000 for p in paths)


def test_plate_impact_and_figure(tmp_path):
    """Coarse quarter plate (1 mm elements, 2 layers), flat projectile R = 2 mm at 200 m/s, 1 us: energy error
    < 1 %, the projectile slows, the plate deflects under it and its supported bottom edges stay at z = 0; fig11
    writes png and pdf."""
    kw = {"t_end": 1e-6, "element": 1.0, "layers": 2, "snapshot_times": [1e-6]}
    base = paper.plate_impact(MG_J2, **kw)
    assert base["energy_error"] < 0.01
    v = np.asarray(base["projectile_velocity"])
    assert v[0] == 2e5 and 0 < v[-1] < 2e5
    assert base["max_deflection"] > 0.05 and max(base["contact_force"]) > 0
    thin = paper.plate_impact(MG_J2, thickness=0.5, **kw)
    paths = figures.fig11(stem=tmp_path / "fig11", base=base, velocity_sweep=[base], thickness_sweep=[thin, base])
    assert all(p.exists() and p.stat().st_size > 1000 for p in paths)


def test_bulk_viscosity_stress_and_energy():
    """One cube compressed at a uniform volumetric rate: the viscous stress is rho l eps_v (b1 c + b2^2 l |eps_v|) I
    (compression) and only b1's term in expansion; a Johnson-Cook bar on the wall with it on still balances its
    energy (< 1 %) and the stable step is shorter than without."""
    from macroscale import explicit

    m = mesh.box((1.0, 1.0, 1.0), (1, 1, 1))
    solid = explicit.Solid(m, MG_J2, paper.MG["density"], bulk_viscosity=(0.06, 1.2))
    dt, s = 1e-8, 0.999
    F0, F1 = torch.eye(3, dtype=torch.float64)[None], (s * torch.eye(3, dtype=torch.float64))[None]
    sigma, _ = solid._bulk_viscosity(F0, F1, dt, torch.zeros(1, 3, 3, dtype=torch.float64))
    rate = 3 * np.log(s) / dt
    J = s ** 3
    rho, l, c = paper.MG["density"] / J, J ** (1 / 3), solid.wave_speed
    expect = rho * l * rate * (0.06 * c + 1.44 * l * abs(rate))
    np.testing.assert_allclose(sigma[0].numpy(), expect * np.eye(3), rtol=1e-12)
    sigma, _ = solid._bulk_viscosity(F1, F0, dt, torch.zeros(1, 3, 3, dtype=torch.float64))
    np.testing.assert_allclose(sigma[0, 0, 0].item(), paper.MG["density"] * 1.0 * (-rate) * 0.06 * c, rtol=1e-12)
    r = paper.taylor_impact(MG_J2, t_end=1e-6, mesh=(2, 2, 10))
    r0 = paper.taylor_impact(MG_J2, t_end=1e-6, mesh=(2, 2, 10), bulk_viscosity=None)
    assert r["energy_error"] < 0.01 and r["steps"] > r0["steps"]
