"""Benchmark of macroscale/ (issue 18, items 2 and 5): the copper Taylor bar's mesh and time-step convergence against
the reference (final length 21.4 mm, mushroom radius 7 mm), and the solver's speed in element-steps per second with
the J2 (Johnson-Cook) law and with an RNO, with the share of the time spent in the material update.

    .venv/bin/python benchmarks/bench_macroscale.py [--only convergence|speed] [--quick]
        [--out benchmarks/results/macroscale.json]

convergence: the quarter bar (macroscale.problems.taylor_bar) run to 80 us on the meshes MESHES at stable-step
             safety 0.9 (mesh study) and on the coarsest mesh at safety 0.9, 0.45 (time-step study).
speed:       at least STEPS (adaptive) steps of the bar at 227 m/s with the bilinear J2 copper, and with an
             untrained RNO (learning.rno, k = 5 as the paper's Mg model, default widths 4 x 100, random LeCun
             weights, float64), made objective
             with macroscale.objective.Corotational, Mg density and Hill moduli (docs/taylor.md) at 1 m/s (so that
             its random stress leaves the mesh intact; the cost of a step does not depend on the speed).
             element-steps/s = elements x steps / wall time of the loop; material share = time in
             Material.update / wall time. One torch thread, CPU.
Saves benchmarks/results/macroscale.json (macroscale_<part>.json with --only) with the machine's description
(benchmarks/machine.py) and prints a table.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.machine import describe  # noqa: E402
from macroscale import problems  # noqa: E402
from macroscale.problems import COPPER, COPPER_REFERENCE  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
#: (n_core, n_radial, n_axial) of the mesh study: core elements R/(2 n_core), axial L/n_axial ~ the same size
MESHES = [(2, 2, 40), (3, 3, 40), (3, 3, 60)]
QUICK_MESHES = [(2, 2, 40)]
SAFETIES = [0.9, 0.45]
STEPS = 200
MG = {"density": 1.74e-9, "mu": 17.30e3, "kappa": 35.23e3}  # t/mm^3, MPa (docs/taylor.md, Hill average)


def taylor_run(mesh: tuple, safety: float = 0.9, bias: float = 1.0) -> dict:
    """One copper bar to 80 us: the measures of problems.taylor_measures, their errors against the reference and
    the wall time."""
    solid = problems.taylor_bar(*mesh, bias=bias)
    res = solid.run((0, 0, -COPPER["velocity"]), COPPER["t_end"], safety=safety, record_every=20)
    out = {"mesh": list(mesh), "bias": bias, "safety": safety, **problems.taylor_measures(solid, res)}
    out["length_error"] = out["length"] / COPPER_REFERENCE["length"] - 1
    out["radius_error"] = out["radius"] / COPPER_REFERENCE["radius"] - 1
    out["wall_seconds"] = res["wall_seconds"]
    out["material_share"] = res["material_seconds"] / res["wall_seconds"]
    out["element_steps_per_second"] = out["elements"] * out["steps"] / res["wall_seconds"]
    return out


def convergence(quick: bool) -> dict:
    meshes = QUICK_MESHES if quick else MESHES
    runs = [taylor_run(m) for m in meshes]
    runs += [taylor_run(meshes[0], s) for s in SAFETIES if s != 0.9]
    return {"reference": COPPER_REFERENCE, "problem": COPPER, "runs": runs}


def rno_material():
    """An untrained RNO (k = 5) as an objective material (imports learning/ here, never in macroscale/)."""
    from learning.material import RNOMaterial
    from learning.rno import RNO
    from macroscale.objective import Corotational

    model = RNO(6, 5, "evp")
    model.init_weights(torch.Generator().manual_seed(0))
    return Corotational(RNOMaterial(model)), model


def speed_run(label: str, mesh: tuple, material=None, density=COPPER["density"], moduli=None,
              velocity=COPPER["velocity"], steps: int = STEPS) -> dict:
    solid = problems.taylor_bar(*mesh, material, density=density, moduli=moduli)
    dt = solid.stable_time_step()  # adaptive steps (the bar's face elements flatten): at least ``steps`` of them
    res = solid.run((0, 0, -velocity), (steps - 0.5) * dt, record_every=steps)
    n = res["n_steps"]
    return {"material": label, "mesh": list(mesh), "elements": solid.mesh.n_elements, "steps": n,
            "wall_seconds": res["wall_seconds"], "material_seconds": res["material_seconds"],
            "element_steps_per_second": solid.mesh.n_elements * n / res["wall_seconds"],
            "material_share": res["material_seconds"] / res["wall_seconds"]}


def speed(quick: bool) -> dict:
    meshes = [(2, 2, 40)] if quick else [(2, 2, 40), (3, 3, 60), (4, 4, 80)]
    rno, model = rno_material()
    runs = []
    for mesh in meshes:
        runs.append(speed_run("J2 (JohnsonCook, bilinear copper)", mesh))
        runs.append(speed_run("RNO k=5 (untrained, Corotational)", mesh, rno, MG["density"],
                              (MG["kappa"], MG["mu"]), velocity=1e3))
    return {"steps": STEPS, "rno": {"k": model.k, "hidden": model.hidden, "variant": model.variant}, "runs": runs}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["convergence", "speed"])
    parser.add_argument("--quick", action="store_true", help="coarsest mesh only (a smoke run)")
    parser.add_argument("--out", type=Path, default=RESULTS / "macroscale.json",
                        help="with --only PART: macroscale_PART.json beside it")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    tic = time.time()
    out = {"machine": describe(torch.device("cpu"))}
    if args.only in (None, "convergence"):
        out["convergence"] = convergence(args.quick)
        print(f"{'mesh':>10} {'bias':>4} {'safety':>6} {'elements':>8} {'steps':>6} {'L mm':>7} {'err':>6} "
              f"{'R mm':>6} {'err':>6} {'eps_p':>5} {'E err':>8} {'hg/int':>6} {'s':>6}")
        for r in out["convergence"]["runs"]:
            print(f"{str(tuple(r['mesh'])):>10} {r['bias']:4.1f} {r['safety']:6.2f} {r['elements']:8d} "
                  f"{r['steps']:6d} {r['length']:7.3f} {100 * r['length_error']:5.1f}% {r['radius']:6.3f} "
                  f"{100 * r['radius_error']:5.1f}% {r['eps_p_max']:5.2f} {r['energy_error']:8.1e} "
                  f"{r['hourglass_over_internal']:6.3f} {r['wall_seconds']:6.1f}")
    if args.only in (None, "speed"):
        out["speed"] = speed(args.quick)
        print(f"{'material':>36} {'elements':>8} {'steps':>5} {'el-steps/s':>11} {'material share':>14}")
        for r in out["speed"]["runs"]:
            print(f"{r['material']:>36} {r['elements']:8d} {r['steps']:5d} {r['element_steps_per_second']:11.0f} "
                  f"{100 * r['material_share']:13.0f}%")
    out["seconds"] = time.time() - tic
    path = args.out if args.only is None else args.out.with_name(f"{args.out.stem}_{args.only}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(f"saved {path}")
    return out


if __name__ == "__main__":
    main()
