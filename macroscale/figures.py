"""Figures 11 and 12 of the paper from the results of macroscale.paper (dicts as saved to JSON): von Mises snapshots
of the axial section (MPa), the Taylor bar's reaction force against time at several time resolutions (N, us), the
plate sections for the velocity and thickness sweeps. matplotlib only; each function writes stem.png and
stem.pdf and returns their paths."""
from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402


def _save(fig, stem) -> list[Path]:
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    for p in paths:
        fig.savefig(p, dpi=150)
    plt.close(fig)
    return paths


def _section(ax, snap: dict, vmax: float, mirror: bool = True):
    """One section snapshot: the faces (x, z) coloured by von Mises stress (MPa), mirrored about x = 0."""
    poly = np.asarray(snap["polygons"], float)
    vm = np.asarray(snap["von_mises"], float)
    if mirror:
        flip = poly.copy()
        flip[..., 0] *= -1
        poly, vm = np.concatenate([poly, flip]), np.concatenate([vm, vm])
    pc = PolyCollection(poly, array=vm, cmap="jet", edgecolors="none")
    pc.set_clim(0.0, vmax)
    ax.add_collection(pc)
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    return pc


def _vmax(snaps) -> float:
    return max([max(s["von_mises"]) for s in snaps if s["von_mises"]] + [1e-12])


def fig12(*, stem, runs: list, note: str = "") -> list[Path]:
    """(c) section snapshots of the finest run, (d) reaction force against time of every run (one per time
    resolution: label by its step)."""
    snaps = runs[-1]["snapshots"] if runs else []
    fig = plt.figure(figsize=(3.0 + 1.4 * len(snaps), 4.2), layout="constrained")
    grid = fig.add_gridspec(1, len(snaps) + 2, width_ratios=[1] * len(snaps) + [0.15, 3.0])
    vmax = _vmax(snaps)
    pc = None
    for i, s in enumerate(snaps):
        ax = fig.add_subplot(grid[0, i])
        pc = _section(ax, s, vmax)
        ax.set_title(f"{1e6 * s['time']:.1f} us", fontsize=8)
    if pc is not None:
        fig.colorbar(pc, cax=fig.add_subplot(grid[0, len(snaps)]), label="von Mises (MPa)")
    ax = fig.add_subplot(grid[0, -1])
    for r in runs:
        ax.plot(1e6 * np.asarray(r["time"]), 1e-3 * np.asarray(r["reaction_force"]),
                label=f"dt = {1e9 * r['dt']:.1f} ns")
    ax.set(xlabel="time (us)", ylabel="reaction force (kN)", title="(d) reaction force")
    # the first sample is the kinematic stop of the impact-face nodes (their momentum over one step): off scale
    late = [1e-3 * np.asarray(r["reaction_force"])[np.asarray(r["time"]) > 0.02 * r["time"][-1]] for r in runs]
    late = [f.max() for f in late if f.size]
    if late:
        peak = max(1e-3 * max(r["reaction_force"]) for r in runs)
        ax.set_ylim(0.0, 1.3 * max(late))
        ax.text(0.98, 0.95, f"first-step peak {peak:.1f} kN (off scale)", transform=ax.transAxes, ha="right",
                va="top", fontsize=7)
    if runs:
        ax.legend(fontsize=7)
    if note:
        fig.suptitle(textwrap.fill(note, 140), fontsize=7)
    return _save(fig, stem)


def fig11(*, stem, base: dict, velocity_sweep: list, thickness_sweep: list, note: str = "") -> list[Path]:
    """(c) section snapshots of the base case; (d) final sections for the velocity sweep; (e) for the thickness
    sweep (one colour scale each row)."""
    rows = [("(c)", base["snapshots"], [f"{1e6 * s['time']:.2f} us" for s in base["snapshots"]]),
            ("(d)", [r["snapshots"][-1] for r in velocity_sweep],
             [f"V = {1e-3 * r['velocity']:.0f} m/s" for r in velocity_sweep]),
            ("(e)", [r["snapshots"][-1] for r in thickness_sweep],
             [f"H = {r['thickness']:.2f} mm" for r in thickness_sweep])]
    ncol = max([len(r[1]) for r in rows] + [1])
    fig, axes = plt.subplots(3, ncol, figsize=(2.6 * ncol + 0.8, 6.0), layout="constrained", squeeze=False)
    for i, (tag, snaps, titles) in enumerate(rows):
        vmax = _vmax(snaps)
        pc = None
        for j in range(ncol):
            ax = axes[i, j]
            if j >= len(snaps):
                ax.axis("off")
                continue
            pc = _section(ax, snaps[j], vmax)
            ax.set_title(f"{tag} {titles[j]}", fontsize=8)
        if pc is not None:
            fig.colorbar(pc, ax=axes[i, :].tolist(), label="von Mises (MPa)", shrink=0.8)
    if note:
        fig.suptitle(textwrap.fill(note, 140), fontsize=7)
    return _save(fig, stem)
