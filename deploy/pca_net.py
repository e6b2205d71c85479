"""A trained PCA-Net (learning.pca_net, the paper's ref. [25]) as dependency-free C99, the way its paper used it in
ABAQUS: the input history lives in state variables and every step runs the whole network.

    int pca_step(int nblock, const double *x, const double *x_prev, const double *state_old,
                 double *stress, double *state_new);

A PCA-Net maps a whole input history on its fixed grid t_0 = 0 < ... < t_N to the whole stress history; it has no
notion of a partial history (learning.pca_net trains and predicts whole histories only). A time-stepping code knows
x^0 .. x^n at step n, so the kernel must say what the entries after n are. It holds the current value:

    h^(n) = [x^0, x^1, ..., x^n, x^n, ..., x^n]          (N+1 rows; the deformation held from t_n on)
    a     = (W_c^T (h^(n)_c - m_c) - a_shift) / a_scale    per input component c: the projection, all N+1 rows
    b     = MLP(a) b_scale + b_shift                       the network, SELU between its layers
    y^n_c = V_c[n, :] b_c + n_c[n]                         only row n of the decoded history: the stress at t_n

so sigma^n is the model's stress at t_n of the path that stops at t_n (a non-causal model's answer at t_n depends on
the guessed future; any choice is a guess). The original VUMAT (github.com/Burigede/Learning_based_multiscale,
VUMAT/Learnedmultiscale.for) extrapolates linearly instead (entry j > n gets x^n + (j - n)(x^n - x^(n-1)))
and decodes the whole 201 x 6 stress history to use one row of it; the arithmetic it pays per step is the same
projection and network (the decode here is one row: 2 C_out m_out FLOP instead of 2 C_out (N+1) m_out).

State per point, PCA_NSTATE = 1 + (N+1) C_in doubles: [0] = n, the steps done (0 at the start: nothing stored);
[1 + j C_in + c] = h_c(t_j), the history the network saw at the last step (the entries after n hold x^n). At the
first step (n = 0 stored) x^0 = x_prev (NULL: x itself, at rest). Step n of the calling code is grid point t_n of
the model: the code's time step must be the model's (the grid is in the header; no check, as in the original).
Returns 0, 1 if out of memory, 2 if a point's history was already full (n = N: the model has no t_(N+1)); such a
point gets NaN stress and its state copied unchanged.

Formats (FORMATS, rno-export --format): pca-c (pca_model.h, pca_model.c), pca-fortran (module pca_kernel: pca_step
and its bind(C) entry, the C prototype), pca-vumat (module pca_kernel + an ABAQUS/Explicit vumat keeping the
history in stateOld/stateNew). With ref. [25]'s sizes the literals make a ~100 MB source; deploy.cost compiles a
cost build instead (source(..., literals=False): the large arrays filled by pca_init()).

A PCA-Net has no directory format in learning.artifacts (it saves RNOs, autoencoders and decoders); ``save`` and
``load`` here write and read one (model.pt: the state_dict and the hidden widths; config.json: kind, input), which
``rno-export DIR --format pca-c`` reads. tests/test_export_pca.py checks the compiled kernel against the torch
model's whole-history prediction of h^(n) at every step to 1e-10 relative in float64.
"""
from __future__ import annotations

import json
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from learning.pca_net import PCANet

from .c99 import _dense, array, network_constants
from .network import Layer, literal, packed_layers

FORMATS = {"pca-c": ("pca_model.h", "pca_model.c"), "pca-fortran": ("pca_kernel.f90",),
           "pca-vumat": ("pca_vumat.f90",)}
#: model.pt's format tag of a saved PCA-Net (``save``)
FORMAT = "rno-factory-pca-net/1"
#: arrays at least this large are filled at load time in a cost build (``source(..., literals=False)``)
FILL_ABOVE = 4096


@dataclass(frozen=True)
class PCAKernel:
    """A learning.pca_net.PCANet in float64: the bases (C, N+1, m), means (C, N+1), coefficient standardisation and
    the MLP's layers."""

    time: np.ndarray
    in_basis: np.ndarray
    in_mean: np.ndarray
    out_basis: np.ndarray
    out_mean: np.ndarray
    a_shift: np.ndarray
    a_scale: np.ndarray
    b_shift: np.ndarray
    b_scale: np.ndarray
    net: tuple[Layer, ...]
    input_name: str | None = None

    @classmethod
    def of(cls, model: PCANet, input_name: str | None = None) -> "PCAKernel":
        def arr(t) -> np.ndarray:
            return t.detach().cpu().double().numpy().copy()

        lin = [m for m in model.net if isinstance(m, nn.Linear)]
        net = tuple(Layer(arr(m.weight), arr(m.bias), i < len(lin) - 1) for i, m in enumerate(lin))
        kn = cls(time=arr(model.time), in_basis=arr(model.in_basis), in_mean=arr(model.in_mean),
                 out_basis=arr(model.out_basis), out_mean=arr(model.out_mean), a_shift=arr(model.a_shift),
                 a_scale=arr(model.a_scale), b_shift=arr(model.b_shift), b_scale=arr(model.b_scale), net=net,
                 input_name=input_name)
        bad = [name for name, a in kn.arrays() if not np.all(np.isfinite(a))]
        if bad:
            raise ValueError(f"the PCA-Net has non-finite values in {', '.join(bad)}: nothing to export")
        return kn

    def arrays(self) -> list[tuple[str, np.ndarray]]:
        out = [(n, getattr(self, n)) for n in ("time", "in_basis", "in_mean", "out_basis", "out_mean", "a_shift",
                                                "a_scale", "b_shift", "b_scale")]
        for i, layer in enumerate(self.net, 1):
            out += [(f"w{i}", layer.weight), (f"b{i}", layer.bias)]
        return out

    @property
    def n_times(self) -> int:
        return self.time.size

    @property
    def c_in(self) -> int:
        return self.in_basis.shape[0]

    @property
    def c_out(self) -> int:
        return self.out_basis.shape[0]

    @property
    def m_in(self) -> int:
        return self.in_basis.shape[2]

    @property
    def m_out(self) -> int:
        return self.out_basis.shape[2]

    @property
    def n_state(self) -> int:
        return 1 + self.n_times * self.c_in

    @property
    def widths(self) -> list[int]:
        return [layer.n_out for layer in self.net[:-1]]

    def flops(self) -> dict:
        """Multiply-add FLOPs (2 per product) of one point-step: projection, MLP, decode of one row."""
        proj = 2 * self.c_in * self.n_times * self.m_in
        mlp = sum(2 * layer.weight.size for layer in self.net)
        dec = 2 * self.c_out * self.m_out
        return {"projection": proj, "mlp": mlp, "decode": dec, "total": proj + mlp + dec,
                "decode_whole_history": 2 * self.c_out * self.n_times * self.m_out}

    def shape(self) -> str:
        return "-".join([str(self.net[0].n_in)] + [str(layer.n_out) for layer in self.net])


