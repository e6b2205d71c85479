"""Saving figures deterministically: PNG and PDF with fixed metadata, so unchanged inputs give identical files."""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib

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


def save_figure(fig, stem: str | os.PathLike) -> list[Path]:
    """Write ``stem``.png and ``stem``.pdf (stem without suffix) atomically; close the figure."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    with plt.rc_context(STYLE):
        for suffix, meta in ((".png", _PNG_META), (".pdf", _PDF_META)):
            path = stem.with_suffix(suffix)
            tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
            fig.savefig(tmp, format=suffix[1:], metadata=meta)
            os.replace(tmp, path)
            out.append(path)
    plt.close(fig)
    return out
