"""The producer base: one checked entry point ``solve`` in front of every unit-cell solver.

A producer subclasses ``Producer``, sets ``name``, ``input`` ("strain" or "F") and ``dim`` (d), and implements
``integrate``; its module exposes the instance as ``PRODUCER`` and ``NAME``, ``INPUT``, ``DIM``, ``solve`` (the
workflow finds it by name, pipeline/registry.py). ``solve`` checks the loading paths once (``check_paths``) so that ``integrate`` only integrates.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from .case import Case
from .contract import INPUTS

#: largest |x(t = 0) - reference| accepted as the reference state (as dataset.contract.validate)
REFERENCE_TOL = 1e-12
REFERENCE_NAME = {"strain": "zero", "F": "the identity"}


def check_paths(inputs: np.ndarray, time: np.ndarray, input_name: str, dim: int, where: str, *,
                nonfinite: str = "fail") -> np.ndarray:
    """Check loading paths ``inputs`` (S, n_time, d, d) of ``input_name`` on ``time`` (s); return the (S,) mask
    of samples with finite values.

    Raises ValueError naming ``where`` (and the sample, step and time where one is at fault) unless: time is a
    finite 1D grid of at least 2 points starting at 0 s and increasing strictly; inputs is (S, n_time, dim, dim);
    every finite sample starts in the reference state (strain 0, F = I, to REFERENCE_TOL); for F, det F > 0 at
    every step of every finite sample. A sample with NaN or inf is returned as not finite (nonfinite="fail") or
    raises (nonfinite="raise").
    """
    if time.ndim != 1 or time.size < 2:
        raise ValueError(f"{where}: time must be a 1D grid with at least 2 points, got shape {time.shape}")
    if not np.isfinite(time).all() or time[0] != 0.0 or not np.all(np.diff(time) > 0):
        raise ValueError(f"{where}: time must be finite, start at 0 s and increase strictly")
    if inputs.ndim != 4 or inputs.shape[1:] != (time.size, dim, dim):
        raise ValueError(f"{where}: inputs must be (S, {time.size}, {dim}, {dim}), got {inputs.shape}")
    finite_step = np.isfinite(inputs).all(axis=(2, 3))  # (S, n_time)
    finite = finite_step.all(axis=1)
    if nonfinite == "raise" and not finite.all():
        s, k = np.argwhere(~finite_step)[0]
        raise ValueError(f"{where}, sample {s}: {input_name} must be finite, found NaN or inf at step {k} "
                         f"(t = {time[k]:.6g} s)")
    reference = INPUTS[input_name] * np.eye(dim)
    off = np.flatnonzero(finite & (np.abs(inputs[:, 0] - reference).max(axis=(1, 2)) > REFERENCE_TOL))
    if off.size:
        s = off[0]
        raise ValueError(f"{where}, sample {s}: {input_name}(t = 0) must be {REFERENCE_NAME[input_name]} "
                         f"(stress-free reference state), got {inputs[s, 0].tolist()}")
    if input_name == "F":
        det = np.linalg.det(np.where(finite[:, None, None, None], inputs, np.eye(dim)))
        if np.any(det <= 0):
            s, k = np.argwhere(det <= 0)[0]
            raise ValueError(f"{where}, sample {s}: det F = {det[s, k]:.6g} <= 0 at step {k} (t = {time[k]:.6g} s): "
                             "the deformation must preserve orientation")
    return finite


class Producer:
    """A dataset producer: ``solve`` checks the paths, ``integrate`` (the subclass's) computes the stresses.

    name: the producer's name (its pipeline.registry key); input: "strain" or "F"; dim: d of the d x d input/stress;
    nonfinite: "fail" lists a sample with NaN or inf input in the failures (reason "non-finite <input> input"),
    "raise" rejects the whole call.
    """

    name: str
    input: str
    dim: int
    nonfinite: str = "fail"

    def solve(self, inputs, time, case: Case, **options) -> xr.Dataset:
        """The contract Dataset of the paths ``inputs`` (S, n_time, d, d) on ``time`` (s, time[0] = 0) for ``case``.

        Raises ValueError for malformed paths (``check_paths``) before any solve; then ``integrate`` solves the
        finite samples. ``options`` go to ``integrate``.
        """
        inputs = np.asarray(inputs, float)
        time = np.asarray(time, float)
        finite = check_paths(inputs, time, self.input, self.dim, str(case), nonfinite=self.nonfinite)
        failures = [{"sample": int(s), "reason": f"non-finite {self.input} input"} for s in np.flatnonzero(~finite)]
        return self.integrate(inputs, time, case, np.flatnonzero(finite), failures, **options)

    def integrate(self, inputs: np.ndarray, time: np.ndarray, case: Case, good: np.ndarray, failures: list,
                  **options) -> xr.Dataset:
        """Solve samples ``good`` (indices into inputs) of checked paths; return the contract Dataset
        (dataset.contract.build_dataset) with ``failures`` (the samples already failed, {"sample", "reason"})
        extended by the samples it could not finish, sorted by sample, and only the finished samples kept."""
        raise NotImplementedError
