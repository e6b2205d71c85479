# The polycrystal studies of paper Section 5 (docs/polycrystal-learning.md): Figure 7 (2D full field: separate
# deviatoric and pressure RNOs, eq. 28) and Figure 8 (3D Taylor magnesium: error vs k and vs training-set size).
# The models come from the learning section's studies (targets, train_sizes); include after learning.smk.


rule fig07:
    """Figure 7 (a)-(f): training history, deviatoric and pressure test error vs k, a test path (Section 5.1)."""
    input:
        unpack(lambda w: lflow.polycrystal_figure_inputs(config, "fig07")),
    output:
        report(figure_files("fig07")[0], caption="../report/fig07.rst", category="Paper figures"),
        figure_files("fig07")[1],
        provenance=provenance_file("fig07"),
    params:
        spec=lambda w: lconfig.figures(config)["fig07"],
        history_ks=lambda w: lflow.history_ks(config),
        train_steps=LEARN["train_steps"],
    conda:
        "../../envs/rno-factory.yml"
    log:
        f"{RESULTS}/logs/fig07.log",
    script:
        "../scripts/fig_polycrystal.py"


rule fig08:
    """Figure 8 (a)-(d): test error vs k and vs training-set size, a test path (Section 5.2)."""
    input:
        unpack(lambda w: lflow.polycrystal_figure_inputs(config, "fig08")),
    output:
        report(figure_files("fig08")[0], caption="../report/fig08.rst", category="Paper figures"),
        figure_files("fig08")[1],
        provenance=provenance_file("fig08"),
    params:
        spec=lambda w: lconfig.figures(config)["fig08"],
        train_steps=LEARN["train_steps"],
    conda:
        "../../envs/rno-factory.yml"
    log:
        f"{RESULTS}/logs/fig08.log",
    script:
        "../scripts/fig_polycrystal.py"
