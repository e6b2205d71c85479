"""macroscale/: explicit central-difference total-Lagrangian hexahedra. Elastic rod on a rigid wall (force
rho c V A for 2L/c, rebound at V), energy balance (elastic and Johnson-Cook bars), patch tests (uniform F: uniform
stress, no interior force; rigid rotation: no stress), f = dW/dx, hourglass stiffness, stable time step, meshes.
Units: mm, s, MPa, tonne/mm^3 (N, mJ). CPU, small meshes, one thread."""
import importlib.util

import numpy as np
import pytest
import torch

from macroscale import explicit, hex8, mesh
from mechanics import elasticity
from mechanics.johnson_cook import JohnsonCook
from mechanics.mixed_bc import NeoHookean

torch.set_num_threads(1)

E, RHO = 200e3, 7.85e-9  # MPa, t/mm^3 (steel)


def moduli(nu):
    """(K, G) MPa of E and nu."""
    return E / (3 * (1 - 2 * nu)), E / (2 * (1 + nu))


def rotation(axis, angle):
    """Rotation matrix (Rodrigues) about the unit ``axis`` by ``angle`` (rad)."""
    a = np.asarray(axis, float) / np.linalg.norm(axis)
    W = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(angle) * W + (1 - np.cos(angle)) * W @ W


def distorted_box():
    """A 3 x 3 x 3 box (mm) with its interior nodes moved at random (the faces stay plane)."""
    m = mesh.box((3.0, 2.0, 2.5), (3, 3, 3))
    rng = np.random.default_rng(0)
    nodes = m.nodes.copy()
    inside = np.all((nodes > 1e-9) & (nodes < np.array([3.0, 2.0, 2.5]) - 1e-9), 1)
    nodes[inside] += rng.uniform(-0.15, 0.15, (inside.sum(), 3))
    return mesh.Mesh(nodes, m.hexes)


# ----------------------------------------------------------------------------------------------- 1. rod on a wall

ROD_CASES = {
    # name: (nu, lateral symmetry planes (uniaxial strain), frame rotation)
    "uniaxial-strain nu=0.3": (0.3, True, None),
    "free nu=0": (0.0, False, None),
    "free nu=0, rotated frame": (0.0, False, rotation([1.0, 2.0, 0.5], 0.7)),
}


@pytest.mark.parametrize("case", sorted(ROD_CASES))
def test_elastic_rod_on_rigid_wall_force_duration_and_rebound(case):
    """Wall force rho c V A for 2L/c, then rebound at V. Uniaxial strain (lateral faces on symmetry planes):
    c = sqrt((K + 4/3 G)/rho); free surface with nu = 0: the bar speed sqrt(E/rho), the same number."""
    nu, constrained, R = ROD_CASES[case]
    K, G = moduli(nu)
    c = np.sqrt((K + 4 * G / 3) / RHO)
    assert nu > 0 or c == pytest.approx(np.sqrt(E / RHO), rel=1e-12)
    L, w, V = 10.0, 0.25, 1e4  # mm, mm, mm/s (10 m/s: strain V/c ~ 2e-3)
    m = mesh.box((w, w, L), (1, 1, 40) if constrained else (2, 2, 40))
    fixed = explicit.symmetry(m.nodes, [(0, 0.0), (0, w), (1, 0.0), (1, w)]) if constrained else None
    normal = np.array([0.0, 0.0, 1.0])
    if R is not None:
        m = mesh.Mesh(m.nodes @ R.T, m.hexes)
        normal = R @ normal
    solid = explicit.Solid(m, NeoHookean(G, K), RHO, fixed=fixed, wall=explicit.RigidWall((0, 0, 0), normal))
    T = 2 * L / c
    res = solid.run(-V * normal, 1.4 * T)
    t, force = res["time"], res["wall_force"]
    expected = RHO * c * V * w * w
    contact = np.flatnonzero(force > 0)
    assert t[contact[0]] == 0.0 and t[contact[-1]] == pytest.approx(T, rel=0.03)
    plateau = (t > 0.1 * T) & (t < 0.9 * T)
    assert np.abs(force[plateau] / expected - 1).max() < 0.03
    assert np.all(force[t > 1.1 * T] == 0.0)
    rebound = res["momentum"][-1] / solid.mass.sum().item()
    assert rebound @ normal == pytest.approx(V, rel=0.03)
    assert np.linalg.norm(rebound - (rebound @ normal) * normal) < 1e-6 * V


# ----------------------------------------------------------------------------------------------- 2. energy balance

