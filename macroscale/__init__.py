"""Macroscopic explicit solid dynamics with a material-point law as the material (paper Section 7: the trained RNO
as the material of impact simulations). Imports mechanics/ only; an RNO enters as any mechanics.mixed_bc.Material
the caller builds. Units: mm, s, MPa, tonne/mm^3 (force N, energy mJ). docs/macroscale.md.

    mesh      structured hexahedral meshes: box, circular bar (butterfly O-grid, whole or quarter, graded layers)
    hex8      the one-point (mean-gradient) hexahedron, Flanagan-Belytschko hourglass vectors, lumped mass
    explicit  central-difference total-Lagrangian dynamics, symmetry planes, simply supported edges, rigid wall,
              rigid projectile (penalty contact), bulk viscosity, energies, VTU
    objective Corotational (a material on symmetric F made objective, F = R U, as a VUMAT); TimeScaled
    envelope  the training-envelope guard (per-component range of F - I or U - I)
    problems  the copper Taylor bar of the validation
    paper     the paper's Taylor impact (Fig. 12) and projectile-on-plate (Fig. 11) problems
    figures   Figures 11 and 12 (matplotlib; imported on demand)
"""
from . import envelope, explicit, hex8, mesh, objective, paper, problems

__all__ = ["envelope", "explicit", "hex8", "mesh", "objective", "paper", "problems"]
