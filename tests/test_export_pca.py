"""PCA-Net export (deploy/pca_net.py, `rno-export DIR --format pca-c`): the compiled C kernel, driven step by step
through ctypes with its history in the state, gives at every step n the torch PCA-Net's stress at t_n of the held
history [x^0 .. x^n, x^n .. x^n], to 1e-10 relative in float64; the state holds that history; a full history is
refused; the README names the build line and the number of state variables."""
import copy
import ctypes

import numpy as np
import pytest
import torch

from compiled import build, compilers  # noqa: F401 - the fixture
from deploy import cli, pca_net
from learning import pca_net as lpca
from learning.data import Trajectories

torch.set_num_threads(1)
N_TIMES = 41  # N + 1
C = 6
NP = 70  # points: two chunks (64 + 6) and a partial register tile


def paths(S, seed, T=2.0):
    """F-like histories (S, N_TIMES, 6): I plus random smooth excursions from 0, and an SLS-like stress."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, T, N_TIMES)
    a = rng.normal(size=(S, 5, C)) * 0.03
    k = np.arange(1, 6)
    x = np.einsum("skc,tk->stc", a, np.sin(np.pi * np.outer(t, k) / (2 * T)))
    x = x + np.array([1.0, 0, 0, 1.0, 0, 1.0])
    e = x - x[:, :1]
    stress = 2000.0 * e + 300.0 * np.cumsum(e, axis=1) / N_TIMES
    return t, x, stress


@pytest.fixture(scope="module")
def model():
    t, x, stress = paths(30, 0)
    train = Trajectories(x=x, stress=stress, time=t, sample=np.arange(30), input_name="F", d=3)
    settings = lpca.PCASettings(modes_in=7, modes_out=5, hidden=(24, 20), center=True, seed=3)
    net = lpca.build(train, settings)  # float32, bases and standardisation from the paths, LeCun weights
    with torch.no_grad():  # random biases, so that nothing is zero by construction
        g = torch.Generator().manual_seed(5)
        for m in net.net:
            if isinstance(m, torch.nn.Linear):
                m.bias.copy_(0.3 * torch.randn(m.bias.shape, generator=g))
    return net


@pytest.fixture(scope="module", params=["pca-c", "pca-fortran"])
def lib(request, model, compilers, tmp_path_factory):  # noqa: F811
    d = tmp_path_factory.mktemp("pca")
    pca_net.save(model, d / "model", input_name="F")
    fmt = request.param
    assert cli.main([str(d / "model"), "--format", fmt, "--out", str(d / "out")]) == 0
    out = d / "out"
    if fmt == "pca-c":
        lib = build(compilers, [out / "pca_model.c"], d / "libpca.so", "c")
    else:  # the Fortran kernel through its C entry, the C prototype
        lib = build(compilers, [out / "pca_kernel.f90"], d / "libpca.so", "fortran")
    P = ctypes.POINTER(ctypes.c_double)
    lib.pca_step.argtypes = [ctypes.c_int, P, P, P, P, P]
    lib.pca_step.restype = ctypes.c_int
    return lib, out


def ptr(a):
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


def held(x, n):
    """[x^0 .. x^n, x^n .. x^n] of histories x (S, N+1, C)."""
    return np.concatenate([x[:, :n + 1], np.repeat(x[:, n:n + 1], x.shape[1] - n - 1, axis=1)], axis=1)


def test_kernel_equals_torch_at_every_step(model, lib):
    lib, out = lib
    _, x, _ = paths(NP, 1)
    x[:, 0] += 0.002  # x^0 is not x^1's at-rest value: x_prev must be used at the first step
    ref = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        want = np.stack([ref(torch.tensor(held(x, n)))[:, n].numpy() for n in range(1, N_TIMES)], 1)
        whole = ref(torch.tensor(x)).numpy()
    ns = 1 + N_TIMES * C
    state = np.zeros((NP, ns))
    got = np.zeros((NP, N_TIMES - 1, C))
    for n in range(1, N_TIMES):
        new = np.empty_like(state)
        sigma = np.empty((NP, C))
        xn = np.ascontiguousarray(x[:, n])
        x0 = np.ascontiguousarray(x[:, 0])
        assert lib.pca_step(NP, ptr(xn), ptr(x0), ptr(state), ptr(sigma), ptr(new)) == 0
        # the state: the step count and the held history the network saw
        assert np.all(new[:, 0] == n)
        assert np.array_equal(new[:, 1:].reshape(NP, N_TIMES, C), held(x, n))
        got[:, n - 1] = sigma
        state = new
    scale = np.abs(want).max()
    err = np.abs(got - want).max() / scale
    print(f"max relative difference {err:.2e} (scale {scale:.3g} MPa)")
    assert err <= 1e-10
    assert np.abs(got[:, -1] - whole[:, -1]).max() <= 1e-10 * scale  # the last step: the whole history
    # the tolerance has teeth: the held history is not the whole one before the end
    assert np.abs(got[:, N_TIMES // 2] - whole[:, N_TIMES // 2 + 1]).max() > 1e3 * 1e-10 * scale
    # the history is full after N steps: status 2, NaN stress, the state copied
    sigma = np.zeros((NP, C))
    new = np.zeros_like(state)
    assert lib.pca_step(NP, ptr(xn), None, ptr(state), ptr(sigma), ptr(new)) == 2
    assert np.all(np.isnan(sigma)) and np.array_equal(new, state)


def test_at_rest_start_and_readme(model, lib):
    lib, out = lib
    _, x, _ = paths(3, 2)
    state = np.zeros((3, 1 + N_TIMES * C))
    new = np.empty_like(state)
    sigma = np.empty((3, C))
    x1 = np.ascontiguousarray(x[:, 1])
    assert lib.pca_step(3, ptr(x1), None, ptr(state), ptr(sigma), ptr(new)) == 0  # x_prev NULL: x^0 = x^1
    with torch.no_grad():
        want = copy.deepcopy(model).double()(torch.tensor(np.repeat(x[:, 1:2], N_TIMES, axis=1)))[:, 1].numpy()
    assert np.abs(sigma - want).max() <= 1e-10 * np.abs(want).max()
    text = (out / "README.md").read_text()
    assert f"{1 + N_TIMES * C} per point" in text and "-O3" in text and "t_n of the model's grid" in text
    if (out / "pca_model.h").exists():
        head = (out / "pca_model.h").read_text()
        assert f"#define PCA_NSTATE {1 + N_TIMES * C}" in head and f"#define PCA_N_TIMES {N_TIMES}" in head


def test_refusals(model, tmp_path):
    pca_net.save(model, tmp_path / "m")
    assert cli.main([str(tmp_path / "m"), "--format", "c", "--out", str(tmp_path / "o")]) == 1  # not an RNO
    assert cli.main([str(tmp_path), "--format", "pca-c", "--out", str(tmp_path / "o")]) == 1  # no model.pt
    assert not (tmp_path / "o").exists()
    back = pca_net.load(tmp_path / "m")
    with torch.no_grad():
        xx = torch.tensor(paths(2, 4)[1], dtype=torch.float32)
        assert back.in_basis.dtype == torch.float32 and torch.equal(back(xx), model(xx))


def test_vumat(model, compilers, tmp_path):  # noqa: F811
    """The VUMAT keeps the history in stateOld/stateNew: on a rotating path F = R U, stressNew (corotational) =
    torch's stress at t_n of the held history of U; an extra state variable is carried; the data check gives the
    stress at t_1 of I -> I + strainInc with the state unchanged; annealing zeroes stress and state."""
    from test_export import DEFGRAD_ORDER, MODEL_ORDER, VUMAT_ORDER, Vumat, rotation, stretch_path, symmetric_cols

    pca_net.save(model, tmp_path / "m", input_name="F")
    assert cli.main([str(tmp_path / "m"), "--format", "pca-vumat", "--out", str(tmp_path / "v")]) == 0
    lib = build(compilers, [tmp_path / "v" / "pca_vumat.f90"], tmp_path / "v" / "libpca.so", "fortran")
    nb, ns = 5, 1 + N_TIMES * C + 1
    vumat = Vumat(lib, nb, nstatev=ns)
    U = stretch_path(N_TIMES - 1, nb, seed=3)
    time = np.linspace(0.0, 2.0, N_TIMES)
    R = np.stack([rotation(np.array([1.0, 2.0, 0.5]), 2 * np.pi * t / time[-1]) for t in time])
    F = np.einsum("nij,npjk->npik", R, U)
    x = np.swapaxes(symmetric_cols(U, MODEL_ORDER), 0, 1)  # (nb, N+1, 6) in the model's order
    ref = copy.deepcopy(model).double().eval()
    to_abaqus = [MODEL_ORDER.index(c) for c in VUMAT_ORDER]
    state = np.zeros((nb, ns))
    state[:, -1] = np.arange(nb)
    stress, energy = np.zeros((nb, 6)), np.zeros(nb)
    for n in range(1, N_TIMES):
        inc = symmetric_cols(U[n] - U[n - 1], VUMAT_ORDER)
        stress_new, state_new, energy_new = vumat(
            time[n], time[n] - time[n - 1], inc, symmetric_cols(U[n - 1], VUMAT_ORDER),
            symmetric_cols(U[n], VUMAT_ORDER), symmetric_cols(F[n - 1], DEFGRAD_ORDER),
            symmetric_cols(F[n], DEFGRAD_ORDER), stress, state, energy)
        with torch.no_grad():
            want = ref(torch.tensor(held(x, n)))[:, n].numpy()[:, to_abaqus]
        assert np.abs(stress_new - want).max() <= 1e-10 * np.abs(want).max(), n
        assert np.all(state_new[:, 0] == n) and np.array_equal(state_new[:, -1], np.arange(nb))
        np.testing.assert_allclose(state_new[:, 1:-1].reshape(nb, N_TIMES, C), held(x, n), rtol=0, atol=1e-15)
        stress, state, energy = stress_new, state_new, energy_new
    # data check: stepTime = totalTime = 0
    inc = 1e-4 * np.random.default_rng(5).normal(size=(nb, 6))
    eye = symmetric_cols(np.stack([np.eye(3)] * nb), VUMAT_ORDER)
    sig, st, _ = vumat(0.0, 1e-6, inc, eye, eye, np.zeros((nb, 9)), np.zeros((nb, 9)), np.zeros((nb, 6)), state,
                       np.zeros(nb))
    x1 = np.stack([eye[:, VUMAT_ORDER.index(c)] + inc[:, VUMAT_ORDER.index(c)] for c in MODEL_ORDER], 1)
    path = np.repeat(x1[:, None], N_TIMES, axis=1)
    path[:, 0] = np.array([1.0, 0, 0, 1.0, 0, 1.0])
    with torch.no_grad():
        want = ref(torch.tensor(path))[:, 1].numpy()[:, to_abaqus]
    assert np.abs(sig - want).max() <= 1e-10 * np.abs(want).max()
    np.testing.assert_array_equal(st, state)
    # annealing: stress 0, a new history
    sig, st, _ = vumat(time[-1], 0.05, inc, eye, eye, np.zeros((nb, 9)), np.zeros((nb, 9)), stress, state,
                       energy, lanneal=1)
    assert np.all(sig == 0) and np.all(st[:, :-1] == 0) and np.array_equal(st[:, -1], np.arange(nb))
