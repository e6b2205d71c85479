"""Snakemake job: one model's mean test error (eq. 16) at every test resolution -> a small CSV."""
import torch

from dataset.jobs import job_logging
from dataset.store import open_store
from learning import load
from learning.evaluate import error_rows, write_table

sm = snakemake  # noqa: F821  (injected by Snakemake)
torch.set_num_threads(int(sm.threads))  # the job's threads, not every core
with job_logging(sm.log[0]) as log:
    model = load(sm.input.model)
    rows = error_rows(model, open_store(sm.input.dataset), train_steps=int(sm.params.train_steps),
                      test_steps=list(sm.params.test_steps), init_from=str(sm.params.init_from),
                      train_size=int(sm.params.train_size))
    write_table(rows, sm.output[0])
    log.info("%s\n%s", sm.output[0], rows.to_string(index=False))
