"""Uniaxial stress (tension and compression along a sample axis) of the Taylor magnesium polycrystal.

Boundary conditions. The axial stretch F_aa = exp(eps(t)) is prescribed (eps: axial true strain, constant true strain
rate |d eps/dt|); the other five components of a symmetric F (F = V, no rigid rotation: the sample axes stay fixed)
are solved at every step so that the five other Cauchy stress components vanish,

    sigma_bb = sigma_cc = sigma_ab = sigma_ac = sigma_bc = 0,   sigma = <P> F^T / det F   (Taylor average),

by Newton on those five components with a forward finite-difference Jacobian (taken once per step at the
predictor, a linear extrapolation of the last two steps; chord iterations after it, re-taken if they stall). Each
residual evaluation is one ``mechanics.crystal.update`` of all grains of all loadings from the state at the start of
the step (all grains x loadings x perturbations in one batch; no Python loop over grains). Units: MPa, s.

``main()`` (python -m taylor.uniaxial) runs tension and compression to 20 % true strain with 128 grains of the
taylor_mg defaults at the sampler's representative strain rate (``sampler_strain_rate``, 5e-3 /s) and at
gamma_dot0 = 1e-3 /s, prints the table of docs/taylor-uniaxial.md, and writes docs/figures/taylor_uniaxial.{json,
png,pdf}.
"""
from __future__ import annotations

import json
import time as _time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from dataset.case import Case
from mechanics import crystal, slip
from mechanics.tensor import cauchy

#: the five unknown components of the symmetric F (and of the vanishing Cauchy stress) for loading axis 0, 1, 2
_LATERAL = {a: [((a + 1) % 3, (a + 1) % 3), ((a + 2) % 3, (a + 2) % 3), (a, (a + 1) % 3), (a, (a + 2) % 3),
                ((a + 1) % 3, (a + 2) % 3)] for a in range(3)}


def young_modulus(mu: float, kappa: float) -> float:
    """Small-strain Young's modulus 9 kappa mu / (3 kappa + mu) (MPa) of the isotropic neo-Hookean W^e (A1)."""
    return 9.0 * kappa * mu / (3.0 * kappa + mu)


def strain_grid(eps_max: float = 0.2, d_fine: float = 1e-4, eps_fine: float = 0.01, d_coarse: float = 1e-3):
    """Axial true-strain magnitudes 0 ... eps_max: steps of d_fine up to eps_fine (the elastic-plastic transition),
    then about d_coarse."""
    fine = np.linspace(0.0, eps_fine, int(round(eps_fine / d_fine)) + 1)
    n = max(int(round((eps_max - eps_fine) / d_coarse)), 1)
    return np.concatenate([fine, np.linspace(eps_fine, eps_max, n + 1)[1:]])


def _assemble(eps, x, axis):
    """Symmetric F (..., 3, 3) from the axial true strain eps (...) and the five lateral components x (..., 5)."""
    F = np.zeros((*np.broadcast_shapes(np.shape(eps), np.shape(x)[:-1]), 3, 3))
    F[..., axis, axis] = np.exp(eps)
    for k, (i, j) in enumerate(_LATERAL[axis]):
        F[..., i, j] = F[..., j, i] = x[..., k]
    return F


def _lateral(sigma, axis):
    """The five Cauchy stress components that must vanish, (..., 5) MPa."""
    return np.stack([sigma[..., i, j] for i, j in _LATERAL[axis]], -1)


