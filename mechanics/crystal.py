"""Rate-dependent finite-strain crystal plasticity at a material point (paper Appendix A), for d = 2 or 3.

Model (derivation and conventions: docs/crystal-plasticity.md). Units: stress and moduli in MPa, time in s.

    F = Fe Fp,   det Fp = 1
    W^e(Fe): neo-Hookean (A1), mechanics.elasticity
    dFp/dt Fp^-1 = sum_i slip_rate_i s_i,   s_i = b_i (x) n_i (unit, b_i . n_i = 0)    (flow rule, mechanics.slip)
    de_i/dt = |slip_rate_i|
    Psi*(slip_rate) = sum_i tau0_i gamma_dot0_i/(m_i+1) (|slip_rate_i|/gamma_dot0_i)^(m_i+1)          (A3)
    0 in -tau_i + g_i(e) d|slip_rate_i| + dPsi*/d slip_rate_i                                          (A4)

whose solution is the kinetics

    tau_i = M : s_i,   M = Fe^T dW^e/dFe (Mandel stress)
    slip_rate_i = gamma_dot0_i sign(tau_i) <(|tau_i| - g_i(e))/tau0_i>^(1/m_i)       (<.> = max(., 0))

with g_i(0) = 0, so slip starts from zero stress (paper footnote 3). The resistance g(e) is a hardening law
(``Params.hardening``):
    ``VoceLatent``  the paper's (A2), g_i = dW^p/de_i with
                    W^p(e) = sum_i sigma_inf_i (e_i + sigma_inf_i/h_i exp(-h_i e_i/sigma_inf_i)) + 1/2 e.K.e;
    ``PowerLawTotalSlip``  DAMASK's phenomenological power-law hardening (Roters et al. 2019, Comput. Mater. Sci.
                    158:420, "phenopowerlaw") with every interaction coefficient 1, as in its magnesium data set:
                    saturating slip resistances driven by the total slip, twin resistance growing with slip and
                    twinning.
Systems flagged ``unidirectional`` (twins as pseudo-slip) only shear in their positive sense. Twin systems
(``twin_shear`` > 0) twin only the untwinned volume (DAMASK's rule, as Kalidindi 1998, J. Mech. Phys. Solids
46:267): with the twin volume fraction f = sum_twins e_i / twin_shear_i,

    slip_rate_i = (1 - f) gamma_dot0_i <(tau_i - g_i)/tau0_i>^(1/m_i),    so f <= 1 at all times.

Time integration (``update``): a stress-based backward Euler scheme in the spirit of Kalidindi, Bronkhorst & Anand
(1992, J. Mech. Phys. Solids 40:537). With T = F_{n+1} Fp_n^-1, Ctr = T^T T and A = sum_i dgamma_i s_i,

    Fp_{n+1} = exp(A) Fp_n,   Ce = exp(-A)^T Ctr exp(-A),   tau_i = mu J^(-2/d) Ce : s_i  (J = det T, fixed),
    dgamma_i = c_i sign(tau_i) q_i,   q_i = <(|tau_i| - g_i(e_n))/tau0_i>^(1/m_i)   (explicit in tau),
    c_i = dt gamma_dot0_i, and on twins c_i = dt gamma_dot0_i (1 - f_n) / D,  D = 1 + sum_twins dt gamma_dot0_j q_j
        / twin_shear_j  (backward Euler of df/dt = (1 - f) sum_twins gamma_dot0_j q_j / twin_shear_j)

so the only unknown is the symmetric Ce (d(d+1)/2 = 6 or 3 unknowns, Mandel notation) instead of the N slip
increments; the hardening is taken from the start of the step (semi-implicit; first order like the rest). The
twin fraction is implicit: 1 - f_{n+1} = (1 - f_n)/D > 0, so f < 1 at every step whatever the step size.
Newton on r(Ce) = Ce - exp(-A)^T Ctr exp(-A) with the Jacobian I + 2 lambda^2 mu J^(-2/d) sum_i dgamma_i' s_i (x) s_i
(symmetric positive definite, Cholesky), a backtracking line search on |r|^2, compiled per point with numba
(mechanics.crystal_kernel), the better of two initial guesses (the elastic trial, or a radial return to overstress
0.8 tau0 where the trial is beyond it; the previous slip rates), the power law continued linearly beyond one unit
of slip per step, and sub-stepping (2, 4, ... 32; C = F^T F linear in between, so objective) where it fails.
det Fp = 1 by the exponential map (tr s_i = 0), the round-off removed by rescaling. The consistent tangent dP/dF of a converged step follows by implicit
differentiation with torch.func of the equivalent residual in the overstress ratios (``tangent``, the only torch
code here).

Arrays at this API are numpy float64; leading "batch" axes (points, grains, samples, ...) broadcast. N = number of
slip systems. A state is a dict of numpy arrays (see ``initial_state``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import crystal_kernel as _kernel
from . import elasticity
from .tensor import cauchy, det, inv, mandel_indices, to_mandel, transpose

__all__ = ["Params", "VoceLatent", "PowerLawTotalSlip", "initial_state", "resolved_shear", "hardening",
           "plastic_energy", "dissipation_potential", "slip_rate_law", "twin_fraction", "step_constants", "update",
           "tangent", "drive", "SOLVER_WORK"]

STATE_KEYS = ("F", "Fp", "e", "slip_rate")


# ----------------------------------------------------------------------------------------------- hardening laws

def _vector(v, n: int, name: str, law: str, positive: bool = True) -> np.ndarray:
    out = np.broadcast_to(np.asarray(v, float), (n,)).copy()
    ok = np.all(np.isfinite(out)) and (np.all(out > 0) if positive else np.all(out >= 0))
    if not ok:
        raise ValueError(f"crystal.{law}: {name} must be {n} {'positive' if positive else 'non-negative'} finite "
                         f"values, got {out}")
    return out


@dataclass(frozen=True)
class VoceLatent:
    """The paper's hardening (A2): g_i = sigma_inf_i (1 - exp(-h_i e_i/sigma_inf_i)) + sum_j K_ij e_j (MPa).

    sigma_inf (N,) >= 0 saturation strengths (MPa), h (N,) > 0 initial moduli (MPa), K (N, N) latent matrix with
    zero diagonal (MPa). g = dW^p/de of the plastic energy ``energy``."""

    sigma_inf: np.ndarray
    h: np.ndarray
    K: np.ndarray

    @classmethod
    def create(cls, n_systems: int, sigma_inf, h, K=0.0) -> "VoceLatent":
        """Broadcast to N systems; a scalar K means K_ij = K for i != j. Validates."""
        n = int(n_systems)
        K = np.asarray(K, float)
        K = K * (1.0 - np.eye(n)) if K.ndim == 0 else K.copy()
        if K.shape != (n, n) or not np.all(np.isfinite(K)) or np.any(np.diag(K) != 0):
            raise ValueError(f"crystal.VoceLatent: K must be a finite ({n}, {n}) matrix with zero diagonal (A2)")
        return cls(_vector(sigma_inf, n, "sigma_inf", "VoceLatent", positive=False),
                   _vector(h, n, "h", "VoceLatent"), K)

    @property
    def n_systems(self) -> int:
        return int(self.h.shape[0])

    def resistance(self, e) -> np.ndarray:
        """g_i(e) (MPa), e (..., N) accumulated slips."""
        s = self.sigma_inf
        g = np.where(s > 0, s * -np.expm1(-self.h * e / np.where(s > 0, s, 1.0)), 0.0)
        return g + e @ self.K.T if np.any(self.K != 0) else g

    def energy(self, e) -> np.ndarray:
        """W^p(e) (MPa) of (A2)."""
        s, h = self.sigma_inf, self.h
        self_part = (s * (e + s / h * np.exp(-h * e / np.where(s > 0, s, 1.0)))).sum(-1)
        return self_part + 0.5 * np.einsum("...i,ij,...j->...", e, self.K, e)


@dataclass(frozen=True)
class PowerLawTotalSlip:
    """DAMASK's phenomenological power-law hardening ("phenopowerlaw", Roters et al. 2019, Comput. Mater. Sci.
    158:420; source src/phase_mechanical_plastic_phenopowerlaw.f90) with every interaction coefficient 1, as in its
    magnesium data set. Slip systems harden with the total slip Gamma_sl = sum_slip e_j, twins with Gamma_sl and the
    total twin shear Gamma_tw = sum_twins e_j:

        d xi_i / d Gamma_sl = h0_i (1 - xi_i/xi_inf_i)^a_i                       (slip, saturating at xi_inf_i)
        d xi_i = h0_tw_sl Gamma_sl^c3 d Gamma_sl + h0_tw_tw d Gamma_tw           (twins; DAMASK c_4 = 0)

    integrated in closed form (a_i > 1): xi_i = xi_inf_i (1 - [u0_i^(1-a_i) + (a_i-1) h0_i Gamma_sl/xi_inf_i]^
    (1/(1-a_i))), u0_i = 1 - xi_0_i/xi_inf_i; xi_tw = xi_0 + h0_tw_sl Gamma_sl^(c3+1)/(c3+1) + h0_tw_tw Gamma_tw.
    With the overstress kinetics (A4) and tau0 = xi_0 the resistance is g = xi - xi_0, so the flow stress at
    gamma_dot0 is xi. Per system (N,): xi_0 (MPa), twin (bool), and xi_inf (MPa), h0 (MPa), a (their twin
    entries are ignored); scalars h0_tw_sl, c3, h0_tw_tw (MPa). DAMASK's f_sat_sl-tw push-up and h_sl-tw terms are left out
    (docs/taylor.md: below 1e-5 MPa with its Mg values)."""

    xi_0: np.ndarray
    xi_inf: np.ndarray
    h0: np.ndarray
    a: np.ndarray
    twin: np.ndarray
    h0_tw_sl: float
    c3: float
    h0_tw_tw: float

    @classmethod
    def create(cls, n_systems: int, *, xi_0, xi_inf, h0, a, twin, h0_tw_sl, c3, h0_tw_tw) -> "PowerLawTotalSlip":
        n, law = int(n_systems), "PowerLawTotalSlip"
        twin = np.broadcast_to(np.asarray(twin, bool), (n,)).copy()
        xi_0 = _vector(xi_0, n, "xi_0", law)
        slip = ~twin
        xi_inf = np.where(slip, np.broadcast_to(np.asarray(xi_inf, float), (n,)), np.inf)
        if not np.all(xi_inf[slip] > xi_0[slip]):
            raise ValueError(f"crystal.{law}: xi_inf must exceed xi_0 on every slip system, got {xi_inf[slip]} "
                             f"and {xi_0[slip]}")
        a = np.where(slip, np.broadcast_to(np.asarray(a, float), (n,)), 2.0)  # twins: unused
        if not np.all(a[slip] > 1):
            raise ValueError(f"crystal.{law}: a must be > 1 (closed form), got {a[slip]}")
        h0 = np.where(slip, np.broadcast_to(np.asarray(h0, float), (n,)), 0.0)  # twins: unused
        if not np.all(h0[slip] > 0):
            raise ValueError(f"crystal.{law}: h0 must be positive on every slip system, got {h0[slip]}")
        scalars = {"h0_tw_sl": h0_tw_sl, "c3": c3, "h0_tw_tw": h0_tw_tw}
        for key, v in scalars.items():
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"crystal.{law}: {key} must be a finite value >= 0, got {v}")
        return cls(xi_0, xi_inf, h0, a, twin, float(h0_tw_sl), float(c3), float(h0_tw_tw))

    @property
    def n_systems(self) -> int:
        return int(self.xi_0.shape[0])

    def resistance(self, e) -> np.ndarray:
        """g_i(e) = xi_i - xi_0_i (MPa), e (..., N) accumulated slips (twins: twin shears)."""
        slip, twin = ~self.twin, self.twin
        gamma_sl = e[..., slip].sum(-1, keepdims=True)
        gamma_tw = e[..., twin].sum(-1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            xinf = np.where(slip, self.xi_inf, 1.0)
            am1 = np.where(slip, self.a - 1.0, 1.0)
            u0 = 1.0 - self.xi_0 / xinf
            u = (u0 ** -am1 + am1 * self.h0 * gamma_sl / xinf) ** (-1.0 / am1)
            g_slip = xinf * (u0 - u)
        g_twin = (self.h0_tw_sl * gamma_sl ** (self.c3 + 1.0) / (self.c3 + 1.0) + self.h0_tw_tw * gamma_tw)
        return np.where(slip, g_slip, g_twin)


# ----------------------------------------------------------------------------------------------- parameters

@dataclass(frozen=True)
class Params:
    """Material parameters of N systems (paper Table 2 names). Stresses in MPa, rates in 1/s.

    mu, kappa: shear and bulk moduli of W^e (A1) (MPa)
    tau0 (N,): reference resolved shear stress tau^p_0,i of the dissipation (A3) (MPa)
    gamma_dot0 (N,): reference slip rate gamma_dot^p_0,i (1/s)
    m (N,): rate sensitivity m_i (> 0); the rate exponent is 1/m_i
    hardening: the resistance law g(e) (``VoceLatent``, the paper's A2, or ``PowerLawTotalSlip``)
    unidirectional (N,): True for pseudo-slip systems that only shear in the +b sense (twins)
    twin_shear (N,): characteristic shear of twin systems (> 0; their shear fills the twin volume fraction), 0 for
        slip systems
    """

    mu: float
    kappa: float
    tau0: np.ndarray
    gamma_dot0: np.ndarray
    m: np.ndarray
    hardening: VoceLatent | PowerLawTotalSlip
    unidirectional: np.ndarray = field(default=None)
    twin_shear: np.ndarray = field(default=None)

    @classmethod
    def create(cls, n_systems: int, *, mu: float, kappa: float, tau0, gamma_dot0, m, hardening=None,
               sigma_inf=None, h=None, K=0.0, unidirectional=False, twin_shear=0.0) -> "Params":
        """Broadcast scalars or per-system values to (N,). The hardening is either a law (``hardening``) or the
        paper's (A2) from sigma_inf, h and K (a scalar K means K_ij = K for i != j). Validates."""
        n = int(n_systems)
        if hardening is None:
            if sigma_inf is None or h is None:
                raise ValueError("crystal.Params: give a hardening law, or sigma_inf and h of (A2)")
            hardening = VoceLatent.create(n, sigma_inf, h, K)
        elif sigma_inf is not None or h is not None:
            raise ValueError("crystal.Params: give either a hardening law or sigma_inf, h, K of (A2), not both")
        vec = lambda v: np.broadcast_to(np.asarray(v, float), (n,)).copy()  # noqa: E731
        p = cls(float(mu), float(kappa), vec(tau0), vec(gamma_dot0), vec(m), hardening,
                np.broadcast_to(np.asarray(unidirectional, bool), (n,)).copy(), vec(twin_shear))
        p.check()
        return p

    @property
    def n_systems(self) -> int:
        return int(self.tau0.shape[0])

    def check(self) -> None:
        """Raise ValueError naming the first inadmissible parameter."""
        n = self.n_systems
        if not (self.mu > 0 and self.kappa > 0):
            raise ValueError(f"crystal.Params: mu and kappa must be positive (MPa), got {self.mu}, {self.kappa}")
        for name in ("tau0", "gamma_dot0", "m"):
            v = getattr(self, name)
            if v.shape != (n,) or not np.all(np.isfinite(v)) or not np.all(v > 0):
                raise ValueError(f"crystal.Params: {name} must be {n} positive finite values, got {v}")
        if self.hardening.n_systems != n:
            raise ValueError(f"crystal.Params: the hardening law has {self.hardening.n_systems} systems, not {n}")
        if self.unidirectional is None or self.unidirectional.shape != (n,):
            raise ValueError(f"crystal.Params: unidirectional must be {n} booleans")
        ts = self.twin_shear
        if ts is None or ts.shape != (n,) or not np.all(np.isfinite(ts)) or np.any(ts < 0):
            raise ValueError(f"crystal.Params: twin_shear must be {n} finite values >= 0, got {ts}")
        if np.any((ts > 0) & ~self.unidirectional):
            raise ValueError("crystal.Params: twin systems (twin_shear > 0) must be unidirectional")


class _NP:
    """Params as the update uses them (internal)."""

    def __init__(self, p: Params):
        self.mu, self.kappa = float(p.mu), float(p.kappa)
        self.tau0, self.gd0, self.m = p.tau0, p.gamma_dot0, p.m
        self.inv_m = 1.0 / p.m
        self.g = p.hardening.resistance
        self.uni = np.asarray(p.unidirectional, bool)
        self.twin = p.twin_shear > 0
        self.has_twins = bool(self.twin.any())
        self.inv_twin_shear = np.where(self.twin, 1.0 / np.where(self.twin, p.twin_shear, 1.0), 0.0)
        self.tau0_min = float(p.tau0.min())
        self.int_exp = _kernel.integer_exponents(self.inv_m)

    def twin_fraction(self, e):
        """f = sum_twins e_i / twin_shear_i, (...,)."""
        return e @ self.inv_twin_shear

    def constants(self, e_n, dt):
        """(g(e_n), c = dt gamma_dot0 (1 - f(e_n) on twins), w = dt gamma_dot0 / twin_shear (0 on slip)) of one
        step, (..., N) each."""
        c = dt * self.gd0
        w = c * self.inv_twin_shear
        if self.has_twins:
            c = c * np.where(self.twin, np.maximum(1.0 - self.twin_fraction(e_n), 0.0)[..., None], 1.0)
        return self.g(e_n), c, w


def initial_state(batch_shape, d: int, n_systems: int) -> dict:
    """The reference state: F = Fp = I, e = 0, slip_rate = 0, with leading ``batch_shape``."""
    batch_shape = tuple(np.atleast_1d(batch_shape).astype(int)) if np.ndim(batch_shape) else (int(batch_shape),)
    eye = np.broadcast_to(np.eye(d), (*batch_shape, d, d)).copy()
    return {"F": eye, "Fp": eye.copy(), "e": np.zeros((*batch_shape, n_systems)),
            "slip_rate": np.zeros((*batch_shape, n_systems))}


# ----------------------------------------------------------------------------------------------- constitutive functions

def resolved_shear(Fe, schmid, mu: float, kappa: float) -> np.ndarray:
    """tau_i = M : s_i (MPa), (..., N), for Fe (..., d, d), schmid (..., N, d, d); M = elasticity.mandel_stress."""
    M = elasticity.mandel_stress(Fe, mu, kappa)
    return np.einsum("...ij,...nij->...n", M, np.asarray(schmid, float))


def hardening(e, params: Params) -> np.ndarray:
    """g_i(e) (MPa), (..., N): the resistance of ``params.hardening`` (the paper's A2, or PowerLawTotalSlip)."""
    return params.hardening.resistance(np.asarray(e, float))


def plastic_energy(e, params: Params) -> np.ndarray:
    """W^p(e) (MPa) of (A2); only the paper's VoceLatent law derives from a plastic energy."""
    if not isinstance(params.hardening, VoceLatent):
        raise ValueError(f"crystal.plastic_energy: {type(params.hardening).__name__} has no plastic energy (A2)")
    return params.hardening.energy(np.asarray(e, float))


def twin_fraction(e, params: Params) -> np.ndarray:
    """Twin volume fraction f = sum_twins e_i / twin_shear_i (...,) of accumulated slips e (..., N); 0 without
    twins."""
    return _NP(params).twin_fraction(np.asarray(e, float))


def step_constants(e_n, dt, params: Params):
    """The frozen data of a step from e_n (..., N) over dt (s, scalar or (..., 1)): g (..., N) MPa the resistance
    at the step start, c (..., N) = dt gamma_dot0 (1 - f(e_n) on twin systems) and w (..., N) = dt gamma_dot0 /
    twin_shear (0 on slip systems). The slip increment is dgamma_i = c_i sign(tau_i) q_i with
    q_i = <(|tau_i| - g_i)/tau0_i>^(1/m_i) (unidirectional: <(tau_i - g_i)/tau0_i>^(1/m_i)); on twin systems it is
    divided by D = 1 + sum_j w_j q_j (backward Euler of df/dt = (1 - f) sum_twins slip_rate_j / twin_shear_j)."""
    return _NP(params).constants(np.asarray(e_n, float), np.asarray(dt, float))


def dissipation_potential(slip_rate, params: Params) -> np.ndarray:
    """Psi* (MPa/s) of (A3): sum_i tau0_i gamma_dot0_i/(m_i+1) (|slip_rate_i|/gamma_dot0_i)^(m_i+1)."""
    r = np.abs(np.asarray(slip_rate, float)) / params.gamma_dot0
    return (params.tau0 * params.gamma_dot0 / (params.m + 1.0) * r ** (params.m + 1.0)).sum(-1)


def slip_rate_law(tau, e, params: Params) -> np.ndarray:
    """The kinetics solving (A4) (1/s): gamma_dot0_i sign(tau_i) <(|tau_i| - g_i(e))/tau0_i>^(1/m_i);
    unidirectional systems: gamma_dot0_i <(tau_i - g_i(e))/tau0_i>^(1/m_i), times 1 - f(e) on twin systems.
    tau, e (..., N)."""
    tau, e = np.asarray(tau, float), np.asarray(e, float)
    g, rate0, _ = step_constants(e, 1.0, params)
    uni = np.asarray(params.unidirectional, bool)
    overstress = np.maximum(np.where(uni, tau, np.abs(tau)) - g, 0.0)
    sign = np.where(uni, 1.0, np.sign(tau))
    return rate0 * sign * (overstress / params.tau0) ** (1.0 / params.m)


# ----------------------------------------------------------------------------------------------- the implicit update
# numpy float64 on flat batches of P points around the Newton solve, which is compiled per point
# (mechanics.crystal_kernel). Tiny matrices use closed forms (mechanics.tensor): batched LAPACK calls on (P, d, d)
# pay a per-matrix dispatch and are pathologically slow under threaded BLAS.

#: cap on one step's slip increment per system while iterating (beyond it the power law is clipped; a converged
#: step that reaches it is rejected and sub-stepped)
DGAMMA_MAX = 1.0
#: overstress ratio of the radial-return initial guess
X_PRED = 0.8
#: halvings of the line search
N_LINE_SEARCH = 12


#: running totals of the Newton solves of this process: [residual evaluations, iterations], points (diagnostics for
#: benchmarks/bench_taylor.py)
SOLVER_WORK = [np.zeros(2, np.int64), 0]


def _advance(F1, Fp_n, e_n, warm, dt, S, s, mp: _NP, tol, max_iter):
    """One compiled step (crystal_kernel.advance) of P points: F1, Fp_n (P, d, d), e_n, warm (P, N) the previous
    increments, dt (P, 1), Schmid grid S (G, N, n), s (G, N, d*d) (point p uses grain p % G). Returns P, Fp, e,
    slip_rate, converged."""
    Pn, d, N = F1.shape[0], F1.shape[-1], e_n.shape[-1]
    g_n, c, w = mp.constants(e_n, dt)  # hardening and untwinned fraction from the start of the step
    out = (np.empty((Pn, d, d)), np.empty((Pn, d, d)), np.empty((Pn, N)), np.empty((Pn, N)), np.empty(Pn, bool))
    work = np.empty((Pn, 2), np.int64)
    full = lambda a: np.ascontiguousarray(np.broadcast_to(a, (Pn, N)))  # noqa: E731
    mi, mj = mandel_indices(d)
    _kernel.advance(np.ascontiguousarray(F1), np.ascontiguousarray(Fp_n), np.ascontiguousarray(e_n), full(g_n),
                    full(c), full(w), S, s, full(warm), np.ascontiguousarray(dt[:, 0]), mp.mu, mp.kappa, mp.tau0,
                    mp.inv_m, mp.int_exp, mp.uni, mp.tau0_min, mp.inv_twin_shear, DGAMMA_MAX, mi, mj, float(tol),
                    int(max_iter), X_PRED, N_LINE_SEARCH, *out, work)
    SOLVER_WORK[0] += work.sum(0)
    SOLVER_WORK[1] += Pn
    return out


def _schmid_grid(s):
    """(Mandel S (G, N, n), full s (G, N, d*d)) of a Schmid grid s (G, N, d, d), C-contiguous."""
    G, N, d = s.shape[:3]
    return np.ascontiguousarray(to_mandel(s)), np.ascontiguousarray(s.reshape(G, N, d * d))


def _substeps(F0, F1, n_sub: int):
    """F_k, k = 1 .. n_sub, from F0 to F1 (P, d, d) with C = F^T F linear in k and F_k = F1 U1^-1 U_k (U = C^(1/2)):
    a superposed rotation of F0 and F1 rotates every F_k alike (objective sub-steps), and F_{n_sub} = F1."""
    def sqrt_spd(C):
        lam, V = np.linalg.eigh(C)
        return (V * np.sqrt(lam)[..., None, :]) @ transpose(V), (V / np.sqrt(lam)[..., None, :]) @ transpose(V)
    C0, C1 = transpose(F0) @ F0, transpose(F1) @ F1
    _, U1_inv = sqrt_spd(C1)
    R1 = F1 @ U1_inv
    return [F1 if k == n_sub else R1 @ sqrt_spd(C0 + (k / n_sub) * (C1 - C0))[0] for k in range(1, n_sub + 1)]


def _step(F0, F1, Fp_n, e_n, rate_n, s, dt, mp: _NP, tol, max_iter, max_cutback):
    """One step F0 -> F1 of all points (Schmid grid s (G, N, d, d), point p on grain p % G); points that fail are
    retried with 2, 4, ... 2^max_cutback sub-steps (``_substeps``). Returns P, Fp, e, slip_rate, converged; failed
    points keep the old Fp, e (elastic P)."""
    S_grid, s_grid = _schmid_grid(s)
    P, Fp, e, rate, conv = _advance(F1, Fp_n, e_n, rate_n * dt, dt, S_grid, s_grid, mp, tol, max_iter)
    bad = np.flatnonzero(~conv)
    for level in range(1, max_cutback + 1):
        if bad.size == 0:
            break
        n_sub = 2**level
        Fa, Fb, Fpk, ek, rk = F0[bad], F1[bad], Fp_n[bad], e_n[bad], rate_n[bad]
        Sk, sk = _schmid_grid(s[bad % s.shape[0]])
        dtk = dt[bad] / n_sub
        ok = np.ones(bad.size, bool)
        for Fk in _substeps(Fa, Fb, n_sub):
            Pk, Fpk, ek, rk, ck = _advance(Fk, Fpk, ek, rk * dtk, dtk, Sk, sk, mp, tol, max_iter)
            ok &= ck
        good = bad[ok]
        P[good], Fp[good], e[good], rate[good] = Pk[ok], Fpk[ok], ek[ok], rk[ok]
        conv[good] = True
        bad = bad[~ok]
    if bad.size:  # never NaN: the failed points keep their old plastic state
        Fp[bad], e[bad], rate[bad] = Fp_n[bad], e_n[bad], 0.0
        P[bad] = _piola(F1[bad], Fp_n[bad], mp)
    return P, Fp, e, rate, conv


def _piola(F, Fp, mp: _NP):
    """P = dW^e/dFe Fp^-T (MPa) at Fe = F Fp^-1."""
    Fp_inv = inv(Fp)
    return elasticity.stress(F @ Fp_inv, mp.mu, mp.kappa) @ transpose(Fp_inv)


def _check_F(F, where: str):
    if not np.all(np.isfinite(F)):
        raise ValueError(f"{where}: F has non-finite entries")
    det_F = np.linalg.det(F)
    if np.any(det_F <= 0):
        i = np.unravel_index(int(np.argmin(det_F)), det_F.shape)
        raise ValueError(f"{where}: det F must be > 0, got {det_F[i]:.6g} at batch index {tuple(map(int, i))}")


def _check_shapes(F_new, schmid, params: Params, where: str):
    """(F_new, schmid) as float arrays, d and N; ValueError naming ``where`` unless F is (..., d, d), d = 2 or 3,
    and schmid (..., N, d, d) for the N systems of ``params``."""
    F_new = np.asarray(F_new, float)
    schmid = np.asarray(schmid, float)
    if F_new.ndim < 2 or F_new.shape[-1] != F_new.shape[-2] or F_new.shape[-1] not in (2, 3):
        raise ValueError(f"{where}: F must be (..., d, d) with d = 2 or 3, got shape {F_new.shape}")
    d, N = F_new.shape[-1], params.n_systems
    if schmid.ndim < 3 or schmid.shape[-3:] != (N, d, d):
        raise ValueError(f"{where}: schmid must be (..., {N}, {d}, {d}) for {N} systems, got {schmid.shape}")
    return F_new, schmid, d, N


def _prepare(F_new, state, schmid, params: Params, where: str):
    F_new, schmid, d, N = _check_shapes(F_new, schmid, params, where)
    missing = [k for k in STATE_KEYS if k not in state]
    if missing:
        raise ValueError(f"{where}: state lacks {missing} (use crystal.initial_state)")
    try:
        batch = np.broadcast_shapes(F_new.shape[:-2], schmid.shape[:-3], state["Fp"].shape[:-2],
                                    state["F"].shape[:-2], state["e"].shape[:-1], state["slip_rate"].shape[:-1])
    except ValueError:
        raise ValueError(f"{where}: batch shapes do not broadcast: F {F_new.shape}, schmid {schmid.shape}, "
                         f"state Fp {state['Fp'].shape}, e {state['e'].shape}") from None
    if state["e"].shape[-1] != N or state["Fp"].shape[-2:] != (d, d):
        raise ValueError(f"{where}: state does not match d = {d}, N = {N}")
    _check_F(F_new, where)
    flat = lambda a, tail: np.array(np.broadcast_to(a, (*batch, *tail)).reshape(-1, *tail), float)  # noqa: E731
    t = dict(F1=flat(F_new, (d, d)), F0=flat(state["F"], (d, d)), Fp=flat(state["Fp"], (d, d)),
             e=flat(state["e"], (N,)), rate=flat(state["slip_rate"], (N,)))
    # Schmid tensors as a grid (G, N, d, d) with point p on row p % G: one row when they are shared, the grains
    # when they vary along trailing batch axes only (a Taylor batch (samples, grains)), else one row per point
    s_batch = schmid.shape[:-3]
    while s_batch and s_batch[0] == 1:
        s_batch = s_batch[1:]
    if not s_batch or tuple(batch[len(batch) - len(s_batch):]) == tuple(s_batch):
        t["s"] = np.array(schmid.reshape(-1, N, d, d), float)
    else:
        t["s"] = flat(schmid, (N, d, d))
    return t, batch, d, N


def update(F_new, state: dict, dt, schmid, params: Params, *, tol: float = 1e-10, max_iter: int = 30,
           max_cutback: int = 5):
    """Backward Euler step of the material point(s) from ``state`` to F_new over dt (s).

    F_new (..., d, d) with det F > 0; schmid (..., N, d, d) in the sample frame (``slip.schmid_tensors``); state
    from ``initial_state`` or a previous update; leading axes broadcast. dt: scalar or (...,) per point (s, > 0).
    Stress-based scheme (module docstring): Newton on the elastic right Cauchy-Green tensor Ce, the slip
    increments explicit in the resolved shears; converged when the stress residual is below tol * min(tau0)
    (crystal_kernel), with sub-stepping (2, 4, ... 2^max_cutback) where Newton fails.
    Returns (P, new_state, converged): first Piola stress P (..., d, d) in MPa, the new state, and converged (...)
    bool. A point that fails even after cut-back keeps its old Fp and e (elastic P) and is flagged False; no NaN.
    Raises ValueError on wrong shapes, non-finite F or det F <= 0.
    """
    t, batch, d, N = _prepare(F_new, state, schmid, params, "crystal.update")
    dt = np.broadcast_to(np.asarray(dt, float), batch)
    if not np.all(dt > 0) or not np.all(np.isfinite(dt)):
        raise ValueError(f"crystal.update: dt must be positive and finite, got {dt.min()}")
    dtt = np.ascontiguousarray(dt, dtype=float).reshape(-1, 1)
    P, Fp, e, rate, conv = _step(t["F0"], t["F1"], t["Fp"], t["e"], t["rate"], t["s"], dtt, _NP(params), tol,
                                 max_iter, max_cutback)
    new_state = {"F": t["F1"].reshape(*batch, d, d), "Fp": Fp.reshape(*batch, d, d),
                 "e": e.reshape(*batch, N), "slip_rate": rate.reshape(*batch, N)}
    return P.reshape(*batch, d, d), new_state, conv.reshape(batch)


# ----------------------------------------------------------------------------------------------- consistent tangent
# torch only here: torch.func differentiates the step (including the exponential map) exactly.

class _TP:
    """Params as torch tensors (internal)."""

    def __init__(self, p: Params):
        import torch

        t = lambda a: torch.as_tensor(np.asarray(a, float), dtype=torch.float64)  # noqa: E731
        self.mu, self.kappa = float(p.mu), float(p.kappa)
        self.tau0, self.m = t(p.tau0), t(p.m)
        self.inv_m = 1.0 / self.m
        self.uni = torch.as_tensor(np.asarray(p.unidirectional, bool))


def _increment_of_x(x, c, w, tp: _TP):
    """dgamma = c sign(x) q, q = |x|^(1/m) (unidirectional: x clipped at 0) of the overstress ratios x; twins
    (w > 0) divided by D = 1 + sum w q (``step_constants``)."""
    import torch

    x = torch.where(tp.uni, x.clamp(min=0.0), x)
    ax = x.abs()
    q = ax ** (tp.inv_m - 1.0) * ax
    D = 1.0 + (w * q).sum()
    return c * torch.sign(x) * q / torch.where(w > 0, D, torch.ones_like(q))


def _point_residual_and_P(F, x, Fp_n, g_n, s, c, w, tp: _TP):
    """One point (no batch axis): (R (N,), P (d, d)) of the step, differentiable in F and x:
    R_i = tau0_i x_i - sign(tau_i) <|tau_i| - g_i(e_n)> (unidirectional: <tau_i - g_i>), tau at Fe = T exp(-A)."""
    import torch

    d = F.shape[-1]
    T = F @ inv(Fp_n)
    Jm = det(T) ** (-2.0 / d)
    dgam = _increment_of_x(x, c, w, tp)
    E = torch.linalg.matrix_exp(-torch.einsum("n,nij->ij", dgam, s))  # vmap-able
    Fe = T @ E
    C = transpose(Fe) @ Fe
    tau = tp.mu * Jm * torch.einsum("ij,nij->n", C, s)
    mag = torch.where(tp.uni, tau, tau.abs()) - g_n
    sgn = torch.where(tp.uni, torch.ones_like(tau), torch.sign(tau))
    phi = torch.where(mag > 0, sgn * mag, torch.zeros_like(tau))
    P = elasticity.stress(Fe, tp.mu, tp.kappa) @ transpose(inv(Fp_n) @ E)
    return tp.tau0 * x - phi, P


def tangent(F_new, state_old: dict, state_new: dict, dt, schmid, params: Params) -> np.ndarray:
    """Consistent tangent dP_ij/dF_kl (..., d, d, d, d) (MPa) of the converged ``update`` state_old -> state_new.

    Implicit differentiation of R(x, F) = 0 in the overstress ratios x = sign(rate) (|rate| dt D/c)^m (c, w of
    ``step_constants``; D = 1/(1 - sum_twins w_j |rate_j| dt/c_j) inverts the twins' backward Euler):
    dP/dF = dP/dF|_x - dP/dx (dR/dx)^-1 dR/dF, all partials by torch.func (exact, including the derivative of the
    exponential map). Exact for points that converged without sub-stepping; for sub-stepped points it is the
    tangent of the last full step (an approximation).
    """
    import torch
    from torch.func import jacrev, vmap

    t, batch, d, N = _prepare(F_new, state_old, schmid, params, "crystal.tangent")
    dt = np.ascontiguousarray(np.broadcast_to(np.asarray(dt, float), batch)).reshape(-1, 1)
    g_n, c, w = _NP(params).constants(t["e"], dt)
    w = np.broadcast_to(w, c.shape)
    dgam = np.array(np.broadcast_to(state_new["slip_rate"], (*batch, N)).reshape(-1, N)) * dt
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(c > 0, np.abs(dgam) / np.where(c > 0, c, 1.0), 0.0)
        D = np.where(w > 0, 1.0 / (1.0 - (w * ratio).sum(-1, keepdims=True)), 1.0)
    x = np.sign(dgam) * (ratio * D) ** params.m
    t = {k: torch.as_tensor(v, dtype=torch.float64) for k, v in t.items()}
    tp = _TP(params)
    x, c, w, g_n = (torch.as_tensor(np.array(a), dtype=torch.float64) for a in (x, c, w, g_n))
    s = t["s"][torch.arange(x.shape[0]) % t["s"].shape[0]]
    fn = lambda F, xx, Fp, g, ss, cc, ww: _point_residual_and_P(F, xx, Fp, g, ss, cc, ww, tp)  # noqa: E731
    (R_F, R_x), (P_F, P_x) = vmap(jacrev(fn, argnums=(0, 1)))(t["F1"], x, t["Fp"], g_n, s, c, w)
    R_F = R_F.reshape(-1, N, d * d)
    P_F = P_F.reshape(-1, d * d, d * d)
    P_x = P_x.reshape(-1, d * d, N)
    dx_dF = -torch.linalg.solve(R_x, R_F)
    return (P_F + P_x @ dx_dF).reshape(*batch, d, d, d, d).numpy()


def drive(F_path, time, schmid, params: Params, *, state: dict | None = None, **options) -> dict:
    """Drive homogeneous material point(s) (a one-pixel unit cell each) along F_path (..., n_time, d, d) on
    ``time`` (n_time,) s, F_path[..., 0, :, :] being the state's F (I for the default reference state).

    Returns dict: P and stress (Cauchy, sigma = P F^T/det F) (..., n_time, d, d) in MPa, e (..., n_time, N) the
    accumulated slips, state (final), converged (...) bool over all steps, failed_step (...) the first
    step index that did not converge (-1 when none). ``options`` go to ``update``.
    """
    F_path = np.asarray(F_path, float)
    time = np.asarray(time, float)
    if F_path.ndim < 3 or F_path.shape[-3] != time.size or time.ndim != 1:
        raise ValueError(f"crystal.drive: F_path must be (..., {time.size}, d, d) for time of length {time.size}, "
                         f"got {F_path.shape}")
    d, N = F_path.shape[-1], params.n_systems
    batch = np.broadcast_shapes(F_path.shape[:-3], np.asarray(schmid).shape[:-3])
    state = initial_state(batch, d, N) if state is None else state
    P = np.zeros((*batch, time.size, d, d))
    e = np.zeros((*batch, time.size, N))
    Fp_inv = np.linalg.inv(state["Fp"])
    P[..., 0, :, :] = elasticity.stress(np.broadcast_to(F_path[..., 0, :, :], (*batch, d, d)) @ Fp_inv, params.mu,
                                        params.kappa) @ transpose(Fp_inv)
    e[..., 0, :] = state["e"]
    failed_step = np.full(batch, -1)
    for k in range(1, time.size):
        P[..., k, :, :], state, conv = update(F_path[..., k, :, :], state, time[k] - time[k - 1], schmid, params,
                                              **options)
        e[..., k, :] = state["e"]
        failed_step = np.where((failed_step < 0) & ~conv, k, failed_step)
    F_full = np.broadcast_to(F_path, (*batch, time.size, d, d))
    return {"P": P, "stress": cauchy(P, F_full), "e": e, "state": state, "converged": failed_step < 0,
            "failed_step": failed_step}
