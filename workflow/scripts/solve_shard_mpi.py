"""MPI entry point of a polycrystal2d shard: every rank solves (the grid is distributed), rank 0 writes.

    mpirun -n R python workflow/scripts/solve_shard_mpi.py --producer polycrystal2d --case PH \
        --case-config '<JSON of the case's solve config>' --shard 0 --shard-size 10 --out results/shards/.../shard0.zarr \
        [--log LOG] [PETSc options, e.g. -snes_monitor -log_view]

Arguments after the known ones go to petsc4py.init (PETSc options win over the case's petsc_options). The shard is
written atomically by dataset.store.write_atomic from rank 0 only; an error on any rank aborts the whole job with a
non-zero exit status (MPI_Abort), so Snakemake never sees a half-written shard.
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
    parser.add_argument("--producer", default="polycrystal2d")
    parser.add_argument("--case", required=True)
    parser.add_argument("--case-config", required=True, help="JSON of the case's (solve) config")
    parser.add_argument("--shard", type=int, required=True)
    parser.add_argument("--shard-size", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--log", default=None)
    args, petsc_args = parser.parse_known_args(argv)

    import petsc4py

    petsc4py.init([sys.argv[0], *petsc_args])
    from mpi4py import MPI
    from petsc4py import PETSc  # noqa: F401

    from dataset import producers
    from dataset.case import Case
    from dataset.jobs import job_logging
    from dataset.shards import solve_shard
    from dataset.store import write_atomic

    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    log_path = args.log if rank == 0 else None
    try:
        with job_logging(log_path, name=f"rno-factory.mpi{rank}") as log:
            case = Case(args.producer, args.case, json.loads(args.case_config))
            start = time.perf_counter()
            ds = solve_shard(case, args.shard, args.shard_size)
            if rank == 0:
                write_atomic(ds, args.out, shard=True, where=f"case {case}, shard {args.shard}")
                log.info("case %s shard %d: %d samples (%d failed) on %d ranks in %.2f s -> %s", case, args.shard,
                         args.shard_size, len(json.loads(ds.attrs["failures"])), size,
                         time.perf_counter() - start, args.out)
            comm.Barrier()
    except Exception as err:  # noqa: BLE001 -- one failing rank must stop all ranks
        print(f"[rank {rank}] {type(err).__name__}: {err}", file=sys.stderr, flush=True)
        if size > 1:
            comm.Abort(1)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
