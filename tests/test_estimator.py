"""Tests of mbgd.estimator: closed forms against simulations and independent code."""

import math

import pytest
import torch
from torch import nn

from mbgd import estimator as est
from mbgd.data import (EpochSampler, ReplacementSampler, StratifiedSampler,
                       neyman_allocation)
from mbgd.noise import (batch_mean_covariance, chebyshev_batch_size, grad_covariance,
                        noise_scale)
from mbgd.train import train

F64 = torch.float64


def half_squared_error(out, target):
    return 0.5 * (out.squeeze(-1) - target).square().mean()


@pytest.fixture(scope="module")
def small():
    return est.linear_regression(40, [1.5, -0.5, 0.25], noise_std=0.3,
                                 scales=[1.0, 0.5, 2.0], seed=0, device="cpu")


# --- the regression problem ---------------------------------------------------

def test_linear_regression_is_seeded_and_has_the_requested_moments():
    a = est.linear_regression(5, [1.0, 2.0], seed=3, device="cpu")
    b = est.linear_regression(5, [1.0, 2.0], seed=3, device="cpu")
    c = est.linear_regression(5, [1.0, 2.0], seed=4, device="cpu")
    assert torch.equal(a.X, b.X) and torch.equal(a.y, b.y)
    assert not torch.equal(a.X, c.X)
    for dist, kurtosis in est.X_KURTOSIS.items():
        x = est.linear_regression(200_000, [0.0], scales=[2.0], noise_std=0.0,
                                  x_dist=dist, seed=1, device="cpu").X[:, 0] / 2
        assert abs(x.mean()) < 0.01
        assert x.square().mean().item() == pytest.approx(1.0, rel=0.01)
        assert x.pow(4).mean().item() == pytest.approx(kurtosis, rel=0.04)


def test_example_grads_match_autograd_one_example_at_a_time(small):
    w = torch.tensor([0.3, 0.1, -0.2], dtype=F64)
    reference = []
    for x, y in zip(small.X, small.y):
        v = w.clone().requires_grad_()
        (0.5 * (x @ v - y) ** 2).backward()
        reference.append(v.grad)
    assert torch.allclose(small.example_grads(w), torch.stack(reference),
                          atol=1e-14)


def test_minimizer_hessian_and_excess_loss(small):
    w = torch.tensor([[0.3, 0.1, -0.2], [1.0, 1.0, 1.0]], dtype=F64)
    assert small.grad(small.minimizer).abs().max() < 1e-13

    def loss(v):
        return 0.5 * (small.X @ v - small.y).square().mean()

    direct = torch.stack([loss(v) - loss(small.minimizer) for v in w])
    assert torch.allclose(small.excess_loss(w), direct, rtol=1e-10)
    assert torch.allclose(torch.autograd.functional.hessian(loss, w[0]),
                          small.hessian, atol=1e-14)


@pytest.mark.parametrize("dist", list(est.X_KURTOSIS))
def test_noise_scale_of_1d_regression_against_a_large_sample(dist):
    u = 0.7
    data = est.linear_regression(300_000, [2.0], noise_std=1.5, x_dist=dist,
                                 seed=2, device="cpu")
    G = data.example_grads([2.0 + u])
    var = est.single_grad_variance(u, noise_std=1.5, x_dist=dist)
    assert grad_covariance(G).item() == pytest.approx(var, rel=0.03)
    assert noise_scale(G).item() == pytest.approx(
        est.linear_noise_scale(u, noise_std=1.5, x_dist=dist), rel=0.05)
    if dist != "gaussian":  # the seed's 2 + sigma^2/u^2 holds for Gaussian x only
        assert abs(var / u**2 - (2 + 1.5**2 / u**2)) > 0.5


