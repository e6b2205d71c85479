"""Structured 8-node hexahedral meshes (numpy): a box and a circular bar (butterfly O-grid, whole or quarter).
Lengths in mm. Node order of a hexahedron: VTK_HEXAHEDRON (meshio "hexahedron"): nodes 0-3 the face zeta = -1
counter-clockwise seen from +zeta, nodes 4-7 above them; the natural coordinates of node a are ``NATURAL[a]``.

Both shapes are structured, so the meshes are generated here without a mesher (gmsh is not a dependency): each block is a tensor-product grid, the blocks are joined by merging
coincident nodes. Snapshots are written with meshio (macroscale/explicit.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: natural coordinates (xi, eta, zeta) of the 8 nodes, VTK order
NATURAL = np.array([[-1, -1, -1], [1, -1, -1], [1, 1, -1], [-1, 1, -1],
                    [-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]], float)
#: the node order of the mirror image of a hexahedron (swaps zeta = -1 and zeta = +1 faces: orientation flips)
MIRROR = np.array([4, 5, 6, 7, 0, 1, 2, 3])


@dataclass(frozen=True)
class Mesh:
    """nodes (n_nodes, 3) reference coordinates (mm); hexes (n_elements, 8) node indices, VTK order, positive
    orientation (det of the isoparametric Jacobian > 0 at the centroid)."""

    nodes: np.ndarray
    hexes: np.ndarray

    @property
    def n_nodes(self) -> int:
        return int(self.nodes.shape[0])

    @property
    def n_elements(self) -> int:
        return int(self.hexes.shape[0])


def _grid_hexes(n1: int, n2: int, n3: int, offset: int = 0) -> np.ndarray:
    """Connectivity (n1 n2 n3, 8) of the structured (n1+1) x (n2+1) x (n3+1) node grid numbered
    offset + i + (n1+1)(j + (n2+1)k)."""
    i, j, k = np.meshgrid(np.arange(n1), np.arange(n2), np.arange(n3), indexing="ij")
    base = (i + (n1 + 1) * (j + (n2 + 1) * k)).ravel(order="F")
    di, dj, dk = 1, n1 + 1, (n1 + 1) * (n2 + 1)
    corner = np.array([0, di, di + dj, dj, dk, dk + di, dk + di + dj, dk + dj])
    return offset + base[:, None] + corner[None, :]


def _orient(nodes: np.ndarray, hexes: np.ndarray) -> np.ndarray:
    """Hexes re-ordered (``MIRROR``) where the centroid Jacobian determinant is negative."""
    xe = nodes[hexes]  # (ne, 8, 3)
    J = np.einsum("eai,aj->eij", xe, NATURAL) / 8.0  # dx/dxi at the centroid
    flip = np.linalg.det(J) < 0
    out = hexes.copy()
    out[flip] = hexes[flip][:, MIRROR]
    return out


def merge(nodes: np.ndarray, hexes: np.ndarray, tol: float = 1e-9) -> Mesh:
    """Merge nodes closer than ``tol`` (relative to the bounding box) into one; unused nodes dropped."""
    scale = max(float(np.ptp(nodes, 0).max()), 1e-300)
    key = np.round(nodes / (scale * tol)).astype(np.int64)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    hexes = inverse[hexes]
    used, renumber = np.unique(hexes, return_inverse=True)
    new_nodes = nodes[first][used]
    return Mesh(new_nodes, _orient(new_nodes, renumber.reshape(hexes.shape)))


def box(lengths, divisions, origin=(0.0, 0.0, 0.0)) -> Mesh:
    """The box origin + [0, L1] x [0, L2] x [0, L3] (mm) in n1 x n2 x n3 equal hexahedra."""
    (L1, L2, L3), (n1, n2, n3) = lengths, (int(d) for d in divisions)
    axes = [np.linspace(0.0, L, n + 1) for L, n in ((L1, n1), (L2, n2), (L3, n3))]
    x, y, z = np.meshgrid(*axes, indexing="ij")
    nodes = np.stack([a.ravel(order="F") for a in (x, y, z)], -1) + np.asarray(origin, float)
    return Mesh(nodes, _orient(nodes, _grid_hexes(n1, n2, n3)))


def _extrude(section: np.ndarray, n1: int, n2: int, z: np.ndarray):
    """Nodes and hexes of an (n1+1) x (n2+1) planar grid section (n1+1, n2+1, 2) extruded through the levels z."""
    n3 = z.size - 1
    xy = np.broadcast_to(section[:, :, None, :], (n1 + 1, n2 + 1, n3 + 1, 2))
    zz = np.broadcast_to(z[None, None, :], (n1 + 1, n2 + 1, n3 + 1))
    nodes = np.stack([xy[..., 0].ravel(order="F"), xy[..., 1].ravel(order="F"), zz.ravel(order="F")], -1)
    return nodes, _grid_hexes(n1, n2, n3)


def layers(length: float, n: int, bias: float = 1.0) -> np.ndarray:
    """n + 1 levels from 0 to ``length`` (mm) whose layer thicknesses grow geometrically from z = 0, the last
    ``bias`` times the first (bias = 1: equal layers)."""
    if not bias > 0:
        raise ValueError(f"layers: bias must be positive, got {bias}")
    if n == 1 or bias == 1.0:
        return np.linspace(0.0, float(length), int(n) + 1)
    q = float(bias) ** (1.0 / (n - 1))
    h = q ** np.arange(n)
    return float(length) * np.concatenate([[0.0], np.cumsum(h) / h.sum()])


def cylinder(radius: float, length: float, n_core: int, n_radial: int, n_axial: int, quarter: bool = True,
             bias: float = 1.0) -> Mesh:
    """A circular bar of ``radius`` along z from z = 0 to ``length`` (mm): butterfly O-grid section (a core square of
    half-width radius/2 in n_core x n_core elements per quadrant, n_radial element rings outside it, the boundary
    on the circle), n_axial layers (``layers``: the last ``bias`` times as thick as the one at z = 0). quarter: only
    x >= 0, y >= 0 (for two symmetry planes)."""
    n, m = int(n_core), int(n_radial)
    a = 0.5 * radius
    z = layers(length, int(n_axial), bias)
    s = np.linspace(0.0, 1.0, n + 1)
    r = np.linspace(0.0, 1.0, m + 1)
    core = np.stack(np.meshgrid(a * s, a * s, indexing="ij"), -1)  # (n+1, n+1, 2)
    theta = 0.25 * np.pi * s  # the side x = a (0 <= y <= a) -> the arc 0 <= theta <= pi/4
    inner = np.stack([np.full_like(s, a), a * s], -1)
    outer = radius * np.stack([np.cos(theta), np.sin(theta)], -1)
    side = (1 - r)[None, :, None] * inner[:, None, :] + r[None, :, None] * outer[:, None, :]  # (n+1, m+1, 2)
    blocks = [(core, n, n), (side, n, m), (side[..., ::-1], n, m)]  # the third: x <-> y
    nodes, hexes, offset = [], [], 0
    for section, n1, n2 in blocks:
        p, h = _extrude(section, n1, n2, z)
        nodes.append(p)
        hexes.append(h + offset)
        offset += p.shape[0]
    nodes, hexes = np.concatenate(nodes), np.concatenate(hexes)
    if not quarter:
        for axis in (0, 1):
            mirrored = nodes.copy()
            mirrored[:, axis] *= -1
            hexes = np.concatenate([hexes, hexes[:, MIRROR] + nodes.shape[0]])
            nodes = np.concatenate([nodes, mirrored])
    return merge(nodes, hexes)
