"""ABAQUS user materials around the Fortran kernel (deploy.fortran): a VUMAT (Explicit) and a UMAT (Standard).

Both need a model of the Cauchy stress (target "stress") of a 3D input (x: the 6 components 11, 12, 13, 22, 23, 33
of F or strain, learning.data.component_names). The data of such a model have symmetric F = U (R = I), so the model
is a function of the stretch; it is made frame-indifferent by applying it to the right stretch U of F = R U:

    corotational stress  R^T sigma R = sigma_model(U)        (x from U: U itself for "F", U - I for "strain")
    Cauchy stress        sigma = R sigma_model(U) R^T

VUMAT (ABAQUS/Explicit, double precision): stretchNew/stretchOld (U at the end/start of the increment, components
11, 22, 33, 12, 23, 31, tensor shear) in, stressNew (corotational Cauchy stress, same order) out; xi are the first k
state variables. UMAT (ABAQUS/Standard): U, R by polar decomposition of DFGRD1 (and DFGRD0), STRESS = the Cauchy
stress (11, 22, 33, 12, 13, 23), DDSDDE by central differences (docs/export.md).
"""
from __future__ import annotations

from .fortran import check_lines, module
from .network import Kernel

#: model component (i, j), 0-based -> column of ABAQUS/Explicit's symmetric arrays (11, 22, 33, 12, 23, 31)
VUMAT_SLOT = {(0, 0): 1, (1, 1): 2, (2, 2): 3, (0, 1): 4, (1, 2): 5, (0, 2): 6}
#: the model's components of a 3D input, 0-based (learning.data.component_names(3)): 11, 12, 13, 22, 23, 33
COMPONENTS = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]
#: UMAT strain component -> the symmetric unit tensor (a, b) of its perturbation, 1-based
UMAT_BASIS = [(1, 1), (2, 2), (3, 3), (1, 2), (1, 3), (2, 3)]
#: central-difference strain step of the UMAT's DDSDDE
TANGENT_STEP = 1.0e-6

DIMENSION_WORDS = {1: "1D (1 component: 11)", 2: "2D (3 components: 11, 12, 22)"}


def check(kernel: Kernel, what: str) -> None:
    """ValueError unless the model can be an ABAQUS material (3D input, target "stress", input known)."""
    if kernel.d != 3:
        dim = DIMENSION_WORDS.get(kernel.d, f"not a symmetric 3 x 3 tensor ({kernel.n_comp} components)")
        raise ValueError(f"the {what} needs a model of a 3D input (6 components of a symmetric 3 x 3 tensor); "
                         f"this model's input is {dim}. Export it with --format c or --format fortran instead.")
    if kernel.target != "stress":
        raise ValueError(f"the {what} needs a model of the whole Cauchy stress (target 'stress'); this model predicts "
                         f"the {kernel.target!r} part alone. Export it with --format c or --format fortran instead.")
    if kernel.input_name not in ("F", "strain"):
        raise ValueError(f"the {what} needs to know whether the model's input is F or strain; the model directory "
                         "does not say (config.json data.input): pass --input F or --input strain")


def _gather(array: str, indent: str) -> str:
    """Statements x(m, :) = array(:, column) for the model's 6 components (shear 13, 23 only if nshr = 3)."""
    out = []
    for m, (i, j) in enumerate(COMPONENTS, 1):
        col = VUMAT_SLOT[(i, j)]
        line = f"x({m}, :) = {array}(:, {col})  ! {i + 1}{j + 1}"
        if col > 4:  # present only for nshr = 3
            line = f"x({m}, :) = 0.0_dp  ! {i + 1}{j + 1}\n{indent}if (nshr == 3) {line}"
        out.append(indent + line)
    return "\n".join(out)


def _shift(array: str, sign: str, indent: str) -> str:
    """Statements adding sign 1 to the diagonal components (11, 22, 33) of the model-ordered array."""
    return "\n".join(f"{indent}{array}({m}, :) = {array}({m}, :) {sign} 1.0_dp"
                     for m, (i, j) in enumerate(COMPONENTS, 1) if i == j)


def _variables(k: int) -> str:
    return f"{k} state variable{'s' if k != 1 else ''}"


