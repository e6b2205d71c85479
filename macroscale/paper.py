"""The paper's two macroscopic problems (Section 7, Figures 11 and 12) for any Material (the RNO in the workflow;
macroscale/ never imports it). Units: mm, s, MPa, tonne/mm^3 (N, mJ).

Taylor impact (Section 7.2, Figure 12): a Mg cylinder of height 5 mm and diameter 1 mm at 200 m/s on a rigid
frictionless wall; quarter model (symmetry planes x = 0, y = 0). Reported: the reaction force (the wall force of the
quarter times 4, N) against time, von Mises snapshots of the axial section y = 0 (the symmetry face), final length
and impact-face radius, the energy error, and the envelope fraction when an envelope is given.

Projectile on a plate (Section 7.1, Figure 11): a rigid flat-ended cylinder of radius 2 mm at 200 m/s on a Mg plate
of thickness 1 mm, simply supported far away: here a square plate of half-width ``half_width`` (default 4
projectile radii) on knife edges along its bottom edges, quarter model. The paper gives neither the projectile's
mass nor the plate's extent; the default mass is a steel cylinder of the projectile's radius and 10 mm length
(7.85e-9 t/mm^3; "heavy": about 30 times the quarter plate's mass under the punch footprint), stated as an
assumption.

Both use the artificial bulk viscosity of Abaqus/Explicit (the paper's solver) with its default coefficients
b1 = 0.06, b2 = 1.2 (explicit.Solid, docs/macroscale.md): it damps the ringing behind the impact shock.

Mg: density 1.74e-9 t/mm^3 (Mg, 1740 kg/m^3), Hill-average moduli mu = 17.30 GPa, kappa = 35.23 GPa for the stable
step (docs/taylor.md).
"""
from __future__ import annotations

import numpy as np
import torch

from .explicit import RigidProjectile, RigidWall, Solid, plane_mask, simply_supported, symmetry
from .hex8 import FACES
from .mesh import box, cylinder

MG = {"density": 1.74e-9, "mu": 17.30e3, "kappa": 35.23e3}  # t/mm^3, MPa
#: (b1, b2) of the artificial bulk viscosity (explicit.Solid): Abaqus/Explicit's defaults, the paper's solver
BULK_VISCOSITY = (0.06, 1.2)


def von_mises(sigma: np.ndarray) -> np.ndarray:
    """sqrt(3/2 s:s) (MPa) of Cauchy stresses (..., 3, 3), s the deviator."""
    s = np.asarray(sigma, float)
    dev = s - np.trace(s, axis1=-2, axis2=-1)[..., None, None] / 3 * np.eye(3)
    return np.sqrt(1.5 * (dev * dev).sum((-2, -1)))


