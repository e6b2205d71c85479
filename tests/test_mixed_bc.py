"""The mixed-boundary-condition driver (mechanics/mixed_bc.py) and its material adapters (taylor/material.py,
learning/material.py): analytical uniaxial stress of elastic solids, prescribed components held, failures named."""
import numpy as np
import pytest
from scipy.optimize import brentq

from mechanics import mixed_bc as mb
from mechanics.johnson_cook import JohnsonCook

MU, KAPPA = 17300.0, 35200.0  # MPa (the Mg Hill average, docs/taylor.md)
NU = (3 * KAPPA - 2 * MU) / (2 * (3 * KAPPA + MU))
E = 9 * KAPPA * MU / (3 * KAPPA + MU)


def held(res, sigma_target, mask, rtol):
    """The prescribed stresses hold to the driver's tolerance at every step after t = 0."""
    s = mb.to_components(res["stress"])[:, 1:]
    tol = rtol * np.maximum(1.0, np.linalg.norm(res["stress"][:, 1:], axis=(-1, -2)))
    err = np.where(mask[:, 1:], np.abs(s - sigma_target[:, 1:]), 0.0).max(-1)
    return bool(np.all(err <= tol)) and bool(np.all(np.isfinite(res["stress"])))


@pytest.mark.parametrize("use_tangent", [True, False])
def test_neo_hookean_uniaxial_small_strain_gives_poisson_ratio(use_tangent):
    eps = np.array([[0.0, 5e-6, 1e-5], [0.0, -5e-6, -1e-5]])
    F, S, M = mb.uniaxial_stress(eps)
    res = mb.drive(mb.NeoHookean(MU, KAPPA), [0.0, 1.0, 2.0], F, S, M, use_tangent=use_tangent)
    assert res["converged"].all() and held(res, S, M, 1e-8)
    lateral = np.log(res["F"][:, -1, 1, 1]) / eps[:, -1]
    assert lateral == pytest.approx([-NU, -NU], rel=1e-4)
    assert res["F"][:, -1, 2, 2] == pytest.approx(res["F"][:, -1, 1, 1], rel=1e-12)
    assert res["stress"][:, -1, 0, 0] / eps[:, -1] == pytest.approx([E, E], rel=1e-4)
    offdiag = res["F"][:, -1] - np.diag(np.diag(res["F"][0, -1]))
    assert np.abs(offdiag[:, [0, 0, 1], [1, 2, 2]]).max() < 1e-12


@pytest.mark.parametrize("use_tangent", [True, False])
def test_neo_hookean_uniaxial_finite_strain_matches_the_scalar_closed_form(use_tangent):
    """F = diag(l, t, t): sigma_22 = mu J^(-5/3) (t^2 - l^2)/3 + kappa (J - 1) = 0, J = l t^2 (solved by brentq)."""
    eps = np.stack([np.linspace(0, 0.3, 7), np.linspace(0, -0.3, 7)])
    F, S, M = mb.uniaxial_stress(eps)
    res = mb.drive(mb.NeoHookean(MU, KAPPA), np.linspace(0, 6, 7), F, S, M, use_tangent=use_tangent, rtol=1e-12)
    assert res["converged"].all() and held(res, S, M, 1e-12)
    for b in range(2):
        for n in range(1, 7):
            lam = np.exp(eps[b, n])

            def lateral(t):
                J = lam * t * t
                return MU * J ** (-5 / 3) * (t * t - lam * lam) / 3 + KAPPA * (J - 1)
            t = brentq(lateral, 0.5, 1.5, xtol=1e-15)
            assert res["F"][b, n, 1, 1] == pytest.approx(t, rel=1e-10, abs=0)
            J = lam * t * t
            s11 = MU * J ** (-5 / 3) * 2 * (lam * lam - t * t) / 3 + KAPPA * (J - 1)
            assert res["stress"][b, n, 0, 0] == pytest.approx(s11, rel=1e-9)


def test_hencky_elastic_uniaxial_lateral_stretch_is_exactly_the_power_minus_nu():
    """JC with a huge A is the Hencky solid: ln t = -nu ln l at any strain; sigma_11 = E ln l / J."""
    jc = JohnsonCook(mu=MU, kappa=KAPPA, A=1e9, B=0.0, n=1.0, C=0.0, eps_dot_0=1.0)
    eps = np.stack([np.linspace(0, 0.4, 5), np.linspace(0, -0.4, 5)])
    F, S, M = mb.uniaxial_stress(eps)
    res = mb.drive(jc, np.linspace(0, 4, 5), F, S, M, rtol=1e-12)
    assert res["converged"].all() and held(res, S, M, 1e-12)
    assert np.log(res["F"][:, 1:, 1, 1]) == pytest.approx(-jc.poisson_ratio * eps[:, 1:], rel=1e-9)
    J = np.exp((1 - 2 * jc.poisson_ratio) * eps)
    assert res["stress"][:, 1:, 0, 0] == pytest.approx((E * eps / J)[:, 1:], rel=1e-9)


