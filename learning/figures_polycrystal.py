"""The paper's Figures 7 and 8 (Section 5, polycrystals), PNG and PDF via dataset.figstyle.

Figure 7 (2D full-field polycrystal, Section 5.1): separate RNOs for the deviatoric stress and the pressure
(eq. 28); Figure 8 (3D Taylor-averaged magnesium, Section 5.2): one RNO for the stress. Inputs are computed
artefacts only: results/tables/rno_errors.csv (eq. 16 at the training resolution), the training histories, one
dataset and one trained model for the path panels ("a test path": the first of the test split, at the training
resolution). Figure 10(b) is learning.figures.fig10_resolution on the Taylor models.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd
import torch
import xarray as xr

from dataset.figstyle import colors, figure, panel_label, save_figure

from .data import component_names, trajectories
from .rno import RNO
from .train import evaluate_error

TRUTH_STYLE = {"lw": 1.3}
RNO_STYLE = {"lw": 1.0, "ls": "--", "color": "k"}


def _rows(errors: pd.DataFrame, *, producer: str, variant: str, target: str, train_steps: int,
          sized: bool = False) -> pd.DataFrame:
    """Error rows of directly trained models of one target tested at the training resolution; ``sized``: those
    of the training-set-size study (train_size > 0) instead of the whole-split ones."""
    e = errors[(errors["producer"] == producer) & (errors["variant"] == variant) & (errors["target"] == target)
               & (errors["init_from"].fillna("") == "") & (errors["train_steps"] == train_steps)
               & (errors["test_steps"] == train_steps)]
    return e[e["train_size"] > 0] if sized else e[e["train_size"] == 0]


def _error_vs_k(ax, rows: pd.DataFrame, cases: Sequence[str], what: str) -> None:
    for color, case in zip(colors(len(cases)), cases):
        r = rows[rows["case"] == case].sort_values("k")
        if len(r) == 0:
            raise ValueError(f"no {what} error rows for case {case}")
        ax.semilogy(r["k"], r["error"], "o-", color=color, ms=4, lw=1.2, label=case)
    ax.set(xlabel="number of internal variables k", ylabel=f"mean test error, {what} (eq. 16)")
    ax.set_xticks(sorted(set(int(k) for k in rows[rows["case"].isin(cases)]["k"])))
    ax.legend(fontsize=7, loc="best")


def _input_panel(ax, traj, i: int = 0) -> None:
    """F_ij - delta_ij of test path i, independent components."""
    d = traj.d
    for m, ((a, b), color) in enumerate(zip(component_names(d), colors(traj.x.shape[-1]))):
        ax.plot(traj.time, traj.x[i, :, m] - (1.0 if a == b else 0.0), color=color, lw=1.2,
                label=rf"$\bar F_{{{a + 1}{b + 1}}}{' - 1' if a == b else ''}$")
    ax.set(xlabel="time t (s)", ylabel=r"$\bar F_{ij} - \delta_{ij}$ (-)")
    ax.legend(fontsize=7, loc="best", ncol=2)


def _truth_vs_rno(ax, traj, model: RNO, symbol: str, i: int = 0) -> float:
    """Target components of test path i: truth (solid) vs RNO (dashed); returns that path's eq. (16) error."""
    x, _, time = traj.tensors("cpu", torch.float32)
    with torch.no_grad():
        approx = model(x[i:i + 1], time)[0].double().numpy()
    for m, ((a, b), color) in enumerate(zip(component_names(traj.d), colors(traj.stress.shape[-1]))):
        ax.plot(traj.time, traj.stress[i, :, m], color=color, label=rf"${symbol}_{{{a + 1}{b + 1}}}$", **TRUTH_STYLE)
        ax.plot(traj.time, approx[:, m], label="RNO" if m == 0 else None, **RNO_STYLE)
    ax.legend(fontsize=7, loc="best", ncol=2)
    one = dataclasses.replace(traj, x=traj.x[i:i + 1], stress=traj.stress[i:i + 1], sample=traj.sample[i:i + 1])
    return float(evaluate_error(model, one)[0])


