"""A case: one (producer, case name) with its resolved config, and the seeds derived from it.

Randomness is keyed, never sequential: ``case.rng("material")`` and ``case.rng("paths", shard)`` give the same
stream whatever ran before, so a shard can be recomputed alone and raising the sample count adds shards without
touching the old ones.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

#: Keys of a case config that only say how many samples to keep; they never change a solved sample.
SIZE_KEYS = ("n_train", "n_test")


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: the form that is hashed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _key32(value: Any) -> int:
    """A stable 32-bit integer for a seed key (Python's hash() is salted per process)."""
    if isinstance(value, (int, np.integer)) and 0 <= int(value) < 2**32:
        return int(value)
    return int.from_bytes(hashlib.sha256(str(value).encode()).digest()[:4], "little")


@dataclass(frozen=True)
class Case:
    """A producer's case: its name and resolved config (sampler settings, material parameters, sizes, seed)."""

    producer: str
    name: str
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def solve_config(self) -> dict:
        """The config minus the sample counts: everything that determines a solved sample."""
        return {k: v for k, v in self.config.items() if k not in SIZE_KEYS}

    @property
    def hash(self) -> str:
        """Hash of (producer, solve_config): equal hashes mean equal shards."""
        text = canonical_json({"producer": self.producer, "config": self.solve_config})
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def n_train(self) -> int:
        return int(self.config.get("n_train", 0))

    @property
    def n_test(self) -> int:
        return int(self.config.get("n_test", 0))

    @property
    def n_samples(self) -> int:
        return self.n_train + self.n_test

    @property
    def loading(self) -> dict:
        """Sampler settings (T, M, n_steps, F_max and optionally volumetric) of this case."""
        return dict(self.config.get("loading", {}))

    def rng(self, *keys: Any) -> np.random.Generator:
        """A generator seeded from (seed, producer, case, *keys), independent of call order."""
        seed = int(self.config.get("seed", 0))
        spawn_key = tuple(_key32(k) for k in (self.producer, self.name, *keys))
        return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=spawn_key))

    def __str__(self) -> str:
        return f"{self.producer}/{self.name}"
