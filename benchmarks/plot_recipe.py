"""Figure and table of the training-recipe measurement (benchmarks/recipe_rno.py): validation error (eq. 16, a part
of the training split) against process CPU time, one curve per run, one panel per case.

    python benchmarks/plot_recipe.py [--out docs/figures/training_recipe]

Writes <out>.png, <out>.pdf and prints a Markdown table (run, epochs run, CPU s, best validation error and its
epoch, test error of the model returned).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib.pyplot as plt

from dataset.figstyle import figure, save_figure

RESULTS = Path(__file__).resolve().parent / "results" / "recipe"
TITLES = {"composite1d": "1D composite, N = 3, k = 1", "taylor_mg": "Taylor Mg (128 grains), k = 5"}


def load(case: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((RESULTS / case).glob("*.json"))]


def table(runs: list[dict]) -> str:
    rows = ["| run | epochs | CPU s | best validation error (epoch) | test error |", "|---|---|---|---|---|"]
    for r in sorted(runs, key=lambda r: r["best_validation_error"]):
        rows.append(f"| {r['run']} | {r['epochs_run']} | {r['cpu_s']:.0f} | {100 * r['best_validation_error']:.2f} % "
                    f"({r['best_epoch']}) | {100 * r['test_error']:.2f} % |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "figures" /
                                             "training_recipe"))
    args = parser.parse_args()
    cases = [c for c in TITLES if (RESULTS / c).is_dir() and load(c)]
    if not cases:
        raise SystemExit(f"no results under {RESULTS}: run benchmarks/recipe_rno.py first")
    fig, axes = figure(1, len(cases), figsize=(5.2 * len(cases), 4.0), squeeze=False)
    names = sorted({r["run"] for case in cases for r in load(case)})  # one colour and style per run name
    style = {n: (plt.cm.tab10(i % 10), "-" if i < 10 else "--") for i, n in enumerate(names)}
    for ax, case in zip(axes[0], cases):
        runs = sorted(load(case), key=lambda r: r["run"])
        for r in runs:
            cpu = [p["cpu_s"] for p in r["curve"]]
            err = [100 * p["validation_error"] for p in r["curve"]]
            color, ls = style[r["run"]]
            ax.plot(cpu, err, lw=1.1, color=color, ls=ls, label=r["run"])
        ax.set_yscale("log")
        ax.set_xlabel("process CPU time (s)")
        ax.set_ylabel("validation error, eq. (16) (%)")
        ax.set_title(TITLES[case])
        ax.grid(True, which="both", lw=0.3, alpha=0.5)
        ax.legend(fontsize=7, ncol=2)
        print(f"\n{TITLES[case]}\n\n{table(runs)}")
    fig.tight_layout()
    print("->", ", ".join(map(str, save_figure(fig, args.out))))


if __name__ == "__main__":
    main()