def vumat_arguments(use: str) -> str:
    """The documented VUMAT argument list and its declarations (double precision), with the module `use` line: the
    opening of every VUMAT the project writes (the RNO's here, the Johnson-Cook law's in deploy.johnson_cook)."""
    return f"""subroutine vumat(nblock, ndir, nshr, nstatev, nfieldv, nprops, lanneal, stepTime, totalTime, dt, cmname, coordMp, &
    charLength, props, density, strainInc, relSpinInc, tempOld, stretchOld, defgradOld, fieldOld, stressOld, &
    stateOld, enerInternOld, enerInelasOld, tempNew, stretchNew, defgradNew, fieldNew, stressNew, stateNew, &
    enerInternNew, enerInelasNew)
  {use}
  implicit none
  integer, intent(in) :: nblock, ndir, nshr, nstatev, nfieldv, nprops, lanneal
  real(dp), intent(in) :: stepTime, totalTime, dt
  character(len=80), intent(in) :: cmname
  real(dp), intent(in) :: coordMp(nblock, *), charLength(nblock), props(nprops), density(nblock), &
      strainInc(nblock, ndir + nshr), relSpinInc(nblock, nshr), tempOld(nblock), stretchOld(nblock, ndir + nshr), &
      defgradOld(nblock, ndir + nshr + nshr), fieldOld(nblock, nfieldv), stressOld(nblock, ndir + nshr), &
      stateOld(nblock, nstatev), enerInternOld(nblock), enerInelasOld(nblock), tempNew(nblock), &
      stretchNew(nblock, ndir + nshr), defgradNew(nblock, ndir + nshr + nshr), fieldNew(nblock, nfieldv)
  real(dp), intent(inout) :: stressNew(nblock, ndir + nshr), stateNew(nblock, nstatev), enerInternNew(nblock), &
      enerInelasNew(nblock)
"""


def vumat_checks(tag: str, nstate: str, declare: str) -> str:
    """The run-time checks of a VUMAT: 3D, plane strain or axisymmetric elements only, and at least `nstate` state
    variables declared (`declare`: how many, in words, for the message)."""
    return f"""  if (ndir /= 3 .or. (nshr /= 3 .and. nshr /= 1)) &
    error stop "{tag} vumat: needs ndir = 3 and nshr = 3 or 1 (3D, plane strain, axisymmetric); no plane stress"
  if (nstatev < {nstate}) error stop "{tag} vumat: declare *Depvar with at least {declare}"
"""


#: enerInternNew of a VUMAT: the stress power by the trapezoid rule (needs locals work(nblock), i)
VUMAT_INTERNAL_ENERGY = """  ! specific internal energy: + (stressOld + stressNew) : strainInc / (2 density), shear components twice
  work = 0.0_dp
  do i = 1, ndir + nshr
    work = work + merge(1.0_dp, 2.0_dp, i <= ndir) * (stressOld(:, i) + stressNew(:, i)) * strainInc(:, i)
  end do
  enerInternNew = enerInternOld + work / (2.0_dp * density)
"""


def vumat_scatter(indent: str) -> str:
    """Fortran lines writing the model's stress sigma(6, nblock) (11, 12, 13, 22, 23, 33) into stressNew (11, 22,
    33, 12, 23, 31); the out-of-plane shears only when nshr = 3."""
    lines = []
    for m, (i, j) in enumerate(COMPONENTS, 1):
        col = VUMAT_SLOT[(i, j)]
        line = f"stressNew(:, {col}) = sigma({m}, :)  ! {i + 1}{j + 1}"
        lines.append(indent + ("if (nshr == 3) " if col > 4 else "") + line)
    return "\n".join(lines)


def vumat_closing() -> str:
    """The end of the network VUMATs (the RNO's here, the PCA-Net's in deploy.pca_net): enerInternNew by the
    trapezoid rule, enerInelasNew carried, and the contained ``gather(a)`` that fills x (the model's components) from
    an ABAQUS symmetric array."""
    return f"""{VUMAT_INTERNAL_ENERGY}  enerInelasNew = enerInelasOld

contains

  !> x: the components (11, 12, 13, 22, 23, 33) of an ABAQUS symmetric array a (11, 22, 33, 12, 23, 31) in the
  !> model's order; 13 and 23 are 0 when nshr = 1.
  subroutine gather(a)
    real(dp), intent(in) :: a(nblock, ndir + nshr)
{_gather("a", "    ")}
  end subroutine gather

end subroutine vumat
"""


