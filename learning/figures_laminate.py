"""The paper's Figures 3-6 (Section 4, the elasto-viscoplastic laminate), PNG and PDF via dataset.figstyle.

Inputs are computed artefacts only (error tables, trained models, datasets): fig03 and fig06 (a)-(c) read
results/tables/rno_errors.csv (eq. 16) and one RNO; fig04 and fig06 (d)-(f) read results/tables/ae_errors.csv
(eq. 25) and autoencoders (learning.autoencoder); fig04 (d)-(f) the eq. (26) map; fig05 an RNO and its
xi -> micro-state decoder. "Test paths" are the first n_paths of the test split, at the training resolution.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import xarray as xr
from torch import nn

from dataset.figstyle import colors, figure, panel_label, save_figure

from .autoencoder import (Autoencoder, decode_latent, micro_data, reconstruct, reconstruction_error,
                          rno_internal)
from .rno import RNO
from .train import evaluate_error

STRESS = (r"$\bar\sigma_{11}$", r"$\bar\sigma_{12}$", r"$\bar\sigma_{22}$")  # learning.data component order


def _errors(errors: pd.DataFrame, producer: str, variant: str, train_steps: int) -> pd.DataFrame:
    e = errors[(errors["producer"] == producer) & (errors["variant"] == variant) & (errors["target"] == "stress")
               & (errors["train_size"] == 0)
               & (errors["train_steps"] == train_steps) & (errors["test_steps"] == train_steps)].copy()
    e["init_from"] = e["init_from"].fillna("") if "init_from" in e else ""
    return e


def _err_vs_k(ax, e: pd.DataFrame, case: str, init: str, **style) -> None:
    r = e[(e["case"] == case) & (e["init_from"] == init)].sort_values("k")
    if len(r) == 0:
        raise ValueError(f"no error rows for {case}{' <- ' + init if init else ''}")
    label = f"{case} \u2190 {init}" if init else case
    ax.semilogy(r["k"], r["error"], marker=style.pop("marker", "o"), ms=4, lw=1.2, label=label, **style)


def _k_axes(ax, ks) -> None:
    ax.set(xlabel="number of internal variables k", ylabel="mean test error (eq. 16)")
    ax.set_xticks(sorted(int(k) for k in ks))
    ax.legend(fontsize=7, loc="best")


def _truth_vs_rno(ax, ds: xr.Dataset, model: RNO, steps: int, n_paths: int) -> float:
    """sigma_11 of the first n_paths test paths: truth (solid) vs RNO (dashed); returns their mean eq. (16)."""
    test = micro_data(ds, "test", steps).traj
    stress, _ = rno_internal(model, test)
    for i, c in enumerate(colors(n_paths)[:min(n_paths, len(test.sample))]):
        ax.plot(test.time, test.stress[i, :, 0], color=c, lw=1.2, label="truth" if i == 0 else None)
        ax.plot(test.time, stress[i, :, 0], color="k", lw=0.9, ls="--", label="RNO" if i == 0 else None)
    ax.set(xlabel="time t (s)", ylabel=r"average stress $\bar\sigma_{11}$ (MPa)")
    ax.legend(fontsize=7, loc="best")
    return float(evaluate_error(model, test).mean())


def _ae_error_panel(ax, ae_errors: pd.DataFrame, producer: str, cases) -> None:
    palette = colors(len(cases))
    for c, case in zip(palette, cases):
        r = ae_errors[(ae_errors["producer"] == producer) & (ae_errors["case"] == case)].sort_values("latent")
        if len(r) == 0:
            raise ValueError(f"no autoencoder rows for {producer}/{case}")
        ax.semilogy(r["latent"], r["test_error"], "o-", color=c, ms=4, lw=1.2, label=case)
    ax.set(xlabel="latent size m (reduced variables)", ylabel="reconstruction error (eq. 25)")
    ax.set_xticks(sorted(set(int(m) for m in ae_errors["latent"])))
    ax.legend(fontsize=7, loc="best")


def _parity(ax, truth: np.ndarray, approx: np.ndarray, labels, what: str) -> None:
    """approx vs truth per micro-state variable (points of the given paths), with the identity line."""
    palette = colors(len(labels))
    for j, (c, name) in enumerate(zip(palette, labels)):
        ax.plot(truth[..., j].ravel(), approx[..., j].ravel(), ".", ms=2.0, color=c, label=_micro_tex(name))
    lo, hi = float(np.min(truth)), float(np.max(truth))
    ax.plot([lo, hi], [lo, hi], color="0.3", lw=0.8, ls=":")
    ax.set(xlabel="computed model variable (-)", ylabel=f"{what} (-)")
    ax.legend(fontsize=6, ncol=2, loc="best", markerscale=3)


def _micro_tex(name: str) -> str:
    var, layer = name[:-1], name[-1]
    if var == "q":
        return f"$q^{{{layer}}}$"
    return rf"$\varepsilon^{{p{layer}}}_{{{var[-2:]}}}$"


def _layers(ax, micro: np.ndarray, labels) -> None:
    """Model variables of the + layer against those of the - layer (Figures 4c, 6f)."""
    names = [lab[:-1] for lab in labels[::2]]
    for j, (c, var) in enumerate(zip(colors(len(names)), names)):
        plus, minus = micro[..., labels.index(var + "+")], micro[..., labels.index(var + "-")]
        tex = "q" if var == "q" else rf"\varepsilon^p_{{{var[-2:]}}}"
        ax.plot(plus.ravel(), minus.ravel(), ".", ms=2.0, color=c, label=f"${tex}$")
    lo, hi = float(np.min(micro)), float(np.max(micro))
    ax.plot([lo, hi], [lo, hi], color="0.3", lw=0.8, ls=":")
    ax.set(xlabel="model variable, + layer (-)", ylabel="model variable, \u2212 layer (-)")
    ax.legend(fontsize=7, loc="best", markerscale=3)


def _ae_panels(ax_err, ax_rec, ax_lay, ae_errors, producer, cases, ds, ae: Autoencoder, steps, n_paths):
    _ae_error_panel(ax_err, ae_errors, producer, cases)
    test = micro_data(ds, "test", steps)
    x = test.micro[:n_paths]
    _parity(ax_rec, x, reconstruct(ae, x), test.labels, f"reconstructed, m = {ae.m}")
    _layers(ax_lay, x, test.labels)
    return ds.attrs["case"]


def fig03(*, errors: pd.DataFrame, spec: Mapping, ds_paths: xr.Dataset, model_paths: RNO, train_steps: int,
          stem: str | os.PathLike) -> list[Path]:
    """Figure 3: (a) error vs k, reference direct and cases <- reference; (b) truth vs RNO; (c)-(f) direct vs
    transfer for up to four cases."""
    fig, axes = figure(2, 3, figsize=(11.0, 6.6), layout="constrained")
    e = _errors(errors, spec["producer"], spec["variant"], train_steps)
    cases = [c for c in spec["cases"] if c != spec["reference"]]
    ax = axes[0, 0]
    _err_vs_k(ax, e, spec["reference"], "", color="tab:green")
    for c, case in zip(colors(len(cases)), cases):
        _err_vs_k(ax, e, case, spec["reference"], color=c)
    _k_axes(ax, spec["k"])
    panel_label(ax, "a", "transfer learning")
    err = _truth_vs_rno(axes[0, 1], ds_paths, model_paths, train_steps, int(spec["n_paths"]))
    panel_label(axes[0, 1], "b", f"{ds_paths.attrs['case']}, k = {model_paths.k}, error {err:.3f}")
    panels = [axes[0, 2], *axes[1]]
    for letter, ax, case in zip("cdef", panels, cases):
        _err_vs_k(ax, e, case, "", color="tab:blue")
        _err_vs_k(ax, e, case, spec["reference"], color="tab:orange", marker="s")
        _k_axes(ax, spec["k"])
        panel_label(ax, letter, f"{case}: direct vs transfer")
    for ax in panels[len(cases):]:
        ax.set_axis_off()
    return save_figure(fig, stem)


def fig04(*, ae_errors: pd.DataFrame, spec: Mapping, ds: xr.Dataset, ae: Autoencoder, latent_map: RNO,
          train_steps: int, stem: str | os.PathLike) -> list[Path]:
    """Figure 4: (a) eq. 25 vs m; (b) reconstructed vs computed; (c) + vs - layer; (d)-(f) the eq. 26 map."""
    fig, axes = figure(2, 3, figsize=(11.0, 6.6), layout="constrained")
    n = int(spec["n_paths"])
    case = _ae_panels(axes[0, 0], axes[0, 1], axes[0, 2], ae_errors, spec["producer"], spec["cases"], ds, ae,
                      train_steps, n)
    panel_label(axes[0, 0], "a", "autoencoders")
    panel_label(axes[0, 1], "b", f"{case}, {n} test paths")
    panel_label(axes[0, 2], "c", f"{case}, {n} test paths")
    test = micro_data(ds, "test", train_steps)
    stress, xi = rno_internal(latent_map, test.traj)
    micro = decode_latent(ae, xi)
    err = float(evaluate_error(latent_map, test.traj).mean())
    t = test.traj.time
    ax = axes[1, 0]
    for j, (c, name) in enumerate(zip(("C0", "C1", "C2"), STRESS)):
        ax.plot(t, test.traj.stress[0, :, j], color=c, lw=1.3, label=f"{name} computed")
        ax.plot(t, stress[0, :, j], color=c, lw=1.0, ls="--")
    ax.set(xlabel="time t (s)", ylabel="average stress (MPa)")
    ax.legend(fontsize=7, loc="best", title="dashed: eq. (26) map", title_fontsize=7)
    panel_label(ax, "d", f"{case}, m = {ae.m}, mean error {err:.3f}")
    ax = axes[1, 1]
    for j, (c, name) in enumerate(zip(colors(len(test.labels)), test.labels)):
        ax.plot(t, test.micro[0, :, j], color=c, lw=1.3, label=_micro_tex(name))
        ax.plot(t, micro[0, :, j], color=c, lw=1.0, ls="--")
    ax.set(xlabel="time t (s)", ylabel="model variable (-)")
    ax.legend(fontsize=6, ncol=2, loc="best", title=r"dashed: $\psi_{AE}(\zeta)$, eq. (26)", title_fontsize=7)
    rec = reconstruction_error(test.micro, micro)
    panel_label(ax, "e", f"eq. (25) over the test split {rec:.3f}")
    ax = axes[1, 2]
    for i, c in enumerate(colors(n)[:min(n, stress.shape[0])]):
        ax.plot(t, test.traj.stress[i, :, 0], color=c, lw=1.2, label="computed" if i == 0 else None)
        ax.plot(t, stress[i, :, 0], color="k", lw=0.9, ls="--", label="eq. (26) map" if i == 0 else None)
    ax.set(xlabel="time t (s)", ylabel=r"average stress $\bar\sigma_{11}$ (MPa)")
    ax.legend(fontsize=7, loc="best")
    panel_label(ax, "f", f"{n} test paths")
    return save_figure(fig, stem)


def fig05(*, ds: xr.Dataset, model: RNO, decoder: nn.Module, train_steps: int, n_paths: int,
          stem: str | os.PathLike) -> list[Path]:
    """Figure 5: micro-state recovered from the RNO's internal variables, (a) one test path, (b) n_paths."""
    fig, (ax_a, ax_b) = figure(1, 2, figsize=(9.0, 3.8), layout="constrained")
    test = micro_data(ds, "test", train_steps)
    _, xi = rno_internal(model, test.traj)
    rec = reconstruct(decoder, xi)
    t = test.traj.time
    for j, (c, name) in enumerate(zip(colors(len(test.labels)), test.labels)):
        ax_a.plot(t, test.micro[0, :, j], color=c, lw=1.3, label=_micro_tex(name))
        ax_a.plot(t, rec[0, :, j], color=c, lw=1.0, ls="--")
    ax_a.set(xlabel="time t (s)", ylabel="model variable (-)")
    ax_a.legend(fontsize=6, ncol=2, loc="best", title=r"dashed: from $\xi$", title_fontsize=7)
    panel_label(ax_a, "a", f"{ds.attrs['case']}, k = {model.k}, a test path")
    _parity(ax_b, test.micro[:n_paths], rec[:n_paths], test.labels, r"recovered from RNO $\xi$")
    panel_label(ax_b, "b", f"eq. (25) over the test split {reconstruction_error(test.micro, rec):.3f}")
    return save_figure(fig, stem)


