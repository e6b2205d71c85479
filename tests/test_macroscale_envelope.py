"""macroscale/envelope.py: the training-envelope guard (issue 18, item 3). Ranges from samples, the deviation of a
point outside, U (the stretch the corotational RNO sees) against F under a rotation, and the per-element record of a
run. Dimensionless; CPU."""
import numpy as np
import pytest
import torch

from macroscale import explicit, mesh
from macroscale.envelope import Envelope
from mechanics.johnson_cook import JohnsonCook

torch.set_num_threads(1)


def rotation_z(angle):
    """Rotation about z by ``angle`` (rad)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def test_envelope_from_samples_and_deviation():
    """The range of F - I over samples; a point inside has deviation 0, one component beyond hi by 0.02 has 0.02
    (and tol 0.03 brings it back inside)."""
    rng = np.random.default_rng(1)
    S = rng.uniform(-0.05, 0.05, (200, 10, 3, 3))
    S = 0.5 * (S + np.swapaxes(S, -1, -2))
    F_train = np.eye(3) + S
    env = Envelope.from_samples(F_train, measure="F")
    np.testing.assert_allclose(env.lo, S.reshape(-1, 3, 3).min(0))
    np.testing.assert_allclose(env.hi, S.reshape(-1, 3, 3).max(0))
    probe = np.stack([np.eye(3), np.eye(3)])
    probe[1, 0, 0] += env.hi[0, 0] + 0.02
    np.testing.assert_allclose(env.deviation(probe), [0.0, 0.02], atol=1e-15)
    np.testing.assert_array_equal(env.outside(probe), [False, True])
    assert not Envelope(env.lo, env.hi, "F", tol=0.03).outside(probe).any()
    with pytest.raises(ValueError):
        Envelope(env.hi + 1, env.lo)


def test_envelope_of_the_stretch_ignores_rotation():
    """A stretch inside the range, rotated by 30 degrees: inside when U is compared (the corotational RNO's
    input), outside when F is."""
    lo, hi = np.full((3, 3), -0.02), np.full((3, 3), 0.02)
    U = np.diag([1.01, 0.995, 0.995])
    F = (rotation_z(np.pi / 6) @ U)[None]
    assert not Envelope(lo, hi, "U").outside(F)[0]
    assert Envelope(lo, hi, "F").outside(F)[0]
    assert Envelope(lo, hi, "U").deviation(U[None])[0] == 0.0


def test_run_records_the_share_of_elements_outside():
    """A Johnson-Cook bar on a wall at 100 m/s (test_macroscale's energy case): with an envelope of +-1e-3 most of
    the bar leaves it near the wall; with +-10 none does. The record: outside_fraction per time, per element the
    largest deviation and whether it ever left."""
    m = mesh.cylinder(1.0, 5.0, 2, 2, 20)
    fixed = explicit.symmetry(m.nodes, [(0, 0.0), (1, 0.0)])
    jc = JohnsonCook(mu=200e3 / 2.6, kappa=200e3 / 1.2, A=300.0, B=500.0, n=0.3, C=0.0, eps_dot_0=1.0)
    solid = explicit.Solid(m, jc, 7.85e-9, fixed=fixed, wall=explicit.RigidWall((0, 0, 0), (0, 0, 1)))
    small = Envelope(np.full((3, 3), -1e-3), np.full((3, 3), 1e-3))
    res = solid.run((0, 0, -1e5), 5e-6, envelope=small, record_every=5)
    env = res["envelope"]
    assert res["outside_fraction"].shape == res["time"].shape and res["outside_fraction"][0] == 0.0
    assert 0.5 < env["fraction_ever"] <= 1.0 and 0 < env["fraction_point_steps"] < env["fraction_ever"]
    near = m.nodes[m.hexes].mean(1)[:, 2] < 1.0
    assert env["ever_outside"][near].all() and env["max_deviation"][near].min() > 1e-2
    big = solid.run((0, 0, -1e5), 5e-6, envelope=Envelope(np.full((3, 3), -10.0), np.full((3, 3), 10.0)))
    assert big["envelope"]["fraction_ever"] == 0.0 and big["outside_fraction"].max() == 0.0


def test_time_scaled_material_runs_on_the_stretched_clock():
    """TimeScaled(material, s) over dt equals the material over s dt (a rate-dependent Johnson-Cook law, C > 0:
    the stress differs from the unscaled one); it passes kappa and mu through."""
    from macroscale.objective import TimeScaled

    jc = JohnsonCook(mu=80e3, kappa=160e3, A=300.0, B=500.0, n=0.3, C=0.05, eps_dot_0=1.0)
    F = np.diag([1.0, 1.0, 0.98])[None].repeat(2, 0)
    I = np.eye(3)[None].repeat(2, 0)
    scaled = TimeScaled(jc, 1e6)
    s_scaled, st = scaled.update(I, F, 1e-8, jc.initial_state(2))
    s_direct, _ = jc.update(I, F, 1e-2, jc.initial_state(2))
    s_plain, _ = jc.update(I, F, 1e-8, jc.initial_state(2))
    np.testing.assert_array_equal(s_scaled, s_direct)
    assert np.abs(s_plain - s_scaled).max() > 10.0  # MPa: the rate term sees 1e6 times the rate
    assert (scaled.kappa, scaled.mu) == (jc.kappa, jc.mu)
    with pytest.raises(ValueError):
        TimeScaled(jc, 0.0)
