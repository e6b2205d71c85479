"""Figure 9 of the paper (the classical paths: truth vs the RNO vs Johnson-Cook) and the baselines' additions to
Figure 8 (a PCA-Net line in (a), PCA-Net and Johnson-Cook in an inset of (b)). Units: MPa, s; strains are
logarithmic.

Inputs: ``predictions`` (JSON of pipeline.baselines.evaluate: names, time (s), F and the stress components
(B, n_time, 6) of "truth", "rno", "johnson_cook_classical", "johnson_cook_random", in the order of
learning.data.component_names(3)) and ``errors``, the table results/tables/baseline_errors.csv (model, case,
train_size, paths, error). Each legend gives that model's error (eq. 16) on the paths drawn, from the table.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from dataset.figstyle import figure, panel_label, save_figure

from .data import component_names
from .panels import ERROR_LABEL, select_errors

#: model -> (legend name, colour, line style); the truth is drawn solid black
STYLES = {"rno": ("RNO", "tab:blue", "--"),
          "johnson_cook_classical": ("JC, fitted to classical tests", "tab:red", ":"),
          "johnson_cook_random": ("JC, fitted to random paths", "tab:orange", "-.")}
C11, C22 = component_names(3).index((0, 0)), component_names(3).index((1, 1))


def _error(errors: pd.DataFrame, case: str, model: str, paths: str) -> tuple[float | None, int]:
    """(the row's error, None if empty; how many paths the model could not follow)."""
    rows = select_errors(errors, case=case, model=model, paths=paths)
    if rows.empty:
        return None, 0
    row = rows.iloc[-1]
    failed = int(row["failed"]) if "failed" in row and pd.notna(row["failed"]) else 0
    return (None if pd.isna(row["error"]) else float(row["error"])), failed


def _label(name: str, err: tuple[float | None, int], n_paths: int) -> str:
    value, failed = err
    text = [] if value is None else [f"{100 * value:.1f} %"]
    if failed:
        text.append(f"failed on {failed} of {n_paths}")
    return f"{name} ({', '.join(text)})" if text else name


def fig09(*, stem: str | os.PathLike, spec: Mapping[str, Any], predictions: Mapping[str, Any],
          errors: pd.DataFrame) -> list[Path]:
    """Figure 9 to ``stem``.png/.pdf: (a) uniaxial tension, sigma_11 vs eps_11; (b) cavity expansion, the radial
    and hoop stresses vs the hoop strain ln lambda; (c) uniaxial cyclic loading, sigma_11 vs eps_11 at every
    amplitude. spec: "case" (the training case of the error rows), "models" (which of STYLES to draw; default all
    in the predictions), optional "k" and "note"."""
    names = list(predictions["names"])
    F = np.asarray(predictions["F"], float)
    truth = np.asarray(predictions["truth"], float)
    models = [m for m in spec.get("models", list(STYLES)) if m in predictions]
    case = spec["case"]
    fig, axes = figure(1, 3, figsize=(11.0, 3.6), layout="constrained")
    kinds = {"uniaxial": [i for i, n in enumerate(names) if n == "uniaxial"],
             "cavity": [i for i, n in enumerate(names) if n == "cavity"],
             "cyclic": [i for i, n in enumerate(names) if n.startswith("cyclic")]}
    titles = {"uniaxial": "uniaxial tension", "cavity": "cavity expansion", "cyclic": "uniaxial cyclic loading"}
    for ax, (letter, kind) in zip(axes, zip("abc", kinds)):
        idx = kinds[kind]
        if not idx:
            raise ValueError(f"fig09: the predictions have no {kind} path")
        comps = [(C11, "-", r"$\sigma_{rr}$"), (C22, "--", r"$\sigma_{\theta\theta}$")] if kind == "cavity" \
            else [(C11, "-", None)]
        x = np.log(F[..., C22 if kind == "cavity" else C11])
        for c, ls, what in comps:
            for j, b in enumerate(idx):
                ax.plot(x[b], truth[b, :, c], color="k", lw=1.4, ls=ls,
                        label=(f"truth, {what}" if what else "truth") if j == 0 else None)
        for m in models:
            name, color, ls = STYLES[m]
            approx = np.asarray(predictions[m], float)
            stop = np.asarray(predictions.get(f"{m}_failed_step", [-1] * len(names)), int)
            for c, _, _ in comps:
                for j, b in enumerate(idx):
                    end = stop[b] if stop[b] >= 0 else approx.shape[1]  # a failed path: drawn up to its failure
                    ax.plot(x[b, :end], approx[b, :end, c], color=color, ls=ls, lw=1.1,
                            label=_label(name, _error(errors, case, m, kind), len(idx))
                            if (j == 0 and c == comps[0][0]) else None)
        if kind == "cavity":
            ax.set(xlabel=r"hoop strain $\ln\lambda$ (-)", ylabel=r"Cauchy stress (MPa)")
        else:
            ax.set(xlabel=r"axial strain $\ln F_{11}$ (-)", ylabel=r"Cauchy stress $\sigma_{11}$ (MPa)")
        note = titles[kind] + (f", {len(idx)} amplitudes" if kind == "cyclic" else "")
        panel_label(ax, letter, note)
        ax.legend(fontsize=6.5, loc="best", framealpha=0.9)
    return save_figure(fig, stem, spec.get("note", ""))


def add_fig08_baselines(ax_a, ax_b, errors: pd.DataFrame, case: str, rno_sizes: pd.DataFrame | None = None):
    """The baselines of Figure 8: in (a) a dashed line at the PCA-Net's test error at its largest training size;
    in an inset of (b) the PCA-Net's test error vs training size, the RNO's (rno_sizes: train_size, error; None:
    the table's rno rows) and Johnson-Cook's (fitted to the classical tests and to random paths, markers at their
    fitted sizes). Returns the inset axes (None when the table has no baseline rows for ``case``)."""
    rnd = select_errors(errors, case=case, paths="random")
    pca = rnd[rnd["model"] == "pca_net"].sort_values("train_size")
    if not pca.empty:
        top = pca.iloc[-1]
        ax_a.axhline(float(top["error"]), color="k", ls="--", lw=1.0,
                     label=f"PCA-Net, {int(top['train_size'])} paths")
        ax_a.legend(fontsize=7, loc="best")
    if rnd.empty:
        return None
    inset = ax_b.inset_axes([0.55, 0.55, 0.42, 0.4])
    if not pca.empty:
        inset.loglog(pca["train_size"], pca["error"], "s--", color="k", ms=3, lw=1.0, label="PCA-Net")
    rno = rnd[rnd["model"] == "rno"][["train_size", "error"]] if rno_sizes is None else rno_sizes
    if len(rno):
        rno = rno.sort_values("train_size")
        inset.loglog(rno["train_size"], rno["error"], "o-", color="tab:blue", ms=3, lw=1.0, label="RNO")
    for m in ("johnson_cook_classical", "johnson_cook_random"):
        r = rnd[rnd["model"] == m]
        if len(r):
            inset.loglog(r["train_size"], r["error"], "^" if m.endswith("classical") else "v",
                         color=STYLES[m][1], ms=4, ls="none", label=STYLES[m][0])
    inset.set_xlabel("training paths", fontsize=6)
    inset.set_ylabel(ERROR_LABEL, fontsize=6)
    inset.tick_params(labelsize=6)
    inset.legend(fontsize=5, loc="best")
    return inset
