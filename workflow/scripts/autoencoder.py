"""Snakemake job: one autoencoder of the micro-state (learning.autoencoder, Section 4.1) and its eq. (25) row."""
import json
from pathlib import Path

import torch

from dataset.jobs import job_logging
from dataset.store import open_store
from learning import NetSettings, artifacts, autoencoder_rows, fit_autoencoder, micro_data
from learning.evaluate import write_table

sm = snakemake  # noqa: F821  (injected by Snakemake)
with job_logging(sm.log[0]) as log:
    torch.set_num_threads(int(sm.threads))
    settings = NetSettings.from_dict(json.loads(sm.params.settings))
    ds = open_store(sm.input.dataset)
    steps = int(sm.params.train_steps)
    train = micro_data(ds, "train", steps)
    log.info("%s/%s: autoencoder m = %s on %d points of %s", ds.attrs["producer"], ds.attrs["case"],
             sm.wildcards.m, train.micro[..., 0].size, train.labels)
    ae, history = fit_autoencoder(train.micro, int(sm.wildcards.m), settings)
    rows = autoencoder_rows(ae, ds, steps)
    artifacts.save(ae, Path(sm.output.model).parent, settings=settings.to_dict(), history=history,
                   data={"labels": train.labels, "dataset": str(sm.input.dataset), "case_hash": ds.attrs["case_hash"],
                         "train_steps": steps, "errors": rows.iloc[0][["train_error", "test_error"]].to_dict()})
    write_table(rows, sm.output.table)
    log.info("%s\n%s", sm.output.table, rows.to_string(index=False))
