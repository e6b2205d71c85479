"""The Snakemake DAG end to end on a tiny config in a temporary directory."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dataset.store import open_store

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def tiny_config(tmp_path, **n1):
    return {
        "results": str(tmp_path / "results"),
        "seed": 5,
        "loading": {"T": 200.0, "M": 5, "n_steps": 60, "F_max": 0.01},
        "figures": {"loading_paths": {"n_paths": 2}},
        "producers": {"composite1d": {"shard_size": 3, "defaults": {"n_train": 3, "n_test": 2},
                                      "cases": {"N1": {"n_phases": 1, **n1}, "N2": {"n_phases": 2}}}},
    }


def snakemake(tmp_path, config, *args):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(config))
    cmd = [str(SNAKEMAKE), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
           "--configfile", str(cfg), "--cores", "2", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONHASHSEED": "0"})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dag")
    run = snakemake(tmp, tiny_config(tmp))
    assert run.returncode == 0, run.stderr[-3000:]
    return tmp, run


def test_default_dag_writes_valid_stores_and_the_figure(built):
    tmp, run = built
    results = tmp / "results"
    for case, n_train, n_test in (("N1", 3, 2), ("N2", 3, 2)):
        ds = open_store(results / "datasets" / "composite1d" / f"{case}.zarr")
        assert (int((ds.split == "train").sum()), int((ds.split == "test").sum())) == (n_train, n_test)
        assert ds["eps_p"].sizes["phase"] == int(case[1:]) and ds.sizes["time"] == 61
    assert (results / "figures" / "loading_paths.png").stat().st_size > 10_000
    assert (results / "figures" / "loading_paths.pdf").exists()
    assert "datasets:" in run.stdout and "composite1d/N1.zarr" in run.stdout  # where the results are
    assert not list(results.rglob(".*.tmp-*"))


def test_up_to_date_dag_runs_nothing(built):
    tmp, _ = built
    run = snakemake(tmp, tiny_config(tmp), "-n")
    assert run.returncode == 0 and "Nothing to be done" in run.stdout + run.stderr


# What reruns when (more samples, one case changed, code edits, deleted shards, killed runs): test_regeneration.py


def test_bad_config_fails_before_any_job_naming_the_key(tmp_path):
    config = tiny_config(tmp_path)
    config["producers"]["composite1d"]["cases"]["N1"]["n_phases"] = 0
    run = snakemake(tmp_path, config)
    assert run.returncode != 0
    assert "config key producers.composite1d.cases.N1.n_phases: 0 is less than the minimum of 1" in run.stderr
    assert not (tmp_path / "results").exists()


def test_lint_is_clean():
    run = subprocess.run([str(SNAKEMAKE), "--lint"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


def test_paper_local_study_dry_run_lists_every_section(tmp_path):
    """benchmarks/configs/paper-local.yaml (issue 15): a dry run in an empty folder lists the whole study."""
    config = yaml.safe_load((ROOT / "benchmarks" / "configs" / "paper-local.yaml").read_text())
    config["results"] = str(tmp_path / "results")
    run = snakemake(tmp_path, config, "-n")
    assert run.returncode == 0, run.stderr[-3000:]
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", run.stdout, re.M))
    # 40 + 40 + 50 + 44 shards; 41 1D + 41 laminate + 10 2D + 13 Mg models; every figure of the four sections
    assert {k: int(jobs[k]) for k in ("solve_shard_composite1d", "solve_shard_laminate", "solve_shard_polycrystal2d",
                                      "solve_shard_taylor_mg", "train")} == {
        "solve_shard_composite1d": 40, "solve_shard_laminate": 40, "solve_shard_polycrystal2d": 50,
        "solve_shard_taylor_mg": 44, "train": 105}
    assert {"fig01", "fig03", "fig04", "fig05", "fig06", "fig07", "fig08", "fig10a", "fig10b"} <= set(jobs)
