"""Batched small-tensor algebra on (..., d, d) arrays, d = 2 or 3 (d = 1 where noted).

Closed forms instead of batched LAPACK calls, which pay a per-matrix dispatch on tiny matrices. ``det``,
``adjugate``, ``inv`` and ``transpose`` accept numpy arrays and torch tensors alike (the crystal tangent
differentiates through them with torch.func); the rest is numpy. Stresses in MPa.
"""
from __future__ import annotations

import sys

import numpy as np

#: Mandel index pairs (i, j), i <= j, of the d(d+1)/2 components of a symmetric d x d tensor
MANDEL = {2: ((0, 0), (1, 1), (0, 1)), 3: ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))}
SQRT2 = np.sqrt(2.0)


def _stack(arrays, axis):
    """torch.stack for torch tensors, else np.stack."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(arrays[0], torch.Tensor):
        return torch.stack(arrays, axis)
    return np.stack(arrays, axis)


def transpose(A):
    """A^T of (..., d, d)."""
    return A.swapaxes(-1, -2)


def det(A):
    """det A of (..., d, d), d = 2 or 3 (closed form)."""
    if A.shape[-1] == 2:
        return A[..., 0, 0] * A[..., 1, 1] - A[..., 0, 1] * A[..., 1, 0]
    return (A[..., 0, 0] * (A[..., 1, 1] * A[..., 2, 2] - A[..., 1, 2] * A[..., 2, 1])
            - A[..., 0, 1] * (A[..., 1, 0] * A[..., 2, 2] - A[..., 1, 2] * A[..., 2, 0])
            + A[..., 0, 2] * (A[..., 1, 0] * A[..., 2, 1] - A[..., 1, 1] * A[..., 2, 0]))


def adjugate(A):
    """adj A (transpose of the cofactor matrix) of (..., d, d), d = 2 or 3: A adj A = det A I."""
    if A.shape[-1] == 2:
        return _stack([_stack([A[..., 1, 1], -A[..., 0, 1]], -1), _stack([-A[..., 1, 0], A[..., 0, 0]], -1)], -2)
    rows = []
    for i in range(3):
        i1, i2 = (i + 1) % 3, (i + 2) % 3
        rows.append(_stack([A[..., j1, i1] * A[..., j2, i2] - A[..., j1, i2] * A[..., j2, i1]
                            for j1, j2 in ((1, 2), (2, 0), (0, 1))], -1))
    return _stack(rows, -2)


def inv(A):
    """A^-1 = adj A / det A of (..., d, d), d = 2 or 3 (closed form)."""
    return adjugate(A) / det(A)[..., None, None]


def trace(A) -> np.ndarray:
    """tr A of (..., d, d)."""
    return np.trace(A, axis1=-2, axis2=-1)


def split_pressure(sigma: np.ndarray):
    """(p, dev sigma) of the stress (..., d, d): pressure p = -tr(sigma)/d (mean stress -p), sigma_dev = sigma + p I
    (MPa). d = 2 is the in-plane split of paper eq. (27)."""
    d = sigma.shape[-1]
    p = -trace(sigma) / d
    return p, sigma + p[..., None, None] * np.eye(d)


def cauchy(P: np.ndarray, F: np.ndarray) -> np.ndarray:
    """Cauchy stress sigma = P F^T / det F (MPa) from the first Piola stress P and F (..., d, d), d = 1, 2, 3."""
    P, F = np.asarray(P, float), np.asarray(F, float)
    return P @ transpose(F) / np.linalg.det(F)[..., None, None]


def to_mandel(A: np.ndarray) -> np.ndarray:
    """Mandel vector (..., d(d+1)/2) of sym(A), off-diagonal entries times sqrt 2: sym(A) : sym(B) = a . b."""
    return np.stack([A[..., i, j] if i == j else (A[..., i, j] + A[..., j, i]) / SQRT2
                     for i, j in MANDEL[A.shape[-1]]], -1)


def mandel_indices(d: int):
    """(i, j) index arrays of the Mandel components of a symmetric d x d tensor (``MANDEL``), int64."""
    i, j = zip(*MANDEL[d])
    return np.array(i, np.int64), np.array(j, np.int64)
