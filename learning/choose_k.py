"""The number of internal variables k chosen from a k-sweep's validation errors (never the test errors).

The paper (Section 2, "Internal variables") trains RNOs for several k and takes k at the sharp transition from
decrease to saturation of the error. The rule here makes that transition a number:

    For every k of the sweep, m_k is the mean over seeds of the validation error and s_k its spread (the sample
    standard deviation over seeds; 0 with one seed). The gain of k' > k over k, robust to seed noise, is
        gain(k, k') = max(0, (m_k - s_k) - (m_k' + s_k')) / m_k        (relative to m_k)
    i.e. what is left of the improvement once both errors are moved by their spread towards each other.
    An improvement counts when gain(k, k') >= rel_gain (k' - k): a further internal variable lowers the error by
    rel_gain (default 10 %) or more, on average per added variable, beyond the seed spread; and when the same
    improvement in absolute terms, m_k gain(k, k'), is at least range_frac (default 5 %) of the sweep's whole
    drop, max_k m_k - min_k m_k. The chosen k is the smallest k of the sweep that no larger k' improves on.

The second condition is the paper's "sharp transition" made scale-aware. A relative gain alone is blind to scale:
at the noise floor of a saturated sweep a 10 % difference is a few hundredths of a percent, which one seed cannot
resolve. Measured on the paper-local 1D sweep (one seed per k, N = 1..10, validation errors 13-95 % at k = 0 and
0.33-0.70 % at k = 1..3 for the eight well-trained N) the relative rule alone chose k = 2 or 3 for five of those
eight on differences of 0.06-0.3 points (and for the two underfit N); 5 % of the sweep's drop separates those from the transitions of the paper's
studies (k = 0 -> 1 in 1D, the laminate's plateau at k = 1-2 before k = 3, a fourth variable with hardening).
With repeated seeds the spread does the same job and range_frac = 0 recovers the relative rule alone.

Comparing k with every larger k' (not only the next) keeps a plateau followed by a drop (laminate: k = 1, 2 level,
3 much lower) from stopping at the plateau. When the chosen k is the sweep's largest (``at_end``), the error was
still falling: the sweep may be too short.

A model's validation error is that of its best epoch in history.json (learning.train.train_loop's rows:
validation_error, best_epoch); models trained without a validation part have none and are skipped.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

#: the default threshold: relative gain per added internal variable that still counts as an improvement
REL_GAIN = 0.10
#: the default share of the sweep's whole drop (max - min of the mean errors) that an improvement must reach
RANGE_FRAC = 0.05
#: the paper's k per producer (Sections 3, 4, 5.1, 5.2); laminate with strain hardening 4; 2D pressure RNO 0
PAPER_K = {"composite1d": 1, "laminate": 3, "polycrystal2d": 2, "taylor_mg": 5}
TABLE_COLUMNS = ["producer", "case", "variant", "target", "train_size", "init_from", "k_values", "n_seeds",
                 "chosen_k", "at_end", "paper_k", "validation_errors"]


@dataclass(frozen=True)
class KChoice:
    """The outcome of choose_k: k, whether it is the sweep's largest (at_end), per-k statistics and the rule."""

    k: int
    at_end: bool
    stats: pd.DataFrame  # columns k, n_seeds, mean, spread (validation errors, as given)
    rel_gain: float
    range_frac: float
    reasons: dict = field(default_factory=dict)  # k -> why it was not chosen (the first k' it loses to)


def seed_stats(errors: Mapping[int, float | Sequence[float]]) -> pd.DataFrame:
    """Per k (sorted): n_seeds, mean and spread (sample standard deviation, 0 for one seed) of its errors."""
    rows = []
    for k, values in sorted(errors.items()):
        v = np.atleast_1d(np.asarray(values, float))
        if v.size == 0:
            raise ValueError(f"k = {k}: no validation errors")
        if not np.all(np.isfinite(v)) or np.any(v < 0):
            raise ValueError(f"k = {k}: validation errors must be finite and >= 0, got {v.tolist()}")
        rows.append({"k": int(k), "n_seeds": int(v.size), "mean": float(v.mean()),
                     "spread": float(v.std(ddof=1)) if v.size > 1 else 0.0})
    return pd.DataFrame(rows, columns=["k", "n_seeds", "mean", "spread"])


def robust_gain(mean_k: float, spread_k: float, mean_kp: float, spread_kp: float) -> float:
    """max(0, (mean_k - spread_k) - (mean_kp + spread_kp)) / mean_k: the relative improvement of k' over k that
    survives the seed spread of both (0 when mean_k is 0)."""
    if mean_k <= 0:
        return 0.0
    return max(0.0, (mean_k - spread_k) - (mean_kp + spread_kp)) / mean_k