# ------------------------------------------------------------------------------------------ model directories
def save(model: PCANet, out_dir: str | os.PathLike, *, input_name: str | None = None, data: dict | None = None) -> Path:
    """Write a PCA-Net's directory: model.pt ({format, kind, hidden, state_dict}) and config.json (kind, hidden,
    data: {input: ...} and provenance); ``load`` reads it back."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"format": FORMAT, "kind": "pca_net", "hidden": list(model.hidden), "state_dict": state},
               out / "model.pt")
    config = {"format": FORMAT, "kind": "pca_net", "hidden": list(model.hidden),
              "data": {**(data or {}), **({"input": input_name} if input_name else {})},
              "units": {"x": "1", "stress": "MPa", "time": "s"}}
    (out / "config.json").write_text(json.dumps(config, indent=1, sort_keys=True) + "\n")
    return out


def is_pca_dir(path: str | os.PathLike) -> bool:
    """Whether path is (or holds) a model.pt written by ``save``."""
    p = Path(path)
    p = p / "model.pt" if p.is_dir() else p
    if not p.is_file():
        return False
    try:
        blob = torch.load(p, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - not a torch file: not ours
        return False
    return isinstance(blob, dict) and blob.get("format") == FORMAT


def load(path: str | os.PathLike) -> PCANet:
    """The PCA-Net saved by ``save`` in path (its directory or model.pt), eval mode, in its saved dtype."""
    p = Path(path)
    p = p / "model.pt" if p.is_dir() else p
    blob = torch.load(p, map_location="cpu", weights_only=True)
    if blob.get("format") != FORMAT:
        raise ValueError(f"{p}: not a PCA-Net saved by deploy.pca_net.save (format {blob.get('format')!r})")
    sd = blob["state_dict"]
    model = PCANet(sd["time"], sd["in_basis"], sd["in_mean"], sd["out_basis"], sd["out_mean"], blob["hidden"])
    model = model.to(sd["net.0.weight"].dtype)
    model.load_state_dict(sd)
    return model.eval()


def input_of(path: str | os.PathLike) -> str | None:
    p = Path(path)
    try:
        return json.loads(((p if p.is_dir() else p.parent) / "config.json").read_text()).get("data", {}).get("input")
    except FileNotFoundError:
        return None


# ----------------------------------------------------------------------------------------------------- C99
def header(kn: PCAKernel, source: str) -> str:
    dt = np.diff(kn.time)
    uniform = dt.size and np.allclose(dt, dt[0], rtol=1e-9, atol=0)
    grid = (f"#define PCA_DT {literal(float(dt[0]))}   /* s: the grid is uniform, t_n = n PCA_DT */\n"
            if uniform else "/* the grid is not uniform: t_n is PCA_TIME[n] */\n")
    return f"""\
/* pca_model.h: the PCA-Net (ref. [25] of Liu et al. 2023) of
 *   {source}
 * generated by rno-export --format pca-c (deploy/pca_net.py); do not edit, export again. */
#ifndef PCA_MODEL_H
#define PCA_MODEL_H

#define PCA_N_COMP_IN {kn.c_in}     /* input components x (learning.data.component_names) */
#define PCA_N_COMP_OUT {kn.c_out}    /* stress components, MPa */
#define PCA_N_TIMES {kn.n_times}      /* N + 1: the model's grid t_0 = 0 .. t_N, s */
#define PCA_T_END {literal(float(kn.time[-1]))}   /* t_N, s */
{grid}#define PCA_NSTATE {kn.n_state}     /* per point: 1 + PCA_N_TIMES PCA_N_COMP_IN (the step count, the history) */

/* Step n = n_old + 1 of nblock points (n_old = state_old[p][0], the steps done): x = x^n (nblock x
 * PCA_N_COMP_IN, row-major), x_prev = x^0 used at the first step only (NULL: x^0 = x^1, at rest); the history
 * h = [x^0 .. x^n, x^n held to t_N] goes to state_new[p][1 ..] (PCA_N_TIMES rows of PCA_N_COMP_IN) and the
 * stress at t_n to stress (nblock x PCA_N_COMP_OUT, MPa). Step n of the caller is t_n of the model's grid.
 * Returns 0; 1 if out of memory; 2 if a point had done N steps already (its stress NaN, its state copied). */