@pytest.mark.parametrize("kwargs, error, match", [
    ({"n": 0, "beta": [1.0]}, ValueError, "n must be an int >= 1"),
    ({"n": 3, "beta": []}, ValueError, "beta must be a non-empty"),
    ({"n": 3, "beta": [1.0], "scales": [0.0]}, ValueError, "scales must be"),
    ({"n": 3, "beta": [1.0], "x_dist": "cauchy"}, ValueError, "x_dist must be one"),
    ({"n": 3, "beta": [1.0], "noise_std": -1.0}, ValueError, "noise_std must be"),
    ({"n": 3, "beta": None}, TypeError,
     "beta must be a non-empty 1-D list of finite numbers; got None"),
    ({"n": 3, "beta": "ab"}, TypeError, "beta must be a non-empty 1-D list"),
    ({"n": 3, "beta": [1.0], "scales": "ab"}, TypeError,
     "scales must be 1 finite numbers > 0; got 'ab'"),
])
def test_linear_regression_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        est.linear_regression(**kwargs, device="cpu")



@pytest.mark.parametrize("X, y, beta, error, match", [
    (torch.ones(2, 1, dtype=F64), torch.ones(3, dtype=F64), torch.ones(1, dtype=F64),
     ValueError, r"y must have shape \(2,\); got shape \(3,\)"),
    (torch.ones(2, dtype=F64), torch.ones(2, dtype=F64), torch.ones(1, dtype=F64),
     ValueError, r"X must have shape \(\*, \*\)"),
    (torch.ones(2, 1, dtype=F64), torch.ones(2, dtype=F64), torch.ones(2, dtype=F64),
     ValueError, r"beta must have shape \(1,\)"),
    (torch.ones(2, 1), torch.ones(2), torch.ones(1),
     TypeError, "X must be float64; got torch.float32"),
    (torch.ones(2, 1, dtype=F64), torch.ones(2, dtype=torch.float16),
     torch.ones(1, dtype=F64), TypeError, "y must be float64; got torch.float16"),
    (torch.ones(0, 1, dtype=F64), torch.ones(0, dtype=F64), torch.ones(1, dtype=F64),
     ValueError, r"X must have N >= 1 rows and d >= 1 columns; got shape \(0, 1\)"),
    (torch.tensor([[1.0], [math.nan]], dtype=F64), torch.ones(2, dtype=F64),
     torch.ones(1, dtype=F64), ValueError,
     r"X must hold finite numbers only; got 1 nan or inf value\(s\) of 2"),
])
def test_linear_regression_checks_its_tensors(X, y, beta, error, match):
    with pytest.raises(error, match=match):
        est.LinearRegression(X, y, beta)


def test_noise_scale_is_undefined_at_the_optimum():
    with pytest.raises(ValueError, match="u must be nonzero"):
        est.linear_noise_scale(0.0)


# --- work of a batch ----------------------------------------------------------

def test_gradient_work_counts_agree_with_torch_flop_counter():
    from torch.utils.flop_counter import FlopCounterMode

    X, y, w = torch.randn(12, 5, dtype=F64), torch.randn(12, dtype=F64), \
        torch.randn(5, dtype=F64)
    with FlopCounterMode(display=False) as counter:
        work = est.gradient_work(X, y, w)
    assert work.flops_batched == work.flops_single == 4 * 12 * 5
    assert counter.get_total_flops() == work.flops_batched + work.flops_single
    assert (work.calls_batched, work.calls_single) == (5, 7 * 12 + 1)
    assert work.max_difference < 1e-14
    with pytest.raises(ValueError, match="must have shapes"):
        est.gradient_work(X, y[:3], w)


# --- estimates and their exact moments -----------------------------------------

def test_sample_estimates_over_whole_epochs_average_to_the_mean_exactly():
    v = torch.randn(12, 2, dtype=F64)
    ests = est.sample_estimates(v, EpochSampler(12, 3, seed=0, device="cpu"),
                                epochs=5)
    assert ests.shape == (20, 2)
    assert torch.allclose(ests.mean(0), v.mean(0), atol=1e-15)
    with pytest.raises(ValueError, match="one size"):
        est.sample_estimates(v, EpochSampler(12, 5, seed=0, device="cpu"))
    with pytest.raises(ValueError, match="N = 12"):
        est.sample_estimates(v, EpochSampler(10, 5, seed=0, device="cpu"))


