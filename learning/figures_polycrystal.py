"""The paper's Figures 7 and 8 (Section 5, polycrystals), PNG and PDF via dataset.figstyle.

Figure 7 (2D full-field polycrystal, Section 5.1): separate RNOs for the deviatoric stress and the pressure
(eq. 28); Figure 8 (3D Taylor-averaged magnesium, Section 5.2): one RNO for the stress. Inputs are computed
artefacts only: results/tables/rno_errors.csv (eq. 16 at the training resolution), the training histories, one
dataset and one trained model for the path panels ("a test path": the first of the test split, at the training
resolution). Figure 10(b) is learning.figures.fig10 on the Taylor models. Every function has the figure table's
draw signature (learning.figures): keyword-only stem, spec (with train_steps; fig07: history_ks) and the loaded
inputs; it returns the written paths.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd
import torch
import xarray as xr

from dataset.figstyle import colors, figure, panel_label, save_figure

from .data import component_names, trajectories
from .panels import error_curve, error_vs_k, select_errors, truth_vs_model
from .rno import RNO
from .train import evaluate_error


def _rows(errors: pd.DataFrame, *, producer: str, variant: str, target: str, train_steps: int,
          sized: bool = False) -> pd.DataFrame:
    """Error rows of directly trained models of one target tested at the training resolution; ``sized``: those
    of the training-set-size study (train_size > 0) instead of the whole-split ones."""
    return select_errors(errors, producer=producer, variant=variant, target=target, init_from="",
                         train_steps=train_steps, test_steps=train_steps,
                         train_size=(lambda n: n > 0) if sized else 0)


def _error_vs_k(ax, rows: pd.DataFrame, cases: Sequence[str], what: str) -> None:
    error_vs_k(ax, rows, [({"case": case}, case, {"color": color}) for color, case in zip(colors(len(cases)), cases)],
               ks=set(int(k) for k in rows[rows["case"].isin(cases)]["k"]),
               ylabel=f"mean test error, {what} (eq. 16)", what=what)


def _input_panel(ax, traj, i: int = 0) -> None:
    """F_ij - delta_ij of test path i, independent components."""
    d = traj.d
    for m, ((a, b), color) in enumerate(zip(component_names(d), colors(traj.x.shape[-1]))):
        ax.plot(traj.time, traj.x[i, :, m] - (1.0 if a == b else 0.0), color=color, lw=1.2,
                label=rf"$\bar F_{{{a + 1}{b + 1}}}{' - 1' if a == b else ''}$")
    ax.set(xlabel="time t (s)", ylabel=r"$\bar F_{ij} - \delta_{ij}$ (-)")
    ax.legend(fontsize=7, loc="best", ncol=2)


def _truth_vs_rno(ax, traj, model: RNO, symbol: str, ylabel: str, i: int = 0) -> float:
    """Target components of test path i: truth (solid) vs RNO (dashed); returns that path's eq. (16) error."""
    x, _, time = traj.tensors("cpu", torch.float32)
    with torch.no_grad():
        approx = model(x[i:i + 1], time)[0].double().numpy()
    n_out = traj.stress.shape[-1]
    truth_vs_model(ax, traj.time, traj.stress[i].T, approx.T, colors=colors(n_out), ylabel=ylabel,
                   labels=[rf"${symbol}_{{{a + 1}{b + 1}}}$" for a, b in component_names(traj.d)[:n_out]],
                   truth_lw=1.3, ncol=2)
    one = dataclasses.replace(traj, x=traj.x[i:i + 1], stress=traj.stress[i:i + 1], sample=traj.sample[i:i + 1])
    return float(evaluate_error(model, one)[0])


