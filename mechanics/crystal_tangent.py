"""Consistent tangent dP/dF of the crystal-plasticity step of mechanics.crystal, compiled (numba), d = 2 or 3.

Same meaning and signature as ``mechanics.crystal.tangent`` (torch.func, kept as the independent reference), here
in closed form and one compiled loop over the points. Units: stress and moduli in MPa, time in s.

The step (mechanics.crystal, module docstring), at one point with T = F Fp_n^-1, J = det T, mu_J = mu J^(-2/d),

    A = sum_j dgamma_j s_j,   E = exp(-A),   Q = Fp_{n+1}^-1 = Fp_n^-1 E,   Fe = F Q = T E,   Ce = Fe^T Fe,
    tau_i = mu_J Ce : s_i,    P = Pe(Fe) Q^T   (Pe = dW^e/dFe, Ae = dPe/dFe: mechanics.elasticity),
    R_i(x, F) = tau0_i x_i - phi_i(tau_i) = 0,   phi_i = sign(tau_i) <|tau_i| - g_i>  (unidirectional: <tau_i - g_i>),
    dgamma_i = c_i sign(x_i) q_i / D_i,   q_i = |x_i|^(1/m_i)   (unidirectional: x_i clipped at 0),
    D_i = D = 1 + sum_j w_j q_j on twins (w_i > 0), D_i = 1 on slip systems,

with g, c, w frozen in the step (``crystal.step_constants``). Implicit differentiation in the overstress ratios x:

    G = d dgamma/dx = diag(gd) - u v^T,   gd_i = c_i/(m_i D_i) |x_i|^(1/m_i - 1),   u_i = dgamma_i/D,
                                          v_i = w_i/m_i |x_i|^(1/m_i - 1)   (u = v = 0 on slip systems),
    (diag(tau0) - diag(phi') B G) dx/dF = diag(phi') dtau/dF|_dgamma,   phi'_i = 1 where active (else 0),
    dP/dF = dP/dF|_dgamma + sum_j dP/d dgamma_j  (G dx/dF)_j,

and the partial derivatives (dE_j = dE/d dgamma_j = -L(-A, s_j), L(X, Y) the Frechet derivative of exp at X)

    dtau_i/dF   = mu_J [Fe (s_i + s_i^T) Q^T - 2/d (Ce : s_i) F^-T]                  (d ln J/dF = F^-T)
    B_ij        = dtau_i/d dgamma_j = mu_J dE_j : (Ctr E (s_i + s_i^T)),   Ctr = T^T T
    dP_iJ/dF_kM = sum_KL Ae_iKkL Q_ML Q_JK
    dP/d dgamma_j = Ae[T dE_j] Q^T + Pe dE_j^T Fp_n^-T.

L: for d = 3 from the block identity exp([[X, Y], [0, X]]) = [[exp X, L(X, Y)], [0, exp X]] with the compiled
exponential of mechanics.crystal_kernel (``_expm1`` on the 6 x 6 block: its upper-right block is L exactly);
for d = 2 exp and L in closed form (``_exp2``, ``_dexp2``, Cayley-Hamilton). The state gives x back:
ratio_i = |dgamma_i|/c_i, D = 1/(1 - sum_twins w_j ratio_j), |x_i| = (ratio_i D_i)^m_i. Only the moving systems
(rows and columns of G not zero) enter the linear system, so points without slip cost one elastic tangent. The
point evaluated is (F_new, Fp_n, dgamma = dt slip_rate_new), as in the reference: exact for points converged
without sub-stepping, the tangent of the last full step for sub-stepped ones.
"""
from __future__ import annotations

import numba
import numpy as np

from . import crystal
from .crystal_kernel import _det, _expm1, _gram, _inv
from .crystal_kernel import _matmul as _mm

__all__ = ["tangent"]


# ----------------------------------------------------------------------------------------------- small dense algebra

@numba.njit(cache=True, inline="always")
def _elastic(Fe, d, mu, kappa, Gi, Pe, Ae):
    """Neo-Hookean Pe = dW/dFe and Ae = dPe/dFe (mechanics.elasticity.stress, .tangent) at Fe; Gi is scratch."""
    J = _inv(Fe, d, Gi)  # G = Fe^-T: G[i, j] = Gi[j, i]
    trC = 0.0
    for i in range(d):
        for j in range(d):
            trC += Fe[i, j] * Fe[i, j]
    muJ = mu / J if d == 2 else mu * J ** (-2.0 / d)
    kJ = kappa * J
    for i in range(d):
        for a in range(d):
            Pe[i, a] = muJ * (Fe[i, a] - trC / d * Gi[a, i]) + kappa * (J - 1.0) * J * Gi[a, i]
            for k in range(d):
                for b in range(d):
                    GG = Gi[a, i] * Gi[b, k]  # G_ia G_kb
                    GGt = Gi[b, i] * Gi[a, k]  # G_ib G_ka
                    v = (-2.0 / d * (Gi[b, k] * Fe[i, a] + Fe[k, b] * Gi[a, i])
                         + trC / d * (2.0 / d * GG + GGt))
                    if i == k and a == b:
                        v += 1.0
                    Ae[i, a, k, b] = muJ * v + kJ * ((2.0 * J - 1.0) * GG - (J - 1.0) * GGt)


