"""Tests of mbgd.batch_effects: closed forms against enumeration and simulation."""

import itertools
import math

import pytest
import torch
from torch import nn

from mbgd.batch_effects import (
    POPULATION_KURTOSIS,
    LineMoments,
    batch_kurtosis_mean,
    batch_lr_limit,
    bn_correction,
    bn_gradient_bias,
    bn_scale_gradients,
    bn_scale_sgd,
    epoch_factor,
    growth_probability,
    largest_stable_lr,
    line_moments,
    lr_limits,
    noisy_line,
    sgd_error_moments,
    simulate_curvature_sgd,
    simulate_line_sgd,
    stationary_excess_loss,
)
from mbgd.noise import grad_covariance, per_example_grads

F64 = torch.float64


def _within(t, target, k=4.0):
    """Is the sample mean of ``t`` within ``k`` standard errors of ``target``?"""
    se = t.std().item() / math.sqrt(t.numel())
    return abs(t.mean().item() - target) <= k * se + 1e-12


# ------------------------------------------------------------------ P11: BN

def test_bn_gradient_matches_the_closed_form_per_batch():
    r = bn_scale_gradients(5, 1.3, lam=0.7, a=-0.4, runs=200, seed=0, device="cpu")
    formula = 0.7 * 1.3**3 * r.kurtosis - 0.4 * 1.3
    assert torch.allclose(r.grad, formula, rtol=1e-12, atol=1e-12)
    assert torch.allclose(r.quartic, 0.7 * 1.3**3 * r.kurtosis, rtol=1e-12)
    assert r.population == pytest.approx(3 * 0.7 * 1.3**3 - 0.4 * 1.3)


def test_small_batches_have_a_constant_kurtosis():
    # m = 2: z = +-1; m = 3: sum z^4 = (sum z^2)^2 / 2 when sum z = 0
    for m, k in ((2, 1.0), (3, 1.5)):
        r = bn_scale_gradients(m, 1.0, runs=500, seed=1, device="cpu")
        assert torch.allclose(r.kurtosis, torch.full_like(r.kurtosis, k), atol=1e-9)
        assert batch_kurtosis_mean(m) == k


@pytest.mark.parametrize("m", [4, 9])
def test_bn_bias_and_its_correction_for_gaussian_inputs(m):
    gamma, lam = 1.1, 0.8
    r = bn_scale_gradients(m, gamma, lam=lam, a=0.5, runs=40_000, seed=m, device="cpu")
    assert _within(r.kurtosis, batch_kurtosis_mean(m))
    assert _within(r.grad - r.population, bn_gradient_bias(m, gamma, lam))
    # the bias is far from zero, so the check above could fail
    assert not _within(r.grad - r.population, 0.0)
    fixed = 0.5 * gamma + bn_correction(m) * r.quartic - r.population
    assert _within(fixed, 0.0)
    whole = bn_correction(m) * r.grad - r.population
    assert _within(whole, (bn_correction(m) - 1) * 0.5 * gamma)


def test_uniform_inputs_do_not_follow_the_gaussian_factor():
    r = bn_scale_gradients(4, 1.0, data="uniform", runs=40_000, seed=3, device="cpu")
    assert r.population == pytest.approx(POPULATION_KURTOSIS["uniform"])
    assert not _within(r.grad / r.population, 3 / 5)


def test_whole_correction_is_a_learning_rate_change():
    common = dict(lam=1.0, a=-1.0, steps=20, runs=3, device="cpu")
    c = bn_correction(4)
    whole = bn_scale_sgd(4, 1.0, lr=0.05, correction="whole", seed=5, **common)
    plain = bn_scale_sgd(4, 1.0, lr=0.05 * c, correction="none", seed=5, **common)
    assert whole.shape == (21, 3)
    assert torch.allclose(whole, plain, rtol=1e-12, atol=1e-12)
    # with a = 0 the quartic correction is the whole correction
    q0 = bn_scale_sgd(4, 1.0, lam=1.0, a=0.0, lr=0.05, steps=5, correction="quartic",
                      seed=6, device="cpu")
    w0 = bn_scale_sgd(4, 1.0, lam=1.0, a=0.0, lr=0.05, steps=5, correction="whole",
                      seed=6, device="cpu")
    assert torch.allclose(q0, w0, rtol=1e-12)


