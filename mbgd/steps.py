r"""Step rules for the book's low-dimensional pictures.

A step rule is a small object with two methods, in the style of optax:

* ``init(x) -> state``: the rule's state (a ``NamedTuple`` of tensors) at the start;
* ``step(f, x, state) -> (x_next, state_next)``: one update on the landscape ``f``.

Rules are pure: they never mutate ``x`` or ``state``. Scalar fields of a state (for
example the step size that a line search accepted) are recorded by
:func:`mbgd.trajectory.run` in ``Trajectory.log``. The runner's only other question
to a rule is ``stable_lr(f)``: the largest stable step size on ``f`` when the book
knows it, used in the message of a diverging run.

>>> from mbgd.landscapes import robot_arm
>>> rule = gd(lr=0.1)
>>> x = torch.tensor([1.0, 1.0], dtype=torch.float64)
>>> rule.step(robot_arm(), x, rule.init(x))[0]
tensor([1.6000, 0.4000], dtype=torch.float64)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

from ._checks import check_int, check_real
from . import optim as _optim
from .landscapes import Landscape, Quadratic

__all__ = [
    "StepRule", "GD", "gd", "Backtracking", "backtracking",
    "HeavyBall", "heavy_ball", "HeavyBallTwoPoint", "heavy_ball_two_point",
    "Nesterov", "nesterov", "OptimRule", "adagrad", "rmsprop", "adadelta", "adam",
]


class StepRule:
    """Base class of step rules (see the module docstring for the protocol)."""

    name = "rule"

    def init(self, x: Tensor) -> NamedTuple:
        raise NotImplementedError

    def step(self, f: Landscape, x: Tensor, state: NamedTuple
             ) -> tuple[Tensor, NamedTuple]:
        raise NotImplementedError

    def stable_lr(self, f: Landscape) -> float | None:
        """Largest stable step size on ``f`` if the book knows it, else ``None``."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class GDState(NamedTuple):
    lr: Tensor  # the step size used (constant for plain GD), scalar


class GD(StepRule):
    r"""Gradient descent with a fixed step: :math:`x_{k+1} = x_k - \alpha\nabla f(x_k)`.

    On a function whose Hessian eigenvalues lie in ``[0, L]`` it is stable for
    :math:`0 < \alpha < 2/L`.
    """

    def __init__(self, lr: float):
        self.lr = check_real("lr", lr, low=0.0, bounds="(]")
        self.name = f"GD (lr={self.lr:g})"

    def init(self, x: Tensor) -> GDState:
        return GDState(lr=torch.tensor(self.lr, dtype=x.dtype))

    def step(self, f, x, state):
        return x - self.lr * f.grad(x), state

    def stable_lr(self, f):
        return None if not f.smoothness else 2.0 / f.smoothness


def gd(lr: float) -> GD:
    """Fixed-step gradient descent (see :class:`GD`)."""
    return GD(lr)


class BacktrackingState(NamedTuple):
    lr: Tensor  # the step size accepted at this step, scalar
    trials: Tensor  # how many step sizes were tried (function evaluations), scalar


class Backtracking(StepRule):
    r"""Gradient descent with a backtracking (Armijo) line search.

    Each step starts from ``lr0`` and multiplies the step by ``shrink`` until the
    Armijo condition of sufficient decrease holds:

    .. math:: f(x - t\,g) \le f(x) - c\, t\, \lVert g \rVert^2, \qquad g = \nabla f(x).

    On an ``L``-smooth function every accepted step satisfies
    :math:`t \ge \min(t_0,\ 2\beta(1 - c)/L)` with :math:`\beta` = ``shrink``.

    Args:
        lr0: first trial step, ``> 0``.
        shrink: factor :math:`\beta` in ``(0, 1)``.
        c: Armijo constant in ``(0, 1)``; ``1e-4`` is the usual choice.
        max_trials: give up shrinking after this many trials (then take the last).

    ``Trajectory.log["trials"]`` counts the function evaluations of the search at
    each step (one per trial step size; the gradient is computed once).
    """

    def __init__(self, lr0: float = 1.0, shrink: float = 0.5, c: float = 1e-4,
                 max_trials: int = 60):
        self.lr0 = check_real("lr0", lr0, low=0.0, bounds="(]")
        self.shrink = check_real("shrink", shrink, low=0.0, high=1.0, bounds="()")
        self.c = check_real("c", c, low=0.0, high=1.0, bounds="()")
        self.max_trials = check_int("max_trials", max_trials, low=1)
        self.name = f"backtracking (lr0={self.lr0:g}, shrink={self.shrink:g})"

    def init(self, x: Tensor) -> BacktrackingState:
        zero = torch.zeros((), dtype=x.dtype)
        return BacktrackingState(lr=zero, trials=zero)

    def step(self, f, x, state):
        # All candidate steps t0 * shrink**j are evaluated in one batch (fast in
        # torch); the accepted step is the first that passes, exactly as in the
        # sequential loop, and ``trials`` counts the evaluations that loop makes.
        g = f.grad(x)
        ts = self.lr0 * self.shrink ** torch.arange(self.max_trials, dtype=x.dtype)
        ok = f.value(x - ts[:, None] * g) <= f.value(x) - self.c * ts * (g @ g)
        j = int(ok.to(torch.int8).argmax()) if bool(ok.any()) else self.max_trials - 1
        return x - ts[j] * g, BacktrackingState(lr=ts[j], trials=torch.tensor(j + 1.0))


