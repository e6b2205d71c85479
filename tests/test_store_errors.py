"""A store that cannot be decoded raises StoreReadError naming the store, the variable and the chunk file."""

import numpy as np
import pytest

from dataset.store import StoreReadError, locate_fault, open_metadata, open_store, write_atomic


@pytest.fixture
def store(tmp_path, toy):
    ds = toy(n=4, n_time=6, d=2)
    ds["split"] = ("sample", np.array(["train", "train", "train", "test"], dtype=object))
    return write_atomic(ds, tmp_path / "tiny.zarr")


def chunk_files(store, var):
    return sorted(p for p in (store / var).rglob("*") if p.is_file() and p.name != "zarr.json")


def test_the_intact_store_reads(store):
    assert open_store(store).sizes["sample"] == 4
    assert locate_fault(store) is None


def test_a_corrupt_data_chunk_names_store_variable_and_chunk(store):
    (chunk,) = chunk_files(store, "stress")
    chunk.write_bytes(b"not zstd at all" * 4)
    open_metadata(store)  # the lazy open touches coordinates only
    with pytest.raises(StoreReadError) as err:
        open_store(store)
    msg = str(err.value)
    assert str(store) in msg
    assert "'stress'" in msg
    assert f"stress/{chunk.relative_to(store / 'stress').as_posix()}" in msg  # e.g. stress/c/0/0/0/0
    assert "Zstd" in msg  # the decoder's own words
    assert locate_fault(store)[0] == "stress"


def test_a_corrupt_coordinate_chunk_fails_already_on_open(store):
    (chunk,) = chunk_files(store, "time")
    chunk.write_bytes(chunk.read_bytes()[:5])  # truncated
    with pytest.raises(StoreReadError, match=r"tiny\.zarr: cannot decode variable 'time', chunk file time/c/0"):
        open_metadata(store)
    with pytest.raises(StoreReadError, match="'time'"):
        open_store(store)


def test_unreadable_metadata_names_the_store(store):
    (store / "zarr.json").write_text("{ not json")
    with pytest.raises(StoreReadError, match=r"tiny\.zarr: cannot read the store"):
        open_store(store)


def test_a_missing_store_is_still_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no dataset at"):
        open_store(tmp_path / "nothing.zarr")
