"""The classical paths of the paper's Figure 9 (mechanics.classical_paths: uniaxial tension, cavity expansion,
uniaxial cyclic loading) for the Taylor Mg polycrystal (taylor.magnesium through taylor.material.TaylorMaterial and
the mixed-boundary-condition driver mechanics.mixed_bc.drive). Units: MPa, s.

``classical_arrays`` returns what a contract dataset of producer taylor_mg, case ``classical`` stores: the solved
F (B, n_time, 3, 3) (symmetric; its stress-controlled components found by the driver), the Cauchy stress, the time
grid and the path names. The paths use the material and texture of a taylor_mg case (the training case's, so that
the truth is the same polycrystal), at the training data's time step dt (``classical_paths.classical_time``).
The texture is drawn from ``Case.rng``, which depends on the case *name*: the material must come from the training
case itself (``train_case``), and only the stored dataset is named ``classical`` (``classical_dataset``).
"""
from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

import xarray as xr

from dataset.case import Case
from dataset.contract import build_dataset
from mechanics import classical_paths
from mechanics.mixed_bc import drive

from . import magnesium
from .material import TaylorMaterial

#: the case name of the stored classical paths
CASE = "classical"

#: the driver's stress tolerance for the polycrystal (docs/baselines.md: its crystal solves put ~1e-7 MPa noise on
#: the stress) and the crystal tolerance of the adapter
RTOL, CRYSTAL_TOL = 1e-6, 1e-8


def classical_arrays(case: Case, dt: float, *, rate: float = classical_paths.RATE,
                     eps_max: float = classical_paths.EPS_MAX, amplitudes=classical_paths.AMPLITUDES,
                     crystal_tol: float = CRYSTAL_TOL, rtol: float = RTOL) -> dict:
    """The classical paths of ``case`` (a taylor_mg case: material, texture) with time step dt (s).

    Returns dict: names (B,) path names (classical_paths.path_names), time (n_time,) s, F (B, n_time, 3, 3),
    stress (B, n_time, 3, 3) MPa, residual (B, n_time) MPa (the driver's largest stress residual), converged (B,),
    failed_step (B,), errors (list of messages). A path that fails is frozen at its last converged step (driver
    ``on_failure="record"``): keep only the converged ones.
    """
    time = classical_paths.classical_time(dt, rate, eps_max)
    names, F_t, s_t, mask = classical_paths.classical_controls(time, rate, amplitudes)
    material = TaylorMaterial.from_case(case, tol=crystal_tol)
    with threadpool_limits(limits=1):
        out = drive(material, time, F_t, s_t, mask, rtol=rtol, on_failure="record")
    return {"names": np.array(names), "time": time, "F": out["F"], "stress": out["stress"],
            "residual": out["residual"], "converged": out["converged"], "failed_step": out["failed_step"],
            "errors": out["errors"]}


def classical_dataset(train_case: Case, dt: float, *, rate: float = classical_paths.RATE,
                      eps_max: float = classical_paths.EPS_MAX, amplitudes=classical_paths.AMPLITUDES,
                      crystal_tol: float = CRYSTAL_TOL, rtol: float = RTOL) -> xr.Dataset:
    """The classical paths of the polycrystal of ``train_case`` as a contract Dataset of producer taylor_mg, case
    ``CASE``: F, stress (Cauchy, MPa), split "test" for every path, ``path_name`` (sample) the path names, the
    moduli mu, kappa and the grain orientations; paths whose driver failed are listed as failures and left out.
    Its case config is the training case's plus {"truth_case", "classical": {rate, eps_max, amplitudes, dt}}."""
    r = classical_arrays(train_case, dt, rate=rate, eps_max=eps_max, amplitudes=amplitudes, crystal_tol=crystal_tol,
                         rtol=rtol)
    ok = np.asarray(r["converged"], bool)
    failures = [{"sample": int(b), "reason": f"mixed-BC driver: {r['names'][b]} failed at step "
                 f"{int(r['failed_step'][b])}"} for b in np.flatnonzero(~ok)]
    cfg = {**dict(train_case.config), "truth_case": train_case.name,
           "classical": {"rate": float(rate), "eps_max": float(eps_max), "amplitudes": [float(a) for a in amplitudes],
                         "dt": float(dt)}}
    case = Case(train_case.producer, CASE, cfg)
    quat, _ = magnesium.texture(train_case)
    params = magnesium.material(train_case)
    pdict = {"mu": xr.DataArray(params.mu, attrs={"units": "MPa", "long_name": "shear modulus"}),
             "kappa": xr.DataArray(params.kappa, attrs={"units": "MPa", "long_name": "bulk modulus"}),
             "orientation": xr.DataArray(quat, dims=("grain", "quaternion"),
                                         attrs={"units": "1", "long_name": "grain orientation, damask quaternion "
                                                "(passive, sample -> crystal; w, x, y, z)"})}
    ds = build_dataset(case, r["time"], r["F"][ok], r["stress"][ok], input_name=magnesium.INPUT, params=pdict,
                       failures=failures, sample=np.flatnonzero(ok))
    ds["path_name"] = xr.DataArray(r["names"][ok].astype(object), dims="sample",
                                   attrs={"units": "1", "long_name": "classical path (mechanics.classical_paths)"})
    ds["split"] = xr.DataArray(np.array(["test"] * int(ok.sum()), dtype=object), dims="sample")
    return ds