def test_stratified_estimates_use_the_sampler_weights():
    strata = torch.tensor([0] * 6 + [1] * 3 + [2] * 3)
    v = torch.randn(12, dtype=F64)
    make = lambda: StratifiedSampler(strata, 5, allocation=[2, 2, 1],  # noqa: E731
                                     num_batches=4, seed=1, device="cpu")
    ests = est.sample_estimates(v, make())
    sampler = make()
    by_hand = torch.stack([sampler.estimate(v[idx]) for idx in sampler.epoch()])
    assert torch.allclose(ests, by_hand, atol=1e-15)


@pytest.mark.parametrize("replacement", [True, False])
def test_exact_moments_equal_the_covariance_formulas(replacement):
    G = torch.randn(9, 3, dtype=F64, generator=torch.Generator().manual_seed(0))
    for b in (1, 3, 5):
        m = est.exact_batch_moments(G, b, replacement=replacement)
        assert m.count == (9**b if replacement else math.comb(9, b))
        assert torch.allclose(m.mean, G.mean(0), atol=1e-14)
        formula = batch_mean_covariance(grad_covariance(G), b,
                                        replacement=replacement, population=9)
        assert torch.allclose(m.cov, formula, atol=1e-13)


def test_exact_moments_by_hand_and_limits():
    m = est.exact_batch_moments(torch.tensor([0.0, 3.0], dtype=F64), 2,
                                replacement=True)  # (0,0) (0,3) (3,0) (3,3)
    assert (m.count, m.mean.item(), m.cov.item()) == (4, 1.5, 1.125)
    full = est.exact_batch_moments(torch.arange(5.0, dtype=F64), 5,
                                   replacement=False)
    assert (full.count, full.cov.item()) == (1, 0.0)
    with pytest.raises(ValueError, match="at most 2000000 batches"):
        est.exact_batch_moments(torch.zeros(40, dtype=F64), 20, replacement=False)


# --- correlated samples ------------------------------------------------------------

def test_equicorrelated_variance_formula_and_simulation():
    assert est.equicorrelated_variance(2.0, 1.0, 50) == 2.0
    assert est.equicorrelated_variance(2.0, 0.0, 50) == pytest.approx(0.04)
    assert est.equicorrelated_variance(1.0, -1 / 3, 4) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="rho must be"):
        est.equicorrelated_variance(1.0, -0.5, 4)
    for rho, b in ((0.3, 8), (0.8, 3)):
        means = est.equicorrelated_batch_means(2.0, rho, b, 40_000, seed=0,
                                               device="cpu")
        assert means.var().item() == pytest.approx(
            est.equicorrelated_variance(2.0, rho, b), rel=0.03)


def test_grouped_batches_stay_in_one_group_and_follow_the_model():
    groups = torch.tensor([0] * 30 + [1] * 10 + [2] * 20)
    labels = groups.to(F64)
    means = est.grouped_batch_means(labels, groups, 7, 3000, seed=0)
    assert torch.equal(means, means.round())  # every draw from one group
    assert means.mean().item() == pytest.approx(labels.mean().item(), abs=0.05)
    values = torch.randn(60, dtype=F64, generator=torch.Generator().manual_seed(1))
    values += 2 * labels
    mu = torch.stack([values[groups == k].mean() for k in range(3)])
    W = torch.tensor([0.5, 1 / 6, 1 / 3], dtype=F64)
    sigma2 = values.var(correction=0).item()
    rho = ((W * (mu - values.mean()) ** 2).sum() / sigma2).item()
    means = est.grouped_batch_means(values, groups, 5, 40_000, seed=2)
    assert means.var().item() == pytest.approx(
        est.equicorrelated_variance(sigma2, rho, 5), rel=0.03)


# --- Chebyshev and the Gaussian batch size -------------------------------------

