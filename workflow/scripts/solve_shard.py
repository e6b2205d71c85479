"""Job of rule solve_shard: solve one shard of a case and write it atomically, serially or on MPI ranks.

    [mpirun -n R] python workflow/scripts/solve_shard.py --producer polycrystal2d --case PH \
        --case-config '<JSON of the case's solve config>' --shard 0 --shard-size 10 --out results/shards/.../shard0.zarr \
        [--log LOG] [PETSc options, e.g. -snes_monitor -log_view]

An MPI producer (pipeline.registry: mpi=True) solves on every rank (its grid is distributed) and rank 0 writes;
arguments after the known ones go to petsc4py.init (PETSc options win over the case's petsc_options). An error
on any rank aborts the whole job with a non-zero exit status (MPI_Abort), so Snakemake never sees a half-written
shard (dataset.store.write_atomic).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--producer", required=True)
    parser.add_argument("--case", required=True)
    parser.add_argument("--case-config", required=True, help="JSON of the case's (solve) config")
    parser.add_argument("--shard", type=int, required=True)
    parser.add_argument("--shard-size", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--log", default=None)
    args, petsc_args = parser.parse_known_args(argv)

    from pipeline import registry

    rank, size, comm = 0, 1, None
    if registry.entry(args.producer).mpi:
        import petsc4py

        petsc4py.init([sys.argv[0], *petsc_args])
        from mpi4py import MPI
        from petsc4py import PETSc  # noqa: F401

        comm = MPI.COMM_WORLD
        rank, size = comm.Get_rank(), comm.Get_size()
    elif petsc_args:
        parser.error(f"unrecognized arguments: {' '.join(petsc_args)}")

    from dataset.case import Case
    from dataset.jobs import job_logging
    from dataset.store import write_atomic
    from pipeline.shards import solve_shard

    try:
        with job_logging(args.log if rank == 0 else None, name="rno-factory" if rank == 0 else f"rno-factory.rank{rank}") as log:
            case = Case(args.producer, args.case, json.loads(args.case_config))
            start = time.perf_counter()
            ds = solve_shard(case, args.shard, args.shard_size)
            if rank == 0:
                write_atomic(ds, args.out, shard=True, where=f"case {case}, shard {args.shard}")
                log.info("case %s shard %d: %d samples (%d failed) on %d rank(s) in %.2f s -> %s", case, args.shard,
                         args.shard_size, len(json.loads(ds.attrs["failures"])), size,
                         time.perf_counter() - start, args.out)
            if comm is not None:
                comm.Barrier()
    except Exception as err:  # noqa: BLE001 -- one failing rank must stop all ranks
        print(f"[rank {rank}] {type(err).__name__}: {err}", file=sys.stderr, flush=True)
        if size > 1:
            comm.Abort(1)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
