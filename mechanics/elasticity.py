"""Compressible neo-Hookean elasticity of paper eq. (A1), generalised to d = 2, 3 (d = 2 is exactly A1).

    W(F) = mu/2 (tr(F^T F) / J^(2/d) - d) + kappa/2 (J - 1)^2,   J = det F
    P    = dW/dF = mu J^(-2/d) (F - tr(C)/d F^-T) + kappa (J - 1) J F^-T,   C = F^T F
    M    = F^T P = mu J^(-2/d) dev C + kappa J (J - 1) I          (Mandel stress, symmetric)
    sigma = P F^T / J = mu J^(-1-2/d) dev(F F^T) + kappa (J - 1) I

so the pressure -tr(sigma)/d = -kappa (J - 1) depends on J alone (paper eq. 27). In crystal plasticity F is the
elastic part Fe. mu, kappa (MPa) are scalars or arrays broadcasting against the batch axes. ``stress`` also takes
torch tensors (the crystal tangent differentiates through it).
"""
from __future__ import annotations

import numpy as np

from .tensor import det, inv, transpose


def _moduli(mu, kappa):
    """Scalars as they are; arrays with two trailing axes to broadcast against (..., d, d)."""
    mu = mu if np.ndim(mu) == 0 else np.asarray(mu, float)[..., None, None]
    kappa = kappa if np.ndim(kappa) == 0 else np.asarray(kappa, float)[..., None, None]
    return mu, kappa


def energy(F, mu, kappa) -> np.ndarray:
    """W(F) (MPa) of (A1): mu/2 (tr(F^T F)/J^(2/d) - d) + kappa/2 (J - 1)^2."""
    F = np.asarray(F, float)
    d = F.shape[-1]
    J = det(F)
    return 0.5 * np.asarray(mu) * ((F * F).sum((-1, -2)) / J ** (2.0 / d) - d) \
        + 0.5 * np.asarray(kappa) * (J - 1.0) ** 2


def stress(F, mu, kappa):
    """First Piola stress P = dW/dF (MPa), (..., d, d): mu J^(-2/d) (F - tr(C)/d F^-T) + kappa (J - 1) J F^-T."""
    d = F.shape[-1]
    mu, kappa = _moduli(mu, kappa)
    J = det(F)[..., None, None]
    FinvT = transpose(inv(F))
    trC = (F * F).sum((-1, -2))[..., None, None]
    return mu * J ** (-2.0 / d) * (F - trC / d * FinvT) + kappa * (J - 1.0) * J * FinvT


def mandel_stress(F, mu, kappa) -> np.ndarray:
    """M = F^T dW/dF (MPa) = mu J^(-2/d) dev C + kappa J (J - 1) I, C = F^T F (symmetric: W is isotropic)."""
    F = np.asarray(F, float)
    d = F.shape[-1]
    mu, kappa = _moduli(mu, kappa)
    J = det(F)[..., None, None]
    C = transpose(F) @ F
    eye = np.eye(d)
    return mu * J ** (-2.0 / d) * (C - np.trace(C, axis1=-2, axis2=-1)[..., None, None] / d * eye) \
        + kappa * J * (J - 1.0) * eye


def tangent(F, mu, kappa) -> np.ndarray:
    """A = dP/dF (MPa), (..., d, d, d, d) with A[..., i, J, k, L] = dP_iJ / dF_kL, G = F^-T:

    A = mu J^(-2/d) [d_ik d_JL - 2/d (G_kL F_iJ + F_kL G_iJ) + tr(C)/d (2/d G_iJ G_kL + G_iL G_kJ)]
        + kappa J [(2J - 1) G_iJ G_kL - (J - 1) G_iL G_kJ]
    (dJ/dF = J G, dG_iJ/dF_kL = -G_iL G_kJ, d tr(C)/dF = 2F).
    """
    F = np.asarray(F, float)
    d = F.shape[-1]
    G = transpose(inv(F))
    J = det(F)[..., None, None, None, None]
    trC = (F * F).sum((-1, -2))[..., None, None, None, None]
    mu = np.asarray(mu, float)[..., None, None, None, None]
    kappa = np.asarray(kappa, float)[..., None, None, None, None]
    eye = np.eye(d)
    II = np.einsum("ik,JL->iJkL", eye, eye)
    GG = np.einsum("...iJ,...kL->...iJkL", G, G)  # G_iJ G_kL
    GGt = np.einsum("...iL,...kJ->...iJkL", G, G)  # G_iL G_kJ
    FG = np.einsum("...iJ,...kL->...iJkL", F, G)  # F_iJ G_kL
    GF = np.einsum("...iJ,...kL->...iJkL", G, F)  # G_iJ F_kL
    return (mu * J ** (-2.0 / d) * (II - 2.0 / d * (FG + GF) + trC / d * (2.0 / d * GG + GGt))
            + kappa * J * ((2.0 * J - 1.0) * GG - (J - 1.0) * GGt))
