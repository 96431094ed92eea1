"""Momentum and adaptive step rules of mbgd.steps, against torch.optim in float64."""

from __future__ import annotations

import re

import pytest
import torch
from torch.testing import assert_close

from mbgd import steps
from mbgd.landscapes import (Quadratic, get_landscape, quadratic, robot_arm,
                             rosenbrock)
from mbgd.trajectory import DivergenceError, run

TOL = {"rtol": 1e-12, "atol": 1e-12}
X0 = {"robot arm": (1.0, 1.0), "rotated": (1.5, -1.0), "rosenbrock": (-1.2, 1.5)}


def _torch_path(f, x0, opt_cls, steps_, **kwargs):
    """Parameters and states of a torch.optim optimizer fed the landscape's
    gradient: lists of length ``steps_ + 1`` (the first state is empty)."""
    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = opt_cls([p], **kwargs)
    points, states = [p.detach().clone()], [{}]
    for _ in range(steps_):
        p.grad = f.grad(p.detach())
        opt.step()
        points.append(p.detach().clone())
        states.append({k: v.clone() for k, v in opt.state[p].items()})
    return points, states


@pytest.mark.parametrize("name", ["robot arm", "rotated"])
def test_heavy_ball_forms_give_the_same_iterates(name):
    f = get_landscape(name)
    lr, mu = 0.5 / f.smoothness, 0.7
    velocity = run(steps.heavy_ball(lr, mu), f, X0[name], steps=100)
    two_point = run(steps.heavy_ball_two_point(lr, mu), f, X0[name], steps=100)
    assert_close(two_point.points, velocity.points, rtol=0, atol=1e-12)
    assert velocity.distance_to(f.minimizer)[-1] < 1e-3  # it did converge


def test_heavy_ball_is_torch_sgd_with_velocity_minus_lr_times_buffer():
    f, x0, lr, mu = robot_arm(), X0["robot arm"], 0.1, 0.8
    points, states = _torch_path(f, x0, torch.optim.SGD, 30, lr=lr, momentum=mu)
    rule = steps.heavy_ball(lr, mu)
    x = torch.tensor(x0, dtype=torch.float64)
    state = rule.init(x)
    for k in range(1, 31):
        x, state = rule.step(f, x, state)
        assert_close(x, points[k], **TOL, msg=lambda m: f"step {k}: {m}")
        assert_close(state.velocity, -lr * states[k]["momentum_buffer"], **TOL)


@pytest.mark.parametrize("name", ["robot arm", "rosenbrock"])
def test_nesterov_is_torch_sgd_nesterov_after_the_change_of_variables(name):
    """torch iterates the look-ahead point y = x + mu v, with v = -lr * buffer:
    so x_k = p_k + lr * mu * buffer_k."""
    f, x0 = get_landscape(name), X0[name]
    lr, mu = (0.05, 0.9) if name == "robot arm" else (1e-4, 0.9)
    points, states = _torch_path(f, x0, torch.optim.SGD, 25, lr=lr, momentum=mu,
                                 nesterov=True)
    path = run(steps.nesterov(lr, mu), f, x0, steps=25)
    for k in range(1, 26):
        x_k = points[k] + lr * mu * states[k]["momentum_buffer"]
        assert_close(path.points[k], x_k, **TOL, msg=lambda m: f"step {k}: {m}")


def test_nesterov_by_hand_on_a_one_dimensional_quadratic():
    """f(x) = x^2 / 2 (on the first axis): two steps worked out by hand."""
    f = quadratic((1.0, 1.0))
    lr, mu = 0.5, 0.5
    path = run(steps.nesterov(lr, mu), f, (1.0, 0.0), steps=2)
    # v1 = -0.5 * 1 = -0.5, x1 = 0.5; look-ahead 0.5 - 0.25 = 0.25,
    # v2 = -0.25 - 0.5 * 0.25 = -0.375, x2 = 0.125.
    assert path.points[:, 0].tolist() == [1.0, 0.5, 0.125]


ADAPTIVE = [
    ("adagrad", steps.adagrad, {"lr": 0.5}, torch.optim.Adagrad, {"eps": 1e-10}),
    ("rmsprop", steps.rmsprop, {"lr": 0.05, "alpha": 0.9}, torch.optim.RMSprop, {}),
    ("adadelta", steps.adadelta, {"rho": 0.8, "eps": 1e-3}, torch.optim.Adadelta, {}),
    ("adam", steps.adam, {"lr": 0.1, "betas": (0.8, 0.95)}, torch.optim.Adam, {}),
    ("amsgrad", steps.adam, {"lr": 0.1, "amsgrad": True}, torch.optim.Adam, {}),
]


@pytest.mark.parametrize("landscape", ["robot arm", "rosenbrock"])
@pytest.mark.parametrize("label, make, kwargs, opt_cls, extra", ADAPTIVE,
                         ids=[a[0] for a in ADAPTIVE])
def test_adaptive_rule_equals_torch_optimizer(label, make, kwargs, opt_cls, extra,
                                              landscape):
    f, x0 = get_landscape(landscape), X0[landscape]
    rule = make(**kwargs)
    points, states = _torch_path(f, x0, opt_cls, 20, **kwargs, **extra)
    path = run(rule, f, x0, steps=20)
    assert_close(path.points, torch.stack(points), **TOL)
    assert path.log["step"].tolist() == list(range(1, 21))
    x = torch.tensor(x0, dtype=torch.float64)
    state = rule.init(x)
    for k in range(1, 21):
        x, state = rule.step(f, x, state)
        assert set(state._fields) == set(states[k]), k
        for key, value in states[k].items():
            assert_close(getattr(state, key), value, **TOL,
                         msg=lambda m: f"step {k}, {key}: {m}")


