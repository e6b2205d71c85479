"""rno-factory (pipeline/cli.py), outside data -> contract stores (dataset/ingest.py), progress (dataset/progress.py)."""
import json
import logging
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from dataset.ingest import IngestError, from_damask, ingest, read_paths
from dataset.progress import Progress, progress
from dataset.store import open_store
from pipeline import cli

ROOT = cli.ROOT
T = np.linspace(0.0, 2.0, 11)  # s


def strain_paths(S=6, d=1, seed=0):
    """Symmetric strain paths (S, n, d, d) from 0 and a linear elastic stress 200 * strain (MPa)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(S, 1, d, d))
    eps = 1e-3 * np.sin(T)[None, :, None, None] * (a + np.swapaxes(a, -1, -2))
    return eps, 200.0 * eps


def write_csv(path, eps, stress=None, time=T, sample=None, split=None):
    """The documented CSV layout: sample, time, eps<i><j> (i <= j), sigma<i><j> (i <= j)."""
    S, n, d, _ = eps.shape
    sample = np.arange(S) if sample is None else np.asarray(sample)
    cols = {"sample": np.repeat(sample, n), "time": np.tile(time, S)}
    for i in range(d):
        for j in range(i, d):
            cols[f"eps{i + 1}{j + 1}"] = eps[:, :, i, j].ravel()
            if stress is not None:
                cols[f"sigma{i + 1}{j + 1}"] = stress[:, :, i, j].ravel()
    if split is not None:
        cols["split"] = np.repeat(split, n)
    pd.DataFrame(cols).to_csv(path, index=False)
    return path


# ------------------------------------------------------------------------------------------------------- --help

def test_help_lists_the_subcommands_with_examples():
    run = subprocess.run([sys.executable, "-m", "pipeline.cli", "--help"], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    for sub in ("run", "ingest", "train", "predict", "export", "choose-k"):
        assert sub in run.stdout.split("examples:")[0], sub
        assert f"rno-factory {sub}" in run.stdout, sub  # an example of each
    assert "docs/cli.md" in run.stdout


def test_console_script_is_declared():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'rno-factory = "pipeline.cli:main"' in text


# ------------------------------------------------------------------------------------------------------- ingest

def test_ingest_csv_makes_a_valid_store(tmp_path):
    eps, stress = strain_paths(S=5, d=2)
    src = write_csv(tmp_path / "mine.csv", eps, stress, sample=[10, 11, 12, 13, 14])
    assert cli.main(["ingest", str(src), "--out", str(tmp_path / "mine.zarr"), "--test-fraction", "0.4"]) == 0
    ds = open_store(tmp_path / "mine.zarr")  # validated by the contract
    assert ds.attrs["producer"] == "external" and ds.attrs["case"] == "mine" and ds.attrs["input"] == "strain"
    assert ds["sample"].values.tolist() == [10, 11, 12, 13, 14]
    assert ds["split"].values.tolist() == ["train"] * 3 + ["test"] * 2
    np.testing.assert_allclose(ds["strain"].values, eps, atol=1e-15)
    np.testing.assert_allclose(ds["stress"].values, stress, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ds["time"].values, T)


def test_ingest_npz_and_netcdf_and_the_split_of_the_file(tmp_path):
    eps, stress = strain_paths(S=4, d=1)
    F = eps + 1.0  # 1D: F11 = 1 + eps
    np.savez(tmp_path / "f.npz", time=T, F=F, stress=stress, split=np.array(["train", "test", "train", "test"]))
    ds = open_store(ingest(tmp_path / "f.npz", tmp_path / "f.zarr", case="F1"))
    assert ds.attrs["input"] == "F" and ds.attrs["case"] == "F1"
    assert ds["split"].values.tolist() == ["train", "test", "train", "test"]
    np.testing.assert_allclose(ds["F"].values, F)
    nc = xr.Dataset({"strain": (("sample", "time", "i", "j"), eps), "stress": (("sample", "time", "i", "j"), stress)},
                    coords={"time": T, "sample": np.arange(4)})
    nc.to_netcdf(tmp_path / "e.nc", engine="scipy")  # NetCDF 3
    ds = open_store(ingest(tmp_path / "e.nc", tmp_path / "e.zarr"))
    np.testing.assert_allclose(ds["stress"].values, stress)
    assert ds["split"].values.tolist() == ["train"] * 3 + ["test"]


@pytest.mark.parametrize("fault, message", [
    ("missing_column", ["bad.csv", "'sigma12'"]),
    ("nan", ["bad.csv", "sample 3", "'sigma11'", "1 s"]),
    ("time_grid", ["bad.csv", "sample 2", "'time'"]),
    ("reference", ["bad.csv", "sample 4", "'strain'", "t = 0"]),
    ("text", ["bad.csv", "'eps11'", "line 9"]),
    ("split", ["bad.csv", "sample 1", "'split'"]),
])
def test_ingest_errors_name_file_variable_and_sample(tmp_path, fault, message):
    eps, stress = strain_paths(S=5, d=2)
    src = write_csv(tmp_path / "bad.csv", eps, stress)
    df = pd.read_csv(src)
    if fault == "missing_column":
        df = df.drop(columns="sigma12")
    elif fault == "nan":
        df.loc[(df["sample"] == 3) & np.isclose(df["time"], 1.0), "sigma11"] = np.nan
    elif fault == "time_grid":
        df.loc[(df["sample"] == 2) & np.isclose(df["time"], 1.0), "time"] = 1.01
    elif fault == "reference":
        df.loc[(df["sample"] == 4) & (df["time"] == 0.0), "eps22"] = 1e-3
    elif fault == "text":
        df["eps11"] = df["eps11"].astype(object)
        df.loc[7, "eps11"] = "abc"
    elif fault == "split":
        df["split"] = "train"
        df.loc[df["sample"] == 1, "split"] = "validation"
    df.to_csv(src, index=False)
    with pytest.raises(IngestError) as err:
        ingest(src, tmp_path / "bad.zarr")
    for part in message:
        assert part in str(err.value), (part, str(err.value))
    assert not (tmp_path / "bad.zarr").exists()
    # and through the command: exit status 1, the message on stderr
    assert cli.main(["ingest", str(src), "--out", str(tmp_path / "bad.zarr")]) == 1


def test_damask_conversion_from_the_arrays_damask_result_returns():
    """F_bar = mean F, sigma = P_bar F_bar^T / det F_bar in MPa, on cells of a homogeneous Cauchy stress."""
    n_inc, n_cells = 4, 8
    rng = np.random.default_rng(1)
    times = np.array([0.0, 0.5, 1.0, 2.0])
    F = np.empty((n_inc, n_cells, 3, 3))
    P = np.empty_like(F)
    sigma_true = np.empty((n_inc, 3, 3))
    for k in range(n_inc):
        A = 0.02 * k * rng.normal(size=(3, 3))
        Fk = np.eye(3) + A
        s = 1e6 * 50.0 * k * (A + A.T)  # Pa, symmetric
        sigma_true[k] = s / 1e6
        F[k] = Fk  # homogeneous cells: the average is exact
        P[k] = np.linalg.det(Fk) * s @ np.linalg.inv(Fk).T
    t, F_bar, sigma = from_damask(times, F, P, where="run0.hdf5")
    np.testing.assert_allclose(F_bar, F[:, 0])
    np.testing.assert_allclose(sigma, sigma_true, atol=1e-9)
    assert np.array_equal(t, times)
    # heterogeneous cells with mean F and P: the same macroscopic stress
    dF = 1e-3 * rng.normal(size=(n_inc, n_cells, 3, 3))
    dF -= dF.mean(axis=1, keepdims=True)
    dF[0] = 0
    _, F_bar2, sigma2 = from_damask(times, F + dF, P, where="run0.hdf5")
    np.testing.assert_allclose(F_bar2, F_bar, atol=1e-15)
    np.testing.assert_allclose(sigma2, sigma, atol=1e-9)
    P_bad = P.copy()
    P_bad[2] += 1e6 * np.array([[0, 5.0, 0], [0, 0, 0], [0, 0, 0]])  # an antisymmetric Cauchy part
    with pytest.raises(IngestError, match=r"run0.hdf5: variable 'stress'.*increment 2"):
        from_damask(times, F, P_bad, where="run0.hdf5")
    with pytest.raises(IngestError, match=r"run0.hdf5: variable 'time'"):
        from_damask(times + 1.0, F, P, where="run0.hdf5")


def fake_dadf5(path, times, F, P, phase="Mg", homog="SX"):
    """A minimal DADF5 file as damask.Result reads it (the DAMASK grid solver is not installed here): one phase,
    one constituent per cell, F (1) and P (Pa) per increment under increment_<n>/phase/<phase>/mechanical."""
    import h5py

    n_inc, N = F.shape[:2]
    with h5py.File(path, "w") as f:
        f.attrs["DADF5_version_major"] = 1
        f.attrs["DADF5_version_minor"] = 0
        g = f.create_group("geometry")
        g.attrs["cells"], g.attrs["size"], g.attrs["origin"] = np.array([N, 1, 1]), np.ones(3), np.zeros(3)
        dt = np.dtype([("label", "S16"), ("entry", "<u4")])
        ph = np.zeros((N, 1), dt)
        ph["label"], ph["entry"][:, 0] = phase.encode(), np.arange(N)
        ho = np.zeros(N, dt)
        ho["label"], ho["entry"] = homog.encode(), np.arange(N)
        f.create_dataset("cell_to/phase", data=ph)
        f.create_dataset("cell_to/homogenization", data=ho)
        for k in range(n_inc):
            inc = f.create_group(f"increment_{k}")
            inc.attrs["t/s"] = times[k]
            inc.create_group("geometry")
            inc.create_group(f"homogenization/{homog}")
            for name, a, unit in (("F", F[k], "-"), ("P", P[k], "Pa")):
                dset = inc.create_dataset(f"phase/{phase}/mechanical/{name}", data=a)
                dset.attrs["unit"], dset.attrs["creator"] = unit, "test"
    return path


def test_ingest_damask_results_through_damask_result(tmp_path):
    times = np.array([0.0, 0.5, 1.0])
    n_cells = 8
    sources, expected = [], []
    for run in range(2):
        F = np.tile(np.eye(3), (3, n_cells, 1, 1))
        P = np.zeros_like(F)
        for k in (1, 2):
            F[k, :, 0, 0] = 1.0 + 0.01 * k * (run + 1)  # uniaxial stretch
            P[k, :, 0, 0] = 1e8 * k * (run + 1)  # Pa
        sources.append(str(fake_dadf5(tmp_path / f"run{run}.hdf5", times, F, P)))
        sig = np.zeros((3, 3, 3))
        sig[:, 0, 0] = P[:, 0, 0, 0] * F[:, 0, 0, 0] / np.linalg.det(F[:, 0]) / 1e6  # MPa
        expected.append(sig)
    assert cli.main(["ingest", *sources, "--out", str(tmp_path / "damask.zarr"), "--case", "runs"]) == 0
    ds = open_store(tmp_path / "damask.zarr")
    assert ds.attrs["input"] == "F" and ds.sizes["i"] == 3 and ds["sample"].values.tolist() == [0, 1]
    np.testing.assert_allclose(ds["time"].values, times)
    np.testing.assert_allclose(ds["stress"].values, np.stack(expected), rtol=1e-12)
    assert json.loads(ds.attrs["case_config"])["source"] == [str((tmp_path / f"run{r}.hdf5").resolve())
                                                               for r in range(2)]
    fake_dadf5(tmp_path / "late.hdf5", times + 0.5, F, P)  # increments not starting at t = 0
    with pytest.raises(IngestError, match=r"late\.hdf5: variable 'time'"):
        read_paths([sources[0], str(tmp_path / "late.hdf5")])


# ---------------------------------------------------------------------------------------- train, predict, export

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A store of 6 paths and an evp-k1 RNO trained on it for 2 epochs (hidden [8])."""
    torch.set_num_threads(1)
    tmp = tmp_path_factory.mktemp("cli")
    eps, stress = strain_paths(S=6, d=1)
    write_csv(tmp / "paths.csv", eps, stress)
    assert cli.main(["ingest", str(tmp / "paths.csv"), "--out", str(tmp / "paths.zarr")]) == 0
    assert cli.main(["train", str(tmp / "paths.zarr"), "--k", "1", "--epochs", "2", "--hidden", "8",
                     "--eval-every", "1", "--out", str(tmp / "model")]) == 0
    return tmp


