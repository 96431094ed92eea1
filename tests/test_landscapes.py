"""Landscapes: hand-written gradients and Hessians against autograd in float64."""

import math

import pytest
import torch

from mbgd.landscapes import (LANDSCAPES, Quadratic, double_well, get_landscape,
                             quadratic, robot_arm)
from mbgd.plotting import landscape_grid, new_axes, plot_landscape

f64 = torch.float64
ALL = [get_landscape(name) for name in LANDSCAPES] + [double_well(0.7),
                                                      quadratic((3.0, 0.5), 0.4)]


def points(f, n=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    lo = torch.tensor([b[0] for b in f.bounds], dtype=f64)
    hi = torch.tensor([b[1] for b in f.bounds], dtype=f64)
    return lo + (hi - lo) * torch.rand(n, f.dim, generator=g, dtype=f64)


@pytest.mark.parametrize("f", ALL, ids=lambda f: f.name)
def test_gradient_and_hessian_match_autograd(f):
    for x in points(f):
        auto_grad = torch.func.grad(f.value)(x)
        auto_hess = torch.func.hessian(f.value)(x)
        torch.testing.assert_close(f.grad(x), auto_grad, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(f.hessian(x), auto_hess, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("f", ALL, ids=lambda f: f.name)
def test_batched_evaluation_matches_pointwise(f):
    xs = points(f).reshape(7, 1, f.dim)
    assert f.value(xs).shape == (7, 1)
    assert f.grad(xs).shape == (7, 1, f.dim)
    assert f.hessian(xs).shape == (7, 1, f.dim, f.dim)
    one_by_one = torch.stack([f.value(x[0]) for x in xs])
    torch.testing.assert_close(f.value(xs)[:, 0], one_by_one)


@pytest.mark.parametrize("f", ALL, ids=lambda f: f.name)
def test_minimizer_is_stationary(f):
    assert f.minimizer is not None
    assert f.grad(f.minimizer).abs().max() < 1e-9


def test_robot_arm_worked_example():
    C = robot_arm()
    p = torch.tensor([1.0, 1.0], dtype=f64)
    assert C(p).item() == 2 * 4 + 4 + 2  # 2(1-3)^2 + (1+1)^2 + 2*1*1
    assert C.grad(p).tolist() == [-6.0, 6.0]
    assert C.minimizer.tolist() == pytest.approx([7.0, -8.0])
    assert C(C.minimizer).item() == pytest.approx(-31.0)
    assert C.smoothness == pytest.approx(3 + math.sqrt(5))


def test_quadratic_conditioning_and_rotation():
    f = quadratic((1000.0, 1.0), angle=0.3)
    assert f.condition_number == pytest.approx(1000.0)
    assert f.smoothness == pytest.approx(1000.0)
    torch.testing.assert_close(f.eigenvalues, torch.tensor([1.0, 1000.0], dtype=f64))


def test_double_well_minima():
    f = double_well(1.0)
    assert f.minimizer.item() == pytest.approx(-1.3008, abs=1e-4)
    assert [round(v, 4) for v in f.local_minima.tolist()] == [-1.3008, 1.1309]
    assert (f.hessian(f.local_minima[:, None]) > 0).all()


EYE = torch.eye(2)
WINDOW_RULE = "2 pair(s) (lo, hi) of finite real numbers with lo < hi"


@pytest.mark.parametrize("call, exc, message", [
    (lambda: quadratic((1.0,)), ValueError, "eigenvalues must have 2 entries"),
    (lambda: get_landscape("bowl"), ValueError, "landscape must be one of"),
    (lambda: get_landscape(["saddle"]), ValueError,
     "landscape must be one of 'robot arm', 'ill-conditioned', 'round bowl', "
     "'rotated', 'rosenbrock', 'saddle'; got ['saddle']"),
    (lambda: quadratic((1.0, 2.0), center=(1.0,)), ValueError,
     "center must have 2 entries"),
    (lambda: quadratic(None), TypeError,
     "eigenvalues must be a pair of real numbers; got None"),
    (lambda: quadratic((0.0, 1.0)), ValueError,
     "eigenvalues[0] must be a real number > 0.0; got 0.0"),
    (lambda: quadratic((10.0, -1.0)), ValueError,
     "eigenvalues[1] must be a real number > 0.0; got -1.0"),
    (lambda: quadratic(center=None), TypeError,
     "center must be a pair of real numbers; got None"),
    (lambda: quadratic(center=(math.nan, 0.0)), ValueError,
     "center[0] must be a real number; got nan"),
    (lambda: quadratic(name=3), TypeError, "name must be a str or None; got 3"),
    (lambda: Quadratic(torch.zeros(0, 0)), ValueError,
     "A must be a non-empty square matrix; got shape (0, 0)"),
    (lambda: Quadratic(torch.full((2, 2), math.inf)), ValueError,
     "A must have finite entries; got tensor([[inf, inf],"),
    (lambda: Quadratic(torch.eye(2, dtype=torch.complex64)), TypeError,
     "A must be a real tensor; got dtype torch.complex64"),
    (lambda: Quadratic(EYE, [1.0, 1.0]), TypeError,
     "b must be a torch.Tensor or None; got [1.0, 1.0]"),
    (lambda: Quadratic(EYE, torch.tensor([math.nan, 1.0])), ValueError,
     "b must have finite entries; got tensor([nan, 1.])"),
    (lambda: Quadratic(EYE, c=None), TypeError, "c must be a real number; got None"),
    (lambda: Quadratic(EYE, name=3), TypeError, "name must be a str; got 3"),
    (lambda: Quadratic(EYE, bounds=((1, 0), (0, 1))), ValueError,
     f"bounds must be {WINDOW_RULE}; got ((1, 0), (0, 1))"),
    (lambda: landscape_grid(robot_arm(), ((0, 1),)), ValueError,
     f"bounds must be {WINDOW_RULE}; got ((0, 1),)"),
    (lambda: landscape_grid(robot_arm(), ((0, math.inf), (0, 1))), ValueError,
     f"bounds must be {WINDOW_RULE}; got ((0, inf), (0, 1))"),
    (lambda: plot_landscape(robot_arm(), levels=1), ValueError,
     "levels must be an int >= 2; got 1"),
    (lambda: plot_landscape(robot_arm(), mark_minimum="no"), TypeError,
     "mark_minimum must be a bool (True or False); got 'no'"),
    (lambda: plot_landscape(robot_arm(), "axes"), TypeError,
     "ax must be a matplotlib Axes or None; got 'axes'"),
    (lambda: new_axes(figsize=(-1.0, 2.0)), ValueError,
     "figsize must be a pair (width, height) of finite real numbers > 0; "
     "got (-1.0, 2.0)"),
])
def test_bad_arguments(call, exc, message, refused):
    refused(call, exc, message)


@pytest.mark.parametrize("f", ALL, ids=lambda f: f.name)
def test_to_moves_every_tensor(f):
    moved = f.to("meta")  # the meta device computes shapes and devices only
    x = torch.zeros(f.dim, dtype=f64, device="meta")
    assert moved.grad(x).device.type == "meta"
    assert moved.minimizer.device.type == "meta"
    assert f.minimizer.device.type == "cpu"  # the original is untouched
