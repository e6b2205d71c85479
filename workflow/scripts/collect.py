"""Snakemake job: concatenate a case's shards into its dataset store (dataset.store.collect logs the summary)."""
from dataset.jobs import job_logging
from dataset.store import collect

sm = snakemake  # noqa: F821  (injected by Snakemake)
with job_logging(sm.log[0]):
    collect(list(sm.input), sm.output[0], n_train=int(sm.params.n_train), n_test=int(sm.params.n_test))
