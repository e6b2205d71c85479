"""Bilinear (Q1) finite elements on the periodic pixel grid, distributed with a PETSc DMDA.

The unit cell [0, 1]^2 is cut into N x N square pixels of side h = 1/N; every pixel is one Q1 element with 2 x 2
Gauss points and carries its grain's material. The unknown is the periodic displacement fluctuation w at the N x N
nodes (dof 2, periodic DMDA with a box stencil of width 1, which is exactly the Q1 connectivity), and

    F(X) = F_bar + grad w(X),      <F> = F_bar      (w periodic, so <grad w> = 0),

so the macroscopic deformation gradient is imposed exactly. Equilibrium is the weak form

    R_a(w) = sum_elements sum_q  w_q P(F_q) . grad N_a(X_q) = 0      for every node a,

and its Jacobian K_ab = sum w_q grad N_a . A(F_q) . grad N_b with A = dP/dF the material's consistent tangent.
Residual and Jacobian are divided by (mu h), which makes them dimensionless (a strain per node): SNES tolerances
are then independent of the stress units and, nearly, of the grid. The rigid translation (the null space of the
periodic problem) is removed by pinning w = 0 at node (0, 0).

Ownership: an element belongs to the rank that owns its lower-left node; its other three nodes are in the
ghosted local array (stencil width 1, periodic wrap), so every element is evaluated exactly once and the material
state of its Gauss points lives on one rank only. Contributions to ghost nodes are added across ranks by
DMLocalToGlobal(ADD_VALUES) (residual) and by MatSetValues stashing (Jacobian).
"""
from __future__ import annotations

import numba
import numpy as np

GAUSS = np.array([-1.0, 1.0]) / np.sqrt(3.0)
#: node order of an element with lower-left node (i, j): (i, j), (i+1, j), (i+1, j+1), (i, j+1)
XI = np.array([-1.0, 1.0, 1.0, -1.0])
ETA = np.array([-1.0, -1.0, 1.0, 1.0])
NODE_DI = np.array([0, 1, 1, 0])
NODE_DJ = np.array([0, 0, 1, 1])


def q1_gradients(h: float) -> np.ndarray:
    """dN_a/dX at the 4 Gauss points: (q, a, J); Gauss point q = (qx, qy) with qx fastest."""
    dN = np.zeros((4, 4, 2))
    for q, (gy, gx) in enumerate([(gy, gx) for gy in GAUSS for gx in GAUSS]):
        dN[q, :, 0] = XI * (1.0 + ETA * gy) / 4.0 * (2.0 / h)
        dN[q, :, 1] = ETA * (1.0 + XI * gx) / 4.0 * (2.0 / h)
    return dN


# ----------------------------------------------------------------------------------------------- element kernels
# compiled loops over the elements: no (nE, 4, 2, 2, 2, 2) temporaries, no threaded BLAS (einsum's tensordot starts
# BLAS threads that compete with the other MPI ranks for the cores)

@numba.njit(cache=True)
def _deformation(w, nodes, dN, F_bar, out):
    """out[e, q] = F_bar + sum_a w[nodes[e, a]] (x) dN[q, a] for every element e and Gauss point q."""
    for e in range(nodes.shape[0]):
        for q in range(4):
            for i in range(2):
                for J in range(2):
                    acc = F_bar[i, J]
                    for a in range(4):
                        acc += w[nodes[e, a], i] * dN[q, a, J]
                    out[e, q, i, J] = acc


@numba.njit(cache=True)
def _residual(P, nodes, dN, factor, out):
    """out[nodes[e, a], i] += factor sum_q P[e, q, i, J] dN[q, a, J] (out zeroed by the caller)."""
    for e in range(nodes.shape[0]):
        for a in range(4):
            n = nodes[e, a]
            for i in range(2):
                acc = 0.0
                for q in range(4):
                    for J in range(2):
                        acc += P[e, q, i, J] * dN[q, a, J]
                out[n, i] += factor * acc


