"""Incremental regeneration end to end (docs/regeneration.md): what reruns when the config, the code or the
results change, on a tiny config in a temporary copy of the project (so code edits never touch the real tree).

The scenarios share one built DAG and run in file order; each leaves the DAG up to date for the next.
"""
import copy
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from dataset.case import canonical_json
from dataset.store import open_store
from pipeline.config import validate

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "results", ".snakemake", "__pycache__", "*.egg-info",
                                     ".pytest_cache", "benchmarks", "docs", "tests")


def tiny_config(results, **cases):
    base = {"N1": {"n_phases": 1}, "N2": {"n_phases": 2}}
    for name, extra in cases.items():
        base[name] = {**base.get(name, {}), **extra}
    return {
        "results": str(results),
        "seed": 5,
        "loading": {"T": 200.0, "M": 5, "n_steps": 50, "F_max": 0.01},
        "figures": {"loading_paths": {"n_paths": 2}},
        "producers": {"composite1d": {"shard_size": 3, "defaults": {"n_train": 3, "n_test": 2}, "cases": base}},
    }


class Project:
    """A copy of the project in tmp/project, run in tmp/work with PYTHONPATH pointing at the copy."""

    def __init__(self, tmp):
        self.src = tmp / "project"
        shutil.copytree(ROOT, self.src, ignore=COPY_IGNORE)
        self.work = tmp / "work"
        self.work.mkdir()
        self.results = self.work / "results"
        self.env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(self.src)}
        self.config = tiny_config(self.results)

    def cmd(self, *args, config=None):
        cfg = self.work / "config.yaml"
        cfg.write_text(yaml.safe_dump(config or self.config))
        return [str(SNAKEMAKE), "--snakefile", str(self.src / "Snakefile"), "--directory", str(self.work),
                "--configfile", str(cfg), "--cores", "2", *args]

    def run(self, *args, config=None, check=True):
        run = subprocess.run(self.cmd(*args, config=config), capture_output=True, text=True, timeout=300,
                             env=self.env, cwd=self.work)
        if check:
            assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
        return run

    def jobs(self, *args, config=None):
        """Run (add "-n" for a dry run): {rule: number of jobs} it ran, and its log (with each job's reason)."""
        run = self.run(*args, config=config)
        out = run.stdout + run.stderr
        if "Nothing to be done" in out:
            return {}, out
        table = out.split("Job stats:")[1].split("\n\n")[0]
        return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m[1] != "total"}, out

    def shard(self, case, k):
        return self.results / "shards" / "composite1d" / case / f"shard{k}.zarr"

    def dataset(self, case):
        return self.results / "datasets" / "composite1d" / f"{case}.zarr"

    def stamps(self):
        """mtime of every shard, dataset and figure (a rerun job rewrites its output, so its mtime changes)."""
        paths = [*self.results.glob("shards/*/*/shard*.zarr"), *self.results.glob("datasets/*/*.zarr"),
                 *self.results.glob("figures/*.png")]
        return {str(p.relative_to(self.results)): p.stat().st_mtime_ns for p in paths}


def changed(before, after):
    return sorted(k for k in after if before.get(k) != after[k])


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    p = Project(tmp_path_factory.mktemp("regen"))
    p.run()
    return p


def test_a_raising_n_samples_runs_only_the_new_shards(project):
    before = project.stamps()
    project.config = tiny_config(project.results, N1={"n_train": 6})  # N1: 5 -> 8 samples, shards 0, 1 kept, 2 new
    jobs, _ = project.jobs()
    assert jobs == {"solve_shard_composite1d": 1, "collect": 1, "failure_summary": 1, "failures_table": 1, "all": 1}
    assert changed(before, project.stamps()) == ["datasets/composite1d/N1.zarr", "shards/composite1d/N1/shard2.zarr"]
    ds = open_store(project.dataset("N1"))
    assert ds.sizes["sample"] == 8 and int((ds.split == "train").sum()) == 6


