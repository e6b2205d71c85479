"""Figure 13 (paper Section 7: the RNO's cost in a macroscopic code is comparable to a classical law's): CPU time of
an explicit single-element driver loop against the number of time steps, for the Johnson-Cook law and RNOs, all
through the exported compiled C kernels (deploy.johnson_cook's jc_step, deploy.c99's rno_step).

The driver (C99, generated here, compiled with deploy.export.FLAGS together with the kernel into one shared library)
advances one element of nblock material points (1: a reduced-integration hexahedron, C3D8R; 8: a fully integrated
one, C3D8) through n_steps explicit steps over a fixed duration T (dt = T / n_steps). At step n every point gets the
stretch

    U_p(t) = I + e(t) D_p,   e(t) = STRAIN sin(2 pi t / T),   D_p = [[1, .3, .1], [.3, -.5, .05 p], [.1, .05 p, -.5]]

(tension-compression cycle with shear, amplitude STRAIN; the JC law goes plastic), the kernel is called once for the
block (jc_step with F = U; rno_step with x = U in the model's order 11, 12, 13, 22, 23, 33 and x^(n-1)), and the
state is handed to the next step, as an explicit code does. The loop's CPU time is clock_gettime(
CLOCK_THREAD_CPUTIME_ID) around the whole loop (the stretch evaluation, ~20 ns a point, is included for every law).
Each (law, nblock, n_steps) is run ``repeats`` times and the minimum counts (the least disturbed by other load); a
line t = a + b n_steps per law and nblock, fitted by least squares of the relative residuals (the steps span
decades; plain least squares would fit the largest run alone), gives the cost per step b, and b_RNO / b_JC is the
ratio printed on the figure.

RNO networks: k = 5, variant evp, f and g with the hidden widths of ``networks`` (paper: 5 x 200 for Mg; 4 x 100), a
6-component input (U of a 3D VUMAT), random LeCun weights and a normalisation of the kind training fits (the cost does
not depend on the values), or a trained model given as ``model``. PCA-Net: not built yet (docs/export.md).
"""
from __future__ import annotations

import ctypes
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from mechanics.johnson_cook import JohnsonCook

from .export import FLAGS, export

#: defaults of the figure's spec (pipeline/schemas/learning.schema.yaml, learning.figures.fig13)
DEFAULTS = {"steps": [100, 1000, 10000], "repeats": 1, "networks": [[200] * 5, [100] * 4], "k": 5, "nblock": [1, 8],
            "duration": 1.0, "strain": 0.05,
            "jc": {"mu": 17300.0, "kappa": 35200.0, "A": 150.0, "B": 400.0, "n": 0.25, "C": 0.03, "eps_dot_0": 0.01}}

DRIVER = r"""/* driver.c: an explicit single-element loop around one material kernel (deploy/cost.py, Figure 13). */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "%(header)s"

static const double STRAIN = %(strain)s;  /* amplitude of e(t) */

/* U_p(t) = I + e(t) D_p, symmetric: u[9] row-major */
static void stretch(double e, int p, double *u)
{
    const double d[9] = {1.0, 0.3, 0.1, 0.3, -0.5, 0.05 * p, 0.1, 0.05 * p, -0.5};
    int i;
    for (i = 0; i < 9; i++) u[i] = (i %% 4 == 0 ? 1.0 : 0.0) + e * d[i];
}

/* n_steps steps of dt = duration / n_steps for nblock points; returns the loop's CPU seconds (of this thread), or
 * -1 if the kernel failed or memory ran out; *checksum = the sum of sigma_11 of point 0 over the steps. */
double drive(int nblock, long n_steps, double duration, double *checksum)
{
    const double dt = duration / (double)n_steps, two_pi = 6.283185307179586;
    double *x = malloc(sizeof(double) * (size_t)nblock * %(n_in)s);
    double *x_prev = malloc(sizeof(double) * (size_t)nblock * %(n_in)s);
    double *s_old = calloc((size_t)nblock * %(n_state)s + 1, sizeof(double));
    double *s_new = calloc((size_t)nblock * %(n_state)s + 1, sizeof(double));
    double *sigma = malloc(sizeof(double) * (size_t)nblock * %(n_out)s);
    double u[9], sum = 0.0, *swap, seconds = -1.0;
    struct timespec t0, t1;
    long n;
    int p, ok = x && x_prev && s_old && s_new && sigma;
    if (ok) {
        for (p = 0; p < nblock; p++) {  /* x^0 = U(0) = I */
            stretch(0.0, p, u);
            %(gather_prev)s
        }
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
        for (n = 1; n <= n_steps && ok; n++) {
            const double e = STRAIN * sin(two_pi * (double)n / (double)n_steps);
            for (p = 0; p < nblock; p++) {
                stretch(e, p, u);
%(gather)s
            }
            ok = %(call)s == 0;
            sum += sigma[0];
            swap = s_old, s_old = s_new, s_new = swap;
            swap = x_prev, x_prev = x, x = swap;
        }
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
        if (ok) seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    }
    *checksum = sum;
    free(x), free(x_prev), free(s_old), free(s_new), free(sigma);
    return seconds;
}
"""

