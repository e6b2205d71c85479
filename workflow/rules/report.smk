# Reproducible rebuilds and the HTML report (docs/regeneration.md):
#   snakemake figures_all                          every figure and table, each figure with a provenance sidecar
#   snakemake figures_all --report report.html     the report: figures, tables, failed samples per case
# A figure rule adds its PNG with report(..., caption=...) and a `provenance` output written by
# workflow/scripts/provenance.py (write_sidecar), and is listed in FIGURES below.

report: "../report/workflow.rst"

# name -> the figure's files (PNG, PDF, provenance sidecar).
FIGURES = {"loading_paths": [*figure_files("loading_paths"), provenance_file("loading_paths")]}
TABLES = [f"{RESULTS}/tables/failures.csv"]


rule failure_summary:
    """The samples of one case that the solver could not finish, with their reasons (from attrs['failures'])."""
    input:
        lambda w: dataset_file(w.producer, w.case),
    output:
        f"{RESULTS}/datasets/{{producer}}/{{case}}.failures.json",
    conda:
        "../../envs/rno-factory.yml"
    log:
        f"{RESULTS}/logs/failure_summary/{{producer}}/{{case}}.log",
    script:
        "../scripts/failure_summary.py"


rule failures_table:
    """One table over every case: requested, stored and failed samples, one row per failed sample."""
    input:
        [f"{RESULTS}/datasets/{p}/{c}.failures.json" for (p, c) in CASES],
    output:
        report(f"{RESULTS}/tables/failures.csv", caption="../report/failures.rst", category="Data factory",
               labels={"table": "failed samples"}),
    conda:
        "../../envs/rno-factory.yml"
    log:
        f"{RESULTS}/logs/failures_table.log",
    script:
        "../scripts/failure_summary.py"


rule figures_all:
    """Every figure and table (rebuilt from the datasets and models when they changed)."""
    input:
        [f for files in FIGURES.values() for f in files],
        TABLES,
        # the paper's figures and error tables, once learning.smk is included (evaluated when the DAG is built)
        lambda w: globals().get("LEARNING_TARGETS", []),
