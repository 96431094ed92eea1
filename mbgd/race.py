r"""Adaptive step sizes: the experiments of the chapter and the optimizer race.

The chapter on Adagrad, RMSprop, Adadelta and Adam checks every formula against a
simulation. The simulations live here, as pure functions of their arguments and
``seed`` that return small dataclasses of tensors:

* :func:`replay` feeds a fixed sequence of gradients to one of
  :mod:`mbgd.optim`'s functional updates (an *open-loop* run: the gradient does
  not depend on the point, as for a linear loss). Step sizes, state entries and
  bias corrections are then exact functions of the sequence (A3-A6).
  :func:`simulate_parabola` runs the same updates on :math:`\tfrac12\lambda x^2`,
  where the gradient does depend on the point (A6).
* :func:`simulate_sparse`: online least squares with one rare feature, Adagrad
  against SGD (A3).
* :func:`steps_to_reach` and :func:`circle_starts`: iterations to a tolerance
  from many starts at once, for diagonal and rotated quadratics (A6).
* :func:`reddi_gradients`, :func:`simulate_reddi` and :func:`reddi_drift`: the
  online problem of Reddi, Kale and Kumar (2018) on which Adam does not converge
  and AMSGrad does (A7).
* :func:`least_squares`, :func:`sweep_lrs`: a learning-rate sweep with the same
  mini-batches for every rate; :func:`simulate_interpolation`: which interpolating
  solution gradient descent and Adam reach from zero (A8).
* The optimizer race (:func:`simulate_race`, :class:`RaceView`,
  :func:`plot_race`, :func:`race_explorer`, :func:`explore_race`,
  :func:`standin_race`): gradient descent, heavy ball and Adam from the same start
  on a chosen landscape, each with its own learning rate.

Book: ``chapters/adaptive/02_adaptive_methods`` (A3-A8).

>>> r = replay("adagrad", torch.ones(4, dtype=torch.float64), lr=1.0)
>>> [round(-v, 4) for v in r.moves.tolist()]  # lr / sqrt(k)
[1.0, 0.7071, 0.5774, 0.5]
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from . import optim
from ._checks import (check_bool, check_choice, check_int, check_real, check_reals,
                      check_type)
from .device import resolve_device
from .explore import Control, Explorer
from .landscapes import DTYPE, Landscape, get_landscape
from .plotting import new_axes, plot_landscape
from .seeding import SeedLike, as_generator
from .steps import StepRule, heavy_ball
from .steps import adam as adam_rule
from .steps import gd as gd_rule
from .trajectory import run

__all__ = [
    "UPDATES",
    "Replay",
    "replay",
    "simulate_parabola",
    "SparseRun",
    "simulate_sparse",
    "circle_starts",
    "steps_to_reach",
    "reddi_gradients",
    "OnlineRun",
    "simulate_reddi",
    "reddi_drift",
    "LeastSquares",
    "least_squares",
    "Sweep",
    "sweep_lrs",
    "Interpolation",
    "simulate_interpolation",
    "RACE",
    "RaceResult",
    "simulate_race",
    "RaceView",
    "plot_race",
    "race_explorer",
    "explore_race",
    "standin_race",
]

State = dict[str, Tensor]

#: name -> (optimizer class, its functional update, its fresh state).
UPDATES: dict[str, tuple[type, Callable[..., None], Callable[..., State]]] = {
    "sgd": (optim.SGD, optim.sgd_update_, lambda x, o: {}),
    "adagrad": (optim.Adagrad, optim.adagrad_update_, lambda x, o: optim.adagrad_init(
        x, initial_accumulator_value=o.get("initial_accumulator_value", 0.0))),
    "rmsprop": (optim.RMSprop, optim.rmsprop_update_, lambda x, o: optim.rmsprop_init(
        x, momentum=o.get("momentum", 0.0), centered=o.get("centered", False))),
    "adadelta": (optim.Adadelta, optim.adadelta_update_,
                 lambda x, o: optim.adadelta_init(x)),
    "adam": (optim.Adam, optim.adam_update_, lambda x, o: optim.adam_init(
        x, amsgrad=o.get("amsgrad", False))),
}


def _options(optimizer: str, options: dict) -> dict:
    """Check an optimizer's name and hyperparameters (names and ranges)."""
    check_choice("optimizer", optimizer, tuple(UPDATES))
    cls, update, _ = UPDATES[optimizer]
    known = [p for p in inspect.signature(update).parameters
             if p not in ("param", "grad", "state")]
    if optimizer == "adagrad":
        known.append("initial_accumulator_value")
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise TypeError(
            f"options must be among {known!r} for {optimizer!r}; got {unknown!r}"
        )
    return cls.check_options(dict(options))


def _fresh(optimizer: str, x: Tensor, options: dict) -> tuple[Callable, State]:
    """``update(x, grad, state)`` with the options bound (checked once, see
    :func:`mbgd.optim.prepare_update`) and a fresh state for ``x``."""
    _, update, init = UPDATES[optimizer]
    step_options = {k: v for k, v in options.items()
                    if k != "initial_accumulator_value"}
    return optim.prepare_update(update, step_options), init(x, options)


# --- replays: a fixed gradient sequence, or the parabola ---------------------------


@dataclass(frozen=True)
class Replay:
    """The points and states of an optimizer fed a fixed gradient sequence.

    Returned by :func:`replay` and :func:`simulate_parabola`.

    Attributes:
        optimizer: its name in :data:`UPDATES`; options: its hyperparameters
            (a ``dict``).
        points: :math:`x_0, \\dots, x_T`, shape ``(T + 1, *shape)``.
        grads: the gradients fed, :math:`g_1, \\dots, g_T`, shape ``(T, *shape)``.
        state: every state entry of the shape of ``x`` after each step (torch's
            names: ``sum``, ``square_avg``, ``acc_delta``, ``exp_avg``, ...),
            each of shape ``(T, *shape)``.
    """

    optimizer: str
    options: dict
    points: Tensor
    grads: Tensor
    state: dict[str, Tensor]

    @property
    def moves(self) -> Tensor:
        """The displacements :math:`x_t - x_{t-1}`, shape ``(T, *shape)``."""
        return self.points.diff(dim=0)


