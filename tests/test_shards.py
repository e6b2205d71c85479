"""Shards: keyed seeds, global sample numbering, and a producer returning NaN writes nothing."""
import sys

import numpy as np
import pytest
import xarray as xr

from dataset.case import Case
from dataset.contract import ContractError, build_dataset, failures
from dataset.shards import n_shards, run_shard, shard_inputs, solve_shard

PRODUCER = sys.modules[__name__]  # this module is the producer
from dataset.store import open_store

# This module is itself a (fake) producer: stress = E * strain, NaN for one chosen sample, one listed failure.
NAME, INPUT, DIM = "fake", "strain", 1


def solve(inputs, time, case):
    stress = case.config["E"] * inputs
    keep = np.arange(inputs.shape[0])
    fails = []
    if case.config.get("fail_local") is not None:
        fail = np.atleast_1d(case.config["fail_local"])
        fails = [{"sample": int(f), "reason": "Newton did not converge"} for f in fail]
        keep = np.setdiff1d(keep, fail)
    if case.config.get("nan_local") is not None:
        stress[case.config["nan_local"], -1] = np.nan
    return build_dataset(case, time, inputs[keep], stress[keep], input_name="strain", sample=keep, failures=fails,
                         params={"E": xr.DataArray(case.config["E"], attrs={"units": "MPa"})})


@pytest.fixture
def fake():
    return lambda **cfg: Case("fake", "F1", {"seed": 3, "E": 10.0, "loading": {"T": 10.0, "M": 3, "n_steps": 20,
                                                                                "F_max": 0.1}, **cfg})


def test_n_shards():
    assert [n_shards(n, 10) for n in (1, 10, 11, 40)] == [1, 1, 2, 4]


def test_shard_inputs_depend_only_on_case_and_shard(fake):
    case = fake()
    a = shard_inputs(case, 2, 5, 1, "strain").values
    assert not np.allclose(a, shard_inputs(case, 1, 5, 1, "strain").values)
    np.testing.assert_array_equal(a, shard_inputs(case, 2, 5, 1, "strain").values)
    assert shard_inputs(case, 0, 3, 2, "F").values[0, 0].tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_samples_and_failures_are_numbered_globally(fake, tmp_path):
    out = run_shard(PRODUCER, fake(fail_local=1), 3, 4, tmp_path / "shard3.zarr")
    ds = open_store(out, shard=True)
    assert ds["sample"].values.tolist() == [12, 14, 15]
    assert failures(ds) == [{"sample": 13, "reason": "Newton did not converge"}]
    assert ds.attrs["shard"] == 3 and ds.attrs["shard_size"] == 4


def test_nan_from_a_producer_names_case_shard_sample_and_writes_nothing(fake, tmp_path):
    with pytest.raises(ContractError, match=r"case fake/F1, shard 2: sample 11: variable 'stress' has non-finite"):
        run_shard(PRODUCER, fake(nan_local=3), 2, 4, tmp_path / "shard2.zarr")
    assert list(tmp_path.iterdir()) == []


def test_solve_shard_is_deterministic(fake):
    a, b = solve_shard(PRODUCER, fake(), 1, 3), solve_shard(PRODUCER, fake(), 1, 3)
    np.testing.assert_array_equal(a["stress"].values, b["stress"].values)


def test_a_shard_whose_samples_all_failed_is_written_with_its_failures(fake, tmp_path):
    out = run_shard(PRODUCER, fake(fail_local=[0, 1, 2]), 1, 3, tmp_path / "shard1.zarr")
    ds = open_store(out, shard=True)
    assert ds.sizes["sample"] == 0
    assert [f["sample"] for f in failures(ds)] == [3, 4, 5]
