"""Slip systems: Schmid tensors s_i = b_i (x) n_i in the sample frame, 2D rotations, and the HCP systems of
magnesium (slip and twins, from damask) with random grain orientations.

HCP systems (in this order, N = 18): 3 basal <a> {0001}<11-20>, 3 prismatic <a> {10-10}<11-20>, 6 second-order
pyramidal <c+a> {11-22}<11-23> (damask slip families 0, 1, 4) and 6 {10-12}<10-11> tension twins (damask twin
family 0), the twins as unidirectional pseudo-slip. Vectors are unit, in the Cartesian lattice frame of damask
(a1 along x, c along z).
"""
from __future__ import annotations

import numpy as np

C_OVER_A = 1.624  # Mg (Chang & Kochmann 2015 use c/a = 1.624)
HCP_FAMILIES = ("basal", "prismatic", "pyramidal_ca", "tension_twin")
HCP_SLIP_FAMILIES = {"basal": 0, "prismatic": 1, "pyramidal_ca": 4}  # damask kinematics('slip') family index
HCP_TWIN_FAMILY = 0  # damask kinematics('twin'): {10-12}<-1011> tension twins


def twin_shear(c_over_a: float = C_OVER_A) -> float:
    """Characteristic shear of the {10-12} tension twin, |3 - (c/a)^2| / (sqrt(3) c/a) (Christian & Mahajan 1995,
    Prog. Mater. Sci. 39:1, Table 4): 0.129 for Mg."""
    return abs(3.0 - c_over_a**2) / (np.sqrt(3.0) * c_over_a)


def schmid_tensors(b, n, rotation=None) -> np.ndarray:
    """Schmid tensors s_i = (Q b_i) (x) (Q n_i) (..., N, d, d) from directions b (N, d) and normals n (N, d).

    b and n are normalised; they must be orthogonal (|b.n| < 1e-8 after normalisation). ``rotation`` Q (..., d, d)
    maps lattice to sample coordinates (v_sample = Q v_lattice), one per point or grain; None means Q = I.
    """
    b = np.asarray(b, float)
    n = np.asarray(n, float)
    if b.ndim != 2 or b.shape != n.shape or b.shape[1] not in (2, 3):
        raise ValueError(f"schmid_tensors: b and n must both be (N, d) with d = 2 or 3, got {b.shape}, {n.shape}")
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    n = n / np.linalg.norm(n, axis=1, keepdims=True)
    if np.abs((b * n).sum(1)).max() > 1e-8:
        raise ValueError("schmid_tensors: slip directions b_i must be orthogonal to normals n_i")
    s = b[:, :, None] * n[:, None, :]
    if rotation is None:
        return s
    Q = np.asarray(rotation, float)
    if Q.shape[-2:] != s.shape[-2:]:
        raise ValueError(f"schmid_tensors: rotation must be (..., {b.shape[1]}, {b.shape[1]}), got {Q.shape}")
    return np.einsum("...ia,nab,...jb->...nij", Q, s, Q)


def rotation_2d(theta) -> np.ndarray:
    """Rotation matrices (..., 2, 2) of angles theta (rad, counter-clockwise)."""
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def hcp_systems(c_over_a: float = C_OVER_A):
    """(b (18, 3), n (18, 3), family index (18,) into HCP_FAMILIES, unidirectional (18,)) in the lattice frame,
    unit vectors. Twin directions are oriented so that positive shear is the twinning sense (c-axis extension)."""
    from ._damask import damask

    crystal = damask.Crystal(lattice="hP", a=1.0, c=c_over_a)
    slip, twin = crystal.kinematics("slip"), crystal.kinematics("twin")
    b, n, fam = [], [], []
    for k, i in enumerate(HCP_SLIP_FAMILIES.values()):
        b.append(crystal.to_frame(uvw=slip["direction"][i]))
        n.append(crystal.to_frame(hkl=slip["plane"][i]))
        fam += [k] * len(slip["direction"][i])
    bt = crystal.to_frame(uvw=twin["direction"][HCP_TWIN_FAMILY])
    nt = crystal.to_frame(hkl=twin["plane"][HCP_TWIN_FAMILY])
    # twinning sense: tension along c must give positive resolved shear, (b.c)(n.c) > 0
    flip = np.sign((bt[:, 2]) * (nt[:, 2]))
    b.append(bt * flip[:, None])
    n.append(nt)
    fam += [3] * len(bt)
    b = np.concatenate(b)
    n = np.concatenate(n)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    fam = np.asarray(fam)
    return b, n, fam, fam == 3


def random_orientations(n_grains: int, rng: np.random.Generator):
    """Uniformly random orientations: (quaternions (G, 4) in damask's convention, Q (G, 3, 3) lattice -> sample,
    v_sample = Q v_lattice). damask rotations are passive (sample -> crystal), hence Q = R^T."""
    from ._damask import damask

    rot = damask.Rotation.from_random(shape=int(n_grains), rng_seed=rng)
    return rot.quaternion.copy(), np.swapaxes(rot.as_matrix(), -1, -2)
