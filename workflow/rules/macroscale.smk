# Figures 11 and 12 (paper Section 7): the trained Mg RNO as the material of the explicit solver (macroscale/,
# docs/macroscale.md). One job per figure runs the problems (macroscale.paper) and draws them (macroscale.figures):
# workflow/scripts/macroscale_figures.py. Settings: config["macroscale"] (pipeline/schemas/config.schema.yaml; the
# defaults are coarse: a few minutes per figure on one core). Built with the rest when macroscale.enabled.
def _macroscale(name):
    """The figure's settings (config["macroscale"], schema defaults filled in), plus the model and the time scale."""
    section = config["macroscale"]
    return {**section[name], "model": dict(section["model"]), "time_scale": float(section["time_scale"])}


def _macroscale_inputs(name):
    """The trained RNO (model.pt) and its training store (for the envelope guard): DAG products."""
    from pipeline.studies import ModelKey

    m = _macroscale(name)["model"]
    key = ModelKey(m["producer"], m["case"], m["variant"], int(m["k"]))
    return {"model": P.model(key), "dataset": P.dataset(key.producer, key.case)}


for _name, _caption in (("fig11", "fig11"), ("fig12", "fig12")):

    rule:
        name:
            _name
        input:
            **_macroscale_inputs(_name),
        output:
            report(P.figure(_name), caption=f"../report/{_caption}.rst", category="Paper figures"),
            P.figure(_name, "pdf"),
            data=f"{RESULTS}/macroscale/{_name}.json",
            provenance=P.provenance(_name),
        params:
            spec=_macroscale(_name),
        conda:
            ENV
        log:
            P.log(_name),
        threads: 1
        resources:
            runtime=60,
            mem_mb=4000,
        script:
            "../scripts/macroscale_figures.py"