@numba.njit(cache=True)
def _solve_dense(M, R, n, nr):
    """R <- M^-1 R for n x n M (n first rows/columns) and nr right-hand sides (Gauss, partial pivoting; M is
    overwritten)."""
    for k in range(n):
        piv, best = k, abs(M[k, k])
        for i in range(k + 1, n):
            if abs(M[i, k]) > best:
                piv, best = i, abs(M[i, k])
        if piv != k:
            for j in range(n):
                M[k, j], M[piv, j] = M[piv, j], M[k, j]
            for j in range(nr):
                R[k, j], R[piv, j] = R[piv, j], R[k, j]
        for i in range(k + 1, n):
            f = M[i, k] / M[k, k]
            if f != 0.0:
                for j in range(k + 1, n):
                    M[i, j] -= f * M[k, j]
                for j in range(nr):
                    R[i, j] -= f * R[k, j]
    for k in range(n - 1, -1, -1):
        for j in range(nr):
            acc = R[k, j]
            for i in range(k + 1, n):
                acc -= M[k, i] * R[i, j]
            R[k, j] = acc / M[k, k]


@numba.njit(cache=True, inline="always")
def _cayley2(delta):
    """(f0, f1, f1') of delta for the 2 x 2 exponential (``_dexp2``): f0 = cosh(sqrt delta), f1 = sinh(sqrt delta)/
    sqrt delta (cos, sin for delta < 0), f1' = df1/d delta; series below |delta| = 1 (stopped below 1e-17)."""
    if abs(delta) < 1.0:  # f0 = sum delta^k/(2k)!, f1 = sum delta^k/(2k+1)!, f1' = sum (k+1) delta^k/(2k+3)!
        f0, f1, f1p = 0.0, 0.0, 0.0
        a0, a1, a2 = 1.0, 1.0, 1.0 / 6.0
        for k in range(14):
            f0 += a0
            f1 += a1
            f1p += (k + 1) * a2
            if abs(a0) < 1e-17:
                break
            a0 *= delta / ((2 * k + 1) * (2 * k + 2))
            a1 *= delta / ((2 * k + 2) * (2 * k + 3))
            a2 *= delta / ((2 * k + 4) * (2 * k + 5))
        return f0, f1, f1p
    r = np.sqrt(abs(delta))
    if delta > 0.0:
        f0, f1 = np.cosh(r), np.sinh(r) / r
    else:
        f0, f1 = np.cos(r), np.sin(r) / r
    return f0, f1, (f0 - f1) / (2.0 * delta)


@numba.njit(cache=True, inline="always")
def _exp2(X, out):
    """out = exp(X) for a 2 x 2 X: e^t (f0 I + f1 X0), X = t I + X0 (``_dexp2``)."""
    t = 0.5 * (X[0, 0] + X[1, 1])
    x00 = X[0, 0] - t
    f0, f1, _ = _cayley2(x00 * x00 + X[0, 1] * X[1, 0])
    et = np.exp(t)
    out[0, 0] = et * (f0 + f1 * x00)
    out[1, 1] = et * (f0 - f1 * x00)
    out[0, 1] = et * f1 * X[0, 1]
    out[1, 0] = et * f1 * X[1, 0]