def replay(optimizer: str, grads: Tensor, *, x0: float = 0.0, **options) -> Replay:
    r"""Feed the gradients :math:`g_1, \dots, g_T` to an optimizer's update.

    Step :math:`t` calls the functional update of :mod:`mbgd.optim` (the code
    that :class:`mbgd.optim.Adam` and the others run) with gradient
    :math:`g_t`, whatever the point: this is exactly the run on the linear
    losses :math:`f_t(x) = g_t^\top x`, and it isolates how an optimizer turns
    gradients into steps. Every coordinate (and every batch entry) evolves on
    its own, because all the updates are coordinate-wise.

    Args:
        optimizer: ``"sgd"``, ``"adagrad"``, ``"rmsprop"``, ``"adadelta"`` or
            ``"adam"``.
        grads: the gradients, a floating-point tensor of finite numbers of shape
            ``(T, *shape)`` with ``T >= 1``; the result lives on its device and
            dtype.
        x0: the start (every coordinate), a real number.
        **options: hyperparameters with torch's names (``lr``, ``betas``,
            ``alpha``, ``rho``, ``eps``, ``amsgrad``, ...), checked as the
            optimizer class checks them; defaults are the class's.

    Returns:
        A :class:`Replay`.

    >>> r = replay("adam", torch.full((3,), 5.0, dtype=torch.float64), lr=0.1)
    >>> r.points  # the first steps of Adam have size lr for any gradient scale
    tensor([ 0.0000, -0.1000, -0.2000, -0.3000], dtype=torch.float64)
    """
    options = _options(optimizer, options)
    check_type("grads", grads, Tensor, "a torch.Tensor")
    if grads.ndim < 1 or grads.shape[0] < 1 or not grads.is_floating_point():
        raise ValueError(
            "grads must be a floating-point tensor of shape (T, ...) with T >= 1; "
            f"got shape {tuple(grads.shape)} and dtype {grads.dtype}"
        )
    bad = int((~torch.isfinite(grads)).sum())
    if bad:
        raise ValueError(f"grads must hold finite numbers only; got {bad} nan or inf "
                         f"value(s) of {grads.numel()}")
    x0 = check_real("x0", x0)
    x = torch.full(grads.shape[1:], x0, dtype=grads.dtype, device=grads.device)
    return _record(optimizer, options, x, grads.shape[0], lambda x, t: grads[t])


def simulate_parabola(optimizer: str, steps: int, *, x0: float = 1.0,
                      curvature: float = 1.0, **options) -> Replay:
    r"""An optimizer on the 1-D parabola :math:`f(x) = \tfrac12 \lambda x^2`.

    Unlike :func:`replay`, the gradient :math:`g_t = \lambda x_{t-1}` depends
    on the point (a *closed-loop* run). Newton's method would reach the minimum 0
    in one step, :math:`x_1 = x_0 - f'(x_0)/f''(x_0) = 0`, for every
    :math:`\lambda`.

    Args:
        optimizer: a name in :data:`UPDATES`.
        steps: ``T >= 1``.
        x0: the start, a real number; curvature: :math:`\lambda > 0`.
        **options: the optimizer's hyperparameters (torch's names).

    Returns:
        A :class:`Replay` with points of shape ``(T + 1,)``, the gradients met
        and the states, float64 on the CPU.

    >>> simulate_parabola("adam", 3, lr=0.25, betas=(0.0, 0.0)).points
    tensor([1.0000, 0.7500, 0.5000, 0.2500], dtype=torch.float64)
    """
    options = _options(optimizer, options)
    steps = check_int("steps", steps, low=1)
    curvature = check_real("curvature", curvature, low=0.0, bounds="(]")
    x = torch.tensor(check_real("x0", x0), dtype=DTYPE)
    return _record(optimizer, options, x, steps, lambda x, t: curvature * x)


def _record(optimizer: str, options: dict, x: Tensor, steps: int,
            grad: Callable[[Tensor, int], Tensor]) -> Replay:
    """Run ``steps`` updates from ``x`` (changed in place), with the gradient
    ``grad(x, t)`` at step ``t = 0, 1, ...``, recording points and states."""
    update, state = _fresh(optimizer, x, options)
    points, grads, states = [x.clone()], [], []
    for t in range(steps):
        g = grad(x, t)
        update(x, g, state)
        points.append(x.clone())
        grads.append(g)
        states.append({k: v.clone() for k, v in state.items()
                       if v.shape == x.shape and k != "step"})
    return Replay(optimizer, options, torch.stack(points), torch.stack(grads),
                  {k: torch.stack([s[k] for s in states]) for k in states[-1]})


# --- A3: a rare feature -----------------------------------------------------------


@dataclass(frozen=True)
class SparseRun:
    """Online least squares with a frequent and a rare feature (many runs).

    Returned by :func:`simulate_sparse` (tensors on the CPU).

    Attributes:
        optimizer, lr: the method (``"sgd"`` or ``"adagrad"``) and its rate.
        p: how often the rare feature is non-zero; noise: the label noise
            (floats).
        error: :math:`w_{k,i} - w^\\star_i` averaged over the runs, for the
            frequent (``i = 0``) and the rare (``i = 1``) weight, shape
            ``(T + 1, 2)``.
        sq_error: :math:`(w_{k,i} - w^\\star_i)^2` averaged over the runs, for
            the frequent (``i = 0``) and the rare (``i = 1``) weight, shape
            ``(T + 1, 2)``.
        grad_sq_sum: :math:`\\sum_k g_{k,i}^2` per run, shape ``(runs, 2)``
            (Adagrad's accumulator ``sum``, also recorded for SGD).
        active: the steps at which the rare feature was non-zero, per run,
            shape ``(runs,)``.
    """

    optimizer: str
    lr: float
    p: float
    noise: float
    error: Tensor
    sq_error: Tensor
    grad_sq_sum: Tensor
    active: Tensor


