"""Tests of mbgd.schedules: schedules vs torch, noise floor vs simulation,
exploding gradients and clipping vs torch, subgradients, accumulation."""

import math
import re

import pytest
import torch
from torch import nn
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR, StepLR

from mbgd.schedules import (
    Constant, CosineDecay, InverseTime, LinearRNN, LinearWarmup, StepDecay,
    accumulated_gradient, clip_by_norm, clip_by_value, cosine_similarity,
    critical_lr, cycle_factor, flat_grad, hinge_loss, noise_floor, pegasos,
    recurrent_matrix,
    rnn_gradient_norms, second_moment, simulate_noisy_quadratic, svm_objective,
    svm_optimum, svm_subgradient,
)

F64 = torch.float64


def torch_lrs(make_scheduler, lr, steps):
    """The lr torch uses at each of ``steps`` optimizer steps."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr)
    sched = make_scheduler(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return torch.tensor(out, dtype=F64)


# --- A10: schedules ----------------------------------------------------------

@pytest.mark.parametrize("ours, make, steps", [
    (StepDecay(0.3, step_size=7, gamma=0.5),
     lambda o: StepLR(o, step_size=7, gamma=0.5), 40),
    (CosineDecay(0.3, total_steps=50, min_lr=0.01),
     lambda o: CosineAnnealingLR(o, T_max=50, eta_min=0.01), 51),
    (LinearWarmup(CosineDecay(0.3, total_steps=60), warmup_steps=10,
                  start_factor=0.2),
     lambda o: SequentialLR(o, [LinearLR(o, start_factor=0.2, total_iters=10),
                                CosineAnnealingLR(o, T_max=60)], milestones=[10]),
     71),
])
def test_schedules_match_torch_schedulers(ours, make, steps):
    ref = torch_lrs(make, 0.3, steps)
    assert torch.allclose(ours.values(steps, device="cpu"), ref, rtol=1e-13, atol=0)


def test_schedule_call_equals_values_and_closed_forms():
    s = LinearWarmup(StepDecay(1.0, step_size=3, gamma=0.5), warmup_steps=2,
                     start_factor=0.0)
    assert [s(t) for t in range(8)] == s.values(8, device="cpu").tolist()
    assert [s(t) for t in range(8)] == [0.0, 0.5, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
    cos = CosineDecay(2.0, total_steps=10, min_lr=0.5)
    assert cos(5) == pytest.approx(1.25, abs=1e-15) and cos(10) == cos(99) == 0.5
    assert InverseTime(2.0, decay=0.5)(6) == 0.5
    assert Constant(0.2).values(3, device="cpu").tolist() == [0.2] * 3


@pytest.mark.parametrize("make, exc, message", [
    (lambda: Constant(0.0), ValueError, "lr must be a real number > 0.0; got 0.0"),
    (lambda: StepDecay(0.1, step_size=0), ValueError,
     "step_size must be an int >= 1; got 0"),
    (lambda: StepDecay(0.1, 5, gamma=1.5), ValueError,
     "gamma must be a real number with 0.0 < value <= 1.0; got 1.5"),
    (lambda: CosineDecay(0.1, 10, min_lr=0.2), ValueError,
     "min_lr must be a real number with 0.0 <= value <= 0.1; got 0.2"),
    (lambda: LinearWarmup(0.1, 5), TypeError, "after must be a Schedule; got 0.1"),
    (lambda: LinearWarmup(Constant(0.1), 5, start_factor=-1.0), ValueError,
     "start_factor must be a real number with 0.0 <= value <= 1.0; got -1.0"),
    (lambda: Constant(0.1)(-1), ValueError, "step must be an int >= 0; got -1"),
    (lambda: Constant(0.1)(1.0), TypeError, "step must be an int >= 0; got 1.0"),
    (lambda: noise_floor(2.5, curvature=1.0, noise_std=1.0), ValueError,
     "lr must be a real number with 0.0 < value < 2.0; got 2.5"),
    (lambda: second_moment(torch.tensor([[-0.1]]), curvature=1.0, noise_std=1.0),
     ValueError, "lrs must be finite and >= 0"),
    (lambda: critical_lr(torch.ones(2, 3)), ValueError,
     "hessians must have shape (m, d, d) with m, d >= 1; got shape (2, 3)"),
    (lambda: cycle_factor(torch.ones(1, 0, 0), 0.1), ValueError,
     "hessians must have shape (m, d, d) with m, d >= 1; got shape (1, 0, 0)"),
    (lambda: critical_lr(torch.full((2, 1, 1), math.nan)), ValueError,
     "hessians must be finite; got 2 non-finite entries"),
    (lambda: cycle_factor(torch.ones(2, 1, 1, dtype=torch.cfloat), 0.1), TypeError,
     "hessians must be a real tensor of shape (m, d, d); got dtype torch.complex64"),
    (lambda: second_moment(torch.tensor([True]), curvature=1.0, noise_std=1.0),
     TypeError, "lrs must be a real tensor; got dtype torch.bool"),
    (lambda: recurrent_matrix(3, 1.5, dtype=torch.int64), TypeError,
     "dtype must be a floating torch.dtype; got torch.int64"),
    (lambda: recurrent_matrix(3, 1.5, dtype="float64"), TypeError,
     "dtype must be a floating torch.dtype; got 'float64'"),
    (lambda: LinearRNN(torch.eye(2), torch.ones(2, 1, dtype=F64), torch.ones(2)),
     TypeError, "weight_ih must have the dtype and device of weight_hh, "
     "torch.float32 on cpu; got torch.float64 on cpu"),
    (lambda: LinearRNN(torch.eye(2, dtype=torch.int64), torch.ones(2, 1),
                       torch.ones(2)),
     TypeError, "weight_hh must be a floating torch.Tensor; got dtype torch.int64"),
    (lambda: LinearRNN(torch.zeros(0, 0), torch.zeros(0, 1), torch.zeros(0)),
     ValueError, "weight_hh must have shape (n, n) with n >= 1; got shape (0, 0)"),
    (lambda: LinearRNN(torch.eye(2), torch.ones(2, 1), torch.ones(2))(
        torch.ones(3, 5, 2)), ValueError, "x must have shape (*, *, 1); got shape "
     "(3, 5, 2)"),
    (lambda: LinearRNN(torch.eye(2), torch.ones(2, 1), torch.ones(2))(
        torch.ones(3, 5, 1), torch.ones(3, 3)), ValueError,
     "h0 must have shape (3, 2); got shape (3, 3)"),
    (lambda: LinearRNN(torch.eye(2), torch.ones(2, 1), torch.ones(2))(
        torch.ones(3, 5, 1, dtype=F64)), TypeError,
     "x must have the model's dtype, torch.float32; got torch.float64"),
    (lambda: rnn_gradient_norms(LinearRNN(torch.eye(2), torch.ones(2, 1),
                                          torch.ones(2)), torch.ones(4, 1), []),
     ValueError, "lengths must hold at least one length; got []"),
    (lambda: rnn_gradient_norms(LinearRNN(torch.eye(2), torch.ones(2, 1),
                                          torch.ones(2)), torch.ones(4, 1), 3),
     TypeError, "lengths must be a sequence of ints; got 3"),
    (lambda: rnn_gradient_norms(LinearRNN(torch.eye(2), torch.ones(2, 1),
                                          torch.ones(2)), torch.ones(4, 1), [2, 5]),
     ValueError, "lengths[1] must be an int with 1 <= value <= 4; got 5"),
    (lambda: rnn_gradient_norms(LinearRNN(torch.eye(2), torch.ones(2, 1),
                                          torch.ones(2)), torch.ones(4, 1, dtype=F64),
                                [1]),
     TypeError,
     "inputs must have the model's dtype, torch.float32; got torch.float64"),
    (lambda: clip_by_norm([torch.ones(2)], 0.0), ValueError,
     "max_norm must be a real number > 0.0; got 0.0"),
    (lambda: clip_by_norm(None, 1.0), TypeError,
     "grads must be a tensor or a non-empty sequence of tensors; got None"),
    (lambda: clip_by_norm(torch.tensor([3, 4]), 1.0), TypeError,
     "grads must be floating-point tensors; got dtype torch.int64"),
    (lambda: cosine_similarity(torch.zeros(2), torch.ones(2)), ValueError,
     "a must have a finite, nonzero norm (no angle otherwise); got norm 0.0"),
    (lambda: cosine_similarity(torch.ones(2), torch.tensor([1.0, math.nan])),
     ValueError, "b must have a finite, nonzero norm (no angle otherwise); got norm "
     "nan"),
    (lambda: hinge_loss(torch.ones(3), torch.ones(2, 2), torch.tensor([1, -1])),
     ValueError, "w must have shape (..., 2); got shape (3,)"),
    (lambda: hinge_loss(None, torch.ones(2, 2), torch.tensor([1, -1])), TypeError,
     "w must be a torch.Tensor of shape (..., 2); got None"),
    (lambda: svm_objective(torch.ones(2, dtype=F64), torch.ones(2, 2),
                           torch.tensor([1, -1]), lam=1.0),
     TypeError, "w must be a floating tensor of the dtype of X, torch.float32; got "
     "torch.float64"),
    (lambda: svm_subgradient(torch.ones(2), torch.ones(2, 2, dtype=torch.int64),
                             torch.tensor([1, -1]), lam=1.0),
     TypeError, "X must be a floating tensor; got dtype torch.int64"),
    (lambda: svm_optimum(torch.tensor([[1.0], [math.nan]]), torch.tensor([1, -1]),
                         lam=0.5),
     ValueError, "X must be finite; got 1 non-finite entries"),
    (lambda: hinge_loss(torch.ones(1), torch.ones(2, 1), torch.tensor([1, 0])),
     ValueError, "y must hold labels -1 and +1 only; got values [0, 1]"),
    (lambda: accumulated_gradient(nn.Linear(1, 1), nn.MSELoss(), [],
                                  weighting="size"),
     ValueError, "micro_batches must be a non-empty list"),
    (lambda: accumulated_gradient(nn.Linear(1, 1), nn.MSELoss(),
                                  [(torch.ones(1, 1), torch.ones(1, 1))],
                                  weighting="mean"),
     ValueError, "weighting must be one of 'size', 'equal', 'sum'; got 'mean'"),
    (lambda: accumulated_gradient(nn.Linear(1, 1), nn.MSELoss(), None), TypeError,
     "micro_batches must be a non-empty list of tuples (inputs..., target); got None"),
    (lambda: accumulated_gradient(nn.Linear(1, 1), nn.MSELoss(), [torch.ones(2, 1)]),
     TypeError, "micro_batches[0] must be a tuple (inputs..., target); got Tensor"),
    (lambda: accumulated_gradient(nn.Linear(1, 1), nn.MSELoss(),
                                  [(torch.ones(3, 1), torch.ones(2, 1))]),
     ValueError, "micro_batches[0] must all have the same first dimension; got "
     "lengths [3, 2]"),
    (lambda: accumulated_gradient(nn.Linear(1, 1), nn.MSELoss(),
                                  [(torch.ones(0, 1), torch.ones(0, 1))]),
     ValueError, "micro_batches[0][0] must have a first (example) dimension >= 1"),
    (lambda: accumulated_gradient(nn.Linear(1, 1).requires_grad_(False),
                                  nn.MSELoss(),
                                  [(torch.ones(1, 1), torch.ones(1, 1))]),
     ValueError, "model must have parameters with requires_grad"),
    (lambda: flat_grad(nn.Linear(1, 1)), TypeError,
     "params must be a tensor or a non-empty sequence of tensors; got Linear("),
])
def test_bad_input_is_rejected_with_a_message(make, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        make()


# --- A9: the pass map --------------------------------------------------------

def random_hessians(m, d, seed):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(m, d, d, generator=g, dtype=F64)
    return A @ A.transpose(1, 2) / d


def test_cycle_factor_predicts_measured_growth_of_minibatch_gd():
    H = random_hessians(3, 2, seed=1)
    lr = 0.8 * critical_lr(H)
    e = torch.tensor([1.0, -0.5], dtype=F64)
    norms = []
    for _ in range(400):  # 400 passes, batches in the same order
        for Hb in H:
            e = e - lr * Hb @ e
        norms.append(e.norm())
    measured = (norms[-1] / norms[199]) ** (1 / 200)
    assert measured == pytest.approx(cycle_factor(H, lr), rel=1e-2)
    assert cycle_factor(H, lr) < 0.9  # so that the tolerance means something


def test_cycle_factor_in_one_dimension_is_the_product():
    h = torch.tensor([0.5, 2.0, 4.0], dtype=F64)
    lr = 0.7
    expected = math.prod(abs(1 - lr * v) for v in h.tolist())
    assert cycle_factor(h.reshape(3, 1, 1), lr) == pytest.approx(expected, rel=1e-14)


def test_critical_lr_is_where_the_factor_crosses_one():
    H = random_hessians(4, 3, seed=2)
    lc = critical_lr(H)
    assert cycle_factor(H, lc * (1 - 1e-6)) < 1 <= cycle_factor(H, lc * (1 + 1e-6))
    # every lr below it contracts (the search starts at 0)
    assert all(cycle_factor(H, f * lc) < 1 for f in (0.1, 0.3, 0.6, 0.9, 0.99))


def test_critical_lr_none_when_the_interval_is_stable():
    H = torch.ones(2, 1, 1, dtype=F64)
    assert critical_lr(H, high=1.5) is None
    assert critical_lr(H) == pytest.approx(2.0, rel=1e-12)


# --- A10: noise floor --------------------------------------------------------

def test_noise_floor_matches_simulation_and_the_recursion_limit():
    lrs = torch.tensor([[0.1] * 1500, [1.2] * 1500], dtype=F64)
    r = simulate_noisy_quadratic(lrs, curvature=1.0, noise_std=2.0, batch_size=4,
                                 x0=0.0, chains=800, seed=3, device="cpu")
    for k, lr in enumerate((0.1, 1.2)):
        pred = noise_floor(lr, curvature=1.0, noise_std=2.0, batch_size=4)
        tail = r.tail_mean[k]
        se = tail.std() / math.sqrt(tail.numel())
        assert abs(tail.mean() - pred) < 4 * se
        limit = second_moment(torch.full((3000,), lr, dtype=F64), curvature=1.0,
                              noise_std=2.0, batch_size=4, x0=3.0)[0, -1]
        assert float(limit) == pytest.approx(pred, rel=1e-12)
    # the floor is not proportional to lr: 12x the lr gives 12 (2-0.1)/(2-1.2) x
    ratio = noise_floor(1.2, curvature=1.0, noise_std=1.0) / noise_floor(
        0.1, curvature=1.0, noise_std=1.0)
    assert ratio == pytest.approx(12 * 1.9 / 0.8, rel=1e-12)


def test_second_moment_matches_simulation_for_a_decaying_schedule():
    lrs = CosineDecay(0.5, total_steps=300).values(300, device="cpu")
    r = simulate_noisy_quadratic(lrs, curvature=2.0, noise_std=1.0, x0=2.0,
                                 chains=4000, seed=4, device="cpu")
    pred = second_moment(lrs, curvature=2.0, noise_std=1.0, x0=2.0)[0]
    sq = r.final[0] ** 2
    assert abs(sq.mean() - pred[-1]) < 4 * sq.std() / math.sqrt(sq.numel())
    assert torch.equal(r.mean_sq[0, -1], sq.mean())


def test_noisy_quadratic_is_deterministic_and_uses_common_noise():
    lrs = torch.tensor([[0.1] * 50, [0.1] * 50], dtype=F64)
    a = simulate_noisy_quadratic(lrs, chains=10, seed=5, device="cpu")
    b = simulate_noisy_quadratic(lrs[:1], chains=10, seed=5, device="cpu")
    assert torch.equal(a.final[0], a.final[1]) and torch.equal(a.final[:1], b.final)


# --- A11: exploding gradients and clipping -----------------------------------

def test_orthogonal_recurrence_gives_rho_to_the_T_exactly():
    W = recurrent_matrix(6, 1.3, seed=0, device="cpu")
    c = torch.randn(6, generator=torch.Generator().manual_seed(1), dtype=F64)
    rnn = LinearRNN(W, torch.ones(6, 2, dtype=F64), c / c.norm())
    g = rnn_gradient_norms(rnn, torch.ones(30, 2, dtype=F64), [1, 10, 30])
    assert torch.allclose(g.h0, 1.3 ** g.lengths.double(), rtol=1e-12)
    assert (g.params.diff() > 0).all()


def test_gaussian_recurrence_has_the_spectral_radius_and_growth_rate():
    W = recurrent_matrix(8, 1.2, orthogonal=False, seed=2, device="cpu")
    assert torch.linalg.eigvals(W).abs().max().item() == pytest.approx(1.2, rel=1e-12)
    rnn = LinearRNN(W, torch.ones(8, 1, dtype=F64), torch.ones(8, dtype=F64))
    g = rnn_gradient_norms(rnn, torch.ones(200, 1, dtype=F64), [100, 200])
    assert float((g.h0[1] / g.h0[0]) ** (1 / 100)) == pytest.approx(1.2, rel=2e-3)


def test_clipping_matches_torch_bit_for_bit_and_norm_clipping_keeps_direction():
    gen = torch.Generator().manual_seed(0)
    grads = [100 * torch.randn(4, 3, generator=gen, dtype=F64),
             torch.randn(5, generator=gen, dtype=F64)]
    params = [nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    ours = clip_by_norm(grads, 1.0)
    assert all(torch.equal(o, p.grad) for o, p in zip(ours, params))
    assert cosine_similarity(ours, grads) == pytest.approx(1.0, abs=1e-15)
    for p, g in zip(params, grads):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_value_(params, 1.0)
    by_value = clip_by_value(grads, 1.0)
    assert all(torch.equal(o, p.grad) for o, p in zip(by_value, params))
    assert cosine_similarity(by_value, grads) < 0.99
    small = [g / 1e4 for g in grads]
    assert all(torch.equal(a, b) for a, b in zip(clip_by_norm(small, 1.0), small))


# --- A12: subgradients and the SVM -------------------------------------------

def blobs(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.where(torch.rand(n, generator=g) < 0.5, 1, -1)
    X = torch.randn(n, 2, generator=g, dtype=F64) + 1.5 * y[:, None].double()
    return torch.cat([X, torch.ones(n, 1, dtype=F64)], 1), y


def test_subgradient_inequality_holds_exactly_for_kink_weights_in_0_1():
    x = torch.tensor([[1.0, 2.0]], dtype=F64)
    y = torch.tensor([1])
    w = x[0] / (x[0] @ x[0])  # margin exactly 1: the kink
    V = w + 3 * torch.randn(2000, 2, generator=torch.Generator().manual_seed(0),
                            dtype=F64)
    fv, fw = svm_objective(V, x, y, 1e-3), svm_objective(w, x, y, 1e-3)

    def worst(kink):
        g = svm_subgradient(w, x, y, 1e-3, kink=kink)
        return float((fv - fw - (V - w) @ g).min())

    assert all(worst(k) >= -1e-12 for k in (0.0, 0.3, 1.0))
    assert worst(1.5) < -0.1 and worst(-0.5) < -0.1


def test_subgradient_is_the_gradient_away_from_kinks():
    X, y = blobs(50, seed=1)
    w = torch.tensor([0.3, -0.2, 0.1], dtype=F64, requires_grad=True)
    svm_objective(w, X, y, 0.1).backward()
    assert torch.allclose(svm_subgradient(w.detach(), X, y, 0.1), w.grad, rtol=1e-14)


def test_svm_optimum_certificate_and_pegasos_approach_it():
    X, y = blobs(200, seed=2)
    opt = svm_optimum(X, y, lam=0.05)
    assert 0 <= opt.primal - opt.dual < 1e-9
    pert = opt.weight + 1e-3 * torch.randn(
        100, 3, generator=torch.Generator().manual_seed(3), dtype=F64)
    assert (svm_objective(pert, X, y, 0.05) >= opt.primal - 1e-12).all()
    run = pegasos(X, y, lam=0.05, steps=1500, batch_size=10, seed=0)
    assert run.objective[0] == pytest.approx(1.0)  # w_0 = 0: every hinge is 1
    assert (run.objective[-1] - opt.primal) < 1e-2 * (run.objective[0] - opt.primal)
    assert (run.average_objective >= opt.primal - 1e-12).all()
    # first step from w_0 = 0 with eta_1 = 1/lam: w_1 = mean of y x over the batch
    assert torch.allclose(run.lrs[:3], torch.tensor([20.0, 10.0, 20 / 3], dtype=F64))


# --- A13: accumulation ---------------------------------------------------------

def mlp(norm=None):
    with torch.random.fork_rng():
        torch.manual_seed(0)
        layers = [nn.Linear(3, 8)] + ([norm(8)] if norm else []) + [
            nn.Tanh(), nn.Linear(8, 1)]
        return nn.Sequential(*layers).double()


def data(n):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, 3, generator=g, dtype=F64), torch.randn(n, 1, generator=g,
                                                                  dtype=F64)


def test_accumulation_equals_the_large_batch_and_naive_weights_do_not():
    X, y = data(20)
    model, loss = mlp(), nn.MSELoss()
    big = accumulated_gradient(model, loss, [(X, y)])
    micro = list(zip(X.split(8), y.split(8)))  # sizes 8, 8, 4
    assert (accumulated_gradient(model, loss, micro) - big).abs().max() < 1e-15
    naive = accumulated_gradient(model, loss, micro, weighting="equal")
    assert (naive - big).norm() > 1e-3 * big.norm()
    equal = list(zip(X[:16].split(4), y[:16].split(4)))
    big16 = accumulated_gradient(model, loss, [(X[:16], y[:16])])
    summed = accumulated_gradient(model, loss, equal, weighting="sum")
    assert torch.allclose(summed, 4 * big16, rtol=1e-13)


def test_batchnorm_breaks_accumulation_in_train_mode_only():
    X, y = data(16)
    loss = nn.MSELoss()
    micro = list(zip(X.split(4), y.split(4)))
    model = mlp(nn.BatchNorm1d)
    diff = accumulated_gradient(model, loss, micro) - accumulated_gradient(
        model, loss, [(X, y)])
    assert diff.norm() > 1e-2
    model.eval()
    diff = accumulated_gradient(model, loss, micro) - accumulated_gradient(
        model, loss, [(X, y)])
    assert diff.abs().max() < 1e-14
    model = mlp(nn.LayerNorm)  # per-example normalisation: exact again
    diff = accumulated_gradient(model, loss, micro) - accumulated_gradient(
        model, loss, [(X, y)])
    assert diff.abs().max() < 1e-14
