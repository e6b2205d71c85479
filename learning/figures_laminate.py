"""The paper's Figures 3-6 (Section 4, the elasto-viscoplastic laminate), PNG and PDF via dataset.figstyle.

Inputs are computed artefacts only (error tables, trained models, datasets): fig03 and fig06 (a)-(c) read
results/tables/rno_errors.csv (eq. 16) and one RNO; fig04 and fig06 (d)-(f) read results/tables/ae_errors.csv
(eq. 25) and autoencoders (learning.autoencoder); fig04 (d)-(f) the eq. (26) map; fig05 an RNO and its
xi -> micro-state decoder. "Test paths" are the first n_paths of the test split, at the training resolution.
Every function has the figure table's draw signature (learning.figures): keyword-only stem, spec (with
train_steps) and the loaded inputs; it returns the written paths.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import xarray as xr

from dataset.figstyle import colors, figure, panel_label, save_figure

from .autoencoder import (Autoencoder, MicroDecoder, decode_latent, micro_data, reconstruct,
                          reconstruction_error, rno_internal)
from .panels import error_curve, error_vs_k, select_errors, truth_vs_model
from .rno import RNO
from .train import evaluate_error

STRESS = (r"$\bar\sigma_{11}$", r"$\bar\sigma_{12}$", r"$\bar\sigma_{22}$")  # learning.data component order


def _errors(errors: pd.DataFrame, spec: Mapping[str, Any]) -> pd.DataFrame:
    """Rows of the figure's stress RNOs trained on whole splits (direct and transfer) tested at the training
    resolution."""
    return select_errors(errors, producer=spec["producer"], variant=spec["variant"], target="stress", train_size=0,
                         train_steps=int(spec["train_steps"]), test_steps=int(spec["train_steps"]))


def _curve(case: str, init: str, **style) -> tuple[dict, str, dict]:
    """error_vs_k's curve of case, trained directly (init "") or from init ("case <- init")."""
    return {"case": case, "init_from": init}, f"{case} \u2190 {init}" if init else case, style


def _truth_vs_rno(ax, ds: xr.Dataset, model: RNO, steps: int, n_paths: int) -> float:
    """sigma_11 of the first n_paths test paths: truth (solid) vs RNO (dashed); returns their mean eq. (16)."""
    test = micro_data(ds, "test", steps).traj
    stress, _ = rno_internal(model, test)
    truth_vs_model(ax, test.time, test.stress[..., 0], stress[..., 0],
                   colors=colors(n_paths)[:min(n_paths, len(test.sample))],
                   ylabel=r"average stress $\bar\sigma_{11}$ (MPa)", model_lw=0.9)
    return float(evaluate_error(model, test).mean())


def _ae_error_panel(ax, ae_errors: pd.DataFrame, producer: str, cases) -> None:
    palette = colors(len(cases))
    for c, case in zip(palette, cases):
        r = select_errors(ae_errors, producer=producer, case=case)
        if len(r) == 0:
            raise ValueError(f"no autoencoder rows for {producer}/{case}")
        error_curve(ax, r, case, x="latent", y="test_error", color=c)
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


def _micro_path(ax, t, micro: np.ndarray, approx: np.ndarray, labels, title: str) -> None:
    """The micro-state of the first test path, computed (solid) and approximated (dashed, same colour)."""
    for j, (c, name) in enumerate(zip(colors(len(labels)), labels)):
        ax.plot(t, micro[0, :, j], color=c, lw=1.3, label=_micro_tex(name))
        ax.plot(t, approx[0, :, j], color=c, lw=1.0, ls="--")
    ax.set(xlabel="time t (s)", ylabel="model variable (-)")
    ax.legend(fontsize=6, ncol=2, loc="best", title=title, title_fontsize=7)


def fig03(*, stem: str | os.PathLike, spec: Mapping[str, Any], errors: pd.DataFrame, ds_paths: xr.Dataset,
          model_paths: RNO) -> list[Path]:
    """Figure 3: (a) error vs k, reference direct and cases <- reference; (b) truth vs RNO; (c)-(f) direct vs
    transfer for up to four cases."""
    fig, axes = figure(2, 3, figsize=(11.0, 6.6), layout="constrained")
    e, ref = _errors(errors, spec), spec["reference"]
    cases = [c for c in spec["cases"] if c != ref]
    ax = axes[0, 0]
    error_vs_k(ax, e, [_curve(ref, "", color="tab:green"),
                       *(_curve(case, ref, color=c) for c, case in zip(colors(len(cases)), cases))], ks=spec["k"])
    panel_label(ax, "a", "transfer learning")
    err = _truth_vs_rno(axes[0, 1], ds_paths, model_paths, int(spec["train_steps"]), int(spec["n_paths"]))
    panel_label(axes[0, 1], "b", f"{ds_paths.attrs['case']}, k = {model_paths.k}, error {err:.3f}")
    panels = [axes[0, 2], *axes[1]]
    for letter, ax, case in zip("cdef", panels, cases):
        error_vs_k(ax, e, [_curve(case, "", color="tab:blue"), _curve(case, ref, color="tab:orange", marker="s")],
                   ks=spec["k"])
        panel_label(ax, letter, f"{case}: direct vs transfer")
    for ax in panels[len(cases):]:
        ax.set_axis_off()
    return save_figure(fig, stem, spec.get("note", ""))