@pytest.mark.parametrize("law", ["neo-Hookean", "Johnson-Cook"])
def test_energy_balance_of_a_bar_hitting_the_wall(law):
    """Quarter circular bar (two symmetry planes), free lateral surface: kinetic + internal + hourglass + contact
    = the initial kinetic energy within 1 %, hourglass energy < 5 % of the internal; the Johnson-Cook bar deforms
    plastically (internal = stored + dissipated)."""
    nu = 0.3
    K, G = moduli(nu)
    material = NeoHookean(G, K) if law == "neo-Hookean" else JohnsonCook(G, K, 300.0, 500.0, 0.3, 0.0, 1.0)
    V = 5e4 if law == "neo-Hookean" else 1e5  # mm/s
    R, L = 1.0, 5.0
    m = mesh.cylinder(R, L, 2, 2, 20)
    solid = explicit.Solid(m, material, RHO, fixed=explicit.symmetry(m.nodes, [(0, 0.0), (1, 0.0)]),
                           wall=explicit.RigidWall((0, 0, 0), (0, 0, 1)))
    res = solid.run((0, 0, -V), 1.5 * 2 * L / np.sqrt(E / RHO))
    K0 = res["kinetic"][0]
    assert K0 == pytest.approx(0.5 * RHO * float(hex8.Geometry(m.nodes, m.hexes).volume.sum()) * V ** 2, rel=1e-12)
    assert np.abs(res["energy_error"]).max() < 0.01 * K0
    assert res["internal"].max() > 0.2 * K0 and res["contact"][-1] > 0
    assert res["hourglass"].max() < 0.05 * res["internal"].max()
    assert np.all(res["hourglass"] <= 0.05 * res["internal"] + 1e-12 * K0)
    if law == "Johnson-Cook":
        assert res["state"]["eps_p"].max() > 0.01


# ----------------------------------------------------------------------------------------------- 3. patch tests

@pytest.mark.parametrize("which", ["distorted box", "cylinder"])
def test_uniform_deformation_gives_uniform_stress_and_no_interior_force(which):
    m = distorted_box() if which == "distorted box" else mesh.cylinder(1.0, 2.0, 2, 2, 3, quarter=False)
    K, G = moduli(0.3)
    solid = explicit.Solid(m, NeoHookean(G, K), RHO)
    F0 = np.array([[1.05, 0.02, -0.03], [0.01, 0.97, 0.04], [-0.02, 0.03, 1.02]])
    x = solid.tensor(m.nodes @ F0.T + [0.3, -0.1, 0.2])
    F = solid.deformation_gradient(x)
    assert torch.allclose(F, torch.as_tensor(F0).expand_as(F), rtol=0, atol=1e-13)
    ne = m.n_elements
    sigma, P, _ = solid.stress_update(torch.eye(3, dtype=torch.float64).expand(ne, 3, 3), F, 1e-6, {})
    assert float((sigma - sigma[0]).abs().max()) < 1e-9 * float(sigma.abs().max())
    f = solid.nodal_force(P).numpy()
    scale = float(P.abs().max()) * float(solid.geometry.volume.mean()) ** (2 / 3)
    lo, hi = m.nodes.min(0), m.nodes.max(0)
    radius = np.hypot(m.nodes[:, 0], m.nodes[:, 1])
    if which == "distorted box":
        boundary = np.any((np.abs(m.nodes - lo) < 1e-9) | (np.abs(m.nodes - hi) < 1e-9), 1)
    else:
        boundary = (np.abs(m.nodes[:, 2] - lo[2]) < 1e-9) | (np.abs(m.nodes[:, 2] - hi[2]) < 1e-9) \
            | (radius > 1.0 - 1e-9)
    assert boundary.sum() < m.n_nodes
    assert np.abs(f[~boundary]).max() < 1e-10 * scale
    assert np.abs(f[boundary]).max() > 1e-3 * scale  # the traction P N dA0 on the surface
    top = np.abs(m.nodes[:, 2] - hi[2]) < 1e-9  # sum of the top-face forces = P e_z A0 (the plane face's area)
    area = float(solid.geometry.volume.sum()) / (hi[2] - lo[2]) if which == "cylinder" else 3.0 * 2.0
    np.testing.assert_allclose(f[top].sum(0), P[0].numpy() @ [0, 0, 1.0] * area, rtol=1e-10)
    assert np.abs(f.sum(0)).max() < 1e-10 * scale
    f_hg, e_hg = solid.hourglass(x)
    assert float(f_hg.abs().max()) < 1e-9 * scale and float(e_hg.abs().max()) < 1e-20


