"""Speed of the RNO (learning/): seconds per training epoch and material-point updates per second.

    python benchmarks/bench_rno.py [--device auto] [--threads N] [--only epoch|step]

epoch: learning.train.fit on 300 trajectories x 200 steps of the 1D composite (N = 3, solved here at 1000 steps
       and strided to 200), k = 1, default architecture (f, g: 4 x 100, SELU) and batch size; the median of the
       per-epoch wall times after the first (warm-up) epoch.
step:  RNO.step (eager and TorchScript) on a batch of 10^5 material points, k = 1, no gradients; updates per second
       = 10^5 / median time of one call, for 1D (1 component) and 3D (6 components) inputs.
Results: benchmarks/results/rno_<kind>-<device type>-t<torch threads>.json with the machine's description.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from machine import describe

from dataset.sampler import sample_paths
from fullfield.composite1d import solve
from learning.data import trajectories
from learning.rno import RNO
from learning.train import fit, resolve_device
from pipeline.config import make_case
from pipeline.studies import train_settings

RESULTS = Path(__file__).resolve().parent / "results"


def bench_epoch(device: torch.device, epochs: int = 4) -> dict:
    case = make_case("composite1d", "bench", n_phases=3, seed=0)
    paths = sample_paths(400, 1, case.rng("paths", 0), F_max=0.01, T=200.0, M=10, n_steps=1000)
    ds = solve(paths.values, paths.time, case)
    ds["split"] = ("sample", np.where(ds["sample"].values < 300, "train", "test").astype(object))
    train = trajectories(ds, "train", 200)
    settings = train_settings(k=1, epochs=epochs, eval_every=0, checkpoint_every=0)
    _, history = fit(train, settings, device=str(device))
    seconds = [h["seconds"] for h in history[1:]]
    return {"benchmark": "train_epoch", "trajectories": int(train.x.shape[0]), "steps": train.steps, "k": 1,
            "hidden": settings.hidden, "batch_size": settings.batch_size, "epochs_timed": len(seconds),
            "seconds_per_epoch": statistics.median(seconds), "seconds_all": seconds}


def _time_calls(fn, device: torch.device, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        tick = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - tick)
    return statistics.median(times)


def bench_step(device: torch.device, points: int = 100_000, repeats: int = 20) -> dict:
    out = {"benchmark": "step", "points": points, "k": 1, "hidden": [100, 100, 100, 100], "results": []}
    for n_comp in (1, 6):
        model = RNO(n_comp, 1, "evp")
        model.init_weights(torch.Generator().manual_seed(0))
        model = model.to(device).eval()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            scripted = torch.jit.script(model)
        g = torch.Generator().manual_seed(1)
        x = (0.01 * torch.randn(points, n_comp, generator=g)).to(device)
        xi = torch.randn(points, 1, generator=g).to(device)
        dt = torch.tensor(1.0, device=device)
        for name, m in (("eager", model), ("torchscript", scripted)):
            with torch.no_grad():
                seconds = _time_calls(lambda: m.step(x, xi, dt), device, repeats)
            out["results"].append({"n_comp": n_comp, "mode": name, "seconds_per_call": seconds,
                                   "updates_per_second": points / seconds})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--only", choices=["epoch", "step"], default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    RESULTS.mkdir(parents=True, exist_ok=True)
    for kind, bench in (("epoch", bench_epoch), ("step", bench_step)):
        if args.only not in (None, kind):
            continue
        result = {**bench(device), "machine": describe(device),
                  "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        path = RESULTS / f"rno_{kind}-{device.type}-t{torch.get_num_threads()}.json"
        path.write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps(result, indent=1))
        print(f"-> {path}")


if __name__ == "__main__":
    main()
