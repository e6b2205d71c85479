"""C99 and Fortran 2008 source of the Johnson-Cook law of mechanics/johnson_cook.py (the same equations, the same
rate cut-off, the same safeguarded Newton return), with its parameters as literals; and an ABAQUS/Explicit VUMAT.

    int jc_step(int nblock, const double *F, const double *state_old, double dt, double *sigma, double *state_new);

nblock points, one after another: F[p][9] (F_ij row-major), state[p][8], sigma[p][6]; dt in s, sigma in MPa.
Symmetric tensors in ABAQUS/Explicit's order 11, 22, 33, 12, 23, 31 (tensor shear). The state (JC_NSTATE = 8) is

    1-6  Cp^-1 - I  (Cp^-1 = Fp^-1 Fp^-T, so the all-zero state is the virgin one, as ABAQUS initialises it)
    7    eps_p      (equivalent plastic strain)
    8    eps_dot_p  (dgamma / dt of the last step, 1/s)

Returns 0; 1 if the radial return did not converge at a point, 2 if det F <= 0 at a point (that point's stress is
NaN and its state is copied unchanged). The law (mechanics.johnson_cook; Simo 1992's exponential-map return):

    be_tr = F Cp_n^-1 F^T,  h_tr = 1/2 ln be_tr,  s_tr = 2 mu dev h_tr,  q_tr = sqrt(3/2 s_tr:s_tr)
    elastic if q_tr <= A + B eps_p_n^n, else dgamma > 0 solves
        q_tr - 3 mu dgamma = (A + B (eps_p_n + dgamma)^n) (1 + C ln max(dgamma / (dt eps_dot_0), 1))
    h = h_tr - dgamma 3/2 s_tr/q_tr,  tau = kappa tr(h_tr) I + 2 mu dev h,  sigma = tau / det F
    be = exp(2 h),  Cp^-1 = F^-1 be F^-T,  eps_p = eps_p_n + dgamma,  eps_dot_p = dgamma / dt

The eigen-decomposition of be_tr is cyclic Jacobi (until |a12| + |a13| + |a23| <= 1e-18 (|a11| + |a22| + |a33|));
the scalar equation is Newton safeguarded by bisection on [0, (q_tr - A - B eps_p_n^n)/(3 mu)], stopped at
|r| <= tol q_tr, exactly the iteration of JohnsonCook._return. tests/test_export_jc.py checks both kernels and the
VUMAT against mechanics.johnson_cook to 1e-10 in float64. deploy/ may not import mechanics/: the parameters come as
any object with the attributes of JohnsonCook (or a JSON file of them, ``parameters``).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, fields
from pathlib import Path

from .fortran import check_lines
from .network import literal

#: state variables per point (module docstring)
NSTATE = 8
#: ABAQUS/Explicit's symmetric order, (i, j) 0-based: 11, 22, 33, 12, 23, 31
SYM = ((0, 0), (1, 1), (2, 2), (0, 1), (1, 2), (2, 0))


@dataclass(frozen=True)
class Parameters:
    """The Johnson-Cook parameters of mechanics.johnson_cook.JohnsonCook: mu, kappa, A, B (MPa), n, C (-),
    eps_dot_0 (1/s); tol, max_iter of the return."""

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
        for name in ("mu", "kappa", "A", "n", "eps_dot_0", "tol"):
            v = float(getattr(self, name))
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"Johnson-Cook: {name} must be positive and finite, got {v}")
        for name in ("B", "C"):
            v = float(getattr(self, name))
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"Johnson-Cook: {name} must be >= 0 and finite, got {v}")
        if int(self.max_iter) < 1:
            raise ValueError(f"Johnson-Cook: max_iter must be >= 1, got {self.max_iter}")

    @classmethod
    def of(cls, law) -> "Parameters":
        """From a mechanics.johnson_cook.JohnsonCook (or anything with its attributes)."""
        return cls(**{f.name: getattr(law, f.name) for f in fields(cls) if hasattr(law, f.name)})


def parameters(source) -> Parameters:
    """Parameters from a JSON file (an object of the field names; tol, max_iter optional), a dict, or a law object."""
    if isinstance(source, Parameters):
        return source
    if isinstance(source, (str, os.PathLike)):
        source = json.loads(Path(source).read_text())
    if isinstance(source, dict):
        unknown = set(source) - {f.name for f in fields(Parameters)}
        if unknown:
            raise ValueError(f"Johnson-Cook parameters: unknown keys {sorted(unknown)}")
        missing = {f.name for f in fields(Parameters) if f.name not in ("tol", "max_iter")} - set(source)
        if missing:
            raise ValueError(f"Johnson-Cook parameters: missing {sorted(missing)}")
        return Parameters(**source)
    return Parameters.of(source)


def _describe(p: Parameters, prefix: str) -> str:
    lines = [f"mu = {p.mu!r} MPa, kappa = {p.kappa!r} MPa (E = {9 * p.kappa * p.mu / (3 * p.kappa + p.mu):.6g} MPa)",
             f"A = {p.A!r} MPa, B = {p.B!r} MPa, n = {p.n!r}, C = {p.C!r}, eps_dot_0 = {p.eps_dot_0!r} 1/s",
             f"return: tol = {p.tol!r} (|r| <= tol q_tr), at most {int(p.max_iter)} iterations"]
    return "\n".join(prefix + line for line in lines)


LAW = """\
Johnson-Cook J2 plasticity, isothermal, exactly mechanics/johnson_cook.py (Johnson & Cook 1983; Simo 1992):
  sigma_y(eps_p, eps_dot_p) = (A + B eps_p^n) (1 + C ln max(eps_dot_p / eps_dot_0, 1))    (rate cut-off)
  be_tr = F Cp_n^-1 F^T, h_tr = 1/2 ln be_tr, s_tr = 2 mu dev h_tr, q_tr = sqrt(3/2 s_tr:s_tr)
  elastic if q_tr <= A + B eps_p_n^n, else dgamma > 0 solves q_tr - 3 mu dgamma = sigma_y(eps_p_n + dgamma, dgamma/dt)
  h = h_tr - dgamma 3/2 s_tr/q_tr, tau = kappa tr(h_tr) I + 2 mu dev h, sigma = tau / det F  (MPa)
  be = exp(2 h), Cp^-1 = F^-1 be F^-T, eps_p = eps_p_n + dgamma, eps_dot_p = dgamma / dt
