"""From a contract Dataset to the RNO's trajectories: independent components, one split, one resolution.

A dataset of n_data steps is down-sampled to ``steps`` steps by striding (every (n_data / steps)-th time, both
ends kept), so ``steps`` must divide n_data; this is how the paper builds its 200-step training data from 1000-step
solves (Section 6). Non-uniform grids are strided the same way.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import xarray as xr



@dataclass(frozen=True)
class Trajectories:
    """Paths of one split at one resolution: x and stress (S, N+1, n_comp), time (N+1,) in s."""

    x: np.ndarray  # input components (strain or F), "1"
    stress: np.ndarray  # Cauchy stress components, MPa
    time: np.ndarray  # s, time[0] = 0
    sample: np.ndarray  # (S,) the dataset's sample ids
    input_name: str  # "strain" or "F"
    d: int  # tensor size d of the d x d input

    @property
    def steps(self) -> int:
        return self.time.size - 1

    def tensors(self, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32):
        """(x, stress, time) as torch tensors on ``device``."""
        return tuple(torch.as_tensor(a, dtype=dtype, device=device) for a in (self.x, self.stress, self.time))


def component_names(d: int) -> list[tuple[int, int]]:
    """Independent components (i, j), i <= j, of a symmetric d x d tensor, row-major: the order of x and stress."""
    return [(i, j) for i in range(d) for j in range(i, d)]


def to_components(a: np.ndarray) -> np.ndarray:
    """(..., d, d) symmetric tensors -> (..., n_comp) independent components i <= j."""
    d = a.shape[-1]
    idx = component_names(d)
    return np.stack([a[..., i, j] for i, j in idx], axis=-1)


def from_components(c: np.ndarray, d: int) -> np.ndarray:
    """(..., n_comp) independent components -> (..., d, d) symmetric tensors."""
    out = np.zeros(c.shape[:-1] + (d, d), dtype=c.dtype)
    for m, (i, j) in enumerate(component_names(d)):
        out[..., i, j] = out[..., j, i] = c[..., m]
    return out


def component_weights(d: int) -> np.ndarray:
    """Weights that turn a sum over independent components into the full Frobenius sum: 1 (i = j), 2 (i < j)."""
    return np.array([1.0 if i == j else 2.0 for i, j in component_names(d)])


def stride(n_data: int, steps: int) -> int:
    """The stride that takes n_data steps to ``steps``; ValueError unless steps divides n_data."""
    if steps < 1 or n_data % steps:
        raise ValueError(f"cannot down-sample {n_data} steps to {steps}: the number of steps must divide {n_data}")
    return n_data // steps


def trajectories(ds: xr.Dataset, split: str | None, steps: int | None = None) -> Trajectories:
    """The ``split`` ("train", "test" or None for all) of a contract dataset at ``steps`` steps (None: as stored)."""
    inp = ds.attrs["input"]
    if split is not None:
        ds = ds.isel(sample=np.flatnonzero(np.asarray(ds["split"].values).astype(str) == split))
        if ds.sizes["sample"] == 0:
            raise ValueError(f"{ds.attrs.get('producer')}/{ds.attrs.get('case')}: no {split!r} samples")
    n_data = ds.sizes["time"] - 1
    s = stride(n_data, n_data if steps is None else int(steps))
    ds = ds.isel(time=slice(None, None, s))
    return Trajectories(
        x=to_components(ds[inp].transpose("sample", "time", "i", "j").values),
        stress=to_components(ds["stress"].transpose("sample", "time", "i", "j").values),
        time=np.asarray(ds["time"].values, float),
        sample=np.asarray(ds["sample"].values),
        input_name=inp,
        d=int(ds.sizes["i"]),
    )
