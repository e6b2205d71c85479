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

from mechanics import crystal, elasticity, slip
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


class CrystalPoints:
    """Crystal-plasticity points (mechanics.crystal update + tangent), one orientation angle (rad) per point."""

    def __init__(self, angle: np.ndarray, cfg: dict, options: dict | None = None):
        sp = slip_parameters(cfg)
        self.params = crystal_params(cfg)
        self.n_points = int(np.size(angle))
        self.schmid = slip.schmid_tensors(sp["b"], sp["n"], slip.rotation_2d(np.asarray(angle, float)))
        self.options = dict(options or {})
        self.reset()

    def reset(self):
        self.state = crystal.initial_state(self.n_points, 2, self.params.n_systems)
        self._trial = None

    def evaluate(self, F, dt):
        self._F, self._dt = np.array(F, float), float(dt)
        try:
            P, new, conv = crystal.update(self._F, self.state, self._dt, self.schmid, self.params,
                                               **self.options)
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
            return crystal.tangent(self._F, self.state, self._trial, self._dt, self.schmid, self.params)
        except (ValueError, RuntimeError):
            return np.zeros((self.n_points, 2, 2, 2, 2))

    def commit(self):
        self.state = self._trial


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
