"""Tests of mbgd.noise against explicit loops and enumerations, in float64."""

import itertools
import math
import re

import pytest
import torch
from torch import nn

from mbgd.data import EpochSampler, ReplacementSampler
from mbgd.noise import (
    batch_mean_covariance,
    chebyshev_batch_size,
    finite_population_correction,
    grad_covariance,
    grad_mean,
    noise_scale,
    per_example_grads,
    signal_to_noise,
    stratified_variance,
    trace_covariance,
)

F64 = torch.float64


def _mlp_data(n=9, seed=0):
    g = torch.Generator().manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).to(F64)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=F64))
    x = torch.randn(n, 3, generator=g, dtype=F64)
    y = torch.randn(n, 2, generator=g, dtype=F64)
    return model, x, y


def _loop_grads(model, loss_fn, x, y):
    """Reference: one backward pass per example."""
    rows = []
    for i in range(x.shape[0]):
        model.zero_grad()
        loss_fn(model(x[i:i + 1]), y[i:i + 1]).backward()
        rows.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    model.zero_grad()
    return torch.stack(rows)


# ----------------------------------------------------------- per-example grads

@pytest.mark.parametrize("chunk_size", [None, 4])
def test_per_example_grads_match_a_loop_of_backward_passes(chunk_size):
    model, x, y = _mlp_data()
    loss_fn = nn.MSELoss()
    G = per_example_grads(model, loss_fn, x, y, chunk_size=chunk_size)
    P = sum(p.numel() for p in model.parameters())
    assert G.shape == (9, P) and G.dtype == F64
    assert torch.allclose(G, _loop_grads(model, loss_fn, x, y), rtol=1e-12, atol=1e-14)
    assert all(p.grad is None for p in model.parameters())


def test_per_example_grads_dict_form_and_mean_is_full_gradient():
    model, x, y = _mlp_data()
    loss_fn = nn.MSELoss()
    grads = per_example_grads(model, loss_fn, x, y, flatten=False)
    assert list(grads) == [k for k, _ in model.named_parameters()]
    for (k, p), g in zip(model.named_parameters(), grads.values()):
        assert g.shape == (9, *p.shape)
    loss_fn(model(x), y).backward()  # mean loss over the 9 examples
    full = torch.cat([p.grad.flatten() for p in model.parameters()])
    G = per_example_grads(model, loss_fn, x, y)
    assert torch.allclose(grad_mean(G), full, rtol=1e-12, atol=1e-14)


def test_per_example_grads_classification_and_frozen_params():
    g = torch.Generator().manual_seed(1)
    model = nn.Linear(4, 3).to(F64)
    model.bias.requires_grad_(False)
    x = torch.randn(6, 4, generator=g, dtype=F64)
    y = torch.randint(3, (6,), generator=g)
    G = per_example_grads(model, nn.CrossEntropyLoss(), x, y)
    assert G.shape == (6, 12)  # weight only
    for i in range(6):
        model.zero_grad()
        nn.CrossEntropyLoss()(model(x[i:i + 1]), y[i:i + 1]).backward()
        assert torch.allclose(G[i], model.weight.grad.flatten(), rtol=1e-12)


@pytest.mark.parametrize("call,exc,msg", [
    (lambda m, x, y: per_example_grads("m", nn.MSELoss(), x, y), TypeError, "model"),
    (lambda m, x, y: per_example_grads(m, 3, x, y), TypeError, "loss_fn"),
    (lambda m, x, y: per_example_grads(m, nn.MSELoss(), x, y[:3]), ValueError, "same"),
    (lambda m, x, y: per_example_grads(m, nn.MSELoss(), x, y, chunk_size=0),
     ValueError, "chunk_size"),
    (lambda m, x, y: per_example_grads(nn.ReLU(), nn.MSELoss(), x, y), ValueError,
     "parameters"),
])
def test_per_example_grads_errors(call, exc, msg):
    model, x, y = _mlp_data()
    with pytest.raises(exc, match=msg):
        call(model, x, y)


# ----------------------------------------------------------------- moments

def _G(n=7, p=3, seed=0):
    return torch.randn(n, p, generator=torch.Generator().manual_seed(seed), dtype=F64)


def test_covariance_matches_the_explicit_sum():
    G = _G()
    g = G.sum(0) / 7
    explicit = sum(torch.outer(G[i] - g, G[i] - g) for i in range(7)) / 7
    assert torch.allclose(grad_covariance(G), explicit, rtol=1e-13)
    assert torch.allclose(grad_covariance(G, correction=1), torch.cov(G.T), rtol=1e-13)
    assert torch.allclose(trace_covariance(G), explicit.trace(), rtol=1e-13)


