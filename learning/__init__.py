"""RNO training service (Liu et al. 2023, Section 2): model, training, artifacts, evaluation, 1D study, figures.

    learning.rno        the RNO, eqs. (2), (3), (7): rollout over trajectories, batched material-point step
    learning.recurrence the xi recurrence of eq. (3) alone, its backward pass written out (the rollout's engine)
    learning.data       contract Dataset -> trajectories of one split at one resolution (striding), targets
    learning.loss       relative L2 error, eq. (16), trapezoid rule in time
    learning.settings   training settings: TrainSettings (RNO), NetSettings (point-wise networks)
    learning.train      the one training loop (Adam + schedule on mini-batches, validation part and early
                        stopping, checkpoints and resume); fit: RNOs, curriculum, transfer learning
    learning.artifacts  one directory per network (model.pt, config.json, history.json; RNOs: model.ts): save, load
    learning.evaluate   error tables (rno_errors.csv)
    learning.study1d    learned vs true internal variable, f~ and g~ (eqs. 11-15)
    learning.autoencoder                               micro-state networks of Section 4 (eqs. 25-26, Figure 5)
    learning.laminate_argument  Section 4's three-variable argument measured: layer plastic-strain differences,
                        the compatibility bound, the autoencoder's latent size (docs/laminate-learning.md)
    learning.panels     the error-table selector and the panels the figures share
    learning.figures    Figures 1 and 10 (a), (b); learning.figures_laminate: 3-6; learning.figures_polycrystal: 7, 8

The figure functions share one draw signature, draw(*, stem, spec, **inputs) -> written paths; they import
matplotlib and are not imported with this package.
"""
from __future__ import annotations

from .artifacts import FILES, load, save
from .autoencoder import (Autoencoder, MicroDecoder, autoencoder_rows, decode_latent, fit_autoencoder,
                          fit_latent_map, fit_micro_decoder, latent_trajectories, micro_data, reconstruct,
                          reconstruction_error, rno_internal)
from .data import trajectories
from .evaluate import SORT, concat_tables, error_rows, read_table, write_table
from .rno import RNO
from .settings import NetSettings, TrainSettings
from .study1d import internal_rows
from .train import evaluate_error, fit, resolve_device, split_validation, train_loop

__all__ = ["FILES", "RNO", "SORT", "Autoencoder", "MicroDecoder", "NetSettings", "TrainSettings",
           "autoencoder_rows", "concat_tables", "decode_latent", "error_rows", "evaluate_error", "fit",
           "fit_autoencoder", "fit_latent_map", "fit_micro_decoder", "internal_rows", "latent_trajectories", "load",
           "micro_data", "read_table", "reconstruct", "reconstruction_error", "resolve_device", "rno_internal",
           "save", "split_validation", "train_loop", "trajectories", "write_table"]
