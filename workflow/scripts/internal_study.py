"""Snakemake job: learned vs true internal variable and f~, g~ (learning.study1d) of one k = 1 evp model."""
from dataset.jobs import job_logging
from dataset.store import open_store
from learning import load
from learning.evaluate import write_table
from learning.study1d import internal_rows

sm = snakemake  # noqa: F821  (injected by Snakemake)
with job_logging(sm.log[0]) as log:
    rows = internal_rows(load(sm.input.model), open_store(sm.input.dataset), train_steps=int(sm.params.train_steps))
    write_table(rows, sm.output[0])
    log.info("%s\n%s", sm.output[0], rows.to_string(index=False))