@pytest.mark.parametrize("law", ["neo-Hookean", "Johnson-Cook"])
def test_rigid_rotation_gives_zero_stress(law):
    K, G = moduli(0.3)
    material = NeoHookean(G, K) if law == "neo-Hookean" else JohnsonCook(G, K, 300.0, 500.0, 0.3, 0.0, 1.0)
    m = distorted_box()
    solid = explicit.Solid(m, material, RHO)
    ne = m.n_elements
    state = material.initial_state(ne)
    F_prev = torch.eye(3, dtype=torch.float64).expand(ne, 3, 3)
    for angle in (0.4, 1.2, 2.5):  # a finite rotation in steps, the state carried along
        Q = rotation([0.3, -1.0, 0.6], angle)
        x = solid.tensor(m.nodes @ Q.T + [1.0, 2.0, -0.5])
        F = solid.deformation_gradient(x)
        assert torch.allclose(F, torch.as_tensor(Q).expand_as(F), atol=1e-13)
        sigma, P, state = solid.stress_update(F_prev, F, 1e-6, state)
        assert float(sigma.abs().max()) < 1e-6  # MPa (E = 2e5 MPa)
        assert float(solid.nodal_force(P).abs().max()) < 1e-6
        assert float(solid.hourglass(x)[0].abs().max()) < 1e-9
        F_prev = F


def test_internal_force_is_the_gradient_of_the_hyperelastic_energy():
    """f_a = d/dx_a sum_e V0_e W(F_e) (neo-Hookean, paper eq. A1) by central differences on a distorted mesh."""
    K, G = moduli(0.3)
    m = distorted_box()
    solid = explicit.Solid(m, NeoHookean(G, K), RHO)
    rng = np.random.default_rng(1)
    x = m.nodes + 0.05 * rng.normal(size=m.nodes.shape)
    d = rng.normal(size=m.nodes.shape)

    def energy(y):
        F = solid.deformation_gradient(solid.tensor(y)).numpy()
        return float((solid.geometry.volume.numpy() * elasticity.energy(F, G, K)).sum())

    F = solid.deformation_gradient(solid.tensor(x))
    _, P, _ = solid.stress_update(F, F, 1e-6, {})
    f = solid.nodal_force(P).numpy()
    h = 1e-6
    numeric = (energy(x + h * d) - energy(x - h * d)) / (2 * h)
    assert (f * d).sum() == pytest.approx(numeric, rel=1e-6)


def test_hourglass_mode_has_no_mean_strain_and_the_stated_stiffness():
    """One cube of side h: u_a = a h_a,alpha e_i gives F = I (a zero-energy mode of one-point integration) and the
    hourglass energy 1/2 k a^2, k = kappa_hg (K + 4/3 G) V0 Bbar:Bbar = 1.5 kappa_hg (K + 4/3 G) h."""
    h, a, kappa_hg = 2.0, 1e-3, 0.07
    K, G = moduli(0.3)
    m = mesh.box((h, h, h), (1, 1, 1))
    solid = explicit.Solid(m, NeoHookean(G, K), RHO, hourglass=kappa_hg)
    for alpha in range(4):
        for i in range(3):
            u = np.zeros((8, 3))
            u[m.hexes[0], i] = a * hex8.HOURGLASS_BASE[:, alpha]  # in the element's node order
            x = solid.tensor(m.nodes + u)
            assert torch.allclose(solid.deformation_gradient(x), torch.eye(3, dtype=torch.float64), atol=1e-15)
            f_hg, e_hg = solid.hourglass(x)
            k = 1.5 * kappa_hg * (K + 4 * G / 3) * h
            assert float(e_hg.sum()) == pytest.approx(0.5 * k * a * a, rel=1e-12)
            np.testing.assert_allclose(f_hg.numpy(), k * u / 8, rtol=1e-12, atol=1e-12 * k * a)


# ----------------------------------------------------------------------------------------------- time step, meshes

