"""Elasto-viscoplastic laminate of paper Section 4 (eqs. 17-24): two layers of equal width with normal e1.

Layer l in {+, -} (index 0, 1) is uniform: total strain eps_l, plastic strain p_l, accumulated plastic strain q_l.
Isotropic elasticity sigma = lambda tr(eps - p) I + 2 mu (eps - p); J2 rate-dependent plasticity (eqs. 18-19)

    dp/dt = 3/2 (s / sbar) dq/dt,   sbar = sqrt(3/2) |s|   (Frobenius norm; the paper's sqrt(3/2 |s|) is a slip)
    while flowing (dq/dt > 0):  sbar = sigma0 (H(q) + (dq/dt / q0_dot)^m),   else sbar <= sigma0 H(q)
    H = 1 (hardening "none") or H = 1 - exp(-h q / sigma0) (hardening "exponential"; h in MPa, see docs/laminate.md)

The in-plane average strain (11, 12, 22) is prescribed; sigma_13 = sigma_23 = 0 and p_13 = p_23 = 0 hold exactly
(s_13 = s_23 = 0 keeps them so), p_33 = -(p_11 + p_22) (plastic incompressibility). The interface conditions
(eq. 23): eps_+ - eps_- = a (x) e1 + e1 (x) a (so eps_22 and, in 3D, eps_33 are continuous) and sigma_+ e1 = sigma_- e1.
The out-of-plane condition has two readings (``plane_stress``, docs/laminate.md):

  "mean"  (default) eps_33 is one unknown common to both layers (3D compatibility, eq. 23 in full) and the
          average <sigma_33> = 0. This is the reading under which eq. 24 is exact:
          a_1 = mu / (lambda + 2 mu) [p_11], a_2 = [p_12], a_3 = 0, with [x] = x_+ - x_-.
          The layers' sigma_33 are opposite, nonzero when [p_11] != 0 or [p_22] != 0.
  "layer" sigma_33 = 0 in each layer, eps_33 free in each layer (thin sheet; the out-of-plane strain is not
          required to be compatible). Then 2 a_1 = [p_11] + lambda / (2 (lambda + mu)) [p_22] instead of eq. 24.

Both readings agree for identical layers. Either way, the kinematic unknowns (a_1, a_2, eps_33) are eliminated in
closed form: the elastic energy is a quadratic form in (eps_bar, p_+, p_-, a, eps_33) and its minimum over
(a, eps_33) is exactly traction continuity plus the out-of-plane condition, a Schur complement computed once per
case (valid for different elastic constants in the two layers as well).

Time integration: backward Euler on the sampler's grid (optionally ``substeps`` per interval, strain linear in
between), vectorised over samples. Per step the driving force X_l = (s11 - s33, s22 - s33, 2 s12)_l of both layers
is linear in the plastic strains, X = X_tr - A dP (A symmetric positive semi-definite, 6 x 6; its null
vectors are plastic-strain jumps that the interface jump a takes up without stress). With the flow rule
dP_l = gamma_l s_l the stresses follow from one 6 x 6 linear solve for given multipliers gamma_+, gamma_-, and
the two consistency conditions log sbar_l = log Y_l(dq_l) are solved by Newton in u_l = log gamma_l (a smooth,
monotone residual whether the rate term or H dominates; m may be as small as 0.02). This is exactly the
minimiser of the (convex) incremental potential, so the update is unique.

Units: stress and moduli in MPa, time in s, q0_dot in 1/s, strains dimensionless.
"""
from __future__ import annotations


import numpy as np
import xarray as xr

from dataset.case import Case
from dataset.contract import build_dataset
from dataset.producer import Producer

NAME = "laminate"
INPUT = "strain"
DIM = 2

#: Per-layer keys take a number (both layers) or a pair [+, -]; the defaults (Table 1, case MH) are in the config
#: schema (pipeline/schemas/config.schema.yaml, $defs/laminate_defaults).
LAYER_KEYS = ("lambda", "mu", "sigma0", "m", "q0_dot")
HARDENING = ("none", "exponential")
PLANE_STRESS = ("mean", "layer")

