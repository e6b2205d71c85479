# Data factory: one job per shard of samples, then one store per (producer, case).


def _launch(wildcards, resources):
    """The MPI launcher of an MPI producer's shard (resources mpi and tasks), nothing for a serial one."""
    return f"{resources.mpi} -n {resources.tasks}" if registry.entry(wildcards.producer).mpi else ""


rule solve_shard:
    """Solve one shard (shard_size samples seeded from (case, shard)) and write it atomically. An MPI producer
    (pipeline.registry) runs on `tasks` ranks (producers.<name>.tasks) under the launcher `mpi` (default mpirun;
    e.g. --set-resources solve_shard:mpi="srun"); its input code is the producer's import closure, so editing shared
    physics reruns exactly the shards that depend on it."""
    input:
        code=lambda w: registry.sources(w.producer),
        script=f"{workflow.basedir}/workflow/scripts/solve_shard.py",
    output:
        directory(P.shard("{producer}", "{case}", "{shard}")),
    params:
        # only shard-local values: the case's solve config (sample counts excluded) and the shard size
        case=lambda w: canonical_json(case_of(w).solve_config),
        shard_size=lambda w: targets.shard_size(config, w.producer),
        launch=_launch,
    conda:
        ENV
    log:
        P.log("solve_shard", "{producer}", "{case}", "shard{shard}"),
    threads: 1
    resources:
        mpi="mpirun",
        tasks=lambda w: int(config["producers"][w.producer].get("tasks", 1)) if registry.entry(w.producer).mpi else 1,
        runtime=lambda w, attempt: registry.entry(w.producer).runtime * attempt,
        mem_mb=lambda w, attempt: registry.entry(w.producer).mem_mb * attempt,
    shell:
        f"{{params.launch}} {PYTHON} {{input.script:q}} --producer {{wildcards.producer}} --case {{wildcards.case}}"
        " --case-config {params.case:q} --shard {wildcards.shard} --shard-size {params.shard_size}"
        " --out {output:q} > {log:q} 2>&1"


rule collect:
    """Concatenate a case's shards into results/datasets/<producer>/<case>.zarr with its train/test split."""
    input:
        lambda w: targets.shard_files(config, case_of(w)),
    output:
        directory(P.dataset("{producer}", "{case}")),
    params:
        n_train=lambda w: case_of(w).n_train,
        n_test=lambda w: case_of(w).n_test,
    conda:
        ENV
    log:
        P.log("collect", "{producer}", "{case}"),
    resources:
        runtime=30,
        mem_mb=4000,
    script:
        "../scripts/collect.py"