def test_train_writes_the_model_directory(trained):
    from learning import FILES, load

    model_dir = trained / "model"
    for name in FILES["rno"]:
        assert (model_dir / name).exists(), name
    model = load(model_dir)
    assert model.k == 1 and model.hidden == [8] and model.variant == "evp"
    history = json.loads((model_dir / "history.json").read_text())
    assert [r["epoch"] for r in history] == [1, 2]
    assert all(r["validation_error"] is not None for r in history)  # eval_every 1, one validation path
    config = json.loads((model_dir / "config.json").read_text())
    assert config["data"]["input"] == "strain" and config["data"]["n_test"] == 2
    assert config["data"]["n_train"] + config["data"]["n_validation"] == 4


def test_predict_on_a_csv_path_file(trained):
    from learning import load

    eps, _ = strain_paths(S=2, d=1, seed=5)
    src = write_csv(trained / "new.csv", eps, sample=[7, 9])  # no stress: predicting only
    assert cli.main(["predict", str(trained / "model"), str(src), "--out", str(trained / "pred" / "new")]) == 0
    out = pd.read_csv(trained / "pred" / "new.csv")
    assert list(out.columns) == ["sample", "time", "sigma11", "xi1"]
    assert out["sample"].unique().tolist() == [7, 9] and len(out) == 2 * T.size
    model = load(trained / "model").double()
    with torch.no_grad():
        stress, xi = model.rollout(torch.as_tensor(eps[..., 0, 0][..., None]), torch.as_tensor(T))
    np.testing.assert_allclose(out["sigma11"].to_numpy(), stress[..., 0].numpy().ravel(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(out["xi1"].to_numpy(), xi[..., 0].numpy().ravel(), rtol=1e-7, atol=1e-9)
    z = np.load(trained / "pred" / "new.npz")
    assert z["stress"].shape == (2, T.size, 1) and z["xi"].shape == (2, T.size, 1)
    png = (trained / "pred" / "new.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_predict_rejects_the_wrong_input(trained, capsys):
    eps, _ = strain_paths(S=1, d=1)
    np.savez(trained / "f.npz", time=T, F=eps + 1.0)
    assert cli.main(["predict", str(trained / "model"), str(trained / "f.npz"), "--out", str(trained / "x")]) == 1
    assert "f.npz" in capsys.readouterr().err


def test_export_delegates_to_rno_export(trained):
    assert cli.main(["export", str(trained / "model"), "--format", "c", "--out", str(trained / "c")]) == 0
    assert (trained / "c" / "rno_model.c").exists() and (trained / "c" / "rno_model.h").exists()


# -------------------------------------------------------------------------------------------------------- run

def test_run_goes_through_the_stale_lock_recovery(monkeypatch, tmp_path):
    from pipeline import run

    seen = []
    monkeypatch.setattr(run, "main", lambda argv: seen.append(argv) or 0)
    monkeypatch.chdir(ROOT)
    assert cli.main(["run", "--profile", "slurm", "--configfile", "config.paper.yaml", "--dry-run"]) == 0
    argv = seen[0]
    assert argv[:2] == ["--workflow-profile", str(ROOT / "workflow" / "profiles" / "slurm")]
    assert argv[argv.index("--configfile") + 1] == "config.paper.yaml" and argv[-1] == "--dry-run"
    assert "--snakefile" not in argv  # the project's directory has the Snakefile
    monkeypatch.chdir(tmp_path)  # elsewhere: the project's Snakefile, run in the project
    assert cli.main(["run"]) == 0
    assert seen[1][seen[1].index("--snakefile") + 1] == str(ROOT / "Snakefile")
    assert "local" in seen[1][1]
    cli.main(["run", "--config", "learning={}", "--cores", "1"])  # Snakemake's --config is not our --configfile
    assert seen[2][-2:] == ["--config", "learning={}"] and "--configfile" not in seen[2]


# --------------------------------------------------------------------------------------------------- progress

def test_progress_off_a_terminal_logs_every_tenth(caplog):
    log = logging.getLogger("rno-factory.test-progress")
    with caplog.at_level(logging.INFO, logger="rno-factory.test-progress"):
        assert list(progress(range(20), "work", unit="sample", bar=False, log=log)) == list(range(20))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 10
    assert lines[0].startswith("work: 10 % (2/20 sample)") and "left" in lines[0]
    assert lines[-1].startswith("work: 100 % (20/20 sample)")


def test_progress_stopped_early_logs_where_it_stopped(caplog):
    log = logging.getLogger("rno-factory.test-progress")
    with caplog.at_level(logging.INFO, logger="rno-factory.test-progress"):
        with Progress(100, "epochs", unit="epoch", bar=False, log=log) as p:
            p.update(5)
    assert [r.getMessage().split(" in ")[0] for r in caplog.records] == ["epochs: 5 % (5/100 epoch)"]


def test_progress_bar_on_a_terminal(capsys):
    with Progress(3, "bar test", unit="epoch", bar=True) as p:
        for _ in range(3):
            p.update()
    err = capsys.readouterr().err
    assert "bar test" in err and "3/3" in err


def test_training_logs_progress(caplog, tmp_path):
    from learning import fit, trajectories
    from pipeline.studies import train_settings

    torch.set_num_threads(1)
    eps, stress = strain_paths(S=4, d=1)
    write_csv(tmp_path / "p.csv", eps, stress)
    ds = open_store(ingest(tmp_path / "p.csv", tmp_path / "p.zarr", test_fraction=0.25))
    settings = train_settings(k=0, epochs=3, hidden=[4], train_steps=10, validation_fraction=0.0, eval_every=1)
    with caplog.at_level(logging.INFO, logger="rno-factory.learning"):
        fit(trajectories(ds, "train", 10), settings, device="cpu")
    lines = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("epoch 3/3 ") for m in lines)  # the per-epoch lines are unchanged
    assert any("100 % (3/3 epoch)" in m for m in lines)
