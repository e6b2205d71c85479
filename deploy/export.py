"""Export a trained RNO to source code: export(model_dir, fmt, out_dir) writes the files of FORMATS[fmt] and README.md.

    c        rno_model.h, rno_model.c       C99 kernel rno_step (deploy.c99)
    fortran  rno_kernel.f90                 Fortran 2008 module rno_kernel: rno_step and its C entry (deploy.fortran)
    vumat    rno_vumat.f90                  module rno_kernel + ABAQUS/Explicit VUMAT (deploy.abaqus)
    umat     rno_umat.f90                   module rno_kernel + ABAQUS/Standard UMAT (deploy.abaqus)

and, from Johnson-Cook parameters (a JSON file or a law object) instead of a model (deploy.johnson_cook):

    jc-c        jc_model.h, jc_model.c      C99 kernel jc_step
    jc-fortran  jc_kernel.f90               Fortran 2008 module jc_kernel: jc_point, jc_step and its C entry
    jc-vumat    jc_vumat.f90                module jc_kernel + ABAQUS/Explicit VUMAT

and, from a PCA-Net (ref. [25]; a directory of deploy.pca_net.save or a learning.pca_net.PCANet; deploy.pca_net),
its input history kept in state variables:

    pca-c        pca_model.h, pca_model.c   C99 kernel pca_step
    pca-fortran  pca_kernel.f90             Fortran 2008 module pca_kernel: pca_step and its C entry
    pca-vumat    pca_vumat.f90              module pca_kernel + ABAQUS/Explicit VUMAT
"""
from __future__ import annotations

import os
from pathlib import Path

from learning.artifacts import load, read_json
from learning.rno import RNO

from . import abaqus, c99, fortran, johnson_cook, pca_net
from .network import CHUNK, Kernel, substeps_note

FORMATS = {"c": ("rno_model.h", "rno_model.c"), "fortran": ("rno_kernel.f90",), "vumat": ("rno_vumat.f90",),
           "umat": ("rno_umat.f90",), **johnson_cook.FORMATS,
           **pca_net.FORMATS}
#: compiler flags the README recommends (benchmarks/bench_export.py measures with them): -ffp-contract=fast (GCC's
#: default except in ISO modes such as -std=c99) lets it use fused multiply-adds, -fno-trapping-math changes no result
#: and lets it vectorise the SELU's branch-free expm1
FLAGS = "-O3 -march=native -ffp-contract=fast -fno-trapping-math"
#: ABAQUS compiles user subroutines with Intel Fortran; this directive (a comment to other compilers) makes it read
#: the file as free form whatever its name
FREEFORM = "!DIR$ FREEFORM\n"


