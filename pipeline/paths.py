"""Every result path of the workflow, spelt once.

    results/shards/<producer>/<case>/shard<i>.zarr          one job's samples (dataset.shards)
    results/datasets/<producer>/<case>.zarr                 a case's store with its train/test split
    results/datasets/<producer>/<case>.failures.json        its failed samples
    results/models/<producer>/<case>/<model>/               a trained RNO (<model>: pipeline.studies.ModelKey.name)
    results/models/<producer>/<case>/ae-m<m>/               an autoencoder of the micro-state, latent size m
    results/models/<producer>/<case>/map-ae-m<m>/           the eq. (26) map onto autoencoder m's latent variables
    results/models/<producer>/<case>/micro-<model>/         a decoder from <model>'s internal variables
    results/tables/<name>.csv, results/tables/<name>/...    tables and their per-job parts
    results/tables/rno_errors-<producer>.csv                one producer's error rows (its figures' input)
    results/figures/<name>.{png,pdf,provenance.json}        figures and their provenance sidecars
    results/logs/<rule>/...                                 job logs
    results/benchmarks/<rule>/...                           job costs (Snakemake `benchmark:`: wall s, cpu_time s, RSS)

Arguments are strings, so Snakemake wildcards pass through: ``Paths("results").dataset("{producer}", "{case}")``
is the collect rule's output pattern and ``.dataset("laminate", "MH")`` one of its files.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Paths:
    """The result paths under one results folder (config key ``results``)."""

    results: str

    def __post_init__(self):
        # one spelling of the results folder for every rule and job ("results/" == "./results" == "results")
        object.__setattr__(self, "results", os.path.normpath(str(self.results)))

    def _(self, *parts) -> str:
        return "/".join((self.results, *map(str, parts)))

    # ------------------------------------------------------------------------------------------- data factory
    def shard(self, producer, case, shard) -> str:
        return self._("shards", producer, case, f"shard{shard}.zarr")

    def dataset(self, producer, case) -> str:
        return self._("datasets", producer, f"{case}.zarr")

    def failures(self, producer, case) -> str:
        return self._("datasets", producer, f"{case}.failures.json")

    # -------------------------------------------------------------------------------------------------- models
    def model_dir(self, producer, case, model) -> str:
        return self._("models", producer, case, model)

    def model(self, key, name: str = "model.pt") -> str:
        """A file of the trained RNO ``key`` (pipeline.studies.ModelKey)."""
        return f"{self.model_dir(key.producer, key.case, key.name)}/{name}"

    @staticmethod
    def file(directory, name) -> str:
        """A file of a model directory."""
        return f"{directory}/{name}"

    def autoencoder_dir(self, producer, case, m) -> str:
        return self.model_dir(producer, case, f"ae-m{m}")

    def latent_map_dir(self, producer, case, m) -> str:
        return self.model_dir(producer, case, f"map-ae-m{m}")

    def micro_decoder_dir(self, producer, case, model) -> str:
        return self.model_dir(producer, case, f"micro-{model}")

    # -------------------------------------------------------------------------------------------------- tables
    def table(self, name, producer=None) -> str:
        """results/tables/<name>.csv: rno_errors, rno_internal, ae_errors, failures; with ``producer``, that
        producer's rows only: results/tables/<name>-<producer>.csv (what its figures read)."""
        return self._("tables", f"{name}.csv" if producer is None else f"{name}-{producer}.csv")

    def table_part(self, name, producer, case, part) -> str:
        """One job's rows of table ``name`` (e.g. one model's error rows)."""
        return self._("tables", name, producer, case, f"{part}.csv")

    # ------------------------------------------------------------------------------------------------- figures
    def figure(self, name, ext: str = "png") -> str:
        return self._("figures", f"{name}.{ext}")

    def figure_files(self, name) -> list[str]:
        return [self.figure(name, "png"), self.figure(name, "pdf")]

    def provenance(self, name) -> str:
        """The provenance sidecar of a figure (pipeline.provenance.write_sidecar)."""
        return self.figure(name, "provenance.json")

    # ---------------------------------------------------------------------------------------------------- logs
    def log(self, rule, *parts) -> str:
        """results/logs/<rule>[/<part>...].log"""
        return self._("logs", rule, *parts[:-1], f"{parts[-1]}.log") if parts else self._("logs", f"{rule}.log")

    def benchmark(self, rule, *parts) -> str:
        """results/benchmarks/<rule>/<part>/.../<last>.tsv: Snakemake's measurement of one job (s, cpu_time, max_rss;
        the last attempt only, so a resumed training records its last run)."""
        return self._("benchmarks", rule, *parts[:-1], f"{parts[-1]}.tsv")
