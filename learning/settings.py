"""Training settings: TrainSettings of an RNO, NetSettings of a point-wise network (autoencoder, eq. 26 map, micro
decoder). Both are read by the one training loop, learning.train.train_loop: epochs, batch_size, lr, lr_schedule,
weight_decay, clip_grad_norm, seed, checkpoint_every, eval_every, patience (NetSettings: fixed ClassVars).

Neither has defaults: the workflow's config schema (pipeline/schemas/learning.schema.yaml) is the one place they
live, and pipeline.studies.train_settings / net_settings build settings from it (also outside a config)."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

SCHEDULES = ("constant", "step", "cosine", "onecycle")
#: The keys each lr_schedule kind reads (learning.train.make_scheduler). Keys of another kind are ignored, not an
#: error: config overrides merge into learning.defaults' lr_schedule and cannot remove its keys.
SCHEDULE_KEYS = {"constant": (), "step": ("step_size", "gamma"), "cosine": ("lr_min", "warmup_epochs"),
                 "onecycle": ("pct_start", "div_factor", "final_div_factor")}
CURRICULUM_KEYS = ("start_steps", "ramp_epochs")
DTYPES = ("float32", "float64")
TARGETS = ("stress", "deviatoric", "pressure")  # the RNO's output (learning.data.target_components)


class _Settings:
    """from_dict / to_dict of a settings dataclass."""

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]):
        """Settings from a (config) mapping; unknown or missing keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown {cls.__name__} keys {unknown}; known: {sorted(names)}")
        return cls(**dict(d))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class TrainSettings(_Settings):
    """Everything that determines a trained model besides its data (units: lr per step of Adam, epochs)."""

    variant: str  # "evp" (eq. 2) or "ve" (eq. 7)
    target: str  # what f returns: "stress", "deviatoric" or "pressure" (Section 5.1, eq. 28)
    k: int  # number of internal variables, >= 0
    hidden: list[int]  # widths of f's hidden layers
    hidden_g: list[int] | None  # widths of g's hidden layers (None: as f)
    max_dt: float | None  # s; Euler sub-steps of xi no longer than this (None: eq. 3 at the data's steps)
    epochs: int
    batch_size: int  # trajectories per mini-batch
    lr: float  # Adam's initial learning rate
    lr_schedule: dict  # {"kind": constant | step | cosine | onecycle, ...} (learning.train.make_scheduler)
    weight_decay: float  # Adam's L2 penalty
    clip_grad_norm: float | None  # max global gradient norm (None: no clipping)
    train_steps: int  # time steps of the training trajectories (striding the data's grid)
    train_size: int | None  # train on the first train_size trajectories of the split (None: all; Fig. 8b)
    seed: int  # weights' initialisation and mini-batch order
    checkpoint_every: int  # epochs between checkpoints (0: none)
    eval_every: int  # epochs between test- and validation-error evaluations at the training resolution (0: none)
    validation_fraction: float  # hold out the last ceil(v S) training trajectories for early stopping (0: none)
    patience: int | None  # stop after this many epochs without a better validation error (None: all epochs)
    curriculum: dict | None  # {"start_steps", "ramp_epochs"}: growing loss window (learning.train.curriculum_steps)
    dtype: str  # "float32" or "float64": training precision (evaluation is always float64)

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
        problems += _schedule_problems(self.lr_schedule, self.epochs)
        if not 0 <= self.validation_fraction < 1:
            problems.append(f"validation_fraction must be in [0, 1), got {self.validation_fraction}")
        if self.patience is not None:
            if self.patience < 1:
                problems.append(f"patience must be >= 1 or None, got {self.patience}")
            if not self.validation_fraction > 0:
                problems.append("patience needs a validation part: set validation_fraction > 0 (or patience None)")
        if self.validation_fraction > 0 and self.eval_every < 1:
            problems.append("validation_fraction > 0 needs eval_every >= 1 (the epochs the validation error is "
                            "evaluated at)")
        if self.curriculum is not None:
            self.curriculum = dict(self.curriculum)
            unknown = sorted(set(self.curriculum) - set(CURRICULUM_KEYS))
            missing = sorted(set(CURRICULUM_KEYS) - set(self.curriculum))
            if unknown or missing:
                problems.append(f"curriculum needs exactly the keys {list(CURRICULUM_KEYS)}: unknown {unknown}, "
                                f"missing {missing}")
            else:
                for key in CURRICULUM_KEYS:
                    v = self.curriculum[key]
                    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                        problems.append(f"curriculum.{key} must be an integer >= 1, got {v!r}")
        if self.dtype not in DTYPES:
            problems.append(f"dtype must be one of {DTYPES}, got {self.dtype!r}")
        if problems:
            raise ValueError("invalid training settings: " + "; ".join(problems))

    def digest(self) -> str:
        """Hash of the settings (sorted JSON): a checkpoint only resumes under equal settings."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]


def _schedule_problems(s: dict, epochs: int) -> list[str]:
    """What is wrong with an lr_schedule (kind and the keys of SCHEDULE_KEYS), each naming lr_schedule."""
    kind = s.get("kind")
    if kind not in SCHEDULES:
        return [f"lr_schedule.kind must be one of {SCHEDULES}, got {kind!r}"]
    known = {"kind"} | {k for keys in SCHEDULE_KEYS.values() for k in keys}
    unknown = sorted(set(s) - known)
    if unknown:
        return [f"lr_schedule: unknown keys {unknown}; known: {sorted(known)}"]
    problems = []

    def check(key, ok, what):
        if key not in s:
            return
        try:
            good = not isinstance(s[key], bool) and ok(s[key])
        except TypeError:
            good = False
        if not good:
            problems.append(f"lr_schedule.{key} must be {what}, got {s[key]!r}")

    check("step_size", lambda v: isinstance(v, int) and v >= 1, "an integer >= 1")
    check("gamma", lambda v: 0 < v <= 1, "in (0, 1]")
    check("lr_min", lambda v: v >= 0, ">= 0")
    check("warmup_epochs", lambda v: isinstance(v, int) and 0 <= v, "an integer >= 0")
    check("pct_start", lambda v: 0 < v < 1, "in (0, 1)")
    check("div_factor", lambda v: v > 0, "> 0")
    check("final_div_factor", lambda v: v > 0, "> 0")
    if kind == "cosine" and not problems and int(s.get("warmup_epochs", 0)) >= epochs:
        problems.append(f"lr_schedule.warmup_epochs must be < epochs = {epochs}, got {s['warmup_epochs']}")
    return problems


@dataclass
class NetSettings(_Settings):
    """Training settings of a point-wise network (autoencoder, eq. 26 map, micro decoder); lr per Adam step.

    The loop's other settings are fixed: cosine annealing from lr to lr_min over the epochs, no weight decay, no
    clipping, no checkpoints, no test evaluation, no validation part or early stopping, float32."""

    hidden: list[int]  # hidden layer widths (the decoder mirrors them)
    epochs: int
    batch_size: int  # points per mini-batch
    lr: float
    lr_min: float  # cosine annealing from lr to lr_min over the epochs
    seed: int

    weight_decay: ClassVar[float] = 0.0
    clip_grad_norm: ClassVar[float | None] = None
    checkpoint_every: ClassVar[int] = 0
    eval_every: ClassVar[int] = 0
    validation_fraction: ClassVar[float] = 0.0
    patience: ClassVar[int | None] = None
    curriculum: ClassVar[dict | None] = None
    dtype: ClassVar[str] = "float32"

    def __post_init__(self):
        self.hidden = [int(h) for h in self.hidden]
        if not self.hidden or min(self.hidden) < 1 or self.epochs < 1 or self.batch_size < 1 or not self.lr > 0:
            raise ValueError(f"invalid network settings {dataclasses.asdict(self)}")

    @property
    def lr_schedule(self) -> dict:
        return {"kind": "cosine", "lr_min": self.lr_min}
