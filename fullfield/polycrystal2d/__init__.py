"""Full-field 2D periodic Voronoi polycrystal (paper Section 5.1, Appendix A) solved with PETSc over MPI.

Modules: microstructure (grain map and orientations), fem (bilinear elements on the pixel grid, periodic DMDA),
material (crystal-plasticity or neo-Hookean points from mechanics/), solver (SNES/KSP time stepping with
cut-backs), producer (the dataset producer ``polycrystal2d``). PETSc is imported lazily, so importing this package
is cheap.
"""
