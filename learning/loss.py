"""The paper's relative L2 error (eq. 16), the training loss and the reported test error.

    error_s = ( int_0^T |stress_truth - stress_approx|^2 dt / int_0^T |stress_truth|^2 dt )^(1/2)

per trajectory s, with |.| the Frobenius norm of the d x d stress (off-diagonal components counted twice, since
only i <= j are stored) and the time integrals by the trapezoid rule on the trajectories' own grid (which may be
non-uniform). The paper's error is the mean of error_s over the S test trajectories.
"""
from __future__ import annotations

import torch
from torch import Tensor


def trapezoid_weights(time: Tensor) -> Tensor:
    """w (N+1,) in s with sum_n w_n a_n the trapezoid rule for int a dt on the grid ``time`` (N+1,)."""
    dt = time[1:] - time[:-1]
    w = torch.zeros_like(time)
    w[:-1] += 0.5 * dt
    w[1:] += 0.5 * dt
    return w


def relative_l2(approx: Tensor, truth: Tensor, time: Tensor, weights: Tensor | None = None) -> Tensor:
    """error_s of eq. (16) for each trajectory: (S,) from approx, truth (S, N+1, n_comp) on ``time`` (N+1,) s.

    weights (n_comp,) turn the component sum into the Frobenius norm (learning.data.component_weights);
    None weighs every component 1. The error of a trajectory with identically zero truth is undefined (inf or nan).
    """
    w_t = trapezoid_weights(time)
    w_c = torch.ones(truth.shape[-1], dtype=truth.dtype, device=truth.device) if weights is None else weights
    num = ((approx - truth) ** 2 * w_c).sum(-1) @ w_t
    den = (truth ** 2 * w_c).sum(-1) @ w_t
    return torch.sqrt(num / den)
