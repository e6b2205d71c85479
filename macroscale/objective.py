"""A material defined on symmetric deformation gradients (F = U, no rotation: the Taylor Mg data and an RNO trained
on them, which reads only the upper triangle of F) made objective for the macroscopic solver. Units: MPa, s.

Polar decomposition F = R U (U = sqrt(F^T F) symmetric positive definite, R = F U^-1 a rotation); the wrapped
material integrates the stretch history U and its stress is rotated to the current configuration:

    sigma(F) = R sigma_U(U) R^T

This is the corotational frame an Abaqus/Explicit VUMAT works in (it receives the stretch U and returns the stress
in the frame rotated by R), the interface through which the paper used the RNO (Section 7). For a material that is
already objective (isotropic hyperelastic: mechanics.mixed_bc.NeoHookean) the wrapper changes nothing.
"""
from __future__ import annotations

import numpy as np

from mechanics.tensor import transpose


def polar(F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(R, U) of F = R U (..., 3, 3), det F > 0: U = V sqrt(w) V^T from the eigen-pairs (w, V) of F^T F."""
    F = np.asarray(F, float)
    w, V = np.linalg.eigh(transpose(F) @ F)
    s = np.sqrt(w)
    U = (V * s[..., None, :]) @ transpose(V)
    U_inv = (V / s[..., None, :]) @ transpose(V)
    return F @ U_inv, 0.5 * (U + transpose(U))


class _Wrapped:
    """A Material that wraps ``self.material``: its state and attributes (kappa, mu, ...) are the material's."""

    def __getattr__(self, name):
        if name == "material":
            raise AttributeError(name)
        return getattr(self.material, name)

    def initial_state(self, batch: int) -> dict:
        return self.material.initial_state(batch)


class Corotational(_Wrapped):
    """``material`` (a mechanics.mixed_bc.Material on symmetric F) as an objective Material: update(F_prev, F)
    steps the material from U_prev to U and returns R sigma R^T. Attributes (kappa, mu) are the material's."""

    def __init__(self, material):
        self.material = material

    def update(self, F_prev, F, dt, state):
        """(R sigma(U) R^T (B, 3, 3) MPa, new state) of the step U_prev -> U of the stretches of F_prev, F."""
        _, U_prev = polar(F_prev)
        R, U = polar(F)
        sigma, new_state = self.material.update(U_prev, U, dt, state)
        return R @ np.asarray(sigma, float) @ transpose(R), new_state


class TimeScaled(_Wrapped):
    """``material`` run on a stretched clock: update(F_prev, F, dt) steps it over ``factor`` * dt (s). The explicit
    time-scale mapping of a rate-dependent law trained at other rates (issue 18, item 3): the Mg RNO was trained
    on 200 s paths (strain rates about 1e-4 to 1e-2 /s) while an impact strains at about 1e4 /s, so factor = 1e6
    maps the impact's rates onto the top of the training range. This assumes the response at impact rates equals
    the one at the mapped rates (rate sensitivity ignored between them): it keeps the internal variables evolving
    as in training instead of freezing them (dt ~ 1e-9 s would leave xi unchanged: an elastic response), and it is
    a modelling choice to report, not physics. Attributes (kappa, mu) are the material's."""

    def __init__(self, material, factor: float):
        if not factor > 0:
            raise ValueError(f"TimeScaled: factor must be positive, got {factor}")
        self.material, self.factor = material, float(factor)

    def update(self, F_prev, F, dt, state):
        """The material's update over factor * dt: (Cauchy stress (B, 3, 3) MPa, new state)."""
        return self.material.update(F_prev, F, self.factor * np.asarray(dt, float), state)
