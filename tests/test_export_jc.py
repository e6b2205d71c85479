"""Johnson-Cook export (deploy/johnson_cook.py, docs/export.md): the generated C99 kernel, the Fortran kernel's C entry
and the ABAQUS/Explicit VUMAT, compiled with gcc and gfortran and driven through ctypes, against
mechanics.johnson_cook.JohnsonCook.update in float64 on random multi-step paths (elastic, plastic and rate-dependent
steps) and, for the VUMAT, on a rotating path F = R U."""
import ctypes
import json

import numpy as np
import pytest
import scipy.linalg

from compiled import build, compilers  # noqa: F401 (compilers is a fixture)
from deploy.cli import main
from deploy.export import export
from deploy.johnson_cook import NSTATE, SYM
from mechanics.johnson_cook import JohnsonCook

TOL = 1e-10  # max |kernel - python| / max |python| over a path
DOUBLE_P = ctypes.POINTER(ctypes.c_double)
#: rate dependent (eps_dot_0 below the path's rates), n < 1; and rate independent, linear hardening
LAWS = {"rate": dict(mu=17300.0, kappa=35200.0, A=150.0, B=400.0, n=0.25, C=0.03, eps_dot_0=1e-2),
        "linear": dict(mu=17300.0, kappa=35200.0, A=120.0, B=800.0, n=1.0, C=0.0, eps_dot_0=1.0)}


def exported(tmp_path, compilers, name, fmt):
    """Write LAWS[name] as JSON, export it through the CLI, compile; (the law, the library)."""
    params = tmp_path / f"{name}.json"
    params.write_text(json.dumps(LAWS[name]))
    out = tmp_path / f"{name}-{fmt}"
    assert main([str(params), "--format", fmt, "--out", str(out)]) == 0
    sources = {"jc-c": ["jc_model.c"], "jc-fortran": ["jc_kernel.f90"], "jc-vumat": ["jc_vumat.f90"]}[fmt]
    lib = build(compilers, [out / s for s in sources], out / "libjc.so", "c" if fmt == "jc-c" else "fortran")
    return JohnsonCook(**LAWS[name]), lib


def to_state(state):
    """mechanics' state dict -> the kernel's (B, 8): Cp^-1 - I (11, 22, 33, 12, 23, 31), eps_p, eps_dot_p."""
    cp = state["Cp_inv"] - np.eye(3)
    return np.column_stack([cp[:, i, j] for i, j in SYM] + [state["eps_p"], state["eps_dot_p"]])


def sym6(t):
    return np.stack([t[..., i, j] for i, j in SYM], axis=-1)


def random_F_path(n_steps, amplitudes, seed):
    """F (n_steps + 1, B, 3, 3): I + a random walk of the given amplitude per point, times a slow rotation; and the
    steps dt (n_steps,) in s, between 0.005 and 0.05."""
    rng = np.random.default_rng(seed)
    B = len(amplitudes)
    walk = np.cumsum(rng.normal(size=(n_steps + 1, B, 3, 3)), 0) / np.sqrt(n_steps)
    walk -= walk[:1]
    F = np.eye(3) + np.asarray(amplitudes)[None, :, None, None] * walk
    angle = np.linspace(0.0, 1.0, n_steps + 1)
    R = np.stack([scipy.linalg.expm(a * np.array([[0, -1.0, 0.3], [1.0, 0, -0.5], [-0.3, 0.5, 0]])) for a in angle])
    return np.einsum("nij,npjk->npik", R, F), rng.uniform(0.005, 0.05, n_steps)


def python_path(law, F, dt):
    """JohnsonCook.update along the path: sigma (N, B, 6), state (N, B, 8) after each step."""
    state = law.initial_state(F.shape[1])
    sig, states = [], []
    for n in range(1, F.shape[0]):
        sigma, state = law.update(F[n - 1], F[n], dt[n - 1], state)
        sig.append(sym6(sigma))
        states.append(to_state(state))
    return np.stack(sig), np.stack(states)


