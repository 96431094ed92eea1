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

from typing import NamedTuple

import torch
from torch import Tensor

from ._checks import check_int, check_real
from .landscapes import Landscape

__all__ = ["StepRule", "GD", "gd", "Backtracking", "backtracking"]


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
        g = f.grad(x)
        fx, gg = f.value(x), g @ g
        t = self.lr0
        for trial in range(1, self.max_trials + 1):
            x_new = x - t * g
            if f.value(x_new) <= fx - self.c * t * gg or trial == self.max_trials:
                break
            t *= self.shrink
        return x_new, BacktrackingState(
            lr=torch.tensor(t, dtype=x.dtype), trials=torch.tensor(float(trial))
        )


def backtracking(lr0: float = 1.0, shrink: float = 0.5, c: float = 1e-4,
                 max_trials: int = 60) -> Backtracking:
    """Gradient descent with Armijo backtracking (see :class:`Backtracking`)."""
    return Backtracking(lr0, shrink, c, max_trials)