def fig07(*, stem: str | os.PathLike, spec: Mapping[str, Any], errors: pd.DataFrame, ds_paths: xr.Dataset,
          model_paths: RNO, histories: Sequence[list]) -> list[Path]:
    """Figure 7 (a)-(f) of the paper, written to ``stem``.png and .pdf.

    (a) training error per epoch of the deviatoric RNOs of spec["epochs_case"], one line per k (``histories``:
    their history.json rows, ordered as spec["history_ks"]); (b), (c) deviatoric and pressure test error vs k for
    spec["cases"]; (d) the input F_bar of a test path of ds_paths; (e) its deviatoric stress, truth vs model_paths
    (a deviatoric RNO); (f) deviatoric test error vs k for spec["hardening_cases"].
    """
    train_steps = int(spec["train_steps"])
    histories = dict(zip((int(k) for k in spec["history_ks"]), histories))
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
    err = _truth_vs_rno(ax_e, test, model_paths, r"\bar\sigma^{\rm dev}",
                        r"deviatoric stress $\bar\sigma^{\rm dev}_{ij}$ (MPa)")
    panel_label(ax_e, "e", f"k = {model_paths.k}, error {100 * err:.2f} %")

    _error_vs_k(ax_f, dev, spec["hardening_cases"], "deviatoric")
    panel_label(ax_f, "f", "strain hardening")
    return save_figure(fig, stem, spec.get("note", ""))


def fig08(*, stem: str | os.PathLike, spec: Mapping[str, Any], errors: pd.DataFrame, ds_paths: xr.Dataset,
          model_paths: RNO, baseline_errors: pd.DataFrame | None = None) -> list[Path]:
    """Figure 8 (a)-(d) of the paper, to ``stem``.png/.pdf; with ``baseline_errors`` (results/tables/
    baseline_errors.csv) also its PCA-Net line in (a) and the PCA-Net and Johnson-Cook inset of (b).

    (a) test error vs k for spec["case"]; (b) test error vs number of training trajectories at k = spec["size_k"]
    (the models of spec["train_sizes"] and the one trained on the whole split); (c) the input F_bar of a test path
    of ds_paths; (d) its stress, truth vs model_paths.
    """
    train_steps = int(spec["train_steps"])
    p, v, case = spec["producer"], spec["variant"], spec["case"]
    fig, axes = figure(2, 2, figsize=(9.0, 6.8), layout="constrained")
    (ax_a, ax_b), (ax_c, ax_d) = axes
    full = _rows(errors, producer=p, variant=v, target="stress", train_steps=train_steps)
    full = select_errors(full, case=case)
    _error_vs_k(ax_a, full, [case], "stress")
    panel_label(ax_a, "a")

    n_full = int((np.asarray(ds_paths["split"].values).astype(str) == "train").sum())
    k = int(spec["size_k"])
    sized = _rows(errors, producer=p, variant=v, target="stress", train_steps=train_steps, sized=True)
    sized = select_errors(sized, case=case, k=k)[["train_size", "error"]]
    whole = select_errors(full, k=k)[["error"]].assign(train_size=n_full)
    r = pd.concat([sized, whole])
    if len(r) < 2:
        raise ValueError(f"fig08 (b): need models at two or more training-set sizes for {case}, k = {k}")
    r = error_curve(ax_b, r, f"RNO, k = {k}", x="train_size", logx=True, color=colors(1)[0])
    ax_b.set_xticks(list(r["train_size"]), [str(int(n)) for n in r["train_size"]])
    ax_b.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax_b.set(xlabel="training trajectories", ylabel="mean test error (eq. 16)")
    ax_b.legend(fontsize=7, loc="best")
    panel_label(ax_b, "b")
    if baseline_errors is not None:
        from .figures_baselines import add_fig08_baselines

        add_fig08_baselines(ax_a, ax_b, baseline_errors, case, rno_sizes=r)

    test = trajectories(ds_paths, "test", train_steps)
    _input_panel(ax_c, test)
    panel_label(ax_c, "c", f"{case}, a test path")
    err = _truth_vs_rno(ax_d, test, model_paths, r"\bar\sigma", r"Cauchy stress $\bar\sigma_{ij}$ (MPa)")
    panel_label(ax_d, "d", f"k = {model_paths.k}, error {100 * err:.2f} %")
    return save_figure(fig, stem, spec.get("note", ""))