@numba.njit(cache=True, inline="always")
def _dexp2(X, Y, out):
    """out = L(X, Y), the derivative of exp at a 2 x 2 X in the direction Y, in closed form (Cayley-Hamilton):
    X = t I + X0 (t = tr X/2), X0^2 = delta I (delta = -det X0), exp X = e^t (f0 I + f1 X0) with
    f0 = cosh(sqrt delta), f1 = sinh(sqrt delta)/sqrt delta (cos, sin for delta < 0), f0' = f1/2,
    f1' = (f0 - f1)/(2 delta); for Y = u I + Y0: L = e^t [u (f0 I + f1 X0) + tr(X0 Y0) (f0' I + f1' X0) + f1 Y0]."""
    t = 0.5 * (X[0, 0] + X[1, 1])
    u = 0.5 * (Y[0, 0] + Y[1, 1])
    x00, x01, x10 = X[0, 0] - t, X[0, 1], X[1, 0]
    y00, y01, y10 = Y[0, 0] - u, Y[0, 1], Y[1, 0]
    f0, f1, f1p = _cayley2(x00 * x00 + x01 * x10)
    ddelta = 2.0 * x00 * y00 + x01 * y10 + x10 * y01  # tr(X0 Y0)
    et = np.exp(t)
    a = et * (u * f0 + 0.5 * f1 * ddelta)  # coefficient of I
    b = et * (u * f1 + f1p * ddelta)  # coefficient of X0
    c = et * f1  # coefficient of Y0
    out[0, 0] = a + b * x00 + c * y00
    out[1, 1] = a - b * x00 - c * y00
    out[0, 1] = b * x01 + c * y01
    out[1, 0] = b * x10 + c * y10


# ----------------------------------------------------------------------------------------------- the kernel

#: L(X, s) = L(X, t s)/t with t = 2^-10 (exact scaling): the block [[X, t s], [0, X]] then has the norm of X
#: (~1e-3 per step), which ``_expm1`` serves with a short series and no squaring
BLOCK_SCALE = 2.0**-10

