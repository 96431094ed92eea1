r"""Running a step rule on a landscape: the trajectory runner.

:func:`run` applies a :mod:`mbgd.steps` rule to a :mod:`mbgd.landscapes` function
from a start point for a number of steps and returns a :class:`Trajectory`. It is
pure (the same arguments give the same result) and never plots.

>>> from mbgd.landscapes import robot_arm
>>> from mbgd.steps import gd
>>> path = run(gd(0.1), robot_arm(), (1.0, 1.0), steps=200)
>>> path.points.shape, [round(v, 4) for v in path.points[-1].tolist()]
(torch.Size([201, 2]), [7.0, -8.0])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ._checks import check_choice, check_int, check_real, check_type
from .landscapes import DTYPE, Landscape
from .steps import StepRule

__all__ = ["Trajectory", "DivergenceError", "run", "iterate"]

CHECK_EVERY = 32


class DivergenceError(FloatingPointError):
    """Raised by :func:`run` when a run reaches a NaN or infinite value.

    The message names the step and, when the rule knows it, the stable range.

    Example:
        >>> from mbgd.landscapes import robot_arm
        >>> from mbgd.steps import gd
        >>> try:
        ...     run(gd(1.0), robot_arm(), (1.0, 1.0), steps=1000)
        ... except DivergenceError as err:
        ...     print(err)  # doctest: +NORMALIZE_WHITESPACE
        GD (lr=1) diverged on 'robot arm' at step 246: f = inf.
        On this landscape the rule is stable for lr < 0.381966.
    """


@dataclass(frozen=True)
class Trajectory:
    """The path of one run, returned by :func:`run`.

    Attributes:
        points: iterates :math:`x_0, \\dots, x_K`, shape ``(K + 1, d)``, float64.
        values: :math:`f(x_k)`, shape ``(K + 1,)``.
        grad_norms: :math:`\\lVert\\nabla f(x_k)\\rVert`, shape ``(K + 1,)``.
        log: per-step scalars from the rule's state (e.g. ``"lr"``), each ``(K,)``.
        rule: the rule's name; landscape: the landscape's name.
        diverged_at: first step with a non-finite value, or ``None``.
    """

    points: Tensor
    values: Tensor
    grad_norms: Tensor
    log: dict[str, Tensor] = field(default_factory=dict)
    rule: str = ""
    landscape: str = ""
    diverged_at: int | None = None

    @property
    def steps(self) -> int:
        """Number of steps actually taken, ``K``."""
        return self.points.shape[0] - 1

    def __repr__(self) -> str:
        """One line: the rule, the landscape, the steps and where the path ends.

        >>> from mbgd.landscapes import robot_arm
        >>> from mbgd.steps import gd
        >>> run(gd(0.1), robot_arm(), (1.0, 1.0), steps=200)
        <Trajectory: GD (lr=0.1) on 'robot arm', 200 steps, ends at [7.0, -8.0] \
