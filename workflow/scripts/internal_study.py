"""Snakemake job: learned vs true internal variable and f~, g~ (learning.study1d) of one k = 1 evp model."""
import torch

from dataset.jobs import job_logging
from fullfield import composite1d  # the exact 1D law, eqs. (14, 15): the workflow layer hands it to learning
from dataset.store import open_store
from learning import internal_rows, load, write_table

sm = snakemake  # noqa: F821  (injected by Snakemake)
torch.set_num_threads(int(sm.threads))  # the job's threads, not every core
with job_logging(sm.log[0]) as log:
    rows = internal_rows(load(sm.input.model), open_store(sm.input.dataset), law=composite1d,
                         train_steps=int(sm.params.train_steps))
    write_table(rows, sm.output[0])
    log.info("%s\n%s", sm.output[0], rows.to_string(index=False))