State (8 per point): Cp^-1 - I (11, 22, 33, 12, 23, 31), eps_p, eps_dot_p; all zero = virgin."""


# ------------------------------------------------------------------------------------------------------------- C
def c_header(p: Parameters, source: str) -> str:
    """jc_model.h: JC_NSTATE and jc_step's prototype."""
    return f"""\
/* jc_model.h: the Johnson-Cook law of {source}
 * generated by rno-export --format jc-c (deploy/johnson_cook.py); do not edit, export again. */
#ifndef JC_MODEL_H
#define JC_MODEL_H

#define JC_NSTATE {NSTATE}   /* per point: Cp^-1 - I (11, 22, 33, 12, 23, 31), eps_p, eps_dot_p (1/s) */

/* One step of nblock points: F[p][9] = F_ij row-major at the end of the step, state_old[p][JC_NSTATE], dt in s (> 0);
 * writes the Cauchy stress sigma[p][6] (MPa; 11, 22, 33, 12, 23, 31) and state_new[p][JC_NSTATE].
 * Returns 0; 1 if the return did not converge at a point, 2 if det F <= 0 at a point (its stress NaN, state kept). */
int jc_step(int nblock, const double *F, const double *state_old, double dt, double *sigma, double *state_new);

#endif
"""


def c_source(p: Parameters, source: str) -> str:
    """jc_model.c: the parameters as literals and jc_step."""
    law = "\n".join(" * " + line for line in LAW.splitlines())
    return f"""\
/* jc_model.c: the Johnson-Cook law of {source}
 * generated by rno-export --format jc-c (deploy/johnson_cook.py); do not edit, export again. C99, libm only.
 *
{law}
 *
{_describe(p, " * ")}
 */
#include <math.h>
#include <stddef.h>
#include "jc_model.h"

static const double MU = {literal(p.mu)};        /* shear modulus, MPa */
static const double KAPPA = {literal(p.kappa)};     /* bulk modulus, MPa */
static const double A = {literal(p.A)};         /* MPa */
static const double B = {literal(p.B)};         /* MPa */
static const double N_EXP = {literal(p.n)};     /* hardening exponent n */
static const double C_RATE = {literal(p.C)};    /* rate coefficient C */
static const double EPS_DOT_0 = {literal(p.eps_dot_0)};  /* reference rate, 1/s */
static const double TOL = {literal(p.tol)};     /* the return stops at |r| <= TOL q_tr */
#define MAX_ITER {int(p.max_iter)}

static const int SYM_I[6] = {{0, 1, 2, 0, 1, 2}}, SYM_J[6] = {{0, 1, 2, 1, 2, 0}};  /* 11, 22, 33, 12, 23, 31 */

/* Eigen-decomposition of a symmetric 3 x 3 matrix a (destroyed) by cyclic Jacobi rotations: a = v diag(w) v^T.
 * Stops when |a12| + |a13| + |a23| <= 1e-18 (|a11| + |a22| + |a33|) (or after 50 sweeps). */
static void eigen_sym(double a[3][3], double w[3], double v[3][3])
{{
    static const int P[3] = {{0, 0, 1}}, Q[3] = {{1, 2, 2}};
    int sweep, k, i, j;
    const double scale = fabs(a[0][0]) + fabs(a[1][1]) + fabs(a[2][2]);
    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++) v[i][j] = i == j ? 1.0 : 0.0;
    for (sweep = 0; sweep < 50; sweep++) {{
        if (fabs(a[0][1]) + fabs(a[0][2]) + fabs(a[1][2]) <= 1e-18 * scale) break;
        for (k = 0; k < 3; k++) {{
            const int p = P[k], q = Q[k];
            double theta, t, c, s;
            if (a[p][q] == 0.0) continue;
            theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            t = fabs(theta) > 1e150 ? 0.5 / theta
                                    : (theta >= 0.0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
            c = 1.0 / sqrt(t * t + 1.0);
            s = t * c;
            for (i = 0; i < 3; i++) {{  /* a <- a J, J the rotation in the (p, q) plane */
                const double aip = a[i][p], aiq = a[i][q];
                a[i][p] = c * aip - s * aiq;
                a[i][q] = s * aip + c * aiq;
            }}
            for (j = 0; j < 3; j++) {{  /* a <- J^T a */
                const double apj = a[p][j], aqj = a[q][j];
                a[p][j] = c * apj - s * aqj;
                a[q][j] = s * apj + c * aqj;
            }}
            for (i = 0; i < 3; i++) {{  /* v <- v J */
                const double vip = v[i][p], viq = v[i][q];
                v[i][p] = c * vip - s * viq;
                v[i][q] = s * vip + c * viq;
            }}
        }}
    }}
    for (i = 0; i < 3; i++) w[i] = a[i][i];
}}

/* dgamma >= 0 of the radial return (0 if elastic): Newton on r(dg) = q_tr - 3 mu dg - sigma_y(eps_p_n + dg, dg/dt),
 * safeguarded by bisection on [lo, hi], to |r| <= TOL q_tr (mechanics.johnson_cook.JohnsonCook._return).
 * Returns 0, or 1 if not converged in MAX_ITER iterations. */
static int radial_return(double q_tr, double eps_p_n, double dt, double *dgamma)
{{
    const double y0 = A + B * pow(eps_p_n, N_EXP);  /* sigma_y(eps_p_n, 0) */
    const double rate0 = dt * EPS_DOT_0;           /* dgamma at the rate cut-off */
    double lo = 0.0, hi, dg;
    int it;
    *dgamma = 0.0;
    if (!(q_tr > y0)) return 0;  /* elastic */
    hi = (q_tr - y0) / (3.0 * MU);
    dg = hi;
    for (it = 0; it < MAX_ITER; it++) {{
        const double e = eps_p_n + dg;
        const double hard = A + B * pow(e, N_EXP);
        const double ratio = dg / rate0 > 1.0 ? dg / rate0 : 1.0;
        const double R = 1.0 + C_RATE * log(ratio);
        const double r = q_tr - 3.0 * MU * dg - hard * R;
        const double dhard = e > 0.0 ? B * N_EXP * pow(e, N_EXP - 1.0) : 0.0;
        const double dR = dg > rate0 ? C_RATE / dg : 0.0;
        const double dr = -3.0 * MU - dhard * R - hard * dR;
        double newton;
        if (fabs(r) <= TOL * q_tr) {{
            *dgamma = dg;
            return 0;
        }}
        if (r > 0.0) lo = dg; else hi = dg;  /* r decreases in dg: the root stays in [lo, hi] */
        newton = dg - r / dr;
        dg = (isfinite(newton) && newton > lo && newton < hi) ? newton : 0.5 * (lo + hi);
    }}
    return 1;
}}

static double det3(double f[3][3])
{{
    return f[0][0] * (f[1][1] * f[2][2] - f[1][2] * f[2][1]) - f[0][1] * (f[1][0] * f[2][2] - f[1][2] * f[2][0])
           + f[0][2] * (f[1][0] * f[2][1] - f[1][1] * f[2][0]);
}}

int jc_step(int nblock, const double *F, const double *state_old, double dt, double *sigma, double *state_new)
{{
    int pt, i, j, k, status = 0;
    for (pt = 0; pt < nblock; pt++) {{
        const double *fp = F + (size_t)pt * 9, *so = state_old + (size_t)pt * JC_NSTATE;
        double *sp = sigma + (size_t)pt * 6, *sn = state_new + (size_t)pt * JC_NSTATE;
        double f[3][3], cp[3][3], fc[3][3], be[3][3], v[3][3], finv[3][3], fb[3][3], w[3], h_tr[3], s_tr[3], h[3],
               tau[3], eb[3];
        double J, vol, q_tr, dg, c;
        for (i = 0; i < 3; i++)
            for (j = 0; j < 3; j++) f[i][j] = fp[3 * i + j];
        J = det3(f);
        if (!(J > 0.0)) {{  /* a failed update: NaN stress, state unchanged */
            for (i = 0; i < 6; i++) sp[i] = NAN;
            for (i = 0; i < JC_NSTATE; i++) sn[i] = so[i];
            status = 2;
            continue;
        }}
        for (i = 0; i < 3; i++) cp[i][i] = 1.0 + so[i];  /* Cp_n^-1 = I + state */
        for (k = 3; k < 6; k++) cp[SYM_I[k]][SYM_J[k]] = cp[SYM_J[k]][SYM_I[k]] = so[k];
        for (i = 0; i < 3; i++)  /* be_tr = F Cp_n^-1 F^T */
            for (j = 0; j < 3; j++) fc[i][j] = f[i][0] * cp[0][j] + f[i][1] * cp[1][j] + f[i][2] * cp[2][j];
        for (i = 0; i < 3; i++)
            for (j = 0; j < 3; j++) be[i][j] = fc[i][0] * f[j][0] + fc[i][1] * f[j][1] + fc[i][2] * f[j][2];
        for (i = 0; i < 3; i++)
            for (j = 0; j < i; j++) be[i][j] = be[j][i] = 0.5 * (be[i][j] + be[j][i]);
        eigen_sym(be, w, v);
        for (i = 0; i < 3; i++) h_tr[i] = 0.5 * log(w[i]);  /* principal logarithmic elastic strains */
        vol = h_tr[0] + h_tr[1] + h_tr[2];
        for (i = 0; i < 3; i++) s_tr[i] = 2.0 * MU * (h_tr[i] - vol / 3.0);
        q_tr = sqrt(1.5 * (s_tr[0] * s_tr[0] + s_tr[1] * s_tr[1] + s_tr[2] * s_tr[2]));
        if (radial_return(q_tr, so[6], dt, &dg)) {{
            for (i = 0; i < 6; i++) sp[i] = NAN;
            for (i = 0; i < JC_NSTATE; i++) sn[i] = so[i];
            status = 1;
            continue;
        }}
        for (i = 0; i < 3; i++) {{
            const double n_i = q_tr > 0.0 ? 1.5 * s_tr[i] / q_tr : 0.0;  /* flow direction 3/2 s_tr / q_tr */
            h[i] = h_tr[i] - dg * n_i;
            tau[i] = KAPPA * vol + 2.0 * MU * (h[i] - vol / 3.0);  /* Kirchhoff stress, principal */
            eb[i] = exp(2.0 * h[i]);                               /* be, principal */
        }}
        for (k = 0; k < 6; k++) {{  /* sigma = V diag(tau / J) V^T */
            i = SYM_I[k];
            j = SYM_J[k];
            sp[k] = v[i][0] * (tau[0] / J) * v[j][0] + v[i][1] * (tau[1] / J) * v[j][1]
                    + v[i][2] * (tau[2] / J) * v[j][2];
        }}
        for (i = 0; i < 3; i++)  /* be = V diag(exp 2h) V^T */
            for (j = 0; j < 3; j++)
                be[i][j] = v[i][0] * eb[0] * v[j][0] + v[i][1] * eb[1] * v[j][1] + v[i][2] * eb[2] * v[j][2];
        finv[0][0] = (f[1][1] * f[2][2] - f[1][2] * f[2][1]) / J;  /* F^-1 = adj F / det F */
        finv[0][1] = (f[0][2] * f[2][1] - f[0][1] * f[2][2]) / J;
        finv[0][2] = (f[0][1] * f[1][2] - f[0][2] * f[1][1]) / J;
        finv[1][0] = (f[1][2] * f[2][0] - f[1][0] * f[2][2]) / J;
        finv[1][1] = (f[0][0] * f[2][2] - f[0][2] * f[2][0]) / J;
        finv[1][2] = (f[0][2] * f[1][0] - f[0][0] * f[1][2]) / J;
        finv[2][0] = (f[1][0] * f[2][1] - f[1][1] * f[2][0]) / J;
        finv[2][1] = (f[0][1] * f[2][0] - f[0][0] * f[2][1]) / J;
        finv[2][2] = (f[0][0] * f[1][1] - f[0][1] * f[1][0]) / J;
        for (i = 0; i < 3; i++)  /* Cp^-1 = F^-1 be F^-T */
            for (j = 0; j < 3; j++) fb[i][j] = finv[i][0] * be[0][j] + finv[i][1] * be[1][j] + finv[i][2] * be[2][j];
        for (k = 0; k < 6; k++) {{
            i = SYM_I[k];
            j = SYM_J[k];
            c = 0.5 * ((fb[i][0] * finv[j][0] + fb[i][1] * finv[j][1] + fb[i][2] * finv[j][2])
                       + (fb[j][0] * finv[i][0] + fb[j][1] * finv[i][1] + fb[j][2] * finv[i][2]));
            sn[k] = k < 3 ? c - 1.0 : c;  /* stored as Cp^-1 - I */
        }}
        sn[6] = so[6] + dg;  /* eps_p */
        sn[7] = dg / dt;     /* eps_dot_p, 1/s */
    }}
    return status;
}}
"""