def kernel_path(lib, F, dt):
    lib.jc_step.argtypes = [ctypes.c_int, DOUBLE_P, DOUBLE_P, ctypes.c_double, DOUBLE_P, DOUBLE_P]
    lib.jc_step.restype = ctypes.c_int
    B = F.shape[1]
    ptr = lambda a: a.ctypes.data_as(DOUBLE_P)  # noqa: E731
    state = np.zeros((B, NSTATE))
    sig, states = [], []
    for n in range(1, F.shape[0]):
        f = np.ascontiguousarray(F[n].reshape(B, 9))
        s, new = np.empty((B, 6)), np.empty((B, NSTATE))
        assert lib.jc_step(B, ptr(f), ptr(state), dt[n - 1], ptr(s), ptr(new)) == 0
        state = new
        sig.append(s)
        states.append(state)
    return np.stack(sig), np.stack(states)


def rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


def compare(got_sig, got_state, want_sig, want_state):
    """Relative differences: stress, Cp^-1 - I, eps_p, eps_dot_p (each over the path's largest value)."""
    return {"stress": rel(got_sig, want_sig), "Cp_inv": rel(got_state[..., :6], want_state[..., :6]),
            "eps_p": rel(got_state[..., 6], want_state[..., 6]),
            "eps_dot_p": rel(got_state[..., 7], want_state[..., 7])}


@pytest.mark.parametrize("name", sorted(LAWS))
def test_kernels_match_mechanics_johnson_cook(compilers, tmp_path, name):
    """C jc_step and the Fortran kernel's C entry = JohnsonCook.update to 1e-10 over 300 steps of 6 points, from
    elastic-only (amplitude 1e-3) to strongly plastic (0.3), rotations included, random dt."""
    amplitudes = [1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3]
    F, dt = random_F_path(300, amplitudes, seed=len(name))
    law = JohnsonCook(**LAWS[name])
    want_sig, want_state = python_path(law, F, dt)
    dg = np.diff(np.concatenate([np.zeros((1, 6)), want_state[..., 6]]), axis=0)
    # the path has elastic steps under load, plastic steps, and (law "rate") steps above the rate cut-off
    assert np.all(dg[:, 0] == 0) and np.abs(want_sig[:, 0]).max() > 10.0
    assert (dg > 0).sum() > 300 and want_state[-1, -1, 6] > 0.05
    if LAWS[name]["C"] > 0:
        assert (want_state[..., 7] > 10 * LAWS[name]["eps_dot_0"]).sum() > 100
    for fmt in ("jc-c", "jc-fortran"):
        _, lib = exported(tmp_path, compilers, name, fmt)
        diff = compare(*kernel_path(lib, F, dt), want_sig, want_state)
        assert max(diff.values()) <= TOL, (fmt, diff)


def test_the_tolerance_has_teeth():
    """A rate coefficient off by 1e-6 relative moves the stress by more than TOL: the comparison can fail."""
    F, dt = random_F_path(100, [0.03, 0.1], seed=5)
    want = python_path(JohnsonCook(**LAWS["rate"]), F, dt)[0]
    off = python_path(JohnsonCook(**{**LAWS["rate"], "C": LAWS["rate"]["C"] * (1 + 1e-6)}), F, dt)[0]
    assert rel(off, want) > 10 * TOL


def test_status_on_det_F_not_positive(compilers, tmp_path):
    """det F <= 0 at a point: status 2, its stress NaN and its state unchanged; the other point is updated."""
    _, lib = exported(tmp_path, compilers, "linear", "jc-c")
    F = np.array([[np.eye(3).ravel(), -np.eye(3).ravel()]])
    sig, states = np.empty((2, 6)), np.empty((2, NSTATE))
    old = np.zeros((2, NSTATE))
    old[1] = np.arange(NSTATE) * 0.01  # kept as it is
    ptr = lambda a: a.ctypes.data_as(DOUBLE_P)  # noqa: E731
    lib.jc_step.restype = ctypes.c_int
    f = np.ascontiguousarray(F[0])
    assert lib.jc_step(2, ptr(f), ptr(old), ctypes.c_double(0.1), ptr(sig), ptr(states)) == 2
    assert np.all(np.isnan(sig[1])) and np.all(states[1] == old[1]) and np.all(np.isfinite(sig[0]))


# ---------------------------------------------------------------------------------------------- ABAQUS/Explicit
def rotation(axis, angle):
    axis = axis / np.linalg.norm(axis)
    K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K