def vumat(kernel: Kernel, source_name: str) -> str:
    """rno_vumat.f90: module rno_kernel and subroutine vumat."""
    check(kernel, "VUMAT")
    strain = kernel.input_name == "strain"
    scatter = vumat_scatter("    ")
    if strain:
        check_input = "    ! strain input: x = U - I = strainInc"
        to_strain = ("\n    ! strain input: x = U - I\n" + _shift("x", "-", "    ") + "\n"
                     + _shift("x_prev", "-", "    "))
    else:
        check_input = "    ! F input: x = U = I + strainInc\n" + _shift("x", "+", "    ")
        to_strain = ""
    arguments = vumat_arguments("use rno_kernel, only: dp, rno_step, RNO_N_COMP, RNO_K, RNO_N_OUT")
    checks = vumat_checks("rno", "RNO_K", f"{_variables(kernel.k)} (the RNO's xi)")
    text = module(kernel, source_name) + f"""

!> ABAQUS/Explicit user material: the RNO of module rno_kernel at nblock material points (paper Section 7).
!> Documented VUMAT argument list; reals are double precision (run ABAQUS/Explicit with double=both).
!> In: stretchNew, stretchOld = U at the end and start of the increment (11, 22, 33, 12, 23, 31, tensor shear),
!> stateOld(:, 1:{kernel.k}) = xi^(n-1), dt. Out: stressNew = the corotational Cauchy stress R^T sigma R = the model's
!> stress at U (MPa), stateNew(:, 1:{kernel.k}) = xi^n; state variables past {kernel.k} are carried unchanged.
!> Data-check (packaging) call, stepTime = totalTime = 0: an elastic answer with the state unchanged, the model's
!> stress at rest with xi = 0 at U = I + strainInc (its response to the fictitious strain from the reference state).
!> Annealing (lanneal = 1): xi = 0 and stress 0 (the reference state).
!> enerInternNew: the stress power integrated by the trapezoid rule; enerInelasNew is carried unchanged.
{arguments}  real(dp) :: x(RNO_N_COMP, nblock), x_prev(RNO_N_COMP, nblock), xi_old(RNO_K, nblock), xi_new(RNO_K, nblock), &
      sigma(RNO_N_OUT, nblock), work(nblock)
  integer :: i, stat

{checks}
  if (nstatev > RNO_K) stateNew(:, RNO_K + 1:) = stateOld(:, RNO_K + 1:)
  if (stepTime == 0.0_dp .and. totalTime == 0.0_dp) then
    ! data check: elastic answer, state unchanged
    call gather(strainInc)
{check_input}
    xi_old = 0.0_dp
    call rno_step(nblock, x, xi_old, 0.0_dp, target=sigma, xi_new=xi_new, stat=stat)
    stateNew(:, 1:RNO_K) = stateOld(:, 1:RNO_K)
  else if (lanneal == 1) then
    ! annealing: back to the reference state
    sigma = 0.0_dp
    stateNew(:, 1:RNO_K) = 0.0_dp
    stat = 0
  else
    ! one update, eq. (3): x^n from U at the end, x^(n-1) from U at the start of the increment
    call gather(stretchOld)
    x_prev = x
    call gather(stretchNew){to_strain}
    xi_old = transpose(stateOld(:, 1:RNO_K))
    call rno_step(nblock, x, xi_old, dt, x_prev, sigma, xi_new, stat)
    stateNew(:, 1:RNO_K) = transpose(xi_new)
  end if
  if (stat /= 0) error stop "rno vumat: out of memory"
{scatter}

{vumat_closing()}"""
    check_lines(text)
    return text