@numba.njit(cache=True)
def tangent_kernel(F, Fp_n, dgam, g_n, c, w, s, mu, kappa, tau0, m, uni, out, dgam_dF):
    """dP/dF of every point p into out (P, d, d, d, d): F, Fp_n (P, d, d) the new deformation and the old plastic
    part; dgam, g_n, c, w (P, N) the step's slip increments, resistance (MPa) and the constants of
    ``crystal.step_constants``; s (P|1, N, d, d) Schmid tensors; mu, kappa (MPa); per-system tau0 (MPa), rate
    sensitivity m, uni (unidirectional). Also writes d dgamma_i/dF_kl into dgam_dF (P, N, d * d)."""
    P, N = dgam.shape
    d = F.shape[1]
    dd = d * d
    Fi, T, X, E = np.empty((d, d)), np.empty((d, d)), np.empty((d, d)), np.empty((d, d))
    Q, Fe, Ce = np.empty((d, d)), np.empty((d, d)), np.empty((d, d))
    Bs, Ys, Ts = np.empty((d, d)), np.empty((d, d)), np.empty((d, d))
    blk, blkX = np.empty((2 * d, 2 * d)), np.empty((2 * d, 2 * d))
    bB, bY, bT = np.empty((2 * d, 2 * d)), np.empty((2 * d, 2 * d)), np.empty((2 * d, 2 * d))
    Finv, Gi, Pe, W1 = np.empty((d, d)), np.empty((d, d)), np.empty((d, d)), np.empty((d, d))
    Ae = np.empty((d, d, d, d))
    W = np.empty((d, d, d, d))
    tau, gd, u, v = np.empty(N), np.empty(N), np.empty(N), np.empty(N)
    active = np.empty(N, np.bool_)
    mov = np.empty(N, np.int64)
    dE = np.empty((N, d, d))
    H = np.empty((N, d, d))
    Bm = np.empty((N, N))
    Bu = np.empty(N)
    Mx = np.empty((N, N))
    Rx = np.empty((N, dd))
    vdx = np.empty(dd)
    Pg = np.empty((N, d, d))
    for p in range(P):
        sp = s[p] if s.shape[0] > 1 else s[0]
        Fk = F[p]
        _inv(Fp_n[p], d, Fi)
        _mm(Fk, Fi, d, T)
        # E = exp(-A), Q = Fp_n^-1 E, Fe = T E, Ce, tau
        for a in range(d):
            for b in range(d):
                acc = 0.0
                for j in range(N):
                    acc -= dgam[p, j] * sp[j, a, b]
                X[a, b] = acc
        if d == 2:
            _exp2(X, E)
        else:
            _expm1(X, d, E, Bs, Ys, Ts)
            for a in range(d):
                E[a, a] += 1.0
        _mm(Fi, E, d, Q)
        _mm(T, E, d, Fe)
        J = _det(T, d)
        muJ = mu / J if d == 2 else mu * J ** (-2.0 / d)
        _gram(Fe, d, Ce)
        # kinetics at the solution: q_i = |x_i|^(1/m_i) = ratio_i D_i (ratio = |dgamma|/c, D_i = D on twins, 1 else,
        # D = 1/(1 - sum w ratio)); d dgamma/dx = diag(gd) - u v^T with gd_i = c_i/(m_i D_i) |x_i|^(1/m_i - 1),
        # u_i = dgamma_i/D, v_i = w_i/m_i |x_i|^(1/m_i - 1) on twins (0 else)
        wr = 0.0
        for i in range(N):
            if w[p, i] > 0.0 and c[p, i] > 0.0:
                wr += w[p, i] * abs(dgam[p, i]) / c[p, i]
        D = 1.0 / (1.0 - wr)
        nm = 0
        for i in range(N):
            acc = 0.0
            for a in range(d):
                for b in range(d):
                    acc += Ce[a, b] * sp[i, a, b]
            tau[i] = muJ * acc
            active[i] = ((tau[i] if uni[i] else abs(tau[i])) - g_n[p, i]) > 0.0  # phi'_i = 1
            twin = w[p, i] > 0.0
            gd[i], u[i], v[i] = 0.0, 0.0, 0.0
            if c[p, i] > 0.0 and not (uni[i] and dgam[p, i] < 0.0):  # (unidirectional: x clipped at 0)
                Di = D if twin else 1.0
                xp = (abs(dgam[p, i]) / c[p, i] * Di) ** (1.0 - m[i]) / m[i]  # |x|^(1/m - 1)/m = q^(1 - m)/m
                gd[i] = c[p, i] * xp / Di
                if twin:
                    u[i] = dgam[p, i] / D
                    v[i] = w[p, i] * xp
            if gd[i] != 0.0 or u[i] != 0.0 or v[i] != 0.0:
                mov[nm] = i
                nm += 1
        # elastic part: dP_iJ/dF_kM = sum_KL Ae_iKkL Q_ML Q_JK
        _elastic(Fe, d, mu, kappa, Gi, Pe, Ae)
        for i in range(d):
            for K in range(d):
                for k in range(d):
                    for M in range(d):
                        acc = 0.0
                        for L in range(d):
                            acc += Ae[i, K, k, L] * Q[M, L]
                        W[i, K, k, M] = acc
        o = out[p]
        dgam_dF[p] = 0.0
        for i in range(d):
            for Jj in range(d):
                for k in range(d):
                    for M in range(d):
                        acc = 0.0
                        for K in range(d):
                            acc += Q[Jj, K] * W[i, K, k, M]
                        o[i, Jj, k, M] = acc
        if nm == 0:
            continue
        # the moving systems (d dgamma/dx has their rows and columns): dE_j = -L(-A, s_j),
        # H_i = Ctr E (s_i + s_i^T) = T^T Fe (s_i + s_i^T), right-hand sides dtau_i/dF where active (else dx_i = 0)
        _inv(Fk, d, Finv)
        for q in range(nm):
            j = mov[q]
            if d == 2:
                _dexp2(X, sp[j], W1)
                for a in range(d):
                    for b in range(d):
                        dE[q, a, b] = -W1[a, b]
            else:
                for a in range(2 * d):
                    for b in range(2 * d):
                        blk[a, b] = 0.0
                for a in range(d):
                    for b in range(d):
                        blk[a, b] = X[a, b]
                        blk[d + a, d + b] = X[a, b]
                        blk[a, d + b] = BLOCK_SCALE * sp[j, a, b]
                _expm1(blk, 2 * d, blkX, bB, bY, bT)
                for a in range(d):
                    for b in range(d):
                        dE[q, a, b] = -blkX[a, d + b] / BLOCK_SCALE
            for a in range(d):
                for b in range(d):
                    acc = 0.0
                    for k in range(d):
                        acc += Fe[a, k] * (sp[j, k, b] + sp[j, b, k])
                    W1[a, b] = acc  # Fe (s_j + s_j^T)
            for a in range(d):
                for b in range(d):
                    acc = 0.0
                    for k in range(d):
                        acc += T[k, a] * W1[k, b]
                    H[q, a, b] = acc
            # dtau_j/dF = mu_J [Fe (s_j + s_j^T) Q^T - 2/d (Ce : s_j) F^-T]
            cs = tau[j] / muJ
            for a in range(d):
                for b in range(d):
                    acc = 0.0
                    for k in range(d):
                        acc += W1[a, k] * Q[b, k]
                    Rx[q, a * d + b] = muJ * (acc - 2.0 / d * cs * Finv[b, a]) if active[j] else 0.0
        # R_x = diag(tau0) - diag(phi') B (diag(gd) - u v^T),  B_ij = mu_J dE_j : H_i
        for q in range(nm):
            for r in range(nm):
                acc = 0.0
                for a in range(d):
                    for b in range(d):
                        acc += dE[r, a, b] * H[q, a, b]
                Bm[q, r] = muJ * acc
            acc = 0.0
            for r in range(nm):
                acc += Bm[q, r] * u[mov[r]]
            Bu[q] = acc
        for q in range(nm):
            i = mov[q]
            for r in range(nm):
                j = mov[r]
                Mx[q, r] = -(Bm[q, r] * gd[j] - Bu[q] * v[j]) if active[i] else 0.0
            Mx[q, q] += tau0[i]
        _solve_dense(Mx, Rx, nm, dd)  # Rx <- dx/dF of the moving systems
        # d dgamma_j/dF = gd_j dx_j/dF - u_j v.dx/dF
        for col in range(dd):
            acc = 0.0
            for r in range(nm):
                acc += v[mov[r]] * Rx[r, col]
            vdx[col] = acc
        for r in range(nm):
            j = mov[r]
            for col in range(dd):
                Rx[r, col] = gd[j] * Rx[r, col] - u[j] * vdx[col]
                dgam_dF[p, j, col] = Rx[r, col]
        # dP/d dgamma_j = Ae[T dE_j] Q^T + Pe dE_j^T Fp_n^-T
        for r in range(nm):
            _mm(T, dE[r], d, W1)  # dFe
            for a in range(d):
                for K in range(d):
                    acc = 0.0
                    for k in range(d):
                        for L in range(d):
                            acc += Ae[a, K, k, L] * W1[k, L]
                    Gi[a, K] = acc  # dPe
            _mm(Fi, dE[r], d, W1)  # dQ
            for a in range(d):
                for b in range(d):
                    acc = 0.0
                    for K in range(d):
                        acc += Gi[a, K] * Q[b, K] + Pe[a, K] * W1[b, K]
                    Pg[r, a, b] = acc
        for a in range(d):
            for b in range(d):
                for k in range(d):
                    for M in range(d):
                        acc = 0.0
                        for r in range(nm):
                            acc += Pg[r, a, b] * Rx[r, k * d + M]
                        o[a, b, k, M] += acc