def test_b_changing_one_case_reruns_only_that_case(project):
    before = project.stamps()
    project.config["producers"]["composite1d"]["cases"]["N2"]["edot0"] = 2.0
    jobs, out = project.jobs()
    assert jobs == {"solve_shard_composite1d": 2, "collect": 1, "failure_summary": 1, "failures_table": 1, "all": 1}
    assert "composite1d/N1/" not in out
    assert "Params have changed since last execution" in out  # a shard's params: the case's solve config
    assert changed(before, project.stamps()) == ["datasets/composite1d/N2.zarr", "shards/composite1d/N2/shard0.zarr",
                                                 "shards/composite1d/N2/shard1.zarr"]
    assert '"edot0":2.0' in open_store(project.dataset("N2")).attrs["case_config"]


@pytest.mark.slow  # over a minute on 2 cores; the default suite stays under ~15 min (make test ARGS="-m slow")
def test_b_a_case_change_reruns_that_case_s_training_evaluation_and_figures_only(tmp_path):
    """(b) through the learning rules: models, error tables and figures of the other case stay."""
    p = Project(tmp_path)
    p.config["learning"] = {
        "train_steps": 50, "test_steps": [25, 50],
        "defaults": {"hidden": [8], "epochs": 2, "batch_size": 3, "checkpoint_every": 0, "eval_every": 0,
                     "validation_fraction": 0.0},
        "studies": {"s": {"producer": "composite1d", "cases": ["N1", "N2"], "variants": ["evp", "ve"], "k": [1]}},
        "figures": {"fig10a": {"producer": "composite1d", "case": "N2", "k": 1}},
    }
    p.run()
    n1_model = p.results / "models" / "composite1d" / "N1" / "evp-k1" / "model.pt"
    before = n1_model.stat().st_mtime_ns
    p.config["producers"]["composite1d"]["cases"]["N2"]["edot0"] = 2.0
    jobs, out = p.jobs()
    assert jobs == {"solve_shard_composite1d": 2, "collect": 1, "failure_summary": 1, "failures_table": 1, "train": 2,
                    "evaluate": 2, "internal_study": 1, "rno_errors_producer_table": 1, "rno_errors_table": 1,
                    "rno_internal_table": 1, "fig10a": 1,
                    "all": 1}
    outputs = [line for line in out.splitlines() if line.strip().startswith("output:")]
    assert not [line for line in outputs if "/N1/" in line or "N1.zarr" in line]
    assert n1_model.stat().st_mtime_ns == before


@pytest.mark.slow  # over a minute on 2 cores; the default suite stays under ~15 min (make test ARGS="-m slow")
def test_c_a_job_script_edit_is_listed_by_list_changes_code(project):
    assert project.run("--list-changes", "code").stdout.strip() == ""
    script = project.src / "workflow" / "scripts" / "collect.py"
    script.write_text(script.read_text() + "\n# edited by the test\n")
    listed = sorted(Path(line).name for line in project.run("--list-changes", "code").stdout.split())
    assert listed == ["N1.zarr", "N2.zarr"]  # the outputs of the rule whose script changed
    before = project.stamps()
    jobs, out = project.jobs()
    assert jobs == {"collect": 2, "failure_summary": 2, "failures_table": 1, "all": 1} and "Code has changed since last execution" in out
    assert changed(before, project.stamps()) == ["datasets/composite1d/N1.zarr", "datasets/composite1d/N2.zarr"]


