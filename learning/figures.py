"""The paper's Figures 1 and 10 (a), (b) from trained models, their datasets and the error table (PNG and PDF).

Every figure function has the figure table's draw signature: keyword-only, ``stem`` (the output path without its
suffix), ``spec`` (the figure's config section with its defaults, plus train_steps) and its inputs, loaded; it
returns the written paths (dataset.figstyle.save_figure).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import matplotlib
import numpy as np
import pandas as pd
import torch
import xarray as xr

from dataset.figstyle import colors, figure, panel_label, save_figure

from .data import trajectories
from .panels import error_curve, error_vs_k, select_errors, truth_vs_model
from .rno import RNO
from .study1d import internal_variable_study, material

TRUTH = "0.15"  # dark grey: data
THEORY = "#8b0000"  # dark red: exact effective law (paper Fig. 1e-f)


def fig01(*, stem: str | os.PathLike, spec: Mapping[str, Any], law: Any, errors: pd.DataFrame,
          ds_paths: xr.Dataset, model_paths: RNO, ds_internal: xr.Dataset, model_internal: RNO) -> list[Path]:
    """Figure 1 (a)-(f) of the paper, written to ``stem``.png and .pdf.

    ds_paths, model_paths: a case (paper: N = 3) and its k = 1 model, for (a) inputs and (b) stress of the first
    spec["n_paths"] test paths at spec["train_steps"]; errors: rno_errors.csv rows, of which (c) plots those of
    ds_paths' producer and model_paths' variant tested at train_steps, against k, one line per case (N from
    spec["n_phases"]: case -> N); ds_internal, model_internal: a composite1d case (paper: N = 1) and its k = 1
    "evp" model for (d) learned vs true internal variable, (e) f~ and (f) g~ (learning.study1d; law: the exact
    effective law, fullfield.composite1d).
    """
    train_steps, n_paths, n_phases = int(spec["train_steps"]), int(spec["n_paths"]), spec["n_phases"]
    fig, axes = figure(2, 3, figsize=(11.0, 6.4), layout="constrained")
    (ax_a, ax_b, ax_c), (ax_d, ax_e, ax_f) = axes
    test = trajectories(ds_paths, "test", train_steps)
    x, _, time = test.tensors("cpu", torch.float32)
    with torch.no_grad():
        approx = model_paths(x[:n_paths], time).double().numpy()
    path_colors = [f"C{i}" for i in range(n_paths)]
    for i, c in enumerate(path_colors):
        ax_a.plot(test.time, test.x[i, :, 0], color=c, lw=1.2)
    ax_a.set(xlabel="time t (s)", ylabel=r"average strain $\bar\varepsilon$ (-)")
    truth_vs_model(ax_b, test.time, test.stress[:, :, 0], approx[:, :, 0], colors=path_colors,
                   ylabel=r"stress $\sigma$ (MPa)", model_label="RNO (k = 1)", fontsize=8)
    n_case = n_phases.get(ds_paths.attrs["case"], "?")
    panel_label(ax_a, "a")
    panel_label(ax_b, "b")
    ax_b.set_title(f"N = {n_case}, test paths", loc="right", fontsize=8)

    rows = select_errors(errors, producer=ds_paths.attrs["producer"], variant=model_paths.variant, init_from="",
                         train_size=0, train_steps=train_steps, test_steps=train_steps)
    cases = sorted(set(rows["case"]), key=lambda c: (n_phases.get(c, 10**9), c))
    error_vs_k(ax_c, rows, [({"case": case}, f"N = {n_phases.get(case, case)}", {"color": color})
                            for case, color in zip(cases, colors(len(cases)))],
               ks=set(int(k) for k in rows["k"]) if len(rows) else None, ncol=2)
    panel_label(ax_c, "c")

    study = internal_variable_study(model_internal, ds_internal, train_steps, law=law)
    ax_d.plot(study.time, study.eps_p[0], color=TRUTH, lw=1.6, label=r"true $\langle\varepsilon_p\rangle$")
    ax_d.plot(study.time, study.slope * study.xi[0] + study.intercept, color=THEORY, lw=1.0, ls="--",
              label=rf"learned $a\xi + b$ ($R^2$ = {study.r2:.4f})")
    ax_d.plot(study.time, study.xi_monotone[0], color=THEORY, lw=1.0, ls=":",
              label=rf"learned $\varphi(\xi)$, monotone ($R^2$ = {study.r2_monotone:.4f})")
    ax_d.set(xlabel="time t (s)", ylabel="internal variable (-)")
    ax_d.legend(fontsize=8, loc="best")
    panel_label(ax_d, "d")
    ax_d.set_title(f"N = {n_phases.get(ds_internal.attrs['case'], '?')}, a test path", loc="right", fontsize=8)

    pts = slice(0, n_paths)
    eta_true = study.eps_bar[pts] - study.eps_p[pts]  # the exact law is drawn over the range the data visit
    eta_line = np.linspace(eta_true.min(), eta_true.max(), 400)
    mat = material(ds_internal)
    for ax, learned, exact, ylabel, letter, err in (
            (ax_e, study.f_learned, law.effective_modulus(mat["E"]) * eta_line, r"$\tilde f$: stress (MPa)", "e",
             study.f_error),
            (ax_f, study.g_learned, law.g_tilde(eta_line, mat), r"$\tilde g$: $d\langle\varepsilon_p\rangle/dt$ (1/s)",
             "f", study.g_error)):
        ax.plot(study.eta[pts].ravel(), learned[pts].ravel(), ".", color="0.6", ms=2.5, label="learned")
        ax.plot(eta_line, exact, color=THEORY, lw=1.4, label="exact (eqs. 14-15)")
        ax.set(xlabel=r"$\eta = \bar\varepsilon - \hat\xi$ (-)", ylabel=ylabel)
        ax.legend(fontsize=8, loc="best", title=f"rel. L2 difference {err:.3f}", title_fontsize=7)
        panel_label(ax, letter)
    return save_figure(fig, stem, spec.get("note", ""))


def fig10(*, stem: str | os.PathLike, spec: Mapping[str, Any], errors: pd.DataFrame) -> list[Path]:
    """Figure 10 (a) or (b): mean test error vs test resolution of the "evp" and "ve" RNOs (stress target, whole
    training split, directly trained) of spec["producer"], spec["case"], k = spec["k"] trained at
    spec["train_steps"]."""
    producer, case, k, train_steps = spec["producer"], spec["case"], int(spec["k"]), int(spec["train_steps"])
    fig, ax = figure(figsize=(4.8, 3.6), layout="constrained")
    rows = select_errors(errors, producer=producer, case=case, k=k, init_from="", train_size=0,
                         train_steps=train_steps, target="stress")
    for variant, label, marker in (("evp", "E-VP (eq. 2)", "o"), ("ve", "VE (eq. 7)", "s")):
        r = select_errors(rows, variant=variant)
        if len(r) == 0:
            raise ValueError(f"fig10: no rows for {producer}/{case}/{variant}-k{k} trained at {train_steps} steps")
        error_curve(ax, r, label, x="test_steps", logx=True, marker=marker, ms=5)
    steps = sorted(set(int(n) for n in rows["test_steps"]))
    ax.set_xticks(steps, [str(n) for n in steps])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.axvline(train_steps, color="0.5", ls=":", lw=1.0, label=f"training resolution ({train_steps})")
    ax.set(xlabel="test resolution (time steps)", ylabel="mean test error (eq. 16)",
           title=f"{producer} {case}, k = {k}")
    ax.legend(fontsize=8, loc="best")
    return save_figure(fig, stem, spec.get("note", ""))