def export(model: str | os.PathLike | RNO, fmt: str, out_dir: str | os.PathLike, input_name: str | None = None,
           source: str | None = None) -> list[Path]:
    """Write the sources of ``fmt`` (FORMATS) for ``model`` (a model directory of learning.artifacts, or an RNO)
    and README.md into out_dir; returns the paths written.

    input_name: "F" or "strain", the model's input (default: config.json's data.input); needed by vumat and umat.
    source: how the generated files name the model (default: the directory, or "an RNO given in memory").
    ValueError if the format does not fit the model (abaqus.check), nothing written then.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {sorted(FORMATS)}, got {fmt!r}")
    if fmt in johnson_cook.FORMATS:  # model: Johnson-Cook parameters (a JSON file, a dict or a law object)
        if isinstance(model, RNO) or (isinstance(model, (str, os.PathLike)) and Path(model).is_dir()):
            raise ValueError(f"--format {fmt} exports a Johnson-Cook law: give a JSON file of its parameters "
                             "(mu, kappa, A, B, n, C, eps_dot_0[, tol, max_iter]), not a model")
        if source is None:
            path_given = isinstance(model, (str, os.PathLike))
            source = str(Path(model).resolve()) if path_given else "parameters given in memory"
        return _write(johnson_cook.texts(model, fmt, source), out_dir)
    if fmt in pca_net.FORMATS:  # model: a PCA-Net (learning.pca_net.PCANet, or a directory of deploy.pca_net.save)
        if isinstance(model, pca_net.PCANet):
            source = source or "a PCA-Net given in memory"
        else:
            path = Path(model)
            if not pca_net.is_pca_dir(path):
                raise ValueError(f"{path}: --format {fmt} exports a PCA-Net: give a directory written by "
                                 "deploy.pca_net.save (model.pt of format " + repr(pca_net.FORMAT) + ")")
            if input_name is None:
                input_name = pca_net.input_of(path)
            source = source or str(path.resolve() if path.is_dir() else path.resolve().parent)
            model = pca_net.load(path)
        return _write(pca_net.texts(model, fmt, source, input_name), out_dir)
    if isinstance(model, (str, os.PathLike)) and pca_net.is_pca_dir(model):
        raise ValueError(f"{model}: a PCA-Net; export it with --format {' or '.join(sorted(pca_net.FORMATS))}")
    if isinstance(model, RNO):
        net, source = model, source or "an RNO given in memory"
    else:
        path = Path(model)
        net = load(path)
        if not isinstance(net, RNO):
            raise ValueError(f"{path}: not an RNO ({type(net).__name__}); rno-export exports RNOs only")
        if input_name is None:
            try:
                input_name = read_json(path, "config.json").get("data", {}).get("input")
            except FileNotFoundError:  # no config.json: the input stays unknown (--input)
                pass
        source = source or str(path.resolve() if path.is_dir() else path.resolve().parent)
    kernel = Kernel.of(net, input_name)
    if fmt == "c":
        texts = {"rno_model.h": c99.header(kernel, source), "rno_model.c": c99.source(kernel, source)}
    elif fmt == "fortran":
        texts = {"rno_kernel.f90": fortran.module(kernel, source)}
    elif fmt == "vumat":
        texts = {"rno_vumat.f90": FREEFORM + abaqus.vumat(kernel, source)}
    else:
        texts = {"rno_umat.f90": FREEFORM + abaqus.umat(kernel, source)}
    texts["README.md"] = readme(kernel, fmt, source)
    return _write(texts, out_dir)


def _write(texts: dict[str, str], out_dir: str | os.PathLike) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in texts.items():
        (out / name).write_text(text)
        paths.append(out / name)
    return paths


def _range_table(kernel: Kernel) -> str:
    comps = [f"{i + 1}{j + 1}" for i, j in kernel.components] or [str(i + 1) for i in range(kernel.n_comp)]
    rows = ["| component | mean | std |", "|---|---|---|"]
    rows += [f"| {c} | {m:.6g} | {s:.6g} |" for c, m, s in zip(comps, kernel.x_mean, kernel.x_std)]
    return "\n".join(rows)


def readme(kernel: Kernel, fmt: str, source: str) -> str:
    """README.md of an exported directory: what it holds, how to build and use it, conventions and units."""
    kn = kernel
    comps = ", ".join(f"{i + 1}{j + 1}" for i, j in kn.components) or f"{kn.n_comp} values"
    files = ", ".join(f"`{f}`" for f in FORMATS[fmt])
    plural = "s" if kn.k != 1 else ""
    xi = (f"{kn.k} internal variable{plural} xi (dimensionless, learned scale), starting at 0" if kn.k
          else "no internal variables (k = 0: no memory)")
    head = f"""# RNO export ({fmt})

Generated by `rno-export --format {fmt}` (deploy/, docs/export.md) from `{source}`. Do not edit: export again.

Files: {files}. The trained weights and the normalisation are literals in the source (float64, every digit that
reads back exactly); nothing else is needed to build it (C: libm; Fortran: no library).

## The model