def simulate_sparse(optimizer: str = "adagrad", lr: float = 0.3, *, p: float = 0.05,
                    noise: float = 0.5, steps: int = 2000, runs: int = 256,
                    seed: SeedLike = 0, device=None) -> SparseRun:
    r"""Online least squares, one example per step, with one rare feature.

    Each example has features :math:`x_1 \sim N(0, 1)` (always present) and
    :math:`x_2 = z\,b` with :math:`z \sim N(0, 1)`, :math:`b \sim
    \text{Bernoulli}(p)` (rarely non-zero), label :math:`y = x^\top w^\star +
    \sigma\xi` with :math:`w^\star = (1, 1)`; the loss is
    :math:`\tfrac12 (x^\top w - y)^2` and :math:`w_0 = 0`. ``runs`` independent
    runs go side by side (a batch dimension); the data depend only on ``seed``,
    so SGD and Adagrad see the same examples.

    For SGD, :math:`E[w_{k+1} - w^\star] = (I - \alpha\,\mathrm{diag}(1, p))
    E[w_k - w^\star]`: the rare weight learns :math:`p` times slower. Adagrad
    divides by :math:`\sqrt{\sum g_i^2}`; when the label noise dominates the
    gradients, :math:`E[g_i^2] \approx \sigma^2 E[x_i^2]`, so in the long run its
    rate on the rare weight is :math:`1/\sqrt p` times the frequent one's.

    Args:
        optimizer: ``"sgd"`` or ``"adagrad"``.
        lr: learning rate, ``> 0``.
        p: frequency of the rare feature, in ``(0, 1]``.
        noise: label noise :math:`\sigma \ge 0`.
        steps: examples per run, ``>= 1``; runs: ``>= 1``.
        seed: int, ``torch.Generator`` or ``None`` (the data are drawn on the CPU).
        device: where the runs compute (default :func:`mbgd.device.default_device`).

    Returns:
        A :class:`SparseRun`.

    >>> sgd = simulate_sparse("sgd", 0.1, steps=200, runs=64, device="cpu")
    >>> bool(sgd.sq_error[-1, 0] < sgd.sq_error[-1, 1])  # rare weight lags
    True
    """
    check_choice("optimizer", optimizer, ("sgd", "adagrad"))
    lr = check_real("lr", lr, low=0.0, bounds="(]")
    p = check_real("p", p, low=0.0, high=1.0, bounds="(]")
    noise = check_real("noise", noise, low=0.0)
    steps = check_int("steps", steps, low=1)
    runs = check_int("runs", runs, low=1)
    device = resolve_device(device)
    gen = as_generator(seed)
    x = torch.randn(steps, runs, 2, generator=gen, dtype=DTYPE)
    on = torch.rand(steps, runs, generator=gen, dtype=DTYPE) < p
    x[..., 1] *= on
    xi = noise * torch.randn(steps, runs, generator=gen, dtype=DTYPE)
    x, xi = x.to(device), xi.to(device)
    w = torch.zeros(runs, 2, dtype=DTYPE, device=device)
    update, state = _fresh(optimizer, w, {"lr": lr})
    mean = torch.empty(steps + 1, 2, dtype=DTYPE, device=device)
    sq = torch.empty_like(mean)
    mean[0], sq[0] = -1.0, 1.0  # w_0 - w* with w* = (1, 1)
    total = torch.zeros_like(w)
    for k in range(steps):
        residual = ((w - 1.0) * x[k]).sum(-1) - xi[k]  # x.w - y, shape (runs,)
        g = residual[:, None] * x[k]
        total += g * g
        update(w, g, state)
        mean[k + 1] = (w - 1.0).mean(0)
        sq[k + 1] = ((w - 1.0) ** 2).mean(0)
    return SparseRun(optimizer, lr, p, noise, mean.cpu(), sq.cpu(), total.cpu(),
                     on.sum(0).cpu())


# --- A6: iterations to a tolerance, many starts at once ---------------------------


def circle_starts(n: int = 8, radius: float = 1.0,
                  center: Sequence[float] = (0.0, 0.0), *, device=None) -> Tensor:
    r"""``n`` points at distance ``radius`` from ``center``, evenly spread.

    The angles are :math:`2\pi (j + \tfrac12)/n`, so no point lies on an axis.

    Args:
        n: number of points, ``>= 1``; radius: ``> 0``; center: 2 finite
            numbers; device: where the result goes (default: the default device).

    Returns:
        Tensor of shape ``(n, 2)``, float64.

    >>> circle_starts(4, 2.0)[0]
    tensor([1.4142, 1.4142], dtype=torch.float64)
    """
    n = check_int("n", n, low=1)
    radius = check_real("radius", radius, low=0.0, bounds="(]")
    m = check_reals("center", center, "2 finite numbers", device="cpu",
                    finite=True)
    if m.shape != (2,):
        raise ValueError(f"center must be 2 finite numbers; got shape "
                         f"{tuple(m.shape)}")
    device = resolve_device(device)
    angles = 2 * math.pi * (torch.arange(n, dtype=DTYPE) + 0.5) / n
    points = torch.stack([angles.cos(), angles.sin()], -1) * radius
    return (points + m).to(device)


def steps_to_reach(rule: StepRule, f: Landscape, starts: Tensor, tol: float,
                   max_steps: int = 5000) -> Tensor:
    r"""For each start, the first step :math:`k` with
    :math:`\lVert x_k - x^\star \rVert \le \text{tol}`.

    All starts run at once (the step rules of :mod:`mbgd.steps` act on a batch
    of points; the adaptive ones coordinate-wise, with one step counter), and
    the loop stops when every start has arrived or after ``max_steps``.

    Args:
        rule: a step rule from :mod:`mbgd.steps`.
        f: a landscape with a known ``minimizer``.
        starts: finite, shape ``(n, f.dim)``, on the device of the landscape
            (the CPU for :mod:`mbgd.landscapes`).
        tol: distance tolerance, ``> 0``.
        max_steps: ``>= 1``.

    Returns:
        float64 tensor of shape ``(n,)``: the step counts (``inf`` for a start
        that did not arrive), on the device of ``starts``.

    >>> from mbgd.landscapes import quadratic
    >>> from mbgd.steps import gd
    >>> steps_to_reach(gd(0.5), quadratic((1.0, 1.0)), circle_starts(2), 0.1)
    tensor([4., 4.], dtype=torch.float64)
    """
    check_type("rule", rule, StepRule, "a step rule from mbgd.steps")
    check_type("f", f, Landscape, "a landscape from mbgd.landscapes")
    if f.minimizer is None:
        raise ValueError(f"f must have a known minimizer; got {f.name!r}")
    check_type("starts", starts, Tensor, "a torch.Tensor")
    if starts.ndim != 2 or starts.shape[1] != f.dim:
        raise ValueError(f"starts must have shape (n, {f.dim}); got shape "
                         f"{tuple(starts.shape)}")
    if not bool(torch.isfinite(starts).all()):
        raise ValueError(f"starts must hold finite numbers only; got "
                         f"{int((~torch.isfinite(starts)).sum())} nan or inf value(s)")
    tol = check_real("tol", tol, low=0.0, bounds="(]")
    max_steps = check_int("max_steps", max_steps, low=1)
    x = starts.to(DTYPE)
    target = f.minimizer.to(x.device)
    arrived = torch.full((x.shape[0],), math.inf, dtype=DTYPE, device=x.device)
    arrived[torch.linalg.vector_norm(x - target, dim=-1) <= tol] = 0
    state = rule.init(x)
    for k in range(1, max_steps + 1):
        if bool(torch.isfinite(arrived).all()):
            break
        x, state = rule.step(f, x, state)
        near = torch.linalg.vector_norm(x - target, dim=-1) <= tol
        arrived[near & torch.isinf(arrived)] = k
    return arrived