# ------------------------------------------------------------------------------------------------------- Fortran
def fortran_module(p: Parameters, source: str) -> str:
    """Module jc_kernel: jc_point (one point, F(3, 3)), jc_step (nblock points) and its C entry."""
    law = "\n".join("!> " + line for line in LAW.splitlines())
    real = lambda v: literal(v) + "_dp"  # noqa: E731
    text = f"""\
!> jc_kernel: the Johnson-Cook law of {source}
!> generated by rno-export (deploy/johnson_cook.py); do not edit, export again. Fortran 2008, no library.
{law}
{_describe(p, "!> ")}
module jc_kernel
  use, intrinsic :: iso_c_binding, only: c_int, c_double
  use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan, ieee_is_finite
  implicit none
  private
  public :: dp, JC_NSTATE, jc_point, jc_step, jc_step_c

  integer, parameter :: dp = c_double
  integer, parameter :: JC_NSTATE = {NSTATE}  ! Cp^-1 - I (11, 22, 33, 12, 23, 31), eps_p, eps_dot_p (1/s)
  real(dp), parameter :: MU = {real(p.mu)}  ! shear modulus, MPa
  real(dp), parameter :: KAPPA = {real(p.kappa)}  ! bulk modulus, MPa
  real(dp), parameter :: A = {real(p.A)}  ! MPa
  real(dp), parameter :: B = {real(p.B)}  ! MPa
  real(dp), parameter :: N_EXP = {real(p.n)}  ! hardening exponent n
  real(dp), parameter :: C_RATE = {real(p.C)}  ! rate coefficient C
  real(dp), parameter :: EPS_DOT_0 = {real(p.eps_dot_0)}  ! reference rate, 1/s
  real(dp), parameter :: TOL = {real(p.tol)}  ! the return stops at |r| <= TOL q_tr
  integer, parameter :: MAX_ITER = {int(p.max_iter)}
  integer, parameter :: SYM_I(6) = [1, 2, 3, 1, 2, 3], SYM_J(6) = [1, 2, 3, 2, 3, 1]  ! 11, 22, 33, 12, 23, 31

contains

  !> One point: f = F (f(i, j) = F_ij), state_old(8) -> Cauchy stress sig(6) (MPa; 11, 22, 33, 12, 23, 31) and
  !> state_new(8). stat: 0; 1 if the return did not converge, 2 if det F <= 0 (then sig = NaN, state kept).
  !> elastic = .true.: no return (dgamma = 0), the Hencky response from state_old.
  subroutine jc_point(f, state_old, dt, sig, state_new, stat, elastic)
    real(dp), intent(in) :: f(3, 3), state_old(JC_NSTATE), dt
    real(dp), intent(out) :: sig(6), state_new(JC_NSTATE)
    integer, intent(out) :: stat
    logical, intent(in), optional :: elastic
    real(dp) :: cp(3, 3), be(3, 3), v(3, 3), finv(3, 3), cpn(3, 3), w(3), h_tr(3), s_tr(3), h(3), tau(3), eb(3)
    real(dp) :: J, vol, q_tr, dg
    integer :: i, k
    stat = 0
    J = det3(f)
    if (.not. (J > 0.0_dp)) then  ! a failed update: NaN stress, state unchanged
      sig = ieee_value(1.0_dp, ieee_quiet_nan)
      state_new = state_old
      stat = 2
      return
    end if
    cp = 0.0_dp  ! Cp_n^-1 = I + state
    do k = 1, 6
      cp(SYM_I(k), SYM_J(k)) = state_old(k)
      cp(SYM_J(k), SYM_I(k)) = state_old(k)
    end do
    do i = 1, 3
      cp(i, i) = cp(i, i) + 1.0_dp
    end do
    be = matmul(matmul(f, cp), transpose(f))  ! be_tr = F Cp_n^-1 F^T
    be = 0.5_dp * (be + transpose(be))
    call eigen_sym(be, w, v)
    h_tr = 0.5_dp * log(w)  ! principal logarithmic elastic strains
    vol = h_tr(1) + h_tr(2) + h_tr(3)
    s_tr = 2.0_dp * MU * (h_tr - vol / 3.0_dp)
    q_tr = sqrt(1.5_dp * (s_tr(1) * s_tr(1) + s_tr(2) * s_tr(2) + s_tr(3) * s_tr(3)))
    dg = 0.0_dp
    if (present(elastic)) then
      if (.not. elastic) call radial_return(q_tr, state_old(7), dt, dg, stat)
    else
      call radial_return(q_tr, state_old(7), dt, dg, stat)
    end if
    if (stat /= 0) then
      sig = ieee_value(1.0_dp, ieee_quiet_nan)
      state_new = state_old
      return
    end if
    do i = 1, 3
      if (q_tr > 0.0_dp) then
        h(i) = h_tr(i) - dg * (1.5_dp * s_tr(i) / q_tr)  ! flow direction 3/2 s_tr / q_tr
      else
        h(i) = h_tr(i)
      end if
    end do
    tau = KAPPA * vol + 2.0_dp * MU * (h - vol / 3.0_dp)  ! Kirchhoff stress, principal
    eb = exp(2.0_dp * h)  ! be, principal
    do k = 1, 6  ! sigma = V diag(tau / J) V^T
      sig(k) = sum(v(SYM_I(k), :) * (tau / J) * v(SYM_J(k), :))
    end do
    do k = 1, 3
      be(:, k) = v(:, 1) * eb(1) * v(k, 1) + v(:, 2) * eb(2) * v(k, 2) + v(:, 3) * eb(3) * v(k, 3)
    end do
    finv = adjugate(f) / J
    cpn = matmul(matmul(finv, be), transpose(finv))  ! Cp^-1 = F^-1 be F^-T
    do k = 1, 6
      state_new(k) = 0.5_dp * (cpn(SYM_I(k), SYM_J(k)) + cpn(SYM_J(k), SYM_I(k)))
      if (k <= 3) state_new(k) = state_new(k) - 1.0_dp  ! stored as Cp^-1 - I
    end do
    state_new(7) = state_old(7) + dg  ! eps_p
    state_new(8) = dg / dt  ! eps_dot_p, 1/s
  end subroutine jc_point

  !> nblock points: f(3, 3, nblock), state(8, nblock), sig(6, nblock); stat is the last nonzero point status.
  subroutine jc_step(nblock, f, state_old, dt, sig, state_new, stat)
    integer, intent(in) :: nblock
    real(dp), intent(in) :: f(3, 3, nblock), state_old(JC_NSTATE, nblock), dt
    real(dp), intent(out) :: sig(6, nblock), state_new(JC_NSTATE, nblock)
    integer, intent(out) :: stat
    integer :: p, s
    stat = 0
    do p = 1, nblock
      call jc_point(f(:, :, p), state_old(:, p), dt, sig(:, p), state_new(:, p), s)
      if (s /= 0) stat = s
    end do
  end subroutine jc_step

  !> C entry with the C kernel's prototype: F[p][9] row-major, state[p][8], sigma[p][6]; returns the status.
  integer(c_int) function jc_step_c(nblock, f, state_old, dt, sig, state_new) bind(C, name="jc_step")
    integer(c_int), value, intent(in) :: nblock
    real(c_double), intent(in) :: f(9, nblock), state_old(JC_NSTATE, nblock)
    real(c_double), value, intent(in) :: dt
    real(c_double), intent(out) :: sig(6, nblock), state_new(JC_NSTATE, nblock)
    integer :: p, s
    jc_step_c = 0
    do p = 1, nblock
      call jc_point(transpose(reshape(f(:, p), [3, 3])), state_old(:, p), dt, sig(:, p), state_new(:, p), s)
      if (s /= 0) jc_step_c = int(s, c_int)
    end do
  end function jc_step_c

  !> dgamma >= 0 of the radial return (0 if elastic): Newton on r = q_tr - 3 mu dg - sigma_y(eps_p_n + dg, dg/dt),
  !> safeguarded by bisection on [lo, hi], to |r| <= TOL q_tr (JohnsonCook._return). stat = 1: not converged.
  subroutine radial_return(q_tr, eps_p_n, dt, dgamma, stat)
    real(dp), intent(in) :: q_tr, eps_p_n, dt
    real(dp), intent(out) :: dgamma
    integer, intent(out) :: stat
    real(dp) :: y0, rate0, lo, hi, dg, e, hard, rfac, res, dhard, drfac, dres, newton  ! rfac = rate factor
    integer :: it
    dgamma = 0.0_dp
    stat = 0
    y0 = A + B * eps_p_n**N_EXP  ! sigma_y(eps_p_n, 0)
    if (.not. (q_tr > y0)) return  ! elastic
    rate0 = dt * EPS_DOT_0  ! dgamma at the rate cut-off
    lo = 0.0_dp
    hi = (q_tr - y0) / (3.0_dp * MU)
    dg = hi
    do it = 1, MAX_ITER
      e = eps_p_n + dg
      hard = A + B * e**N_EXP
      rfac = 1.0_dp + C_RATE * log(max(dg / rate0, 1.0_dp))
      res = q_tr - 3.0_dp * MU * dg - hard * rfac
      dhard = 0.0_dp
      if (e > 0.0_dp) dhard = B * N_EXP * e**(N_EXP - 1.0_dp)
      drfac = 0.0_dp
      if (dg > rate0) drfac = C_RATE / dg
      dres = -3.0_dp * MU - dhard * rfac - hard * drfac
      if (abs(res) <= TOL * q_tr) then
        dgamma = dg
        return
      end if
      if (res > 0.0_dp) then  ! r decreases in dg: the root stays in [lo, hi]
        lo = dg
      else
        hi = dg
      end if
      newton = dg - res / dres
      if (ieee_is_finite(newton) .and. newton > lo .and. newton < hi) then
        dg = newton
      else
        dg = 0.5_dp * (lo + hi)
      end if
    end do
    stat = 1
  end subroutine radial_return

  !> Eigen-decomposition of a symmetric 3 x 3 matrix a (destroyed) by cyclic Jacobi rotations, a = v diag(w) v^T;
  !> stops when |a12| + |a13| + |a23| <= 1e-18 (|a11| + |a22| + |a33|) (or after 50 sweeps).
  subroutine eigen_sym(a, w, v)
    real(dp), intent(inout) :: a(3, 3)
    real(dp), intent(out) :: w(3), v(3, 3)
    integer, parameter :: P(3) = [1, 1, 2], Q(3) = [2, 3, 3]
    real(dp) :: scale, theta, t, c, s, x(3), y(3)
    integer :: sweep, k, i
    v = 0.0_dp
    do i = 1, 3
      v(i, i) = 1.0_dp
    end do
    scale = abs(a(1, 1)) + abs(a(2, 2)) + abs(a(3, 3))
    do sweep = 1, 50
      if (abs(a(1, 2)) + abs(a(1, 3)) + abs(a(2, 3)) <= 1.0e-18_dp * scale) exit
      do k = 1, 3
        if (a(P(k), Q(k)) == 0.0_dp) cycle
        theta = (a(Q(k), Q(k)) - a(P(k), P(k))) / (2.0_dp * a(P(k), Q(k)))
        if (abs(theta) > 1.0e150_dp) then
          t = 0.5_dp / theta
        else
          t = sign(1.0_dp, theta) / (abs(theta) + sqrt(theta * theta + 1.0_dp))
        end if
        c = 1.0_dp / sqrt(t * t + 1.0_dp)
        s = t * c
        x = a(:, P(k))  ! a <- a J
        y = a(:, Q(k))
        a(:, P(k)) = c * x - s * y
        a(:, Q(k)) = s * x + c * y
        x = a(P(k), :)  ! a <- J^T a
        y = a(Q(k), :)
        a(P(k), :) = c * x - s * y
        a(Q(k), :) = s * x + c * y
        x = v(:, P(k))  ! v <- v J
        y = v(:, Q(k))
        v(:, P(k)) = c * x - s * y
        v(:, Q(k)) = s * x + c * y
      end do
    end do
    do i = 1, 3
      w(i) = a(i, i)
    end do
  end subroutine eigen_sym

  pure real(dp) function det3(a)
    real(dp), intent(in) :: a(3, 3)
    det3 = a(1, 1) * (a(2, 2) * a(3, 3) - a(2, 3) * a(3, 2)) - a(1, 2) * (a(2, 1) * a(3, 3) - a(2, 3) * a(3, 1)) &
        + a(1, 3) * (a(2, 1) * a(3, 2) - a(2, 2) * a(3, 1))
  end function det3

  pure function adjugate(a) result(c)
    real(dp), intent(in) :: a(3, 3)
    real(dp) :: c(3, 3)
    c(1, 1) = a(2, 2) * a(3, 3) - a(2, 3) * a(3, 2)
    c(1, 2) = a(1, 3) * a(3, 2) - a(1, 2) * a(3, 3)
    c(1, 3) = a(1, 2) * a(2, 3) - a(1, 3) * a(2, 2)
    c(2, 1) = a(2, 3) * a(3, 1) - a(2, 1) * a(3, 3)
    c(2, 2) = a(1, 1) * a(3, 3) - a(1, 3) * a(3, 1)
    c(2, 3) = a(1, 3) * a(2, 1) - a(1, 1) * a(2, 3)
    c(3, 1) = a(2, 1) * a(3, 2) - a(2, 2) * a(3, 1)
    c(3, 2) = a(1, 2) * a(3, 1) - a(1, 1) * a(3, 2)
    c(3, 3) = a(1, 1) * a(2, 2) - a(1, 2) * a(2, 1)
  end function adjugate

end module jc_kernel
"""
    check_lines(text)
    return text


