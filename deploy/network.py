"""A trained RNO as plain float64 arrays: what the generated code carries as literals.

Kernel.of(model) reads learning.rno.RNO's weights and normalisation buffers; pack() lays a Linear layer out in the
panels the generated matrix products read (deploy.c99, deploy.fortran):

    the layer a = W h + b, W (n_out, n_in), is cut into panels of MR output rows; panel q holds W[q MR + r, j] at
    offset (q n_in + j) MR + r, rows past n_out are zero (their output is 0 and SELU(0) = 0, so a padded layer
    feeds zeros to the next one, whose matching weight columns are zero as well).
"""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

import numpy as np
from torch import nn

from learning.data import component_names
from learning.rno import RNO

#: SELU constants, exactly torch's (ATen/native/Activation.cpp, double): selu(a) = SCALE a (a > 0),
#: SCALE ALPHA expm1(a) (a <= 0); torch multiplies by the product ALPHA * SCALE, formed in double
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
SELU_NEG = SELU_ALPHA * SELU_SCALE
#: the normalisation buffers of learning.rno.RNO: (name, what); the rate's only for variant "ve"
NORMALISATION = (("x_mean", "mean of x"), ("x_std", "standard deviation of x"), ("rate_mean", "mean of dx/dt, 1/s"),
                 ("rate_std", "standard deviation of dx/dt, 1/s"), ("stress_mean", "mean of the target, MPa"),
                 ("stress_std", "standard deviation of the target, MPa"))
#: ln 2 split for Cody-Waite reduction (fdlibm's e_exp.c): LN2_HI has 11 trailing zero bits, so n LN2_HI is exact
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
LOG2E = 1.44269504088896338700e+00
#: output rows per panel (register tile of the generated matrix products)
MR = 8
#: points per register tile and per panel of activations
NR = 8
#: points evaluated together (activations of two layers stay in the L2 cache)
CHUNK = 64


@dataclass(frozen=True)
class Layer:
    """One Linear layer in float64: weight (n_out, n_in), bias (n_out,); selu: SELU follows (hidden layers)."""

    weight: np.ndarray
    bias: np.ndarray
    selu: bool

    @property
    def n_in(self) -> int:
        return self.weight.shape[1]

    @property
    def n_out(self) -> int:
        return self.weight.shape[0]


