"""3D magnesium polycrystal by Taylor averaging (paper Section 5.2): producer ``taylor_mg``.

Each case has G grains (128 in the paper) with uniformly random orientations drawn once from case.rng("texture")
and stored in the dataset. Every grain follows the crystal plasticity of mechanics.crystal (paper Appendix A, in
3D) with the HCP systems of mechanics.slip; the deformation gradient is uniform over grains (Taylor), and the
macroscopic Cauchy stress is the grain average, sigma = <P> F^T / det F (F is common to all grains).
All grains of all samples advance together, one implicit step at a time (no Python loop over grains or samples).
Units: stress and moduli in MPa, time in s.

Parameter sources. Chang & Kochmann 2015 (the paper's ref. [8]) could not be accessed by this project. In its place
every value comes from the magnesium data that DAMASK (the project's crystal library) ships and cites in its example
material files (examples/config/phase/mechanical/{elastic/Hooke_Mg, plastic/phenopowerlaw_Mg}.yaml), with DAMASK's
own phenopowerlaw hardening and twinning rules (src/phase_mechanical_plastic_phenopowerlaw.f90; Roters et al. 2019,
Comput. Mater. Sci. 158:420). Derivations in docs/taylor.md; ``elastic_moduli``, ``plastic_defaults``:
  mu, kappa     the Hill (Voigt-Reuss mean) isotropic average of the Mg single-crystal constants of Tromans 2011,
                Int. J. Recent Res. Appl. Stud. 6:462 (C11, C12, C13, C33, C44 = 59.3, 25.7, 21.4, 61.5, 16.4 GPa):
                mu = 17.30 GPa, kappa = 35.23 GPa (the paper's polycrystal is elastically isotropic).
  tau0          initial resistances xi_0 of F. Wang et al. 2014, Acta Mater. 80:77: basal 10, prismatic 55,
                pyramidal <c+a> 60, {10-12} tension twin 40 MPa. With g(0) = 0 (slip from zero stress, paper
                footnote 3) the flow stress at gamma_dot0 starts at tau0, as xi_0 does there.
  hardening     crystal.PowerLawTotalSlip with the same source's values: slip saturates at xi_inf = 40, 135,
                150 MPa from h_0_sl-sl = 500 MPa with a = 2.25, driven by the total slip (every interaction
                coefficient 1); twin resistance grows by h_0_tw-sl = 150 MPa x Gamma_sl^c3 (c3 = 1, DAMASK's
                default) per unit slip and h_0_tw-tw = 50 MPa per unit twin shear.
  twinning      DAMASK's rule: twins shear only the untwinned volume, rate x (1 - f), f = twin shear / 0.129
                summed over the six twins, so 0 <= f <= 1 in every grain.
  gamma_dot0, m 1e-3 1/s and 1/n = 1/20 = 0.05 for every system (same source; one exponent for all, as the issue
                asks). The source's power law is in tau/xi, ours in the overstress (tau - g)/tau0 (paper A4).
  c/a = 1.624 (mechanics.slip.C_OVER_A); twin shear |3 - (c/a)^2| / (sqrt(3) c/a) = 0.129 (mechanics.slip.twin_shear).
"""
from __future__ import annotations

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from dataset.case import Case
from dataset.contract import build_dataset
from dataset.producer import Producer
from mechanics import crystal, slip
from mechanics.tensor import cauchy

NAME = "taylor_mg"
INPUT = "F"
DIM = 3
#: the paper's loading of Sections 2 and 5.2 (1000 steps on (0, 200] s), the volumetric part scaled by 0.1 (below);
#: the workflow's copy is pipeline/registry.py (tests/test_taylor.py checks that they agree)
LOADING = {"T": 200.0, "M": 10, "n_steps": 1000, "F_max": 0.01, "volumetric": 0.1}

