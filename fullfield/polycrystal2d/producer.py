"""Producer ``polycrystal2d``: the full-field 2D Voronoi polycrystal of paper Section 5.1 / Appendix A.

Input F_bar (sample, time, 2, 2), symmetric, from the sampler; output the macroscopic Cauchy stress
sigma_bar = <P> F_bar^T / det F_bar (MPa) and its parts: pressure p = -tr(sigma_bar)/2 and
stress_dev = sigma_bar + p I. Samples are solved one after another on all MPI ranks of PETSC.COMM_WORLD (the grid
is distributed); run it under ``mpirun -n R`` through workflow/scripts/solve_shard.py, or serially.

Case config keys (defaults, paper Table 2 case PH, in pipeline/schemas/config.schema.yaml; the other Table 2 cases
set the slip parameters):
  grid, n_grains          pixels per side of the unit cell, Voronoi grains (microstructure.py)
  model                   "crystal" (Appendix A, mechanics/crystal.py) or "neohookean" (elastic, validation)
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
from dataset.producer import Producer
from mechanics.tensor import split_pressure

from . import microstructure
from .material import factory, slip_parameters
from .solver import CellSolver, PathFailure

NAME = "polycrystal2d"
INPUT = "F"
DIM = 2

def config_of(case: Case) -> dict:
    """The case's config, checked (model, moduli)."""
    cfg = case.config
    if cfg["model"] not in ("crystal", "neohookean"):
        raise ValueError(f"{case}: model must be 'crystal' or 'neohookean', got {cfg['model']!r}")
    if not (cfg["mu"] > 0 and cfg["kappa"] > 0):
        raise ValueError(f"{case}: mu and kappa must be positive")
    return cfg


def average_cauchy(P_bar: np.ndarray, F_bar: np.ndarray):
    """sigma = <P> F_bar^T / det F_bar (MPa), symmetrised; returns (sigma, max relative asymmetry before
    symmetrising). The product is an einsum, not mechanics.tensor.cauchy's matmul: the two round differently and
    the stored polycrystal2d data carry this rounding."""
    s = np.einsum("...iJ,...kJ->...ik", P_bar, F_bar) / np.linalg.det(F_bar)[..., None, None]
    if s.size == 0:
        return s, 0.0
    asym = np.abs(s - np.swapaxes(s, -1, -2)).max() / max(1.0, np.abs(s).max())
    return 0.5 * (s + np.swapaxes(s, -1, -2)), float(asym)


class Polycrystal2D(Producer):
    """Producer ``polycrystal2d``: F_bar paths (S, n_time, 2, 2) -> sigma_bar, pressure and deviator (module doc).
    A path with NaN or inf raises (nonfinite = "raise")."""

    name, input, dim = NAME, INPUT, DIM
    nonfinite = "raise"

    def integrate(self, inputs, time, case, good, failures, *, micro: microstructure.Microstructure | None = None,
                  comm=None) -> xr.Dataset:
        """Solve the samples one after another on all ranks of ``comm`` (PETSC.COMM_WORLD); a sample whose SNES
        still fails after the cut-backs is left out and listed in the failures with SNES's reason. ``micro``
        replaces the case's Voronoi microstructure (validation)."""
        cfg = config_of(case)
        micro = micro or microstructure.for_case(case)
        params = slip_parameters(cfg)
        solver = CellSolver(micro.grid, factory(cfg, micro), scale=cfg["mu"], petsc_options=cfg["petsc_options"],
                            max_cutbacks=int(cfg["max_cutbacks"]), comm=comm)
        n = inputs.shape[1]
        done, results = [], []
        try:
            for s in map(int, good):
                try:
                    res = solver.solve_path(inputs[s], time, where=f"{case}, sample {s}")
                except PathFailure as err:
                    failures.append({"sample": s, "reason": str(err), "snes_reason": err.reason, "t": err.t})
                    continue
                done.append(s)
                results.append(res)
            info = {**solver.describe(), "options": solver.options}
        finally:
            solver.destroy()
        failures.sort(key=lambda f: f["sample"])
        P_bar = np.array([r.P_bar for r in results]).reshape(len(done), n, 2, 2)
        F = inputs[done]
        sigma, asym = average_cauchy(P_bar, F)
        p, dev = split_pressure(sigma)

        per = ("sample", "time")
        micro_vars = {
            "pressure": xr.DataArray(p, dims=per, attrs={"units": "MPa", "long_name": "pressure -tr(sigma)/2"}),
            "stress_dev": xr.DataArray(dev, dims=("sample", "time", "i", "j"),
                                       attrs={"units": "MPa", "long_name": "deviatoric Cauchy stress"}),
            "snes_iterations": xr.DataArray(np.array([r.snes_its for r in results]).reshape(len(done), n), dims=per,
                                            attrs={"units": "1", "long_name": "Newton iterations per step"}),
            "ksp_iterations": xr.DataArray(np.array([r.ksp_its for r in results]).reshape(len(done), n), dims=per,
                                           attrs={"units": "1", "long_name": "linear iterations per step"}),
            "substeps": xr.DataArray(np.array([r.substeps for r in results]).reshape(len(done), n), dims=per,
                                     attrs={"units": "1", "long_name": "sub-steps per step (1: no cut-back)"}),
            "wall_time": xr.DataArray(np.array([r.wall for r in results]), dims="sample",
                                      attrs={"units": "s", "long_name": "solver wall time of the sample"}),
        }
        N = micro.grid
        param_vars = {
            "grain_map": xr.DataArray(micro.grain, dims=("x", "y"),
                                      attrs={"units": "1", "long_name": "grain id of pixel"}),
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
                           failures=failures, sample=np.asarray(done, np.int64))
        ds.attrs.update(grid=int(N), solver=json.dumps(info), max_cauchy_asymmetry=asym)
        return ds


PRODUCER = Polycrystal2D()
#: solve(inputs (S, n_time, 2, 2) F_bar, time (s), case, *, micro=None, comm=None) -> contract Dataset
solve = PRODUCER.solve
