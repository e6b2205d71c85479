"""`make run` after `kill -9` (pipeline.run): a stale Snakemake lock is removed, a live run's lock never is."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from pipeline import run as prun

ROOT = Path(__file__).resolve().parents[1]


def fake_lock(root: Path) -> Path:
    locks = root / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.output.lock").write_text(str(root / "results"))
    return locks


def test_a_lock_without_a_snakemake_process_is_stale(tmp_path):
    assert not prun.stale_lock(tmp_path)  # no lock at all
    fake_lock(tmp_path)
    assert prun.stale_lock(tmp_path)


def test_a_lock_held_by_a_running_snakemake_is_left_alone(tmp_path):
    fake_lock(tmp_path)
    stand_in = tmp_path / "bin" / "snakemake"  # a process that looks like Snakemake's main process
    stand_in.parent.mkdir()
    stand_in.write_text("import time\ntime.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, str(stand_in), "--cores", "1"], cwd=tmp_path)
    try:
        deadline = time.monotonic() + 10
        while not prun.snakemake_processes(tmp_path.resolve(), set()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert prun.snakemake_processes(tmp_path.resolve(), set()) == [proc.pid]
        assert not prun.stale_lock(tmp_path)
    finally:
        proc.kill()
        proc.wait()


def test_make_run_resumes_after_kill_9(tmp_path):
    config = {"results": "results", "seed": 5, "loading": {"T": 200.0, "M": 5, "n_steps": 40, "F_max": 0.01},
              "producers": {"composite1d": {"shard_size": 2, "defaults": {"n_train": 6, "n_test": 2},
                                            "cases": {"N2": {"n_phases": 2}}}}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = ["--snakefile", str(ROOT / "Snakefile"), "--configfile", "config.yaml", "--cores", "1", "--rerun-incomplete"]
    proc = subprocess.Popen([sys.executable, "-m", "snakemake", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    shard = tmp_path / "results" / "shards" / "composite1d" / "N2" / "shard0.zarr"
    deadline = time.monotonic() + 240
    while not shard.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # kill -9 of the run and its jobs
    proc.wait()
    assert shard.exists() and any((tmp_path / ".snakemake" / "locks").iterdir())

    run = subprocess.run([sys.executable, "-m", "pipeline.run", *args], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "unlocking" in run.stderr
    assert (tmp_path / "results" / "datasets" / "composite1d" / "N2.zarr").is_dir()