#: Tromans 2011 single-crystal elastic constants of Mg (MPa), as cited by DAMASK's Hooke_Mg.yaml.
ELASTIC_CONSTANTS = {"C11": 59300.0, "C12": 25700.0, "C13": 21400.0, "C33": 61500.0, "C44": 16400.0}
#: F. Wang et al. 2014 phenomenological power law for Mg, as cited by DAMASK's phenopowerlaw_Mg.yaml (MPa, 1/s):
#: xi_0 per family (basal, prismatic, pyramidal <c+a>, tension twin), the slip saturation xi_inf and hardening
#: h_0_sl-sl, a per slip family, the twin hardening h_0_tw-sl, h_0_tw-tw, and the rate law (dot_gamma_0, n).
#: c_3 = 1 is DAMASK's default (the data set leaves it out).
WANG_2014 = {"xi_0": [10.0, 55.0, 60.0, 40.0], "xi_inf": [40.0, 135.0, 150.0], "h_0_sl-sl": [500.0] * 3,
             "a": 2.25, "h_0_tw-sl": 150.0, "c_3": 1.0, "h_0_tw-tw": 50.0, "dot_gamma_0": 1e-3, "n": 20.0}


def elastic_moduli(C11, C12, C13, C33, C44):
    """Hill average (mean of Voigt and Reuss) of hexagonal elastic constants: (mu, kappa) in their units."""
    C = np.zeros((6, 6))
    C[:3, :3] = [[C11, C12, C13], [C12, C11, C13], [C13, C13, C33]]
    C[3, 3] = C[4, 4] = C44
    C[5, 5] = (C11 - C12) / 2.0
    S = np.linalg.inv(C)  # Voigt notation: engineering shears
    k_voigt, k_reuss = C[:3, :3].sum() / 9.0, 1.0 / S[:3, :3].sum()
    off = lambda A: A[0, 1] + A[0, 2] + A[1, 2]  # noqa: E731
    g_voigt = (np.trace(C[:3, :3]) - off(C) + 3.0 * np.trace(C[3:, 3:])) / 15.0
    g_reuss = 15.0 / (4.0 * np.trace(S[:3, :3]) - 4.0 * off(S) + 3.0 * np.trace(S[3:, 3:]))
    return 0.5 * (g_voigt + g_reuss), 0.5 * (k_voigt + k_reuss)


def plastic_defaults(src=WANG_2014) -> dict:
    """The case keys of the plasticity from the phenomenological power law ``src``: tau0 = xi_0 (per family),
    xi_inf, h0, a (slip families), h0_twin_slip, c3, h0_twin_twin, gamma_dot0, m = 1/n."""
    return {"tau0": list(src["xi_0"]), "xi_inf": list(src["xi_inf"]), "h0": list(src["h_0_sl-sl"]), "a": src["a"],
            "h0_twin_slip": src["h_0_tw-sl"], "c3": src["c_3"], "h0_twin_twin": src["h_0_tw-tw"],
            "gamma_dot0": src["dot_gamma_0"], "m": 1.0 / src["n"]}


# The case defaults are in the config schema (pipeline/schemas/config.schema.yaml, $defs/taylor_mg_defaults):
# n_grains 128; mu 17299.8, kappa 35229.3 MPa = round(elastic_moduli(**ELASTIC_CONSTANTS), 1); the plasticity =
# plastic_defaults() (tests/test_config.py checks both); tol 1e-6 (a resolved-shear residual of 1e-5 MPa);
# loading.volumetric 0.1. The paper's loading of Sections 2 and 5.2 is 1000 steps on (0, 200] s. The volumetric
# part is scaled by 0.1 (ln det F -> 0.1 ln det F): with all six components at F_max = 0.01 /sqrt(s), det F spans
# 0.4-1.8 (elastic pressures to 22 GPa, over 99 % of the stress norm); scaled, ln det F is ~0.02 rms (at most 0.1
# over 400 paths) and |p| is ~0.7 GPa rms (99 % below 2.1 GPa), the pressures of the paper's 200 m/s impacts
# (Section 7). The isochoric part, which alone drives the plasticity, is the paper's (docs/taylor.md).


