"""The 1D study of paper Section 3: what a k = 1 RNO learned, against the exact effective law (eqs. 11-15).

The effective behaviour of the 1D composite has one internal variable xi = <eps_p> (phase average) with
    stress = f~(eta) = Ebar eta,   d<eps_p>/dt = g~(eta),   eta = eps_bar - <eps_p>            (eqs. 14, 15)
(f~ and g~: the ``law`` argument, any object with effective_modulus(E) and g_tilde(eta, material), e.g. the
module fullfield.composite1d, which the workflow passes: learning does not import the producers). The learned xi
is defined up to a change of variables (eq. 5); here the best affine map <eps_p> ~ a xi + b (least squares over
all test samples and times) is fitted and its R^2 reported, and so is the R^2 of the best monotone map <eps_p> ~
phi(xi) (isotonic regression): eq. (5) allows any invertible phi, the affine R^2 also measures how linear it is. With xi_hat = a xi + b the learned f~ is the RNO's
stress and the learned g~ is a g / t_scale, both at the points (eps_bar^n, xi^n) of the learned test
trajectories, against eta^n = eps_bar^n - xi_hat^n.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import xarray as xr
from scipy.optimize import isotonic_regression

from .data import trajectories
from .rno import RNO


@dataclass(frozen=True)
class InternalVariableStudy:
    """Learned vs true internal variable and f~, g~ on the test split (arrays (S, N+1) over sample, time)."""

    time: np.ndarray  # (N+1,) s
    eps_bar: np.ndarray  # average strain, 1
    eps_p: np.ndarray  # true <eps_p>, 1
    xi: np.ndarray  # learned xi (raw)
    slope: float  # a in <eps_p> ~ a xi + b
    intercept: float  # b
    r2: float  # coefficient of determination of the affine map
    xi_monotone: np.ndarray  # phi(xi), the best monotone map of xi onto <eps_p>
    r2_monotone: float  # coefficient of determination of the monotone map
    eta: np.ndarray  # eps_bar - (a xi + b), 1
    f_learned: np.ndarray  # RNO stress, MPa
    f_true: np.ndarray  # Ebar eta, MPa
    g_learned: np.ndarray  # a g / t_scale, 1/s
    g_true: np.ndarray  # g~(eta), 1/s
    f_error: float  # ||f_learned - f_true|| / ||f_true|| over all points
    g_error: float  # ||g_learned - g_true|| / ||g_true|| over all points

    def summary(self) -> dict:
        return {"slope": self.slope, "intercept": self.intercept, "r2": self.r2, "r2_monotone": self.r2_monotone,
                "f_error": self.f_error, "g_error": self.g_error}


def material(ds: xr.Dataset) -> dict:
    """The phases' E, sigma0 (MPa), n and edot0 (1/s) stored in a composite1d dataset."""
    missing = [v for v in ("E", "sigma0", "n", "edot0", "eps_p") if v not in ds.variables]
    if missing:
        raise ValueError(f"{ds.attrs.get('producer')}/{ds.attrs.get('case')}: not a composite1d dataset "
                         f"(missing {missing})")
    return {"E": ds["E"].values, "sigma0": ds["sigma0"].values, "n": ds["n"].values,
            "edot0": float(ds["edot0"].values)}


def affine_fit(learned: np.ndarray, true: np.ndarray) -> tuple[float, float, float]:
    """Least-squares (a, b) with true ~ a learned + b over all entries, and R^2 = 1 - SS_res / SS_tot."""
    u, v = np.ravel(learned).astype(float), np.ravel(true).astype(float)
    A = np.stack([u, np.ones_like(u)], axis=1)
    (a, b), *_ = np.linalg.lstsq(A, v, rcond=None)
    ss_res = float(np.sum((v - (a * u + b)) ** 2))
    ss_tot = float(np.sum((v - v.mean()) ** 2))
    return float(a), float(b), 1.0 - ss_res / ss_tot


def monotone_fit(learned: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, float]:
    """The least-squares monotone map true ~ phi(learned) over all entries (isotonic regression, increasing or
    decreasing, whichever fits better): phi(learned) in the shape of ``learned``, and R^2 = 1 - SS_res / SS_tot."""
    u, v = np.ravel(learned).astype(float), np.ravel(true).astype(float)
    order = np.argsort(u, kind="stable")
    best = None
    for increasing in (True, False):
        fitted = np.empty_like(v)
        fitted[order] = isotonic_regression(v[order], increasing=increasing).x
        ss_res = float(np.sum((v - fitted) ** 2))
        if best is None or ss_res < best[1]:
            best = (fitted, ss_res)
    return best[0].reshape(np.shape(learned)), 1.0 - best[1] / float(np.sum((v - v.mean()) ** 2))


def _rel(approx: np.ndarray, truth: np.ndarray) -> float:
    return float(np.linalg.norm(approx - truth) / np.linalg.norm(truth))


def internal_variable_study(model: RNO, ds: xr.Dataset, steps: int | None = None, *,
                            law: Any) -> InternalVariableStudy:
    """Compare a k = 1 "evp" model trained on a composite1d case with eqs. (11-15) on its test split; law: the exact
    effective law (effective_modulus(E), g_tilde(eta, material): fullfield.composite1d)."""
    if model.k != 1 or model.n_comp != 1 or model.variant != "evp":
        raise ValueError(f"the internal-variable study needs a 1D 'evp' model with k = 1, got {model.spec()}")
    mat = material(ds)
    test = trajectories(ds, "test", steps)
    eps_p = ds["eps_p"].mean("phase").sel(sample=test.sample, time=test.time).transpose("sample", "time").values
    x, _, time = test.tensors("cpu", torch.float32)
    with torch.no_grad():
        stress, xi = model.rollout(x, time)
        rate = model.rate_of_xi(x.reshape(-1, 1), xi.reshape(-1, 1)).reshape(xi.shape)
    xi, stress, rate = (t[..., 0].double().numpy() for t in (xi, stress, rate))
    a, b, r2 = affine_fit(xi, eps_p)
    xi_monotone, r2_monotone = monotone_fit(xi, eps_p)
    eps_bar = test.x[..., 0]
    eta = eps_bar - (a * xi + b)
    f_true = law.effective_modulus(mat["E"]) * eta
    g_learned = a * rate
    g_true = law.g_tilde(eta, mat)
    return InternalVariableStudy(time=test.time, eps_bar=eps_bar, eps_p=eps_p, xi=xi, slope=a, intercept=b, r2=r2,
                                 xi_monotone=xi_monotone, r2_monotone=r2_monotone,
                                 eta=eta, f_learned=stress, f_true=f_true, g_learned=g_learned, g_true=g_true,
                                 f_error=_rel(stress, f_true), g_error=_rel(g_learned, g_true))


INTERNAL_COLUMNS = ["producer", "case", "variant", "k", "train_steps", "test_steps", "slope", "intercept", "r2",
                    "r2_monotone", "f_error", "g_error"]


def internal_rows(model: RNO, ds: xr.Dataset, *, law: Any, train_steps: int, test_steps: int | None = None):
    """One row (pandas DataFrame) of the internal-variable study for results/tables/rno_internal.csv (law: as
    internal_variable_study's)."""
    import pandas as pd

    steps = train_steps if test_steps is None else test_steps
    study = internal_variable_study(model, ds, steps, law=law)
    row = {"producer": ds.attrs["producer"], "case": ds.attrs["case"], "variant": model.variant, "k": model.k,
           "train_steps": int(train_steps), "test_steps": int(steps), **study.summary()}
    return pd.DataFrame([row], columns=INTERNAL_COLUMNS)