int pca_step(int nblock, const double *x, const double *x_prev, const double *state_old, double *stress,
             double *state_new);

extern const double PCA_TIME[PCA_N_TIMES];  /* the grid t_0 .. t_N, s */

#endif
"""


def _arrays(kn: PCAKernel, literals: bool, widths_in: int) -> tuple[str, list[tuple[str, int, float]]]:
    """The arrays' definitions; in a cost build (literals False) the large ones are declared empty and listed
    (name, size, rms) for pca_init to fill."""
    fills: list[tuple[str, int, float]] = []

    def emit(name, values, comment):
        values = np.asarray(values, dtype=np.float64).ravel()
        if literals or values.size < FILL_ABOVE:
            return array(name, values, comment)
        rms = float(np.sqrt(np.mean(values ** 2))) if values.size else 0.0
        fills.append((name, values.size, rms))
        return f"/* {comment}; cost build: filled by pca_init */\nstatic double {name}[{values.size}];\n"

    parts = [
        array("PCA_TIME", kn.time, "the model's grid t_0 .. t_N, s").replace("static const", "const"),
        emit("IN_BASIS", kn.in_basis, f"input PCA bases W[c][j][i], ({kn.c_in}, {kn.n_times}, {kn.m_in})"),
        emit("IN_MEAN", kn.in_mean, f"input means m[c][j] ({kn.c_in}, {kn.n_times}); 0 if uncentred"),
        emit("A_SHIFT", kn.a_shift, "input coefficients: shift (training mean)"),
        emit("A_SCALE", kn.a_scale, "input coefficients: scale (RMS deviation per component)"),
        emit("B_SHIFT", kn.b_shift, "output coefficients: shift"),
        emit("B_SCALE", kn.b_scale, "output coefficients: scale"),
        emit("OUT_BASIS", kn.out_basis, f"output PCA bases V[c][j][i], ({kn.c_out}, {kn.n_times}, {kn.m_out})"),
        emit("OUT_MEAN", kn.out_mean, f"output means n[c][j] ({kn.c_out}, {kn.n_times}), MPa"),
    ]
    for i, (n_i, n_o, w, b, selu) in enumerate(packed_layers(kn.net, widths_in), 1):
        true = kn.net[i - 1]
        what = f"MLP layer {i}: {true.n_in} -> {true.n_out}" + (f" (padded to {n_o})" if n_o != true.n_out else "")
        parts.append(emit(f"NET_W{i}", w, what + ", weights in panels of MR rows"))
        parts.append(emit(f"NET_B{i}", b, what + ", bias"))
    return "".join(parts), fills


def _init(fills: list[tuple[str, int, float]]) -> str:
    """pca_init of a cost build: the large arrays filled with uniform values of the exported arrays' RMS (xorshift,
    seeded): the same arithmetic per step as the literal export, without a 100 MB source."""
    calls = "\n".join(f"    fill_rms({name}, {size}, {literal(rms)}, &s);" for name, size, rms in fills)
    return f"""
/* cost build: the large arrays' values (the per-step arithmetic does not depend on them) */
static void fill_rms(double *a, long n, double rms, uint64_t *s)
{{
    long i;
    for (i = 0; i < n; i++) {{
        *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
        a[i] = rms * 1.7320508075688772 * (2.0 * ((double)(*s >> 11) * 0x1.0p-53) - 1.0);
    }}
}}

void pca_init(void)
{{
    uint64_t s = UINT64_C(88172645463325252);
{calls}
}}
"""


def _constants(kn: PCAKernel, width: int) -> str:
    defines = (f"#define N_IN {kn.c_in * kn.m_in}   /* the MLP's input: PCA_N_COMP_IN x M_IN coefficients */\n"
               f"#define M_IN {kn.m_in}    /* input modes per component */\n"
               f"#define M_OUT {kn.m_out}   /* output modes per component */\n")
    return network_constants(width, defines) + "\n"


def source(kn: PCAKernel, source_name: str, literals: bool = True) -> str:
    """pca_model.c. literals False: a cost build (deploy.cost), the arrays of FILL_ABOVE values or more declared
    without values and filled by pca_init() (to be called once before pca_step)."""
    n_in = kn.c_in * kn.m_in
    packed = packed_layers(kn.net, n_in)
    width = max([n_in] + [n_o for _, n_o, _, _, _ in packed])
    out_width = packed[-1][1]
    arrays, fills = _arrays(kn, literals, n_in)
    bufs = ("a", "b")
    calls = "\n".join(f"    dense({n_i}, {n_o}, nblk, NET_W{i}, NET_B{i}, {int(selu)}, {bufs[(i - 1) % 2]}, "
                      f"{bufs[i % 2]});" for i, (n_i, n_o, w, b, selu) in enumerate(packed, 1))
    out = bufs[len(packed) % 2]
    flops = kn.flops()
    model = textwrap.fill(
        f"This model: {kn.c_in} input components ({kn.input_name or 'input unknown'}), {kn.c_out} stress "
        f"components, N + 1 = {kn.n_times} times to t_N = {float(kn.time[-1])!r} s, {kn.m_in} input and {kn.m_out} "
        f"output modes per component, MLP {kn.shape()} (SELU between). FLOPs per point-step: projection "
        f"{flops['projection']}, MLP {flops['mlp']}, decode {flops['decode']}.", 112, initial_indent=" * ",
        subsequent_indent=" * ")
    cost = "" if literals else ("\n * COST BUILD (deploy/cost.py): the large arrays are filled by pca_init(), not "
                                "the model's values.")
    return f"""\
