"""Compiled (numba) Newton solve of the stress-based backward Euler step of mechanics.crystal, one point at a time.

The algorithm is the one documented in mechanics.crystal (module docstring, ``update``): unknown y = Mandel(Ce - Ctr),
explicit kinetics in the resolved shears, residual r = y - Mandel(exp(-A)^T Ctr exp(-A) - Ctr), the approximate
Jacobian I + 2 lambda^2 mu J^(-2/d) sum_i dgamma_i' S_i (x) S_i (Cholesky), a backtracking line search on |r|^2, the
better of two initial guesses. Compiled per point so that every point iterates only as long as it needs and no
(P, N, ...) temporaries are made: the numpy formulation of the same scheme spent ~25 us per grain-step on array
dispatch and memory traffic (benchmarks/bench_taylor.py). Compiled functions are cached on disk (``cache=True``,
numba's ``__pycache__`` beside this file).
"""
from __future__ import annotations

import numba
import numpy as np

from .tensor import SQRT2 as _SQ2


@numba.njit(cache=True)
def _ipow(x, k):
    """x**k for a non-negative integer k by binary exponentiation."""
    out = 1.0
    while k > 0:
        if k & 1:
            out *= x
        x *= x
        k >>= 1
    return out


@numba.njit(cache=True, inline="always")  # in the hot loop: no call per 3x3 product
def _matmul(A, B, d, out):
    """out = A B for d x d A, B (out must be neither)."""
    for i in range(d):
        for j in range(d):
            acc = 0.0
            for m in range(d):
                acc += A[i, m] * B[m, j]
            out[i, j] = acc


@numba.njit(cache=True)
def _expm1(A, d, X, B, Y, T):
    """X = exp(A) - I for one d x d A (Horner's scheme of the Taylor series of exp(B) - I, B = A/2^k with
    |B|_1 <= 1/2, truncation below 1e-17, then k squarings X <- 2X + X X); B, Y, T are scratch."""
    norm = 0.0
    for j in range(d):
        col = 0.0
        for i in range(d):
            col += abs(A[i, j])
        norm = max(norm, col)
    k = 0
    if norm > 0.5:
        k = int(np.ceil(np.log2(norm / 0.5)))
    scale = 0.5**k
    theta = norm * scale
    deg, term = 1, theta
    while term * theta / (deg + 1) > 1e-17 and deg < 30:
        deg += 1
        term *= theta / deg
    for i in range(d):
        for j in range(d):
            B[i, j] = A[i, j] * scale
            Y[i, j] = (1.0 if i == j else 0.0) + (B[i, j] / deg if deg > 1 else 0.0)
    for jj in range(deg - 1, 1, -1):
        _matmul(B, Y, d, T)
        for i in range(d):
            for j in range(d):
                Y[i, j] = (1.0 if i == j else 0.0) + T[i, j] / jj
    _matmul(B, Y, d, X)
    for _ in range(k):
        _matmul(X, X, d, T)
        for i in range(d):
            for j in range(d):
                X[i, j] = 2.0 * X[i, j] + T[i, j]


@numba.njit(cache=True)
def _mandel_change(Ctr, X, T, mi, mj, d, out):
    """out = Mandel(exp(-A)^T Ctr exp(-A) - Ctr) = Mandel(X^T (Ctr + Ctr X) + Ctr X) for X = exp(-A) - I (T is
    scratch; no cancellation against Ctr)."""
    _matmul(Ctr, X, d, T)
    for q in range(mi.size):
        a, b = mi[q], mj[q]
        Dab, Dba = T[a, b], T[b, a]
        for m in range(d):
            Dab += X[m, a] * (Ctr[m, b] + T[m, b])
            Dba += X[m, b] * (Ctr[m, a] + T[m, a])
        out[q] = Dab if a == b else (Dab + Dba) / _SQ2


