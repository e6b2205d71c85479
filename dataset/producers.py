"""Registry of producers. A producer is a module exposing

    NAME:  str                      the producer's name (the key below)
    INPUT: "strain" | "F"           the input variable of its datasets
    DIM:   int                      d, the size of the d x d input and stress
    solve(inputs, time, case) -> xarray.Dataset
        inputs (sample, time, d, d) of strain or F on the grid ``time`` (s, time[0] = 0), a dataset.Case;
        returns a contract Dataset (dataset.contract.build_dataset) with samples 0..S-1 and the ones it could
        not finish listed in attrs["failures"] (never as NaN).

Modules are imported lazily by name, so dataset/ never imports a producer until it is asked for one.
"""
from __future__ import annotations

import importlib
from types import ModuleType

PRODUCERS: dict[str, str] = {
    "composite1d": "fullfield.composite1d",
    "laminate": "fullfield.laminate",
    "polycrystal2d": "fullfield.polycrystal2d.producer",
    "taylor_mg": "taylor.magnesium",
}


def get(name: str) -> ModuleType:
    try:
        module = importlib.import_module(PRODUCERS[name])
    except KeyError:
        raise KeyError(f"unknown producer {name!r}; known: {sorted(PRODUCERS)}") from None
    for attr in ("NAME", "INPUT", "DIM", "solve"):
        if not hasattr(module, attr):
            raise TypeError(f"producer module {module.__name__} lacks {attr}")
    return module