#: Flows below this (accumulated plastic strain per step) are treated as zero: a layer is elastic in a step when
#: even an upper bound of its flow is smaller.
DQ_MIN = 1e-18
U_MIN, U_MAX = -700.0, 50.0  # bounds of u = log gamma (gamma in 1/MPa)
DU_MAX = 8.0  # largest Newton step in u
ROUNDS = 4  # active-set rounds per step
#: In-plane vector order used throughout: (11, 22, 12), tensor (not engineering) shear.
VOIGT = ((0, 0), (1, 1), (0, 1))
GINV = np.array([[2.0, -1.0, 0.0], [-1.0, 2.0, 0.0], [0.0, 0.0, 1.5]]) / 3.0  # s = GINV X  (s33 = -s11 - s22)
_w, _v = np.linalg.eigh(GINV)
GINV_HALF = (_v * np.sqrt(_w)) @ _v.T  # symmetric square root of GINV


def _inv_spd(N: np.ndarray) -> np.ndarray:
    """Inverses of a batch (n, k, k) of symmetric positive definite matrices (Gauss-Jordan, no pivoting)."""
    k = N.shape[-1]
    aug = np.concatenate([N, np.broadcast_to(np.eye(k), N.shape)], -1)
    for i in range(k):
        aug[:, i] /= aug[:, i, i, None]
        f = aug[:, :, i].copy()
        f[:, i] = 0.0
        aug -= f[:, :, None] * aug[:, i, None, :]
    return aug[:, :, k:]


def material(case: Case) -> dict:
    """Material of the case: per-layer arrays (2,) lambda, mu, sigma0 (MPa), m, q0_dot (1/s); h (MPa), hardening,
    plane_stress. No randomness: Table 1 fixes the material of each case."""
    cfg = case.config
    out = {}
    for key in LAYER_KEYS:
        value = np.broadcast_to(np.asarray(cfg[key], float), (2,)).copy() if np.ndim(cfg[key]) == 0 else \
            np.asarray(cfg[key], float)
        if value.shape != (2,):
            raise ValueError(f"{case}: {key} must be a number or a pair [+, -], got {cfg[key]!r}")
        out[key] = value
    for key in ("mu", "sigma0", "m", "q0_dot"):
        if not np.all(out[key] > 0):
            raise ValueError(f"{case}: {key} must be positive, got {out[key].tolist()}")
    if not np.all(out["lambda"] + 2.0 / 3.0 * out["mu"] > 0):
        raise ValueError(f"{case}: the bulk modulus lambda + 2 mu / 3 must be positive")
    out["h"] = float(cfg["h"])
    out["hardening"] = str(cfg["hardening"])
    out["plane_stress"] = str(cfg["plane_stress"])
    if out["hardening"] not in HARDENING:
        raise ValueError(f"{case}: hardening must be one of {HARDENING}, got {out['hardening']!r}")
    if out["hardening"] == "exponential" and not out["h"] > 0:
        raise ValueError(f"{case}: h must be positive with exponential hardening, got {out['h']}")
    if out["plane_stress"] not in PLANE_STRESS:
        raise ValueError(f"{case}: plane_stress must be one of {PLANE_STRESS}, got {out['plane_stress']!r}")
    return out


# ----------------------------------------------------------------------------------------------- elasticity
def _stiffness(lam: float, mu: float) -> np.ndarray:
    """K with 1/2 e^T K e the energy density of e = (e11, e22, e33, e12); K e = (s11, s22, s33, 2 s12)."""
    K = np.full((3, 3), lam) + 2.0 * mu * np.eye(3)
    out = np.zeros((4, 4))
    out[:3, :3] = K
    out[3, 3] = 4.0 * mu
    return out


