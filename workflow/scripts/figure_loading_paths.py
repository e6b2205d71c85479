"""Snakemake job: the loading-path figure (also: python workflow/scripts/figure_loading_paths.py OUT_STEM)."""
import sys
from pathlib import Path

import numpy as np

from dataset.figstyle import save_figure
from dataset.plot_paths import loading_paths_figure


def main(stem, loading, figure_cfg, seed):
    rng = np.random.default_rng(np.random.SeedSequence(int(figure_cfg.get("seed", seed)), spawn_key=(1,)))
    fig = loading_paths_figure(rng, n_paths=int(figure_cfg.get("n_paths", 4)), T=float(loading["T"]),
                               M=int(loading["M"]), n_steps=int(loading["n_steps"]), F_max=float(loading["F_max"]))
    save_figure(fig, stem)


if "snakemake" in globals():
    from provenance import write_sidecar  # workflow/scripts/provenance.py

    sm = snakemake  # noqa: F821
    main(Path(sm.output[0]).with_suffix(""), sm.params.loading, sm.params.figure, sm.params.seed)
    write_sidecar(sm)
elif __name__ == "__main__":
    import yaml

    cfg = yaml.safe_load(Path(__file__).resolve().parents[2].joinpath("config.yaml").read_text())
    main(sys.argv[1], cfg["loading"], cfg.get("figures", {}).get("loading_paths", {}), cfg["seed"])
