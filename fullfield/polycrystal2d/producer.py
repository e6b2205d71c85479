"""Producer ``polycrystal2d``: the full-field 2D Voronoi polycrystal of paper Section 5.1 / Appendix A.

Input F_bar (sample, time, 2, 2), symmetric, from the sampler; output the macroscopic Cauchy stress
sigma_bar = <P> F_bar^T / det F_bar (MPa) and its parts: pressure p = -tr(sigma_bar)/2 and
stress_dev = sigma_bar + p I. Samples are solved one after another on all MPI ranks of PETSC.COMM_WORLD (the grid
is distributed); run it under ``mpirun -n R`` through workflow/scripts/solve_shard_mpi.py, or serially.

Case config keys (DEFAULTS below; Table 2 cases set the slip parameters):
  grid, n_grains          pixels per side of the unit cell, Voronoi grains (microstructure.py)
  model                   "crystal" (Appendix A, fullfield/crystal.py) or "neohookean" (elastic, validation)
  mu, kappa               MPa (paper: 19 GPa, 48 GPa)
  slip                    per slip system lists: b, n (crystal frame, normalised here), tau0 (MPa),
                          gamma_dot0 (1/s), m, sigma_inf (MPa), h (MPa); latent: K_ij (MPa, zero diagonal)
  petsc_options           mapping or option string passed to PETSc (solver.py), e.g. "-snes_monitor"
  max_cutbacks            step halvings before a sample is recorded as failed
"""
from __future__ import annotations

import json

import numpy as np
import xarray as xr

from dataset.case import Case
from dataset.contract import build_dataset

from . import microstructure
from .material import factory, slip_parameters
from .solver import CellSolver, PathFailure, cauchy, check_path, split_pressure

NAME = "polycrystal2d"
INPUT = "F"
DIM = 2

#: Paper Table 2, case PH (the others override slip entries); latent hardening is not given in the paper: 0.
DEFAULTS = {
    "grid": 32,
    "n_grains": 32,
    "model": "crystal",
    "mu": 19000.0,
    "kappa": 48000.0,
    "slip": {
        "b": [[1.0, 0.0], [1.0, 1.0]],
        "n": [[0.0, 1.0], [-1.0, 1.0]],
        "tau0": [100.0, 100.0],
        "gamma_dot0": [1.0, 1.0],
        "m": [0.05, 0.05],
        "sigma_inf": [2.0, 2.0],
        "h": [7100.0, 7100.0],
        "latent": [[0.0, 0.0], [0.0, 0.0]],
    },
    "petsc_options": "",
    "max_cutbacks": 6,
}
LOADING = {"T": 200.0, "M": 10, "n_steps": 1000, "F_max": 0.01}


def make_case(name: str = "custom", seed: int = 0, **overrides) -> Case:
    """A Case of this producer: LOADING and DEFAULTS, then overrides (``loading`` and ``slip`` merged)."""
    loading = {**LOADING, **overrides.pop("loading", {})}
    slip = {**DEFAULTS["slip"], **overrides.pop("slip", {})}
    return Case(NAME, name, {**DEFAULTS, "seed": int(seed), "loading": loading, "slip": slip, **overrides})


def config_of(case: Case) -> dict:
    cfg = {**DEFAULTS, **case.config}
    cfg["slip"] = {**DEFAULTS["slip"], **case.config.get("slip", {})}
    if cfg["model"] not in ("crystal", "neohookean"):
        raise ValueError(f"{case}: model must be 'crystal' or 'neohookean', got {cfg['model']!r}")
    if not (cfg["mu"] > 0 and cfg["kappa"] > 0):
        raise ValueError(f"{case}: mu and kappa must be positive")
    return cfg