def uniaxial(strain, time, schmid, params: crystal.Params, *, axis: int = 0, tol: float = 1e-8,
             stress_tol: float = 1e-4, fd_step: float = 1e-6, max_iter: int = 25) -> dict:
    """Uniaxial-stress Taylor response along sample axis ``axis`` for L axial true-strain histories.

    strain (L, n_time): axial true strain eps = ln F_aa (positive: tension), strain[:, 0] = 0; time (n_time,) s;
    schmid (G, N, 3, 3) Schmid tensors of the G grains (``slip.schmid_tensors``); params of the N systems.
    stress_tol: the lateral Cauchy stresses are brought below it (MPa); tol goes to ``crystal.update``.
    Returns dict of arrays over (L, n_time):
      strain        the prescribed axial true strain eps = ln F_aa
      hencky_axial  (ln V)_aa, V = F (equals eps up to the square of the small shears F_ab, F_ac)
      stress        axial Cauchy stress sigma_aa (MPa)
      lateral_strain (L, n_time, 2): Hencky strains (ln V)_bb, (ln V)_cc of the two transverse axes
      twin_fraction grain mean of ``crystal.twin_fraction``
      slip          (L, n_time, 4): grain mean of the accumulated shear summed over each family's systems
                    (slip.HCP_FAMILIES; the twins' entry / twin shear is the twin fraction)
      sigma         (L, n_time, 3, 3) full Cauchy stress (MPa); F (L, n_time, 3, 3)
      residual      (L, n_time): max |lateral Cauchy stress| reached (MPa); converged (L,) bool (Newton and every
                    grain's update at every step)
    """
    strain = np.atleast_2d(np.asarray(strain, float))
    time = np.asarray(time, float)
    L, n_time = strain.shape
    G, N = np.shape(schmid)[:2]
    if time.shape != (n_time,) or np.any(strain[:, 0] != 0) or np.any(np.diff(time) <= 0):
        raise ValueError(f"uniaxial: strain (L, n_time) must start at 0 on an increasing time grid of {n_time} "
                         f"points, got strain {strain.shape}, time {time.shape}")
    fam = slip.hcp_systems()[2]
    state = crystal.initial_state((L, G), 3, N)
    x = np.tile([1.0, 1.0, 0.0, 0.0, 0.0], (L, 1))
    x_old = x.copy()
    eye5 = fd_step * np.eye(5)
    out = {"F": np.zeros((L, n_time, 3, 3)), "sigma": np.zeros((L, n_time, 3, 3)),
           "e": np.zeros((L, n_time, N)), "twin_fraction": np.zeros((L, n_time)), "residual": np.zeros((L, n_time))}
    out["F"][:, 0] = np.eye(3)
    converged = np.ones(L, bool)

    def evaluate(F, dt):  # F (L, K, 3, 3) -> (Cauchy stress (L, K, 3, 3), state, converged (L,)) from the step start
        st = {k: v[:, None] for k, v in state.items()}  # (L, 1, G, ...) against F (L, K, 1, 3, 3)
        P, new, ok = crystal.update(F[:, :, None], st, dt, schmid, params, tol=tol)
        return cauchy(P.mean(2), F), new, ok.all((1, 2))

    for k in range(1, n_time):
        dt = time[k] - time[k - 1]
        x_new = x.copy()
        if k > 1:  # predictor: linear extrapolation in the axial strain
            d_old = strain[:, k - 1] - strain[:, k - 2]
            ratio = (strain[:, k] - strain[:, k - 1]) / np.where(d_old != 0, d_old, np.inf)
            x_new += (x - x_old) * ratio[:, None]
        J = None
        for it in range(max_iter):
            if J is None:  # forward differences: the base point and five perturbed ones in one batch
                xs = x_new[:, None, :] + np.concatenate([np.zeros((1, 5)), eye5])[None]
                sig, new, ok = evaluate(_assemble(strain[:, k, None], xs, axis), dt)
                r_all = _lateral(sig, axis)
                r, sig, new = r_all[:, 0], sig[:, 0], {key: v[:, 0] for key, v in new.items()}
                J = np.swapaxes((r_all[:, 1:] - r[:, None]) / fd_step, -1, -2)  # (L, 5 residuals, 5 unknowns)
                r_first = np.abs(r).max()
            else:
                sig, new, ok = evaluate(_assemble(strain[:, k, None], x_new[:, None], axis), dt)
                r, sig, new = _lateral(sig, axis)[:, 0], sig[:, 0], {key: v[:, 0] for key, v in new.items()}
            err = np.abs(r).max()
            if err < stress_tol or it == max_iter - 1:  # x_new is the point of the state ``new``
                break
            x_new = x_new - np.linalg.solve(J, r[..., None])[..., 0]
            if it in (4, 12) and err > 1e-3 * r_first:  # chord iterations stall: a fresh Jacobian next time
                J = None
        x_old, x, state = x, x_new, new
        converged &= ok & (np.abs(r).max(-1) < stress_tol)
        out["F"][:, k] = _assemble(strain[:, k], x, axis)
        out["sigma"][:, k] = sig
        out["e"][:, k] = state["e"].mean(1)
        out["twin_fraction"][:, k] = crystal.twin_fraction(state["e"], params).mean(1)
        out["residual"][:, k] = np.abs(r).max(-1)
    w, v = np.linalg.eigh(out["F"])
    hencky = np.einsum("...ik,...k,...jk->...ij", v, np.log(w), v)
    b, c = _LATERAL[axis][0][0], _LATERAL[axis][1][0]
    return {"strain": strain, "hencky_axial": hencky[..., axis, axis], "stress": out["sigma"][..., axis, axis],
            "lateral_strain": np.stack([hencky[..., b, b], hencky[..., c, c]], -1),
            "twin_fraction": out["twin_fraction"],
            "slip": np.stack([out["e"][..., fam == i].sum(-1) for i in range(len(slip.HCP_FAMILIES))], -1),
            "sigma": out["sigma"], "F": out["F"], "residual": out["residual"], "converged": converged}


