"""A new figure is one table entry and one draw function (docs/add-a-figure.md): the DAG gets its rule, outputs
and provenance, and the generic job draws it, with no rule, script or path written for it."""
import json
from pathlib import Path

import pytest
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, ResourceSettings, StorageSettings

from dataset.figstyle import figure, save_figure
from pipeline import figures as pfigures
from pipeline.paths import Paths

ROOT = Path(__file__).resolve().parents[1]


def draw_demo(*, stem, spec, history):
    """The new figure's draw function: a loss history (a JSON input), titled from the spec."""
    fig, ax = figure(figsize=(3.0, 2.0))
    ax.semilogy([h["epoch"] for h in history], [h["loss"] for h in history])
    ax.set(xlabel="epoch", ylabel="loss (-)", title=spec["title"])
    return save_figure(fig, stem)


DEMO = pfigures.Figure("demo", "test_figure_table:draw_demo", lambda config, p: {"history": f"{p.results}/h.json"},
                       caption="loading_paths", category="Demo", spec=lambda config: {"title": "demo"},
                       enabled=lambda config: True)


@pytest.fixture
def with_demo(monkeypatch):
    monkeypatch.setitem(pfigures.FIGURES, "demo", DEMO)


def parse_workflow(workdir: Path):
    with SnakemakeApi() as api:
        workflow = api.workflow(resource_settings=ResourceSettings(cores=1), storage_settings=StorageSettings(),
                                config_settings=ConfigSettings(configfiles=[ROOT / "config.yaml"]),
                                snakefile=ROOT / "Snakefile", workdir=workdir)
        workflow.dag()  # parses the Snakefile in this process, with the patched table
        return {rule.name: rule for rule in workflow._workflow.rules}


def test_one_table_entry_makes_a_rule_with_outputs_and_provenance(with_demo, tmp_path):
    rules = parse_workflow(tmp_path)
    demo = rules["demo"]
    outputs = sorted(str(o) for o in demo.output)
    assert outputs == ["results/figures/demo.pdf", "results/figures/demo.png", "results/figures/demo.provenance.json"]
    assert Path(demo.script).name == "figure.py" and demo.script == rules["fig01"].script  # the one generic job
    # figures_all and the default target include it
    all_inputs = rules["all"].input
    assert any("demo.png" in str(f) for f in all_inputs)


def test_the_generic_job_draws_it(with_demo, tmp_path):
    (tmp_path / "h.json").write_text(json.dumps([{"epoch": e, "loss": 1.0 / e} for e in range(1, 6)]))
    figure_ = pfigures.FIGURES["demo"]
    inputs = figure_.inputs({}, Paths(str(tmp_path)))
    paths = pfigures.draw("demo", inputs, figure_.params({}), tmp_path / "demo")
    assert sorted(p.name for p in paths) == ["demo.pdf", "demo.png"]
    assert (tmp_path / "demo.png").stat().st_size > 1000