@pytest.mark.parametrize("safety, stable", [(0.9, True), (1.1, False)])
def test_stable_time_step_is_the_1d_courant_limit(safety, stable):
    """Uniaxial strain column of cubes: dt = safety h / c_d; the central difference is stable below h / c_d and
    unstable above it."""
    nu = 0.3
    K, G = moduli(nu)
    L, w, n = 4.0, 0.2, 20
    m = mesh.box((w, w, L), (1, 1, n))
    solid = explicit.Solid(m, NeoHookean(G, K), RHO, fixed=explicit.symmetry(m.nodes, [(0, 0.0), (0, w), (1, 0.0),
                                                                                       (1, w)]),
                           wall=explicit.RigidWall((0, 0, 0), (0, 0, 1)))
    c = np.sqrt((K + 4 * G / 3) / RHO)
    assert solid.stable_time_step(safety=safety) == pytest.approx(safety * w / c, rel=1e-12)
    try:
        res = solid.run((0, 0, -1e4), 0.8 * 2 * L / c, safety=safety)
        error = np.abs(res["energy_error"]).max() / res["kinetic"][0]
    except explicit.MacroscaleError:  # blown up: inverted elements
        error = np.inf
    assert (error < 1e-3) if stable else (error > 1.0 or not np.isfinite(error))


def test_meshes_volumes_orientation_and_mass():
    b = mesh.box((1.0, 2.0, 3.0), (2, 3, 4))
    assert (b.n_nodes, b.n_elements) == (60, 24)
    R, L, n_core, n_radial = 1.5, 4.0, 3, 2
    q = mesh.cylinder(R, L, n_core, n_radial, 5)
    full = mesh.cylinder(R, L, n_core, n_radial, 5, quarter=False)
    assert full.n_elements == 4 * q.n_elements == 4 * 5 * (n_core ** 2 + 2 * n_core * n_radial)
    segments = 2 * n_core  # chords of the boundary per quarter
    quarter_polygon = segments * 0.5 * R * R * np.sin(0.5 * np.pi / segments)
    for m, vol in ((b, 6.0), (q, quarter_polygon * L), (full, 4 * quarter_polygon * L)):
        g = hex8.Geometry(m.nodes, m.hexes)
        assert float(g.volume.sum()) == pytest.approx(vol, rel=1e-12)
        assert float(g.volume.min()) > 0 and float(g.lumped.min()) > 0
        assert float(g.lumped.sum()) == pytest.approx(vol, rel=1e-12)
    r = np.hypot(full.nodes[:, 0], full.nodes[:, 1])
    assert r.max() == pytest.approx(R, rel=1e-12)
    assert np.unique(np.round(full.nodes, 9), axis=0).shape[0] == full.n_nodes  # merged: no duplicate nodes
    with pytest.raises(ValueError, match="det"):
        hex8.Geometry(b.nodes, b.hexes[:, mesh.MIRROR])


def test_vtu_snapshots_or_a_clean_skip(tmp_path):
    K, G = moduli(0.3)
    m = mesh.box((1.0, 1.0, 2.0), (1, 1, 4))
    solid = explicit.Solid(m, NeoHookean(G, K), RHO, wall=explicit.RigidWall((0, 0, 0), (0, 0, 1)))
    if importlib.util.find_spec("meshio") is None:
        with pytest.warns(UserWarning, match="meshio"):
            res = solid.run((0, 0, -1e4), 2e-7, vtu_dir=tmp_path, vtu_every=5)
        assert res["vtu_skipped"] == "meshio is not installed" and res["vtu"] == [] and not list(tmp_path.iterdir())
    else:
        res = solid.run((0, 0, -1e4), 2e-7, vtu_dir=tmp_path, vtu_every=5)
        assert res["vtu_skipped"] is None and res["vtu"] and all(p.endswith(".vtu") for p, _ in res["vtu"])
        import meshio

        snapshot = meshio.read(res["vtu"][0][0])  # what ParaView would open
        assert snapshot.points.shape == (m.n_nodes, 3) and len(snapshot.cells_dict["hexahedron"]) == 4
    assert np.isfinite(res["kinetic"]).all()


def test_vtu_snapshot_arrays_reach_the_writer(tmp_path, monkeypatch):
    """A stand-in meshio module records what a snapshot writes: nodes, hexahedra, per-node and per-element data."""
    import importlib.machinery
    import sys
    import types

    calls = []
    fake = types.ModuleType("meshio")
    fake.__spec__ = importlib.machinery.ModuleSpec("meshio", None)
    fake.write_points_cells = lambda path, points, cells, **data: calls.append((path, points, cells, data))
    monkeypatch.setitem(sys.modules, "meshio", fake)
    K, G = moduli(0.3)
    m = mesh.box((1.0, 1.0, 2.0), (1, 1, 4))
    solid = explicit.Solid(m, NeoHookean(G, K), RHO, wall=explicit.RigidWall((0, 0, 0), (0, 0, 1)))
    res = solid.run((0, 0, -1e4), 6e-7, vtu_dir=tmp_path, vtu_every=2)
    assert res["vtu_skipped"] is None and len(calls) == len(res["vtu"]) == (res["n_steps"] + 2) // 2 >= 2
    path, points, cells, data = calls[-1]
    assert path == res["vtu"][-1][0] and path.endswith(".vtu") and points.shape == (m.n_nodes, 3)
    assert cells[0][0] == "hexahedron" and np.array_equal(cells[0][1], m.hexes)
    assert data["point_data"]["velocity"].shape == (m.n_nodes, 3)
    assert data["cell_data"]["stress"][0].shape == (m.n_elements, 9)
    assert data["cell_data"]["von_mises"][0].shape == (m.n_elements,) and data["cell_data"]["von_mises"][0].max() > 0