def test_optim_rules_are_pure():
    f, rule = rosenbrock(), steps.adam(lr=0.1, amsgrad=True)
    x = torch.tensor([-1.0, 1.0], dtype=torch.float64)
    state = rule.init(x)
    x1, state1 = rule.step(f, x, state)
    x2, _ = rule.step(f, x1, state1)
    assert x.tolist() == [-1.0, 1.0]
    assert state.step.item() == 0 and float(state.exp_avg.abs().sum()) == 0.0
    assert state1.step.item() == 1
    assert not torch.equal(x1, x2)


@pytest.mark.parametrize("make, factor", [(steps.heavy_ball, 1.0),
                                          (steps.heavy_ball_two_point, 1.0),
                                          (steps.nesterov, 1.0 / 2.0)])
def test_stable_lr_on_a_quadratic(make, factor):
    """mu = 0.5: heavy ball is stable for lr < 2 (1 + mu) / L = 3 / L, Nesterov for
    lr < 2 (1 + mu) / ((1 + 2 mu) L) = 1.5 / L; just inside converges, just
    outside diverges."""
    f, mu = get_landscape("ill-conditioned"), 0.5
    bound = make(0.1, mu).stable_lr(f)
    assert bound == pytest.approx(3.0 * factor / f.smoothness, rel=1e-12)
    inside = run(make(0.97 * bound, mu), f, (1.0, 1.0), steps=2000)
    assert inside.distance_to(f.minimizer)[-1] < 1e-6
    outside = run(make(1.03 * bound, mu), f, (1.0, 1.0), steps=2000,
                  on_divergence="stop")
    assert outside.distance_to(f.minimizer)[-1] > 1e3 or outside.diverged_at


def test_stable_lr_is_unknown_off_quadratics_and_named_when_diverging():
    assert steps.heavy_ball(0.1, 0.5).stable_lr(rosenbrock()) is None
    assert steps.adam(0.1).stable_lr(robot_arm()) is None
    f = robot_arm()  # L = 3 + sqrt(5): 2 (1 + 0.5) / L = 0.572949...
    with pytest.raises(DivergenceError, match=re.escape("stable for lr < 0.572949.")):
        run(steps.heavy_ball(1.0, 0.5), f, (1.0, 1.0), steps=5000)


@pytest.mark.parametrize("make", [steps.gd, lambda lr: steps.heavy_ball(lr, 0.5),
                                  lambda lr: steps.nesterov(lr, 0.5)])
def test_no_step_is_called_stable_with_negative_curvature(make):
    """diag(1, -1): every fixed step diverges along the second axis, however small,
    so no rule may name a stable range there (its L = 1 would say lr < 2)."""
    f = Quadratic(torch.diag(torch.tensor([1.0, -1.0])))
    assert f.smoothness == 1.0 and not f.convex
    assert make(0.1).stable_lr(f) is None
    with pytest.raises(DivergenceError) as raised:
        run(make(0.1), f, (1.0, 1.0), steps=20_000)
    assert "stable for" not in str(raised.value)


OPTIM_RULE = {"name": "Adam", "update": lambda x, g, state: None,
              "init": lambda x: {}, "state_type": steps.AdamState, "options": {}}
INVALID = [
    (steps.heavy_ball, {"lr": 0.0, "momentum": 0.5}, ValueError,
     "lr must be a real number > 0.0; got 0.0"),
    (steps.heavy_ball_two_point, {"lr": 0.1, "momentum": 1.0}, ValueError,
     "momentum must be a real number with 0.0 <= value < 1.0; got 1.0"),
    (steps.nesterov, {"lr": 0.1, "momentum": "0.9"}, TypeError,
     "momentum must be a real number with 0.0 <= value < 1.0; got '0.9'"),
    (steps.adagrad, {"lr": -1.0}, ValueError,
     "lr must be a real number >= 0.0; got -1.0"),
    (steps.rmsprop, {"lr": 0.1, "alpha": 2.0}, ValueError,
     "alpha must be a real number with 0.0 <= value <= 1.0; got 2.0"),
    (steps.adadelta, {"rho": -0.5}, ValueError,
     "rho must be a real number with 0.0 <= value <= 1.0; got -0.5"),
    (steps.adam, {"lr": 0.1, "betas": (0.9, 1.5)}, ValueError,
     "betas[1] must be a real number with 0.0 <= value < 1.0; got 1.5"),
    (steps.adam, {"lr": 0.1, "amsgrad": None}, TypeError,
     "amsgrad must be a bool (True or False); got None"),
    (steps.OptimRule, {**OPTIM_RULE, "name": None}, TypeError,
     "name must be a str; got None"),
    (steps.OptimRule, {**OPTIM_RULE, "update": None}, TypeError,
     "update must be callable; got None"),
    (steps.OptimRule, {**OPTIM_RULE, "state_type": dict}, TypeError,
     "state_type must be a NamedTuple class; got <class 'dict'>"),
    (steps.OptimRule, {**OPTIM_RULE, "options": None}, TypeError,
     "options must be a dict of hyperparameters; got None"),
]


@pytest.mark.parametrize("make, kwargs, exc, message", INVALID,
                         ids=[f"{m.__name__}-{msg.split(' must')[0]}"
                              for m, _, _, msg in INVALID])
def test_invalid_arguments(make, kwargs, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        make(**kwargs)
