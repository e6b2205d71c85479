"""Compiled (numba) stress-based backward Euler step of mechanics.crystal, one point at a time (``advance``): the
trial state, the Newton solve (``_newton``), the update of Fp, e and the first Piola stress.

The algorithm is the one documented in mechanics.crystal (module docstring, ``update``): unknown y = Mandel(Ce - Ctr),
explicit kinetics in the resolved shears, residual r = y - Mandel(exp(-A)^T Ctr exp(-A) - Ctr), the approximate
Jacobian I + 2 lambda^2 mu J^(-2/d) sum_i dgamma_i' S_i (x) S_i (Cholesky; the twins' rank-one coupling by
Sherman-Morrison), a backtracking line search on |r|^2, the better of two initial guesses. Compiled per point so that every point iterates only as long as it needs and no
(P, N, ...) temporaries are made: the numpy formulation of the same scheme spent ~25 us per grain-step on array
dispatch and memory traffic (benchmarks/bench_taylor.py). Compiled functions are cached on disk (``cache=True``,
numba's ``__pycache__`` beside this file).
"""
from __future__ import annotations

import numba
import numpy as np

#: LLVM fast-math flags that keep NaN and inf semantics (the solver tests finiteness): reassociation and
#: contraction let reductions vectorise
_FAST = {"reassoc", "contract", "arcp"}

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


@numba.njit(cache=True, fastmath=_FAST)
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


@numba.njit(cache=True, fastmath=_FAST)
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


