"""Fortran 2008 source of the RNO kernel: module rno_kernel (deploy.network.Kernel -> text).

    subroutine rno_step(nblock, x, xi_old, dt, x_prev, target, xi_new, stat)      (module procedure)
    integer(c_int) function rno_step(...) bind(C, name="rno_step")                 (C entry, rno_step_c)

do what learning.rno.RNO.step does in float64 for nblock points: x(n_comp, nblock), xi(k, nblock), target(n_out,
nblock), i.e. one point's values contiguous, as torch's (B, n) tensors and the C kernel (deploy.c99); x_prev absent
(C: NULL) means at rest. The C entry has the C kernel's prototype and return value (0, or 1 if out of memory).
"""
from __future__ import annotations

import math

import numpy as np

from .network import (CHUNK, LN2_HI, LN2_LO, LOG2E, MR, NR, SELU_NEG, SELU_SCALE, NORMALISATION, Kernel, describe,
                      literal, packed_layers)

PER_LINE = 4  # literals per line
PER_DATA = 1000  # literals per DATA statement: 250 lines, within the standard's 255 continuation lines


def real(v: float) -> str:
    """A real(dp) literal that reads back as exactly v."""
    return literal(v) + "_dp"


def parameter(name: str, values: np.ndarray, comment: str) -> str:
    """A named constant array (small arrays: the normalisation), one comment line above."""
    values = np.asarray(values, dtype=np.float64).ravel()
    items = [real(v) for v in values]
    lines = [", ".join(items[i:i + PER_LINE]) for i in range(0, len(items), PER_LINE)] or [""]
    body = ", &\n      ".join(lines)
    return f"  ! {comment}\n  real(dp), parameter :: {name}({values.size}) = [real(dp) :: &\n      {body}]\n"


def data(name: str, values: np.ndarray, comment: str) -> str:
    """A module array of these values, initialised by DATA statements of PER_DATA values each."""
    values = np.asarray(values, dtype=np.float64).ravel()
    out = [f"  ! {comment}\n  real(dp) :: {name}({values.size})\n"]
    for i in range(0, values.size, PER_DATA):
        chunk = [real(v) for v in values[i:i + PER_DATA]]
        lines = [", ".join(chunk[j:j + PER_LINE]) for j in range(0, len(chunk), PER_LINE)]
        body = ", &\n      ".join(lines)
        out.append(f"  data {name}({i + 1}:{i + len(chunk)}) / &\n      {body} /\n")
    return "".join(out)


def _net(name: str, layers, n_in: int) -> tuple[str, str, str, int]:
    """(declarations, the network's subroutine, the buffer that ends with the output, the padded output width)."""
    decls, calls = [], []
    bufs = ("a", "b")
    packed = packed_layers(layers, n_in)
    for i, (n_i, n_o, w, b, selu) in enumerate(packed, 1):
        true = layers[i - 1]
        what = f"{name}, layer {i}: {true.n_in} -> {true.n_out}" + (f" (padded to {n_o})" if n_o != true.n_out else "")
        decls.append(data(f"{name.upper()}_W{i}", w, what + ", weights in panels of MR rows"))
        decls.append(data(f"{name.upper()}_B{i}", b, what + ", bias"))
        src, dst = bufs[(i - 1) % 2], bufs[i % 2]
        calls.append(f"    call dense({n_i}, {n_o}, nblk, {name.upper()}_W{i}, {name.upper()}_B{i}, "
                     f"{'.true.' if selu else '.false.'}, {src}, {dst})")
    out = bufs[len(packed) % 2]
    sub = f"""
  !> {name} over nblk panels of NR points: input in a, output in {out} (the layers alternate between a and b)
  subroutine {name}_net(nblk, a, b)
    integer, intent(in) :: nblk
    real(dp), intent(inout), contiguous :: a(:), b(:)
{chr(10).join(calls)}
  end subroutine {name}_net
"""
    return "".join(decls), sub, out, packed[-1][1]


