"""SGD as a stochastic process: closed forms against simulations (mbgd.sgd_dynamics).

Statistical checks compare an ensemble average with its prediction within a few
standard errors of that average, with fixed seeds (so they are deterministic).
"""

import math

import numpy as np
import pytest
import torch

from mbgd.landscapes import Quadratic, double_well, quadratic, robot_arm, saddle
from mbgd.noise import grad_covariance
from mbgd.sgd_dynamics import (
    NOISES,
    Chains,
    SteadyStateView,
    annealing_batch_sizes,
    covariance_ellipse,
    effective_temperature,
    escape_steps_gd,
    escape_steps_noisy,
    gibbs,
    linreg_sgd_chains,
    linreg_stationary_variance,
    moment_recursion,
    propagate_law,
    sgd_chains,
    sharp_flat,
    simulate_steady_state,
    stationary_covariance,
    steady_bowl,
    steady_state_errors,
    steady_state_explorer,
)
from mbgd.steps import gd
from mbgd.trajectory import DivergenceError, run

f64 = torch.float64
CPU = "cpu"


def within(measured, predicted, se, k=5.0):
    """|measured - predicted| <= k standard errors, elementwise."""
    measured, predicted = torch.as_tensor(measured), torch.as_tensor(predicted)
    return bool(((measured - predicted).abs() <= k * torch.as_tensor(se)).all())


# ---------------------------------------------------------------- closed forms
def test_stationary_covariance_solves_the_lyapunov_equation():
    H, Sigma, lr, b = steady_bowl().A, NOISES["misaligned"], 0.3, 3
    P = stationary_covariance(H, Sigma, lr, b)
    A = torch.eye(2, dtype=f64) - lr * H
    assert torch.allclose(P, A @ P @ A.T + lr**2 * Sigma / b, atol=1e-15)
    # misaligned noise: the cloud's axes are not H's (off-diagonal in H's basis)
    lam, U = torch.linalg.eigh(H)
    Pt = U.T @ P @ U
    assert abs(float(Pt[0, 1])) > 1e-3


@pytest.mark.parametrize("noise", list(NOISES))
def test_steady_state_errors_are_the_diagonal_in_the_eigenbasis(noise):
    H, Sigma, lr, b = steady_bowl().A, NOISES[noise], 0.2, 4
    lam, U = torch.linalg.eigh(H)
    P = stationary_covariance(H, Sigma, lr, b)
    e = steady_state_errors(H, Sigma, lr, b)
    assert torch.allclose(e, (U.T @ P @ U).diagonal(), atol=1e-15)
    s = (U.T @ Sigma @ U).diagonal()
    assert torch.allclose(e, lr * s / (b * lam * (2 - lr * lam)))


def test_moment_recursion_converges_to_the_stationary_covariance():
    H, Sigma = steady_bowl().A, NOISES["like H"]
    m, P = moment_recursion(H, Sigma, 0.4, 2, 300, mean0=(1.0, -1.0))
    assert m.shape == (301, 2) and P.shape == (301, 2, 2)
    assert torch.allclose(P[-1], stationary_covariance(H, Sigma, 0.4, 2), atol=1e-14)
    assert float(m[-1].abs().max()) < 1e-12


def test_moment_recursion_with_a_schedule_uses_b_k_at_step_k():
    _, P = moment_recursion(torch.eye(1, dtype=f64), 1.0, 0.5, [1, 4], 2, mean0=[0.0])
    # P1 = 0.25 / 1, P2 = 0.25 * P1 + 0.25 / 4
    assert P[:, 0, 0].tolist() == [0.0, 0.25, 0.125]


def test_ensemble_matches_mean_and_covariance_recursion():
    f, Sigma, lr, b = steady_bowl(), NOISES["misaligned"], 0.2, 2
    ens = sgd_chains(f, (1.5, 1.5), lr, b, 20, noise=Sigma, chains=4000,
                     every=5, seed=3, device=CPU)
    m, P = moment_recursion(f.A, Sigma, lr, b, 20, mean0=(1.5, 1.5))
    for r, k in enumerate(ens.steps.tolist()):
        if k == 0:
            continue
        x = ens.points[r]
        se_mean = P[k].diagonal().sqrt() / math.sqrt(len(x))
        assert within(x.mean(0), m[k], se_mean)
        se_var = P[k].diagonal() * math.sqrt(2 / len(x))
        assert within(ens.covariance()[r].diagonal(), P[k].diagonal(), se_var)


