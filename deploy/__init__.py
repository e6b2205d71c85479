"""Deployment of trained RNOs: source code that carries the weights, for finite-element codes (paper Section 7).

    deploy.network  a learning.rno.RNO as float64 arrays (Kernel) and the weight panels of the generated products
    deploy.c99      C99 kernel rno_step (rno_model.h, rno_model.c)
    deploy.fortran  Fortran 2008 module rno_kernel: rno_step and its C entry
    deploy.abaqus   ABAQUS/Explicit VUMAT and ABAQUS/Standard UMAT around the Fortran kernel
    deploy.export   export(model_dir, fmt, out_dir): the files of a format and their README.md
    deploy.johnson_cook  the Johnson-Cook law of mechanics.johnson_cook as C99, Fortran and a VUMAT (jc-* formats)
    deploy.pca_net  a PCA-Net (ref. [25]) as C99, Fortran and a VUMAT, its input history in state (pca-* formats)
    deploy.cost     Figure 13: CPU time per step of the compiled kernels in a single-element loop
    deploy.cli      the rno-export command (also python -m deploy)

Every kernel does exactly what RNO.step (or JohnsonCook.update) does, in float64 (tests/test_export.py,
tests/test_export_jc.py); docs/export.md.
"""
