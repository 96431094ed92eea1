"""mbgd.race: replays against torch.optim, closed forms against simulations,
the counter-example, the sweep and the race explorer."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from mbgd import optim
from mbgd.landscapes import quadratic
from mbgd.race import (
    RACE,
    RaceView,
    Sweep,
    circle_starts,
    least_squares,
    race_explorer,
    reddi_drift,
    reddi_gradients,
    replay,
    simulate_interpolation,
    simulate_parabola,
    simulate_race,
    simulate_reddi,
    simulate_sparse,
    steps_to_reach,
    sweep_lrs,
)
from mbgd.steps import adam, gd

f64 = torch.float64
TOL = {"rtol": 1e-12, "atol": 1e-14}

REPLAYS = [
    ("sgd", torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    ("adagrad", torch.optim.Adagrad, {"lr": 0.5, "initial_accumulator_value": 0.1}),
    ("rmsprop", torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.9, "centered": True}),
    ("adadelta", torch.optim.Adadelta, {"lr": 0.5, "rho": 0.8}),
    ("adam", torch.optim.Adam, {"lr": 0.1, "betas": (0.5, 0.9), "amsgrad": True}),
]


@pytest.mark.parametrize("name, cls, options", REPLAYS, ids=[r[0] for r in REPLAYS])
def test_replay_matches_torch_optim_points_and_state(name, cls, options):
    grads = torch.randn(6, 3, generator=torch.Generator().manual_seed(1), dtype=f64)
    r = replay(name, grads, x0=0.5, **options)
    p = torch.full((3,), 0.5, dtype=f64, requires_grad=True)
    opt = cls([p], **options)
    for t, g in enumerate(grads):
        p.grad = g.clone()
        opt.step()
        assert_close(r.points[t + 1], p.detach(), **TOL)
        for key, value in opt.state[p].items():
            if key != "step":
                assert_close(r.state[key][t], value, **TOL)
    assert set(r.state) == {k for k in opt.state[p] if k != "step"}
    assert_close(r.moves, r.points.diff(dim=0))


def test_adagrad_step_on_a_constant_gradient_is_lr_over_sqrt_k():
    for g in (1e-3, 1.0, 1e3):
        r = replay("adagrad", torch.full((50,), g, dtype=f64), lr=0.2)
        k = torch.arange(1, 51, dtype=f64)
        # s_k = k g^2: the step is lr g / (sqrt(k) |g| + eps), eps = 1e-10
        assert_close(-r.moves, 0.2 * g / (k.sqrt() * g + 1e-10), rtol=1e-12,
                     atol=0.0)


def test_rmsprop_first_step_is_lr_over_sqrt_one_minus_alpha():
    r = replay("rmsprop", torch.full((1,), 4.0, dtype=f64), lr=0.01, alpha=0.96)
    # v_1 = (1 - alpha) g^2 (no bias correction); eps = 1e-8 outside the root
    predicted = 0.01 * 4.0 / (math.sqrt(0.04) * 4.0 + 1e-8)
    assert math.isclose(-r.moves[0].item(), predicted, rel_tol=1e-12)
    assert math.isclose(predicted, 0.01 / math.sqrt(0.04), rel_tol=1e-7)


def test_adadelta_lr_is_a_pure_multiplier_on_a_fixed_gradient_sequence():
    grads = torch.linspace(-2.0, 3.0, 40, dtype=f64)
    one, three = replay("adadelta", grads), replay("adadelta", grads, lr=3.0)
    assert_close(three.moves, 3.0 * one.moves, rtol=1e-14, atol=0.0)
    assert torch.equal(three.state["acc_delta"], one.state["acc_delta"])


def test_adam_bias_correction_on_a_constant_gradient_is_exact():
    r = replay("adam", torch.full((30,), 2.0, dtype=f64), lr=0.1)
    t = torch.arange(1, 31, dtype=f64)
    assert_close(r.state["exp_avg"], 2.0 * (1 - 0.9**t), **TOL)
    assert_close(r.state["exp_avg_sq"], 4.0 * (1 - 0.999**t), **TOL)
    assert_close(-r.moves, torch.full((30,), 0.1, dtype=f64), rtol=1e-8, atol=0.0)


def test_parabola_adam_is_blind_to_curvature_and_gd_is_not():
    a = simulate_parabola("adam", 100, curvature=0.5, lr=0.05).points
    b = simulate_parabola("adam", 100, curvature=50.0, lr=0.05).points
    assert (a - b).abs().max() < 1e-6
    g1 = simulate_parabola("sgd", 3, curvature=0.5, lr=0.1).points
    assert_close(g1, 0.95 ** torch.arange(4, dtype=f64), **TOL)


def test_sign_descent_ends_in_the_predicted_two_cycle():
    x = simulate_parabola("adam", 40, lr=0.03, betas=(0.0, 0.0)).points
    assert_close(x[34:38], torch.tensor([-0.02, 0.01, -0.02, 0.01], dtype=f64),
                 rtol=0.0, atol=1e-5)


def test_sparse_sgd_mean_error_follows_the_expected_recursion():
    run = simulate_sparse("sgd", 0.05, p=0.1, steps=300, runs=2000, seed=3,
                          device="cpu")
    k = torch.arange(301, dtype=f64)
    predicted = torch.stack([-(0.95**k), -(0.995**k)], -1)
    assert (run.error - predicted).abs().max() < 0.02
    # the rare weight lags: its error at k = 100 is far above the frequent one's
    assert run.sq_error[100, 1] > 10 * run.sq_error[100, 0]


def test_sparse_runs_share_data_and_adagrad_favours_the_rare_feature():
    sgd = simulate_sparse("sgd", 0.03, steps=1000, runs=64, seed=0, device="cpu")
    ada = simulate_sparse("adagrad", 0.3, steps=1000, runs=64, seed=0, device="cpu")
    assert torch.equal(sgd.active, ada.active)
    ratio = (ada.grad_sq_sum[:, 0] / ada.grad_sq_sum[:, 1]).sqrt().median()
    assert 2.5 < ratio < 1 / math.sqrt(0.05)
    assert ada.sq_error[200, 1] < 0.5 * sgd.sq_error[200, 1]


def test_steps_to_reach_matches_the_closed_form_for_gd_and_adam_is_blind_to_kappa():
    starts = circle_starts(8, 1.0)
    assert_close(starts.norm(dim=-1), torch.ones(8, dtype=f64), **TOL)
    for kappa in (10.0, 100.0):
        f = quadratic((kappa, 1.0), math.pi / 4)
        counts = steps_to_reach(gd(2 / (kappa + 1)), f, starts, 1e-3)
        predicted = math.ceil(math.log(1e-3) / math.log((kappa - 1) / (kappa + 1)))
        assert bool((counts == predicted).all())
    diag = [steps_to_reach(adam(0.1), quadratic((k, 1.0)), starts, 1e-3)
            for k in (1.0, 1000.0)]
    assert torch.equal(diag[0], diag[1])
    rotated = steps_to_reach(adam(0.1), quadratic((100.0, 1.0), math.pi / 4),
                             starts, 1e-3)
    assert bool((rotated > 2 * diag[0]).all())
    never = steps_to_reach(gd(1e-4), quadratic((1.0, 1.0)), starts, 1e-3, 10)
    assert bool(torch.isinf(never).all())


def test_reddi_gradients_and_regret_against_brute_force():
    g = reddi_gradients(5.0, 7, scale=2.0, device="cpu")
    assert g.tolist() == [10.0, -2.0, -2.0, 10.0, -2.0, -2.0, 10.0]
    run = simulate_reddi(5.0, 40, lr=0.3)
    g = reddi_gradients(5.0, 40, device="cpu")
    for t in (1, 2, 3, 10, 40):
        loss = float((g[:t] * run.points[:t]).sum())
        best = min(float(g[:t].sum()) * x for x in (-1.0, 1.0))
        assert math.isclose(run.regret[t - 1].item(), loss - best, abs_tol=1e-12)
    assert bool((run.points.abs() <= 1).all())


@pytest.mark.parametrize("C", [3.0, 10.0])
def test_reddi_drift_prediction_matches_an_unprojected_replay(C):
    g = reddi_gradients(C, 300, device="cpu")
    for amsgrad in (False, True):
        r = replay("adam", g, lr=0.01, betas=(0.0, 1 / (1 + C * C)), amsgrad=amsgrad)
        measured = (r.points[-1] - r.points[-4]).item() / 0.01
        assert math.isclose(measured, reddi_drift(C, amsgrad), rel_tol=1e-6)
    assert reddi_drift(C) > 0 > reddi_drift(C, amsgrad=True)


def test_adam_fails_and_amsgrad_converges_on_the_counterexample():
    adam_run = simulate_reddi(3.0, 1500)
    ams_run = simulate_reddi(3.0, 1500, amsgrad=True)
    assert adam_run.points[-1] == 1.0 and ams_run.points[-1] < -0.98
    assert abs(adam_run.average_regret[-1] - 2 / 3) < 0.02
    assert ams_run.average_regret[-1] < 0.05
    scaled = simulate_reddi(3.0, 1500, scale=10.0)  # Adam ignores a common scale
    assert (scaled.points - adam_run.points).abs().max() < 1e-6


def test_sweep_uses_the_same_batches_and_equals_the_optimizer_class():
    problem = least_squares(64, 3, scales=[0.5, 1.0, 4.0], seed=2, device="cpu")
    normal = problem.X.T @ (problem.X @ problem.w_ls - problem.y)
    assert normal.abs().max() < 1e-10
    lrs = [0.01, 0.1]
    sweep = sweep_lrs(problem, "adam", lrs, steps=20, batch_size=8, seed=5,
                      betas=(0.8, 0.99))
    again = sweep_lrs(problem, "adam", lrs, steps=20, batch_size=8, seed=5,
                      betas=(0.8, 0.99))
    assert torch.equal(sweep.excess, again.excess)
    # the same run with mbgd.optim.Adam, one parameter group per rate
    idx = torch.randint(64, (20, 8), generator=torch.Generator().manual_seed(5))
    ws = [torch.zeros(3, dtype=f64, requires_grad=True) for _ in lrs]
    opt = optim.Adam([{"params": [w], "lr": lr} for w, lr in zip(ws, lrs)],
                     betas=(0.8, 0.99), foreach=False)
    for k in range(20):
        Xb, yb = problem.X[idx[k]], problem.y[idx[k]]
        for w in ws:
            w.grad = Xb.T @ (Xb @ w.detach() - yb) / 8
        opt.step()
    final = problem.loss(torch.stack([w.detach() for w in ws]))
    start = problem.loss(torch.zeros(3, dtype=f64))
    assert_close(sweep.excess, (final - problem.loss_ls) / (start - problem.loss_ls),
                 rtol=1e-10, atol=1e-14)


def test_sweep_window_on_a_divergent_rate():
    problem = least_squares(64, 2, seed=0, device="cpu")
    s = sweep_lrs(problem, "sgd", [0.01, 0.3, 30.0], steps=100, batch_size=8)
    assert s.window(1e-2) == (0.3, 0.3)  # 0.01 is too slow, 30 diverges
    assert s.excess[-1] > 1e100
    assert s.window(-1.0) is None


@pytest.mark.parametrize("excess, window", [
    ([1.0, 1e-3, 1e-3, 0.5, 1e-3], (0.1, 1.0)),  # a hole at 10: not one window
    ([1e-3, 1.0, 1e-3, 1e-3, 1e-3], (1.0, 100.0)),  # the wider run wins
    ([1e-3, 1.0, 1e-3, 1.0, float("nan")], (0.01, 0.01)),  # a tie: the lower
])
def test_sweep_window_is_one_run_of_consecutive_rates(excess, window):
    lrs = torch.tensor([10.0, 0.1, 1.0, 100.0, 0.01])  # sorted: 0.01 ... 100
    order = torch.tensor([4, 1, 2, 0, 3])
    unsorted = torch.empty(5, dtype=f64)
    unsorted[order] = torch.tensor(excess, dtype=f64)
    s = Sweep("sgd", {}, lrs, unsorted)
    assert s.window(1e-2) == pytest.approx(window)


def test_interpolation_gd_reaches_min_norm_and_test_error_identity():
    r = simulate_interpolation(10, 30, runs=8, steps=1500, seed=1, device="cpu")
    assert r.gd_to_min.max() < 1e-8
    assert_close(r.test_gd, r.test_min, rtol=1e-8, atol=1e-12)
    assert bool((r.norm_adam > r.norm_min).all())
    # Adam interpolates (nearly), so w_adam - w_min lies (nearly) in the null
    # space of X, orthogonal to w_min: |w_adam|^2 = |w_min|^2 + |w_adam - w_min|^2
    assert r.train_adam.max() < 1e-6
    assert_close(r.norm_adam**2, r.norm_min**2 + r.adam_to_min**2, rtol=1e-3,
                 atol=0.0)


def test_race_uses_the_reference_rates_and_the_cache_does_not_leak():
    r = simulate_race("rotated", gd=3.0, momentum=1.0, adam=0.5)
    ref = RACE["rotated"].lrs
    assert r.lrs == {"GD": 3 * ref["GD"], "momentum": ref["momentum"],
                     "Adam": 0.5 * ref["Adam"]}
    for path in r.paths.values():
        assert path[0].tolist() == list(RACE["rotated"].start)
    assert r.gaps["GD"][-1] > r.gaps["GD"][0]  # 3/L is beyond 2/L: it grows
    r.paths["Adam"][:] = 0.0
    again = simulate_race("rotated", gd=3.0, momentum=1.0, adam=0.5)
    assert again.paths["Adam"][0].tolist() == list(RACE["rotated"].start)


def test_race_explorer_blits_like_a_full_redraw_and_has_a_small_standin():
    ex = race_explorer()
    ex.render(landscape="rosenbrock", gd=3.0, momentum=3.0, adam=3.0)
    params = {"landscape": "rosenbrock", "gd": 1.0, "momentum": 3.0, "adam": 1.0}
    blitted = ex.render(**params)
    fresh = race_explorer()
    fig, canvas, view, _ = fresh.figure(**params)
    for artist in view.update(fresh.simulate(**params), **params):
        artist.set_animated(False)
    canvas.draw()
    full = np.asarray(canvas.buffer_rgba())
    diff = np.abs(blitted.astype(int) - full.astype(int)).max(-1)
    assert (diff > 2).sum() <= 20
    assert np.prod([len(c.values) for c in ex.controls]) <= 30


@pytest.mark.parametrize("call, exc, message", [
    (lambda: replay("nadam", torch.ones(3)), ValueError,
     r"optimizer must be one of 'sgd', 'adagrad'.*; got 'nadam'"),
    (lambda: replay("adam", torch.ones(3), beta=0.9), TypeError,
     r"options must be among .* for 'adam'; got \['beta'\]"),
    (lambda: replay("adam", torch.ones(3), lr=-1.0), ValueError, r"lr must be"),
    (lambda: replay("adam", torch.ones((0, 2))), ValueError,
     r"grads must be a floating-point tensor of shape \(T, \.\.\.\)"),
    (lambda: replay("adam", [1.0, 2.0]), TypeError, r"grads must be a torch.Tensor"),
    (lambda: simulate_sparse("adam"), ValueError, r"optimizer must be one of"),
    (lambda: simulate_sparse(p=0.0), ValueError, r"p must be a real number"),
    (lambda: reddi_gradients(2.0), ValueError, r"C must be a real number > 2.0"),
    (lambda: simulate_reddi(x0=2.0), ValueError, r"x0 must be a real number"),
    (lambda: steps_to_reach(gd(0.1), quadratic(), torch.zeros(3, 3), 0.1),
     ValueError, r"starts must have shape \(n, 2\); got shape \(3, 3\)"),
    (lambda: sweep_lrs(least_squares(8, 2, device="cpu"), lrs=[]), ValueError,
     r"lrs must hold at least one rate"),
    (lambda: sweep_lrs(least_squares(8, 2, device="cpu"), lr=0.1), TypeError,
     r"lr must be given through lrs"),
    (lambda: least_squares(8, 2, scales=[1.0, -1.0]), ValueError,
     r"scales must be 2 finite positive numbers"),
    (lambda: simulate_interpolation(5, 5), ValueError, r"d must be an int >= 6"),
    (lambda: simulate_race("moon"), ValueError, r"landscape must be one of"),
    (lambda: simulate_race(adam=0.0), ValueError, r"adam must be a real number > 0"),
    (lambda: replay("adam", torch.tensor([1.0, math.nan])), ValueError,
     r"grads must hold finite numbers only; got 1 nan or inf value\(s\) of 2"),
    (lambda: circle_starts(4, 1.0, (0.0, 0.0, 0.0)), ValueError,
     r"center must be 2 finite numbers; got shape \(3,\)"),
    (lambda: circle_starts(4, 1.0, (math.nan, 0.0)), ValueError,
     r"center must be 2 finite numbers; got \(nan, 0.0\)"),
    (lambda: circle_starts(4, 1.0, "ab"), TypeError,
     r"center must be 2 finite numbers; got 'ab'"),
    (lambda: steps_to_reach(gd(0.1), quadratic(), torch.tensor([[math.inf, 0.0]]),
                            0.1), ValueError,
     r"starts must hold finite numbers only; got 1 nan or inf value\(s\)"),
    (lambda: least_squares(8, 2, scales=[math.inf, 1.0]), ValueError,
     r"scales must be 2 finite positive numbers; got \[inf, 1.0\]"),
    (lambda: least_squares(8, 2, scales="ab"), TypeError,
     r"scales must be 2 finite positive numbers; got 'ab'"),
    (lambda: sweep_lrs(least_squares(8, 2, device="cpu"), lrs=0.1), TypeError,
     r"lrs must be a sequence of real numbers > 0; got 0.1"),
    (lambda: Sweep("sgd", {}, torch.ones(1), torch.ones(1)).window("a"), TypeError,
     r"tol must be a real number; got 'a'"),
    (lambda: Sweep("sgd", {}, torch.ones(1), torch.ones(1)).window(math.nan),
     ValueError, r"tol must be a real number; got nan"),
    (lambda: RaceView(None, "round bowl"), ValueError,
     r"landscape must be one of 'ill-conditioned', .*; got 'round bowl'"),
])
def test_invalid_arguments(call, exc, message):
    with pytest.raises(exc, match=message):
        call()