def test_gaussian_and_chebyshev_batch_sizes():
    assert est.gaussian_batch_size(1.0, 0.1, 0.05) == 385  # 1.959964^2 * 100
    one_sigma = float(torch.special.ndtr(torch.tensor(-1.0, dtype=F64))) * 2
    assert est.gaussian_batch_size(4.0, 1.0, one_sigma) == 4  # z = 1
    cheb = chebyshev_batch_size(1.0, 0.1, 0.05)
    assert cheb / est.gaussian_batch_size(1.0, 0.1, 0.05) == pytest.approx(
        1 / (0.05 * 1.959964**2), rel=0.01)


def test_simulated_tail_obeys_chebyshev_and_matches_the_clt():
    values = est.linear_regression(50_000, [1.0], seed=0, device="cpu"
                                   ).example_grads([2.0])[:, 0]
    r = est.simulate_tail(values, 0.5, 100, 4000, keep=2, seed=0)
    assert r.running.shape == (2, 100) and r.tail.shape == (100,)
    assert r.variance == pytest.approx(3.0, rel=0.05)
    assert (r.tail <= r.chebyshev_bound() + 0.02).all()
    assert r.chebyshev_bound().dtype == r.gaussian_tail().dtype == torch.float64
    for b in (20, 40):
        assert r.tail[b - 1].item() == pytest.approx(
            r.gaussian_tail()[b - 1].item(), abs=0.02)


# --- progress per step -----------------------------------------------------------

def test_optimal_lr_maximises_the_expected_decrease():
    g, H, S = torch.tensor([1.0, -2.0], dtype=F64), \
        torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=F64), \
        torch.tensor([[3.0, 1.0], [1.0, 4.0]], dtype=F64)
    for b in (1, 5, 50):
        eta = est.optimal_lr(g, H, S, b)
        best = est.expected_decrease(g, H, S, b)
        assert best == pytest.approx(est.expected_decrease(g, H, S, b, lr=eta))
        for other in (0.9 * eta, 1.1 * eta):
            assert est.expected_decrease(g, H, S, b, lr=other) < best
        d_max = (g @ g) ** 2 / (2 * g @ H @ g)
        B = est.curvature_noise_scale(g, H, S)
        assert best == pytest.approx(float(d_max) / (1 + B / b))


def test_noise_scales_agree_when_the_hessian_is_isotropic():
    G = torch.randn(30, 3, dtype=F64, generator=torch.Generator().manual_seed(0))
    G += torch.tensor([1.0, 0.0, -1.0], dtype=F64)
    B = est.curvature_noise_scale(G.mean(0), 2.5 * torch.eye(3, dtype=F64),
                                  grad_covariance(G))
    assert B == pytest.approx(noise_scale(G).item())
    with pytest.raises(ValueError, match="grad\\^T hess grad > 0"):
        est.optimal_lr(1.0, 0.0, 1.0, 1)


def test_simulated_progress_matches_b_over_b_plus_s():
    data = est.linear_regression(20_000, [2.0], seed=1, device="cpu")
    G = data.example_grads([2.5])
    r = est.simulate_progress(G, data.hessian.item(), [1, 8, 64], 3000, seed=0)
    S = noise_scale(G).item()
    assert r.noise_scale == pytest.approx(S)
    b = r.batch_sizes.double()
    assert torch.allclose(r.predicted / r.max_decrease, b / (b + S), rtol=1e-12)
    assert ((r.measured - r.predicted).abs() < 4 * r.stderr).all()


# --- SGD on least squares ----------------------------------------------------------

def test_sgd_matches_mbgd_train_with_torch_sgd(small):
    lr, b, epochs = 0.2, 6, 3
    run = est.sgd_least_squares(small, lr, epochs=epochs, batch_size=b, seed=7)
    model = nn.Linear(3, 1, bias=False).double()
    with torch.no_grad():
        model.weight.zero_()
    train(model, half_squared_error, (small.X, small.y),
          lambda p: torch.optim.SGD(p, lr=lr), epochs=epochs, batch_size=b, seed=7,
          device="cpu", progress=False)
    assert torch.allclose(run.weights[0], model.weight[0].detach(), atol=1e-13)
    assert run.excess.shape == (1, epochs * 7 + 1)  # 40 = 6 * 6 + 4: 7 batches
    assert run.examples[-1].item() == epochs * 40


