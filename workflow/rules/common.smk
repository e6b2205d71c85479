# Shared set-up of every rule file: the validated config (schema defaults filled in), the result paths, the cases.
# The Python home of all of it is pipeline/ (config, registry, paths, studies, figures).
import sys

from dataset.case import canonical_json
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
ENV = "../../envs/rno-factory.yml"
# interpreter for shell rules that run Python (e.g. under mpirun): the job's conda env's with --sdm conda,
# else Snakemake's own
PYTHON = "python" if getattr(getattr(workflow, "deployment_settings", None), "deployment_method", None) else sys.executable


wildcard_constraints:
    producer=r"[A-Za-z0-9_]+",
    case=r"[A-Za-z0-9_-]+",
    shard=r"\d+",
