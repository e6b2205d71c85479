"""The paper's Figures 1 and 10 (a), (b) from trained models, their datasets and the error table (PNG and PDF)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import matplotlib
import numpy as np
import pandas as pd
import torch
import xarray as xr

from dataset.figstyle import colors, figure, panel_label, save_figure
from fullfield.composite1d import effective_modulus, g_tilde  # the exact law, eqs. (14, 15)

from .data import trajectories
from .rno import RNO
from .study1d import internal_variable_study, material

TRUTH = "0.15"  # dark grey: data
THEORY = "#8b0000"  # dark red: exact effective law (paper Fig. 1e-f)


def _direct(errors: pd.DataFrame) -> pd.Series:
    """Rows of models trained directly on the whole training split: not the tagged transfer-learned ones
    (init_from set) nor those of a training-set-size study (train_size > 0)."""
    keep = pd.Series(True, index=errors.index)
    if "init_from" in errors.columns:
        keep &= errors["init_from"].fillna("") == ""
    if "train_size" in errors.columns:
        keep &= errors["train_size"].fillna(0) == 0
    return keep


def fig01(*, ds_paths: xr.Dataset, model_paths: RNO, ds_internal: xr.Dataset, model_internal: RNO,
          errors: pd.DataFrame, n_phases: Mapping[str, int], stem: str | os.PathLike, train_steps: int = 200,
          n_paths: int = 3) -> list[Path]:
    """Figure 1 (a)-(f) of the paper, written to ``stem``.png and .pdf.

    ds_paths, model_paths: a case (paper: N = 3) and its k = 1 model, for (a) inputs and (b) stress of the first
    ``n_paths`` test paths at ``train_steps``; errors: rno_errors.csv rows, of which (c) plots those of
    ds_paths' producer and model_paths' variant tested at train_steps, against k, one line per case (N from
    n_phases: case -> N); ds_internal, model_internal: a composite1d case (paper: N = 1) and its k = 1 "evp" model
    for (d) learned vs true internal variable, (e) f~ and (f) g~ (learning.study1d).
    """
    fig, axes = figure(2, 3, figsize=(11.0, 6.4), layout="constrained")
    (ax_a, ax_b, ax_c), (ax_d, ax_e, ax_f) = axes
    test = trajectories(ds_paths, "test", train_steps)
    x, _, time = test.tensors("cpu", torch.float32)
    with torch.no_grad():
        approx = model_paths(x[:n_paths], time).double().numpy()
    path_colors = [f"C{i}" for i in range(n_paths)]
    for i, c in enumerate(path_colors):
        ax_a.plot(test.time, test.x[i, :, 0], color=c, lw=1.2)
        ax_b.plot(test.time, test.stress[i, :, 0], color=c, lw=1.2, label="truth" if i == 0 else None)
        ax_b.plot(test.time, approx[i, :, 0], color="k", lw=1.0, ls="--", label="RNO (k = 1)" if i == 0 else None)
    ax_a.set(xlabel="time t (s)", ylabel=r"average strain $\bar\varepsilon$ (-)")
    ax_b.set(xlabel="time t (s)", ylabel=r"stress $\sigma$ (MPa)")
    ax_b.legend(loc="best", fontsize=8)
    n_case = n_phases.get(ds_paths.attrs["case"], "?")
    panel_label(ax_a, "a")
    panel_label(ax_b, "b")
    ax_b.set_title(f"N = {n_case}, test paths", loc="right", fontsize=8)

    rows = errors[(errors["producer"] == ds_paths.attrs["producer"]) & (errors["variant"] == model_paths.variant)
                  & _direct(errors)
                  & (errors["train_steps"] == train_steps) & (errors["test_steps"] == train_steps)]
    cases = sorted(set(rows["case"]), key=lambda c: (n_phases.get(c, 10**9), c))
    cmap = colors(len(cases))
    for i, case in enumerate(cases):
        r = rows[rows["case"] == case].sort_values("k")
        ax_c.semilogy(r["k"], r["error"], "o-", color=cmap[i], ms=4, lw=1.2, label=f"N = {n_phases.get(case, case)}")
    ax_c.set(xlabel="number of internal variables k", ylabel="mean test error (eq. 16)")
    if len(rows):
        ax_c.set_xticks(sorted(set(int(k) for k in rows["k"])))
    ax_c.legend(fontsize=7, ncol=2, loc="best")
    panel_label(ax_c, "c")

    study = internal_variable_study(model_internal, ds_internal, train_steps)
    ax_d.plot(study.time, study.eps_p[0], color=TRUTH, lw=1.6, label=r"true $\langle\varepsilon_p\rangle$")
    ax_d.plot(study.time, study.slope * study.xi[0] + study.intercept, color=THEORY, lw=1.0, ls="--",
              label=rf"learned $a\xi + b$ ($R^2$ = {study.r2:.4f})")
    ax_d.set(xlabel="time t (s)", ylabel="internal variable (-)")
    ax_d.legend(fontsize=8, loc="best")
    panel_label(ax_d, "d")
    ax_d.set_title(f"N = {n_phases.get(ds_internal.attrs['case'], '?')}, a test path", loc="right", fontsize=8)

    pts = slice(0, n_paths)
    eta_true = study.eps_bar[pts] - study.eps_p[pts]  # the exact law is drawn over the range the data visit
    eta_line = np.linspace(eta_true.min(), eta_true.max(), 400)
    mat = material(ds_internal)
    for ax, learned, exact, ylabel, letter, err in (
            (ax_e, study.f_learned, effective_modulus(mat["E"]) * eta_line, r"$\tilde f$: stress (MPa)", "e",
             study.f_error),
            (ax_f, study.g_learned, g_tilde(eta_line, mat), r"$\tilde g$: $d\langle\varepsilon_p\rangle/dt$ (1/s)",
             "f", study.g_error)):
        ax.plot(study.eta[pts].ravel(), learned[pts].ravel(), ".", color="0.6", ms=2.5, label="learned")
        ax.plot(eta_line, exact, color=THEORY, lw=1.4, label="exact (eqs. 14-15)")
        ax.set(xlabel=r"$\eta = \bar\varepsilon - \hat\xi$ (-)", ylabel=ylabel)
        ax.legend(fontsize=8, loc="best", title=f"rel. L2 difference {err:.3f}", title_fontsize=7)
        panel_label(ax, letter)
    return save_figure(fig, stem)


def fig10_resolution(errors: pd.DataFrame, *, producer: str, case: str, k: int, train_steps: int,
                     stem: str | os.PathLike) -> list[Path]:
    """Figure 10 (a) or (b): mean test error vs test resolution of the "evp" and "ve" RNOs (stress target, whole
    training split) of one case trained at ``train_steps``."""
    fig, ax = figure(figsize=(4.8, 3.6), layout="constrained")
    rows = errors[(errors["producer"] == producer) & (errors["case"] == case) & (errors["k"] == k)
                  & _direct(errors)
                  & (errors["train_steps"] == train_steps)]
    if "target" in rows.columns:
        rows = rows[rows["target"] == "stress"]
    for variant, label, marker in (("evp", "E-VP (eq. 2)", "o"), ("ve", "VE (eq. 7)", "s")):
        r = rows[rows["variant"] == variant].sort_values("test_steps")
        if len(r) == 0:
            raise ValueError(f"fig10: no rows for {producer}/{case}/{variant}-k{k} trained at {train_steps} steps")
        ax.loglog(r["test_steps"], r["error"], marker=marker, lw=1.2, ms=5, label=label)
    steps = sorted(set(int(n) for n in rows["test_steps"]))
    ax.set_xticks(steps, [str(n) for n in steps])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.axvline(train_steps, color="0.5", ls=":", lw=1.0, label=f"training resolution ({train_steps})")
    ax.set(xlabel="test resolution (time steps)", ylabel="mean test error (eq. 16)",
           title=f"{producer} {case}, k = {k}")
    ax.legend(fontsize=8, loc="best")
    return save_figure(fig, stem)