def test_jc_uniaxial_stress_with_linear_hardening_matches_the_closed_form():
    """C = 0, n = 1, monotonic uniaxial stress (fixed principal axes: small-strain J2 in log strains):
    tau = E (eps - eps_p) = A + B eps_p, so eps_p = (E eps - A)/(E + B); sigma = tau / J, ln J = (1 - 2 nu) tau/E."""
    A, B = 100.0, 500.0
    jc = JohnsonCook(mu=MU, kappa=KAPPA, A=A, B=B, n=1.0, C=0.0, eps_dot_0=1.0)
    eps = np.stack([np.linspace(0, 0.1, 21), np.linspace(0, -0.1, 21)])
    F, S, M = mb.uniaxial_stress(eps)
    res = mb.drive(jc, np.linspace(0, 20, 21), F, S, M, rtol=1e-12)
    assert res["converged"].all() and held(res, S, M, 1e-12)
    e = np.abs(eps[:, -1])
    eps_p = (E * e - A) / (E + B)
    tau = A + B * eps_p
    assert res["state"]["eps_p"] == pytest.approx(eps_p, rel=1e-9)
    J = np.exp((1 - 2 * jc.poisson_ratio) * tau / E * np.sign(eps[:, -1]))
    assert res["stress"][:, -1, 0, 0] == pytest.approx(np.sign(eps[:, -1]) * tau / J, rel=1e-9)


def test_mixed_components_per_path_and_step_are_held():
    """Two paths with different controls that switch in time: prescribed F components exact, stresses to tol."""
    jc = JohnsonCook(mu=MU, kappa=KAPPA, A=80.0, B=300.0, n=0.4, C=0.02, eps_dot_0=1e-3)
    T = 9
    time = np.linspace(0, 8, T)
    F = np.broadcast_to(mb.to_components(np.eye(3)), (2, T, 6)).copy()
    S = np.zeros((2, T, 6))
    M = np.ones((2, T, 6), bool)
    # path 0: F_11 ramps, sigma_12 = 30 MPa prescribed, the rest zero stress; from step 5 F_12 is held instead
    F[0, :, 0] = 1 + np.linspace(0, 0.03, T)
    M[0, :, 0] = False
    S[0, :, 1] = 30.0
    M[0, 5:, 1] = False
    F[0, 5:, 1] = 0.004
    # path 1: shear F_23 prescribed, sigma_11 = -50 MPa, all other components stress controlled
    F[1, :, 4] = np.linspace(0, 0.02, T)
    M[1, :, 4] = False
    S[1, :, 0] = -50.0
    res = mb.drive(jc, time, F, S, M, rtol=1e-9)
    assert res["converged"].all() and held(res, S, M, 1e-9)
    x = mb.to_components(res["F"])
    assert np.array_equal(x[:, 1:][~M[:, 1:]], F[:, 1:][~M[:, 1:]])
    assert res["state"]["eps_p"].min() > 0  # both paths yield
    assert np.allclose(res["F"], np.swapaxes(res["F"], -1, -2))


class _FailsAt:
    """Neo-Hookean that fails (NaN stress) for point ``path`` once F_11 exceeds ``F11``."""

    def __init__(self, path, F11):
        self.inner, self.path, self.F11 = mb.NeoHookean(MU, KAPPA), path, F11

    def initial_state(self, batch):
        return {"id": np.arange(batch)}

    def update(self, F_prev, F, dt, state):
        s, _ = self.inner.update(F_prev, F, dt, {})
        s[(state["id"] == self.path) & (F[:, 0, 0] > self.F11)] = np.nan
        return s, state


def test_a_failed_update_is_named_or_recorded_never_nan():
    eps = np.stack([np.linspace(0, 0.05, 6)] * 3)
    F, S, M = mb.uniaxial_stress(eps)
    mat = _FailsAt(path=1, F11=np.exp(0.025))
    with pytest.raises(mb.MixedBCError, match=r"path 1, step 3") as err:
        mb.drive(mat, np.arange(6.0), F, S, M)
    assert (err.value.path, err.value.step) == (1, 3)
    res = mb.drive(mat, np.arange(6.0), F, S, M, on_failure="record")
    assert list(res["failed_step"]) == [-1, 3, -1] and list(res["converged"]) == [True, False, True]
    assert np.all(np.isfinite(res["stress"])) and np.all(np.isfinite(res["F"]))
    assert np.array_equal(res["F"][1, 3:], np.broadcast_to(res["F"][1, 2], (3, 3, 3)))
    assert "path 1, step 3" in res["errors"][0]


