"""pipeline.baselines end to end on data that a Johnson-Cook law made itself: both fits recover it, its errors on
the random and classical paths vanish, the table rows and the Figure 9 predictions are complete, and fig09 draws."""
import json

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from dataset.case import Case
from dataset.contract import build_dataset
from learning.data import Trajectories, component_weights
from learning.figures_baselines import add_fig08_baselines, fig09
from learning.loss import relative_l2
from learning.rno import RNO
from mechanics import classical_paths as cp
from mechanics import johnson_cook_fit as jf
from mechanics.johnson_cook import JohnsonCook
from mechanics.mixed_bc import drive, from_components, to_components
from pipeline import baselines

torch.set_num_threads(1)
MU, KAPPA = 17299.8, 35229.3
TRUE = {"A": 90.0, "B": 250.0, "n": 0.5, "C": 0.02}


def _moduli():
    return {"mu": xr.DataArray(MU, attrs={"units": "MPa"}), "kappa": xr.DataArray(KAPPA, attrs={"units": "MPa"})}


@pytest.fixture(scope="module")
def stores():
    """A 'training' store of 8 smooth F paths (6 train, 2 test; 20 steps on 0..40 s) and a classical store (every
    classical path, 0..60 s at 2 s, the training step), both the JC law's truth."""
    jc = JohnsonCook(mu=MU, kappa=KAPPA, eps_dot_0=jf.EPS_DOT_0, **TRUE)
    rng = np.random.default_rng(0)
    t = np.linspace(0.0, 40.0, 21)
    a = rng.normal(size=(8, 3, 6)) * 0.05
    U = np.einsum("skc,tk->stc", a, np.sin(np.pi * np.outer(t, [1, 2, 3]) / 80)) + to_components(np.eye(3))
    U[..., [0, 3, 5]] /= np.prod(U[..., [0, 3, 5]], -1, keepdims=True) ** (1 / 3)  # nearly isochoric
    stress = jf.response(jc, t, U, 0 * U, np.zeros(U.shape, bool))
    train = build_dataset(Case("taylor_mg", "JC", {"seed": 0}), t, from_components(U), from_components(stress),
                          input_name="F", params=_moduli())
    train["split"] = ("sample", np.array(["train"] * 6 + ["test"] * 2, dtype=object))
    tc = cp.classical_time(2.0)
    names, F_t, s_t, m = cp.classical_controls(tc)
    out = drive(jc, tc, F_t, s_t, m)
    cfg = {"seed": 0, "classical": {"rate": cp.RATE, "eps_max": cp.EPS_MAX, "amplitudes": list(cp.AMPLITUDES),
                                    "dt": 2.0}}
    cl = build_dataset(Case("taylor_mg", "classical", cfg), tc, out["F"], out["stress"], input_name="F",
                       params=_moduli())
    cl["path_name"] = ("sample", np.array(names, dtype=object))
    cl["split"] = ("sample", np.array(["test"] * len(names), dtype=object))
    return train, cl


def test_eq16_weights_give_the_squared_error():
    rng = np.random.default_rng(1)
    t = np.cumsum(rng.uniform(0.5, 1.5, 9)) - 0.5
    t[0] = 0.0
    d = Trajectories(x=rng.normal(size=(3, 9, 6)), stress=rng.normal(size=(3, 9, 6)), time=t, sample=np.arange(3),
                     input_name="F", d=3)
    approx = d.stress + rng.normal(size=d.stress.shape)
    w = baselines.eq16_weights(d)
    e = relative_l2(*(torch.as_tensor(v) for v in (approx, d.stress, t)), torch.as_tensor(component_weights(3)))
    assert np.allclose((w * (approx - d.stress) ** 2).sum((1, 2)), e.numpy() ** 2, rtol=1e-12)


def test_classical_controls_rebuilt_and_strided(stores):
    _, cl = stores
    names, truth, F_t, s_t, m = baselines.classical_controls(cl, dt=6.0)  # strided from 2 s to 6 s
    assert names == cp.path_names() and truth.steps == 10 and F_t.shape == (5, 11, 6)
    assert np.array_equal(truth.stress, to_components(cl["stress"].values[:, ::3]))
    assert np.allclose(truth.x[~m], F_t[~m])  # the stored F follows the rebuilt control


