"""Snakemake job: a network from an RNO's learned internal variables xi back to the micro-state (Figure 5)."""
import json
from pathlib import Path

import torch

from dataset.jobs import job_logging
from dataset.store import open_store
from learning import (NetSettings, artifacts, fit_micro_decoder, load, micro_data, reconstruct, reconstruction_error,
                      rno_internal)

sm = snakemake  # noqa: F821  (injected by Snakemake)
with job_logging(sm.log[0]) as log:
    torch.set_num_threads(int(sm.threads))
    settings = NetSettings.from_dict(json.loads(sm.params.settings))
    ds = open_store(sm.input.dataset)
    rno = load(sm.input.model)
    if rno.k < 1:
        raise ValueError(f"{sm.input.model}: the micro-state decoder needs k >= 1 internal variables")
    steps = int(sm.params.train_steps)
    train, test = micro_data(ds, "train", steps), micro_data(ds, "test", steps)
    decoder, history = fit_micro_decoder(rno_internal(rno, train.traj)[1], train.micro, settings)
    error = reconstruction_error(test.micro, reconstruct(decoder, rno_internal(rno, test.traj)[1]))
    artifacts.save(decoder, Path(sm.output.model).parent, settings=settings.to_dict(), history=history,
                   data={"labels": train.labels, "rno": str(sm.input.model), "dataset": str(sm.input.dataset),
                         "train_steps": steps, "test_error_eq25": error})
    log.info("xi -> micro-state decoder: test error (eq. 25) %.4e", error)