def test_one_step_transition_is_gaussian_with_the_predicted_moments():
    f, Sigma, lr, b = steady_bowl(), NOISES["misaligned"], 0.2, 4
    w = torch.tensor([1.0, -0.5], dtype=f64)
    x = sgd_chains(f, w, lr, b, 1, noise=Sigma, chains=20000, seed=1,
                   device=CPU).final
    A = torch.eye(2, dtype=f64) - lr * f.A
    Q = lr**2 * Sigma / b
    z = (x - A @ w) @ torch.linalg.inv(torch.linalg.cholesky(Q)).T  # whitened
    assert within(z.mean(0), torch.zeros(2), 1 / math.sqrt(len(z)))
    assert within(torch.cov(z.T), torch.eye(2), math.sqrt(2 / len(z)))
    # Gaussian: 4th moment of a whitened coordinate is 3
    assert within((z**4).mean(0), torch.full((2,), 3.0), math.sqrt(96 / len(z)))


# ---------------------------------------------------------------- simulators
def test_without_noise_the_chains_are_gradient_descent():
    f = robot_arm()
    ens = sgd_chains(f, (1.0, 1.0), 0.1, 1, 50, noise=0.0, chains=3, every=1,
                     seed=0, device=CPU)
    path = run(gd(0.1), f, (1.0, 1.0), 50)
    for c in range(3):
        assert torch.allclose(ens.points[:, c], path.points, atol=1e-12, rtol=0)


def test_chains_are_reproducible_and_independent():
    f = double_well()
    a = sgd_chains(f, (0.5,), 0.01, 2, 30, noise=3.0, chains=50, seed=7, device=CPU)
    b = sgd_chains(f, (0.5,), 0.01, 2, 30, noise=3.0, chains=50, seed=7, device=CPU)
    c = sgd_chains(f, (0.5,), 0.01, 2, 30, noise=3.0, chains=50, seed=8, device=CPU)
    assert torch.equal(a.points, b.points) and not torch.equal(a.points, c.points)
    assert len(torch.unique(a.final)) == 50  # no two chains share their noise