# --- A7: Reddi, Kale and Kumar's counterexample -----------------------------------


def reddi_gradients(C: float = 3.0, steps: int = 300, *, scale: float = 1.0,
                    device=None) -> Tensor:
    r"""The gradients of :math:`f_t(x) = C x` for :math:`t \equiv 1 \pmod 3`,
    :math:`-x` otherwise (:math:`t = 1, 2, \dots`), times ``scale``.

    Args:
        C: the large gradient, ``> 2`` (then the sum over a period,
            :math:`C - 2`, is positive and :math:`x = -1` is the best point of
            :math:`[-1, 1]`).
        steps: ``T >= 1``.
        scale: multiplies every gradient, ``> 0``.
        device: where the tensor goes (default: the default device).

    Returns:
        float64 tensor of shape ``(T,)``.

    >>> reddi_gradients(3.0, 5, device="cpu")
    tensor([ 3., -1., -1.,  3., -1.], dtype=torch.float64)
    """
    C = check_real("C", C, low=2.0, bounds="(]")
    steps = check_int("steps", steps, low=1)
    scale = check_real("scale", scale, low=0.0, bounds="(]")
    device = resolve_device(device)
    t = torch.arange(1, steps + 1)
    g = torch.where(t % 3 == 1, C, -1.0).to(DTYPE) * scale
    return g.to(device)


@dataclass(frozen=True)
class OnlineRun:
    """A run of Adam (or AMSGrad) on :func:`reddi_gradients`, projected on
    ``[-1, 1]``.

    Returned by :func:`simulate_reddi` (tensors float64, on the CPU).

    Attributes:
        C, scale, lr, beta2: the problem and the hyperparameters, floats
            (:math:`\\beta_1 = 0`); amsgrad: a ``bool``.
        points: :math:`x_1, \\dots, x_{T+1}` (:math:`x_t` is where :math:`f_t` is
            evaluated), shape ``(T + 1,)``.
        regret: :math:`R_t = \\sum_{s \\le t} f_s(x_s) - \\min_{x \\in [-1, 1]}
            \\sum_{s \\le t} f_s(x)` for :math:`t = 1, \\dots, T`, shape ``(T,)``.
    """

    C: float
    scale: float
    lr: float
    beta2: float
    amsgrad: bool
    points: Tensor
    regret: Tensor

    @property
    def average_regret(self) -> Tensor:
        """:math:`R_t / t`, shape ``(T,)``."""
        return self.regret / torch.arange(1, self.regret.numel() + 1, dtype=DTYPE)


def simulate_reddi(C: float = 3.0, steps: int = 3000, lr: float = 0.5,
                   amsgrad: bool = False, *, scale: float = 1.0, x0: float = 0.0,
                   eps: float = 1e-8) -> OnlineRun:
    r"""Adam or AMSGrad on Reddi et al.'s online problem (ICLR 2018, Theorem 1).

    The losses are :math:`f_t(x) = g_t x` with :math:`g_t` from
    :func:`reddi_gradients`, on :math:`x \in [-1, 1]`. The optimizer is
    :func:`mbgd.optim.adam_update_` (torch's Adam, with bias correction, or its
    AMSGrad) with :math:`\beta_1 = 0`, :math:`\beta_2 = 1/(1 + C^2)` and the
    step size :math:`\alpha_t = \text{lr}/\sqrt t`, each step followed by the
    projection (clipping) on :math:`[-1, 1]`. The paper's Adam has no bias
    correction and no :math:`\epsilon`; with :math:`\beta_1 = 0` and
    :math:`\beta_2^t \to 0` both differences vanish after a few steps.

    Args:
        C: ``> 2``; scale: multiplies every gradient (Adam is blind to it, up to
            ``eps``).
        steps: ``T >= 1``; lr: ``> 0`` (the paper takes it below
            :math:`\sqrt{1 - \beta_2}`).
        amsgrad: use the running maximum of the second moment.
        x0: the start in ``[-1, 1]``; eps: Adam's :math:`\epsilon \ge 0`.

    Returns:
        An :class:`OnlineRun` (on the CPU).

    >>> run = simulate_reddi(3.0, 600)
    >>> round(run.points[-1].item(), 3), round(run.beta2, 3)
    (1.0, 0.1)
    """
    g = reddi_gradients(C, steps, scale=scale, device="cpu")
    lr = check_real("lr", lr, low=0.0, bounds="(]")
    amsgrad = check_bool("amsgrad", amsgrad)
    x0 = check_real("x0", x0, low=-1.0, high=1.0)
    beta2 = 1.0 / (1.0 + C * C)
    options = _options("adam", {"betas": (0.0, beta2), "eps": eps,
                                "amsgrad": amsgrad})
    x = torch.tensor([x0], dtype=DTYPE)
    update, state = _fresh("adam", x, {**options, "lr": lr})
    points = [x0]
    for t in range(1, steps + 1):
        update(x, g[t - 1:t], state, lr=lr / math.sqrt(t))
        x.clamp_(-1.0, 1.0)
        points.append(x.item())
    pts = torch.tensor(points, dtype=DTYPE)
    regret = (g * pts[:-1]).cumsum(0) + g.cumsum(0).abs()
    return OnlineRun(float(C), float(scale), lr, beta2, amsgrad, pts, regret)


