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

from ._checks import check_int, check_real, check_type
from . import optim as _optim
from .landscapes import Landscape, Quadratic

__all__ = [
    "StepRule", "GD", "gd", "Backtracking", "backtracking",
    "HeavyBall", "heavy_ball", "HeavyBallTwoPoint", "heavy_ball_two_point",
    "Nesterov", "nesterov", "OptimRule", "adagrad", "rmsprop", "adadelta", "adam",
]


class StepRule:
    """Base class of step rules (see the module docstring for the protocol).

    ``init(x)`` takes the start point, shape ``(d,)``, and returns the state;
    ``step(f, x, state)`` returns the next point, shape ``(d,)``, and the next state.

    Example:
        >>> from mbgd.landscapes import robot_arm
        >>> rule, x = gd(0.1), torch.zeros(2, dtype=torch.float64)
        >>> x1, state = rule.step(robot_arm(), x, rule.init(x))  # grad f(0) = -b
        >>> [round(v, 4) for v in x1.tolist()], state.lr.item()
        ([1.2, -0.2], 0.1)
    """

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
    """State of :class:`GD`, returned by its ``init`` and ``step``.

    Attributes:
        lr: the step size used (constant for plain GD), scalar tensor.
    """

    lr: Tensor


class GD(StepRule):
    r"""Fixed-step gradient descent, :math:`x_{k+1} = x_k - \alpha\nabla f(x_k)`.

    On a function whose Hessian eigenvalues lie in ``[0, L]`` it is stable for
    :math:`0 < \alpha < 2/L`; with a negative eigenvalue no fixed step is
    (``stable_lr`` is then ``None``).

    Args:
        lr: step size :math:`\alpha > 0`.

    Example:
        >>> from mbgd.landscapes import quadratic
        >>> GD(0.1).stable_lr(quadratic((10.0, 1.0)))  # 2 / L with L = 10
        0.2
    """

    def __init__(self, lr: float):
        self.lr = check_real("lr", lr, low=0.0, bounds="(]")
        self.name = f"GD (lr={self.lr:g})"

    def init(self, x: Tensor) -> GDState:
        return GDState(lr=torch.tensor(self.lr, dtype=x.dtype, device=x.device))

    def step(self, f, x, state):
        return x - self.lr * f.grad(x), state

    def stable_lr(self, f):
        return 2.0 / f.smoothness if f.convex and f.smoothness else None


def gd(lr: float) -> GD:
    r"""Fixed-step gradient descent (see :class:`GD`).

    Example:
        One step is :math:`x - \alpha A x` on the bowl ``A = diag(10, 1)``; with
        :math:`\alpha = 1/10` the steep coordinate lands on 0 at once.

        >>> from mbgd.landscapes import quadratic
        >>> rule, x = gd(lr=0.1), torch.tensor([1.0, 1.0], dtype=torch.float64)
        >>> rule.step(quadratic((10.0, 1.0)), x, rule.init(x))[0].tolist()
        [0.0, 0.9]
    """
    return GD(lr)


