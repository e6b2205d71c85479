"""Explicit central-difference, total-Lagrangian, finite-strain solid dynamics with 8-node one-point hexahedra
(macroscale.hex8), any ``mechanics.mixed_bc.Material`` as the constitutive law, symmetry planes, fixed velocity
components and a rigid frictionless wall (kinematic contact). torch, float64, vectorised over elements and nodes;
runs on the device of its tensors (the material update is numpy: F goes to the CPU and the stress comes back).

Units: mm, s, MPa (N/mm^2), tonne/mm^3 => force N, energy N mm = mJ, velocity mm/s (1 m/s = 1e3 mm/s); time in s
and stress in MPa, as the materials of mechanics/ (steel: rho = 7.85e-9 t/mm^3).

Equations (docs/macroscale.md). Per element e, with the reference mean gradient Bbar (macroscale.hex8):

    F_e = sum_a x_a (x) Bbar_a,    P_e = det(F_e) sigma_e F_e^-T,    f^int_a = sum_e V0_e P_e Bbar_a
    f^hg_a = sum_e k_e sum_alpha q_e,alpha gamma_a,alpha,   q_e,alpha = sum_b u_b gamma_b,alpha   (stiffness form)
    k_e = kappa_hg (K + 4/3 G) V0_e Bbar_e : Bbar_e

(sigma_e: the Cauchy stress the material returns for F_e, once per element and step; the hourglass resistance is
the "stiffness" form of Flanagan & Belytschko 1981, IJNME 17:679, written on the total hourglass displacement q of
the reference configuration, as befits a total-Lagrangian code.) Central difference
(Belytschko, Liu & Moran 2000, Box 6.1, half-step velocities, variable dt):

    M a^n = -(f^int,n + f^hg,n) + f^c,n,   v^(n+1/2) = v^(n-1/2) + dt^n a^n,   x^(n+1) = x^n + dt^(n+1/2) v^(n+1/2)
    dt^n = (dt^(n-1/2) + dt^(n+1/2))/2   (dt^0 = dt^(1/2)/2, v^(-1/2) = v^0)

Wall (point p, unit normal n into the body's side, frictionless, kinematic): a node whose predicted x^(n+1) lies
behind the wall, g = (x^(n+1) - p).n < 0, is put back on it, x^(n+1) -= g n and v^(n+1/2) -= g/dt^(n+1/2) n; that
is the contact force f^c,n = -m g n / (dt^(n+1/2) dt^n) (compressive only: it never pulls). The wall force is
sum_a f^c,n_a . n (N).

Rigid projectile (RigidProjectile: a flat (edge-rounded) or hemisphere-nosed cylinder, translation only, mass M),
penalty contact: a node at depth d_a >= 0 inside it (outward direction n_a) at t^n gets f^p_a = k_a d_a n_a,
k_a = penalty m_a / dt0^2, and the projectile -sum_a f^p_a; both bodies take the same central-difference step,
V^(n+1/2) = V^(n-1/2) + dt^n (-sum_a f^p_a)/M, tip^(n+1) = tip^n + dt^(n+1/2) V^(n+1/2). The force pair is equal and
opposite, so momentum is exchanged exactly; the penalty energy 1/2 sum_a k_a d_a^2 is stored (conservative).
Simply supported edges: ``simply_supported`` (the normal velocity component held at zero on support lines).

Energies at t^n (mJ): kinetic 1/2 m v^(n-1/2).v^(n+1/2) (1/2 m |v^0|^2 at t = 0; the kinetic part of the energy
the central difference conserves exactly for a linear system at constant dt (derivation in docs/macroscale.md);
it differs from 1/2 m |v^n|^2, v^n = (v^(n-1/2) + v^(n+1/2))/2, by O(dt^2)), internal W^n = sum of
1/2 V0 (P^n + P^(n+1)) : (F^(n+1) - F^n) (the stress power integrated by the trapezoid rule: stored plus
dissipated), hourglass 1/2 k q.q (stored), contact = minus the work of f^c, sum_n dt^n f^c,n . (v^(n-1/2) +
v^(n+1/2))/2 = the kinetic energy the wall took (a kinematic constraint stops the impacting nodes
inelastically). Balance: kinetic + internal + hourglass + contact = the initial kinetic energy (exactly for a linear
elastic body at constant dt between contact events, else to O(dt^2); measured in docs/macroscale.md).

Stable time step: dt = safety * min_e L_e / c, c = sqrt((K + 4/3 G)/rho) the dilatational wave speed, L_e = current
volume / largest current face area (hex8). K, G (MPa): ``moduli``, else the material's ``kappa`` and ``mu``
(mechanics.mixed_bc.NeoHookean, mechanics.johnson_cook.JohnsonCook); an RNO adapter must give ``moduli``.
"""
from __future__ import annotations