def fig04(*, stem: str | os.PathLike, spec: Mapping[str, Any], ae_errors: pd.DataFrame, dataset: xr.Dataset,
          autoencoder: Autoencoder, latent_map: RNO) -> list[Path]:
    """Figure 4: (a) eq. 25 vs m; (b) reconstructed vs computed; (c) + vs - layer; (d)-(f) the eq. 26 map."""
    ds, ae, train_steps = dataset, autoencoder, int(spec["train_steps"])
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
    _micro_path(axes[1, 1], t, test.micro, micro, test.labels, r"dashed: $\psi_{AE}(\zeta)$, eq. (26)")
    panel_label(axes[1, 1], "e", f"eq. (25) over the test split {reconstruction_error(test.micro, micro):.3f}")
    truth_vs_model(axes[1, 2], t, test.traj.stress[..., 0], stress[..., 0], colors=colors(n)[:min(n, stress.shape[0])],
                   ylabel=r"average stress $\bar\sigma_{11}$ (MPa)", labels=("computed",),
                   model_label="eq. (26) map", model_lw=0.9)
    panel_label(axes[1, 2], "f", f"{n} test paths")
    return save_figure(fig, stem, spec.get("note", ""))


def fig05(*, stem: str | os.PathLike, spec: Mapping[str, Any], dataset: xr.Dataset, model: RNO,
          decoder: MicroDecoder) -> list[Path]:
    """Figure 5: micro-state recovered from the RNO's internal variables, (a) one test path, (b) spec["n_paths"]."""
    n_paths = int(spec["n_paths"])
    fig, (ax_a, ax_b) = figure(1, 2, figsize=(9.0, 3.8), layout="constrained")
    test = micro_data(dataset, "test", int(spec["train_steps"]))
    _, xi = rno_internal(model, test.traj)
    rec = reconstruct(decoder, xi)
    _micro_path(ax_a, test.traj.time, test.micro, rec, test.labels, r"dashed: from $\xi$")
    panel_label(ax_a, "a", f"{dataset.attrs['case']}, k = {model.k}, a test path")
    _parity(ax_b, test.micro[:n_paths], rec[:n_paths], test.labels, r"recovered from RNO $\xi$")
    panel_label(ax_b, "b", f"eq. (25) over the test split {reconstruction_error(test.micro, rec):.3f}")
    return save_figure(fig, stem, spec.get("note", ""))


def fig06(*, stem: str | os.PathLike, spec: Mapping[str, Any], errors: pd.DataFrame, ae_errors: pd.DataFrame,
          ds_paths: xr.Dataset, model_paths: RNO, ds_ae: xr.Dataset, autoencoder: Autoencoder) -> list[Path]:
    """Figure 6 (hardening): (a) error vs k, cases <- reference; (b) direct vs transfer; (c) truth vs RNO;
    (d) eq. 25 vs m; (e) reconstructed vs computed; (f) + vs - layer."""
    train_steps = int(spec["train_steps"])
    fig, axes = figure(2, 3, figsize=(11.0, 6.6), layout="constrained")
    e, ref = _errors(errors, spec), spec["reference"]
    cases = [c for c in spec["cases"] if c != ref]
    palette = colors(len(cases))
    error_vs_k(axes[0, 0], e, [_curve(case, ref, color=c) for c, case in zip(palette, cases)], ks=spec["k"])
    both = [(_curve(case, "", color=c, ls="--"), _curve(case, ref, color=c, marker="s"))
            for c, case in zip(palette, cases)]
    error_vs_k(axes[0, 1], e, [curve for pair in both for curve in pair], ks=spec["k"])
    panel_label(axes[0, 0], "a", "transfer learning")
    panel_label(axes[0, 1], "b", "direct (--) vs transfer")
    err = _truth_vs_rno(axes[0, 2], ds_paths, model_paths, train_steps, int(spec["n_paths"]))
    panel_label(axes[0, 2], "c", f"{ds_paths.attrs['case']}, k = {model_paths.k}, error {err:.3f}")
    n = int(spec["n_paths"])
    case = _ae_panels(axes[1, 0], axes[1, 1], axes[1, 2], ae_errors, spec["producer"], spec["ae_cases"], ds_ae,
                      autoencoder, train_steps, n)
    panel_label(axes[1, 0], "d", "autoencoders")
    panel_label(axes[1, 1], "e", f"{case}, {n} test paths")
    panel_label(axes[1, 2], "f", f"{case}, {n} test paths")
    return save_figure(fig, stem, spec.get("note", ""))