/* pca_model.c: the PCA-Net (ref. [25] of Liu et al. 2023; learning.pca_net) of
 *   {source_name}
 * generated by rno-export --format pca-c (deploy/pca_net.py); do not edit, export again. Dependency-free C99.{cost}
 *
 * At step n, per point, in float64 (learning.pca_net.PCANet.forward of the held history, row n):
 *   h      = [x^0 .. x^n, x^n .. x^n]                     N+1 rows: the history, held from t_n (state)
 *   a_c    = (W_c^T (h_c - m_c) - A_SHIFT) / A_SCALE       projection on the input bases, all N+1 rows
 *   b      = MLP(a) B_SCALE + B_SHIFT                      SELU between hidden layers, linear output
 *   y^n_c  = V_c[n, :] b_c + n_c[n]                        the stress at t_n alone (one row of the decode)
{model}
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pca_model.h"

{_constants(kn, width)}
{arrays}{_dense()}{"" if literals else _init(fills)}
/* the MLP over nblk panels of NR points: input in a, output in {out} (the layers alternate between a and b) */
static const double *net(int nblk, double *a, double *b)
{{
{calls}
    return {out};
}}

int pca_step(int nblock, const double *x, const double *x_prev, const double *state_old, double *stress,
             double *state_new)
{{
    const int nc = PCA_N_COMP_IN, nt = PCA_N_TIMES;
    double *work, *a, *b, *z;
    int step[CHUNK];  /* per point of the chunk: its step n, or -1 if its history was full */
    int p0, p, c, i, j, status = 0;
    work = (double *)malloc(sizeof(double) * ((size_t)2 * CHUNK * WIDTH + (size_t)CHUNK * N_IN));
    if (work == NULL) return 1;
    a = work;                        /* panel buffers of the MLP's layers */
    b = a + (size_t)CHUNK * WIDTH;
    z = b + (size_t)CHUNK * WIDTH;   /* per point: the N_IN standardised input coefficients */
    for (p0 = 0; p0 < nblock; p0 += CHUNK) {{
        const int np = nblock - p0 < CHUNK ? nblock - p0 : CHUNK;  /* points of this chunk */
        const int nblk = (np + NR - 1) / NR;                       /* panels of NR points */
        const double *out;
        for (p = 0; p < np; p++) {{
            const size_t q = (size_t)p0 + p;
            const double *so = state_old + q * PCA_NSTATE, *xq = x + q * nc;
            double *sn = state_new + q * PCA_NSTATE, *h = sn + 1, *zp = z + (size_t)p * N_IN;
            const double done = so[0];
            int n;
            memcpy(sn, so, sizeof(double) * PCA_NSTATE);
            if (!(done >= 0.0 && done < (double)(nt - 1))) {{  /* history full (or a bad count): no t_(n+1) */
                step[p] = -1;
                status = 2;
                for (i = 0; i < N_IN; i++) zp[i] = 0.0;
                continue;
            }}
            n = (int)done + 1;
            if (n == 1)  /* x^0 */
                for (c = 0; c < nc; c++) h[c] = x_prev ? x_prev[q * nc + c] : xq[c];
            for (j = n; j < nt; j++)  /* x^n at t_n, held to t_N */
                for (c = 0; c < nc; c++) h[(size_t)j * nc + c] = xq[c];
            sn[0] = (double)n;
            step[p] = n;
            for (c = 0; c < nc; c++) {{  /* a_c = W_c^T (h_c - m_c) over all N+1 rows */
                double acc[M_IN];
                const double *w = IN_BASIS + (size_t)c * nt * M_IN;
                for (i = 0; i < M_IN; i++) acc[i] = 0.0;
                for (j = 0; j < nt; j++, w += M_IN) {{
                    const double v = h[(size_t)j * nc + c] - IN_MEAN[(size_t)c * nt + j];
                    for (i = 0; i < M_IN; i++) acc[i] += v * w[i];
                }}
                for (i = 0; i < M_IN; i++) zp[c * M_IN + i] = (acc[i] - A_SHIFT[c * M_IN + i]) / A_SCALE[c * M_IN + i];
            }}
        }}
        fill(a, N_IN, 0, N_IN, z, np, nblk);
        out = net(nblk, a, b);
        for (p = 0; p < np; p++) {{  /* y^n_c = V_c[n, :] (out B_SCALE + B_SHIFT) + n_c[n]: row n alone */
            const size_t q = (size_t)p0 + p;
            const int n = step[p];
            for (c = 0; c < PCA_N_COMP_OUT; c++) {{
                double s = 0.0;
                const double *v = OUT_BASIS + ((size_t)c * nt + (n < 0 ? 0 : n)) * M_OUT;
                if (n < 0) {{
                    stress[q * PCA_N_COMP_OUT + c] = NAN;
                    continue;
                }}
                for (i = 0; i < M_OUT; i++) {{
                    const int k = c * M_OUT + i;
                    s += (out[AT(p, k, {out_width})] * B_SCALE[k] + B_SHIFT[k]) * v[i];
                }}
                stress[q * PCA_N_COMP_OUT + c] = s + OUT_MEAN[(size_t)c * nt + n];
            }}
        }}
    }}
    free(work);
    return status;
}}
"""


# -------------------------------------------------------------------------------------------- export, README
def texts(model, fmt: str, source_name: str, input_name: str | None = None) -> dict[str, str]:
    """The files of ``fmt`` (FORMATS) and README.md for a PCANet (or a PCAKernel)."""
    if fmt not in FORMATS:
        raise ValueError(f"PCA-Net formats: {sorted(FORMATS)}, got {fmt!r}")
    from .export import FREEFORM
    kn = model if isinstance(model, PCAKernel) else PCAKernel.of(model, input_name)
    if fmt == "pca-c":
        out = {"pca_model.h": header(kn, source_name), "pca_model.c": source(kn, source_name)}
    elif fmt == "pca-fortran":
        out = {"pca_kernel.f90": fortran_module(kn, source_name)}
    else:
        out = {"pca_vumat.f90": FREEFORM + vumat(kn, source_name)}
    out["README.md"] = readme(kn, fmt, source_name)
    return out


def readme(kn: PCAKernel, fmt: str, source_name: str) -> str:
    fl = kn.flops()
    dt = np.diff(kn.time)
    grid = (f"uniform, dt = {float(dt[0])!r} s" if dt.size and np.allclose(dt, dt[0], rtol=1e-9, atol=0)
            else "not uniform: PCA_TIME")
    d = next((d for d in range(1, 4) if d * (d + 1) // 2 == kn.c_in), 0)
    comps = ", ".join(f"{i + 1}{j + 1}" for i in range(d) for j in range(i, d)) if d else f"{kn.c_in} values"
    return f"""# PCA-Net export ({fmt})