def elastic_maps(mat: dict) -> dict:
    """Linear maps of y = (eps_bar11, eps_bar22, eps_bar12, p+11, p+22, p+12, p-11, p-22, p-12) (9,).

    Returns ``strain`` and ``stress`` (2, 4, 9): layer total strain and Cauchy stress, components (11, 22, 33, 12);
    ``X`` (6, 9): driving forces (s11 - s33, s22 - s33, 2 s12) of both layers; ``A`` (6, 6) = -dX/dP;
    ``jump`` (2, 9): (a1, a2); ``energy`` (9, 9): the reduced quadratic form W = 1/2 y^T Q y.
    """
    layer_mode = mat["plane_stress"] == "layer"
    nk = 4 if layer_mode else 3  # (a1, a2, eps33) or (a1, a2, eps33+, eps33-)
    n = 9 + nk
    R, Pi = [], []
    for l, sign in enumerate((1.0, -1.0)):
        tot = np.zeros((4, n))
        tot[0, 0], tot[0, 9] = 1.0, sign          # eps11 = eps_bar11 +- a1
        tot[1, 1] = 1.0                           # eps22 = eps_bar22
        tot[2, 11 + (l if layer_mode else 0)] = 1.0  # eps33
        tot[3, 2], tot[3, 10] = 1.0, 0.5 * sign   # eps12 = eps_bar12 +- a2 / 2
        pl = np.zeros((4, n))
        c = 3 + 3 * l
        pl[0, c], pl[1, c + 1], pl[2, c], pl[2, c + 1], pl[3, c + 2] = 1.0, 1.0, -1.0, -1.0, 1.0
        R.append(tot - pl)
        Pi.append(pl)
    K = [_stiffness(mat["lambda"][l], mat["mu"][l]) for l in range(2)]
    Q = sum(0.5 * R[l].T @ K[l] @ R[l] for l in range(2))
    T = np.vstack([np.eye(9), -np.linalg.solve(Q[9:, 9:], Q[9:, :9])])  # (n, 9): y -> (y, k*(y))
    elastic = np.stack([R[l] @ T for l in range(2)])
    strain = np.stack([(R[l] + Pi[l]) @ T for l in range(2)])
    half = np.diag([1.0, 1.0, 1.0, 0.5])
    stress = np.stack([half @ K[l] @ elastic[l] for l in range(2)])
    D = np.array([[1.0, 0.0, -1.0, 0.0], [0.0, 1.0, -1.0, 0.0], [0.0, 0.0, 0.0, 2.0]])
    X = np.vstack([D @ stress[l] for l in range(2)])
    return {"strain": strain, "stress": stress, "X": X, "A": -X[:, 3:], "jump": T[9:11],
            "energy": T.T @ Q @ T}


def layer_fields(eps_bar: np.ndarray, eps_p: np.ndarray, mat: dict) -> tuple[np.ndarray, np.ndarray]:
    """Layer strain and stress (..., 2, 4) in components (11, 22, 33, 12) from in-plane eps_bar (..., 3) and the
    plastic strains eps_p (..., 2, 3), both in (11, 22, 12) order."""
    maps = elastic_maps(mat)
    y = np.concatenate([eps_bar, eps_p.reshape(*eps_p.shape[:-2], 6)], axis=-1)
    return np.einsum("lcy,...y->...lc", maps["strain"], y), np.einsum("lcy,...y->...lc", maps["stress"], y)