@numba.njit(cache=True)
def _kinetics(tau, g, tau0, c, w, xcap, inv_m, int_exp, uni, dgam, slope, coup):
    """dgamma_i = c_i sign(tau_i) q_i, q_i = x_i^(1/m_i) (continued linearly beyond x_cap), and its derivative:
    d dgamma_i/d tau_j = slope_i delta_ij - (dgamma_i/D) coup_j. Twin systems (w_i > 0) share the untwinned volume
    by backward Euler: their increments are divided by D = 1 + sum_j w_j q_j (w_j = dt gamma_dot0_j /
    twin_shear_j), so the twin fraction stays below 1; coup_j = w_j dq_j/dtau_j (0 on slip systems).
    Returns (whether a system passed x_cap, D)."""
    capped = False
    D = 1.0
    for i in range(tau.size):
        mag = (tau[i] if uni[i] else abs(tau[i])) - g[i]
        coup[i] = 0.0
        if mag <= 0.0:
            dgam[i] = 0.0
            slope[i] = 0.0
            continue
        xr = mag / tau0[i]
        x = min(xr, xcap[i])
        if int_exp[i] >= 0:
            xp = _ipow(x, int_exp[i])
        else:
            xp = x ** (inv_m[i] - 1.0)
        sgn = 1.0 if (uni[i] or tau[i] >= 0.0) else -1.0
        q = xp * x + inv_m[i] * xp * (xr - x)
        slope[i] = c[i] * inv_m[i] * xp / tau0[i]
        dgam[i] = sgn * c[i] * q
        if w[i] != 0.0:
            D += w[i] * q
            coup[i] = w[i] * inv_m[i] * xp / tau0[i]
        if xr > xcap[i]:
            capped = True
    if D != 1.0:
        for i in range(tau.size):
            if w[i] != 0.0:
                dgam[i] /= D
                slope[i] /= D
    return capped, D


@numba.njit(cache=True)
def _evaluate(y, Ctr, muJm, tau_tr, g, S, s, tau0, c, w, xcap, inv_m, int_exp, uni, tau0_min, mi, mj, d,
              tau, dgam, slope, coup, A, X, B, Y, T, r):
    """Residual r at y (see module docstring); fills tau, dgam, slope, coup, r; returns (merit, res, capped, D)."""
    N, n = S.shape
    for i in range(N):
        acc = 0.0
        for a in range(n):
            acc += S[i, a] * y[a]
        tau[i] = tau_tr[i] + muJm * acc
    capped, D = _kinetics(tau, g, tau0, c, w, xcap, inv_m, int_exp, uni, dgam, slope, coup)
    for a in range(d):
        for b in range(d):
            A[a, b] = 0.0
    for i in range(N):
        if dgam[i] != 0.0:
            for a in range(d):
                for b in range(d):
                    A[a, b] -= dgam[i] * s[i, a * d + b]
    for a in range(d):
        for b in range(d):
            A[a, b] = min(max(A[a, b], -1e3), 1e3)
    _expm1(A, d, X, B, Y, T)
    _mandel_change(Ctr, X, T, mi, mj, d, r)
    merit, res = 0.0, 0.0
    for q in range(n):
        r[q] = y[q] - r[q]
        rs = muJm * r[q] / tau0_min
        merit += rs * rs
        res = max(res, abs(rs))
    if not np.isfinite(merit):
        merit, res = np.inf, np.inf
    return merit, res, capped, D


@numba.njit(cache=True)
def _cholesky_solve(Jm, rhs, n, L, z, out):
    """out = Jm^-1 rhs for symmetric positive definite Jm (n x n)."""
    for j in range(n):
        acc = Jm[j, j]
        for k in range(j):
            acc -= L[j, k] * L[j, k]
        L[j, j] = np.sqrt(acc)
        for i in range(j + 1, n):
            acc = Jm[i, j]
            for k in range(j):
                acc -= L[i, k] * L[j, k]
            L[i, j] = acc / L[j, j]
    for i in range(n):
        acc = rhs[i]
        for k in range(i):
            acc -= L[i, k] * z[k]
        z[i] = acc / L[i, i]
    for i in range(n - 1, -1, -1):
        acc = z[i]
        for k in range(i + 1, n):
            acc -= L[k, i] * out[k]
        out[i] = acc / L[i, i]


