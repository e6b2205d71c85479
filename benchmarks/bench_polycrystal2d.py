"""Benchmark of the full-field polycrystal solver (issue 4, item 8).

For each grid N and rank count R it launches ``mpirun -n R`` on this file in --worker mode, which solves
``--steps`` steps of dt = 0.2 s (the paper's 1000 steps on 200 s) of a steady ramp F_bar = I + t D at the paper's
typical rate (|D| ~ 1e-3/s: a sampled path moves F by ~0.01 sqrt(t/s)) for case PH (Table 2) on an N x N Voronoi
cell with 32 grains. The first ~15 steps are elastic (homogeneous: no Newton iteration), the rest plastic; per-step
numbers are reported over the plastic steps (SNES iterating) and over all steps. It reports

  wall seconds per time step, and per step per 10^4 pixels; SNES (Newton) and KSP iterations per step;
  the share of time spent in the crystal-plasticity update and tangent (mechanics/crystal.py);
  the speed-up from 1 to 2 ranks;

plus the machine conditions (cores, load average before and after, other busy processes) since the cores may be
shared. Results: benchmarks/results/polycrystal2d.json. The paper-scale cost estimate extrapolates the measured
seconds per step to 1000 steps x 500 trajectories x 6 cases.

    .venv/bin/python benchmarks/bench_polycrystal2d.py [--grids 16 32] [--ranks 1 2] [--steps 20]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path
from pipeline.config import make_case

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def worker(args):
    import petsc4py

    petsc4py.init([sys.argv[0]])
    import numpy as np
    from petsc4py import PETSc

    warnings.filterwarnings("ignore")
    from fullfield.polycrystal2d import material, microstructure, producer
    from fullfield.polycrystal2d.solver import CellSolver

    case = make_case("polycrystal2d", "PH", seed=2023, grid=args.grid, n_grains=32, petsc_options=args.petsc_options)
    cfg = producer.config_of(case)
    n = args.steps + 1
    t = np.arange(n) * 0.2
    D = np.array([[1.5e-3, 6e-4], [6e-4, -1.0e-3]])
    F = np.eye(2) + t[:, None, None] * D
    micro = microstructure.for_case(case)
    timer = {"material": 0.0}
    base = material.factory(cfg, micro)

    def timed_factory(pi, pj):
        pts = base(pi, pj)
        for name in ("evaluate", "tangent"):
            fn = getattr(pts, name)

            def wrapped(*a, _fn=fn):
                t0 = time.perf_counter()
                try:
                    return _fn(*a)
                finally:
                    timer["material"] += time.perf_counter() - t0
            setattr(pts, name, wrapped)
        return pts

    solver = CellSolver(args.grid, timed_factory, scale=cfg["mu"], petsc_options=cfg["petsc_options"])
    start = time.perf_counter()
    res = solver.solve_path(F, t)
    wall = time.perf_counter() - start
    info = solver.describe()
    solver.destroy()
    comm = PETSc.COMM_WORLD.tompi4py()
    material_time = comm.allreduce(timer["material"]) / comm.Get_size()
    if comm.Get_rank() == 0:
        steps = args.steps
        plastic = np.flatnonzero(res.snes_its > 0)
        pw = float(res.step_wall[plastic].mean()) if plastic.size else float("nan")
        out = {"plastic_steps": int(plastic.size), "wall_per_plastic_step_s": pw,
               "wall_per_plastic_step_per_1e4_pixels_s": pw / (args.grid**2 / 1e4),
               "snes_its_per_plastic_step": float(res.snes_its[plastic].mean()) if plastic.size else 0.0,
               "ksp_its_per_plastic_step": float(res.ksp_its[plastic].mean()) if plastic.size else 0.0,"grid": args.grid, "pixels": args.grid**2, "ranks": comm.Get_size(), "steps": steps,
               "dt_s": float(t[1] - t[0]), "wall_s": wall, "wall_per_step_s": wall / steps,
               "wall_per_step_per_1e4_pixels_s": wall / steps / (args.grid**2 / 1e4),
               "snes_its_per_step": float(res.snes_its[1:].mean()), "ksp_its_per_step": float(res.ksp_its[1:].mean()),
               "ksp_its_per_newton": float(res.ksp_its[1:].sum() / max(1, res.snes_its[1:].sum())),
               "substeps_max": int(res.substeps.max()), "material_share": material_time / wall,
               "solver": info, "final_stress_MPa": (res.P_bar[-1]).tolist()}
        print("RESULT " + json.dumps(out), flush=True)


def conditions():
    load = os.getloadavg()
    busy = subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu"], capture_output=True, text=True).stdout
    top = [line.strip() for line in busy.splitlines()[1:8]]
    return {"loadavg_1_5_15": load, "cores": os.cpu_count(), "top_processes": top}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--grid", type=int, default=16)
    parser.add_argument("--grids", type=int, nargs="+", default=[16, 32])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--petsc-options", default="")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "polycrystal2d.json"))
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    env = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1", "PYTHONWARNINGS": "ignore"}
    runs = []
    before = conditions()
    for grid in args.grids:
        for ranks in args.ranks:
            cmd = ["mpirun", "-n", str(ranks), sys.executable, __file__, "--worker", "--grid", str(grid),
                   "--steps", str(args.steps), "--petsc-options", args.petsc_options]
            t0 = time.perf_counter()
            run = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
            line = [x for x in run.stdout.splitlines() if x.startswith("RESULT ")]
            if run.returncode or not line:
                raise SystemExit(f"benchmark run failed: {' '.join(cmd)}\n{run.stderr[-3000:]}")
            res = json.loads(line[0][7:])
            res["launch_wall_s"] = time.perf_counter() - t0
            res["loadavg_after"] = os.getloadavg()
            runs.append(res)
            print(json.dumps({k: res[k] for k in ("grid", "ranks", "plastic_steps", "wall_per_plastic_step_s",
                                                  "wall_per_plastic_step_per_1e4_pixels_s", "snes_its_per_plastic_step",
                                                  "ksp_its_per_plastic_step", "material_share")}),
                  flush=True)
    speedup = {}
    for grid in args.grids:
        by = {r["ranks"]: r["wall_s"] for r in runs if r["grid"] == grid}
        if 1 in by and 2 in by:
            speedup[str(grid)] = by[1] / by[2]
    # paper scale: 6 cases x 500 trajectories x 1000 steps, shards of one 2-rank job at a time (or 1-rank jobs x 2)
    est = {}
    for r in runs:
        per_traj = r["wall_per_plastic_step_s"] * 1000  # a sampled path is plastic most of the time
        est[f"grid{r['grid']}_ranks{r['ranks']}"] = {
            "s_per_trajectory": per_traj, "core_hours_total": per_traj * 3000 * r["ranks"] / 3600,
            "wall_hours_on_2_cores": per_traj * 3000 / 3600 / (2 / r["ranks"])}
    result = {"benchmark": "polycrystal2d", "case": "PH (Table 2), 32 grains, ramp at the paper's rate, dt = 0.2 s",
              "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": platform.node(),
              "python": platform.python_version(), "conditions_before": before, "conditions_after": conditions(),
              "runs": runs, "speedup_1_to_2_ranks": speedup, "paper_scale_estimate": est,
              "note": "a short ramp (elastic then plastic steps); per-step costs over the plastic steps; the cores "
                      "are shared with other jobs, see the load averages"}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps({"speedup_1_to_2_ranks": speedup, "paper_scale_estimate": est}, indent=2))


if __name__ == "__main__":
    main()
