"""Training envelope guard (issue 18, item 3): flag the integration points whose deformation leaves the
per-component range of F - I seen in the training data of a learned material (dimensionless; F is that of the
data, e.g. a store's "F" input). The range is an argument, so macroscale/ never imports dataset/ or learning/:
the caller reads it from the store (``Envelope.from_samples(F_train)``).

Which deformation is compared: the RNO of this project is trained on symmetric F = U (docs/taylor.md) and, wrapped in
``macroscale.objective.Corotational``, it sees the stretch U of F = R U. So ``measure="U"`` (the default) compares
U - I, the input the network actually receives; ``measure="F"`` compares F - I itself (meaningful only where the
training data also had rotations). A point is outside when any of the nine components lies outside
[lo - tol, hi + tol].
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .objective import polar


@dataclass(frozen=True)
class Envelope:
    """Per-component range of F - I seen in training: lo, hi (3, 3) (dimensionless, lo <= hi); measure "U" (the
    stretch of F = R U, the default) or "F"; tol: slack added on both sides (dimensionless, >= 0)."""

    lo: np.ndarray
    hi: np.ndarray
    measure: str = "U"
    tol: float = 0.0

    def __post_init__(self):
        lo, hi = np.asarray(self.lo, float), np.asarray(self.hi, float)
        if lo.shape != (3, 3) or hi.shape != (3, 3) or not np.all(lo <= hi):
            raise ValueError(f"Envelope: need lo <= hi, both (3, 3); got {lo.shape}, {hi.shape}")
        if self.measure not in ("U", "F") or not self.tol >= 0:
            raise ValueError(f"Envelope: measure must be 'U' or 'F' and tol >= 0; got {self.measure!r}, {self.tol}")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    @classmethod
    def from_samples(cls, F, measure: str = "U", tol: float = 0.0) -> "Envelope":
        """The envelope of the deformation gradients F (..., 3, 3) of a data set (all samples and times): the
        componentwise min and max of F - I."""
        D = np.asarray(F, float).reshape(-1, 3, 3) - np.eye(3)
        return cls(D.min(0), D.max(0), measure, tol)

    def deviation(self, F) -> np.ndarray:
        """(B,) how far (dimensionless, >= 0) the points F (B, 3, 3) lie outside the range: the largest
        componentwise distance of F - I (or U - I) beyond [lo - tol, hi + tol]; 0 inside."""
        F = np.asarray(F, float)
        D = (polar(F)[1] if self.measure == "U" else F) - np.eye(3)
        below = (self.lo - self.tol) - D
        above = D - (self.hi + self.tol)
        return np.maximum(np.maximum(below, above), 0.0).reshape(len(F), 9).max(1)

    def outside(self, F) -> np.ndarray:
        """(B,) bool: the points F (B, 3, 3) outside the envelope."""
        return self.deviation(F) > 0.0
