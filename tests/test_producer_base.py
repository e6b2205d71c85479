"""The producer base (dataset/producer.py): the checks in front of every producer's integrate."""
import importlib
import json

import numpy as np
import pytest

from dataset.case import Case
from dataset.contract import build_dataset, failures, validate
from dataset.producer import Producer, check_paths
from pipeline.config import make_case

CASE = Case("toy", "C1", {"seed": 1})


class Toy(Producer):
    """Linear elastic toy: stress = 200 (x - reference) MPa; records what integrate received."""

    name, dim = "toy", 2

    def __init__(self, input_name="strain", nonfinite="fail"):
        self.input, self.nonfinite = input_name, nonfinite

    def integrate(self, inputs, time, case, good, failures, **options):
        self.got = {"good": good.tolist(), "failures": list(failures), "options": options}
        x = inputs[good] - (np.eye(2) if self.input == "F" else 0.0)
        return build_dataset(case, time, inputs[good], 200.0 * 0.5 * (x + np.swapaxes(x, -1, -2)),
                             input_name=self.input, failures=failures, sample=good)


def paths(input_name="strain", n=3, n_time=4):
    t = np.arange(n_time, dtype=float)
    x = 1e-3 * t[None, :, None, None] * np.array([[1.0, 0.5], [0.5, -1.0]]) * np.arange(1, n + 1)[:, None, None, None]
    return (x + np.eye(2) if input_name == "F" else x), t


def test_valid_paths_reach_integrate_with_options():
    toy = Toy()
    x, t = paths()
    ds = validate(toy.solve(x, t, CASE, flag=7), require_split=False)
    assert toy.got == {"good": [0, 1, 2], "failures": [], "options": {"flag": 7}}
    assert ds.sizes["sample"] == 3 and ds.attrs["input"] == "strain"


@pytest.mark.parametrize("bad, message", [
    ("2d_time", r"toy/C1: time must be a 1D grid with at least 2 points, got shape \(1, 4\)"),
    ("one_point", r"toy/C1: time must be a 1D grid with at least 2 points"),
    ("start", r"toy/C1: time must be finite, start at 0 s and increase strictly"),
    ("repeat", r"increase strictly"),
    ("nan_time", r"time must be finite"),
    ("shape", r"toy/C1: inputs must be \(S, 4, 2, 2\), got \(3, 4, 2, 1\)"),
    ("length", r"inputs must be \(S, 3, 2, 2\), got \(3, 4, 2, 2\)"),
    ("reference", r"toy/C1, sample 1: strain\(t = 0\) must be zero \(stress-free reference state\)"),
])
def test_malformed_strain_paths_raise_naming_the_case_and_sample(bad, message):
    x, t = paths()
    if bad == "2d_time":
        t = t[None]
    elif bad == "one_point":
        x, t = x[:, :1], t[:1]
    elif bad == "start":
        t = t + 1.0
    elif bad == "repeat":
        t[2] = t[1]
    elif bad == "nan_time":
        t[3] = np.nan
    elif bad == "shape":
        x = x[..., :1]
    elif bad == "length":
        t = t[:3]
    elif bad == "reference":
        x[1, 0, 0, 0] = 1e-9
    with pytest.raises(ValueError, match=message):
        Toy().solve(x, t, CASE)


def test_F_paths_start_at_the_identity_and_keep_det_F_positive():
    x, t = paths("F")
    x[2, 0] = 1.01 * np.eye(2)
    with pytest.raises(ValueError, match=r"toy/C1, sample 2: F\(t = 0\) must be the identity"):
        Toy("F").solve(x, t, CASE)
    x, t = paths("F")
    x[1, 2] = np.diag([1.0, -0.5])
    with pytest.raises(ValueError, match=r"toy/C1, sample 1: det F = -0.5 <= 0 at step 2 \(t = 2 s\)"):
        Toy("F").solve(x, t, CASE)


def test_nonfinite_samples_fail_or_raise():
    x, t = paths("F")
    x[1, 2, 0, 1] = np.nan
    x[1, 0] = 2.0 * np.eye(2)  # a non-finite sample is not checked further: it fails as a whole
    toy = Toy("F")
    ds = validate(toy.solve(x, t, CASE), require_split=False)
    assert toy.got["good"] == [0, 2]
    assert failures(ds) == [{"sample": 1, "reason": "non-finite F input"}]
    assert json.loads(ds.attrs["failures"]) == failures(ds)
    with pytest.raises(ValueError, match=r"toy/C1, sample 1: F must be finite, found NaN or inf at step 2 \(t = 2 s\)"):
        Toy("F", nonfinite="raise").solve(x, t, CASE)


def test_check_paths_returns_the_finite_mask():
    x, t = paths(n=4)
    x[3, 1, 1, 1] = np.inf
    np.testing.assert_array_equal(check_paths(x, t, "strain", 2, "here"), [True, True, True, False])


@pytest.mark.parametrize("module", ["fullfield.composite1d", "fullfield.laminate", "fullfield.polycrystal2d.producer",
                                    "taylor.magnesium"])
def test_every_producer_module_exposes_its_instance(module):
    mod = importlib.import_module(module)
    assert isinstance(mod.PRODUCER, Producer)
    assert (mod.NAME, mod.INPUT, mod.DIM) == (mod.PRODUCER.name, mod.PRODUCER.input, mod.PRODUCER.dim)
    assert mod.solve == mod.PRODUCER.solve


@pytest.mark.parametrize("module, dim, message", [
    ("fullfield.composite1d", 1, r"composite1d/custom, sample 0: strain\(t = 0\) must be zero"),
    ("fullfield.laminate", 2, r"laminate/custom, sample 0: strain\(t = 0\) must be zero"),
    ("taylor.magnesium", 3, r"taylor_mg/custom, sample 0: F\(t = 0\) must be the identity"),
])
def test_producers_check_before_solving(module, dim, message):
    mod = importlib.import_module(module)
    x = np.zeros((1, 3, dim, dim)) + (np.eye(dim) if mod.INPUT == "F" else 0.0)
    x[0, 0, 0, 0] += 0.1
    with pytest.raises(ValueError, match=message):
        mod.solve(x, np.array([0.0, 1.0, 2.0]), make_case(mod.NAME))