def backtracking(lr0: float = 1.0, shrink: float = 0.5, c: float = 1e-4,
                 max_trials: int = 60) -> Backtracking:
    """Gradient descent with Armijo backtracking (see :class:`Backtracking`)."""
    return Backtracking(lr0, shrink, c, max_trials)


# --- Momentum and adaptive rules ---------------------------------------------------


def _momentum_stable_lr(f: Landscape, momentum: float, look_ahead: bool
                        ) -> float | None:
    r"""Largest stable ``lr`` of heavy ball (or Nesterov) on a quadratic.

    On an eigendirection with curvature :math:`\lambda` and :math:`h = \alpha
    \lambda`, heavy ball's iteration matrix has the characteristic polynomial
    :math:`z^2 - (1 + \mu - h) z + \mu`, whose roots lie inside the unit circle
    iff :math:`0 < h < 2(1 + \mu)`; Nesterov's is :math:`z^2 - (1 + \mu)(1 - h) z
    + \mu (1 - h)`, stable iff :math:`0 < h < 2(1 + \mu)/(1 + 2\mu)`.
    """
    if not isinstance(f, Quadratic) or not f.smoothness:
        return None
    bound = 2.0 * (1.0 + momentum) / f.smoothness
    return bound / (1.0 + 2.0 * momentum) if look_ahead else bound


def _check_momentum(lr: float, momentum: float) -> tuple[float, float]:
    return (check_real("lr", lr, low=0.0, bounds="(]"),
            check_real("momentum", momentum, low=0.0, high=1.0, bounds="[)"))


class VelocityState(NamedTuple):
    velocity: Tensor  # v_k, shape (d,)


class HeavyBall(StepRule):
    r"""Polyak's heavy ball in the book's velocity form.

    .. math:: v_{k+1} = \mu v_k - \alpha \nabla f(x_k), \qquad
        x_{k+1} = x_k + v_{k+1}, \qquad v_0 = 0.

    ``torch.optim.SGD(lr=alpha, momentum=mu)`` gives the same iterates, with
    :math:`v_k = -\alpha\, b_k` for its ``momentum_buffer`` :math:`b_k` (see
    :class:`mbgd.optim.SGD`). On a quadratic with Hessian eigenvalues in
    ``(0, L]`` it is stable for :math:`0 < \alpha < 2(1 + \mu)/L`.

    Args:
        lr: step size :math:`\alpha > 0`.
        momentum: :math:`\mu \in [0, 1)`.

    >>> from mbgd.landscapes import robot_arm
    >>> rule = heavy_ball(lr=0.1, momentum=0.5)
    >>> x = torch.tensor([1.0, 1.0], dtype=torch.float64)
    >>> x1, state = rule.step(robot_arm(), x, rule.init(x))
    >>> x1
    tensor([1.6000, 0.4000], dtype=torch.float64)
    >>> state.velocity
    tensor([ 0.6000, -0.6000], dtype=torch.float64)
    """

    def __init__(self, lr: float, momentum: float):
        self.lr, self.momentum = _check_momentum(lr, momentum)
        self.name = f"heavy ball (lr={self.lr:g}, momentum={self.momentum:g})"

    def init(self, x: Tensor) -> VelocityState:
        return VelocityState(torch.zeros_like(x))

    def step(self, f, x, state):
        v = self.momentum * state.velocity - self.lr * f.grad(x)
        return x + v, VelocityState(v)

    def stable_lr(self, f):
        return _momentum_stable_lr(f, self.momentum, look_ahead=False)