def test_newton_that_does_not_converge_names_path_and_step():
    jc = JohnsonCook(mu=MU, kappa=KAPPA, A=50.0, B=200.0, n=0.5, C=0.0, eps_dot_0=1.0)
    F, S, M = mb.uniaxial_stress(np.stack([np.linspace(0, 0.05, 4)] * 2))
    with pytest.raises(mb.MixedBCError, match=r"path 0, step 1: .*did not converge in 1 iterations"):
        mb.drive(jc, np.arange(4.0), F, S, M, max_iter=1, rtol=1e-12)


def test_bad_paths_raise():
    F, S, M = mb.uniaxial_stress(np.linspace(0, 0.01, 3)[None])
    with pytest.raises(ValueError, match="increasing"):
        mb.drive(mb.NeoHookean(MU, KAPPA), [0.0, 1.0, 1.0], F, S, M)
    with pytest.raises(ValueError, match=r"\(B, 3, 6\)"):
        mb.drive(mb.NeoHookean(MU, KAPPA), [0.0, 1.0, 2.0], F[..., :5], S, M)


def test_tangent_of_neo_hookean_matches_finite_differences():
    rng = np.random.default_rng(3)
    F = np.eye(3) + 0.1 * rng.normal(size=(4, 3, 3))
    mat = mb.NeoHookean(MU, KAPPA)
    T = mat.tangent(F, F, 1.0, {}, {})
    h = 1e-6
    for k in range(3):
        for l in range(3):
            dF = np.zeros((3, 3))
            dF[k, l] = h
            fd = (mat.update(F, F + dF, 1.0, {})[0] - mat.update(F, F - dF, 1.0, {})[0]) / (2 * h)
            assert T[..., k, l] == pytest.approx(fd, rel=1e-6, abs=1e-3)
    # the driver's 6 x 6 Jacobian: a unit change of x_d moves F_kl and F_lk together
    U = 0.5 * (F + np.swapaxes(F, -1, -2))
    Jac = mb.symmetric_columns(mat.tangent(U, U, 1.0, {}, {}))
    for d in range(6):
        dU = mb.from_components(h * np.eye(6)[d])
        fd = mb.to_components(mat.update(U, U + dU, 1.0, {})[0] - mat.update(U, U - dU, 1.0, {})[0]) / (2 * h)
        assert Jac[..., d] == pytest.approx(fd, rel=1e-6, abs=1e-3)


# ----------------------------------------------------------------------------------------------- adapters

def _taylor_material(n_grains, exact_tangent=False):
    from dataset.case import Case
    from taylor.material import TaylorMaterial
    from taylor.uniaxial import MAIN_CASE

    return TaylorMaterial.from_case(Case("taylor_mg", "mixed_bc", {**MAIN_CASE, "n_grains": n_grains}), tol=1e-8,
                                    exact_tangent=exact_tangent)


@pytest.mark.parametrize("exact_tangent", [False, True])
def test_taylor_mg_adapter_holds_uniaxial_stress_and_equals_the_producer(exact_tangent):
    from taylor.magnesium import taylor_paths

    taylor_material = _taylor_material(3, exact_tangent)
    assert hasattr(taylor_material, "tangent") == exact_tangent
    time = np.linspace(0, 4, 5)
    eps = np.stack([np.linspace(0, 0.02, 5), np.linspace(0, -0.02, 5)])  # 5e-3 /s, beyond yield
    F, S, M = mb.uniaxial_stress(eps)
    res = mb.drive(taylor_material, time, F, S, M, rtol=1e-6)
    assert res["converged"].all() and held(res, S, M, 1e-6)
    assert res["state"]["e"].sum(-1).min() > 1e-3  # the grains slip
    assert res["stress"][0, -1, 0, 0] > 50 and res["stress"][1, -1, 0, 0] < -50
    # the adapter is the producer's step: the producer on the driver's F path gives the same stress
    stress, *_, failed = taylor_paths(res["F"], time, taylor_material.schmid, taylor_material.params, tol=1e-8)
    assert (failed < 0).all()
    assert np.abs(stress - res["stress"]).max() < 1e-9


#: the small-strain elasticity that _random_rno's stress model has at F = I (MPa)
RNO_MU, RNO_LAMBDA = 1000.0, 1500.0


