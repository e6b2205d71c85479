"""From a contract Dataset to the RNO's trajectories: independent components, one split, one resolution.

The target is the Cauchy stress, its deviatoric part sigma + p I, or the pressure p = -tr(sigma)/d (one component),
all computed from the dataset's ``stress`` (paper eq. 28: Section 5.1 learns the last two with separate RNOs).

A dataset of n_data steps is down-sampled to ``steps`` steps by striding (every (n_data / steps)-th time, both
ends kept), so ``steps`` must divide n_data; this is how the paper builds its 200-step training data from 1000-step
solves (Section 6). Non-uniform grids are strided the same way.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import xarray as xr

from .settings import TARGETS


@dataclass(frozen=True)
class Trajectories:
    """Paths of one split at one resolution: x (S, N+1, n_comp), the target (S, N+1, n_out), time (N+1,) in s."""

    x: np.ndarray  # input components (strain or F), "1"
    stress: np.ndarray  # target components (TARGETS), MPa
    time: np.ndarray  # s, time[0] = 0
    sample: np.ndarray  # (S,) the dataset's sample ids
    input_name: str  # "strain" or "F"
    d: int  # tensor size d of the d x d input
    target: str = "stress"

    @property
    def steps(self) -> int:
        return self.time.size - 1

    @property
    def weights(self) -> np.ndarray:
        """Component weights of the target's norm in eq. (16): Frobenius for tensors, 1 for the pressure."""
        return np.ones(1) if self.target == "pressure" else component_weights(self.d)

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


def target_components(stress: np.ndarray, target: str = "stress") -> np.ndarray:
    """(..., d, d) Cauchy stress -> (..., n_out) components of ``target`` (TARGETS): the stress or its deviatoric
    part sigma + p I (independent components, i <= j), or (..., 1) the pressure p = -tr(sigma)/d."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    if target == "stress":
        return to_components(stress)
    d = stress.shape[-1]
    p = -np.trace(stress, axis1=-2, axis2=-1) / d
    if target == "pressure":
        return p[..., None]
    return to_components(stress + p[..., None, None] * np.eye(d))


def trajectories(ds: xr.Dataset, split: str | None, steps: int | None = None, target: str = "stress",
                 size: int | None = None) -> Trajectories:
    """The ``split`` ("train", "test" or None for all) of a contract dataset at ``steps`` steps (None: as stored).

    target: what ``stress`` holds (target_components); size: keep only the split's first ``size`` samples (a
    training-set-size study, paper Fig. 8b); ValueError if the split has fewer.
    """
    inp = ds.attrs["input"]
    where = f"{ds.attrs.get('producer')}/{ds.attrs.get('case')}"
    if split is not None:
        ds = ds.isel(sample=np.flatnonzero(np.asarray(ds["split"].values).astype(str) == split))
        if ds.sizes["sample"] == 0:
            raise ValueError(f"{where}: no {split!r} samples")
    if size is not None:
        if not 1 <= size <= ds.sizes["sample"]:
            raise ValueError(f"{where}: asked for {size} {split or ''} samples, the dataset has "
                             f"{ds.sizes['sample']}")
        ds = ds.isel(sample=slice(0, int(size)))
    n_data = ds.sizes["time"] - 1
    s = stride(n_data, n_data if steps is None else int(steps))
    ds = ds.isel(time=slice(None, None, s))
    return Trajectories(
        x=to_components(ds[inp].transpose("sample", "time", "i", "j").values),
        stress=target_components(ds["stress"].transpose("sample", "time", "i", "j").values, target),
        time=np.asarray(ds["time"].values, float),
        sample=np.asarray(ds["sample"].values),
        input_name=inp,
        d=int(ds.sizes["i"]),
        target=target,
    )
