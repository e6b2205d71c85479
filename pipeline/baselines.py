"""The baselines of issue 16 on the Taylor Mg data: Johnson-Cook fits, the RNO and Johnson-Cook on the classical
paths, and the table results/tables/baseline_errors.csv. Units: MPa, s. (This layer may import every package:
the Johnson-Cook law and the driver live in mechanics/, the RNO and the error of eq. (16) in learning/.)

Table rows (``COLUMNS``): model (``MODELS``: rno, johnson_cook_classical, johnson_cook_random, pca_net), case (the
training case, e.g. MG), train_size (the number of paths the model was fitted on: the classical paths for
johnson_cook_classical), paths (random: the test split of the training case; uniaxial, cavity, cyclic: the classical
paths, cyclic the mean over its amplitudes), error: the mean of eq. (16) over those paths that the model followed
to the end, computed with learning.pca_net.path_errors (learning.loss.relative_l2, the RNO's test error), failed:
how many of those paths it could not follow (the mixed-BC driver's Newton did not converge: a model that is not
a valid material there), and failure: the first such path's reason. A failed path's error is not counted (its
frozen stress would score a meaningless number); when every path of a kind failed the error is left empty.

Johnson-Cook fits (mechanics.johnson_cook_fit; eps_dot_0 = 1e-3 1/s fixed, mu and kappa the store's): (a)
"classical" to every classical path, (b) "random" to the first ``n_fit`` training paths (default N_FIT = 50; a
subset because each residual evaluation integrates every path), both with weights that make the sum of squares the
sum over paths of the squared eq. (16) error (``eq16_weights``). Both are then run along the classical controls
(mechanics.classical_paths: Johnson-Cook through the mixed-BC driver) and the random test paths (F prescribed).
The RNO runs the classical controls as learning.material.RNOMaterial through the same driver (its autograd
tangent).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr

from learning.data import Trajectories, trajectories
from learning.loss import trapezoid_weights
from learning.material import RNOMaterial
from learning.pca_net import path_errors
from learning.train import evaluate_error
from mechanics import classical_paths, johnson_cook_fit
from mechanics.mixed_bc import drive, to_components

COLUMNS = ["model", "case", "train_size", "paths", "error", "failed", "failure"]
MODELS = ("rno", "johnson_cook_classical", "johnson_cook_random", "pca_net")
N_FIT = 50
FIT_KEYS = ("params", "eps_dot_0", "mu", "kappa", "cost", "nfev", "success", "message", "n_paths")


def eq16_weights(data: Trajectories) -> np.ndarray:
    """w (S, N+1, n_comp): trapezoid weight x component weight / the path's integral of |sigma|^2, so that
    sum w (approx - truth)^2 over a path is its squared eq. (16) error (learning.loss.relative_l2)."""
    w = trapezoid_weights(torch.as_tensor(data.time)).numpy()[None, :, None] * data.weights[None, None, :]
    den = (w * data.stress ** 2).sum((1, 2))
    return w / den[:, None, None]


def full_F(data: Trajectories):
    """(time, F_target, sigma_target, stress_mask) of paths whose six F components are all prescribed."""
    if data.input_name != "F" or data.d != 3:
        raise ValueError("baselines: the paths must be 3D deformation gradients")
    return data.time, data.x, np.zeros_like(data.x), np.zeros(data.x.shape, bool)


def classical_controls(ds: xr.Dataset, dt: float | None = None):
    """(names, Trajectories of the truth, F_target, sigma_target, stress_mask) of a classical store (taylor.classical)
    strided to the time step dt (s; None: as stored), the controls rebuilt from its case config
    (mechanics.classical_paths)."""
    cfg = json.loads(ds.attrs["case_config"])["classical"]
    time = np.asarray(ds["time"].values, float)
    steps = None if dt is None else int(round(time[-1] / float(dt)))
    truth = trajectories(ds, None, steps)
    names, F_t, s_t, mask = classical_paths.classical_controls(truth.time, cfg["rate"], cfg["amplitudes"])
    stored = [str(n) for n in ds["path_name"].values]
    idx = [names.index(n) for n in stored]
    return stored, truth, F_t[idx], s_t[idx], mask[idx]


def train_dt(ds_train: xr.Dataset, steps: int | None) -> float | None:
    """The time step (s) of the training store at ``steps`` steps (None: None, as stored)."""
    return None if steps is None else float(ds_train["time"].values[-1]) / int(steps)


def fit_jc(data_groups: list[tuple], mu: float, kappa: float) -> johnson_cook_fit.JCFit:
    """Johnson-Cook fitted to groups of (time, F_target, sigma_target, stress_mask, truth Trajectories)."""
    groups = [(t, F, s, m, d.stress, eq16_weights(d)) for t, F, s, m, d in data_groups]
    return johnson_cook_fit.fit(groups, mu=mu, kappa=kappa)


def fit_both(ds_train: xr.Dataset, ds_classical: xr.Dataset, *, steps: int | None = None,
             n_fit: int = N_FIT) -> dict[str, johnson_cook_fit.JCFit]:
    """{"johnson_cook_classical": fit to the classical paths, "johnson_cook_random": fit to the first n_fit
    training paths}: the training store at ``steps`` steps (None: as stored), the classical paths at its step."""
    mu, kappa = float(ds_train["mu"].values), float(ds_train["kappa"].values)
    _, truth, F_t, s_t, mask = classical_controls(ds_classical, train_dt(ds_train, steps))
    train = trajectories(ds_train, "train", steps, size=min(int(n_fit), _n_train(ds_train)))
    return {"johnson_cook_classical": fit_jc([(truth.time, F_t, s_t, mask, truth)], mu, kappa),
            "johnson_cook_random": fit_jc([(*full_F(train), train)], mu, kappa)}


def _n_train(ds: xr.Dataset) -> int:
    return int((np.asarray(ds["split"].values).astype(str) == "train").sum())


def save_fit(fit: johnson_cook_fit.JCFit, path: str | Path, **extra) -> Path:
    """The fit as JSON: FIT_KEYS and ``extra``."""
    out = {k: getattr(fit, k) for k in FIT_KEYS}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps({**out, **extra}, indent=1, sort_keys=True) + "\n")
    return Path(path)


def load_fit(path: str | Path) -> johnson_cook_fit.JCFit:
    d = json.loads(Path(path).read_text())
    return johnson_cook_fit.JCFit(**{k: d[k] for k in FIT_KEYS})


def rno_classical(model, time, F_t, s_t, mask, pressure_model=None) -> dict:
    """The RNO along the classical controls (mixed-BC driver, autograd tangent, rtol 1e-8): {"stress": Cauchy
    stress components (B, n_time, 6) MPa, a failed path frozen at its last converged step; "failed_step": (B,),
    -1 for a path followed to the end; "errors": the driver's message per failed path}."""
    out = drive(RNOMaterial(model, pressure_model), time, F_t, s_t, mask, rtol=1e-8, on_failure="record")
    return {"stress": to_components(out["stress"]), "failed_step": np.asarray(out["failed_step"], int),
            "errors": list(out["errors"])}


def _rows(model: str, case: str, train_size: int, errors: dict[str, tuple]) -> list[dict]:
    """errors: paths -> (error or None, failed, failure)."""
    return [{"model": model, "case": case, "train_size": int(train_size), "paths": p,
             "error": None if e is None else float(e), "failed": int(n), "failure": why}
            for p, (e, n, why) in errors.items()]


def classical_errors(names, approx: np.ndarray, truth: Trajectories, failed_step=None,
                     reasons: list[str] = ()) -> dict[str, tuple]:
    """{uniaxial, cavity, cyclic: (mean eq. (16) over the paths of that kind followed to the end (None if none
    was), the number that failed, the first failure's reason ("" if none))}."""
    e = path_errors(approx, truth)
    kinds = np.array([classical_paths.kind_of(n) for n in names])
    failed = np.zeros(len(names), bool) if failed_step is None else np.asarray(failed_step) >= 0
    why = {}
    for message in reasons:  # "mixed_bc: path b, step n: ..."
        b = int(message.split("path ", 1)[1].split(",", 1)[0]) if "path " in message else -1
        why.setdefault(b, message)
    out = {}
    for k in classical_paths.KINDS:
        sel = kinds == k
        if not sel.any():
            continue
        ok = sel & ~failed
        first = next((why.get(int(b), "not converged") for b in np.flatnonzero(sel & failed)), "")
        out[k] = (float(e[ok].mean()) if ok.any() else None, int((sel & failed).sum()), first)
    return out


def evaluate(ds_train: xr.Dataset, ds_classical: xr.Dataset, fits: dict[str, johnson_cook_fit.JCFit], rno,
             *, steps: int | None = None, rno_train_size: int = 0) -> tuple[pd.DataFrame, dict]:
    """Error rows (COLUMNS) of the RNO and both Johnson-Cook fits on the random test split and the classical paths,
    and the classical predictions of Figure 9: {"names", "time", "F", "truth", <model>: (B, n_time, 6) (MPa),
    "rno_errors": the driver's messages for paths the RNO could not follow, "rno_failed_step": per path the step
    where it stopped (-1: followed to the end)}. The training store at
    ``steps`` steps (None: as stored), the classical paths at its time step; rno_train_size: the RNO's train_size
    (0: the whole split)."""
    case = ds_train.attrs["case"]
    names, truth, F_t, s_t, mask = classical_controls(ds_classical, train_dt(ds_train, steps))
    test = trajectories(ds_train, "test", steps)
    preds = {"names": names, "time": truth.time.tolist(),
             "F": truth.x.tolist(), "truth": truth.stress.tolist()}
    rows = []
    n_rno = int(rno_train_size) or _n_train(ds_train)
    followed = rno_classical(rno, truth.time, F_t, s_t, mask)
    preds["rno"], preds["rno_errors"] = followed["stress"].tolist(), followed["errors"]
    preds["rno_failed_step"] = followed["failed_step"].tolist()
    rows += _rows("rno", case, n_rno, {"random": (float(evaluate_error(rno, test).mean()), 0, ""),
                                       **classical_errors(names, followed["stress"], truth, followed["failed_step"],
                                                          followed["errors"])})
    for name, fit in fits.items():
        jc = fit.material()
        cl = johnson_cook_fit.response(jc, truth.time, F_t, s_t, mask)
        rnd = johnson_cook_fit.response(jc, *full_F(test))
        preds[name] = cl.tolist()
        rows += _rows(name, case, fit.n_paths, {"random": (float(path_errors(rnd, test).mean()), 0, ""),
                                                **classical_errors(names, cl, truth)})
    return pd.DataFrame(rows, columns=COLUMNS), preds