def _dense() -> str:
    rows = "\n".join(f"          acc(:, {r}) = acc(:, {r}) + w({r}, j, q) * h(:, j, blk)" for r in range(1, MR + 1))
    return f"""
  !> One layer over nblk panels of NR points: a = W h + b, then SELU if a hidden layer. Panels: h(c, j, blk) is
  !> input j of point (blk - 1) NR + c; the weights are in panels of MR rows, w(r, j, q) = W((q - 1) MR + r, j)
  !> (deploy/network.py), so the MR x NR products of a tile are summed in registers (acc).
  pure subroutine dense(n_in, n_out, nblk, w, b, selu, h, a)
    integer, intent(in) :: n_in, n_out, nblk
    real(dp), intent(in) :: w(MR, n_in, n_out / MR), b(n_out)
    logical, intent(in) :: selu
    real(dp), intent(in) :: h(NR, n_in, nblk)
    real(dp), intent(out) :: a(NR, n_out, nblk)
    real(dp) :: acc(NR, MR), neg
    integer :: blk, q, j, r, c
    do q = 1, n_out / MR  ! a panel of W stays in the L1 cache while the points pass
      do blk = 1, nblk
        do r = 1, MR
          acc(:, r) = b((q - 1) * MR + r)
        end do
        do j = 1, n_in
{rows}
        end do
        if (selu) then  ! torch's SELU: lambda a (a > 0), lambda alpha expm1(a) (a <= 0)
          do r = 1, MR
            do c = 1, NR
              neg = SELU_NEG * expm1_neg(min(acc(c, r), 0.0_dp))
              a(c, (q - 1) * MR + r, blk) = merge(SELU_SCALE * acc(c, r), neg, acc(c, r) > 0.0_dp)
            end do
          end do
        else
          a(:, (q - 1) * MR + 1:q * MR, blk) = acc
        end if
      end do
    end do
  end subroutine dense
"""


def network_parameters(width: int) -> str:
    """The module parameters of every generated network kernel (the RNO's here, the PCA-Net's in deploy.pca_net):
    register tiles, the padded width, SELU and the exp's reduction constants and 1/i! (its Taylor terms)."""
    taylor = "\n".join(f"  real(dp), parameter :: E{i} = {real(1.0 / math.factorial(i))}  ! 1 / {i}!"
                       for i in range(2, 14))
    return f"""\
  integer, parameter :: MR = {MR}  ! output rows per register tile (weight panels)
  integer, parameter :: NR = {NR}  ! points per register tile (activation panels)
  integer, parameter :: CHUNK = {CHUNK}  ! points evaluated together
  integer, parameter :: WIDTH = {width}  ! the widest layer, padded

  real(dp), parameter :: SELU_SCALE = {real(SELU_SCALE)}  ! torch's SELU: lambda
  real(dp), parameter :: SELU_NEG = {real(SELU_NEG)}  ! lambda alpha
  real(dp), parameter :: LOG2E = {real(LOG2E)}
  real(dp), parameter :: LN2_HI = {real(LN2_HI)}, LN2_LO = {real(LN2_LO)}  ! ln 2 = LN2_HI + LN2_LO
  real(dp), parameter :: MAGIC = 6755399441055744.0_dp  ! 1.5 2^52
  integer(int64), parameter :: ONE_BITS = 4607182418800017408_int64  ! the bits of 1.0_dp
{taylor}"""


