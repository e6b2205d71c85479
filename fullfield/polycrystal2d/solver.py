"""Equilibrium of the periodic unit cell under a prescribed F_bar(t): PETSc SNES (Newton) + KSP, time stepping
with cut-backs.

Each time step solves R(w) = 0 (fem.py) for the periodic fluctuation w with SNES, starting from the previous
step's w. A step whose SNES solve fails (any negative SNESConvergedReason, including NaN from a material point
that could not be updated) is retried as 2 sub-steps with F_bar interpolated linearly, each of which may again be
halved, up to ``max_cutbacks`` levels (2^max_cutbacks sub-steps). A step that still fails ends the path with
``PathFailure`` carrying SNES's reason, which the producer records in the dataset's failures (never NaN).

PETSc options: DEFAULT_OPTIONS, then the case's ``petsc_options`` (a mapping or an option string such as
"-snes_monitor -pc_type ilu"), then whatever was in the options database when the solver was created
(command line given to petsc4py.init, the PETSC_OPTIONS environment variable) win over both. Options are read by
SNES/KSP/PC.setFromOptions without a prefix, so the usual names (-snes_monitor, -ksp_type, -pc_type, ...) apply.
The residual is dimensionless (fem.py: divided by mu h), so -snes_atol is a strain-like tolerance per node.
"""
from __future__ import annotations

import shlex
import time as _time
from dataclasses import dataclass, field

import numpy as np

from dataset.producer import check_paths

from .fem import PeriodicQ1

DEFAULT_OPTIONS = {
    "snes_type": "newtonls",
    "snes_linesearch_type": "bt",
    "snes_rtol": 1e-9,
    "snes_atol": 1e-10,
    "snes_stol": 1e-14,
    "snes_max_it": 25,
    "ksp_type": "gmres",
    "ksp_rtol": 1e-10,
    "ksp_atol": 1e-14,
    "ksp_max_it": 2000,
    "pc_type": "gamg",
}


class PathFailure(RuntimeError):
    """A step still failed after all cut-backs; ``reason`` is SNES's converged reason (name and code)."""

    def __init__(self, message: str, reason: str, step: int, t: float):
        super().__init__(message)
        self.reason, self.step, self.t = reason, step, t


def parse_options(opts) -> dict:
    """A mapping {name: value} or a string "-a 1 -b -c x" -> {name without dash: str value or ''}."""
    if opts is None:
        return {}
    if isinstance(opts, dict):
        return {str(k).lstrip("-"): ("" if v is None or v is True else str(v)) for k, v in opts.items()}
    out, key = {}, None
    for tok in shlex.split(str(opts)):
        if tok.startswith("-") and not _is_number(tok):
            key = tok.lstrip("-")
            out[key] = ""
        elif key is not None:
            out[key] = tok
            key = None
        else:
            raise ValueError(f"petsc_options: value {tok!r} without an option name")
    return out


def _is_number(tok: str) -> bool:
    try:
        float(tok)
        return True
    except ValueError:
        return False


@dataclass
class PathResult:
    P_bar: np.ndarray  # (n_time, 2, 2) MPa
    snes_its: np.ndarray  # (n_time,) Newton iterations per output step (sum over its sub-steps)
    ksp_its: np.ndarray  # (n_time,) linear iterations per output step
    substeps: np.ndarray  # (n_time,) sub-steps used (1 = no cut-back)
    wall: float  # s
    step_wall: np.ndarray = None  # (n_time,) s per output step
    stats: dict = field(default_factory=dict)


