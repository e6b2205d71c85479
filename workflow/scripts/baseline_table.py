"""Snakemake job: results/tables/baseline_errors.csv from the baseline jobs' rows (pipeline.baselines.COLUMNS),
sorted by model, case, paths, train_size."""
import pandas as pd

from dataset.jobs import job_logging
from learning.evaluate import write_table
from pipeline.baselines import COLUMNS, MODELS

sm = snakemake  # noqa: F821  (injected by Snakemake)
with job_logging(sm.log[0]) as log:
    df = pd.concat([pd.read_csv(p, dtype={"model": str, "case": str, "paths": str}) for p in sm.input],
                   ignore_index=True)
    df = df.assign(failed=df.get("failed", 0), failure=df.get("failure", "")).fillna({"failed": 0, "failure": ""})
    df = df.astype({"failed": int})[COLUMNS]  # PCA-Net rows (learning.pca_net) have no failures
    unknown = set(df["model"]) - set(MODELS)
    if unknown:
        raise ValueError(f"baseline_errors: unknown models {sorted(unknown)}")
    df = df.sort_values(["model", "case", "paths", "train_size"], kind="mergesort", ignore_index=True)
    write_table(df, sm.output[0])
    log.info("%s\n%s", sm.output[0], df.to_string(index=False))