def module(kernel: Kernel, source_name: str) -> str:
    """The text of module rno_kernel (file rno_kernel.f90, or the head of the ABAQUS files)."""
    kn = kernel
    ve = kn.variant == "ve"
    f_decl, f_sub, f_out, f_width = _net("f", kn.f, kn.n_in_f)
    g_decl, g_sub, g_out, g_width = _net("g", kn.g, kn.n_comp + kn.k) if kn.k else ("", "", "", 0)
    time = (f"  real(dp), parameter :: T_SCALE = {real(kn.t_scale)}  ! s: g / T_SCALE is dxi/dt in 1/s\n"
            f"  real(dp), parameter :: MAX_DT = {real(kn.max_dt)}  ! s; 0: no sub-steps\n") if kn.k else ""
    norm = "".join(parameter(name.upper(), getattr(kn, name), what) for name, what in NORMALISATION
                   if ve or not name.startswith("rate"))
    text = f"""\
! rno_kernel: the recurrent neural operator (RNO, Liu et al. 2023, Section 2) of
!   {source_name}
! generated by rno-export (deploy/fortran.py); do not edit, export again. Standard Fortran 2008, no library
! (expm1 is computed here).
!
! Forward Euler (eq. 3) of eq. (2), in real(dp) = float64, exactly learning.rno.RNO.step:
!   z      = (x - X_MEAN) / X_STD                        normalised input
!   xi^n   = xi^(n-1) + dt g(z^n, xi^(n-1)) / T_SCALE    eq. (3)_2
!   target = f(z^n, xi^n) STRESS_STD + STRESS_MEAN       eq. (2)_1, variant "evp"
!   target = f(z^n, r^n, xi^n) STRESS_STD + STRESS_MEAN  eq. (7), variant "ve"; r = ((x^n - x^(n-1)) / dt
!            - RATE_MEAN) / RATE_STD, r = 0 at rest
{describe(kn, "! ")}
module rno_kernel
  use, intrinsic :: iso_c_binding, only: c_int, c_double, c_ptr, c_associated, c_f_pointer
  use, intrinsic :: iso_fortran_env, only: int64
  implicit none
  private
  public :: rno_step, rno_step_c

  integer, parameter, public :: dp = c_double
  integer, parameter, public :: RNO_N_COMP = {kn.n_comp}  ! input components x
  integer, parameter, public :: RNO_K = {kn.k}  ! internal variables xi
  integer, parameter, public :: RNO_N_OUT = {kn.n_out}  ! target components, MPa
  character(len=*), parameter, public :: RNO_VARIANT = "{kn.variant}", RNO_TARGET = "{kn.target}"
  character(len=*), parameter, public :: RNO_INPUT = "{kn.input_name or 'unknown'}"

{network_parameters(max(kn.widths()))}
{time}
{norm}
{f_decl}{g_decl}
contains
{_helpers()}{f_sub}{g_sub}{_step(kn, f_out, f_width, g_out, g_width)}
  !> C entry (the prototype of deploy.c99's rno_step): arrays row-major (nblock, n), x_prev = NULL at rest;
  !> returns 0, or 1 if out of memory.
  integer(c_int) function rno_step_c(nblock, x, xi_old, dt, x_prev, target, xi_new) bind(C, name="rno_step")
    integer(c_int), value, intent(in) :: nblock
    real(c_double), intent(in) :: x(RNO_N_COMP, nblock), xi_old(RNO_K, nblock)
    real(c_double), value, intent(in) :: dt
    type(c_ptr), value, intent(in) :: x_prev
    real(c_double), intent(out) :: target(RNO_N_OUT, nblock), xi_new(RNO_K, nblock)
    real(c_double), pointer :: xp(:, :)
    integer :: stat
    if (c_associated(x_prev)) then
      call c_f_pointer(x_prev, xp, [RNO_N_COMP, int(nblock)])
      call rno_step(int(nblock), x, xi_old, dt, xp, target, xi_new, stat)
    else
      call rno_step(int(nblock), x, xi_old, dt, target=target, xi_new=xi_new, stat=stat)
    end if
    rno_step_c = int(stat, c_int)
  end function rno_step_c

end module rno_kernel
"""
    check_lines(text)
    return text


