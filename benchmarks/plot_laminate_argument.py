"""Figure and table of the three-variable argument on the viscoplastic laminate (benchmarks/laminate_argument.py).

    python benchmarks/plot_laminate_argument.py [--out docs/figures/laminate_argument]

Panels: (a) layer equality of the plastic strain vs the rate exponent m (sigma0 = [50, 500] MPa, T = 200 s) with the
compatibility bound 2R; (b) the point-wise equality vs the plastic strain magnitude; (c) eq. (25) test error vs the
autoencoder's latent size (T = 200 s); (d) the equality and eq. (25) at latent size 3 vs the path duration T.
Writes <out>.png, <out>.pdf and prints a Markdown table of the numbers.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from dataset.figstyle import colors, figure, panel_label, save_figure

RESULTS = Path(__file__).resolve().parent / "results" / "laminate_argument"
T_PAPER = 200.0
SWEEP = ("m0.01", "m0.02", "m0.05", "m0.1", "m0.2")  # the m sweep (sigma0 = [50, 500] MPa, m in both layers)
RATE = ("M3", "m0.01", "m0.2")  # materials of the loading-rate sweep
STYLE = {"M3": ("k", "s"), "MH": ("0.55", "D")}


def load() -> dict[str, dict]:
    return {r["setting"]: r for r in (json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json")))}


def pick(runs: dict, material: str, T: float = T_PAPER) -> dict | None:
    return next((r for r in runs.values() if r["material"] == material and r["T"] == T), None)


def eq25(r: dict, latent: int) -> float:
    return next(e["test_error"] for e in r["autoencoder"]["errors"] if e["latent"] == latent)


def table(runs: dict) -> str:
    head = ("| setting | σ0 (MPa) | m | T (s) | D22 | D33 | D_if | 2R | D12 | hard/soft ε12ᵖ | s̄/σ0 (+, −) "
            "| eq. 25, m = 1..6 (%) | m* | knee | CPU s |")
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    order = sorted(runs.values(), key=lambda r: (r["material"] not in SWEEP, r["material"], r["T"]))
    for r in order:
        me, ae = r["measures"], r["autoencoder"]
        fl = me["flow"]["sbar_over_sigma0"]
        errs = " / ".join(f"{100 * e['test_error']:.1f}" for e in ae["errors"])
        rows.append(f"| {r['setting']} | {r['sigma0'][0]:g}, {r['sigma0'][1]:g} | {r['m'][0]:g}, {r['m'][1]:g} | "
                    f"{r['T']:g} | {me['D']['22']:.3f} | {me['D']['33']:.3f} | {me['D_interface']:.3f} | "
                    f"{2 * me['R_interface']:.3f} | {me['D']['12']:.2f} | {me['shear_ratio_hard_soft']:.3f} | "
                    f"{fl[0]:.2f}, {fl[1]:.2f} | {errs} | {ae['latent_dimension']} | {ae['sharpest_drop']} | "
                    f"{r['cpu_s']['total']:.0f} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "figures" /
                                             "laminate_argument"))
    args = parser.parse_args()
    runs = load()
    if not runs:
        raise SystemExit(f"no results under {RESULTS}: run benchmarks/laminate_argument.py first")
    fig, axes = figure(2, 2, figsize=(10.0, 7.6))
    (a, b), (c, d) = axes

    # (a) equality measures vs m at T = 200 s
    sweep = [r for r in (pick(runs, s) for s in SWEEP) if r is not None]
    if sweep:
        m = [r["m"][0] for r in sweep]
        for key, label, style in (("22", r"$D_{22}$", "o-"), ("33", r"$D_{33}$", "v-")):
            a.plot(m, [r["measures"]["D"][key] for r in sweep], style, ms=4, lw=1.1, label=label)
        a.plot(m, [r["measures"]["D_interface"] for r in sweep], "s-", ms=4, lw=1.6, color="C3",
               label=r"$D_{if}$ (22 and 33)")
        a.plot(m, [2 * r["measures"]["R_interface"] for r in sweep], "--", lw=1.2, color="C3",
               label=r"bound $2R$ (elastic / plastic)")
        a.plot(m, [r["measures"]["shear_ratio_hard_soft"] for r in sweep], "^:", ms=4, lw=1.1, color="C4",
               label=r"$\|\varepsilon^p_{12}\|$ hard / soft")
    for name in ("M3", "MH"):
        r = pick(runs, name)
        if r is not None:
            col, mk = STYLE[name]
            x = r["m"][int(r["measures"]["hard_layer"])]
            a.plot([x], [r["measures"]["D_interface"]], mk, color=col, ms=6, mfc="none")
            a.annotate(f"{name}: $D_{{if}}$ = {r['measures']['D_interface']:.3f}", (x, r["measures"]["D_interface"]),
                       xytext=(-8, -14 if name == "M3" else 14), textcoords="offset points", ha="right", fontsize=7,
                       color=col)
    a.set_xscale("log")
    a.set_xlabel("rate exponent m (both layers; M3, MH at the hard layer's m)")
    a.set_ylabel("layer difference / ratio (1)")
    a.set_ylim(bottom=-0.005)
    a.legend(fontsize=7)
    panel_label(a, "a", r"$\sigma_0$ = [50, 500] MPa, T = 200 s")

    # (b) point-wise equality vs plastic strain magnitude
    sel = [(pick(runs, "m0.01"), "m = 0.01"), (pick(runs, "m0.2"), "m = 0.2"), (pick(runs, "M3"), "M3"),
           (pick(runs, "M3", 20.0), "M3, T = 20 s"), (pick(runs, "M3", 2000.0), "M3, T = 2000 s")]
    sel = [(r, lab) for r, lab in sel if r is not None]
    for (r, lab), col in zip(sel, colors(len(sel))):
        pw = r["measures"]["pointwise"]
        e = np.asarray(pw["edges"])
        centre = np.sqrt(np.maximum(e[:-1], 0.5 * e[1]) * e[1:])  # geometric centre (first bin from e1 / 2)
        keep = np.asarray(pw["fraction"]) > 0
        b.plot(centre[keep], np.asarray(pw["median_d"])[keep], "o-", ms=3.5, lw=1.1, color=col, label=lab)
        b.plot(centre[keep], 2 * np.asarray(pw["median_r"])[keep], ":", lw=1.0, color=col)
    b.axhline(np.sqrt(2.0), color="0.5", lw=0.8, ls="--")
    b.annotate(r"$\sqrt{2}$: one layer elastic", (1.0, np.sqrt(2.0)), xycoords=("axes fraction", "data"),
               xytext=(-4, 4), textcoords="offset points", ha="right", fontsize=7, color="0.4")
    b.set_xscale("log")
    b.set_yscale("log")
    b.set_xlabel(r"interface plastic strain magnitude $a$ (1)")
    b.set_ylabel(r"median point-wise layer difference $d$ (1)")
    b.legend(fontsize=7, title=r"solid $d$, dotted $2r$", title_fontsize=7)
    panel_label(b, "b", "test points, per bin of a")

    # (c) eq. (25) vs latent size at T = 200 s
    curves = [(r, f"m = {r['m'][0]:g}", col) for r, col in zip(sweep, colors(len(sweep)))]
    curves += [(pick(runs, n), n, STYLE[n][0]) for n in ("M3", "MH") if pick(runs, n) is not None]
    for r, lab, col in curves:
        ae = r["autoencoder"]
        lat = [e["latent"] for e in ae["errors"]]
        err = [100 * e["test_error"] for e in ae["errors"]]
        c.plot(lat, err, "o-", ms=3.5, lw=1.1, color=col, label=f"{lab} (m* = {ae['latent_dimension']})")
        c.plot([ae["latent_dimension"]], [err[lat.index(ae["latent_dimension"])]], "o", ms=8, mfc="none", color=col)
    c.set_yscale("log")
    c.set_xlabel("autoencoder latent size")
    c.set_ylabel("eq. (25) test error (%)")
    c.legend(fontsize=7)
    panel_label(c, "c", "T = 200 s; circle: latent size m*")

    # (d) rate sweep
    for name, col in zip(RATE, ("k", colors(len(SWEEP))[0], colors(len(SWEEP))[-1])):
        rs = sorted((r for r in runs.values() if r["material"] == name), key=lambda r: r["T"])
        if len(rs) < 2:
            continue
        T = [r["T"] for r in rs]
        lab = name if name == "M3" else f"m = {rs[0]['m'][0]:g}"
        d.plot(T, [100 * r["measures"]["D_interface"] for r in rs], "s-", color=col, ms=4, lw=1.3,
               label=f"{lab}: $D_{{if}}$")
        d.plot(T, [100 * eq25(r, 3) for r in rs], "o--", color=col, ms=4, lw=1.0, label=f"{lab}: eq. (25), size 3")
    d.set_xscale("log")
    d.set_xlabel(r"path duration T (s), same strain amplitude (strain rate $\propto$ 1/T)")
    d.set_ylabel("layer difference / eq. (25) error (%)")
    d.legend(fontsize=7, ncol=2, loc="center", bbox_to_anchor=(0.5, 0.62))
    latent = sorted({r["autoencoder"]["latent_dimension"] for r in runs.values() if r["material"] in RATE})
    panel_label(d, "d", f"loading rate; latent size m* = {', '.join(map(str, latent))}")

    fig.tight_layout()
    print(table(runs))
    print("->", ", ".join(map(str, save_figure(fig, args.out))))


if __name__ == "__main__":
    main()