@numba.njit(cache=True)
def solve(Ctr, muJm, tau_tr, g_n, S, s, c, w_twin, xcap, dgam_warm, tau0, inv_m, int_exp, uni, tau0_min, mi, mj,
          tol, max_iter, x_pred, n_line_search, dgam_out, conv_out, work_out):
    """Newton solve of every point p: Ctr (P, d, d), muJm (P,), tau_tr, g_n, c, xcap, dgam_warm (P, N); twin
    weights w_twin (P|1, N) (``_kinetics``);
    S (P|1, N, n) Mandel and s (P|1, N, d*d) full Schmid tensors; per-system tau0, inv_m, int_exp (inv_m - 1 when
    an integer, else -1), uni. Writes the slip increments dgam_out (P, N), converged conv_out (P,) and work_out
    (P, 2): residual evaluations and Newton iterations."""
    P, N = tau_tr.shape
    d = Ctr.shape[1]
    n = S.shape[2]
    yt, yb, delta = np.empty(n), np.empty(n), np.empty(n)
    rb, rt = np.empty(n), np.empty(n)
    tau, dgam, slope = np.empty(N), np.empty(N), np.empty(N)
    dgb, slb = np.empty(N), np.empty(N)
    coup, cpb = np.empty(N), np.empty(N)
    u, v, z2 = np.empty(n), np.empty(n), np.empty(n)
    A, X, B, Y, T = (np.empty((d, d)), np.empty((d, d)), np.empty((d, d)), np.empty((d, d)), np.empty((d, d)))
    Jm, L = np.empty((n, n)), np.empty((n, n))
    z = np.empty(n)
    for p in range(P):
        Sp = S[p] if S.shape[0] > 1 else S[0]
        sp = s[p] if s.shape[0] > 1 else s[0]
        C = Ctr[p]
        mu_p = muJm[p]
        tt, gp, cp, xp = tau_tr[p], g_n[p], c[p], xcap[p]
        wp = w_twin[p] if w_twin.shape[0] > 1 else w_twin[0]
        # start: a radial return where the trial state is far above the flow surface (the deviator of the trial Ce
        # scaled so that no overstress ratio exceeds x_pred), else the elastic trial y = 0
        alpha = 1.0
        for i in range(N):
            over = (tt[i] if uni[i] else abs(tt[i])) - gp[i]
            target = x_pred * tau0[i]
            if over > target:
                alpha = min(alpha, (gp[i] + target) / max(abs(tt[i]), 1e-300))
        for q in range(n):
            yb[q] = 0.0
        if alpha < 1.0:
            trc = 0.0
            for a in range(d):
                trc += C[a, a]
            for q in range(n):
                a, b = mi[q], mj[q]
                dev = C[a, b] - (trc / d if a == b else 0.0)
                yb[q] = (alpha - 1.0) * (dev if a == b else _SQ2 * dev)
        mb, resb, capb, Db = _evaluate(yb, C, mu_p, tt, gp, Sp, sp, tau0, cp, wp, xp, inv_m, int_exp, uni, tau0_min,
                                       mi, mj, d, tau, dgb, slb, cpb, A, X, B, Y, T, rb)
        n_eval = 1
        # warm start: the previous step's slip increments
        warm = False
        for i in range(N):
            if dgam_warm[p, i] != 0.0:
                warm = True
        if warm:
            for a in range(d):
                for b in range(d):
                    acc = 0.0
                    for i in range(N):
                        acc -= dgam_warm[p, i] * sp[i, a * d + b]
                    A[a, b] = acc
            _expm1(A, d, X, B, Y, T)
            _mandel_change(C, X, T, mi, mj, d, yt)
            mt, rest, capt, Dt = _evaluate(yt, C, mu_p, tt, gp, Sp, sp, tau0, cp, wp, xp,
                                           inv_m, int_exp, uni, tau0_min, mi, mj, d,
                                           tau, dgam, slope, coup, A, X, B, Y, T, rt)
            n_eval += 1
            if mt < mb:
                mb, resb, capb, Db = mt, rest, capt, Dt
                yb[:], rb[:], dgb[:], slb[:], cpb[:] = yt, rt, dgam, slope, coup
        converged = resb <= tol and not capb
        it = 0
        while not converged and it < max_iter:
            it += 1
            # Newton direction -J^-1 r, J = I + 2 lambda^2 sum_i a_i S_i (x) S_i, a_i = mu J^(-2/d) slope_i
            # (dCe/d dgamma_i = -(s_i^T Ce + Ce s_i) with Ce ~ lambda^2 I, lambda^2 = tr(Ce)/d: symmetric positive
            # definite; the exact Ce saves ~10 % of the iterations and costs more than that per iteration)
            lam2 = 0.0
            for a in range(d):
                lam2 += C[a, a] + yb[a]
            lam2 /= d
            for a in range(n):
                for b in range(n):
                    Jm[a, b] = 1.0 if a == b else 0.0
            for i in range(N):
                if slb[i] != 0.0:
                    w = 2.0 * lam2 * mu_p * slb[i]
                    for a in range(n):
                        wa = w * Sp[i, a]
                        for b in range(a + 1):
                            Jm[a, b] += wa * Sp[i, b]
            for a in range(n):
                for b in range(a + 1, n):
                    Jm[a, b] = Jm[b, a]
            _cholesky_solve(Jm, rb, n, L, z, delta)
            if Db != 1.0:  # the twins' coupling through D: J = Jm - U V^T, by Sherman-Morrison
                for a in range(n):
                    u[a] = 0.0
                    v[a] = 0.0
                for i in range(N):
                    if cpb[i] != 0.0:
                        ui = 2.0 * lam2 * mu_p * dgb[i] / Db
                        for a in range(n):
                            u[a] += ui * Sp[i, a]
                            v[a] += cpb[i] * Sp[i, a]
                _cholesky_solve(Jm, u, n, L, z, z2)
                vd, vz = 0.0, 0.0
                for a in range(n):
                    vd += v[a] * delta[a]
                    vz += v[a] * z2[a]
                if abs(1.0 - vz) > 1e-12:
                    for a in range(n):
                        delta[a] += z2[a] * vd / (1.0 - vz)
            step = 1.0
            for _ls in range(n_line_search):
                for q in range(n):
                    yt[q] = yb[q] - step * delta[q]
                mt, rest, capt, Dt = _evaluate(yt, C, mu_p, tt, gp, Sp, sp, tau0, cp, wp, xp,
                                               inv_m, int_exp, uni, tau0_min, mi, mj, d,
                                               tau, dgam, slope, coup, A, X, B, Y, T, rt)
                n_eval += 1
                if np.isfinite(mt) and (mt <= (1.0 - 1e-4 * step) * mb or rest <= tol):
                    mb, resb, capb, Db = mt, rest, capt, Dt
                    yb[:], rb[:], dgb[:], slb[:], cpb[:] = yt, rt, dgam, slope, coup
                    break
                step *= 0.5
            converged = resb <= tol and not capb
        dgam_out[p, :] = dgb
        conv_out[p] = converged
        work_out[p, 0] = n_eval
        work_out[p, 1] = it


@numba.njit(cache=True)
def expm1_batch(A):
    """exp(A) - I for every d x d matrix of A (P, d, d) (``_expm1`` per matrix)."""
    P, d = A.shape[0], A.shape[1]
    X = np.empty_like(A)
    B, Y, T = np.empty((d, d)), np.empty((d, d)), np.empty((d, d))
    for p in range(P):
        _expm1(A[p], d, X[p], B, Y, T)
    return X


def integer_exponents(inv_m: np.ndarray) -> np.ndarray:
    """inv_m - 1 as an integer where it is one (x**k by multiplication), else -1 (x**e by pow)."""
    k = np.asarray(inv_m, float) - 1.0
    return np.where((k >= 0) & (np.abs(k - np.round(k)) < 1e-12) & (k < 64), np.round(k), -1).astype(np.int64)
