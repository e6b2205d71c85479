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
    (symmetry planes, fixed nodes); wall: a RigidWall or None."""

    def __init__(self, mesh: Mesh, material, density: float, *, moduli=None, hourglass: float = 0.05,
                 fixed=None, wall: RigidWall | None = None, dtype=torch.float64, device="cpu"):
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
        self.wall = wall
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
        return torch.einsum("eai,eaJ->eiJ", x[self.geometry.hexes], self.geometry.gradient)

    def nodal_force(self, P: torch.Tensor) -> torch.Tensor:
        """f_a = sum_e V0_e P_e Bbar_a (nn, 3) N of the first Piola stresses P (ne, 3, 3) MPa."""
        g = self.geometry
        fe = g.volume[:, None, None] * torch.einsum("eiJ,eaJ->eai", P, g.gradient)
        return self._assemble(fe)

    def _assemble(self, fe: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(self.mesh.n_nodes, 3, **self.opts)
        return out.index_add_(0, self.geometry.hexes.reshape(-1), fe.reshape(-1, 3))

    def hourglass(self, x: torch.Tensor):
        """(nodal hourglass force (nn, 3) N, element hourglass energies (ne,) mJ) of the displacement x - X."""
        g = self.geometry
        u = (x - g.reference)[g.hexes]
        q = torch.einsum("eai,eal->eil", u, g.gamma)  # (ne, 3, 4) mm
        k = self.hourglass_stiffness[:, None, None]
        fe = torch.einsum("eil,eal->eai", k * q, g.gamma)
        return self._assemble(fe), 0.5 * (k * q * q).sum((1, 2))

    def stable_time_step(self, x: torch.Tensor | None = None, safety: float = 0.9) -> float:
        """safety * min_e L_e / c (s), L_e = volume / largest face area of the current nodes x (default: X)."""
        g = self.geometry
        if x is None:
            length = g.length
        else:
            xf = x[g.hexes][:, torch.as_tensor(FACES, device=x.device)]
            area = 0.5 * torch.linalg.cross(xf[:, :, 2] - xf[:, :, 0], xf[:, :, 3] - xf[:, :, 1]).norm(dim=-1)
            length = g.volume * det(self.deformation_gradient(x)) / area.max(1).values
        return float(safety * length.min() / self.wave_speed)

    def stress_update(self, F_prev: torch.Tensor, F: torch.Tensor, dt: float, state: dict, step: int = -1):
        """(Cauchy stress (ne, 3, 3) MPa, first Piola P (ne, 3, 3) MPa, new state) of one material update."""
        J = det(F)
        if not bool((J > 0).all()):
            bad = torch.nonzero(J <= 0).flatten()[:10].tolist()
            raise MacroscaleError(f"step {step}: det F <= 0 in {int((J <= 0).sum())} elements, e.g. {bad}")
        sigma, new_state = self.material.update(F_prev.detach().cpu().numpy(), F.detach().cpu().numpy(), dt, state)
        sigma = torch.as_tensor(np.asarray(sigma, float), **self.opts)
        finite = torch.isfinite(sigma).all(-1).all(-1)
        if not bool(finite.all()):
            bad = torch.nonzero(~finite).flatten()[:10].tolist()
            raise MacroscaleError(f"step {step}: the material update failed in {int((~finite).sum())} elements, "
                                  f"e.g. {bad}")
        return sigma, J[:, None, None] * sigma @ transpose(inv(F)), new_state

    # ------------------------------------------------------------------------------------------ time stepping

    def run(self, velocity, t_end: float, *, dt: float | None = None, safety: float = 0.9, record_every: int = 1,
            vtu_dir=None, vtu_every: int = 0, max_steps: int = 10_000_000) -> dict:
        """Integrate from the stress-free reference state with the initial nodal velocity ``velocity`` ((nn, 3) or
        (3,), mm/s; its fixed components are set to zero) until the first t^n >= t_end (s). The body must start on
        the wall's side. dt: a fixed step (s); default the stable step of the current nodes every step
        (``stable_time_step(x, safety)``). History every ``record_every`` steps; a VTU snapshot every ``vtu_every``
        steps into ``vtu_dir`` (meshio; skipped with a warning when meshio is not installed). Raises MacroscaleError
        when an element inverts, the material fails, the stable step falls below 1e-3 of the first one (a blown-up
        mesh) or max_steps is reached.

        Returns dict of numpy arrays: time (n,) s, kinetic, internal, hourglass, contact (n,) mJ, wall_force (n,) N,
        momentum (n, 3) t mm/s, energy_error (n,) = kinetic + internal + hourglass + contact - kinetic[0] (mJ),
        dt (n_steps,) s; and the final x, velocity (nn, 3), F, stress (ne, 3, 3), element internal energy (ne,),
        state (the material's), n_steps, vtu (the written files as (path, t)) and vtu_skipped (a reason, or None)."""
        m = self.mass[:, None]
        X = self.geometry.reference
        x = X.clone()
        v0 = torch.broadcast_to(self.tensor(velocity), x.shape) * self.free
        v_half = v0.clone()  # v^(-1/2) := v^0
        ne = self.mesh.n_elements
        F = torch.eye(3, **self.opts).expand(ne, 3, 3).clone()
        P = torch.zeros(ne, 3, 3, **self.opts)
        sigma = P.clone()
        state = {k: np.array(v) for k, v in self.material.initial_state(ne).items()}
        f_int = torch.zeros_like(x)  # stress free reference state
        f_hg, e_hg = self.hourglass(x)
        w_int = torch.zeros(ne, **self.opts)
        w_contact = 0.0
        hist = {k: [] for k in ("time", "kinetic", "internal", "hourglass", "contact", "wall_force", "momentum")}
        steps_dt, vtu_files, vtu_skipped = [], [], None
        if vtu_every and vtu_dir is not None and importlib.util.find_spec("meshio") is None:
            vtu_skipped = "meshio is not installed"
            warnings.warn(f"macroscale: VTU snapshots skipped ({vtu_skipped})", stacklevel=2)
        write_vtu = bool(vtu_every) and vtu_dir is not None and vtu_skipped is None
        t, dt_prev_half, n = 0.0, None, 0
        dt_first = None
        while True:
            dt_half = float(dt) if dt is not None else self.stable_time_step(x, safety)
            dt_first = dt_first or dt_half
            if not (dt_half >= 1e-3 * dt_first) or n >= max_steps:  # also catches NaN
                raise MacroscaleError(f"step {n} (t = {t:.6g} s): the stable time step fell to {dt_half:.3g} s "
                                      f"(first {dt_first:.3g} s) or max_steps = {max_steps} was reached")
            last = t >= t_end * (1 - 1e-12)
            dt_n = 0.5 * dt_half if dt_prev_half is None else 0.5 * (dt_prev_half + dt_half)
            a = -(f_int + f_hg) / m
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
            if write_vtu and n % vtu_every == 0:
                vtu_files.append((self._write_vtu(Path(vtu_dir), n, x, v_n, sigma, w_int), t))
            if last:
                break
            w_contact += dt_n * 0.5 * float((f_c * (v_half + v_new)).sum())  # its velocity jump shows from t^(n+1)
            # step to t^(n+1)
            F_new = self.deformation_gradient(x_new)
            sigma, P_new, state = self.stress_update(F, F_new, dt_half, state, n + 1)
            w_int = w_int + 0.5 * self.geometry.volume * ((P + P_new) * (F_new - F)).sum((1, 2))
            f_int = self.nodal_force(P_new)
            f_hg, e_hg = self.hourglass(x_new)
            x, v_half, F, P = x_new, v_new, F_new, P_new
            t += dt_half
            dt_prev_half = dt_half
            steps_dt.append(dt_half)
            n += 1
        out = {k: np.asarray(v) for k, v in hist.items()}
        out["energy_error"] = out["kinetic"] + out["internal"] + out["hourglass"] + out["contact"] - out["kinetic"][0]
        out.update({"dt": np.asarray(steps_dt), "x": x.cpu().numpy(), "velocity": v_n.cpu().numpy(),
                    "F": F.cpu().numpy(), "stress": sigma.cpu().numpy(), "element_internal": w_int.cpu().numpy(),
                    "state": state, "n_steps": n, "vtu": vtu_files, "vtu_skipped": vtu_skipped})
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