def test_taylor_mg_uniaxial_stress_agrees_with_taylor_uniaxial():
    """Two independent solvers of the same boundary-value problem: this driver and taylor/uniaxial.py."""
    from taylor.uniaxial import strain_grid, uniaxial

    mat = _taylor_material(4)
    mag = strain_grid(0.05, d_fine=2e-3, eps_fine=0.01, d_coarse=1e-2)
    strain, time = np.stack([mag, -mag]), mag / 5e-3
    ref = uniaxial(strain, time, mat.schmid, mat.params, tol=1e-8, stress_tol=1e-5)
    F, S, M = mb.uniaxial_stress(strain)
    res = mb.drive(mat, time, F, S, M, rtol=1e-7)
    assert ref["converged"].all() and res["converged"].all()
    assert np.abs(ref["sigma"] - res["stress"]).max() < 1e-4  # MPa, of ~130 MPa
    assert np.abs(ref["F"] - res["F"]).max() < 1e-8


def test_a_failed_step_is_cut_back_cyclic_taylor_mg():
    """Reversed uniaxial stress in 1 % steps: the crystal fails on the first iterate of a step without cut-back;
    with it (failed paths only, 2, 4, ... sub-steps) the path converges and the zero stresses hold."""
    mat = _taylor_material(3)
    eps = np.array([[0, 0.01, 0.02, 0.01, 0.0, -0.01, -0.02]])
    F, S, M = mb.uniaxial_stress(eps)
    plain = mb.drive(mat, np.arange(7.0), F, S, M, rtol=1e-6, max_cutback=0, on_failure="record")
    assert plain["failed_step"][0] > 0 and np.all(np.isfinite(plain["stress"]))
    res = mb.drive(mat, np.arange(7.0), F, S, M, rtol=1e-6)
    assert res["converged"].all() and held(res, S, M, 1e-6) and res["substeps"].max() > 1
    assert res["stress"][0, 2, 0, 0] > 50 and res["stress"][0, -1, 0, 0] < -50  # tension, then compression


def _random_rno(target="stress", k=2, variant="evp", seed=0):
    """A small random RNO for F paths near I (x_std 0.1, stresses ~100 MPa, slow xi: t_scale 1000 s), stress free at
    F = I, whose last layer is set (least squares) so that its linearisation at F = I, xi = 0 is isotropic elasticity
    (RNO_MU, RNO_LAMBDA; a pressure model: p = -kappa tr(F - I)): random and nonlinear, but well posed."""
    import torch

    from learning.rno import RNO

    torch.manual_seed(seed)
    model = RNO(6, k, variant=variant, hidden=(16, 16), target=target)
    gen = torch.Generator().manual_seed(seed)
    model.init_weights(gen)
    x0 = torch.tensor([[1.0, 0, 0, 1, 0, 1]])
    diag = torch.tensor([1.0, 0, 0, 1, 0, 1])
    if target == "pressure":
        K = -(RNO_LAMBDA + 2 * RNO_MU / 3) * diag[None]  # dp/dx
    else:
        K = 2 * RNO_MU * torch.eye(6)
        if target == "stress":
            K = K + RNO_LAMBDA * diag[:, None] * diag[None]
        else:  # deviatoric: 2 mu dev eps
            K = K - 2 * RNO_MU / 3 * diag[:, None] * diag[None]
    with torch.no_grad():
        for layer in model.modules():  # random biases: off SELU's kink at 0, where the zero-bias network sits at F = I
            if isinstance(layer, torch.nn.Linear):
                layer.bias.copy_(torch.randn(layer.bias.shape, generator=gen))
        model.x_mean.copy_(x0[0])
        model.x_std.fill_(0.1)
        model.stress_std.fill_(100.0)
        model.t_scale.fill_(1000.0)
        n_rate = 6 if variant == "ve" else 0
        hidden = torch.nn.Sequential(*list(model.f)[:-1])  # the network up to its last linear layer
        D = torch.autograd.functional.jacobian(lambda z: hidden(torch.cat([z, torch.zeros(n_rate + k)])),
                                               torch.zeros(6))  # (16, 6)
        model.f[-1].weight.copy_(K * 0.1 / 100.0 @ torch.linalg.pinv(D))
        s0, _ = model.step(x0, model.initial_state(x0), torch.tensor(0.0))
        model.stress_mean.sub_(s0[0])
    return model


