"""The producers the workflow knows: name -> module, MPI use, job resources, [lo, hi] range keys, paper loading.

Static facts only: nothing here imports a producer, so validating a config stays cheap. ``load(name)`` imports
the producer module (it exposes NAME, INPUT, DIM and solve(inputs, time, case); see docs/data-contract.md).
"""
from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from types import ModuleType


@dataclass(frozen=True)
class ProducerEntry:
    """One producer of the data factory."""

    name: str
    module: str  # the module exposing NAME, INPUT, DIM and solve
    mpi: bool = False  # its shards run under an MPI launcher with `producers.<name>.tasks` ranks (default 2)
    ranges: tuple[str, ...] = ()  # case keys holding a [lo, hi] range (lo <= hi is checked)
    # the paper's loading for this producer (T in s, F_max in 1/sqrt(s)): cases built outside a config start here
    loading: dict = field(default_factory=dict)
    runtime: int = 60  # minutes a shard job may take (cluster time limit, Snakemake resource runtime)
    mem_mb: int = 2000  # memory of a shard job (MB, per job)


PRODUCERS: dict[str, ProducerEntry] = {e.name: e for e in (
    ProducerEntry("composite1d", "fullfield.composite1d", ranges=("E", "sigma0", "n"),
                  loading={"T": 200.0, "M": 10, "n_steps": 1000, "F_max": 0.01}),
    # Paper Section 4: "maximum strain 33%" read as the sampler's hard bound F_max sqrt(M T) = 0.33.
    ProducerEntry("laminate", "fullfield.laminate",
                  loading={"T": 200.0, "M": 10, "n_steps": 1000, "F_max": 0.33 / math.sqrt(10 * 200.0)}),
    ProducerEntry("polycrystal2d", "fullfield.polycrystal2d.producer", mpi=True, runtime=720, mem_mb=4000,
                  loading={"T": 200.0, "M": 10, "n_steps": 1000, "F_max": 0.01}),
    # Sections 2 and 5.2; the volumetric part scaled by 0.1 (docs/taylor.md)
    ProducerEntry("taylor_mg", "taylor.magnesium",
                  loading={"T": 200.0, "M": 10, "n_steps": 1000, "F_max": 0.01, "volumetric": 0.1}),
)}

def entry(name: str) -> ProducerEntry:
    try:
        return PRODUCERS[name]
    except KeyError:
        raise KeyError(f"unknown producer {name!r}; known: {sorted(PRODUCERS)}") from None


def sources(name: str) -> list[str]:
    """The project files a shard of ``name`` depends on: the import closure of the producer and of the shard code
    (sampler, contract, store). Editing any of them reruns the producer's shards, and only those."""
    from .sources import ROOT, closure

    return [str(ROOT / f) for f in sorted(set(closure(entry(name).module)) | set(closure("dataset.shards")))]


def load(name: str) -> ModuleType:
    """The producer module of ``name``, checked for the producer interface."""
    module = importlib.import_module(entry(name).module)
    for attr in ("NAME", "INPUT", "DIM", "solve"):
        if not hasattr(module, attr):
            raise TypeError(f"producer module {module.__name__} lacks {attr}")
    return module