def test_fits_recover_the_law_and_evaluate(stores, tmp_path):
    train, cl = stores
    fits = baselines.fit_both(train, cl, steps=20, n_fit=6)
    assert fits["johnson_cook_classical"].n_paths == 5 and fits["johnson_cook_random"].n_paths == 6
    for fit in fits.values():
        for p in ("A", "B", "n"):
            assert fit.params[p] == pytest.approx(TRUE[p], rel=1e-4), fit.params
    # the fitted JC is saved and read back
    path = baselines.save_fit(fits["johnson_cook_random"], tmp_path / "jc.json", fitted_to="random")
    back = baselines.load_fit(path)
    assert back.params == fits["johnson_cook_random"].params and json.loads(path.read_text())["fitted_to"] == "random"

    rno = RNO(6, 1, "evp", (8,))
    rno.init_weights(torch.Generator().manual_seed(0))
    with torch.no_grad():  # a small, nearly elastic RNO that the driver can follow
        rno.f[-1].weight.mul_(0.01)
    rows, preds = baselines.evaluate(train, cl, fits, rno.eval(), steps=20)
    assert list(rows.columns) == baselines.COLUMNS
    assert set(rows["model"]) == {"rno", "johnson_cook_classical", "johnson_cook_random"}
    assert set(rows["paths"]) == {"random", "uniaxial", "cavity", "cyclic"} and len(rows) == 12
    jc_rows = rows[rows["model"] != "rno"]
    assert (jc_rows["error"] < 1e-4).all(), jc_rows  # the data are this law's
    assert (rows[rows["model"] == "rno"]["error"] > 1e-2).all() and (rows["failed"] == 0).all()
    assert np.asarray(preds["rno"]).shape == np.asarray(preds["truth"]).shape == (5, 31, 6)

    errors = pd.concat([rows, pd.DataFrame([{"model": "pca_net", "case": "JC", "train_size": n, "paths": "random",
                                             "error": e} for n, e in ((2, 1.2), (6, 0.9))])])
    out = fig09(stem=tmp_path / "fig09", spec={"case": "JC"}, predictions=json.loads(json.dumps(preds)),
                errors=errors)
    assert [p.suffix for p in out] == [".png", ".pdf"] and all(p.stat().st_size > 0 for p in out)
    again = fig09(stem=tmp_path / "again", spec={"case": "JC"}, predictions=preds, errors=errors)
    assert (tmp_path / "fig09.png").read_bytes() == again[0].read_bytes()  # deterministic
    from dataset.figstyle import figure
    fig, (ax_a, ax_b) = figure(1, 2)
    inset = add_fig08_baselines(ax_a, ax_b, errors, "JC")
    assert inset is not None and len(inset.get_lines()) == 4  # PCA-Net, RNO, two JC markers


def test_a_path_the_model_cannot_follow_is_counted_as_failed_not_scored():
    """classical_errors: a failed path's frozen stress is left out of the mean and counted with its reason; a kind
    whose every path failed has no error (None), never a number computed from frozen values."""
    names = ["uniaxial", "cavity", "cyclic_0.025", "cyclic_0.05"]
    t = np.linspace(0.0, 1.0, 11)
    rng = np.random.default_rng(0)
    truth_stress = rng.normal(size=(4, 11, 6))
    x = np.zeros((4, 11, 6))
    x[..., [0, 3, 5]] = 1.0  # F = I (11, 12, 13, 22, 23, 33)

    def paths(sel):
        return Trajectories(x=x[sel], stress=truth_stress[sel], time=t, sample=np.arange(4)[sel], input_name="F", d=3)

    truth = paths(slice(None))
    approx = truth_stress + 0.1 * rng.normal(size=truth_stress.shape)
    reasons = ["mixed_bc: path 1, step 3: (t = 0.3 s) Newton did not converge",
               "mixed_bc: path 3, step 2: (t = 0.2 s) Newton did not converge"]
    out = baselines.classical_errors(names, approx, truth, failed_step=[-1, 3, -1, 2], reasons=reasons)
    assert out["uniaxial"][1:] == (0, "") and out["uniaxial"][0] > 0
    assert out["cavity"] == (None, 1, reasons[0])  # its only path failed: no error
    e_cyclic0 = baselines.classical_errors(names[2:3], approx[2:3], paths(slice(2, 3)))
    assert out["cyclic"] == (pytest.approx(e_cyclic0["cyclic"][0]), 1, reasons[1])  # the mean of the followed one
    rows = pd.DataFrame(baselines._rows("rno", "MG", 4, out), columns=baselines.COLUMNS)
    cavity = rows.set_index("paths").loc["cavity"]
    assert cavity["failed"] == 1 and pd.isna(cavity["error"])
