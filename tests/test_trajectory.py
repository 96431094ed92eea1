"""The runner and the step rules of chapter 1, against closed forms."""

import math

import pytest
import torch

from mbgd import steps
from mbgd.landscapes import double_well, quadratic, robot_arm, rosenbrock
from mbgd.plotting import plot_path, plot_values
from mbgd.steps import backtracking, gd
from mbgd.trajectory import DivergenceError, run

f64 = torch.float64


def test_gd_matches_closed_form_on_a_quadratic():
    # x_k - x* = (I - lr A)^k (x_0 - x*)
    C = robot_arm()
    x0 = torch.tensor([1.0, 1.0], dtype=f64)
    path = run(gd(0.1), C, x0, steps=25)
    M = torch.eye(2, dtype=f64) - 0.1 * C.A
    for k in (0, 1, 7, 25):
        expected = C.minimizer + torch.linalg.matrix_power(M, k) @ (x0 - C.minimizer)
        torch.testing.assert_close(path.points[k], expected, rtol=1e-12, atol=1e-12)
    assert path.points.shape == (26, 2) and path.values.shape == (26,)
    torch.testing.assert_close(path.values, C.value(path.points))
    torch.testing.assert_close(path.log["lr"], torch.full((25,), 0.1, dtype=f64))


def test_divergence_raises_with_step_and_stable_range():
    f = quadratic((10.0, 1.0))
    with pytest.raises(DivergenceError, match=r"diverged .* at step \d+: f = inf.*"
                                              r"stable for lr < 0\.2"):
        run(gd(0.5), f, (1.0, 1.0), steps=5000)
    path = run(gd(0.5), f, (1.0, 1.0), steps=5000, on_divergence="stop")
    assert path.diverged_at == path.steps and not math.isfinite(path.values[-1])


def test_target_stops_early():
    C = robot_arm()
    f_star = C(C.minimizer).item()
    path = run(gd(0.1), C, (1.0, 1.0), steps=1000, target=f_star + 1e-6)
    assert path.values[-1] <= f_star + 1e-6 < path.values[-2]


def test_backtracking_satisfies_armijo_and_its_lower_bound():
    f = quadratic((50.0, 1.0), angle=0.5)
    rule = backtracking(lr0=1.0, shrink=0.5, c=0.1)
    path = run(rule, f, (1.0, -2.0), steps=60)
    t = path.log["lr"]
    decrease = path.values[:-1] - path.values[1:]
    assert (decrease >= rule.c * t * path.grad_norms[:-1] ** 2).all()
    assert t.min() >= min(1.0, 2 * 0.5 * (1 - 0.1) / f.smoothness)
    # the accepted step is the FIRST that passes: twice it would have failed
    for k in range(10):
        x, g = path.points[k], f.grad(path.points[k])
        bigger = 2 * t[k]
        if bigger <= 1.0:
            assert f.value(x - bigger * g) > f.value(x) - 0.1 * bigger * (g @ g)


def test_backtracking_trials_count_the_sequential_search():
    f = quadratic((1000.0, 1.0))
    path = run(backtracking(lr0=1.0, shrink=0.5), f, (1.0, 1.0), steps=3)
    # from t0 = 1, the first step passing Armijo is 2^-j with j halvings
    expected = -torch.log2(path.log["lr"]) + 1
    torch.testing.assert_close(path.log["trials"], expected)  # float64, as x


def test_backtracking_minimises_rosenbrock():
    f = rosenbrock()
    path = run(backtracking(), f, (-1.5, 2.0), steps=20000, target=1e-10)
    assert path.values[-1] <= 1e-10
    assert path.distance_to(f.minimizer)[-1] < 1e-4


