"""Continuum mechanics shared by the producers (fullfield/, taylor/); imports no other package of the project.

    tensor          batched d x d algebra: det, inv, transpose, Mandel vectors, Cauchy from Piola, pressure split
    elasticity      neo-Hookean W, P, M and dP/dF (paper eq. A1, d = 2 or 3)
    slip            Schmid tensors, 2D rotations, HCP (Mg) slip and twin systems, random orientations (damask)
    crystal         crystal-plasticity update, consistent tangent and single-point driver (paper Appendix A)
    crystal_kernel  its compiled (numba) per-point Newton solve

Units: MPa, s.
"""
from . import crystal, elasticity, slip, tensor

__all__ = ["crystal", "elasticity", "slip", "tensor"]
