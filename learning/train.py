"""The one training loop (train_loop) and the RNO's use of it (fit).

train_loop: Adam with a learning-rate schedule on shuffled mini-batches of item indices, for every network of the
project: fit() trains an RNO on trajectories (loss = mean of eq. 16 over the batch), the point-wise networks of
learning.autoencoder train on points (mean squared error). Settings: TrainSettings or NetSettings.

fit() may hold out the last trajectories of the training split as a validation part (validation_fraction): its
error (eq. 16) picks the model returned (the best) and stops training early (patience). The test split is only
logged, never used to choose anything. Optional: a curriculum of growing time windows (curriculum_steps) and
float64 training (dtype); errors are always evaluated in float64 (evaluate_error).

Determinism: the weights are drawn from a generator seeded with ``settings.seed`` (by the caller) and the
mini-batch order from a second one (seed + 1); nothing else is random. A checkpoint (model, optimiser, scheduler,
the order generator, the global torch RNG states, history, the best validation state) is written every
``checkpoint_every`` epochs, atomically; the loop resumes from it when its fingerprint matches, and then ends
bit-identical (on the CPU) to an uninterrupted run.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import logging
import math
import os
import time as _time
from pathlib import Path
from typing import Callable, Union

import numpy as np
import torch

from dataset.progress import Progress

from .data import Trajectories
from .loss import relative_l2
from .rno import RNO, fit_normalisation
from .settings import NetSettings, TrainSettings

Settings = Union[TrainSettings, NetSettings]

log = logging.getLogger("rno-factory.learning")


def resolve_device(device: str = "auto") -> torch.device:
    """"auto": CUDA when available, else the CPU; otherwise the named device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def build_model(settings: TrainSettings, n_comp: int) -> RNO:
    """An untrained RNO with LeCun-normal weights drawn from settings.seed."""
    model = RNO(n_comp, settings.k, settings.variant, settings.hidden, settings.hidden_g, settings.max_dt or 0.0,
                settings.target)
    model.init_weights(torch.Generator().manual_seed(settings.seed))
    return model


def make_scheduler(optimizer: torch.optim.Optimizer, settings: Settings, steps_per_epoch: int = 1):
    """The learning-rate schedule of settings.lr_schedule, stepped once per epoch except "onecycle" (per_batch).

    constant; step: times gamma (unset: 0.5) every step_size (unset: 100) epochs; cosine: cosine annealing from lr
    to lr_min (unset: 0) over the epochs, after warmup_epochs (unset: 0) of linear warm-up from 0.1 lr to lr;
    onecycle: torch's OneCycleLR over epochs x steps_per_epoch optimiser steps, max_lr = lr, pct_start (unset:
    0.3), div_factor (unset: 25), final_div_factor (unset: 1e4), cosine annealing, Adam's betas not cycled.
    """
    s = settings.lr_schedule
    sched = torch.optim.lr_scheduler
    if s["kind"] == "step":
        return sched.StepLR(optimizer, step_size=int(s.get("step_size", 100)), gamma=float(s.get("gamma", 0.5)))
    if s["kind"] == "cosine":
        warmup = int(s.get("warmup_epochs", 0))
        lr_min = float(s.get("lr_min", 0.0))
        if warmup == 0:
            return sched.CosineAnnealingLR(optimizer, T_max=settings.epochs, eta_min=lr_min)
        return sched.SequentialLR(optimizer, [
            sched.LinearLR(optimizer, start_factor=0.1, end_factor=1.0, total_iters=warmup),
            sched.CosineAnnealingLR(optimizer, T_max=settings.epochs - warmup, eta_min=lr_min)], milestones=[warmup])
    if s["kind"] == "onecycle":
        return sched.OneCycleLR(optimizer, max_lr=settings.lr, total_steps=settings.epochs * steps_per_epoch,
                                pct_start=float(s.get("pct_start", 0.3)), div_factor=float(s.get("div_factor", 25.0)),
                                final_div_factor=float(s.get("final_div_factor", 1e4)), cycle_momentum=False)
    return sched.LambdaLR(optimizer, lambda epoch: 1.0)


def per_batch(settings: Settings) -> bool:
    """Whether the schedule steps after every optimiser step ("onecycle") rather than every epoch."""
    return settings.lr_schedule["kind"] == "onecycle"