def vumat(p: Parameters, source: str) -> str:
    """jc_vumat.f90: module jc_kernel and subroutine vumat (ABAQUS/Explicit, double precision)."""
    text = fortran_module(p, source) + f"""

!> ABAQUS/Explicit user material: the Johnson-Cook law of module jc_kernel at nblock material points.
!> Documented VUMAT argument list; reals are double precision (run ABAQUS/Explicit with double=both). Parameters are
!> literals of module jc_kernel (*User Material, constants=0). Same convention as the RNO VUMAT (deploy/abaqus.py):
!> In: stretchNew = U at the end of the increment (11, 22, 33, 12, 23, 31, tensor shear), stateOld(:, 1:8), dt.
!> Out: stressNew = the corotational Cauchy stress R^T sigma R = sigma(U) (MPa), stateNew(:, 1:8); state variables
!> past 8 are carried unchanged. The law is objective with a state (Cp^-1) in the reference configuration, so
!> sigma(R U) = R sigma(U) R^T: U alone determines the corotational stress.
!> State: 1-6 Cp^-1 - I (11, 22, 33, 12, 23, 31), 7 eps_p, 8 eps_dot_p (1/s); ABAQUS's zero start is the virgin state.
!> Data-check call (stepTime = totalTime = 0): the elastic (Hencky) stress at U = I + strainInc, state unchanged.
!> Annealing (lanneal = 1): stress 0, eps_p = eps_dot_p = 0, Cp^-1 = U^-2 (the current configuration stress free).
!> enerInternNew: the stress power by the trapezoid rule; enerInelasNew += sigma_eq dgamma / density (the plastic
!> dissipation tau_eq dgamma per reference volume over rho_0 = J rho; sigma_eq the von Mises Cauchy stress).
subroutine vumat(nblock, ndir, nshr, nstatev, nfieldv, nprops, lanneal, stepTime, totalTime, dt, cmname, coordMp, &
    charLength, props, density, strainInc, relSpinInc, tempOld, stretchOld, defgradOld, fieldOld, stressOld, &
    stateOld, enerInternOld, enerInelasOld, tempNew, stretchNew, defgradNew, fieldNew, stressNew, stateNew, &
    enerInternNew, enerInelasNew)
  use jc_kernel, only: dp, JC_NSTATE, jc_point
  implicit none
  integer, intent(in) :: nblock, ndir, nshr, nstatev, nfieldv, nprops, lanneal
  real(dp), intent(in) :: stepTime, totalTime, dt
  character(len=80), intent(in) :: cmname
  real(dp), intent(in) :: coordMp(nblock, *), charLength(nblock), props(nprops), density(nblock), &
      strainInc(nblock, ndir + nshr), relSpinInc(nblock, nshr), tempOld(nblock), stretchOld(nblock, ndir + nshr), &
      defgradOld(nblock, ndir + nshr + nshr), fieldOld(nblock, nfieldv), stressOld(nblock, ndir + nshr), &
      stateOld(nblock, nstatev), enerInternOld(nblock), enerInelasOld(nblock), tempNew(nblock), &
      stretchNew(nblock, ndir + nshr), defgradNew(nblock, ndir + nshr + nshr), fieldNew(nblock, nfieldv)
  real(dp), intent(inout) :: stressNew(nblock, ndir + nshr), stateNew(nblock, nstatev), enerInternNew(nblock), &
      enerInelasNew(nblock)
  integer, parameter :: SYM_I(6) = [1, 2, 3, 1, 2, 3], SYM_J(6) = [1, 2, 3, 2, 3, 1]
  real(dp) :: u(3, 3), sig(6), snew(JC_NSTATE), zero(JC_NSTATE), uinv(3, 3), work, seq
  integer :: km, i, stat

  if (ndir /= 3 .or. (nshr /= 3 .and. nshr /= 1)) &
    error stop "jc vumat: needs ndir = 3 and nshr = 3 or 1 (3D, plane strain, axisymmetric); no plane stress"
  if (nstatev < JC_NSTATE) error stop "jc vumat: declare *Depvar with at least 8 state variables"
  zero = 0.0_dp
  do km = 1, nblock
    if (nstatev > JC_NSTATE) stateNew(km, JC_NSTATE + 1:) = stateOld(km, JC_NSTATE + 1:)
    enerInelasNew(km) = enerInelasOld(km)
    if (stepTime == 0.0_dp .and. totalTime == 0.0_dp) then
      ! data check: the Hencky stress at U = I + strainInc, state unchanged
      call gather(strainInc, km, u)
      do i = 1, 3
        u(i, i) = u(i, i) + 1.0_dp
      end do
      call jc_point(u, zero, 1.0_dp, sig, snew, stat, elastic=.true.)
      stateNew(km, 1:JC_NSTATE) = stateOld(km, 1:JC_NSTATE)
    else if (lanneal == 1) then
      ! annealing: the current configuration becomes stress free, no plastic strain
      call gather(stretchNew, km, u)
      uinv = inverse(u)
      uinv = matmul(uinv, uinv)  ! Cp^-1 = U^-1 U^-T = U^-2
      do i = 1, 6
        stateNew(km, i) = uinv(SYM_I(i), SYM_J(i))
      end do
      stateNew(km, 1:3) = stateNew(km, 1:3) - 1.0_dp
      stateNew(km, 7:8) = 0.0_dp
      sig = 0.0_dp
      stat = 0
    else
      ! one step of the law at U (the corotational frame)
      call gather(stretchNew, km, u)
      call jc_point(u, stateOld(km, 1:JC_NSTATE), dt, sig, snew, stat)
      stateNew(km, 1:JC_NSTATE) = snew
      seq = sqrt(0.5_dp * ((sig(1) - sig(2))**2 + (sig(2) - sig(3))**2 + (sig(3) - sig(1))**2) &
          + 3.0_dp * (sig(4)**2 + sig(5)**2 + sig(6)**2))
      enerInelasNew(km) = enerInelasOld(km) + seq * (snew(7) - stateOld(km, 7)) / density(km)
    end if
    if (stat == 1) error stop "jc vumat: the radial return did not converge"
    if (stat == 2) error stop "jc vumat: det U <= 0"
    stressNew(km, 1:ndir + nshr) = sig(1:ndir + nshr)
  end do

  ! specific internal energy: + (stressOld + stressNew) : strainInc / (2 density), shear components twice
  do km = 1, nblock
    work = 0.0_dp
    do i = 1, ndir + nshr
      work = work + merge(1.0_dp, 2.0_dp, i <= ndir) * (stressOld(km, i) + stressNew(km, i)) * strainInc(km, i)
    end do
    enerInternNew(km) = enerInternOld(km) + work / (2.0_dp * density(km))
  end do

contains

  !> The symmetric 3 x 3 tensor of row km of an ABAQUS array (11, 22, 33, 12, 23, 31); 23, 31 = 0 when nshr = 1.
  subroutine gather(a, km, t)
    real(dp), intent(in) :: a(nblock, ndir + nshr)
    integer, intent(in) :: km
    real(dp), intent(out) :: t(3, 3)
    integer :: k
    t = 0.0_dp
    do k = 1, ndir + nshr
      t(SYM_I(k), SYM_J(k)) = a(km, k)
      t(SYM_J(k), SYM_I(k)) = a(km, k)
    end do
  end subroutine gather

  pure function inverse(a) result(b)
    real(dp), intent(in) :: a(3, 3)
    real(dp) :: b(3, 3)
    b(1, 1) = a(2, 2) * a(3, 3) - a(2, 3) * a(3, 2)
    b(1, 2) = a(1, 3) * a(3, 2) - a(1, 2) * a(3, 3)
    b(1, 3) = a(1, 2) * a(2, 3) - a(1, 3) * a(2, 2)
    b(2, 1) = a(2, 3) * a(3, 1) - a(2, 1) * a(3, 3)
    b(2, 2) = a(1, 1) * a(3, 3) - a(1, 3) * a(3, 1)
    b(2, 3) = a(1, 3) * a(2, 1) - a(1, 1) * a(2, 3)
    b(3, 1) = a(2, 1) * a(3, 2) - a(2, 2) * a(3, 1)
    b(3, 2) = a(1, 2) * a(3, 1) - a(1, 1) * a(3, 2)
    b(3, 3) = a(1, 1) * a(2, 2) - a(1, 2) * a(2, 1)
    b = b / (a(1, 1) * b(1, 1) + a(1, 2) * b(2, 1) + a(1, 3) * b(3, 1))
  end function inverse

end subroutine vumat
"""
    check_lines(text)
    return text


