"""Set-ups of the impact problems (issue 18): the copper Taylor bar of the validation and its measures. Units: mm, s,
MPa, tonne/mm^3.

Copper Taylor bar (bilinear J2 hardening, rigid frictionless wall): L0 = 32.4 mm, R0 = 3.2 mm, V = 227 m/s,
E = 117 GPa, nu = 0.35, rho = 8930 kg/m^3, sigma_y = 400 MPa, hardening modulus 100 MPa, run to 80 us. The classic
benchmark of explicit codes (problem statement as in the ANSYS Mechanical APDL Technology Demonstration Guide,
Ch. 17 "Impact of a Metal Bar on a Rigid Wall"); the widely used result (issue 18): final length about 21.4 mm,
mushroom (impact-face) radius about 7 mm.

The bilinear law is mechanics.johnson_cook.JohnsonCook with A = sigma_y, B = the hardening modulus, n = 1, C = 0:
sigma_y(eps_p) = 400 + 100 eps_p MPa exactly (isothermal, rate independent; finite-strain J2 with a Hencky elastic
law and the exponential-map radial return). "Hardening modulus" is read as the plastic modulus H = d sigma_y /
d eps_p; were it the tangent modulus E_t of the bilinear stress-strain curve, H = E E_t / (E - E_t) = 100.09 MPa,
0.09 % more (immaterial here).
"""
from __future__ import annotations

import numpy as np

from mechanics.johnson_cook import JohnsonCook

from . import explicit, mesh

#: copper bar of the validation: geometry (mm), speed (mm/s), elastic constants (MPa), density (t/mm^3), yield and
#: hardening (MPa), end time (s)
COPPER = {"length": 32.4, "radius": 3.2, "velocity": 227e3, "E": 117e3, "nu": 0.35, "density": 8.93e-9,
          "yield": 400.0, "hardening": 100.0, "t_end": 80e-6}
#: the widely used result (issue 18): final length and mushroom radius (mm)
COPPER_REFERENCE = {"length": 21.4, "radius": 7.0}


def copper_material() -> JohnsonCook:
    """Bilinear J2 copper: JohnsonCook(A = 400, B = 100, n = 1, C = 0) with mu, kappa of E = 117 GPa, nu = 0.35."""
    E, nu = COPPER["E"], COPPER["nu"]
    return JohnsonCook(mu=E / (2 * (1 + nu)), kappa=E / (3 * (1 - 2 * nu)), A=COPPER["yield"],
                       B=COPPER["hardening"], n=1.0, C=0.0, eps_dot_0=1.0)


def taylor_bar(n_core: int, n_radial: int, n_axial: int, material=None, *, density: float = COPPER["density"],
               radius: float = COPPER["radius"], length: float = COPPER["length"], bias: float = 1.0,
               hourglass: float = 0.05, moduli=None, device="cpu") -> explicit.Solid:
    """A quarter bar (mesh.cylinder, symmetry planes x = 0 and y = 0) standing on the rigid frictionless wall z = 0,
    of ``material`` (default: the bilinear copper); velocity is given to ``Solid.run``."""
    m = mesh.cylinder(radius, length, n_core, n_radial, n_axial, quarter=True, bias=bias)
    fixed = explicit.symmetry(m.nodes, [(0, 0.0), (1, 0.0)])
    return explicit.Solid(m, copper_material() if material is None else material, density, moduli=moduli,
                          hourglass=hourglass, fixed=fixed, wall=explicit.RigidWall((0, 0, 0), (0, 0, 1)),
                          device=device)


def taylor_measures(solid: explicit.Solid, result: dict) -> dict:
    """Final length (largest z, mm) and mushroom radius (largest distance from the axis of the nodes that started
    on the impact face z = 0, mm) of a Taylor bar run, with the energy check: energy_error and hourglass energy
    relative to the initial kinetic energy and to the internal energy, the kinetic energy left, max eps_p."""
    x = result["x"]
    face = explicit.plane_mask(solid.mesh.nodes, 2, 0.0)
    K0 = float(result["kinetic"][0])
    out = {"length": float(x[:, 2].max()), "radius": float(np.hypot(x[face, 0], x[face, 1]).max()),
           "energy_error": float(np.abs(result["energy_error"]).max() / K0),
           "hourglass_over_internal": float(result["hourglass"][-1] / result["internal"][-1]),
           "kinetic_left": float(result["kinetic"][-1] / K0), "steps": int(result["n_steps"]),
           "dt_min": float(result["dt"].min()), "elements": int(solid.mesh.n_elements)}
    if "eps_p" in result["state"]:
        out["eps_p_max"] = float(np.max(result["state"]["eps_p"]))
    return out