def heavy_ball(lr: float, momentum: float) -> HeavyBall:
    """Heavy ball in velocity form (see :class:`HeavyBall`)."""
    return HeavyBall(lr, momentum)


class PreviousState(NamedTuple):
    previous: Tensor  # x_{k-1}, shape (d,)


class HeavyBallTwoPoint(StepRule):
    r"""Polyak's heavy ball in the two-point form.

    .. math:: x_{k+1} = x_k - \alpha \nabla f(x_k) + \mu\,(x_k - x_{k-1}),
        \qquad x_{-1} = x_0.

    The same iterates as :class:`HeavyBall` (:math:`v_k = x_k - x_{k-1}`), up to
    rounding; same arguments and stable range.
    """

    def __init__(self, lr: float, momentum: float):
        self.lr, self.momentum = _check_momentum(lr, momentum)
        self.name = (f"heavy ball, two-point (lr={self.lr:g}, "
                     f"momentum={self.momentum:g})")

    def init(self, x: Tensor) -> PreviousState:
        return PreviousState(x.clone())

    def step(self, f, x, state):
        x_next = x - self.lr * f.grad(x) + self.momentum * (x - state.previous)
        return x_next, PreviousState(x)

    def stable_lr(self, f):
        return _momentum_stable_lr(f, self.momentum, look_ahead=False)


def heavy_ball_two_point(lr: float, momentum: float) -> HeavyBallTwoPoint:
    """Heavy ball in the two-point form (see :class:`HeavyBallTwoPoint`)."""
    return HeavyBallTwoPoint(lr, momentum)


class Nesterov(StepRule):
    r"""Nesterov's accelerated gradient: heavy ball with a look-ahead gradient.

    .. math:: v_{k+1} = \mu v_k - \alpha \nabla f(x_k + \mu v_k), \qquad
        x_{k+1} = x_k + v_{k+1}, \qquad v_0 = 0.

    ``torch.optim.SGD(lr=alpha, momentum=mu, nesterov=True)`` iterates the
    look-ahead points instead: its parameter is :math:`y_k = x_k + \mu v_k` and
    its buffer :math:`b_k = -v_k/\alpha`, so :math:`x_k = y_k + \alpha\mu\, b_k`.
    On a quadratic with Hessian eigenvalues in ``(0, L]`` it is stable for
    :math:`0 < \alpha < 2(1 + \mu) / ((1 + 2\mu) L)`.

    Args:
        lr: step size :math:`\alpha > 0`.
        momentum: :math:`\mu \in [0, 1)`.
    """

    def __init__(self, lr: float, momentum: float):
        self.lr, self.momentum = _check_momentum(lr, momentum)
        self.name = f"Nesterov (lr={self.lr:g}, momentum={self.momentum:g})"

    def init(self, x: Tensor) -> VelocityState:
        return VelocityState(torch.zeros_like(x))

    def step(self, f, x, state):
        mu = self.momentum
        v = mu * state.velocity - self.lr * f.grad(x + mu * state.velocity)
        return x + v, VelocityState(v)

    def stable_lr(self, f):
        return _momentum_stable_lr(f, self.momentum, look_ahead=True)


def nesterov(lr: float, momentum: float) -> Nesterov:
    """Nesterov's look-ahead momentum (see :class:`Nesterov`)."""
    return Nesterov(lr, momentum)


# The adaptive rules' states: fields named as torch.optim's state keys.
class AdagradState(NamedTuple):
    step: Tensor  # steps taken, scalar
    sum: Tensor  # summed squared gradients, shape (d,)


class RMSpropState(NamedTuple):
    step: Tensor  # scalar
    square_avg: Tensor  # running mean of squared gradients, shape (d,)


class AdadeltaState(NamedTuple):
    step: Tensor  # scalar
    square_avg: Tensor  # running mean of squared gradients, shape (d,)
    acc_delta: Tensor  # running mean of squared updates, shape (d,)


class AdamState(NamedTuple):
    step: Tensor  # scalar
    exp_avg: Tensor  # first moment m, shape (d,)
    exp_avg_sq: Tensor  # second moment v, shape (d,)


class AMSGradState(NamedTuple):
    step: Tensor  # scalar
    exp_avg: Tensor  # shape (d,)
    exp_avg_sq: Tensor  # shape (d,)
    max_exp_avg_sq: Tensor  # running maximum of v, shape (d,)


