"""The Taylor-averaged magnesium polycrystal (taylor.magnesium, paper Section 5.2) as a material point of the
mixed-boundary-condition driver (``mechanics.mixed_bc.Material``), so that it can run the classical paths. Units:
MPa, s.

The producer (``magnesium.taylor_paths``) solves whole F paths, but it is a loop over time steps of
``mechanics.crystal.update`` on all grains of all samples; this adapter is that loop body, unchanged: one step of
every grain with the common F (Taylor), the macroscopic Cauchy stress sigma = <P> F^T / det F. Its state is the
crystal state of every grain, arrays (B, G, ...). On the same F path (and tol) it gives the producer's stress
(tests/test_mixed_bc.py). A point with a grain that did not converge (after the crystal's cut-back) gets NaN stress
(a failed update for the driver).

Tangent: with exact_tangent=True the material offers the grain average of the crystal's consistent tangent dP/dF
(``crystal.tangent``, torch; exact for steps that converged without sub-stepping) turned into dsigma/dF. It is off
by default: the driver's forward differences (all grains x paths x 5 perturbations in one compiled batch) were ~10x
cheaper (8 grains, uniaxial tension and compression to 10 %, 20 steps: 0.3-0.6 CPU s with differences, 5.1 s with
the torch tangent, about the same iterations).
"""
from __future__ import annotations

import numpy as np

from dataset.case import Case
from mechanics import crystal, elasticity, slip
from mechanics.mixed_bc import cauchy_tangent
from mechanics.tensor import cauchy, inv, transpose

from . import magnesium


class TaylorMaterial:
    """G grains with Schmid tensors schmid (G, N, 3, 3) (sample frame) and crystal ``params``; tol goes to
    ``crystal.update`` (the producer's case default is 1e-6; 1e-8 keeps the macroscopic stress noise well below a
    mixed-BC tolerance of 1e-6 relative); exact_tangent: offer ``tangent`` (module docstring)."""

    def __init__(self, schmid, params: crystal.Params, tol: float = 1e-8, exact_tangent: bool = False):
        self.schmid = np.asarray(schmid, float)
        if self.schmid.ndim != 4 or self.schmid.shape[1:] != (params.n_systems, 3, 3):
            raise ValueError(f"TaylorMaterial: schmid must be (G, {params.n_systems}, 3, 3), got {self.schmid.shape}")
        self.params, self.tol = params, float(tol)
        if exact_tangent:
            self.tangent = self.consistent_tangent

    @classmethod
    def from_case(cls, case: Case, tol: float | None = None, exact_tangent: bool = False) -> "TaylorMaterial":
        """The material and texture of a taylor_mg case (``magnesium.material``, ``magnesium.texture``); tol: the
        case's unless given."""
        _, Q = magnesium.texture(case)
        b, n, _, _ = slip.hcp_systems()
        return cls(slip.schmid_tensors(b, n, Q), magnesium.material(case),
                   float(case.config["tol"]) if tol is None else tol, exact_tangent)

    @property
    def n_grains(self) -> int:
        return self.schmid.shape[0]

    def initial_state(self, batch: int) -> dict:
        """crystal.initial_state of (batch, G) grains."""
        return crystal.initial_state((int(batch), self.n_grains), 3, self.params.n_systems)

    def update(self, F_prev, F, dt, state):
        """One implicit step of every grain to the common F (B, 3, 3): (sigma = <P> F^T/det F (B, 3, 3) MPa, new
        state); NaN rows where a grain did not converge."""
        F = np.asarray(F, float)
        P, new, conv = crystal.update(F[:, None], state, dt, self.schmid, self.params, tol=self.tol)
        sigma = cauchy(P.mean(1), F)
        sigma[~conv.all(1)] = np.nan
        return sigma, new

    def consistent_tangent(self, F_prev, F, dt, state, new_state):
        """d sigma/dF (B, 3, 3, 3, 3) (MPa) from the grain mean of the consistent tangent dP/dF."""
        F = np.asarray(F, float)
        A = crystal.tangent(F[:, None], state, new_state, dt, self.schmid, self.params).mean(1)
        Fp_inv = inv(new_state["Fp"])
        P = (elasticity.stress(F[:, None] @ Fp_inv, self.params.mu, self.params.kappa) @ transpose(Fp_inv)).mean(1)
        return cauchy_tangent(P, A, F)
