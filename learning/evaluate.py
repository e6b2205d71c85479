"""Test errors of trained models (eq. 16) and the table results/tables/rno_errors.csv.

One row per (model, test resolution): producer, case, variant, target, k, train_size, init_from, train_steps,
test_steps, error, where target is what the model learns (stress, deviatoric or pressure), train_size the number
of training trajectories it saw (0: the whole split), init_from the source case of a tagged transfer-learned model
("" for the others) and error the mean of eq. (16) over the test split, the test data down-sampled from the stored
grid by striding.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd
import xarray as xr

from dataset.progress import progress

from .data import trajectories
from .rno import RNO
from .train import evaluate_error

COLUMNS = ["producer", "case", "variant", "target", "k", "train_size", "init_from", "train_steps", "test_steps",
           "error"]
SORT = COLUMNS[:-1]
FLOAT_FORMAT = "%.6e"


def error_rows(model: RNO, ds: xr.Dataset, *, train_steps: int, test_steps: Sequence[int],
               init_from: str = "", train_size: int = 0) -> pd.DataFrame:
    """The model's mean test error on its target at each resolution in ``test_steps`` (rows sorted like the
    table); progress per resolution (dataset.progress)."""
    resolutions = sorted(set(int(n) for n in test_steps))
    rows = [{"producer": ds.attrs["producer"], "case": ds.attrs["case"], "variant": model.variant,
             "target": model.target, "k": model.k, "train_size": int(train_size), "init_from": init_from,
             "train_steps": int(train_steps), "test_steps": n,
             "error": float(evaluate_error(model, trajectories(ds, "test", n, model.target)).mean())}
            for n in progress(resolutions, f"evaluating {ds.attrs['case']} {model.variant}-k{model.k}",
                              unit="resolution")]
    return pd.DataFrame(rows, columns=COLUMNS)


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a CSV atomically with fixed float formatting (same numbers, same bytes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    df.to_csv(tmp, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    os.replace(tmp, path)
    return path


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """A table written by write_table; an empty init_from (a directly trained model) reads as ""."""
    df = pd.read_csv(path, dtype={"producer": str, "case": str, "variant": str, "target": str, "init_from": str})
    if "init_from" in df.columns:
        df["init_from"] = df["init_from"].fillna("")
    return df


def concat_tables(paths: Iterable[str | os.PathLike], out: str | os.PathLike,
                  sort: Sequence[str] = SORT) -> pd.DataFrame:
    """Concatenate per-model CSVs into one, sorted by ``sort`` (stable, so the order of ``paths`` never matters)."""
    frames = [read_table(p) for p in paths]
    if not frames:
        raise ValueError(f"{out}: no tables to concatenate")
    df = pd.concat(frames, ignore_index=True)
    sort = [c for c in sort if c in df.columns]  # tables without a column (e.g. init_from) sort by the rest
    if df.duplicated(list(sort)).any():
        raise ValueError(f"{out}: duplicate rows for {df[df.duplicated(list(sort))][list(sort)].iloc[0].to_dict()}")
    df = df.sort_values(list(sort), kind="mergesort", ignore_index=True)
    write_table(df, out)
    return df
