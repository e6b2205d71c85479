"""3D magnesium polycrystal by Taylor averaging (paper Section 5.2): producer ``taylor_mg``.

Each case has G grains (128 in the paper) with uniformly random orientations drawn once from case.rng("texture")
and stored in the dataset. Every grain follows the crystal plasticity of fullfield.crystal (paper Appendix A, in
3D) with the HCP systems of taylor.hcp; the deformation gradient is uniform over grains (Taylor), and the
macroscopic Cauchy stress is the grain average, sigma = <P> F^T / det F (F is common to all grains).
All grains of all samples advance together, one implicit step at a time (no Python loop over grains or samples).
Units: stress and moduli in MPa, time in s.

Parameter sources. Chang & Kochmann 2015 (the paper's ref. [8]) could NOT be accessed by this project; every value
below SUBSTITUTES for theirs and must be replaced by their numbers when available (config keys, DEFAULTS):
  mu, kappa     17 GPa, 36 GPa: isotropic (Voigt-Reuss-Hill) averages of the single-crystal elastic constants of
                Mg, Slutsky & Garland 1957, Phys. Rev. 107:972 (E ~ 45 GPa, nu ~ 0.29). (The paper's 2D Table 2,
                mu = 19, kappa = 48 GPa, is for its 2D study.)
  m             0.05 for every system (rate exponent 1/m = 20), gamma_dot0 = 1/s: Liu et al. 2023 Table 2 (one rate
                exponent for all systems, as the issue asks). PLACEHOLDER for [8].
  tau0          basal : prismatic : pyramidal <c+a> : tension twin = 10 : 55 : 60 : 15 MPa, the order of the
                EVPSC/VPSC fits of rolled AZ31 (Agnew & Duygulu 2005, Int. J. Plasticity 21:1161; Wang, Wu, Tome,
                Huang & Agnew 2010, Int. J. Plasticity 26:1166): basal softest, twin next, prism/pyramidal several
                times harder. The exact fitted numbers could not be checked here: PLACEHOLDER for [8].
  sigma_inf, h  per family (20, 40, 60, 20) MPa and (1000, 1000, 2000, 200) MPa: saturation of a few tens of MPa
                within a few % slip, of the order of the Voce hardening of the same fits. PLACEHOLDER for [8].
  K             latent hardening K_ij = 100 MPa (i != j). PLACEHOLDER for [8] (no literature value used).
  c/a = 1.624, twin shear 0.129: crystallography (taylor.hcp).
"""
from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from dataset.case import Case
from dataset.contract import build_dataset
from fullfield import crystal
from taylor import hcp

NAME = "taylor_mg"
INPUT = "F"
DIM = 3

DEFAULTS = {
    "n_grains": 128,
    "mu": 17000.0,  # Slutsky & Garland 1957 (isotropic average); placeholder for [8]
    "kappa": 36000.0,  # idem
    "gamma_dot0": 1.0,
    "m": 0.05,
    # per family: basal, prismatic, pyramidal_ca, tension_twin (MPa)
    "tau0": [10.0, 55.0, 60.0, 15.0],
    "sigma_inf": [20.0, 40.0, 60.0, 20.0],
    "h": [1000.0, 1000.0, 2000.0, 200.0],
    "latent": 100.0,
    "tol": 1e-8,
}
#: Paper Section 2 / 5.2 loading: 1000 steps on (0, 200] s.
LOADING = {"T": 200.0, "M": 10, "n_steps": 1000, "F_max": 0.01}


def make_case(name: str = "custom", seed: int = 0, **overrides) -> Case:
    """A Case of this producer: LOADING and DEFAULTS, then seed and overrides (``loading`` merged)."""
    loading = {**LOADING, **overrides.pop("loading", {})}
    return Case(NAME, name, {**DEFAULTS, "seed": int(seed), "loading": loading, **overrides})


def material(case: Case) -> crystal.Params:
    """crystal.Params of the 18 Mg systems from the case config (per-family values expanded to systems)."""
    cfg = {**DEFAULTS, **case.config}
    _, _, fam, uni = hcp.systems()
    per = lambda key: np.asarray(cfg[key], float)[fam]  # noqa: E731
    for key in ("tau0", "sigma_inf", "h"):
        if len(cfg[key]) != len(hcp.FAMILIES):
            raise ValueError(f"{case}: {key} needs one value per family {hcp.FAMILIES}, got {cfg[key]}")
    return crystal.Params.create(len(fam), mu=cfg["mu"], kappa=cfg["kappa"], tau0=per("tau0"),
                                 gamma_dot0=cfg["gamma_dot0"], m=cfg["m"], sigma_inf=per("sigma_inf"),
                                 h=per("h"), K=float(cfg["latent"]), unidirectional=uni)


