"""Tests of mbgd.train."""

import math
import re

import pytest
import torch
from torch import nn

from mbgd.data import ReplacementSampler, TensorBatches
from mbgd.train import History, _same_device, train
from mbgd.trajectory import DivergenceError

F64 = torch.float64


def _regression(n=48, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=F64)
    y = X @ torch.arange(1.0, d + 1, dtype=F64) + 0.1 * torch.randn(n, generator=g,
                                                                     dtype=F64)
    return X, y.unsqueeze(1)


def _model(d=3, seed=1, out=1):
    g = torch.Generator().manual_seed(seed)
    model = nn.Sequential(nn.Linear(d, 4), nn.Tanh(), nn.Linear(4, out)).to(F64)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=g, dtype=F64))
    return model


def _sgd(lr=0.05, **kw):
    return lambda params: torch.optim.SGD(params, lr=lr, **kw)


def _params(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


# ---------------------------------------------------------------- accumulation

@pytest.mark.parametrize("n,b,k", [(48, 4, 3), (50, 8, 2), (45, 4, 3)])
def test_accumulation_equals_one_large_batch(n, b, k):
    # The same seed gives the same permutation, so k micro-batches of b are exactly
    # the examples of one batch of k*b. (50, 8, 2): micro-batches 8,...,8,2, the
    # last step has one short micro-batch; (45, 4, 3): the last step has 2
    # micro-batches (4 and 1). Both still equal the big-batch run.
    X, y = _regression(n)
    opt = _sgd(0.1, momentum=0.9)
    small, big = _model(), _model()
    h1 = train(small, nn.MSELoss(), (X, y), opt, epochs=3, batch_size=b, accumulate=k,
               seed=5, progress=False)
    h2 = train(big, nn.MSELoss(), (X, y), opt, epochs=3, batch_size=k * b, seed=5,
               progress=False)
    assert h1.steps_per_epoch == h2.steps_per_epoch == math.ceil(n / (k * b))
    assert torch.allclose(h1.loss, h2.loss, rtol=1e-12, atol=1e-15)
    assert torch.allclose(h1.epoch_loss, h2.epoch_loss, rtol=1e-12)
    assert torch.allclose(_params(small), _params(big), rtol=1e-12, atol=1e-14)


def test_accumulation_is_not_a_plain_sum_of_micro_batches():
    # Guard against a vacuous equivalence test: without the 1/k scaling the run
    # with accumulate=3 would move three times as far on the first step.
    X, y = _regression(24)
    m1, m2, m3 = _model(), _model(), _model()
    start = _params(m1)
    train(m1, nn.MSELoss(), (X, y), _sgd(0.01), epochs=1, batch_size=24, seed=0,
          progress=False, shuffle=False)
    train(m2, nn.MSELoss(), (X, y), _sgd(0.01), epochs=1, batch_size=8, accumulate=3,
          seed=0, progress=False, shuffle=False)
    train(m3, nn.MSELoss(), (X, y), _sgd(0.01), epochs=1, batch_size=8, seed=0,
          progress=False, shuffle=False)
    assert torch.allclose(_params(m1), _params(m2), rtol=1e-13)
    assert not torch.allclose(_params(m1) - start, _params(m3) - start, rtol=1e-3)


# -------------------------------------------------------------------- clipping

def _one_step_grad(model, X, y):
    model.zero_grad()
    nn.MSELoss()(model(X), y).backward()
    g = torch.cat([p.grad.flatten() for p in model.parameters()])
    model.zero_grad()
    return g


def test_clip_by_norm_preserves_direction():
    X, y = _regression(16)
    model = _model()
    g = _one_step_grad(model, X, y)
    start, lr, c = _params(model), 0.1, 1e-3
    assert g.norm() > 10 * c  # clipping is active
    h = train(model, nn.MSELoss(), (X, y), _sgd(lr), epochs=1, batch_size=16,
              shuffle=False, clip_grad_norm=c, record_grad_norm=True, progress=False)
    step = _params(model) - start
    assert math.isclose(float(step.norm()), lr * c, rel_tol=1e-6)
    assert torch.allclose(step / step.norm(), -g / g.norm(), atol=1e-6)
    assert math.isclose(float(h.grad_norm[0]), float(g.norm()), rel_tol=1e-12)


def test_clip_by_value_clamps_each_entry_and_changes_direction():
    X, y = _regression(16)
    model = _model()
    g = _one_step_grad(model, X, y)
    start, lr, v = _params(model), 0.1, 0.05
    train(model, nn.MSELoss(), (X, y), _sgd(lr), epochs=1, batch_size=16,
          shuffle=False, clip_grad_value=v, progress=False)
    step = _params(model) - start
    assert torch.allclose(step, -lr * g.clamp(-v, v), rtol=1e-12, atol=1e-15)
    cos = float(step @ -g / (step.norm() * g.norm()))
    assert cos < 1 - 1e-6


# ------------------------------------------------------------------ divergence

def _diverging_setup():
    X = torch.tensor([[1.0], [2.0], [-1.5], [0.5]], dtype=F64)
    y = 2 * X
    return X, y


def _first_bad_step(lr, group=4, steps=500):
    """Reference by hand: GD on consecutive groups of ``group`` examples, in order."""
    X, y = _diverging_setup()
    w, c = torch.tensor(0.3, dtype=F64), torch.tensor(-0.2, dtype=F64)
    for k in range(steps):
        i = (k * group) % 4
        xb, yb = X[i:i + group], y[i:i + group]
        r = w * xb + c - yb
        if not torch.isfinite((r ** 2).mean()):
            return k
        w, c = w - lr * (2 * r * xb).mean(), c - lr * (2 * r).mean()
    raise AssertionError("did not diverge")


def _linear():
    model = nn.Linear(1, 1).to(F64)
    with torch.no_grad():
        model.weight.fill_(0.3)
        model.bias.fill_(-0.2)
    return model


@pytest.mark.parametrize("check_every", [None, 1, 7])
def test_divergence_names_the_first_bad_step_and_lr(check_every):
    # Steps of 2 examples (micro-batches of 1, accumulate=2), 2 steps per epoch.
    X, y = _diverging_setup()
    lr = 40.0
    bad = _first_bad_step(lr, group=2)
    epochs = bad // 2 + 5
    with pytest.raises(DivergenceError) as info:
        train(_linear(), nn.MSELoss(), (X, y), _sgd(lr), epochs=epochs, batch_size=1,
              accumulate=2, shuffle=False, check_every=check_every, progress=False)
    msg = str(info.value)
    assert f"at step {bad} (epoch {bad // 2}, step {bad % 2} of the epoch" in msg
    assert "with lr = 40." in msg and "loss = " in msg


def test_divergence_reports_every_param_group_lr():
    X, y = _diverging_setup()
    model = _linear()
    opt = torch.optim.SGD([{"params": [model.weight], "lr": 100.0},
                           {"params": [model.bias], "lr": 0.5}])
    with pytest.raises(DivergenceError, match=r"lr = \[100.0, 0.5\] \(per parameter"):
        train(model, nn.MSELoss(), (X, y), opt, epochs=500, batch_size=4,
              progress=False)


def test_check_every_one_stops_right_after_the_bad_step():
    # With a check per step, the run stops right after the bad step, also in the
    # middle of an epoch (2 steps per epoch here), and runs no further step.
    X, y = _diverging_setup()
    lr = 100.0
    bad = _first_bad_step(lr, group=2)
    calls = []

    def loss_fn(out, target):
        calls.append(1)
        return nn.MSELoss()(out, target)

    for check_every, expected_calls in ((1, bad + 1), (None, 2 * (bad // 2 + 1))):
        calls.clear()
        with pytest.raises(DivergenceError, match=f"at step {bad} "):
            train(_linear(), loss_fn, (X, y), _sgd(lr), epochs=bad + 50, batch_size=2,
                  shuffle=False, check_every=check_every, progress=False)
        assert len(calls) == expected_calls


# ---------------------------------------------- determinism, optimizers, shapes

def test_determinism_with_a_seed_and_different_seeds_differ():
    X, y = _regression()
    runs = []
    for seed in (3, 3, 4):
        model = _model()
        h = train(model, nn.MSELoss(), (X, y), _sgd(), epochs=2, batch_size=5,
                  seed=seed, progress=False)
        runs.append((h.loss, _params(model)))
    assert torch.equal(runs[0][0], runs[1][0]) and torch.equal(runs[0][1], runs[1][1])
    assert not torch.equal(runs[0][0], runs[2][0])


def test_runs_with_an_optimizer_instance_and_matches_a_hand_loop():
    X, y = _regression(20)
    model, ref = _model(), _model()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    h = train(model, nn.MSELoss(), (X, y), opt, epochs=2, batch_size=6, seed=0,
              progress=False)
    # the hand-written reference with the same batches
    ref_opt = torch.optim.Adam(ref.parameters(), lr=0.01)
    losses = []
    batches = TensorBatches(X, y, batch_size=6, seed=0)
    for _ in range(2):
        for xb, yb in batches:
            ref_opt.zero_grad()
            loss = nn.MSELoss()(ref(xb), yb)
            loss.backward()
            ref_opt.step()
            losses.append(loss.detach())
    assert torch.allclose(h.loss, torch.stack(losses), rtol=1e-13)
    assert torch.allclose(_params(model), _params(ref), rtol=1e-13)
    assert opt.state  # the caller's optimizer was used


def test_history_shapes_and_epoch_loss_is_the_example_weighted_mean():
    X, y = _regression(23)
    h = train(_model(), nn.MSELoss(), (X, y), _sgd(), epochs=3, batch_size=5,
              record_grad_norm=True, seed=0, progress=False)
    assert isinstance(h, History) and h.steps_per_epoch == 5 and h.epochs == 3
    assert h.loss.shape == h.grad_norm.shape == (15,) and h.epoch_loss.shape == (3,)
    sizes = torch.tensor([5, 5, 5, 5, 3], dtype=F64)
    want = (h.loss.reshape(3, 5) * sizes).sum(1) / 23
    assert torch.allclose(h.epoch_loss, want, rtol=1e-13)
    assert (h.grad_norm > 0).all() and h.loss.device.type == "cpu"
    h2 = train(_model(), nn.MSELoss(), (X, y), _sgd(), epochs=1, batch_size=5,
               drop_last=True, seed=0, progress=False)
    assert h2.loss.shape == (4,) and h2.grad_norm is None


def test_grad_norm_matches_a_manual_computation():
    X, y = _regression(8)
    model = _model()
    g = _one_step_grad(model, X, y)
    h = train(model, nn.MSELoss(), (X, y), _sgd(), epochs=1, batch_size=8,
              record_grad_norm=True, progress=False)
    assert math.isclose(float(h.grad_norm[0]), float(g.norm()), rel_tol=1e-12)


def test_single_tensor_is_an_autoencoder_and_custom_batches():
    X, _ = _regression(12)
    model = nn.Linear(3, 3).to(F64)
    h = train(model, nn.MSELoss(), X, _sgd(0.1), epochs=30, batch_size=4, seed=0,
              progress=False)
    assert h.loss[-3:].mean() < h.loss[:3].mean()
    X, y = _regression(12)
    batches = TensorBatches(X, y, sampler=ReplacementSampler(12, 5, num_batches=3,
                                                             seed=0, device="cpu"))
    h = train(_model(), nn.MSELoss(), batches, _sgd(), epochs=2, progress=False)
    assert h.loss.shape == (6,)


def test_device_argument_moves_model_and_data():
    X, y = _regression(8)
    model = _model()
    h = train(model, nn.MSELoss(), (X, y), _sgd(), epochs=1, batch_size=4,
              device="cpu", progress=False)
    assert next(model.parameters()).device.type == "cpu" and h.loss.shape == (2,)


def test_progress_bar_runs(monkeypatch, capsys):
    monkeypatch.setenv("MBGD_PROGRESS", "1")
    X, y = _regression(8)
    train(_model(), nn.MSELoss(), (X, y), _sgd(), epochs=2, batch_size=4,
          progress=None)
    assert "train" in capsys.readouterr().err


# ------------------------------------------------------------------ validation

_X, _Y = _regression(10)


@pytest.mark.parametrize("kwargs,exc,msg", [
    (dict(model="m"), TypeError, "model must be"),
    (dict(loss_fn=3), TypeError, "loss_fn must be callable"),
    (dict(optimizer=3), TypeError, "optimizer must be"),
    (dict(optimizer=lambda p: 3), TypeError, "optimizer must be"),
    (dict(epochs=0), ValueError, "epochs must be an int >= 1"),
    (dict(batch_size=11), ValueError, "batch_size must be an int"),
    (dict(batch_size=None), ValueError, "batch_size must be"),
    (dict(accumulate=0), ValueError, "accumulate must be"),
    (dict(clip_grad_norm=0.0), ValueError, "clip_grad_norm must be"),
    (dict(clip_grad_value=-1.0), ValueError, "clip_grad_value must be"),
    (dict(clip_grad_norm=1.0, clip_grad_value=1.0), ValueError, "one clipping"),
    (dict(check_every=0), ValueError, "check_every must be"),
    (dict(progress=1), TypeError, "progress must be"),
    (dict(record_grad_norm=1), TypeError, "record_grad_norm must be"),
    (dict(data=[_X, _Y[:5]]), ValueError, "same first dimension"),
    (dict(data={"x": _X}), TypeError, "data must be"),
    (dict(model=nn.ReLU()), ValueError, "model must have parameters"),
    (dict(data=TensorBatches(_X, _Y, batch_size=2, seed=0)), ValueError,
     "batch_size must be left"),
    (dict(seed=-1), ValueError, "seed must be"),
    # an optimizer made for another model used to train nothing, silently
    (dict(optimizer=torch.optim.SGD(_model().parameters(), lr=0.1)), ValueError,
     re.escape("optimizer must hold some of the model's trainable parameters (was "
               "it made for another model?); got one over none of them")),
    (dict(optimizer=lambda p: torch.optim.SGD(_model().parameters(), lr=0.1)),
     ValueError, "optimizer must hold some of the model's trainable parameters"),
])
def test_train_errors(kwargs, exc, msg):
    args = dict(model=_model(), loss_fn=nn.MSELoss(), data=(_X, _Y),
                optimizer=_sgd(), epochs=1, batch_size=2, progress=False)
    args.update(kwargs)
    with pytest.raises(exc, match=msg):
        train(**args)


def test_an_optimizer_over_part_of_the_model_is_fine():
    model = _model()
    first = list(model[0].parameters())  # fine-tune the first layer only
    hist = train(model, nn.MSELoss(), (_X, _Y), torch.optim.SGD(first, lr=0.05),
                 epochs=1, batch_size=5, seed=0, progress=False)
    assert hist.loss.shape == (2,)


def test_same_device_reads_cuda_without_index_as_the_current_one(monkeypatch):
    # TensorBatches(device="cuda") is on "cuda", a model moved there on "cuda:0":
    # the same device, which train() used to reject.
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    cuda, cuda0, cuda1 = (torch.device(d) for d in ("cuda", "cuda:0", "cuda:1"))
    assert _same_device(cuda, cuda0) and _same_device(cuda0, cuda)
    assert not _same_device(cuda, cuda1)
    assert _same_device(torch.device("cpu"), torch.device("cpu"))
    assert not _same_device(torch.device("cpu"), cuda0)
