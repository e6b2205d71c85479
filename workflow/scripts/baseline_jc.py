"""Snakemake job: Johnson-Cook fitted (a) to the classical paths and (b) to the first n_fit random training paths
(pipeline.baselines.fit_both) -> two JSON files."""
import torch

from dataset.jobs import job_logging
from dataset.store import open_store
from pipeline import baselines

sm = snakemake  # noqa: F821  (injected by Snakemake)
torch.set_num_threads(int(sm.threads))
with job_logging(sm.log[0]) as log:
    fits = baselines.fit_both(open_store(sm.input.dataset), open_store(sm.input.classical),
                              steps=int(sm.params.train_steps), n_fit=int(sm.params.n_fit))
    for name, path in (("johnson_cook_classical", sm.output.classical), ("johnson_cook_random", sm.output.random)):
        baselines.save_fit(fits[name], path, fitted_to=name, train_steps=int(sm.params.train_steps))
        log.info("%s: %s (cost %.4g, %d evaluations, %s)", name, fits[name].params, fits[name].cost,
                 fits[name].nfev, fits[name].message)