def test_material_without_moduli_needs_them_and_a_failed_update_is_named():
    class Broken:
        def initial_state(self, batch):
            return {}

        def update(self, F_prev, F, dt, state):
            return np.full(F.shape, np.nan), {}

    m = mesh.box((1.0, 1.0, 1.0), (1, 1, 2))
    with pytest.raises(ValueError, match="moduli"):
        explicit.Solid(m, Broken(), RHO)
    solid = explicit.Solid(m, Broken(), RHO, moduli=moduli(0.3))
    with pytest.raises(explicit.MacroscaleError, match="step 1: the material update failed in 2 elements"):
        solid.run((0, 0, -1e4), 1e-6)


# ----------------------------------------------------------------------------------------------- corotational wrapper

def test_corotational_wrapper_makes_a_material_on_symmetric_F_objective():
    """A law that reads only the upper triangle of F (as the RNO does) gives stress under a rigid rotation; wrapped
    (F = R U, sigma = R sigma(U) R^T) it gives none, and an objective law is unchanged by the wrapper."""
    from macroscale.objective import Corotational, polar

    class UpperTriangle:  # sigma = 2 mu (sym of the upper triangle of F - I): not objective
        mu, kappa = 100.0, 200.0

        def initial_state(self, batch):
            return {}

        def update(self, F_prev, F, dt, state):
            A = np.triu(F - np.eye(3))
            return 2 * self.mu * 0.5 * (A + np.swapaxes(A, -1, -2)), {}

    rng = np.random.default_rng(3)
    F = np.eye(3) + 0.2 * rng.normal(size=(5, 3, 3))
    R, U = polar(F)
    np.testing.assert_allclose(R @ U, F, atol=1e-13)
    np.testing.assert_allclose(np.swapaxes(R, -1, -2) @ R, np.broadcast_to(np.eye(3), R.shape), atol=1e-13)
    K, G = moduli(0.3)
    neo = NeoHookean(G, K)
    np.testing.assert_allclose(Corotational(neo).update(F, F, 1e-6, {})[0], neo.update(F, F, 1e-6, {})[0],
                               rtol=1e-10, atol=1e-8)
    Q = np.broadcast_to(rotation([1.0, -0.5, 0.2], 0.9), (5, 3, 3))
    I = np.broadcast_to(np.eye(3), (5, 3, 3))
    assert np.abs(UpperTriangle().update(I, Q, 1e-6, {})[0]).max() > 10.0
    assert np.abs(Corotational(UpperTriangle()).update(I, Q, 1e-6, {})[0]).max() < 1e-10
    solid = explicit.Solid(mesh.box((1.0, 1.0, 1.0), (1, 1, 1)), Corotational(UpperTriangle()), RHO)
    assert (solid.K, solid.G) == (200.0, 100.0)  # the wave-speed moduli come through the wrapper


def test_graded_layers():
    """mesh.layers: from 0 to L, thicknesses geometric with last/first = bias; a graded cylinder has the volume of
    the uniform one (the same polygonal section times L)."""
    z = mesh.layers(10.0, 5, 4.0)
    h = np.diff(z)
    assert z[0] == 0.0 and z[-1] == pytest.approx(10.0, rel=1e-14) and h[-1] / h[0] == pytest.approx(4.0)
    np.testing.assert_allclose(h[1:] / h[:-1], 4.0 ** 0.25, rtol=1e-12)
    np.testing.assert_array_equal(mesh.layers(3.0, 3), np.linspace(0.0, 3.0, 4))
    vol = [hex8.Geometry(m.nodes, m.hexes).volume.sum().item()
           for m in (mesh.cylinder(1.0, 4.0, 2, 2, 6), mesh.cylinder(1.0, 4.0, 2, 2, 6, bias=3.0))]
    assert vol[1] == pytest.approx(vol[0], rel=1e-12)
    with pytest.raises(ValueError):
        mesh.layers(1.0, 3, 0.0)