Generated by `rno-export --format {fmt}` (deploy/pca_net.py, docs/export.md) from `{source_name}`. Do not edit:
export again.

Files: {", ".join(f"`{f}`" for f in FORMATS[fmt])}. The trained weights, the PCA bases, the means and the coefficient
standardisation are literals in the source (float64, every digit that reads back exactly); nothing else is needed
to build it (C: libm; Fortran: no library). With ref. [25]'s sizes (100 modes x 6, MLP 600-1000x4-600) that is
about 4.4 million literals (~100 MB of source; gcc takes about half a minute and 1 GB to compile it).

## The model

The PCA-Net of ref. [25] (`learning.pca_net`): per-component PCA of the whole input history on a fixed grid of
N + 1 = {kn.n_times} times (t_N = {float(kn.time[-1])!r} s), an MLP {kn.shape()} with SELU between its layers,
per-component PCA decode of the whole stress history. Input x: `{kn.input_name or "unknown"}`, {kn.c_in}
components ({comps}); stress: {kn.c_out} components, MPa. Modes per component: {kn.m_in} in, {kn.m_out} out.

A PCA-Net predicts whole histories only; at step n the kernel feeds it the history held from t_n on,
h = [x^0 .. x^n, x^n .. x^n], and returns row n of the decoded stress: the model's stress at t_n for the path that
stops there. (The original VUMAT of ref. [25] extrapolates the last increment linearly instead.)

* **Step n of your code is t_n of the model's grid**: the time step must be the model's
  ({grid}), and
  an analysis has at most N = {kn.n_times - 1} steps (step N + 1 returns 2 and NaN stress). The kernel does not
  read dt.
* FLOPs per point-step: projection {fl['projection']:,} + MLP {fl['mlp']:,} + decode of one row {fl['decode']:,}
  = {fl['total']:,} (decoding the whole history, as the original VUMAT does, would be {fl['decode_whole_history']:,}).

## State variables: {kn.n_state} per point

`PCA_NSTATE` = 1 + (N + 1) x {kn.c_in} = {kn.n_state}: [0] the steps done n (start from 0), then the history
h(t_j), j = 0 .. N, {kn.c_in} values per row. All zero is the initial state. In ABAQUS terms: `*Depvar` {kn.n_state}.

{_usage(kn, fmt)}"""


def _usage(kn: PCAKernel, fmt: str) -> str:
    from .export import FLAGS
    api = f"""x ({kn.c_in} per point), stress ({kn.c_out} per point), state ({kn.n_state} per point), one point's values
contiguous (C: row-major `[nblock][n]`; Fortran: `x(n, nblock)`). x_prev is read at the first step only, as x^0
(absent/NULL: x^0 = x). Status 0 = ok, 1 = out of memory, 2 = a point's history was full (its stress NaN, its
state copied). Reentrant (work memory per call, read-only weights)."""
    if fmt == "pca-c":
        return f"""## Build and use (C99)

    gcc {FLAGS} -c pca_model.c                       # pca_model.o; link with -lm
    gcc {FLAGS} -shared -fPIC pca_model.c -o libpca.so -lm

    #include "pca_model.h"
    int status = pca_step(nblock, x, x_prev, state_old, stress, state_new);

{api} The source is C99 (`-std=c99 -pedantic -Wall -Wextra` compiles it without warnings)."""
    if fmt == "pca-fortran":
        return f"""## Build and use (Fortran 2008)

    gfortran {FLAGS} -c pca_kernel.f90             # pca_kernel.o, pca_kernel.mod
    gfortran {FLAGS} -shared -fPIC pca_kernel.f90 -o libpca.so

    use pca_kernel, only: pca_step
    call pca_step(nblock, x, x_prev, state_old, stress, state_new, stat)
    call pca_step(nblock, x, state_old=state_old, stress=stress, state_new=state_new, stat=stat)   ! x^0 = x

