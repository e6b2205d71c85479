"""1D elasto-viscoplastic composite of paper Section 3 (eqs. 8-15): N phases of equal length in series.

Phase a has Young's modulus E_a, yield stress sigma0_a, rate exponent n_a (>= 1) and the common rate constant
edot0. Equilibrium makes the stress sigma uniform; with Ebar = <1/E>^-1 (harmonic mean over phases, Reuss)

    sigma = Ebar (eps_bar - <eps_p>)                                       (eq. 11)
    d eps_p_a / dt = edot0 sign(sigma) (|sigma| / sigma0_a)^n_a            (eq. 8_4)
    eps_p_a(0) = 0                                                         (eq. 9)

where eps_bar(t) is the prescribed average strain (eq. 10) and <.> the phase average. A batch of S paths is one
stiff ODE system of S*N plastic strains, integrated by scipy's Radau with a sparse analytic Jacobian.
Units: stress and moduli in MPa, time in s, edot0 in 1/s, strains dimensionless.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import xarray as xr
from scipy.integrate import solve_ivp
from scipy.interpolate import PchipInterpolator

from dataset.case import Case
from dataset.contract import build_dataset
from dataset.producer import Producer

NAME = "composite1d"
INPUT = "strain"
DIM = 1

#: Case keys drawn per phase from U[lo, hi], in this order (the defaults, paper Section 3, are in the config schema:
#: pipeline/schemas/config.schema.yaml, $defs/composite1d_defaults).
RANGES = ("E", "sigma0", "n")

METHOD = "Radau"
#: Cap on RHS evaluations per solve, per output time (measured: 7-8 for one sample, up to 45 for a stiff batch of
#: 50): a path the integrator cannot resolve ends as a listed failure instead of a job that never returns.
MAX_NFEV_PER_POINT = 300
#: Floor of the strain scale in the absolute tolerance (a path that stays at eps_bar = 0 has eps_p = 0).
STRAIN_FLOOR = 1e-12


def material(case: Case) -> dict:
    """Phase parameters drawn once per case from case.rng("material"), i.i.d. uniform on the configured ranges.

    Returns E, sigma0 (MPa) and n, each an array of length n_phases, and edot0 (1/s).
    """
    cfg = case.config
    n_phases = int(cfg["n_phases"])
    if n_phases < 1:
        raise ValueError(f"{case}: n_phases must be at least 1, got {n_phases}")
    rng = case.rng("material")
    out = {}
    for key in RANGES:  # fixed draw order: E, sigma0, n
        lo, hi = (float(v) for v in cfg[key])
        if not 0 < lo <= hi:
            raise ValueError(f"{case}: range {key} = [{lo}, {hi}] must satisfy 0 < lo <= hi")
        out[key] = rng.uniform(lo, hi, size=n_phases)
    if out["n"].min() < 1.0:
        raise ValueError(f"{case}: rate exponent n must be >= 1 (|sigma|^(n-1) at sigma = 0), got {out['n'].min()}")
    out["edot0"] = float(cfg["edot0"])
    if not out["edot0"] > 0:
        raise ValueError(f"{case}: edot0 must be positive, got {out['edot0']}")
    return out


def effective_modulus(E: np.ndarray) -> float:
    """Ebar = <1/E>^-1, the harmonic mean of the phase moduli (eq. 11)."""
    return 1.0 / np.mean(1.0 / np.asarray(E, float))


def g_tilde(eta: np.ndarray, mat: dict) -> np.ndarray:
    """d<eps_p>/dt as a function of eta = eps_bar - <eps_p> alone (eqs. 12, 15):
    mean_a edot0 sign(Ebar eta) (|Ebar eta| / sigma0_a)^n_a."""
    sigma = effective_modulus(mat["E"]) * np.asarray(eta, float)[..., None]
    rate = mat["edot0"] * np.sign(sigma) * (np.abs(sigma) / mat["sigma0"]) ** mat["n"]
    return rate.mean(-1)


class _BudgetExceeded(RuntimeError):
    """The RHS was evaluated more than MAX_NFEV_PER_POINT * n_time times."""


class _System:
    """RHS and sparse Jacobian of the batched ODE for y = eps_p (S, N) flattened sample-major."""

    def __init__(self, eps_bar: np.ndarray, time: np.ndarray, mat: dict, max_nfev: float = np.inf):
        self.nfev, self.max_nfev = 0, max_nfev
        self.S, self.N = eps_bar.shape[0], len(mat["E"])
        self.Ebar = effective_modulus(mat["E"])
        self.edot0 = mat["edot0"]
        self.sigma0 = np.asarray(mat["sigma0"], float)
        self.n = np.asarray(mat["n"], float)
        self.nm1 = self.n - 1.0  # exactly 0 where n == 1: (|sigma|/sigma0)^0 = 1, also at sigma = 0
        self.dsig = self.edot0 * self.n / self.sigma0  # d rate / d sigma = dsig (|sigma|/sigma0)^(n-1)
        self.eps_bar = PchipInterpolator(time, eps_bar, axis=1)  # eps_bar(t) -> (S,)
        S, N = self.S, self.N
        # CSC pattern of the block-diagonal Jacobian: column s*N+b holds rows s*N+0..N-1.
        self.indices = (np.arange(S)[:, None, None] * N + np.arange(N)[None, None, :]
                        + np.zeros((1, N, 1), int)).ravel()
        self.indptr = np.arange(S * N + 1) * N
        self.shape = (S * N, S * N)

    def sigma(self, t: float, y: np.ndarray) -> np.ndarray:
        """sigma = Ebar (eps_bar(t) - <eps_p>) per sample (eq. 11)."""
        return self.Ebar * (self.eps_bar(t) - y.reshape(self.S, self.N).mean(1))

    def rhs(self, t: float, y: np.ndarray) -> np.ndarray:
        """d eps_p_a/dt = edot0 sign(sigma) (|sigma|/sigma0_a)^n_a (eq. 8_4)."""
        self.nfev += 1
        if self.nfev > self.max_nfev:
            raise _BudgetExceeded(f"more than {self.max_nfev} RHS evaluations (stopped at t = {t:.6g} s)")
        sigma = self.sigma(t, y)[:, None]
        return (self.edot0 * np.sign(sigma) * (np.abs(sigma) / self.sigma0) ** self.n).ravel()

    def jac(self, t: float, y: np.ndarray) -> sp.csc_matrix:
        """d(eps_p_dot_a)/d(eps_p_b) = -(Ebar/N) edot0 n_a |sigma|^(n_a-1) / sigma0_a^n_a, within each sample."""
        sigma = self.sigma(t, y)[:, None]
        col = -(self.Ebar / self.N) * self.dsig * (np.abs(sigma) / self.sigma0) ** self.nm1  # (S, N) over a
        data = np.broadcast_to(col[:, None, :], (self.S, self.N, self.N)).ravel()
        return sp.csc_matrix((data, self.indices, self.indptr), shape=self.shape)


def integrate_ode(eps_bar: np.ndarray, time: np.ndarray, mat: dict, rtol: float):
    """Integrate eqs. (8, 11) for the paths eps_bar (S, n_time) on ``time``; one ODE system for all S*N eps_p.

    Tolerances: rtol, and atol = rtol * max_t |eps_bar| per sample (the strain scale of the path, floored at
    STRAIN_FLOOR), so each sample's eps_p is controlled relative to its own strain magnitude and the stress to
    about rtol * Ebar * max_t |eps_bar| in absolute terms (loose relative to sigma only where sigma << Ebar eps_bar,
    i.e. slow viscous flow far below sigma0). scipy's error norm
    is the RMS over all S*N components; atol and rtol are divided by sqrt(S) so that an accepted step also
    bounds the RMS error of every single sample by the tolerance, as if it were solved alone.
    Steps are capped at the largest grid interval: eps_bar is only known on the grid, and in a nearly elastic
    stretch (tiny plastic rates) longer steps can jump over a knot of the path unnoticed by the error estimate.
    At most MAX_NFEV_PER_POINT * n_time RHS evaluations.
    Returns (message, eps_p (S, n_time, N) or None when the solve failed).
    """
    S = eps_bar.shape[0]
    N = len(mat["E"])
    system = _System(eps_bar, time, mat, max_nfev=MAX_NFEV_PER_POINT * len(time))
    scale = np.maximum(np.abs(eps_bar).max(axis=1), STRAIN_FLOOR)
    shrink = 1.0 / np.sqrt(S)
    atol = np.repeat(rtol * shrink * scale, N)
    try:
        result = solve_ivp(system.rhs, (time[0], time[-1]), np.zeros(S * N), method=METHOD, t_eval=time,
                           rtol=rtol * shrink, atol=atol, jac=system.jac, max_step=float(np.diff(time).max()))
    except _BudgetExceeded as err:
        return f"solve_ivp({METHOD}) gave up: {err}", None
    if result.status < 0:
        return f"solve_ivp({METHOD}) failed at t = {result.t[-1]:.6g} s: {result.message}", None
    if result.y.shape[1] != len(time) or not np.isfinite(result.y).all():
        return f"solve_ivp({METHOD}) returned non-finite eps_p", None
    return result.message, result.y.reshape(S, N, len(time)).transpose(0, 2, 1)


class Composite1D(Producer):
    """Producer ``composite1d``: strain paths (S, n_time, 1, 1) -> stress (eq. 11)."""

    name, input, dim = NAME, INPUT, DIM

    def integrate(self, inputs, time, case, good, failures) -> xr.Dataset:
        """Stress sigma (MPa, eq. 11), params E, sigma0, n (over ``phase``) and edot0, micro eps_p (sample, time,
        phase). The samples ``good`` are solved as one system; if that fails, each alone, and those that still
        fail are listed in the failures and left out."""
        mat = material(case)
        rtol = float(case.config["rtol"])
        eps_bar = inputs[:, :, 0, 0]
        S, N, n_time = eps_bar.shape[0], len(mat["E"]), time.size

        eps_p = np.zeros((S, n_time, N))
        if good.size:
            _, out = integrate_ode(eps_bar[good], time, mat, rtol)
            if out is not None:
                eps_p[good] = out
            else:  # fallback, only on failure: each sample alone
                ok = []
                for s in good:
                    message, out = integrate_ode(eps_bar[s:s + 1], time, mat, rtol)
                    if out is None:
                        failures.append({"sample": int(s), "reason": message})
                    else:
                        eps_p[s] = out[0]
                        ok.append(s)
                good = np.asarray(ok, int)
        failures.sort(key=lambda f: f["sample"])
        Ebar = effective_modulus(mat["E"])
        eps_p = eps_p[good]
        stress = Ebar * (eps_bar[good] - eps_p.mean(-1))  # eq. (11) on the grid

        phase = {"phase": np.arange(N)}
        params = {
            "E": xr.DataArray(mat["E"], dims="phase", coords=phase,
                              attrs={"units": "MPa", "long_name": "Young's modulus"}),
            "sigma0": xr.DataArray(mat["sigma0"], dims="phase", coords=phase,
                                   attrs={"units": "MPa", "long_name": "yield stress"}),
            "n": xr.DataArray(mat["n"], dims="phase", coords=phase,
                              attrs={"units": "1", "long_name": "rate exponent"}),
            "edot0": xr.DataArray(mat["edot0"], attrs={"units": "1/s", "long_name": "reference plastic strain rate"}),
        }
        micro = {"eps_p": xr.DataArray(eps_p, dims=("sample", "time", "phase"),
                                       attrs={"units": "1", "long_name": "plastic strain per phase"})}
        return build_dataset(case, time, inputs[good], stress[:, :, None, None], input_name=INPUT, params=params,
                             micro=micro, failures=failures, sample=good)


PRODUCER = Composite1D()
#: solve(inputs (S, n_time, 1, 1) strain, time (s), case) -> contract Dataset (dataset.producer.Producer.solve)
solve = PRODUCER.solve