def _helpers() -> str:
    return f"""
  !> expm1(a) for a <= 0, branch-free so that loops over it vectorise: a = n ln2 + r (Cody-Waite), expm1(r) by
  !> its Taylor series to r^13 (|r| <= ln2 / 2: truncation < 1e-17 relative), 2^n from the exponent bits of
  !> n + MAGIC; within 1 ulp of libm's expm1. a < -45 is clamped: expm1(-45) = -1 to double precision.
  elemental function expm1_neg(a) result(e)
    real(dp), intent(in) :: a
    real(dp) :: e, t, u, n, r, p, s
    t = max(a, -45.0_dp)
    u = t * LOG2E + MAGIC  ! n = round(t / ln2) sits in the low bits of u
    n = u - MAGIC
    r = (t - n * LN2_HI) - n * LN2_LO
    p = r + r * r * (E2 + r * (E3 + r * (E4 + r * (E5 + r * (E6 + r * (E7 + r * (E8 + r * (E9 &
        + r * (E10 + r * (E11 + r * (E12 + r * E13)))))))))))
    s = transfer(shiftl(transfer(u, 0_int64), 52) + ONE_BITS, 1.0_dp)  ! 2^n
    e = s * p + (s - 1.0_dp)
  end function expm1_neg
{_dense()}
  !> vals(:, p) of np points into values col + 1.. of a panel buffer u of width n (nblk panels of NR points);
  !> the points of the last panel past np get 0.
  pure subroutine fill(u, n, nblk, col, vals, np)
    integer, intent(in) :: n, nblk, col, np
    real(dp), intent(inout) :: u(NR, n, nblk)
    real(dp), intent(in) :: vals(:, :)
    integer :: p
    u(:, col + 1:col + size(vals, 1), nblk) = 0.0_dp
    do p = 1, np
      u(mod(p - 1, NR) + 1, col + 1:col + size(vals, 1), (p - 1) / NR + 1) = vals(:, p)
    end do
  end subroutine fill

  !> The first count values of np points of a panel buffer u of width n.
  pure function take(u, n, nblk, count, np) result(vals)
    integer, intent(in) :: n, nblk, count, np
    real(dp), intent(in) :: u(NR, n, nblk)
    real(dp) :: vals(count, np)
    integer :: p
    do p = 1, np
      vals(:, p) = u(mod(p - 1, NR) + 1, 1:count, (p - 1) / NR + 1)
    end do
  end function take
"""