def fig07(*, errors: pd.DataFrame, histories: Mapping[int, list], ds_paths: xr.Dataset, model_paths: RNO,
          spec: Mapping, train_steps: int, stem: str | os.PathLike) -> list[Path]:
    """Figure 7 (a)-(f) of the paper, written to ``stem``.png and .pdf.

    (a) training error per epoch of the deviatoric RNOs of spec["epochs_case"], one line per k (``histories``:
    k -> history.json rows); (b), (c) deviatoric and pressure test error vs k for spec["cases"]; (d) the input
    F_bar of a test path of ds_paths; (e) its deviatoric stress, truth vs model_paths (a deviatoric RNO);
    (f) deviatoric test error vs k for spec["hardening_cases"].
    """
    p, v = spec["producer"], spec["variant"]
    fig, axes = figure(2, 3, figsize=(11.5, 6.6), layout="constrained")
    (ax_a, ax_b, ax_c), (ax_d, ax_e, ax_f) = axes
    ks = sorted(histories)
    for color, k in zip(colors(len(ks)), ks):
        h = histories[k]
        ax_a.semilogy([r["epoch"] for r in h], [r["train_error"] for r in h], color=color, lw=1.1, label=f"k = {k}")
    ax_a.set(xlabel="epoch", ylabel="training error, deviatoric (eq. 16)")
    ax_a.legend(fontsize=7, loc="best")
    panel_label(ax_a, "a", f"{spec['epochs_case']}, deviatoric")

    dev = _rows(errors, producer=p, variant=v, target="deviatoric", train_steps=train_steps)
    _error_vs_k(ax_b, dev, spec["cases"], "deviatoric")
    panel_label(ax_b, "b", "rate hardening")
    _error_vs_k(ax_c, _rows(errors, producer=p, variant=v, target="pressure", train_steps=train_steps),
                spec["cases"], "pressure")
    panel_label(ax_c, "c", "rate hardening")

    test = trajectories(ds_paths, "test", train_steps, "deviatoric")
    _input_panel(ax_d, test)
    panel_label(ax_d, "d", f"{ds_paths.attrs['case']}, a test path")
    err = _truth_vs_rno(ax_e, test, model_paths, r"\bar\sigma^{\rm dev}")
    ax_e.set(xlabel="time t (s)", ylabel=r"deviatoric stress $\bar\sigma^{\rm dev}_{ij}$ (MPa)")
    panel_label(ax_e, "e", f"k = {model_paths.k}, error {100 * err:.2f} %")

    _error_vs_k(ax_f, dev, spec["hardening_cases"], "deviatoric")
    panel_label(ax_f, "f", "strain hardening")
    return save_figure(fig, stem)


def fig08(*, errors: pd.DataFrame, ds_paths: xr.Dataset, model_paths: RNO, spec: Mapping, train_steps: int,
          stem: str | os.PathLike) -> list[Path]:
    """Figure 8 (a)-(d) of the paper (without its PCA-Net and Johnson-Cook comparisons), to ``stem``.png/.pdf.

    (a) test error vs k for spec["case"]; (b) test error vs number of training trajectories at k = spec["size_k"]
    (the models of spec["train_sizes"] and the one trained on the whole split); (c) the input F_bar of a test path
    of ds_paths; (d) its stress, truth vs model_paths.
    """
    p, v, case = spec["producer"], spec["variant"], spec["case"]
    fig, axes = figure(2, 2, figsize=(9.0, 6.8), layout="constrained")
    (ax_a, ax_b), (ax_c, ax_d) = axes
    full = _rows(errors, producer=p, variant=v, target="stress", train_steps=train_steps)
    full = full[full["case"] == case]
    _error_vs_k(ax_a, full, [case], "stress")
    panel_label(ax_a, "a")

    n_full = int((np.asarray(ds_paths["split"].values).astype(str) == "train").sum())
    k = int(spec["size_k"])
    sized = _rows(errors, producer=p, variant=v, target="stress", train_steps=train_steps, sized=True)
    sized = sized[(sized["case"] == case) & (sized["k"] == k)][["train_size", "error"]]
    whole = full[full["k"] == k][["error"]].assign(train_size=n_full)
    r = pd.concat([sized, whole]).sort_values("train_size")
    if len(r) < 2:
        raise ValueError(f"fig08 (b): need models at two or more training-set sizes for {case}, k = {k}")
    ax_b.loglog(r["train_size"], r["error"], "o-", ms=4, lw=1.2, color=colors(1)[0], label=f"RNO, k = {k}")
    ax_b.set_xticks(list(r["train_size"]), [str(int(n)) for n in r["train_size"]])
    ax_b.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax_b.set(xlabel="training trajectories", ylabel="mean test error (eq. 16)")
    ax_b.legend(fontsize=7, loc="best")
    panel_label(ax_b, "b")

    test = trajectories(ds_paths, "test", train_steps)
    _input_panel(ax_c, test)
    panel_label(ax_c, "c", f"{case}, a test path")
    err = _truth_vs_rno(ax_d, test, model_paths, r"\bar\sigma")
    ax_d.set(xlabel="time t (s)", ylabel=r"Cauchy stress $\bar\sigma_{ij}$ (MPa)")
    panel_label(ax_d, "d", f"k = {model_paths.k}, error {100 * err:.2f} %")
    return save_figure(fig, stem)
