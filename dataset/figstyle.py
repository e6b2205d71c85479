"""Figures under one style: panels, labels, colours, and saving deterministically (PNG and PDF with fixed
metadata, so unchanged inputs give identical files)."""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

_PNG_META = {"Software": None}
_PDF_META = {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None}
STYLE = {"figure.dpi": 100, "savefig.dpi": 150, "font.size": 9, "axes.grid": True, "grid.alpha": 0.3,
         "svg.hashsalt": "rno-factory", "path.simplify": False}


def figure(*args, **kwargs):
    """plt.subplots under the project's style."""
    with plt.rc_context(STYLE):
        return plt.subplots(*args, **kwargs)


def panel_label(ax, letter: str, note: str = "") -> None:
    """The paper's panel label "(a)" at the top left of ``ax``, and an optional note at the top right."""
    ax.set_title(f"({letter})", loc="left", fontsize=9, fontweight="bold")
    if note:
        ax.set_title(note, loc="right", fontsize=8)


def colors(n: int) -> list:
    """n colours of viridis (dark to light, the lightest yellow left out) for n curves in order."""
    return [matplotlib.colormaps["viridis"](v) for v in np.linspace(0.0, 0.9, max(n, 1))]


def save_figure(fig, stem: str | os.PathLike, note: str = "") -> list[Path]:
    """Write ``stem``.png and ``stem``.pdf (stem without suffix) atomically; close the figure. ``note``: a line
    printed above the panels (the canvas grows to hold it)."""
    stem = Path(stem)
    extra = {}
    if note:
        fig.text(0.5, 1.0, note, ha="center", va="bottom", fontsize=7, style="italic")
        extra = {"bbox_inches": "tight", "pad_inches": 0.05}
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    with plt.rc_context(STYLE):
        for suffix, meta in ((".png", _PNG_META), (".pdf", _PDF_META)):
            path = stem.with_suffix(suffix)
            tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
            fig.savefig(tmp, format=suffix[1:], metadata=meta, **extra)
            os.replace(tmp, path)
            out.append(path)
    plt.close(fig)
    return out
