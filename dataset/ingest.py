"""Outside data -> loading paths (and stresses) -> a contract store (docs/cli.md, "Ingest formats").

Formats (``read_paths``; the format is the file's suffix unless given):

csv (.csv)     long table, one row per (sample, time): columns ``sample`` (integer id), ``time`` (s), the input
               as ``F<i><j>`` (deformation gradient, all d x d components) or ``eps<i><j>`` (small strain), the
               Cauchy stress as ``sigma<i><j>`` (MPa), indices 1..d, d = 1, 2 or 3 from the largest index; for the
               symmetric strain and stress the columns i <= j suffice (``eps11 eps12 eps22`` in 2D), lower ones
               (``sigma21``) may be given and must equal their partner; optional ``split`` ("train"/"test", one
               value per sample). Every sample has the same times.
npz (.npz)     arrays ``time`` (n_time,) s, ``F`` or ``strain`` (S, n_time, d, d) or one path (n_time, d, d),
               ``stress`` (same shape, MPa); optional ``sample`` (S,) integer ids and ``split`` (S,) strings.
netcdf (.nc, .nc4, .cdf), zarr (.zarr)
               an xarray Dataset (xarray.open_dataset): variables ``F`` or ``strain`` and ``stress`` on dims
               (sample, time, i, j), coordinate ``time`` (s); optional ``split`` (sample); other variables are
               ignored. NetCDF needs an xarray backend (scipy reads NetCDF 3, netCDF4/h5netcdf NetCDF 4).
damask (.hdf5, .h5)
               DAMASK grid-solver results (DADF5, read with damask.Result), one file per trajectory: per increment
               the volume averages F_bar and P_bar of the cells' F and first Piola-Kirchhoff stress P (Pa), and the
               macroscopic Cauchy stress sigma = P_bar F_bar^T / det F_bar in MPa (symmetrised; rejected if its
               antisymmetric part exceeds 1e-3 of its size); time = the increments' t/s, starting at 0.

Stress is optional for a path file that is only to be predicted on (``need_stress=False``). Every error names the
file, the variable (column) and, where one is at fault, the sample.
"""
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .case import Case
from .contract import INPUTS, build_dataset, validate

FORMATS = ("csv", "npz", "netcdf", "zarr", "damask")
SUFFIXES = {".csv": "csv", ".npz": "npz", ".nc": "netcdf", ".nc4": "netcdf", ".cdf": "netcdf", ".zarr": "zarr",
            ".hdf5": "damask", ".h5": "damask"}
#: CSV column prefix of each tensor
PREFIX = {"F": "F", "strain": "eps", "stress": "sigma"}
#: relative antisymmetric part of a DAMASK Cauchy stress above which the result is rejected
ASYMMETRY_TOL = 1e-3


class IngestError(ValueError):
    """Outside data that cannot become a contract store; the message names the file, variable and sample."""


@dataclass(frozen=True)
class Paths:
    """Loading paths read from outside files: inputs (S, n_time, d, d) of input_name on time (s); stress (MPa, same
    shape) or None; sample (S,) integer ids; split (S,) "train"/"test" or None; source: the files read."""

    time: np.ndarray
    inputs: np.ndarray
    input_name: str
    stress: np.ndarray | None
    sample: np.ndarray
    split: np.ndarray | None
    source: tuple[str, ...]

    @property
    def d(self) -> int:
        return int(self.inputs.shape[-1])


def detect_format(path: str | os.PathLike) -> str:
    """The format (FORMATS) of ``path`` from its suffix; IngestError naming the file if unknown."""
    fmt = SUFFIXES.get(Path(path).suffix.lower())
    if fmt is None:
        raise IngestError(f"{path}: cannot tell the format from the suffix {Path(path).suffix!r}; known: "
                          f"{', '.join(f'{s} ({f})' for s, f in SUFFIXES.items())}, or give the format")
    return fmt