def test_sgd_on_gamma_settles_at_the_batch_minimiser():
    m = 4
    for corr, target in (("none", math.sqrt(1 / batch_kurtosis_mean(m))),
                         ("quartic", math.sqrt(1 / 3))):
        path = bn_scale_sgd(m, 1.0, lam=1.0, a=-1.0, lr=0.05, steps=200, runs=100,
                            correction=corr, seed=7, device="cpu")
        assert path[60:].mean().item() == pytest.approx(target, abs=3e-3)


# --------------------------------------------------------- P12: least squares

def _enumerated_moments(x, y, lr, b, e0, steps):
    """E[e_k], E[e_k^2] by enumerating every sequence of batches (replacement)."""
    lm = line_moments(x, y)
    batches = list(itertools.product(range(x.numel()), repeat=b))
    m = q = 0.0
    total = 0
    for seq in itertools.product(batches, repeat=steps):
        e = e0
        for B in seq:
            idx = torch.tensor(B)
            xb, rb = x[idx], y[idx] - lm.w_hat * x[idx]
            e = (1 - lr * (xb * xb).mean().item()) * e + lr * (xb * rb).mean().item()
        m, q, total = m + e, q + e * e, total + 1
    return m / total, q / total


@pytest.mark.parametrize("b,steps", [(1, 3), (2, 2)])
def test_moment_recursion_is_exact(b, steps):
    x = torch.tensor([0.5, -1.2, 2.0], dtype=F64)
    y = torch.tensor([1.0, -2.0, 3.5], dtype=F64)
    lm = line_moments(x, y)
    m, q = sgd_error_moments(lm, 0.3, b, e0=0.7, steps=steps)
    m_enum, q_enum = _enumerated_moments(x, y, 0.3, b, 0.7, steps)
    assert m[-1].item() == pytest.approx(m_enum, rel=1e-12)
    assert q[-1].item() == pytest.approx(q_enum, rel=1e-12)
    assert m.shape == (steps + 1,)


def test_moment_recursion_matches_the_simulation():
    x, y = noisy_line(64, seed=0, device="cpu")
    lm = line_moments(x, y)
    w = simulate_line_sgd(x, y, lr=0.4, batch_size=3, steps=6, w0=lm.w_hat + 1,
                          runs=20_000, seed=1)
    e = w[-1] - lm.w_hat
    m, q = sgd_error_moments(lm, 0.4, 3, e0=1.0, steps=6)
    assert _within(e, m[-1].item())
    assert _within(e**2, q[-1].item())


def test_line_moments_agree_with_mbgd_noise():
    x, y = noisy_line(50, seed=2, device="cpu")
    lm = line_moments(x, y)
    model = nn.Linear(1, 1, bias=False, dtype=F64)
    with torch.no_grad():
        model.weight.fill_(lm.w_hat)
    G = per_example_grads(model, lambda o, t: 0.5 * nn.functional.mse_loss(o, t),
                          x[:, None], y[:, None])
    assert grad_covariance(G).item() == pytest.approx(lm.s, rel=1e-10)
    assert G.mean().item() == pytest.approx(0.0, abs=1e-12)
    assert lm.h == pytest.approx((x * x).mean().item())
    assert lm.n == 50


def test_stationary_loss_is_the_fixed_point_and_the_limits_are_sharp():
    lm = LineMoments(h=1.0, v=2.0, s=0.3, c3=0.1, w_hat=0.0, loss_min=0.0, n=10)
    lr = torch.tensor([0.01, 0.2, 0.6])
    q = sgd_error_moments(lm, lr, 4, e0=1.0, steps=5000)[1][-1]
    assert torch.allclose(lm.excess_loss(q), stationary_excess_loss(lm, lr, 4),
                          rtol=1e-9)
    mean_lim, ms_lim = lr_limits(lm, 4)
    assert (mean_lim, ms_lim) == (2.0, 2 / 1.5)
    quiet = LineMoments(h=1.0, v=2.0, s=0.0, c3=0.0, w_hat=0.0, loss_min=0.0, n=10)
    below = sgd_error_moments(quiet, 0.999 * ms_lim, 4, 1.0, 2000)[1][-1]
    above = sgd_error_moments(quiet, 1.001 * ms_lim, 4, 1.0, 2000)[1][-1]
    assert below < 1e-2 and above > 1
    assert math.isinf(stationary_excess_loss(lm, 1.001 * ms_lim, 4).item())