@numba.njit(cache=True, fastmath=_FAST)
def _kinetics(tau, g, tau0, c, w, dgam_max, inv_m, int_exp, uni, dgam, slope, coup):
    """dgamma_i = c_i sign(tau_i) q_i, q_i = x_i^(1/m_i) (continued linearly beyond x_cap, where c_i q_i reaches
    dgam_max), and its derivative:
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
        x = xr
        xp = _ipow(x, int_exp[i]) if int_exp[i] >= 0 else x ** (inv_m[i] - 1.0)
        q = xp * x
        if c[i] * q > dgam_max:  # beyond one step's cap: the power law continued linearly from x_cap
            capped = True
            x = (dgam_max / c[i]) ** (1.0 / inv_m[i])
            xp = _ipow(x, int_exp[i]) if int_exp[i] >= 0 else x ** (inv_m[i] - 1.0)
            q = xp * x + inv_m[i] * xp * (xr - x)
        sgn = 1.0 if (uni[i] or tau[i] >= 0.0) else -1.0
        slope[i] = c[i] * inv_m[i] * xp / tau0[i]
        dgam[i] = sgn * c[i] * q
        if w[i] != 0.0:
            D += w[i] * q
            coup[i] = w[i] * inv_m[i] * xp / tau0[i]
    if D != 1.0:
        for i in range(tau.size):
            if w[i] != 0.0:
                dgam[i] /= D
                slope[i] /= D
    return capped, D


@numba.njit(cache=True, fastmath=_FAST)
def _evaluate(y, Ctr, muJm, tau_tr, g, S, s, tau0, c, w, dgam_max, inv_m, int_exp, uni, tau0_min, mi, mj, d,
              tau, dgam, slope, coup, A, X, B, Y, T, r):
    """Residual r at y (see module docstring); fills tau, dgam, slope, coup, r; returns (merit, res, capped, D)."""
    N, n = S.shape
    for i in range(N):
        acc = 0.0
        for a in range(n):
            acc += S[i, a] * y[a]
        tau[i] = tau_tr[i] + muJm * acc
    capped, D = _kinetics(tau, g, tau0, c, w, dgam_max, inv_m, int_exp, uni, dgam, slope, coup)
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


@numba.njit(cache=True, fastmath=_FAST)
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


@numba.njit(cache=True, fastmath=_FAST)
def _newton(C, mu_p, tt, gp, cp, wp, dgam_max, warm_p, Sp, sp, tau0, inv_m, int_exp, uni, tau0_min, mi, mj, d, tol,
            max_iter, x_pred, n_line_search, yt, yb, delta, rb, rt, tau, dgam, slope, dgb, slb, coup, cpb, u, v, z2,
            A, X, B, Y, T, Jm, L, z):
    """Newton solve of one point (module docstring of mechanics.crystal): Ctr C, mu J^(-2/d) mu_p, trial tau tt,
    g gp, c cp, twin weights wp, the cap dgam_max of one increment, previous increments warm_p. Leaves the slip increments in dgb; returns
    (converged, residual evaluations, iterations). The other arguments are scratch."""
    N, n = Sp.shape
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
    mb, resb, capb, Db = _evaluate(yb, C, mu_p, tt, gp, Sp, sp, tau0, cp, wp, dgam_max, inv_m, int_exp, uni, tau0_min,
                                   mi, mj, d, tau, dgb, slb, cpb, A, X, B, Y, T, rb)
    n_eval = 1
    # warm start: the previous step's slip increments
    warm = False
    for i in range(N):
        if warm_p[i] != 0.0:
            warm = True
    if warm:
        for a in range(d):
            for b in range(d):
                acc = 0.0
                for i in range(N):
                    acc -= warm_p[i] * sp[i, a * d + b]
                A[a, b] = acc
        _expm1(A, d, X, B, Y, T)
        _mandel_change(C, X, T, mi, mj, d, yt)
        mt, rest, capt, Dt = _evaluate(yt, C, mu_p, tt, gp, Sp, sp, tau0, cp, wp, dgam_max, inv_m, int_exp, uni, tau0_min,
                                       mi, mj, d, tau, dgam, slope, coup, A, X, B, Y, T, rt)
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
                wgt = 2.0 * lam2 * mu_p * slb[i]
                for a in range(n):
                    wa = wgt * Sp[i, a]
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
            mt, rest, capt, Dt = _evaluate(yt, C, mu_p, tt, gp, Sp, sp, tau0, cp, wp, dgam_max, inv_m, int_exp, uni,
                                           tau0_min, mi, mj, d, tau, dgam, slope, coup, A, X, B, Y, T, rt)
            n_eval += 1
            if np.isfinite(mt) and (mt <= (1.0 - 1e-4 * step) * mb or rest <= tol):
                mb, resb, capb, Db = mt, rest, capt, Dt
                yb[:], rb[:], dgb[:], slb[:], cpb[:] = yt, rt, dgam, slope, coup
                break
            step *= 0.5
        converged = resb <= tol and not capb
    return converged, n_eval, it


@numba.njit(cache=True, inline="always")
def _gram(A, d, out):
    """out = A^T A (d x d)."""
    for a in range(d):
        for b in range(d):
            acc = 0.0
            for m in range(d):
                acc += A[m, a] * A[m, b]
            out[a, b] = acc


@numba.njit(cache=True, inline="always")
def _det(A, d):
    if d == 2:
        return A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0]
    return (A[0, 0] * (A[1, 1] * A[2, 2] - A[1, 2] * A[2, 1]) - A[0, 1] * (A[1, 0] * A[2, 2] - A[1, 2] * A[2, 0])
            + A[0, 2] * (A[1, 0] * A[2, 1] - A[1, 1] * A[2, 0]))


@numba.njit(cache=True)
def _inv(A, d, out):
    """out = A^-1 (d = 2 or 3, adjugate over determinant); returns det A."""
    det = _det(A, d)
    if d == 2:
        out[0, 0], out[0, 1], out[1, 0], out[1, 1] = A[1, 1] / det, -A[0, 1] / det, -A[1, 0] / det, A[0, 0] / det
        return det
    for i in range(3):
        i1, i2 = (i + 1) % 3, (i + 2) % 3
        for j in range(3):
            j1, j2 = (j + 1) % 3, (j + 2) % 3
            out[i, j] = (A[j1, i1] * A[j2, i2] - A[j1, i2] * A[j2, i1]) / det
    return det


@numba.njit(cache=True, fastmath=_FAST)
def advance(F1, Fp_n, e_n, g_n, c, w_twin, S, s, dgam_warm, dt, mu, kappa, tau0, inv_m, int_exp, uni, tau0_min,
            inv_twin_shear, dgam_max, mi, mj, tol, max_iter, x_pred, n_line_search,
            P_out, Fp_out, e_out, rate_out, conv_out, work_out):
    """One backward Euler step of every point p (mechanics.crystal): F1, Fp_n (P, d, d), e_n, g_n, c, w_twin,
    dgam_warm (P, N), dt (P,); Schmid tensors S (G, N, n) Mandel and s (G, N, d*d) full, point p using grain
    p % G; per-system tau0, inv_m, int_exp (inv_m - 1 when an integer, else -1), uni, inv_twin_shear (0 on slip).
    With T = F1 Fp_n^-1: the Newton solve (``_newton``) for the slip increments, then Fp = exp(sum dgamma_i s_i)
    Fp_n rescaled to det 1 (twin increments that round-off would take past f = 1 scaled back onto it), e, slip
    rate, and the first Piola stress P = dW^e/dFe Fp^-T of (A1). Writes P_out, Fp_out (P, d, d), e_out, rate_out
    (P, N), conv_out (P,) and work_out (P, 2): residual evaluations and Newton iterations."""
    P, N = e_n.shape
    d = F1.shape[1]
    G, _, n = S.shape
    yt, yb, delta = np.empty(n), np.empty(n), np.empty(n)
    rb, rt = np.empty(n), np.empty(n)
    tau, dgam, slope = np.empty(N), np.empty(N), np.empty(N)
    dgb, slb = np.empty(N), np.empty(N)
    coup, cpb = np.empty(N), np.empty(N)
    u, v, z2 = np.empty(n), np.empty(n), np.empty(n)
    A, X, B, Y, T = (np.empty((d, d)), np.empty((d, d)), np.empty((d, d)), np.empty((d, d)), np.empty((d, d)))
    Jm, L = np.empty((n, n)), np.empty((n, n))
    z = np.empty(n)
    Fpi, Tr, C, Fe, Fei = np.empty((d, d)), np.empty((d, d)), np.empty((d, d)), np.empty((d, d)), np.empty((d, d))
    Ctr_m, tt = np.empty(n), np.empty(N)
    has_twins = False
    for i in range(N):
        if inv_twin_shear[i] != 0.0:
            has_twins = True
    for p in range(P):
        gi = p % G
        Sp, sp = S[gi], s[gi]
        # the trial state: T = F1 Fp_n^-1, Ctr = T^T T, tau_tr = mu J^(-2/d) Ctr : s_i
        _inv(Fp_n[p], d, Fpi)
        _matmul(F1[p], Fpi, d, Tr)
        mu_p = mu * _det(Tr, d) ** (-2.0 / d)
        _gram(Tr, d, C)
        for q in range(n):
            a, b = mi[q], mj[q]
            Ctr_m[q] = C[a, b] if a == b else _SQ2 * C[a, b]
        for i in range(N):
            acc = 0.0
            for q in range(n):
                acc += Sp[i, q] * Ctr_m[q]
            tt[i] = mu_p * acc
        conv, n_eval, it = _newton(C, mu_p, tt, g_n[p], c[p], w_twin[p], dgam_max, dgam_warm[p], Sp, sp, tau0, inv_m,
                                   int_exp, uni, tau0_min, mi, mj, d, tol, max_iter, x_pred, n_line_search, yt, yb,
                                   delta, rb, rt, tau, dgam, slope, dgb, slb, coup, cpb, u, v, z2, A, X, B, Y, T, Jm,
                                   L, z)
        conv_out[p] = conv
        work_out[p, 0] = n_eval
        work_out[p, 1] = it
        if has_twins:  # round-off must not take f past 1
            room, fill = 1.0, 0.0
            for i in range(N):
                room -= e_n[p, i] * inv_twin_shear[i]
                fill += abs(dgb[i]) * inv_twin_shear[i]
            room = max(room - 1e-14, 0.0)  # with the sums' rounding, f stays <= 1 exactly
            if fill > room:
                for i in range(N):
                    if inv_twin_shear[i] != 0.0:
                        dgb[i] *= room / fill
        for i in range(N):
            e_out[p, i] = e_n[p, i] + abs(dgb[i])
            rate_out[p, i] = dgb[i] / dt[p]
        # Fp = exp(A) Fp_n, A = sum_i dgamma_i s_i, rescaled to det Fp = 1
        for a in range(d):
            for b in range(d):
                acc = 0.0
                for i in range(N):
                    acc += dgb[i] * sp[i, a * d + b]
                A[a, b] = acc
        _expm1(A, d, X, B, Y, T)
        _matmul(X, Fp_n[p], d, T)
        for a in range(d):
            for b in range(d):
                T[a, b] += Fp_n[p, a, b]
        scale = _det(T, d) ** (-1.0 / d)
        for a in range(d):
            for b in range(d):
                Fp_out[p, a, b] = T[a, b] * scale
        # P = [mu J^(-2/d) (Fe - tr(Fe^T Fe)/d Fe^-T) + kappa (J - 1) J Fe^-T] Fp^-T,  Fe = F1 Fp^-1   (A1)
        _inv(Fp_out[p], d, Fpi)
        _matmul(F1[p], Fpi, d, Fe)
        J = _inv(Fe, d, Fei)
        trc = 0.0
        for a in range(d):
            for b in range(d):
                trc += Fe[a, b] * Fe[a, b]
        muJ = mu * J ** (-2.0 / d)
        for a in range(d):
            for b in range(d):
                T[a, b] = muJ * (Fe[a, b] - trc / d * Fei[b, a]) + kappa * (J - 1.0) * J * Fei[b, a]
        for a in range(d):
            for b in range(d):
                acc = 0.0
                for m in range(d):
                    acc += T[a, m] * Fpi[b, m]
                P_out[p, a, b] = acc


def integer_exponents(inv_m: np.ndarray) -> np.ndarray:
    """inv_m - 1 as an integer where it is one (x**k by multiplication), else -1 (x**e by pow)."""
    k = np.asarray(inv_m, float) - 1.0
    return np.where((k >= 0) & (np.abs(k - np.round(k)) < 1e-12) & (k < 64), np.round(k), -1).astype(np.int64)