The recurrent neural operator of Liu et al. 2023, Section 2, forward Euler (eq. 3), exactly `learning.rno.RNO.step`
in float64:

    xi^n     = xi^(n-1) + dt g(x^n, xi^(n-1)) / t_scale                 eq. (3)
    target^n = f(x^n, xi^n)                      variant evp, eq. (2)
    target^n = f(x^n, (x^n - x^(n-1)) / dt, xi^n)  variant ve, eq. (7)

* variant `{kn.variant}`, {xi}; {substeps_note(kn.max_dt)}.
* input x: `{kn.input_name or "unknown"}`, {kn.n_comp} components in the order {comps} (i <= j, row-major:
  `learning.data.component_names`); x^(n-1) absent means at rest (rate 0).
* target `{kn.target}`: {kn.n_out} component(s) in MPa{" (the same order)" if kn.target != "pressure" else
                                                     " (p = -tr(sigma)/d)"}.
* units: stress MPa, time s (dt, t_scale = {kn.t_scale!r} s).
* FLOPs per update (f and g once): {kn.flops()}.

Training range of the input (the normalisation: mean and standard deviation over the training paths); far outside
it the network extrapolates:

{_range_table(kn)}
"""
    return head + "\n" + _usage(kn, fmt) + "\n"


def _usage(kn: Kernel, fmt: str) -> str:
    kernel_api = f"""\
`rno_step(nblock, x, xi_old, dt, x_prev, target, xi_new)` updates nblock material points at once: x, x_prev
({kn.n_comp} per point), xi_old, xi_new ({kn.k} per point), target ({kn.n_out} per point) with one point's values
contiguous (C: row-major `[nblock][n]`; Fortran: `x(n, nblock)`), dt in s. Work memory: two buffers of
{CHUNK} points x the widest layer, allocated per call (reentrant; read-only weights)."""
    if fmt == "c":
        return f"""## Build and use (C99)

    gcc {FLAGS} -c rno_model.c                       # rno_model.o; link with -lm
    gcc {FLAGS} -shared -fPIC rno_model.c -o librno.so -lm

{kernel_api}

    #include "rno_model.h"
    int status = rno_step(nblock, x, xi_old, dt, x_prev, target, xi_new);   /* x_prev = NULL: at rest; 0 = ok */