def material(case: Case) -> crystal.Params:
    """crystal.Params of the 18 Mg systems from the case config (per-family values expanded to systems)."""
    cfg = case.config
    missing = [k for k in ("mu", "kappa", "gamma_dot0", "m", "tau0", "xi_inf", "h0", "a", "h0_twin_slip", "c3",
                           "h0_twin_twin", "tol") if k not in cfg]
    if missing:
        raise ValueError(f"{case}: the case config lacks {missing} (build cases with pipeline.config.make_case, "
                         "which fills the schema defaults)")
    _, _, fam, uni = slip.hcp_systems()
    n_slip = len(slip.HCP_FAMILIES) - 1
    for key, n in (("tau0", n_slip + 1), ("xi_inf", n_slip), ("h0", n_slip)):
        if len(cfg[key]) != n:
            raise ValueError(f"{case}: {key} needs one value per family {slip.HCP_FAMILIES[:n]}, got {cfg[key]}")
    per_slip = lambda key: np.append(np.asarray(cfg[key], float), np.nan)[fam]  # noqa: E731  (twins: unused)
    law = crystal.PowerLawTotalSlip.create(
        len(fam), xi_0=np.asarray(cfg["tau0"], float)[fam], xi_inf=per_slip("xi_inf"),
        h0=per_slip("h0"), a=float(cfg["a"]), twin=uni,
        h0_tw_sl=cfg["h0_twin_slip"], c3=cfg["c3"], h0_tw_tw=cfg["h0_twin_twin"])
    return crystal.Params.create(len(fam), mu=cfg["mu"], kappa=cfg["kappa"], tau0=law.xi_0,
                                 gamma_dot0=cfg["gamma_dot0"], m=cfg["m"], hardening=law, unidirectional=uni,
                                 twin_shear=np.where(uni, slip.twin_shear(), 0.0))


def texture(case: Case):
    """The case's grain orientations: (quaternions (G, 4), Q (G, 3, 3) lattice -> sample), from rng("texture")."""
    n_grains = int(case.config["n_grains"])
    if n_grains < 1:
        raise ValueError(f"{case}: n_grains must be at least 1, got {n_grains}")
    return slip.random_orientations(n_grains, case.rng("texture"))


def taylor_paths(F, time, schmid, params: crystal.Params, tol: float = 1e-8):
    """Taylor average for F (S, n_time, 3, 3) on ``time`` over grains with Schmid tensors (G, N, 3, 3).

    Returns stress (S, n_time, 3, 3) MPa (grain-averaged Cauchy), e_mean (S, n_time, N) the grain-mean accumulated
    slip per system, twin (S, n_time, 2) the grain mean and grain maximum of the twin volume fraction, and
    failed_step (S,) (-1 when every grain converged at every step).
    """
    S, n_time = F.shape[:2]
    G, N = schmid.shape[:2]
    state = crystal.initial_state((S, G), 3, N)
    stress = np.zeros((S, n_time, 3, 3))
    e_mean = np.zeros((S, n_time, N))
    twin = np.zeros((S, n_time, 2))
    failed = np.full(S, -1)
    for k in range(1, n_time):
        P, state, conv = crystal.update(F[:, k, None], state, time[k] - time[k - 1], schmid, params, tol=tol)
        stress[:, k] = cauchy(P.mean(1), F[:, k])
        e_mean[:, k] = state["e"].mean(1)
        f = crystal.twin_fraction(state["e"], params)
        twin[:, k, 0], twin[:, k, 1] = f.mean(1), f.max(1)
        failed = np.where((failed < 0) & ~conv.all(1), k, failed)
    return stress, e_mean, twin, failed


