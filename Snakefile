# rno-factory: unit-cell solves -> Zarr datasets -> RNO training, evaluation and the paper's figures.
#   snakemake --cores all                                   the embedded default (config.yaml)
#   snakemake --cores all --configfile config.paper.yaml    paper scale (replaces, not merges, the default)
# Every config is validated against pipeline/schemas/ (defaults filled in) before any job runs; the workflow's
# Python home is pipeline/ (config, producer registry, paths, studies, figure table).
from snakemake.utils import min_version

min_version("9.0")

if not config:
    configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/learning.smk"
include: "workflow/rules/laminate_learning.smk"
include: "workflow/rules/baselines.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/macroscale.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        targets.everything(config),


onsuccess:
    targets.print_summary(config)