def test_simulate_line_sgd_is_seeded_and_exact_on_one_example():
    x = torch.tensor([2.0, 2.0], dtype=F64)
    w = simulate_line_sgd(x, 2 * x, lr=0.1, batch_size=3, steps=4, w0=0.0, runs=2,
                          seed=0)
    expected = 2 * (1 - (1 - 0.1 * 4) ** torch.arange(5, dtype=F64))  # w* = 2, h = 4
    assert torch.allclose(w[:, 0], expected) and torch.allclose(w[:, 1], expected)
    x, y = noisy_line(20, seed=3, device="cpu")
    a = simulate_line_sgd(x, y, lr=0.1, batch_size=2, steps=3, w0=0.0, runs=4, seed=9)
    b = simulate_line_sgd(x, y, lr=0.1, batch_size=2, steps=3, w0=0.0, runs=4, seed=9)
    assert torch.equal(a, b)


# ------------------------------------------------------------- P13: outliers

def test_batch_limit_is_sharp():
    examples = torch.tensor([50.0] + [1.0] * 7, dtype=F64)
    limit = batch_lr_limit(50.0, 1.0, 8)
    assert limit == pytest.approx(2 / examples.mean().item())

    def end(lr):
        return simulate_curvature_sgd(examples, lr=lr, batch_size=8, steps=300,
                                      device="cpu")[-1, 0].abs().item()

    assert end(0.99 * limit) < 1e-2 and end(1.01 * limit) > 1
    assert largest_stable_lr(lambda lr: end(lr) < 1, 0.01, 1.0, tol=1e-7) == \
        pytest.approx(limit, abs=2e-6)


def test_epoch_factor_matches_explicit_reshuffled_epochs():
    n, b, lr = 16, 4, 0.9
    L = torch.ones(n, dtype=F64)
    L[5] = 20.0
    gen = torch.Generator().manual_seed(0)
    e = 1.0
    for _ in range(3):
        for batch in torch.randperm(n, generator=gen).split(b):
            e *= 1 - lr * L[batch].mean().item()
    assert abs(e) ** (1 / 3) == pytest.approx(
        epoch_factor(lr, 20.0, 1.0, n, b).item(), rel=1e-12)


def test_growth_probability_against_simulation_and_edge_cases():
    L = torch.ones(32, dtype=F64)
    L[0] = 30.0
    lrs = torch.tensor([1.5, 1.7, 1.8], dtype=F64)
    e = simulate_curvature_sgd(L, lr=lrs, batch_size=4, steps=40, runs=4000,
                               seed=2, device="cpu")
    assert e.shape == (41, 3, 4000)
    freq = (e[-1].abs() > 1).double()
    pred = growth_probability(lrs, 30.0, 1.0, 32, 4, 40)
    for f, q in zip(freq, pred.tolist()):
        assert 0.01 < q < 0.99  # an informative range
        assert abs(f.mean().item() - q) < 4 * math.sqrt(q * (1 - q) / 4000)
    # a factor of exactly 0 (lr = 1/L_L) stops growth unless every batch is bad
    p_all = (4 / 32) ** 10
    assert growth_probability(1.0, 30.0, 1.0, 32, 4, 10).item() == \
        pytest.approx(p_all, rel=1e-9)
    # b = n: every batch holds the outlier
    assert growth_probability(0.5, 30.0, 1.0, 8, 8, 5).item() == 1.0


def test_simulate_curvature_sgd_draws_distinct_examples():
    L = 2.0 ** torch.arange(6, dtype=F64)
    e = simulate_curvature_sgd(L, lr=0.01, batch_size=6, steps=2, device="cpu")
    factor = 1 - 0.01 * L.mean().item()
    assert torch.allclose(e[:, 0], torch.tensor([1.0, factor, factor**2], dtype=F64))
    # scalar lr and a one-element tensor run on the same batches
    one = simulate_curvature_sgd(L, lr=0.05, batch_size=2, steps=3, runs=5, seed=4,
                                 device="cpu")
    many = simulate_curvature_sgd(L, lr=torch.tensor([0.05], dtype=F64), batch_size=2,
                                  steps=3, runs=5, seed=4, device="cpu")
    assert torch.equal(one, many[:, 0])


def test_largest_stable_lr_checks_its_bracket():
    assert largest_stable_lr(lambda lr: lr < 0.3, 0.0, 1.0, tol=1e-9) == \
        pytest.approx(0.3, abs=1e-8)
    with pytest.raises(ValueError, match="low must be a stable"):
        largest_stable_lr(lambda lr: False, 0.1, 1.0)
    with pytest.raises(ValueError, match="high must be an unstable"):
        largest_stable_lr(lambda lr: True, 0.1, 1.0)


# ------------------------------------------------------------------ validation

LM = LineMoments(h=1.0, v=1.0, s=1.0, c3=0.0, w_hat=0.0, loss_min=0.0, n=2)