def test_full_batch_sgd_is_gradient_descent_and_rates_run_independently(small):
    lrs = [0.05, 0.3]
    run = est.sgd_least_squares(small, lrs, epochs=4, batch_size=40, seed=0)
    A, c = small.hessian, small.X.T @ small.y / 40
    for i, lr in enumerate(lrs):
        w = torch.zeros(3, dtype=F64)
        for _ in range(4):
            w = w - lr * (A @ w - c)
        assert torch.allclose(run.weights[i], w, atol=1e-13)
        alone = est.sgd_least_squares(small, lr, epochs=4, batch_size=40, seed=0)
        assert torch.allclose(alone.excess[0], run.excess[i], rtol=1e-12)
    assert (run.excess.diff(dim=1) < 0).all()  # GD below 2/L decreases f


def test_sgd_flags_divergence_and_checks_its_arguments(small):
    run = est.sgd_least_squares(small, [0.01, 50.0], epochs=2, batch_size=4,
                                seed=0)
    assert run.diverged.tolist() == [False, True]
    with pytest.raises(ValueError, match="lr must be"):
        est.sgd_least_squares(small, -1.0, epochs=1, batch_size=4)
    with pytest.raises(ValueError, match="batch_size must be None"):
        est.sgd_least_squares(small, 0.1, epochs=1, batch_size=4,
                              sampler=ReplacementSampler(40, 4, device="cpu"))
    with pytest.raises(ValueError, match="N = 40"):
        est.sgd_least_squares(small, 0.1, epochs=1,
                              sampler=ReplacementSampler(10, 4, device="cpu"))


# --- the explorer -------------------------------------------------------------------

def test_explorer_grid_rows_equal_fresh_runs():
    cached = est.simulate_batch_lr(16, 0.3)
    fresh = est.sgd_least_squares(est.running_example(), 0.3,
                                  epochs=est.EXPLORER_EPOCHS, batch_size=16, seed=0)
    assert torch.allclose(cached.sgd.excess, fresh.excess, rtol=1e-12)
    off_grid = est.simulate_batch_lr(16, 0.25)
    assert off_grid.sgd.lr.tolist() == [0.25]
    assert cached.gd.steps_per_epoch == 1


def test_explorer_renders_and_its_controls_are_the_documented_grid():
    ex = est.batch_lr_explorer()
    assert [c.name for c in ex.controls] == ["batch_size", "lr"]
    assert len(est.BATCH_SIZES) * len(est.LEARNING_RATES) <= 30
    a = ex.render(batch_size=4, lr=2.0)  # diverges: must still draw
    b = ex.render(batch_size=64, lr=1.0)
    assert a.shape == b.shape == (216, 504, 4)
    assert (a != b).any()


def test_explorer_caption_names_the_simulated_run():
    import matplotlib.pyplot as plt

    fig = plt.figure()
    view = est.BatchLRView(fig)
    view.update(est.simulate_batch_lr(256, 0.5))
    text = view.caption.get_text()
    plt.close(fig)
    assert text.startswith("b = 256, lr = 0.5: 4 updates per epoch, "), text


def test_neyman_allocation_minimises_the_stratified_variance_in_simulation():
    sizes = (300, 100)
    strata = torch.repeat_interleave(torch.arange(2), torch.tensor(sizes))
    gen = torch.Generator().manual_seed(0)
    values = torch.cat([torch.randn(300, dtype=F64, generator=gen),
                        5 * torch.randn(100, dtype=F64, generator=gen)])
    stds = torch.stack([values[:300].std(correction=0),
                        values[300:].std(correction=0)])
    n_star = neyman_allocation(sizes, stds, 10)
    variances = {}
    for n in ([7, 3], n_star.tolist()):
        sampler = StratifiedSampler(strata, 10, allocation=n, num_batches=8000,
                                    seed=1, device="cpu")
        variances[tuple(n)] = est.sample_estimates(values, sampler).var().item()
    assert n_star.tolist() == [4, 6]
    assert variances[(4, 6)] < 0.8 * variances[(7, 3)]


