"""Training recipe: error against CPU time for variations of the training settings (docs/learning.md, "Recipe").

    python benchmarks/recipe_rno.py --case composite1d [--runs base,b30,...] [--threads 1]
    python benchmarks/recipe_rno.py --case taylor_mg --dataset results/reduced/datasets/taylor_mg/MG.zarr

Cases:
  composite1d  the 1D composite of paper Section 3, N = 3 (make_case("composite1d", "bench", n_phases=3)): 400
               paths solved at 1000 steps, strided to 200; 300 train (of which the last validation_fraction is the
               validation part), 100 test; k = 1, f and g 4 x 100.
  taylor_mg    a stored Taylor Mg dataset (paper Section 5.2; the reduced study's 300 train + 100 test paths,
               128 grains), strided to 200 steps; k = 5.
Every run is learning.train.fit with the project's schema defaults (pipeline.studies.train_settings) updated by the
run's overrides (RUNS); the choice between runs is made on the VALIDATION error (a part of the training split);
the test error is recorded, never used to choose. Per evaluated epoch: the process CPU time since the run started
(all threads), train and validation error. Results: benchmarks/results/recipe/<case>/<run>.json (a run whose file
exists is skipped, so the script resumes); benchmarks/plot_recipe.py draws them.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from machine import describe

from dataset.sampler import sample_paths
from dataset.store import open_store
from learning.data import trajectories
from learning.train import evaluate_error, fit
from pipeline.config import make_case
from pipeline.studies import train_settings

RESULTS = Path(__file__).resolve().parent / "results" / "recipe"

COMMON = {"validation_fraction": 0.2, "eval_every": 2, "checkpoint_every": 0}
#: name -> overrides of the schema's defaults; "epochs" sized so that every run costs about the same CPU time
RUNS = {
    "composite1d": {
        "b10": {"batch_size": 10, "lr": 3e-3, "epochs": 100},
        "b30": {"batch_size": 30, "lr": 3e-3, "epochs": 150},
        "b100": {"batch_size": 100, "lr": 3e-3, "epochs": 150},
        "b10-lr1e-2": {"batch_size": 10, "lr": 1e-2, "epochs": 100},
        "b10-lr1e-3": {"batch_size": 10, "lr": 1e-3, "epochs": 100},
        "b30-lr1e-2": {"batch_size": 30, "lr": 1e-2, "epochs": 150},
        "b10-warmup": {"batch_size": 10, "lr": 3e-3, "epochs": 100,
                       "lr_schedule": {"kind": "cosine", "lr_min": 1e-5, "warmup_epochs": 10}},
        "b10-onecycle": {"batch_size": 10, "lr": 3e-3, "epochs": 100, "lr_schedule": {"kind": "onecycle"}},
        "b10-clip": {"batch_size": 10, "lr": 3e-3, "epochs": 100, "clip_grad_norm": 1.0},
        "b10-curriculum": {"batch_size": 10, "lr": 3e-3, "epochs": 120,
                           "curriculum": {"start_steps": 20, "ramp_epochs": 40}},
        "b10-w50": {"batch_size": 10, "lr": 3e-3, "epochs": 200, "hidden": [50, 50, 50, 50]},
        "b10-f64": {"batch_size": 10, "lr": 3e-3, "epochs": 100, "dtype": "float64"},
        "b10-seed1": {"batch_size": 10, "lr": 3e-3, "epochs": 100, "seed": 1},  # the spread between seeds
        "b10-seed2": {"batch_size": 10, "lr": 3e-3, "epochs": 100, "seed": 2},
    },
    "taylor_mg": {
        "b10": {"batch_size": 10, "lr": 3e-3, "epochs": 150},
        "b30": {"batch_size": 30, "lr": 3e-3, "epochs": 300},
        "b10-lr1e-3": {"batch_size": 10, "lr": 1e-3, "epochs": 150},
        "b10-clip": {"batch_size": 10, "lr": 3e-3, "epochs": 150, "clip_grad_norm": 1.0},
        "b10-curriculum": {"batch_size": 10, "lr": 3e-3, "epochs": 170,
                           "curriculum": {"start_steps": 20, "ramp_epochs": 60}},
    },
}
K = {"composite1d": 1, "taylor_mg": 5}


def data(case: str, dataset: str | None):
    """(train, test) trajectories at 200 steps."""
    if case == "composite1d":
        c = make_case("composite1d", "bench", n_phases=3, seed=0)
        paths = sample_paths(400, 1, c.rng("paths", 0), F_max=0.01, T=200.0, M=10, n_steps=1000)
        from fullfield.composite1d import solve

        ds = solve(paths.values, paths.time, c)
        ds["split"] = ("sample", np.where(ds["sample"].values < 300, "train", "test").astype(object))
    else:
        if dataset is None:
            raise SystemExit("--dataset: the taylor_mg case needs a stored dataset (e.g. a reduced study's)")
        ds = open_store(dataset)
    return trajectories(ds, "train", 200), trajectories(ds, "test", 200)


def run(case: str, name: str, train, test) -> dict:
    overrides = {**COMMON, **RUNS[case][name]}
    settings = train_settings(k=K[case], **overrides)
    start = time.process_time()
    cpu: dict[int, float] = {}
    model, history = fit(train, settings, device="cpu",
                         on_epoch_end=lambda epoch, _: cpu.__setitem__(epoch, time.process_time() - start))
    curve = [{"epoch": h["epoch"], "cpu_s": cpu[h["epoch"]], "train_error": h["train_error"],
              "validation_error": h["validation_error"], "lr": h["lr"]}
             for h in history if h.get("validation_error") is not None]
    best = min(curve, key=lambda r: r["validation_error"])
    return {"case": case, "run": name, "k": K[case], "overrides": overrides, "settings": settings.to_dict(),
            "n_train": int(train.x.shape[0]), "n_test": int(test.x.shape[0]), "steps": train.steps,
            "curve": curve, "best_epoch": best["epoch"], "best_validation_error": best["validation_error"],
            "cpu_s": cpu[max(cpu)], "epochs_run": len(history),
            "test_error": float(evaluate_error(model, test).mean()), "machine": describe(torch.device("cpu")),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=sorted(RUNS), required=True)
    parser.add_argument("--runs", default=None, help="comma-separated run names (default: all of the case)")
    parser.add_argument("--dataset", default=None, help="zarr store of the taylor_mg case")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = args.runs.split(",") if args.runs else list(RUNS[args.case])
    unknown = sorted(set(names) - set(RUNS[args.case]))
    if unknown:
        raise SystemExit(f"--runs: unknown runs {unknown} of case {args.case}; known: {sorted(RUNS[args.case])}")
    out = RESULTS / args.case
    out.mkdir(parents=True, exist_ok=True)
    todo = [n for n in names if not (out / f"{n}.json").exists()]
    if not todo:
        return
    train, test = data(args.case, args.dataset)
    for name in todo:
        result = run(args.case, name, train, test)
        tmp = out / f".{name}.json.tmp"
        tmp.write_text(json.dumps(result, indent=1) + "\n")
        tmp.replace(out / f"{name}.json")
        print(f"{args.case}/{name}: best validation {result['best_validation_error']:.4f} at epoch "
              f"{result['best_epoch']}, test {result['test_error']:.4f}, {result['cpu_s']:.0f} CPU s", flush=True)


if __name__ == "__main__":
    main()