def test_per_chain_batch_sizes_scale_the_noise():
    f = quadratic((1.0, 1.0))
    steps, chains = 400, 2000
    sizes = torch.tensor([1, 16]).repeat_interleave(chains // 2)
    ens = sgd_chains(f, (0.0, 0.0), 0.1, sizes.expand(steps, -1), steps,
                     noise=1.0, chains=chains, seed=2, device=CPU)
    var = (ens.final**2).mean(-1)  # per chain, average of the two coordinates
    for b, part in zip((1, 16), var.split(chains // 2)):
        e = steady_state_errors(torch.eye(1, dtype=f64), 1.0, 0.1, b)
        assert within(part.mean(), e, e * math.sqrt(2 / len(part) / 2))


def test_real_minibatches_follow_the_covariance_formula():
    f = steady_bowl()
    g = torch.Generator().manual_seed(0)
    zeta = torch.randn(300, 2, generator=g, dtype=f64) * torch.tensor([1.5, 0.4])
    lr, b = 0.2, 3
    ens = sgd_chains(f, (0.0, 0.0), lr, b, 80, examples=zeta, chains=4000,
                     seed=1, device=CPU)
    lam, U = torch.linalg.eigh(f.A)
    y2 = (ens.final @ U) ** 2
    e = steady_state_errors(f.A, grad_covariance(zeta), lr, b)
    assert within(y2.mean(0), e, y2.std(0) / math.sqrt(len(y2)))
    # and the noise is not Gaussian: a single example's rows are only 300 values
    one = sgd_chains(f, (0.0, 0.0), 1.0, 1, 1, examples=zeta, chains=500, seed=2,
                     device=CPU).final
    assert len(torch.unique(one[:, 0])) <= 300


def test_state_dependent_noise_of_least_squares():
    lr, b = 0.3, 1
    ens = linreg_sgd_chains(lr, b, 300, chains=4000, slope=2.0, w0=2.0, every=10,
                            seed=4, device=CPU)
    # the stationary law has heavy tails (multiplicative noise): average over
    # the last 10 records (10 steps apart, nearly independent) as well
    u2 = float(((ens.points[-10:, :, 0] - 2.0) ** 2).mean())
    V = linreg_stationary_variance(lr, b)
    frozen = float(steady_state_errors(torch.eye(1, dtype=f64), 1.0, lr, b))
    assert V > 1.5 * frozen  # the two models really differ here
    assert abs(u2 - V) < 0.05 * V and abs(u2 - frozen) > 0.3 * frozen


def test_chains_report_the_step_where_they_diverged():
    f = quadratic((4.0, 1.0))  # |1 - 5 * 4| = 19: overflow near step 242
    with pytest.raises(DivergenceError, match=r"diverged by step 300: 5 chains"):
        sgd_chains(f, (1.0, 1.0), 5.0, 1, 400, noise=0.0, chains=5, every=100,
                   device=CPU)


def test_chains_helpers():
    pts = torch.tensor([[[0.0], [2.0]], [[0.5], [-3.0]], [[1.5], [0.0]]], dtype=f64)
    ens = Chains(points=pts, steps=torch.tensor([0, 1, 2]), lr=0.1)
    assert ens.fraction(hi=1.0).tolist() == [0.5, 1.0, 0.5]
    assert ens.first_exit(1.0).tolist() == [2, 0]
    assert ens.first_exit(5.0).tolist() == [-1, -1]
    assert torch.equal(ens.at(1), pts[1])
    assert torch.allclose(ens.covariance()[0], torch.tensor([[1.0]], dtype=f64))
    with pytest.raises(ValueError, match=r"step must be one of the recorded steps"):
        ens.at(5)


# ---------------------------------------------------------------- laws on a grid
def test_law_of_a_1d_quadratic_matches_the_variance_recursion():
    f = Quadratic(torch.tensor([[2.0]], dtype=f64))
    lr, b, sigma = 0.3, 2, 1.5
    law = propagate_law(f, lr, b, 30, noise=sigma, x0=0.8, grid=(-3, 3, 1201),
                        every=10, device=CPU)
    assert torch.allclose(law.probs.sum(-1), torch.ones(4, dtype=f64), atol=1e-12)
    m, P = moment_recursion(f.A, sigma, lr, b, 30, mean0=[law.grid[
        (law.grid - 0.8).abs().argmin()].item()])
    mean = (law.probs * law.grid).sum(-1)
    var = (law.probs * law.grid**2).sum(-1) - mean**2
    h = law.spacing
    assert torch.allclose(mean, m[law.steps, 0], atol=1e-6)
    # the grid adds at most the variance of a uniform cell, h^2 / 12, per step
    assert torch.allclose(var[1:], P[law.steps[1:], 0, 0], atol=h**2)


def test_law_predicts_the_ensemble_on_a_double_well():
    f = double_well()
    x0 = float(f.local_minima[1])
    law = propagate_law(f, 0.02, 1, 300, noise=7.0, x0=x0, device=CPU)
    ens = sgd_chains(f, (x0,), 0.02, 1, 300, noise=7.0, chains=4000, seed=5,
                     device=CPU)
    p = float(law.fraction(hi=0.17)[-1])
    q = float(ens.fraction(hi=0.17)[-1])
    assert 0.2 < p < 0.8 and within(q, p, math.sqrt(p * (1 - p) / 4000), k=4)


def test_gibbs_law_of_a_quadratic_has_variance_t_over_lambda():
    f = Quadratic(torch.tensor([[4.0]], dtype=f64))
    law = gibbs(f, 0.3, grid=(-3, 3, 3001), device=CPU)
    var = float((law.probs[0] * law.grid**2).sum())
    assert math.isclose(var, 0.3 / 4.0, rel_tol=1e-6)
    # and SGD's stationary variance is larger by 1 / (1 - lr lambda / 2)
    sgd = float(steady_state_errors(f.A, math.sqrt(2 * 0.3 / 0.1), 0.1, 1))
    assert math.isclose(sgd, var / (1 - 0.1 * 4 / 2), rel_tol=1e-6)


def test_effective_temperature_and_log_cooling():
    assert effective_temperature(0.02, 49.0, 4) == pytest.approx(0.1225)
    lr, var, c = 0.02, 49.0, 1.15
    b = annealing_batch_sizes(5000, lr, var, c)
    k = torch.arange(1, 5000, dtype=f64)
    T = effective_temperature(lr, var, b[1:].to(f64))
    target = c / torch.log(k + 1)
    hottest = effective_temperature(lr, var, 1)  # b = 1
    assert bool((T >= target.clamp(max=hottest) - 1e-12).all())  # never colder
    assert bool((T < target * (b[1:] + 1) / b[1:]).all())  # b_k rounded down
    assert bool((b.diff() >= 0).all()) and int(b[0]) == 1


# ---------------------------------------------------------------- saddles
@pytest.mark.parametrize("y0", [1e-3, 1e-6, 1e-10])
def test_gradient_descent_escape_time_from_the_saddle(y0):
    ens = sgd_chains(saddle(), (1.0, y0), 0.1, 1, 400, noise=0.0, chains=1,
                     every=1, device=CPU)
    assert int(ens.first_exit(0.05, coordinate=1)[0]) == escape_steps_gd(
        y0, 0.1, 1.0, 0.05)


def test_gradient_descent_on_the_stable_manifold_never_escapes():
    ens = sgd_chains(saddle(), (1.0, 0.0), 0.1, 1, 400, noise=0.0, chains=1,
                     device=CPU)
    assert float(ens.final[0, 1]) == 0.0 and float(ens.final[0, 0]) < 1e-15


def test_noisy_escape_time_quantiles():
    lr, sigma, r = 0.1, 1e-4, 0.1
    ens = sgd_chains(saddle(), (1.0, 0.0), lr, 1, 200, noise=sigma, chains=3000,
                     every=1, seed=6, device=CPU)
    t = ens.first_exit(r, coordinate=1).to(f64)
    assert bool((t > 0).all())
    for q in (0.1, 0.5, 0.9):
        assert abs(float(t.quantile(q)) - escape_steps_noisy(q, lr, 1.0, r, sigma)) < 2


# ---------------------------------------------------------------- landscape
def test_sharp_flat_derivatives_match_autograd():
    f = sharp_flat()
    x = torch.linspace(-2.4, 2.4, 97, dtype=f64)[:, None].requires_grad_()
    # an independent, overflow-free form: min(q) - tau softplus(-|qs - qf| / tau)
    qs, qf = 8.0 * (x + 1) ** 2, 0.5 * (x - 1) ** 2
    ref = torch.minimum(qs, qf) - 0.05 * torch.nn.functional.softplus(
        -(qs - qf).abs() / 0.05)
    assert torch.allclose(f.value(x), ref[:, 0], atol=1e-12)
    (g,) = torch.autograd.grad(ref.sum(), x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x)
    assert torch.allclose(f.grad(x), g, atol=1e-10)
    assert torch.allclose(f.hessian(x)[..., 0], h, atol=1e-8)


def test_sharp_flat_wells_have_equal_depth_and_the_stated_curvatures():
    f = sharp_flat(sharp=16.0, flat=1.0)
    v = f.value(f.local_minima[:, None])
    assert float(v.abs().max()) < 1e-15
    curv = f.hessian(f.local_minima[:, None])[:, 0, 0]
    assert torch.allclose(curv, torch.tensor([16.0, 1.0], dtype=f64))
    xb = torch.tensor([[f.barrier]], dtype=f64)
    assert abs(float(f.grad(xb))) < 1e-12 and float(f.hessian(xb)) < 0
    # low-temperature Gibbs mass of the flat well: sqrt(16) / (sqrt(16) + 1)
    law = gibbs(f, 0.02, grid=(-2.5, 2.5, 5001), device=CPU)
    assert float(law.fraction(lo=f.barrier)[0]) == pytest.approx(0.8, abs=2e-3)


# ---------------------------------------------------------------- explorer
def test_steady_state_simulation_matches_its_prediction():
    r = simulate_steady_state(0.45, 1, "misaligned", device=CPU)
    tail, pred = float(r.mean_sq[-30:].mean()), float(r.stationary_cov.trace())
    assert abs(tail - pred) < 0.1 * pred
    assert torch.allclose(r.mean_sq[:3], r.predicted_mean_sq[:3], rtol=0.05)


def test_steady_state_view_titles_name_the_simulated_sizes():
    import matplotlib.pyplot as plt

    fig = plt.figure()
    view = SteadyStateView(fig, steps=30, chains=50)
    view.update(simulate_steady_state(steps=30, chains=50, device=CPU))
    titles = [ax.get_title() for ax in fig.axes]
    plt.close(fig)
    assert titles[0] == "50 chains after 30 steps"
    assert titles[1].startswith("steady state: predicted "), titles


def test_steady_state_explorer_blits_the_same_picture_as_a_full_redraw():
    ex = steady_state_explorer()
    ex.render(lr=0.45, batch_size=1, noise="isotropic")  # leave data behind
    blitted = ex.render(lr=0.05, batch_size=16, noise="misaligned")
    fresh = steady_state_explorer()
    params = {"lr": 0.05, "batch_size": 16, "noise": "misaligned"}
    fig, canvas, view, _ = fresh.figure(**params)
    for artist in view.update(fresh.simulate(**params), **params):
        artist.set_animated(False)
    canvas.draw()
    full = np.asarray(canvas.buffer_rgba())
    diff = np.abs(blitted.astype(int) - full).max(-1)
    assert (diff > 2).sum() <= 20
    frames = np.prod([len(c.values) for c in ex.controls])
    assert len(ex.controls) == 3 and frames <= 30


def test_covariance_ellipse_is_the_level_set():
    P = NOISES["misaligned"]
    ring = covariance_ellipse(P, center=(1.0, 2.0), scale=2.0)
    d = ring - torch.tensor([1.0, 2.0], dtype=f64)
    q = (d @ torch.linalg.inv(P) * d).sum(-1)
    assert torch.allclose(q, torch.full_like(q, 4.0))


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize("call, error, message", [
    (lambda: stationary_covariance(torch.eye(2), 1.0, 2.5, 1), ValueError,
     r"lr must be < 2/lambda_max = 2 for a stationary law; got 2.5"),
    (lambda: stationary_covariance(-torch.eye(2), 1.0, 0.1, 1), ValueError,
     r"H must be positive definite"),
    (lambda: steady_state_errors(torch.eye(2), torch.tensor([[1.0, 2.0], [2.0, 1.0]]),
                                 0.1, 1), ValueError,
     r"noise must be symmetric positive semidefinite"),
    (lambda: sgd_chains(robot_arm(), (0.0, 0.0), 0.1, [1, 2], 3, device=CPU),
     ValueError,
     r"batch_size must have shape \(3,\) or \(3, 1000\); got shape \(2,\)"),
    (lambda: sgd_chains(robot_arm(), (0.0, 0.0), 0.1, 0, 3, device=CPU),
     ValueError, r"batch_size must be an int >= 1 .*; got a value 0"),
    (lambda: sgd_chains(robot_arm(), (0.0, 0.0), 0.1, 1.5, 3, device=CPU),
     TypeError, r"batch_size must be an int >= 1"),
    (lambda: sgd_chains(robot_arm(), (0.0, 0.0, 0.0), 0.1, 1, 3, device=CPU),
     ValueError, r"x0 must have shape \(2,\) or \(1000, 2\); got shape \(3,\)"),
    (lambda: sgd_chains(robot_arm(), (0.0, 0.0), 0.1, 1, 3, noise=1.0,
                        examples=torch.zeros(5, 2), device=CPU), ValueError,
     r"noise must be None when examples are given"),
    (lambda: sgd_chains(robot_arm(), (0.0, 0.0), 0.1, 1, 3,
                        examples=torch.zeros(5, 3), device=CPU), ValueError,
     r"examples must have shape \(N, 2\)"),
    (lambda: sgd_chains(robot_arm(), (0.0, 0.0), -0.1, 1, 3, device=CPU),
     ValueError, r"lr must be a real number > 0.0; got -0.1"),
    (lambda: linreg_stationary_variance(0.7, 1), ValueError,
     r"lr must be < 2b/\(b\+2\) = 0.666667 for a finite stationary variance"),
    (lambda: propagate_law(robot_arm(), 0.1, 1, 3, device=CPU), ValueError,
     r"f must be a 1-D landscape; got dim 2"),
    (lambda: propagate_law(double_well(), 0.1, 1, 3, x0=torch.ones(3), device=CPU),
     ValueError, r"x0 must be a float or probabilities of shape \(401,\)"),
    (lambda: propagate_law(double_well(), 0.1, 1, 3, grid=(1.0, 0.0, 10),
                           device=CPU), ValueError, r"grid must have lo < hi"),
    (lambda: escape_steps_gd(0.0, 0.1, 1.0, 0.1), ValueError, r"y0 must be nonzero"),
    (lambda: escape_steps_noisy(1.0, 0.1, 1.0, 0.1, 1e-3), ValueError,
     r"quantile must be a real number with 0.0 < value < 1.0; got 1.0"),
    (lambda: simulate_steady_state(noise="loud"), ValueError,
     r"noise must be one of 'isotropic', 'like H', 'misaligned'; got 'loud'"),
    (lambda: simulate_steady_state(noise=["isotropic"]), ValueError,
     r"noise must be one of 'isotropic', .*; got \['isotropic'\]"),
    (lambda: sgd_chains(robot_arm(), (math.nan, 0.0), 0.1, 1, 3, device=CPU),
     ValueError, r"x0 must be finite numbers of shape \(2,\) or \(1000, 2\); got "
     r"\(nan, 0.0\)"),
    (lambda: sgd_chains(robot_arm(), "ab", 0.1, 1, 3, device=CPU), TypeError,
     r"x0 must be finite numbers of shape \(2,\) or \(1000, 2\); got 'ab'"),
    (lambda: sgd_chains(robot_arm(), (0.0, 0.0), 0.1, [True] * 3, 3, device=CPU),
     TypeError, r"batch_size must be an int >= 1 .*; got dtype torch.bool"),
    (lambda: sgd_chains(robot_arm(), (0.0, 0.0), 0.1, 1, 3,
                        examples=torch.full((5, 2), math.nan), device=CPU),
     ValueError, r"examples must hold finite numbers only; got 10 nan or inf"),
    (lambda: stationary_covariance(torch.zeros(0, 0), 1.0, 0.1, 1), ValueError,
     r"H must be a finite \(d, d\) matrix with d >= 1; got \[\]"),
    (lambda: steady_state_errors(torch.diag(torch.tensor([1.0, math.inf])), 1.0,
                                 0.1, 1), ValueError,
     r"H must be a finite \(d, d\) matrix"),
    (lambda: moment_recursion(torch.eye(1), 1.0, 0.5, 1, 2, mean0=[math.nan]),
     ValueError, r"mean0 must be finite numbers of shape \(1,\); got \[nan\]"),
    (lambda: moment_recursion(torch.eye(1), 1.0, 0.5, 1, 2, mean0=None), TypeError,
     r"mean0 must be finite numbers of shape \(1,\); got None"),
    (lambda: effective_temperature(0.02, 49.0, 0), ValueError,
     r"batch_size must be a real number >= 1.0; got 0.0"),
    (lambda: effective_temperature(0.02, 49.0, "4"), TypeError,
     r"batch_size must be a real number >= 1.0; got '4'"),
    (lambda: effective_temperature(0.02, 49.0, torch.tensor([0, 1])), ValueError,
     r"batch_size must be a number >= 1 or a tensor of numbers >= 1; got \[0, 1\]"),
    (lambda: propagate_law(double_well(), 0.1, 1, 3, x0=torch.full((401,), math.nan),
                           device=CPU), ValueError,
     r"x0 must be a float or probabilities of shape \(401,\) that sum to 1; got "
     r"shape \(401,\), sum nan"),
    (lambda: covariance_ellipse(torch.eye(2), center=(0.0, 0.0, 0.0)), ValueError,
     r"center must be 2 finite numbers; got shape \(3,\)"),
    (lambda: covariance_ellipse(torch.eye(2), center=(math.nan, 0.0)), ValueError,
     r"center must be 2 finite numbers; got \(nan, 0.0\)"),
    (lambda: covariance_ellipse(torch.eye(2), center="ab"), TypeError,
     r"center must be 2 finite numbers; got 'ab'"),
    (lambda: SteadyStateView(None, steps="60"), TypeError,
     r"steps must be an int >= 1; got '60'"),
])
def test_bad_arguments_are_refused_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_chains_equal_cpu_chains():
    args = (steady_bowl(), (1.0, 1.0), 0.2, 2, 50)
    kw = {"noise": NOISES["misaligned"], "chains": 100, "seed": 3, "every": 10}
    cpu = sgd_chains(*args, device="cpu", **kw)
    gpu = sgd_chains(*args, device="cuda", **kw)
    assert torch.allclose(gpu.points.cpu(), cpu.points, atol=1e-10)
    law_c = propagate_law(double_well(), 0.02, 2, 50, noise=7.0, x0=1.0, device="cpu")
    law_g = propagate_law(double_well(), 0.02, 2, 50, noise=7.0, x0=1.0, device="cuda")
    assert torch.allclose(law_g.probs.cpu(), law_c.probs, atol=1e-10)
