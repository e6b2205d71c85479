"""Snakemake job: solve one shard of a case (thin wrapper around dataset.shards.run_shard)."""
import time

from dataset.config import resolve_case
from dataset.jobs import job_logging
from dataset.shards import run_shard

sm = snakemake  # noqa: F821  (injected by Snakemake)
with job_logging(sm.log[0]) as log:
    case = resolve_case(sm.config, sm.wildcards.producer, sm.wildcards.case)
    shard = int(sm.wildcards.shard)
    start = time.perf_counter()
    run_shard(case, shard, int(sm.params.shard_size), sm.output[0])
    log.info("case %s shard %d: %d samples in %.2f s -> %s", case, shard, sm.params.shard_size,
             time.perf_counter() - start, sm.output[0])
