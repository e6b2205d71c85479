"""Macroscopic explicit solid dynamics with a material-point law as the material (paper Section 7: the trained RNO
as the material of impact simulations). Imports mechanics/ only; an RNO enters as any mechanics.mixed_bc.Material
the caller builds. Units: mm, s, MPa, tonne/mm^3 (force N, energy mJ). docs/macroscale.md.

    mesh      structured hexahedral meshes: box, circular bar (butterfly O-grid, whole or quarter)
    hex8      the one-point (mean-gradient) hexahedron, Flanagan-Belytschko hourglass vectors, lumped mass
    explicit  central-difference total-Lagrangian dynamics, symmetry planes, rigid wall contact, energies, VTU
    objective Corotational: a material on symmetric F (the RNO's inputs) made objective, F = R U (as a VUMAT)
"""
from . import explicit, hex8, mesh, objective

__all__ = ["explicit", "hex8", "mesh", "objective"]
