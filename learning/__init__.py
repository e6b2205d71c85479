"""RNO training service (Liu et al. 2023, Section 2): model, training, artifacts, evaluation, 1D study, figures.

    learning.rno        the RNO, eqs. (2), (3), (7): rollout over trajectories, batched material-point step
    learning.data       contract Dataset -> trajectories of one split at one resolution (striding), targets
    learning.loss       relative L2 error, eq. (16), trapezoid rule in time
    learning.settings   training settings
    learning.train      Adam + schedule on mini-batches, checkpoints and resume, transfer learning
    learning.artifacts  results/models/<producer>/<case>/<model>/: save, load, TorchScript export
    learning.evaluate   error tables (rno_errors.csv)
    learning.study1d    learned vs true internal variable, f~ and g~ (eqs. 11-15)
    learning.figures    Figures 1 and 10 (a), (b)
    learning.figures_laminate, learning.autoencoder    Figures 3-6 (Section 4)
    learning.figures_polycrystal                       Figures 7, 8 (Section 5)
    learning.config     the learning section of the workflow config
"""
from .artifacts import load
from .rno import RNO
from .settings import TrainSettings

__all__ = ["RNO", "TrainSettings", "load"]