def curriculum_steps(settings: TrainSettings, epoch: int, n_steps: int) -> int:
    """Time steps n_e in [1, n_steps] of the loss window [t_0, t_(n_e)] at ``epoch`` (1-based), settings.curriculum.

    n_e = round(start (n_steps / start)^((epoch - 1) / (ramp_epochs - 1))), start = min(start_steps, n_steps):
    geometric from start_steps at epoch 1 to n_steps at epoch ramp_epochs, n_steps after; None: n_steps.
    """
    c = settings.curriculum
    if c is None or epoch >= int(c["ramp_epochs"]):
        return n_steps
    start = min(int(c["start_steps"]), n_steps)
    n = start * (n_steps / start) ** ((epoch - 1) / (int(c["ramp_epochs"]) - 1))
    return max(1, min(n_steps, math.floor(n + 0.5)))


def split_validation(train: Trajectories, fraction: float) -> tuple[Trajectories, Trajectories | None]:
    """(training part, validation part): the last ceil(fraction S) of the S trajectories are held out (none when
    fraction = 0); ValueError unless each part keeps at least one trajectory."""
    S = train.x.shape[0]
    if not fraction > 0:
        return train, None
    n_val = math.ceil(fraction * S - 1e-9)  # 1e-9: 0.1 * 30 is 3.0000000000000004
    if not 1 <= n_val <= S - 1:
        raise ValueError(f"validation_fraction = {fraction} of {S} training trajectories holds out {n_val}: "
                         "need at least one trajectory for training and one for validation")

    def part(sl: slice) -> Trajectories:
        return dataclasses.replace(train, x=train.x[sl], stress=train.stress[sl], sample=train.sample[sl])

    return part(slice(0, S - n_val)), part(slice(S - n_val, S))


def fingerprint(settings: TrainSettings, train: Trajectories, init_state: dict | None) -> str:
    """Hash of settings, training data and initial weights: what a checkpoint must match to be resumed."""
    h = hashlib.sha256(settings.digest().encode())
    for a in (train.x, train.stress, train.time):
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    for name, t in sorted((init_state or {}).items()):
        h.update(name.encode() + t.detach().cpu().double().numpy().tobytes())
    return h.hexdigest()[:16]


@contextlib.contextmanager
def _deterministic():
    """Deterministic kernels while training (on CUDA with CUBLAS_WORKSPACE_CONFIG set, see fit)."""
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before)


