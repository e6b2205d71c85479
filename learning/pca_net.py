"""PCA-Net (the paper's ref. [25]: Liu, Kovachki, Li, Azizzadenesheli, Anandkumar, Stuart & Bhattacharya 2022,
J. Mech. Phys. Solids 158:104668; the non-causal surrogate of Figure 8), the baseline of issue 16 item 4. Units:
stress in MPa, time in s; the input F is dimensionless.

A PCA-Net maps the whole input history on a fixed grid t_0 = 0 < ... < t_N to the whole stress history:

    a_c = W_c^T (x_c - m_c)            per input component c: PCA coefficients (modes_in per component)
    b   = MLP(a_1, ..., a_C)            SELU network between the stacked coefficients
    y_c = V_c b_c + n_c                 per output component c: decoded stress history

W_c (N+1, modes_in) and V_c (N+1, modes_out) are the leading right singular vectors of the training histories of
component c (an SVD of the (S, N+1) matrix of each component; torch.linalg.svd in float64); m_c, n_c are the
training means, or 0 with center=False. Facts of ref. [25] taken from its code (github.com/Burigede/
Learning_based_multiscale, 3DTaylor/NN3D.py, commit 40a3944): per-component PCA of the six components of F and of
sigma, uncentred (``PCA_3d``), 100 modes per component in and out, an MLP [600, 1000, 1000, 1000, 1000, 600] with
SELU between hidden layers and a linear output (``DenseNet``), Adam at lr 1e-4 with cosine annealing to 1e-6
(1500 epochs, stopping once the training error is below 1 %), batches of 16, trained on the relative l2 error of
the decoded stress histories. Those are the defaults of ``PCASettings`` (``REF25``). Differences from ref. [25],
stated: (i) the coefficients are centred by their training means and scaled by one RMS deviation per component (an
affine change of the first and last layer's units; without it the output layer must reach stress coefficients of
~10^3 MPa at lr 1e-4); (ii) weights are LeCun-normal from a seeded generator (learning.rno.init_lecun), not
torch's default; (iii) the loss, the stopping error and the reported error are eq. (16) (learning.loss.relative_l2:
trapezoid in time, off-diagonal components counted twice), the RNO's error, where ref. [25] sums the six stored
components and the time points uniformly.

The number of modes is capped at min(modes, S, N+1) for S training paths (an SVD has no more). With the cap at
N+1 the bases are orthonormal bases of R^(N+1) and the PCA round trip is exact for any history; with S < N+1 modes
(uncentred) it is exact for the training histories.

Errors: ``path_errors`` is eq. (16) per path through learning.loss.relative_l2 with the data's component weights,
the function learning.train.evaluate_error uses for the RNO (tests/test_pca_net.py checks they agree).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
import torch
import xarray as xr
from torch import Tensor, nn

from .data import Trajectories, trajectories
from .loss import relative_l2
from .rno import MLP, init_lecun
from .train import train_loop

DTYPE = torch.float32
COLUMNS = ["model", "case", "train_size", "paths", "error"]


@dataclass
class PCASettings:
    """Size and training of a PCA-Net: modes per component (input, output), hidden widths, and the loop of
    learning.train.train_loop (Adam, cosine annealing lr -> lr_min over the epochs, batch_size paths per batch,
    weights and batch order from seed). stop_below: stop at the first epoch whose mean training error (eq. 16) is
    below it (ref. [25]: 0.01; None: never)."""

    modes_in: int = 100
    modes_out: int = 100
    hidden: Sequence[int] = (1000, 1000, 1000, 1000)
    center: bool = False
    epochs: int = 1500
    batch_size: int = 16
    lr: float = 1e-4
    lr_min: float = 1e-6
    seed: int = 0
    stop_below: float | None = 0.01

    # the train_loop settings that a PCA-Net does not use
    weight_decay = 0.0
    clip_grad_norm = None
    checkpoint_every = 0
    eval_every = 0
    patience = None

    def __post_init__(self):
        self.hidden = [int(h) for h in self.hidden]
        if (self.modes_in < 1 or self.modes_out < 1 or not self.hidden or min(self.hidden) < 1 or self.epochs < 1
                or self.batch_size < 1 or not self.lr > 0 or not 0 <= self.lr_min <= self.lr):
            raise ValueError(f"invalid PCA-Net settings {dataclasses.asdict(self)}")

    @property
    def lr_schedule(self) -> dict:
        return {"kind": "cosine", "lr_min": self.lr_min}


#: ref. [25]'s 3D Taylor network (module docstring)
REF25 = PCASettings()


def pca_basis(h: Tensor, modes: int, center: bool) -> tuple[Tensor, Tensor]:
    """(basis (C, N+1, m), mean (C, N+1)) of histories h (S, N+1, C): per component the m = min(modes, S, N+1)
    leading right singular vectors of h_c - mean_c (mean 0 when not center), signs fixed so that each vector's
    largest entry is positive (deterministic)."""
    h = h.double()
    mean = h.mean(0).T if center else torch.zeros(h.shape[2], h.shape[1], dtype=h.dtype)
    A = h.permute(2, 0, 1) - mean[:, None, :]  # (C, S, N+1)
    _, _, Vh = torch.linalg.svd(A, full_matrices=False)  # Vh (C, min(S, N+1), N+1)
    m = min(int(modes), Vh.shape[1])
    W = Vh[:, :m, :].transpose(1, 2)  # (C, N+1, m)
    idx = W.abs().argmax(1, keepdim=True)
    W = W * torch.sign(torch.gather(W, 1, idx))
    return W.contiguous(), mean.contiguous()


class PCANet(nn.Module):
    """PCA-Net on a fixed time grid ``time`` (N+1,) s: encode (per-component PCA), MLP, decode (module docstring).
    Call with x (S, N+1, C_in) -> stress (S, N+1, C_out) MPa."""

    def __init__(self, time: Tensor, in_basis: Tensor, in_mean: Tensor, out_basis: Tensor, out_mean: Tensor,
                 hidden: Sequence[int]):
        super().__init__()
        self.register_buffer("time", torch.as_tensor(time, dtype=torch.float64))
        for name, v in (("in_basis", in_basis), ("in_mean", in_mean), ("out_basis", out_basis),
                        ("out_mean", out_mean)):
            self.register_buffer(name, v.to(DTYPE))
        n_in = in_basis.shape[0] * in_basis.shape[2]
        n_out = out_basis.shape[0] * out_basis.shape[2]
        for name, n in (("a_shift", n_in), ("a_scale", n_in), ("b_shift", n_out), ("b_scale", n_out)):
            self.register_buffer(name, torch.zeros(n) if "shift" in name else torch.ones(n))
        self.hidden = [int(h) for h in hidden]
        self.net = MLP(n_in, self.hidden, n_out)

    @staticmethod
    def _project(h: Tensor, basis: Tensor, mean: Tensor) -> Tensor:
        """(S, N+1, C) -> flattened coefficients (S, C m)."""
        return torch.einsum("stc,ctm->scm", h - mean.T, basis).flatten(1)

    @staticmethod
    def _expand(c: Tensor, basis: Tensor, mean: Tensor) -> Tensor:
        """flattened coefficients (S, C m) -> (S, N+1, C)."""
        return torch.einsum("scm,ctm->stc", c.reshape(c.shape[0], basis.shape[0], basis.shape[2]), basis) + mean.T

    def encode(self, x: Tensor) -> Tensor:
        """input histories (S, N+1, C_in) -> PCA coefficients (S, C_in m_in)."""
        return self._project(x, self.in_basis, self.in_mean)

    def decode(self, b: Tensor) -> Tensor:
        """output PCA coefficients (S, C_out m_out) -> stress histories (S, N+1, C_out) MPa."""
        return self._expand(b, self.out_basis, self.out_mean)

    def coefficients(self, y: Tensor) -> Tensor:
        """stress histories (S, N+1, C_out) -> their output PCA coefficients (S, C_out m_out)."""
        return self._project(y, self.out_basis, self.out_mean)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[1] != self.time.numel():
            raise ValueError(f"PCA-Net: built for {self.time.numel()} times, got histories of {x.shape[1]}")
        z = (self.encode(x) - self.a_shift) / self.a_scale
        return self.decode(self.net(z) * self.b_scale + self.b_shift)


def _standardise(shift: Tensor, scale: Tensor, c: Tensor, n_comp: int) -> None:
    """shift = the training mean of each coefficient; scale = one number per component: the RMS deviation of its
    coefficients (a per-coefficient scale would blow up the round-off of modes the data do not excite)."""
    dev = (c - c.mean(0)).reshape(c.shape[0], n_comp, -1)
    rms = dev.pow(2).mean((0, 2)).sqrt()
    rms = torch.where(rms > 0, rms, torch.ones_like(rms))
    with torch.no_grad():
        shift.copy_(c.mean(0))
        scale.copy_(rms.repeat_interleave(dev.shape[2]))


def build(train: Trajectories, settings: PCASettings) -> PCANet:
    """An untrained PCA-Net for ``train``: PCA bases and coefficient standardisation from the training paths,
    LeCun weights from settings.seed."""
    x = torch.as_tensor(train.x, dtype=torch.float64)
    y = torch.as_tensor(train.stress, dtype=torch.float64)
    Wi, mi = pca_basis(x, settings.modes_in, settings.center)
    Wo, mo = pca_basis(y, settings.modes_out, settings.center)
    model = PCANet(torch.as_tensor(train.time), Wi, mi, Wo, mo, settings.hidden)
    init_lecun(model, torch.Generator().manual_seed(settings.seed))
    _standardise(model.a_shift, model.a_scale, model.encode(x.to(DTYPE)), Wi.shape[0])
    _standardise(model.b_shift, model.b_scale, model.coefficients(y.to(DTYPE)), Wo.shape[0])
    return model


def _check_grid(model: PCANet, data: Trajectories) -> None:
    t = torch.as_tensor(data.time, dtype=torch.float64)
    if t.shape != model.time.shape or not torch.allclose(t, model.time, rtol=0, atol=1e-9 * float(t[-1])):
        raise ValueError(f"PCA-Net: the data's time grid ({t.numel()} points to {float(t[-1]):g} s) is not the "
                         f"model's ({model.time.numel()} points to {float(model.time[-1]):g} s)")


def fit(train: Trajectories, settings: PCASettings = REF25, device: str = "cpu") -> tuple[PCANet, list[dict]]:
    """Train a PCA-Net on ``train`` with learning.train.train_loop on ``device``; the loss of a batch is the mean
    of eq. (16) (learning.loss.relative_l2 with the data's component weights) of its decoded stress histories.
    Returns the model (on the CPU, eval mode) and the history."""
    model = build(train, settings).to(device)
    x, y, time = train.tensors(device, DTYPE)
    weights = torch.as_tensor(train.weights, dtype=DTYPE, device=device)
    with torch.no_grad():
        z = (model.encode(x) - model.a_shift) / model.a_scale  # the inputs never change: encode once

    def loss_of(idx):
        b = model.net(z[idx]) * model.b_scale + model.b_shift
        return relative_l2(model.decode(b), y[idx], time, weights).mean()

    what = f"PCA-Net on {x.shape[0]} paths"
    if settings.stop_below is None:
        history = train_loop(model, x.shape[0], loss_of, settings, device=device, what=what)
    else:
        history = _train_until(model, x.shape[0], loss_of, settings, device, what)
    return model.cpu().eval(), history


class _Stop(Exception):
    pass


def _train_until(model: PCANet, n: int, loss_of, settings: PCASettings, device: str, what: str) -> list[dict]:
    """train_loop, stopped after the first epoch whose mean training error is below settings.stop_below."""
    rows: list[dict] = []
    original = loss_of
    acc = {"sum": 0.0, "n": 0}

    def counted(idx):
        loss = original(idx)
        acc["sum"] += float(loss.detach()) * idx.numel()
        acc["n"] += idx.numel()
        return loss

    def on_epoch_end(epoch, _model):
        rows.append({"epoch": epoch, "train_error": acc["sum"] / max(acc["n"], 1)})
        if rows[-1]["train_error"] < settings.stop_below:
            raise _Stop

    def on_epoch_start(epoch):
        acc["sum"], acc["n"] = 0.0, 0

    try:
        return train_loop(model, n, counted, settings, device=device, on_epoch_start=on_epoch_start,
                          on_epoch_end=on_epoch_end, what=what)
    except _Stop:
        model.eval()
        return rows


def predict(model: PCANet, data: Trajectories) -> np.ndarray:
    """The model's stress histories (S, N+1, C_out) MPa for the paths of ``data`` (on the model's time grid)."""
    _check_grid(model, data)
    with torch.no_grad():
        return model(torch.as_tensor(data.x, dtype=DTYPE)).double().numpy()


def path_errors(approx: np.ndarray, data: Trajectories) -> np.ndarray:
    """eq. (16) per path (S,) of stress histories approx (S, N+1, C) (MPa) against data.stress, in float64:
    learning.loss.relative_l2 with data.weights, as learning.train.evaluate_error computes the RNO's error."""
    t = lambda a: torch.tensor(np.asarray(a, float), dtype=torch.float64)  # noqa: E731
    return relative_l2(t(approx), t(data.stress), t(data.time), t(data.weights)).numpy()


def evaluate(model: PCANet, data: Trajectories) -> np.ndarray:
    """eq. (16) per path (S,) of the model on ``data``."""
    return path_errors(predict(model, data), data)


def error_vs_size(ds: xr.Dataset, sizes: Sequence[int], settings: PCASettings = REF25, *,
                  steps: int | None = None, device: str = "cpu") -> pd.DataFrame:
    """Train a PCA-Net on the first n training paths of ``ds`` (a contract store) for each n in ``sizes``, at
    ``steps`` steps (None: as stored), and evaluate the mean of eq. (16) on the whole test split: rows of COLUMNS
    (model "pca_net", case, train_size n, paths "random", error), in the order of ``sizes``."""
    test = trajectories(ds, "test", steps)
    rows = []
    for n in sizes:
        model, _ = fit(trajectories(ds, "train", steps, size=int(n)), settings, device)
        rows.append({"model": "pca_net", "case": ds.attrs["case"], "train_size": int(n), "paths": "random",
                     "error": float(evaluate(model, test).mean())})
    return pd.DataFrame(rows, columns=COLUMNS)