def solve(inputs: np.ndarray, time: np.ndarray, case: Case, *, micro: microstructure.Microstructure | None = None,
          comm=None) -> xr.Dataset:
    """Solve the unit cell for every path of ``inputs`` (S, n_time, 2, 2) on ``time``; see the module doc.

    A malformed input (shape, NaN, time grid, F(0) != I, det F_bar <= 0) raises ValueError before any solve; a
    sample whose SNES still fails after the cut-backs is left out and listed in attrs["failures"] with the reason.
    ``micro`` replaces the case's Voronoi microstructure (validation).
    """
    inputs = np.asarray(inputs, float)
    time = np.asarray(time, float)
    if inputs.ndim != 4 or inputs.shape[2:] != (2, 2) or inputs.shape[1] != time.size:
        raise ValueError(f"{case}: inputs must be (S, {time.size}, 2, 2), got {inputs.shape}")
    for s in range(inputs.shape[0]):
        check_path(inputs[s], time, where=f"{case}, sample {s}")
    cfg = config_of(case)
    micro = micro or microstructure.for_case(case)
    params = slip_parameters(cfg)
    solver = CellSolver(micro.grid, factory(cfg, micro), scale=cfg["mu"], petsc_options=cfg["petsc_options"],
                        max_cutbacks=int(cfg["max_cutbacks"]), comm=comm)
    S, n = inputs.shape[:2]
    good, failures, results = [], [], []
    try:
        for s in range(S):
            try:
                res = solver.solve_path(inputs[s], time, where=f"{case}, sample {s}")
            except PathFailure as err:
                failures.append({"sample": s, "reason": str(err), "snes_reason": err.reason,
                                 "t": err.t})
                continue
            good.append(s)
            results.append(res)
        info = {**solver.describe(), "options": solver.options}
    finally:
        solver.destroy()
    P_bar = np.array([r.P_bar for r in results]).reshape(len(good), n, 2, 2)
    F = inputs[good]
    sigma, asym = cauchy(P_bar, F)
    p, dev = split_pressure(sigma)

    per = ("sample", "time")
    micro_vars = {
        "pressure": xr.DataArray(p, dims=per, attrs={"units": "MPa", "long_name": "pressure -tr(sigma)/2"}),
        "stress_dev": xr.DataArray(dev, dims=("sample", "time", "i", "j"),
                                   attrs={"units": "MPa", "long_name": "deviatoric Cauchy stress"}),
        "snes_iterations": xr.DataArray(np.array([r.snes_its for r in results]).reshape(len(good), n), dims=per,
                                        attrs={"units": "1", "long_name": "Newton iterations per step"}),
        "ksp_iterations": xr.DataArray(np.array([r.ksp_its for r in results]).reshape(len(good), n), dims=per,
                                       attrs={"units": "1", "long_name": "linear iterations per step"}),
        "substeps": xr.DataArray(np.array([r.substeps for r in results]).reshape(len(good), n), dims=per,
                                 attrs={"units": "1", "long_name": "sub-steps per step (1: no cut-back)"}),
        "wall_time": xr.DataArray(np.array([r.wall for r in results]), dims="sample",
                                  attrs={"units": "s", "long_name": "solver wall time of the sample"}),
    }
    N = micro.grid
    param_vars = {
        "grain_map": xr.DataArray(micro.grain, dims=("x", "y"), attrs={"units": "1", "long_name": "grain id of pixel"}),
        "orientation": xr.DataArray(micro.angle, dims="grain", attrs={"units": "rad",
                                                                       "long_name": "in-plane crystal rotation"}),
        "seed_point": xr.DataArray(micro.seeds, dims=("grain", "xy"), attrs={"units": "1",
                                                                              "long_name": "Voronoi seed"}),
        "mu": xr.DataArray(float(cfg["mu"]), attrs={"units": "MPa", "long_name": "shear modulus"}),
        "kappa": xr.DataArray(float(cfg["kappa"]), attrs={"units": "MPa", "long_name": "bulk modulus"}),
    }
    units = {"b": "1", "n": "1", "tau0": "MPa", "gamma_dot0": "1/s", "m": "1", "sigma_inf": "MPa", "h": "MPa",
             "latent": "MPa"}
    for key, u in units.items():
        val = np.asarray(params[key], float)
        dims = {1: ("slip",), 2: ("slip", "slip_j" if key == "latent" else "xy")}[val.ndim]
        param_vars[f"slip_{key}"] = xr.DataArray(val, dims=dims, attrs={"units": u})
    ds = build_dataset(case, time, F, sigma, input_name=INPUT, params=param_vars, micro=micro_vars,
                       failures=failures, sample=np.asarray(good, np.int64))
    ds.attrs.update(grid=int(N), solver=json.dumps(info), max_cauchy_asymmetry=asym)
    return ds
