"""The one training loop (train_loop) and the RNO's use of it (fit).

train_loop: Adam with a per-epoch learning-rate schedule on shuffled mini-batches of item indices, for every
network of the project: fit() trains an RNO on trajectories (loss = mean of eq. 16 over the batch), the point-wise
networks of learning.autoencoder train on points (mean squared error). Settings: TrainSettings or NetSettings.

Determinism: the weights are drawn from a generator seeded with ``settings.seed`` (by the caller) and the
mini-batch order from a second one (seed + 1); nothing else is random. A checkpoint (model, optimiser, scheduler,
the order generator, the global torch RNG states, history) is written every ``checkpoint_every`` epochs,
atomically; the loop resumes from it when its fingerprint matches, and then ends bit-identical (on the CPU) to an
uninterrupted run.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time as _time
from pathlib import Path
from typing import Callable, Union

import numpy as np
import torch

from .data import Trajectories
from .loss import relative_l2
from .rno import RNO, fit_normalisation
from .settings import NetSettings, TrainSettings

Settings = Union[TrainSettings, NetSettings]

log = logging.getLogger("rno-factory.learning")
DTYPE = torch.float32


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


def make_scheduler(optimizer: torch.optim.Optimizer, settings: Settings):
    """The per-epoch learning-rate schedule of settings.lr_schedule ("constant", "step" or "cosine")."""
    s = settings.lr_schedule
    if s["kind"] == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=int(s.get("step_size", 100)),
                                               gamma=float(s.get("gamma", 0.5)))
    if s["kind"] == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=settings.epochs,
                                                          eta_min=float(s.get("lr_min", 0.0)))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1.0)


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
    """eq. (16) per trajectory of ``data`` (S,), computed in float64 from the model's float32 stress."""
    x, stress, time = data.tensors(device, DTYPE)
    if data.target != model.target:
        raise ValueError(f"the model predicts {model.target!r}, the data hold {data.target!r}")
    weights = torch.as_tensor(data.weights, dtype=torch.float64, device=device)
    out = []
    with torch.no_grad():
        for i in range(0, x.shape[0], batch_size):
            pred = model(x[i:i + batch_size], time).double()
            out.append(relative_l2(pred, stress[i:i + batch_size].double(), time.double(), weights))
    return torch.cat(out).cpu().numpy()


def train_loop(model: torch.nn.Module, n_items: int, loss_of: Callable[[torch.Tensor], torch.Tensor],
               settings: Settings, *, device: torch.device | str = "cpu",
               test_error: Callable[[], float] | None = None, checkpoint: str | os.PathLike | None = None,
               fingerprint: str = "", on_epoch_end: Callable[[int, torch.nn.Module], None] | None = None,
               what: str = "") -> list[dict]:
    """Train ``model`` (already on ``device``, its weights drawn) in place; returns the history; the model ends in
    eval mode.

    Each epoch: Adam (settings.lr, weight_decay) steps on the mini-batches of a permutation of 0..n_items-1 drawn
    from a generator seeded with settings.seed + 1 (batches of settings.batch_size, moved to ``device``);
    loss_of(idx) is the mean loss of the items idx; optional gradient clipping; then one step of the schedule
    (make_scheduler). test_error(): called every settings.eval_every epochs and at the last (0: never).
    checkpoint: file written every settings.checkpoint_every epochs and at the last (0: never), and resumed from
    when it holds ``fingerprint`` (what the run must match: settings, data, initial weights); otherwise ignored.
    on_epoch_end(epoch, model): called after each epoch. what: the run's description in the log.
    history: one dict per epoch: epoch, train_error (mean of loss_of over the epoch's items), test_error (or
    None), lr, seconds; the same numbers are logged (logger rno-factory.learning).
    """
    dev = torch.device(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    scheduler = make_scheduler(optimizer, settings)
    shuffle = torch.Generator().manual_seed(settings.seed + 1)
    history: list[dict] = []
    start_epoch = 1
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
            start_epoch = state["epoch"] + 1
            log.info("resuming from %s at epoch %d", ckpt_path, state["epoch"])
        else:
            log.info("ignoring checkpoint %s: it was made with other settings or data", ckpt_path)

    log.info("training %s, %d epochs, device %s", what, settings.epochs, dev)
    with _deterministic():
        for epoch in range(start_epoch, settings.epochs + 1):
            tick = _time.perf_counter()
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
                total += float(loss.detach()) * batch.numel()
            scheduler.step()
            model.eval()
            error = None
            if test_error is not None and settings.eval_every and (epoch % settings.eval_every == 0
                                                                    or epoch == settings.epochs):
                error = test_error()
            row = {"epoch": epoch, "train_error": total / n_items, "test_error": error, "lr": lr,
                   "seconds": _time.perf_counter() - tick}
            history.append(row)
            log.info("epoch %d/%d  train %.4e  test %s  lr %.3e  %.2f s", epoch, settings.epochs, row["train_error"],
                     "-" if error is None else f"{error:.4e}", lr, row["seconds"])
            if ckpt_path is not None and settings.checkpoint_every and (epoch % settings.checkpoint_every == 0
                                                                        or epoch == settings.epochs):
                _save_atomic({"fingerprint": fingerprint, "epoch": epoch, "model": model.state_dict(),
                              "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                              "shuffle": shuffle.get_state(), "torch_rng": torch.get_rng_state(),
                              "cuda_rng": torch.cuda.get_rng_state(dev) if dev.type == "cuda" else None,
                              "history": history}, ckpt_path)
            if on_epoch_end is not None:
                on_epoch_end(epoch, model)
    model.eval()
    return history


def fit(train: Trajectories, settings: TrainSettings, *, test: Trajectories | None = None,
        checkpoint: str | os.PathLike | None = None, init_from: RNO | None = None, device: str = "auto",
        on_epoch_end: Callable[[int, RNO], None] | None = None) -> tuple[RNO, list[dict]]:
    """Train an RNO on ``train`` (already at the training resolution) with train_loop; returns (model on the CPU,
    history).

    Weights from settings.seed, normalisation fitted on ``train``; loss: mean of eq. (16) over a mini-batch of
    trajectories. test: trajectories whose mean error (eq. 16) is logged every ``eval_every`` epochs.
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
    model = build_model(settings, train.x.shape[-1])
    init_state = None
    if init_from is not None:
        if init_from.spec() != model.spec():
            raise ValueError(f"transfer learning needs the same architecture: source {init_from.spec()}, "
                             f"target {model.spec()}")
        init_state = {k: v.detach().clone() for k, v in init_from.state_dict().items()}
        model.load_state_dict(init_state)
    x, stress, time = train.tensors("cpu", DTYPE)
    if init_from is None:
        fit_normalisation(model, x, stress, time)
    model.to(dev)
    x, stress, time = x.to(dev), stress.to(dev), time.to(dev)
    weights = torch.as_tensor(train.weights, dtype=DTYPE, device=dev)

    def loss_of(batch: torch.Tensor) -> torch.Tensor:
        return relative_l2(model(x[batch], time), stress[batch], time, weights).mean()

    def test_error() -> float:
        return float(evaluate_error(model, test, dev).mean())

    history = train_loop(model, x.shape[0], loss_of, settings, device=dev,
                         test_error=None if test is None else test_error, checkpoint=checkpoint,
                         fingerprint=fingerprint(settings, train, init_state), on_epoch_end=on_epoch_end,
                         what=f"{settings.variant}-k{settings.k} on {x.shape[0]} trajectories x {train.steps} steps")
    return model.to("cpu").eval(), history
