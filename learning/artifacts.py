"""A trained model on disk: results/models/<producer>/<case>/<variant>-k<k>/

    model.pt      spec (constructor arguments) and state_dict (weights and normalisation buffers)
    model.ts      TorchScript export: torch.jit.load(path) works without this project; methods forward(x, time),
                  rollout(x, time), step(x, xi_prev, dt, x_prev), initial_state(x0), rate_of_xi(x, xi)
    config.json   training settings, data provenance, component order, units, environment
    history.json  per-epoch train/test error, learning rate and seconds
    checkpoint.pt training state for resuming (written by learning.train.fit, not needed to use the model)
"""
from __future__ import annotations

import json
import os
import platform
import warnings
from pathlib import Path

import torch

from .data import component_names
from .rno import RNO

FORMAT = "rno-factory/rno-1"
FILES = ("model.pt", "model.ts", "config.json", "history.json")


def model_dir(results: str | os.PathLike, producer: str, case: str, variant: str, k: int) -> Path:
    return Path(results) / "models" / producer / case / f"{variant}-k{int(k)}"


def _replace(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)


def export_torchscript(model: RNO, path: str | os.PathLike) -> Path:
    """Script a CPU copy of the model and save it (TorchScript is deprecated upstream but still supported)."""
    path = Path(path)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*torch.jit.*")
        scripted = torch.jit.script(_cpu_copy(model))
        _replace(path, lambda p: torch.jit.save(scripted, str(p)))
    return path


def _cpu_copy(model: RNO) -> RNO:
    twin = RNO(**model.spec())
    twin.load_state_dict({k: v.detach().cpu() for k, v in model.state_dict().items()})
    return twin.eval()


def save(model: RNO, out_dir: str | os.PathLike, *, settings: dict, history: list[dict], data: dict,
         d: int) -> Path:
    """Write model.pt, model.ts, config.json and history.json into out_dir (each atomically).

    settings: learning.settings.TrainSettings.to_dict(); data: provenance of the training data (producer, case,
    case_hash, dataset git_commit, input name, steps); d: tensor size of the input (component order i <= j).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cpu = _cpu_copy(model)
    _replace(out / "model.pt", lambda p: torch.save({"format": FORMAT, "spec": cpu.spec(), "d": d,
                                                      "state_dict": cpu.state_dict()}, p))
    export_torchscript(cpu, out / "model.ts")
    config = {
        "format": FORMAT,
        "spec": cpu.spec(),
        "settings": settings,
        "data": data,
        "components": [list(c) for c in component_names(d)],  # of the input, and of the output unless pressure
        "target": cpu.target,  # the output: stress or deviatoric (components above) or pressure (one, -tr/d)
        "units": {"time": "s", "stress": "MPa", "input": "1", "xi": "1 (learned, arbitrary scale)"},
        "environment": {"torch": torch.__version__, "python": platform.python_version(),
                        "machine": platform.machine()},
    }
    _replace(out / "config.json", lambda p: p.write_text(json.dumps(config, indent=1, sort_keys=True) + "\n"))
    _replace(out / "history.json", lambda p: p.write_text(json.dumps(history, indent=1) + "\n"))
    return out


def load(path: str | os.PathLike) -> RNO:
    """The trained RNO saved in ``path`` (a model directory or its model.pt), on the CPU in eval mode."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.pt"
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if blob.get("format") != FORMAT:
        raise ValueError(f"{path}: not an rno-factory model (format {blob.get('format')!r}, expected {FORMAT!r})")
    model = RNO(**blob["spec"])
    model.load_state_dict(blob["state_dict"])
    return model.eval()


def read_json(path: str | os.PathLike, name: str) -> dict | list:
    """config.json or history.json of a model directory."""
    return json.loads((Path(path) / name).read_text())