def read_paths(files: str | os.PathLike | Sequence[str | os.PathLike], fmt: str | None = None, *,
               need_stress: bool = True) -> Paths:
    """Read loading paths (and stresses) from ``files`` in format ``fmt`` (default: from the suffix). Several files
    only for "damask" (one trajectory each). need_stress: IngestError if the stress is missing."""
    files = [files] if isinstance(files, (str, os.PathLike)) else list(files)
    if not files:
        raise IngestError("no input files")
    fmt = fmt or detect_format(files[0])
    if fmt not in FORMATS:
        raise IngestError(f"{files[0]}: unknown format {fmt!r}; known: {FORMATS}")
    for f in files:
        if not Path(f).exists():
            raise IngestError(f"{f}: no such file")
    if fmt == "damask":
        paths = read_damask(files)
    elif len(files) > 1:
        raise IngestError(f"{files[1]}: format {fmt} reads one file (all samples in it); only damask reads one "
                          "file per trajectory")
    else:
        paths = {"csv": read_csv, "npz": read_npz, "netcdf": read_xarray, "zarr": read_xarray}[fmt](files[0])
    if need_stress and paths.stress is None:
        raise IngestError(f"{paths.source[0]}: variable 'stress' ({PREFIX['stress']}<i><j> in CSV) is missing")
    check_paths(paths)
    return paths


# ---------------------------------------------------------------------------------------------------------- CSV

_COLUMN = re.compile(r"^(F|eps|sigma)([1-3])([1-3])$")


def read_csv(path: str | os.PathLike) -> Paths:
    """Paths from a CSV long table (module docstring, csv)."""
    import pandas as pd

    where = str(path)
    try:
        df = pd.read_csv(path)
    except Exception as err:  # noqa: BLE001 -- any parser failure is reported with the file
        raise IngestError(f"{where}: cannot read as CSV: {err}") from None
    df.columns = [str(c).strip() for c in df.columns]
    for col in ("sample", "time"):
        if col not in df.columns:
            raise IngestError(f"{where}: column {col!r} is missing (columns: {list(df.columns)})")
    tensors: dict[str, dict[tuple[int, int], str]] = {}
    for col in df.columns:
        m = _COLUMN.match(col)
        if m:
            tensors.setdefault(m[1], {})[(int(m[2]) - 1, int(m[3]) - 1)] = col
    unknown = [c for c in df.columns if c not in ("sample", "time", "split") and not _COLUMN.match(c)]
    if unknown:
        raise IngestError(f"{where}: unknown columns {unknown}; expected sample, time, split, F<i><j> or "
                          "eps<i><j>, sigma<i><j> (i, j in 1..3)")
    inputs_found = [n for n in ("F", "eps") if n in tensors]
    if len(inputs_found) != 1:
        raise IngestError(f"{where}: need the input as F<i><j> or eps<i><j> columns (exactly one of them), found "
                          f"{inputs_found or 'neither'}")
    input_name = "F" if inputs_found[0] == "F" else "strain"
    d = 1 + max(max(ij) for ij in tensors[inputs_found[0]])
    for col in ("sample", "time", *[c for cols in tensors.values() for c in cols.values()]):
        if not pd.api.types.is_numeric_dtype(df[col]):
            bad = pd.to_numeric(df[col], errors="coerce").isna() & df[col].notna()
            row = int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else 0
            raise IngestError(f"{where}: column {col!r} must be numeric, line {row + 2} of the file holds {df[col].iloc[row]!r}")
    ids = df["sample"].to_numpy()
    if np.isnan(ids.astype(float)).any() or np.any(ids != np.round(ids)):
        raise IngestError(f"{where}: column 'sample' must hold integer ids")
    df = df.assign(sample=ids.astype(np.int64)).sort_values(["sample", "time"], kind="mergesort")
    samples = np.unique(df["sample"].to_numpy())
    groups = {int(s): g for s, g in df.groupby("sample", sort=True)}
    time = groups[int(samples[0])]["time"].to_numpy(float)
    for s, g in groups.items():
        t = g["time"].to_numpy(float)
        if t.shape != time.shape or not np.allclose(t, time, rtol=0, atol=1e-12 * (1 + abs(time).max())):
            raise IngestError(f"{where}, sample {s}: variable 'time' differs from sample {int(samples[0])}'s "
                              f"({t.size} against {time.size} times): every sample needs the same time grid")
    S, n = samples.size, time.size

    def tensor(prefix: str, symmetric: bool) -> np.ndarray:
        cols = tensors[prefix]
        out = np.full((S, n, d, d), np.nan)
        for i in range(d):
            for j in range(d):
                col = cols.get((i, j))
                partner = cols.get((j, i))
                if col is None and not (symmetric and partner is not None):
                    raise IngestError(f"{where}: column '{prefix}{i + 1}{j + 1}' is missing"
                                      + (f" (nor '{prefix}{j + 1}{i + 1}')" if symmetric and i != j else ""))
                values = np.stack([groups[int(s)][col or partner].to_numpy(float) for s in samples])
                bad = ~np.isfinite(values)
                if bad.any():
                    s, k = np.argwhere(bad)[0]
                    raise IngestError(f"{where}, sample {samples[s]}: column {col or partner!r} is not finite (empty, "
                                      f"NaN or inf) at time {time[k]:.6g} s")
                out[:, :, i, j] = values
        if symmetric:
            for (i, j), col in cols.items():
                if i > j and (j, i) in cols:
                    diff = np.abs(out[:, :, i, j] - out[:, :, j, i]).max(axis=1)
                    if np.any(diff > 1e-12 * (1 + np.abs(out).max())):
                        s = samples[np.flatnonzero(diff > 1e-12 * (1 + np.abs(out).max()))[0]]
                        raise IngestError(f"{where}, sample {s}: column {col!r} differs from '{prefix}{j + 1}{i + 1}' "
                                          "(the tensor must be symmetric)")
        extra = [c for (i, j), c in cols.items() if i >= d or j >= d]
        if extra:
            raise IngestError(f"{where}: column {extra[0]!r} is beyond the input's d = {d}")
        return out

    inputs = tensor(inputs_found[0], symmetric=input_name == "strain")
    stress = tensor("sigma", symmetric=True) if "sigma" in tensors else None
    split = None
    if "split" in df.columns:
        split = []
        for s in samples:
            values = set(groups[int(s)]["split"].astype(str))
            if len(values) != 1:
                raise IngestError(f"{where}, sample {s}: variable 'split' must have one value per sample, got "
                                  f"{sorted(values)}")
            split.append(values.pop())
        split = np.array(split, dtype=object)
    return Paths(time, inputs, input_name, stress, samples.astype(np.int64), split, (where,))


