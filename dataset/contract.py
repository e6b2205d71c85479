"""The data contract shared by producers and learners.

One xarray Dataset per (producer, case):
  coords   sample (int), time (s, time[0] = 0, increasing), i, j (tensor indices, length d)
  input    ``strain`` (small strain) or ``F`` (deformation gradient), dims (sample, time, i, j), units "1"
  output   ``stress``: Cauchy stress in MPa, same dims as the input, symmetric
  split    (sample,) "train" / "test"  (stores only; a shard has none)
  params   material parameters and microstructure, each with a ``units`` attribute
  micro    optional micro-state variables (e.g. ``eps_p`` per phase), each with ``units``
  attrs    producer, case, case_config (JSON), case_hash, version, git_commit, input, created, failures (JSON)

Samples a solver could not finish are absent from ``sample`` and listed, with their reasons, in attrs["failures"].
"""
from __future__ import annotations

import json
from typing import Mapping

import numpy as np
import xarray as xr

from .case import Case, canonical_json
from .provenance import git_commit, now_utc, package_version

INPUTS = {"strain": 0.0, "F": 1.0}  # input name -> value of its diagonal in the reference state
SPLITS = ("train", "test")
TENSOR_DIMS = ("sample", "time", "i", "j")
REQUIRED_ATTRS = ("producer", "case", "case_config", "case_hash", "version", "git_commit", "input", "created",
                  "failures")


class ContractError(ValueError):
    """A dataset breaks the contract; the message names the dataset, variable and sample."""


def build_dataset(
    case: Case,
    time: np.ndarray,
    inputs: np.ndarray,
    stress: np.ndarray,
    *,
    input_name: str,
    params: Mapping[str, xr.DataArray] | None = None,
    micro: Mapping[str, xr.DataArray] | None = None,
    failures: list[dict] | None = None,
    sample: np.ndarray | None = None,
) -> xr.Dataset:
    """Assemble a contract Dataset from a producer's arrays (stress in MPa, time in s)."""
    if input_name not in INPUTS:
        raise ContractError(f"{case}: input_name must be one of {sorted(INPUTS)}, got {input_name!r}")
    n, _, d, _ = inputs.shape
    sample = np.arange(n) if sample is None else np.asarray(sample)
    ds = xr.Dataset(
        {
            input_name: (TENSOR_DIMS, np.asarray(inputs, float), {"units": "1", "long_name": _LONG[input_name]}),
            "stress": (TENSOR_DIMS, np.asarray(stress, float), {"units": "MPa", "long_name": "Cauchy stress"}),
        },
        coords={
            "sample": ("sample", sample.astype(np.int64)),
            "time": ("time", np.asarray(time, float), {"units": "s"}),
            "i": ("i", np.arange(d)),
            "j": ("j", np.arange(d)),
        },
    )
    for name, da in {**(params or {}), **(micro or {})}.items():
        ds[name] = da
    ds.attrs.update(
        producer=case.producer,
        case=case.name,
        case_config=canonical_json(dict(case.config)),
        case_hash=case.hash,
        version=package_version(),
        git_commit=git_commit(),
        input=input_name,
        created=now_utc(),
        failures=json.dumps(failures or []),
    )
    return ds


_LONG = {"strain": "average (macroscopic) strain", "F": "average (macroscopic) deformation gradient"}


def failures(ds: xr.Dataset) -> list[dict]:
    """Samples the solver could not finish: [{"sample": int, "reason": str}, ...]."""
    return json.loads(ds.attrs.get("failures", "[]"))


def validate(ds: xr.Dataset, *, where: str = "", require_split: bool = True) -> xr.Dataset:
    """Check the contract; raise ContractError naming the culprit. Returns ds for chaining."""
    name = where or f"{ds.attrs.get('producer', '?')}/{ds.attrs.get('case', '?')}"

    def fail(msg):
        raise ContractError(f"{name}: {msg}")

    missing = [a for a in REQUIRED_ATTRS if a not in ds.attrs]
    if missing:
        fail(f"missing attrs {missing}")
    inp = ds.attrs["input"]
    if inp not in INPUTS:
        fail(f"attrs['input'] must be one of {sorted(INPUTS)}, got {inp!r}")
    for var in (inp, "stress"):
        if var not in ds.data_vars:
            fail(f"missing variable {var!r}")
        if ds[var].dims != TENSOR_DIMS:
            fail(f"{var} has dims {ds[var].dims}, expected {TENSOR_DIMS}")
    d = ds.sizes["i"]
    if ds.sizes["j"] != d or not 1 <= d <= 3:
        fail(f"tensor dims i, j must be equal and 1..3, got {ds.sizes['i']} x {ds.sizes['j']}")
    if ds["stress"].shape != ds[inp].shape:
        fail(f"stress shape {ds['stress'].shape} differs from {inp} shape {ds[inp].shape}")
    if not np.issubdtype(ds["sample"].dtype, np.integer):
        fail(f"coordinate sample must be integer, got {ds['sample'].dtype}")
    if len(np.unique(ds["sample"].values)) != ds.sizes["sample"]:
        fail("coordinate sample has duplicates")
    t = ds["time"].values
    if ds["time"].attrs.get("units") != "s":
        fail("time must have units 's'")
    if t.size < 2 or t[0] != 0.0 or not np.all(np.diff(t) > 0):
        fail("time must start at 0 s and increase strictly")
    expected_units = {inp: "1", "stress": "MPa"}
    for var, da in ds.data_vars.items():
        if var == "split":
            continue
        units = da.attrs.get("units")
        if units is None:
            fail(f"variable {var!r} has no 'units' attribute")
        if var in expected_units and units != expected_units[var]:
            fail(f"variable {var!r} must be in {expected_units[var]!r}, got {units!r}")
        if np.issubdtype(da.dtype, np.number):
            _check_finite(da, var, fail)
    ref = np.eye(d) * INPUTS[inp]
    x0 = ds[inp].isel(time=0).values
    bad = np.flatnonzero(np.abs(x0 - ref).max(axis=(-1, -2), initial=0.0) > 1e-12)
    if bad.size:
        fail(f"sample {int(ds['sample'][bad[0]])}: {inp} at t = 0 is not the reference state")
    s = ds["stress"].values
    scale = 1.0 + (np.abs(s).max() if s.size else 0.0)
    asym = np.abs(s - np.swapaxes(s, -1, -2)).max(axis=(1, 2, 3), initial=0.0) > 1e-8 * scale
    if asym.any():
        fail(f"sample {int(ds['sample'][np.flatnonzero(asym)[0]])}: stress is not symmetric")
    failed = {int(f["sample"]) for f in failures(ds)}
    both = failed & set(ds["sample"].values.tolist())
    if both:
        fail(f"samples {sorted(both)} are listed as failed but present")
    if require_split:
        if "split" not in ds.data_vars or ds["split"].dims != ("sample",):
            fail("missing variable 'split' over dim sample")
        values = set(np.asarray(ds["split"].values).astype(str).tolist())
        if not values <= set(SPLITS):
            fail(f"split values must be in {SPLITS}, got {sorted(values)}")
    return ds


def _check_finite(da: xr.DataArray, var: str, fail) -> None:
    ok = np.isfinite(np.asarray(da.values))
    if ok.all():
        return
    if "sample" in da.dims:
        other = tuple(k for k, dim in enumerate(da.dims) if dim != "sample")
        bad = np.flatnonzero(~ok.all(axis=other))
        fail(f"sample {int(da['sample'].values[bad[0]])}: variable {var!r} has non-finite values (NaN or inf)")
    fail(f"variable {var!r} has non-finite values (NaN or inf)")
