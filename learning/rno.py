"""The recurrent neural operator (RNO) of paper Section 2, eqs. (2), (3) and (7).

Discretised by forward Euler on any grid t_0 = 0 < t_1 < ... < t_N (eq. 3), with dt_n = t_n - t_(n-1):

    xi^0    = 0
    xi^n    = xi^(n-1) + dt_n g(x^n, xi^(n-1)) / t_scale           n = 1..N
    stress^n = f(x^n, xi^n)                        variant "evp"    (eq. 2)
    stress^n = f(x^n, (x^n - x^(n-1)) / dt_n, xi^n)  variant "ve"   (eq. 7, backward-difference rate)

x is the vector of independent components (i <= j, row-major: learning.data.component_names) of the input
(strain or F), stress the same components of the model's target in MPa (``target``: the Cauchy stress, its
deviatoric part, or the pressure p = -tr(stress)/d as one component; paper Section 5.1, eq. 28), time in s.
t_scale (s, the duration of the training paths) makes g's output O(1): g / t_scale is the rate of eq. (3) in 1/s,
a fixed change of units of g.

Optional sub-stepping (max_dt > 0, not in the paper): xi advances by m Euler steps of dt_n / m <= max_dt with x
linear in time between t_(n-1) and t_n; this is eq. (3) on a refined grid, so a model with a fixed max_dt is the
same discrete operator at every data resolution coarser than max_dt (docs/learning.md, "Resolution"). max_dt = 0
is eq. (3) exactly.

t = 0 is the reference state: xi^0 = 0 and stress^0 = f(x^0, xi^0) (for "ve" with rate 0: at rest before t = 0).
The model is trained on stress^0 too (the data's stress at t = 0 is 0), so it learns that the reference state is
stress free; the first Euler update is the one to t_1.

Inputs, rates and stress are normalised inside the model by per-component means and standard deviations fitted
on the training split (buffers, saved with the weights): f and g see O(1) numbers, callers use physical units.
"""

import math
from typing import List, Optional, Sequence

import torch
from torch import Tensor, nn

from .recurrence import xi_path
from .settings import TARGETS  # what f returns: learning.data.target_components

VARIANTS = ("evp", "ve")
#: points per block of RNO.step: 4096 x 200 float32 activations (3.3 MB) stay in the cache
BLOCK = 4096