def tension_compression(schmid, params: crystal.Params, strain_rate: float, *, eps_max: float = 0.2,
                        axis: int = 0, grid: dict | None = None, **options) -> dict:
    """``uniaxial`` for tension and compression (L = 2, in this order) at the constant true strain rate
    strain_rate (1/s) to |eps| = eps_max on ``strain_grid(eps_max, **grid)``."""
    mag = strain_grid(eps_max, **(grid or {}))
    return uniaxial(np.stack([mag, -mag]), mag / strain_rate, schmid, params, axis=axis, **options)


def offset_yield(strain, stress, E: float, offset: float = 0.002) -> float:
    """|stress| (MPa) where the plastic strain |eps| - |sigma|/E first reaches ``offset`` (linear interpolation);
    NaN if never. The 0.2 % offset yield for offset = 0.002."""
    ep = np.abs(strain) - np.abs(stress) / E
    k = int(np.argmax(ep >= offset))
    if ep[k] < offset:
        return float("nan")
    s = (offset - ep[k - 1]) / (ep[k] - ep[k - 1])
    return float(abs(stress[k - 1]) + s * (abs(stress[k]) - abs(stress[k - 1])))


def at_strain(strain, values, eps: float) -> float:
    """values interpolated at |axial strain| = eps."""
    return float(np.interp(eps, np.abs(strain), values))


def summary(res: dict, E: float, strains=(0.05, 0.1, 0.2)) -> dict:
    """Offset yield (0.2 %), flow stress |sigma| (MPa) and twin fraction at ``strains`` for tension (index 0) and
    compression (index 1), with the asymmetry ratios compression/tension."""
    out = {}
    for name, i in (("tension", 0), ("compression", 1)):
        eps, sig, f = res["strain"][i], res["stress"][i], res["twin_fraction"][i]
        out[name] = {"yield_0.2%": offset_yield(eps, sig, E),
                     "flow_stress": {f"{e:g}": at_strain(eps, np.abs(sig), e) for e in strains},
                     "twin_fraction": {f"{e:g}": at_strain(eps, f, e) for e in strains},
                     "slip_per_family_at_max": dict(zip(slip.HCP_FAMILIES, map(float, res["slip"][i, -1])))}
    t, c = out["tension"], out["compression"]
    out["ratio_C/T"] = {"yield_0.2%": c["yield_0.2%"] / t["yield_0.2%"],
                        **{e: c["flow_stress"][e] / t["flow_stress"][e] for e in t["flow_stress"]}}
    out["max_lateral_stress_MPa"] = float(res["residual"].max())
    out["converged"] = bool(res["converged"].all())
    return out