def fig06(*, errors: pd.DataFrame, ae_errors: pd.DataFrame, spec: Mapping, ds_paths: xr.Dataset,
          model_paths: RNO, ds_ae: xr.Dataset, ae: Autoencoder, train_steps: int,
          stem: str | os.PathLike) -> list[Path]:
    """Figure 6 (hardening): (a) error vs k, cases <- reference; (b) direct vs transfer; (c) truth vs RNO;
    (d) eq. 25 vs m; (e) reconstructed vs computed; (f) + vs - layer."""
    fig, axes = figure(2, 3, figsize=(11.0, 6.6), layout="constrained")
    e = _errors(errors, spec["producer"], spec["variant"], train_steps)
    cases = [c for c in spec["cases"] if c != spec["reference"]]
    palette = colors(len(cases))
    for c, case in zip(palette, cases):
        _err_vs_k(axes[0, 0], e, case, spec["reference"], color=c)
        _err_vs_k(axes[0, 1], e, case, "", color=c, ls="--")
        _err_vs_k(axes[0, 1], e, case, spec["reference"], color=c, marker="s")
    for letter, ax, note in (("a", axes[0, 0], "transfer learning"), ("b", axes[0, 1], "direct (--) vs transfer")):
        _k_axes(ax, spec["k"])
        panel_label(ax, letter, note)
    err = _truth_vs_rno(axes[0, 2], ds_paths, model_paths, train_steps, int(spec["n_paths"]))
    panel_label(axes[0, 2], "c", f"{ds_paths.attrs['case']}, k = {model_paths.k}, error {err:.3f}")
    n = int(spec["n_paths"])
    case = _ae_panels(axes[1, 0], axes[1, 1], axes[1, 2], ae_errors, spec["producer"], spec["ae_cases"], ds_ae,
                      ae, train_steps, n)
    panel_label(axes[1, 0], "d", "autoencoders")
    panel_label(axes[1, 1], "e", f"{case}, {n} test paths")
    panel_label(axes[1, 2], "f", f"{case}, {n} test paths")
    return save_figure(fig, stem)