class Vumat:
    """Calls vumat_ of a compiled jc_vumat.f90 with ABAQUS/Explicit's argument list (3D, double precision)."""

    def __init__(self, lib, nblock, nstatev):
        self.f, self.nblock, self.nstatev = lib.vumat_, nblock, nstatev
        self.f.restype = None

    def __call__(self, step_time, dt, strain_inc, stretch_new, stress_old, state_old, ener_old, inelas_old,
                 density, lanneal=0):
        nb, ns = self.nblock, self.nstatev
        F = lambda a: np.asfortranarray(a, dtype=np.float64)  # noqa: E731
        ints = [ctypes.c_int(v) for v in (nb, 3, 3, ns, 0, 1, lanneal)]
        reals = [ctypes.c_double(v) for v in (step_time, step_time, dt)]
        z = lambda *shape: F(np.zeros(shape))  # noqa: E731
        arrays = dict(coordMp=z(nb, 3), charLength=F(np.ones(nb)), props=z(1), density=F(density),
                      strainInc=F(strain_inc), relSpinInc=z(nb, 3), tempOld=z(nb), stretchOld=z(nb, 6),
                      defgradOld=z(nb, 9), fieldOld=z(nb, 1), stressOld=F(stress_old), stateOld=F(state_old),
                      enerInternOld=F(ener_old), enerInelasOld=F(inelas_old), tempNew=z(nb),
                      stretchNew=F(stretch_new), defgradNew=z(nb, 9), fieldNew=z(nb, 1),
                      stressNew=z(nb, 6), stateNew=F(np.full((nb, ns), np.nan)), enerInternNew=z(nb),
                      enerInelasNew=z(nb))
        p = [a.ctypes.data_as(DOUBLE_P) for a in arrays.values()]
        cmname = ctypes.create_string_buffer(b"JC".ljust(80), 80)
        self.f(*[ctypes.byref(v) for v in ints], *[ctypes.byref(v) for v in reals], cmname, *p, ctypes.c_size_t(80))
        return arrays["stressNew"], arrays["stateNew"], arrays["enerInternNew"], arrays["enerInelasNew"]


def von_mises6(s):
    return np.sqrt(0.5 * ((s[..., 0] - s[..., 1]) ** 2 + (s[..., 1] - s[..., 2]) ** 2 + (s[..., 2] - s[..., 0]) ** 2)
                   + 3.0 * (s[..., 3:] ** 2).sum(-1))