# ------------------------------------------------------------------------------------------------ plasticity
class _Return:
    """Backward-Euler return mapping of both layers for a batch of samples (see module docstring)."""

    def __init__(self, mat: dict, dt: float, tol: float, max_iter: int):
        maps = elastic_maps(mat)
        self.A = maps["A"]
        self.Gh6 = np.kron(np.eye(2), GINV_HALF)
        self.C = self.Gh6 @ self.A @ self.Gh6
        self.AGh6 = self.A @ self.Gh6
        self.sigma0, self.m, self.mu = mat["sigma0"], mat["m"], mat["mu"]
        self.q0_dot = mat["q0_dot"]
        self.set_dt(dt)
        self.hardening = mat["hardening"] == "exponential"
        self.h = mat["h"]
        self.tol, self.max_iter = tol, max_iter
        # Effective shear modulus of a layer's own return (the diagonal block of A on pure shear), for guesses.
        self.mu_eff = np.array([0.5 * self.A[3 * l + 2, 3 * l + 2] for l in range(2)])

    def set_dt(self, dt: float) -> None:
        self.log_c = np.log(dt * self.q0_dot)  # c = dt q0_dot: dq = c means dq/dt = q0_dot

    def H(self, q):
        if not self.hardening:
            return np.ones_like(q), np.zeros_like(q)
        x = self.h * q / self.sigma0
        return -np.expm1(-x), (self.h / self.sigma0) * np.exp(-x)

    def forces(self, gam, Xtr):
        """X (n, 6), s (n, 2, 3), sbar (n, 2) and Minv (a function y (n, 6) -> (I + A D)^-1 y) for multipliers
        gam (n, 2).

        X solves (I + A D) X = Xtr with D = blockdiag(gam_+ GINV, gam_- GINV). With B = D^(1/2) (block diagonal,
        symmetric) N = I + B A B is symmetric positive definite with eigenvalues >= 1, so it is inverted by
        elimination without pivoting, and (I + A D)^-1 = I - A B N^-1 B (Woodbury). Plain numpy on purpose:
        batched LAPACK calls on tiny matrices thrash with a multithreaded BLAS.
        """
        r = np.repeat(np.sqrt(gam), 3, axis=1)  # (n, 6): B = diag(r) blockdiag(GINV_HALF, GINV_HALF)
        Ninv = _inv_spd(np.eye(6) + r[:, :, None] * self.C * r[:, None, :])

        def Minv(y):
            z = r * (y @ self.Gh6.T)
            return y - (r * np.einsum("nij,nj->ni", Ninv, z)) @ self.AGh6.T

        X = Minv(Xtr)
        Xl = X.reshape(-1, 2, 3)
        s = Xl @ GINV
        sbar = np.sqrt(np.maximum(1.5 * (s * Xl).sum(-1), 0.0))
        return X, s, sbar, Minv

    def upper_log_dq(self, sbar, qn):
        """log of an upper bound of a layer's flow in the step given its stress without own flow (n, 2)."""
        H, _ = self.H(qn)
        over = sbar - self.sigma0 * H
        with np.errstate(divide="ignore", invalid="ignore"):
            ri = np.log(np.maximum(over, 0.0) / (3.0 * self.mu_eff))
            rate = self.log_c + np.log(np.maximum(over / self.sigma0, 0.0)) / self.m
        return np.where(over > 0, np.minimum(ri, rate), -np.inf)

    def residual(self, u, active, Xtr, qn):
        """Log residuals rho (n, 2), Jacobian d rho / du (n, 2, 2) and the state at u."""
        gam = np.where(active, np.exp(u), 0.0)
        X, s, sbar, Minv = self.forces(gam, Xtr)
        sb = np.maximum(sbar, 1e-300)
        dq = 2.0 / 3.0 * gam * sbar
        log_dq = np.log(np.maximum(dq, 1e-300))
        r = np.exp(self.m * (log_dq - self.log_c))  # (dq/dt / q0_dot)^m
        H, dH = self.H(qn + dq)
        base = np.maximum(H + r, 1e-300)
        rho = np.log(sb) - np.log(self.sigma0) - np.log(base)
        kappa = (dH * dq + self.m * r) / base  # d log Y / d log dq
        # L[l, k] = d log sbar_l / du_k = gamma_k 3/2 s_l . dX_l/dgamma_k / sbar_l^2, dX/dgamma_k = -Minv A s_k
        W = np.empty((len(u), 2, 6))
        for k in range(2):
            Vk = s[:, k] @ self.A[:, 3 * k:3 * k + 3].T  # (n, 6)
            W[:, k] = Minv(Vk)
        dX = -W.reshape(-1, 2, 2, 3)  # [n, k, l, :] = dX_l / dgamma_k
        L = 1.5 * gam[:, None, :] * np.einsum("nlc,nklc->nlk", s, dX) / sb[:, :, None] ** 2
        J = L * (1.0 - kappa[:, :, None]) - kappa[:, :, None] * np.eye(2)
        rho = np.where(active, rho, 0.0)
        J = np.where(active[:, :, None] & active[:, None, :], J, np.eye(2))
        return rho, J, {"gam": gam, "X": X, "s": s, "sbar": sbar, "dq": dq}

    def solve(self, Xtr, qn, u0):
        """Return map a batch: Xtr (n, 6) trial driving forces, qn (n, 2), u0 (n, 2) warm start (nan: none).

        Returns dP (n, 6), dq (n, 2), u (n, 2) (nan where elastic), ok (n,), iterations.
        """
        n = len(Xtr)
        gam0 = np.zeros((n, 2))
        X, s, sbar, _ = self.forces(gam0, Xtr)
        lub = self.upper_log_dq(sbar, qn)
        active = lub > np.log(DQ_MIN)
        u = np.full((n, 2), np.nan)
        dP, dq = np.zeros((n, 6)), np.zeros((n, 2))
        ok = np.ones(n, bool)
        iters = 0
        todo = np.flatnonzero(active.any(1))
        for _ in range(ROUNDS):
            if todo.size == 0:
                break
            guess = np.log(1.5) + np.minimum(lub[todo], 30.0) - np.log(np.maximum(sbar[todo], 1e-300))
            warm = np.where(np.isnan(u0[todo]), np.inf, u0[todo])
            u_t = np.where(np.isnan(u[todo]), np.minimum(guess, warm), u[todo])
            u_t = np.clip(np.where(active[todo], u_t, 0.0), U_MIN, U_MAX)
            u_t, act_t, conv, state, it = self._newton(u_t, active[todo], Xtr[todo], qn[todo])
            iters += it
            ok[todo] = conv
            active[todo] = act_t
            u[todo] = np.where(act_t, u_t, np.nan)
            gam = state["gam"]
            dP[todo] = (gam[:, :, None] * state["s"]).reshape(-1, 6)
            dq[todo] = state["dq"]
            # layers held elastic: does the others' flow push them over? (their sbar is already without own flow)
            lub_t = self.upper_log_dq(state["sbar"], qn[todo])
            wake = ~act_t & (lub_t > np.log(DQ_MIN)) & conv[:, None]
            if not wake.any():
                break
            active[todo] = act_t | wake
            lub[todo] = np.where(wake, lub_t, lub[todo])
            sbar[todo] = np.where(wake, state["sbar"], sbar[todo])
            todo = todo[wake.any(1)]
        return dP, dq, u, ok, iters

    def _newton(self, u, active, Xtr, qn):
        """Damped Newton in u on the rows of a batch; converged rows are no longer evaluated."""
        n = len(u)
        u, active = u.copy(), active.copy()
        rho, J, state = self.residual(u, active, Xtr, qn)
        conv = np.zeros(n, bool)
        it = 0
        log_min = np.log(DQ_MIN)

        def update(rows, act_rows):
            r, j, st = self.residual(u[rows], act_rows, Xtr[rows], qn[rows])
            rho[rows], J[rows] = r, j
            for key in state:
                state[key][rows] = st[key]

        for it in range(1, self.max_iter + 1):
            # a layer whose flow has become negligible while still too much (rho < 0): elastic in this step
            tiny = active & (state["dq"] < DQ_MIN) & (rho < 0) & ~conv[:, None]
            if tiny.any():
                active &= ~tiny
                rows = np.flatnonzero(tiny.any(1))
                update(rows, active[rows])
            conv = (np.abs(rho) <= self.tol).all(1)
            live = np.flatnonzero(~conv)
            if live.size == 0:
                break
            Jl, rl = J[live], rho[live]
            det = Jl[:, 0, 0] * Jl[:, 1, 1] - Jl[:, 0, 1] * Jl[:, 1, 0]
            with np.errstate(divide="ignore", invalid="ignore"):
                du = -np.stack([Jl[:, 1, 1] * rl[:, 0] - Jl[:, 0, 1] * rl[:, 1],
                                -Jl[:, 1, 0] * rl[:, 0] + Jl[:, 0, 0] * rl[:, 1]], -1) / det[:, None]
            # clipped per layer: a layer with negligible own flow can get a huge step that must not shrink the other's
            du = np.clip(np.where(np.isfinite(du), du, 0.0), -DU_MAX, DU_MAX)
            # a layer driven far to the left: is it elastic given the other layer's current flow?
            left = active[live] & (du < -2.0) & (rl < 0)
            for l in range(2):
                sub = np.flatnonzero(left[:, l])
                if sub.size == 0:
                    continue
                rows = live[sub]
                act = active[rows].copy()
                act[:, l] = False
                _, _, st = self.residual(u[rows], act, Xtr[rows], qn[rows])
                elastic = self.upper_log_dq(st["sbar"], qn[rows])[:, l] <= log_min
                active[rows[elastic], l] = False
                du[sub[elastic], l] = 0.0
            # Newton step; where it does not reduce the residual norm, the per-layer (diagonal) Newton step, which
            # ignores the coupling (the coupled step can be poor when one layer's own flow is negligible and its
            # residual is governed by the other layer's flow); then backtracking on that.
            merit = (rl ** 2).sum(1)
            u0 = u[live].copy()
            alpha = np.ones(live.size)
            rows, act = live, active[live]
            u[live] = np.clip(u0 + du, U_MIN, U_MAX)
            update(rows, act)
            bad = (rho[live] ** 2).sum(1) > (1.0 - 1e-4) * merit
            if bad.any():
                diag = -rl / np.where(active[live], np.diagonal(Jl, axis1=1, axis2=2), 1.0)
                diag = np.clip(np.where(np.isfinite(diag) & active[live], diag, 0.0), -DU_MAX, DU_MAX)
                du[bad] = diag[bad]
                u[live[bad]] = np.clip(u0[bad] + du[bad], U_MIN, U_MAX)
                rows, act = live[bad], active[live[bad]]
                for _ in range(12):
                    update(rows, act)
                    bad = (rho[live] ** 2).sum(1) > (1.0 - 1e-4 * alpha) * merit
                    if not bad.any():
                        break
                    alpha[bad] *= 0.5
                    u[live[bad]] = np.clip(u0[bad] + alpha[bad, None] * du[bad], U_MIN, U_MAX)
                    rows, act = live[bad], active[live[bad]]
        conv = (np.abs(rho) <= self.tol).all(1) & np.isfinite(rho).all(1)
        return u, active, conv, state, it


