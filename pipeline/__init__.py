"""The workflow's Python home: everything the Snakemake rules and job scripts need, importing the rest of the
project downwards (dataset/, the producers, learning/), never the other way round.

    pipeline.config     load and validate a config (the schemas in pipeline/schemas are the single source of
                        defaults), resolve cases, make_case for a case outside a config
    pipeline.registry   the producers: module, MPI ranks, job resources, source files (import closure)
    pipeline.paths      every result path (Paths)
    pipeline.studies    the learning section: models (ModelKey), settings, autoencoders, figure specs
    pipeline.figures    the figure table: name -> inputs, draw function, report caption
    pipeline.targets    what the rules ask for
    pipeline.shards     a shard solved by its registered producer
    pipeline.provenance figure provenance sidecars
    pipeline.run        `make run`: Snakemake, recovering a stale lock after a killed run
"""
from .config import ConfigError, load, make_case, resolve_case, validate
from .paths import Paths

__all__ = ["ConfigError", "Paths", "load", "make_case", "resolve_case", "validate"]
