"""Paper Section 4.1's argument for three internal variables, as measurements on laminate data (Fig. 4(c)).

The argument: at large strain (plastic strain >> elastic strain), compatibility across the interface (normal e1:
eps_22 and eps_33 continuous, eq. 23) forces the layers' plastic strains to agree in those components,
eps_p22+ ~ eps_p22- and eps_p33+ ~ eps_p33- (so eps_p11+ ~ eps_p11-, eps_p33 = -(eps_p11 + eps_p22)), and the 12
component of the hard layer stays small. Exactly, for c in INTERFACE,

    eps_p_c+ - eps_p_c- = -(eps_e_c+ - eps_e_c-)          (eps_e = eps - eps_p, the elastic strain)

so the layers' plastic strains differ by a difference of elastic strains: the equality can only be as good as
elastic strain / plastic strain is small. This module measures both sides and reads a latent size off an
eq. (25) error curve. Pure numpy; strains are dimensionless, stresses in MPa, times in s, rates in 1/s.

Arrays: ``eps`` (..., 2, 4) hold a strain per point, layer (0 = +, 1 = -) and component COMPONENTS
(11, 22, 33, 12; tensor shear); the leading axes (sample, time, ...) are the points, all weighed equally.
Norms ||x|| are l2 norms over all points.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

COMPONENTS = ("11", "22", "33", "12")
#: components continuous across the interface (normal e1) by compatibility (eq. 23, 3D reading "mean")
INTERFACE = ("22", "33")
#: latent_dimension's rule: within FACTOR of the best error, or below FLOOR (eq. 25, a fraction)
FACTOR = 2.0
FLOOR = 0.02


def _col(name: str) -> int:
    return COMPONENTS.index(name)


def plastic_strain(eps_p11: np.ndarray, eps_p22: np.ndarray, eps_p12: np.ndarray) -> np.ndarray:
    """(..., 2) per-layer eps_p11, eps_p22, eps_p12 (the stored micro-state) -> eps_p (..., 2, 4) in COMPONENTS,
    with eps_p33 = -(eps_p11 + eps_p22) (plastic incompressibility)."""
    p11, p22, p12 = (np.asarray(a, float) for a in (eps_p11, eps_p22, eps_p12))
    return np.stack([p11, p22, -(p11 + p22), p12], axis=-1)


def relative_difference(x_plus: np.ndarray, x_minus: np.ndarray) -> float:
    """D = ||x+ - x-|| / sqrt((||x+||^2 + ||x-||^2) / 2): the layers' difference relative to their RMS magnitude.

    0 for equal layers, sqrt(2) when one layer's values vanish, 2 for opposite ones (D <= 2 always); nan when
    both vanish. Invariant to a common scale of x+ and x-."""
    a, b = np.asarray(x_plus, float).ravel(), np.asarray(x_minus, float).ravel()
    scale = np.sqrt(0.5 * (a @ a + b @ b))
    return float(np.linalg.norm(a - b) / scale) if scale > 0 else float("nan")


def equality_measures(eps_p: np.ndarray) -> dict[str, float]:
    """D (relative_difference of layer + and layer -) of each plastic strain component: {"11": D11, ...}."""
    p = np.asarray(eps_p, float)
    return {c: relative_difference(p[..., 0, i], p[..., 1, i]) for i, c in enumerate(COMPONENTS)}


def interface_difference(eps: np.ndarray) -> float:
    """D of the interface components together: ||[x_22], [x_33]|| / sqrt((||x+||^2 + ||x-||^2) / 2), norms over
    points and the components INTERFACE ([x] = x+ - x-)."""
    cols = [_col(c) for c in INTERFACE]
    x = np.asarray(eps, float)[..., cols]
    return relative_difference(x[..., 0, :], x[..., 1, :])


def shear_ratio(eps_p12: np.ndarray, hard: int) -> float:
    """||eps_p12 of the hard layer|| / ||eps_p12 of the soft layer|| (eps_p12 (..., 2); hard = 0 or 1: the layer
    with the larger sigma0). The argument expects << 1 for a contrast of yield strengths."""
    p = np.asarray(eps_p12, float)
    soft = np.linalg.norm(p[..., 1 - hard])
    return float(np.linalg.norm(p[..., hard]) / soft) if soft > 0 else float("nan")


def rms(x: np.ndarray) -> float:
    """Root mean square over all entries."""
    return float(np.sqrt(np.mean(np.square(np.asarray(x, float)))))


def elastic_plastic_ratio(eps_e: np.ndarray, eps_p: np.ndarray, components: Sequence[str] = INTERFACE) -> float:
    """R = RMS(eps_e) / RMS(eps_p) over points, both layers and ``components``: elastic against plastic strain.

    The argument needs R << 1. For the interface components it bounds the equality measure:
    [eps_p_c] = -[eps_e_c] gives ||[eps_p_c]|| <= ||eps_e_c+|| + ||eps_e_c-|| <= 2 sqrt((||eps_e_c+||^2 +
    ||eps_e_c-||^2) / 2), hence interface_difference(eps_p) <= 2 R (and D_c <= 2 R_c per component)."""
    cols = [_col(c) for c in components]
    p = rms(np.asarray(eps_p, float)[..., cols])
    return rms(np.asarray(eps_e, float)[..., cols]) / p if p > 0 else float("nan")


def elastic_jump_ratio(eps_e: np.ndarray, eps_p: np.ndarray) -> float:
    """||[eps_e_22], [eps_e_33]|| / sqrt((||eps_p+||^2 + ||eps_p-||^2) / 2) over INTERFACE: equal to
    interface_difference(eps_p) when the layers' total strains are continuous in INTERFACE (compatibility)."""
    cols = [_col(c) for c in INTERFACE]
    e, p = np.asarray(eps_e, float)[..., cols], np.asarray(eps_p, float)[..., cols]
    scale = np.sqrt(0.5 * np.sum(p ** 2))
    return float(np.linalg.norm(e[..., 0, :] - e[..., 1, :]) / scale) if scale > 0 else float("nan")