def umat(kernel: Kernel, source_name: str) -> str:
    """rno_umat.f90: module rno_kernel and subroutine umat."""
    check(kernel, "UMAT")
    minus = " - 1.0_dp" if kernel.input_name == "strain" else ""  # x = U - I for a strain input
    to_x = "\n".join(f"    x({m}, p) = u({i + 1}, {j + 1}, p){minus if i == j else ''}  ! {i + 1}{j + 1}"
                     for m, (i, j) in enumerate(COMPONENTS, 1))
    to_x_prev = "\n".join(f"      x_prev({m}, p) = u0({i + 1}, {j + 1}){minus if i == j else ''}"
                          for m, (i, j) in enumerate(COMPONENTS, 1))
    from_sigma = "\n".join(f"    s({i + 1}, {j + 1}) = sigma({m}, p)"
                           + (f"\n    s({j + 1}, {i + 1}) = sigma({m}, p)" if i != j else "")
                           for m, (i, j) in enumerate(COMPONENTS, 1))
    basis = ", ".join(f"{a}, {b}" for a, b in UMAT_BASIS)
    text = module(kernel, source_name) + f"""

!> ABAQUS/Standard user material: the RNO of module rno_kernel at one material point (paper Section 7).
!> F = R U by polar decomposition of DFGRD1 (and of DFGRD0 for x^(n-1)); xi = STATEV(1:{kernel.k}) (later ones are
!> not touched). STRESS = R sigma_model(U) R^T, the Cauchy stress (11, 22, 33, 12, 13, 23; 11, 22, 33, 12 when
!> NSHR = 1). DDSDDE(i, q) = (1/J) d(J sigma_i)/d eps_q (the Jaumann-rate Kirchhoff tangent over J), by central
!> differences over the perturbations F(+-h) = (I +- h E_q) F, E_q the unit strain of component q (engineering
!> shear: E_12 = (e1 e2 + e2 e1) / 2), h = {TANGENT_STEP!r}: the consistent tangent of the whole update, xi^n included.
!> It is not symmetric: declare *User Material, unsymm. DTIME = 0: at rest (rate 0), xi unchanged.
!> SSE, SPD, SCD, RPL and PNEWDT are not changed.
subroutine umat(stress, statev, ddsdde, sse, spd, scd, rpl, ddsddt, drplde, drpldt, stran, dstran, time, dtime, &
    temp, dtemp, predef, dpred, cmname, ndi, nshr, ntens, nstatv, props, nprops, coords, drot, pnewdt, celent, &
    dfgrd0, dfgrd1, noel, npt, layer, kspt, jstep, kinc)
  use rno_kernel, only: dp, rno_step, RNO_N_COMP, RNO_K, RNO_N_OUT
  implicit none
  character(len=80), intent(in) :: cmname
  integer, intent(in) :: ndi, nshr, ntens, nstatv, nprops, noel, npt, layer, kspt, jstep(*), kinc
  real(dp), intent(inout) :: stress(ntens), statev(nstatv), ddsdde(ntens, ntens), sse, spd, scd, rpl, &
      ddsddt(ntens), drplde(ntens), drpldt, pnewdt
  real(dp), intent(in) :: stran(ntens), dstran(ntens), time(2), dtime, temp, dtemp, predef(*), dpred(*), &
      props(nprops), coords(3), drot(3, 3), celent, dfgrd0(3, 3), dfgrd1(3, 3)
  real(dp), parameter :: H = {TANGENT_STEP!r}_dp  ! strain step of the central differences
  integer, parameter :: BASIS(2, 6) = reshape([{basis}], [2, 6])  ! E_q = sym(e_a e_b)
  integer, parameter :: NP = 13  ! points: F and F(+-h) for 6 components
  real(dp) :: f(3, 3, NP), r(3, 3, NP), u(3, 3, NP), r0(3, 3), u0(3, 3), e(3, 3), s(3, 3), jac(NP)
  real(dp) :: x(RNO_N_COMP, NP), x_prev(RNO_N_COMP, NP), xi_old(RNO_K, NP), xi_new(RNO_K, NP), &
      sigma(RNO_N_OUT, NP), cauchy(6, NP)
  integer :: n, p, q, stat

  if (ndi /= 3 .or. (nshr /= 3 .and. nshr /= 1)) &
    error stop "rno umat: needs NDI = 3 and NSHR = 3 or 1 (3D, plane strain, axisymmetric); no plane stress"
  if (nstatv < RNO_K) error stop "rno umat: declare *Depvar with at least {_variables(kernel.k)} (the RNO's xi)"
  n = 1 + 2 * ntens
  f(:, :, 1) = dfgrd1
  do q = 1, ntens
    e = 0.0_dp
    e(BASIS(1, q), BASIS(2, q)) = e(BASIS(1, q), BASIS(2, q)) + 0.5_dp
    e(BASIS(2, q), BASIS(1, q)) = e(BASIS(2, q), BASIS(1, q)) + 0.5_dp
    f(:, :, 2 * q) = dfgrd1 + H * matmul(e, dfgrd1)
    f(:, :, 2 * q + 1) = dfgrd1 - H * matmul(e, dfgrd1)
  end do
  do p = 1, n
    call polar(f(:, :, p), r(:, :, p), u(:, :, p))
{to_x}
    xi_old(:, p) = statev(1:RNO_K)
  end do
  if (dtime > 0.0_dp) then
    call polar(dfgrd0, r0, u0)
    do p = 1, n
{to_x_prev}
    end do
    call rno_step(n, x(:, 1:n), xi_old(:, 1:n), dtime, x_prev(:, 1:n), sigma(:, 1:n), xi_new(:, 1:n), stat)
  else
    call rno_step(n, x(:, 1:n), xi_old(:, 1:n), 0.0_dp, target=sigma(:, 1:n), xi_new=xi_new(:, 1:n), stat=stat)
  end if
  if (stat /= 0) error stop "rno umat: out of memory"
  do p = 1, n
{from_sigma}
    s = matmul(r(:, :, p), matmul(s, transpose(r(:, :, p))))  ! Cauchy stress R sigma_model R^T
    cauchy(:, p) = [s(1, 1), s(2, 2), s(3, 3), s(1, 2), s(1, 3), s(2, 3)]  ! ABAQUS/Standard's order
    jac(p) = det3(f(:, :, p))
  end do
  stress = cauchy(1:ntens, 1)
  statev(1:RNO_K) = xi_new(:, 1)
  do q = 1, ntens  ! (1/J) d(J sigma)/d eps_q: central differences of the Kirchhoff stress
    ddsdde(:, q) = (jac(2 * q) * cauchy(1:ntens, 2 * q) - jac(2 * q + 1) * cauchy(1:ntens, 2 * q + 1)) &
        / (2.0_dp * H * jac(1))
  end do

contains

  !> Polar decomposition F = R U (det F > 0): Newton's iteration R <- (R + R^-T) / 2 from R = F (quadratic
  !> convergence, to round-off), then U = sym(R^T F).
  pure subroutine polar(f, r, u)
    real(dp), intent(in) :: f(3, 3)
    real(dp), intent(out) :: r(3, 3), u(3, 3)
    real(dp) :: next(3, 3)
    integer :: it
    r = f
    do it = 1, 100
      next = 0.5_dp * (r + cofactor(r) / det3(r))  ! R^-T = cof(R) / det R
      if (maxval(abs(next - r)) <= 4.0_dp * epsilon(1.0_dp)) then
        r = next
        exit
      end if
      r = next
    end do
    u = matmul(transpose(r), f)
    u = 0.5_dp * (u + transpose(u))
  end subroutine polar

  pure function cofactor(a) result(c)
    real(dp), intent(in) :: a(3, 3)
    real(dp) :: c(3, 3)
    c(1, 1) = a(2, 2) * a(3, 3) - a(2, 3) * a(3, 2)
    c(1, 2) = a(2, 3) * a(3, 1) - a(2, 1) * a(3, 3)
    c(1, 3) = a(2, 1) * a(3, 2) - a(2, 2) * a(3, 1)
    c(2, 1) = a(1, 3) * a(3, 2) - a(1, 2) * a(3, 3)
    c(2, 2) = a(1, 1) * a(3, 3) - a(1, 3) * a(3, 1)
    c(2, 3) = a(1, 2) * a(3, 1) - a(1, 1) * a(3, 2)
    c(3, 1) = a(1, 2) * a(2, 3) - a(1, 3) * a(2, 2)
    c(3, 2) = a(1, 3) * a(2, 1) - a(1, 1) * a(2, 3)
    c(3, 3) = a(1, 1) * a(2, 2) - a(1, 2) * a(2, 1)
  end function cofactor

  pure real(dp) function det3(a)
    real(dp), intent(in) :: a(3, 3)
    det3 = a(1, 1) * (a(2, 2) * a(3, 3) - a(2, 3) * a(3, 2)) - a(1, 2) * (a(2, 1) * a(3, 3) - a(2, 3) * a(3, 1)) &
        + a(1, 3) * (a(2, 1) * a(3, 2) - a(2, 2) * a(3, 1))
  end function det3

end subroutine umat
"""
    check_lines(text)
    return text