class OptimRule(StepRule):
    r"""A step rule that runs one of :mod:`mbgd.optim`'s single-tensor updates.

    The optimizer class and the 2-D picture share one implementation of the
    update: :meth:`step` copies the point and the state and calls ``update``
    (e.g. :func:`mbgd.optim.adam_update_`) on the copies. The state is a
    ``NamedTuple`` whose fields are torch's state keys; its ``step`` count is
    logged by :func:`mbgd.trajectory.run`.

    Args:
        name: label for plots and messages.
        update: ``update(x, grad, state_dict, **options)``, in place.
        init: ``init(x) -> state_dict``.
        state_type: the ``NamedTuple`` class of the state.
        options: hyperparameters passed to ``update``.
    """

    def __init__(self, name: str, update: Callable[..., None],
                 init: Callable[[Tensor], dict[str, Tensor]], state_type: type,
                 options: dict):
        self.name, self._update, self._init = name, update, init
        self.state_type, self.options = state_type, options

    def init(self, x: Tensor) -> NamedTuple:
        return self.state_type(**self._init(x))

    def step(self, f, x, state):
        g = f.grad(x)
        x = x.clone()
        new = {k: v.clone() for k, v in state._asdict().items()}
        self._update(x, g, new, **self.options)
        return x, self.state_type(**new)


def adagrad(lr: float, eps: float = 1e-10) -> OptimRule:
    r"""Adagrad, the update of :class:`mbgd.optim.Adagrad` (no decay).

    :math:`s_t = s_{t-1} + g_t^2,\ x_t = x_{t-1} - \alpha\, g_t / (\sqrt{s_t} +
    \epsilon)`, coordinate-wise.

    >>> from mbgd.landscapes import robot_arm
    >>> from mbgd.trajectory import run
    >>> path = run(adagrad(lr=1.0), robot_arm(), (1.0, 1.0), steps=1)
    >>> [round(v, 6) for v in path.points[-1].tolist()]
    [2.0, 0.0]
    """
    options = _optim.Adagrad.check_options({"lr": lr, "eps": eps})
    return OptimRule(f"Adagrad (lr={options['lr']:g})", _optim.adagrad_update_,
                     _optim.adagrad_init, AdagradState, options)


def rmsprop(lr: float, alpha: float = 0.99, eps: float = 1e-8) -> OptimRule:
    r"""RMSprop, the update of :class:`mbgd.optim.RMSprop` (no momentum, not
    centered): :math:`v_t = \alpha v_{t-1} + (1-\alpha) g_t^2,\ x_t = x_{t-1} -
    \eta\, g_t / (\sqrt{v_t} + \epsilon)`."""
    options = _optim.RMSprop.check_options({"lr": lr, "alpha": alpha, "eps": eps})
    return OptimRule(
        f"RMSprop (lr={options['lr']:g}, alpha={options['alpha']:g})",
        _optim.rmsprop_update_, _optim.rmsprop_init, RMSpropState, options,
    )


def adadelta(rho: float = 0.9, eps: float = 1e-6, lr: float = 1.0) -> OptimRule:
    r"""Adadelta, the update of :class:`mbgd.optim.Adadelta` (see its formulas)."""
    options = _optim.Adadelta.check_options({"lr": lr, "rho": rho, "eps": eps})
    return OptimRule(
        f"Adadelta (rho={options['rho']:g}, eps={options['eps']:g})",
        _optim.adadelta_update_, _optim.adadelta_init, AdadeltaState, options,
    )


def adam(lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
         amsgrad: bool = False) -> OptimRule:
    r"""Adam (or torch's AMSGrad), the update of :class:`mbgd.optim.Adam`.

    >>> from mbgd.landscapes import robot_arm
    >>> from mbgd.trajectory import run
    >>> path = run(adam(lr=0.5), robot_arm(), (1.0, 1.0), steps=3)
    >>> path.points[1], path.log["step"]
    (tensor([1.5000, 0.5000], dtype=torch.float64), tensor([1., 2., 3.]))
    """
    options = _optim.Adam.check_options(
        {"lr": lr, "betas": betas, "eps": eps, "amsgrad": amsgrad}
    )
    name = "AMSGrad" if options["amsgrad"] else "Adam"
    return OptimRule(
        f"{name} (lr={options['lr']:g})", _optim.adam_update_,
        lambda x: _optim.adam_init(x, amsgrad=options["amsgrad"]),
        AMSGradState if options["amsgrad"] else AdamState, options,
    )
