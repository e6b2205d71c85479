"""Snakemake job: concatenate per-model CSVs into one sorted table (learning.evaluate.concat_tables)."""
from dataset.jobs import job_logging
from learning.evaluate import SORT, concat_tables

sm = snakemake  # noqa: F821  (injected by Snakemake)
with job_logging(sm.log[0]) as log:
    df = concat_tables(list(sm.input), sm.output[0], sort=list(sm.params.sort or SORT))
    log.info("%s: %d rows from %d tables", sm.output[0], len(df), len(sm.input))
