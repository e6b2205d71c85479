"""Figure 13 (deploy/cost.py): the generated explicit driver around the exported C kernels runs, its CPU time grows
with the number of steps, and the draw function writes PNG and PDF; the figure table and the schema know fig13."""
import shutil

import numpy as np
import pytest
import torch

from deploy.cost import DEFAULTS, driver_source, fig13, measure, random_rno
from pipeline import figures as pfigures

torch.set_num_threads(1)
TINY = {"steps": [50, 400, 3200], "repeats": 1, "networks": [[16, 16]], "k": 5, "nblock": [1, 8],
        "pca_net": {"steps": [20, 40, 80], "modes": 8, "hidden": [32, 32], "times": 21}}
NO_PCA = {"pca_net": {"steps": []}}


@pytest.fixture(scope="module")
def measured():
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found: the kernels and the driver are compiled")
    return measure(TINY, log=lambda *a: None)


def test_times_grow_with_steps_and_the_fit_is_per_step(measured):
    pca = "PCA-Net 8 modes, 2 x 32"
    assert measured["laws"] == ["Johnson-Cook", "RNO 2 x 16", pca]
    assert measured["law_steps"][pca] == [20, 40, 80] and measured["law_steps"]["RNO 2 x 16"] == TINY["steps"]
    for name in measured["laws"]:
        steps = measured["law_steps"][name]
        for b in TINY["nblock"]:
            t = np.asarray(measured["seconds"][name][b])
            # 64 x the steps: at least 4 x the time; the PCA-Net's 4 x (its history of 20 steps restarts): 2 x
            assert np.all(t > 0) and t[-1] > (2 if name == pca else 4) * t[0], (name, b, t)
            assert measured["per_step"][name][b] > 0
        # the fit passes near the largest run: cost per step x steps
        assert measured["per_step"][name][8] * steps[-1] == pytest.approx(measured["seconds"][name][8][-1], rel=0.5)
    assert measured["ratio"]["Johnson-Cook"][1] == 1.0 and measured["ratio"]["RNO 2 x 16"][1] > 0
    assert measured["reference_rno"] == "RNO 2 x 16" and measured["ratio_rno"][pca][8] > 0
    assert measured["flops"][pca] > measured["flops"]["RNO 2 x 16"]


def test_draw_writes_png_and_pdf(measured, tmp_path):
    paths = fig13(stem=tmp_path / "fig13", spec={**TINY, "note": "test"}, measured=measured)
    assert sorted(p.name for p in paths) == ["fig13.pdf", "fig13.png"]
    assert all(p.stat().st_size > 1000 for p in paths)


def test_a_trained_model_is_measured_too(tmp_path):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found")
    out = measure({**TINY, **NO_PCA, "steps": [20, 40], "networks": [], "nblock": [1]}, model=random_rno([8], 2),
                  log=lambda *a: None)
    assert out["laws"] == ["Johnson-Cook", "RNO 1 x 8 (trained)"]
    with pytest.raises(ValueError, match="3D input"):
        from learning.rno import RNO
        measure({**TINY, **NO_PCA, "steps": [20, 40], "networks": []}, model=RNO(3, 1, "evp", hidden=[4]))


def test_driver_source_names_the_kernel():
    assert "jc_step(nblock, x, s_old, dt, sigma, s_new)" in driver_source("jc", 0.05)
    rno = driver_source("rno", 0.05, 5)
    assert "rno_step(nblock, x, s_old, dt, x_prev, sigma, s_new)" in rno
    assert "x[6 * p + 3] = u[4];" in rno  # U22: the model's 4th component (11, 12, 13, 22, 23, 33)
    pca = driver_source("pca", 0.05)
    assert "pca_step(nblock, x, x_prev, s_old, sigma, s_new)" in pca and "pca_init();" in pca
    assert "pca_init" not in rno


def test_table_entry_and_defaults():
    figure = pfigures.FIGURES["fig13"]
    assert figure.draw == "deploy.cost:fig13" and figure.caption == "fig13"
    assert figure.inputs({"learning": {"figures": {"fig13": {"model": ""}}}}, None) == {}
    assert figure.inputs({"learning": {"figures": {"fig13": {"model": "m/dir"}}}}, None) == {"model": "m/dir/model.pt"}
    import yaml
    schema = yaml.safe_load(open(pfigures.__file__.replace("figures.py", "schemas/learning.schema.yaml")))
    props = schema["properties"]["figures"]["properties"]["fig13"]["properties"]
    for key in ("steps", "repeats", "networks", "k", "nblock", "duration", "strain"):
        assert props[key]["default"] == DEFAULTS[key], key
    assert {k: v["default"] for k, v in props["jc"]["properties"].items()} == DEFAULTS["jc"]
    assert {k: v["default"] for k, v in props["pca_net"]["properties"].items()} == DEFAULTS["pca_net"]