def choose_k(errors: Mapping[int, float | Sequence[float]], rel_gain: float = REL_GAIN,
             range_frac: float = RANGE_FRAC) -> KChoice:
    """The k of the module's rule from ``errors`` {k: validation error or errors of several seeds}.

    ValueError if there are no k, an error is negative or not finite, rel_gain <= 0 or range_frac < 0.
    """
    if not errors:
        raise ValueError("no k in the sweep")
    if not rel_gain > 0:
        raise ValueError(f"rel_gain must be > 0, got {rel_gain}")
    if not range_frac >= 0:
        raise ValueError(f"range_frac must be >= 0, got {range_frac}")
    stats = seed_stats(errors)
    ks, mean, spread = stats["k"].to_numpy(), stats["mean"].to_numpy(), stats["spread"].to_numpy()
    floor = range_frac * (mean.max() - mean.min())  # the smallest absolute improvement that counts

    def improves(a: int, b: int) -> bool:
        g = robust_gain(mean[a], spread[a], mean[b], spread[b])
        return g >= rel_gain * (ks[b] - ks[a]) and g * mean[a] >= floor and g > 0

    reasons = {}
    for a in range(len(ks)):
        loser = next((b for b in range(a + 1, len(ks)) if improves(a, b)), None)
        if loser is None:
            return KChoice(int(ks[a]), a == len(ks) - 1, stats, rel_gain, range_frac, reasons)
        g = robust_gain(mean[a], spread[a], mean[loser], spread[loser])
        reasons[int(ks[a])] = (f"k = {ks[loser]} is lower by {100 * g:.1f} % beyond the seed spread "
                               f"(threshold {100 * rel_gain * (ks[loser] - ks[a]):.1f} %), "
                               f"{g * mean[a]:.3g} >= {floor:.3g} ({100 * range_frac:g} % of the sweep's drop)")
    raise AssertionError("unreachable: the largest k is always chosen if no smaller one is")


def validation_error(history: Sequence[Mapping]) -> float | None:
    """The validation error of the best epoch of a history (train_loop's rows); None without validation."""
    rows = [r for r in history if r.get("validation_error") is not None]
    if not rows:
        return None
    best = history[-1].get("best_epoch")
    at_best = [r for r in rows if r["epoch"] == best]
    return float(at_best[0]["validation_error"]) if at_best else float(min(r["validation_error"] for r in rows))


def paper_k(producer: str, target: str = "stress", hardening: bool = False) -> int | None:
    """The paper's k: PAPER_K, 4 for the laminate with strain hardening, 0 for the 2D pressure RNO; None when the
    paper has no such study."""
    if producer == "laminate" and hardening:
        return 4
    if producer == "polycrystal2d" and target == "pressure":
        return 0
    return PAPER_K.get(producer)


def sweep_models(results: str | os.PathLike | Iterable[str | os.PathLike]) -> pd.DataFrame:
    """One row per trained RNO under <results>/models/<producer>/<case>/<name>/ (several results folders: seeds
    trained apart): producer, case, variant, target, train_size, init_from, k, seed, validation_error (None
    without a validation part), dataset (the store it was trained on), path."""
    folders = [results] if isinstance(results, (str, os.PathLike)) else list(results)
    rows = []
    for folder in folders:
        for hist in sorted(Path(folder).glob("models/*/*/*/history.json")):
            model_dir = hist.parent
            config_path = model_dir / "config.json"
            if not config_path.exists() or not (model_dir / "model.pt").exists():
                continue  # not a finished model (a training still running rewrites history.json as it goes)
            config = json.loads(config_path.read_text())
            if config.get("kind", "rno") != "rno":
                continue
            settings, data = config.get("settings", {}), config.get("data", {})
            rows.append({"producer": model_dir.parts[-3], "case": model_dir.parts[-2],
                         "variant": settings.get("variant"), "target": settings.get("target", "stress"),
                         "train_size": int(settings.get("train_size") or 0), "init_from": data.get("init_from") or "",
                         "k": int(settings["k"]), "seed": int(settings.get("seed", 0)),
                         "validation_error": validation_error(json.loads(hist.read_text())),
                         "dataset": data.get("dataset") or "", "path": str(model_dir)})
    return pd.DataFrame(rows, columns=["producer", "case", "variant", "target", "train_size", "init_from", "k",
                                       "seed", "validation_error", "dataset", "path"])


def _hardening(dataset: str, root: Path) -> bool:
    """Whether the case config of the store ``dataset`` (relative paths: to ``root``) has strain hardening."""
    from dataset.store import open_metadata

    path = Path(dataset)
    for candidate in (path, root / path):
        if candidate.exists():
            config = json.loads(open_metadata(candidate).attrs.get("case_config", "{}"))
            return config.get("hardening", "none") not in (None, "none")
    return False


def k_table(results: str | os.PathLike | Iterable[str | os.PathLike], rel_gain: float = REL_GAIN,
            range_frac: float = RANGE_FRAC) -> pd.DataFrame:
    """The k-choice table of every k-sweep in the results folder(s): one row per (producer, case, variant, target,
    train_size, init_from) with at least two k that have validation errors: k_values, n_seeds (per k), chosen_k
    (choose_k), at_end, paper_k (paper_k; the laminate's hardening read from the dataset's case_config) and the
    validation errors (mean per k)."""
    models = sweep_models(results)
    models = models[models["validation_error"].notna()]
    first = Path(results if isinstance(results, (str, os.PathLike)) else next(iter(results), "."))
    root = first.resolve().parent  # model configs record dataset paths relative to the project root
    rows = []
    keys = ["producer", "case", "variant", "target", "train_size", "init_from"]
    for key, group in models.groupby(keys, sort=True):
        errors = {int(k): g["validation_error"].astype(float).tolist() for k, g in group.groupby("k")}
        if len(errors) < 2:
            continue
        choice = choose_k(errors, rel_gain, range_frac)
        meta = dict(zip(keys, key))
        hardening = meta["producer"] == "laminate" and _hardening(group["dataset"].iloc[0], root)
        rows.append({**meta, "k_values": " ".join(str(k) for k in sorted(errors)),
                     "n_seeds": " ".join(str(len(errors[k])) for k in sorted(errors)),
                     "chosen_k": choice.k, "at_end": choice.at_end,
                     "paper_k": paper_k(meta["producer"], meta["target"], hardening),
                     "validation_errors": " ".join(f"{m:.4g}" for m in choice.stats["mean"])})
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)
