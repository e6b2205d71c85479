# The laminate study of paper Section 4 (docs/laminate-learning.md): autoencoders of the micro-state (eq. 25), the
# map of eq. (26) and a network from an RNO's internal variables back to the micro-state. Figures 3-6 are in the
# figure table (pipeline/figures.py). Networks are saved as RNOs are (learning.artifacts), in
# results/models/<producer>/<case>/{ae-m<m>, map-ae-m<m>, micro-<model>}/.


wildcard_constraints:
    m=r"\d+",


rule autoencoder:
    """One autoencoder (latent size m) of a case's micro-state and its reconstruction error (eq. 25)."""
    input:
        dataset=lambda w: P.dataset(w.producer, w.case),
    output:
        model=P.file(P.autoencoder_dir("{producer}", "{case}", "{m}"), "model.pt"),
        files=[P.file(P.autoencoder_dir("{producer}", "{case}", "{m}"), n) for n in NETWORK_FILES["autoencoder"][1:]],
        table=P.table_part("ae_errors", "{producer}", "{case}", "ae-m{m}"),
    params:
        settings=lambda w: canonical_json(studies.net_settings(config, "settings").to_dict()),
        train_steps=LEARN["train_steps"],
    conda:
        ENV
    log:
        P.log("autoencoder", "{producer}", "{case}", "ae-m{m}"),
    benchmark:
        P.benchmark("autoencoder", "{producer}", "{case}", "ae-m{m}")
    threads: LEARN["threads"]
    resources:
        runtime=6 * 60,
        mem_mb=4000,
    script:
        "../scripts/autoencoder.py"


rule latent_map:
    """The map of eq. (26): an RNO whose internal variables are the reduced variables of autoencoder m."""
    input:
        autoencoder=P.file(P.autoencoder_dir("{producer}", "{case}", "{m}"), "model.pt"),
        dataset=lambda w: P.dataset(w.producer, w.case),
    output:
        model=P.file(P.latent_map_dir("{producer}", "{case}", "{m}"), "model.pt"),
        files=[P.file(P.latent_map_dir("{producer}", "{case}", "{m}"), n) for n in NETWORK_FILES["rno"][1:]],
    params:
        settings=lambda w: canonical_json(studies.net_settings(config, "map").to_dict()),
        train_steps=LEARN["train_steps"],
    conda:
        ENV
    log:
        P.log("latent_map", "{producer}", "{case}", "map-ae-m{m}"),
    benchmark:
        P.benchmark("latent_map", "{producer}", "{case}", "map-ae-m{m}")
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
        dataset=lambda w: P.dataset(w.producer, w.case),
    output:
        model=P.file(P.micro_decoder_dir("{producer}", "{case}", "{model}"), "model.pt"),
        files=[P.file(P.micro_decoder_dir("{producer}", "{case}", "{model}"), n)
               for n in NETWORK_FILES["micro_decoder"][1:]],
    params:
        settings=lambda w: canonical_json(studies.net_settings(config, "decoder").to_dict()),
        train_steps=LEARN["train_steps"],
    conda:
        ENV
    log:
        P.log("micro_decoder", "{producer}", "{case}", "{model}"),
    benchmark:
        P.benchmark("micro_decoder", "{producer}", "{case}", "{model}")
    threads: LEARN["threads"]
    resources:
        runtime=6 * 60,
        mem_mb=4000,
    script:
        "../scripts/micro_decoder.py"
