"""The autoencoder study of paper Section 4 (eqs. 25-26, Figures 4-6): how many variables the micro-state needs.

Micro-state ("model variables"): the variables a producer stores over (sample, time, <layer/phase>) as micro
state; for the laminate eps_p11, eps_p12, eps_p22 in both layers (6 numbers, Section 4.1) and, with hardening, q
in both layers too (8 numbers, Section 4.2). A point x in R^n is the micro-state at one instant of one path.

* Autoencoder A = psi_AE o phi_AE ~ id on R^n (Section 4.1): encoder phi_AE: R^n -> R^m and decoder
  psi_AE: R^m -> R^n, each one hidden layer (paper: 50, SELU) and a linear output. Inputs are centred by their
  per-variable mean and scaled by ONE common scale (the RMS deviation over all variables), so the training loss
  (mean squared error in these units) is the raw l2 distance of eq. (25) up to a constant: a variable that is
  small everywhere (eps_p12 in the hard layer) is allowed to be reconstructed loosely, as eq. (25) allows.
* Reconstruction error, eq. (25): mean over points s of |x_s - A(x_s)| / |x_s| (l2 norms in R^n). At points
  with x = 0 (t = 0, purely elastic steps) the ratio is undefined; points with |x_s| <= REL_FLOOR * max_s |x_s|
  are left out of the mean (documented in docs/laminate-learning.md).
* The map of eq. (26): an RNO (learning.rno, eqs. 2-3) whose internal variables are the autoencoder's reduced
  variables, trained point-wise (supervised, not through the recurrence): f(eps_bar^n, zeta^n) = sigma^n and
  g(eps_bar^n, zeta^(n-1)) = t_scale (zeta^n - zeta^(n-1)) / dt_n (the forward-Euler step of eq. 3). The RNO
  starts from xi^0 = 0, so its internal variable is the shifted xi = zeta - phi_AE(0) (a fixed
  reparametrisation, eq. 5); the micro-state at t = 0 is 0. Tested by running the recurrence (eq. 3) on the test
  paths: stress error eq. (16), micro-state psi_AE(xi + phi_AE(0)) against the truth (Figure 4 (d)-(f)).
* MicroDecoder (Figure 5): a network from an RNO's learned internal variables xi (trained on stress only) back
  to the micro-state, fitted on the training paths' rollouts.

Every fit is learning.train.train_loop (Adam on shuffled mini-batches of points, whole tensors, no loop over
samples; cosine learning rate; NetSettings) with weights and order from ``seed``: the same inputs give the same
model on the CPU. Save and load them with learning.artifacts (kinds "autoencoder" and "micro_decoder").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import xarray as xr
from torch import Tensor, nn

from .data import Trajectories, trajectories
from .rno import MLP, RNO, fit_normalisation, init_lecun
from .settings import NetSettings
from .train import train_loop

#: Micro-state variables of a producer: always these, plus HARDENING_VARIABLES when the dataset's flag says so.
MICRO_VARIABLES = ("eps_p11", "eps_p12", "eps_p22")
HARDENING_VARIABLES = ("q",)
REL_FLOOR = 1e-3  # eq. (25) leaves out points with |x| <= REL_FLOOR max |x| (0/0 at elastic instants)
DTYPE = torch.float32


# --------------------------------------------------------------------------------------------- micro-state data
def micro_variables(ds: xr.Dataset) -> list[str]:
    """The dataset's micro-state variables used as model variables: eps_p11, eps_p12, eps_p22 (+ q if hardening)."""
    names = list(MICRO_VARIABLES)
    if "hardening" in ds.variables and int(ds["hardening"].values) != 0:
        names += list(HARDENING_VARIABLES)
    missing = [v for v in names if v not in ds.variables]
    if missing:
        raise ValueError(f"{ds.attrs.get('producer')}/{ds.attrs.get('case')}: no micro-state {missing}")
    return names


