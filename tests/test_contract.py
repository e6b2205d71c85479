"""The dataset contract: validate catches each breach by name; atomic writes; collecting shards."""
import json
import os

import numpy as np
import pytest

from conftest import toy_dataset
from dataset.contract import ContractError, failures, validate
from dataset.store import collect, open_store, write_atomic


def test_valid_dataset_passes_and_has_provenance():
    ds = validate(toy_dataset(), require_split=False)
    for key in ("producer", "case", "case_config", "case_hash", "version", "git_commit", "input", "created"):
        assert ds.attrs[key]
    assert json.loads(ds.attrs["case_config"])["mu"] == 100.0
    assert ds["stress"].attrs["units"] == "MPa" and ds["time"].attrs["units"] == "s"


def breach(name):
    ds = toy_dataset()
    if name == "nan":
        ds["stress"][3, 5, 0, 1] = np.nan
        return ds, "sample 3: variable 'stress' has non-finite"
    if name == "units":
        del ds["mu"].attrs["units"]
        return ds, "'mu' has no 'units'"
    if name == "stress_units":
        ds["stress"].attrs["units"] = "GPa"
        return ds, "'stress' must be in 'MPa'"
    if name == "dims":
        return ds.transpose("time", "sample", "i", "j"), "strain has dims"
    if name == "time":
        return ds.assign_coords(time=ds["time"] + 1.0), "time must start at 0"
    if name == "reference":
        ds["strain"][2] += 0.1
        return ds, "sample 2: strain at t = 0"
    if name == "asymmetric":
        ds["stress"][4, 3, 0, 1] += 1.0
        return ds, "sample 4: stress is not symmetric"
    if name == "attrs":
        del ds.attrs["git_commit"]
        return ds, "missing attrs"
    if name == "failed_present":
        ds.attrs["failures"] = json.dumps([{"sample": 1, "reason": "x"}])
        return ds, r"samples \[1\] are listed as failed"
    raise AssertionError(name)


@pytest.mark.parametrize("name", ["nan", "units", "stress_units", "dims", "time", "reference", "asymmetric", "attrs",
                                  "failed_present"])
def test_breaches_are_named(name):
    ds, message = breach(name)
    with pytest.raises(ContractError, match=message):
        validate(ds, require_split=False)


def test_split_is_required_in_stores(tmp_path):
    ds = toy_dataset()
    with pytest.raises(ContractError, match="split"):
        validate(ds)
    ds["split"] = ("sample", np.array(["train"] * 5 + ["valid"], dtype=object))
    with pytest.raises(ContractError, match="split values"):
        validate(ds)


def test_atomic_write_roundtrip_leaves_no_temporaries(tmp_path):
    out = tmp_path / "a" / "shard0.zarr"
    write_atomic(toy_dataset(input_name="F"), out, shard=True)
    back = open_store(out, shard=True)
    assert back.attrs["input"] == "F" and back["F"].shape == (6, 11, 2, 2)
    write_atomic(toy_dataset(input_name="F", n=3), out, shard=True)  # overwrite in place
    assert open_store(out, shard=True).sizes["sample"] == 3
    assert os.listdir(out.parent) == ["shard0.zarr"]


def test_failed_write_leaves_nothing(tmp_path):
    ds, _ = breach("nan")
    with pytest.raises(ContractError):
        write_atomic(ds, tmp_path / "s.zarr", shard=True)
    assert list(tmp_path.iterdir()) == []


def test_collect_assigns_split_truncates_and_keeps_failures(tmp_path):
    paths = []
    for k in range(3):
        fails = [{"sample": 4 * k + 3, "reason": "SNES diverged"}]
        ds = toy_dataset(n=3, sample=np.array([4 * k, 4 * k + 1, 4 * k + 2]), failures=fails)
        paths.append(write_atomic(ds, tmp_path / f"shard{k}.zarr", shard=True))
    out = collect(paths[::-1], tmp_path / "case.zarr", n_train=5, n_test=4)
    ds = open_store(out)
    assert ds["sample"].values.tolist() == [0, 1, 2, 4, 5, 6, 8]
    assert ds["split"].values.tolist() == ["train"] * 4 + ["test"] * 3
    assert [f["sample"] for f in failures(ds)] == [3, 7]
    assert ds.attrs["n_train"] == 5 and ds.attrs["n_test"] == 4


def test_collect_refuses_a_stale_shard(tmp_path):
    from dataset.case import Case

    a = write_atomic(toy_dataset(n=2), tmp_path / "shard0.zarr", shard=True)
    other = Case("toy", "C1", {"seed": 1, "mu": 50.0})
    b = write_atomic(toy_dataset(n=2, sample=np.array([2, 3]), case=other), tmp_path / "shard1.zarr", shard=True)
    with pytest.raises(ContractError, match="shard1.zarr.*case_hash"):
        collect([a, b], tmp_path / "case.zarr", n_train=2, n_test=2)
    assert not (tmp_path / "case.zarr").exists()