def _save_atomic(obj, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def evaluate_error(model: RNO, data: Trajectories, device: torch.device | str = "cpu",
                   batch_size: int = 1000) -> np.ndarray:
    """eq. (16) per trajectory of ``data`` (S,), all in float64: a float64 copy of the model (on ``device``, the
    model's own dtype and device unchanged) on float64 data."""
    if data.target != model.target:
        raise ValueError(f"the model predicts {model.target!r}, the data hold {data.target!r}")
    x, stress, time = data.tensors(device, torch.float64)
    model64 = copy.deepcopy(model).to(device=device, dtype=torch.float64)
    weights = torch.as_tensor(data.weights, dtype=torch.float64, device=device)
    out = []
    with torch.no_grad():
        for i in range(0, x.shape[0], batch_size):
            out.append(relative_l2(model64(x[i:i + batch_size], time), stress[i:i + batch_size], time, weights))
    return torch.cat(out).cpu().numpy()


def train_loop(model: torch.nn.Module, n_items: int, loss_of: Callable[[torch.Tensor], torch.Tensor],
               settings: Settings, *, device: torch.device | str = "cpu",
               test_error: Callable[[], float] | None = None,
               validation_error: Callable[[], float] | None = None, checkpoint: str | os.PathLike | None = None,
               fingerprint: str = "", on_epoch_start: Callable[[int], None] | None = None,
               on_epoch_end: Callable[[int, torch.nn.Module], None] | None = None, what: str = "") -> list[dict]:
    """Train ``model`` (already on ``device``, its weights drawn) in place; returns the history; the model ends in
    eval mode.

    Each epoch: on_epoch_start(epoch); Adam (settings.lr, weight_decay) steps on the mini-batches of a permutation
    of 0..n_items-1 drawn from a generator seeded with settings.seed + 1 (batches of settings.batch_size, moved to
    ``device``); loss_of(idx) is the mean loss of the items idx; optional gradient clipping; the schedule
    (make_scheduler) steps after every batch ("onecycle") or after the epoch. test_error() and validation_error():
    called every settings.eval_every epochs and at the last (0: never).

    With validation_error: the weights of the lowest validation error so far are kept (best_epoch), training stops
    at an evaluation settings.patience or more epochs after best_epoch (None: never), and the model ends with the
    best weights. Without: the last weights.
    checkpoint: file written every settings.checkpoint_every epochs and at the last or stopping epoch (0: never),
    and resumed from when it holds ``fingerprint`` (what the run must match: settings, data, initial weights);
    otherwise ignored. on_epoch_end(epoch, model): called after each epoch (before the best weights are restored).
    what: the run's description in the log.
    history: one dict per epoch: epoch, train_error (mean of loss_of over the epoch's items), test_error,
    validation_error (None when not evaluated), best_epoch (the epoch of the best validation error so far; None
    without validation), lr (at the epoch's first batch), seconds; the same numbers are logged (logger
    rno-factory.learning). Progress over the epochs: dataset.progress (a bar on a terminal, else a line per 10 %).
    """
    dev = torch.device(device)
    patience = settings.patience
    if patience is not None and validation_error is None:
        raise ValueError(f"patience = {patience} needs a validation error (validation_fraction > 0)")
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    n_batches = math.ceil(n_items / settings.batch_size)
    scheduler = make_scheduler(optimizer, settings, n_batches)
    batch_steps = per_batch(settings)
    shuffle = torch.Generator().manual_seed(settings.seed + 1)
    history: list[dict] = []
    start_epoch = 1
    best = {"state": None, "error": math.inf, "epoch": None, "stale": 0}  # stale: epochs since best (patience)
    stopped = False
    ckpt_path = Path(checkpoint) if checkpoint is not None else None
    if ckpt_path is not None and ckpt_path.exists():
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)  # RNG states must stay on the CPU
        if state.get("fingerprint") == fingerprint:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            shuffle.set_state(state["shuffle"])
            torch.set_rng_state(state["torch_rng"])
            if dev.type == "cuda" and state.get("cuda_rng") is not None:
                torch.cuda.set_rng_state(state["cuda_rng"], dev)
            history = state["history"]
            best = state.get("best", best)
            stopped = bool(state.get("stopped", False))
            start_epoch = state["epoch"] + 1
            log.info("resuming from %s at epoch %d", ckpt_path, state["epoch"])
        else:
            log.info("ignoring checkpoint %s: it was made with other settings or data", ckpt_path)

    log.info("training %s, %d epochs, device %s", what, settings.epochs, dev)
    bar = Progress(settings.epochs - start_epoch + 1, f"training {what}".strip(), unit="epoch", log=log)
    with _deterministic(), bar:
        for epoch in range(start_epoch, settings.epochs + 1):
            if stopped:
                break
            tick = _time.perf_counter()
            if on_epoch_start is not None:
                on_epoch_start(epoch)
            model.train()
            lr = optimizer.param_groups[0]["lr"]
            total = 0.0
            for batch in torch.randperm(n_items, generator=shuffle).split(settings.batch_size):
                batch = batch.to(dev)
                loss = loss_of(batch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if settings.clip_grad_norm:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), settings.clip_grad_norm)
                optimizer.step()
                if batch_steps:
                    scheduler.step()
                total += float(loss.detach()) * batch.numel()
            if not batch_steps:
                scheduler.step()
            model.eval()
            error = val = None
            if settings.eval_every and (epoch % settings.eval_every == 0 or epoch == settings.epochs):
                error = None if test_error is None else test_error()
                if validation_error is not None:
                    val = validation_error()
                    if val < best["error"]:
                        best = {"state": {k: v.detach().clone() for k, v in model.state_dict().items()},
                                "error": val, "epoch": epoch, "stale": 0}
                    else:
                        best["stale"] = epoch - (best["epoch"] or 0)
                    stopped = patience is not None and best["stale"] >= patience
            row = {"epoch": epoch, "train_error": total / n_items, "test_error": error, "validation_error": val,
                   "best_epoch": best["epoch"], "lr": lr, "seconds": _time.perf_counter() - tick}
            history.append(row)
            log.info("epoch %d/%d  train %.4e  test %s  validation %s  lr %.3e  %.2f s", epoch, settings.epochs,
                     row["train_error"], "-" if error is None else f"{error:.4e}",
                     "-" if val is None else f"{val:.4e}", lr, row["seconds"])
            if stopped:
                log.info("early stop at epoch %d: no better validation error since epoch %s (patience %d)", epoch,
                         best["epoch"], patience)
            if ckpt_path is not None and settings.checkpoint_every and (epoch % settings.checkpoint_every == 0
                                                                        or epoch == settings.epochs or stopped):
                _save_atomic({"fingerprint": fingerprint, "epoch": epoch, "model": model.state_dict(),
                              "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                              "shuffle": shuffle.get_state(), "torch_rng": torch.get_rng_state(),
                              "cuda_rng": torch.cuda.get_rng_state(dev) if dev.type == "cuda" else None,
                              "history": history, "best": best, "stopped": stopped}, ckpt_path)
            if on_epoch_end is not None:
                on_epoch_end(epoch, model)
            bar.update()
    if best["state"] is not None:
        model.load_state_dict(best["state"])
    model.eval()
    return history