#: format -> files written (besides README.md)
FORMATS = {"jc-c": ("jc_model.h", "jc_model.c"), "jc-fortran": ("jc_kernel.f90",), "jc-vumat": ("jc_vumat.f90",)}


def texts(law, fmt: str, source: str) -> dict[str, str]:
    """File name -> text of format fmt (FORMATS) for the law's parameters (``parameters``), README.md included."""
    p = parameters(law)
    freeform = "!DIR$ FREEFORM\n"
    if fmt == "jc-c":
        out = {"jc_model.h": c_header(p, source), "jc_model.c": c_source(p, source)}
    elif fmt == "jc-fortran":
        out = {"jc_kernel.f90": fortran_module(p, source)}
    elif fmt == "jc-vumat":
        out = {"jc_vumat.f90": freeform + vumat(p, source)}
    else:
        raise ValueError(f"Johnson-Cook format must be one of {sorted(FORMATS)}, got {fmt!r}")
    out["README.md"] = readme(p, fmt, source)
    return out


def readme(p: Parameters, fmt: str, source: str) -> str:
    """README.md of an exported Johnson-Cook directory."""
    from .export import FLAGS

    files = ", ".join(f"`{f}`" for f in FORMATS[fmt])
    head = f"""# Johnson-Cook export ({fmt})

Generated by `rno-export PARAMS.json --format {fmt}` (deploy/johnson_cook.py, docs/export.md) from `{source}`.
Do not edit: export again. Files: {files}. The parameters are literals in the source.

## The law

```
{LAW}
```

{_describe(p, "* ")}
* units: stress and moduli MPa, time s, rates 1/s.
"""
    if fmt == "jc-c":
        use = f"""## Build and use (C99)

    gcc {FLAGS} -shared -fPIC jc_model.c -o libjc.so -lm

    #include "jc_model.h"
    int status = jc_step(nblock, F, state_old, dt, sigma, state_new);   /* 0 = ok */

F[p][9] = F_ij row-major, state[p][JC_NSTATE = 8], sigma[p][6] (11, 22, 33, 12, 23, 31), dt in s."""
    elif fmt == "jc-fortran":
        use = f"""## Build and use (Fortran 2008)

    gfortran {FLAGS} -c jc_kernel.f90

    use jc_kernel, only: jc_point, jc_step
    call jc_point(f, state_old, dt, sig, state_new, stat)      ! one point, f(3, 3) = F
    call jc_step(nblock, f, state_old, dt, sig, state_new, stat)  ! f(3, 3, nblock)

`jc_step` is also callable from C with the C export's prototype (`bind(C, name="jc_step")`)."""
    else:
        use = """## ABAQUS/Explicit (VUMAT)

    abaqus job=JOB input=JOB.inp user=jc_vumat.f90 double=both

      *Material, name=JC
      *Density
      1.74e-9,
      *User Material, constants=0
      *Depvar
      8,

* Conventions as the RNO VUMAT: `stretchNew` = U (11, 22, 33, 12, 23, 31, tensor shear) in, `stressNew` = the
  corotational Cauchy stress R^T sigma R = sigma(U) out. 3D, plane strain and axisymmetric (nshr = 1); no plane
  stress.
* State: 1-6 Cp^-1 - I, 7 eps_p, 8 eps_dot_p (1/s); more state variables are carried unchanged.
* Data check (stepTime = totalTime = 0): the Hencky stress at I + strainInc, state unchanged. Annealing: stress 0,
  eps_p = 0, Cp^-1 = U^-2. enerInternNew: trapezoid rule; enerInelasNew: + sigma_eq dgamma / density.
* Units: MPa and s, e.g. mm, s, N, MPa, tonne."""
    return head + "\n" + use + "\n"
