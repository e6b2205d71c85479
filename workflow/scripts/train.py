"""Snakemake job: train one RNO (learning.train.fit) and write its artifacts (learning.artifacts.save)."""
import json
from pathlib import Path

import torch

from dataset.jobs import job_logging
from dataset.store import open_store
from learning import artifacts, load
from learning import TrainSettings, fit, resolve_device, trajectories
from learning.train import split_validation
from pipeline.studies import parse_model

sm = snakemake  # noqa: F821  (injected by Snakemake)
with job_logging(sm.log[0]) as log:
    torch.set_num_threads(int(sm.threads))
    key = parse_model(sm.wildcards.producer, sm.wildcards.case, sm.wildcards.model)
    settings = TrainSettings.from_dict(json.loads(sm.params.settings))
    ds = open_store(sm.input.dataset)
    train = trajectories(ds, "train", settings.train_steps, settings.target, settings.train_size)
    test = trajectories(ds, "test", settings.train_steps, settings.target)
    n_fit, n_validation = (int(part.x.shape[0]) if part is not None else 0
                           for part in split_validation(train, settings.validation_fraction))
    source = load(sm.input.init) if "init" in sm.input.keys() else None
    out_dir = Path(sm.output[0]).parent
    device = resolve_device(sm.params.device)
    log.info("%s: %d train / %d test trajectories at %d steps, device %s%s", key, train.x.shape[0],
             test.x.shape[0], train.steps, device, f", starting from {sm.input.init}" if source else "")
    model, history = fit(train, settings, test=test, checkpoint=out_dir / "checkpoint.pt", init_from=source,
                         device=str(device))
    data = {"producer": key.producer, "case": key.case, "dataset": str(sm.input.dataset),
            "case_hash": ds.attrs["case_hash"], "dataset_git_commit": ds.attrs["git_commit"],
            "input": train.input_name, "target": train.target, "n_train": n_fit, "n_validation": n_validation,
            "n_test": int(test.x.shape[0]),
            "train_steps": train.steps, "data_steps": ds.sizes["time"] - 1, "device": str(device),
            "init_from": str(sm.input.init) if source else None}
    artifacts.save(model, out_dir, settings=settings.to_dict(), history=history, data=data)
    best = history[-1]["best_epoch"] or history[-1]["epoch"]  # the epoch of the weights returned
    final = history[best - 1]
    log.info("%s: model of epoch %d: train error %.4e, validation error %s, test error %s -> %s", key, best,
             final["train_error"], "-" if final["validation_error"] is None else f"{final['validation_error']:.4e}",
             "-" if final["test_error"] is None else f"{final['test_error']:.4e}", out_dir)
