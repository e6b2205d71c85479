"""Snakemake job: PCA-Net (learning.pca_net, ref. [25]) trained at each training-set size -> error rows
(model pca_net, case, train_size, paths random, error) of results/tables/baseline_errors.csv."""
import dataclasses

import torch

from dataset.jobs import job_logging
from dataset.store import open_store
from learning import pca_net
from learning.evaluate import write_table
from learning.train import resolve_device

sm = snakemake  # noqa: F821  (injected by Snakemake)
torch.set_num_threads(int(sm.threads))
with job_logging(sm.log[0]) as log:
    settings = dataclasses.replace(pca_net.REF25, **dict(sm.params.settings))
    rows = pca_net.error_vs_size(open_store(sm.input.dataset), list(sm.params.sizes), settings,
                                 steps=int(sm.params.train_steps), device=str(resolve_device(sm.params.device)))
    write_table(rows, sm.output[0])
    log.info("%s (%s)\n%s", sm.output[0], dataclasses.asdict(settings), rows.to_string(index=False))