#: the RNO's input components (learning.data.component_names(3)) as indices of the row-major U
RNO_ORDER = (0, 1, 2, 4, 5, 8)


def driver_source(law: str, strain: float, k: int = 0) -> str:
    """driver.c for law "jc" (jc_step, F = U) or "rno" (rno_step, x = U in the model's order, k internal
    variables)."""
    if law == "jc":
        fill = dict(header="jc_model.h", n_in=9, n_state="JC_NSTATE", n_out=6,
                    gather_prev="memcpy(x_prev + 9 * p, u, sizeof u);",
                    gather="                memcpy(x + 9 * p, u, sizeof u);",
                    call="jc_step(nblock, x, s_old, dt, sigma, s_new)")
    else:
        comps = "".join(f"x[6 * p + {m}] = u[{i}]; " for m, i in enumerate(RNO_ORDER))
        fill = dict(header="rno_model.h", n_in=6, n_state="RNO_K", n_out="RNO_N_OUT",
                    gather_prev=comps.replace("x[", "x_prev[").strip(),
                    gather="                " + comps.strip(),
                    call="rno_step(nblock, x, s_old, dt, x_prev, sigma, s_new)")
    return DRIVER % {**fill, "strain": repr(float(strain))}


def random_rno(hidden, k: int, seed: int = 0):
    """An RNO (evp, 6 inputs) with LeCun weights and a normalisation like training's (U around I, stress ~100 MPa)."""
    import torch

    from learning.rno import RNO

    model = RNO(6, k, "evp", hidden=list(hidden))
    model.init_weights(torch.Generator().manual_seed(seed))
    model = model.double().eval()
    with torch.no_grad():
        model.x_mean.copy_(torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0, 1.0]))
        model.x_std.fill_(0.02)
        model.stress_std.fill_(100.0)
        model.t_scale.fill_(200.0)
    return model


class Driver:
    """A compiled driver + kernel: ``seconds(nblock, n_steps, duration)`` is the loop's CPU time."""

    def __init__(self, lib_path: Path):
        self.lib = ctypes.CDLL(str(lib_path))
        self.lib.drive.argtypes = [ctypes.c_int, ctypes.c_long, ctypes.c_double, ctypes.POINTER(ctypes.c_double)]
        self.lib.drive.restype = ctypes.c_double

    def seconds(self, nblock: int, n_steps: int, duration: float) -> float:
        checksum = ctypes.c_double()
        t = self.lib.drive(int(nblock), int(n_steps), float(duration), ctypes.byref(checksum))
        if t < 0 or not np.isfinite(checksum.value):
            raise RuntimeError(f"fig13 driver: the kernel failed (nblock {nblock}, {n_steps} steps)")
        return t


def build(law: str, model, where: Path, spec: dict) -> Driver:
    """Export the law (JC parameters or an RNO) as C, compile it with the driver (FLAGS, gcc -std=c99), load it."""
    gcc = shutil.which("gcc")
    if gcc is None:
        raise RuntimeError("fig13 needs gcc (envs/setup.sh installs it)")
    where.mkdir(parents=True, exist_ok=True)
    if law == "jc":
        export(JohnsonCook(**spec["jc"]), "jc-c", where, source="deploy/cost.py (Figure 13)")
        sources, k = ["jc_model.c"], 0
    else:
        if model.n_comp != 6:
            raise ValueError(f"fig13: the RNO needs a 3D input (6 components of U), this one has {model.n_comp}")
        export(model, "c", where, source="deploy/cost.py (Figure 13)")
        sources, k = ["rno_model.c"], model.k
    (where / "driver.c").write_text(driver_source(law, spec["strain"], k))
    lib = where / "libdriver.so"
    subprocess.run([gcc, "-std=c99", *FLAGS.split(), "-shared", "-fPIC", *[str(where / s) for s in sources],
                    str(where / "driver.c"), "-o", str(lib), "-lm"], check=True, capture_output=True, text=True)
    return Driver(lib)


def label(model) -> str:
    widths = list(model.hidden)
    same = len(set(widths)) == 1
    return f"RNO {len(widths)} x {widths[0]}" if same else f"RNO {'-'.join(map(str, widths))}"