@dataclass(frozen=True)
class Kernel:
    """Everything RNO.step needs, in float64 (eqs. 2, 3, 7; learning.rno).

    f: [z, (r for "ve"), xi] -> target; g: [z, xi] -> dxi/dt t_scale (empty when k = 0); z, r the normalised
    input and rate; the target in MPa is f's output * stress_std + stress_mean.
    """

    variant: str
    target: str
    k: int
    n_comp: int
    n_out: int
    d: int
    max_dt: float
    t_scale: float
    x_mean: np.ndarray
    x_std: np.ndarray
    rate_mean: np.ndarray
    rate_std: np.ndarray
    stress_mean: np.ndarray
    stress_std: np.ndarray
    f: tuple[Layer, ...]
    g: tuple[Layer, ...]
    input_name: str | None = None  # "F" or "strain" (the data's input), None if unknown

    @classmethod
    def of(cls, model: RNO, input_name: str | None = None) -> "Kernel":
        """The kernel of a learning.rno.RNO (any dtype; values converted to float64 exactly)."""
        def arr(t) -> np.ndarray:
            return t.detach().cpu().double().numpy().copy()

        def layers(seq) -> tuple[Layer, ...]:
            lin = [m for m in seq if isinstance(m, nn.Linear)]
            return tuple(Layer(arr(m.weight), arr(m.bias), i < len(lin) - 1) for i, m in enumerate(lin))

        d = next((d for d in range(1, 4) if d * (d + 1) // 2 == model.n_comp), 0)  # 0: not a symmetric tensor
        kernel = cls(variant=model.variant, target=model.target, k=model.k, n_comp=model.n_comp,
                     n_out=model.n_out, d=d, max_dt=float(model.max_dt), t_scale=float(model.t_scale),
                     x_mean=arr(model.x_mean), x_std=arr(model.x_std), rate_mean=arr(model.rate_mean),
                     rate_std=arr(model.rate_std), stress_mean=arr(model.stress_mean),
                     stress_std=arr(model.stress_std), f=layers(model.f), g=layers(model.g), input_name=input_name)
        bad = [name for name, a in kernel.arrays() if not np.all(np.isfinite(a))]
        if bad:
            raise ValueError(f"the model has non-finite values in {', '.join(bad)}: nothing to export")
        return kernel

    def arrays(self) -> list[tuple[str, np.ndarray]]:
        """(name, values) of every array the code carries."""
        out = [(n, getattr(self, n)) for n in ("x_mean", "x_std", "rate_mean", "rate_std", "stress_mean",
                                                "stress_std")]
        out.append(("t_scale", np.array([self.t_scale])))
        for net in ("f", "g"):
            for i, layer in enumerate(getattr(self, net), 1):
                out += [(f"{net}_w{i}", layer.weight), (f"{net}_b{i}", layer.bias)]
        return out

    @property
    def n_in_f(self) -> int:
        return self.n_comp * (2 if self.variant == "ve" else 1) + self.k

    @property
    def components(self) -> list[tuple[int, int]]:
        """(i, j), 0-based, of the input's components (learning.data.component_names); [] if not a tensor."""
        return component_names(self.d) if self.d else []

    def flops(self) -> int:
        """Multiply-add FLOPs (2 per product) of one update without sub-steps: f once, g once."""
        return sum(2 * layer.weight.size for layer in (*self.f, *self.g))

    def widths(self) -> list[int]:
        """Padded widths of every layer's input and output (the work buffers' sizes)."""
        out = [self.n_in_f, self.n_comp + self.k]
        for net in (self.f, self.g):
            out += [padded(layer.n_out) for layer in net]
        return out


def padded(n: int, m: int = MR) -> int:
    """n rounded up to a multiple of m."""
    return -(-n // m) * m


def pack(layer: Layer, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """(weights in panels, bias) of a layer, n_out padded to a multiple of MR, n_in columns (>= layer.n_in:
    the padded width of the layer before; extra columns are zero). See the module docstring for the layout."""
    n_out = padded(layer.n_out)
    w = np.zeros((n_out, n_in))
    w[:layer.n_out, :layer.n_in] = layer.weight
    b = np.zeros(n_out)
    b[:layer.n_out] = layer.bias
    panels = w.reshape(n_out // MR, MR, n_in).transpose(0, 2, 1)  # (q, j, r)
    return np.ascontiguousarray(panels).ravel(), b


def packed_layers(net: tuple[Layer, ...], n_in: int) -> list[tuple[int, int, np.ndarray, np.ndarray, bool]]:
    """(n_in, padded n_out, panels, bias, selu) of each layer of a network whose input has n_in values."""
    out = []
    for layer in net:
        w, b = pack(layer, n_in)
        out.append((n_in, b.size, w, b, layer.selu))
        n_in = b.size
    return out


def describe(kernel: Kernel, prefix: str, width: int = 112) -> str:
    """The model in a few wrapped comment lines, each starting with prefix."""
    kn = kernel
    comps = ", ".join(f"{i + 1}{j + 1}" for i, j in kn.components) or "not a symmetric tensor"
    text = (f"f, g: Linear layers with SELU between them. This model: variant \"{kn.variant}\", k = {kn.k}, target "
            f"\"{kn.target}\" ({kn.n_out} components, MPa), input \"{kn.input_name or 'unknown'}\" with "
            f"{kn.n_comp} components ({comps}), widths of f {_shape(kn.f)}, of g {_shape(kn.g)}; "
            f"{substeps_note(kn.max_dt)}.")
    return "\n".join(textwrap.wrap(text, width, initial_indent=prefix, subsequent_indent=prefix,
                                   break_on_hyphens=False))


def _shape(layers) -> str:
    if not layers:
        return "(none: k = 0)"
    return "-".join([str(layers[0].n_in)] + [str(layer.n_out) for layer in layers])


def substeps_note(max_dt: float) -> str:
    """A sentence on the sub-steps of xi (learning.rno: m = max(1, ceil(dt / max_dt - 1e-9)))."""
    if max_dt > 0:
        return (f"xi advances in m = max(1, ceil(dt / {max_dt!r} - 1e-9)) Euler sub-steps of dt / m with x "
                "linear in time over the step (max_dt of the model)")
    return "one Euler step of xi per call (max_dt = 0: eq. 3 exactly)"


def literal(v: float) -> str:
    """The shortest decimal that reads back as exactly v (float64)."""
    if not math.isfinite(v):
        raise ValueError(f"non-finite value {v}")
    return repr(float(v))
