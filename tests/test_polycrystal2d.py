"""Full-field 2D polycrystal (fullfield/polycrystal2d): validation of the PETSc solver (issue 4, item 5)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("petsc4py")

from dataset.shards import shard_inputs, solve_shard  # noqa: E402
from dataset.store import open_store  # noqa: E402
from fullfield.polycrystal2d import microstructure, producer  # noqa: E402
from fullfield.polycrystal2d.material import NeoHookeanPoints  # noqa: E402
from fullfield.polycrystal2d.solver import CellSolver, parse_options  # noqa: E402
from mechanics import crystal, elasticity, slip  # noqa: E402
from mechanics.tensor import cauchy, split_pressure  # noqa: E402
from pipeline.config import make_case  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MU, KAPPA = 19000.0, 48000.0
pytestmark = pytest.mark.filterwarnings("ignore:The given NumPy array is not writable")


def ramp(F_end, n=5, T=1.0):
    t = np.linspace(0.0, T, n + 1)
    F = np.eye(2) + t[:, None, None] / T * (np.asarray(F_end) - np.eye(2))
    return F, t


def tiny_case(**over):
    base = dict(seed=11, grid=8, n_grains=4, loading={"n_steps": 5, "T": 1.0})
    return make_case("polycrystal2d", "T", **{**base, **over})


def paths(case, n=1):
    p = shard_inputs(case, 0, n, 2, "F")
    return p.values, p.time


class PerPointNeoHookean(NeoHookeanPoints):
    """Neo-Hookean with a shear modulus per point (heterogeneous elastic cells)."""

    def __init__(self, mu):
        super().__init__(len(mu), 1.0, KAPPA)
        self.mu = np.asarray(mu, float)


# ------------------------------------------------------------------------------------------ microstructure

def test_microstructure_is_keyed_periodic_and_grid_independent():
    case = tiny_case(n_grains=6)
    a, b = microstructure.for_case(case, grid=16), microstructure.for_case(case, grid=32)
    assert a.grain.shape == (16, 16) and set(np.unique(a.grain)) <= set(range(6))
    np.testing.assert_array_equal(a.angle, b.angle)  # same seeds and angles whatever the grid
    assert np.all((a.angle >= 0) & (a.angle < np.pi))
    np.testing.assert_array_equal(a.grain, microstructure.for_case(case, grid=16).grain)  # reproducible
    other = microstructure.for_case(tiny_case(n_grains=6, seed=12), grid=16)
    assert not np.array_equal(a.angle, other.angle)


# ------------------------------------------------------------------------------------------ (a) elastic regime

@pytest.mark.parametrize("model", ["neohookean", "crystal"])
def test_elastic_regime_equals_homogeneous_neo_hookean(model):
    """(a) every grain has the same isotropic elasticity: any microstructure gives the homogeneous stress."""
    huge = {"tau0": [1e12, 1e12]} if model == "crystal" else {}
    case = tiny_case(model=model, slip=huge)
    F, t = paths(case, 2)
    ds = producer.solve(F, t, case)
    assert json.loads(ds.attrs["failures"]) == []
    expected = cauchy(elasticity.stress(F, MU, KAPPA), F)  # the shared A1 energy's stress (Fp = I)
    scale = np.abs(expected).max()
    assert np.abs(ds["stress"].values - expected).max() < 1e-7 * scale
    np.testing.assert_allclose(ds["pressure"].values, -KAPPA * (np.linalg.det(F) - 1.0), rtol=1e-8, atol=1e-6)
    trace = np.trace(ds["stress_dev"].values, axis1=-2, axis2=-1)
    assert np.abs(trace).max() < 1e-8 * scale


def test_laminate_matches_the_exact_layered_solution():
    """A heterogeneous elastic cell with a known answer: two layers normal to x (mu and 3 mu). F = F_bar + a (x) e_x
    in each layer with equal and opposite a and continuous traction P e_x; Q1 elements represent it exactly."""
    from scipy.optimize import fsolve

    N = 8
    F_end = np.array([[1.03, 0.02], [0.02, 0.98]])
    mu_layer = np.array([MU, 3 * MU])

    def factory(pi, pj):
        return PerPointNeoHookean(mu_layer[(pi >= N // 2).astype(int)])

    solver = CellSolver(N, factory, scale=MU)
    F, t = ramp(F_end, n=3)
    res = solver.solve_path(F, t)
    solver.destroy()
    e_x = np.array([1.0, 0.0])

    def layers(a):
        F0, F1 = F_end + np.outer(a, e_x), F_end - np.outer(a, e_x)
        return elasticity.stress(F0, mu_layer[0], KAPPA), elasticity.stress(F1, mu_layer[1], KAPPA)

    a = fsolve(lambda a: (layers(a)[0] - layers(a)[1]) @ e_x, np.zeros(2), xtol=1e-14)
    P0, P1 = layers(a)
    exact = 0.5 * (P0 + P1)
    assert np.abs(res.P_bar[-1] - exact).max() < 1e-8 * np.abs(exact).max()
    assert res.snes_its[1:].max() <= 6 and res.snes_its[1:].min() >= 1  # a real (quadratic) Newton solve


# ------------------------------------------------------------------------------------------ (b) one orientation

def test_single_orientation_equals_the_single_point_update():
    """(b) all grains with one orientation: the cell is homogeneous and equals crystal.drive under F_bar(t)."""
    from fullfield.polycrystal2d.material import crystal_params, slip_parameters

    angle = 0.3
    case = tiny_case(grid=4, loading={"n_steps": 8, "T": 1.6, "F_max": 0.02})
    F, t = paths(case, 1)
    ds = producer.solve(F, t, case, micro=microstructure.single_crystal(4, angle))
    cfg = producer.config_of(case)
    sp = slip_parameters(cfg)
    schmid = slip.schmid_tensors(sp["b"], sp["n"], slip.rotation_2d(angle))
    point = crystal.drive(F[0], t, schmid, crystal_params(cfg))
    assert point["converged"]
    assert np.abs(point["e"][-1]).max() > 1e-4  # the path is plastic
    err = np.abs(ds["stress"].values[0] - point["stress"]).max()
    assert err < 1e-6 * np.abs(point["stress"]).max(), err


def test_warm_starts_leave_the_solution_unchanged():
    """The material warm starts (time extrapolation, then the compiled tangent's first-order slip prediction) with
    the tighter local tolerance change only where the local Newton starts: the same stresses as the committed
    rates with crystal.update's default tolerance, to the solver tolerances, for less local work."""
    from fullfield.polycrystal2d.material import CrystalPoints

    case = tiny_case(n_grains=5, loading={"n_steps": 12, "T": 2.4, "F_max": 0.005})
    F, t = paths(case, 1)
    cfg = producer.config_of(case)
    micro = microstructure.for_case(case)
    out, work = [], []
    for options, warm in [({"tol": 1e-10}, False), (None, True)]:
        build = lambda pi, pj: CrystalPoints(micro.angle[micro.grain[pi, pj]], cfg, options, warm)  # noqa: E731
        solver = CellSolver(micro.grid, build, scale=MU)
        before = crystal.SOLVER_WORK[0][0]
        out.append(solver.solve_path(F[0], t))
        work.append(crystal.SOLVER_WORK[0][0] - before)
        solver.destroy()
    plain, fast = out
    assert np.abs(plain.P_bar).max() > 100.0 and plain.snes_its.max() >= 2  # plastic, Newton iterated
    assert plain.substeps.max() == fast.substeps.max() == 1
    assert np.abs(fast.P_bar - plain.P_bar).max() < 1e-9 * np.abs(plain.P_bar).max()
    assert work[1] < 0.9 * work[0]  # residual evaluations of the local Newton solves


def test_compiled_fe_kernels_equal_the_einsum_forms():
    """fem.py's compiled element loops against the einsum expressions of the Q1 formulas (one rank, 8 x 8)."""
    from fullfield.polycrystal2d.fem import PeriodicQ1

    fem = PeriodicQ1(8, scale=MU)
    rng = np.random.default_rng(0)
    A = rng.normal(size=(fem.n_elem * 4, 2, 2, 2, 2))
    V = np.bincount(fem._inverse, weights=fem.element_matrices(A).ravel(), minlength=fem._n_entries)
    np.testing.assert_allclose(fem.jacobian_values(A), V, rtol=0, atol=1e-14 * np.abs(V).max())
    P = rng.normal(size=(fem.n_elem * 4, 2, 2))
    re = np.einsum("eqiJ,qaJ->eai", P.reshape(-1, 4, 2, 2), fem.dN) * (fem.weight / (fem.scale * fem.h))
    R = np.zeros((fem.ghost_shape[0] * fem.ghost_shape[1], 2))
    np.add.at(R, fem.elem_nodes, re)
    np.testing.assert_allclose(fem.residual_local(P), R.ravel(), rtol=0, atol=1e-14 * np.abs(R).max())
    w, F_bar = rng.normal(size=(fem.ghost_shape[0] * fem.ghost_shape[1], 2)), rng.normal(size=(2, 2))
    G = np.einsum("eai,qaJ->eqiJ", w[fem.elem_nodes], fem.dN)
    np.testing.assert_allclose(fem.deformation(w, F_bar), (F_bar + G).reshape(-1, 2, 2), rtol=0, atol=1e-13)
    fem.destroy()


# ------------------------------------------------------------------------------------------ (c) refinement

def _refinement_stresses(grids, factory_for, F, t):
    out = []
    for N in grids:
        solver = CellSolver(N, factory_for(N), scale=MU)
        out.append(solver.solve_path(F, t).P_bar[-1])
        solver.destroy()
    return out


def test_grid_refinement_elastic_heterogeneous():
    """(c) 16^2 -> 32^2 -> 64^2 on the same Voronoi cell (grain-wise shear modulus): differences shrink."""
    case = tiny_case(n_grains=8)
    mu_grain = MU * (1.0 + 2.0 * np.arange(8) % 3)

    def factory_for(N):
        micro = microstructure.for_case(case, grid=N)
        return lambda pi, pj: PerPointNeoHookean(mu_grain[micro.grain[pi, pj]])

    F, t = ramp([[1.02, 0.01], [0.01, 0.99]], n=1)
    s16, s32, s64 = _refinement_stresses((16, 32, 64), factory_for, F, t)
    d1, d2 = np.abs(s32 - s16).max(), np.abs(s64 - s32).max()
    assert d2 < 0.8 * d1, (d1, d2)


@pytest.mark.slow
def test_grid_refinement_crystal_plasticity():
    """(c) with crystal plasticity (PH) along a short path: 16^2 -> 32^2 -> 64^2 differences shrink."""
    from fullfield.polycrystal2d.material import factory

    case = tiny_case(n_grains=8, loading={"n_steps": 10, "T": 2.0, "F_max": 0.02})
    cfg = producer.config_of(case)
    F, t = paths(case, 1)

    def factory_for(N):
        return factory(cfg, microstructure.for_case(case, grid=N))

    s16, s32, s64 = _refinement_stresses((16, 32, 64), factory_for, F[0], t)
    d1, d2 = np.abs(s32 - s16).max(), np.abs(s64 - s32).max()
    assert d2 < d1, (d1, d2)


# ------------------------------------------------------------------------------------------ (d) 1 vs 2 ranks

def mpi_env():
    return {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
            "OMPI_MCA_rmaps_base_oversubscribe": "1", "PYTHONWARNINGS": "ignore"}


@pytest.mark.mpi
@pytest.mark.skipif(shutil.which("mpirun") is None, reason="needs mpirun")
def test_two_ranks_agree_with_one_rank_through_the_mpi_entry_point(tmp_path):
    """(d) the shard job under mpirun -n 2 (grid split over ranks) equals the serial solve to 1e-6 relative;
    rank 0 writes the shard atomically."""
    case = tiny_case(n_grains=5)
    serial = solve_shard(producer, case, 0, 2)
    out = tmp_path / "shard0.zarr"
    cmd = ["mpirun", "-n", "2", "--oversubscribe", sys.executable, str(ROOT / "workflow/scripts/solve_shard.py"),
           "--producer", "polycrystal2d", "--case", case.name, "--case-config", json.dumps(case.solve_config),
           "--shard", "0", "--shard-size", "2", "--out", str(out), "--log", str(tmp_path / "log.txt")]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=mpi_env(), cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    parallel = open_store(out, shard=True)
    assert json.loads(parallel.attrs["solver"])["ranks"] == 2
    a, b = serial["stress"].values, parallel["stress"].values
    assert a.shape == b.shape and np.abs(a).max() > 100.0
    assert np.abs(a - b).max() <= 1e-6 * np.abs(a).max()
    assert parallel["snes_iterations"].values.max() >= 1  # heterogeneous: Newton really iterated
    assert not list(tmp_path.glob(".*.tmp-*"))


# ------------------------------------------------------------------------------------------ (e) clear errors

@pytest.mark.parametrize("bad, message", [
    ("det", "det F"),
    ("nan", "finite"),
    ("start", "identity"),
    ("shape", "inputs must be"),
    ("time", "increase strictly"),
])
def test_malformed_paths_raise_clear_errors(bad, message):
    case = tiny_case(model="neohookean")
    F, t = paths(case, 1)
    F, t = F.copy(), t.copy()
    if bad == "det":
        F[0, 3] = np.array([[0.5, 0.0], [0.0, -0.1]])
    elif bad == "nan":
        F[0, 2, 0, 1] = np.nan
    elif bad == "start":
        F[0, 0] = 1.01 * np.eye(2)
    elif bad == "shape":
        F = F[:, :, :1, :]
    elif bad == "time":
        t[3] = t[2]
    with pytest.raises(ValueError, match=message):
        producer.solve(F, t, case)


def test_solve_path_names_the_step():
    solver = CellSolver(4, lambda pi, pj: NeoHookeanPoints(len(pi), MU, KAPPA), scale=MU)
    F, t = ramp(np.diag([1.0, -0.5]), n=4)
    try:
        with pytest.raises(ValueError, match=r"det F = .* <= 0 at step 3"):
            solver.solve_path(F, t)
    finally:
        solver.destroy()


# ------------------------------------------------------------------------------------------ failures, options, data

def test_a_sample_that_still_fails_is_recorded_with_the_snes_reason():
    case = tiny_case(grid=4, petsc_options="-snes_max_it 1", max_cutbacks=1)
    F, t = paths(case, 2)
    ds = producer.solve(F, t, case)
    failed = json.loads(ds.attrs["failures"])
    assert [f["sample"] for f in failed] == [0, 1] and ds.sizes["sample"] == 0
    assert "DIVERGED_MAX_IT" in failed[0]["snes_reason"] and "cut-backs" in failed[0]["reason"]


def test_cut_back_recovers_a_step():
    """With too few Newton iterations per solve the steps are cut back and still succeed."""
    case = tiny_case(grid=4, petsc_options={"snes_max_it": 3}, max_cutbacks=6)
    F, t = paths(case, 1)
    ds = producer.solve(F, t, case)
    assert json.loads(ds.attrs["failures"]) == []
    assert ds["substeps"].values.max() > 1


def test_petsc_options_pass_through():
    assert parse_options("-snes_monitor -ksp_type cg -ksp_rtol 1e-6") == {"snes_monitor": "", "ksp_type": "cg",
                                                                         "ksp_rtol": "1e-6"}
    assert parse_options({"-pc_type": "jacobi", "snes_monitor": True}) == {"pc_type": "jacobi", "snes_monitor": ""}
    case = tiny_case(model="neohookean", petsc_options="-ksp_type cg -pc_type jacobi")
    F, t = paths(case, 1)
    ds = producer.solve(F, t, case)
    info = json.loads(ds.attrs["solver"])
    assert (info["ksp_type"], info["pc_type"]) == ("cg", "jacobi")
    from petsc4py import PETSc

    assert not PETSc.Options().hasName("ksp_type")  # the case's options do not leak into the next solver


def test_dataset_contract_pressure_and_deviator():
    case = tiny_case(model="neohookean")
    ds = solve_shard(producer, case, 3, 2)  # renumbers samples
    assert list(ds["sample"].values) == [6, 7] and ds.attrs["producer"] == "polycrystal2d"
    s = ds["stress"].values
    p, dev = split_pressure(s)
    np.testing.assert_allclose(ds["pressure"].values, p)
    np.testing.assert_allclose(ds["stress_dev"].values, dev)
    assert ds["grain_map"].shape == (8, 8) and ds["orientation"].attrs["units"] == "rad"
    assert (ds["stress"].isel(time=0) == 0).all()


def test_cauchy_of_average_piola():
    """sigma = mu/J^2 dev(F F^T) + kappa (J - 1) I for the 2D neo-Hookean (A1), whichever product rounds it."""
    F = np.array([[1.1, 0.05], [0.05, 0.95]])
    P = elasticity.stress(F, MU, KAPPA)
    sigma, asym = producer.average_cauchy(P[None], F[None])
    J, B = np.linalg.det(F), F @ F.T
    exact = MU / J**2 * (B - np.trace(B) / 2 * np.eye(2)) + KAPPA * (J - 1.0) * np.eye(2)
    np.testing.assert_allclose(sigma[0], exact, rtol=1e-12)
    np.testing.assert_allclose(cauchy(P, F), exact, rtol=1e-12)
    assert asym < 1e-14
