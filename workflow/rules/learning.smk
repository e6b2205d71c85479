# RNO training service: train -> evaluate -> tables (docs/learning.md); the figures are in figures.smk.
# Models: results/models/<producer>/<case>/<model>/ (pipeline.studies.ModelKey.name); the learning section says
# which (pipeline.studies). Paths from pipeline.paths.
from learning.artifacts import FILES as NETWORK_FILES

LEARN = studies.section(config)
MODEL_DIR = P.model_dir("{producer}", "{case}", "{model}")


wildcard_constraints:
    variant=r"evp|ve",
    k=r"\d+",
    model=studies.MODEL_NAME.pattern.strip("^$"),


rule train:
    """Train one RNO (Adam on mini-batches, eq. 16 loss) and export it; resumes from checkpoint.pt if present."""
    input:
        unpack(lambda w: targets.transfer_source(config, w)),
        dataset=lambda w: P.dataset(w.producer, w.case),
    output:
        [f"{MODEL_DIR}/{name}" for name in NETWORK_FILES["rno"]],
    params:
        settings=lambda w: canonical_json(studies.settings(config, targets.model_key(config, w)).to_dict()),
        device=LEARN["device"],
    conda:
        ENV
    log:
        P.log("train", "{producer}", "{case}", "{model}"),
    benchmark:
        P.benchmark("train", "{producer}", "{case}", "{model}")
    threads: LEARN["threads"]
    resources:
        gpu=LEARN["gpus"],
        runtime=24 * 60,
        mem_mb=8000,
    script:
        "../scripts/train.py"


rule evaluate:
    """Mean test error (eq. 16) of one model at every test resolution: one small CSV per model."""
    input:
        model=f"{MODEL_DIR}/model.pt",
        dataset=lambda w: P.dataset(w.producer, w.case),
    output:
        P.table_part("rno_errors", "{producer}", "{case}", "{model}"),
    params:
        init_from=lambda w: targets.model_key(config, w).init,
        train_size=lambda w: targets.model_key(config, w).train_size,
        train_steps=LEARN["train_steps"],
        test_steps=lambda w: studies.test_steps(config, targets.model_key(config, w)),
    conda:
        ENV
    log:
        P.log("evaluate", "{producer}", "{case}", "{model}"),
    benchmark:
        P.benchmark("evaluate", "{producer}", "{case}", "{model}")
    threads: 1
    resources:
        runtime=30,
        mem_mb=4000,
    script:
        "../scripts/evaluate.py"


rule internal_study:
    """Learned xi vs true <eps_p> (affine map, R^2) and learned f~, g~ vs eqs. 14-15, for a k = 1 evp model."""
    input:
        model=P.file(P.model_dir("{producer}", "{case}", "evp-k1"), "model.pt"),
        dataset=lambda w: P.dataset(w.producer, w.case),
    output:
        P.table_part("rno_internal", "{producer}", "{case}", "evp-k1"),
    params:
        train_steps=LEARN["train_steps"],
    conda:
        ENV
    log:
        P.log("internal_study", "{producer}", "{case}"),
    threads: 1
    resources:
        runtime=30,
        mem_mb=4000,
    script:
        "../scripts/internal_study.py"


rule rno_errors_producer_table:
    """One producer's error rows (results/tables/rno_errors-<producer>.csv): its figures read this, so they redraw
    only when its own models change."""
    input:
        lambda w: targets.error_tables(config, w.producer),
    output:
        P.table("rno_errors", "{producer}"),
    params:
        sort=None,
    conda:
        ENV
    log:
        P.log("rno_errors_table", "{producer}"),
    localrule: True
    script:
        "../scripts/concat_tables.py"


# results/tables/<name>.csv: the per-job rows of every model (or autoencoder) the config asks for, sorted.
for _name, _parts, _sort in (("rno_errors", targets.producer_error_tables, None),
                             ("rno_internal", targets.internal_tables, None),
                             ("ae_errors", targets.ae_tables, ["producer", "case", "latent"])):

    rule:
        name:
            f"{_name}_table"
        input:
            _parts(config),
        output:
            P.table(_name),
        params:
            sort=_sort,
        conda:
            ENV
        log:
            P.log(f"{_name}_table"),
        localrule: True
        script:
            "../scripts/concat_tables.py"
