"""Editing shared physics reruns exactly the shards that import it (pipeline.registry.sources), on the default DAG.

The default config's DAG (`make run`) is marked up to date without computing anything: every output is created as
a placeholder (directories for stores, empty files otherwise) and recorded with ``--touch``. Snakemake's rerun
decision for a code edit depends only on the DAG and the mtimes, so a dry run after touching a source file lists
what a real run would redo.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "results", ".snakemake", "__pycache__", "*.egg-info",
                                     ".pytest_cache", "benchmarks", "docs", "tests")


class Project:
    def __init__(self, tmp: Path):
        self.src = tmp / "project"
        shutil.copytree(ROOT, self.src, ignore=COPY_IGNORE)
        self.env = {**os.environ, "PYTHONPATH": str(self.src)}

    def run(self, *args) -> str:
        cmd = [str(SNAKEMAKE), "--snakefile", str(self.src / "Snakefile"), "--directory", str(self.src),
               "--cores", "2", *args]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=self.env, cwd=self.src)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
        return run.stdout + run.stderr

    def dry_jobs(self, out: str | None = None) -> dict[str, int]:
        """{rule: jobs} of a dry run (``out``: its log, else one is run)."""
        out = self.run("-n") if out is None else out
        if "Nothing to be done" in out:
            return {}
        table = out.split("Job stats:")[1].split("\n\n")[0]
        return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m[1] != "total"}

    def touch(self, relative: str) -> None:
        """An edit, as Snakemake sees it: the file newer than every output."""
        newest = max(p.stat().st_mtime for p in (self.src / "results").rglob("*"))
        os.utime(self.src / relative, (newest + 10, newest + 10))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    p = Project(tmp_path_factory.mktemp("sources"))
    summary = p.run("--summary").splitlines()[1:]
    for line in summary:
        output = p.src / line.split("\t")[0]
        if output.suffix == ".zarr":
            output.mkdir(parents=True, exist_ok=True)
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.touch()
    p.run("--touch")
    assert p.dry_jobs() == {}
    return p




def test_editing_the_crystal_kernel_reruns_the_taylor_and_2d_shards_only(project):
    kernel = "mechanics/crystal_kernel.py"
    assert (project.src / kernel).exists()
    project.touch(kernel)
    out = project.run("-n")
    jobs = project.dry_jobs(out)
    shards = sorted(set(re.findall(r"output: results/shards/(\w+)/", out)))
    assert shards == ["polycrystal2d", "taylor_mg"]
    # the default config: 2 + 2 shards of the two cases, their stores, and what learns from them
    assert jobs["solve_shard_taylor_mg"] == 2 and jobs["solve_shard_polycrystal2d"] == 2 and jobs["collect"] == 2 and jobs["failure_summary"] == 2
    assert jobs["train"] == 11 and jobs["evaluate"] == 11  # 6 polycrystal2d models, 5 taylor_mg (evp k0-2, ve k1, n2)
    assert sorted(set(re.findall(r"output: results/models/(\w+)/", out))) == ["polycrystal2d", "taylor_mg"]
    # every figure reading their models or the error table, which holds their rows; not the 1D study's own jobs
    assert {"fig07", "fig08", "fig10b", "rno_errors_table"} <= set(jobs)
    assert jobs["rno_errors_producer_table"] == 2  # polycrystal2d's and taylor_mg's; the 1D figures stay
    assert not {"internal_study", "rno_internal_table", "loading_paths", "fig01", "fig10a"} & set(jobs)
    project.run("--touch")  # accept the edit: nothing recomputed, the DAG up to date again
    assert project.dry_jobs() == {}


@pytest.mark.slow  # over a minute on 2 cores; the default suite stays under ~15 min (make test ARGS="-m slow")
def test_editing_the_1d_producer_reruns_only_its_shards(project):
    project.touch("fullfield/composite1d.py")
    out = project.run("-n")
    jobs = project.dry_jobs(out)
    assert sorted(set(re.findall(r"output: results/shards/(\w+)/", out))) == ["composite1d"]
    assert jobs["solve_shard_composite1d"] == 10 and jobs["collect"] == 2  # N1, N3: 250 paths in shards of 50
    assert sorted(set(re.findall(r"output: results/models/(\w+)/", out))) == ["composite1d"]
    assert {"fig01", "fig10a", "internal_study"} <= set(jobs) and "loading_paths" not in jobs
    project.run("--touch")
    assert project.dry_jobs() == {}