# ---------------------------------------------------------------------------------------------------------- NPZ

def read_npz(path: str | os.PathLike) -> Paths:
    """Paths from an NPZ archive (module docstring, npz)."""
    where = str(path)
    try:
        z = np.load(path, allow_pickle=False)
    except Exception as err:  # noqa: BLE001
        raise IngestError(f"{where}: cannot read as NPZ: {err}") from None
    with z:
        names = set(z.files)
        found = [n for n in INPUTS if n in names]
        if len(found) != 1:
            raise IngestError(f"{where}: need exactly one input array, 'F' or 'strain'; arrays: {sorted(names)}")
        if "time" not in names:
            raise IngestError(f"{where}: variable 'time' is missing; arrays: {sorted(names)}")
        input_name = found[0]
        arrays = {n: z[n] for n in names}
    time = np.asarray(arrays["time"], float)
    inputs = _as_paths(arrays[input_name], where, input_name)
    stress = _as_paths(arrays["stress"], where, "stress") if "stress" in arrays else None
    sample = np.asarray(arrays.get("sample", np.arange(inputs.shape[0])))
    split = np.asarray(arrays["split"]).astype(str).astype(object) if "split" in arrays else None
    return _checked_arrays(where, time, inputs, input_name, stress, sample, split)


def _as_paths(a, where: str, name: str) -> np.ndarray:
    a = np.asarray(a)
    if not np.issubdtype(a.dtype, np.number):
        raise IngestError(f"{where}: variable {name!r} must be numeric, got dtype {a.dtype}")
    a = a.astype(float)
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4 or a.shape[-1] != a.shape[-2] or not 1 <= a.shape[-1] <= 3:
        raise IngestError(f"{where}: variable {name!r} must be (sample, time, d, d) or (time, d, d), d <= 3, got "
                          f"shape {a.shape}")
    return a


def _checked_arrays(where, time, inputs, input_name, stress, sample, split) -> Paths:
    """Paths from arrays, with their shapes checked against each other (names the file and variable)."""
    S, n = inputs.shape[:2]
    if time.ndim != 1 or time.size != n:
        raise IngestError(f"{where}: variable 'time' must be ({n},) like {input_name}'s time axis, got {time.shape}")
    if stress is not None and stress.shape != inputs.shape:
        raise IngestError(f"{where}: variable 'stress' has shape {stress.shape}, {input_name} {inputs.shape}")
    if sample.shape != (S,) or not np.issubdtype(sample.dtype, np.integer):
        raise IngestError(f"{where}: variable 'sample' must be ({S},) integers, got {sample.shape} {sample.dtype}")
    if split is not None and split.shape != (S,):
        raise IngestError(f"{where}: variable 'split' must be ({S},), got {split.shape}")
    return Paths(time, inputs, input_name, stress, sample.astype(np.int64), split, (where,))


