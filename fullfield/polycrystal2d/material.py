"""Material points of the unit cell: crystal plasticity (mechanics.crystal) or neo-Hookean (mechanics.elasticity).

Interface used by solver.py for the Gauss points of one rank (n_points, element-major):
    evaluate(F (n, 2, 2), dt) -> P (n, 2, 2)   the update over dt from the last committed state (trial)
    tangent() -> dP/dF (n, 2, 2, 2, 2)          consistent tangent of the last evaluate
    commit()                                    accept the last evaluate as the new state
    reset()                                     back to the reference state (F = Fp = I, e = 0)
A point that cannot be updated makes P NaN (never raises), so SNES reports a failure and the step is cut back,
on every rank alike.
"""
from __future__ import annotations

import numpy as np

from mechanics import crystal, crystal_tangent, elasticity, slip
from mechanics.tensor import det


def slip_parameters(cfg: dict) -> dict:
    """The slip systems of a resolved case config as arrays (b, n normalised; latent K as an (N, N) matrix)."""
    systems = cfg["slip"]
    b = np.asarray(systems["b"], float)
    n = np.asarray(systems["n"], float)
    if b.ndim != 2 or b.shape != n.shape or b.shape[1] != 2:
        raise ValueError(f"slip.b and slip.n must be lists of 2-vectors of equal length, got {b.shape}, {n.shape}")
    N = b.shape[0]
    out = {"b": b / np.linalg.norm(b, axis=1, keepdims=True), "n": n / np.linalg.norm(n, axis=1, keepdims=True)}
    for key in ("tau0", "gamma_dot0", "m", "sigma_inf", "h"):
        v = np.broadcast_to(np.asarray(systems[key], float), (N,)).copy()
        out[key] = v
    K = np.asarray(systems.get("latent", 0.0), float)
    out["latent"] = K * (1.0 - np.eye(N)) if K.ndim == 0 else K
    return out


def crystal_params(cfg: dict) -> crystal.Params:
    """crystal.Params of the case's slip systems, mu and kappa (MPa)."""
    sp = slip_parameters(cfg)
    return crystal.Params.create(len(sp["tau0"]), mu=cfg["mu"], kappa=cfg["kappa"], tau0=sp["tau0"],
                                 gamma_dot0=sp["gamma_dot0"], m=sp["m"], sigma_inf=sp["sigma_inf"], h=sp["h"],
                                 K=sp["latent"])


#: crystal.update's tolerance here (stress residual / min tau0): the warm starts make the error of each local
#: solution (within the tolerance) change from one SNES iterate to the next; at update's default 1e-10 that noise
#: stalled SNES just above its -snes_atol 1e-10 on sampled paths (DIVERGED_MAX_IT, cut-backs)
LOCAL_TOL = 1e-12


class CrystalPoints:
    """Crystal-plasticity points (mechanics.crystal update, mechanics.crystal_tangent tangent), one orientation
    angle (rad) per point.

    Warm starts: crystal.update starts each point's Newton from the better of the elastic trial (or a radial return)
    and the state's slip_rate x dt, which enters nothing else (the converged step is the same to its tolerance).
    ``evaluate`` hands it the closest slip increments known: on the first try of a step the committed rates
    extrapolated linearly in time; on later SNES iterates of the step the last tangent's first-order prediction
    dgamma(F_t) + d dgamma/dF : (F - F_t) (F_t where the tangent was taken). This cuts the local Newton work per
    SNES iterate from ~4.3 to ~3 residual evaluations per point, the last iterate's to ~2 (no iteration).
    ``warm_start=False``: the committed rates only (as crystal.update alone would). ``options`` go to
    crystal.update (default tol = LOCAL_TOL)."""

    def __init__(self, angle: np.ndarray, cfg: dict, options: dict | None = None, warm_start: bool = True):
        sp = slip_parameters(cfg)
        self.params = crystal_params(cfg)
        self.n_points = int(np.size(angle))
        self.schmid = slip.schmid_tensors(sp["b"], sp["n"], slip.rotation_2d(np.asarray(angle, float)))
        self.options = {"tol": LOCAL_TOL, **(options or {})}
        self.warm_start = bool(warm_start)
        self.reset()

    def reset(self):
        self.state = crystal.initial_state(self.n_points, 2, self.params.n_systems)
        self._trial = None
        self._slope = None  # (d dgamma/dF (n, N, 4), F_t, slip_rate at F_t, dt) of the last tangent
        self._previous, self._committed_dt = None, None  # rates of the step before the committed one; its dt (s)

    def _warm_rate(self):
        """The slip rates (1/s) whose dt multiple starts the local Newton (see the class docstring)."""
        if not self.warm_start:
            return self.state["slip_rate"]
        if self._trial is None or self._trial is self.state:  # first try of a step
            if self._previous is None:
                return self.state["slip_rate"]
            rate, dt_n = self.state["slip_rate"], self._committed_dt
            return rate + (self._dt / dt_n) * (rate - self._previous)
        if self._slope is not None and self._slope[3] == self._dt:
            dgdF, F_t, rate_t, _ = self._slope
            dF = (self._F - F_t).reshape(self.n_points, 1, 4)
            return rate_t + (dgdF * dF).sum(-1) / self._dt
        return self.state["slip_rate"]

    def evaluate(self, F, dt):
        self._F, self._dt = np.array(F, float), float(dt)
        start = {**self.state, "slip_rate": self._warm_rate()}
        try:
            P, new, conv = crystal.update(self._F, start, self._dt, self.schmid, self.params, **self.options)
        except (ValueError, RuntimeError) as err:  # det F <= 0 at a trial iterate, singular matrices, ...
            self._trial, self.error = None, str(err)
            return np.full((self.n_points, 2, 2), np.nan)
        self._trial = new
        if not np.all(conv):
            self.error = f"{int((~conv).sum())} material points did not converge"
            return np.full((self.n_points, 2, 2), np.nan)
        return P

    def tangent(self):
        if self._trial is None:
            return np.zeros((self.n_points, 2, 2, 2, 2))
        try:
            A, dgdF = crystal_tangent.tangent(self._F, self.state, self._trial, self._dt, self.schmid, self.params,
                                              slip_derivative=True)
        except (ValueError, RuntimeError):
            return np.zeros((self.n_points, 2, 2, 2, 2))
        self._slope = (dgdF.reshape(self.n_points, -1, 4), self._F, self._trial["slip_rate"], self._dt)
        return A

    def commit(self):
        self._previous = self.state["slip_rate"]
        self.state, self._committed_dt = self._trial, self._dt
        self._slope = None


class NeoHookeanPoints:
    """Stateless neo-Hookean points (A1); P and dP/dF from mechanics.elasticity."""

    def __init__(self, n_points: int, mu: float, kappa: float):
        self.n_points, self.mu, self.kappa = int(n_points), float(mu), float(kappa)

    def reset(self):
        pass

    def evaluate(self, F, dt):
        self._F = np.asarray(F, float)
        if np.any(det(self._F) <= 0):
            return np.full_like(self._F, np.nan)
        return elasticity.stress(self._F, self.mu, self.kappa)

    def tangent(self):
        return elasticity.tangent(self._F, self.mu, self.kappa)

    def commit(self):
        pass


def factory(cfg: dict, micro):
    """material_factory(pixel_i, pixel_j) for solver.CellSolver: the points of the given pixels."""

    def build(pi, pj):
        if cfg["model"] == "neohookean":
            return NeoHookeanPoints(len(pi), cfg["mu"], cfg["kappa"])
        return CrystalPoints(micro.angle[micro.grain[pi, pj]], cfg, cfg.get("crystal_options"))

    return build
