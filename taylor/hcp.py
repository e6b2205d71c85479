"""HCP slip and twin systems of magnesium from damask (lattice frame), and random grain orientations.

Systems (in this order, N = 18): 3 basal <a> {0001}<11-20>, 3 prismatic <a> {10-10}<11-20>, 6 second-order
pyramidal <c+a> {11-22}<11-23> (damask slip families 0, 1, 4) and 6 {10-12}<10-11> tension twins (damask twin
family 0), the twins as unidirectional pseudo-slip. Vectors are unit, in the Cartesian lattice frame of damask
(a1 along x, c along z).
"""
from __future__ import annotations

from fullfield._damask import damask
import numpy as np

C_OVER_A = 1.624  # Mg, the issue (Chang & Kochmann 2015 use c/a = 1.624)
FAMILIES = ("basal", "prismatic", "pyramidal_ca", "tension_twin")
SLIP_FAMILIES = {"basal": 0, "prismatic": 1, "pyramidal_ca": 4}  # damask kinematics('slip') family index
TWIN_FAMILY = 0  # damask kinematics('twin'): {10-12}<-1011> tension twins


def twin_shear(c_over_a: float = C_OVER_A) -> float:
    """Characteristic shear of the {10-12} twin, |3 - (c/a)^2| / (sqrt(3) c/a) (Christian & Mahajan 1995):
    0.1289 for c/a = 1.624."""
    return abs(3.0 - c_over_a**2) / (np.sqrt(3.0) * c_over_a)


def systems(c_over_a: float = C_OVER_A):
    """(b (18, 3), n (18, 3), family index (18,), unidirectional (18,)) in the lattice frame, unit vectors.

    Twin directions are oriented so that positive shear is the twinning sense (c-axis extension)."""
    crystal = damask.Crystal(lattice="hP", a=1.0, c=c_over_a)
    slip, twin = crystal.kinematics("slip"), crystal.kinematics("twin")
    b, n, fam = [], [], []
    for k, (name, i) in enumerate(SLIP_FAMILIES.items()):
        b.append(crystal.to_frame(uvw=slip["direction"][i]))
        n.append(crystal.to_frame(hkl=slip["plane"][i]))
        fam += [k] * len(slip["direction"][i])
    bt = crystal.to_frame(uvw=twin["direction"][TWIN_FAMILY])
    nt = crystal.to_frame(hkl=twin["plane"][TWIN_FAMILY])
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
    rot = damask.Rotation.from_random(shape=int(n_grains), rng_seed=rng)
    return rot.quaternion.copy(), np.swapaxes(rot.as_matrix(), -1, -2)
