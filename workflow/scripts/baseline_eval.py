"""Snakemake job: the RNO and both Johnson-Cook fits on the random test split and the classical paths
(pipeline.baselines.evaluate) -> error rows and the classical predictions (JSON, Figure 9)."""
import json

import torch

from dataset.jobs import job_logging
from dataset.store import open_store
from learning import load
from learning.artifacts import read_json
from learning.evaluate import write_table
from pipeline import baselines

sm = snakemake  # noqa: F821  (injected by Snakemake)
torch.set_num_threads(int(sm.threads))
with job_logging(sm.log[0]) as log:
    fits = {"johnson_cook_classical": baselines.load_fit(sm.input.jc_classical),
            "johnson_cook_random": baselines.load_fit(sm.input.jc_random)}
    train_size = int(read_json(sm.input.model, "config.json")["settings"].get("train_size") or 0)
    rows, preds = baselines.evaluate(open_store(sm.input.dataset), open_store(sm.input.classical), fits,
                                     load(sm.input.model), steps=int(sm.params.train_steps),
                                     rno_train_size=train_size)
    write_table(rows, sm.output.rows)
    with open(sm.output.predictions, "w") as f:
        json.dump(preds, f)
    for message in preds["rno_errors"]:
        log.warning("the RNO could not follow a classical path: %s", message)
    log.info("%s\n%s", sm.output.rows, rows.to_string(index=False))