def test_noise_scale_and_snr_explicit():
    G = _G()
    g = G.mean(0)
    tr = sum(float((G[i] - g) @ (G[i] - g)) for i in range(7)) / 7
    S = tr / float(g @ g)
    assert math.isclose(float(noise_scale(G)), S, rel_tol=1e-13)
    assert math.isclose(float(signal_to_noise(G, 16)), 16 / S, rel_tol=1e-13)
    # 1-D: Var / g^2
    v = torch.tensor([1.0, 2.0, 6.0], dtype=F64)
    assert math.isclose(float(noise_scale(v)), (14 / 3) / 9, rel_tol=1e-14)
    assert grad_covariance(v).shape == () and grad_mean(v).shape == ()


def test_noise_scale_of_linear_regression_matches_the_seed_formula():
    # y = beta x + e, x ~ N(0, 1), e ~ N(0, s^2): at w the per-example gradient of
    # (1/2)(w x - y)^2 is x (u x - e), u = w - beta, with mean u and variance
    # 2 u^2 + s^2, so S = (2 u^2 + s^2) / u^2. 200000 draws: relative error of the
    # sample variance ~ sqrt(kurtosis / n) ~ 0.01; we allow 5 %.
    g = torch.Generator().manual_seed(0)
    n, beta, s, w = 200_000, 2.0, 0.5, 2.5
    x = torch.randn(n, generator=g, dtype=F64)
    y = beta * x + s * torch.randn(n, generator=g, dtype=F64)
    G = x * (w * x - y)
    u = w - beta
    assert math.isclose(float(noise_scale(G)), (2 * u**2 + s**2) / u**2, rel_tol=0.05)


