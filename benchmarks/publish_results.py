"""Copy a study's tables and figures into docs/results/ with what they cost (docs/results.md).

    python benchmarks/publish_results.py --config benchmarks/configs/paper-local.yaml [--out docs/results]

Writes, from the study's results folder (config key ``results``), whatever exists of:
  <out>/rno_errors.csv, rno_internal.csv, ae_errors.csv      the study's tables (results/tables/), and the
  <out>/rno_errors-<producer>.csv                           per-producer error tables (a section run alone)
  <out>/figures/<name>.{png,pdf,provenance.json}            its figures (results/figures/)
  <out>/cost.csv        one row per job: stage (solve, train, evaluate, ...), producer, case, part, wall_s,
                        cpu_s and source: Snakemake's `benchmark:` file (results/benchmarks/, the last attempt of
                        the job), or for a model trained before those existed the sum of its history's epoch
                        seconds (wall time of the one-thread training loop; source "history")
  <out>/cost_summary.csv   CPU hours per producer and stage
  <out>/rno_errors.md   test error (eq. 16, %) at the training resolution against k, one row per producer, case,
                        variant, target and transfer source (whole training split), for docs/results.md
  <out>/k_choice.csv, k_choice.md   the k chosen from every k-sweep's validation errors beside the paper's
                        (learning.choose_k, the rule of docs/cli.md; never the test errors)
Re-running replaces the files; nothing else in <out> is touched.
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pandas as pd
import yaml

TABLES = ("rno_errors", "rno_internal", "ae_errors")  # and rno_errors-<producer>.csv (a section run alone)
FIGURE_SUFFIXES = (".png", ".pdf", ".provenance.json")


def benchmark_rows(results: Path) -> list[dict]:
    """One row per Snakemake benchmark file results/benchmarks/<stage>/<producer>/<case>/<part>.tsv."""
    rows = []
    for tsv in sorted((results / "benchmarks").glob("*/*/*/*.tsv")):
        stage, producer, case = tsv.parts[-4:-1]
        b = pd.read_csv(tsv, sep="\t")
        rows.append({"stage": stage, "producer": producer, "case": case, "part": tsv.stem,
                     "wall_s": float(b["s"].iloc[-1]), "cpu_s": float(b["cpu_time"].iloc[-1]), "source": "benchmark"})
    return rows


def history_rows(results: Path, measured: set[tuple[str, str, str]]) -> list[dict]:
    """Training cost of the models without a benchmark file: the sum of their epochs' seconds."""
    rows = []
    for history in sorted((results / "models").glob("*/*/*/history.json")):
        producer, case, model = history.parts[-4:-1]
        if ("train", producer, case, model) in measured or not (history.parent / "model.pt").exists():
            continue
        seconds = sum(float(h.get("seconds", 0.0)) for h in json.loads(history.read_text()))
        rows.append({"stage": "train", "producer": producer, "case": case, "part": model, "wall_s": seconds,
                     "cpu_s": seconds, "source": "history"})
    return rows


def cost(results: Path) -> pd.DataFrame:
    rows = benchmark_rows(results)
    measured = {(r["stage"], r["producer"], r["case"], r["part"]) for r in rows}
    return pd.DataFrame(rows + history_rows(results, measured),
                        columns=["stage", "producer", "case", "part", "wall_s", "cpu_s", "source"])


def error_markdown(errors: pd.DataFrame) -> str:
    """Markdown table of the mean test error (%) at the training resolution against k (whole training split)."""
    rows = errors[(errors["test_steps"] == errors["train_steps"]) & (errors["train_size"] == 0)].copy()
    rows["init_from"] = rows["init_from"].fillna("")
    rows["model"] = rows["case"] + rows["init_from"].map(lambda s: f" <- {s}" if s else "")
    table = rows.pivot_table(index=["producer", "model", "variant", "target"], columns="k", values="error")
    ks = list(table.columns)
    lines = ["| producer | case | variant | target | " + " | ".join(f"k = {k}" for k in ks) + " |",
             "|---|---|---|---|" + "---|" * len(ks)]
    for (producer, model, variant, target), errs in table.iterrows():
        cells = ["-" if pd.isna(e) else f"{100 * e:.2f}" for e in errs]
        lines.append(f"| {producer} | {model} | {variant} | {target} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def k_choice_markdown(table: pd.DataFrame) -> str:
    """Markdown of learning.choose_k.k_table: chosen k beside the paper's, with the validation errors (%)."""
    lines = ["| producer | case | variant | target | transfer from | k | validation error (%) per k | chosen k | "
             "paper's k |", "|---|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        errors = " / ".join(f"{100 * float(e):.2f}" for e in r.validation_errors.split())
        chosen = f"{r.chosen_k}" + (" (largest of the sweep: still falling)" if r.at_end else "")
        paper = "-" if pd.isna(r.paper_k) else f"{int(r.paper_k)}"
        lines.append(f"| {r.producer} | {r.case} | {r.variant} | {r.target} | {r.init_from or '-'} | "
                     f"{r.k_values.replace(' ', ', ')} | {errors} | {chosen} | {paper} |")
    return "\n".join(lines) + "\n"


def publish(results: Path, out: Path) -> list[Path]:
    written = []
    out.mkdir(parents=True, exist_ok=True)
    tables = [results / "tables" / f"{name}.csv" for name in TABLES]
    for src in tables + sorted((results / "tables").glob("rno_errors-*.csv")):
        if src.exists():
            written.append(Path(shutil.copy2(src, out / src.name)))
    figures = out / "figures"
    for src in sorted((results / "figures").glob("*")):
        if src.name.endswith(FIGURE_SUFFIXES):
            figures.mkdir(exist_ok=True)
            written.append(Path(shutil.copy2(src, figures / src.name)))
    parts = sorted((results / "tables" / "rno_errors").glob("*/*/*.csv"))
    if parts:
        from learning.evaluate import read_table

        (out / "rno_errors.md").write_text(error_markdown(pd.concat([read_table(p) for p in parts])))
        written.append(out / "rno_errors.md")
    from learning.choose_k import k_table

    choices = k_table(results)
    if not choices.empty:
        choices.to_csv(out / "k_choice.csv", index=False)
        (out / "k_choice.md").write_text(k_choice_markdown(choices))
        written += [out / "k_choice.csv", out / "k_choice.md"]
    jobs = cost(results)
    jobs.to_csv(out / "cost.csv", index=False, float_format="%.1f")
    summary = (jobs.groupby(["producer", "stage"], as_index=False)
               .agg(jobs=("cpu_s", "size"), cpu_hours=("cpu_s", "sum"), wall_hours=("wall_s", "sum")))
    summary[["cpu_hours", "wall_hours"]] /= 3600.0
    summary.to_csv(out / "cost_summary.csv", index=False, float_format="%.3f")
    return written + [out / "cost.csv", out / "cost_summary.csv"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="the study's config (its key `results` is read)")
    parser.add_argument("--out", default="docs/results")
    args = parser.parse_args()
    results = Path(yaml.safe_load(Path(args.config).read_text())["results"])
    if not results.is_dir():
        raise SystemExit(f"--config {args.config}: results folder {results} does not exist (run the study first)")
    for path in publish(results, Path(args.out)):
        print(path)


if __name__ == "__main__":
    main()