def integrate_paths(eps_bar: np.ndarray, time: np.ndarray, mat: dict, *, substeps: int = 1, tol: float = 1e-10,
                    max_iter: int = 60):
    """Backward Euler for in-plane average strain paths eps_bar (S, n_time, 3) in (11, 22, 12) order on ``time``.

    Returns eps_p (S, n_time, 2, 3) in (11, 22, 12) order, q (S, n_time, 2), failed {sample: reason}, and stats
    (Newton iterations). A sample whose Newton solve does not converge is frozen from then on and reported.
    """
    S, n_time, _ = eps_bar.shape
    maps = elastic_maps(mat)
    Xe = maps["X"][:, :3]
    eps_p = np.zeros((S, n_time, 2, 3))
    q = np.zeros((S, n_time, 2))
    P, qn = np.zeros((S, 6)), np.zeros((S, 2))
    u_prev = np.full((S, 2), np.nan)
    alive = np.ones(S, bool)
    failed = {}
    stats = {"newton_iterations": 0, "steps": 0}
    ret = _Return(mat, 1.0, tol, max_iter)
    for n in range(1, n_time):
        dt = (time[n] - time[n - 1]) / substeps
        ret.set_dt(dt)
        for k in range(1, substeps + 1):
            e = eps_bar[:, n - 1] + (k / substeps) * (eps_bar[:, n] - eps_bar[:, n - 1])
            idx = np.flatnonzero(alive)
            Xtr = e[idx] @ Xe.T - P[idx] @ ret.A.T
            dP, dq, u, ok, it = ret.solve(Xtr, qn[idx], u_prev[idx])
            stats["newton_iterations"] += it
            stats["steps"] += 1
            for s in idx[~ok]:
                failed[int(s)] = f"return mapping did not converge in {max_iter} Newton iterations at t = " \
                                 f"{time[n - 1] + k * dt:.6g} s"
            good = idx[ok]
            P[good] += dP[ok]
            qn[good] += dq[ok]
            u_prev[good] = u[ok]
            alive[idx[~ok]] = False
        eps_p[:, n] = P.reshape(S, 2, 3)
        q[:, n] = qn
    return eps_p, q, failed, stats


