"""Speed of the exported RNO kernels (deploy/, docs/export.md): material-point updates per second of the compiled C99
and Fortran 2008 rno_step against torch's RNO.step at the same batch, float64, one thread, measured in the same run.

    python benchmarks/bench_export.py [--n-comp 9] [--repeats 15] [--large-repeats 3]

Networks: k = 5, variant evp, f and g 5 x 200 (paper Section 5.2) and 4 x 100 (the default), random weights and
normalisation, n_comp input components (default 9: a full F), x^(n-1) given. Batches: nblock = 136 (ABAQUS/Explicit's
default block) and 10^5. The kernels are compiled by gcc -std=c99 and gfortran with -O3 -march=native
-ffp-contract=fast -fno-trapping-math (the README's flags, deploy.export.FLAGS) and, at nblock = 136, also with
-O3 -march=native alone (then C in -std=c99 mode has no fused multiply-adds; neither vectorises the SELU).
Timing: the calls of torch and the kernels alternate, repeats times each; the median time per call counts (the
minimum is saved too). FLOPs per update: 2 x the weights of f and g (each evaluated once); the fraction of the
machine's matmul rate: a 2000 x 2000 float64 product on one thread, measured in the same run.
Results: benchmarks/results/export.json with the machine's description.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from machine import describe

from deploy.export import FLAGS, export
from deploy.network import Kernel
from learning.rno import RNO

RESULTS = Path(__file__).resolve().parent / "results"
DOUBLE_P = ctypes.POINTER(ctypes.c_double)


def matmul_rate(n: int = 2000) -> float:
    """FLOP/s of an n x n by n x n float64 product (median of 3 after a warm-up)."""
    a, b = (torch.randn(n, n, dtype=torch.float64) for _ in range(2))
    a @ b
    times = []
    for _ in range(3):
        tick = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - tick)
    return 2 * n ** 3 / statistics.median(times)


def compile_kernel(model: RNO, lang: str, flags: str, where: Path) -> ctypes.CDLL:
    """Export the model (C or Fortran kernel), compile it into a shared library with these flags, load it."""
    fmt, source = ("c", "rno_model.c") if lang == "c" else ("fortran", "rno_kernel.f90")
    widths = "-".join(str(h) for h in model.hidden)  # one directory per library: dlopen caches by path
    out = where / f"{lang}-{widths}{'' if flags == FLAGS else '-plain'}"
    export(model, fmt, out, source="benchmarks/bench_export.py")
    compiler = ["gcc", "-std=c99"] if lang == "c" else ["gfortran", "-J", str(out)]
    lib = out / "librno.so"
    subprocess.run([*compiler, *flags.split(), "-shared", "-fPIC", str(out / source), "-o", str(lib),
                    *(["-lm"] if lang == "c" else [])], check=True)
    handle = ctypes.CDLL(str(lib))
    handle.rno_step.argtypes = [ctypes.c_int, DOUBLE_P, DOUBLE_P, ctypes.c_double, DOUBLE_P, DOUBLE_P, DOUBLE_P]
    handle.rno_step.restype = ctypes.c_int
    return handle


def bench_network(hidden: list[int], n_comp: int, k: int, batches: list[int], repeats: dict, rate: float,
                  where: Path) -> list[dict]:
    """Rows (one per batch) of seconds per call and updates per second of torch and the kernels."""
    gen = torch.Generator().manual_seed(0)
    model = RNO(n_comp, k, "evp", hidden=hidden)
    model.init_weights(gen)
    model = model.double().eval()
    with torch.no_grad():  # a normalisation of the kind training fits: F around I, stress ~100 MPa
        model.x_mean.copy_(torch.eye(3).flatten()[:n_comp] if n_comp == 9 else torch.zeros(n_comp))
        model.x_std.fill_(0.02)
        model.stress_std.fill_(100.0)
        model.t_scale.fill_(200.0)
    flops = Kernel.of(model).flops()
    libs = {"c": compile_kernel(model, "c", FLAGS, where), "fortran": compile_kernel(model, "fortran", FLAGS, where)}
    plain = "-O3 -march=native"  # no fused multiply-adds in C (-std=c99), no vectorised SELU
    slow = {"c_plain_flags": compile_kernel(model, "c", plain, where),
            "fortran_plain_flags": compile_kernel(model, "fortran", plain, where)}
    rows = []
    for nblock in batches:
        rng = np.random.default_rng(1)
        x_prev = model.x_mean.numpy() + 0.02 * rng.normal(size=(nblock, n_comp))
        x = x_prev + 0.001 * rng.normal(size=(nblock, n_comp))
        xi = rng.normal(size=(nblock, k))
        target, xi_new = np.empty((nblock, model.n_out)), np.empty((nblock, k))
        ptr = lambda a: a.ctypes.data_as(DOUBLE_P)  # noqa: E731
        tx, txp, txi, dt = (torch.from_numpy(a) for a in (x, x_prev, xi, np.array(0.2)))
        calls = {"torch": lambda: model.step(tx, txi, dt, txp)}
        for name, lib in {**libs, **(slow if nblock <= 1000 else {})}.items():
            calls[name] = (lambda lib=lib: lib.rno_step(nblock, ptr(x), ptr(xi), 0.2, ptr(x_prev), ptr(target),
                                                        ptr(xi_new)))
        times = {name: [] for name in calls}
        n_rep = repeats["small"] if nblock <= 1000 else repeats["large"]
        with torch.no_grad():
            for name, call in calls.items():
                call()  # warm-up
            for _ in range(n_rep):  # alternate, so that other load on the machine hits all alike
                for name, call in calls.items():
                    tick = time.perf_counter()
                    call()
                    times[name].append(time.perf_counter() - tick)
            want, _ = model.step(tx, txi, dt, txp)
        assert np.abs(target - want.numpy()).max() <= 1e-10 * np.abs(want.numpy()).max()  # same answer
        row = {"hidden": hidden, "nblock": nblock, "flops_per_update": flops, "repeats": n_rep}
        torch_seconds = statistics.median(times["torch"])
        for name, ts in times.items():
            seconds = statistics.median(ts)
            row[name] = {"seconds_per_call": seconds, "seconds_min": min(ts), "updates_per_second": nblock / seconds,
                         "flops_per_second": nblock * flops / seconds,
                         "fraction_of_matmul_rate": nblock * flops / seconds / rate,
                         "rate_relative_to_torch": torch_seconds / seconds,
                         "rate_relative_to_torch_min": min(times["torch"]) / min(ts)}
        rows.append(row)
        print(f"{'x'.join(map(str, [len(hidden), hidden[0]]))} nblock {nblock}: " + ", ".join(
            f"{name} {r['updates_per_second']:.3g}/s ({r['rate_relative_to_torch']:.2f} x torch)"
            for name, r in row.items() if isinstance(r, dict)))
    return rows


def version(tool: str) -> str:
    return subprocess.run([tool, "--version"], capture_output=True, text=True).stdout.splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-comp", type=int, default=9)
    parser.add_argument("--repeats", type=int, default=15, help="calls per kernel at nblock = 136")
    parser.add_argument("--large-repeats", type=int, default=3, help="calls per kernel at nblock = 10^5")
    args = parser.parse_args()
    for tool in ("gcc", "gfortran"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found (envs/setup.sh installs it)")
    torch.set_num_threads(1)
    rate = matmul_rate()
    result = {"benchmark": "export", "k": 5, "variant": "evp", "n_comp": args.n_comp, "dtype": "float64",
              "threads": 1, "flags": FLAGS, "compilers": {t: version(t) for t in ("gcc", "gfortran")},
              "matmul_flops_per_second": rate, "results": []}
    with tempfile.TemporaryDirectory() as tmp:
        for hidden in ([200] * 5, [100] * 4):
            result["results"] += bench_network(hidden, args.n_comp, 5, [136, 100_000],
                                               {"small": args.repeats, "large": args.large_repeats}, rate, Path(tmp))
    result["machine"] = describe(torch.device("cpu"))
    result["date"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "export.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    print(f"-> {path}")


if __name__ == "__main__":
    main()
