"""mechanics/: tensor algebra, neo-Hookean elasticity (A1) and slip systems (the crystal update: test_crystal.py)."""
import numpy as np
import pytest

from mechanics import elasticity, slip, tensor

MU, KAPPA = 19000.0, 48000.0


def random_F(d, n=5, seed=0, scale=0.05):
    return np.eye(d) + scale * np.random.default_rng(seed).normal(size=(n, d, d))


# ------------------------------------------------------------------------------------------ tensor

@pytest.mark.parametrize("d", [2, 3])
def test_closed_forms_match_lapack(d):
    A = random_F(d, n=7, scale=0.5)
    np.testing.assert_allclose(tensor.det(A), np.linalg.det(A), rtol=1e-13)
    np.testing.assert_allclose(tensor.inv(A), np.linalg.inv(A), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(A @ tensor.adjugate(A), tensor.det(A)[:, None, None] * np.eye(d), atol=1e-13)
    np.testing.assert_array_equal(tensor.transpose(A), np.swapaxes(A, -1, -2))
    assert tensor.inv(A[0]).shape == (d, d)  # no batch axis


@pytest.mark.parametrize("d", [2, 3])
def test_torch_tensors_take_the_same_path(d):
    """The tangent differentiates det, inv and P with torch: the same arithmetic (pow rounds differently)."""
    torch = pytest.importorskip("torch")
    A = random_F(d, n=6, scale=0.3)
    np.testing.assert_array_equal(tensor.inv(torch.as_tensor(A)).numpy(), tensor.inv(A))
    np.testing.assert_allclose(elasticity.stress(torch.as_tensor(A), MU, KAPPA).numpy(),
                               elasticity.stress(A, MU, KAPPA), rtol=1e-14, atol=1e-10)


@pytest.mark.parametrize("d", [2, 3])
def test_mandel_vectors_and_pressure_split(d):
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(2, 4, d, d))
    sym = lambda X: 0.5 * (X + np.swapaxes(X, -1, -2))  # noqa: E731
    np.testing.assert_allclose((tensor.to_mandel(A) * tensor.to_mandel(B)).sum(-1),
                               (sym(A) * sym(B)).sum((-1, -2)), rtol=1e-12)
    i, j = tensor.mandel_indices(d)
    assert list(zip(i.tolist(), j.tolist())) == list(tensor.MANDEL[d]) and i.dtype == np.int64
    p, dev = tensor.split_pressure(sym(A))
    np.testing.assert_allclose(p, -np.trace(A, axis1=-2, axis2=-1) / d)
    np.testing.assert_allclose(np.trace(dev, axis1=-2, axis2=-1), 0.0, atol=1e-15)
    np.testing.assert_allclose(dev - p[:, None, None] * np.eye(d), sym(A), atol=1e-15)


# ------------------------------------------------------------------------------------------ elasticity (A1)

@pytest.mark.parametrize("d", [2, 3])
def test_stress_is_the_derivative_of_the_energy(d):
    F = random_F(d, n=3)
    P = elasticity.stress(F, MU, KAPPA)
    h, fd = 1e-6, np.zeros_like(F)
    for k in range(d):
        for L in range(d):
            dF = np.zeros((d, d))
            dF[k, L] = h
            fd[:, k, L] = (elasticity.energy(F + dF, MU, KAPPA) - elasticity.energy(F - dF, MU, KAPPA)) / (2 * h)
    np.testing.assert_allclose(P, fd, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("d", [2, 3])
def test_tangent_is_the_derivative_of_the_stress(d):
    F = random_F(d, n=3, seed=2)
    mu = MU * np.array([1.0, 2.0, 0.5])  # per point
    A = elasticity.tangent(F, mu, KAPPA)
    h = 1e-7
    for k in range(d):
        for L in range(d):
            dF = np.zeros((d, d))
            dF[k, L] = h
            fd = (elasticity.stress(F + dF, mu, KAPPA) - elasticity.stress(F - dF, mu, KAPPA)) / (2 * h)
            np.testing.assert_allclose(A[..., k, L], fd, rtol=1e-6, atol=1e-3)


@pytest.mark.parametrize("d", [2, 3])
def test_cauchy_mandel_and_pressure_of_the_neo_hookean(d):
    """sigma = mu J^(-1-2/d) dev(F F^T) + kappa (J - 1) I, M = F^T P symmetric, pressure -kappa (J - 1) (eq. 27)."""
    F = random_F(d, n=4, seed=3)
    J = np.linalg.det(F)[:, None, None]
    B = F @ np.swapaxes(F, -1, -2)
    exact = MU * J ** (-1.0 - 2.0 / d) * (B - np.trace(B, axis1=-2, axis2=-1)[:, None, None] / d * np.eye(d)) \
        + KAPPA * (J - 1.0) * np.eye(d)
    P = elasticity.stress(F, MU, KAPPA)
    sigma = tensor.cauchy(P, F)
    np.testing.assert_allclose(sigma, exact, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(tensor.split_pressure(sigma)[0], -KAPPA * (J[:, 0, 0] - 1.0), rtol=1e-9)
    M = elasticity.mandel_stress(F, MU, KAPPA)
    np.testing.assert_allclose(M, np.swapaxes(F, -1, -2) @ P, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(M, np.swapaxes(M, -1, -2), atol=1e-9)


# ------------------------------------------------------------------------------------------ slip systems

def test_hcp_systems_of_magnesium():
    b, n, fam, uni = slip.hcp_systems()
    assert b.shape == n.shape == (18, 3)
    assert np.bincount(fam).tolist() == [3, 3, 6, 6] and uni.tolist() == [False] * 12 + [True] * 6
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0)
    np.testing.assert_allclose((b * n).sum(1), 0.0, atol=1e-12)
    assert np.all(b[uni, 2] * n[uni, 2] > 0)  # twins: extension along c is their positive shear
    np.testing.assert_allclose(np.abs(n[fam == 0, 2]), 1.0)  # basal planes normal to c


def test_schmid_tensors_rotations_and_orientations():
    b, n, _, _ = slip.hcp_systems()
    quat, Q = slip.random_orientations(4, np.random.default_rng(5))
    assert quat.shape == (4, 4)
    np.testing.assert_allclose(Q @ np.swapaxes(Q, -1, -2), np.broadcast_to(np.eye(3), (4, 3, 3)), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(Q), 1.0)
    np.testing.assert_array_equal(slip.random_orientations(4, np.random.default_rng(5))[0], quat)
    s = slip.schmid_tensors(b, n, Q)
    assert s.shape == (4, 18, 3, 3)
    np.testing.assert_allclose(np.trace(s, axis1=-2, axis2=-1), 0.0, atol=1e-12)  # b . n = 0
    np.testing.assert_allclose(s[2], Q[2] @ slip.schmid_tensors(b, n) @ Q[2].T, atol=1e-14)
    R = slip.rotation_2d(np.array([0.3, 2.0]))
    np.testing.assert_allclose(R @ np.swapaxes(R, -1, -2), np.broadcast_to(np.eye(2), (2, 2, 2)), atol=1e-15)
    np.testing.assert_allclose(R[0] @ [1.0, 0.0], [np.cos(0.3), np.sin(0.3)])
    with pytest.raises(ValueError, match="orthogonal"):
        slip.schmid_tensors([[1.0, 0.0]], [[1.0, 1.0]])