def texture(case: Case):
    """The case's grain orientations: (quaternions (G, 4), Q (G, 3, 3) lattice -> sample), from rng("texture")."""
    n_grains = int({**DEFAULTS, **case.config}["n_grains"])
    if n_grains < 1:
        raise ValueError(f"{case}: n_grains must be at least 1, got {n_grains}")
    return hcp.random_orientations(n_grains, case.rng("texture"))


def taylor_paths(F, time, schmid, params: crystal.Params, tol: float = 1e-8):
    """Taylor average for F (S, n_time, 3, 3) on ``time`` over grains with Schmid tensors (G, N, 3, 3).

    Returns stress (S, n_time, 3, 3) MPa (grain-averaged Cauchy), e_family (S, n_time, G-mean per system) and
    failed_step (S,) (-1 when every grain converged at every step).
    """
    S, n_time = F.shape[:2]
    G, N = schmid.shape[:2]
    state = crystal.initial_state((S, G), 3, N)
    stress = np.zeros((S, n_time, 3, 3))
    e_mean = np.zeros((S, n_time, N))
    failed = np.full(S, -1)
    for k in range(1, n_time):
        P, state, conv = crystal.update(F[:, k, None], state, time[k] - time[k - 1], schmid, params, tol=tol)
        stress[:, k] = crystal.cauchy_stress(P.mean(1), F[:, k])
        e_mean[:, k] = state["e"].mean(1)
        failed = np.where((failed < 0) & ~conv.all(1), k, failed)
    return stress, e_mean, failed


def solve(inputs: np.ndarray, time: np.ndarray, case: Case) -> xr.Dataset:
    """Solve the Taylor polycrystal for F paths ``inputs`` (S, n_time, 3, 3) on ``time`` (s, time[0] = 0).

    Returns the contract Dataset: stress (Cauchy, MPa), params (orientation quaternions, per-system parameters),
    micro ``slip`` (sample, time, family): grain- and family-averaged accumulated slip e (for the twins e/0.129 is
    the mean twin volume fraction). Samples with a grain that did not converge (after cut-back) are listed in
    attrs["failures"] and left out. Raises ValueError for a wrong shape or det F <= 0.
    """
    inputs = np.asarray(inputs, float)
    time = np.asarray(time, float)
    if inputs.ndim != 4 or inputs.shape[2:] != (3, 3) or inputs.shape[1] != time.size:
        raise ValueError(f"{case}: inputs must be (S, {time.size}, 3, 3), got {inputs.shape}")
    finite = np.isfinite(inputs).all(axis=(1, 2, 3))
    det = np.where(finite[:, None], np.linalg.det(np.where(finite[:, None, None, None], inputs, 1.0)), 1.0)
    if np.any(det <= 0):
        s, k = np.argwhere(det <= 0)[0]
        raise ValueError(f"{case}: det F = {det[s, k]:.6g} <= 0 in sample {s} at t = {time[k]:.6g} s")
    params = material(case)
    quat, Q = texture(case)
    b, n, fam, uni = hcp.systems()
    schmid = crystal.schmid_tensors(b, n, Q)
    tol = float({**DEFAULTS, **case.config}["tol"])
    failures = [{"sample": int(s), "reason": "non-finite F input"} for s in np.flatnonzero(~finite)]
    good = np.flatnonzero(finite)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny batched kernels: one thread is fastest (run shards in parallel instead)
    try:
        stress, e_mean, failed = taylor_paths(inputs[good], time, schmid, params, tol)
    finally:
        torch.set_num_threads(threads)
    for s, k in zip(good, failed):
        if k >= 0:
            failures.append({"sample": int(s), "reason": f"Newton did not converge (after cut-back) at "
                             f"t = {time[k]:.6g} s in at least one grain"})
    ok = failed < 0
    failures.sort(key=lambda f: f["sample"])
    slip = np.stack([e_mean[ok][..., fam == i].mean(-1) for i in range(len(hcp.FAMILIES))], -1)
    fam_coord = {"family": list(hcp.FAMILIES)}
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
        "sigma_inf": xr.DataArray(params.sigma_inf, dims="system", coords=system, attrs={"units": "MPa"}),
        "h": xr.DataArray(params.h, dims="system", coords=system, attrs={"units": "MPa"}),
        "system_family": xr.DataArray(fam, dims="system", coords=system, attrs={"units": "1"}),
    }
    micro = {"slip": xr.DataArray(slip, dims=("sample", "time", "family"), coords=fam_coord,
                                  attrs={"units": "1", "long_name": "grain-averaged accumulated slip per system, "
                                         "averaged over each family"})}
    return build_dataset(case, time, inputs[good][ok], stress[ok], input_name=INPUT, params=pdict, micro=micro,
                         failures=failures, sample=good[ok])
