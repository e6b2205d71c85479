"""Paper Section 4.1's "three internal variables suffice" argument on the elasto-viscoplastic laminate: when does
it hold? (docs/laminate-learning.md, "Section 4's elastic-plastic argument on a viscoplastic laminate")

    python benchmarks/laminate_argument.py [--settings m0.01-T200,M3-T200,...] [--threads 1]

Per setting (SETTINGS: a material, sigma0 in MPa and m per layer [+, -], and the path duration T in s):
  * data: N_TRAIN + N_TEST paths from the producer's public solve (fullfield.laminate.solve) on the paper's grid
    (1000 steps, substeps 4 as the paper config). Every setting uses the same case name and seed, so the same
    random draws: the strain paths of two settings differ only by the time scale T (F_max = F_MAX sqrt(200 s / T)
    keeps the strain amplitude F_max sqrt(T) fixed, docs/loading-paths.md);
  * measures on the test paths at the stored resolution (learning.laminate_argument): the layer equality of the
    plastic strain components (Fig. 4(c)), the hard-layer shear ratio, the elastic-to-plastic strain ratio that
    bounds the interface equality, and the flow statistics (rate term (qdot/q0_dot)^m, sbar/sigma0) behind it;
  * autoencoders (learning.autoencoder, one hidden layer of 50 as the paper; the schema's NetSettings with
    AE_EPOCHS epochs) for latent size 1..6 on the training points at TRAIN_STEPS steps, the eq. (25) error on the
    train and test points, and the latent size by learning.laminate_argument.latent_dimension.
Results: benchmarks/results/laminate_argument/<setting>.json, written atomically; a setting whose file exists is
skipped, so the script resumes. benchmarks/plot_laminate_argument.py draws them.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from machine import describe

from dataset.sampler import sample_paths
from fullfield.laminate import layer_fields, material, solve
from learning import laminate_argument as la
from learning.autoencoder import fit_autoencoder, micro_data, reconstruct, reconstruction_error
from pipeline.config import make_case
from pipeline.studies import net_settings

RESULTS = Path(__file__).resolve().parent / "results" / "laminate_argument"

SEED = 2023
N_TRAIN, N_TEST = 100, 50
N_STEPS, TRAIN_STEPS, SUBSTEPS = 1000, 200, 4
F_MAX = 0.007379  # 1/sqrt(s) at T = 200 s (the laminate default, 0.33 / sqrt(M T))
T_PAPER = 200.0  # s
LATENT = (1, 2, 3, 4, 5, 6)
AE_EPOCHS = 300
#: bins of the interface plastic strain magnitude for the point-wise equality (learning.laminate_argument)
EDGES = (0.0, 0.003, 0.01, 0.02, 0.05, 0.1, 0.2, 1.0)

#: material name -> (sigma0 [+, -] MPa, m [+, -]); "m<x>": the M3 contrast with rate exponent x in both layers
MATERIALS = {
    **{f"m{m:g}": ([50.0, 500.0], [m, m]) for m in (0.01, 0.02, 0.05, 0.1, 0.2)},
    "M3": ([50.0, 500.0], [0.02, 0.2]),
    "MH": ([500.0, 500.0], [0.2, 0.2]),
}
#: setting name -> (material, T in s): the m sweep at the paper's T, the loading-rate sweep for M3, m0.01, m0.2
SETTINGS = {f"{mat}-T{T:g}": (mat, T) for mat in MATERIALS for T in (T_PAPER,)}
SETTINGS.update({f"{mat}-T{T:g}": (mat, T) for mat in ("M3", "m0.01", "m0.2") for T in (20.0, 2000.0)})


def dataset(name: str):
    """The setting's case and solved dataset (train: the first N_TRAIN samples, test: the rest)."""
    mat, T = SETTINGS[name]
    sigma0, m = MATERIALS[mat]
    case = make_case("laminate", "argument", seed=SEED, sigma0=sigma0, m=m, substeps=SUBSTEPS,
                     loading={"T": T, "n_steps": N_STEPS, "F_max": F_MAX * np.sqrt(T_PAPER / T)})
    lo = case.loading
    paths = sample_paths(N_TRAIN + N_TEST, 2, case.rng("paths", 0), F_max=float(lo["F_max"]), T=float(lo["T"]),
                         M=int(lo["M"]), n_steps=int(lo["n_steps"]))
    ds = solve(paths.values, paths.time, case)
    ds["split"] = ("sample", np.where(ds["sample"].values < N_TRAIN, "train", "test").astype(object))
    return case, ds


