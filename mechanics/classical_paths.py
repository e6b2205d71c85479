"""The classical loading paths of the paper's Figure 9 as mixed-boundary-condition controls for
``mechanics.mixed_bc.drive``: uniaxial tension, cavity expansion and uniaxial cyclic loading. Units: s, 1/s, MPa.

Each control is (F_target, sigma_target, stress_mask) (B, n_time, 6) in the driver's component order (11, 12, 13,
22, 23, 33); strains are logarithmic. Every path runs at one von Mises equivalent strain rate ``rate`` (1/s), the
rate of the training data (``RATE``), on a uniform grid of the training data's step dt (``classical_time``).

* uniaxial tension (``uniaxial_tension``): eps_11 = rate t prescribed through F_11 = exp(eps_11); the other five
  Cauchy stress components are zero (mixed_bc.uniaxial_stress).
* cavity expansion (``cavity_expansion``): the material point at the wall of a spherical cavity expanding in an
  infinite incompressible medium (Bishop, Hill & Mott 1945, Proc. Phys. Soc. 57:147, Section 2; Hill 1950, The
  Mathematical Theory of Plasticity, Oxford, Ch. V.3). Incompressibility gives r^3 - a^3 = r0^3 - a0^3 for the
  material at r0 (cavity radius a0 -> a), so at the wall the hoop stretches are lambda = a/a0 and the radial stretch
  is dr/dr0 = (r0/r)^2 = lambda^-2: in the local basis (radial, hoop, hoop) = (1, 2, 3), F = diag(lambda^-2,
  lambda, lambda), the same for any constitutive law, which is why it defines the path. The von Mises equivalent
  log strain is 2 ln lambda, so ln lambda = rate t / 2. All six components of F are prescribed (no shear): the
  kinematics of the wall is the definition of the path. (Prescribing only the normal components with zero shear
  stresses, as spherical symmetry gives for an isotropic material, lets an aggregate of few grains shear: with the
  16 grains of the default taylor_mg case det F fell to 0.9985 at ln lambda = 0.15, a spurious pressure of
  ~50 MPa.) The radial stress is compressive (the cavity pressure), the hoop stresses tensile; the path is
  isochoric (det F = 1), as the training paths nearly are.
* uniaxial cyclic loading (``uniaxial_cyclic``): uniaxial stress as above with eps_11 a triangle wave of amplitude
  ``amplitude`` at |d eps_11/dt| = rate, starting in tension: 0 -> a -> -a -> a ...

Defaults (``RATE``, ``EPS_MAX``, ``AMPLITUDES``) and why: the taylor_mg sampler (paper Section 2 with
volumetric 0.1; 400 paths) has von Mises strain rates of 2.3e-3 / 4.4e-3 / 9.9e-3 1/s (5 / 50 / 95 %, mean 5.1e-3;
taylor.uniaxial.SAMPLER_RATE = 5e-3) and a largest equivalent strain per path of 0.24 / 0.33 / 0.47 (10 / 50 /
90 %). So rate = 5e-3 1/s, and each path covers an equivalent strain travel of EPS_MAX = 0.3 (T = EPS_MAX / rate =
60 s): tension to 0.3, cavity expansion to lambda = exp(0.15), cycles at amplitudes 0.025, 0.05, 0.075 (3, 1.5 and 1
cycles).
"""
from __future__ import annotations

import numpy as np

from .mixed_bc import COMPONENTS, to_components, uniaxial_stress

#: 1/s, von Mises equivalent strain rate of every classical path (module docstring)
RATE = 5e-3
#: equivalent strain travelled by every classical path (T = EPS_MAX / RATE)
EPS_MAX = 0.3
#: amplitudes (log strain) of the cyclic paths
AMPLITUDES = (0.025, 0.05, 0.075)
#: the path names, in the order of ``classical_controls`` (cyclic paths get their amplitude appended)
KINDS = ("uniaxial", "cavity", "cyclic")


def classical_time(dt: float, rate: float = RATE, eps_max: float = EPS_MAX) -> np.ndarray:
    """Uniform grid (s) from 0 to T = eps_max / rate with step dt (rounded so that it divides T)."""
    T = float(eps_max) / float(rate)
    n = max(1, int(round(T / float(dt))))
    return np.linspace(0.0, T, n + 1)


def uniaxial_tension(time, rate: float = RATE):
    """Control (F_target, sigma_target, stress_mask) (1, n_time, 6): eps_11 = rate t, uniaxial Cauchy stress."""
    return uniaxial_stress(float(rate) * np.asarray(time, float)[None, :], axis=0)


def triangle(time, rate: float, amplitude: float) -> np.ndarray:
    """eps(t) (n_time,): triangle wave 0 -> a -> -a -> a ... with |d eps/dt| = rate, starting upwards."""
    s = float(rate) * np.asarray(time, float) / float(amplitude)  # travel in units of the amplitude
    phase = np.mod(s + 1.0, 4.0)  # 0..4 from the trough, shifted so that s = 0 is at eps = 0 going up
    return float(amplitude) * np.where(phase <= 2.0, phase - 1.0, 3.0 - phase)


def uniaxial_cyclic(time, rate: float = RATE, amplitude: float = 0.05):
    """Control (1, n_time, 6): uniaxial stress with eps_11 = triangle(time, rate, amplitude)."""
    return uniaxial_stress(triangle(time, rate, amplitude)[None, :], axis=0)


def cavity_expansion(time, rate: float = RATE):
    """Control (1, n_time, 6): F = diag(lambda^-2, lambda, lambda) with ln lambda = rate t / 2, all six components
    of F prescribed (module docstring)."""
    ln_l = 0.5 * float(rate) * np.asarray(time, float)
    F = np.broadcast_to(to_components(np.eye(3)), (1, ln_l.size, 6)).copy()
    F[0, :, COMPONENTS.index((0, 0))] = np.exp(-2.0 * ln_l)
    F[0, :, COMPONENTS.index((1, 1))] = np.exp(ln_l)
    F[0, :, COMPONENTS.index((2, 2))] = np.exp(ln_l)
    return F, np.zeros((1, ln_l.size, 6)), np.zeros((1, ln_l.size, 6), bool)


def path_names(amplitudes=AMPLITUDES) -> list[str]:
    """["uniaxial", "cavity", "cyclic_0.025", ...]: one name per path of ``classical_controls``."""
    return ["uniaxial", "cavity"] + [f"cyclic_{a:g}" for a in amplitudes]


def kind_of(name: str) -> str:
    """The kind (KINDS) of a path name: "cyclic_0.05" -> "cyclic"."""
    kind = name.split("_")[0]
    if kind not in KINDS:
        raise ValueError(f"classical_paths: unknown path {name!r}")
    return kind


def classical_controls(time, rate: float = RATE, amplitudes=AMPLITUDES):
    """(names, F_target, sigma_target, stress_mask) of all classical paths on ``time``: uniaxial tension, cavity
    expansion, then one cyclic path per amplitude; arrays (B, n_time, 6), B = 2 + len(amplitudes)."""
    parts = [uniaxial_tension(time, rate), cavity_expansion(time, rate)]
    parts += [uniaxial_cyclic(time, rate, a) for a in amplitudes]
    return (path_names(amplitudes), *(np.concatenate([p[i] for p in parts]) for i in range(3)))
