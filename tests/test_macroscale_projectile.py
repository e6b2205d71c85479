"""macroscale/: the rigid blunt projectile with penalty contact and its own equation of motion, and simply supported
edges (issue 18, item 1). A rigid mass on an elastic rod (against the closed-form spring-dashpot solution), a
rigid projectile rebounding from a rigid target (mass-spring: rebound speed, peak force, contact time), momentum
exchange and energy balance with an elastic plate, free and simply supported. Units: mm, s, MPa, tonne/mm^3 (N,
mJ). CPU, small meshes, one thread."""
import numpy as np
import pytest
import torch
from scipy.linalg import expm

from macroscale import explicit, mesh
from mechanics.mixed_bc import NeoHookean

torch.set_num_threads(1)

E, NU, RHO = 200e3, 0.3, 7.85e-9  # MPa, -, t/mm^3 (steel)
K, G = E / (3 * (1 - 2 * NU)), E / (2 * (1 + NU))
C_D = np.sqrt((K + 4 * G / 3) / RHO)  # dilatational wave speed, mm/s


def test_penetration_geometry_flat_and_hemisphere():
    """Depth and push-out direction of points against a projectile with its front face at the origin, axis +z,
    radius 1 mm: the nearest surface of the flat face (depth z), the shank (1 - r) or the rounded edge (radius
    e = 0.05: depth e - distance to the fillet's centre circle r = 0.95, z = 0.05); hemispherical nose: 1 minus
    the distance to the centre (0, 0, 1)."""
    pts = torch.tensor([[0.0, 0.0, 0.1], [0.5, 0.0, 0.2], [1.1, 0.0, 0.1], [0.0, 0.0, -0.1], [0.0, 0.0, 2.5],
                        [0.9, 0.0, 1.5], [0.98, 0.0, 0.04], [1.0, 0.0, 0.01]], dtype=torch.float64)
    tip = torch.zeros(3, dtype=torch.float64)
    flat = explicit.RigidProjectile((0, 0, 0), (0, 0, 1), 1.0, 1.0, (0, 0, 0), nose="flat")
    d, n = flat.penetration(pts, tip)
    fillet = 0.05 - np.hypot(0.03, 0.01)
    np.testing.assert_allclose(d.numpy(), [0.1, 0.2, 0.0, 0.0, 0.0, 0.1, fillet, 0.0], atol=1e-14)
    np.testing.assert_allclose(n[0].numpy(), [0, 0, -1])
    np.testing.assert_allclose(n[5].numpy(), [1, 0, 0])
    np.testing.assert_allclose(n[6].numpy(), np.array([0.03, 0, -0.01]) / np.hypot(0.03, 0.01), atol=1e-12)
    hemi = explicit.RigidProjectile((0, 0, 0), (0, 0, 1), 1.0, 1.0, (0, 0, 0), nose="hemisphere")
    d, n = hemi.penetration(pts, tip)
    expect = [0.1, 1 - np.hypot(0.5, 0.8), 0.0, 0.0, 0.0, 0.1, 0.0, 0.0]
    np.testing.assert_allclose(d.numpy(), expect, atol=1e-14)
    np.testing.assert_allclose(n[1].numpy(), np.array([0.5, 0, -0.8]) / np.hypot(0.5, 0.8), atol=1e-14)
    np.testing.assert_allclose(n[5].numpy(), [1, 0, 0], atol=1e-14)
    with pytest.raises(ValueError):
        explicit.RigidProjectile((0, 0, 0), (0, 0, 1), 1.0, 1.0, (0, 0, 0), nose="ogive")


def test_simply_supported_edges_mask():
    """Only the bottom-face nodes on the edge lines x = 2 or y = 2 have their z velocity held."""
    m = mesh.box((2.0, 2.0, 0.5), (4, 4, 2))
    fixed = explicit.simply_supported(m.nodes, 2, 0.0, [(0, 2.0), (1, 2.0)])
    X = m.nodes
    expect = (np.abs(X[:, 2]) < 1e-12) & ((np.abs(X[:, 0] - 2) < 1e-12) | (np.abs(X[:, 1] - 2) < 1e-12))
    np.testing.assert_array_equal(fixed[:, 2], expect)
    assert not fixed[:, :2].any() and expect.sum() == 9


def test_rigid_mass_on_elastic_rod_matches_spring_dashpot_solution():
    """A rigid mass M at V hits the end of a long elastic rod (uniaxial strain, impedance Z = rho c A). Until the
    wave returns (2L/c) the rod end is a dashpot Z; with the penalty springs k (sum of k_a over the end nodes) in
    series: d' = V_p - k d / Z, M V_p' = -k d (closed form by the matrix exponential). Checked: projectile velocity
    within 1.5 % of V, force within 3 % of Z V, momentum exchanged exactly, energy error < 1e-4."""
    L, w, V, N = 10.0, 0.25, 1e4, 40
    m = mesh.box((w, w, L), (1, 1, N))
    fixed = explicit.symmetry(m.nodes, [(0, 0.0), (0, w), (1, 0.0), (1, w)])
    Z = RHO * C_D * w * w  # N s/mm
    M = Z * L / (2 * C_D)  # decay time L/(2c): e^-4 left at 2L/c
    proj = explicit.RigidProjectile(tip=(w / 2, w / 2, L), axis=(0, 0, 1), radius=1.0, mass=M, velocity=(0, 0, -V))
    solid = explicit.Solid(m, NeoHookean(G, K), RHO, fixed=fixed, projectile=proj)
    T = 2 * L / C_D
    res = solid.run(0.0, 1.5 * T)
    t, vp, force = res["time"], -res["projectile_velocity"][:, 2], res["projectile_force"]
    k = proj.penalty * float(solid.mass[torch.as_tensor(m.nodes[:, 2] > L - 1e-9)].sum()) / res["dt"][0] ** 2
    A = np.array([[-k / Z, 1.0], [-k / M, 0.0]])
    ref = np.array([expm(A * ti) @ np.array([0.0, V]) for ti in t])  # (d, V_p)
    before = t < T
    assert np.abs(vp - ref[:, 1])[before].max() < 0.015 * V
    assert np.abs(force - k * ref[:, 0])[before].max() < 0.03 * Z * V
    total = res["momentum"][:, 2] - M * vp  # body + projectile, z
    np.testing.assert_allclose(total, -M * V, rtol=1e-10)
    assert np.abs(res["energy_error"]).max() < 1e-4 * res["projectile_kinetic"][0]
    assert vp[-1] < 0  # it has bounced off