@pytest.mark.parametrize("call, exc, message", [
    (lambda: gd(0.0), ValueError, "lr must be a real number > 0.0; got 0.0"),
    (lambda: backtracking(shrink=1.0), ValueError,
     "shrink must be a real number with 0.0 < value < 1.0; got 1.0"),
    (lambda: run(gd(0.1), robot_arm(), (1.0,), 3), ValueError,
     "x0 must have 2 entries for landscape 'robot arm'; got shape (1,)"),
    (lambda: run(gd(0.1), robot_arm(), (1.0, 1.0), -1), ValueError,
     "steps must be an int >= 0; got -1"),
    (lambda: run("gd", robot_arm(), (1.0, 1.0), 3), TypeError,
     "rule must be a step rule from mbgd.steps"),
    (lambda: run(gd(0.1), robot_arm(), (1.0, 1.0), 3, on_divergence="warn"),
     ValueError, "on_divergence must be one of 'raise', 'stop', 'ignore'; got 'warn'"),
    (lambda: run(gd(0.1), robot_arm(), None, 3), TypeError,
     "x0 must be 2 real numbers (a sequence or a tensor); got None"),
    (lambda: run(gd(0.1), robot_arm(), ("a", "b"), 3), TypeError,
     "x0 must be 2 real numbers (a sequence or a tensor); got ('a', 'b')"),
    (lambda: run(gd(0.1), robot_arm(), torch.zeros(2, dtype=torch.complex64), 3),
     TypeError, "x0 must be 2 real numbers (a sequence or a tensor); got tensor("),
    (lambda: run(gd(0.1), robot_arm(), (math.nan, 1.0), 3), ValueError,
     "x0 must have finite entries; got [nan, 1.0]"),
    (lambda: run(gd(0.1), robot_arm(), (1.0, 1.0), 2).distance_to((1.0,)),
     ValueError,
     "point must have 2 entries for landscape 'robot arm'; got shape (1,)"),
    (lambda: run(gd(0.1), robot_arm(), (1.0, 1.0), 2).distance_to((math.inf, 0)),
     ValueError, "point must have finite entries; got [inf, 0.0]"),
    (lambda: plot_path(run(gd(0.1), double_well(), (0.5,), 2)), ValueError,
     "path must be a trajectory on a 2-D landscape (points of shape (K + 1, 2)); "
     "got points of shape (3, 1)"),
    (lambda: plot_values(run(gd(0.1), robot_arm(), (1.0, 1.0), 2), minimum="f*"),
     TypeError, "minimum must be a real number; got 'f*'"),
    (lambda: plot_values(run(gd(0.1), robot_arm(), (1.0, 1.0), 2),
                         minimum=math.nan), ValueError,
     "minimum must be a real number; got nan"),
])
def test_bad_arguments(call, exc, message, refused):
    refused(call, exc, message)


def test_start_point_is_copied_and_detached():
    x0 = torch.tensor([1.0, 1.0], dtype=f64, requires_grad=True)
    path = run(gd(0.1), robot_arm(), x0, steps=3)
    assert not path.points.requires_grad and not path.values.requires_grad
    assert path.points.numpy().shape == (4, 2)  # plotting needs this
    assert x0.tolist() == [1.0, 1.0]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("make", [lambda: gd(0.05), lambda: backtracking(),
                                  lambda: steps.heavy_ball(0.05, 0.5),
                                  lambda: steps.adam(lr=0.1)])
def test_runs_on_the_landscape_device_and_match_the_cpu(make):
    f = quadratic((10.0, 1.0), angle=0.3)
    on_cpu = run(make(), f, (1.0, 1.0), steps=50)
    on_gpu = run(make(), f.to("cuda"), (1.0, 1.0), steps=50)
    assert on_gpu.points.device.type == "cuda"
    torch.testing.assert_close(on_gpu.points.cpu(), on_cpu.points, rtol=1e-12,
                               atol=1e-12)


def test_a_landscape_reports_its_device():
    assert quadratic().device == torch.device("cpu")
    assert run(gd(0.05), quadratic(), (1.0, 1.0), steps=2).points.device.type == "cpu"
