"""Snakemake jobs: samples a solver could not finish, with their reasons.

rule failure_summary: one case -> <dataset>.failures.json
    {"producer", "case", "n_requested", "n_stored", "n_failed", "failures": [{"sample", "reason", "split"}]}
rule failures_table: every case -> one CSV row per failed sample (or one row "none" per case without failures),
    shown in the Snakemake report.
"""

import csv
import json
import os
from pathlib import Path

from dataset.contract import failures
from dataset.store import open_metadata


def case_summary(store) -> dict:
    ds = open_metadata(store)
    n_train, n_test = int(ds.attrs.get("n_train", 0)), int(ds.attrs.get("n_test", 0))
    failed = failures(ds)
    return {
        "producer": ds.attrs["producer"],
        "case": ds.attrs["case"],
        "n_requested": n_train + n_test,
        "n_stored": int(ds.sizes["sample"]),
        "n_failed": len(failed),
        "failures": [{"sample": int(f["sample"]), "split": "train" if int(f["sample"]) < n_train else "test",
                      "reason": str(f["reason"])} for f in failed],
    }


def write_json(obj, path) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


COLUMNS = ["producer", "case", "n_requested", "n_stored", "n_failed", "sample", "split", "reason"]


def table_rows(summaries) -> list[dict]:
    rows = []
    for s in sorted(summaries, key=lambda s: (s["producer"], s["case"])):
        head = {k: s[k] for k in ("producer", "case", "n_requested", "n_stored", "n_failed")}
        if not s["failures"]:
            rows.append({**head, "sample": "", "split": "", "reason": "none"})
        for f in s["failures"]:
            rows.append({**head, **f})
    return rows


def write_table(summaries, path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(table_rows(summaries))
    os.replace(tmp, path)


if "snakemake" in globals():
    from dataset.jobs import job_logging

    sm = snakemake  # noqa: F821
    with job_logging(sm.log[0]) as log:
        if sm.rule == "failure_summary":
            summary = case_summary(sm.input[0])
            write_json(summary, sm.output[0])
            log.info("%s/%s: %d of %d samples failed%s", summary["producer"], summary["case"], summary["n_failed"],
                     summary["n_requested"], "".join(f"\n  sample {f['sample']}: {f['reason']}"
                                                     for f in summary["failures"]))
        else:
            write_table([json.loads(Path(p).read_text()) for p in sm.input], sm.output[0])