def _step(kn: Kernel, f_out: str, f_width: int, g_out: str, g_width: int) -> str:
    """rno_step: chunks of CHUNK points; per chunk the xi update (g, eq. 3_2) and the target (f, eq. 2_1 or 7)."""
    k, ve, nc = kn.k, kn.variant == "ve", kn.n_comp
    g_in, f_in = nc + k, kn.n_in_f
    declare = ["z(RNO_N_COMP, CHUNK)"] + (["z_prev(RNO_N_COMP, CHUNK)"] if k else []) + (
        ["v(RNO_N_COMP, CHUNK)"] if k or ve else []) + (["frac", "h"] if k else [])
    update = rate = xi_in = setup = ""
    substeps = ""
    if k:
        substeps = """
  !> Euler sub-steps of xi over a step dt (learning.rno.RNO._substeps).
  pure integer function substeps(dt)
    real(dp), intent(in) :: dt
    substeps = 1
    if (MAX_DT > 0.0_dp) substeps = max(1, int(ceiling(dt / MAX_DT - 1.0e-9_dp)))
  end function substeps
"""
        setup = """
    m = substeps(dt)
    h = dt / (real(m, dp) * T_SCALE)  ! dt / (m t_scale)"""
        update = f"""
      ! xi^n = xi^(n-1) + dt g(z, xi) / T_SCALE (eq. 3)_2, in m sub-steps with z linear from z^(n-1) to z^n
      z_prev(:, 1:np) = z(:, 1:np)
      if (present(x_prev)) then
        do p = 1, np
          z_prev(:, p) = (x_prev(:, p0 + p) - X_MEAN) / X_STD
        end do
      end if
      do s = 1, m
        frac = real(s, dp) / real(m, dp)
        v(:, 1:np) = z_prev(:, 1:np) + frac * (z(:, 1:np) - z_prev(:, 1:np))
        if (s == m) v(:, 1:np) = z(:, 1:np)
        call fill(a, {g_in}, nblk, 0, v, np)  ! g's input [z, xi], {g_in} values
        call fill(a, {g_in}, nblk, RNO_N_COMP, xi_new(:, p0 + 1:p0 + np), np)
        call g_net(nblk, a, b)
        xi_new(:, p0 + 1:p0 + np) = xi_new(:, p0 + 1:p0 + np) + h * take({g_out}, {g_width}, nblk, RNO_K, np)
      end do"""
        xi_in = f"\n      call fill(a, {f_in}, nblk, {2 * nc if ve else nc}, xi_new(:, p0 + 1:p0 + np), np)"
    if ve:
        rate = f"""
      v(:, 1:np) = 0.0_dp  ! the normalised rate r; 0 at rest
      if (present(x_prev)) then
        do p = 1, np
          v(:, p) = ((x(:, p0 + p) - x_prev(:, p0 + p)) / dt - RATE_MEAN) / RATE_STD
        end do
      end if
      call fill(a, {f_in}, nblk, RNO_N_COMP, v, np)"""
    return f"""
  !> One update (eq. 3) of nblock material points: x = x^n, xi_old = xi^(n-1), dt = t_n - t_(n-1) in s,
  !> x_prev = x^(n-1) (absent: at rest, rate 0); target^n in MPa and xi^n. stat: 0, or 1 if the work memory
  !> could not be allocated (absent: stop then).
  subroutine rno_step(nblock, x, xi_old, dt, x_prev, target, xi_new, stat)
    integer, intent(in) :: nblock
    real(dp), intent(in) :: x(RNO_N_COMP, nblock), xi_old(RNO_K, nblock), dt
    real(dp), intent(in), optional :: x_prev(RNO_N_COMP, nblock)
    real(dp), intent(out) :: target(RNO_N_OUT, nblock), xi_new(RNO_K, nblock)
    integer, intent(out), optional :: stat
    real(dp), allocatable :: a(:), b(:)  ! panel buffers of a network's layers
    real(dp) :: {", ".join(declare)}
    integer :: p0, np, nblk, p, err{", s, m" if k else ""}
    allocate(a(CHUNK * WIDTH), b(CHUNK * WIDTH), stat=err)
    if (present(stat)) stat = min(err, 1)
    if (err /= 0) then
      if (present(stat)) return
      error stop "rno_step: cannot allocate the work buffers"
    end if
    xi_new = xi_old{setup}
    do p0 = 0, nblock - 1, CHUNK
      np = min(CHUNK, nblock - p0)  ! points of this chunk
      nblk = (np + NR - 1) / NR  ! panels of NR points
      do p = 1, np
        z(:, p) = (x(:, p0 + p) - X_MEAN) / X_STD  ! normalised input
      end do{update}
      ! target = f([z, {"r, " if ve else ""}xi^n]) STRESS_STD + STRESS_MEAN: eq. {"(7)" if ve else "(2)_1"}
      call fill(a, {f_in}, nblk, 0, z, np)  ! f's input [z, {"r, " if ve else ""}xi], {f_in} values{rate}{xi_in}
      call f_net(nblk, a, b)
      target(:, p0 + 1:p0 + np) = take({f_out}, {f_width}, nblk, RNO_N_OUT, np)
      do p = p0 + 1, p0 + np
        target(:, p) = target(:, p) * STRESS_STD + STRESS_MEAN
      end do
    end do
  end subroutine rno_step
{substeps}"""

def check_lines(text: str) -> None:
    """ValueError if a line is longer than free form's 132 characters (a bug of this generator)."""
    long = [i for i, line in enumerate(text.splitlines(), 1) if len(line) > 132]
    if long:
        raise ValueError(f"generated Fortran has lines over 132 characters: {long[:5]}")
