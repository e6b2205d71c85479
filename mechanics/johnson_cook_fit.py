"""Fitting the Johnson-Cook law (mechanics.johnson_cook, the paper's ref. [15]) to stress histories with
scipy.optimize.least_squares, as the baselines of issue 16 item 3 need (Figure 8b inset, Figure 9). Units: MPa, s.

Fitted: A, B (MPa), n, C (-) of the flow stress (A + B eps_p^n)(1 + C ln max(eps_dot_p/eps_dot_0, 1)).
Fixed, and why:
  eps_dot_0 = EPS_DOT_0 = 1e-3 1/s, the reference slip rate gamma_dot0 of the Mg crystal model (taylor.magnesium:
      Wang et al. 2014 via DAMASK, dot_gamma_0 = 1e-3 1/s). It is below the strain rates of almost every training
      path (0.3 % of the sampler's von Mises rates are below it; mechanics.classical_paths), so the rate term acts.
      A, B and C absorb a different choice (sigma_y scales with 1 + C ln(rate/eps_dot_0)).
  mu, kappa: the elastic moduli of the data (the taylor_mg store's ``mu`` and ``kappa``: the Hill average of Mg),
      so that only the plastic law is fitted.

Data: paths given as mixed-boundary-condition controls (mechanics.mixed_bc.drive: time (n_time,), F_target,
sigma_target, stress_mask (B, n_time, 6)) with the true Cauchy stress components (B, n_time, 6). Paths whose F is
prescribed in full (the random training paths) are integrated directly, one ``JohnsonCook.update`` per step for all
paths at once; paths with prescribed stresses (the classical tests) go through the driver (finite-difference
Jacobian, rtol 1e-8; a path that fails is frozen at its last converged step, on_failure="record").

Objective: the residuals sqrt(w) (sigma_JC - sigma_true) over paths, times and components, with weights w
(B, n_time, 6) given by the caller (default 1). With w = (trapezoid weight in time) x (component weight: 1 on the
diagonal, 2 off it) / (the path's integral of |sigma_true|^2) the sum of squares is the sum over paths of the
squared eq. (16) error (learning.loss); the caller builds those weights from learning (mechanics may not import
it). The parameters are fitted in scaled units (x_scale = the initial guess) with bounds ``BOUNDS``; the Jacobian is
by forward differences (least_squares' "2-point").
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares

from .johnson_cook import JohnsonCook
from .mixed_bc import drive, from_components, to_components

#: the fitted parameters, in order
PARAMS = ("A", "B", "n", "C")
#: 1/s, the fixed reference strain rate (module docstring)
EPS_DOT_0 = 1e-3
#: initial guess: A = 100 MPa, the 0.2 % offset yield of the 128-grain Taylor Mg in uniaxial tension at 5e-3 1/s
#: (docs/taylor.md: 101 MPa), B = 200 MPa, n = 0.5 (its flow stress rises to ~200 MPa at 20 % strain), C = 0.02
X0 = {"A": 100.0, "B": 200.0, "n": 0.5, "C": 0.02}
#: bounds of the fit (JohnsonCook needs A, n > 0 and B, C >= 0)
BOUNDS = {"A": (1.0, 2000.0), "B": (0.0, 5000.0), "n": (0.02, 2.0), "C": (0.0, 1.0)}


@dataclass
class JCFit:
    """Result of ``fit``: params {A, B, n, C}, the fixed eps_dot_0, mu, kappa, the final cost (half the sum of
    squared residuals), least_squares' nfev, status and message, n_paths the number of paths fitted, history (the
    parameters and cost of every evaluation)."""

    params: dict
    eps_dot_0: float
    mu: float
    kappa: float
    cost: float
    nfev: int
    success: bool
    message: str
    n_paths: int = 0
    history: list = field(default_factory=list)

    def material(self) -> JohnsonCook:
        return JohnsonCook(mu=self.mu, kappa=self.kappa, eps_dot_0=self.eps_dot_0, **self.params)


def response(material: JohnsonCook, time, F_target, sigma_target, stress_mask, *, rtol: float = 1e-8) -> np.ndarray:
    """Cauchy stress components (B, n_time, 6) (MPa) of ``material`` along the controls (module docstring)."""
    time = np.asarray(time, float)
    mask = np.asarray(stress_mask, bool)
    shape = np.broadcast_shapes(np.shape(F_target), np.shape(sigma_target), mask.shape)
    if not mask[:, 1:].any():  # F prescribed in full: no Newton needed
        F = from_components(np.broadcast_to(np.asarray(F_target, float), shape))
        out = np.zeros(shape)
        state = material.initial_state(shape[0])
        for k in range(1, time.size):
            sigma, state = material.update(F[:, k - 1], F[:, k], time[k] - time[k - 1], state)
            out[:, k] = to_components(sigma)
        return out
    res = drive(material, time, F_target, sigma_target, stress_mask, rtol=rtol, on_failure="record")
    return to_components(res["stress"])


def _groups(paths):
    """paths: one (time, F_target, sigma_target, stress_mask, truth, weights) tuple or a list of them."""
    return [paths] if isinstance(paths, tuple) else list(paths)


def residuals(params: dict, paths, *, mu: float, kappa: float, eps_dot_0: float = EPS_DOT_0) -> np.ndarray:
    """sqrt(w) (sigma_JC - sigma_true), flattened over all groups of paths (module docstring)."""
    jc = JohnsonCook(mu=mu, kappa=kappa, eps_dot_0=eps_dot_0, **params)
    out = []
    for time, F_t, s_t, mask, truth, w in _groups(paths):
        r = response(jc, time, F_t, s_t, mask) - np.asarray(truth, float)
        out.append((np.sqrt(np.broadcast_to(np.asarray(w, float), r.shape)) * r).ravel())
    return np.concatenate(out)


def fit(paths, *, mu: float, kappa: float, eps_dot_0: float = EPS_DOT_0, x0: dict | None = None,
        bounds: dict | None = None, max_nfev: int = 200, xtol: float = 1e-10, ftol: float = 1e-10) -> JCFit:
    """Least-squares fit of A, B, n, C to ``paths``: a tuple (time, F_target, sigma_target, stress_mask, truth,
    weights) or a list of them (groups on different time grids), truth the true stress components (B, n_time, 6)
    MPa, weights broadcastable to it (module docstring). x0, bounds: X0, BOUNDS unless given."""
    x0 = {**X0, **(x0 or {})}
    bounds = {**BOUNDS, **(bounds or {})}
    start = np.array([x0[p] for p in PARAMS], float)
    lo = np.array([bounds[p][0] for p in PARAMS], float)
    hi = np.array([bounds[p][1] for p in PARAMS], float)
    history = []

    def fun(x):
        r = residuals(dict(zip(PARAMS, map(float, x))), paths, mu=mu, kappa=kappa, eps_dot_0=eps_dot_0)
        history.append({**dict(zip(PARAMS, map(float, x))), "cost": 0.5 * float(r @ r)})
        return r

    scale = np.where(np.abs(start) > 0, np.abs(start), 0.1 * (hi - lo))
    sol = least_squares(fun, np.clip(start, lo, hi), bounds=(lo, hi), x_scale=scale, method="trf",
                        max_nfev=max_nfev, xtol=xtol, ftol=ftol, gtol=1e-12)
    return JCFit(params=dict(zip(PARAMS, map(float, sol.x))), eps_dot_0=float(eps_dot_0), mu=float(mu),
                 kappa=float(kappa), cost=float(sol.cost), nfev=int(sol.nfev), success=bool(sol.success),
                 message=str(sol.message), n_paths=sum(int(np.shape(g[4])[0]) for g in _groups(paths)),
                 history=history)