def measures(case, ds) -> dict:
    """The Fig. 4(c) equality measures, the elastic/plastic ratios and flow statistics on the test paths."""
    test = ds.isel(sample=np.flatnonzero(ds["split"].values.astype(str) == "test"))
    mat = material(case)
    micro = {v: test[v].transpose("sample", "time", "layer").values for v in ("eps_p11", "eps_p22", "eps_p12", "q")}
    eps_p = la.plastic_strain(micro["eps_p11"], micro["eps_p22"], micro["eps_p12"])  # (S, N+1, 2, 4)
    strain = test["strain"].transpose("sample", "time", "i", "j").values
    eps_bar = np.stack([strain[..., 0, 0], strain[..., 1, 1], strain[..., 0, 1]], -1)
    eps, stress = layer_fields(eps_bar, eps_p[..., [0, 1, 3]], mat)  # (S, N+1, 2, 4) in (11, 22, 33, 12)
    eps_e = eps - eps_p
    hard = int(np.argmax(mat["sigma0"])) if mat["sigma0"][0] != mat["sigma0"][1] else 1
    D = la.equality_measures(eps_p)
    R = {c: la.elastic_plastic_ratio(eps_e, eps_p, (c,)) for c in la.COMPONENTS}
    sbar = la.von_mises(stress)
    flow = la.flow_statistics(micro["q"], test["time"].values, sbar, mat["sigma0"], mat["m"], mat["q0_dot"])
    return {
        "D": D,
        "D_interface": la.interface_difference(eps_p),
        "elastic_jump_ratio": la.elastic_jump_ratio(eps_e, eps_p),
        "R": R,
        "R_interface": la.elastic_plastic_ratio(eps_e, eps_p),
        "pointwise": la.binned_interface(eps_e, eps_p, EDGES),
        "shear_ratio_hard_soft": la.shear_ratio(eps_p[..., 3], hard),
        "hard_layer": hard,
        "rms_eps_p": {c: la.rms(eps_p[..., i]) for i, c in enumerate(la.COMPONENTS)},
        "rms_eps_e": {c: la.rms(eps_e[..., i]) for i, c in enumerate(la.COMPONENTS)},
        "rms_eps_bar": la.rms(eps_bar),
        "rms_sbar": [la.rms(sbar[..., l]) for l in range(2)],
        "flow": flow,
        "points": int(np.prod(eps_p.shape[:2])),
    }


def autoencoders(ds) -> dict:
    """eq. (25) train and test errors of autoencoders with latent size LATENT, and the latent size read off."""
    train, test = micro_data(ds, "train", TRAIN_STEPS), micro_data(ds, "test", TRAIN_STEPS)
    settings = net_settings(None, "settings", epochs=AE_EPOCHS)
    rows = []
    for m in LATENT:
        ae, history = fit_autoencoder(train.micro, m, settings)
        rows.append({"latent": m, "train_error": reconstruction_error(train.micro, reconstruct(ae, train.micro)),
                     "test_error": reconstruction_error(test.micro, reconstruct(ae, test.micro)),
                     "final_loss": history[-1]["train_error"]})
    test_errors = {r["latent"]: r["test_error"] for r in rows}
    return {"settings": settings.to_dict(), "labels": train.labels, "n_train_points": int(train.micro[..., 0].size),
            "errors": rows, "latent_dimension": la.latent_dimension(test_errors),
            "rule": {"factor": la.FACTOR, "floor": la.FLOOR}, "sharpest_drop": la.sharpest_drop(test_errors)}


def run(name: str) -> dict:
    mat, T = SETTINGS[name]
    sigma0, m = MATERIALS[mat]
    t0 = time.process_time()
    case, ds = dataset(name)
    t1 = time.process_time()
    meas = measures(case, ds)
    t2 = time.process_time()
    ae = autoencoders(ds)
    t3 = time.process_time()
    return {"setting": name, "material": mat, "sigma0": sigma0, "m": m, "T": T,
            "F_max": float(case.loading["F_max"]), "n_train": N_TRAIN, "n_test": N_TEST, "n_steps": N_STEPS,
            "substeps": SUBSTEPS, "train_steps": TRAIN_STEPS, "seed": SEED,
            "failures": json.loads(ds.attrs.get("failures", "[]")),
            "measures": meas, "autoencoder": ae,
            "cpu_s": {"solve": t1 - t0, "measures": t2 - t1, "autoencoders": t3 - t2, "total": t3 - t0},
            "machine": describe(torch.device("cpu")), "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", default=None, help=f"comma-separated (default: all): {', '.join(SETTINGS)}")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = args.settings.split(",") if args.settings else list(SETTINGS)
    unknown = sorted(set(names) - set(SETTINGS))
    if unknown:
        raise SystemExit(f"--settings: unknown {unknown}; known: {list(SETTINGS)}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in names:
        out = RESULTS / f"{name}.json"
        if out.exists():
            continue
        result = run(name)
        tmp = RESULTS / f".{name}.json.tmp"
        tmp.write_text(json.dumps(result, indent=1) + "\n")
        tmp.replace(out)
        meas, ae = result["measures"], result["autoencoder"]
        print(f"{name}: D22 {meas['D']['22']:.3f} D33 {meas['D']['33']:.3f} D12 {meas['D']['12']:.3f} "
              f"2R {2 * meas['R_interface']:.3f} shear {meas['shear_ratio_hard_soft']:.3f} | eq25 "
              + " ".join(f"{100 * r['test_error']:.2f}" for r in ae["errors"])
              + f" % -> m* {ae['latent_dimension']} | {result['cpu_s']['total']:.0f} CPU s", flush=True)


if __name__ == "__main__":
    main()