import importlib.util
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mechanics.tensor import det, inv, transpose

from .hex8 import FACES, Geometry
from .mesh import Mesh


class MacroscaleError(RuntimeError):
    """A failed step: inverted elements or a failed material update."""


@dataclass(frozen=True)
class RigidWall:
    """A rigid frictionless plane through ``point`` (mm) with unit ``normal`` pointing into the body's side."""

    point: tuple
    normal: tuple


@dataclass(frozen=True)
class RigidProjectile:
    """A rigid blunt projectile (translation only) with penalty contact: a cylinder of ``radius`` (mm) and
    ``length`` (mm, default 2 radius) whose front face is centred at ``tip`` (mm) at t = 0, its unit ``axis``
    pointing from the front face into the projectile (against its motion); ``mass`` (tonne), ``velocity`` (3,) mm/s
    at t = 0. nose: "flat" (a flat-ended punch whose edge is rounded with ``edge`` mm, default 0.05 radius, so the
    depth is continuous when a node slides off the edge) or "hemisphere" (edge = radius). penalty (dimensionless):
    the contact stiffness of node a is k_a = penalty m_a / dt0^2 (N/mm), dt0 the first time step, so a contacting
    node's frequency is sqrt(penalty)/dt0."""

    tip: tuple
    axis: tuple
    radius: float
    mass: float
    velocity: tuple
    nose: str = "flat"
    penalty: float = 0.2
    length: float | None = None
    edge: float | None = None

    def __post_init__(self):
        if self.nose not in ("flat", "hemisphere"):
            raise ValueError(f"RigidProjectile: nose must be 'flat' or 'hemisphere', got {self.nose!r}")
        if not (self.radius > 0 and self.mass > 0 and 0 < self.penalty <= 0.5):
            raise ValueError(f"RigidProjectile: need radius > 0, mass > 0, 0 < penalty <= 0.5; got {self.radius}, "
                             f"{self.mass}, {self.penalty}")
        if self.edge is not None and not 0 < self.edge <= self.radius:
            raise ValueError(f"RigidProjectile: need 0 < edge <= radius, got {self.edge}")

    @property
    def edge_radius(self) -> float:
        """The rounding of the front edge (mm): radius for a hemisphere, else ``edge`` or 0.05 radius."""
        if self.nose == "hemisphere":
            return float(self.radius)
        return float(self.edge) if self.edge is not None else 0.05 * float(self.radius)

    def penetration(self, x: torch.Tensor, tip: torch.Tensor):
        """(d (nn,) mm >= 0, n (nn, 3)) of the nodes x (nn, 3) against the projectile with its front face at tip
        (3,): d the depth inside it (0 outside), n the unit outward normal of its surface at the nearest point (the
        direction the node is pushed). The nose is the set within ``edge_radius`` e of the semi-infinite cylinder
        of radius R - e whose face lies e behind tip; in the axial coordinate s (behind the front face) and the
        radius r, q = (r - (R - e), e - s) and d = e - |max(q, 0)| - min(max(q_r, q_s), 0) (the signed distance of a
        rounded cylinder). Points more than ``length`` behind the front face are not in contact."""
        a = torch.as_tensor(np.asarray(self.axis, float) / np.linalg.norm(self.axis), dtype=x.dtype, device=x.device)
        R, e = float(self.radius), self.edge_radius
        L = float(self.length) if self.length is not None else 2.0 * R
        rel = x - tip
        s = rel @ a  # (nn,) mm behind the front face
        radial = rel - s[:, None] * a
        r = radial.norm(dim=1)
        e_r = radial / r.clamp_min(1e-300)[:, None]
        q_r, q_s = r - (R - e), e - s
        out_r, out_s = q_r.clamp_min(0.0), q_s.clamp_min(0.0)
        dist = torch.sqrt(out_r ** 2 + out_s ** 2)
        inner = torch.minimum(torch.maximum(q_r, q_s), torch.zeros_like(q_r))
        d = e - dist - inner
        d = torch.where((d > 0) & (s < L), d, torch.zeros_like(d))
        # outward normal: along (out_r, out_s) outside the inner cylinder, else along its nearest face
        g_r = torch.where(dist > 0, out_r / dist.clamp_min(1e-300), (q_r >= q_s).to(x.dtype))
        g_s = torch.where(dist > 0, out_s / dist.clamp_min(1e-300), (q_r < q_s).to(x.dtype))
        n = g_r[:, None] * e_r - g_s[:, None] * a
        return d, n