def measure(spec: dict, model=None, log=print) -> dict:
    """CPU seconds of every law, nblock and number of steps (minimum over repeats), with the linear fits.

    Returns {"laws": [name], "nblock": [...], "steps": [...], "seconds": {name: {nblock: [t per steps]}},
    "per_step": {name: {nblock: b}}, "intercept": {name: {nblock: a}}, "ratio": {name: {nblock: b / b_JC}}}."""
    spec = {**DEFAULTS, **spec}
    steps = sorted(int(s) for s in spec["steps"])
    models = [random_rno(h, int(spec["k"]), seed=i) for i, h in enumerate(spec["networks"])]
    if model is not None:
        models.append(model.double().eval())
    with tempfile.TemporaryDirectory(prefix="fig13-") as tmp:
        drivers = {"Johnson-Cook": build("jc", None, Path(tmp) / "jc", spec)}
        for i, m in enumerate(models):
            name = label(m) + (" (trained)" if model is not None and i == len(models) - 1 else "")
            drivers[name] = build("rno", m, Path(tmp) / f"rno{i}", spec)
        out = {"laws": list(drivers), "nblock": [int(b) for b in spec["nblock"]], "steps": steps, "seconds": {},
               "per_step": {}, "intercept": {}, "ratio": {}}
        for name in drivers:
            out["seconds"][name] = {b: [np.inf] * len(steps) for b in out["nblock"]}
        for _ in range(int(spec["repeats"])):  # the laws alternate, so that other load hits all alike
            for b in out["nblock"]:
                for j, n in enumerate(steps):
                    for name, drv in drivers.items():
                        t = drv.seconds(b, n, float(spec["duration"]))
                        out["seconds"][name][b][j] = min(out["seconds"][name][b][j], t)
    for name in out["laws"]:
        out["per_step"][name], out["intercept"][name], out["ratio"][name] = {}, {}, {}
        for b in out["nblock"]:
            t = np.asarray(out["seconds"][name][b])
            slope, icpt = np.polyfit(np.asarray(steps, float), t, 1, w=1.0 / t)  # least relative squares
            out["per_step"][name][b], out["intercept"][name][b] = float(slope), float(icpt)
    for name in out["laws"]:
        for b in out["nblock"]:
            out["ratio"][name][b] = out["per_step"][name][b] / out["per_step"]["Johnson-Cook"][b]
            log(f"fig13: {name}, nblock {b}: {out['per_step'][name][b] * 1e6:.3g} us per step "
                f"({out['per_step'][name][b] / b * 1e6:.3g} us per point-step), {out['ratio'][name][b]:.3g} x JC")
    return out


def fig13(*, stem, spec, model=None, measured: dict | None = None) -> list[Path]:
    """Figure 13: CPU time of the single-element explicit loop against the number of steps, one panel per nblock;
    markers measured, lines the linear fits; the cost per step and the ratio RNO / JC printed per law."""
    from dataset.figstyle import colors, figure, panel_label, save_figure

    data = measured if measured is not None else measure(spec, model)
    blocks = data["nblock"]
    fig, axes = figure(1, len(blocks), figsize=(4.6 * len(blocks), 3.9), layout="constrained", squeeze=False)
    steps = np.asarray(data["steps"], float)
    fine = np.geomspace(steps.min(), steps.max(), 50)
    for ax, b, letter in zip(axes[0], blocks, "abcdefgh"):
        lines = []
        for name, c in zip(data["laws"], colors(len(data["laws"]))):
            slope, icpt = data["per_step"][name][b], data["intercept"][name][b]
            ax.loglog(steps, data["seconds"][name][b], "o", color=c, ms=4)
            ax.loglog(fine, np.maximum(icpt + slope * fine, 1e-9), "-", color=c, lw=1, label=name)
            ratio = "" if name == "Johnson-Cook" else f", {data['ratio'][name][b]:.3g} x JC"
            lines.append(f"{name}: {slope * 1e6:.3g} us/step{ratio}")
        ax.text(0.02, 0.98, "\n".join(lines), transform=ax.transAxes, va="top", ha="left", fontsize=7,
                bbox=dict(boxstyle="round", fc="white", alpha=0.8, lw=0.5))
        element = {1: "one point (C3D8R)", 8: "8 points (C3D8)"}.get(b, f"{b} points")
        panel_label(ax, letter, f"nblock = {b}: {element}")
        ax.set(xlabel="time steps", ylabel="CPU time of the loop (s)")
        ax.legend(loc="lower right", fontsize=7)
    return save_figure(fig, stem, spec.get("note", ""))
