"""Run with 2 MPI ranks: rank 0 writes {size, ranks, hosts, slurm_job_id} as JSON to argv[1]."""
import json
import os
import socket
import sys

from mpi4py import MPI

comm = MPI.COMM_WORLD
info = comm.gather({"rank": comm.rank, "host": socket.gethostname(), "job": os.environ.get("SLURM_JOB_ID")})
if comm.rank == 0:
    with open(sys.argv[1], "w") as f:
        json.dump({"size": comm.size, "ranks": info}, f)