class TaylorMg(Producer):
    """Producer ``taylor_mg``: F paths (S, n_time, 3, 3) -> grain-averaged Cauchy stress of the Taylor polycrystal."""

    name, input, dim = NAME, INPUT, DIM

    def integrate(self, inputs, time, case, good, failures) -> xr.Dataset:
        """Stress (Cauchy, MPa), params (orientation quaternions, per-system parameters), micro ``slip`` (sample,
        time, family): grain- and family-averaged accumulated slip e, and ``twin_fraction_mean``,
        ``twin_fraction_max`` (sample, time): the twin volume fraction averaged over grains and in the most twinned
        grain (<= 1 by the twinning rule). Samples with a grain that did not converge (after cut-back) are listed in the failures and
        left out."""
        params = material(case)
        law = params.hardening
        quat, Q = texture(case)
        b, n, fam, uni = slip.hcp_systems()
        schmid = slip.schmid_tensors(b, n, Q)
        tol = float(case.config["tol"])
        # BLAS threads on (P, 3, 3) products only spin: run shards in parallel instead
        with threadpool_limits(limits=1):
            stress, e_mean, twin, failed = taylor_paths(inputs[good], time, schmid, params, tol)
        for s, k in zip(good, failed):
            if k >= 0:
                failures.append({"sample": int(s), "reason": f"Newton did not converge (after cut-back) at "
                                 f"t = {time[k]:.6g} s in at least one grain"})
        ok = failed < 0
        failures.sort(key=lambda f: f["sample"])
        e_family = np.stack([e_mean[ok][..., fam == i].mean(-1) for i in range(len(slip.HCP_FAMILIES))], -1)
        fam_coord = {"family": list(slip.HCP_FAMILIES)}
        slip_family = {"slip_family": list(slip.HCP_FAMILIES[:-1])}
        cfg = case.config
        system = {"system": np.arange(len(fam))}
        pdict = {
            "orientation": xr.DataArray(quat, dims=("grain", "quaternion"),
                                        attrs={"units": "1", "long_name": "grain orientation, damask quaternion "
                                               "(passive, sample -> crystal; w, x, y, z)"}),
            "mu": xr.DataArray(params.mu, attrs={"units": "MPa", "long_name": "shear modulus"}),
            "kappa": xr.DataArray(params.kappa, attrs={"units": "MPa", "long_name": "bulk modulus"}),
            "tau0": xr.DataArray(params.tau0, dims="system", coords=system, attrs={"units": "MPa"}),
            "gamma_dot0": xr.DataArray(params.gamma_dot0, dims="system", coords=system, attrs={"units": "1/s"}),
            "m": xr.DataArray(params.m, dims="system", coords=system, attrs={"units": "1"}),
            "xi_inf": xr.DataArray(cfg["xi_inf"], dims="slip_family", coords=slip_family,
                                   attrs={"units": "MPa", "long_name": "slip saturation resistance"}),
            "h0": xr.DataArray(cfg["h0"], dims="slip_family", coords=slip_family,
                               attrs={"units": "MPa", "long_name": "slip hardening h_0_sl-sl"}),
            "a": xr.DataArray(float(cfg["a"]), attrs={"units": "1", "long_name": "slip hardening exponent"}),
            "h0_twin_slip": xr.DataArray(law.h0_tw_sl, attrs={"units": "MPa", "long_name": "h_0_tw-sl"}),
            "c3": xr.DataArray(law.c3, attrs={"units": "1"}),
            "h0_twin_twin": xr.DataArray(law.h0_tw_tw, attrs={"units": "MPa", "long_name": "h_0_tw-tw"}),
            "twin_shear": xr.DataArray(params.twin_shear, dims="system", coords=system, attrs={"units": "1"}),
            "system_family": xr.DataArray(fam, dims="system", coords=system, attrs={"units": "1"}),
        }
        micro = {"slip": xr.DataArray(e_family, dims=("sample", "time", "family"), coords=fam_coord,
                                      attrs={"units": "1", "long_name": "grain-averaged accumulated slip per system, "
                                             "averaged over each family"}),
                 "twin_fraction_mean": xr.DataArray(twin[ok][..., 0], dims=("sample", "time"),
                                                    attrs={"units": "1", "long_name": "twin volume fraction, mean "
                                                           "over grains"}),
                 "twin_fraction_max": xr.DataArray(twin[ok][..., 1], dims=("sample", "time"),
                                                   attrs={"units": "1", "long_name": "twin volume fraction of the "
                                                          "most twinned grain"})}
        return build_dataset(case, time, inputs[good][ok], stress[ok], input_name=INPUT, params=pdict, micro=micro,
                             failures=failures, sample=good[ok])


PRODUCER = TaylorMg()
#: solve(inputs (S, n_time, 3, 3) F, time (s), case) -> contract Dataset (dataset.producer.Producer.solve)
solve = PRODUCER.solve
