"""Mixed-boundary-condition material-point driver: per component and time step either F_ij or the Cauchy stress
sigma_ij is prescribed, the unknown components are found by Newton's method. Units: MPa, s.

Kinematics and rotations. The driver prescribes and solves the six independent components of a *symmetric*
deformation gradient, F = U = F^T (no rigid rotation: the sample axes stay fixed). Components are ordered (i, j),
i <= j, row-major: (0,0), (0,1), (0,2), (1,1), (1,2), (2,2), the order of learning.data.component_names(3). For
symmetric F the Biot strain is U - I, so prescribing a strain component eps_ij means F_ij = delta_ij + eps_ij; a
logarithmic axial strain eps means F_aa = exp(eps) when the shears F_ab vanish (``uniaxial_stress``). For an
objective material F = R U gives R sigma(U) R^T, so nothing is lost by setting R = I.

Per path b, step n and component c either F_c (``stress_mask`` False) or sigma_c (True) is prescribed; the other one
is the unknown. The six equations per path and step are

    r_c(x) = sigma_c(x) - sigma_c^prescribed   (stress-controlled c)
    r_c(x) = x_c - F_c^prescribed              (F-controlled c; exact from the first iterate on)

for x = the six components of F^n. Newton: J dx = -r with J_cd = dsigma_c/dx_d on stress rows and the identity row
on F rows, so only the columns of the unknown components matter. The Jacobian is the material's own tangent
dsigma/dF if it offers one (``Material.tangent``), else forward finite differences of step ``fd_step`` (in units
of F, default 1e-6) in each unknown component, all paths and perturbations in one batched ``update``. Each
iteration re-evaluates the step from the state at its start (the material's update must be a function of
(F_prev, F, dt, state)). The predictor is the previous step's x extrapolated linearly in time.

Convergence: the largest |r_c| over the stress-controlled components is at most rtol * max(stress_scale, |sigma|)
(MPa; |.| Frobenius norm of the current Cauchy stress): a tolerance on the prescribed stresses relative to the
stress scale. A step that fails is retried for the failed paths only in 2, 4, ... 2^max_cutback sub-steps, the
prescribed values linear in time from the last converged step (the material integrates the sub-steps; ``substeps``
says where). A path whose Newton still does not converge within ``max_iter`` iterations, whose material update fails
(non-finite stress rows) or whose Jacobian is singular raises ``MixedBCError`` naming the path and step
(on_failure="raise"), or is recorded (on_failure="record": failed_step[b] = n, the path is frozen at its last
converged step, values held, never NaN). An iterate with det F <= 0 is damped (halved) before it is evaluated.
Exceptions raised by the material itself (e.g. bad input) propagate unchanged.

All paths advance together (no Python loop over paths or points); the loops are over time steps, Newton
iterations and cut-back sub-steps. Cost per Newton iteration without a tangent: one ``update`` of the live paths
and one of live paths x unknown components (uniaxial stress: 5).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from . import elasticity
from .tensor import cauchy, det, inv, transpose

#: the six independent components (i, j), i <= j, of the symmetric F and of sigma, row-major
COMPONENTS = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))
_I, _J = (np.array(a) for a in zip(*COMPONENTS))
#: number of halvings of a Newton step that would give det F <= 0
N_DAMP = 20


@runtime_checkable
class Material(Protocol):
    """A material point, batched over B points. Stress in MPa, time in s.

    State: a dict of numpy arrays, each with the batch axis first (B, ...), so the driver can select and repeat
    points (``v[idx]``). ``update`` must not modify its input state.
    """

    def initial_state(self, batch: int) -> dict:
        """The reference state (F = I, stress free) of ``batch`` points."""

    def update(self, F_prev: np.ndarray, F: np.ndarray, dt, state: dict) -> tuple[np.ndarray, dict]:
        """One step F_prev -> F (B, 3, 3) over dt (s, scalar or (B,)) from ``state`` (at F_prev): (Cauchy stress
        (B, 3, 3) MPa, new state). A point whose update failed has non-finite stress rows (never silently wrong)."""


@runtime_checkable
class MaterialWithTangent(Material, Protocol):
    """A material that also offers its tangent dsigma/dF of a step."""

    def tangent(self, F_prev: np.ndarray, F: np.ndarray, dt, state: dict, new_state: dict) -> np.ndarray:
        """d sigma_ij / d F_kl (B, 3, 3, 3, 3) (MPa) of the step ``update(F_prev, F, dt, state) -> new_state``."""


class MixedBCError(RuntimeError):
    """A failed solve of path ``path`` at time step ``step``."""

    def __init__(self, path: int, step: int, message: str):
        super().__init__(f"mixed_bc: path {path}, step {step}: {message}")
        self.path, self.step = int(path), int(step)


# ----------------------------------------------------------------------------------------------- components

def to_components(A: np.ndarray) -> np.ndarray:
    """(..., 3, 3) -> (..., 6) the components (i, j), i <= j (``COMPONENTS``) of A (upper triangle)."""
    return np.asarray(A)[..., _I, _J]


def from_components(x: np.ndarray) -> np.ndarray:
    """(..., 6) components -> (..., 3, 3) symmetric tensors."""
    x = np.asarray(x, float)
    out = np.empty((*x.shape[:-1], 3, 3))
    out[..., _I, _J] = x
    out[..., _J, _I] = x
    return out


def symmetric_columns(dsigma_dF: np.ndarray) -> np.ndarray:
    """dsigma_c/dx_d (..., 6, 6) of symmetric F from d sigma_ij/d F_kl (..., 3, 3, 3, 3): a unit change of x_d
    changes F_kl and F_lk together."""
    T = np.asarray(dsigma_dF, float)
    cols = T[..., _I, _J, :, :]  # (..., 6, 3, 3) rows: the components of sigma
    sym = cols[..., _I, _J] + np.where(_I != _J, cols[..., _J, _I], 0.0)
    return sym


def cauchy_tangent(P: np.ndarray, dP_dF: np.ndarray, F: np.ndarray) -> np.ndarray:
    """d sigma_ij/d F_kl (..., 3, 3, 3, 3) of sigma = P F^T / J from P, dP/dF (dP_iJ/dF_kL) and F:
    (dP_iJ/dF_kl F_jJ + P_il delta_jk)/J - sigma_ij F^-T_kl."""
    P, A, F = (np.asarray(a, float) for a in (P, dP_dF, F))
    J = det(F)[..., None, None]
    sigma = P @ transpose(F) / J
    d = F.shape[-1]
    out = np.einsum("...iJkl,...jJ->...ijkl", A, F) + np.einsum("...il,jk->...ijkl", P, np.eye(d))
    return out / J[..., None, None] - np.einsum("...ij,...kl->...ijkl", sigma, transpose(inv(F)))


# ----------------------------------------------------------------------------------------------- a reference material

@dataclass(frozen=True)
class NeoHookean:
    """The compressible neo-Hookean solid of mechanics.elasticity (paper A1) as a ``MaterialWithTangent``; mu, kappa
    in MPa. Stateless (the state is empty). Small-strain Poisson ratio nu = (3 kappa - 2 mu)/(2 (3 kappa + mu))."""

    mu: float
    kappa: float

    def initial_state(self, batch: int) -> dict:
        return {}

    def update(self, F_prev, F, dt, state):
        return cauchy(elasticity.stress(F, self.mu, self.kappa), F), {}

    def tangent(self, F_prev, F, dt, state, new_state):
        return cauchy_tangent(elasticity.stress(F, self.mu, self.kappa), elasticity.tangent(F, self.mu, self.kappa), F)


# ----------------------------------------------------------------------------------------------- paths

def uniaxial_stress(strain: np.ndarray, axis: int = 0):
    """(F_target, sigma_target, stress_mask) (B, n_time, 6) of uniaxial stress along ``axis``: F_aa = exp(eps)
    prescribed (eps (B, n_time): axial logarithmic strain, eps[:, 0] = 0), the five other Cauchy stress components
    zero. (With the shears of F found zero, ln F_aa is the Hencky strain (ln U)_aa.)"""
    strain = np.atleast_2d(np.asarray(strain, float))
    B, n_time = strain.shape
    c = COMPONENTS.index((axis, axis))
    F = np.broadcast_to(to_components(np.eye(3)), (B, n_time, 6)).copy()
    F[..., c] = np.exp(strain)
    mask = np.ones((B, n_time, 6), bool)
    mask[..., c] = False
    return F, np.zeros((B, n_time, 6)), mask


# ----------------------------------------------------------------------------------------------- the driver

def _take(state: dict, idx) -> dict:
    return {k: v[idx] for k, v in state.items()}


def _put(state: dict, idx, part: dict) -> None:
    for k, v in part.items():
        state[k][idx] = v


def _solve(J: np.ndarray, r: np.ndarray):
    """(dx (B, 6) with J dx = -r, singular (B,) bool) per path; singular or non-finite systems give dx = 0."""
    ok = np.all(np.isfinite(J), (-1, -2)) & np.all(np.isfinite(r), -1)
    cond = np.full(ok.shape, np.inf)
    if ok.any():
        cond[ok] = np.linalg.cond(J[ok])
    good = cond < 1e14
    dx = np.zeros_like(r)
    if good.any():
        dx[good] = -np.linalg.solve(J[good], r[good][..., None])[..., 0]
    return dx, ~good


def _newton(material, F_prev, st0: dict, x, m, x_target, s_target, dt, tangent, o: dict) -> dict:
    """One step of n points from F_prev (n, 3, 3) and state st0 to the targets (n, 6) under mask m (n, 6), from the
    guess x (n, 6). Returns x, sig (n, 6), state, ok, err (MPa), iters (n,), why (reasons of the failed points)."""
    n = x.shape[0]
    x = np.where(m, x, x_target)
    x = np.where((det(from_components(x)) > 0)[:, None], x, np.where(m, to_components(F_prev), x))
    done, bad = np.zeros(n, bool), np.zeros(n, bool)
    why: dict[int, str] = {}
    new_state = {key: v.copy() for key, v in st0.items()}
    sig, err, iters = np.zeros((n, 6)), np.zeros(n), np.zeros(n, int)
    for it in range(o["max_iter"] + 1):
        live = np.flatnonzero(~done & ~bad)
        if live.size == 0:
            break
        s_full, ns = material.update(F_prev[live], from_components(x[live]), dt, _take(st0, live))
        finite = np.all(np.isfinite(s_full), (-1, -2))
        for b in live[~finite]:
            why[b] = "the material update failed (non-finite stress)"
        bad[live[~finite]] = True
        live, s_full, ns = live[finite], s_full[finite], _take(ns, finite)
        sig[live] = to_components(s_full)
        _put(new_state, live, ns)
        r = np.where(m[live], sig[live] - s_target[live], 0.0)
        err[live] = np.abs(r).max(-1)
        iters[live] = it
        conv = err[live] <= o["rtol"] * np.maximum(o["stress_scale"], np.sqrt((s_full * s_full).sum((-1, -2))))
        done[live[conv]] = True
        todo = ~conv
        live, r = live[todo], r[todo]
        if live.size == 0:
            break
        if it == o["max_iter"]:
            for b in live:
                why[b] = f"Newton did not converge in {o['max_iter']} iterations (stress residual {err[b]:.3e} MPa)"
            bad[live] = True
            break
        # Jacobian dsigma_c/dx_d of the stress rows
        if tangent is not None:
            Jac = symmetric_columns(tangent(F_prev[live], from_components(x[live]), dt, _take(st0, live),
                                            _take(ns, todo)))
        else:
            cols = np.flatnonzero(m[live].any(0))  # unknown components of some live point
            nc = cols.size
            xp = np.repeat(x[live], nc, 0).reshape(live.size, nc, 6)
            xp[:, np.arange(nc), cols] += o["fd_step"]
            rep = np.repeat(live, nc)
            s_p, _ = material.update(F_prev[rep], from_components(xp.reshape(-1, 6)), dt, _take(st0, rep))
            ds = (to_components(s_p).reshape(live.size, nc, 6) - sig[live][:, None]) / o["fd_step"]
            Jac = np.zeros((live.size, 6, 6))
            Jac[:, :, cols] = np.swapaxes(ds, -1, -2)
        Jac = np.where(m[live][..., None], Jac, np.eye(6))
        dx, singular = _solve(Jac, r)
        for b in live[singular]:
            why[b] = "singular or non-finite Jacobian"
        bad[live[singular]] = True
        step = np.ones(live.size)  # damping: never an iterate with det F <= 0
        for _ in range(N_DAMP):
            neg = det(from_components(x[live] + step[:, None] * dx)) <= 0
            if not neg.any():
                break
            step = np.where(neg, 0.5 * step, step)
        x[live] = np.where(m[live], x[live] + step[:, None] * dx, x[live])  # F rows stay exact
    return {"x": x, "sig": sig, "state": new_state, "ok": done & ~bad, "err": err, "iters": iters, "why": why}


def _substepped(material, x_a, s_a, x_before, dt_before, st0, m, x_target, s_target, dt, n_sub, tangent, o):
    """The step in n_sub equal sub-steps, prescribed values linear from the last converged (x_a, s_a) to the
    targets, for the n points given; the same dict as ``_newton`` (iters summed)."""
    n = x_a.shape[0]
    x_cur, st_cur = x_a.copy(), {k: v.copy() for k, v in st0.items()}
    inc = (x_a - x_before) * (dt / n_sub) / dt_before if dt_before > 0 else np.zeros_like(x_a)
    ok, why = np.ones(n, bool), {}
    out = {"sig": np.zeros((n, 6)), "err": np.zeros(n), "iters": np.zeros(n, int)}
    for j in range(1, n_sub + 1):
        live = np.flatnonzero(ok)
        frac = j / n_sub
        res = _newton(material, from_components(x_cur[live]), _take(st_cur, live), x_cur[live] + inc[live], m[live],
                      x_a[live] + frac * (x_target[live] - x_a[live]),
                      s_a[live] + frac * (s_target[live] - s_a[live]), dt / n_sub, tangent, o)
        for b, reason in res["why"].items():
            why[live[b]] = f"{reason}, sub-step {j} of {n_sub}"
        good = live[res["ok"]]
        inc[good] = res["x"][res["ok"]] - x_cur[good]
        x_cur[good] = res["x"][res["ok"]]
        _put(st_cur, good, _take(res["state"], res["ok"]))
        out["sig"][live], out["err"][live] = res["sig"], res["err"]
        out["iters"][live] += res["iters"]
        ok[live[~res["ok"]]] = False
    return {"x": x_cur, "state": st_cur, "ok": ok, "why": why, **out}


def drive(material: Material, time, F_target, sigma_target, stress_mask, *, rtol: float = 1e-8,
          stress_scale: float = 1.0, fd_step: float = 1e-6, max_iter: int = 25, max_cutback: int = 4,
          use_tangent: bool = True, on_failure: str = "raise") -> dict:
    """Drive B material points along mixed paths (module docstring).

    time (n_time,) s, increasing, time[0] the reference state (F = I, sigma = 0; index 0 of the targets is
    ignored); F_target (B, n_time, 6) the prescribed components of the symmetric F (used where stress_mask is
    False); sigma_target (B, n_time, 6) MPa the prescribed Cauchy stress components (used where stress_mask is
    True); stress_mask (B, n_time, 6) bool (broadcasts). rtol, stress_scale (MPa): convergence when
    max |sigma_c - sigma_c^prescribed| <= rtol * max(stress_scale, |sigma|) over the stress-controlled c.
    use_tangent: use the material's ``tangent`` when it has one (else forward differences of step fd_step).
    max_cutback: a step that fails is retried, for the failed paths only, in 2, 4, ... 2^max_cutback sub-steps
    (prescribed values linear in time from the last converged step); the material then integrates those sub-steps.

    Returns dict: F, stress (B, n_time, 3, 3) (symmetric F; Cauchy stress MPa), residual (B, n_time) the largest
    |stress residual| reached (MPa), iterations (B, n_time) Newton iterations (summed over sub-steps), substeps
    (B, n_time) (1 unless cut back), failed_step (B,) (-1: converged at every step), converged (B,), errors (list
    of messages), state (final material state).
    """
    time = np.asarray(time, float)
    if time.ndim != 1 or time.size < 2 or np.any(np.diff(time) <= 0):
        raise ValueError(f"mixed_bc.drive: time must be an increasing 1-d grid of >= 2 points, got {time.shape}")
    if on_failure not in ("raise", "record"):
        raise ValueError(f"mixed_bc.drive: on_failure must be 'raise' or 'record', got {on_failure!r}")
    n_time = time.size
    try:
        shape = np.broadcast_shapes(np.shape(F_target), np.shape(sigma_target), np.shape(stress_mask))
    except ValueError:
        shape = ()
    if len(shape) != 3 or shape[1:] != (n_time, 6):
        raise ValueError(f"mixed_bc.drive: targets must broadcast to (B, {n_time}, 6), got {shape}")
    B = shape[0]
    F_t = np.broadcast_to(np.asarray(F_target, float), shape)
    S_t = np.broadcast_to(np.asarray(sigma_target, float), shape)
    mask = np.broadcast_to(np.asarray(stress_mask, bool), shape)
    if not (np.all(np.isfinite(F_t[:, 1:][~mask[:, 1:]])) and np.all(np.isfinite(S_t[:, 1:][mask[:, 1:]]))):
        raise ValueError("mixed_bc.drive: the prescribed values must be finite")
    tangent = getattr(material, "tangent", None) if use_tangent else None
    o = {"rtol": float(rtol), "stress_scale": float(stress_scale), "fd_step": float(fd_step),
         "max_iter": int(max_iter)}

    out_x = np.zeros((B, n_time, 6))
    out_x[:, 0] = to_components(np.eye(3))
    out_s = np.zeros((B, n_time, 6))
    residual = np.zeros((B, n_time))
    iterations = np.zeros((B, n_time), int)
    substeps = np.ones((B, n_time), int)
    failed_step = np.full(B, -1)
    errors: list[str] = []
    state = {k: np.array(v) for k, v in material.initial_state(B).items()}

    for k in range(1, n_time):
        act = np.flatnonzero(failed_step < 0)
        if act.size == 0:
            break
        dt = time[k] - time[k - 1]
        dt_before = time[k - 1] - time[k - 2] if k > 1 else 0.0
        m = mask[act, k]
        x_a, x_before = out_x[act, k - 1], out_x[act, k - 2] if k > 1 else out_x[act, 0]
        guess = x_a + ((x_a - x_before) * dt / dt_before if k > 1 else 0.0)  # predictor: linear in time
        st0 = _take(state, act)
        res = _newton(material, from_components(x_a), st0, guess, m, F_t[act, k], S_t[act, k], dt, tangent, o)
        why = {act[b]: reason for b, reason in res["why"].items()}
        bad = np.flatnonzero(~res["ok"])
        for level in range(1, max_cutback + 1):
            if bad.size == 0:
                break
            sub = _substepped(material, x_a[bad], out_s[act[bad], k - 1], x_before[bad], dt_before,
                              _take(st0, bad), m[bad], F_t[act[bad], k], S_t[act[bad], k], dt, 2**level, tangent, o)
            why.update({act[bad[b]]: reason for b, reason in sub["why"].items()})
            good = bad[sub["ok"]]
            res["x"][good], res["sig"][good] = sub["x"][sub["ok"]], sub["sig"][sub["ok"]]
            res["err"][good], res["iters"][good] = sub["err"][sub["ok"]], sub["iters"][sub["ok"]]
            _put(res["state"], good, _take(sub["state"], sub["ok"]))
            res["ok"][good] = True
            substeps[act[good], k] = 2**level
            bad = bad[~sub["ok"]]
        ok = res["ok"]
        idx = act[ok]
        out_x[idx, k], out_s[idx, k] = res["x"][ok], res["sig"][ok]
        residual[act, k], iterations[act, k] = res["err"], res["iters"]
        _put(state, idx, _take(res["state"], ok))
        for b in act[~ok]:
            error = MixedBCError(int(b), k, f"(t = {time[k]:.6g} s) {why.get(b, 'not converged')}")
            if on_failure == "raise":
                raise error
            errors.append(str(error))
            failed_step[b] = k
            out_x[b, k:], out_s[b, k:] = out_x[b, k - 1], out_s[b, k - 1]
    return {"F": from_components(out_x), "stress": from_components(out_s), "residual": residual,
            "iterations": iterations, "substeps": substeps, "failed_step": failed_step,
            "converged": failed_step < 0, "errors": errors, "state": state}