def reddi_drift(C: float = 3.0, amsgrad: bool = False) -> float:
    r"""Predicted displacement per period of 3 steps, in units of the step size,
    of Adam (:math:`\beta_1 = 0`, :math:`\beta_2 = 1/(1+C^2)`, constant step
    size, no projection) on :func:`reddi_gradients`; ``> 0`` means towards
    :math:`+1`, the wrong end.

    Once :math:`\beta_2^t` is negligible the second moment is periodic:
    :math:`v_1 = \beta_2 v_3 + (1-\beta_2) C^2`, :math:`v_2 = \beta_2 v_1 +
    (1-\beta_2)`, :math:`v_3 = \beta_2 v_2 + (1-\beta_2)`, so
    :math:`v_3 = (1-\beta_2)(\beta_2^2 C^2 + \beta_2 + 1)/(1-\beta_2^3)`, and a
    period moves :math:`x` by :math:`1/\sqrt{v_2} + 1/\sqrt{v_3} - C/\sqrt{v_1}`
    (Adam) or :math:`(2 - C)/\sqrt{v_1}` (AMSGrad: the maximum :math:`v_1`
    divides every step). ``eps`` is neglected; the gradient scale cancels.

    >>> round(reddi_drift(3.0), 4), round(reddi_drift(3.0, amsgrad=True), 4)
    (0.6809, -0.3491)
    """
    C = check_real("C", C, low=2.0, bounds="(]")
    amsgrad = check_bool("amsgrad", amsgrad)
    b = 1.0 / (1.0 + C * C)
    v3 = (1 - b) * (b * b * C * C + b + 1) / (1 - b**3)
    v1 = b * v3 + (1 - b) * C * C
    v2 = b * v1 + (1 - b)
    if amsgrad:
        return (2.0 - C) / math.sqrt(v1)
    return 1 / math.sqrt(v2) + 1 / math.sqrt(v3) - C / math.sqrt(v1)


# --- A8: a learning-rate sweep ----------------------------------------------------


@dataclass(frozen=True)
class LeastSquares:
    """A synthetic least-squares problem :math:`\\min_w \\frac{1}{2n}\\lVert Xw -
    y\\rVert^2`.

    Built by :func:`least_squares`; :func:`sweep_lrs` trains on it.

    Attributes:
        X: features, shape ``(n, d)``; y: labels, shape ``(n,)``.
        w_ls: the least-squares solution, shape ``(d,)``; loss_ls: its loss, a
            ``float``.

    Example:
        >>> p = least_squares(64, 2, device="cpu")
        >>> p.X.shape, p.loss(torch.zeros(3, 2, dtype=torch.float64)).shape
        (torch.Size([64, 2]), torch.Size([3]))
        >>> r = p.X @ p.w_ls - p.y  # normal equations: X^T (X w_ls - y) = 0
        >>> bool((p.X.T @ r).abs().max() < 1e-12)
        True
    """

    X: Tensor
    y: Tensor
    w_ls: Tensor
    loss_ls: float

    def loss(self, w: Tensor) -> Tensor:
        """The loss of each row of ``w`` (shape ``(..., d)``), shape ``(...)``."""
        return 0.5 * ((w @ self.X.T - self.y) ** 2).mean(-1)


def least_squares(n: int = 512, d: int = 10, *, scales: Sequence[float] | None = None,
                  noise: float = 0.1, seed: SeedLike = 0, device=None
                  ) -> LeastSquares:
    r"""Features :math:`X_{ij} = s_j Z_{ij}`, :math:`Z_{ij} \sim N(0, 1)`, labels
    :math:`y = X w^\star + \sigma\xi` with :math:`w^\star \sim N(0, I)`.

    The Hessian :math:`X^\top X/n` is close to :math:`\mathrm{diag}(s_j^2)`:
    unequal ``scales`` make the problem ill-conditioned along the axes.

    Args:
        n: examples, ``>= d``; d: features, ``>= 1``.
        scales: the :math:`s_j` (``d`` finite positive numbers; default all 1).
        noise: :math:`\sigma \ge 0`.
        seed: int, ``torch.Generator`` or ``None`` (drawn on the CPU).
        device: where the tensors go.

    >>> round(least_squares(64, 2, device="cpu").loss_ls, 6)
    0.004548
    """
    d = check_int("d", d, low=1)
    n = check_int("n", n, low=d)
    noise = check_real("noise", noise, low=0.0)
    s = torch.ones(d, dtype=DTYPE) if scales is None else check_reals(
        "scales", scales, f"{d} finite positive numbers", device="cpu", finite=True)
    if s.shape != (d,) or not bool((s > 0).all()):
        raise ValueError(f"scales must be {d} finite positive numbers; got {scales!r}")
    device = resolve_device(device)
    gen = as_generator(seed)
    X = torch.randn(n, d, generator=gen, dtype=DTYPE) * s
    w_star = torch.randn(d, generator=gen, dtype=DTYPE)
    y = X @ w_star + noise * torch.randn(n, generator=gen, dtype=DTYPE)
    w_ls = torch.linalg.lstsq(X, y[:, None]).solution[:, 0]
    problem = LeastSquares(X.to(device), y.to(device), w_ls.to(device), 0.0)
    return LeastSquares(problem.X, problem.y, problem.w_ls,
                        float(problem.loss(problem.w_ls)))


@dataclass(frozen=True)
class Sweep:
    """Final excess losses of one optimizer over a grid of learning rates.

    Returned by :func:`sweep_lrs` (tensors float64, on the CPU).

    Attributes:
        optimizer: its name; options: its other hyperparameters (a ``dict``).
        lrs: the learning rates, shape ``(m,)``.
        excess: :math:`(F(w_K) - F^\\star)/(F(w_0) - F^\\star)` for each rate,
            shape ``(m,)`` (``nan`` or ``inf`` where the run diverged).
    """

    optimizer: str
    options: dict
    lrs: Tensor
    excess: Tensor

    def window(self, tol: float) -> tuple[float, float] | None:
        """The working window: the widest run of consecutive rates (in increasing
        order) whose excess is ``<= tol``, as ``(smallest, largest)``; ``None`` if
        no rate passes. A rate that passes on its own, apart from that run, is
        not part of the window; of two runs of equal length, the lower wins.
        ``tol`` is a finite real number.

        >>> lrs = torch.tensor([1.0, 0.1, 10.0, 0.01, 100.0], dtype=torch.float64)
        >>> s = Sweep("sgd", {}, lrs, torch.tensor([1e-3, 1e-3, 1.0, 1.0, 1e-3]))
        >>> s.window(1e-2)  # 0.1 and 1 pass, 10 fails, 100 passes alone
        (0.1, 1.0)
        """
        tol = check_real("tol", tol)
        order = torch.argsort(self.lrs)
        lrs, ok = self.lrs[order].tolist(), (self.excess[order] <= tol).tolist()
        best, start = None, None
        for i, passed in enumerate(ok + [False]):
            if passed and start is None:
                start = i
            elif not passed and start is not None:
                if best is None or i - start > best[1] - best[0] + 1:
                    best = (start, i - 1)
                start = None
        return None if best is None else (lrs[best[0]], lrs[best[1]])


