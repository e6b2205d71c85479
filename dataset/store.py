"""Zarr v3 stores: where they live, atomic writes, shard collection, validated reads."""
from __future__ import annotations

import contextlib
import json
import logging
import math
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


class StoreReadError(OSError):
    """A store on disk cannot be read or decoded; the message names the store, the variable and the chunk file
    (when the fault can be located) and the underlying error."""


def locate_fault(path: str | os.PathLike) -> tuple[str, str, str] | None:
    """(variable, chunk file relative to the store, error) of the first array chunk of the store at ``path`` that
    cannot be read and decoded, checking every chunk of every array; None when all decode (or the group itself
    cannot be opened: then the fault is in its metadata)."""
    import zarr

    try:
        with _quiet_zarr():
            group = zarr.open_group(str(path), mode="r", zarr_format=3)
            arrays = sorted(group.arrays())
    except Exception:  # noqa: BLE001 -- metadata unreadable: no array to blame
        return None
    for name, arr in arrays:
        grid = [math.ceil(n / c) for n, c in zip(arr.shape, arr.chunks)]
        for idx in np.ndindex(*grid):
            sel = tuple(slice(i * c, (i + 1) * c) for i, c in zip(idx, arr.chunks))
            try:
                arr[sel]
            except Exception as err:  # noqa: BLE001 -- any decoding failure is the fault we look for
                return name, f"{name}/{arr.metadata.encode_chunk_key(idx)}", f"{type(err).__name__}: {err}"
    return None


def _read_error(path: Path, err: Exception) -> StoreReadError:
    """A StoreReadError for ``err``, raised while reading the store at ``path``, naming the faulty variable and
    chunk when locate_fault finds them."""
    fault = locate_fault(path)
    if fault is None:
        return StoreReadError(f"{path}: cannot read the store: {type(err).__name__}: {err} (every array chunk "
                              "decodes alone or none can be reached: the metadata, zarr.json, may be at fault)")
    var, chunk, what = fault
    return StoreReadError(f"{path}: cannot decode variable {var!r}, chunk file {chunk}: {what} (the store is "
                          "corrupt: rewrite it, e.g. rerun the job that made it)")


def open_metadata(path: str | os.PathLike) -> xr.Dataset:
    """Open a store lazily: attributes and coordinates are read, array data only when touched; not validated
    (every store was validated when written). For jobs that need a store's attrs or sizes, not its data.
    StoreReadError (naming the store, variable and chunk) if what is read cannot be decoded."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no dataset at {path}")
    try:
        with _quiet_zarr():
            return xr.open_zarr(path, consolidated=True, zarr_format=3)
    except Exception as err:  # noqa: BLE001 -- any failure to decode becomes one named error
        raise _read_error(path, err) from err


def open_store(path: str | os.PathLike, *, shard: bool = False) -> xr.Dataset:
    """Open and validate a store (loaded into memory). StoreReadError (naming the store, variable and chunk) if
    the data cannot be decoded, e.g. a corrupt chunk file."""
    ds = open_metadata(path)
    try:
        ds = ds.load()
    except Exception as err:  # noqa: BLE001 -- any failure to decode becomes one named error
        raise _read_error(Path(path), err) from err
    return validate(ds, where=str(path), require_split=not shard)


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