def pointwise_interface(eps_e: np.ndarray, eps_p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point, over INTERFACE: the plastic magnitude a = sqrt((|eps_p+|^2 + |eps_p-|^2) / 2), the layer
    difference d = |eps_p+ - eps_p-| / a and the elastic ratio r = sqrt((|eps_e+|^2 + |eps_e-|^2) / 2) / a
    (d, r nan where a = 0). Compatibility gives d <= 2 r point by point."""
    cols = [_col(c) for c in INTERFACE]
    p, e = np.asarray(eps_p, float)[..., cols], np.asarray(eps_e, float)[..., cols]
    a = np.sqrt(0.5 * np.sum(p ** 2, axis=(-2, -1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(a > 0, 1.0 / a, np.nan)
    d = np.linalg.norm(p[..., 0, :] - p[..., 1, :], axis=-1) * inv
    r = np.sqrt(0.5 * np.sum(e ** 2, axis=(-2, -1))) * inv
    return a, d, r


def binned_interface(eps_e: np.ndarray, eps_p: np.ndarray, edges: Sequence[float]) -> dict[str, list[float]]:
    """pointwise_interface's d and r, binned by the plastic magnitude a (bins [edges[i], edges[i+1]), a > 0):
    per bin the fraction of all points, the median d and the median r (nan for an empty bin)."""
    a, d, r = pointwise_interface(eps_e, eps_p)
    a, d, r = a.ravel(), d.ravel(), r.ravel()
    edges = np.asarray(edges, float)
    b = np.digitize(a, edges) - 1
    b = np.where((a > 0) & (b >= 0) & (b < len(edges) - 1), b, -1)
    order = np.argsort(b, kind="stable")
    groups = np.split(order, np.searchsorted(b[order], np.arange(len(edges))))[1:-1]  # bins 0 .. len(edges) - 2
    return {"edges": edges.tolist(), "fraction": [g.size / a.size for g in groups],
            "median_d": [_median(d[g]) for g in groups], "median_r": [_median(r[g]) for g in groups]}


def von_mises(stress: np.ndarray) -> np.ndarray:
    """sbar = sqrt(3/2 s:s) (MPa) of stresses (..., 4) in COMPONENTS (sigma_13 = sigma_23 = 0)."""
    s = np.asarray(stress, float)
    p = s[..., :3].mean(-1, keepdims=True)
    dev = s[..., :3] - p
    return np.sqrt(1.5 * (np.sum(dev ** 2, -1) + 2.0 * s[..., 3] ** 2))


def flow_statistics(q: np.ndarray, time: np.ndarray, sbar: np.ndarray, sigma0: np.ndarray, m: np.ndarray,
                    q0_dot: np.ndarray, qdot_min: float = 1e-6) -> dict[str, list[float]]:
    """Per layer, over the intervals of paths q (S, N+1, 2) on ``time`` (N+1,) (s) in which the layer flows
    (qdot > qdot_min, 1/s): the flowing fraction, the median plastic rate qdot (1/s), the median rate term
    (qdot/q0_dot)^m of the overstress law, the median von Mises stress sbar (MPa, at the interval's end) and
    the median of sbar / sigma0, which the law predicts to be 1 + (qdot/q0_dot)^m without hardening."""
    q, sbar = np.asarray(q, float), np.asarray(sbar, float)
    qdot = np.diff(q, axis=1) / np.diff(np.asarray(time, float))[None, :, None]
    flowing = qdot > qdot_min
    out: dict[str, list[float]] = {"flowing_fraction": [], "qdot": [], "rate_term": [], "sbar": [],
                                   "sbar_over_sigma0": []}
    for layer in range(q.shape[-1]):
        f = flowing[..., layer]
        rate = qdot[..., layer][f]
        s = sbar[:, 1:, layer][f]
        out["flowing_fraction"].append(float(f.mean()))
        out["qdot"].append(_median(rate))
        out["rate_term"].append(_median((rate / q0_dot[layer]) ** m[layer]))
        out["sbar"].append(_median(s))
        out["sbar_over_sigma0"].append(_median(s / sigma0[layer]))
    return out


def _median(a: np.ndarray) -> float:
    return float(np.median(a)) if a.size else float("nan")


def latent_dimension(errors_by_m: Mapping[int, float] | Sequence[float], factor: float = FACTOR,
                     floor: float = FLOOR) -> int:
    """Latent size from an eq. (25) error-vs-m curve: the smallest m with error <= max(factor * min error, floor).

    errors_by_m: {m: error} or a sequence of errors for m = 1, 2, ... (fractions, not %). Rule: more latent
    variables than m* can at most divide the error by ``factor`` (default 2: the spread between autoencoders
    that differ only in their training noise, e.g. 0.8-1.1 % on MH's flat tail), or the error is already
    below ``floor`` (default 2 %: the level of the paper's RNO errors, 1-1.5 %). A noisy flat tail therefore gives
    its first m, not the m of its noisiest minimum; a curve that keeps falling gives a large m. If m* is the
    largest m of the sweep, the curve has not flattened inside it: the latent size is at least m*.
    """
    items = sorted(errors_by_m.items()) if isinstance(errors_by_m, Mapping) else \
        list(enumerate(errors_by_m, start=1))
    if not items:
        raise ValueError("latent_dimension: no errors")
    ms = np.array([int(k) for k, _ in items])
    err = np.array([float(v) for _, v in items])
    if not (np.all(np.isfinite(err)) and np.all(err >= 0)) or np.any(ms < 1) or factor < 1 or floor < 0:
        raise ValueError(f"latent_dimension: need finite errors >= 0 at m >= 1, factor >= 1, floor >= 0; got "
                         f"{dict(zip(ms.tolist(), err.tolist()))}, factor={factor}, floor={floor}")
    ok = err <= max(factor * err.min(), floor)
    return int(ms[ok].min())


def sharpest_drop(errors_by_m: Mapping[int, float] | Sequence[float]) -> int:
    """The m with the largest error ratio e(m - 1) / e(m) between consecutive sizes (the knee; needs two or more)."""
    items = sorted(errors_by_m.items()) if isinstance(errors_by_m, Mapping) else \
        list(enumerate(errors_by_m, start=1))
    ms = np.array([int(k) for k, _ in items])
    err = np.array([float(v) for _, v in items])
    if len(ms) < 2 or not np.all(np.diff(ms) == 1) or not np.all(err > 0):
        raise ValueError("sharpest_drop: need errors > 0 at two or more consecutive m")
    return int(ms[1:][np.argmax(err[:-1] / err[1:])])
