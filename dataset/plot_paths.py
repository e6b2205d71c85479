"""The loading-path figure of docs/loading-paths.md: sampled paths and the knots they pass through."""
from __future__ import annotations

import numpy as np

from .figstyle import figure, save_figure
from .sampler import sample_paths


def loading_paths_figure(rng: np.random.Generator, *, n_paths: int, T: float, M: int, n_steps: int, F_max: float):
    """(a) n_paths scalar strain paths with their knots; (b) one symmetric 2x2 path, its three components."""
    one_d = sample_paths(n_paths, 1, rng, F_max=F_max, T=T, M=M, n_steps=n_steps)
    two_d = sample_paths(1, 2, rng, F_max=F_max, T=T, M=M, n_steps=n_steps)
    fig, (ax_a, ax_b) = figure(1, 2, figsize=(9.0, 3.4), constrained_layout=True)
    colors = [f"C{i}" for i in range(10)]
    for s in range(n_paths):
        c = colors[s % 10]
        ax_a.plot(one_d.time, one_d.values[s, :, 0, 0], color=c, lw=1.2)
        ax_a.plot(one_d.knot_times[s], one_d.knot_values[s, :, 0, 0], "o", color=c, ms=3.5, mfc="white")
    for t in one_d.knot_times[0, 1:-1]:
        ax_a.axvline(t, color=colors[0], lw=0.5, ls=":")
    ax_a.set(xlabel="time t (s)", ylabel=r"strain $\bar\varepsilon$ (-)",
             title="(a) scalar paths, knots (o)")
    for (i, j), c in zip(((0, 0), (0, 1), (1, 1)), colors[3:]):
        ax_b.plot(two_d.time, two_d.values[0, :, i, j], color=c, lw=1.2, label=rf"$\varepsilon_{{{i + 1}{j + 1}}}$")
        ax_b.plot(two_d.knot_times[0], two_d.knot_values[0, :, i, j], "o", color=c, ms=3.5, mfc="white")
    ax_b.set(xlabel="time t (s)", ylabel="strain component (-)",
             title="(b) one 2x2 path, shared knot times")
    ax_b.legend(loc="best", fontsize=8)
    return fig


def loading_paths(*, stem, spec) -> list:
    """The figure table's draw function (pipeline.figures): spec holds the config's ``loading``, the figure's
    ``seed`` and ``n_paths``; writes stem.png and stem.pdf."""
    rng = np.random.default_rng(np.random.SeedSequence(int(spec["seed"]), spawn_key=(1,)))
    loading = spec["loading"]
    fig = loading_paths_figure(rng, n_paths=int(spec["n_paths"]), T=float(loading["T"]), M=int(loading["M"]),
                               n_steps=int(loading["n_steps"]), F_max=float(loading["F_max"]))
    return save_figure(fig, stem)
