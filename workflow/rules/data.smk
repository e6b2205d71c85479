# Data factory: one job per shard of samples, then one store per (producer, case).


# One rule definition for every producer (pipeline/registry.py): rule solve_shard_<producer>, so a cluster can
# size each producer's jobs (--set-resources solve_shard_taylor_mg:runtime=120). An MPI producer declares it:
# its shards run on `producers.<name>.tasks` ranks under the launcher `mpi` (default mpirun; the SLURM profile sets
# srun); a serial producer's jobs carry no MPI resources at all.
for _producer in registry.PRODUCERS.values():

    rule:
        name:
            f"solve_shard_{_producer.name}"
        input:
            # the producer's import closure: editing shared physics reruns exactly the shards that depend on it
            code=registry.sources(_producer.name),
            script=f"{workflow.basedir}/workflow/scripts/solve_shard.py",
        output:
            directory(P.shard(_producer.name, "{case}", "{shard}")),
        params:
            # a shell command is formatted when the job runs, after this loop: the producer goes through params
            producer=_producer.name,
            # only shard-local values: the case's solve config (sample counts excluded) and the shard size
            case=lambda w, p=_producer.name: canonical_json(pconfig.resolve_case(config, p, w.case).solve_config),
            shard_size=lambda w, p=_producer.name: targets.shard_size(config, p),
            launch=(lambda w, resources: f"{resources.mpi} -n {resources.tasks}") if _producer.mpi else "",
        conda:
            ENV
        log:
            P.log("solve_shard", _producer.name, "{case}", "shard{shard}"),
        benchmark:
            P.benchmark("solve_shard", _producer.name, "{case}", "shard{shard}")
        threads: 1
        resources:
            **targets.mpi_resources(config, _producer.name),
            runtime=lambda w, attempt, p=_producer: p.runtime * attempt,
            mem_mb=lambda w, attempt, p=_producer: p.mem_mb * attempt,
        shell:
            f"{{params.launch}} {PYTHON} {{input.script:q}} --producer {{params.producer}} --case {{wildcards.case}}"
            " --case-config {params.case:q} --shard {wildcards.shard} --shard-size {params.shard_size}"
            " --out {output:q} > {log:q} 2>&1"


rule collect:
    """Concatenate a case's shards into results/datasets/<producer>/<case>.zarr with its train/test split."""
    input:
        lambda w: targets.shard_files(config, targets.case(config, w)),
    output:
        directory(P.dataset("{producer}", "{case}")),
    params:
        n_train=lambda w: targets.case(config, w).n_train,
        n_test=lambda w: targets.case(config, w).n_test,
    conda:
        ENV
    log:
        P.log("collect", "{producer}", "{case}"),
    resources:
        runtime=30,
        mem_mb=4000,
    script:
        "../scripts/collect.py"
