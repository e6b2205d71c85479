"""The recurrence of eq. (3) alone, with its backward pass (back-propagation through time) written out.

    xi^0 = 0,    xi^j = xi^(j-1) + c_j g(u^j, xi^(j-1)),    j = 1..M

for g an MLP of Linear layers with SELU between them (learning.rno.MLP), u^j the normalised inputs of update j
and c_j = dt_j / t_scale. f does not feed this recurrence, so learning.rno.RNO.rollout runs it first and then
applies f to all steps in one call.

Why by hand: autograd records every small operation of every step (a 30-path batch, 200 steps, 4 x 100 g: ~10
operations of ~10-20 us each per step, forward and backward again), and torch.compile's per-call overhead on the
CPU exceeds the step itself (benchmarks/bench_rno.py; docs/learning.md, "Rollout"). Here the forward loop does only
the matrix products and activations of each step, the backward loop only carries dL/dxi back through g's Jacobian,
and the work that does not recur (the first layer's u-part, all weight gradients, SELU's derivatives) is done for
all steps at once as large matrix products. Both loops are TorchScript functions (lower dispatch cost than Python,
measured) and run on any device and dtype.
"""
from __future__ import annotations

import warnings
from typing import List

import torch
from torch import Tensor, nn

_SELU_SCALE = 1.0507009873554804934193349852946  # lambda of SELU (Klambauer et al. 2017)
_SELU_ALPHA = 1.6732632423543772848170429916717  # alpha of SELU


def _forward_loop(pre: Tensor, W_xi: Tensor, weights: List[Tensor], biases: List[Tensor], c: Tensor):
    """The recurrence, time-major: pre (M, B, H_0) = first layer's u-part with its bias, W_xi (H_0, k) its xi-part,
    weights/biases of the layers after it (the last is the output layer), c (M, B, 1).
    Returns xi (M+1, B, k) and each hidden layer's activations [(M, B, H_l)]."""
    M = pre.shape[0]
    xi = torch.zeros(pre.shape[1], W_xi.shape[1], dtype=pre.dtype, device=pre.device)
    xis = [xi]
    acts: List[List[Tensor]] = [[] for _ in range(len(weights))]
    W_xi_t = W_xi.t()
    for j in range(M):
        h = torch.selu(torch.addmm(pre[j], xi, W_xi_t))
        acts[0].append(h)
        for l in range(len(weights) - 1):
            h = torch.selu(torch.addmm(biases[l], h, weights[l].t()))
            acts[l + 1].append(h)
        xi = torch.addcmul(xi, c[j], torch.addmm(biases[-1], h, weights[-1].t()))
        xis.append(xi)
    return torch.stack(xis), [torch.stack(a) for a in acts]


def _backward_loop(grad_xi: Tensor, derivs: List[Tensor], W_xi: Tensor, weights: List[Tensor], c: Tensor):
    """dL/dxi carried back through the recurrence: grad_xi (M+1, B, k) = the direct dL/dxi^j, derivs [(M, B, H_l)]
    = SELU'(pre-activation) of each hidden layer. Returns dL/d(pre-activation) of every hidden layer
    [(M, B, H_l)] and dL/d(output of g) (M, B, k)."""
    M = c.shape[0]
    L = len(derivs)
    carry = grad_xi[M]
    d_out: List[Tensor] = []
    d_pre: List[List[Tensor]] = [[] for _ in range(L)]
    for j in range(M - 1, -1, -1):
        d = c[j] * carry
        d_out.append(d)
        for l in range(L - 1, -1, -1):
            d = torch.mm(d, weights[l]) * derivs[l][j]
            d_pre[l].append(d)
        carry = carry + grad_xi[j] + torch.mm(d, W_xi)
    d_out.reverse()
    out = []
    for l in range(L):
        d_pre[l].reverse()
        out.append(torch.stack(d_pre[l]))
    return out, torch.stack(d_out)


def _script(fn):
    """TorchScript ``fn`` (deprecated upstream but supported, and faster here); the Python function if it fails."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.script(fn)
    except Exception:  # pragma: no cover - a torch without TorchScript
        return fn


_forward = _script(_forward_loop)
_backward = _script(_backward_loop)


def _selu_derivative(h: Tensor) -> Tensor:
    """SELU'(a) from h = SELU(a): lambda where h > 0, h + lambda alpha elsewhere."""
    return torch.where(h > 0, torch.full_like(h, _SELU_SCALE), h + _SELU_SCALE * _SELU_ALPHA)


class _Recurrence(torch.autograd.Function):
    """xi (M+1, B, k) from (pre, c, W_xi, W_1, b_1, ..., W_out, b_out); gradients for all but c."""

    @staticmethod
    def forward(ctx, pre: Tensor, c: Tensor, W_xi: Tensor, *params: Tensor) -> Tensor:
        weights, biases = list(params[0::2]), list(params[1::2])
        xi, acts = _forward(pre, W_xi, weights, biases, c)
        ctx.save_for_backward(c, W_xi, xi, *acts, *weights)
        ctx.n_hidden = len(acts)
        return xi

    @staticmethod
    def backward(ctx, grad_xi: Tensor):
        c, W_xi, xi, *rest = ctx.saved_tensors
        acts, weights = rest[:ctx.n_hidden], rest[ctx.n_hidden:]
        d_pre, d_out = _backward(grad_xi.contiguous(), [_selu_derivative(h) for h in acts], W_xi, list(weights), c)
        flat = lambda a: a.reshape(-1, a.shape[-1])  # noqa: E731  (M, B, n) -> (M B, n)
        grads = []
        for d, h in zip(d_pre[1:] + [d_out], acts):  # layer l + 1 maps the activations of hidden layer l
            grads += [flat(d).t() @ flat(h), flat(d).sum(0)]
        return d_pre[0], None, flat(d_pre[0]).t() @ flat(xi[:-1]), *grads


def xi_path(g: nn.Sequential, u: Tensor, c: Tensor) -> Tensor:
    """xi (B, M+1, k) of the recurrence for g: [u, xi] -> dxi (an MLP: Linear layers, SELU between them), inputs
    u (B, M, n_u) and factors c (B, M) or (M,); differentiable in g's parameters and u."""
    layers = list(g)
    linear = layers[0::2]
    if not all(isinstance(m, nn.Linear) for m in linear) or not all(isinstance(m, nn.SELU) for m in layers[1::2]):
        raise TypeError("xi_path needs an MLP of Linear layers with SELU between them")
    first = linear[0]
    n_u = u.shape[-1]
    pre = nn.functional.linear(u.transpose(0, 1), first.weight[:, :n_u], first.bias)  # (M, B, H_0)
    W_xi = first.weight[:, n_u:]
    c = c.expand(u.shape[0], -1) if c.dim() == 1 else c
    params = [p for m in linear[1:] for p in (m.weight, m.bias)]
    xi = _Recurrence.apply(pre.contiguous(), c.t().unsqueeze(-1).to(u.dtype).contiguous(), W_xi, *params)
    return xi.transpose(0, 1)
