"""Zarr v3 stores: where they live, atomic writes, shard collection, validated reads."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import uuid
import warnings
from pathlib import Path
from typing import Iterable

import numpy as np
import xarray as xr

from .contract import ContractError, failures, validate

log = logging.getLogger("rno-factory")  # the logger dataset.jobs.job_logging sends to a job's log


def dataset_path(results: str | os.PathLike, producer: str, case: str) -> Path:
    return Path(results) / "datasets" / producer / f"{case}.zarr"


def shard_path(results: str | os.PathLike, producer: str, case: str, shard: int) -> Path:
    return Path(results) / "shards" / producer / case / f"shard{int(shard)}.zarr"


@contextlib.contextmanager
def _quiet_zarr():
    """Consolidated metadata is not part of the Zarr v3 spec; zarr warns each time we use it on purpose."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Cc]onsolidated metadata.*")
        yield


def write_atomic(ds: xr.Dataset, path: str | os.PathLike, *, shard: bool = False, where: str = "") -> Path:
    """Validate ds, write it under a temporary name beside ``path`` and rename it into place.

    A crash leaves at most a hidden temporary directory, never a partial store at ``path``.
    """
    path = Path(path)
    validate(ds, where=where, require_split=not shard)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    ds = ds.copy()
    for var in ds.variables.values():
        var.encoding.clear()
    try:
        with _quiet_zarr():
            ds.to_zarr(tmp, mode="w", zarr_format=3, consolidated=True)
        if path.exists():
            old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:8]}")
            os.rename(path, old)
            os.rename(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return path


def open_metadata(path: str | os.PathLike) -> xr.Dataset:
    """Open a store lazily: attributes and coordinates are read, array data only when touched; not validated
    (every store was validated when written). For jobs that need a store's attrs or sizes, not its data."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no dataset at {path}")
    with _quiet_zarr():
        return xr.open_zarr(path, consolidated=True, zarr_format=3)


def open_store(path: str | os.PathLike, *, shard: bool = False) -> xr.Dataset:
    """Open and validate a store (loaded into memory)."""
    return validate(open_metadata(path).load(), where=str(path), require_split=not shard)


def collect(shard_paths: Iterable[str | os.PathLike], out: str | os.PathLike, *, n_train: int, n_test: int) -> Path:
    """Concatenate a case's shards into one store, keep the first n_train + n_test samples, assign the split.

    Samples [0, n_train) are "train" and [n_train, n_train + n_test) are "test", by sample index, so the split
    never depends on how samples were sharded. Failed samples stay listed in attrs["failures"].
    """
    shards = [open_store(p, shard=True) for p in shard_paths]
    if not shards:
        raise ContractError(f"{out}: no shards to collect")
    first = shards[0]
    for p, ds in zip(shard_paths, shards):
        for key in ("producer", "case", "case_hash", "input"):
            if ds.attrs[key] != first.attrs[key]:
                raise ContractError(f"shard {p}: attrs[{key!r}] = {ds.attrs[key]!r} differs from "
                                    f"{first.attrs[key]!r} in the first shard (stale shard: delete and rerun)")
        if not np.array_equal(ds["time"].values, first["time"].values):
            raise ContractError(f"shard {p}: time grid differs from the first shard")
    n_keep = n_train + n_test
    ds = xr.concat(shards, dim="sample", combine_attrs="override", data_vars="minimal", coords="minimal",
                   compat="override", join="exact")
    ds = ds.sortby("sample")
    ds = ds.sel(sample=ds["sample"].values[ds["sample"].values < n_keep])
    failed = sorted((f for s in shards for f in failures(s) if f["sample"] < n_keep), key=lambda f: f["sample"])
    split = np.where(ds["sample"].values < n_train, "train", "test").astype(object)
    ds["split"] = ("sample", split)
    ds.attrs.update(failures=json.dumps(failed), n_train=int(n_train), n_test=int(n_test),
                    shards=json.dumps([Path(p).name for p in shard_paths]))
    path = write_atomic(ds, out)
    n_kept_train = int((split == "train").sum())
    log.info("%s: %d samples (%d train, %d test), %d failed%s", path, ds.sizes["sample"], n_kept_train,
             ds.sizes["sample"] - n_kept_train, len(failed),
             "".join(f"\n  sample {f['sample']}: {f['reason']}" for f in failed))
    return path
