"""Training settings of one RNO: architecture, optimiser, schedule, resolution and seed."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

SCHEDULES = ("constant", "step", "cosine")
TARGETS = ("stress", "deviatoric", "pressure")  # the RNO's output (learning.data.target_components)


@dataclass
class TrainSettings:
    """Everything that determines a trained model besides its data (units: lr per step of Adam, epochs)."""

    variant: str = "evp"  # "evp" (eq. 2) or "ve" (eq. 7)
    target: str = "stress"  # what f returns: "stress", "deviatoric" or "pressure" (Section 5.1, eq. 28)
    k: int = 1  # number of internal variables, >= 0
    hidden: list[int] = field(default_factory=lambda: [100, 100, 100, 100])  # widths of f's hidden layers
    hidden_g: list[int] | None = None  # widths of g's hidden layers (None: as f)
    max_dt: float | None = None  # s; Euler sub-steps of xi no longer than this (None: eq. 3 at the data's steps)
    epochs: int = 500
    batch_size: int = 30  # trajectories per mini-batch
    lr: float = 3e-3  # Adam's initial learning rate
    lr_schedule: dict = field(default_factory=lambda: {"kind": "cosine", "lr_min": 1e-5})
    weight_decay: float = 0.0  # Adam's L2 penalty
    clip_grad_norm: float | None = None  # max global gradient norm (None: no clipping)
    train_steps: int = 200  # time steps of the training trajectories (striding the data's grid)
    train_size: int | None = None  # train on the first train_size trajectories of the split (None: all; Fig. 8b)
    seed: int = 0  # weights' initialisation and mini-batch order
    checkpoint_every: int = 50  # epochs between checkpoints (0: none)
    eval_every: int = 10  # epochs between test-error evaluations at the training resolution (0: none)

    def __post_init__(self):
        self.hidden = [int(h) for h in self.hidden]
        self.hidden_g = None if self.hidden_g is None else [int(h) for h in self.hidden_g]
        self.lr_schedule = dict(self.lr_schedule)
        problems = []
        if self.variant not in ("evp", "ve"):
            problems.append(f"variant must be 'evp' or 've', got {self.variant!r}")
        if self.target not in TARGETS:
            problems.append(f"target must be one of {TARGETS}, got {self.target!r}")
        if self.train_size is not None and self.train_size < 1:
            problems.append(f"train_size must be >= 1 or None, got {self.train_size}")
        if self.k < 0:
            problems.append(f"k must be >= 0, got {self.k}")
        for name in ("epochs", "batch_size", "train_steps"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.hidden or min(self.hidden + (self.hidden_g or [1])) < 1:
            problems.append("hidden layer widths must be >= 1 and f needs at least one hidden layer")
        if self.max_dt is not None and not self.max_dt > 0:
            problems.append(f"max_dt must be > 0 or None, got {self.max_dt}")
        if not self.lr > 0:
            problems.append(f"lr must be > 0, got {self.lr}")
        kind = self.lr_schedule.get("kind")
        if kind not in SCHEDULES:
            problems.append(f"lr_schedule.kind must be one of {SCHEDULES}, got {kind!r}")
        if problems:
            raise ValueError("invalid training settings: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "TrainSettings":
        """Settings from a (config) mapping; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; known: {sorted(names)}")
        return cls(**dict(d))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def digest(self) -> str:
        """Hash of the settings (sorted JSON): a checkpoint only resumes under equal settings."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]
