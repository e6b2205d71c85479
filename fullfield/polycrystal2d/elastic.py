"""The 2D compressible neo-Hookean material point of paper eq. (A1), vectorised over points.

    W(F) = mu/2 (tr(F^T F)/J - 2) + K/2 (J - 1)^2,   J = det F
    P    = mu/J (F - I1/2 F^-T) + K J (J - 1) F^-T,   I1 = F:F
    sigma = P F^T / J = mu/J^2 dev(F F^T) + K (J - 1) I      (2D: dev A = A - tr(A)/2 I)

so the pressure -tr(sigma)/2 = -K (J - 1) depends on J alone (paper eq. 27). Units: MPa.
This is the material used to validate the full-field machinery; it also serves as the elastic limit of the
crystal-plasticity point (very large tau0).
"""
from __future__ import annotations

import numpy as np


def _inv_T(F):
    J = F[..., 0, 0] * F[..., 1, 1] - F[..., 0, 1] * F[..., 1, 0]
    G = np.empty_like(F)
    G[..., 0, 0] = F[..., 1, 1]
    G[..., 0, 1] = -F[..., 1, 0]
    G[..., 1, 0] = -F[..., 0, 1]
    G[..., 1, 1] = F[..., 0, 0]
    return G / J[..., None, None], J


def energy(F, mu, kappa):
    F = np.asarray(F, float)
    J = F[..., 0, 0] * F[..., 1, 1] - F[..., 0, 1] * F[..., 1, 0]
    return 0.5 * mu * ((F * F).sum((-1, -2)) / J - 2.0) + 0.5 * kappa * (J - 1.0) ** 2


def stress(F, mu, kappa):
    """First Piola-Kirchhoff stress P (..., 2, 2)."""
    F = np.asarray(F, float)
    G, J = _inv_T(F)
    I1 = (F * F).sum((-1, -2))
    mu = np.asarray(mu, float)[..., None, None]
    kappa = np.asarray(kappa, float)[..., None, None]
    J_ = J[..., None, None]
    return mu / J_ * (F - 0.5 * I1[..., None, None] * G) + kappa * J_ * (J_ - 1.0) * G


def stress_tangent(F, mu, kappa):
    """P (..., 2, 2) and A = dP/dF (..., 2, 2, 2, 2), A[..., i, J, k, L] = dP_iJ / dF_kL."""
    F = np.asarray(F, float)
    G, J = _inv_T(F)
    I1 = (F * F).sum((-1, -2))
    mu = np.broadcast_to(np.asarray(mu, float), J.shape)[..., None, None, None, None]
    kappa = np.broadcast_to(np.asarray(kappa, float), J.shape)[..., None, None, None, None]
    J4 = J[..., None, None, None, None]
    I14 = I1[..., None, None, None, None]
    eye = np.eye(2)
    II = np.einsum("ik,JL->iJkL", eye, eye)
    GG = np.einsum("...iJ,...kL->...iJkL", G, G)   # G_iJ G_kL
    GGt = np.einsum("...iL,...kJ->...iJkL", G, G)  # G_iL G_kJ
    FG = np.einsum("...iJ,...kL->...iJkL", F, G)   # F_iJ G_kL
    GF = np.einsum("...iJ,...kL->...iJkL", G, F)   # G_iJ F_kL
    A = (mu / J4 * (II - FG + 0.5 * I14 * GG - GF + 0.5 * I14 * GGt)
         + kappa * ((2.0 * J4 - 1.0) * J4 * GG - J4 * (J4 - 1.0) * GGt))
    return stress(F, mu[..., 0, 0, 0, 0], kappa[..., 0, 0, 0, 0]), A


def cauchy(F, mu, kappa):
    F = np.asarray(F, float)
    P = stress(F, mu, kappa)
    J = F[..., 0, 0] * F[..., 1, 1] - F[..., 0, 1] * F[..., 1, 0]
    return P @ np.swapaxes(F, -1, -2) / J[..., None, None]


class NeoHookean:
    """Stateless material points with the Material interface of fem.py (evaluate / commit / reset)."""

    def __init__(self, n_points: int, mu: float, kappa: float):
        self.n_points = int(n_points)
        self.mu = float(mu)
        self.kappa = float(kappa)

    def reset(self):
        pass

    def evaluate(self, F, dt):
        return stress_tangent(F, self.mu, self.kappa)

    def commit(self):
        pass

    def diagnostics(self) -> dict:
        return {}