def simply_supported(nodes, axis: int, value: float, edges, tol: float = 1e-9) -> np.ndarray:
    """(nn, 3) bool: the ``axis`` velocity component held at zero on the nodes of the face X[axis] = value that lie
    on any of the ``edges`` [(axis_e, value_e), ...] (planes X[axis_e] = value_e): a plate on knife-edge supports,
    free to rotate and to slide in its plane."""
    on_face = plane_mask(nodes, axis, value, tol)
    on_edge = np.zeros(len(nodes), bool)
    for ax, val in edges:
        on_edge |= plane_mask(nodes, ax, val, tol)
    fixed = np.zeros((len(nodes), 3), bool)
    fixed[on_face & on_edge, axis] = True
    return fixed


def plane_mask(nodes, axis: int, value: float = 0.0, tol: float = 1e-9) -> np.ndarray:
    """(nn,) bool: the nodes with X[axis] = value (to tol relative to the mesh size)."""
    nodes = np.asarray(nodes, float)
    return np.abs(nodes[:, axis] - value) <= tol * max(float(np.ptp(nodes, 0).max()), 1.0)


def symmetry(nodes, planes) -> np.ndarray:
    """(nn, 3) bool mask of fixed velocity components of the symmetry planes ``planes`` [(axis, value), ...]: the
    normal component of the nodes on each plane."""
    fixed = np.zeros((len(nodes), 3), bool)
    for axis, value in planes:
        fixed[plane_mask(nodes, axis, value), axis] = True
    return fixed