The source is C99 (`-std=c99 -pedantic -Wall -Wextra` compiles it without warnings). `-ffp-contract=fast` (GCC's
default, but not with `-std=c99`) allows fused multiply-adds; `-fno-trapping-math` changes no result and lets GCC
vectorise the SELU's branch-free expm1. Without them the kernel is slower (docs/export.md)."""
    if fmt == "fortran":
        return f"""## Build and use (Fortran 2008)

    gfortran {FLAGS} -c rno_kernel.f90             # rno_kernel.o, rno_kernel.mod
    gfortran {FLAGS} -shared -fPIC rno_kernel.f90 -o librno.so

{kernel_api}

    use rno_kernel, only: rno_step
    call rno_step(nblock, x, xi_old, dt, x_prev, target, xi_new)     ! x_prev optional: absent = at rest
    call rno_step(nblock, x, xi_old, dt, target=target, xi_new=xi_new, stat=stat)

`rno_step` is also callable from C with the C export's prototype (`bind(C, name="rno_step")`, x_prev = NULL at
rest, returns 0 or 1 if out of memory). When calling it from several threads with gfortran, add `-frecursive`."""
    depvar = f"\n      *Depvar\n      {kn.k}," if kn.k else ""
    units = """Units: the model's stress is in MPa and its time in s, so the ABAQUS model must use a consistent system
with MPa and s, e.g. mm, s, N, MPa, tonne (magnesium: *Density 1.74e-9 tonne/mm^3)."""
    plural = "s" if kn.k != 1 else ""
    no_depvar = "; with k = 0 omit *Depvar" if kn.k == 0 else ""
    if fmt == "vumat":
        return f"""## ABAQUS/Explicit (VUMAT)

    abaqus job=JOB input=JOB.inp user=rno_vumat.f90 double=both

* `double=both` (or `double=explicit`) is required: the subroutine's reals are double precision.
* Material definition ({kn.k} state variable{plural}, the RNO's xi; more are carried unchanged{no_depvar}):

      *Material, name=RNO
      *Density
      1.74e-9,
      *User Material, constants=0{depvar}

* The file is free-form Fortran 2008 (module `rno_kernel`, then `vumat`). Its first line `!DIR$ FREEFORM` tells
  Intel Fortran (ABAQUS's compiler) to read it as free form; if your ABAQUS accepts only `.f`/`.for` names, rename
  it. Check with gfortran: `gfortran -std=f2008 -c rno_vumat.f90`.
* Conventions (ABAQUS/Explicit): symmetric tensors as 11, 22, 33, 12, 23, 31 with tensor (not engineering) shear;
  `stretchNew`/`stretchOld` = U of F = R U at the end/start of the increment in the corotational frame, `stressNew` =
  the corotational Cauchy stress R^T sigma R. The RNO's input x is {"U" if kn.input_name == "F" else "U - I"}
  (components 11, 12, 13, 22, 23, 33), x^(n-1) from `stretchOld`; stressNew = the model's stress at U.
  3D elements (ndir = nshr = 3); plane strain and axisymmetric (nshr = 1: U13 = U23 = 0) work too; plane stress
  is refused.
* State: `stateOld(:, 1:{kn.k})` = xi^(n-1), `stateNew(:, 1:{kn.k})` = xi^n.
* Data check (packaging call, stepTime = totalTime = 0): an elastic answer with the state unchanged: the model's
  stress at rest with xi = 0 at U = I + strainInc, i.e. its response to the fictitious strain from the reference
  state (its stiffness there gives ABAQUS the wave speed).
* Annealing (lanneal = 1): xi = 0, stress 0. enerInternNew integrates the stress power (trapezoid rule);
  enerInelasNew is carried unchanged.

{units}"""
    return f"""## ABAQUS/Standard (UMAT)

    abaqus job=JOB input=JOB.inp user=rno_umat.f90

* Material definition (the tangent is not symmetric: `unsymm`; {kn.k} state variable{plural}, the RNO's xi{no_depvar}):

      *Material, name=RNO
      *User Material, constants=0, unsymm{depvar}

  Use NLGEOM=YES and no *Orientation (the model reads the deformation gradient in global axes).
* The file is free-form Fortran 2008 (module `rno_kernel`, then `umat`). Its first line `!DIR$ FREEFORM` tells
  Intel Fortran (ABAQUS's compiler) to read it as free form; if your ABAQUS accepts only `.f`/`.for` names, rename
  it. Check with gfortran: `gfortran -std=f2008 -c rno_umat.f90`.
* Conventions (ABAQUS/Standard): STRESS and DDSDDE in the order 11, 22, 33, 12, 13, 23 (NSHR = 1: 11, 22, 33, 12),
  strains with engineering shear. F = R U by polar decomposition of DFGRD1 (of DFGRD0 for x^(n-1)); the RNO's
  input x is {"U" if kn.input_name == "F" else "U - I"}; STRESS = R sigma_model(U) R^T, the Cauchy stress.
* DDSDDE(i, q) = (1/J) d(J sigma_i)/d eps_q, the Jaumann-rate tangent of the Kirchhoff stress over J, by central
  differences over F(+-h) = (I +- h E_q) F with h = {abaqus.TANGENT_STEP!r} (E_q the unit strain of component q; for
  a shear, E_12 = (e1 e2 + e2 e1) / 2): the consistent tangent of the whole update, xi^n included. The 1 + 2 NTENS
  states are evaluated in one kernel call.
* State: STATEV(1:{kn.k}) = xi. DTIME = 0: at rest, xi unchanged. SSE, SPD, SCD, RPL, PNEWDT are not changed.

{units}"""


def written(paths: list[Path]) -> str:
    """One line per written file with its size."""
    return "\n".join(f"{p}  ({p.stat().st_size} bytes)" for p in paths)