@numba.njit(cache=True)
def _stiffness(A, dN, factor, inverse, out):
    """K_e[(a, i), (b, k)] = factor sum_q dN[q, a, J] A[e, q, i, J, k, L] dN[q, b, L], summed into the CSR values
    out[inverse[64 e + 8 (2a + i) + 2b + k]] (out zeroed by the caller)."""
    G = np.empty((2, 2, 4))  # G[i, k, b] = sum_L A[i, J, k, L] dN[b, L] for the current J
    Ke = np.empty((8, 8))
    for e in range(A.shape[0]):
        base = 64 * e
        Ke[:] = 0.0
        for q in range(4):
            Aq = A[e, q]
            for J in range(2):
                for i in range(2):
                    for k in range(2):
                        for b in range(4):
                            G[i, k, b] = Aq[i, J, k, 0] * dN[q, b, 0] + Aq[i, J, k, 1] * dN[q, b, 1]
                for a in range(4):
                    w = dN[q, a, J]
                    for i in range(2):
                        for b in range(4):
                            for k in range(2):
                                Ke[2 * a + i, 2 * b + k] += w * G[i, k, b]
        for r in range(8):
            for c in range(8):
                out[inverse[base + 8 * r + c]] += factor * Ke[r, c]


class PeriodicQ1:
    """The distributed discretisation: DMDA, element tables, residual and Jacobian assembly."""

    def __init__(self, grid: int, comm=None, scale: float = 1.0):
        from petsc4py import PETSc

        self.PETSc = PETSc
        self.comm = comm or PETSc.COMM_WORLD
        self.N = N = int(grid)
        if N < 2:
            raise ValueError(f"grid must be at least 2, got {N}")
        self.h = 1.0 / N
        self.scale = float(scale)  # residual and Jacobian are divided by scale * h
        B = PETSc.DM.BoundaryType.PERIODIC
        self.da = PETSc.DMDA().create(dim=2, dof=2, sizes=(N, N), boundary_type=(B, B),
                                      stencil_type=PETSc.DMDA.StencilType.BOX, stencil_width=1, comm=self.comm)
        self.da.setUp()
        (xs, ys), (xm, ym) = self.da.getCorners()
        (gxs, gys), (gxm, gym) = self.da.getGhostCorners()
        self.owned = (xs, ys, xm, ym)
        self.ghost_shape = (gym, gxm)
        # owned elements (lower-left node owned), element-major, x fastest
        ii, jj = np.meshgrid(np.arange(xs, xs + xm), np.arange(ys, ys + ym), indexing="xy")
        self.elem_i, self.elem_j = ii.ravel(), jj.ravel()  # global pixel indices
        self.n_elem = self.elem_i.size
        li = self.elem_i[:, None] + NODE_DI[None, :] - gxs
        lj = self.elem_j[:, None] + NODE_DJ[None, :] - gys
        if li.min() < 0 or lj.min() < 0 or li.max() >= gxm or lj.max() >= gym:
            raise RuntimeError("DMDA ghost region does not hold the element nodes (stencil width 1 expected)")
        self.elem_nodes = np.ascontiguousarray(lj * gxm + li, dtype=np.int64)  # (nE, 4) local ghosted node index
        self.dN = q1_gradients(self.h)  # (q, a, J)
        self.weight = self.h * self.h / 4.0  # each Gauss point's area
        lg = np.asarray(self.da.getLGMap().getIndices(), dtype=np.int64)  # local ghosted dof -> global dof
        dofs = (2 * self.elem_nodes[:, :, None] + np.arange(2)).reshape(self.n_elem, 8)  # (nE, 8) local dofs
        gdofs = lg[dofs]
        self._local_dofs = dofs
        # fixed sparsity: sum element entries into unique (row, col) pairs once per assembly (CSR for IJV)
        n_global = 2 * N * N
        rows = np.repeat(gdofs[:, :, None], 8, axis=2).ravel()
        cols = np.repeat(gdofs[:, None, :], 8, axis=1).ravel()
        keys, inverse = np.unique(rows * n_global + cols, return_inverse=True)
        self._inverse = np.ascontiguousarray(inverse, dtype=np.int64)
        urow, ucol = keys // n_global, keys % n_global
        self._rowmap, counts = np.unique(urow, return_counts=True)
        self._I = np.concatenate([[0], np.cumsum(counts)]).astype(PETSc.IntType)
        self._J = ucol.astype(PETSc.IntType)
        self._rowmap = self._rowmap.astype(PETSc.IntType)
        self._n_entries = keys.size
        # pinned dofs: w = 0 at node (0, 0) (global dofs 0 and 1 in PETSc ordering, owned by rank 0)
        vec = self.da.createGlobalVec()
        lo, hi = vec.getOwnershipRange()
        vec.destroy()
        self.pinned = np.array([d for d in (0, 1) if lo <= d < hi], dtype=PETSc.IntType)
        self.pinned_local = self.pinned - lo  # positions in the owned part of a global vector
        self._loc = self.da.createLocalVec()

    # ----------------------------------------------------------------- kinematics and element kernels
    def local_w(self, X) -> np.ndarray:
        """Ghosted nodal fluctuation (n_ghosted, 2) of the global vector X."""
        self.da.globalToLocal(X, self._loc)
        return self._loc.getArray(readonly=True).reshape(-1, 2).copy()

    def deformation(self, w_loc: np.ndarray, F_bar: np.ndarray) -> np.ndarray:
        """F at this rank's Gauss points, (nE * 4, 2, 2), element-major."""
        out = np.empty((self.n_elem, 4, 2, 2))
        _deformation(np.ascontiguousarray(w_loc, float), self.elem_nodes, self.dN, np.array(F_bar, float), out)
        return out.reshape(-1, 2, 2)

    def residual_local(self, P: np.ndarray) -> np.ndarray:
        """Element nodal forces scattered into a ghosted local array (n_ghosted * 2,), scaled."""
        out = np.zeros((self.ghost_shape[0] * self.ghost_shape[1], 2))
        _residual(np.ascontiguousarray(P, float).reshape(self.n_elem, 4, 2, 2), self.elem_nodes, self.dN,
                  self.weight / (self.scale * self.h), out)
        return out.ravel()

    def element_matrices(self, A: np.ndarray) -> np.ndarray:
        """Element stiffness matrices (nE, 8, 8), scaled (reference for the compiled assembly)."""
        Ae = A.reshape(self.n_elem, 4, 2, 2, 2, 2)
        Ke = np.einsum("qaJ,eqiJkL,qbL->eaibk", self.dN, Ae, self.dN, optimize=True)
        return Ke.reshape(self.n_elem, 8, 8) * (self.weight / (self.scale * self.h))

    def jacobian_values(self, A: np.ndarray) -> np.ndarray:
        """The CSR values of this rank's element matrices summed per (row, col) (``_I``, ``_J``), scaled."""
        V = np.zeros(self._n_entries)
        _stiffness(np.ascontiguousarray(A, float).reshape(self.n_elem, 4, 2, 2, 2, 2), self.dN,
                   self.weight / (self.scale * self.h), self._inverse, V)
        return V

    # ----------------------------------------------------------------- PETSc assembly
    def assemble_residual(self, P: np.ndarray, X, Fvec) -> None:
        """Fvec <- R(P); pinned rows get R = w (so Newton keeps them at 0)."""
        PETSc = self.PETSc
        self._loc.setArray(self.residual_local(P))
        Fvec.zeroEntries()
        self.da.localToGlobal(self._loc, Fvec, addv=PETSc.InsertMode.ADD_VALUES)
        if self.pinned.size:
            f = Fvec.getArray()
            x = X.getArray(readonly=True)
            f[self.pinned_local] = x[self.pinned_local]

    def assemble_jacobian(self, A: np.ndarray, mat) -> None:
        PETSc = self.PETSc
        V = self.jacobian_values(A)
        mat.zeroEntries()
        mat.setValuesIJV(self._I, self._J, V.astype(PETSc.ScalarType), addv=PETSc.InsertMode.ADD_VALUES,
                         rowmap=self._rowmap)
        mat.assemble()
        mat.zeroRowsColumns(self.pinned, diag=1.0)

    def create_matrix(self):
        mat = self.da.createMatrix()
        mat.setOption(self.PETSc.Mat.Option.NEW_NONZERO_ALLOCATION_ERR, True)
        return mat

    def average(self, P: np.ndarray) -> np.ndarray:
        """Cell average <P> (2, 2) over all ranks (the cell has unit area)."""
        from mpi4py import MPI

        local = P.reshape(-1, 2, 2).sum(0) * self.weight
        return self.comm.tompi4py().allreduce(local, op=MPI.SUM)

    def pixel_indices(self):
        """Global pixel (i, j) of each local Gauss point (nE * 4,)."""
        return np.repeat(self.elem_i, 4), np.repeat(self.elem_j, 4)

    def destroy(self):
        self._loc.destroy()
        self.da.destroy()
