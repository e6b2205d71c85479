# Shared helpers: config validation and resolution, result paths, wildcard constraints.
import os
import sys
from pathlib import Path

from dataset import config as dsconfig
from dataset.case import canonical_json
from dataset.shards import n_shards
from dataset.store import dataset_path, shard_path

try:
    dsconfig.validate_config(config)
except dsconfig.ConfigError as err:
    sys.exit(f"rno-factory: {err}")

# one spelling of the results folder for every rule, input function and job ("results/" == "./results" == "results")
config["results"] = os.path.normpath(config["results"])
RESULTS = config["results"]
CASES = {(c.producer, c.name): c for c in dsconfig.cases(config)}


wildcard_constraints:
    producer=r"[A-Za-z0-9_]+",
    case=r"[A-Za-z0-9_-]+",
    shard=r"\d+",


def case_of(wildcards):
    try:
        return CASES[(wildcards.producer, wildcards.case)]
    except KeyError:
        raise ValueError(f"no case {wildcards.producer}/{wildcards.case} in the config") from None


def shard_size(producer):
    return int(config["producers"][producer]["shard_size"])


def shard_files(wildcards):
    case = case_of(wildcards)
    size = shard_size(case.producer)
    return [str(shard_path(RESULTS, case.producer, case.name, i)) for i in range(n_shards(case.n_samples, size))]


def dataset_file(producer, case):
    return str(dataset_path(RESULTS, producer, case))


def all_datasets():
    return [dataset_file(p, c) for (p, c) in CASES]


def figure_files(name):
    return [f"{RESULTS}/figures/{name}.png", f"{RESULTS}/figures/{name}.pdf"]


def provenance_file(name):
    """The provenance sidecar of a figure or table (workflow/scripts/provenance.py writes it)."""
    return f"{RESULTS}/figures/{name}.provenance.json"


def producer_source(wildcards):
    """The producer's source files: editing the physics reruns its shards (mtime trigger)."""
    from dataset.producers import PRODUCERS

    return package_sources(PRODUCERS[wildcards.producer])


def package_sources(*modules):
    """The .py files of the named modules or packages: editing them reruns the jobs that list them as input."""
    import importlib.util

    files = []
    for name in modules:
        spec = importlib.util.find_spec(name)
        roots = spec.submodule_search_locations
        files += sorted(str(p) for r in roots for p in Path(r).glob("*.py")) if roots else [spec.origin]
    return files


# interpreter for shell rules that run Python (e.g. under mpirun): the job's conda env's with --sdm conda,
# else Snakemake's own
PYTHON = "python" if getattr(getattr(workflow, "deployment_settings", None), "deployment_method", None) else sys.executable


def print_summary():
    root = Path(RESULTS).resolve()
    stores = sorted(root.glob("datasets/*/*.zarr"))
    figures = sorted(root.glob("figures/*.png"))
    tables = sorted(root.glob("tables/*.csv"))
    print(f"\nrno-factory results in {root}")
    for title, paths in (("datasets", stores), ("tables", tables), ("figures", figures)):
        if paths:
            print(f"  {title}:")
            for p in paths:
                print(f"    {p.relative_to(root)}")
