"""A shard of a configured case, solved by the producer the registry names (dataset.shards does the work)."""
from __future__ import annotations

import xarray as xr

from dataset import shards
from dataset.case import Case

from . import registry


def solve_shard(case: Case, shard: int, shard_size: int) -> xr.Dataset:
    """The samples of shard ``shard`` of ``case`` (dataset.shards.solve_shard with the case's producer)."""
    return shards.solve_shard(registry.load(case.producer), case, shard, shard_size)

