"""Snakemake job: the paper's Figure 7 or 8 (learning.figures_polycrystal), chosen by the rule's name."""
import json
from pathlib import Path

from dataset.jobs import job_logging
from dataset.store import open_store
from provenance import write_sidecar  # workflow/scripts/provenance.py
from learning import figures_polycrystal as figs
from learning import load
from learning.evaluate import read_table

sm = snakemake  # noqa: F821  (injected by Snakemake)
with job_logging(sm.log[0]) as log:
    spec, steps, stem = dict(sm.params.spec), int(sm.params.train_steps), Path(sm.output[0]).with_suffix("")
    i = sm.input
    common = {"errors": read_table(i.errors), "ds_paths": open_store(i.ds_paths), "model_paths": load(i.model_paths),
              "spec": spec, "train_steps": steps, "stem": stem}
    if sm.rule == "fig07":
        histories = {int(k): json.loads(Path(h).read_text()) for k, h in zip(sm.params.history_ks, i.histories)}
        paths = figs.fig07(histories=histories, **common)
    elif sm.rule == "fig08":
        paths = figs.fig08(**common)
    else:
        raise ValueError(f"fig_polycrystal.py: unknown rule {sm.rule!r}")
    write_sidecar(sm)
    log.info("wrote %s", ", ".join(map(str, paths)))
