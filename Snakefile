# rno-factory: unit-cell solves -> Zarr datasets -> RNO training, evaluation and the paper's figures.
#   snakemake --cores all                                   the embedded default (config.yaml)
#   snakemake --cores all --configfile config.paper.yaml    paper scale (replaces, not merges, the default)
# Every config is validated against workflow/schemas/ before any job runs.
from snakemake.utils import min_version

min_version("9.0")

if not config:
    configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/polycrystal2d.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/learning.smk"
include: "workflow/rules/laminate_learning.smk"
include: "workflow/rules/polycrystal_learning.smk"


rule all:
    default_target: True
    input:
        all_datasets(),
        [f for files in FIGURES.values() for f in files],
        TABLES,
        LEARNING_TARGETS,


onsuccess:
    print_summary()