def micro_labels(ds: xr.Dataset) -> list[str]:
    """Column names of micro_state(): variable-major, then layer/phase (laminate: '+', '-')."""
    names = micro_variables(ds)
    other = [d for d in ds[names[0]].dims if d not in ("sample", "time")]
    n = ds.sizes[other[0]] if other else 1
    tags = ["+", "-"] if n == 2 else [str(i) for i in range(n)]
    return [f"{v}{t}" if other else v for v in names for t in (tags if other else [""])]


def micro_state(ds: xr.Dataset, traj: Trajectories) -> np.ndarray:
    """Micro-state (S, N+1, n) of the paths ``traj`` (same samples and times), columns as micro_labels()."""
    cols = []
    for v in micro_variables(ds):
        da = ds[v].sel(sample=traj.sample, time=traj.time)
        other = [d for d in da.dims if d not in ("sample", "time")]
        a = da.transpose("sample", "time", *other).values
        cols.append(a.reshape(a.shape[0], a.shape[1], -1))
    return np.concatenate(cols, axis=-1).astype(float)


@dataclass(frozen=True)
class MicroData:
    """One split of a dataset at one resolution: the RNO's paths and the micro-state along them."""

    traj: Trajectories
    micro: np.ndarray  # (S, N+1, n)
    labels: list[str]


def micro_data(ds: xr.Dataset, split: str | None, steps: int | None = None) -> MicroData:
    traj = trajectories(ds, split, steps)
    return MicroData(traj, micro_state(ds, traj), micro_labels(ds))


# --------------------------------------------------------------------------------------------------- networks
class Scaled(nn.Module):
    """Holds per-variable means and ONE common scale of the micro-state (buffers, fitted on training points)."""

    def _scaling(self, n: int) -> None:
        self.register_buffer("mean", torch.zeros(n))
        self.register_buffer("scale", torch.ones(()))

    def fit_scaling(self, x: Tensor) -> None:
        """mean per variable, scale = RMS deviation over all variables (1 if the data are constant)."""
        x = x.reshape(-1, x.shape[-1]).double()
        mean = x.mean(0)
        scale = float(((x - mean) ** 2).mean().sqrt())
        with torch.no_grad():
            self.mean.copy_(mean)
            self.scale.fill_(scale if scale > 0 else 1.0)


class Autoencoder(Scaled):
    """A = psi_AE o phi_AE on R^n with latent size m (Section 4.1): encode = phi_AE, decode = psi_AE."""

    def __init__(self, n: int, m: int, hidden: Sequence[int] = (50,)):
        super().__init__()
        if n < 1 or m < 1:
            raise ValueError(f"need n >= 1 and m >= 1, got n={n}, m={m}")
        self.n, self.m, self.hidden = int(n), int(m), [int(h) for h in hidden]
        self.encoder = MLP(n, self.hidden, m)
        self.decoder = MLP(m, list(reversed(self.hidden)), n)
        self._scaling(n)

    def spec(self) -> dict:
        return {"n": self.n, "m": self.m, "hidden": list(self.hidden)}

    def encode(self, x: Tensor) -> Tensor:
        """phi_AE: micro-state (..., n) -> reduced variables zeta (..., m)."""
        return self.encoder((x - self.mean) / self.scale)

    def decode(self, zeta: Tensor) -> Tensor:
        """psi_AE: zeta (..., m) -> micro-state (..., n)."""
        return self.decoder(zeta) * self.scale + self.mean

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))


class MicroDecoder(Scaled):
    """xi (..., k) -> micro-state (..., n): an MLP from an RNO's internal variables to the model variables."""

    def __init__(self, k: int, n: int, hidden: Sequence[int] = (50,)):
        super().__init__()
        self.k, self.n, self.hidden = int(k), int(n), [int(h) for h in hidden]
        self.net = MLP(k, self.hidden, n)
        self.register_buffer("xi_mean", torch.zeros(k))
        self.register_buffer("xi_std", torch.ones(k))
        self._scaling(n)

    def spec(self) -> dict:
        return {"k": self.k, "n": self.n, "hidden": list(self.hidden)}

    def forward(self, xi: Tensor) -> Tensor:
        return self.net((xi - self.xi_mean) / self.xi_std) * self.scale + self.mean