def sampler_strain_rate(loading: dict, n_paths: int = 400, seed: int = 0) -> tuple[float, float]:
    """(mean, median) over paths and times of the von Mises equivalent strain rate sqrt(2/3 D':D') (1/s),
    D = sym(dF/dt F^-1), of the sampler's F paths (dataset.sampler, paper Section 2) with ``loading``."""
    from dataset.sampler import sample_paths

    p = sample_paths(n_paths, 3, np.random.default_rng(seed), F_max=float(loading["F_max"]), T=float(loading["T"]),
                     M=int(loading["M"]), n_steps=int(loading["n_steps"]), identity=True,
                     volumetric=float(loading.get("volumetric", 1.0)))
    Lv = np.gradient(p.values, p.time, axis=1) @ np.linalg.inv(p.values)
    D = 0.5 * (Lv + np.swapaxes(Lv, -1, -2))
    D = D - np.trace(D, axis1=-2, axis2=-1)[..., None, None] / 3 * np.eye(3)
    rate = np.sqrt(2.0 / 3.0 * (D * D).sum((-1, -2)))
    return float(rate.mean()), float(np.median(rate))


#: the taylor_mg case of main(): the schema defaults (pipeline/schemas/config.schema.yaml, $defs/taylor_mg_defaults,
#: equal to taylor.magnesium's sources; tests/test_taylor_uniaxial.py checks they match pipeline.config.make_case)
#: and the paper's loading (pipeline/registry.py). taylor/ may not import pipeline/ (tests/test_layers.py).
MAIN_CASE = {"seed": 0, "n_grains": 128, "mu": 17299.8, "kappa": 35229.3, "tau0": [10.0, 55.0, 60.0, 40.0],
             "xi_inf": [40.0, 135.0, 150.0], "h0": [500.0, 500.0, 500.0], "a": 2.25, "h0_twin_slip": 150.0,
             "c3": 1.0, "h0_twin_twin": 50.0, "gamma_dot0": 0.001, "m": 0.05, "tol": 1e-6,
             "loading": {"T": 200.0, "M": 10, "n_steps": 1000, "F_max": 0.01, "volumetric": 0.1}}
#: sampler's representative strain rate (1/s): sampler_strain_rate(MAIN_CASE["loading"]) = (5.06e-3, 4.42e-3)
SAMPLER_RATE = 5e-3
#: strain steps of the reduced check (``strain_grid`` arguments)
REDUCED_GRID = {"d_fine": 1e-3, "d_coarse": 1e-2}


def run_case(case: Case, rates, *, eps_max: float = 0.2, grid: dict | None = None) -> dict:
    """Tension and compression of ``case`` (its material and texture) at each strain rate (1/s): {rate: result}."""
    from . import magnesium

    params = magnesium.material(case)
    _, Q = magnesium.texture(case)
    b, n, _, _ = slip.hcp_systems()
    schmid = slip.schmid_tensors(b, n, Q)
    with threadpool_limits(limits=1):
        return {r: tension_compression(schmid, params, r, eps_max=eps_max, grid=grid,
                                       tol=float(case.config["tol"])) for r in rates}


