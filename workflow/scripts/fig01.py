"""Snakemake job: Figure 1 (a)-(f) (learning.figures.fig01)."""
from pathlib import Path

from dataset.jobs import job_logging
from provenance import write_sidecar  # workflow/scripts/provenance.py
from dataset.store import open_store
from learning import load
from learning.evaluate import read_table
from learning.figures import fig01

sm = snakemake  # noqa: F821  (injected by Snakemake)
with job_logging(sm.log[0]) as log:
    spec = sm.params.spec
    paths = fig01(ds_paths=open_store(sm.input.ds_paths), model_paths=load(sm.input.model_paths),
                  ds_internal=open_store(sm.input.ds_internal), model_internal=load(sm.input.model_internal),
                  errors=read_table(sm.input.errors), n_phases=dict(sm.params.n_phases),
                  stem=Path(sm.output[0]).with_suffix(""), train_steps=int(sm.params.train_steps),
                  n_paths=int(spec["n_paths"]))
    write_sidecar(sm)
    log.info("wrote %s", ", ".join(map(str, paths)))