# ------------------------------------------------------------------------------------------------ NetCDF, Zarr

def read_xarray(path: str | os.PathLike) -> Paths:
    """Paths from a NetCDF file or Zarr store read by xarray (module docstring, netcdf/zarr)."""
    import xarray as xr

    where = str(path)
    try:
        if Path(path).suffix.lower() == ".zarr" or Path(path).is_dir():
            ds = xr.open_zarr(path).load()
        else:
            ds = xr.open_dataset(path).load()
    except Exception as err:  # noqa: BLE001
        raise IngestError(f"{where}: cannot read with xarray: {type(err).__name__}: {err}") from None
    found = [n for n in INPUTS if n in ds.data_vars]
    if len(found) != 1:
        raise IngestError(f"{where}: need exactly one input variable, 'F' or 'strain'; variables: "
                          f"{sorted(map(str, ds.data_vars))}")
    input_name = found[0]
    dims = ("sample", "time", "i", "j")

    def tensor(name):
        da = ds[name]
        if set(da.dims) != set(dims):
            raise IngestError(f"{where}: variable {name!r} must have dims {dims}, got {da.dims}")
        return _as_paths(da.transpose(*dims).values, where, name)

    if "time" not in ds.coords and "time" not in ds.data_vars:
        raise IngestError(f"{where}: variable 'time' is missing")
    inputs = tensor(input_name)
    stress = tensor("stress") if "stress" in ds.data_vars else None
    sample = np.asarray(ds["sample"].values) if "sample" in ds.coords else np.arange(inputs.shape[0])
    split = np.asarray(ds["split"].values).astype(str).astype(object) if "split" in ds.data_vars else None
    return _checked_arrays(where, np.asarray(ds["time"].values, float), inputs, input_name, stress, sample, split)


# ------------------------------------------------------------------------------------------------------ DAMASK