with f = -31>
        """
        end = [round(v, 4) for v in self.points[-1].tolist()]
        text = (f"<Trajectory: {self.rule} on {self.landscape!r}, {self.steps} "
                f"steps, ends at {end} with f = {self.values[-1].item():.6g}")
        if self.diverged_at is not None:
            text += f", diverged at step {self.diverged_at}"
        return text + ">"

    def distance_to(self, point: Tensor | Sequence[float]) -> Tensor:
        """Euclidean distance of every iterate to ``point``, shape ``(K + 1,)``.

        ``point`` is ``d`` finite numbers (a sequence or a tensor of shape ``(d,)``).

        Example:
            >>> from mbgd.landscapes import robot_arm
            >>> from mbgd.steps import gd
            >>> path = run(gd(0.1), robot_arm(), (7.0, -5.0), steps=2)
            >>> [round(v, 4) for v in path.distance_to((7.0, -8.0)).tolist()]
            [3.0, 2.4739, 2.2062]
        """
        p = _as_point("point", point, self.points.shape[-1], self.landscape)
        return torch.linalg.vector_norm(self.points - p.to(self.points.device), dim=-1)


def run(rule: StepRule, f: Landscape, x0: Tensor | Sequence[float], steps: int,
        *, target: float | None = None, on_divergence: str = "raise") -> Trajectory:
    """Iterate ``rule`` on ``f`` from ``x0`` for ``steps`` steps.

    Args:
        rule: a step rule from :mod:`mbgd.steps`.
        f: a landscape from :mod:`mbgd.landscapes`.
        x0: start point, ``d`` finite numbers (a sequence or a tensor of shape
            ``(d,)``; converted to float64 and detached from any autograd graph).
        steps: the most steps to take, ``>= 0``.
        target: stop early at the first iterate with ``f(x_k) <= target``
            (``None``: always take ``steps`` steps).
        on_divergence: ``"raise"`` raises :class:`DivergenceError` at the first
            non-finite value, naming the step and the stable range when known;
            ``"stop"`` returns the path up to that step with ``diverged_at`` set;
            ``"ignore"`` takes every step regardless (``diverged_at`` still set).

    Returns:
        A :class:`Trajectory` with ``steps + 1`` points (fewer if it stopped early),
        ``points`` of shape ``(K + 1, d)``.

    Example:
        Stop as soon as the value is within ``1e-8`` of the minimum ``-31``:

        >>> from mbgd.landscapes import robot_arm
        >>> from mbgd.steps import gd
        >>> path = run(gd(0.1), robot_arm(), (1.0, 1.0), steps=500, target=-31 + 1e-8)
        >>> path.steps, path.points.shape, path.log["lr"].shape
        (140, torch.Size([141, 2]), torch.Size([140]))
    """
    check_type("rule", rule, StepRule, "a step rule from mbgd.steps")
    check_type("f", f, Landscape, "a landscape from mbgd.landscapes")
    steps = check_int("steps", steps, low=0)
    check_choice("on_divergence", on_divergence, ("raise", "stop", "ignore"))
    if target is not None:
        target = check_real("target", target)
    x = _as_point("x0", x0, f.dim, f.name).to(f.device)
    state = rule.init(x)
    points, logs = [x], []
    # Evaluating f costs as much as a step, so finiteness is checked only every
    # CHECK_EVERY steps (and at every step when a target is set); the first
    # non-finite step is then located exactly from the stored points.
    for k in range(1, steps + 1):
        x, state = rule.step(f, x, state)
        points.append(x)
        logs.append(state)
        if target is None and (k % CHECK_EVERY and k != steps):
            continue
        fx = float(f.value(x))
        if on_divergence != "ignore" and not math.isfinite(fx):
            break
        if target is not None and fx <= target:
            break
    pts = torch.stack(points)
    values = f.value(pts)
    diverged_at = None
    bad = ~torch.isfinite(values)
    if bool(bad.any()):
        diverged_at = int(bad.to(torch.int8).argmax())
        if on_divergence == "raise":
            raise DivergenceError(
                _divergence_message(rule, f, diverged_at, values[diverged_at]))
        if on_divergence == "stop":
            pts, values = pts[: diverged_at + 1], values[: diverged_at + 1]
            logs = logs[:diverged_at]
    log = {}
    if logs:
        for name, first in logs[0]._asdict().items():
            if first.ndim == 0:
                log[name] = torch.stack([getattr(s, name) for s in logs])
    return Trajectory(points=pts, values=values,
                      grad_norms=torch.linalg.vector_norm(f.grad(pts), dim=-1),
                      log=log, rule=rule.name, landscape=f.name,
                      diverged_at=diverged_at)


def _as_point(name: str, value, dim: int, landscape: str) -> Tensor:
    """``value`` as a new float64 tensor of shape ``(dim,)`` with finite entries."""
    rule = f"{dim} real numbers (a sequence or a tensor)"
    if isinstance(value, (str, bytes)) or (
            isinstance(value, Tensor) and value.is_complex()):
        raise TypeError(f"{name} must be {rule}; got {value!r}")
    try:
        x = torch.as_tensor(value, dtype=DTYPE)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"{name} must be {rule}; got {value!r}") from exc
    if x.shape != (dim,):
        raise ValueError(
            f"{name} must have {dim} entries for landscape {landscape!r}; "
            f"got shape {tuple(x.shape)}"
        )
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} must have finite entries; got {x.tolist()!r}")
    return x.detach().clone()


def _divergence_message(rule: StepRule, f: Landscape, k: int, value: Tensor) -> str:
    last = value.item()
    msg = f"{rule.name} diverged on {f.name!r} at step {k}: f = {last}"
    if math.isfinite(last):
        msg += " (the iterate is no longer finite)"
    stable = rule.stable_lr(f)
    if stable is not None:
        msg += f". On this landscape the rule is stable for lr < {stable:.6g}"
    return msg + "."


def iterate(rule: StepRule, f: Landscape, x0: Tensor | Sequence[float],
            steps: int) -> Tensor:
    """Only the iterates of :func:`run`, taking every step even past overflow.

    Returns the points, shape ``(steps + 1, d)``, float64 (non-finite after a
    divergence): the same as ``run(..., on_divergence="ignore").points``.

    >>> from mbgd.landscapes import robot_arm
    >>> from mbgd.steps import gd
    >>> iterate(gd(0.1), robot_arm(), (1.0, 1.0), 1)[-1]
    tensor([1.6000, 0.4000], dtype=torch.float64)
    """
    return run(rule, f, x0, steps, on_divergence="ignore").points
