"""Validation part, early stopping, learning-rate schedules, sequence-length curriculum and precision of the one
training loop (learning.train.train_loop / fit), on tiny synthetic 1D trajectories (a Maxwell element)."""
import copy
import math

import numpy as np
import pytest
import torch

import learning.train as lt
from learning.data import Trajectories
from learning.loss import relative_l2
from learning.settings import NetSettings
from learning.train import curriculum_steps, evaluate_error, fit, make_scheduler, split_validation, train_loop
from pipeline.config import ConfigError
from pipeline.config import validate as validate_config
from pipeline.studies import net_settings, train_settings
from conftest import Crash, crash_at
from test_learning_config import BASE

torch.set_num_threads(1)
N = 16  # time steps of the synthetic trajectories


def maxwell(S=12, n_steps=N, seed=0) -> Trajectories:
    """S strain paths on [0, 1] s and the stress of a Maxwell element (E = 100 MPa, relaxation time 0.2 s)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, n_steps + 1)
    a = rng.normal(size=(S, 3, 1))
    x = 0.01 * (a[:, 0] * np.sin(2 * np.pi * t) + a[:, 1] * t + a[:, 2] * np.sin(5 * t))
    eps_v = np.zeros_like(x)
    for n in range(1, n_steps + 1):
        eps_v[:, n] = eps_v[:, n - 1] + (t[n] - t[n - 1]) * (x[:, n] - eps_v[:, n - 1]) / 0.2
    return Trajectories(x=x[..., None], stress=100.0 * (x - eps_v)[..., None], time=t, sample=np.arange(S),
                        input_name="strain", d=1)


def tiny(**kw):
    base = dict(k=1, hidden=[8], epochs=6, batch_size=4, lr=1e-2, lr_schedule={"kind": "constant"},
                train_steps=N, eval_every=1, checkpoint_every=0, validation_fraction=0.0)
    return train_settings(**{**base, **kw})


def same_weights(a, b):
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def strip(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


# ------------------------------------------------------------------------------------------- validation part
def test_validation_part_is_the_last_ceil_v_s_trajectories():
    data = maxwell(S=30)
    for v, n_val in ((0.1, 3), (0.25, 8), (0.01, 1), (0.96, 29)):  # 0.1 * 30 = 3.0000000000000004: still 3
        rest, val = split_validation(data, v)
        assert (rest.x.shape[0], val.x.shape[0]) == (30 - n_val, n_val), v
        assert list(val.sample) == list(range(30 - n_val, 30)) and list(rest.sample) == list(range(30 - n_val))
        assert np.array_equal(np.concatenate([rest.stress, val.stress]), data.stress)
        assert val.time is data.time and val.target == data.target
    assert split_validation(data, 0.0) == (data, None)
    with pytest.raises(ValueError, match="validation_fraction"):
        split_validation(maxwell(S=1), 0.5)  # nothing left to train on
    with pytest.raises(ValueError, match="validation_fraction"):
        split_validation(maxwell(S=10), 0.95)  # ceil(9.5) = 10
    with pytest.raises(ValueError, match="validation_fraction"):
        fit(maxwell(S=1), tiny(validation_fraction=0.5), device="cpu")


def test_validation_errors_pick_the_model_returned():
    data, test = maxwell(S=12), maxwell(S=4, seed=1)
    snapshots = {}

    def keep(epoch, model):
        snapshots[epoch] = copy.deepcopy(model.state_dict())

    # lr = 0.3: too large, the validation error rises after a few epochs
    model, history = fit(data, tiny(epochs=7, eval_every=2, validation_fraction=0.25, lr=0.3), test=test,
                         device="cpu", on_epoch_end=keep)
    evaluated = [row["epoch"] for row in history if row["validation_error"] is not None]
    assert evaluated == [2, 4, 6, 7] and [row["epoch"] for row in history if row["test_error"] is not None] == evaluated
    errors = {row["epoch"]: row["validation_error"] for row in history if row["validation_error"] is not None}
    best = min(errors, key=errors.get)
    assert best < 7 and history[-1]["best_epoch"] == best
    assert history[0]["best_epoch"] is None and history[1]["best_epoch"] == 2
    for name, p in model.state_dict().items():
        assert torch.equal(p, snapshots[best][name]), name
    _, val = split_validation(data, 0.25)
    assert float(evaluate_error(model, val).mean()) == pytest.approx(errors[best], rel=1e-12, abs=0)
    # the normalisation is fitted on the 9 training trajectories only
    rest = torch.as_tensor(data.x[:9, :, 0], dtype=torch.float64)
    assert model.x_mean.item() == pytest.approx(rest.mean().item(), rel=1e-5)
    # patience 2: stops at the first evaluation two or more epochs after the best
    _, h_stop = fit(data, tiny(epochs=20, validation_fraction=0.25, lr=0.3, patience=2), device="cpu")
    stop, best = h_stop[-1]["epoch"], h_stop[-1]["best_epoch"]
    assert stop < 20 and stop - best == 2 and all(row["epoch"] - row["best_epoch"] < 2 for row in h_stop[:-1])
    # without validation: the last weights, no best epoch
    last, h_last = fit(data, tiny(epochs=2), device="cpu", on_epoch_end=keep)
    assert all(row["best_epoch"] is None and row["validation_error"] is None for row in h_last)
    assert all(torch.equal(p, snapshots[2][n]) for n, p in last.state_dict().items())


class Scripted(NetSettings):
    """Point-wise settings with validation every epoch and patience 2 (TrainSettings-like ClassVars)."""
    eval_every = 1
    patience = 2
    checkpoint_every = 2


def scripted_run(errors, checkpoint=None, on_epoch_end=None):
    """train_loop on a linear map with the validation errors ``errors`` (by epoch): returns model, history and the
    weights after each epoch."""
    s = Scripted(**net_settings(None, "settings", hidden=[4], epochs=len(errors), batch_size=16, lr=1e-2).to_dict())
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    x = torch.linspace(-1, 1, 48).reshape(16, 3)
    y = x.sum(-1, keepdim=True)
    epoch = [0]
    snapshots = {}

    def hook(e, m):
        snapshots[e] = copy.deepcopy(m.state_dict())
        if on_epoch_end is not None:
            on_epoch_end(e, m)

    history = train_loop(model, 16, lambda idx: ((model(x[idx]) - y[idx]) ** 2).mean(), s,
                         validation_error=lambda: errors[epoch[0] - 1], checkpoint=checkpoint, fingerprint="lin",
                         on_epoch_start=lambda e: epoch.__setitem__(0, e), on_epoch_end=hook)
    return model, history, snapshots


def test_patience_stops_training_and_restores_the_best_weights():
    model, history, snapshots = scripted_run([5.0, 3.0, 4.0, 3.5, 2.0, 1.0, 0.5, 0.1])
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]  # epoch 4: two epochs without improving on epoch 2
    assert [row["best_epoch"] for row in history] == [1, 2, 2, 2]
    assert [row["validation_error"] for row in history] == [5.0, 3.0, 4.0, 3.5]
    assert same_weights(model, _linear(snapshots[2])) and not same_weights(model, _linear(snapshots[4]))
    # a NaN validation error never improves
    _, h_nan, _ = scripted_run([1.0, math.nan, math.nan, 0.1])
    assert len(h_nan) == 3 and h_nan[-1]["best_epoch"] == 1
    # patience needs a validation error
    with pytest.raises(ValueError, match="patience"):
        train_loop(torch.nn.Linear(1, 1), 4, lambda idx: torch.zeros(()),
                   Scripted(**net_settings(None, "settings", epochs=1).to_dict()))


def _linear(state):
    m = torch.nn.Linear(3, 1)
    m.load_state_dict(state)
    return m


def test_early_stopping_resumes_bit_identically(tmp_path):
    errors = [5.0, 3.0, 4.0, 3.5, 2.0, 1.0]
    straight, h_straight, _ = scripted_run(errors, checkpoint=tmp_path / "a.pt")
    with pytest.raises(Crash):
        scripted_run(errors, checkpoint=tmp_path / "b.pt", on_epoch_end=crash_at(3))
    state = torch.load(tmp_path / "b.pt", weights_only=False)
    assert state["epoch"] == 2 and state["best"]["epoch"] == 2 and state["best"]["error"] == 3.0
    resumed, h_resumed, _ = scripted_run(errors, checkpoint=tmp_path / "b.pt")
    assert same_weights(straight, resumed) and strip(h_resumed) == strip(h_straight)
    # the checkpoint of the stopped run holds the stop: resuming trains no further and returns the best weights
    assert torch.load(tmp_path / "b.pt", weights_only=False)["stopped"]
    again, h_again, snapshots = scripted_run(errors, checkpoint=tmp_path / "b.pt")
    assert not snapshots and same_weights(again, straight) and strip(h_again) == strip(h_straight)


# ------------------------------------------------------------------------------------------------- schedules
def lrs(settings, n_steps, steps_per_epoch=1):
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=settings.lr)
    sched = make_scheduler(opt, settings, steps_per_epoch)
    out = []
    for _ in range(n_steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_cosine_warm_up_then_annealing():
    s = tiny(epochs=10, lr=1.0, lr_schedule={"kind": "cosine", "lr_min": 0.01, "warmup_epochs": 3})
    warm = [0.1, 0.4, 0.7]  # from 0.1 lr to lr over 3 epochs
    cos = [0.01 + 0.99 * (1 + math.cos(math.pi * j / 7)) / 2 for j in range(7)]  # over the remaining 7 epochs
    assert lrs(s, 10) == pytest.approx(warm + cos, rel=1e-12)
    plain = tiny(epochs=10, lr=1.0, lr_schedule={"kind": "cosine", "lr_min": 0.01})  # warmup_epochs unset: none
    assert lrs(plain, 10) == pytest.approx([0.01 + 0.99 * (1 + math.cos(math.pi * j / 10)) / 2 for j in range(10)])
    assert lrs(tiny(epochs=10, lr=1.0, lr_schedule={"kind": "cosine", "warmup_epochs": 0}), 10) == lrs(
        tiny(epochs=10, lr=1.0, lr_schedule={"kind": "cosine"}), 10)


def test_onecycle_steps_once_per_batch():
    s = tiny(epochs=5, lr=0.1, batch_size=4, lr_schedule={"kind": "onecycle", "pct_start": 0.25},
             eval_every=0, validation_fraction=0.0)
    per_step = lrs(s, 5 * 3, steps_per_epoch=3)  # 12 items in batches of 4: 3 steps per epoch
    assert per_step[0] == pytest.approx(0.1 / 25) and 0.09 < max(per_step) <= 0.1
    assert per_step[-1] == pytest.approx(0.1 / 25 / 1e4)  # the defaults div_factor 25, final_div_factor 1e4
    assert per_step.index(max(per_step)) == 3  # up over the first pct_start * 15 steps, then down
    model = torch.nn.Linear(2, 1)
    x = torch.randn(12, 2, generator=torch.Generator().manual_seed(0))
    history = train_loop(model, 12, lambda idx: (model(x[idx]) ** 2).mean(), s)
    assert [row["lr"] for row in history] == pytest.approx(per_step[::3], rel=1e-12)  # lr at each epoch's 1st batch
    opt = torch.optim.Adam(model.parameters())
    sched = make_scheduler(opt, s, 3)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["betas"] == (0.9, 0.999)  # Adam's betas are not cycled


@pytest.mark.parametrize("schedule", [{"kind": "cosine", "lr_min": 1e-4, "warmup_epochs": 2},
                                      {"kind": "onecycle", "pct_start": 0.4}], ids=["warm-up", "onecycle"])
def test_resume_with_the_new_schedules_is_bit_identical(tmp_path, schedule):
    data = maxwell()
    s = tiny(epochs=5, checkpoint_every=2, eval_every=2, validation_fraction=0.25, lr_schedule=schedule,
             curriculum={"start_steps": 4, "ramp_epochs": 4})
    straight, h_straight = fit(data, s, checkpoint=tmp_path / "a.pt", device="cpu")
    with pytest.raises(Crash):
        fit(data, s, checkpoint=tmp_path / "b.pt", device="cpu", on_epoch_end=crash_at(3))
    resumed, h_resumed = fit(data, s, checkpoint=tmp_path / "b.pt", device="cpu")
    assert same_weights(straight, resumed) and strip(h_resumed) == strip(h_straight)


# ------------------------------------------------------------------------------------------------ curriculum
def test_curriculum_steps_grow_geometrically_to_the_whole_path():
    s = tiny(curriculum={"start_steps": 2, "ramp_epochs": 5})
    assert [curriculum_steps(s, e, 32) for e in range(1, 8)] == [2, 4, 8, 16, 32, 32, 32]
    assert [curriculum_steps(s, e, 10) for e in range(1, 6)] == [2, 3, 4, 7, 10]  # round(2 * 5^((e-1)/4))
    assert curriculum_steps(tiny(), 1, 32) == 32  # None: the whole path
    assert curriculum_steps(tiny(curriculum={"start_steps": 50, "ramp_epochs": 5}), 1, 32) == 32
    assert curriculum_steps(tiny(curriculum={"start_steps": 3, "ramp_epochs": 1}), 1, 32) == 32
    for start in (1, 3, 7):
        for ramp in (2, 5, 13):
            c = tiny(curriculum={"start_steps": start, "ramp_epochs": ramp})
            steps = [curriculum_steps(c, e, 20) for e in range(1, ramp + 3)]
            assert steps[0] == start and steps[ramp - 1] == 20 and steps == sorted(steps)
            assert all(1 <= n <= 20 for n in steps)


def test_curriculum_windows_the_training_loss_only(monkeypatch):
    lengths, epoch = [], [0]

    def recording(approx, truth, time, weights=None):
        lengths.append((epoch[0], approx.shape[1], time.shape[0], approx.dtype))
        return relative_l2(approx, truth, time, weights)

    monkeypatch.setattr(lt, "relative_l2", recording)
    s = tiny(epochs=4, batch_size=12, eval_every=4, validation_fraction=0.25,
             curriculum={"start_steps": 2, "ramp_epochs": 3})
    fit(maxwell(S=16), s, test=maxwell(S=4, seed=1), device="cpu",
        on_epoch_end=lambda e, m: epoch.__setitem__(0, e))
    # training loss: one batch of 12 per epoch, windows of 2, 6 (2 sqrt(8)), 16, 16 steps; then the test and
    # validation errors on the whole paths, in float64
    assert lengths == [(0, 3, 3, torch.float32), (1, 7, 7, torch.float32), (2, 17, 17, torch.float32),
                       (3, 17, 17, torch.float32), (3, 17, 17, torch.float64), (3, 17, 17, torch.float64)]
    # start_steps = N: the same run as without a curriculum
    a, ha = fit(maxwell(), tiny(epochs=2, curriculum={"start_steps": N, "ramp_epochs": 2}), device="cpu")
    b, hb = fit(maxwell(), tiny(epochs=2), device="cpu")
    assert same_weights(a, b) and strip(ha) == strip(hb)


# ------------------------------------------------------------------------------------------------- precision
def test_errors_are_evaluated_in_float64_without_touching_the_model():
    data, test = maxwell(), maxwell(S=4, seed=1)
    model, _ = fit(data, tiny(epochs=2), device="cpu")
    before = copy.deepcopy(model.state_dict())
    e32 = evaluate_error(model, test)
    assert e32.dtype == np.float64
    assert all(p.dtype == torch.float32 and torch.equal(p, before[k]) for k, p in model.state_dict().items())
    e64 = evaluate_error(copy.deepcopy(model).double(), test)
    np.testing.assert_allclose(e32, e64, rtol=1e-6)
    # the float32 rollout differs from the float64 one by float32 round-off only
    x, stress, time = test.tensors()
    with torch.no_grad():
        single = relative_l2(model(x, time).double(), stress.double(), time.double()).numpy()
    np.testing.assert_allclose(single, e64, rtol=1e-4)


def test_float64_training():
    data = maxwell()
    m64, h64 = fit(data, tiny(epochs=2, dtype="float64"), device="cpu")
    m32, h32 = fit(data, tiny(epochs=2), device="cpu")
    assert all(t.dtype == torch.float64 and t.device.type == "cpu" for t in m64.state_dict().values())
    assert all(t.dtype == torch.float32 for t in m32.state_dict().values())
    for p, q in zip(m64.parameters(), m32.parameters()):
        torch.testing.assert_close(p.float(), q, rtol=1e-3, atol=1e-4)  # the same run up to float32 round-off
    assert h64[-1]["test_error"] is None and h64[-1]["train_error"] == pytest.approx(h32[-1]["train_error"],
                                                                                      rel=1e-4)


# -------------------------------------------------------------------------------------------------- settings
@pytest.mark.parametrize("fields,name", [
    ({"validation_fraction": 1.0}, "validation_fraction"),
    ({"validation_fraction": -0.1}, "validation_fraction"),
    ({"validation_fraction": 0.2, "eval_every": 0}, "validation_fraction"),
    ({"patience": 5}, "patience"),  # without a validation part
    ({"patience": 0, "validation_fraction": 0.2}, "patience"),
    ({"curriculum": {"start_steps": 0, "ramp_epochs": 5}}, "curriculum.start_steps"),
    ({"curriculum": {"start_steps": 2}}, "curriculum"),
    ({"curriculum": {"start_steps": 2, "ramp_epochs": 5, "power": 2}}, "curriculum"),
    ({"dtype": "float16"}, "dtype"),
    ({"lr_schedule": {"kind": "cosine", "warmup": 3}}, "lr_schedule"),
    ({"lr_schedule": {"kind": "cosine", "warmup_epochs": 6}}, "lr_schedule.warmup_epochs"),  # epochs = 6
    ({"lr_schedule": {"kind": "cosine", "warmup_epochs": -1}}, "lr_schedule.warmup_epochs"),
    ({"lr_schedule": {"kind": "onecycle", "pct_start": 1.5}}, "lr_schedule.pct_start"),
    ({"lr_schedule": {"kind": "onecycle", "div_factor": "big"}}, "lr_schedule.div_factor"),
    ({"lr_schedule": {"kind": "linear"}}, "lr_schedule.kind"),
])
def test_bad_settings_name_the_field(fields, name):
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        tiny(**fields)


def test_net_settings_keep_validation_off():
    s = net_settings(None, "settings")
    assert (s.validation_fraction, s.patience, s.curriculum, s.dtype) == (0.0, None, None, "float32")
    assert set(s.to_dict()) == {"hidden", "epochs", "batch_size", "lr", "lr_min", "seed"}
    d = train_settings()  # the schema's defaults: the measured recipe (docs/learning.md) validates on a fifth
    assert (d.validation_fraction, d.patience, d.curriculum, d.dtype) == (0.2, None, None, "float32")


def test_config_accepts_and_rejects_the_new_keys():
    from pipeline import studies as lc

    cfg = copy.deepcopy(BASE)
    cfg["learning"]["defaults"].update(validation_fraction=0.1, patience=50, dtype="float64",
                                       curriculum={"start_steps": 20, "ramp_epochs": 50},
                                       lr_schedule={"kind": "cosine", "lr_min": 1e-5, "warmup_epochs": 10})
    cfg["learning"]["studies"]["transfer"]["overrides"] = {"epochs": 20, "lr_schedule": {"kind": "onecycle",
                                                                                         "pct_start": 0.2}}
    validate_config(cfg)
    lc.check(cfg)
    s = lc.settings(cfg, lc.ModelKey("composite1d", "N4", "evp", 1))
    assert (s.validation_fraction, s.patience, s.dtype, s.curriculum["ramp_epochs"]) == (0.1, 50, "float64", 50)
    # merged into the defaults' lr_schedule: the cosine keys stay, unused by onecycle
    assert s.lr_schedule == {"kind": "onecycle", "lr_min": 1e-5, "warmup_epochs": 10, "pct_start": 0.2}
    for key, value in (("validation_fraction", 1.0), ("patience", 0), ("dtype", "half"),
                       ("curriculum", {"start_steps": 2}), ("lr_schedule", {"kind": "cosine", "warm": 1}),
                       ("lr_schedule", {"kind": "onecycle", "pct_start": 0.0})):
        bad = copy.deepcopy(BASE)
        bad["learning"]["defaults"][key] = value
        with pytest.raises(ConfigError, match=rf"learning\.defaults\.{key}"):
            validate_config(bad)