def figure(results: dict, stem) -> list:
    """Stress-strain (|true stress| vs |true strain|) and twin fraction vs strain, tension and compression at each
    rate; saved deterministically as stem.{png,pdf}."""
    from dataset.figstyle import colors, figure as new_figure, panel_label, save_figure

    fig, (ax1, ax2) = new_figure(1, 2, figsize=(8.0, 3.4), constrained_layout=True)
    cols = colors(2)
    for (rate, res), ls in zip(sorted(results.items(), reverse=True), ("-", "--")):
        for i, name in enumerate(("tension", "compression")):
            label = f"{name}, {rate:g} /s"
            ax1.plot(np.abs(res["strain"][i]), np.abs(res["stress"][i]), ls, color=cols[i], label=label)
            ax2.plot(np.abs(res["strain"][i]), res["twin_fraction"][i], ls, color=cols[i], label=label)
    ax1.set(xlabel="true strain |eps| (-)", ylabel="true stress |sigma| (MPa)", xlim=(0, None), ylim=(0, None))
    ax2.set(xlabel="true strain |eps| (-)", ylabel="twin volume fraction, grain mean (-)", xlim=(0, None),
            ylim=(0, None))
    panel_label(ax1, "a", "uniaxial stress, Taylor, 128 grains")
    panel_label(ax2, "b")
    ax1.legend(fontsize=7)
    return save_figure(fig, stem)


def main(out_dir: str = "docs/figures") -> dict:
    """Tension and compression to 20 % at the sampler's rate and at gamma_dot0; print and save the table."""
    case = Case("taylor_mg", "uniaxial", MAIN_CASE)
    rates = (SAMPLER_RATE, float(MAIN_CASE["gamma_dot0"]))
    start = _time.process_time()
    results = run_case(case, rates)
    cpu = _time.process_time() - start
    E = young_modulus(MAIN_CASE["mu"], MAIN_CASE["kappa"])
    report = {"case": MAIN_CASE, "young_modulus_MPa": E, "axis": 0,
              "boundary_conditions": "uniaxial Cauchy stress along x (other five components < 1e-4 MPa), F "
                                     "symmetric, constant true strain rate",
              "sampler_strain_rate_mean_median": sampler_strain_rate(MAIN_CASE["loading"]),
              "rates": {f"{r:g}": summary(results[r], E) for r in rates}}
    # a reduced case that tests/test_taylor_uniaxial.py recomputes (8 grains, coarse steps)
    red = {"case": {"seed": 0, "n_grains": 8}, "strain_rate": SAMPLER_RATE, "eps_max": 0.2, "grid": REDUCED_GRID}
    red_case = Case("taylor_mg", "uniaxial", {**MAIN_CASE, **red["case"]})
    red["summary"] = summary(run_case(red_case, [SAMPLER_RATE], grid=REDUCED_GRID)[SAMPLER_RATE], E)
    report["reduced_check"] = red
    for r in rates:
        s = report["rates"][f"{r:g}"]
        print(f"strain rate {r:g} /s (converged {s['converged']}, max lateral stress "
              f"{s['max_lateral_stress_MPa']:.1e} MPa)")
        print("  quantity            tension  compression  C/T")
        keys = [("yield_0.2%", None)] + [("flow_stress", e) for e in ("0.05", "0.1", "0.2")]
        for key, e in keys:
            t = s["tension"][key] if e is None else s["tension"][key][e]
            c = s["compression"][key] if e is None else s["compression"][key][e]
            print(f"  {key + ('' if e is None else ' ' + e):18s} {t:8.1f} {c:11.1f} {c / t:6.2f}")
        for e in ("0.05", "0.1", "0.2"):
            print(f"  twin fraction {e:4s}  {s['tension']['twin_fraction'][e]:8.3f} "
                  f"{s['compression']['twin_fraction'][e]:11.3f}")
    print(f"CPU time {cpu:.1f} s (one BLAS thread)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=1, sort_keys=True, default=float)
    (out / "taylor_uniaxial.json").write_text(text + "\n")
    figure(results, out / "taylor_uniaxial")
    return report


if __name__ == "__main__":
    main()
