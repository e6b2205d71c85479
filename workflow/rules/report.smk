# Reproducible rebuilds and the HTML report (docs/regeneration.md):
#   snakemake figures_all                          every figure and table, each figure with a provenance sidecar
#   snakemake figures_all --report report.html     the report: figures, tables, failed samples per case


report: "../report/workflow.rst"


rule failure_summary:
    """The samples of one case that the solver could not finish, with their reasons (from attrs['failures'])."""
    input:
        P.dataset("{producer}", "{case}"),
    output:
        P.failures("{producer}", "{case}"),
    conda:
        ENV
    log:
        P.log("failure_summary", "{producer}", "{case}"),
    script:
        "../scripts/failure_summary.py"


rule failures_table:
    """One table over every case: requested, stored and failed samples, one row per failed sample."""
    input:
        targets.failure_summaries(config),
    output:
        report(P.table("failures"), caption="../report/failures.rst", category="Data factory",
               labels={"table": "failed samples"}),
    conda:
        ENV
    log:
        P.log("failures_table"),
    script:
        "../scripts/failure_summary.py"


rule figures_all:
    """Every figure and table (rebuilt from the datasets and models when they changed)."""
    input:
        targets.tables(config),
        targets.figure_files(config),
    localrule: True