def sweep_lrs(problem: LeastSquares, optimizer: str = "adam",
              lrs: Sequence[float] = (1e-3, 1e-2, 1e-1), *, steps: int = 300,
              batch_size: int = 32, seed: SeedLike = 0, **options) -> Sweep:
    r"""Mini-batch training of ``problem`` from :math:`w = 0` at every rate of
    ``lrs``, with the same mini-batches for every rate.

    Each rate runs the optimizer's functional update (the single-tensor path
    of its :mod:`mbgd.optim` class) on its own row of parameters. Each step
    draws ``batch_size`` examples uniformly with replacement (from ``seed``),
    so two sweeps with the same ``seed`` see the same batches.

    Args:
        problem: from :func:`least_squares`.
        optimizer: a name in :data:`UPDATES` (``"sgd"``, ``"adam"``, ...).
        lrs: a sequence of learning rates, each ``> 0``.
        steps: ``>= 1``; batch_size: ``>= 1``.
        seed: int, ``torch.Generator`` or ``None``.
        **options: the optimizer's other hyperparameters (e.g. ``momentum``).

    Returns:
        A :class:`Sweep`.

    >>> p = least_squares(64, 2, device="cpu")
    >>> s = sweep_lrs(p, "sgd", [0.1, 10.0], steps=50, batch_size=8)
    >>> s.window(1e-2)
    (0.1, 0.1)
    """
    check_type("problem", problem, LeastSquares, "a LeastSquares problem")
    if "lr" in options:
        raise TypeError(f"lr must be given through lrs; got lr={options['lr']!r}")
    options = _options(optimizer, options)
    if isinstance(lrs, str) or not isinstance(lrs, Iterable):
        raise TypeError(f"lrs must be a sequence of real numbers > 0; got {lrs!r}")
    rates = [check_real("lrs", lr, low=0.0, bounds="(]") for lr in lrs]
    if not rates:
        raise ValueError(f"lrs must hold at least one rate; got {lrs!r}")
    steps = check_int("steps", steps, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    n, d = problem.X.shape
    idx = torch.randint(n, (steps, batch_size), generator=as_generator(seed))
    idx = idx.to(problem.X.device)
    W = torch.zeros(len(rates), d, dtype=DTYPE, device=problem.X.device)
    # one functional update per rate: the code path of the optimizer classes
    runs = [_fresh(optimizer, w, {**options, "lr": lr}) for w, lr in zip(W, rates)]
    for k in range(steps):
        Xb, yb = problem.X[idx[k]], problem.y[idx[k]]
        G = (Xb @ W.T - yb[:, None]).T @ Xb / batch_size  # (m, d)
        for w, g, (update, state) in zip(W, G, runs):
            update(w, g, state)
    final = problem.loss(W)
    start = problem.loss(torch.zeros(d, dtype=DTYPE, device=problem.X.device))
    excess = (final - problem.loss_ls) / (start - problem.loss_ls)
    return Sweep(optimizer, options, torch.tensor(rates, dtype=DTYPE),
                 excess.cpu())


# --- A8: which interpolating solution ---------------------------------------------


@dataclass(frozen=True)
class Interpolation:
    """Gradient descent and Adam on under-determined least squares, from zero.

    Returned by :func:`simulate_interpolation` (on the CPU). ``prior`` is the
    prior's name; each other attribute has shape ``(runs,)``: ``norm_*`` are
    :math:`\\lVert w\\rVert` and ``test_*`` the test errors
    :math:`\\lVert w - w^\\star\\rVert^2` (the expected squared error on a
    fresh example :math:`x \\sim N(0, I)`) of the minimum-norm interpolant
    (``min``), gradient descent (``gd``) and Adam (``adam``); ``train_*`` are
    the final training losses; ``gd_to_min`` and ``adam_to_min`` are the
    distances :math:`\\lVert w - w_{min}\\rVert`.
    """

    prior: str
    norm_min: Tensor
    norm_gd: Tensor
    norm_adam: Tensor
    train_gd: Tensor
    train_adam: Tensor
    test_min: Tensor
    test_gd: Tensor
    test_adam: Tensor
    gd_to_min: Tensor
    adam_to_min: Tensor


def simulate_interpolation(n: int = 20, d: int = 60, *, prior: str = "gaussian",
                           runs: int = 20, steps: int = 2000, lr: float = 0.01,
                           seed: SeedLike = 0, device=None) -> Interpolation:
    r"""Full-batch gradient descent and Adam on :math:`\frac{1}{2n}\lVert Xw -
    y\rVert^2` with :math:`n < d`, from :math:`w_0 = 0`.

    :math:`X_{ij} \sim N(0, 1)`, :math:`y = X w^\star` (no noise), with
    :math:`w^\star \sim N(0, I/d)` (``prior="gaussian"``) or uniform on
    :math:`\{\pm 1/\sqrt d\}^d` (``"sign"``). Every interpolant differs from
    the minimum-norm one, :math:`w_{min} = X^+ y`, by a vector of the null space
    of :math:`X`. Gradient descent's steps :math:`X^\top r/n` lie in the row
    space, so from zero it converges to :math:`w_{min}`; Adam's coordinate-wise
    scaling leaves the row space. Gradient descent uses
    :math:`\alpha = 1/\lambda_{\max}(X^\top X/n)` in each run.

    Args:
        n: examples, ``>= 1``; d: dimension, ``> n``.
        prior: ``"gaussian"`` or ``"sign"``.
        runs: independent problems, run side by side, ``>= 1``.
        steps: iterations of both methods, ``>= 1``.
        lr: Adam's learning rate (default betas), ``> 0``.
        seed: int, ``torch.Generator`` or ``None`` (drawn on the CPU).
        device: where the runs compute.

    Returns:
        An :class:`Interpolation` (on the CPU).

    >>> r = simulate_interpolation(5, 10, runs=2, steps=300, device="cpu")
    >>> bool((r.gd_to_min < 1e-6).all()), bool((r.norm_adam > r.norm_min).all())
    (True, True)
    """
    n = check_int("n", n, low=1)
    d = check_int("d", d, low=n + 1)
    check_choice("prior", prior, ("gaussian", "sign"))
    runs = check_int("runs", runs, low=1)
    steps = check_int("steps", steps, low=1)
    lr = check_real("lr", lr, low=0.0, bounds="(]")
    device = resolve_device(device)
    gen = as_generator(seed)
    X = torch.randn(runs, n, d, generator=gen, dtype=DTYPE)
    if prior == "gaussian":
        w_star = torch.randn(runs, d, generator=gen, dtype=DTYPE) / math.sqrt(d)
    else:
        signs = torch.randint(0, 2, (runs, d), generator=gen).to(DTYPE) * 2 - 1
        w_star = signs / math.sqrt(d)
    X, w_star = X.to(device), w_star.to(device)
    y = _apply(X, w_star)  # (runs, n)

    def grad(w):
        return _apply(X.transpose(1, 2), _apply(X, w) - y) / n

    L = torch.linalg.eigvalsh(X.transpose(1, 2) @ X / n)[:, -1:]  # (runs, 1)
    w_gd = torch.zeros(runs, d, dtype=DTYPE, device=device)
    w_adam = torch.zeros_like(w_gd)
    state = optim.adam_init(w_adam)
    for _ in range(steps):
        w_gd = w_gd - grad(w_gd) / L
        optim.adam_update_(w_adam, grad(w_adam), state, lr=lr)
    w_min = _apply(torch.linalg.pinv(X), y)

    def train(w):
        return (0.5 * (_apply(X, w) - y) ** 2).mean(-1).cpu()

    def dist2(a, b):
        return ((a - b) ** 2).sum(-1).cpu()

    return Interpolation(
        prior, w_min.norm(dim=-1).cpu(), w_gd.norm(dim=-1).cpu(),
        w_adam.norm(dim=-1).cpu(), train(w_gd), train(w_adam),
        dist2(w_min, w_star), dist2(w_gd, w_star), dist2(w_adam, w_star),
        dist2(w_gd, w_min).sqrt(), dist2(w_adam, w_min).sqrt(),
    )


def _apply(A: Tensor, w: Tensor) -> Tensor:
    """Batched matrix-vector product: ``(runs, m, d) x (runs, d) -> (runs, m)``."""
    return (A @ w[..., None])[..., 0]


# --- the optimizer race -----------------------------------------------------------


@dataclass(frozen=True)
class RaceSetup:
    """Where a race starts, how long it runs and the reference learning rates.

    The values of :data:`RACE`, one per landscape.

    Attributes:
        start: the start point, 2 floats.
        steps: the number of steps of every racer.
        lrs: each racer's reference learning rate (keys ``"GD"``,
            ``"momentum"``, ``"Adam"``); :func:`simulate_race` multiplies it.

    Example:
        >>> setup = RACE["ill-conditioned"]
        >>> setup.start, setup.steps, setup.lrs["GD"]  # lr = 1/L with L = 25
        ((-1.6, 1.8), 100, 0.04)
    """

    start: tuple[float, float]
    steps: int
    lrs: dict[str, float]


#: The landscapes of the race: start, steps and each racer's reference rate (the
#: explorer's controls multiply it). References were picked by hand from a
#: coarse scan of final gaps: ``1/L`` for GD on the quadratics (``L = 25``), so
#: that three times the reference crosses GD's limit ``2/L``; for the others, a
#: rate in the range that does well within the steps shown.
RACE: dict[str, RaceSetup] = {
    "ill-conditioned": RaceSetup((-1.6, 1.8), 100,
                                 {"GD": 0.04, "momentum": 0.01, "Adam": 0.1}),
    "rotated": RaceSetup((-1.6, 1.8), 100,
                         {"GD": 0.04, "momentum": 0.01, "Adam": 0.1}),
    "rosenbrock": RaceSetup((-1.5, 2.0), 500,
                            {"GD": 1e-3, "momentum": 5e-4, "Adam": 0.05}),
    "saddle": RaceSetup((1.2, 1e-6), 100,
                        {"GD": 0.1, "momentum": 0.02, "Adam": 0.05}),
    "robot arm": RaceSetup((1.0, 1.0), 60,
                           {"GD": 0.1, "momentum": 0.02, "Adam": 0.2}),
}
RACERS = ("GD", "momentum", "Adam")
MOMENTUM = 0.9
MULTIPLIERS = (1.0, 3.0)
LIVE_MULTIPLIERS = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
_COLORS = {"GD": "0.3", "momentum": "darkorange", "Adam": "crimson"}


def _racer(name: str, lr: float) -> StepRule:
    if name == "GD":
        return gd_rule(lr)
    if name == "momentum":
        return heavy_ball(lr, MOMENTUM)
    return adam_rule(lr)


@dataclass(frozen=True)
class RaceResult:
    """Three optimizers from the same start on one landscape.

    Returned by :func:`simulate_race`.

    Attributes:
        landscape: its name in :data:`RACE`.
        lrs: the learning rate of each racer (``"GD"``, ``"momentum"``,
            ``"Adam"``).
        paths: each racer's iterates, shape ``(K + 1, 2)`` (a run that diverges
            stops at its first non-finite value, so ``K`` may be smaller).
        gaps: each racer's :math:`f(x_k) - f^\\star`, shape ``(K + 1,)``.
    """

    landscape: str
    lrs: dict[str, float]
    paths: dict[str, Tensor]
    gaps: dict[str, Tensor]


def simulate_race(landscape: str = "rotated", gd: float = 1.0, momentum: float = 1.0,
                  adam: float = 1.0) -> RaceResult:
    r"""Gradient descent, heavy ball (:math:`\mu = 0.9`) and Adam (default betas)
    from the landscape's start in :data:`RACE`, for its number of steps.

    Args:
        landscape: a name in :data:`RACE`.
        gd, momentum, adam: each racer's learning rate as a multiple of its
            reference rate in :data:`RACE`, ``> 0``.

    Returns:
        A :class:`RaceResult`.

    >>> r = simulate_race("ill-conditioned")
    >>> r.lrs["Adam"], r.paths["Adam"].shape
    (0.1, torch.Size([101, 2]))
    """
    check_choice("landscape", landscape, tuple(RACE))
    factors = {"GD": check_real("gd", gd, low=0.0, bounds="(]"),
               "momentum": check_real("momentum", momentum, low=0.0, bounds="(]"),
               "Adam": check_real("adam", adam, low=0.0, bounds="(]")}
    lrs, paths, gaps = {}, {}, {}
    for name in RACERS:
        lrs[name] = factors[name] * RACE[landscape].lrs[name]
        points, gap = _race_path(landscape, name, lrs[name])
        paths[name], gaps[name] = points.clone(), gap.clone()
    return RaceResult(landscape, lrs, paths, gaps)


@functools.lru_cache(maxsize=256)
def _race_path(landscape: str, name: str, lr: float) -> tuple[Tensor, Tensor]:
    """One racer's points and gaps (cached: a stand-in reuses each run)."""
    setup = RACE[landscape]
    f = get_landscape(landscape)
    path = run(_racer(name, lr), f, setup.start, setup.steps, on_divergence="stop")
    return path.points, path.values - f.value(f.minimizer)


def _gap_limits(landscape: str) -> tuple[float, float]:
    return (1e-10, 1e3) if landscape == "rosenbrock" else (1e-10, 1e2)


class RaceView:
    """Contours with the three paths (left) and their optimality gaps (right).

    The view of :func:`race_explorer`: it draws the landscape once, and
    ``update(result)`` sets the three paths, the three gap curves and the caption
    (the rates and final gaps) from a :class:`RaceResult` of this landscape; it
    returns those seven artists.

    Args:
        fig: a ``matplotlib.figure.Figure`` to draw into (two axes are added).
        landscape: a name in :data:`RACE`.

    Example:
        >>> from matplotlib.figure import Figure
        >>> view = RaceView(Figure(), "robot arm")
        >>> artists = view.update(simulate_race("robot arm"))
        >>> print(view.caption.get_text().splitlines()[0])
        lr (GD / momentum / Adam): 0.1 / 0.02 / 0.2
    """

    def __init__(self, fig, landscape: str = "rotated"):
        check_choice("landscape", landscape, tuple(RACE))
        f = get_landscape(landscape)
        left, right = fig.subplots(1, 2, width_ratios=(1.1, 1.0))
        plot_landscape(f, left)
        style = {"markersize": 2.0, "linewidth": 0.9, "animated": True}
        self.paths, self.gaps = {}, {}
        for name in RACERS:
            (self.paths[name],) = left.plot([], [], "o-", color=_COLORS[name],
                                            label=name, **style)
            (self.gaps[name],) = right.plot([], [], color=_COLORS[name],
                                            animated=True, label=name)
        left.legend(loc="lower right", fontsize=7)
        right.set_yscale("log")
        right.set_xlim(0, RACE[landscape].steps)
        right.set_ylim(*_gap_limits(landscape))
        right.set_xlabel("step $k$")
        right.set_ylabel("$f(x_k) - f^*$")
        right.grid(True, which="major", alpha=0.3)
        # two placeholder lines, so that the layout reserves room for the caption
        self.caption = right.set_title(" \n ", fontsize=7, animated=True)

    def update(self, result: RaceResult, **_):
        for name in RACERS:
            pts = result.paths[name]
            self.paths[name].set_data(pts[:, 0].numpy(), pts[:, 1].numpy())
            gap = result.gaps[name]
            self.gaps[name].set_data(range(len(gap)), gap.clamp(min=1e-300).numpy())
        self.caption.set_text(
            "lr (" + " / ".join(RACERS) + "): "
            + " / ".join(f"{result.lrs[n]:.2g}" for n in RACERS)
            + "\nfinal gap: " + " / ".join(
                f"{result.gaps[n][-1].item():.0e}" for n in RACERS))
        return [*self.paths.values(), *self.gaps.values(), self.caption]


def plot_race(result: RaceResult, ax=None):
    """Contours of the race's landscape with the three paths; returns the ``Axes``.

    Args:
        result: a :class:`RaceResult` from :func:`simulate_race` (paths of shape
            ``(K + 1, 2)``).
        ax: the ``Axes`` to draw on (``None``: a new figure).

    >>> import matplotlib.pyplot as plt
    >>> ax = plot_race(simulate_race("saddle"))
    >>> ax.get_title(), [line.get_label() for line in ax.lines][1:]
    ('saddle', ['GD (lr 0.1)', 'momentum (lr 0.02)', 'Adam (lr 0.05)'])
    >>> plt.close(ax.figure)
    """
    check_type("result", result, RaceResult, "a RaceResult")
    ax = new_axes(ax)
    plot_landscape(get_landscape(result.landscape), ax)
    for name in RACERS:
        pts = result.paths[name]
        ax.plot(pts[:, 0].numpy(), pts[:, 1].numpy(), "o-", color=_COLORS[name],
                markersize=2.5, linewidth=1.0,
                label=f"{name} (lr {result.lrs[name]:.3g})")
    return ax


def race_explorer() -> Explorer:
    """The explorer: landscape x one learning-rate multiplier per racer.

    Returns:
        An :class:`mbgd.explore.Explorer` of :func:`simulate_race` drawn by
        :class:`RaceView`.

    Example:
        >>> ex = race_explorer()
        >>> ex.defaults()
        {'landscape': 'rotated', 'gd': 1.0, 'momentum': 1.0, 'adam': 1.0}
        >>> [len(c.values) for c in ex.controls]  # the stand-in has 3 x 2 x 2 x 2
        [3, 2, 2, 2]
    """
    def rate(name, label):
        return Control(name, MULTIPLIERS, label=label, default=MULTIPLIERS[0],
                       live_values=LIVE_MULTIPLIERS, fmt="x{:g}")

    return Explorer(
        simulate_race, RaceView,
        [Control("landscape", ("ill-conditioned", "rotated", "rosenbrock"),
                 default="rotated", live_values=tuple(RACE)),
         rate("gd", "GD lr"), rate("momentum", "momentum lr"),
         rate("adam", "Adam lr")],
        background=("landscape",), figsize=(7.0, 3.0), dpi=72,
        title="Optimizer race: GD, heavy ball and Adam from the same start",
    )


def explore_race():
    """Show the live race in a notebook (needs ipywidgets).

    Returns:
        An ``ipywidgets.VBox``: the image above a landscape menu and one slider
        per racer (its rate as a multiple of the reference); its ``controls``
        dict and ``image`` attribute drive it from code.

    Example:
        >>> box = explore_race()  # doctest: +SKIP
        >>> box.controls["adam"].value = 3.0  # doctest: +SKIP
    """
    return race_explorer().widget()


def standin_race(progress: bool | None = None):
    """The static stand-in of :func:`explore_race` for the website.

    Args:
        progress: show a progress bar (``None``: unless ``MBGD_PROGRESS=0``).

    Returns:
        A :class:`mbgd.explore.StandIn`: 24 pre-rendered frames (3 landscapes x
        2 rates for each of the 3 racers) behind sliders, shown as HTML.

    Example:
        >>> standin = standin_race(progress=False)  # doctest: +SKIP
        >>> len(standin.frames)  # doctest: +SKIP
        24
    """
    return race_explorer().standin(progress=progress)
