# The baselines of issue 16 (docs/baselines.md): the classical paths of the Taylor Mg polycrystal (a contract store,
# producer taylor_mg, case "classical"), Johnson-Cook fitted to them and to random training paths, PCA-Net at
# several training sizes, the RNO and Johnson-Cook on the classical paths -> results/tables/baseline_errors.csv and
# the predictions of Figure 9. Needs common.smk and learning.smk (LEARN); defines nothing unless the config has a
# learning.baselines section:
#   learning:
#     baselines: {producer: taylor_mg, case: MG, variant: evp, k: 5, n_fit: 50, pca_sizes: [4], pca: {epochs: 50}}
# (pca: overrides of learning.pca_net.REF25, e.g. epochs, modes_in, modes_out, hidden, stop_below.)
BASE = LEARN.get("baselines")

if BASE:
    from pipeline.studies import ModelKey

    BASE_PRODUCER, BASE_CASE = BASE["producer"], BASE["case"]
    BASE_MODEL = ModelKey(BASE_PRODUCER, BASE_CASE, BASE.get("variant", "evp"), int(BASE["k"]))
    BASE_DIR = P._("baselines", BASE_PRODUCER, BASE_CASE)
    CLASSICAL_STORE = P._("baselines", BASE_PRODUCER, "classical.zarr")

    rule baseline_classical_data:
        """The classical paths (uniaxial tension, cavity expansion, uniaxial cyclic loading) of the training case's
        polycrystal through the mixed-BC driver: a contract store (taylor.classical)."""
        input:
            P.dataset(BASE_PRODUCER, BASE_CASE),  # the training data: the classical truth follows its case
        output:
            directory(CLASSICAL_STORE),
        params:
            producer=BASE_PRODUCER,
            train_case=BASE_CASE,
        conda:
            ENV
        log:
            P.log("baseline_classical_data", BASE_PRODUCER),
        threads: 1
        resources:
            runtime=120,
            mem_mb=4000,
        script:
            "../scripts/baseline_classical_data.py"

    rule baseline_jc:
        """Johnson-Cook fitted (a) to the classical paths, (b) to the first n_fit training paths."""
        input:
            dataset=P.dataset(BASE_PRODUCER, BASE_CASE),
            classical=CLASSICAL_STORE,
        output:
            classical=f"{BASE_DIR}/johnson_cook_classical.json",
            random=f"{BASE_DIR}/johnson_cook_random.json",
        params:
            train_steps=LEARN["train_steps"],
            n_fit=int(BASE.get("n_fit", 50)),
        conda:
            ENV
        log:
            P.log("baseline_jc", BASE_PRODUCER, BASE_CASE),
        threads: 1
        resources:
            runtime=240,
            mem_mb=4000,
        script:
            "../scripts/baseline_jc.py"

    rule baseline_pca:
        """PCA-Net (ref. [25]) at each training-set size: its test error rows."""
        input:
            dataset=P.dataset(BASE_PRODUCER, BASE_CASE),
        output:
            P.table_part("baseline_errors", BASE_PRODUCER, BASE_CASE, "pca_net"),
        params:
            sizes=[int(n) for n in BASE.get("pca_sizes", [])],
            settings=dict(BASE.get("pca", {})),
            train_steps=LEARN["train_steps"],
            device=LEARN["device"],
        conda:
            ENV
        log:
            P.log("baseline_pca", BASE_PRODUCER, BASE_CASE),
        threads: LEARN["threads"]
        resources:
            gpu=LEARN["gpus"],
            runtime=24 * 60,
            mem_mb=8000,
        script:
            "../scripts/baseline_pca.py"

    rule baseline_eval:
        """The RNO and both Johnson-Cook fits on the random test split and on the classical paths."""
        input:
            dataset=P.dataset(BASE_PRODUCER, BASE_CASE),
            classical=CLASSICAL_STORE,
            model=P.model(BASE_MODEL),
            jc_classical=f"{BASE_DIR}/johnson_cook_classical.json",
            jc_random=f"{BASE_DIR}/johnson_cook_random.json",
        output:
            rows=P.table_part("baseline_errors", BASE_PRODUCER, BASE_CASE, "rno_jc"),
            predictions=f"{BASE_DIR}/classical_predictions.json",
        params:
            train_steps=LEARN["train_steps"],
        conda:
            ENV
        log:
            P.log("baseline_eval", BASE_PRODUCER, BASE_CASE),
        threads: 1
        resources:
            runtime=120,
            mem_mb=4000,
        script:
            "../scripts/baseline_eval.py"

    rule baseline_errors_table:
        """results/tables/baseline_errors.csv: model, case, train_size, paths, error."""
        input:
            [P.table_part("baseline_errors", BASE_PRODUCER, BASE_CASE, part)
             for part in ("rno_jc", "pca_net") if part == "rno_jc" or BASE.get("pca_sizes")],
        output:
            P.table("baseline_errors"),
        conda:
            ENV
        log:
            P.log("baseline_errors_table"),
        localrule: True
        script:
            "../scripts/baseline_table.py"
