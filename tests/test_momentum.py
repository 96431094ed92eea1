"""mbgd.momentum: the per-eigendirection theory of heavy ball and Nesterov against
simulated runs, the tunings, the counterexample, and the explorer."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from mbgd import momentum as mom
from mbgd.trajectory import iterate
from mbgd.landscapes import Quadratic, robot_arm, rosenbrock
from mbgd.steps import gd, heavy_ball, nesterov
from mbgd.trajectory import run

F64 = torch.float64


def line(curvature: float) -> Quadratic:
    """The 1-D quadratic f(x) = curvature x^2 / 2."""
    return Quadratic(torch.tensor([[curvature]], dtype=F64))


def spectrum(kappa: float, d: int = 20) -> Quadratic:
    return Quadratic(torch.diag(torch.linspace(1.0, kappa, d, dtype=F64)))


def rule_for(nesterov_: bool):
    return nesterov if nesterov_ else heavy_ball


# (h, momentum): overdamped, critical, underdamped, beyond h = 1, GD
CASES = [(0.01, 0.5), (0.01, 0.81), (0.01, 0.95), (1.7, 0.6), (0.3, 0.0)]


@pytest.mark.parametrize("nes", [False, True])
@pytest.mark.parametrize("h, mu", CASES)
def test_matrix_powers_reproduce_a_run(h, mu, nes):
    lam = 2.0
    e = iterate(rule_for(nes)(h / lam, mu), line(lam), (1.0,), 60)[:, 0]
    M = mom.iteration_matrix(h / lam, mu, lam, nesterov=nes)
    state = torch.ones(2, dtype=F64)  # (e_0, e_{-1}) with v_0 = 0
    for k in range(61):
        assert_close(state[0], e[k], rtol=1e-12, atol=1e-14)
        state = M @ state


@pytest.mark.parametrize("nes", [False, True])
def test_roots_are_the_eigenvalues_of_the_matrix(nes):
    curv = torch.linspace(0.05, 3.0, 25, dtype=F64)
    roots = mom.characteristic_roots(0.4, 0.7, curv, nesterov=nes)
    M = mom.iteration_matrix(0.4, 0.7, curv, nesterov=nes)
    assert roots.shape == (25, 2) and M.shape == (25, 2, 2)
    eig = torch.linalg.eigvals(M)

    def ordered(z):  # a pair of roots in a canonical order
        return sorted(z.tolist(), key=lambda c: (round(abs(c), 6), c.imag))

    for a, b in zip(roots, eig):
        assert np.allclose(ordered(a), ordered(b), atol=1e-7)
    assert bool((roots[:, 0].abs() >= roots[:, 1].abs()).all())


RATE_CASES = [(0.01, 0.5), (0.01, 0.95), (0.3, 0.0), (0.5, 0.9)]


@pytest.mark.parametrize("h, mu, nes", [(h, mu, nes) for h, mu in RATE_CASES
                                        for nes in (False, True)]
                         + [(1.7, 0.6, False)])  # beyond Nesterov's stable range
def test_asymptotic_rate_is_the_measured_rate(h, mu, nes):
    predicted = mom.asymptotic_rate(h, mu, [1.0], nesterov=nes)
    n = min(2000, int(-250 / math.log10(predicted)))  # stay clear of underflow
    e = iterate(rule_for(nes)(h, mu), line(1.0), (1.0,), n)[:, 0].abs()
    assert mom.observed_rate(e, n // 2, n) == pytest.approx(predicted, abs=1e-4)


def test_asymptotic_rate_of_a_spectrum_is_its_worst_direction():
    f = spectrum(50.0)
    lr, mu = 0.03, 0.7
    per_direction = [mom.asymptotic_rate(lr, mu, [lam]) for lam in
                     f.eigenvalues.tolist()]
    assert mom.asymptotic_rate(lr, mu, f.eigenvalues) == max(per_direction)
    pts = iterate(heavy_ball(lr, mu), f, torch.ones(f.dim, dtype=F64), 1200)
    measured = max(mom.observed_rate(e.abs(), 600, 1200) for e in pts.T)
    # fast oscillations are sampled coarsely: crests agree to about 1e-3
    assert measured == pytest.approx(max(per_direction), abs=1e-3)


def test_stability_limits():
    mu = 0.9
    for nes, limit in ((False, 2 * (1 + mu)), (True, 2 * (1 + mu) / (1 + 2 * mu))):
        assert mom.asymptotic_rate(0.99 * limit, mu, [1.0], nesterov=nes) < 1
        assert mom.asymptotic_rate(1.01 * limit, mu, [1.0], nesterov=nes) > 1
    # Nesterov at h = 1 solves the direction in one step; heavy ball does not
    assert mom.asymptotic_rate(1.0, mu, [1.0], nesterov=True) == 0.0
    e = iterate(nesterov(1.0, mu), line(1.0), (1.0,), 3)[:, 0]
    assert e.tolist() == [1.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("h", [0.0001, 0.01, 0.25, 0.81, 1.0, 2.25, 3.9])
def test_critical_momentum_gives_a_double_root_and_the_best_rate(h):
    mu_c = mom.critical_momentum(h, 1.0)
    z = mom.characteristic_roots(h, mu_c, 1.0)
    assert_close(z[0], z[1], atol=1e-7, rtol=0)  # double (up to sqrt(rounding))
    assert abs(z[0]) == pytest.approx(abs(1 - math.sqrt(h)), abs=1e-7)
    others = [m for m in np.linspace(0.0, 0.999, 400) if abs(m - mu_c) > 1e-3]
    best = mom.asymptotic_rate(h, mu_c, [1.0])
    assert all(mom.asymptotic_rate(h, m, [1.0]) > best for m in others)


@pytest.mark.parametrize("m, L", [(1.0, 25.0), (1.0, 100.0), (0.3, 1000.0)])
def test_polyak_tuning_is_the_optimum(m, L):
    t = mom.polyak_tuning(m, L)
    lam = torch.tensor([m, L], dtype=F64)
    assert mom.asymptotic_rate(t.lr, t.momentum, lam) == pytest.approx(t.rate,
                                                                       rel=1e-7)
    # both ends critically damped, everything inside underdamped
    inner = torch.linspace(m, L, 50, dtype=F64)[1:-1]
    disc = (1 + t.momentum - t.lr * inner) ** 2 - 4 * t.momentum
    assert bool((disc < 0).all())
    for a in np.linspace(0.9, 1.1, 9):
        for b in np.linspace(-0.05, 0.05, 9):
            mu = t.momentum + b
            if 0 <= mu < 1 and (a, b) != (1.0, 0.0):
                assert mom.asymptotic_rate(t.lr * a, mu, lam) > t.rate


def test_gd_and_nesterov_tunings():
    for m, L in ((1.0, 10.0), (2.0, 500.0)):
        kappa = L / m
        g = mom.gd_tuning(m, L)
        assert mom.asymptotic_rate(g.lr, 0.0, [m, L]) == pytest.approx(
            (kappa - 1) / (kappa + 1), rel=1e-12)
        n = mom.nesterov_tuning(m, L)
        assert n.lr == 1 / L and n.rate == pytest.approx(1 - 1 / math.sqrt(kappa))
        # on a quadratic the spectral radius equals the bound's factor
        lam = torch.linspace(m, L, 30, dtype=F64)
        assert mom.asymptotic_rate(n.lr, n.momentum, lam, nesterov=True) == \
            pytest.approx(n.rate, rel=1e-7)


@pytest.mark.parametrize("f, x0", [
    (spectrum(100.0), torch.ones(20, dtype=F64)),
    (mom.lessard_counterexample(), (3.3,)),
])
def test_nesterov_bound_holds(f, x0):
    L = f.smoothness
    m = getattr(f, "strong_convexity", None) or float(f.eigenvalues[0])
    t = mom.nesterov_tuning(m, L)
    pts = iterate(nesterov(t.lr, t.momentum), f, x0, 300)
    x_star = f.minimizer
    gap = f.value(pts) - f.value(x_star)
    scale = gap[0] + m / 2 * (pts[0] - x_star).norm() ** 2
    assert bool((gap <= t.rate ** torch.arange(301, dtype=F64) * scale).all())


def test_heavy_ball_cycles_on_lessard_counterexample():
    f = mom.lessard_counterexample()
    t = mom.polyak_tuning(1.0, 25.0)
    xs = iterate(heavy_ball(t.lr, t.momentum), f, (3.3,), 600)[:, 0]
    assert_close(xs[-3:], xs[-6:-3], rtol=0, atol=1e-12)  # period 3
    assert float(xs[-3:].abs().min()) > 0.5  # and far from the minimiser 0
    assert sorted(round(v, 6) for v in xs[-3:].tolist()) == [-1.802449, 0.646531,
                                                             2.115918]
    for rule in (gd(mom.gd_tuning(1.0, 25.0).lr),
                 nesterov(mom.nesterov_tuning(1.0, 25.0).lr,
                          mom.nesterov_tuning(1.0, 25.0).momentum)):
        assert abs(float(iterate(rule, f, (3.3,), 600)[-1, 0])) < 1e-12


def test_lessard_counterexample_derivatives():
    f = mom.lessard_counterexample()
    x = torch.tensor([[-2.0], [0.3], [1.4], [1.9], [2.5], [3.7]], dtype=F64,
                     requires_grad=True)
    (grad,) = torch.autograd.grad(f.value(x).sum(), x)
    assert_close(f.grad(x.detach()), grad, rtol=1e-12, atol=1e-12)
    hess = torch.tensor([25.0, 25.0, 1.0, 1.0, 25.0, 25.0], dtype=F64)
    assert_close(f.hessian(x.detach())[:, 0, 0], hess)
    for knot in (1.0, 2.0):  # value and slope are continuous at the knots
        pair = torch.tensor([[knot - 1e-9], [knot]], dtype=F64)
        assert abs(float(f.value(pair).diff(dim=0))) < 1e-6
        assert abs(float(f.grad(pair).diff(dim=0))) < 1e-6
    assert float(f.value(f.minimizer)) == 0.0 and f.dim == 1


def test_observed_rate_reads_envelopes_and_double_roots():
    k = torch.arange(3001, dtype=F64)
    assert mom.observed_rate(0.9**k, 100, 200) == pytest.approx(0.9, rel=1e-12)
    ringing = 0.97**k * (torch.cos(0.37 * k + 0.4)).abs()
    assert mom.observed_rate(ringing, 1000, 2000) == pytest.approx(0.97, abs=1e-5)
    # the plain ratio of the same run would be off by the phase
    plain = float((ringing[2000] / ringing[1000]) ** (1 / 1000))
    assert abs(plain - 0.97) > 1e-4
    double = (1 + 0.2 * k) * 0.95**k
    assert mom.observed_rate(double, 1000, 2000) == pytest.approx(
        0.95 * (2001 / 1001) ** (1 / 1000) * (1 + 1e-9), rel=1e-4)


def test_steps_to_tolerance():
    e = [1.0, 0.5, 0.25, 0.125]
    assert mom.steps_to_tolerance(e, 0.25) == 2
    assert mom.steps_to_tolerance(e, 0.1) is None


def test_torch_sgd_after_a_step_size_change_differs_by_the_rescaled_velocity():
    """torch rescales its whole buffer by a new lr; the velocity form does not."""
    f, lr, mu, lr1 = robot_arm(), 0.1, 0.8, 0.03
    p = torch.tensor([1.0, 1.0], dtype=F64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=mu)
    x, state = p.detach().clone(), heavy_ball(lr, mu).init(p.detach())
    for _ in range(4):
        p.grad = f.grad(p.detach())
        opt.step()
        x, state = heavy_ball(lr, mu).step(f, x, state)
    opt.param_groups[0]["lr"] = lr1
    predicted = mu * (lr1 / lr - 1) * state.velocity
    p.grad = f.grad(p.detach())
    opt.step()
    x, _ = heavy_ball(lr1, mu).step(f, x, state)
    assert_close(p.detach() - x, predicted, rtol=1e-10, atol=1e-12)


# --- the explorer -------------------------------------------------------------------


def test_simulate_momentum_is_pure_and_matches_the_theory():
    a = mom.simulate_momentum("ill-conditioned", 0.5, 1.0)
    b = mom.simulate_momentum("ill-conditioned", 0.5, 1.0)
    assert torch.equal(a.heavy_ball, b.heavy_ball) and a.gd_rate == b.gd_rate
    assert a.lr == 1.0 / 25.0
    assert a.rate == mom.asymptotic_rate(a.lr, 0.5, [1.0, 25.0])
    zero = mom.simulate_momentum("robot arm", 0.0, 1.0)  # momentum 0 is GD
    assert torch.equal(zero.heavy_ball, zero.gd)
    ros = mom.simulate_momentum("rosenbrock", 0.9, 1.0)
    assert ros.rate is None and float(ros.heavy_ball_gap[-1]) < 1e-3
    assert float(ros.gd_gap[-1]) > 1.0  # gradient descent is far behind


def test_a_diverging_run_is_cut_at_its_first_bad_point():
    bad = mom.simulate_momentum("rosenbrock", 0.95, 1.8)
    finite = torch.isfinite(bad.heavy_ball).all(-1)
    first = int((~finite).to(torch.int8).argmax())
    assert 0 < first and not bool(finite[first:].any()) and bool(finite[:first].all())
    assert bool(torch.isfinite(bad.gd).all())


def test_explorer_blits_what_a_full_redraw_draws():
    ex = mom.momentum_explorer()
    ex.render(landscape="ill-conditioned", momentum=0.95, lr_times_L=1.8)
    params = {"landscape": "ill-conditioned", "momentum": 0.5, "lr_times_L": 0.2}
    blitted = ex.render(**params)
    fresh = mom.momentum_explorer()
    fig, canvas, view, _ = fresh.figure(**params)
    for artist in view.update(fresh.simulate(**params), **params):
        artist.set_animated(False)
    canvas.draw()
    full = np.asarray(canvas.buffer_rgba())
    assert (np.abs(blitted.astype(int) - full).max(-1) > 2).sum() <= 20
    box = ex.widget()
    box.controls["momentum"].value = 0.9
    assert box.image.value == ex.png(landscape="ill-conditioned", momentum=0.9,
                                     lr_times_L=1.0)
    grid = [len(c.values) for c in ex.controls]
    assert math.prod(grid) <= 30


def test_device_follows_the_curvature_or_the_argument():
    lam = torch.tensor([1.0, 4.0], dtype=F64)
    assert mom.iteration_matrix(0.1, 0.5, lam).device == lam.device
    assert mom.characteristic_roots(0.1, 0.5, 1.0, device="cpu").device.type == "cpu"
    if torch.cuda.is_available():
        z = mom.characteristic_roots(0.1, 0.5, lam, device="cuda")
        assert z.device.type == "cuda"
        assert_close(z.cpu(), mom.characteristic_roots(0.1, 0.5, lam))


def test_plot_momentum_draws_both_paths():
    import matplotlib.pyplot as plt

    result = mom.simulate_momentum("robot arm", 0.5, 1.0)
    ax = mom.plot_momentum(result)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert np.array_equal(lines["heavy ball"].get_xdata(),
                          result.heavy_ball[:, 0].numpy())
    assert np.array_equal(lines["GD"].get_ydata(), result.gd[:, 1].numpy())
    plt.close(ax.figure)


@pytest.mark.parametrize("call, exc, message", [
    (lambda: mom.iteration_matrix(0.0, 0.5, 1.0), ValueError,
     "lr must be a real number > 0.0; got 0.0"),
    (lambda: mom.iteration_matrix(0.1, 1.0, 1.0), ValueError,
     "momentum must be a real number with 0.0 <= value < 1.0; got 1.0"),
    (lambda: mom.characteristic_roots(0.1, 0.5, [1.0, math.inf]), ValueError,
     "curvature must be finite"),
    (lambda: mom.characteristic_roots(0.1, 0.5, 1.0, nesterov=1), TypeError,
     "nesterov must be a bool"),
    (lambda: mom.asymptotic_rate(0.1, 0.5, []), ValueError,
     "eigenvalues must be non-empty"),
    (lambda: mom.critical_momentum(1.0, 4.0), ValueError,
     "lr [*] curvature must be a real number < 4; got 4.0"),
    (lambda: mom.polyak_tuning(2.0, 1.0), ValueError,
     "L must be a real number >= 2.0; got 1.0"),
    (lambda: mom.gd_tuning(0.0, 1.0), ValueError, "m must be a real number > 0.0"),
    (lambda: mom.observed_rate([1.0, 0.5], 1, 1), ValueError,
     "start must be an int with 0 <= value <= 0; got 1"),
    (lambda: mom.observed_rate([1.0, 0.5, 0.25], 0, 3), ValueError,
     "stop must be an int with 1 <= value <= 2; got 3"),
    (lambda: mom.observed_rate([1.0, -0.5, 0.25], 0, 2), ValueError,
     r"errors must be >= 0 \(not nan\) at steps 0..2; got -0.5"),
    (lambda: mom.observed_rate([1.0, math.nan, 0.25], 0, 2), ValueError,
     r"errors must be >= 0 \(not nan\) at steps 0..2; got nan"),
    (lambda: mom.observed_rate("abc", 0, 1), TypeError,
     "errors must be a 1-D sequence of at least 2 numbers; got 'abc'"),
    (lambda: mom.steps_to_tolerance([math.nan, 0.5], 0.1), ValueError,
     "errors must start with a finite e_0 >= 0; got nan"),
    (lambda: mom.iteration_matrix(0.1, 0.5, None), TypeError,
     "curvature must be finite real numbers; got None"),
    (lambda: mom.characteristic_roots(0.1, 0.5, True), TypeError,
     "curvature must be finite real numbers; got True"),
    (lambda: mom.asymptotic_rate(0.1, 0.5, [1.0, math.nan]), ValueError,
     r"eigenvalues must be finite; got \[1.0, nan\]"),
    (lambda: mom.asymptotic_rate(0.1, 0.5, "ab"), TypeError,
     "eigenvalues must be finite real numbers; got 'ab'"),
    (lambda: mom.MomentumView(None, "saddle"), ValueError,
     "landscape must be one of 'ill-conditioned', 'robot arm', 'rosenbrock'; got "
     "'saddle'"),
    (lambda: mom.observed_rate([[1.0]], 0, 1), ValueError,
     "errors must be a 1-D sequence"),
    (lambda: mom.steps_to_tolerance([1.0, 0.5], 1.0), ValueError,
     "tol must be a real number with 0.0 < value < 1.0; got 1.0"),
    (lambda: mom.simulate_momentum("bowl"), ValueError,
     "landscape must be one of 'ill-conditioned', 'robot arm', 'rosenbrock'"),
    (lambda: mom.simulate_momentum(lr_times_L=-1.0), ValueError,
     "lr_times_L must be a real number > 0.0"),
    (lambda: mom.plot_momentum("run"), TypeError, "result must be a MomentumRun"),
])
def test_bad_arguments(call, exc, message):
    with pytest.raises(exc, match=message):
        call()
