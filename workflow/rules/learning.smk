# RNO training service: train -> evaluate -> tables -> the paper's Figures 1 and 10 (docs/learning.md).
# Models: results/models/<producer>/<case>/<model>/ (ModelKey.name); the learning section says which.
# File names come from learning/workflow.py; LEARNING_TARGETS is everything this section asks for.
from learning import config as lconfig
from learning import workflow as lflow

try:
    lconfig.check(config)
except dsconfig.ConfigError as err:
    sys.exit(f"rno-factory: {err}")

LEARN = lconfig.section(config)
MODEL_DIR = f"{RESULTS}/models/{{producer}}/{{case}}/{{model}}"  # model: lconfig.ModelKey.name
LEARNING_TARGETS = lflow.targets(config)


wildcard_constraints:
    variant=r"evp|ve",
    k=r"\d+",
    model=lconfig.MODEL_NAME.pattern.strip("^$"),


rule train:
    """Train one RNO (Adam on mini-batches, eq. 16 loss) and export it; resumes from checkpoint.pt if present."""
    input:
        unpack(lambda w: lflow.transfer_source(config, w)),
        dataset=lambda w: lflow.dataset(config, w.producer, w.case),
    output:
        [f"{MODEL_DIR}/{name}" for name in lflow.MODEL_FILES],
    params:
        settings=lambda w: canonical_json(lconfig.settings(config, lflow.model_key(config, w)).to_dict()),
        device=LEARN["device"],
    conda:
        "../../envs/rno-factory.yml"
    log:
        f"{RESULTS}/logs/train/{{producer}}/{{case}}/{{model}}.log",
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
        dataset=lambda w: lflow.dataset(config, w.producer, w.case),
    output:
        f"{RESULTS}/tables/rno_errors/{{producer}}/{{case}}/{{model}}.csv",
    params:
        init_from=lambda w: lflow.model_key(config, w).init,
        train_size=lambda w: lflow.model_key(config, w).train_size,
        train_steps=LEARN["train_steps"],
        test_steps=lambda w: lconfig.test_steps(config, lflow.model_key(config, w)),
    conda:
        "../../envs/rno-factory.yml"
    log:
        f"{RESULTS}/logs/evaluate/{{producer}}/{{case}}/{{model}}.log",
    threads: 1
    resources:
        runtime=30,
        mem_mb=4000,
    script:
        "../scripts/evaluate.py"


rule internal_study:
    """Learned xi vs true <eps_p> (affine map, R^2) and learned f~, g~ vs eqs. 14-15, for a k = 1 evp model."""
    input:
        model=f"{RESULTS}/models/{{producer}}/{{case}}/evp-k1/model.pt",
        dataset=lambda w: lflow.dataset(config, w.producer, w.case),
    output:
        f"{RESULTS}/tables/rno_internal/{{producer}}/{{case}}/evp-k1.csv",
    params:
        train_steps=LEARN["train_steps"],
    conda:
        "../../envs/rno-factory.yml"
    log:
        f"{RESULTS}/logs/internal_study/{{producer}}/{{case}}.log",
    threads: 1
    resources:
        runtime=30,
        mem_mb=4000,
    script:
        "../scripts/internal_study.py"


rule error_table:
    """results/tables/rno_errors.csv: every model's rows, sorted."""
    input:
        lflow.error_tables(config),
    output:
        f"{RESULTS}/tables/rno_errors.csv",
    conda:
        "../../envs/rno-factory.yml"
    log:
        f"{RESULTS}/logs/error_table.log",
    localrule: True
    script:
        "../scripts/concat_tables.py"


rule internal_table:
    """results/tables/rno_internal.csv: the internal-variable study of every k = 1 evp model, sorted."""
    input:
        lflow.internal_tables(config),
    output:
        f"{RESULTS}/tables/rno_internal.csv",
    conda:
        "../../envs/rno-factory.yml"
    log:
        f"{RESULTS}/logs/internal_table.log",
    localrule: True
    script:
        "../scripts/concat_tables.py"


rule fig01:
    """Figure 1 (a)-(f): inputs, truth vs RNO, error vs k for every N, learned internal variable, f~ and g~."""
    input:
        unpack(lambda w: lflow.fig01_inputs(config)),
    output:
        report(figure_files("fig01")[0], caption="../report/fig01.rst", category="Paper figures"),
        figure_files("fig01")[1],
        provenance=provenance_file("fig01"),
    params:
        spec=lambda w: lconfig.figures(config)["fig01"],
        n_phases=lambda w: lflow.n_phases(config, lconfig.figures(config)["fig01"]["producer"]),
        train_steps=LEARN["train_steps"],
    conda:
        "../../envs/rno-factory.yml"
    log:
        f"{RESULTS}/logs/fig01.log",
    script:
        "../scripts/fig01.py"


# Figure 10: test error vs test resolution of the evp and ve models, (a) 1D composite, (b) Taylor magnesium.
for _name in lconfig.RESOLUTION_FIGURES:

    rule:
        name:
            _name
        input:
            errors=f"{RESULTS}/tables/rno_errors.csv",
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
            "../scripts/fig10.py"


rule figures:
    """The learning section's tables and figures (results/tables/rno_*.csv, results/figures/fig*.png/.pdf)."""
    input:
        LEARNING_TARGETS,
    localrule: True
