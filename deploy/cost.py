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
decades; plain least squares would fit the largest run alone), gives the cost per step b, and b_RNO / b_JC and
b_PCA / b_RNO (the first RNO of ``networks``, the paper's 5 x 200) are the ratios printed on the figure.

RNO networks: k = 5, variant evp, f and g with the hidden widths of ``networks`` (paper: 5 x 200 for Mg; 4 x 100), a
6-component input (U of a 3D VUMAT), random LeCun weights and a normalisation of the kind training fits (the cost does
not depend on the values), or a trained model given as ``model``.

PCA-Net (``pca_net``; ref. [25]'s sizes by default: 100 modes x 6 components in and out, MLP 600-1000x4-600): random
LeCun weights, bases from learning.pca_net.build on random U-histories, through deploy.pca_net's C kernel pca_step
with its history of N + 1 = ``times`` = 201 points in the state, as ref. [25]'s VUMAT (201 hard-coded). The grid is
fixed, not the loop's number of steps: a PCA-Net is bound to its training grid, and a 10^4-point grid would need
bases of 10^4 x 600 values; the per-step cost does not depend on n (the projection always runs over all N + 1 rows,
the decode is one row), so the driver restarts the history, from the last x, whenever its N steps are done. The
kernel is a cost build (deploy.pca_net.source(literals=False)): the same code as ``rno-export --format pca-c`` with
its large arrays filled by pca_init() before the clock starts, instead of 4.4 million literals (~100 MB of source,
~33 s of CPU and 1.1 GB to compile). At ~4 ms per step its own numbers of steps are ``pca_net.steps`` ([50, 100, 200]:
one history at most), and its fitted line is drawn dotted beyond them.
"""
from __future__ import annotations

import ctypes
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from mechanics.johnson_cook import JohnsonCook

from . import pca_net
from .export import FLAGS, export

#: defaults of the figure's spec (pipeline/schemas/learning.schema.yaml, learning.figures.fig13)
DEFAULTS = {"steps": [100, 1000, 10000], "repeats": 1, "networks": [[200] * 5, [100] * 4], "k": 5, "nblock": [1, 8],
            "duration": 1.0, "strain": 0.05,
            "jc": {"mu": 17300.0, "kappa": 35200.0, "A": 150.0, "B": 400.0, "n": 0.25, "C": 0.03, "eps_dot_0": 0.01},
            "pca_net": {"steps": [50, 100, 200], "modes": 100, "hidden": [1000] * 4, "times": 201}}

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
%(init)s        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
        for (n = 1; n <= n_steps && ok; n++) {
            const double e = STRAIN * sin(two_pi * (double)n / (double)n_steps);
%(restart)s
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
    """driver.c for law "jc" (jc_step, F = U), "rno" (rno_step, x = U in the model's order, k internal variables)
    or "pca" (pca_step of a cost build of deploy.pca_net: pca_init() before the clock starts; x = U in the model's
    order; the history restarts, from the last x, once its N steps are done)."""
    comps = "".join(f"x[6 * p + {m}] = u[{i}]; " for m, i in enumerate(RNO_ORDER))
    plain = dict(init="", restart="")
    if law == "jc":
        fill = dict(header="jc_model.h", n_in=9, n_state="JC_NSTATE", n_out=6,
                    gather_prev="memcpy(x_prev + 9 * p, u, sizeof u);",
                    gather="                memcpy(x + 9 * p, u, sizeof u);",
                    call="jc_step(nblock, x, s_old, dt, sigma, s_new)", **plain)
    elif law == "pca":
        fill = dict(header="pca_model.h", n_in=6, n_state="PCA_NSTATE", n_out="PCA_N_COMP_OUT",
                    gather_prev=comps.replace("x[", "x_prev[").strip(),
                    gather="                " + comps.strip(),
                    call="pca_step(nblock, x, x_prev, s_old, sigma, s_new)",
                    init="        pca_init();  /* cost build: the weights' values (deploy/pca_net.py) */\n",
                    restart=("            if (s_old[0] >= (double)(PCA_N_TIMES - 1))  /* history full: a new one */\n"
                             "                for (p = 0; p < nblock; p++) s_old[(size_t)p * PCA_NSTATE] = 0.0;"))
    else:
        fill = dict(header="rno_model.h", n_in=6, n_state="RNO_K", n_out="RNO_N_OUT",
                    gather_prev=comps.replace("x[", "x_prev[").strip(),
                    gather="                " + comps.strip(),
                    call="rno_step(nblock, x, s_old, dt, x_prev, sigma, s_new)", **plain)
    return DRIVER % {**fill, "strain": repr(float(strain))}


def random_pca(modes: int = 100, hidden=(1000,) * 4, times: int = 201, seed: int = 0):
    """A PCA-Net of ref. [25]'s shape (6 components of U in, 6 of stress out, ``modes`` per component, MLP
    [6 modes, *hidden, 6 modes]) on a grid of ``times`` points over 1 s: bases and standardisation from
    learning.pca_net.build on modes + 20 random smooth U-histories (the SVD gives all ``modes`` modes), LeCun
    weights from ``seed``."""
    import torch

    from learning.data import Trajectories
    from learning.pca_net import PCASettings, build

    S = int(modes) + 20
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, int(times))
    k = np.arange(1, 9)
    x = np.einsum("skc,tk->stc", rng.normal(size=(S, k.size, 6)) * 0.02, np.sin(np.pi * np.outer(t, k) / 2))
    x = x + np.array([1.0, 0.0, 0.0, 1.0, 0.0, 1.0])
    stress = 3e4 * (x - x[:, :1])
    train = Trajectories(x=x, stress=stress, time=t, sample=np.arange(S), input_name="F", d=3)
    settings = PCASettings(modes_in=int(modes), modes_out=int(modes), hidden=list(hidden), seed=seed)
    with torch.no_grad():
        return build(train, settings).double().eval()


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
    """Export the law (JC parameters, an RNO or a PCA-Net) as C, compile it with the driver (FLAGS, gcc -std=c99),
    load it. The PCA-Net is a cost build (deploy.pca_net.source(literals=False)): the same code as `pca-c` with its
    large arrays filled at load time, not 4.4 million literals (a 100 MB source, ~33 s CPU and 1.1 GB to compile)."""
    gcc = shutil.which("gcc")
    if gcc is None:
        raise RuntimeError("fig13 needs gcc (envs/setup.sh installs it)")
    where.mkdir(parents=True, exist_ok=True)
    what = "deploy/cost.py (Figure 13)"
    if law == "jc":
        export(JohnsonCook(**spec["jc"]), "jc-c", where, source=what)
        sources, k = ["jc_model.c"], 0
    elif law == "pca":
        kn = pca_net.PCAKernel.of(model, "F")
        (where / "pca_model.h").write_text(pca_net.header(kn, what))
        (where / "pca_model.c").write_text(pca_net.source(kn, what + ", cost build", literals=False))
        sources, k = ["pca_model.c"], 0
    else:
        if model.n_comp != 6:
            raise ValueError(f"fig13: the RNO needs a 3D input (6 components of U), this one has {model.n_comp}")
        export(model, "c", where, source=what)
        sources, k = ["rno_model.c"], model.k
    (where / "driver.c").write_text(driver_source(law, spec["strain"], k))
    lib = where / "libdriver.so"
    subprocess.run([gcc, "-std=c99", *FLAGS.split(), "-shared", "-fPIC", *[str(where / s) for s in sources],
                    str(where / "driver.c"), "-o", str(lib), "-lm"], check=True, capture_output=True, text=True)
    return Driver(lib)


def label(model) -> str:
    if isinstance(model, pca_net.PCANet):
        h = list(model.hidden)
        mlp = f"{len(h)} x {h[0]}" if len(set(h)) == 1 else "-".join(map(str, h))
        return f"PCA-Net {model.in_basis.shape[2]} modes, {mlp}"
    widths = list(model.hidden)
    same = len(set(widths)) == 1
    return f"RNO {len(widths)} x {widths[0]}" if same else f"RNO {'-'.join(map(str, widths))}"


def pca_spec(spec: dict) -> dict:
    """The PCA-Net block of a fig13 spec with DEFAULTS["pca_net"] filled in (steps [] = no PCA-Net)."""
    out = {**DEFAULTS["pca_net"], **(spec.get("pca_net") or {})}
    if len(out["steps"]) == 1:
        raise ValueError("fig13 pca_net.steps: 2 or more numbers of steps for a line, or [] for no PCA-Net")
    return out


def measure(spec: dict, model=None, log=print) -> dict:
    """CPU seconds of every law, nblock and number of steps (minimum over repeats), with the linear fits.

    Returns {"laws": [name], "nblock": [...], "steps": [...], "law_steps": {name: [steps]} (the PCA-Net's own,
    pca_net.steps; the others "steps"), "seconds": {name: {nblock: [t per steps]}}, "per_step": {name: {nblock: b}},
    "intercept": {name: {nblock: a}}, "ratio": {name: {nblock: b / b_JC}}, "reference_rno": the first RNO's name
    or None, "ratio_rno": {name: {nblock: b / b_reference_rno}} (the PCA-Net's), "flops": {name: per point-step}}."""
    spec = {**DEFAULTS, **spec}
    pspec = pca_spec(spec)
    steps = sorted(int(s) for s in spec["steps"])
    models = [random_rno(h, int(spec["k"]), seed=i) for i, h in enumerate(spec["networks"])]
    if model is not None:
        models.append(model.double().eval())
    with tempfile.TemporaryDirectory(prefix="fig13-") as tmp:
        drivers = {"Johnson-Cook": build("jc", None, Path(tmp) / "jc", spec)}
        law_steps = {"Johnson-Cook": steps}
        flops = {}
        for i, m in enumerate(models):
            name = label(m) + (" (trained)" if model is not None and i == len(models) - 1 else "")
            drivers[name] = build("rno", m, Path(tmp) / f"rno{i}", spec)
            law_steps[name] = steps
            flops[name] = sum(2 * p.numel() for n, p in m.named_parameters() if n.endswith("weight"))
        if pspec["steps"]:
            pca = random_pca(pspec["modes"], pspec["hidden"], pspec["times"])
            name = label(pca)
            drivers[name] = build("pca", pca, Path(tmp) / "pca", spec)
            law_steps[name] = sorted(int(s) for s in pspec["steps"])
            flops[name] = pca_net.PCAKernel.of(pca).flops()["total"]
        out = {"laws": list(drivers), "nblock": [int(b) for b in spec["nblock"]], "steps": steps,
               "law_steps": law_steps, "seconds": {}, "per_step": {}, "intercept": {}, "ratio": {}, "ratio_rno": {},
               "reference_rno": next((n for n in drivers if n.startswith("RNO")), None), "flops": flops}
        for name in drivers:
            out["seconds"][name] = {b: [np.inf] * len(law_steps[name]) for b in out["nblock"]}
        for _ in range(int(spec["repeats"])):  # the laws alternate, so that other load hits all alike
            for b in out["nblock"]:
                for name, drv in drivers.items():
                    for j, n in enumerate(law_steps[name]):
                        t = drv.seconds(b, n, float(spec["duration"]))
                        out["seconds"][name][b][j] = min(out["seconds"][name][b][j], t)
    for name in out["laws"]:
        out["per_step"][name], out["intercept"][name], out["ratio"][name] = {}, {}, {}
        for b in out["nblock"]:
            t = np.asarray(out["seconds"][name][b])
            x = np.asarray(law_steps[name], float)
            slope, icpt = np.polyfit(x, t, 1, w=1.0 / t)  # least relative squares
            out["per_step"][name][b], out["intercept"][name][b] = float(slope), float(icpt)
    ref = out["reference_rno"]
    for name in out["laws"]:
        for b in out["nblock"]:
            out["ratio"][name][b] = out["per_step"][name][b] / out["per_step"]["Johnson-Cook"][b]
            extra = ""
            if name.startswith("PCA-Net") and ref is not None:
                out["ratio_rno"].setdefault(name, {})[b] = out["per_step"][name][b] / out["per_step"][ref][b]
                extra = f", {out['ratio_rno'][name][b]:.3g} x {ref}"
            log(f"fig13: {name}, nblock {b}: {out['per_step'][name][b] * 1e6:.3g} us per step "
                f"({out['per_step'][name][b] / b * 1e6:.3g} us per point-step), {out['ratio'][name][b]:.3g} x JC"
                + extra)
    return out


def fig13(*, stem, spec, model=None, measured: dict | None = None) -> list[Path]:
    """Figure 13: CPU time of the single-element explicit loop against the number of steps, one panel per nblock;
    markers measured, lines the linear fits (dashed where extrapolated past a law's measured steps); the cost per
    step and the ratios RNO / JC and PCA-Net / RNO printed per law."""
    from dataset.figstyle import colors, figure, panel_label, save_figure

    data = measured if measured is not None else measure(spec, model)
    blocks = data["nblock"]
    fig, axes = figure(1, len(blocks), figsize=(4.6 * len(blocks), 3.9), layout="constrained", squeeze=False)
    law_steps = data.get("law_steps", {})
    every = [s for name in data["laws"] for s in law_steps.get(name, data["steps"])]
    fine = np.geomspace(min(every), max(every), 60)
    for ax, b, letter in zip(axes[0], blocks, "abcdefgh"):
        lines, top = [], 0.0
        for name, c in zip(data["laws"], colors(len(data["laws"]))):
            steps = np.asarray(law_steps.get(name, data["steps"]), float)
            slope, icpt = data["per_step"][name][b], data["intercept"][name][b]
            ax.loglog(steps, data["seconds"][name][b], "o", color=c, ms=4)
            inside = (fine >= steps.min() * 0.999) & (fine <= steps.max() * 1.001)
            fit = np.maximum(icpt + slope * fine, 1e-9)
            ax.loglog(fine[inside], fit[inside], "-", color=c, lw=1, label=name)
            if not inside.all():
                ax.loglog(fine, fit, ":", color=c, lw=0.8)
            ratio = "" if name == "Johnson-Cook" else f", {_num(data['ratio'][name][b])} x JC"
            if name in data.get("ratio_rno", {}):
                ratio += f", {_num(data['ratio_rno'][name][b])} x {data['reference_rno']}"
            lines.append(f"{name}: {_num(slope * 1e6)} us/step{ratio}")
            top = max(top, float(fit.max()), float(np.max(data["seconds"][name][b])))
        ax.set_ylim(top=top * 10 ** (0.45 * len(lines)))  # room above the data for the text box
        ax.text(0.02, 0.98, "\n".join(lines), transform=ax.transAxes, va="top", ha="left", fontsize=6.5,
                bbox=dict(boxstyle="round", fc="white", alpha=0.8, lw=0.5))
        element = {1: "one point (C3D8R)", 8: "8 points (C3D8)"}.get(b, f"{b} points")
        panel_label(ax, letter, f"nblock = {b}: {element}")
        ax.set(xlabel="time steps", ylabel="CPU time of the loop (s)")
        ax.legend(loc="lower right", fontsize=7)
    return save_figure(fig, stem, spec.get("note", ""))


def _num(v: float) -> str:
    """3 significant digits, without an exponent below 10^6 (4260, not 4.26e+03)."""
    return f"{v:,.0f}" if 1e3 <= abs(v) < 1e6 else f"{v:.3g}"
