# Figures that explain the data factory itself (the paper's figures are in learning.smk).


rule figure_loading_paths:
    """A few sampled loading paths with their knots (docs/loading-paths.md)."""
    output:
        report(figure_files("loading_paths")[0], caption="../report/loading_paths.rst", category="Data factory"),
        figure_files("loading_paths")[1],
        provenance=provenance_file("loading_paths"),
    params:
        loading=config["loading"],
        figure=config.get("figures", {}).get("loading_paths", {}),
        seed=config["seed"],
    conda:
        "../../envs/rno-factory.yml"
    log:
        f"{RESULTS}/logs/figure_loading_paths.log",
    script:
        "../scripts/figure_loading_paths.py"
