"""The DAG through a real SLURM: a single-node cluster on localhost (tests/slurm_harness.py) and the
snakemake-executor-plugin-slurm with the project's profile (workflow/profiles/slurm).

Skipped, with the reason, where the daemons cannot start (not root, slurm-wlm/munge missing);
RNO_REQUIRE_SLURM=1 turns that skip into a failure.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from dataset.store import open_store
from slurm_harness import SlurmUnavailable, local_slurm

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
TEST_SNAKEFILE = ROOT / "tests" / "slurm" / "Snakefile"
ENV = {**os.environ, "PYTHONHASHSEED": "0", "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
       "OMPI_MCA_rmaps_base_oversubscribe": "1"}
SLURM_ARGS = ["--workflow-profile", str(ROOT / "workflow" / "profiles" / "slurm"), "--slurm-status-command", "squeue",
              "--slurm-init-seconds-before-status-checks", "5", "--slurm-no-account"]
CPUS = 2  # cores of the CI runner: the local executor gets --cores 2, the SLURM one --jobs 2
TIMINGS = {}


def tiny_config(tmp):
    return {
        "results": str(tmp / "results"),
        "seed": 5,
        "loading": {"T": 200.0, "M": 5, "n_steps": 50, "F_max": 0.01},
        "figures": {"loading_paths": {"n_paths": 2}},
        "producers": {"composite1d": {"shard_size": 3, "defaults": {"n_train": 4, "n_test": 2},
                                      "cases": {"N2": {"n_phases": 2}}}},
    }


def snakemake(workdir, *args, snakefile=ROOT / "Snakefile", timeout=400):
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = workdir / "config.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config(workdir)))
    cmd = [str(SNAKEMAKE), "--snakefile", str(snakefile), "--directory", str(workdir), "--configfile", str(cfg), *args]
    start = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=ENV, cwd=workdir)
    return run, time.perf_counter() - start


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    try:
        with local_slurm(tmp_path_factory.mktemp("slurm"), cpus=3 * CPUS) as c:  # the 2nd test's 4 jobs at once
            yield c
        for name, pid in c.pids.items():  # stopped what it started
            assert not Path(f"/proc/{pid}").exists(), f"{name} (pid {pid}) still running"
    except SlurmUnavailable as err:
        msg = f"no local SLURM: {err}"
        print(msg, file=sys.stderr)
        if os.environ.get("RNO_REQUIRE_SLURM") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


def test_tiny_dag_under_slurm_equals_local_run(cluster, tmp_path):
    local, t_local = snakemake(tmp_path / "local", "--workflow-profile", str(ROOT / "workflow/profiles/local"),
                               "--cores", str(CPUS))
    assert local.returncode == 0, local.stderr[-3000:]
    slurm, t_slurm = snakemake(tmp_path / "slurm", *SLURM_ARGS, "--jobs", str(CPUS))
    assert slurm.returncode == 0, slurm.stderr[-5000:] + cluster.log("slurmctld")[-2000:]
    TIMINGS.update(local_s=round(t_local, 1), slurm_s=round(t_slurm, 1))
    print(f"\ntiny DAG (6 jobs) wall time: local executor {t_local:.1f} s, SLURM executor {t_slurm:.1f} s",
          file=sys.stderr)

    # every job went through sbatch: one SLURM job each for 2 x solve_shard_composite1d, collect, loading_paths,
    # failure_summary and failures_table
    submitted = [line for line in slurm.stderr.splitlines() if "submitted with SLURM jobid" in line]
    assert len(submitted) == 6, slurm.stderr[-3000:]
    for case in ("N2",):
        a = open_store(tmp_path / "local" / "results" / "datasets" / "composite1d" / f"{case}.zarr")
        b = open_store(tmp_path / "slurm" / "results" / "datasets" / "composite1d" / f"{case}.zarr")
        np.testing.assert_array_equal(a["stress"].values, b["stress"].values)  # same seeds, same samples
    assert (tmp_path / "slurm" / "results" / "figures" / "loading_paths.png").read_bytes() == \
        (tmp_path / "local" / "results" / "figures" / "loading_paths.png").read_bytes()


def test_mpi_rule_retries_and_keep_going_under_slurm(cluster, tmp_path):
    res = tmp_path / "results"
    targets = [res / "mpi" / "hello_srun.json", res / "mpi" / "hello_mpirun.json", res / "flaky.txt", res / "never.txt"]
    run, _ = snakemake(tmp_path, *SLURM_ARGS, "--jobs", "4", "--retries", "1", *map(str, targets),
                       snakefile=TEST_SNAKEFILE)
    assert run.returncode != 0  # always_fails failed ...
    assert "Error in rule always_fails" in run.stderr
    # ... and --keep-going (profile) still ran everything else: 2 MPI ranks in one SLURM job for each launcher
    for launcher in ("srun", "mpirun"):
        path = res / "mpi" / f"hello_{launcher}.json"
        assert path.exists(), run.stderr[-5000:]
        hello = json.loads(path.read_text())
        assert hello["size"] == 2 and sorted(r["rank"] for r in hello["ranks"]) == [0, 1], hello
        jobs = {r["job"] for r in hello["ranks"]}
        assert len(jobs) == 1 and None not in jobs, hello  # both ranks inside the same SLURM job
    # the flaky rule failed once and passed on its retry (retries)
    assert (res / "flaky.txt").read_text().strip() == "attempt 2"
    assert not (res / "never.txt").exists()
