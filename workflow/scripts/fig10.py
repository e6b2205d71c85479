"""Snakemake job: Figure 10 (a) or (b), chosen by the rule's name (learning.figures.fig10_resolution)."""
from pathlib import Path

from dataset.jobs import job_logging
from provenance import write_sidecar  # workflow/scripts/provenance.py
from learning.evaluate import read_table
from learning.figures import fig10_resolution

sm = snakemake  # noqa: F821  (injected by Snakemake)
with job_logging(sm.log[0]) as log:
    spec = sm.params.spec
    paths = fig10_resolution(read_table(sm.input.errors), producer=spec["producer"], case=spec["case"],
                             k=int(spec["k"]), train_steps=int(sm.params.train_steps),
                             stem=Path(sm.output[0]).with_suffix(""))
    write_sidecar(sm)
    log.info("%s: wrote %s", sm.rule, ", ".join(map(str, paths)))