def test_noise_scale_at_a_stationary_point_is_infinite():
    assert math.isinf(float(noise_scale(torch.tensor([-1.0, 1.0]))))


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: grad_mean([1.0]), TypeError, "G must be"),
    (lambda: grad_mean(torch.zeros(2, 2, 2)), ValueError, "G must be"),
    (lambda: grad_mean(torch.tensor([1, 2])), ValueError, "G must be"),
    (lambda: grad_covariance(torch.zeros(1, 2), correction=1), ValueError, "N >= 2"),
    (lambda: grad_covariance(torch.zeros(3, 2), correction=2), ValueError,
     "correction"),
    (lambda: signal_to_noise(torch.zeros(3, 2), 0), ValueError, "batch_size"),
    # no parameters, or a diverged model: used to give empty or NaN results
    (lambda: grad_covariance(torch.zeros(3, 0)), ValueError, re.escape(
        "G must be a floating tensor of shape (N,) or (N, P) with N, P >= 1; got "
        "dtype torch.float32 and shape (3, 0)")),
    (lambda: noise_scale(torch.tensor([1.0, float("nan")])), ValueError, re.escape(
        "G must be finite (a NaN or inf gradient means the model diverged); got 1 "
        "non-finite entries")),
    (lambda: grad_mean(torch.tensor([[1.0], [float("inf")]])), ValueError,
     "G must be finite"),
])
def test_moment_errors(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


# ------------------------------------------- covariance of a mini-batch mean

def _exact_batch_cov(G, b, replacement):
    """Enumerate every batch (ordered tuples with replacement, subsets without)."""
    n = G.shape[0]
    if replacement:
        idx = torch.cartesian_prod(*[torch.arange(n)] * b).reshape(-1, b)
    else:
        idx = torch.combinations(torch.arange(n), b).reshape(-1, b)
    means = G[idx].mean(1)
    assert torch.allclose(means.mean(0), G.mean(0), rtol=1e-12)  # unbiased
    d = means - G.mean(0)
    return d.T @ d / means.shape[0]


@pytest.mark.parametrize("b", [1, 2, 3, 7])
def test_batch_mean_covariance_matches_exhaustive_enumeration(b):
    G = _G(n=7, p=2)
    sigma = grad_covariance(G)
    for replacement in (True, False):
        exact = _exact_batch_cov(G, b, replacement)
        formula = batch_mean_covariance(sigma, b, replacement=replacement,
                                        population=7)
        assert torch.allclose(formula, exact, rtol=1e-11, atol=1e-14), (b, replacement)


def test_fpc_values():
    assert finite_population_correction(10, 1) == 1.0
    assert finite_population_correction(10, 10) == 0.0
    assert finite_population_correction(1, 1) == 0.0
    assert finite_population_correction(10, 4) == 6 / 9
    with pytest.raises(ValueError, match="batch_size must be an int with 1"):
        finite_population_correction(10, 11)


def _mc_mean_sq_error(sampler, G, epochs):
    """Per-epoch averages of |g_b - g|^2 over the sampler's batches (iid epochs)."""
    g = G.mean(0)
    per_epoch = torch.stack([
        torch.stack([(G[idx].mean(0) - g).square().sum() for idx in sampler.epoch()])
        .mean() for _ in range(epochs)])
    return per_epoch.mean(), per_epoch.std() / math.sqrt(epochs)


@pytest.mark.parametrize("replacement", [False, True])
def test_batch_mean_covariance_monte_carlo_with_mbgd_samplers(replacement):
    # E|g_b - g|^2 = tr Cov(g_b). Batches of one epoch are dependent (disjoint),
    # epochs are iid, so the standard error comes from the spread of the epoch
    # averages (4000 epochs); the test allows 5 standard errors.
    N, b = 12, 4
    G = _G(n=N, p=3, seed=2)
    tr = trace_covariance(G)
    if replacement:
        sampler = ReplacementSampler(N, b, seed=0, device="cpu")
    else:
        sampler = EpochSampler(N, b, seed=0, device="cpu")
    est, se = _mc_mean_sq_error(sampler, G, epochs=4000)
    want = batch_mean_covariance(tr, b, replacement=replacement, population=N)
    assert abs(float(est - want)) < 5 * float(se), (float(est), float(want), float(se))
    # and the other formula is rejected: with vs without differ by 8/11 here
    other = batch_mean_covariance(tr, b, replacement=not replacement, population=N)
    assert abs(float(est - other)) > 5 * float(se)


def test_batch_mean_covariance_shapes_and_errors():
    sigma = torch.eye(3, dtype=F64)
    assert batch_mean_covariance(sigma, 2).shape == (3, 3)
    assert batch_mean_covariance(3, 2).dtype == torch.get_default_dtype()
    with pytest.raises(ValueError, match="population must be"):
        batch_mean_covariance(sigma, 2, replacement=False)
    with pytest.raises(ValueError, match="batch_size must be an int with 1"):
        batch_mean_covariance(sigma, 5, replacement=False, population=4)


# -------------------------------------------------------------- Chebyshev

@pytest.mark.parametrize("var,eps,delta", [(1.0, 0.1, 0.05), (3.7, 0.2, 0.1),
                                           (0.01, 1.0, 0.5), (2.0, 0.5, 1.0)])
def test_chebyshev_batch_size_is_the_smallest_valid(var, eps, delta):
    b = chebyshev_batch_size(var, eps, delta)
    assert var / (b * eps**2) <= delta * (1 + 1e-9)
    assert b == 1 or var / ((b - 1) * eps**2) > delta
    N = 3 * b
    bn = chebyshev_batch_size(var, eps, delta, population=N)
    mse = lambda m: var / m * (N - m) / (N - 1)  # noqa: E731
    assert bn <= b and mse(bn) / eps**2 <= delta * (1 + 1e-9)
    assert bn == 1 or mse(bn - 1) / eps**2 > delta


def test_chebyshev_bound_holds_in_simulation():
    # At the Chebyshev batch size the error probability is at most delta (here far
    # below it: the bound is loose). 2000 batches with replacement.
    G = _G(n=50, p=2, seed=3)
    tr = float(trace_covariance(G))
    eps, delta = 0.5, 0.2
    b = chebyshev_batch_size(tr, eps, delta)
    s = ReplacementSampler(50, b, num_batches=2000, seed=0, device="cpu")
    errs = torch.stack([(G[i].mean(0) - G.mean(0)).norm() for i in s.epoch()])
    assert float((errs >= eps).double().mean()) <= delta


def test_chebyshev_tensor_input_and_errors():
    assert chebyshev_batch_size(torch.tensor(1.0), 0.1, 0.05) == 2000
    assert chebyshev_batch_size(0.0, 0.1, 0.05) == 1
    with pytest.raises(ValueError, match="variance must be a number"):
        chebyshev_batch_size(torch.eye(2), 0.1, 0.1)
    with pytest.raises(ValueError, match="eps must be"):
        chebyshev_batch_size(1.0, 0.0, 0.1)
    with pytest.raises(ValueError, match="delta must be"):
        chebyshev_batch_size(1.0, 0.1, 1.5)


# ------------------------------------------------------ stratified variance

@pytest.mark.parametrize("replacement", [False, True])
def test_stratified_variance_matches_enumeration(replacement):
    values = torch.tensor([1.0, 4.0, 2.0, 8.0, 3.0, 0.5, 7.0], dtype=F64)
    strata = [[0, 1, 2, 3], [4, 5, 6]]
    alloc = (2, 2)
    pick = itertools.product if replacement else itertools.combinations
    draws = [list(pick(m, n)) if not replacement else list(pick(m, repeat=n))
             for m, n in zip(strata, alloc)]
    W = torch.tensor([4 / 7, 3 / 7], dtype=F64)
    est = torch.stack([sum(W[k] * values[list(c)].mean() for k, c in enumerate(cs))
                       for cs in itertools.product(*draws)])
    assert torch.allclose(est.mean(), values.mean(), rtol=1e-13)
    exact = ((est - values.mean()) ** 2).mean()
    variances = torch.stack([values[m].var(correction=0) for m in strata])
    got = stratified_variance([4, 3], variances, alloc, replacement=replacement)
    assert torch.allclose(got, exact, rtol=1e-12)


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: batch_mean_covariance("abc", 2), TypeError,
     "sigma must be a real number or a real tensor; got 'abc'"),
    (lambda: batch_mean_covariance(None, 2), TypeError,
     "sigma must be a real number or a real tensor; got None"),
    (lambda: batch_mean_covariance(True, 2), TypeError,
     "sigma must be a real number or a real tensor; got True"),
    (lambda: batch_mean_covariance(-1.0, 2), ValueError,
     "sigma must be finite and >= 0; got tensor(-1.)"),
    (lambda: batch_mean_covariance(float("nan"), 2), ValueError,
     "sigma must be finite and >= 0; got tensor(nan)"),
    (lambda: batch_mean_covariance(torch.tensor([1.0, -2.0]), 2), ValueError,
     "sigma must be finite and >= 0; got tensor([ 1., -2.])"),
    (lambda: batch_mean_covariance(torch.tensor([[1.0, float("inf")], [0.0, 1.0]]), 2),
     ValueError, "sigma must be finite; got tensor("),
    (lambda: chebyshev_batch_size(torch.tensor(1 + 1j), 0.1, 0.1), TypeError,
     "variance must be a real number >= 0.0; got (1+1j)"),
    (lambda: stratified_variance(None, [1.0, 1.0], [1, 1]), TypeError,
     "sizes must be a non-empty 1-D list of ints >= 1; got None"),
    (lambda: stratified_variance([2, 2], "ab", [1, 1]), TypeError,
     "variances must be real numbers or a real tensor; got 'ab'"),
    (lambda: stratified_variance([2, 2], [-1.0, 1.0], [1, 1]), ValueError,
     "variances must be finite and >= 0; got tensor([-1.,  1.])"),
    (lambda: stratified_variance([2, 2], [float("nan"), 1.0], [1, 1]), ValueError,
     "variances must be finite and >= 0; got tensor([nan, 1.])"),
    (lambda: stratified_variance([2, 2], [1.0, 1.0], None), TypeError,
     "allocation must be 2 ints with 1 <= n_k <= N_k = [2, 2]; got None"),
    (lambda: stratified_variance([2, 2], [1.0, 1.0], [True, True]), TypeError,
     "allocation must be 2 ints with 1 <= n_k <= N_k = [2, 2]; got [True, True]"),
])
def test_variance_argument_errors(call, exc, msg):
    with pytest.raises(exc, match=re.escape(msg)):
        call()


def test_covariance_matrices_may_have_negative_entries():
    sigma = torch.tensor([[1.0, -0.5], [-0.5, 1.0]])
    assert torch.equal(batch_mean_covariance(sigma, 2), sigma / 2)
    cov = torch.stack([sigma, 2 * sigma]).double()
    assert stratified_variance([1, 1], cov, [1, 1], replacement=True).shape == (2, 2)


def test_stratified_variance_matrix_form_and_errors():
    cov = torch.stack([torch.eye(2), 2 * torch.eye(2)]).double()
    out = stratified_variance([1, 1], cov, [1, 1], replacement=True)
    assert torch.allclose(out, 0.75 * torch.eye(2, dtype=F64))
    with pytest.raises(ValueError, match="variances must have first dimension"):
        stratified_variance([2, 2], [1.0], [1, 1])
    with pytest.raises(ValueError, match="allocation must be"):
        stratified_variance([2, 2], [1.0, 1.0], [3, 1])