@pytest.mark.parametrize("call,exc,message", [
    (lambda: batch_kurtosis_mean(1), ValueError, "m must be an int >= 2; got 1"),
    (lambda: bn_gradient_bias(4, "1", 1.0), TypeError, "gamma must be a real"),
    (lambda: bn_scale_gradients(4, 1.0, data="cauchy"), ValueError,
     "data must be one of 'normal', 'uniform'; got 'cauchy'"),
    (lambda: bn_scale_gradients(4, 1.0, eps=0.0), ValueError, "eps must be"),
    (lambda: bn_scale_sgd(4, 1.0, lam=1.0, a=0.0, lr=0.1, steps=1,
                          correction="half"), ValueError, "correction must be"),
    (lambda: sgd_error_moments(LM, -0.1, 1, 1.0, 3), ValueError, "lr must be > 0"),
    (lambda: sgd_error_moments(LM, 0.1, 0, 1.0, 3), ValueError, "batch_size must"),
    (lambda: line_moments(torch.zeros(3), torch.ones(3)), ValueError,
     "x must not be all zeros"),
    (lambda: line_moments(torch.ones(3), torch.ones(4)), ValueError,
     "x and y must have the same shape"),
    (lambda: simulate_line_sgd([1.0], [1.0], lr=0.1, batch_size=1, steps=1, w0=0.0),
     TypeError, "x must be a 1-D torch.Tensor"),
    (lambda: epoch_factor(0.1, 50.0, 1.0, 10, 3), ValueError, "b must divide n"),
    (lambda: batch_lr_limit(-1.0, 1.0, 4), ValueError, "L_high must be"),
    (lambda: simulate_curvature_sgd([1.0, -1.0], lr=0.1, batch_size=1, steps=1),
     ValueError, "curvatures must be"),
    (lambda: simulate_curvature_sgd([1.0], lr=torch.ones(2, 2), batch_size=1,
                                    steps=1), ValueError, "lr must be a number"),
    (lambda: largest_stable_lr(3, 0.0, 1.0), TypeError, "stable must be callable"),
    (lambda: bn_scale_gradients(4, 1.0, runs=2, dtype=torch.int64), TypeError,
     "dtype must be a floating torch.dtype such as torch.float64; got torch.int64"),
    (lambda: noisy_line(4, dtype="float64"), TypeError,
     "dtype must be a floating torch.dtype such as torch.float64; got 'float64'"),
    (lambda: LineMoments(h=0.0, v=0.0, s=0.0, c3=0.0, w_hat=0.0, loss_min=0.0, n=1),
     ValueError, "h must be a real number > 0.0; got 0.0"),
    (lambda: LineMoments(h=1.0, v=-1.0, s=0.0, c3=0.0, w_hat=0.0, loss_min=0.0, n=1),
     ValueError, "v must be a real number >= 0.0; got -1.0"),
    (lambda: LineMoments(h=1.0, v=0.0, s=0.0, c3=0.0, w_hat=0.0, loss_min=0.0, n=0),
     ValueError, "n must be an int >= 1; got 0"),
    (lambda: line_moments(torch.tensor([1.0, math.nan]), torch.ones(2)), ValueError,
     "x must hold finite numbers only; got 1 nan or inf value(s) of 2"),
    (lambda: simulate_line_sgd(torch.ones(2), torch.ones(2, device="meta"), lr=0.1,
                               batch_size=1, steps=1, w0=0.0), ValueError,
     "y must be on the device of x (cpu); got meta"),
    (lambda: sgd_error_moments(LM, "a", 1, 1.0, 3), TypeError,
     "lr must be > 0 and finite (a number or a non-empty tensor); got 'a'"),
    (lambda: sgd_error_moments(LM, True, 1, 1.0, 3), TypeError, "lr must be > 0"),
    (lambda: stationary_excess_loss(LM, [], 1), ValueError,
     "lr must be > 0 and finite (a number or a non-empty tensor); got "),
    (lambda: epoch_factor(None, 50.0, 1.0, 10, 5), TypeError, "lr must be > 0"),
    (lambda: simulate_curvature_sgd([1.0], lr=torch.zeros(0), batch_size=1, steps=1),
     ValueError, "lr must be > 0 and finite (a number or a non-empty tensor)"),
    (lambda: simulate_curvature_sgd("ab", lr=0.1, batch_size=1, steps=1), TypeError,
     "curvatures must be a non-empty 1-D list of finite numbers > 0; got 'ab'"),
])
def test_bad_arguments_are_rejected_on_entry(call, exc, message):
    with pytest.raises(exc, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()
