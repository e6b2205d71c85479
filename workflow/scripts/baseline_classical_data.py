"""Snakemake job (workflow/rules/baselines.smk): the classical paths (mechanics.classical_paths) of the Taylor Mg
polycrystal of the training case -> the contract store of producer taylor_mg, case "classical" (taylor.classical)."""
from dataset.jobs import job_logging
from dataset.store import write_atomic
from pipeline.config import resolve_case
from taylor.classical import classical_dataset

sm = snakemake  # noqa: F821  (injected by Snakemake)
with job_logging(sm.log[0]) as log:
    case = resolve_case(sm.config, sm.params.producer, sm.params.train_case)
    loading = case.config["loading"]
    dt = float(loading["T"]) / int(loading["n_steps"])  # the training data's stored step
    ds = classical_dataset(case, dt)
    write_atomic(ds, sm.output[0])
    log.info("%s: %s, %d time steps of %g s, failures %s", sm.output[0], list(ds["path_name"].values),
             ds.sizes["time"] - 1, dt, ds.attrs["failures"])
