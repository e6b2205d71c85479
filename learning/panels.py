"""What the figure modules share: the error-table selector and the panels drawn by more than one figure.

    select_errors    rows of an error table (rno_errors.csv, ae_errors.csv) by column values
    error_curve      one curve of an error column against k, a resolution or a training-set size
    error_vs_k       the "mean test error vs k" panel (Figures 1c, 3, 6, 7, 8a)
    truth_vs_model   data (solid) against a model (dashed) over time (Figures 1b, 3b, 6c, 7e, 8d)
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

#: what select_errors reads for a missing value or a missing column: a directly trained (init_from ""), whole-split
#: (train_size 0) model of the stress
MISSING = {"init_from": "", "train_size": 0, "target": "stress"}
ERROR_LABEL = "mean test error (eq. 16)"
K_LABEL = "number of internal variables k"


def select_errors(errors: pd.DataFrame, **filters: Any) -> pd.DataFrame:
    """The rows of ``errors`` that pass every filter, in table order.

    column=value keeps the rows equal to value; a list, tuple or set: one of them; a callable: column -> boolean
    Series (e.g. train_size=lambda n: n > 0); None: no filter. init_from, train_size and target read a missing
    value, or a missing column, as MISSING says; any other missing column is a KeyError.
    """
    keep = pd.Series(True, index=errors.index)
    for name, want in filters.items():
        if want is None:
            continue
        if name in errors.columns:
            column = errors[name].fillna(MISSING[name]) if name in MISSING else errors[name]
        elif name in MISSING:
            column = pd.Series(MISSING[name], index=errors.index)
        else:
            raise KeyError(f"the error table has no column {name!r} (columns {list(errors.columns)})")
        if callable(want):
            keep &= want(column)
        elif isinstance(want, (list, tuple, set, frozenset)):
            keep &= column.isin(list(want))
        else:
            keep &= column == want
    return errors[keep]


def error_curve(ax, rows: pd.DataFrame, label: str, *, x: str = "k", y: str = "error", logx: bool = False,
                **style) -> pd.DataFrame:
    """rows[y] against rows[x] (sorted by x) on a log y axis (and log x with logx), markers "o" of size 4 and
    lines of width 1.2 unless ``style`` says otherwise; returns the sorted rows."""
    r = rows.sort_values(x)
    plot = ax.loglog if logx else ax.semilogy
    plot(r[x], r[y], label=label, **{"marker": "o", "ms": 4, "lw": 1.2, **style})
    return r


def error_vs_k(ax, errors: pd.DataFrame, curves: Iterable[tuple[Mapping[str, Any], str, Mapping[str, Any]]], *,
               ks: Iterable[int] | None = None, ylabel: str = ERROR_LABEL, ncol: int = 1, what: str = "") -> None:
    """Mean test error vs k: one error_curve per (filters, label, style) of select_errors(errors, **filters), then
    the axis labels, ticks at ``ks`` (None: matplotlib's) and the legend. A curve without rows is a ValueError
    ("no <what> error rows for case <label>")."""
    for filters, label, style in curves:
        rows = select_errors(errors, **filters)
        if len(rows) == 0:
            raise ValueError(" ".join(s for s in ("no", what, "error rows for case", label) if s))
        error_curve(ax, rows, label, **style)
    ax.set(xlabel=K_LABEL, ylabel=ylabel)
    if ks is not None:
        ax.set_xticks(sorted(int(k) for k in ks))
    ax.legend(fontsize=7, loc="best", ncol=ncol)


def truth_vs_model(ax, time: np.ndarray, truth: np.ndarray, approx: np.ndarray, *, colors: Sequence,
                   ylabel: str, labels: Sequence[str | None] = ("truth",), model_label: str = "RNO",
                   truth_lw: float = 1.2, model_lw: float = 1.0, fontsize: float = 7, ncol: int = 1) -> None:
    """Curves i = 0, 1, ... of truth (solid, colors[i], labels[i] or none) and approx (dashed black, model_label
    on the first), each (n_curves, N+1) over time (s); then the axis labels and the legend."""
    for i, color in enumerate(colors):
        ax.plot(time, truth[i], color=color, lw=truth_lw, label=labels[i] if i < len(labels) else None)
        ax.plot(time, approx[i], color="k", lw=model_lw, ls="--", label=model_label if i == 0 else None)
    ax.set(xlabel="time t (s)", ylabel=ylabel)
    ax.legend(fontsize=fontsize, loc="best", ncol=ncol)
