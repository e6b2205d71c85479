import json
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

from dataset.case import Case  # noqa: E402
from dataset.contract import build_dataset  # noqa: E402


def toy_dataset(n=6, n_time=11, d=2, input_name="strain", case=None, sample=None, failures=None):
    """A small contract dataset: linear elastic stress = 2*mu*strain (MPa)."""
    case = case or Case("toy", "C1", {"seed": 1, "mu": 100.0})
    t = np.linspace(0.0, 10.0, n_time)
    rng = np.random.default_rng(0)
    a = rng.normal(size=(n, 1, d, d))
    strain = 1e-3 * t[None, :, None, None] * (a + np.swapaxes(a, -1, -2))
    x = strain + (np.eye(d) if input_name == "F" else 0.0)
    params = {"mu": xr.DataArray(100.0, attrs={"units": "MPa"})}
    return build_dataset(case, t, x, 200.0 * strain, input_name=input_name, params=params, sample=sample,
                         failures=failures)


@pytest.fixture
def toy():
    return toy_dataset


def read_json_attr(ds, key):
    return json.loads(ds.attrs[key])


class Crash(Exception):
    """An interruption raised from a training loop's on_epoch_end (resume tests)."""


def crash_at(epoch: int):
    """on_epoch_end hook that interrupts training at the end of ``epoch``."""
    def hook(done, model):
        if done == epoch:
            raise Crash

    return hook
