"""Benchmark of the Taylor magnesium producer (taylor.magnesium): trajectories (128 grains, 1000 steps) per CPU
second and core, grain-steps per second, Newton iterations and residual evaluations per grain-step, and how the cost
grows with grains and samples. Runs the producer's whole paths by default (``--steps 1000``: the cost per step
changes along a path as systems harden and twins saturate); shorter runs are scaled to 1000 steps. Saves JSON with
the machine description and load (CPU and wall time).

    .venv/bin/python benchmarks/bench_taylor.py [--steps 1000] [--out benchmarks/results/taylor.json]
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from benchmarks.machine import describe
from dataset.sampler import sample_paths
from mechanics import crystal, slip
from pipeline.config import make_case
from pipeline.registry import entry
from taylor import magnesium as mg


def run(n_samples: int, n_grains: int, n_steps: int) -> dict:
    case = make_case("taylor_mg", seed=0, n_grains=n_grains)
    load = entry("taylor_mg").loading  # the paper's loading, volumetric part scaled (docs/taylor.md)
    p = sample_paths(n_samples, 3, np.random.default_rng(1), F_max=load["F_max"], T=load["T"], M=load["M"],
                     n_steps=load["n_steps"], identity=True, volumetric=load["volumetric"])
    F, t = p.values[:, : n_steps + 1], p.time[: n_steps + 1]  # the paper's dt = 0.2 s
    params = mg.material(case)
    _, Q = mg.texture(case)
    b, n, _, _ = slip.hcp_systems()
    schmid = slip.schmid_tensors(b, n, Q)
    mg.taylor_paths(F[:1, :2], t[:2], schmid, params)  # numba compilation (cached on disk after the first run)
    work0, points0 = crystal.SOLVER_WORK[0].copy(), crystal.SOLVER_WORK[1]
    c0, w0 = time.process_time(), time.perf_counter()
    with threadpool_limits(limits=1):  # as taylor.magnesium.solve
        *_, failed = mg.taylor_paths(F, t, schmid, params, float(case.config["tol"]))
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    evals, iters = (crystal.SOLVER_WORK[0] - work0) / (crystal.SOLVER_WORK[1] - points0)
    scale = 1000.0 / n_steps / n_samples
    return {"samples": n_samples, "grains": n_grains, "steps_run": n_steps, "cpu_s": cpu, "wall_s": wall,
            "cpu_s_per_trajectory_1000_steps": cpu * scale, "wall_s_per_trajectory_1000_steps": wall * scale,
            "trajectories_per_cpu_second": 1.0 / (cpu * scale), "failed_samples": int((failed >= 0).sum()),
            "us_per_grain_step": cpu / (n_samples * n_grains * n_steps) * 1e6,
            "grain_steps_per_cpu_second": n_samples * n_grains * n_steps / cpu,
            "residual_evaluations_per_grain_step": float(evals), "newton_iterations_per_grain_step": float(iters),
            "load_average_1min": os.getloadavg()[0]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--out", default="benchmarks/results/taylor.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    info = describe(torch.device("cpu"))
    info["numpy"] = np.__version__
    runs = []
    for S, G in [(8, 128), (2, 128), (32, 32), (128, 8)]:
        r = run(S, G, args.steps)
        print(json.dumps(r))
        runs.append(r)
    ref = runs[0]
    summary = {"trajectories_per_second_1_core_cpu": ref["trajectories_per_cpu_second"],
               "target_trajectories_per_second_1_core": 27400 / 3600 / 2,
               "grain_steps_per_cpu_second": ref["grain_steps_per_cpu_second"],
               "newton_iterations_per_grain_step": ref["newton_iterations_per_grain_step"],
               "paper_scale_27400_hours_2_cores_estimate": 27400 / (2 * ref["trajectories_per_cpu_second"]) / 3600}
    print(json.dumps(summary))
    with open(args.out, "w") as f:
        json.dump({"machine": info, "runs": runs, "summary": summary,
                   "note": "128 grains x 1000 steps at dt = 0.2 s, the producer's sampler paths (taylor.magnesium."
                           "registry loading) and parameters; Newton solve compiled with numba (mechanics/crystal_kernel); cost "
                           "extrapolated linearly from steps_run steps; one process (shards run in parallel "
                           "scale to the cores)."}, f, indent=1)


if __name__ == "__main__":
    main()