# --- bad input is refused on entry -------------------------------------------

_G, _V = torch.tensor([0.0, 2.0]), torch.tensor([1.0, math.nan])


@pytest.mark.parametrize("call, error, message", [
    (lambda: est.gradient_work(torch.ones(4, 3, dtype=torch.int64), torch.zeros(4),
                               torch.zeros(3)), TypeError,
     "X must be a floating tensor; got dtype torch.int64"),
    (lambda: est.gradient_work(torch.ones(4, 3), torch.zeros(4),
                               torch.zeros(3, dtype=F64)), TypeError,
     "w must have X's dtype torch.float32 and device cpu; got torch.float64 on cpu"),
    (lambda: est.gradient_work(torch.ones(0, 3), torch.zeros(0), torch.zeros(3)),
     ValueError, r"X, y, w must have shapes \(b, d\), \(b,\), \(d,\) with b, d >= 1"),
    (lambda: est.sample_estimates(_V, ReplacementSampler(2, 1, device="cpu")),
     ValueError, r"values must hold finite numbers only; got 1 nan or inf value\(s\)"),
    (lambda: est.simulate_tail(_V, 0.5, 4, 10), ValueError,
     "values must hold finite numbers only"),
    (lambda: est.exact_batch_moments(torch.zeros(3, 0), 2, replacement=False),
     ValueError, "values must be a floating tensor .* and no empty dimension"),
    (lambda: est.optimal_lr("a", 1.0, 3.0, 3), TypeError,
     r"grad must be a number or a \(d,\) tensor; got 'a'"),
    (lambda: est.optimal_lr(1.0, math.nan, 3.0, 3), ValueError,
     "hess must hold finite numbers only"),
    (lambda: est.optimal_lr(1.0, 1.0, -5.0, 3), ValueError,
     r"cov must be a covariance \(symmetric positive semidefinite\); got -5.0"),
    (lambda: est.curvature_noise_scale(torch.tensor([1.0, 0.0]), torch.eye(2),
                                       torch.diag(torch.tensor([1.0, -5.0]))),
     ValueError, r"cov must be a covariance .*; got \[\[1.0, 0.0\], \[0.0, -5.0\]\]"),
    (lambda: est.expected_decrease(True, 1.0, 3.0, 3), TypeError,
     "grad must be a number"),
    (lambda: est.simulate_progress(_G, torch.eye(2), [1], 10), ValueError,
     r"hess must be a number or have shape \(1, 1\) for G of shape \(2,\); got "
     r"shape \(2, 2\)"),
    (lambda: est.simulate_progress(_G, 1.0, 5, 10), TypeError,
     "batch_sizes must be a sequence of ints >= 1; got 5"),
    (lambda: est.simulate_progress(_V, 1.0, [1], 10), ValueError,
     "G must hold finite numbers only"),
    (lambda: est.simulate_progress([0.0, 2.0], 1.0, [1], 10), TypeError,
     "G must be a torch.Tensor"),
    (lambda: est.sgd_least_squares(est.running_example("cpu"), "a", epochs=1,
                                   batch_size=4), TypeError,
     "lr must be one or more finite numbers > 0; got 'a'"),
    (lambda: est.sgd_least_squares(est.running_example("cpu"), True, epochs=1,
                                   batch_size=4), TypeError, "lr must be one or more"),
    (lambda: est.sgd_least_squares(est.running_example("cpu"), [0.1, 0.2], epochs=1,
                                   batch_size=4, w0=torch.zeros(2, 8)), ValueError,
     r"w0 must have shape \(8,\); got shape \(2, 8\)"),
    (lambda: est.sgd_least_squares(est.running_example("cpu"), 0.1, epochs=1,
                                   batch_size=4, w0=[math.nan] * 8), ValueError,
     "w0 must hold finite numbers only"),
    (lambda: est.running_example("cpu").excess_loss("a"), TypeError,
     r"w must be real numbers of shape \(\.\.\., 8\); got 'a'"),
])
def test_bad_arguments_are_rejected_on_entry(call, error, message):
    with pytest.raises(error, match=message):
        call()