class BacktrackingState(NamedTuple):
    """State of :class:`Backtracking`, returned by its ``init`` and ``step``.

    Attributes:
        lr: the step size accepted at this step, scalar tensor (0 after ``init``).
        trials: how many step sizes were tried (function evaluations), scalar
            tensor (0 after ``init``).
    """

    lr: Tensor
    trials: Tensor


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

    Example:
        On ``diag(10, 1)`` every accepted step is at least
        :math:`2\beta(1 - c)/L \approx 0.1`:

        >>> from mbgd.landscapes import quadratic
        >>> from mbgd.trajectory import run
        >>> path = run(Backtracking(), quadratic((10.0, 1.0)), (1.0, 1.0), steps=5)
        >>> path.log["lr"].tolist(), path.log["trials"].tolist()
        ([0.125, 0.125, 0.25, 0.25, 0.125], [4.0, 4.0, 3.0, 3.0, 4.0])
    """

    def __init__(self, lr0: float = 1.0, shrink: float = 0.5, c: float = 1e-4,
                 max_trials: int = 60):
        self.lr0 = check_real("lr0", lr0, low=0.0, bounds="(]")
        self.shrink = check_real("shrink", shrink, low=0.0, high=1.0, bounds="()")
        self.c = check_real("c", c, low=0.0, high=1.0, bounds="()")
        self.max_trials = check_int("max_trials", max_trials, low=1)
        self.name = f"backtracking (lr0={self.lr0:g}, shrink={self.shrink:g})"

    def init(self, x: Tensor) -> BacktrackingState:
        zero = torch.zeros((), dtype=x.dtype, device=x.device)
        return BacktrackingState(lr=zero, trials=zero)

    def step(self, f, x, state):
        # All candidate steps t0 * shrink**j are evaluated in one batch (fast in
        # torch); the accepted step is the first that passes, exactly as in the
        # sequential loop, and ``trials`` counts the evaluations that loop makes.
        g = f.grad(x)
        ts = self.lr0 * self.shrink ** torch.arange(self.max_trials, dtype=x.dtype,
                                                    device=x.device)
        ok = f.value(x - ts[:, None] * g) <= f.value(x) - self.c * ts * (g @ g)
        j = int(ok.to(torch.int8).argmax()) if bool(ok.any()) else self.max_trials - 1
        trials = torch.tensor(j + 1.0, dtype=x.dtype, device=x.device)
        return x - ts[j] * g, BacktrackingState(lr=ts[j], trials=trials)


def backtracking(lr0: float = 1.0, shrink: float = 0.5, c: float = 1e-4,
                 max_trials: int = 60) -> Backtracking:
    """Gradient descent with Armijo backtracking (see :class:`Backtracking`).

    Example:
        From ``(1, 1)`` on ``diag(10, 1)`` the trials ``t = 1, 1/2, 1/4`` fail the
        Armijo test and ``t = 1/8`` passes: the step is ``x - g / 8``, ``g = (10, 1)``.

        >>> from mbgd.landscapes import quadratic
        >>> rule, x = backtracking(), torch.tensor([1.0, 1.0], dtype=torch.float64)
        >>> x1, state = rule.step(quadratic((10.0, 1.0)), x, rule.init(x))
        >>> x1.tolist(), state.lr.item(), state.trials.item()
        ([-0.25, 0.875], 0.125, 4.0)
    """
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
    if not isinstance(f, Quadratic) or not f.convex or not f.smoothness:
        return None
    bound = 2.0 * (1.0 + momentum) / f.smoothness
    return bound / (1.0 + 2.0 * momentum) if look_ahead else bound


def _check_momentum(lr: float, momentum: float) -> tuple[float, float]:
    return (check_real("lr", lr, low=0.0, bounds="(]"),
            check_real("momentum", momentum, low=0.0, high=1.0, bounds="[)"))


class VelocityState(NamedTuple):
    """State of :class:`HeavyBall` and :class:`Nesterov`, returned by their ``init``
    (zeros) and ``step``.

    Attributes:
        velocity: :math:`v_k`, shape ``(d,)``.
    """

    velocity: Tensor


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
    r"""Heavy ball in velocity form (see :class:`HeavyBall`).

    Example:
        With velocity ``v = (1, 0)`` on ``diag(10, 1)`` at ``x = (1, 1)``:
        :math:`v' = \mu v - \alpha A x = (-0.5, -0.1)` and :math:`x' = x + v'`.

        >>> from mbgd.landscapes import quadratic
        >>> rule = heavy_ball(0.1, momentum=0.5)
        >>> x = torch.tensor([1.0, 1.0], dtype=torch.float64)
        >>> v = VelocityState(torch.tensor([1.0, 0.0], dtype=torch.float64))
        >>> x1, state = rule.step(quadratic((10.0, 1.0)), x, v)
        >>> x1.tolist(), state.velocity.tolist()
        ([0.5, 0.9], [-0.5, -0.1])
    """
    return HeavyBall(lr, momentum)


class PreviousState(NamedTuple):
    """State of :class:`HeavyBallTwoPoint`, returned by its ``init`` (a copy of
    ``x_0``) and ``step``.

    Attributes:
        previous: :math:`x_{k-1}`, shape ``(d,)``.
    """

    previous: Tensor


class HeavyBallTwoPoint(StepRule):
    r"""Polyak's heavy ball in the two-point form.

    .. math:: x_{k+1} = x_k - \alpha \nabla f(x_k) + \mu\,(x_k - x_{k-1}),
        \qquad x_{-1} = x_0.

    The same iterates as :class:`HeavyBall` (:math:`v_k = x_k - x_{k-1}`), up to
    rounding; same arguments and stable range.

    Example:
        >>> from mbgd.landscapes import quadratic
        >>> from mbgd.trajectory import iterate
        >>> f, x0 = quadratic((10.0, 1.0)), (1.0, 1.0)
        >>> torch.allclose(iterate(HeavyBallTwoPoint(0.1, 0.5), f, x0, 20),
        ...                iterate(HeavyBall(0.1, 0.5), f, x0, 20))
        True
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
    r"""Heavy ball in the two-point form (see :class:`HeavyBallTwoPoint`).

    Example:
        With :math:`x_{k-1} = (0, 1)`, :math:`x_k = (1, 1)` on ``diag(10, 1)``:
        :math:`x_k - \alpha A x_k + \mu (x_k - x_{k-1}) = (0.5, 0.9)`, the
        velocity-form step with ``v = (1, 0)`` (see :func:`heavy_ball`).

        >>> from mbgd.landscapes import quadratic
        >>> rule = heavy_ball_two_point(0.1, 0.5)
        >>> x = torch.tensor([1.0, 1.0], dtype=torch.float64)
        >>> prev = PreviousState(torch.tensor([0.0, 1.0], dtype=torch.float64))
        >>> rule.step(quadratic((10.0, 1.0)), x, prev)[0].tolist()
        [0.5, 0.9]
    """
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

    Example:
        The stable range is narrower than heavy ball's ``2 (1 + mu) / L = 0.3``:

        >>> from mbgd.landscapes import quadratic
        >>> round(Nesterov(0.1, momentum=0.5).stable_lr(quadratic((10.0, 1.0))), 4)
        0.15
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
    r"""Nesterov's look-ahead momentum (see :class:`Nesterov`).

    Example:
        With ``v = (1, 0)`` at ``x = (1, 1)`` on ``diag(10, 1)`` the gradient is
        taken at :math:`x + \mu v = (1.5, 1)`: :math:`v' = (0.5 - 1.5, -0.1)`.

        >>> from mbgd.landscapes import quadratic
        >>> rule, x = nesterov(0.1, 0.5), torch.tensor([1.0, 1.0], dtype=torch.float64)
        >>> v = VelocityState(torch.tensor([1.0, 0.0], dtype=torch.float64))
        >>> x1, state = rule.step(quadratic((10.0, 1.0)), x, v)
        >>> x1.tolist(), state.velocity.tolist()
        ([0.0, 0.9], [-1.0, -0.1])
    """
    return Nesterov(lr, momentum)