# ------------------------------------------------------------------------------------------ eq. (25) and fits
def reconstruction_error(truth: np.ndarray | Tensor, approx: np.ndarray | Tensor,
                         rel_floor: float = REL_FLOOR) -> float:
    """eq. (25): mean over points of |x - x_approx| / |x| (l2 over the last axis), points with
    |x| <= rel_floor max|x| left out (the ratio is 0/0 where the micro-state vanishes)."""
    t = np.asarray(truth, float).reshape(-1, np.shape(truth)[-1])
    a = np.asarray(approx, float).reshape(t.shape)
    norm = np.linalg.norm(t, axis=-1)
    keep = norm > rel_floor * norm.max() if norm.size and norm.max() > 0 else np.zeros(norm.shape, bool)
    if not keep.any():
        raise ValueError("eq. (25): every point has a vanishing micro-state")
    return float(np.mean(np.linalg.norm(t[keep] - a[keep], axis=-1) / norm[keep]))


def fit_autoencoder(points: np.ndarray, m: int, settings: NetSettings) -> tuple[Autoencoder, list[dict]]:
    """Train an autoencoder with latent size m on micro-state points (P, n) (or (S, N+1, n))."""
    x = torch.as_tensor(np.asarray(points, float).reshape(-1, np.shape(points)[-1]), dtype=DTYPE)
    model = Autoencoder(x.shape[-1], m, settings.hidden)
    init_lecun(model, torch.Generator().manual_seed(settings.seed))
    model.fit_scaling(x)
    z = (x - model.mean) / model.scale

    def loss_of(idx):
        return ((model.decoder(model.encoder(z[idx])) - z[idx]) ** 2).mean()

    return model, train_loop(model, x.shape[0], loss_of, settings, what=f"autoencoder m = {m} on {x.shape[0]} points")


def reconstruct(model: nn.Module, x: np.ndarray) -> np.ndarray:
    """model(x) over any leading shape, in float64 numpy."""
    with torch.no_grad():
        return model(torch.as_tensor(np.asarray(x, float), dtype=DTYPE)).double().numpy()


def fit_micro_decoder(xi: np.ndarray, micro: np.ndarray, settings: NetSettings) -> tuple[MicroDecoder, list[dict]]:
    """Fit xi (S, N+1, k) -> micro-state (S, N+1, n) point-wise (Figure 5)."""
    a = torch.as_tensor(np.asarray(xi, float).reshape(-1, np.shape(xi)[-1]), dtype=DTYPE)
    x = torch.as_tensor(np.asarray(micro, float).reshape(-1, np.shape(micro)[-1]), dtype=DTYPE)
    model = MicroDecoder(a.shape[-1], x.shape[-1], settings.hidden)
    init_lecun(model, torch.Generator().manual_seed(settings.seed))
    model.fit_scaling(x)
    std = a.double().std(0, unbiased=False)
    with torch.no_grad():
        model.xi_mean.copy_(a.double().mean(0))
        model.xi_std.copy_(torch.where(std > 0, std, torch.ones_like(std)))
    zin = (a - model.xi_mean) / model.xi_std
    z = (x - model.mean) / model.scale

    def loss_of(idx):
        return ((model.net(zin[idx]) - z[idx]) ** 2).mean()

    return model, train_loop(model, a.shape[0], loss_of, settings, what=f"micro decoder on {a.shape[0]} points")


def rno_internal(model: RNO, traj: Trajectories) -> tuple[np.ndarray, np.ndarray]:
    """(stress (S, N+1, n_comp) MPa, xi (S, N+1, k)) of an RNO's rollout on the paths (eq. 3)."""
    x, _, time = traj.tensors("cpu", DTYPE)
    with torch.no_grad():
        stress, xi = model.rollout(x, time)
    return stress.double().numpy(), xi.double().numpy()