@pytest.mark.slow  # over a minute on 2 cores; the default suite stays under ~15 min (make test ARGS="-m slow")
def test_c_a_producer_edit_reruns_its_shards_and_what_depends_on_them(project):
    module = project.src / "fullfield" / "composite1d.py"
    module.write_text(module.read_text() + "\n# edited by the test\n")
    # the producer module is an input of its shard rule: Snakemake sees it by mtime ("updated input files"),
    # not through --list-changes code (that lists script/notebook and shell/run changes only)
    assert project.run("--list-changes", "code").stdout.strip() == ""
    summary = project.run("--summary").stdout
    rows = [line.split("\t") for line in summary.splitlines()[1:] if line.strip()]
    updated = sorted(Path(r[0]).name for r in rows if r[-2] == "updated input files")
    assert updated == ["shard0.zarr", "shard0.zarr", "shard1.zarr", "shard1.zarr", "shard2.zarr"]
    jobs, out = project.jobs("-n")
    assert jobs == {"solve_shard_composite1d": 5, "collect": 2, "failure_summary": 2, "failures_table": 1, "all": 1}  # every composite1d shard, not the figure
    assert f"Updated input files: {module}" in out
    # an edit that changes no result (this comment) can be accepted without recomputing anything
    project.run("--touch")
    assert project.jobs("-n")[0] == {}


@pytest.mark.slow  # over a minute on 2 cores; the default suite stays under ~15 min (make test ARGS="-m slow")
def test_d_deleting_a_shard_recomputes_only_that_shard(project):
    shard = project.shard("N1", 1)
    reference = open_store(shard, shard=True)
    shutil.rmtree(shard)
    before = project.stamps()
    # the dataset is still complete and up to date: Snakemake leaves a missing intermediate alone
    assert project.jobs()[0] == {}
    # asking for the shard recomputes that shard only, the same samples (keyed seeds) ...
    assert project.jobs(str(shard))[0] == {"solve_shard_composite1d": 1}
    np.testing.assert_array_equal(open_store(shard, shard=True)["stress"].values, reference["stress"].values)
    # ... and the next run refreshes its dataset, nothing else
    assert project.jobs()[0] == {"collect": 1, "failure_summary": 1, "failures_table": 1, "all": 1}
    assert changed(before, project.stamps()) == ["datasets/composite1d/N1.zarr", "shards/composite1d/N1/shard1.zarr"]


