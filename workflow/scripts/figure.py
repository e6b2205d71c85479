"""Job of every figure rule (workflow/rules/figures.smk): draw the figure named by the rule from the figure table
(pipeline.figures), then write its provenance sidecar."""
from pathlib import Path

from dataset.jobs import job_logging
from pipeline.figures import draw
from pipeline.provenance import write_sidecar

sm = snakemake  # noqa: F821  (injected by Snakemake)
with job_logging(sm.log[0]) as log:
    inputs = {name: getattr(sm.input, name) for name in sm.input.keys()}
    paths = draw(sm.rule, inputs, sm.params.spec, Path(sm.output[0]).with_suffix(""))
    write_sidecar(sm)
    log.info("%s: wrote %s", sm.rule, ", ".join(map(str, paths)))