def section_faces(mesh, axis: int = 1, value: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(element (m,), face nodes (m, 4)) of the element faces lying in the plane X[axis] = value (the section a
    symmetry plane shows)."""
    on = plane_mask(mesh.nodes, axis, value)
    faces = mesh.hexes[:, FACES]  # (ne, 6, 4)
    e, f = np.nonzero(on[faces].all(-1))
    return e, faces[e, f]


class Snapshots:
    """An ``on_record`` callback of Solid.run keeping the section (x, z of the faces on y = 0, current) and its
    elements' von Mises stress at the first recorded time >= each of ``times`` (s)."""

    def __init__(self, mesh, times):
        self.elements, self.faces = section_faces(mesh)
        self.times = sorted(float(t) for t in times)
        self.taken = []

    def __call__(self, rec: dict) -> None:
        if len(self.taken) < len(self.times) and rec["time"] >= self.times[len(self.taken)] * (1 - 1e-9):
            x = rec["x"].detach().cpu().numpy()
            poly = x[self.faces][..., [0, 2]]  # (m, 4, 2): x and z
            vm = von_mises(rec["stress"].detach().cpu().numpy()[self.elements])
            self.taken.append({"time": rec["time"], "polygons": poly.tolist(), "von_mises": vm.tolist()})


def _summary(solid: Solid, res: dict, snaps: Snapshots, scale: float) -> dict:
    e0 = float(res["kinetic"][0] + res.get("projectile_kinetic", np.zeros(1))[0])
    out = {"time": res["time"].tolist(), "energy_error": float(np.abs(res["energy_error"]).max() / e0),
           "hourglass_over_internal": float(res["hourglass"].max() / max(res["internal"].max(), 1e-300)),
           "elements": solid.mesh.n_elements, "steps": int(res["n_steps"]), "wall_seconds": res["wall_seconds"],
           "material_seconds": res["material_seconds"], "snapshots": snaps.taken, "symmetry_factor": scale}
    if "envelope" in res:
        out["envelope"] = {k: float(res["envelope"][k]) for k in ("fraction_ever", "fraction_point_steps")}
        out["outside_fraction"] = res["outside_fraction"].tolist()
    return out


def taylor_impact(material, *, moduli=(MG["kappa"], MG["mu"]), density: float = MG["density"],
                  height: float = 5.0, diameter: float = 1.0, velocity: float = 2e5, t_end: float = 10e-6,
                  mesh=(2, 2, 20), dt: float | None = None, safety: float = 0.9, snapshot_times=(),
                  envelope=None, record_every: int = 1, bulk_viscosity=BULK_VISCOSITY) -> dict:
    """The Taylor impact of Figure 12 (module docstring): history (time s, reaction force N and axial momentum
    t mm/s of the whole bar),
    snapshots of the section, final length and impact-face radius (mm), energy error (relative to the initial
    kinetic energy), hourglass over internal energy; dt: a fixed step (s) for the time-resolution study."""
    m = cylinder(0.5 * diameter, height, *mesh, quarter=True)
    solid = Solid(m, material, density, moduli=moduli, fixed=symmetry(m.nodes, [(0, 0.0), (1, 0.0)]),
                  wall=RigidWall((0, 0, 0), (0, 0, 1)), bulk_viscosity=bulk_viscosity)
    snaps = Snapshots(m, snapshot_times)
    res = solid.run((0, 0, -velocity), t_end, dt=dt, safety=safety, envelope=envelope, on_record=snaps,
                    record_every=record_every)
    face = plane_mask(m.nodes, 2, 0.0)
    out = _summary(solid, res, snaps, 4.0)
    out.update({"reaction_force": (4.0 * res["wall_force"]).tolist(),
                "momentum": (4.0 * res["momentum"][:, 2]).tolist(), "length": float(res["x"][:, 2].max()),
                "radius": float(np.hypot(res["x"][face, 0], res["x"][face, 1]).max()),
                "dt": float(np.median(res["dt"]))})
    return out


def plate_impact(material, *, moduli=(MG["kappa"], MG["mu"]), density: float = MG["density"],
                 thickness: float = 1.0, projectile_radius: float = 2.0, half_width: float | None = None,
                 velocity: float = 2e5, mass: float | None = None, t_end: float = 4e-6, element: float = 0.25,
                 layers: int = 4, snapshot_times=(), envelope=None, record_every: int = 1,
                 bulk_viscosity=BULK_VISCOSITY) -> dict:
    """The projectile impact of Figure 11 (module docstring): a quarter plate half_width x half_width x thickness
    (mm) in elements of about ``element`` mm in plane and ``layers`` through the thickness, simply supported on its
    bottom edges; a flat projectile of radius projectile_radius and ``mass`` (tonne, default: the steel cylinder of
    the module docstring) at ``velocity`` (mm/s). History: time, projectile velocity (mm/s, along -z) and contact
    force (N, whole), snapshots of the section y = 0, energy error, hourglass over internal energy."""
    W = 4.0 * projectile_radius if half_width is None else float(half_width)
    n = max(int(round(W / element)), 1)
    m = box((W, W, thickness), (n, n, int(layers)))
    fixed = symmetry(m.nodes, [(0, 0.0), (1, 0.0)]) | simply_supported(m.nodes, 2, 0.0, [(0, W), (1, W)])
    full_mass = 7.85e-9 * np.pi * projectile_radius ** 2 * 10.0 if mass is None else float(mass)
    proj = RigidProjectile((0.0, 0.0, thickness), (0, 0, 1), projectile_radius, full_mass / 4.0,
                           (0.0, 0.0, -velocity))
    solid = Solid(m, material, density, moduli=moduli, fixed=fixed, projectile=proj, bulk_viscosity=bulk_viscosity)
    snaps = Snapshots(m, snapshot_times)
    res = solid.run((0.0, 0.0, 0.0), t_end, envelope=envelope, on_record=snaps, record_every=record_every)
    out = _summary(solid, res, snaps, 4.0)
    out.update({"projectile_velocity": (-res["projectile_velocity"][:, 2]).tolist(),
                "contact_force": (4.0 * res["projectile_force"]).tolist(), "mass": full_mass,
                "thickness": thickness, "half_width": W, "velocity": velocity,
                "max_deflection": float(-(res["x"][:, 2] - m.nodes[:, 2]).min())})
    return out


def _to_tensor_free(obj):
    """JSON-ready copy (numpy scalars and arrays to Python)."""
    if isinstance(obj, dict):
        return {k: _to_tensor_free(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_tensor_free(v) for v in obj]
    if isinstance(obj, (np.ndarray, torch.Tensor)):
        return np.asarray(obj).tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


json_ready = _to_tensor_free
