"""A tiny end-to-end run of the learning rules: data -> train -> evaluate -> tables -> Figures 1 and 10(a)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")

TINY = yaml.safe_load("""
seed: 5
loading: {T: 200.0, M: 5, n_steps: 20, F_max: 0.01}
producers:
  composite1d:
    shard_size: 9
    defaults: {n_train: 6, n_test: 3}
    cases:
      N1: {n_phases: 1}
learning:
  threads: 1
  train_steps: 10
  test_steps: [5, 10, 20]
  defaults: {hidden: [8, 8], epochs: 2, batch_size: 3}
  studies:
    fig01: {producer: composite1d, cases: [N1], variants: [evp], k: [0, 1]}
    fig10a: {producer: composite1d, cases: [N1], variants: [ve], k: [1]}
  figures:
    fig01: {paths_case: N1, internal_case: N1}
    fig10a: {case: N1}
""")


@pytest.mark.slow  # over a minute on 2 cores; the default suite stays under ~15 min (make test ARGS="-m slow")
@pytest.mark.skipif(shutil.which(str(SNAKEMAKE)) is None, reason="snakemake is not installed beside this python")
def test_figures_all_builds_tables_and_figures(tmp_path):
    config = {"results": str(tmp_path / "results"), **TINY}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    run = subprocess.run([str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "--configfile", str(tmp_path / "config.yaml"),
                          "--directory", str(tmp_path), "--cores", "2", "figures_all"],
                         capture_output=True, text=True, timeout=900, env={**os.environ, "PYTHONHASHSEED": "0"})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = tmp_path / "results"
    errors = pd.read_csv(results / "tables" / "rno_errors.csv")
    assert list(errors.columns) == ["producer", "case", "variant", "target", "k", "train_size", "init_from",
                                     "train_steps", "test_steps", "error"]
    assert set(errors["target"]) == {"stress"} and (errors["train_size"] == 0).all()
    assert len(errors) == 3 * 3 and set(errors["variant"]) == {"evp", "ve"}
    assert errors["error"].between(0, 10).all()
    internal = pd.read_csv(results / "tables" / "rno_internal.csv")
    assert list(internal["case"]) == ["N1"] and internal["r2"].le(1).all()
    for name in ("fig01", "fig10a"):
        for suffix in (".png", ".pdf"):
            assert (results / "figures" / f"{name}{suffix}").stat().st_size > 5000
    for name in ("model.pt", "model.ts", "config.json", "history.json"):
        assert (results / "models" / "composite1d" / "N1" / "evp-k1" / name).exists()
    # the figures read the producer's own table, which holds the same rows
    pd.testing.assert_frame_equal(pd.read_csv(results / "tables" / "rno_errors-composite1d.csv"), errors)

    # what each job cost (Snakemake's benchmark files), gathered for docs/results by benchmarks/publish_results.py
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from publish_results import publish

    out = tmp_path / "published"
    written = {p.name for p in publish(results, out)}
    assert {"rno_errors.csv", "rno_errors-composite1d.csv", "rno_internal.csv", "fig01.png", "fig10a.pdf",
            "cost.csv", "cost_summary.csv", "rno_errors.md"} <= written
    markdown = (out / "rno_errors.md").read_text().splitlines()
    assert markdown[0] == "| producer | case | variant | target | k = 0 | k = 1 |" and len(markdown) == 4
    n1_k1 = errors.query("variant == 'evp' and k == 1 and test_steps == 10")["error"].item()
    assert f"| composite1d | N1 | evp | stress | " in markdown[2] and f"{100 * n1_k1:.2f} |" in markdown[2]
    cost = pd.read_csv(out / "cost.csv")
    stages = cost.groupby("stage")["part"].count().to_dict()
    assert stages == {"solve_shard": 1, "train": 3, "evaluate": 3} and set(cost["source"]) == {"benchmark"}
    assert (cost["cpu_s"] > 0).all() and (cost["wall_s"] > 0).all()
    assert set(cost.loc[cost["stage"] == "train", "part"]) == {"evp-k0", "evp-k1", "ve-k1"}
