# Full-field 2D polycrystal (fullfield/polycrystal2d, paper Section 5.1): one MPI job per shard.
# The shard lands where the generic solve_shard would put it, so `collect` (data.smk) picks it up unchanged.
# Include after data.smk. Launcher and ranks: resources mpi (default "mpirun") and tasks (the producer's `tasks`,
# default 2); override per cluster, e.g. --set-resources polycrystal2d_shard:mpi="srun". As root, OpenMPI needs
# OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 in the environment (the Makefile exports them), and
# OMPI_MCA_rmaps_base_oversubscribe=1 when tasks exceed the cores.

# the generic rule's output pattern also matches these shards: this rule wins for producer polycrystal2d
ruleorder: polycrystal2d_shard > solve_shard


rule polycrystal2d_shard:
    """Solve one polycrystal2d shard with PETSc on `tasks` MPI ranks (grid distributed); rank 0 writes it atomically."""
    input:
        code=package_sources("fullfield.polycrystal2d", "fullfield.crystal"),
        script=f"{workflow.basedir}/workflow/scripts/solve_shard_mpi.py",
    output:
        directory(f"{RESULTS}/shards/polycrystal2d/{{case}}/shard{{shard}}.zarr"),
    params:
        # only shard-local values: the case's solve config (sample counts excluded) and the shard size
        case=lambda w: canonical_json(CASES[("polycrystal2d", w.case)].solve_config),
        shard_size=lambda w: shard_size("polycrystal2d"),
    conda:
        "../../envs/rno-factory.yml"
    log:
        f"{RESULTS}/logs/solve_shard/polycrystal2d/{{case}}/shard{{shard}}.log",
    threads: 1
    resources:
        mpi="mpirun",
        tasks=lambda w: int(config["producers"]["polycrystal2d"].get("tasks", 2)),
        runtime=720,
        mem_mb=4000,
    shell:
        f"{{resources.mpi}} -n {{resources.tasks}} {PYTHON} {{input.script:q}} --producer polycrystal2d"
        " --case {wildcards.case} --case-config {params.case:q} --shard {wildcards.shard}"
        " --shard-size {params.shard_size} --out {output:q} > {log:q} 2>&1"
