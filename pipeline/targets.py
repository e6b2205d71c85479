"""What the rules ask for: the files of every configured case, model, table and figure (paths from
pipeline.paths, contents from pipeline.config and pipeline.studies)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from dataset.case import Case
from dataset.shards import n_shards

from . import figures, registry, studies
from .config import ConfigError, cases, resolve_case
from .paths import Paths

Config = Mapping[str, Any]


def paths(config: Config) -> Paths:
    return Paths(config["results"])


def case(config: Config, wildcards) -> Case:
    """The case named by the wildcards producer and case."""
    try:
        return resolve_case(config, wildcards.producer, wildcards.case)
    except (KeyError, ConfigError):
        raise ValueError(f"no case {wildcards.producer}/{wildcards.case} in the config") from None


def mpi_resources(config: Config, producer: str) -> dict:
    """Snakemake resources of an MPI producer's shard job: the launcher ``mpi`` (mpirun; a cluster profile sets
    srun) and ``tasks``, its ranks (``producers.<name>.tasks``); none for a serial producer."""
    if not registry.entry(producer).mpi:
        return {}
    return {"mpi": "mpirun", "tasks": int(config["producers"].get(producer, {}).get("tasks", 2))}


def shard_size(config: Config, producer: str) -> int:
    return int(config["producers"][producer]["shard_size"])


def shard_files(config: Config, case: Case) -> list[str]:
    """The shards collected into ``case``'s store."""
    p, size = paths(config), shard_size(config, case.producer)
    return [p.shard(case.producer, case.name, i) for i in range(n_shards(case.n_samples, size))]


def datasets(config: Config) -> list[str]:
    p = paths(config)
    return [p.dataset(c.producer, c.name) for c in cases(config)]


def failure_summaries(config: Config) -> list[str]:
    p = paths(config)
    return [p.failures(c.producer, c.name) for c in cases(config)]


def model_key(config: Config, wildcards) -> studies.ModelKey:
    """The model named by the wildcards producer, case, model (ModelKey.name); ValueError if no study trains it."""
    key = studies.parse_model(wildcards.producer, wildcards.case, wildcards.model)
    if key not in studies.models(config):
        raise ValueError(f"no model {key} in learning.studies")
    return key


def transfer_source(config: Config, wildcards) -> dict:
    """{"init": model.pt of the source} for a transfer-learning job, {} otherwise."""
    source = studies.init_from(config, model_key(config, wildcards))
    return {} if source is None else {"init": paths(config).model(source)}


def error_tables(config: Config, producer: str | None = None) -> list[str]:
    """The per-model error tables of every model (of ``producer``'s models only, if given)."""
    p = paths(config)
    return [p.table_part("rno_errors", m.producer, m.case, m.name) for m in studies.models(config)
            if producer is None or m.producer == producer]


def producer_error_tables(config: Config) -> list[str]:
    """results/tables/rno_errors-<producer>.csv of every producer with models: the parts of rno_errors.csv."""
    p = paths(config)
    return [p.table("rno_errors", pr) for pr in sorted({m.producer for m in studies.models(config)})]


def internal_tables(config: Config) -> list[str]:
    p = paths(config)
    return [p.table_part("rno_internal", m.producer, m.case, m.name) for m in studies.internal_models(config)]


def ae_tables(config: Config) -> list[str]:
    p = paths(config)
    return [p.table_part("ae_errors", pr, c, f"ae-m{m}") for pr, c, m in studies.autoencoders(config)]


def tables(config: Config) -> list[str]:
    """Every table the config asks for: failures always, the learning tables when there are models."""
    p = paths(config)
    out = [p.table("failures")]
    if studies.models(config):
        out.append(p.table("rno_errors"))
        if studies.internal_models(config):
            out.append(p.table("rno_internal"))
        if studies.autoencoders(config):
            out.append(p.table("ae_errors"))
        if studies.baselines(config):
            out.append(p.table("baseline_errors"))
    return out


def figure_files(config: Config) -> list[str]:
    """PNG, PDF and provenance sidecar of every figure the config asks for (none of learning without models)."""
    p = paths(config)
    wanted = [f for f in figures.wanted(config) if f.name == "loading_paths" or studies.models(config)]
    return [path for f in wanted for path in (*p.figure_files(f.name), p.provenance(f.name))]


def macroscale_figures(config: Config) -> list[str]:
    """Figures 11 and 12 (workflow/rules/macroscale.smk) when macroscale.enabled."""
    p = paths(config)
    if not config.get("macroscale", {}).get("enabled"):
        return []
    return [path for name in ("fig11", "fig12") for path in (*p.figure_files(name), p.provenance(name))]


def everything(config: Config) -> list[str]:
    return datasets(config) + tables(config) + figure_files(config) + macroscale_figures(config)


def print_summary(config: Config) -> None:
    """Where the results are (printed when a run succeeds)."""
    root = Path(config["results"]).resolve()
    print(f"\nrno-factory results in {root}")
    for title, pattern in (("datasets", "datasets/*/*.zarr"), ("models", "models/*/*/*/"),
                           ("tables", "tables/*.csv"), ("figures", "figures/*.png")):
        found = sorted(root.glob(pattern))
        if found:
            print(f"  {title}:")
            for p in found:
                print(f"    {p.relative_to(root)}")
