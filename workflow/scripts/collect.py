"""Snakemake job: concatenate a case's shards into its dataset store (dataset.store.collect)."""
from dataset.contract import failures
from dataset.jobs import job_logging
from dataset.store import collect, open_store

sm = snakemake  # noqa: F821  (injected by Snakemake)
with job_logging(sm.log[0]) as log:
    out = collect(list(sm.input), sm.output[0], n_train=int(sm.params.n_train), n_test=int(sm.params.n_test))
    ds = open_store(out)
    failed = failures(ds)
    log.info("%s: %d samples (%d train, %d test), %d failed%s", out, ds.sizes["sample"],
             int((ds["split"] == "train").sum()), int((ds["split"] == "test").sum()), len(failed),
             "".join(f"\n  sample {f['sample']}: {f['reason']}" for f in failed))
