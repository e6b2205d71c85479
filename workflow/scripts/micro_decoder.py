"""Snakemake job: a network from an RNO's learned internal variables xi back to the micro-state (Figure 5)."""
import torch

from dataset.jobs import job_logging
from dataset.store import open_store
from learning import config as lconfig
from learning import load
from learning.autoencoder import fit_micro_decoder, micro_data, reconstruct, reconstruction_error, rno_internal, save_net

sm = snakemake  # noqa: F821  (injected by Snakemake)
with job_logging(sm.log[0]) as log:
    torch.set_num_threads(int(sm.threads))
    settings = lconfig.net_settings(sm.config, "decoder")
    ds = open_store(sm.input.dataset)
    rno = load(sm.input.model)
    if rno.k < 1:
        raise ValueError(f"{sm.input.model}: the micro-state decoder needs k >= 1 internal variables")
    steps = int(sm.params.train_steps)
    train, test = micro_data(ds, "train", steps), micro_data(ds, "test", steps)
    decoder, history = fit_micro_decoder(rno_internal(rno, train.traj)[1], train.micro, settings, log=log.info)
    error = reconstruction_error(test.micro, reconstruct(decoder, rno_internal(rno, test.traj)[1]))
    save_net(decoder, sm.output[0], settings=settings.to_dict(), history=history,
             meta={"labels": train.labels, "rno": str(sm.input.model), "dataset": str(sm.input.dataset),
                   "train_steps": steps, "test_error_eq25": error})
    log.info("xi -> micro-state decoder: test error (eq. 25) %.4e", error)