def damask_increments(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times (n_inc,) s, F (n_inc, n_cells, 3, 3), P (n_inc, n_cells, 3, 3) Pa) of a DAMASK grid-solver result,
    read with damask.Result: every increment's t/s and the fields F and P of the phases' "mechanical" output,
    placed on the cells (Result.place); IngestError naming the file and increment if they are missing."""
    import damask

    try:
        result = damask.Result(path)
    except Exception as err:  # noqa: BLE001 -- not a DADF5 file, or a version damask cannot read
        raise IngestError(f"{path}: cannot read as a DAMASK result (DADF5): {type(err).__name__}: {err}") from None
    if result.N_constituents != 1:
        raise IngestError(f"{path}: {result.N_constituents} constituents per material point; one is supported "
                          "(the grid solver's)")
    data = result.place(["F", "P"], flatten=False) or {}
    F, P = [], []
    for inc in result.increments:
        fields = data.get(inc, {}).get("phase", {}).get("mechanical", {})
        missing = [name for name in ("F", "P") if name not in fields]
        if missing:
            raise IngestError(f"{path}: {inc}: variable(s) {missing} missing from phase/*/mechanical (write F and "
                              "P in the material's mechanical output)")
        for out, name in ((F, "F"), (P, "P")):
            a = np.ma.filled(np.ma.asarray(fields[name], dtype=float), np.nan)
            if np.isnan(a).any():
                raise IngestError(f"{path}: {inc}: variable {name!r} is missing on some cells")
            out.append(a)
    return np.asarray(result.times, float), np.stack(F), np.stack(P)


def from_damask(times: np.ndarray, F: np.ndarray, P: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray,
                                                                                          np.ndarray]:
    """One trajectory from a grid solve's cell fields: (time (n,) s, F_bar (n, 3, 3), Cauchy stress (n, 3, 3) MPa).

    F_bar and P_bar are the cell averages (equal cell volumes on a grid), sigma = P_bar F_bar^T / det F_bar / 1e6
    (Pa -> MPa), symmetrised; IngestError (naming ``where``, the variable and the increment) if times do not start
    at 0 and increase, det F_bar <= 0, a value is not finite, or sigma's antisymmetric part exceeds ASYMMETRY_TOL.
    """
    times, F, P = np.asarray(times, float), np.asarray(F, float), np.asarray(P, float)
    if F.ndim != 4 or F.shape[-2:] != (3, 3) or P.shape != F.shape or times.shape != F.shape[:1]:
        raise IngestError(f"{where}: expected F and P of shape (increments, cells, 3, 3) and one time per "
                          f"increment, got F {F.shape}, P {P.shape}, times {times.shape}")
    for name, a in (("F", F), ("P", P)):
        bad = ~np.isfinite(a).all(axis=(1, 2, 3))
        if bad.any():
            raise IngestError(f"{where}: variable {name!r} is not finite at increment {int(np.flatnonzero(bad)[0])}")
    if times[0] != 0 or not np.all(np.diff(times) > 0):
        raise IngestError(f"{where}: variable 'time' (t/s of the increments) must start at 0 and increase strictly, "
                          f"got {times[:5].tolist()}...")
    F_bar, P_bar = F.mean(axis=1), P.mean(axis=1)
    det = np.linalg.det(F_bar)
    if np.any(det <= 0):
        raise IngestError(f"{where}: variable 'F': det F_bar = {det[det <= 0][0]:.6g} <= 0 at increment "
                          f"{int(np.flatnonzero(det <= 0)[0])}")
    sigma = P_bar @ np.swapaxes(F_bar, -1, -2) / det[:, None, None] / 1e6
    asym = np.abs(sigma - np.swapaxes(sigma, -1, -2)).max(axis=(1, 2))
    size = np.abs(sigma).max(axis=(1, 2))
    bad = asym > ASYMMETRY_TOL * np.maximum(size, 1e-300)
    bad &= asym > 1e-9  # the reference state: sigma = 0 up to round-off
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise IngestError(f"{where}: variable 'stress' (P_bar F_bar^T / det F_bar) is not symmetric at increment "
                          f"{k}: antisymmetric part {asym[k]:.3g} MPa of {size[k]:.3g} MPa (not in equilibrium?)")
    return times, F_bar, 0.5 * (sigma + np.swapaxes(sigma, -1, -2))


def read_damask(files: Sequence[str | os.PathLike]) -> Paths:
    """Paths from DAMASK grid-solver results, one trajectory per file (samples 0, 1, ... in the files' order);
    every file must have the same increment times."""
    time = None
    inputs, stress = [], []
    for f in files:
        t, F_bar, sigma = from_damask(*damask_increments(f), where=str(f))
        if time is None:
            time = t
        elif t.shape != time.shape or not np.allclose(t, time, rtol=1e-12, atol=0):
            raise IngestError(f"{f}: variable 'time' (increments) differs from {files[0]}'s: every trajectory "
                              "needs the same time grid")
        F_bar[0] = np.eye(3) if np.abs(F_bar[0] - np.eye(3)).max() <= 1e-12 else F_bar[0]
        inputs.append(F_bar)
        stress.append(sigma)
    return Paths(time, np.stack(inputs), "F", np.stack(stress), np.arange(len(files), dtype=np.int64), None,
                 tuple(str(f) for f in files))


# --------------------------------------------------------------------------------------------------- to a store

def check_paths(paths: Paths) -> None:
    """IngestError naming the file, variable and sample unless: time is a 1D grid of >= 2 points starting at 0 s and
    increasing strictly; sample ids are unique; inputs (and stress) are finite; every sample starts in the reference
    state (strain 0, F = I, to 1e-12); det F > 0; the stress is symmetric; split values are "train"/"test"."""
    where = paths.source[0] if len(paths.source) == 1 else f"{paths.source[0]} (and {len(paths.source) - 1} more)"
    t = paths.time
    if t.ndim != 1 or t.size < 2 or not np.isfinite(t).all() or t[0] != 0 or not np.all(np.diff(t) > 0):
        raise IngestError(f"{where}: variable 'time' must have >= 2 finite values starting at 0 s and increasing "
                          f"strictly, got {t[:5].tolist()}{'...' if t.size > 5 else ''}")
    ids = paths.sample
    if np.unique(ids).size != ids.size:
        raise IngestError(f"{where}: variable 'sample' has duplicate ids")

    def culprit(mask_per_sample):
        return int(ids[np.flatnonzero(mask_per_sample)[0]])

    tensors = {paths.input_name: paths.inputs, **({"stress": paths.stress} if paths.stress is not None else {})}
    for name, a in tensors.items():
        finite = np.isfinite(a).all(axis=(2, 3))
        if not finite.all():
            s, k = np.argwhere(~finite)[0]
            raise IngestError(f"{where}, sample {int(ids[s])}: variable {name!r} is not finite (NaN, inf or empty) "
                              f"at t = {t[k]:.6g} s")
    d = paths.d
    reference = INPUTS[paths.input_name] * np.eye(d)
    off = np.abs(paths.inputs[:, 0] - reference).max(axis=(1, 2)) > 1e-12
    if off.any():
        raise IngestError(f"{where}, sample {culprit(off)}: variable {paths.input_name!r} at t = 0 must be "
                          f"{'the identity' if paths.input_name == 'F' else 'zero'} (the stress-free reference "
                          f"state), got {paths.inputs[np.flatnonzero(off)[0], 0].tolist()}")
    if paths.input_name == "F":
        det = np.linalg.det(paths.inputs)
        bad = (det <= 0).any(axis=1)
        if bad.any():
            raise IngestError(f"{where}, sample {culprit(bad)}: variable 'F' has det F <= 0")
    if paths.stress is not None:
        s = paths.stress
        scale = 1.0 + np.abs(s).max()
        asym = np.abs(s - np.swapaxes(s, -1, -2)).max(axis=(1, 2, 3)) > 1e-8 * scale
        if asym.any():
            raise IngestError(f"{where}, sample {culprit(asym)}: variable 'stress' is not symmetric")
    if paths.split is not None:
        bad = ~np.isin(paths.split.astype(str), ("train", "test"))
        if bad.any():
            raise IngestError(f"{where}, sample {culprit(bad)}: variable 'split' must be 'train' or 'test', got "
                              f"{paths.split[np.flatnonzero(bad)[0]]!r}")


def to_dataset(paths: Paths, *, producer: str = "external", case: str | None = None,
               test_fraction: float = 0.2):
    """The contract Dataset of ``paths`` (with stress), validated. Split: the file's, else the last
    ceil(test_fraction S) samples (by id) are "test". attrs: producer, case (default: the first file's stem),
    case_config {"source": files, "format": "ingested"}, n_train, n_test."""
    if paths.stress is None:
        raise IngestError(f"{paths.source[0]}: variable 'stress' is missing: a store needs stresses")
    order = np.argsort(paths.sample, kind="stable")
    S = order.size
    if paths.split is not None:
        split = paths.split[order].astype(str).astype(object)
    else:
        if not 0 <= test_fraction < 1:
            raise IngestError(f"test_fraction must be in [0, 1), got {test_fraction}")
        n_test = math.ceil(test_fraction * S - 1e-9)
        if S - n_test < 1:
            raise IngestError(f"{paths.source[0]}: {S} sample(s) leave none for training with test_fraction "
                              f"{test_fraction}")
        split = np.array(["train"] * (S - n_test) + ["test"] * n_test, dtype=object)
    name = case or Path(paths.source[0]).stem
    config = {"source": [str(Path(s).resolve()) for s in paths.source], "format": "ingested",
              "n_train": int((split == "train").sum()), "n_test": int((split == "test").sum())}
    ds = build_dataset(Case(producer, name, config), paths.time, paths.inputs[order], paths.stress[order],
                       input_name=paths.input_name, sample=paths.sample[order])
    ds["split"] = ("sample", split)
    ds.attrs.update(n_train=config["n_train"], n_test=config["n_test"], shards=json.dumps([]))
    return validate(ds, where=paths.source[0])


def ingest(files: str | os.PathLike | Sequence[str | os.PathLike], out: str | os.PathLike, *, fmt: str | None = None,
           producer: str = "external", case: str | None = None, test_fraction: float = 0.2) -> Path:
    """Read ``files`` (read_paths), build the contract Dataset (to_dataset), write it atomically to ``out``
    (dataset.store.write_atomic) and read it back validated (dataset.store.open_store); returns ``out``."""
    from .store import open_store, write_atomic

    paths = read_paths(files, fmt)
    ds = to_dataset(paths, producer=producer, case=case, test_fraction=test_fraction)
    out = write_atomic(ds, out, where=paths.source[0])
    open_store(out)
    return out