# -------------------------------------------------------------------------------------------------- producer
def _vec(x: np.ndarray) -> np.ndarray:
    """(..., 2, 2) symmetric -> (..., 3) in (11, 22, 12) order."""
    return np.stack([x[..., 0, 0], x[..., 1, 1], x[..., 0, 1]], -1)


def _mat(v: np.ndarray) -> np.ndarray:
    """(..., 3) in (11, 22, 12) order -> (..., 2, 2) symmetric."""
    return np.stack([np.stack([v[..., 0], v[..., 2]], -1), np.stack([v[..., 2], v[..., 1]], -1)], -2)


class Laminate(Producer):
    """Producer ``laminate``: in-plane average strain paths (S, n_time, 2, 2) -> average in-plane Cauchy stress."""

    name, input, dim = NAME, INPUT, DIM

    def integrate(self, inputs, time, case, good, failures) -> xr.Dataset:
        """Average in-plane Cauchy stress (MPa); params lambda, mu, sigma0, m, q0_dot (over ``layer``), h,
        hardening; micro-state eps_p11, eps_p12, eps_p22, q (sample, time, layer). Samples whose return mapping
        does not converge are listed in the failures and left out."""
        mat = material(case)
        cfg = case.config
        substeps, tol, max_iter = int(cfg["substeps"]), float(cfg["tol"]), int(cfg["max_iter"])
        if substeps < 1 or not 0 < tol < 1e-2 or max_iter < 1:
            raise ValueError(f"{case}: need substeps >= 1, 0 < tol < 1e-2, max_iter >= 1")
        S = inputs.shape[0]
        eps_bar = _vec(inputs)
        reasons = {f["sample"]: f["reason"] for f in failures}
        eps_p = np.zeros((S, time.size, 2, 3))
        q = np.zeros((S, time.size, 2))
        if good.size:
            ep, qq, failed, _ = integrate_paths(eps_bar[good], time, mat, substeps=substeps, tol=tol,
                                                max_iter=max_iter)
            eps_p[good], q[good] = ep, qq
            reasons.update({int(good[s]): reason for s, reason in failed.items()})
        keep = np.array([s for s in range(S) if s not in reasons], int)
        _, stress_l = layer_fields(eps_bar[keep], eps_p[keep], mat)  # (S', n_time, 2, 4)
        stress = _mat(0.5 * (stress_l[..., 0, [0, 1, 3]] + stress_l[..., 1, [0, 1, 3]]))

        layer = {"layer": ("layer", np.arange(2), {"long_name": "layer: 0 = '+', 1 = '-' (Table 1)"})}

        def per_layer(key, units, long_name):
            return xr.DataArray(mat[key], dims="layer", coords=layer, attrs={"units": units, "long_name": long_name})

        params = {
            "lambda": per_layer("lambda", "MPa", "Lame modulus lambda"),
            "mu": per_layer("mu", "MPa", "shear modulus mu"),
            "sigma0": per_layer("sigma0", "MPa", "yield strength sigma0"),
            "m": per_layer("m", "1", "rate-hardening exponent m"),
            "q0_dot": per_layer("q0_dot", "1/s", "reference plastic strain rate"),
            "h": xr.DataArray(mat["h"], attrs={"units": "MPa", "long_name": "hardening coefficient h in "
                                               "H = 1 - exp(-h q / sigma0) (unused without hardening)"}),
            "hardening": xr.DataArray(np.int8(mat["hardening"] == "exponential"), attrs={
                "units": "1", "long_name": "isotropic hardening H(q)", "flag_values": [0, 1],
                "flag_meanings": "none exponential"}),
        }
        dims = ("sample", "time", "layer")
        micro = {
            "eps_p11": xr.DataArray(eps_p[keep, :, :, 0], dims=dims,
                                    attrs={"units": "1", "long_name": "plastic strain 11"}),
            "eps_p12": xr.DataArray(eps_p[keep, :, :, 2], dims=dims,
                                    attrs={"units": "1", "long_name": "plastic strain 12 (tensor component)"}),
            "eps_p22": xr.DataArray(eps_p[keep, :, :, 1], dims=dims,
                                    attrs={"units": "1", "long_name": "plastic strain 22"}),
            "q": xr.DataArray(q[keep], dims=dims, attrs={"units": "1", "long_name": "accumulated plastic strain q"}),
        }
        ds = build_dataset(case, time, inputs[keep], stress, input_name=INPUT, params=params, micro=micro,
                           failures=[{"sample": s, "reason": reasons[s]} for s in sorted(reasons)], sample=keep)
        ds.attrs["plane_stress"] = mat["plane_stress"]
        return ds


PRODUCER = Laminate()
#: solve(inputs (S, n_time, 2, 2) strain, time (s), case) -> contract Dataset (dataset.producer.Producer.solve)
solve = PRODUCER.solve
