"""Snakemake job: one of the paper's Figures 3-6 (learning.figures_laminate), chosen by the rule's name."""
from pathlib import Path

from dataset.jobs import job_logging
from dataset.store import open_store
from provenance import write_sidecar  # workflow/scripts/provenance.py
from learning import figures_laminate as figs
from learning import load
from learning.autoencoder import load_net
from learning.evaluate import read_table

sm = snakemake  # noqa: F821  (injected by Snakemake)
with job_logging(sm.log[0]) as log:
    spec, steps, stem = dict(sm.params.spec), int(sm.params.train_steps), Path(sm.output[0]).with_suffix("")
    i = sm.input
    if sm.rule == "fig03":
        paths = figs.fig03(errors=read_table(i.errors), spec=spec, ds_paths=open_store(i.ds_paths),
                           model_paths=load(i.model_paths), train_steps=steps, stem=stem)
    elif sm.rule == "fig04":
        paths = figs.fig04(ae_errors=read_table(i.ae_errors), spec=spec, ds=open_store(i.dataset),
                           ae=load_net(i.autoencoder)[0], latent_map=load(i.latent_map), train_steps=steps,
                           stem=stem)
    elif sm.rule == "fig05":
        paths = figs.fig05(ds=open_store(i.dataset), model=load(i.model), decoder=load_net(i.decoder)[0],
                           train_steps=steps, n_paths=int(spec["n_paths"]), stem=stem)
    elif sm.rule == "fig06":
        paths = figs.fig06(errors=read_table(i.errors), ae_errors=read_table(i.ae_errors), spec=spec,
                           ds_paths=open_store(i.ds_paths), model_paths=load(i.model_paths),
                           ds_ae=open_store(i.ds_ae), ae=load_net(i.autoencoder)[0], train_steps=steps, stem=stem)
    else:
        raise ValueError(f"fig_laminate.py: unknown rule {sm.rule!r}")
    write_sidecar(sm)
    log.info("wrote %s", ", ".join(map(str, paths)))