# ----------------------------------------------------------------------------------------------- eq. (26) map
def latent_trajectories(ae: Autoencoder, micro: np.ndarray) -> np.ndarray:
    """xi = phi_AE(x) - phi_AE(0) along paths (S, N+1, n) -> (S, N+1, m): zero at t = 0, like the RNO's xi^0."""
    with torch.no_grad():
        x = torch.as_tensor(micro, dtype=DTYPE)
        return (ae.encode(x) - ae.encode(torch.zeros(x.shape[-1]))).double().numpy()


def decode_latent(ae: Autoencoder, xi: np.ndarray) -> np.ndarray:
    """psi_AE(xi + phi_AE(0)): the micro-state from the shifted reduced variables."""
    with torch.no_grad():
        zeta0 = ae.encode(torch.zeros(ae.n))
        return ae.decode(torch.as_tensor(xi, dtype=DTYPE) + zeta0).double().numpy()


def fit_latent_map(traj: Trajectories, xi: np.ndarray, settings: NetSettings) -> tuple[RNO, list[dict]]:
    """Train the map of eq. (26) point-wise: f(x^n, xi^n) = stress^n and g(x^n, xi^(n-1)) = the Euler rate.

    traj: training paths (x, stress on time); xi (S, N+1, m): the shifted reduced variables along them. Returns an
    RNO ("evp", k = m, f and g with ``settings.hidden``) that runs as eq. (3) on any path.
    """
    model = RNO(traj.x.shape[-1], xi.shape[-1], "evp", settings.hidden)
    model.init_weights(torch.Generator().manual_seed(settings.seed))
    x, stress, time = traj.tensors("cpu", DTYPE)
    fit_normalisation(model, x, stress, time)
    xi_t = torch.as_tensor(xi, dtype=DTYPE)
    z = (x - model.x_mean) / model.x_std
    s = (stress - model.stress_mean) / model.stress_std
    dt = (time[1:] - time[:-1])[None, :, None]
    rate = model.t_scale * (xi_t[:, 1:] - xi_t[:, :-1]) / dt  # g's target (S, N, m)
    rate_scale = rate.reshape(-1, rate.shape[-1]).pow(2).mean(0).sqrt().clamp_min(1e-12)
    f_in = torch.cat([z, xi_t], -1).reshape(-1, z.shape[-1] + xi_t.shape[-1])
    f_out = s.reshape(-1, s.shape[-1])
    g_in = torch.cat([z[:, 1:], xi_t[:, :-1]], -1).reshape(-1, f_in.shape[-1])
    g_out = (rate / rate_scale).reshape(-1, rate.shape[-1])
    S, N1 = x.shape[0], x.shape[1]
    # point idx in 0..S*(N+1)-1 trains f; the g point of (s, n >= 1) is s*N + n-1
    g_index = torch.arange(S * N1).reshape(S, N1)[:, 1:].reshape(-1)
    g_of = torch.full((S * N1,), -1, dtype=torch.long)
    g_of[g_index] = torch.arange(g_index.numel())

    def loss_of(idx):
        loss = ((model.f(f_in[idx]) - f_out[idx]) ** 2).mean()
        gi = g_of[idx]
        gi = gi[gi >= 0]
        if gi.numel():
            loss = loss + ((model.g(g_in[gi]) / rate_scale - g_out[gi]) ** 2).mean()
        return loss

    return model, train_loop(model, S * N1, loss_of, settings, what=f"eq. (26) map m = {xi.shape[-1]}, {S * N1} points")


AE_COLUMNS = ["producer", "case", "latent", "n_vars", "train_steps", "train_error", "test_error"]


def autoencoder_rows(ae: Autoencoder, ds: xr.Dataset, train_steps: int):
    """One row of results/tables/ae_errors.csv: eq. (25) on the train and test splits at train_steps."""
    import pandas as pd

    errs = {}
    for split in ("train", "test"):
        d = micro_data(ds, split, train_steps)
        errs[split] = reconstruction_error(d.micro, reconstruct(ae, d.micro))
    row = {"producer": ds.attrs["producer"], "case": ds.attrs["case"], "latent": ae.m, "n_vars": ae.n,
           "train_steps": int(train_steps), "train_error": errs["train"], "test_error": errs["test"]}
    return pd.DataFrame([row], columns=AE_COLUMNS)
