"""Exports of trained RNOs (deploy/, docs/export.md): the generated C99 and Fortran 2008 kernels, the ABAQUS VUMAT and
UMAT, compiled with gcc and gfortran into shared libraries and driven through ctypes against learning.rno.RNO.step in
float64. Models are saved with learning.artifacts.save (float32, as training writes them) and exported by the CLI."""
import ctypes
import subprocess
import sys

import numpy as np
import pytest
import scipy.linalg
import torch

from compiled import build, compilers  # noqa: F401 (compilers is a fixture)
from deploy.cli import main
from deploy.export import export
from learning.artifacts import load, save
from learning.data import component_names
from learning.rno import RNO, fit_normalisation

torch.set_num_threads(1)
TOL = 1e-10  # max |kernel - torch| / max |torch| over a path
DOUBLE_P = ctypes.POINTER(ctypes.c_double)
INT_P = ctypes.POINTER(ctypes.c_int)


def trained_like(tmp_path, name, n_comp=6, k=5, variant="evp", target="stress", max_dt=0.0, hidden=(16, 16),
                 seed=0, input_name="F"):
    """An RNO with random weights and normalisation fitted on random paths (F = I + ..., 200 s), saved like a
    trained one; returns (its directory, the loaded model in float64)."""
    gen = torch.Generator().manual_seed(seed)
    model = RNO(n_comp, k, variant, hidden=hidden, max_dt=max_dt, target=target)
    model.init_weights(gen)
    d = next(d for d in (1, 2, 3) if d * (d + 1) // 2 == n_comp)
    eye = torch.tensor([1.0 if i == j else 0.0 for i, j in component_names(d)]) * (input_name == "F")
    time = torch.linspace(0.0, 200.0, 201)
    x = eye + torch.cumsum(0.003 * torch.randn(8, 201, n_comp, generator=gen), 1)
    stress = torch.cumsum(5.0 * torch.randn(8, 201, model.n_out, generator=gen), 1)
    fit_normalisation(model, x, stress, time)
    out = tmp_path / name
    save(model, out, settings={}, history=[], data={"input": input_name, "producer": "test"})
    return out, load(out).double()


def random_path(model, n_steps, n_points, seed):
    """x (n_steps + 1, n_points, n_comp) around the training range, steps dt (n_steps + 1,) of 0.1-0.3 s."""
    rng = np.random.default_rng(seed)
    mean, std = model.x_mean.numpy(), model.x_std.numpy()
    walk = np.cumsum(rng.normal(size=(n_steps + 1, n_points, model.n_comp)), 0) / np.sqrt(n_steps)
    return mean + 2.0 * std * walk, rng.uniform(0.1, 0.3, n_steps + 1)


def torch_path(model, x, dt):
    """RNO.step along the path: target (N+1, B, n_out), xi (N+1, B, k); step 0 at rest (x_prev None)."""
    xi = torch.zeros(x.shape[1], model.k, dtype=torch.float64)
    targets, xis = [], []
    with torch.no_grad():
        for n in range(x.shape[0]):
            prev = None if n == 0 else torch.from_numpy(x[n - 1])
            target, xi = model.step(torch.from_numpy(x[n]), xi, torch.tensor(dt[n], dtype=torch.float64), prev)
            targets.append(target.numpy())
            xis.append(xi.numpy())
    return np.stack(targets), np.stack(xis)


def kernel_path(lib, model, x, dt):
    """The compiled rno_step along the same path."""
    lib.rno_step.argtypes = [ctypes.c_int, DOUBLE_P, DOUBLE_P, ctypes.c_double, DOUBLE_P, DOUBLE_P, DOUBLE_P]
    lib.rno_step.restype = ctypes.c_int
    B = x.shape[1]
    ptr = lambda a: a.ctypes.data_as(DOUBLE_P)  # noqa: E731
    xi = np.zeros((B, model.k))
    targets, xis = [], []
    for n in range(x.shape[0]):
        target, xi_new = np.empty((B, model.n_out)), np.empty((B, model.k))
        x_n = np.ascontiguousarray(x[n])
        prev = None if n == 0 else ptr(np.ascontiguousarray(x[n - 1]))
        assert lib.rno_step(B, ptr(x_n), ptr(xi), dt[n], prev, ptr(target), ptr(xi_new)) == 0
        xi = xi_new
        targets.append(target)
        xis.append(xi)
    return np.stack(targets), np.stack(xis)


def rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


CASES = [("evp", 5, "stress", 0.0), ("ve", 5, "stress", 0.0), ("evp", 0, "stress", 0.0),
         ("ve", 0, "deviatoric", 0.0), ("evp", 5, "pressure", 0.12), ("ve", 5, "deviatoric", 0.12)]


@pytest.mark.parametrize("variant,k,target,max_dt", CASES)
def test_kernels_match_torch_step(compilers, tmp_path, variant, k, target, max_dt):
    """C and Fortran rno_step = RNO.step (float64) to 1e-10 over 1000 steps of 70 points (two chunks, a partial
    register tile), at rest at step 0, with sub-steps of max_dt (1-3 per step) where set."""
    model_dir, model = trained_like(tmp_path, "model", k=k, variant=variant, target=target, max_dt=max_dt,
                                    seed=k + len(target))
    x, dt = random_path(model, 1000, 70, seed=1)
    want_target, want_xi = torch_path(model, x, dt)
    assert np.abs(want_target).max() > 1.0 and (k == 0 or np.abs(want_xi[-1]).max() > 1e-2)  # a non-trivial path
    for fmt, lang, sources in (("c", "c", ["rno_model.c"]), ("fortran", "fortran", ["rno_kernel.f90"])):
        assert main([str(model_dir), "--format", fmt, "--out", str(tmp_path / fmt)]) == 0
        lib = build(compilers, [tmp_path / fmt / s for s in sources], tmp_path / fmt / "librno.so", lang)
        got_target, got_xi = kernel_path(lib, model, x, dt)
        assert rel(got_target, want_target) <= TOL, (fmt, rel(got_target, want_target))
        if k:
            assert rel(got_xi, want_xi) <= TOL, (fmt, rel(got_xi, want_xi))


# ---------------------------------------------------------------------------------------------- ABAQUS/Explicit

VUMAT_ORDER = [(0, 0), (1, 1), (2, 2), (0, 1), (1, 2), (0, 2)]  # 11, 22, 33, 12, 23, 31
DEFGRAD_ORDER = [(0, 0), (1, 1), (2, 2), (0, 1), (1, 2), (2, 0), (1, 0), (2, 1), (0, 2)]
MODEL_ORDER = component_names(3)  # 11, 12, 13, 22, 23, 33


def rotation(axis, angle):
    axis = axis / np.linalg.norm(axis)
    K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K


def stretch_path(n_steps, n_points, seed, amplitude=0.03):
    """U(t) = I + a symmetric random walk (n_steps + 1, n_points, 3, 3), U(0) = I."""
    rng = np.random.default_rng(seed)
    a = np.cumsum(rng.normal(size=(n_steps + 1, n_points, 3, 3)), 0) * amplitude / np.sqrt(n_steps)
    a = a - a[:1]
    return np.eye(3) + 0.5 * (a + np.swapaxes(a, -1, -2))


class Vumat:
    """Calls vumat_ of a compiled rno_vumat.f90 with ABAQUS/Explicit's argument list (3D, double precision)."""

    def __init__(self, lib, nblock, nstatev):
        self.f, self.nblock, self.nstatev = lib.vumat_, nblock, nstatev
        self.f.restype = None

    def __call__(self, step_time, dt, strain_inc, stretch_old, stretch_new, defgrad_old, defgrad_new, stress_old,
                 state_old, ener_old, lanneal=0):
        nb, ns = self.nblock, self.nstatev
        F = lambda a: np.asfortranarray(a, dtype=np.float64)  # noqa: E731
        ints = [ctypes.c_int(v) for v in (nb, 3, 3, ns, 0, 1, lanneal)]
        reals = [ctypes.c_double(v) for v in (step_time, step_time, dt)]
        arrays = dict(coordMp=F(np.zeros((nb, 3))), charLength=F(np.ones(nb)), props=F(np.zeros(1)),
                      density=F(np.full(nb, 1.74e-9)), strainInc=F(strain_inc), relSpinInc=F(np.zeros((nb, 3))),
                      tempOld=F(np.zeros(nb)), stretchOld=F(stretch_old), defgradOld=F(defgrad_old),
                      fieldOld=F(np.zeros((nb, 1))), stressOld=F(stress_old), stateOld=F(state_old),
                      enerInternOld=F(ener_old), enerInelasOld=F(np.zeros(nb)), tempNew=F(np.zeros(nb)),
                      stretchNew=F(stretch_new), defgradNew=F(defgrad_new), fieldNew=F(np.zeros((nb, 1))),
                      stressNew=F(np.zeros((nb, 6))), stateNew=F(np.full((nb, ns), np.nan)),
                      enerInternNew=F(np.zeros(nb)), enerInelasNew=F(np.zeros(nb)))
        p = {name: a.ctypes.data_as(DOUBLE_P) for name, a in arrays.items()}
        cmname = ctypes.create_string_buffer(b"RNO".ljust(80), 80)
        self.f(*[ctypes.byref(v) for v in ints], *[ctypes.byref(v) for v in reals], cmname, *p.values(),
               ctypes.c_size_t(80))
        return arrays["stressNew"], arrays["stateNew"], arrays["enerInternNew"]


def symmetric_cols(t, order):
    return np.stack([t[..., i, j] for i, j in order], axis=-1)


def test_vumat_rotating_path(compilers, tmp_path):
    """F = R(t) U(t), R a full turn: stressNew = torch's sigma(U) (corotational), stateNew = xi; the package call
    gives the model's stress at I + strainInc with the state unchanged; the internal energy by the trapezoid rule."""
    model_dir, model = trained_like(tmp_path, "model", k=3, variant="ve", seed=7)
    assert main([str(model_dir), "--format", "vumat", "--out", str(tmp_path / "v")]) == 0
    lib = build(compilers, [tmp_path / "v" / "rno_vumat.f90"], tmp_path / "v" / "librno.so", "fortran")
    nb, n_steps, T = 9, 200, 200.0
    vumat = Vumat(lib, nb, nstatev=4)  # one more state variable than k: carried unchanged
    U = stretch_path(n_steps, nb, seed=3)
    time = np.linspace(0.0, T, n_steps + 1)
    R = np.stack([rotation(np.array([1.0, 2.0, 0.5]), 2 * np.pi * t / T) for t in time])
    F = np.einsum("nij,npjk->npik", R, U)
    U_abaqus = np.stack([[scipy.linalg.polar(F[n, p])[1] for p in range(nb)] for n in range(n_steps + 1)])
    np.testing.assert_allclose(U_abaqus, U, atol=1e-12)  # the stretch ABAQUS hands over
    x = symmetric_cols(U_abaqus, MODEL_ORDER)
    want_target, want_xi = torch_path(model, x, np.r_[0.0, np.diff(time)])

    state = np.zeros((nb, 4))
    state[:, 3] = np.arange(nb)
    stress = np.zeros((nb, 6))
    energy = np.zeros(nb)
    for n in range(1, n_steps + 1):
        strain_inc = symmetric_cols(U_abaqus[n] - U_abaqus[n - 1], VUMAT_ORDER)  # any increment: only energy uses it
        stress_new, state_new, energy_new = vumat(
            time[n], time[n] - time[n - 1], strain_inc, symmetric_cols(U_abaqus[n - 1], VUMAT_ORDER),
            symmetric_cols(U_abaqus[n], VUMAT_ORDER), symmetric_cols(F[n - 1], DEFGRAD_ORDER),
            symmetric_cols(F[n], DEFGRAD_ORDER), stress, state, energy)
        want = want_target[n][:, [MODEL_ORDER.index(c) for c in VUMAT_ORDER]]
        assert rel(stress_new, want) <= TOL, (n, rel(stress_new, want))
        assert rel(state_new[:, :3], want_xi[n]) <= TOL
        np.testing.assert_array_equal(state_new[:, 3], np.arange(nb))
        weights = np.array([1, 1, 1, 2, 2, 2.0])
        np.testing.assert_allclose(energy_new, energy + ((stress + stress_new) * strain_inc) @ weights
                                   / (2 * 1.74e-9), rtol=1e-12)
        stress, state, energy = stress_new, state_new, energy_new

    # package call: stepTime = totalTime = 0, fictitious strains; elastic answer, state unchanged
    strain_inc = 1e-4 * np.random.default_rng(5).normal(size=(nb, 6))
    eye = symmetric_cols(np.stack([np.eye(3)] * nb), VUMAT_ORDER)
    stress_new, state_new, _ = vumat(0.0, 1e-6, strain_inc, eye, eye, np.zeros((nb, 9)), np.zeros((nb, 9)),
                                     np.zeros((nb, 6)), state, np.zeros(nb))
    x_check = np.stack([eye[:, VUMAT_ORDER.index(c)] + strain_inc[:, VUMAT_ORDER.index(c)] for c in MODEL_ORDER], 1)
    with torch.no_grad():
        want, _ = model.step(torch.from_numpy(x_check), torch.zeros(nb, 3, dtype=torch.float64),
                             torch.tensor(0.0, dtype=torch.float64), None)
    want = want.numpy()[:, [MODEL_ORDER.index(c) for c in VUMAT_ORDER]]
    assert rel(stress_new, want) <= TOL
    np.testing.assert_array_equal(state_new, state)


def test_vumat_and_umat_refuse_models_they_cannot_run(tmp_path, capsys):
    """A 2D model (and a 1D one) or a pressure model is refused with the reason; nothing is written."""
    for name, kwargs, words in (("m2d", dict(n_comp=3), "2D (3 components"), ("m1d", dict(n_comp=1), "1D"),
                                ("p", dict(target="pressure"), "'pressure'")):
        model_dir, _ = trained_like(tmp_path, name, k=1, **kwargs)
        for fmt in ("vumat", "umat"):
            assert main([str(model_dir), "--format", fmt, "--out", str(tmp_path / f"{name}-{fmt}")]) == 1
            assert words in capsys.readouterr().err
            assert not (tmp_path / f"{name}-{fmt}").exists()
        assert main([str(model_dir), "--format", "c", "--out", str(tmp_path / f"{name}-c")]) == 0  # the kernel is fine


# ---------------------------------------------------------------------------------------------- ABAQUS/Standard

UMAT_ORDER = [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]  # 11, 22, 33, 12, 13, 23


class Umat:
    """Calls umat_ of a compiled rno_umat.f90 with ABAQUS/Standard's argument list."""

    def __init__(self, lib, nstatv):
        self.f, self.nstatv = lib.umat_, nstatv
        self.f.restype = None

    def __call__(self, statev, dfgrd0, dfgrd1, dtime, ntens=6):
        stress, ddsdde = np.zeros(ntens), np.zeros((ntens, ntens), order="F")
        statev = np.array(statev, dtype=np.float64)
        d = lambda v: ctypes.byref(ctypes.c_double(v))  # noqa: E731
        i = lambda v: ctypes.byref(ctypes.c_int(v))  # noqa: E731
        p = lambda a: a.ctypes.data_as(DOUBLE_P)  # noqa: E731
        zeros = [np.zeros(ntens) for _ in range(5)]  # ddsddt, drplde, stran, dstran, (spare)
        f0, f1 = np.asfortranarray(dfgrd0), np.asfortranarray(dfgrd1)
        self.f(p(stress), p(statev), p(ddsdde), d(0), d(0), d(0), d(0), p(zeros[0]), p(zeros[1]), d(0), p(zeros[2]),
               p(zeros[3]), p(np.zeros(2)), d(dtime), d(0), d(0), p(np.zeros(1)), p(np.zeros(1)),
               ctypes.create_string_buffer(b"RNO".ljust(80), 80), i(3), i(ntens - 3), i(ntens), i(self.nstatv),
               p(np.zeros(1)), i(1), p(np.zeros(3)), p(np.asfortranarray(np.eye(3))), d(1.0), d(1.0), p(f0), p(f1),
               i(1), i(1), i(1), i(1), (ctypes.c_int * 4)(1, 1, 1, 1), i(1), ctypes.c_size_t(80))
        return stress, statev, ddsdde


def test_umat_stress_state_and_tangent(compilers, tmp_path):
    """STRESS = R sigma(U) R^T (torch, F = R U by scipy's polar) and STATEV = xi along a rotating path; DDSDDE =
    central differences of the returned Kirchhoff stress / J over F(+-h) = (I +- h E_q) F (h = 1e-5, the UMAT's own
    step is 1e-6); plane strain (NSHR = 1) gives the 11, 22, 33, 12 block of the same answers."""
    model_dir, model = trained_like(tmp_path, "model", k=3, variant="ve", seed=11)
    assert main([str(model_dir), "--format", "umat", "--out", str(tmp_path / "u")]) == 0
    lib = build(compilers, [tmp_path / "u" / "rno_umat.f90"], tmp_path / "u" / "librno.so", "fortran")
    umat = Umat(lib, nstatv=3)
    n_steps, T = 40, 40.0
    U = stretch_path(n_steps, 1, seed=4, amplitude=0.05)[:, 0]
    time = np.linspace(0.0, T, n_steps + 1)
    R = np.stack([rotation(np.array([0.3, -1.0, 0.7]), 0.5 * np.pi * t / T) for t in time])
    F = R @ U
    Us = np.stack([scipy.linalg.polar(f)[1] for f in F])
    want_target, want_xi = torch_path(model, symmetric_cols(Us, MODEL_ORDER)[:, None], np.r_[0.0, np.diff(time)])
    statev = np.zeros(3)
    for n in range(1, n_steps + 1):
        dtime = time[n] - time[n - 1]
        stress, statev_new, ddsdde = umat(statev, F[n - 1], F[n], dtime)
        sigma_hat = np.zeros((3, 3))
        for m, (i, j) in enumerate(MODEL_ORDER):
            sigma_hat[i, j] = sigma_hat[j, i] = want_target[n, 0, m]
        Rn = scipy.linalg.polar(F[n])[0]
        assert rel(stress, symmetric_cols(Rn @ sigma_hat @ Rn.T, UMAT_ORDER)) <= 1e-9
        assert rel(statev_new, want_xi[n, 0]) <= 1e-9
        if n in (1, n_steps):
            h, J = 1e-5, np.linalg.det(F[n])
            fd = np.zeros((6, 6))
            for q, (a, b) in enumerate(UMAT_ORDER):
                E = np.zeros((3, 3))
                E[a, b] += 0.5
                E[b, a] += 0.5
                taus = []
                for sign in (1, -1):
                    Fq = F[n] + sign * h * E @ F[n]
                    s, _, _ = umat(statev, F[n - 1], Fq, dtime)
                    taus.append(np.linalg.det(Fq) * s)
                fd[:, q] = (taus[0] - taus[1]) / (2 * h * J)
            assert np.abs(ddsdde - fd).max() <= 1e-6 * np.abs(fd).max(), np.abs(ddsdde - fd).max() / np.abs(fd).max()
            assert np.abs(fd).max() > 1.0
        statev = statev_new
    # plane strain: F in the 1-2 plane (F13 = F23 = F31 = F32 = 0), NTENS = 4
    Fp0, Fp1 = np.eye(3), np.eye(3)
    Fp1[:2, :2] = rotation(np.array([0, 0, 1.0]), 0.3)[:2, :2] @ np.array([[1.01, 0.004], [0.004, 0.995]])
    s3, x3, c3 = umat(np.zeros(3), Fp0, Fp1, 1.0)
    s4, x4, c4 = umat(np.zeros(3), Fp0, Fp1, 1.0, ntens=4)
    np.testing.assert_allclose(s4, s3[:4], rtol=0, atol=1e-12 * np.abs(s3).max())
    np.testing.assert_array_equal(x4, x3)
    np.testing.assert_allclose(c4, c3[:4, :4], rtol=0, atol=1e-9 * np.abs(c3).max())


def test_python_m_deploy_and_readme(tmp_path):
    """python -m deploy is the CLI; the README gives the build line, the state variables and the units."""
    model_dir, _ = trained_like(tmp_path, "model", k=2)
    done = subprocess.run([sys.executable, "-m", "deploy", str(model_dir), "--format", "vumat", "--out",
                           str(tmp_path / "v")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "rno_vumat.f90" in done.stdout
    readme = (tmp_path / "v" / "README.md").read_text()
    for words in ("abaqus job=", "user=rno_vumat.f90", "double=both", "*Depvar\n      2,", "MPa", " s"):
        assert words in readme, words
    assert export(model_dir, "umat", tmp_path / "u")[0].name == "rno_umat.f90"
    assert "unsymm" in (tmp_path / "u" / "README.md").read_text()