@pytest.mark.parametrize("variant", ["evp", "ve"])
def test_rno_adapter_holds_uniaxial_stress(variant):
    import torch

    from learning.material import RNOMaterial

    torch.set_num_threads(1)
    mat = RNOMaterial(_random_rno(variant=variant))
    time = np.linspace(0, 4, 5)
    F, S, M = mb.uniaxial_stress(np.stack([np.linspace(0, 0.02, 5), np.linspace(0, -0.02, 5)]))
    for use_tangent in (True, False):
        res = mb.drive(mat, time, F, S, M, use_tangent=use_tangent)
        assert res["converged"].all() and held(res, S, M, 1e-8)
        assert np.abs(res["state"]["xi"]).max() > 0
        assert np.abs(res["stress"][:, -1, 0, 0]).min() > 10  # uniaxial stress, axial stiffness ~ E
    # the adapter is RNO.step along the driver's path (eq. 3): the rollout of the same x gives the same stress
    model = mat.model
    x = torch.as_tensor(mb.to_components(res["F"]))
    rolled, _ = model.rollout(x, torch.as_tensor(time))
    assert np.abs(rolled[:, 1:].detach().numpy() - mb.to_components(res["stress"])[:, 1:]).max() < 1e-8


def test_rno_adapter_takes_a_float32_model_and_its_torchscript_export():
    """Trained models are float32 and exported as TorchScript (learning.artifacts): both run in float64 copies and
    agree."""
    import warnings

    import torch

    from learning.material import RNOMaterial

    torch.set_num_threads(1)
    model = _random_rno(seed=1).float()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(model)
    F, S, M = mb.uniaxial_stress(np.linspace(0, 0.02, 5)[None])
    a, b = (mb.drive(RNOMaterial(m), np.linspace(0, 4, 5), F, S, M) for m in (model, scripted))
    assert a["converged"].all() and b["converged"].all()
    assert np.abs(a["stress"] - b["stress"]).max() < 1e-10
    assert next(model.parameters()).dtype == torch.float32  # the caller's model is left as it was


def test_rno_adapter_reads_the_components_in_the_model_order():
    """At small strain the random RNO is isotropic elasticity (RNO_MU, RNO_LAMBDA), so uniaxial stress along each
    axis gives the Poisson ratio: a wrong component order or symmetric placement would not."""
    import torch

    from learning.material import RNOMaterial

    torch.set_num_threads(1)
    mat = RNOMaterial(_random_rno(seed=3))
    nu = RNO_LAMBDA / (2 * (RNO_LAMBDA + RNO_MU))
    young = RNO_MU * (3 * RNO_LAMBDA + 2 * RNO_MU) / (RNO_LAMBDA + RNO_MU)
    for axis in range(3):
        F, S, M = mb.uniaxial_stress(np.array([[0.0, 1e-4]]), axis=axis)
        res = mb.drive(mat, [0.0, 1e-3], F, S, M)
        lateral = [res["F"][0, 1, a, a] - 1 for a in range(3) if a != axis]
        assert np.array(lateral) / 1e-4 == pytest.approx([-nu, -nu], rel=2e-2)
        assert res["stress"][0, 1, axis, axis] / 1e-4 == pytest.approx(young, rel=2e-2)


def test_rno_adapter_deviatoric_and_pressure_pair_and_its_tangent():
    import torch

    from learning.material import RNOMaterial

    torch.set_num_threads(1)
    mat = RNOMaterial(_random_rno("deviatoric", k=2, seed=1), _random_rno("pressure", k=0, seed=2))
    rng = np.random.default_rng(0)
    U = np.eye(3) + 0.01 * rng.normal(size=(3, 3, 3))
    F = 0.5 * (U + np.swapaxes(U, -1, -2))
    state = mat.initial_state(3)
    sigma, new = mat.update(np.eye(3)[None].repeat(3, 0), F, 0.5, state)
    assert set(new) == {"xi", "xi_p"} and np.allclose(sigma, np.swapaxes(sigma, -1, -2))
    T = mat.tangent(np.eye(3)[None].repeat(3, 0), F, 0.5, state, new)
    h = 1e-6
    for k, l in mb.COMPONENTS:
        dF = np.zeros((3, 3))
        dF[k, l] = dF[l, k] = h
        fd = (mat.update(np.eye(3)[None].repeat(3, 0), F + dF, 0.5, state)[0]
              - mat.update(np.eye(3)[None].repeat(3, 0), F - dF, 0.5, state)[0]) / (2 * h)
        col = T[..., k, l] + (T[..., l, k] if k != l else 0.0)
        assert col == pytest.approx(fd, rel=1e-5, abs=1e-6)
    with pytest.raises(ValueError, match="deviatoric"):
        RNOMaterial(_random_rno("deviatoric"))