def fit(train: Trajectories, settings: TrainSettings, *, test: Trajectories | None = None,
        checkpoint: str | os.PathLike | None = None, init_from: RNO | None = None, device: str = "auto",
        on_epoch_end: Callable[[int, RNO], None] | None = None) -> tuple[RNO, list[dict]]:
    """Train an RNO on ``train`` (already at the training resolution) with train_loop; returns (model on the CPU in
    settings.dtype, history).

    The last ceil(validation_fraction S) of the S trajectories of ``train`` are held out (split_validation): their
    mean error (eq. 16) selects the weights returned and stops training early (patience). Weights from
    settings.seed, normalisation fitted on the rest; loss: mean of eq. (16) over a mini-batch of trajectories, on
    the window [t_0, t_(n_e)] of curriculum_steps; model and data in settings.dtype. test: trajectories whose mean
    error (eq. 16) is logged every ``eval_every`` epochs (never used to choose anything). Validation and test
    errors: full length, float64 (evaluate_error).
    checkpoint: file to write every ``checkpoint_every`` epochs and to resume from when it matches (settings,
    training data and initial weights: fingerprint). init_from: transfer learning: start from this trained model's
    weights and normalisation (same k, variant and layer widths); its normalisation is kept, not refitted.
    on_epoch_end(epoch, model): called after each epoch. history: as train_loop's.
    """
    dev = resolve_device(device)
    if dev.type == "cuda":  # read when cuBLAS starts: set before the first CUDA matmul
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    if train.target != settings.target:
        raise ValueError(f"settings.target is {settings.target!r}, the training data hold {train.target!r}")
    dtype = getattr(torch, settings.dtype)  # settings.DTYPES: float32 or float64
    fitted, validation = split_validation(train, settings.validation_fraction)
    model = build_model(settings, train.x.shape[-1]).to(dtype)
    init_state = None
    if init_from is not None:
        if init_from.spec() != model.spec():
            raise ValueError(f"transfer learning needs the same architecture: source {init_from.spec()}, "
                             f"target {model.spec()}")
        init_state = {k: v.detach().clone() for k, v in init_from.state_dict().items()}
        model.load_state_dict(init_state)
    x, stress, time = fitted.tensors("cpu", dtype)
    if init_from is None:
        fit_normalisation(model, x, stress, time)
    model.to(dev)
    x, stress, time = x.to(dev), stress.to(dev), time.to(dev)
    weights = torch.as_tensor(train.weights, dtype=dtype, device=dev)
    window = [train.steps]  # time steps of the loss window this epoch (curriculum_steps)

    def on_epoch_start(epoch: int) -> None:
        window[0] = curriculum_steps(settings, epoch, train.steps)

    def loss_of(batch: torch.Tensor) -> torch.Tensor:
        n = window[0] + 1
        return relative_l2(model(x[batch, :n], time[:n]), stress[batch, :n], time[:n], weights).mean()

    def test_error() -> float:
        return float(evaluate_error(model, test, dev).mean())

    def validation_error() -> float:
        return float(evaluate_error(model, validation, dev).mean())

    what = (f"{settings.variant}-k{settings.k} on {x.shape[0]} trajectories x {train.steps} steps"
            + (f" ({validation.x.shape[0]} more for validation)" if validation is not None else ""))
    history = train_loop(model, x.shape[0], loss_of, settings, device=dev,
                         test_error=None if test is None else test_error,
                         validation_error=None if validation is None else validation_error, checkpoint=checkpoint,
                         fingerprint=fingerprint(settings, train, init_state), on_epoch_start=on_epoch_start,
                         on_epoch_end=on_epoch_end, what=what)
    return model.to("cpu").eval(), history
