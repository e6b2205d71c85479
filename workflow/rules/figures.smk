# Every figure, from one table (pipeline/figures.py: name -> inputs, draw function, caption) through one rule
# definition and one job script: rule <name> draws results/figures/<name>.{png,pdf} and its provenance sidecar.
# Adding a figure is one table entry and its draw function (docs/add-a-figure.md).
from pipeline import figures as pfigures

FIGURES = {f.name: f for f in pfigures.wanted(config)}

for _figure in FIGURES.values():

    rule:
        name:
            _figure.name
        input:
            unpack(lambda w, f=_figure: f.inputs(config, P)),
        output:
            report(P.figure(_figure.name), caption=f"../report/{_figure.caption}.rst", category=_figure.category),
            P.figure(_figure.name, "pdf"),
            provenance=P.provenance(_figure.name),
        params:
            spec=lambda w, f=_figure: f.params(config),
        conda:
            ENV
        log:
            P.log(_figure.name),
        resources:
            runtime=30,
            mem_mb=4000,
        script:
            "../scripts/figure.py"
