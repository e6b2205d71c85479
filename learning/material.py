"""A trained RNO (``RNO.step``, paper eq. 3) as a material point of the mixed-boundary-condition driver: it
implements ``mechanics.mixed_bc.Material`` structurally (learning/ imports dataset/ only, so no import of it). Units:
MPa, s.

Input: the model's x are the six independent components (i, j), i <= j, row-major (learning.data.component_names)
of the producer's input; for taylor_mg that is the deformation gradient F, whose paths are symmetric (F = U, the
sampler's six components; docs/taylor.md), the kinematics of the driver too. Output: a model with target "stress"
gives the six Cauchy stress components; a "deviatoric" model needs a "pressure" model (paper eq. 28, Section 5.1)
and sigma = dev sigma - p I. State: the internal variables xi (B, k) (and xi_p (B, k_p) of the pressure model),
numpy arrays; xi^0 = 0. The models run in float64 copies (a float32 stress would put a noise of ~1e-7 relative on
the Newton residual). The tangent is exact, by automatic differentiation of the step with respect to x (F_ij for
i <= j only: the model reads the upper triangle of F).

The driver's reference state (t = 0, F = I) is reported as stress free; an RNO's own stress^0 = f(x^0, 0) is only
approximately zero (learned from the data's stress^0 = 0).
"""
from __future__ import annotations

import copy
import warnings

import numpy as np
import torch

from .data import component_names, from_components, to_components


def _float64(model: torch.nn.Module) -> torch.nn.Module:
    """A float64 copy in eval mode (the caller's model is left as it is)."""
    with warnings.catch_warnings():  # .double() of a TorchScript module reads .grad of its non-leaf parameters
        warnings.filterwarnings("ignore", message=".*grad attribute of a Tensor that is not a leaf.*")
        return copy.deepcopy(model).double().eval()


class RNOMaterial:
    """``model`` (an RNO or its TorchScript export, n_comp = 6, input F) as a material; ``pressure_model`` required
    when model.target is "deviatoric" (its target must be "pressure")."""

    def __init__(self, model: torch.nn.Module, pressure_model: torch.nn.Module | None = None):
        if int(model.n_comp) != 6:
            raise ValueError(f"RNOMaterial: the driver is 3D (6 components of F), the model has n_comp = "
                             f"{model.n_comp}")
        if model.target == "pressure" or (model.target == "deviatoric") != (pressure_model is not None):
            raise ValueError("RNOMaterial: give a 'stress' model, or a 'deviatoric' model and a 'pressure' model")
        if pressure_model is not None and (pressure_model.target != "pressure" or int(pressure_model.n_comp) != 6):
            raise ValueError("RNOMaterial: pressure_model must have target 'pressure' and n_comp = 6")
        self.model = _float64(model)
        self.pressure_model = None if pressure_model is None else _float64(pressure_model)

    def initial_state(self, batch: int) -> dict:
        """xi^0 = 0: {"xi": (B, k)} (and "xi_p": (B, k_p) of the pressure model)."""
        state = {"xi": np.zeros((int(batch), int(self.model.k)))}
        if self.pressure_model is not None:
            state["xi_p"] = np.zeros((int(batch), int(self.pressure_model.k)))
        return state

    def _stress(self, x, x_prev, dt, state):
        """(sigma components (B, 6) torch, new xi's) of one step of eq. (3)."""
        dt = torch.as_tensor(np.asarray(dt, float), dtype=torch.float64)  # scalar or (B,)
        s, xi = self.model.step(x, torch.as_tensor(state["xi"]), dt, x_prev)
        new = {"xi": xi}
        if self.pressure_model is not None:
            p, xi_p = self.pressure_model.step(x, torch.as_tensor(state["xi_p"]), dt, x_prev)
            new["xi_p"] = xi_p
            diag = torch.tensor([float(i == j) for i, j in component_names(3)], dtype=torch.float64)
            s = s - p * diag  # sigma = dev sigma - p I
        return s, new

    def _inputs(self, F_prev, F):
        return (torch.as_tensor(to_components(np.asarray(F, float))),
                torch.as_tensor(to_components(np.asarray(F_prev, float))))

    def update(self, F_prev, F, dt, state):
        """One step of the RNO(s) from x^(n-1) = F_prev to x^n = F (B, 3, 3): (sigma (B, 3, 3) MPa, new state)."""
        x, x_prev = self._inputs(F_prev, F)
        with torch.no_grad():
            s, new = self._stress(x, x_prev, dt, state)
        return from_components(s.numpy(), 3), {k: v.numpy() for k, v in new.items()}

    def tangent(self, F_prev, F, dt, state, new_state):
        """d sigma_ij/d F_kl (B, 3, 3, 3, 3) (MPa): d sigma/dx by autograd, placed at F_kl, k <= l (zero below the
        diagonal, which the model does not read)."""
        x, x_prev = self._inputs(F_prev, F)
        x = x.clone().requires_grad_(True)
        s, _ = self._stress(x, x_prev, dt, state)
        rows = [torch.autograd.grad(s[:, c].sum(), x, retain_graph=c < 5)[0] for c in range(6)]
        ds_dx = torch.stack(rows, 1).numpy()  # (B, 6 stress components, 6 inputs)
        names = component_names(3)
        out = np.zeros((x.shape[0], 3, 3, 3, 3))
        for c, (i, j) in enumerate(names):
            for d, (k, l) in enumerate(names):
                out[:, i, j, k, l] = ds_dx[:, c, d]
                out[:, j, i, k, l] = ds_dx[:, c, d]
        return out