# The adaptive rules' states: fields named as torch.optim's state keys.
class AdagradState(NamedTuple):
    """State of the rule from :func:`adagrad`, returned by its ``init`` and ``step``.

    Attributes:
        step: steps taken, scalar tensor.
        sum: summed squared gradients, shape ``(d,)``.
    """

    step: Tensor
    sum: Tensor


class RMSpropState(NamedTuple):
    """State of the rule from :func:`rmsprop`, returned by its ``init`` and ``step``.

    Attributes:
        step: steps taken, scalar tensor.
        square_avg: running mean of squared gradients, shape ``(d,)``.
    """

    step: Tensor
    square_avg: Tensor


class AdadeltaState(NamedTuple):
    """State of the rule from :func:`adadelta`, returned by its ``init`` and ``step``.

    Attributes:
        step: steps taken, scalar tensor.
        square_avg: running mean of squared gradients, shape ``(d,)``.
        acc_delta: running mean of squared updates, shape ``(d,)``.
    """

    step: Tensor
    square_avg: Tensor
    acc_delta: Tensor


class AdamState(NamedTuple):
    """State of the rule from :func:`adam` (``amsgrad=False``), returned by its
    ``init`` and ``step``.

    Attributes:
        step: steps taken, scalar tensor.
        exp_avg: first moment :math:`m`, shape ``(d,)``.
        exp_avg_sq: second moment :math:`v`, shape ``(d,)``.
    """

    step: Tensor
    exp_avg: Tensor
    exp_avg_sq: Tensor


class AMSGradState(NamedTuple):
    """State of the rule from :func:`adam` with ``amsgrad=True``, returned by its
    ``init`` and ``step``.

    Attributes:
        step: steps taken, scalar tensor.
        exp_avg: first moment :math:`m`, shape ``(d,)``.
        exp_avg_sq: second moment :math:`v`, shape ``(d,)``.
        max_exp_avg_sq: running maximum of :math:`v`, shape ``(d,)``.
    """

    step: Tensor
    exp_avg: Tensor
    exp_avg_sq: Tensor
    max_exp_avg_sq: Tensor