{api} `pca_step` is also callable from C with the C export's prototype (`bind(C, name="pca_step")`)."""
    return f"""## ABAQUS/Explicit (VUMAT)

    abaqus job=JOB input=JOB.inp user=pca_vumat.f90 double=both

* `double=both` (or `double=explicit`): the subroutine's reals are double precision.
* Material definition ({kn.n_state} state variables: the step count and the history; more are carried unchanged):

      *Material, name=PCANET
      *Density
      1.74e-9,
      *User Material, constants=0
      *Depvar
      {kn.n_state},

* **Fixed time step**: increment n must be t_n of the model's grid, so run with a fixed time increment
  (`*Dynamic, Explicit, fixed time incrementation` with the model's dt, or a step of that length), and at most
  N = {kn.n_times - 1} increments: one more stops the analysis (`error stop`), as the model has no t_(N+1).
* Conventions as the RNO VUMAT: 11, 22, 33, 12, 23, 31 with tensor shear; the model reads `stretchNew` (U, x =
  {"U" if kn.input_name == "F" else "U - I"}; x^0 from `stretchOld` at the first increment) and writes `stressNew`,
  the corotational Cauchy stress = the model's stress at U. 3D, plane strain and axisymmetric (nshr = 1); no plane
  stress.
* Data check (stepTime = totalTime = 0): the model's stress at t_1 of the path x^0 = I, x^1 = I + strainInc held,
  with the state unchanged. Annealing: stress 0 and a new history. `enerInternNew`: the trapezoid rule;
  `enerInelasNew` carried unchanged.
* The file is free-form Fortran 2008 (module `pca_kernel`, then `vumat`); its first line `!DIR$ FREEFORM` tells
  Intel Fortran to read it as free form.

Units: MPa and s (e.g. mm, s, N, MPa, tonne)."""


