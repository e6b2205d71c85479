"""Loading-path sampler of paper Section 2 (explained in plain words in docs/loading-paths.md).

(0, T) is cut at M-1 knot times drawn uniformly at random. At each knot every independent component F_ij (i <= j)
takes a step of +-F_max*sqrt(dt_m) with a fair random sign (a Rademacher variable), so the knots are a random walk
whose variance grows like time, as for Brownian motion. The path between knots is the piecewise cubic Hermite
interpolant with PCHIP (Fritsch-Carlson) slopes, which never overshoots the knots. Paths start from the reference
state: strain = 0 for small-strain producers, F = I for finite-strain ones; i > j components mirror i < j.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LoadingPaths:
    """Sampled paths: ``values`` (sample, time, d, d) on the uniform grid ``time``, and their knots."""

    time: np.ndarray  # (n_steps + 1,) s, time[0] = 0
    values: np.ndarray  # (S, n_steps + 1, d, d)
    knot_times: np.ndarray  # (S, M + 1) s
    knot_values: np.ndarray  # (S, M + 1, d, d)


def uniform_time(T: float, n_steps: int) -> np.ndarray:
    """The uniform grid 0, T/n_steps, ..., T (n_steps steps on (0, T])."""
    return np.linspace(0.0, float(T), int(n_steps) + 1)


def pchip_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """PCHIP knot slopes along the last axis, vectorised over leading axes (each row its own x).

    Interior: weighted harmonic mean of the neighbouring secants, zero where they change sign (Fritsch-Carlson,
    Fritsch-Butland weights). Ends: the three-point shape-preserving formula. Same rule as scipy's PchipInterpolator.
    """
    h = np.diff(x, axis=-1)
    m = np.diff(y, axis=-1) / h
    d = np.zeros_like(y)
    w1 = 2.0 * h[..., 1:] + h[..., :-1]
    w2 = h[..., 1:] + 2.0 * h[..., :-1]
    flat = (np.sign(m[..., 1:]) != np.sign(m[..., :-1])) | (m[..., 1:] == 0) | (m[..., :-1] == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        whmean = (w1 / m[..., :-1] + w2 / m[..., 1:]) / (w1 + w2)
        d[..., 1:-1] = np.where(flat, 0.0, 1.0 / whmean)

    def edge(h0, h1, m0, m1):
        e = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
        e = np.where(np.sign(e) != np.sign(m0), 0.0, e)
        too_steep = (np.sign(m0) != np.sign(m1)) & (np.abs(e) > 3.0 * np.abs(m0))
        return np.where(too_steep, 3.0 * m0, e)

    d[..., 0] = edge(h[..., 0], h[..., 1], m[..., 0], m[..., 1])
    d[..., -1] = edge(h[..., -1], h[..., -2], m[..., -1], m[..., -2])
    return d


def hermite_eval(x: np.ndarray, y: np.ndarray, slopes: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Evaluate the cubic Hermite interpolant of rows (x, y, slopes) (..., K) at the shared times t (n,)."""
    inner = x[..., 1:-1]
    seg = (t[..., :, None] >= inner[..., None, :]).sum(-1)  # (..., n) index of the interval holding t
    take = lambda a, k: np.take_along_axis(a, k, axis=-1)  # noqa: E731
    x0, x1 = take(x, seg), take(x, seg + 1)
    y0, y1 = take(y, seg), take(y, seg + 1)
    d0, d1 = take(slopes, seg), take(slopes, seg + 1)
    h = x1 - x0
    s = (t - x0) / h
    h00 = (1 + 2 * s) * (1 - s) ** 2
    h10 = s * (1 - s) ** 2
    h01 = s**2 * (3 - 2 * s)
    h11 = s**2 * (s - 1)
    return h00 * y0 + h10 * h * d0 + h01 * y1 + h11 * h * d1


