# Shared set-up of every rule file: the validated config (schema defaults filled in), the result paths, the cases.
# The Python home of all of it is pipeline/ (config, registry, paths, studies, figures).
import sys
from pathlib import Path

from dataset.case import canonical_json
from dataset.shards import n_shards
from pipeline import config as pconfig
from pipeline import registry, studies, targets
from pipeline.paths import Paths

try:
    pconfig.validate(config)
except pconfig.ConfigError as err:
    sys.exit(f"rno-factory: {err}")

P = Paths(config["results"])
config["results"] = P.results
RESULTS = P.results
CASES = {(c.producer, c.name): c for c in pconfig.cases(config)}
ENV = "../../envs/rno-factory.yml"
# interpreter for shell rules that run Python (e.g. under mpirun): the job's conda env's with --sdm conda,
# else Snakemake's own
PYTHON = "python" if getattr(getattr(workflow, "deployment_settings", None), "deployment_method", None) else sys.executable


wildcard_constraints:
    producer=r"[A-Za-z0-9_]+",
    case=r"[A-Za-z0-9_-]+",
    shard=r"\d+",


def case_of(wildcards):
    try:
        return CASES[(wildcards.producer, wildcards.case)]
    except KeyError:
        raise ValueError(f"no case {wildcards.producer}/{wildcards.case} in the config") from None


def print_summary():
    root = Path(RESULTS).resolve()
    print(f"\nrno-factory results in {root}")
    for title, pattern in (("datasets", "datasets/*/*.zarr"), ("models", "models/*/*/*/"),
                           ("tables", "tables/*.csv"), ("figures", "figures/*.png")):
        paths = sorted(root.glob(pattern))
        if paths:
            print(f"  {title}:")
            for p in paths:
                print(f"    {p.relative_to(root)}")
