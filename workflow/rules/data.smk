# Data factory: one job per shard of samples, then one store per (producer, case).


rule solve_shard:
    """Solve one shard (shard_size samples seeded from (case, shard)) and write it atomically."""
    input:
        code=producer_source,
    output:
        directory(f"{RESULTS}/shards/{{producer}}/{{case}}/shard{{shard}}.zarr"),
    params:
        # only shard-local values: the case's solve config (sample counts excluded) and the shard size
        case=lambda w: canonical_json(case_of(w).solve_config),
        shard_size=lambda w: shard_size(w.producer),
    conda:
        "../../envs/rno-factory.yml"
    log:
        f"{RESULTS}/logs/solve_shard/{{producer}}/{{case}}/shard{{shard}}.log",
    threads: 1
    resources:
        runtime=60,
        mem_mb=2000,
    script:
        "../scripts/solve_shard.py"


rule collect:
    """Concatenate a case's shards into results/datasets/<producer>/<case>.zarr with its train/test split."""
    input:
        shard_files,
    output:
        directory(f"{RESULTS}/datasets/{{producer}}/{{case}}.zarr"),
    params:
        n_train=lambda w: case_of(w).n_train,
        n_test=lambda w: case_of(w).n_test,
    conda:
        "../../envs/rno-factory.yml"
    log:
        f"{RESULTS}/logs/collect/{{producer}}/{{case}}.log",
    resources:
        runtime=30,
        mem_mb=4000,
    script:
        "../scripts/collect.py"