# ----------------------------------------------------------------------------------------- Fortran 2008, VUMAT
def fortran_module(kn: PCAKernel, source_name: str) -> str:
    """Module pca_kernel: pca_step (module procedure) and its C entry bind(C, name="pca_step") with the C kernel's
    prototype; the same arithmetic as the C kernel."""
    from .fortran import _helpers, check_lines, data, network_parameters

    n_in = kn.c_in * kn.m_in
    packed = packed_layers(kn.net, n_in)
    width = max([n_in] + [n_o for _, n_o, _, _, _ in packed])
    out_width = packed[-1][1]
    decls, calls = [], []
    bufs = ("a", "b")
    for i, (n_i, n_o, w, b, selu) in enumerate(packed, 1):
        true = kn.net[i - 1]
        what = f"MLP layer {i}: {true.n_in} -> {true.n_out}" + (f" (padded to {n_o})" if n_o != true.n_out else "")
        decls.append(data(f"NET_W{i}", w, what + ", weights in panels of MR rows"))
        decls.append(data(f"NET_B{i}", b, what + ", bias"))
        calls.append(f"    call dense({n_i}, {n_o}, nblk, NET_W{i}, NET_B{i}, {'.true.' if selu else '.false.'}, "
                     f"{bufs[(i - 1) % 2]}, {bufs[i % 2]})")
    out = bufs[len(packed) % 2]
    arrays = "".join(data(name, v, what) for name, v, what in (
        ("PCA_TIME", kn.time, "the model's grid t_0 .. t_N, s"),
        ("IN_BASIS", kn.in_basis, f"input PCA bases, W_c(i, j) at i + M_IN (j + NT c): ({kn.c_in}, {kn.n_times}, "
                                  f"{kn.m_in}) row-major"),
        ("IN_MEAN", kn.in_mean, "input means m_c(j) at 1 + j + NT c"),
        ("A_SHIFT", kn.a_shift, "input coefficients: shift"), ("A_SCALE", kn.a_scale, "input coefficients: scale"),
        ("B_SHIFT", kn.b_shift, "output coefficients: shift"), ("B_SCALE", kn.b_scale, "output coefficients: scale"),
        ("OUT_BASIS", kn.out_basis, f"output PCA bases ({kn.c_out}, {kn.n_times}, {kn.m_out}) row-major"),
        ("OUT_MEAN", kn.out_mean, "output means, MPa")))
    text = f"""\
! pca_kernel: the PCA-Net (ref. [25] of Liu et al. 2023; learning.pca_net) of
!   {source_name}
! generated by rno-export (deploy/pca_net.py); do not edit, export again. Standard Fortran 2008, no library.
!
! At step n, per point, in real(dp) = float64 (learning.pca_net.PCANet.forward of the held history, row n):
!   h      = [x^0 .. x^n, x^n .. x^n]                     N+1 rows: the history, held from t_n (state)
!   a_c    = (W_c^T (h_c - m_c) - A_SHIFT) / A_SCALE       projection on the input bases, all N+1 rows
!   b      = MLP(a) B_SCALE + B_SHIFT                      SELU between hidden layers, linear output
!   y^n_c  = V_c[n, :] b_c + n_c[n]                        the stress at t_n alone (one row of the decode)
! State per point (PCA_NSTATE = 1 + (N+1) PCA_N_COMP_IN): the steps done n, then h(t_j), j = 0 .. N.
module pca_kernel
  use, intrinsic :: iso_c_binding, only: c_int, c_double, c_ptr, c_associated, c_f_pointer
  use, intrinsic :: iso_fortran_env, only: int64
  use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan
  implicit none
  private
  public :: pca_step, pca_step_c

  integer, parameter, public :: dp = c_double
  integer, parameter, public :: PCA_N_COMP_IN = {kn.c_in}  ! input components x
  integer, parameter, public :: PCA_N_COMP_OUT = {kn.c_out}  ! stress components, MPa
  integer, parameter, public :: PCA_N_TIMES = {kn.n_times}  ! N + 1
  integer, parameter, public :: PCA_NSTATE = {kn.n_state}  ! 1 + PCA_N_TIMES PCA_N_COMP_IN
  character(len=*), parameter, public :: PCA_INPUT = "{kn.input_name or 'unknown'}"

  integer, parameter :: NT = PCA_N_TIMES, NC = PCA_N_COMP_IN
  integer, parameter :: M_IN = {kn.m_in}, M_OUT = {kn.m_out}, N_IN = {n_in}
{network_parameters(width)}

{arrays}{"".join(decls)}
contains
{_helpers()}
  !> the MLP over nblk panels of NR points: input in a, output in {out} (the layers alternate between a and b)
  subroutine net(nblk, a, b)
    integer, intent(in) :: nblk
    real(dp), intent(inout), contiguous :: a(:), b(:)
{chr(10).join(calls)}
  end subroutine net

  !> Step n = n_old + 1 of nblock points (n_old = state_old(1, p)): x = x^n, x_prev = x^0 read at the first step
  !> only (absent: x^0 = x); the held history and n to state_new, the stress at t_n (MPa) to stress.
  !> stat: 0; 1 if out of memory (absent: stop); 2 if a point had done N steps (NaN stress, state copied).
  subroutine pca_step(nblock, x, x_prev, state_old, stress, state_new, stat)
    integer, intent(in) :: nblock
    real(dp), intent(in) :: x(NC, nblock), state_old(PCA_NSTATE, nblock)
    real(dp), intent(in), optional :: x_prev(NC, nblock)
    real(dp), intent(out) :: stress(PCA_N_COMP_OUT, nblock), state_new(PCA_NSTATE, nblock)
    integer, intent(out), optional :: stat
    real(dp), allocatable :: a(:), b(:), z(:, :), coef(:, :)
    real(dp) :: acc(M_IN), v, s, done
    integer :: step(CHUNK), p0, np, nblk, p, q, c, i, j, k, n, err, status
    allocate(a(CHUNK * WIDTH), b(CHUNK * WIDTH), z(N_IN, CHUNK), stat=err)
    if (present(stat)) stat = min(err, 1)
    if (err /= 0) then
      if (present(stat)) return
      error stop "pca_step: cannot allocate the work buffers"
    end if
    status = 0
    do p0 = 0, nblock - 1, CHUNK
      np = min(CHUNK, nblock - p0)  ! points of this chunk
      nblk = (np + NR - 1) / NR  ! panels of NR points
      do p = 1, np
        q = p0 + p
        state_new(:, q) = state_old(:, q)
        done = state_old(1, q)
        if (.not. (done >= 0.0_dp .and. done < real(NT - 1, dp))) then  ! history full: no t_(n+1)
          step(p) = -1
          status = 2
          z(:, p) = 0.0_dp
          cycle
        end if
        n = int(done) + 1
        if (n == 1) then  ! x^0
          if (present(x_prev)) then
            state_new(2:1 + NC, q) = x_prev(:, q)
          else
            state_new(2:1 + NC, q) = x(:, q)
          end if
        end if
        do j = n, NT - 1  ! x^n at t_n, held to t_N
          state_new(2 + j * NC:1 + (j + 1) * NC, q) = x(:, q)
        end do
        state_new(1, q) = real(n, dp)
        step(p) = n
        do c = 0, NC - 1  ! a_c = W_c^T (h_c - m_c) over all N+1 rows
          acc = 0.0_dp
          do j = 0, NT - 1
            v = state_new(2 + j * NC + c, q) - IN_MEAN(1 + j + NT * c)
            k = (j + NT * c) * M_IN
            acc = acc + v * IN_BASIS(k + 1:k + M_IN)
          end do
          z(c * M_IN + 1:(c + 1) * M_IN, p) = (acc - A_SHIFT(c * M_IN + 1:(c + 1) * M_IN)) &
              / A_SCALE(c * M_IN + 1:(c + 1) * M_IN)
        end do
      end do
      call fill(a, N_IN, nblk, 0, z(:, 1:np), np)
      call net(nblk, a, b)
      coef = take({out}, {out_width}, nblk, PCA_N_COMP_OUT * M_OUT, np)
      do p = 1, np  ! y^n_c = V_c[n, :] (coef B_SCALE + B_SHIFT) + n_c[n]: row n alone
        q = p0 + p
        n = step(p)
        if (n < 0) then
          stress(:, q) = ieee_value(1.0_dp, ieee_quiet_nan)
          cycle
        end if
        do c = 0, PCA_N_COMP_OUT - 1
          s = 0.0_dp
          do i = 1, M_OUT
            k = c * M_OUT + i
            s = s + (coef(k, p) * B_SCALE(k) + B_SHIFT(k)) * OUT_BASIS((n + NT * c) * M_OUT + i)
          end do
          stress(c + 1, q) = s + OUT_MEAN(1 + n + NT * c)
        end do
      end do
    end do
    if (present(stat)) then
      stat = status
    end if
  end subroutine pca_step

  !> C entry (the prototype of the C export's pca_step): arrays row-major (nblock, n), x_prev = NULL: x^0 = x;
  !> returns 0, 1 if out of memory, 2 if a point's history was full.
  integer(c_int) function pca_step_c(nblock, x, x_prev, state_old, stress, state_new) bind(C, name="pca_step")
    integer(c_int), value, intent(in) :: nblock
    real(c_double), intent(in) :: x(NC, nblock), state_old(PCA_NSTATE, nblock)
    type(c_ptr), value, intent(in) :: x_prev
    real(c_double), intent(out) :: stress(PCA_N_COMP_OUT, nblock), state_new(PCA_NSTATE, nblock)
    real(c_double), pointer :: xp(:, :)
    integer :: stat
    if (c_associated(x_prev)) then
      call c_f_pointer(x_prev, xp, [NC, int(nblock)])
      call pca_step(int(nblock), x, xp, state_old, stress, state_new, stat)
    else
      call pca_step(int(nblock), x, state_old=state_old, stress=stress, state_new=state_new, stat=stat)
    end if
    pca_step_c = int(stat, c_int)
  end function pca_step_c

end module pca_kernel
"""
    check_lines(text)
    return text