class CellSolver:
    """SNES on a PeriodicQ1 discretisation with a Material of this rank's Gauss points.

    material_factory(pixel_i, pixel_j) -> material points (material.py interface) of the local Gauss points,
    given their pixels, built once.
    scale: stress scale (MPa, typically mu) that makes the residual dimensionless.
    """

    def __init__(self, grid: int, material_factory, *, scale: float, petsc_options=None, max_cutbacks: int = 6,
                 comm=None, extrapolate: bool = True):
        from petsc4py import PETSc

        self.PETSc = PETSc
        self.fem = PeriodicQ1(grid, comm=comm, scale=scale)
        self.material = material_factory(*self.fem.pixel_indices())
        self.max_cutbacks = int(max_cutbacks)
        self.X = self.fem.da.createGlobalVec()
        self.R = self.X.duplicate()
        self.J = self.fem.create_matrix()
        self.snes = PETSc.SNES().create(comm=self.fem.comm)
        self.snes.setFunction(self._function, self.R)
        self.snes.setJacobian(self._jacobian, self.J, self.J)
        self._configure(petsc_options)
        self._cache_x = None
        self._cache = None
        self._dX, self._dt_last = None, None
        self.extrapolate = bool(extrapolate)
        self.F_bar = np.eye(2)
        self.dt = 0.0
        self.n_function = 0
        self.n_material_fail = 0

    # ------------------------------------------------------------------ options
    def _configure(self, petsc_options) -> None:
        opts = self.PETSc.Options()
        user = set(opts.getAll().keys())  # command line / PETSC_OPTIONS: these win
        wanted = {**{k: str(v) for k, v in DEFAULT_OPTIONS.items()}, **parse_options(petsc_options)}
        inserted = []
        for k, v in wanted.items():
            if k not in user:
                opts.setValue(k, v)
                inserted.append(k)
        try:
            self.snes.setFromOptions()
            ksp = self.snes.getKSP()
            ksp.setFromOptions()
        finally:
            for k in inserted:
                opts.delValue(k)
        self.options = {k: opts.getString(k, wanted.get(k, "")) if k in user else wanted[k] for k in
                        sorted(set(wanted) | user)}

    def describe(self) -> dict:
        ksp = self.snes.getKSP()
        return {"snes_type": self.snes.getType(), "ksp_type": ksp.getType(), "pc_type": ksp.getPC().getType(),
                "ranks": self.fem.comm.getSize(), "grid": self.fem.N}

    # ------------------------------------------------------------------ callbacks
    def _evaluate(self, X):
        """P at the Gauss points for the fluctuation X (cached: SNES asks for R and J at the same X)."""
        x = X.getArray(readonly=True)
        hit = self._cache_x is not None and self._cache_x.shape == x.shape and np.array_equal(self._cache_x, x)
        if self._all(hit):  # collective decision: globalToLocal below is collective
            return self._cache
        w = self.fem.local_w(X)
        F = self.fem.deformation(w, self.F_bar)
        with np.errstate(all="ignore"):
            P = self.material.evaluate(F, self.dt)
        if not np.isfinite(P).all():
            self.n_material_fail += 1
            P = np.full_like(P, np.nan)
        self._cache_x, self._cache = x.copy(), P
        self._tangent_ok = np.isfinite(P).all()
        self.n_function += 1
        return P

    def _all(self, flag: bool) -> bool:
        if self.fem.comm.getSize() == 1:
            return bool(flag)
        from mpi4py import MPI

        return bool(self.fem.comm.tompi4py().allreduce(int(bool(flag)), op=MPI.MIN))

    def _function(self, snes, X, Fvec):
        self.fem.assemble_residual(self._evaluate(X), X, Fvec)

    def _jacobian(self, snes, X, J, Jp):
        self._evaluate(X)  # makes the material's last evaluation the one at X
        with np.errstate(all="ignore"):
            A = self.material.tangent()
        if not np.isfinite(A).all():
            A = np.where(np.isfinite(A), A, 0.0)
        self.fem.assemble_jacobian(A, Jp)
        if J != Jp:
            J.assemble()

    # ------------------------------------------------------------------ stepping
    def _reason_name(self, code: int) -> str:
        names = {getattr(self.PETSc.SNES.ConvergedReason, n): n for n in dir(self.PETSc.SNES.ConvergedReason)
                 if not n.startswith("_")}
        return f"{names.get(code, 'UNKNOWN')} ({code})"

    def _try_step(self, F_bar, dt):
        """One SNES solve from the committed state; True and committed on success."""
        self.F_bar = np.asarray(F_bar, float)
        self.dt = float(dt)
        self._cache_x = None
        x_saved = self.X.copy()
        if self.extrapolate and self._dX is not None:  # predictor: w_n + (w_n - w_n-1) dt / dt_n-1
            self.X.axpy(self.dt / self._dt_last, self._dX)
        self.snes.solve(None, self.X)
        reason = self.snes.getConvergedReason()
        its = self.snes.getIterationNumber()
        lits = self.snes.getLinearSolveIterations()
        if reason > 0:
            P = self._evaluate(self.X)  # cached when the last evaluation was at the solution
            self.material.commit()
            self._P = P
            if self._dX is None:
                self._dX = self.X.duplicate()
            self.X.copy(self._dX)
            self._dX.axpy(-1.0, x_saved)
            self._dt_last = self.dt
            x_saved.destroy()
            return True, reason, its, lits
        x_saved.copy(self.X)
        x_saved.destroy()
        return False, reason, its, lits

    def _advance(self, F0, F1, dt, level, acc):
        ok, reason, its, lits = self._try_step(F1, dt)
        acc["snes"] += its
        acc["ksp"] += lits
        if ok:
            acc["substeps"] += 1
            return True, reason
        acc["failed_solves"] += 1
        if level >= self.max_cutbacks:
            return False, reason
        Fm = 0.5 * (np.asarray(F0) + np.asarray(F1))
        ok, reason = self._advance(F0, Fm, 0.5 * dt, level + 1, acc)
        if not ok:
            return False, reason
        return self._advance(Fm, F1, 0.5 * dt, level + 1, acc)

    def reset(self) -> None:
        self.X.zeroEntries()
        if self._dX is not None:
            self._dX.destroy()
        self._dX, self._dt_last = None, None
        self.material.reset()
        self._cache_x = None

    def solve_path(self, F_bar: np.ndarray, time: np.ndarray, where: str = "") -> PathResult:
        """<P>(t) (n_time, 2, 2) along the path F_bar (n_time, 2, 2) on ``time`` (s), from the stress-free reference
        state (P_bar(0) = 0). A malformed path raises ValueError (dataset.producer.check_paths, as sample 0)."""
        check_paths(np.asarray(F_bar, float)[None], np.asarray(time, float), "F", 2, where or "solve_path",
                    nonfinite="raise")
        self.reset()
        n = len(time)
        P_bar = np.zeros((n, 2, 2))
        snes_its = np.zeros(n, np.int64)
        ksp_its = np.zeros(n, np.int64)
        substeps = np.zeros(n, np.int64)
        step_wall = np.zeros(n)
        start = _time.perf_counter()
        for k in range(1, n):
            t_step = _time.perf_counter()
            acc = {"snes": 0, "ksp": 0, "substeps": 0, "failed_solves": 0}
            ok, reason = self._advance(F_bar[k - 1], F_bar[k], time[k] - time[k - 1], 0, acc)
            if not ok:
                name = self._reason_name(reason)
                raise PathFailure(f"{where + ': ' if where else ''}SNES failed at step {k} (t = {time[k]:.6g} s) "
                                  f"after {self.max_cutbacks} cut-backs: {name}", name, k, float(time[k]))
            P_bar[k] = self.fem.average(self._P)
            snes_its[k], ksp_its[k], substeps[k] = acc["snes"], acc["ksp"], acc["substeps"]
            step_wall[k] = _time.perf_counter() - t_step
        wall = _time.perf_counter() - start
        return PathResult(P_bar, snes_its, ksp_its, substeps, wall, step_wall)

    def destroy(self) -> None:
        for obj in (self.snes, self.J, self.X, self.R, self._dX):
            if obj is None:
                continue
            obj.destroy()
        self.fem.destroy()

