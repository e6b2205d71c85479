"""The 8-node hexahedron with one-point (mean-gradient) integration and Flanagan-Belytschko hourglass vectors,
in the reference configuration of a total-Lagrangian analysis; torch, vectorised over elements. Lengths mm.

Mean gradient (Flanagan & Belytschko 1981, "A uniform strain hexahedron and quadrilateral with orthogonal hourglass
control", IJNME 17:679): the element's single gradient operator is the volume average of the shape
function gradients,

    Bbar_aJ = 1/V0 int_{V0} dN_a/dX_J dV,    V0 = int_{V0} dV,

so that F = sum_a x_a (x) Bbar_a = 1/V0 int F dV is the element's mean deformation gradient, exact for every x
linear in X (sum_a X_a (x) Bbar_a = I, sum_a Bbar_a = 0), also on distorted elements (the patch test). The integrals
are evaluated exactly by 2 x 2 x 2 Gauss points: det(dX/dxi) and the cofactors of dX/dxi times dN/dxi are at most
cubic in each natural coordinate (each entry of dX/dxi is linear in each coordinate).

Hourglass vectors (FB 1981): h_alpha (alpha = 1..4) = eta zeta, xi zeta, xi eta, xi eta zeta at the
nodes, and

    gamma_a,alpha = 1/8 (h_a,alpha - (sum_b h_b,alpha X_bJ) Bbar_aJ),

orthogonal to every nodal field linear in X (sum_a gamma_a,alpha = 0, sum_a gamma_a,alpha X_aJ = 0): the hourglass
modes, which one-point integration leaves without stiffness.

Lumped mass: row sums of the consistent mass, m_a = rho int N_a dV (exact with 2 x 2 x 2 points).
Characteristic length: L = V0 / (largest face area) (face area |d1 x d2|/2 of its diagonals), the usual length of
the explicit stable-time-step estimate (Hallquist, LS-DYNA Theory Manual, solid elements).
"""
from __future__ import annotations

import numpy as np
import torch

from mechanics.tensor import adjugate, det

from .mesh import NATURAL

_G = 1.0 / np.sqrt(3.0)
#: the 2 x 2 x 2 Gauss points (8, 3), weights 1
GAUSS = NATURAL * _G
#: hourglass base vectors h (8 nodes, 4)
HOURGLASS_BASE = np.stack([NATURAL[:, 1] * NATURAL[:, 2], NATURAL[:, 0] * NATURAL[:, 2],
                           NATURAL[:, 0] * NATURAL[:, 1], NATURAL.prod(1)], -1)
#: the 6 faces (node indices, counter-clockwise seen from outside for a positively oriented element)
FACES = np.array([[0, 3, 2, 1], [4, 5, 6, 7], [0, 1, 5, 4], [1, 2, 6, 5], [2, 3, 7, 6], [3, 0, 4, 7]])


def shape(xi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trilinear N_a (P, 8) and dN_a/dxi (P, 8, 3) at natural points xi (P, 3)."""
    t = 1.0 + xi[:, None, :] * NATURAL[None, :, :]  # (P, 8, 3): 1 + xi_k xi_ak
    N = t.prod(-1) / 8.0
    dN = np.stack([NATURAL[None, :, k] * np.delete(t, k, -1).prod(-1) / 8.0 for k in range(3)], -1)
    return N, dN


class Geometry:
    """Reference geometry of the hexahedra ``hexes`` (ne, 8) of ``nodes`` (nn, 3) (mm), torch tensors of dtype and
    device ``like``: volume (ne,) mm^3, gradient Bbar (ne, 8, 3) 1/mm, gamma (ne, 8, 4), length (ne,) mm, and
    ``lumped`` (nn,) = sum of int N_a dV (mm^3; times the density it is the lumped mass)."""

    def __init__(self, nodes, hexes, dtype=torch.float64, device="cpu"):
        X = torch.as_tensor(np.asarray(nodes, float), dtype=dtype, device=device)
        self.hexes = torch.as_tensor(np.asarray(hexes, np.int64), device=device)
        Xe = X[self.hexes]  # (ne, 8, 3)
        N, dN = (torch.as_tensor(a, dtype=dtype, device=device) for a in shape(GAUSS))
        J = torch.einsum("eai,gak->egik", Xe, dN)  # dX_i/dxi_k at each Gauss point (ne, 8, 3, 3)
        detJ = det(J)
        if not bool((detJ > 0).all()):
            raise ValueError(f"hex8.Geometry: {int((detJ <= 0).any(-1).sum())} elements with det(dX/dxi) <= 0 "
                             "at a Gauss point (inverted or too distorted)")
        # int dN_a/dX_J dV = sum_g det J (J^-T dN/dxi)_J = sum_g adj(J)_kJ dN_ak
        integral = torch.einsum("egkJ,gak->eaJ", adjugate(J), dN)
        self.volume = detJ.sum(1)
        self.gradient = integral / self.volume[:, None, None]
        h = torch.as_tensor(HOURGLASS_BASE, dtype=dtype, device=device)
        hX = torch.einsum("al,eaJ->elJ", h, Xe)  # (ne, 4, 3)
        self.gamma = (h[None] - torch.einsum("elJ,eaJ->eal", hX, self.gradient)) / 8.0
        self.lumped = torch.zeros(X.shape[0], dtype=dtype, device=device).index_add_(
            0, self.hexes.reshape(-1), torch.einsum("ga,eg->ea", N, detJ).reshape(-1))
        f = torch.as_tensor(FACES, device=device)
        xf = Xe[:, f]  # (ne, 6, 4, 3)
        area = 0.5 * torch.linalg.cross(xf[:, :, 2] - xf[:, :, 0], xf[:, :, 3] - xf[:, :, 1]).norm(dim=-1)
        self.length = self.volume / area.max(1).values
        self.reference = X