def vumat(kn: PCAKernel, source_name: str) -> str:
    """pca_vumat.f90: module pca_kernel and an ABAQUS/Explicit vumat keeping the history in stateOld/stateNew."""
    from .abaqus import _shift, vumat_arguments, vumat_checks, vumat_closing, vumat_scatter
    from .fortran import check_lines

    if kn.c_in != 6 or kn.c_out != 6:
        raise ValueError("the PCA-Net VUMAT needs a model of a 3D input and the whole stress (6 components each); "
                         f"this one has {kn.c_in} in, {kn.c_out} out. Export it with --format pca-c instead.")
    if kn.input_name not in ("F", "strain"):
        raise ValueError("the PCA-Net VUMAT needs to know whether the model's input is F or strain (config.json "
                         "data.input): pass --input F or --input strain")
    strain = kn.input_name == "strain"
    scatter = vumat_scatter("  ")
    if strain:
        check_input = "    ! strain input: x = U - I = strainInc, x^0 = 0\n    x_prev = 0.0_dp"
        to_strain = ("\n    ! strain input: x = U - I\n" + _shift("x", "-", "    ") + "\n"
                     + _shift("x_prev", "-", "    "))
    else:
        check_input = ("    ! F input: x = U = I + strainInc, x^0 = I\n" + _shift("x", "+", "    ")
                       + "\n    x_prev = 0.0_dp\n" + _shift("x_prev", "+", "    "))
        to_strain = ""
    arguments = vumat_arguments("use pca_kernel, only: dp, pca_step, PCA_N_COMP_IN, PCA_N_COMP_OUT, PCA_NSTATE")
    checks = vumat_checks("pca", "PCA_NSTATE", f"{kn.n_state} state variables (step count, history)")
    text = fortran_module(kn, source_name) + f"""

!> ABAQUS/Explicit user material: the PCA-Net of module pca_kernel, as ref. [25] ran it: the input history in the
!> state variables, the whole network every increment. Increment n of the analysis is t_n of the model's grid.
!> In: stretchNew (U at the end of the increment; 11, 22, 33, 12, 23, 31, tensor shear), stretchOld at the first
!> increment (x^0), stateOld(:, 1:{kn.n_state}) = [n, history]. Out: stressNew = the corotational Cauchy stress = the
!> model's stress at U (MPa), stateNew. State variables past {kn.n_state} are carried unchanged.
!> Data check (stepTime = totalTime = 0): the model's stress at t_1 of the path x^0 = I, x^1 = I + strainInc held,
!> state unchanged. Annealing: stress 0, state 0 (a new history). enerInternNew: the trapezoid rule.
!> More increments than the model's N: error stop (the model has no t_(N+1)).
{arguments}  real(dp), allocatable :: sold(:, :), snew(:, :)
  real(dp) :: x(PCA_N_COMP_IN, nblock), x_prev(PCA_N_COMP_IN, nblock), sigma(PCA_N_COMP_OUT, nblock), &
      work(nblock)
  integer :: i, stat

{checks}
  allocate(sold(PCA_NSTATE, nblock), snew(PCA_NSTATE, nblock))
  if (nstatev > PCA_NSTATE) stateNew(:, PCA_NSTATE + 1:) = stateOld(:, PCA_NSTATE + 1:)
  if (stepTime == 0.0_dp .and. totalTime == 0.0_dp) then
    ! data check: elastic answer, state unchanged
    call gather(strainInc)
{check_input}
    sold = 0.0_dp
    call pca_step(nblock, x, x_prev, sold, sigma, snew, stat)
    stateNew(:, 1:PCA_NSTATE) = stateOld(:, 1:PCA_NSTATE)
  else if (lanneal == 1) then
    ! annealing: back to the reference state, a new history
    sigma = 0.0_dp
    stateNew(:, 1:PCA_NSTATE) = 0.0_dp
    stat = 0
  else
    ! increment n: x^n from U at the end (x^0 from U at the start of the first increment)
    call gather(stretchOld)
    x_prev = x
    call gather(stretchNew){to_strain}
    sold = transpose(stateOld(:, 1:PCA_NSTATE))
    call pca_step(nblock, x, x_prev, sold, sigma, snew, stat)
    stateNew(:, 1:PCA_NSTATE) = transpose(snew)
  end if
  if (stat == 1) error stop "pca vumat: out of memory"
  if (stat == 2) error stop "pca vumat: more increments than the model's N steps (its grid: PCA_N_TIMES times)"
{scatter}

{vumat_closing()}"""
    check_lines(text)
    return text
