"""Job of rules fig11 and fig12 (workflow/rules/macroscale.smk): the paper's macroscopic problems (Section 7) with the
trained Mg RNO as the material, then the figure. The material is Corotational(TimeScaled(RNOMaterial(model),
time_scale)) (macroscale.objective: the RNO sees the stretch U of F = R U, on the training clock; docs/macroscale.md),
with the Hill moduli of Mg for the stable step; the training envelope (macroscale.envelope) comes from the model's
training store (its train split). A run that fails (MacroscaleError: an element inverted, the material failed) is
recorded with its message and left out of the figure, whose title then says so. Writes the figure (png, pdf), the
runs as JSON and the provenance sidecar."""
import json
import logging
from pathlib import Path

import numpy as np

from dataset.jobs import job_logging
from dataset.store import open_store
from learning.artifacts import load
from learning.material import RNOMaterial
from macroscale import figures, paper
from macroscale.envelope import Envelope
from macroscale.explicit import MacroscaleError
from macroscale.objective import Corotational, TimeScaled
from pipeline.provenance import write_sidecar

log = logging.getLogger("macroscale")


def attempt(name, fn, **kw):
    """fn(**kw), or {"failed": message} when the run fails."""
    try:
        out = fn(**kw)
        log.info("%s: %d elements, %d steps, %.0f s, energy error %.2e, envelope %s", name, out["elements"],
                 out["steps"], out["wall_seconds"], out["energy_error"], out.get("envelope"))
        return out
    except MacroscaleError as err:
        log.warning("%s failed: %s", name, err)
        return {"failed": f"{name}: {err}"}


def fig12_runs(spec, material, envelope):
    runs = []
    for safety in spec["safeties"]:
        runs.append(attempt(f"taylor safety {safety}", paper.taylor_impact, material=material,
                            t_end=spec["t_end"], mesh=tuple(spec["mesh"]), safety=safety,
                            snapshot_times=spec["snapshot_times"], envelope=envelope,
                            record_every=spec["record_every"]))
    return {"runs": runs}


def fig11_runs(spec, material, envelope):
    kw = {"material": material, "t_end": spec["t_end"], "element": spec["element"], "layers": spec["layers"],
          "envelope": envelope, "record_every": spec["record_every"]}
    base = attempt("plate base", paper.plate_impact, snapshot_times=spec["snapshot_times"], **kw)
    vs = [attempt(f"plate V={v}", paper.plate_impact, velocity=v, snapshot_times=[spec["t_end"]], **kw)
          for v in spec["velocities"]]
    hs = [attempt(f"plate H={h}", paper.plate_impact, thickness=h, snapshot_times=[spec["t_end"]], **kw)
          for h in spec["thicknesses"]]
    return {"base": base, "velocity_sweep": vs, "thickness_sweep": hs}


def note(data, spec, envelope_fraction):
    failed = [r["failed"] for r in _all(data) if "failed" in r]
    m = spec["model"]
    text = (f"Mg RNO ({m['producer']}/{m['case']}/{m['variant']}-k{m['k']}), time scale x{spec['time_scale']:g}; "
            f"elements outside the training envelope: {envelope_fraction}")
    return text + ("; FAILED: " + " | ".join(failed) if failed else "")


def _all(data):
    for v in data.values():
        yield from (v if isinstance(v, list) else [v])


sm = snakemake  # noqa: F821  (injected by Snakemake)
with job_logging(sm.log[0]):
    spec = dict(sm.params.spec)
    model = load(sm.input.model)
    material = Corotational(TimeScaled(RNOMaterial(model), float(spec["time_scale"])))
    envelope = None
    if "dataset" in sm.input.keys():
        ds = open_store(sm.input.dataset)
        F = ds["F"].values[np.asarray(ds["split"].values) == "train"]
        envelope = Envelope.from_samples(F, measure="U")
    runs = fig12_runs(spec, material, envelope) if sm.rule == "fig12" else fig11_runs(spec, material, envelope)
    ok = [r for r in _all(runs) if "failed" not in r]
    fraction = (f"{max(r['envelope']['fraction_ever'] for r in ok):.0%} (max over runs)"
                if envelope is not None and ok else "n/a")
    text = note(runs, spec, fraction)
    Path(sm.output.data).write_text(json.dumps(paper.json_ready({"spec": spec, "note": text, **runs})))
    stem = Path(sm.output[0]).with_suffix("")
    if sm.rule == "fig12":
        figures.fig12(stem=stem, runs=[r for r in runs["runs"] if "failed" not in r], note=text)
    else:
        keep = {k: ([r for r in v if "failed" not in r] if isinstance(v, list) else v) for k, v in runs.items()}
        base = keep["base"] if "failed" not in keep["base"] else {"snapshots": []}
        figures.fig11(stem=stem, base=base, velocity_sweep=keep["velocity_sweep"],
                      thickness_sweep=keep["thickness_sweep"], note=text)
    write_sidecar(sm)