def init_lecun(module: nn.Module, generator: torch.Generator) -> None:
    """LeCun-normal weights and zero biases of every Linear layer of ``module`` (in module order), drawn from
    ``generator``: the initialisation SELU networks are designed for, used by every network of the project."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=generator) / m.in_features ** 0.5)
                m.bias.zero_()


class MLP(nn.Sequential):
    """Fully connected network: Linear + SELU per hidden layer, then a linear output layer (Section 2)."""

    def __init__(self, n_in: int, hidden: Sequence[int], n_out: int):
        sizes = [n_in, *hidden, n_out]
        layers: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.SELU()]
        super().__init__(*layers[:-1])


class RNO(nn.Module):
    """RNO with ``k`` internal variables for ``n_comp`` input components (eqs. 2-3, 7).

    f: [x, (dx/dt for "ve"), xi] -> target; g: [x, xi] -> dxi/dt (no layers when k = 0: no memory).
    ``hidden`` sets the widths of f's hidden layers, ``hidden_g`` those of g (default: the same).
    ``target`` (TARGETS) says what f returns: n_comp stress or deviatoric-stress components, or 1 pressure.
    """

    variant: str
    target: str
    k: int
    n_comp: int
    n_out: int
    max_dt: float
    block: int

    def __init__(self, n_comp: int, k: int, variant: str = "evp", hidden: Sequence[int] = (100, 100, 100, 100),
                 hidden_g: Optional[Sequence[int]] = None, max_dt: float = 0.0, target: str = "stress"):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
        if target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
        if k < 0 or n_comp < 1 or not max_dt >= 0:
            raise ValueError(f"need k >= 0, n_comp >= 1, max_dt >= 0, got k={k}, n_comp={n_comp}, max_dt={max_dt}")
        self.variant, self.target, self.k, self.n_comp, self.max_dt = variant, target, int(k), int(n_comp), \
            float(max_dt)
        self.block = BLOCK
        self.n_out = 1 if target == "pressure" else self.n_comp
        self.hidden = [int(h) for h in hidden]
        self.hidden_g = [int(h) for h in (hidden if hidden_g is None else hidden_g)]
        n_rate = n_comp if variant == "ve" else 0
        self.f = MLP(n_comp + n_rate + k, self.hidden, self.n_out)
        self.g = MLP(n_comp + k, self.hidden_g, k) if k > 0 else nn.Sequential()
        for name, n in (("x", n_comp), ("rate", n_comp), ("stress", self.n_out)):
            self.register_buffer(f"{name}_mean", torch.zeros(n))
            self.register_buffer(f"{name}_std", torch.ones(n))
        self.register_buffer("t_scale", torch.ones(()))

    def spec(self) -> dict:
        """Constructor arguments: RNO(**model.spec()) builds an untrained twin."""
        return {"n_comp": self.n_comp, "k": self.k, "variant": self.variant, "hidden": list(self.hidden),
                "hidden_g": list(self.hidden_g), "max_dt": self.max_dt, "target": self.target}

    def init_weights(self, generator: torch.Generator) -> None:
        """LeCun-normal weights and zero biases (init_lecun)."""
        init_lecun(self, generator)

    @torch.jit.export
    def initial_state(self, x0: Tensor) -> Tensor:
        """xi^0 = 0 for a batch of inputs x0 (B, n_comp): (B, k)."""
        return torch.zeros(x0.shape[0], self.k, dtype=x0.dtype, device=x0.device)

    def _stress(self, z: Tensor, r: Tensor, xi: Tensor) -> Tensor:
        """stress (MPa) from normalised input z, normalised rate r ("ve" only) and xi: eq. (2)_1 or (7)_1."""
        if self.variant == "ve":
            out = self.f(torch.cat([z, r, xi], dim=-1))
        else:
            out = self.f(torch.cat([z, xi], dim=-1))
        return out * self.stress_std + self.stress_mean

    def _substeps(self, dt: Tensor) -> int:
        """m = ceil(max(dt) / max_dt) Euler sub-steps of xi over a step dt (s; scalar or (B,)); 1 when max_dt = 0."""
        if self.max_dt > 0:
            return max(1, int(math.ceil(float(dt.max().item()) / self.max_dt - 1e-9)))
        return 1

    def _update(self, z_prev: Tensor, z: Tensor, xi_prev: Tensor, dt: Tensor, m: int = 0) -> Tensor:
        """xi^n = xi^(n-1) + dt g(z^n, xi^(n-1)) / t_scale (eq. 3_2); dt (s) scalar or (B,).

        With m > 1 sub-steps (m = 0: _substeps(dt)): m such steps of dt / m, z linear from z_prev to z.
        """
        if self.k == 0:
            return xi_prev
        if m == 0:
            m = self._substeps(dt)
        if dt.dim() == 1:
            dt = dt.unsqueeze(-1)
        h = dt / (m * self.t_scale)
        xi = xi_prev
        for j in range(1, m + 1):
            zj = z if j == m else z_prev + (j / m) * (z - z_prev)
            xi = xi + h * self.g(torch.cat([zj, xi], dim=-1))
        return xi

    @torch.jit.export
    def step(self, x: Tensor, xi_prev: Tensor, dt: Tensor, x_prev: Optional[Tensor] = None) -> tuple[Tensor, Tensor]:
        """Material-point update (eq. 3) over a batch: (target^n (B, n_out) MPa, xi^n (B, k)).

        x: x^n (B, n_comp); xi_prev: xi^(n-1) (B, k); dt: t_n - t_(n-1) in s, scalar or (B,);
        x_prev: x^(n-1), used by "ve" for the rate (x^n - x^(n-1)) / dt and by sub-steps (max_dt > 0) to interpolate
        x; None means at rest: rate 0, x held at x^n. Evaluated in blocks of ``block`` points (activations that stay
        in the cache: benchmarks/bench_rno.py), the sub-steps m set by the whole batch.
        """
        m = self._substeps(dt)
        n = x.shape[0]
        if n <= self.block:
            return self._step(x, xi_prev, dt, x_prev, m)
        stresses: List[Tensor] = []
        xis: List[Tensor] = []
        for i in range(0, n, self.block):
            j = min(i + self.block, n)
            x_prev_i: Optional[Tensor] = None
            if x_prev is not None:
                x_prev_i = x_prev[i:j]
            stress, xi = self._step(x[i:j], xi_prev[i:j], dt[i:j] if dt.dim() == 1 else dt, x_prev_i, m)
            stresses.append(stress)
            xis.append(xi)
        return torch.cat(stresses), torch.cat(xis)

    def _step(self, x: Tensor, xi_prev: Tensor, dt: Tensor, x_prev: Optional[Tensor], m: int) -> tuple[Tensor, Tensor]:
        """step() on one block with m sub-steps."""
        z = (x - self.x_mean) / self.x_std
        z_prev = z if x_prev is None else (x_prev - self.x_mean) / self.x_std
        xi = self._update(z_prev, z, xi_prev, dt, m)
        r = torch.zeros_like(z)
        if self.variant == "ve" and x_prev is not None:
            rate = (x - x_prev) / (dt.unsqueeze(-1) if dt.dim() == 1 else dt)
            r = (rate - self.rate_mean) / self.rate_std
        return self._stress(z, r, xi), xi

    @torch.jit.export
    def rollout(self, x: Tensor, time: Tensor) -> tuple[Tensor, Tensor]:
        """Run eq. (3) along trajectories x (B, N+1, n_comp) on ``time`` (N+1,) or (B, N+1) in s, time[0] = 0.

        Returns the target (B, N+1, n_out) in MPa and xi (B, N+1, k). The xi recurrence runs alone
        (learning.recurrence.xi_path, its backward pass written out), then f is applied to all steps in one call;
        the TorchScript export runs the recurrence step by step (_update), the same eq. (3).
        """
        z = (x - self.x_mean) / self.x_std
        dt = time[..., 1:] - time[..., :-1]
        r = torch.zeros_like(z)
        if self.variant == "ve":
            rate = (x[:, 1:] - x[:, :-1]) / dt.unsqueeze(-1)
            r = torch.cat([torch.zeros_like(z[:, :1]), (rate - self.rate_mean) / self.rate_std], dim=1)
        if torch.jit.is_scripting():
            xi = self.initial_state(x[:, 0])
            xis = [xi]
            for n in range(1, x.shape[1]):
                xi = self._update(z[:, n - 1], z[:, n], xi, dt[..., n - 1])
                xis.append(xi)
            xi = torch.stack(xis, dim=1)
        else:
            xi = self._xi_path(z, dt)
        return self._stress(z, r, xi), xi

    @torch.jit.unused
    def _xi_path(self, z: Tensor, dt: Tensor) -> Tensor:
        """xi (B, N+1, k) along normalised inputs z (B, N+1, n_comp) with steps dt (N,) or (B, N) in s: eq. (3),
        with the sub-steps of max_dt as updates on the refined grid (z linear in time within a step)."""
        B, N = z.shape[0], z.shape[1] - 1
        if self.k == 0:
            return z.new_zeros(B, N + 1, 0)
        dt = dt.expand(B, N) if dt.dim() == 1 else dt
        if self.max_dt == 0:
            return xi_path(self.g, z[:, 1:], dt / self.t_scale)
        m = torch.ceil(dt.max(dim=0).values / self.max_dt - 1e-9).clamp(min=1).long()  # sub-steps per step
        step = torch.repeat_interleave(torch.arange(N, device=z.device), m)  # the step of each update
        first = torch.cumsum(m, 0) - m
        j = torch.arange(step.numel(), device=z.device) - first[step] + 1  # 1..m within the step
        u = torch.lerp(z[:, step], z[:, step + 1], (j.to(z.dtype) / m[step]).unsqueeze(-1))  # exact at j = m
        xi = xi_path(self.g, u, dt[:, step] / (m[step] * self.t_scale))
        return xi[:, torch.cat([first.new_zeros(1), torch.cumsum(m, 0)])]

    def forward(self, x: Tensor, time: Tensor) -> Tensor:
        """Target trajectories (B, N+1, n_out) in MPa for inputs x (B, N+1, n_comp) on ``time`` (s)."""
        return self.rollout(x, time)[0]

    @torch.jit.export
    def rate_of_xi(self, x: Tensor, xi: Tensor) -> Tensor:
        """dxi/dt = g(x, xi) / t_scale in 1/s (eq. 2_2) for x (B, n_comp), xi (B, k)."""
        z = (x - self.x_mean) / self.x_std
        if self.k == 0:
            return torch.zeros_like(xi)
        return self.g(torch.cat([z, xi], dim=-1)) / self.t_scale


def fit_normalisation(model: RNO, x: Tensor, stress: Tensor, time: Tensor) -> RNO:
    """Set the model's normalisation buffers from training trajectories (in place; returns the model).

    x (S, N+1, n_comp), stress (S, N+1, n_out): the target, in physical units on ``time`` (N+1,) s. Means and
    standard deviations are per component over all samples and times (a zero spread becomes 1); rates are the
    backward differences of x on this grid (the training resolution); t_scale is the paths' duration
    time[-1] - time[0].
    """
    def moments(a: Tensor) -> tuple[Tensor, Tensor]:
        a = a.reshape(-1, a.shape[-1]).double()
        std = a.std(dim=0, unbiased=False)
        return a.mean(dim=0), torch.where(std > 0, std, torch.ones_like(std))

    rate = (x[:, 1:] - x[:, :-1]) / (time[1:] - time[:-1]).unsqueeze(-1)
    with torch.no_grad():
        for name, a in (("x", x), ("rate", rate), ("stress", stress)):
            mean, std = moments(a)
            getattr(model, f"{name}_mean").copy_(mean)
            getattr(model, f"{name}_std").copy_(std)
        model.t_scale.fill_(float(time[-1] - time[0]))
    return model
