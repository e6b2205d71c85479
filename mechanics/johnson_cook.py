"""Finite-strain J2 plasticity with the Johnson-Cook flow stress (Johnson & Cook 1983, the paper's ref. [15]),
isothermal, vectorised over points; a ``mechanics.mixed_bc.Material``. Units: stress and moduli in MPa, time in s.

Flow stress (isothermal: the thermal softening factor 1 - T*^m of ref. [15] is 1, no adiabatic heating)

    sigma_y(eps_p, eps_dot_p) = (A + B eps_p^n) (1 + C ln max(eps_dot_p / eps_dot_0, 1))

with the rate term cut off at eps_dot_0 (quasi-static below it; as Abaqus does): without the cut-off the flow
stress would fall without bound as eps_dot_p -> 0 and yield could not start from rest.

Kinematics: multiplicative, F = Fe Fp, det Fp = 1, with a logarithmic-strain (Hencky) elastic law

    tau = kappa tr(h) I + 2 mu dev(h),   h = ln Ve = 1/2 ln be,   be = Fe Fe^T,   sigma = tau / det F

(tau Kirchhoff stress), and the exponential-map radial return of Simo (1992, Comput. Methods Appl. Mech. Engrg.
99:61; Eterovic & Bathe 1990; Weber & Anand 1990). Why this and not a hypoelastic rate form: it is exactly
objective with no choice of objective rate or incremental rotation, it has no spurious dissipation or shear
oscillation under large elastic-plastic shear (the Jaumann rate's known defect), the plastic flow is exactly
isochoric, and in the principal frame of be the return is the small-strain radial return in h (so the closed forms
of small-strain J2 hold for log strains). It also matches the multiplicative split of the crystal model
(mechanics.crystal).

Update of a step F_n -> F over dt (backward Euler), state Cp^-1 = Fp^-1 Fp^-T (invariant under superposed
rotations) and eps_p:

    be_tr = F Cp_n^-1 F^T,  h_tr = 1/2 ln be_tr,  s_tr = 2 mu dev h_tr,  q_tr = sqrt(3/2 s_tr:s_tr)
    elastic if q_tr <= sigma_y(eps_p_n, 0) = A + B eps_p_n^n
    else dgamma > 0 solves  q_tr - 3 mu dgamma = sigma_y(eps_p_n + dgamma, dgamma/dt)   (scalar, per point)
    h = h_tr - dgamma 3/2 s_tr/q_tr,   eps_p = eps_p_n + dgamma,   be = exp(2h),   Cp^-1 = F^-1 be F^-T

The scalar equation is solved by Newton safeguarded by bisection on the bracket [0, (q_tr - sigma_y(eps_p_n, 0))
/(3 mu)] (its residual is decreasing in dgamma, positive at 0 and non-positive at the upper end), vectorised over
the points, to |r| <= tol * q_tr. No tangent is offered: the mixed-BC driver uses finite differences.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tensor import det, inv, transpose

STATE_KEYS = ("Cp_inv", "eps_p", "eps_dot_p")


@dataclass(frozen=True)
class JohnsonCook:
    """Johnson-Cook J2 plasticity (module docstring). mu, kappa: shear and bulk moduli (MPa); A, B (MPa), n (-),
    C (-), eps_dot_0 (1/s) of the flow stress; tol: relative tolerance of the scalar return; max_iter its
    iterations (bisection halves the bracket each time it is used, so 200 always suffice)."""

    mu: float
    kappa: float
    A: float
    B: float
    n: float
    C: float
    eps_dot_0: float
    tol: float = 1e-12
    max_iter: int = 200

    def __post_init__(self):
        for name in ("mu", "kappa", "A", "n", "eps_dot_0"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"JohnsonCook: {name} must be positive and finite, got {v}")
        for name in ("B", "C"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"JohnsonCook: {name} must be >= 0 and finite, got {v}")
        if not (np.isfinite(self.tol) and self.tol > 0):
            raise ValueError(f"JohnsonCook: tol must be positive and finite, got {self.tol}")
        if int(self.max_iter) < 1:
            raise ValueError(f"JohnsonCook: max_iter must be >= 1, got {self.max_iter}")

    @property
    def poisson_ratio(self) -> float:
        """Small-strain (and, for the Hencky law, finite-strain uniaxial) nu = (3 kappa - 2 mu)/(2 (3 kappa + mu))."""
        return (3 * self.kappa - 2 * self.mu) / (2 * (3 * self.kappa + self.mu))

    @property
    def young_modulus(self) -> float:
        """E = 9 kappa mu / (3 kappa + mu) (MPa)."""
        return 9 * self.kappa * self.mu / (3 * self.kappa + self.mu)

    def flow_stress(self, eps_p, eps_dot_p) -> np.ndarray:
        """sigma_y = (A + B eps_p^n)(1 + C ln max(eps_dot_p/eps_dot_0, 1)) (MPa)."""
        eps_p, eps_dot_p = np.asarray(eps_p, float), np.asarray(eps_dot_p, float)
        rate = 1.0 + self.C * np.log(np.maximum(eps_dot_p / self.eps_dot_0, 1.0))
        return (self.A + self.B * eps_p ** self.n) * rate

    def initial_state(self, batch: int) -> dict:
        """Cp^-1 = I (B, 3, 3), eps_p = 0 and eps_dot_p = 0 (B,)."""
        return {"Cp_inv": np.broadcast_to(np.eye(3), (int(batch), 3, 3)).copy(), "eps_p": np.zeros(int(batch)),
                "eps_dot_p": np.zeros(int(batch))}

    def _return(self, q_tr, eps_p_n, dt):
        """dgamma (B,) >= 0 of the radial return (0 where elastic)."""
        A, B, n, C, mu = self.A, self.B, self.n, self.C, self.mu
        y0 = A + B * eps_p_n ** n
        plastic = q_tr > y0
        lo = np.zeros_like(q_tr)
        hi = np.where(plastic, (q_tr - y0) / (3 * mu), 0.0)
        dg = hi.copy()
        todo = plastic.copy()
        rate0 = dt * self.eps_dot_0
        for _ in range(self.max_iter):
            if not todo.any():
                break
            e = eps_p_n + dg
            hard = A + B * e ** n
            ratio = np.maximum(dg / rate0, 1.0)
            R = 1.0 + C * np.log(ratio)
            r = q_tr - 3 * mu * dg - hard * R
            with np.errstate(divide="ignore", invalid="ignore"):
                dhard = np.where(e > 0, B * n * e ** (n - 1.0), 0.0)
                dR = np.where(dg > rate0, C / dg, 0.0)
            dr = -3 * mu - dhard * R - hard * dR
            conv = np.abs(r) <= self.tol * q_tr
            todo &= ~conv
            lo = np.where(todo & (r > 0), dg, lo)
            hi = np.where(todo & (r <= 0), dg, hi)
            with np.errstate(divide="ignore", invalid="ignore"):
                newton = dg - r / dr
            inside = np.isfinite(newton) & (newton > lo) & (newton < hi)
            dg = np.where(todo, np.where(inside, newton, 0.5 * (lo + hi)), dg)
        if todo.any():
            raise RuntimeError(f"JohnsonCook: the radial return did not converge at {int(todo.sum())} points")
        return dg

    def update(self, F_prev, F, dt, state):
        """Step to F (B, 3, 3) over dt (s, scalar or (B,)) from ``state``: (Cauchy stress (B, 3, 3) MPa, new state). F_prev is not
        used (the state holds Cp^-1). Points with det F <= 0 get non-finite stress (a failed update)."""
        F = np.asarray(F, float)
        dt = np.broadcast_to(np.asarray(dt, float), F.shape[:1])
        if not np.all(dt > 0):
            raise ValueError(f"JohnsonCook.update: dt must be positive, got {dt.min()}")
        J = det(F)
        good = J > 0
        Fg = np.where(good[:, None, None], F, np.eye(3))
        be_tr = Fg @ state["Cp_inv"] @ transpose(Fg)
        w, V = np.linalg.eigh(0.5 * (be_tr + transpose(be_tr)))
        h_tr = 0.5 * np.log(w)  # principal logarithmic elastic strains (B, 3)
        vol = h_tr.sum(-1, keepdims=True)
        s_tr = 2 * self.mu * (h_tr - vol / 3)
        q_tr = np.sqrt(1.5 * (s_tr * s_tr).sum(-1))
        eps_p_n = np.asarray(state["eps_p"], float)
        dg = self._return(q_tr, eps_p_n, dt)
        with np.errstate(divide="ignore", invalid="ignore"):
            N = np.where(q_tr[:, None] > 0, 1.5 * s_tr / q_tr[:, None], 0.0)
        h = h_tr - dg[:, None] * N
        tau = self.kappa * vol + 2 * self.mu * (h - vol / 3)
        sigma = (V * (tau / np.where(good, J, 1.0)[:, None])[:, None, :]) @ transpose(V)
        be = (V * np.exp(2 * h)[:, None, :]) @ transpose(V)
        Finv = inv(Fg)
        Cp_inv = Finv @ be @ transpose(Finv)
        sigma = np.where(good[:, None, None], sigma, np.nan)
        new = {"Cp_inv": 0.5 * (Cp_inv + transpose(Cp_inv)), "eps_p": eps_p_n + dg, "eps_dot_p": dg / dt}
        return sigma, new


def hencky_stress(F, mu: float, kappa: float) -> np.ndarray:
    """Elastic Cauchy stress (B, 3, 3) MPa of the Hencky law: (kappa tr(h) I + 2 mu dev h)/det F, h = 1/2 ln(F F^T)."""
    F = np.asarray(F, float)
    w, V = np.linalg.eigh(F @ transpose(F))
    h = 0.5 * np.log(w)
    vol = h.sum(-1, keepdims=True)
    tau = kappa * vol + 2 * mu * (h - vol / 3)
    return (V * (tau / det(F)[..., None])[..., None, :]) @ transpose(V)