def test_rigid_projectile_rebounds_from_rigid_target():
    """All target nodes held: the contact is the flat face on the n_c nodes under it, springs k = sum k_a. A mass on
    a spring: rebound at -V, peak force V sqrt(M k), contact time pi sqrt(M/k) (M chosen for 20 steps)."""
    m = mesh.box((2.0, 2.0, 1.0), (4, 4, 2))
    V, R = 2e5, 0.6  # 200 m/s, mm
    under = (np.abs(m.nodes[:, 2] - 1) < 1e-12) & (np.hypot(m.nodes[:, 0] - 1, m.nodes[:, 1] - 1) < R)
    probe = explicit.Solid(m, NeoHookean(G, K), RHO)
    dt = probe.stable_time_step()
    m_c = float(probe.mass[torch.as_tensor(under)].sum())
    M = 0.2 * m_c * (20 / np.pi) ** 2
    proj = explicit.RigidProjectile((1.0, 1.0, 1.0 + 1e-4), (0, 0, 1), R, M, (0, 0, -V), nose="flat")
    solid = explicit.Solid(m, NeoHookean(G, K), RHO, fixed=np.ones((m.n_nodes, 3), bool), projectile=proj)
    res = solid.run(0.0, 40 * dt)
    k = 0.2 * m_c / dt ** 2
    vp, force, t = res["projectile_velocity"][:, 2], res["projectile_force"], res["time"]
    assert vp[-1] == pytest.approx(V, rel=1e-3)
    assert force.max() == pytest.approx(V * np.sqrt(M * k), rel=0.01)
    gap = res["projectile_tip"][:, 2] - 1.0  # mm, < 0 in contact; entry and exit by linear interpolation
    on = np.flatnonzero(gap < 0)
    i, j = on[0], on[-1]
    t_in = t[i - 1] + gap[i - 1] / (gap[i - 1] - gap[i]) * dt
    t_out = t[j] + gap[j] / (gap[j] - gap[j + 1]) * dt
    assert np.all(force[i:j + 1] > 0) and np.all(force[j + 1:] == 0)
    assert t_out - t_in == pytest.approx(np.pi * np.sqrt(M / k), rel=0.005)
    assert np.abs(res["energy_error"]).max() < 0.005 * res["projectile_kinetic"][0]
    assert np.all(res["x"] == m.nodes)


@pytest.mark.parametrize("supported", [False, True])
def test_projectile_on_elastic_plate_momentum_and_energy(supported):
    """Quarter plate 3 x 3 x 0.5 mm (symmetry x = 0, y = 0), flat projectile R = 1 mm at 50 m/s, a mass of twice
    the quarter plate's. Free: the z momentum of plate + projectile is conserved (round-off). Simply supported
    (bottom edges x = 3, y = 3): the supports hold, the plate bends; energy error < 1 % of the initial either way."""
    m = mesh.box((3.0, 3.0, 0.5), (6, 6, 2))
    fixed = explicit.symmetry(m.nodes, [(0, 0.0), (1, 0.0)])
    if supported:
        fixed |= explicit.simply_supported(m.nodes, 2, 0.0, [(0, 3.0), (1, 3.0)])
    M = 2 * RHO * 3 * 3 * 0.5
    V = 5e4
    proj = explicit.RigidProjectile((0.0, 0.0, 0.5), (0, 0, 1), 1.0, M, (0, 0, -V))
    solid = explicit.Solid(m, NeoHookean(G, K), RHO, fixed=fixed, projectile=proj)
    res = solid.run(0.0, 6e-6)
    K0 = res["projectile_kinetic"][0]
    assert np.abs(res["energy_error"]).max() < 0.01 * K0
    vp = res["projectile_velocity"][:, 2]
    assert vp[-1] > -0.9 * V  # slowed down
    assert res["internal"].max() > 0.05 * K0  # and the plate took strain energy
    total = res["momentum"][:, 2] + M * vp
    if supported:
        held = fixed[:, 2] & (m.nodes[:, 0] > 1)
        assert np.all(res["velocity"][held, 2] == 0.0) and np.all(res["x"][held, 2] == 0.0)
        assert total[-1] > -0.99 * M * V  # the supports took momentum
    else:
        np.testing.assert_allclose(total, -M * V, rtol=1e-10)