class OptimRule(StepRule):
    r"""A step rule that runs one of :mod:`mbgd.optim`'s single-tensor updates.

    The optimizer class and the 2-D picture share one implementation of the
    update: :meth:`step` copies the point and the state and calls ``update``
    (the factories pass :func:`mbgd.optim.prepare_update` of, e.g.,
    :func:`mbgd.optim.adam_update_`, checked once) on the copies. The state is a
    ``NamedTuple`` whose fields are torch's state keys; its ``step`` count is
    logged by :func:`mbgd.trajectory.run`.

    Args:
        name: label for plots and messages.
        update: ``update(x, grad, state_dict, **options)``, in place.
        init: ``init(x) -> state_dict``.
        state_type: the ``NamedTuple`` class of the state.
        options: hyperparameters passed to ``update``.

    The factories :func:`adagrad`, :func:`rmsprop`, :func:`adadelta` and
    :func:`adam` build these rules.

    Example:
        >>> rule = adam(lr=0.5)
        >>> isinstance(rule, OptimRule), rule.init(torch.zeros(2))._fields
        (True, ('step', 'exp_avg', 'exp_avg_sq'))
    """

    def __init__(self, name: str, update: Callable[..., None],
                 init: Callable[[Tensor], dict[str, Tensor]], state_type: type,
                 options: dict):
        check_type("name", name, str, "a str")
        for arg, fn in (("update", update), ("init", init)):
            if not callable(fn):
                raise TypeError(f"{arg} must be callable; got {fn!r}")
        if not (isinstance(state_type, type) and issubclass(state_type, tuple)
                and hasattr(state_type, "_fields")):
            raise TypeError(
                f"state_type must be a NamedTuple class; got {state_type!r}")
        check_type("options", options, dict, "a dict of hyperparameters")
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
    return OptimRule(f"Adagrad (lr={options['lr']:g})",
                     _optim.prepare_update(_optim.adagrad_update_, options),
                     _optim.adagrad_init, AdagradState, options)


def rmsprop(lr: float, alpha: float = 0.99, eps: float = 1e-8) -> OptimRule:
    r"""RMSprop, the update of :class:`mbgd.optim.RMSprop` (no momentum, not
    centered): :math:`v_t = \alpha v_{t-1} + (1-\alpha) g_t^2,\ x_t = x_{t-1} -
    \eta\, g_t / (\sqrt{v_t} + \epsilon)`.

    Example:
        From :math:`v_0 = 0` the first step is :math:`\eta\,
        \mathrm{sign}(g) / \sqrt{1 - \alpha}`, here ``0.01 / 0.1 = 0.1`` per
        coordinate (robot arm: ``g = (-6, 6)`` at ``(1, 1)``).

        >>> from mbgd.landscapes import robot_arm
        >>> rule, x = rmsprop(lr=0.01), torch.tensor([1.0, 1.0], dtype=torch.float64)
        >>> x1, state = rule.step(robot_arm(), x, rule.init(x))
        >>> [round(v, 4) for v in x1.tolist()], state.square_avg  # (1 - alpha) g^2
        ([1.1, 0.9], tensor([0.3600, 0.3600], dtype=torch.float64))
    """
    options = _optim.RMSprop.check_options({"lr": lr, "alpha": alpha, "eps": eps})
    return OptimRule(
        f"RMSprop (lr={options['lr']:g}, alpha={options['alpha']:g})",
        _optim.prepare_update(_optim.rmsprop_update_, options), _optim.rmsprop_init,
        RMSpropState, options,
    )


def adadelta(rho: float = 0.9, eps: float = 1e-6, lr: float = 1.0) -> OptimRule:
    r"""Adadelta, the update of :class:`mbgd.optim.Adadelta` (see its formulas).

    Example:
        The first step is about :math:`\sqrt{\epsilon/(1 - \rho)}\,
        \mathrm{sign}(g) = 0.0032` per coordinate, whatever the gradient's size
        (robot arm: ``g = (-6, 6)`` at ``(1, 1)``).

        >>> from mbgd.landscapes import robot_arm
        >>> rule, x = adadelta(), torch.tensor([1.0, 1.0], dtype=torch.float64)
        >>> x1, state = rule.step(robot_arm(), x, rule.init(x))
        >>> [round(v, 4) for v in (x1 - x).tolist()]
        [0.0032, -0.0032]
    """
    options = _optim.Adadelta.check_options({"lr": lr, "rho": rho, "eps": eps})
    return OptimRule(
        f"Adadelta (rho={options['rho']:g}, eps={options['eps']:g})",
        _optim.prepare_update(_optim.adadelta_update_, options),
        _optim.adadelta_init, AdadeltaState, options,
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
        f"{name} (lr={options['lr']:g})",
        _optim.prepare_update(_optim.adam_update_, options),
        lambda x: _optim.adam_init(x, amsgrad=options["amsgrad"]),
        AMSGradState if options["amsgrad"] else AdamState, options,
    )
