"""One shard: a fixed number of samples of a case, with a seed derived from (case, shard index).

The producer is passed in (any object with INPUT, DIM and solve, docs/data-contract.md): dataset/ never imports
one; the workflow layer picks it by name (pipeline.registry, pipeline.shards).
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import xarray as xr

from .case import Case
from .contract import failures
from .sampler import sample_paths
from .store import write_atomic


def n_shards(n_samples: int, shard_size: int) -> int:
    """Shards needed for n_samples; every shard holds shard_size samples, collect keeps the first n_samples."""
    return math.ceil(n_samples / shard_size)


def shard_inputs(case: Case, shard: int, shard_size: int, dim: int, input_name: str):
    """The loading paths of one shard (sample, time, d, d), drawn from case.rng("paths", shard)."""
    loading = case.loading
    try:
        return sample_paths(shard_size, dim, case.rng("paths", shard), F_max=float(loading["F_max"]),
                            T=float(loading["T"]), M=int(loading["M"]), n_steps=int(loading["n_steps"]),
                            identity=input_name == "F", volumetric=float(loading.get("volumetric", 1.0)))
    except ValueError as err:
        raise ValueError(f"{case} shard {shard}: {err}") from None


def solve_shard(producer, case: Case, shard: int, shard_size: int) -> xr.Dataset:
    """Sample the shard's paths and solve them with ``producer``; samples are numbered globally."""
    paths = shard_inputs(case, shard, shard_size, producer.DIM, producer.INPUT)
    ds = producer.solve(paths.values, paths.time, case)
    offset = shard * shard_size
    ds = ds.assign_coords(sample=ds["sample"].values.astype(np.int64) + offset)
    failed = [{**f, "sample": int(f["sample"]) + offset} for f in failures(ds)]
    ds.attrs.update(failures=json.dumps(failed), shard=int(shard), shard_size=int(shard_size))
    return ds


def run_shard(producer, case: Case, shard: int, shard_size: int, out: str | os.PathLike) -> Path:
    """Solve one shard with ``producer`` and write it atomically to ``out``.

    The write validates the contract first: a NaN or inf from the producer raises ContractError naming the
    case, shard and sample, and nothing is written.
    """
    ds = solve_shard(producer, case, shard, shard_size)
    return write_atomic(ds, out, shard=True, where=f"case {case}, shard {shard}")
