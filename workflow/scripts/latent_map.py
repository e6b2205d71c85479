"""Snakemake job: the map of eq. (26) with an autoencoder's reduced variables as internal variables."""
import json
from pathlib import Path

import torch

from dataset.jobs import job_logging
from dataset.store import open_store
from learning import (NetSettings, artifacts, decode_latent, evaluate_error, fit_latent_map, latent_trajectories,
                      micro_data, reconstruction_error, rno_internal)

sm = snakemake  # noqa: F821  (injected by Snakemake)
with job_logging(sm.log[0]) as log:
    torch.set_num_threads(int(sm.threads))
    settings = NetSettings.from_dict(json.loads(sm.params.settings))
    ds = open_store(sm.input.dataset)
    ae = artifacts.load(sm.input.autoencoder)
    steps = int(sm.params.train_steps)
    train, test = micro_data(ds, "train", steps), micro_data(ds, "test", steps)
    model, history = fit_latent_map(train.traj, latent_trajectories(ae, train.micro), settings)
    _, xi = rno_internal(model, test.traj)
    stress_error = float(evaluate_error(model, test.traj).mean())
    micro_error = reconstruction_error(test.micro, decode_latent(ae, xi))
    data = {"producer": ds.attrs["producer"], "case": ds.attrs["case"], "dataset": str(sm.input.dataset),
            "case_hash": ds.attrs["case_hash"], "autoencoder": str(sm.input.autoencoder), "train_steps": steps,
            "test_stress_error_eq16": stress_error, "test_micro_error_eq25": micro_error}
    artifacts.save(model, Path(sm.output.model).parent, settings=settings.to_dict(), history=history, data=data)
    log.info("eq. (26) map m = %d: test stress error (eq. 16) %.4e, micro-state error (eq. 25) %.4e", ae.m,
             stress_error, micro_error)