def tangent(F_new, state_old: dict, state_new: dict, dt, schmid, params: crystal.Params, *,
            slip_derivative: bool = False):
    """Consistent tangent dP_ij/dF_kl (..., d, d, d, d) (MPa) of the converged ``crystal.update``
    state_old -> state_new over dt (s): exact implicit differentiation (module docstring), compiled; the same
    meaning as ``crystal.tangent``. F_new (..., d, d), schmid (..., N, d, d), states and dt broadcast as in
    ``crystal.update``. Raises ValueError on wrong shapes. With ``slip_derivative`` also returns
    d dgamma_i/dF_kl (..., N, d, d) of the same step (dimensionless), e.g. to predict the slip increments at a
    nearby F."""
    F_new, schmid, d, N = crystal._check_shapes(F_new, schmid, params, "crystal_tangent.tangent")
    Fp, e, rate = (np.asarray(a, float) for a in (state_old["Fp"], state_old["e"], state_new["slip_rate"]))
    dt = np.asarray(dt, float)
    if Fp.shape[-2:] != (d, d) or e.shape[-1] != N or rate.shape[-1] != N:
        raise ValueError(f"crystal_tangent.tangent: states do not match d = {d}, N = {N}")
    batch = np.broadcast_shapes(F_new.shape[:-2], schmid.shape[:-3], Fp.shape[:-2], e.shape[:-1], rate.shape[:-1],
                                dt.shape)
    # fresh writable C arrays: one compiled signature (numba types readonly views apart)
    flat = lambda a, tail: np.array(np.broadcast_to(a, (*batch, *tail)).reshape(-1, *tail), float)  # noqa: E731
    dtf = flat(dt, ())[:, None]
    e_n = flat(e, (N,))
    g_n, c, w = crystal.step_constants(e_n, dtf, params)
    P = e_n.shape[0]
    s = np.array(schmid.reshape(1, N, d, d)) if schmid.size == N * d * d else flat(schmid, (N, d, d))
    out = np.empty((P, d, d, d, d))
    dgam_dF = np.empty((P, N, d * d))
    const = [np.array(np.broadcast_to(a, (P, N)), float) for a in (g_n, c, w)]
    tangent_kernel(flat(F_new, (d, d)), flat(Fp, (d, d)), dtf * flat(rate, (N,)), *const, s, float(params.mu),
                   float(params.kappa), np.array(params.tau0, float), np.array(params.m, float),
                   np.array(params.unidirectional, bool), out, dgam_dF)
    if slip_derivative:
        return out.reshape(*batch, d, d, d, d), dgam_dF.reshape(*batch, N, d, d)
    return out.reshape(*batch, d, d, d, d)
