# The laminate study of paper Section 4 (docs/laminate-learning.md): Figures 3-6 from the RNO models of the
# learning section (direct and tagged transfer, "A <- B"), autoencoders of the micro-state (eq. 25), the map of
# eq. (26) and a network from the RNO's internal variables back to the micro-state. Include after learning.smk.
# Networks: results/models/<producer>/<case>/{ae-m<m>/autoencoder.pt, map-ae-m<m>/, micro-<model>/decoder.pt}.
LAMINATE_FIGURES = ("fig03", "fig04", "fig05", "fig06")


wildcard_constraints:
    m=r"\d+",


rule autoencoder:
    """One autoencoder (latent size m) of a case's micro-state and its reconstruction error (eq. 25)."""
    input:
        dataset=lambda w: lflow.dataset(config, w.producer, w.case),
    output:
        model=f"{RESULTS}/models/{{producer}}/{{case}}/ae-m{{m}}/autoencoder.pt",
        table=f"{RESULTS}/tables/ae_errors/{{producer}}/{{case}}/ae-m{{m}}.csv",
    params:
        settings=lambda w: canonical_json(lconfig.net_settings(config, "settings").to_dict()),
        train_steps=LEARN["train_steps"],
    conda:
        "../../envs/rno-factory.yml"
    log:
        f"{RESULTS}/logs/autoencoder/{{producer}}/{{case}}/ae-m{{m}}.log",
    threads: LEARN["threads"]
    resources:
        runtime=6 * 60,
        mem_mb=4000,
    script:
        "../scripts/autoencoder.py"


rule ae_table:
    """results/tables/ae_errors.csv: eq. (25) of every autoencoder the figures need, sorted."""
    input:
        lflow.ae_error_tables(config),
    output:
        f"{RESULTS}/tables/ae_errors.csv",
    params:
        sort=["producer", "case", "latent"],
    conda:
        "../../envs/rno-factory.yml"
    log:
        f"{RESULTS}/logs/ae_table.log",
    localrule: True
    script:
        "../scripts/concat_tables.py"


rule latent_map:
    """The map of eq. (26): an RNO whose internal variables are the reduced variables of autoencoder m."""
    input:
        autoencoder=f"{RESULTS}/models/{{producer}}/{{case}}/ae-m{{m}}/autoencoder.pt",
        dataset=lambda w: lflow.dataset(config, w.producer, w.case),
    output:
        [f"{RESULTS}/models/{{producer}}/{{case}}/map-ae-m{{m}}/{name}" for name in lflow.MODEL_FILES],
    params:
        settings=lambda w: canonical_json(lconfig.net_settings(config, "map").to_dict()),
        train_steps=LEARN["train_steps"],
    conda:
        "../../envs/rno-factory.yml"
    log:
        f"{RESULTS}/logs/latent_map/{{producer}}/{{case}}/map-ae-m{{m}}.log",
    threads: LEARN["threads"]
    resources:
        runtime=24 * 60,
        mem_mb=8000,
    script:
        "../scripts/latent_map.py"


rule micro_decoder:
    """A network from a trained RNO's internal variables xi back to the micro-state (Figure 5)."""
    input:
        model=f"{MODEL_DIR}/model.pt",
        dataset=lambda w: lflow.dataset(config, w.producer, w.case),
    output:
        f"{RESULTS}/models/{{producer}}/{{case}}/micro-{{model}}/decoder.pt",
    params:
        settings=lambda w: canonical_json(lconfig.net_settings(config, "decoder").to_dict()),
        train_steps=LEARN["train_steps"],
    conda:
        "../../envs/rno-factory.yml"
    log:
        f"{RESULTS}/logs/micro_decoder/{{producer}}/{{case}}/{{model}}.log",
    threads: LEARN["threads"]
    resources:
        runtime=6 * 60,
        mem_mb=4000,
    script:
        "../scripts/micro_decoder.py"


for _name in LAMINATE_FIGURES:

    rule:
        name:
            _name
        input:
            unpack(lambda w, name=_name: lflow.laminate_figure_inputs(config, name)),
        output:
            report(figure_files(_name)[0], caption=f"../report/{_name}.rst", category="Paper figures"),
            figure_files(_name)[1],
            provenance=provenance_file(_name),
        params:
            spec=lambda w, name=_name: lconfig.figures(config)[name],
            train_steps=LEARN["train_steps"],
        conda:
            "../../envs/rno-factory.yml"
        log:
            f"{RESULTS}/logs/{_name}.log",
        script:
            "../scripts/fig_laminate.py"