def test_vumat_rotating_path(compilers, tmp_path):
    """F = R(t) U(t), R a full turn: stressNew = R^T sigma(F) R (corotational), stateNew = the law's state, an extra
    state variable carried; the data check gives the Hencky stress at I + strainInc with the state unchanged; the
    internal energy by the trapezoid rule, the inelastic one sigma_eq dgamma / density; annealing zeroes the
    stress and eps_p and leaves the current configuration stress free."""
    law, lib = exported(tmp_path, compilers, "rate", "jc-vumat")
    nb, n_steps, T = 5, 200, 2.0
    vumat = Vumat(lib, nb, nstatev=NSTATE + 1)
    rng = np.random.default_rng(3)
    a = np.cumsum(rng.normal(size=(n_steps + 1, nb, 3, 3)), 0) * np.array([1e-3, 0.01, 0.03, 0.06, 0.1])[
        None, :, None, None] / np.sqrt(n_steps)
    a -= a[:1]
    U = np.eye(3) + 0.5 * (a + np.swapaxes(a, -1, -2))
    time = np.linspace(0.0, T, n_steps + 1)
    R = np.stack([rotation(np.array([1.0, 2.0, 0.5]), 2 * np.pi * t / T) for t in time])
    F = np.einsum("nij,npjk->npik", R, U)
    U_abaqus = np.stack([[scipy.linalg.polar(F[n, p])[1] for p in range(nb)] for n in range(n_steps + 1)])
    density = np.full(nb, 1.74e-9)

    # data check: Hencky stress at I + strainInc, state unchanged
    inc = sym6(U[5] - np.eye(3))
    extra = rng.normal(size=(nb, NSTATE + 1))
    sig, st, _, _ = vumat(0.0, 0.0, inc, np.zeros((nb, 6)), np.zeros((nb, 6)), extra, np.zeros(nb), np.zeros(nb),
                          density)
    hencky, _ = law.update(None, np.eye(3) + (U[5] - np.eye(3)), 1.0,
                           {**law.initial_state(nb), "eps_p": np.full(nb, 1e9)})  # yield far away: elastic
    assert rel(sig, sym6(hencky)) <= TOL and np.array_equal(st, extra)

    state = np.zeros((nb, NSTATE + 1))
    state[:, -1] = 7.0  # carried unchanged
    stress, ener, inelas = np.zeros((nb, 6)), np.zeros(nb), np.zeros(nb)
    py_state = law.initial_state(nb)
    got_s, want_s, got_st, want_st = [], [], [], []
    for n in range(1, n_steps + 1):
        dt = time[n] - time[n - 1]
        inc = sym6(U_abaqus[n] - U_abaqus[n - 1])  # any strain increment: used for the energy only
        new_stress, new_state, new_ener, new_inelas = vumat(time[n], dt, inc, sym6(U_abaqus[n]), stress, state, ener,
                                                            inelas, density)
        sigma, next_py = law.update(F[n - 1], F[n], dt, py_state)
        corot = np.einsum("ji,pjk,kl->pil", R[n], sigma, R[n])
        work = ((stress + new_stress) * inc * np.array([1, 1, 1, 2, 2, 2])).sum(-1) / (2 * density)
        np.testing.assert_allclose(new_ener, ener + work, rtol=1e-12, atol=1e-300)
        dg = next_py["eps_p"] - py_state["eps_p"]
        np.testing.assert_allclose(new_inelas, inelas + von_mises6(sym6(sigma)) * dg / density, rtol=1e-9, atol=1e-9)
        assert np.all(new_state[:, -1] == 7.0)
        got_s.append(new_stress)
        want_s.append(sym6(corot))
        got_st.append(new_state[:, :NSTATE])
        want_st.append(to_state(next_py))
        stress, state, ener, inelas, py_state = new_stress, new_state, new_ener, new_inelas, next_py
    diff = compare(np.stack(got_s), np.stack(got_st), np.stack(want_s), np.stack(want_st))
    assert max(diff.values()) <= TOL, diff
    assert np.stack(want_st)[-1, :, 6].max() > 0.01 and np.stack(want_st)[-1, 0, 6] == 0  # plastic and elastic points
    assert inelas[-1] > 0

    # annealing: stress 0, eps_p 0, the current configuration stress free (the next step at the same U: ~0)
    sig, st, _, _ = vumat(T, 0.01, np.zeros((nb, 6)), sym6(U_abaqus[-1]), stress, state, ener, inelas, density,
                          lanneal=1)
    assert np.all(sig == 0) and np.all(st[:, 6:8] == 0) and np.all(st[:, -1] == 7.0)
    sig, _, _, _ = vumat(T + 0.01, 0.01, np.zeros((nb, 6)), sym6(U_abaqus[-1]), sig, st, ener, inelas, density)
    assert np.abs(sig).max() < 1e-9


def test_refusals_and_readme(tmp_path, capsys):
    """A model directory given to a jc format, unknown or missing parameters: refused, nothing written; the
    README names the build line, double=both, *Depvar 8 and the units."""
    (tmp_path / "model").mkdir()
    assert main([str(tmp_path / "model"), "--format", "jc-vumat", "--out", str(tmp_path / "o1")]) == 1
    assert "Johnson-Cook" in capsys.readouterr().err and not (tmp_path / "o1").exists()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**LAWS["rate"], "D": 1.0}))
    with pytest.raises(ValueError, match="unknown keys"):
        export(bad, "jc-c", tmp_path / "o2")
    bad.write_text(json.dumps({k: v for k, v in LAWS["rate"].items() if k != "A"}))
    with pytest.raises(ValueError, match="missing"):
        export(bad, "jc-c", tmp_path / "o2")
    with pytest.raises(ValueError, match="positive"):
        export({**LAWS["rate"], "mu": -1.0}, "jc-c", tmp_path / "o2")
    paths = export(JohnsonCook(**LAWS["rate"]), "jc-vumat", tmp_path / "o3")
    readme = (tmp_path / "o3" / "README.md").read_text()
    assert sorted(p.name for p in paths) == ["README.md", "jc_vumat.f90"]
    for needle in ("double=both", "*Depvar\n      8,", "MPa", "user=jc_vumat.f90"):
        assert needle in readme, needle
    assert (tmp_path / "o3" / "jc_vumat.f90").read_text().startswith("!DIR$ FREEFORM\n")
