"""Continuum mechanics shared by the producers (fullfield/, taylor/); imports no other package of the project.

    tensor          batched d x d algebra: det, inv, transpose, Mandel vectors, Cauchy from Piola, pressure split
    elasticity      neo-Hookean W, P, M and dP/dF (paper eq. A1, d = 2 or 3)
    slip            Schmid tensors, 2D rotations, HCP (Mg) slip and twin systems, random orientations (damask)
    crystal         crystal-plasticity update, consistent tangent and single-point driver (paper Appendix A)
    crystal_kernel  its compiled (numba) per-point Newton solve
    mixed_bc        material-point driver with some F and some Cauchy-stress components prescribed (Newton);
                    the Material protocol every material point of the project implements (docs/baselines.md)
    johnson_cook    finite-strain J2 with the Johnson-Cook flow stress (the paper's ref. [15]), isothermal

Units: MPa, s.
"""
from . import crystal, elasticity, slip, tensor

__all__ = ["crystal", "elasticity", "slip", "tensor"]