class Solid:
    """A body of hexahedra (``mesh``) made of ``material`` (a mechanics.mixed_bc.Material) of ``density``
    (tonne/mm^3). moduli: (K, G) MPa for the wave speed (default: material.kappa, material.mu); hourglass: kappa_hg
    (dimensionless, small; default 0.05); fixed: (nn, 3) bool, velocity components held at zero
    (symmetry planes, fixed nodes); wall: a RigidWall or None; projectile: a RigidProjectile or None;
    bulk_viscosity: (b1, b2) of the artificial bulk viscosity (``_bulk_viscosity``; Abaqus/Explicit's defaults are
    (0.06, 1.2)) or None (off, the default)."""

    def __init__(self, mesh: Mesh, material, density: float, *, moduli=None, hourglass: float = 0.05,
                 fixed=None, wall: RigidWall | None = None,
                 projectile: RigidProjectile | None = None, bulk_viscosity=None, dtype=torch.float64,
                 device="cpu"):
        if moduli is None:
            if not (hasattr(material, "kappa") and hasattr(material, "mu")):
                raise ValueError("Solid: give moduli=(K, G) (MPa) for a material without kappa and mu")
            moduli = (material.kappa, material.mu)
        self.K, self.G = (float(m) for m in moduli)
        if not (density > 0 and self.K > 0 and self.G >= 0 and hourglass >= 0):
            raise ValueError(f"Solid: need density > 0, K > 0, G >= 0, hourglass >= 0; got {density}, {moduli}, "
                             f"{hourglass}")
        self.mesh, self.material, self.density = mesh, material, float(density)
        self.opts = {"dtype": dtype, "device": device}
        self.geometry = g = Geometry(mesh.nodes, mesh.hexes, dtype, device)
        self.mass = self.density * g.lumped  # (nn,) tonne
        self.wave_speed = float(np.sqrt((self.K + 4.0 * self.G / 3.0) / self.density))  # mm/s
        self.hourglass_stiffness = hourglass * (self.K + 4.0 * self.G / 3.0) * g.volume \
            * (g.gradient ** 2).sum((1, 2))  # (ne,) N/mm
        fixed = np.zeros((mesh.n_nodes, 3), bool) if fixed is None else np.asarray(fixed, bool)
        if fixed.shape != (mesh.n_nodes, 3):
            raise ValueError(f"Solid: fixed must be ({mesh.n_nodes}, 3) bool, got {fixed.shape}")
        self.free = torch.as_tensor(~fixed, dtype=dtype, device=device)
        self.wall, self.projectile = wall, projectile
        self.bulk_viscosity = None if bulk_viscosity is None else tuple(float(b) for b in bulk_viscosity)
        if self.bulk_viscosity is not None and not (len(self.bulk_viscosity) == 2 and min(self.bulk_viscosity) >= 0):
            raise ValueError(f"Solid: bulk_viscosity must be (b1, b2) >= 0, got {bulk_viscosity}")
        self._rate_vol = None  # (ne,) 1/s: the volumetric strain rate of the last step (bulk viscosity)
        self.material_seconds = 0.0
        if wall is not None:
            n = np.asarray(wall.normal, float)
            self._wall_normal = torch.as_tensor(n / np.linalg.norm(n), **self.opts)
            self._wall_point = torch.as_tensor(np.asarray(wall.point, float), **self.opts)

    # ------------------------------------------------------------------------------------------ element kernels

    def tensor(self, a) -> torch.Tensor:
        """``a`` (array or tensor) as a tensor of the solid's dtype and device."""
        return torch.as_tensor(a if isinstance(a, torch.Tensor) else np.asarray(a, float), **self.opts)

    def deformation_gradient(self, x: torch.Tensor) -> torch.Tensor:
        """F_e = sum_a x_a (x) Bbar_a (ne, 3, 3) of the current nodes x (nn, 3)."""
        return x[self.geometry.hexes].transpose(1, 2) @ self.geometry.gradient  # sum_a x_ai Bbar_aJ

    def nodal_force(self, P: torch.Tensor) -> torch.Tensor:
        """f_a = sum_e V0_e P_e Bbar_a (nn, 3) N of the first Piola stresses P (ne, 3, 3) MPa."""
        g = self.geometry
        fe = g.volume[:, None, None] * (g.gradient @ P.transpose(1, 2))  # (ne, 8, 3): sum_J Bbar_aJ P_iJ
        return self._assemble(fe)

    def _assemble(self, fe: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(self.mesh.n_nodes, 3, **self.opts)
        return out.index_add_(0, self.geometry.hexes.reshape(-1), fe.reshape(-1, 3))

    def hourglass(self, x: torch.Tensor):
        """(nodal hourglass force (nn, 3) N, element hourglass energies (ne,) mJ) of the displacement x - X."""
        g = self.geometry
        u = (x - g.reference)[g.hexes]
        q = u.transpose(1, 2) @ g.gamma  # (ne, 3, 4) mm
        k = self.hourglass_stiffness[:, None, None]
        fe = g.gamma @ (k * q).transpose(1, 2)  # (ne, 8, 3)
        return self._assemble(fe), 0.5 * (k * q * q).sum((1, 2))

    def stable_time_step(self, x: torch.Tensor | None = None, safety: float = 0.9,
                         F: torch.Tensor | None = None) -> float:
        """safety * min_e L_e / c (s), L_e = volume / largest face area of the current nodes x (default: X); F: the
        elements' deformation gradient at x when known (saves its evaluation)."""
        g = self.geometry
        if x is None:
            length = g.length
        else:
            xf = x[g.hexes][:, torch.as_tensor(FACES, device=x.device)]
            area = 0.5 * torch.linalg.cross(xf[:, :, 2] - xf[:, :, 0], xf[:, :, 3] - xf[:, :, 1]).norm(dim=-1)
            length = g.volume * det(self.deformation_gradient(x) if F is None else F) / area.max(1).values
        if self.bulk_viscosity is None or self._rate_vol is None:
            return float(safety * length.min() / self.wave_speed)
        b1, b2 = self.bulk_viscosity
        c = self.wave_speed
        Q = b1 * c + b2 ** 2 * length * torch.clamp(-self._rate_vol, min=0.0)  # mm/s
        return float(safety * (length / (Q + torch.sqrt(Q * Q + c * c))).min())

    def stress_update(self, F_prev: torch.Tensor, F: torch.Tensor, dt: float, state: dict, step: int = -1):
        """(Cauchy stress (ne, 3, 3) MPa, first Piola P (ne, 3, 3) MPa, new state) of one material update."""
        J = det(F)
        if not bool((J > 0).all()):
            bad = torch.nonzero(J <= 0).flatten()[:10].tolist()
            raise MacroscaleError(f"step {step}: det F <= 0 in {int((J <= 0).sum())} elements, e.g. {bad}")
        tic = time.perf_counter()
        sigma, new_state = self.material.update(F_prev.detach().cpu().numpy(), F.detach().cpu().numpy(), dt, state)
        sigma = torch.as_tensor(np.asarray(sigma, float), **self.opts)
        self.material_seconds += time.perf_counter() - tic
        finite = torch.isfinite(sigma).all(-1).all(-1)
        if not bool(finite.all()):
            bad = torch.nonzero(~finite).flatten()[:10].tolist()
            raise MacroscaleError(f"step {step}: the material update failed in {int((~finite).sum())} elements, "
                                  f"e.g. {bad}")
        return sigma, J[:, None, None] * sigma @ transpose(inv(F)), new_state

    def _bulk_viscosity(self, F_old, F_new, dt: float, sigma):
        """(sigma + sigma_v, its first Piola stress): the artificial bulk viscosity of explicit codes (linear and
        quadratic in the volumetric strain rate eps_v = d ln J / dt, the quadratic term in compression only),

            sigma_v = rho l eps_v (b1 c + b2^2 l max(-eps_v, 0)) I,   rho = rho0 / J,  l = (J V0)^(1/3)

        (Abaqus/Explicit's bulk viscosity, defaults b1 = 0.06, b2 = 1.2; von Neumann & Richtmyer 1950, J. Appl. Phys.
        21:232; Wilkins 1980, J. Comput. Phys. 36:281). sigma_v : D = rho l eps_v^2 (...) >= 0: it only
        dissipates, and its work is booked in the internal energy. It damps the ringing behind a shock front; the
        stable step becomes l / (Q + sqrt(Q^2 + c^2)), Q = b1 c + b2^2 l max(-eps_v, 0)."""
        b1, b2 = self.bulk_viscosity
        J_old, J = det(F_old), det(F_new)
        rate = torch.log(J / J_old) / dt  # (ne,) 1/s
        self._rate_vol = rate
        length = (J * self.geometry.volume) ** (1.0 / 3.0)
        q = self.density / J * length * rate * (b1 * self.wave_speed + b2 ** 2 * length * torch.clamp(-rate, min=0))
        sigma = sigma + q[:, None, None] * torch.eye(3, **self.opts)
        return sigma, J[:, None, None] * sigma @ transpose(inv(F_new))

    # ------------------------------------------------------------------------------------------ time stepping

    def run(self, velocity, t_end: float, *, dt: float | None = None, safety: float = 0.9, record_every: int = 1,
            vtu_dir=None, vtu_every: int = 0, max_steps: int = 10_000_000, envelope=None, on_record=None) -> dict:
        """Integrate from the stress-free reference state with the initial nodal velocity ``velocity`` ((nn, 3) or
        (3,), mm/s; its fixed components are set to zero) until the first t^n >= t_end (s). The body must start on
        the wall's side. dt: a fixed step (s); default the stable step of the current nodes every step
        (``stable_time_step(x, safety)``). History every ``record_every`` steps; a VTU snapshot every ``vtu_every``
        steps into ``vtu_dir`` (meshio; skipped with a warning when meshio is not installed). Raises MacroscaleError
        when an element inverts, the material fails, the stable step falls below 1e-3 of the first one (a blown-up
        mesh) or max_steps is reached.

        envelope: a macroscale.envelope.Envelope; each step flags the elements whose F^(n+1) lies outside it.
        on_record: called at every recorded step with {"step", "time" (s), "x", "velocity" (nn, 3), "stress" (ne, 3,
        3) (tensors; the Cauchy stress at t^n), "state"} (e.g. to keep snapshots of a section).

        Returns dict of numpy arrays: time (n,) s, kinetic, internal, hourglass, contact (n,) mJ, wall_force (n,) N,
        momentum (n, 3) t mm/s (of the body), energy_error (n,) = the sum of the energies minus its value at t = 0
        (mJ), dt (n_steps,) s; and the final x, velocity (nn, 3), F, stress (ne, 3, 3), element internal energy
        (ne,), state (the material's), n_steps, vtu (the written files as (path, t)), vtu_skipped (a reason, or
        None), wall_seconds and material_seconds (s: the whole loop, and the material updates in it). With a
        projectile also projectile_kinetic, penalty (the stored penalty energy 1/2 sum k_a d_a^2) (n,) mJ,
        projectile_force (n,) N (the contact force on it along its axis, > 0 when it is pushed back),
        projectile_velocity, projectile_tip (n, 3); the energies summed are then kinetic + projectile_kinetic +
        internal + hourglass + contact + penalty. With an envelope also outside_fraction (n,) (the share of the
        elements outside at t^n) and "envelope": ever_outside (ne,) bool, max_deviation (ne,), fraction_ever (the
        share of elements outside at some step) and fraction_point_steps (the share of element-steps outside)."""
        m = self.mass[:, None]
        X = self.geometry.reference
        x = X.clone()
        v0 = torch.broadcast_to(self.tensor(velocity), x.shape) * self.free
        v_half = v0.clone()  # v^(-1/2) := v^0
        ne = self.mesh.n_elements
        F = torch.eye(3, **self.opts).expand(ne, 3, 3).clone()
        self._rate_vol = None
        P = torch.zeros(ne, 3, 3, **self.opts)
        sigma = P.clone()
        state = {k: np.array(v) for k, v in self.material.initial_state(ne).items()}
        f_int = torch.zeros_like(x)  # stress free reference state
        f_hg, e_hg = self.hourglass(x)
        w_int = torch.zeros(ne, **self.opts)
        w_contact = 0.0
        hist = {k: [] for k in ("time", "kinetic", "internal", "hourglass", "contact", "wall_force", "momentum",
                                "projectile_kinetic", "penalty", "projectile_force", "projectile_velocity",
                                "projectile_tip")}
        proj = self.projectile
        if proj is not None:
            tip = self.tensor(proj.tip)
            vp0 = self.tensor(proj.velocity)
            vp_half = vp0.clone()
            axis = self.tensor(np.asarray(proj.axis, float) / np.linalg.norm(proj.axis))
            k_pen = None  # (nn, 1) N/mm, set from the first step
        if envelope is not None:  # a macroscale.envelope.Envelope: the training range of the material's inputs
            dev_max = np.zeros(ne)
            n_outside = 0
            hist["outside_fraction"] = []
            outside_now = np.zeros(ne, bool)
        self.material_seconds = 0.0
        tic = time.perf_counter()
        steps_dt, vtu_files, vtu_skipped = [], [], None
        if vtu_every and vtu_dir is not None and importlib.util.find_spec("meshio") is None:
            vtu_skipped = "meshio is not installed"
            warnings.warn(f"macroscale: VTU snapshots skipped ({vtu_skipped})", stacklevel=2)
        write_vtu = bool(vtu_every) and vtu_dir is not None and vtu_skipped is None
        t, dt_prev_half, n = 0.0, None, 0
        dt_first = None
        while True:
            dt_half = float(dt) if dt is not None else self.stable_time_step(x, safety, F)
            dt_first = dt_first or dt_half
            if not (dt_half >= 1e-3 * dt_first) or n >= max_steps:  # also catches NaN
                raise MacroscaleError(f"step {n} (t = {t:.6g} s): the stable time step fell to {dt_half:.3g} s "
                                      f"(first {dt_first:.3g} s) or max_steps = {max_steps} was reached")
            last = t >= t_end * (1 - 1e-12)
            dt_n = 0.5 * dt_half if dt_prev_half is None else 0.5 * (dt_prev_half + dt_half)
            a = -(f_int + f_hg) / m
            if proj is not None:  # penalty contact at t^n; the projectile's central-difference step
                if k_pen is None:
                    k_pen = proj.penalty * m / dt_half ** 2
                depth, push_dir = proj.penetration(x, tip)
                f_p = k_pen * depth[:, None] * push_dir  # (nn, 3) N on the nodes
                e_pen = 0.5 * float((k_pen[:, 0] * depth * depth).sum())
                F_proj = -f_p.sum(0)  # N on the projectile
                a = a + f_p / m
                vp_new = vp_half + dt_n * F_proj / proj.mass
            v_new = (v_half + dt_n * a) * self.free
            x_new = x + dt_half * v_new
            f_c = torch.zeros_like(x)
            if self.wall is not None:
                gap = (x_new - self._wall_point) @ self._wall_normal
                push = torch.clamp(-gap, min=0.0)[:, None] * self._wall_normal  # (nn, 3) mm
                x_new = x_new + push
                v_new = v_new + push / dt_half
                f_c = m * push / (dt_half * dt_n)
            # quantities at t^n
            v_n = v0 if n == 0 else 0.5 * (v_half + v_new)
            if n % record_every == 0 or last:
                hist["time"].append(t)
                hist["kinetic"].append(0.5 * float((m * v_n * v_n).sum() if n == 0 else (m * v_half * v_new).sum()))
                hist["internal"].append(float(w_int.sum()))
                hist["hourglass"].append(float(e_hg.sum()))
                hist["contact"].append(-w_contact)
                hist["wall_force"].append(float((f_c @ self._wall_normal).sum()) if self.wall is not None else 0.0)
                hist["momentum"].append((m * v_n).sum(0).cpu().numpy())
                if envelope is not None:
                    hist["outside_fraction"].append(float(outside_now.mean()))
                if on_record is not None:
                    on_record({"step": n, "time": t, "x": x, "velocity": v_n, "stress": sigma, "state": state})
                if proj is not None:
                    vv = vp0 @ vp0 if n == 0 else vp_half @ vp_new
                    hist["projectile_kinetic"].append(0.5 * proj.mass * float(vv))
                    hist["penalty"].append(e_pen)
                    hist["projectile_force"].append(float(F_proj @ axis))
                    hist["projectile_velocity"].append((vp0 if n == 0 else 0.5 * (vp_half + vp_new)).cpu().numpy())
                    hist["projectile_tip"].append(tip.cpu().numpy())
            if write_vtu and n % vtu_every == 0:
                vtu_files.append((self._write_vtu(Path(vtu_dir), n, x, v_n, sigma, w_int), t))
            if last:
                break
            w_contact += dt_n * 0.5 * float((f_c * (v_half + v_new)).sum())  # its velocity jump shows from t^(n+1)
            # step to t^(n+1)
            F_new = self.deformation_gradient(x_new)
            sigma, P_new, state = self.stress_update(F, F_new, dt_half, state, n + 1)
            if self.bulk_viscosity is not None:
                sigma, P_new = self._bulk_viscosity(F, F_new, dt_half, sigma)
            if envelope is not None:
                dev = envelope.deviation(F_new.detach().cpu().numpy())
                outside_now = dev > 0
                n_outside += int(outside_now.sum())
                dev_max = np.maximum(dev_max, dev)
            w_int = w_int + 0.5 * self.geometry.volume * ((P + P_new) * (F_new - F)).sum((1, 2))
            f_int = self.nodal_force(P_new)
            f_hg, e_hg = self.hourglass(x_new)
            x, v_half, F, P = x_new, v_new, F_new, P_new
            if proj is not None:
                tip, vp_half = tip + dt_half * vp_new, vp_new
            t += dt_half
            dt_prev_half = dt_half
            steps_dt.append(dt_half)
            n += 1
        wall_seconds = time.perf_counter() - tic
        if envelope is not None:
            out_env = {"ever_outside": dev_max > 0, "max_deviation": dev_max,
                       "fraction_ever": float((dev_max > 0).mean()),
                       "fraction_point_steps": n_outside / max(n * ne, 1)}
        out = {k: np.asarray(v) for k, v in hist.items() if proj is not None or not k.startswith(("proj", "pen"))}
        total = out["kinetic"] + out["internal"] + out["hourglass"] + out["contact"]
        if proj is not None:
            total = total + out["projectile_kinetic"] + out["penalty"]
        out["energy_error"] = total - total[0]
        out.update({"dt": np.asarray(steps_dt), "x": x.cpu().numpy(), "velocity": v_n.cpu().numpy(),
                    "F": F.cpu().numpy(), "stress": sigma.cpu().numpy(), "element_internal": w_int.cpu().numpy(),
                    "state": state, "n_steps": n, "vtu": vtu_files, "vtu_skipped": vtu_skipped,
                    "wall_seconds": wall_seconds, "material_seconds": self.material_seconds})
        if envelope is not None:
            out["envelope"] = out_env
        return out

    def _write_vtu(self, folder: Path, n: int, x, v, sigma, w_int) -> str:
        """One snapshot (meshio): current nodes, displacement and velocity; Cauchy stress, von Mises stress and
        internal energy per element."""
        import meshio

        folder.mkdir(parents=True, exist_ok=True)
        s = sigma.cpu().numpy()
        dev = s - np.trace(s, axis1=1, axis2=2)[:, None, None] / 3 * np.eye(3)
        mises = np.sqrt(1.5 * (dev * dev).sum((1, 2)))
        path = folder / f"step{n:07d}.vtu"
        meshio.write_points_cells(
            str(path), x.cpu().numpy(), [("hexahedron", self.mesh.hexes)],
            point_data={"displacement": (x - self.geometry.reference).cpu().numpy(), "velocity": v.cpu().numpy()},
            cell_data={"stress": [s.reshape(-1, 9)], "von_mises": [mises],
                       "internal_energy": [w_int.cpu().numpy()]})
        return str(path)
