"""Speed of the RNO (learning/): seconds per training epoch and material-point updates per second.

    python benchmarks/bench_rno.py [--device auto] [--threads N] [--only epoch|step]

epoch: learning.train.fit on 300 trajectories x 200 steps of the 1D composite (N = 3, solved here at 1000 steps
       and strided to 200), k = 1, default architecture (f, g: 4 x 100, SELU) and batch size; the median of the
       per-epoch wall times after the first (warm-up) epoch.
step:  RNO.step (eager and TorchScript) on a batch of 10^5 material points, k = 5, f and g 5 x 200, 3D (6
       components), float32, no gradients; updates per second = 10^5 / median time of one call, and the fraction
       of the machine's matmul rate (a 2000 x 2000 product, float32, measured in the same run) that the MLPs' FLOPs
       reach.
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


def bench_epoch(device: torch.device, epochs: int = 4, batch_size: int = 30) -> dict:
    """Seconds per epoch of fit (k = 1, 4 x 100, batch 30: the batch of the issue's target) and the bound the
    FLOPs set: forward and backward ~ 3 x the forward FLOPs of f (every point) and g (every update)."""
    case = make_case("composite1d", "bench", n_phases=3, seed=0)
    paths = sample_paths(400, 1, case.rng("paths", 0), F_max=0.01, T=200.0, M=10, n_steps=1000)
    ds = solve(paths.values, paths.time, case)
    ds["split"] = ("sample", np.where(ds["sample"].values < 300, "train", "test").astype(object))
    train = trajectories(ds, "train", 200)
    settings = train_settings(k=1, epochs=epochs, eval_every=0, checkpoint_every=0, batch_size=batch_size,
                              validation_fraction=0.0)
    _, history = fit(train, settings, device=str(device))
    seconds = statistics.median(h["seconds"] for h in history[1:])
    S, N = train.x.shape[0], train.steps
    per_point = mlp_flops([1 + 1, *settings.hidden, 1])  # f and g alike: [x, xi] -> 1
    flops = 3 * (S * (N + 1) + S * N) * per_point
    rate = matmul_rate(device)
    return {"benchmark": "train_epoch", "trajectories": S, "steps": N, "k": 1, "hidden": settings.hidden,
            "batch_size": settings.batch_size, "epochs_timed": len(history) - 1, "seconds_per_epoch": seconds,
            "seconds_all": [h["seconds"] for h in history[1:]], "flops_per_epoch": flops,
            "matmul_flops_per_second": rate, "seconds_at_matmul_rate": flops / rate,
            "fraction_of_matmul_rate": flops / seconds / rate}


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


def mlp_flops(sizes: list[int]) -> int:
    """Multiply-add FLOPs (2 per product) of one point through Linear layers of these sizes."""
    return sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))


def matmul_rate(device: torch.device, n: int = 2000, dtype: torch.dtype = torch.float32) -> float:
    """FLOP/s of an n x n by n x n matrix product: the machine's reference rate."""
    a, b = (torch.randn(n, n, dtype=dtype, device=device) for _ in range(2))
    return 2 * n ** 3 / _time_calls(lambda: a @ b, device, 5)


def bench_step(device: torch.device, points: int = 100_000, repeats: int = 10) -> dict:
    """RNO.step, k = 5, f and g 5 x 200 (paper Section 5.2), 6 components, float32, no gradients."""
    n_comp, k, hidden = 6, 5, [200] * 5
    flops = mlp_flops([n_comp + k, *hidden, n_comp]) + mlp_flops([n_comp + k, *hidden, k])
    rate = matmul_rate(device)
    layer = torch.randn(points, hidden[0], device=device), torch.randn(hidden[0], hidden[0], device=device)
    layer_rate = 2 * points * hidden[0] ** 2 / _time_calls(lambda: layer[0] @ layer[1], device, 5)
    out = {"benchmark": "step", "points": points, "n_comp": n_comp, "k": k, "hidden": hidden, "dtype": "float32",
           "flops_per_update": flops, "matmul_flops_per_second": rate,
           "layer_matmul_flops_per_second": layer_rate, "results": []}
    model = RNO(n_comp, k, "evp", hidden=hidden)
    model.init_weights(torch.Generator().manual_seed(0))
    model = model.to(device).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(model)
    g = torch.Generator().manual_seed(1)
    x = (0.01 * torch.randn(points, n_comp, generator=g)).to(device)
    xi = torch.randn(points, k, generator=g).to(device)
    dt = torch.tensor(1.0, device=device)
    for name, m in (("eager", model), ("torchscript", scripted)):
        with torch.no_grad():
            seconds = _time_calls(lambda: m.step(x, xi, dt), device, repeats)
        out["results"].append({"mode": name, "seconds_per_call": seconds, "updates_per_second": points / seconds,
                               "fraction_of_matmul_rate": points * flops / seconds / rate})
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