@pytest.mark.parametrize("sig", [signal.SIGTERM], ids=["SIGTERM"])  # SIGINT (Ctrl-C) takes the same path
def test_e_a_killed_run_resumes_and_loses_no_finished_shard(project, sig):
    case = f"K{sig.name[3:]}"
    config = copy.deepcopy(project.config)  # the other cases as they are: nothing else to run
    config["producers"]["composite1d"]["cases"][case] = {"n_phases": 3, "n_train": 12, "n_test": 3}  # 5 shards
    n = 5
    proc = subprocess.Popen(project.cmd("--cores", "1", config=config), env=project.env, cwd=project.work,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and sum(project.shard(case, k).exists() for k in range(n)) < 2:
        time.sleep(0.05)
    proc.send_signal(sig)  # mid-run: 2 shards written, one in flight, the others pending
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0, out[-3000:]
    finished = {k: project.shard(case, k).stat().st_mtime_ns for k in range(n) if project.shard(case, k).exists()}
    assert 2 <= len(finished) < n, (finished, out[-3000:])
    for k in finished:  # whatever is at a final path is a whole, valid shard
        assert open_store(project.shard(case, k), shard=True).sizes["sample"] == 3
    assert not project.dataset(case).exists()

    project.run("--rerun-incomplete", config=config)
    ds = open_store(project.dataset(case))
    assert ds.sizes["sample"] == 15 and list(ds["sample"].values) == list(range(15))
    redone = [k for k in finished if project.shard(case, k).stat().st_mtime_ns != finished[k]]
    # every shard Snakemake had recorded as finished is kept; at most the one job in flight at the signal
    # (written, but not yet recorded: marked incomplete) is redone by --rerun-incomplete
    assert len(redone) <= 1 and (not redone or redone[0] == max(finished, key=finished.get)), (redone, finished)
    assert not [p for p in project.results.rglob("*") if ".tmp-" in p.name]


def test_f_figures_all_rebuilds_identical_figures_with_provenance_and_a_report(project):
    figures = project.results / "figures"
    jobs, _ = project.jobs("figures_all", "--forcerun", "loading_paths")
    assert jobs.get("failures_table") == 1 and jobs.get("loading_paths") == 1 and "solve_shard_composite1d" not in jobs
    first = {p.name: p.read_bytes() for p in figures.iterdir()}
    assert {"loading_paths.png", "loading_paths.pdf", "loading_paths.provenance.json"} <= set(first)
    jobs, _ = project.jobs("figures_all", "--forcerun", "loading_paths")
    assert jobs == {"loading_paths": 1, "figures_all": 1}
    assert {p.name: p.read_bytes() for p in figures.iterdir()} == first  # byte-identical PNG, PDF and sidecar

    side = json.loads(first["loading_paths.provenance.json"])
    assert side["outputs"]["loading_paths.png"] == hashlib.sha256(first["loading_paths.png"]).hexdigest()
    # the effective config: the schema's defaults filled in (pipeline.config.validate)
    effective = validate(copy.deepcopy(project.config))
    assert side["config_hash"] == hashlib.sha256(canonical_json(effective).encode()).hexdigest()
    assert side["rule"] == "loading_paths" and side["git_commit"] and side["params"]["spec"]["seed"] == 5

    table = (project.results / "tables" / "failures.csv").read_text().splitlines()
    assert table[0].startswith("producer,case,n_requested,n_stored,n_failed,sample,split,reason")
    assert sum(line.startswith("composite1d,") for line in table[1:]) >= 2

    run = project.run("--report", str(project.work / "report.html"), "figures_all")
    html = (project.work / "report.html").read_text(errors="replace")
    assert "loading_paths.png" in html and "failures.csv" in html, run.stderr[-2000:]


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "workflow" / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_failed_samples_are_summarised_per_case_with_their_reasons(tmp_path, toy):
    from dataset.store import write_atomic

    ds = toy(n=4, sample=np.array([0, 1, 3, 4]), failures=[{"sample": 2, "reason": "solve_ivp failed at t = 3 s"},
                                                            {"sample": 5, "reason": "non-finite strain input"}])
    ds["split"] = ("sample", np.array(["train", "train", "train", "test"], dtype=object))
    ds.attrs.update(n_train=4, n_test=2)
    store = write_atomic(ds, tmp_path / "C1.zarr")
    fs = load_script("failure_summary")
    summary = fs.case_summary(store)
    assert (summary["n_requested"], summary["n_stored"], summary["n_failed"]) == (6, 4, 2)
    assert summary["failures"] == [{"sample": 2, "split": "train", "reason": "solve_ivp failed at t = 3 s"},
                                   {"sample": 5, "split": "test", "reason": "non-finite strain input"}]
    fs.write_table([summary], tmp_path / "failures.csv")
    rows = (tmp_path / "failures.csv").read_text().splitlines()
    assert rows[1:] == ["toy,C1,6,4,2,2,train,solve_ivp failed at t = 3 s", "toy,C1,6,4,2,5,test,non-finite strain input"]


def test_provenance_hashes_a_dataset_tree_stably(tmp_path, toy):
    from dataset.store import write_atomic

    ds = toy()
    ds["split"] = ("sample", np.array(["train"] * ds.sizes["sample"], dtype=object))
    store = write_atomic(ds, tmp_path / "datasets" / "toy" / "C1.zarr")
    from pipeline import provenance as prov

    record = prov.provenance([store], [], rule="r", params={"a": 1}, config={"seed": 1})
    entry = record["inputs"][str(store)]
    assert entry["kind"] == "dataset" and entry["sha256"] == prov.sha256_tree(store)
    (store / "zarr.json").write_text((store / "zarr.json").read_text() + " ")
    assert prov.sha256_tree(store) != entry["sha256"]  # any byte of the store changes the hash
