"""A trained network on disk: one directory per network, one format for every kind (KINDS).

    model.pt      format, kind, spec (constructor arguments) and state_dict (weights and normalisation buffers)
    model.ts      RNOs only: TorchScript export; torch.jit.load(path) works without this project; methods
                  forward(x, time), rollout(x, time), step(x, xi_prev, dt, x_prev), initial_state(x0), rate_of_xi(x, xi)
    config.json   format, kind, spec, training settings, data provenance, units, environment (RNOs: also the
                  component order and the target)
    history.json  per-epoch train/test error, learning rate and seconds (learning.train.train_loop)
    checkpoint.pt training state for resuming (written by learning.train, not needed to use the model)

Kinds: "rno" (learning.rno.RNO: results/models/<producer>/<case>/<model>/, the eq. 26 map), "autoencoder" and
"micro_decoder" (learning.autoencoder); FILES names the files each kind's directory holds.
"""
from __future__ import annotations

import json
import os
import platform
import warnings
from pathlib import Path

import torch
from torch import nn

from .autoencoder import Autoencoder, MicroDecoder
from .data import component_names
from .rno import RNO

FORMAT = "rno-factory/model-1"
_LEGACY = {"rno-factory/rno-1": "rno"}  # RNO directories written before the kinds (no "kind" in model.pt)
#: network kind -> its class
KINDS = {"rno": RNO, "autoencoder": Autoencoder, "micro_decoder": MicroDecoder}
_NETWORK_FILES = ("model.pt", "config.json", "history.json")
#: network kind -> the files save() writes into its directory (model.pt first)
FILES = {"rno": ("model.pt", "model.ts", "config.json", "history.json"), "autoencoder": _NETWORK_FILES,
         "micro_decoder": _NETWORK_FILES}
UNITS = {"rno": {"time": "s", "stress": "MPa", "input": "1", "xi": "1 (learned, arbitrary scale)"},
         "autoencoder": {"micro_state": "1", "latent": "1 (learned, arbitrary scale)"},
         "micro_decoder": {"xi": "1 (the RNO's internal variables)", "micro_state": "1"}}


def kind(model: nn.Module) -> str:
    """The kind (KINDS) of a network."""
    for name, cls in KINDS.items():
        if type(model) is cls:
            return name
    raise TypeError(f"not a network of this project: {type(model).__name__} (kinds {sorted(KINDS)})")


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


def _cpu_copy(model: nn.Module) -> nn.Module:
    twin = type(model)(**model.spec()).to(next(model.parameters()).dtype)
    twin.load_state_dict({k: v.detach().cpu() for k, v in model.state_dict().items()})
    return twin.eval()


def _tensor_size(n_comp: int) -> int:
    """d of a symmetric d x d tensor with n_comp = d (d + 1) / 2 independent components."""
    d = next((d for d in range(1, 4) if d * (d + 1) // 2 == n_comp), None)
    if d is None:
        raise ValueError(f"{n_comp} input components are not those of a symmetric d x d tensor, d <= 3")
    return d


def save(model: nn.Module, out_dir: str | os.PathLike, *, settings: dict, history: list[dict],
         data: dict) -> Path:
    """Write the network's directory (FILES[kind]: model.pt, config.json, history.json and, for an RNO, model.ts),
    each file atomically; returns out_dir.

    settings: the training settings (TrainSettings.to_dict() or NetSettings.to_dict()); history: train_loop's;
    data: provenance of the training data (producer, case, case_hash, dataset git_commit, steps, ...).
    """
    what = kind(model)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cpu = _cpu_copy(model)
    blob = {"format": FORMAT, "kind": what, "spec": cpu.spec(), "state_dict": cpu.state_dict()}
    config = {"format": FORMAT, "kind": what, "spec": cpu.spec(), "settings": settings, "data": data}
    if what == "rno":
        d = _tensor_size(cpu.n_comp)
        blob["d"] = d
        config["components"] = [list(c) for c in component_names(d)]  # of the input, and of the output unless p
        config["target"] = cpu.target  # the output: stress or deviatoric (components above) or pressure (-tr/d)
    config["units"] = UNITS[what]
    config["environment"] = {"torch": torch.__version__, "python": platform.python_version(),
                             "machine": platform.machine()}
    _replace(out / "model.pt", lambda p: torch.save(blob, p))
    if what == "rno":
        export_torchscript(cpu, out / "model.ts")
    _replace(out / "config.json", lambda p: p.write_text(json.dumps(config, indent=1, sort_keys=True) + "\n"))
    _replace(out / "history.json", lambda p: p.write_text(json.dumps(history, indent=1) + "\n"))
    return out


def load(path: str | os.PathLike) -> nn.Module:
    """The network saved in ``path`` (its directory or its model.pt), of the class of its kind (RNO, Autoencoder,
    MicroDecoder), on the CPU in eval mode, in the dtype it was saved in."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.pt"
    blob = torch.load(path, map_location="cpu", weights_only=True)
    fmt = blob.get("format")
    what = blob.get("kind") if fmt == FORMAT else _LEGACY.get(fmt)
    if what not in KINDS:
        raise ValueError(f"{path}: not an rno-factory network (format {fmt!r}, kind {blob.get('kind')!r}; "
                         f"expected format {FORMAT!r} and a kind of {sorted(KINDS)})")
    model = KINDS[what](**blob["spec"])
    floats = [t.dtype for t in blob["state_dict"].values() if t.is_floating_point()]
    if floats:
        model = model.to(floats[0])  # a float64-trained network comes back in float64
    model.load_state_dict(blob["state_dict"])
    return model.eval()


def read_json(path: str | os.PathLike, name: str) -> dict | list:
    """config.json or history.json of a network's directory (or of the directory of its model.pt)."""
    path = Path(path)
    return json.loads(((path if path.is_dir() else path.parent) / name).read_text())