def sample_paths(
    n_samples: int,
    dim: int,
    rng: np.random.Generator,
    *,
    F_max: float,
    T: float = 200.0,
    M: int = 10,
    n_steps: int = 1000,
    identity: bool = False,
    volumetric: float = 1.0,
) -> LoadingPaths:
    """Draw ``n_samples`` symmetric d x d loading paths (paper Section 2).

    F_max: step scale in 1/sqrt(s); a knot step over an interval dt_m (s) is +-F_max*sqrt(dt_m).
    identity: add I (paths of F, starting at F = I) rather than start at 0 (paths of strain).
    volumetric: scale v in [0, 1] of the volumetric part (1: the paper's sampler). Paths of F become
        det(F)^((v - 1)/d) F, so ln det F is scaled by v (v = 0: isochoric, det F = 1) and the isochoric part
        F / det(F)^(1/d) is unchanged; paths of strain keep their deviator and scale tr(strain) by v.
    """
    if (n_samples < 0 or dim not in (1, 2, 3) or M < 1 or n_steps < 1 or not T > 0 or not F_max >= 0
            or not 0.0 <= volumetric <= 1.0):
        raise ValueError(f"sample_paths: bad arguments n_samples={n_samples} dim={dim} M={M} "
                         f"n_steps={n_steps} T={T} F_max={F_max} volumetric={volumetric}")
    inner = np.sort(rng.uniform(0.0, T, size=(n_samples, M - 1)), axis=-1)
    knot_t = np.concatenate([np.zeros((n_samples, 1)), inner, np.full((n_samples, 1), float(T))], axis=-1)
    iu = np.triu_indices(dim)
    n_comp = len(iu[0])
    signs = rng.choice(np.array([-1.0, 1.0]), size=(n_samples, n_comp, M))
    steps = signs * F_max * np.sqrt(np.diff(knot_t, axis=-1))[:, None, :]
    knots = np.concatenate([np.zeros((n_samples, n_comp, 1)), np.cumsum(steps, axis=-1)], axis=-1)
    time = uniform_time(T, n_steps)
    xk = np.broadcast_to(knot_t[:, None, :], knots.shape)
    comp = hermite_eval(xk, knots, pchip_slopes(xk, knots), time)  # (S, n_comp, n_steps + 1)

    def to_matrix(c):  # (S, n_comp, n) -> (S, n, d, d), symmetric
        out = np.zeros((c.shape[0], c.shape[-1], dim, dim))
        out[:, :, iu[0], iu[1]] = np.moveaxis(c, 1, -1)
        out[:, :, iu[1], iu[0]] = np.moveaxis(c, 1, -1)
        return scale_volumetric(out + np.eye(dim), volumetric) if identity else scale_volumetric_strain(out, volumetric)

    return LoadingPaths(time, to_matrix(comp), knot_t, to_matrix(knots))


def scale_volumetric(F: np.ndarray, volumetric: float) -> np.ndarray:
    """det(F)^((v - 1)/d) F for F (..., d, d) with det F > 0: ln det F scaled by v, isochoric part kept."""
    if volumetric == 1.0:
        return F
    det = np.linalg.det(F)
    if np.any(det <= 0):
        s = np.unravel_index(int(np.argmin(det)), det.shape)
        raise ValueError(f"sample_paths: det F = {det[s]:.6g} <= 0 at (sample, time) index {tuple(map(int, s))} "
                         f"before the volumetric scaling; lower F_max")
    return F * (det ** ((volumetric - 1.0) / F.shape[-1]))[..., None, None]


def scale_volumetric_strain(eps: np.ndarray, volumetric: float) -> np.ndarray:
    """eps - (1 - v) tr(eps)/d I for eps (..., d, d): the spherical part scaled by v."""
    if volumetric == 1.0:
        return eps
    d = eps.shape[-1]
    return eps - ((1.0 - volumetric) / d * np.trace(eps, axis1=-2, axis2=-1))[..., None, None] * np.eye(d)
