r"""Step sizes in practice: schedules, clipping, subgradients and accumulation.

The helpers of the book chapter ``chapters/adaptive/03_in_practice`` (sections
A9-A13), one group per section:

* A9, one fixed rate for changing curvature: :func:`cycle_factor` and
  :func:`critical_lr` for mini-batch gradient descent on a quadratic whose
  Hessian depends on the batch.
* A10, schedules: :class:`Constant`, :class:`StepDecay`, :class:`CosineDecay`,
  :class:`LinearWarmup` and :class:`InverseTime` are pure functions
  ``lr(step)``; :func:`noise_floor`, :func:`second_moment` and
  :func:`simulate_noisy_quadratic` measure their effect on SGD's noise floor.
* A11, clipping: :class:`LinearRNN`, :func:`recurrent_matrix`,
  :func:`rnn_gradient_norms` (exploding gradients), :func:`clip_by_norm`,
  :func:`clip_by_value` and :func:`cosine_similarity`.
* A12, subgradients: :func:`hinge_loss`, :func:`svm_objective`,
  :func:`svm_subgradient`, :func:`pegasos` and :func:`svm_optimum`.
* A13, accumulation: :func:`accumulated_gradient` and :func:`flat_grad`.

>>> sched = LinearWarmup(CosineDecay(0.1, total_steps=90), warmup_steps=10)
>>> [round(sched(t), 4) for t in (0, 5, 10, 55, 100)]
[0.01, 0.055, 0.1, 0.05, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ._checks import check_choice, check_int, check_real, check_shape, check_type
from .data import ReplacementSampler
from .data import _check_tensors as _check_batch
from .device import resolve_device
from .plotting import new_axes
from .seeding import SeedLike, as_generator

__all__ = [
    "cycle_factor", "critical_lr",
    "Schedule", "Constant", "StepDecay", "CosineDecay", "LinearWarmup", "InverseTime",
    "plot_schedules",
    "noise_floor", "second_moment", "NoisyQuadratic", "simulate_noisy_quadratic",
    "recurrent_matrix", "LinearRNN", "RNNGradients", "rnn_gradient_norms",
    "clip_by_norm", "clip_by_value", "cosine_similarity",
    "hinge_loss", "svm_objective", "svm_subgradient", "Pegasos", "pegasos",
    "SVMOptimum", "svm_optimum",
    "flat_grad", "accumulated_gradient",
]

F64 = torch.float64


# --------------------------------------------------------------------------
# A9: one fixed learning rate for curvature that changes between batches
# --------------------------------------------------------------------------

def _check_hessians(hessians: Tensor) -> Tensor:
    check_type("hessians", hessians, Tensor, "a torch.Tensor of shape (m, d, d)")
    if hessians.is_complex() or hessians.dtype == torch.bool:
        raise TypeError("hessians must be a real tensor of shape (m, d, d); got dtype "
                        f"{hessians.dtype}")
    if hessians.ndim != 3 or hessians.shape[1] != hessians.shape[2] \
            or hessians.shape[0] == 0 or hessians.shape[1] == 0:
        raise ValueError("hessians must have shape (m, d, d) with m, d >= 1; got "
                         f"shape {tuple(hessians.shape)}")
    bad = int((~torch.isfinite(hessians)).sum())
    if bad:
        raise ValueError(f"hessians must be finite; got {bad} non-finite entries")
    return hessians.to(F64)


def _cycle_factors(hessians: Tensor, lrs: Tensor) -> Tensor:
    """Spectral radius of the cycle map for every lr in ``lrs``, shape like lrs."""
    d = hessians.shape[-1]
    eye = torch.eye(d, dtype=F64, device=hessians.device)
    M = eye.expand(lrs.numel(), d, d)
    for H in hessians:  # batch 1 acts first, so it ends up rightmost
        M = (eye - lrs[:, None, None] * H) @ M
    return torch.linalg.eigvals(M).abs().amax(dim=-1)


def cycle_factor(hessians: Tensor, lr: float) -> float:
    r"""Growth factor per pass of mini-batch GD on a batch-dependent quadratic.

    When batch ``B`` has the loss :math:`\tfrac12 (w-w^\star)^\top H_B (w-w^\star)`
    (least squares that fits every batch exactly), one step on it maps the error
    :math:`e = w - w^\star` to :math:`(I - \eta H_B)\,e`. Visiting the ``m``
    batches in a fixed order multiplies the error by

    .. math:: M(\eta) = (I - \eta H_m)\cdots(I - \eta H_1)

    per pass, and the error shrinks to zero from every start exactly when the
    spectral radius :math:`\rho(M(\eta)) < 1` (it then decays like
    :math:`\rho^k` over ``k`` passes). In one dimension
    :math:`\rho = \prod_B |1 - \eta h_B|`. (Section A9.)

    Args:
        hessians: the ``m`` batch Hessians :math:`H_B`, shape ``(m, d, d)``, in the
            order the batches are visited (symmetric, not checked).
        lr: the learning rate :math:`\eta`, a real number ``>= 0``.

    Returns:
        :math:`\rho(M(\eta))` as a float.

    >>> h = torch.tensor([0.2, 0.2, 0.2, 3.4]).reshape(4, 1, 1)
    >>> round(cycle_factor(h, 1.0), 4)  # 0.8**3 * 2.4
    1.2288
    """
    hessians = _check_hessians(hessians)
    lr = check_real("lr", lr, low=0.0)
    lrs = torch.tensor([lr], dtype=F64, device=hessians.device)
    return float(_cycle_factors(hessians, lrs)[0])


def critical_lr(hessians: Tensor, *, high: float | None = None,
                num: int = 512) -> float | None:
    r"""The smallest learning rate at which the pass map stops contracting.

    Finds the first :math:`\eta` in :math:`(0, \text{high}]` with
    :math:`\rho(M(\eta)) = 1` (see :func:`cycle_factor`): a grid of ``num``
    points locates the first crossing, and bisection refines it to about
    :math:`10^{-12}` relative. :math:`\rho` need not be monotone in
    :math:`\eta`, which is why the search starts from 0.

    Args:
        hessians: batch Hessians, shape ``(m, d, d)``, in visiting order.
        high: the end of the search interval, ``> 0``; default: twice the
            full-batch threshold :math:`2/\lambda_{\max}(\bar H)` with
            :math:`\bar H` the mean of the ``H_B``.
        num: grid points, an int ``>= 2``.

    Returns:
        the critical rate as a float, or ``None`` when the pass map contracts on
        the whole interval.

    >>> h = torch.tensor([0.2, 0.2, 0.2, 3.4]).reshape(4, 1, 1)
    >>> round(critical_lr(h), 4), 2 / 3.4, 2 / 1.0  # vs per-batch and full-batch
    (0.7851, 0.5882352941176471, 2.0)
    """
    hessians = _check_hessians(hessians)
    num = check_int("num", num, low=2)
    if high is None:
        top = float(torch.linalg.eigvalsh(hessians.mean(0))[-1])
        if top <= 0:
            raise ValueError("hessians must have a positive mean curvature when "
                             f"high is None; got largest mean eigenvalue {top!r}")
        high = 4.0 / top
    high = check_real("high", high, low=0.0, bounds="(]")
    grid = torch.linspace(0, high, num + 1, dtype=F64, device=hessians.device)[1:]
    above = (_cycle_factors(hessians, grid) >= 1).nonzero()
    if above.numel() == 0:
        return None
    j = int(above[0, 0])
    lo, hi = (0.0 if j == 0 else float(grid[j - 1])), float(grid[j])
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if cycle_factor(hessians, mid) >= 1:
            hi = mid
        else:
            lo = mid
    return hi


# --------------------------------------------------------------------------
# A10: learning-rate schedules and the noise floor
# --------------------------------------------------------------------------

class Schedule:
    """A learning rate as a pure function of the step ``t = 0, 1, 2, ...``.

    Subclasses define :meth:`rate` on a float64 tensor of steps; calling the
    schedule with an int gives a float, :meth:`values` a tensor of the first
    ``steps`` rates. The rate of step ``t`` is the one the ``t``-th update uses
    (counted from 0, as ``torch.optim.lr_scheduler`` counts ``last_epoch``).

    Write your own schedule by subclassing and defining :meth:`rate`, elementwise
    on a float64 tensor ``t`` of any shape (then it also works inside
    :class:`LinearWarmup` and :func:`plot_schedules`).

    Example:
        >>> class Halving(Schedule):  # eta_t = 0.8 / 2**t
        ...     def rate(self, t):
        ...         return 0.8 * 0.5 ** t
        >>> Halving()(2), Halving().values(4, device="cpu").tolist()
        (0.2, [0.8, 0.4, 0.2, 0.1])
    """

    def rate(self, t: Tensor) -> Tensor:
        """The learning rates at the steps ``t`` (float64), same shape."""
        raise NotImplementedError

    def __call__(self, step: int) -> float:
        step = check_int("step", step, low=0)
        return float(self.rate(torch.tensor(float(step), dtype=F64)))

    def values(self, steps: int, *, device: str | torch.device | None = None
               ) -> Tensor:
        """The rates of steps ``0 .. steps-1``, float64, shape ``(steps,)``."""
        steps = check_int("steps", steps, low=1)
        return self.rate(torch.arange(steps, dtype=F64)).to(resolve_device(device))


def _lr(value: float, name: str = "lr") -> float:
    return check_real(name, value, low=0.0, bounds="(]")


@dataclass(frozen=True)
class Constant(Schedule):
    r"""The constant rate :math:`\eta_t = \eta`.

    >>> Constant(0.1)(7)
    0.1
    """

    lr: float

    def __post_init__(self):
        _lr(self.lr)

    def rate(self, t):
        return torch.full_like(t, self.lr)


@dataclass(frozen=True)
class StepDecay(Schedule):
    r"""Step decay: :math:`\eta_t = \eta\,\gamma^{\lfloor t/s \rfloor}`.

    The rate drops by the factor :math:`\gamma` every ``step_size`` steps
    :math:`s`, as ``torch.optim.lr_scheduler.StepLR(step_size=s, gamma=gamma)``.

    Args:
        lr: the initial rate :math:`\eta > 0`.
        step_size: steps between drops, an int ``>= 1``.
        gamma: the factor, ``0 < gamma <= 1`` (default 0.1).

    >>> [StepDecay(1.0, step_size=2, gamma=0.5)(t) for t in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    lr: float
    step_size: int
    gamma: float = 0.1

    def __post_init__(self):
        _lr(self.lr)
        check_int("step_size", self.step_size, low=1)
        check_real("gamma", self.gamma, low=0.0, high=1.0, bounds="(]")

    def rate(self, t):
        return self.lr * torch.pow(torch.tensor(self.gamma, dtype=F64),
                                   torch.floor(t / self.step_size))


@dataclass(frozen=True)
class CosineDecay(Schedule):
    r"""Cosine decay from ``lr`` to ``min_lr`` over ``total_steps`` steps.

    .. math:: \eta_t = \eta_{\min} + (\eta - \eta_{\min})\,
              \frac{1 + \cos(\pi \min(t, T)/T)}{2},

    so :math:`\eta_0 = \eta` and :math:`\eta_t = \eta_{\min}` for
    :math:`t \ge T`. Up to :math:`T` this is
    ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=T, eta_min=min_lr)``;
    after :math:`T` torch's schedule rises again (it is periodic), this one stays
    at ``min_lr``.

    Args:
        lr: the initial rate :math:`\eta > 0`.
        total_steps: :math:`T`, an int ``>= 1``.
        min_lr: the final rate, ``0 <= min_lr <= lr`` (default 0).

    >>> s = CosineDecay(1.0, total_steps=4)
    >>> [round(s(t), 4) for t in range(6)]
    [1.0, 0.8536, 0.5, 0.1464, 0.0, 0.0]
    """

    lr: float
    total_steps: int
    min_lr: float = 0.0

    def __post_init__(self):
        _lr(self.lr)
        check_int("total_steps", self.total_steps, low=1)
        check_real("min_lr", self.min_lr, low=0.0, high=self.lr)

    def rate(self, t):
        phase = torch.clamp(t, max=self.total_steps) / self.total_steps
        return self.min_lr + (self.lr - self.min_lr) * 0.5 * (
            1 + torch.cos(math.pi * phase))


@dataclass(frozen=True)
class LinearWarmup(Schedule):
    r"""Linear warm-up for ``warmup_steps`` steps, then the schedule ``after``.

    .. math:: \eta_t = \begin{cases}
              \eta^{\text{after}}_0\,\big(f + (1-f)\,t/W\big) & t < W,\\
              \eta^{\text{after}}_{t-W} & t \ge W,
              \end{cases}

    with :math:`W` = ``warmup_steps`` and :math:`f` = ``start_factor``: the rate
    climbs on a straight line from :math:`f\eta^{\text{after}}_0` and reaches
    :math:`\eta^{\text{after}}_0` at step :math:`W`, where ``after`` starts at
    its own step 0. This is torch's ``SequentialLR`` of
    ``LinearLR(start_factor=f, total_iters=W)`` and the scheduler of ``after``,
    with ``milestones=[W]``.

    Args:
        after: the schedule that follows, a :class:`Schedule`.
        warmup_steps: :math:`W`, an int ``>= 1``.
        start_factor: :math:`f`, ``0 <= f <= 1`` (default 0.1).

    >>> s = LinearWarmup(Constant(1.0), warmup_steps=4, start_factor=0.0)
    >>> [s(t) for t in range(6)]
    [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """

    after: Schedule
    warmup_steps: int
    start_factor: float = 0.1

    def __post_init__(self):
        check_type("after", self.after, Schedule, "a Schedule")
        check_int("warmup_steps", self.warmup_steps, low=1)
        check_real("start_factor", self.start_factor, low=0.0, high=1.0)

    def rate(self, t):
        w, f = self.warmup_steps, self.start_factor
        peak = self.after.rate(torch.zeros_like(t))
        ramp = peak * (f + (1 - f) * t / w)
        rest = self.after.rate(torch.clamp(t - w, min=0))
        return torch.where(t < w, ramp, rest)


@dataclass(frozen=True)
class InverseTime(Schedule):
    r"""Inverse-time decay :math:`\eta_t = \eta / (1 + c\,t)`.

    With :math:`\eta = 1/\lambda` and :math:`c = 1` this is the Pegasos step
    :math:`1/(\lambda (t+1))` (section A12).

    Args:
        lr: the initial rate :math:`\eta > 0`.
        decay: :math:`c \ge 0`.

    >>> [InverseTime(1.0, decay=1.0)(t) for t in range(4)]
    [1.0, 0.5, 0.3333333333333333, 0.25]
    """

    lr: float
    decay: float = 1.0

    def __post_init__(self):
        _lr(self.lr)
        check_real("decay", self.decay, low=0.0)

    def rate(self, t):
        return self.lr / (1 + self.decay * t)


def plot_schedules(schedules: Mapping[str, Schedule], steps: int, ax=None):
    """Plot ``lr(t)`` of each named schedule for ``t < steps``; returns the Axes.

    >>> import matplotlib.pyplot as plt
    >>> ax = plot_schedules({"flat": Constant(0.1), "step": StepDecay(0.1, 5)}, 10)
    >>> len(ax.lines), ax.get_ylabel(), round(ax.lines[1].get_ydata()[-1].item(), 4)
    (2, 'learning rate', 0.01)
    >>> plt.close(ax.figure)
    """
    check_type("schedules", schedules, Mapping, "a mapping name -> Schedule")
    steps = check_int("steps", steps, low=1)
    for name, sched in schedules.items():
        check_type(f"schedules[{name!r}]", sched, Schedule, "a Schedule")
    ax = new_axes(ax)
    t = torch.arange(steps)
    for name, sched in schedules.items():
        ax.plot(t, sched.values(steps).cpu(), label=name)
    ax.set_xlabel("step $t$")
    ax.set_ylabel("learning rate")
    ax.legend(fontsize=8)
    return ax


def _check_noise(curvature: float, noise_std: float, batch_size: int
                 ) -> tuple[float, float]:
    lam = check_real("curvature", curvature, low=0.0, bounds="(]")
    s = check_real("noise_std", noise_std, low=0.0)
    b = check_int("batch_size", batch_size, low=1)
    return lam, s * s / b


def noise_floor(lr: float, *, curvature: float, noise_std: float,
                batch_size: int = 1) -> float:
    r"""Stationary :math:`E[x^2]` of constant-rate SGD on a noisy 1-D quadratic.

    On :math:`f(x) = \tfrac{\lambda}{2}x^2` with mini-batch gradients
    :math:`\lambda x + \xi`, where :math:`\xi` is the mean of ``b`` independent
    per-example noises of variance :math:`s^2`, the iterate
    :math:`x_{t+1} = (1-\eta\lambda)x_t - \eta\xi_t` settles at

    .. math:: E[x^2] = \frac{\eta^2 s^2/b}{1-(1-\eta\lambda)^2}
              = \frac{\eta\, s^2}{b\,\lambda\,(2-\eta\lambda)},
              \qquad 0 < \eta\lambda < 2,

    so the loss floor :math:`E[f] = \tfrac{\lambda}{2}E[x^2]` is
    :math:`\eta s^2/(2b(2-\eta\lambda))`, close to proportional to
    :math:`\eta` only while :math:`\eta\lambda \ll 2`. (Section A10.)

    Args:
        lr: :math:`\eta`, with ``0 < lr * curvature < 2``.
        curvature: :math:`\lambda > 0`.
        noise_std: :math:`s \ge 0`, per-example gradient noise.
        batch_size: ``b``, an int ``>= 1``.

    >>> noise_floor(0.1, curvature=1.0, noise_std=1.0, batch_size=4)
    0.013157894736842106
    """
    lam, var = _check_noise(curvature, noise_std, batch_size)
    lr = check_real("lr", lr, low=0.0, high=2.0 / lam, bounds="()")
    return lr * var / (lam * (2 - lr * lam))


def _check_lrs(lrs: Tensor) -> Tensor:
    check_type("lrs", lrs, Tensor, "a torch.Tensor of shape (steps,) or (K, steps)")
    if lrs.is_complex() or lrs.dtype == torch.bool:
        raise TypeError(f"lrs must be a real tensor; got dtype {lrs.dtype}")
    if lrs.ndim not in (1, 2) or lrs.shape[-1] == 0:
        raise ValueError("lrs must have shape (steps,) or (K, steps) with steps >= 1; "
                         f"got shape {tuple(lrs.shape)}")
    if not (torch.isfinite(lrs).all() and (lrs >= 0).all()):
        raise ValueError("lrs must be finite and >= 0; got values in "
                         f"[{lrs.min().item()}, {lrs.max().item()}]")
    return lrs.to(F64).reshape(-1, lrs.shape[-1])


def second_moment(lrs: Tensor, *, curvature: float, noise_std: float,
                  batch_size: int = 1, x0: float = 1.0) -> Tensor:
    r"""Exact :math:`E[x_t^2]` of SGD on the noisy 1-D quadratic, for any schedule.

    Squaring :math:`x_{t+1} = (1-\eta_t\lambda)x_t - \eta_t\xi_t` and taking
    expectations (the noise :math:`\xi_t` has mean 0, variance :math:`s^2/b` and
    is independent of :math:`x_t`) gives the recursion

    .. math:: m_{t+1} = (1-\eta_t\lambda)^2\, m_t + \eta_t^2\, s^2/b,
              \qquad m_0 = x_0^2 .

    With a constant rate :math:`m_t` tends to :func:`noise_floor`. (Section A10.)

    Args:
        lrs: the rates :math:`\eta_t`, shape ``(steps,)`` or ``(K, steps)``
            (``K`` schedules), ``>= 0``.
        curvature, noise_std, batch_size: as in :func:`noise_floor`.
        x0: the start :math:`x_0` (a real number).

    Returns:
        :math:`m_0, \dots, m_T`, float64, shape ``(K, steps + 1)`` (``K = 1``
        for a 1-D ``lrs``), on the device of ``lrs``.

    >>> second_moment(torch.tensor([0.5, 0.5]), curvature=1.0, noise_std=2.0)
    tensor([[1.0000, 1.2500, 1.3125]], dtype=torch.float64)
    """
    lam, var = _check_noise(curvature, noise_std, batch_size)
    x0 = check_real("x0", x0)
    lrs = _check_lrs(lrs)
    m = torch.empty(lrs.shape[0], lrs.shape[1] + 1, dtype=F64, device=lrs.device)
    m[:, 0] = x0 * x0
    for t in range(lrs.shape[1]):
        eta = lrs[:, t]
        m[:, t + 1] = (1 - eta * lam) ** 2 * m[:, t] + eta * eta * var
    return m


@dataclass(frozen=True)
class NoisyQuadratic:
    """What :func:`simulate_noisy_quadratic` returns (float64 tensors).

    Returned by :func:`simulate_noisy_quadratic`; you receive one, you do not
    build one. ``K`` is the number of schedules and ``chains`` the number of runs.

    Attributes:
        lrs: the schedules, shape ``(K, steps)``.
        mean_sq: :math:`x_t^2` averaged over the chains, ``(K, steps + 1)``.
        tail_mean: each chain's average of :math:`x_t^2` over the second half
            of the run (``t > steps // 2``), ``(K, chains)``.
        final: the last iterates :math:`x_T`, ``(K, chains)``.
    """

    lrs: Tensor
    mean_sq: Tensor
    tail_mean: Tensor
    final: Tensor


def simulate_noisy_quadratic(lrs: Tensor, *, curvature: float = 1.0,
                             noise_std: float = 1.0, batch_size: int = 1,
                             x0: float = 1.0, chains: int = 1000,
                             seed: SeedLike = None,
                             device: str | torch.device | None = None
                             ) -> NoisyQuadratic:
    r"""Run SGD on :math:`f(x) = \tfrac{\lambda}{2}x^2` with noisy gradients.

    Each step uses the mini-batch gradient :math:`\lambda x_t + \xi_t`, where
    :math:`\xi_t` is the mean of ``b`` independent :math:`N(0, s^2)`
    per-example noises, drawn directly as :math:`N(0, s^2/b)` (the same law):

    .. math:: x_{t+1} = x_t - \eta_t(\lambda x_t + \xi_t).

    ``chains`` independent runs go side by side, and all ``K`` schedules see the
    *same* noise (common random numbers), so their differences are the
    schedules' alone. Compare with :func:`second_moment` and
    :func:`noise_floor`. (Section A10.)

    Args:
        lrs: rates, shape ``(steps,)`` or ``(K, steps)``, ``>= 0``.
        curvature, noise_std, batch_size: as in :func:`noise_floor`.
        x0: the start of every chain.
        chains: independent runs, an int ``>= 2``.
        seed: int, ``torch.Generator`` or ``None`` (the noise).
        device: where to simulate; default :func:`mbgd.device.default_device`.
            The noise is drawn on the CPU, so a seed gives the same run anywhere.

    Returns:
        a :class:`NoisyQuadratic` (tensors on the CPU).

    >>> r = simulate_noisy_quadratic(torch.full((200,), 0.1), chains=500, seed=0,
    ...                              device="cpu")
    >>> r.mean_sq.shape, r.tail_mean.shape
    (torch.Size([1, 201]), torch.Size([1, 500]))
    """
    lam, var = _check_noise(curvature, noise_std, batch_size)
    x0 = check_real("x0", x0)
    chains = check_int("chains", chains, low=2)
    lrs = _check_lrs(lrs)
    device = resolve_device(device)
    gen = as_generator(seed)
    k, steps = lrs.shape
    noise = (torch.randn(steps, chains, generator=gen, dtype=F64)
             * math.sqrt(var)).to(device)
    eta = lrs.to(device)[:, :, None]  # (K, steps, 1)
    x = torch.full((k, chains), x0, dtype=F64, device=device)
    mean_sq = torch.empty(k, steps + 1, dtype=F64, device=device)
    mean_sq[:, 0] = x0 * x0
    tail = torch.zeros(k, chains, dtype=F64, device=device)
    start = steps // 2
    for t in range(steps):
        x = x - eta[:, t] * (lam * x + noise[t])
        sq = x * x
        mean_sq[:, t + 1] = sq.mean(1)
        if t + 1 > start:
            tail += sq
    return NoisyQuadratic(lrs=lrs.cpu(), mean_sq=mean_sq.cpu(),
                          tail_mean=(tail / (steps - start)).cpu(), final=x.cpu())


# --------------------------------------------------------------------------
# A11: exploding gradients in a recurrent network, and clipping
# --------------------------------------------------------------------------

def recurrent_matrix(hidden: int, spectral_radius: float, *, orthogonal: bool = True,
                     seed: SeedLike = None, dtype: torch.dtype = F64,
                     device: str | torch.device | None = None) -> Tensor:
    r"""A random ``hidden x hidden`` recurrent matrix with a given spectral radius.

    ``orthogonal=True``: :math:`W = \rho Q` with :math:`Q` a random orthogonal
    matrix (QR of a Gaussian matrix), so *every* singular value is :math:`\rho`
    and :math:`\lVert (W^\top)^T v\rVert = \rho^T\lVert v\rVert` exactly.
    ``orthogonal=False``: a Gaussian matrix rescaled so that its largest
    eigenvalue modulus is :math:`\rho` (its norm is larger). (Section A11.)

    Args:
        hidden: the size ``n``, an int ``>= 1``.
        spectral_radius: :math:`\rho > 0`.
        orthogonal: which construction (see above).
        seed: int, ``torch.Generator`` or ``None``.
        dtype: floating dtype of the result (default float64).
        device: where the matrix goes (drawn on the CPU).

    Returns:
        ``W``, shape ``(hidden, hidden)``.

    >>> W = recurrent_matrix(4, 1.5, seed=0, device="cpu")
    >>> torch.allclose(torch.linalg.svdvals(W), torch.full((4,), 1.5, dtype=W.dtype))
    True
    """
    n = check_int("hidden", hidden, low=1)
    rho = check_real("spectral_radius", spectral_radius, low=0.0, bounds="(]")
    check_type("orthogonal", orthogonal, bool, "a bool (True or False)")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating torch.dtype; got {dtype!r}")
    device = resolve_device(device)
    gen = as_generator(seed)
    A = torch.randn(n, n, generator=gen, dtype=F64)
    if orthogonal:
        Q, R = torch.linalg.qr(A)
        W = rho * Q * torch.sign(torch.diagonal(R))  # Haar-distributed Q
    else:
        W = rho * A / torch.linalg.eigvals(A).abs().max()
    return W.to(dtype=dtype, device=device)


class LinearRNN(nn.Module):
    r"""A linear recurrent network with a scalar read-out.

    .. math:: h_t = W h_{t-1} + U x_t \quad (t = 1..T), \qquad
              \hat y = c^\top h_T,

    with :math:`h_0 = 0` unless given. Backpropagation through time multiplies
    by :math:`W^\top` once per step: :math:`\partial \hat y/\partial h_0 =
    (W^\top)^T c`, which grows like :math:`\rho(W)^T` when the spectral radius
    :math:`\rho(W) > 1` (section A11).

    Args:
        weight_hh: :math:`W`, a floating tensor of shape ``(n, n)``, ``n >= 1``.
        weight_ih: :math:`U`, shape ``(n, m)``.
        readout: :math:`c`, shape ``(n,)``.
        (All three of one dtype and device; copied into parameters.)

    >>> rnn = LinearRNN(torch.eye(2), torch.ones(2, 1), torch.ones(2))
    >>> rnn(torch.ones(3, 5, 1)).tolist()  # h_5 = (5, 5): c.h = 10
    [10.0, 10.0, 10.0]
    """

    def __init__(self, weight_hh: Tensor, weight_ih: Tensor, readout: Tensor):
        super().__init__()
        check_type("weight_hh", weight_hh, Tensor, "a floating torch.Tensor")
        if not weight_hh.is_floating_point():
            raise TypeError("weight_hh must be a floating torch.Tensor; got dtype "
                            f"{weight_hh.dtype}")
        n = weight_hh.shape[0] if weight_hh.ndim == 2 else 0
        check_shape("weight_hh", weight_hh, (n, n))
        if n == 0:
            raise ValueError("weight_hh must have shape (n, n) with n >= 1; got "
                             "shape (0, 0)")
        check_shape("weight_ih", weight_ih, (n, None))
        check_shape("readout", readout, (n,))
        for name, t in (("weight_ih", weight_ih), ("readout", readout)):
            if (t.dtype, t.device) != (weight_hh.dtype, weight_hh.device):
                raise TypeError(
                    f"{name} must have the dtype and device of weight_hh, "
                    f"{weight_hh.dtype} on {weight_hh.device}; got {t.dtype} on "
                    f"{t.device}")
        self.weight_hh = nn.Parameter(weight_hh.detach().clone())
        self.weight_ih = nn.Parameter(weight_ih.detach().clone())
        self.readout = nn.Parameter(readout.detach().clone())

    def forward(self, x: Tensor, h0: Tensor | None = None) -> Tensor:
        """``x``: inputs ``(N, T, m)``; ``h0``: ``(N, n)`` or None; returns ``(N,)``.

        ``x`` and ``h0`` have the model's dtype (checked, with the shapes).
        """
        n, m = self.weight_ih.shape
        check_shape("x", x, (None, None, m))
        if h0 is not None:
            check_shape("h0", h0, (x.shape[0], n))
        for name, t in (("x", x), ("h0", x if h0 is None else h0)):
            if t.dtype != self.weight_hh.dtype:
                raise TypeError(f"{name} must have the model's dtype, "
                                f"{self.weight_hh.dtype}; got {t.dtype}")
        h = x.new_zeros(x.shape[0], self.weight_hh.shape[0]) if h0 is None else h0
        for t in range(x.shape[1]):
            h = h @ self.weight_hh.T + x[:, t] @ self.weight_ih.T  # (N, n)
        return h @ self.readout


@dataclass(frozen=True)
class RNNGradients:
    """What :func:`rnn_gradient_norms` returns.

    Returned by :func:`rnn_gradient_norms`; you receive one, you do not build one.
    ``L`` is the number of ``lengths`` asked for; the norms are float64 on the CPU.

    Attributes:
        lengths: the sequence lengths ``T``, int64, shape ``(L,)``.
        h0: :math:`\\lVert\\partial \\hat y/\\partial h_0\\rVert` per length, ``(L,)``.
        params: the norm of the gradient with respect to all parameters, ``(L,)``.
    """

    lengths: Tensor
    h0: Tensor
    params: Tensor


def rnn_gradient_norms(model: LinearRNN, inputs: Tensor, lengths: Sequence[int]
                       ) -> RNNGradients:
    r"""Gradient norms of :math:`\hat y = c^\top h_T` for several lengths ``T``.

    For each ``T`` the network reads the first ``T`` inputs of one sequence from
    :math:`h_0 = 0`, and autograd gives :math:`\partial\hat y/\partial h_0` and
    the gradient with respect to :math:`(W, U, c)`. (Section A11.)

    Args:
        model: a :class:`LinearRNN`.
        inputs: one sequence, shape ``(T_max, m)``, ``T_max >= 1``, in the
            model's dtype.
        lengths: one or more ints in ``[1, T_max]``.

    Returns:
        an :class:`RNNGradients` (float64, on the CPU).

    >>> W = recurrent_matrix(3, 2.0, seed=0, device="cpu")
    >>> c = torch.tensor([1.0, 0.0, 0.0], dtype=W.dtype)
    >>> rnn = LinearRNN(W, torch.ones(3, 1, dtype=W.dtype), c)
    >>> g = rnn_gradient_norms(rnn, torch.ones(4, 1, dtype=W.dtype), [1, 2, 4])
    >>> [round(v, 6) for v in g.h0.tolist()]  # 2**T exactly
    [2.0, 4.0, 16.0]
    """
    check_type("model", model, LinearRNN, "a LinearRNN")
    check_type("inputs", inputs, Tensor, "a torch.Tensor of shape (T_max, m)")
    m = model.weight_ih.shape[1]
    check_shape("inputs", inputs, (None, m))
    if inputs.dtype != model.weight_hh.dtype:
        raise TypeError(f"inputs must have the model's dtype, "
                        f"{model.weight_hh.dtype}; got {inputs.dtype}")
    t_max = inputs.shape[0]
    if t_max == 0:
        raise ValueError(f"inputs must have shape (T_max, {m}) with T_max >= 1; "
                         f"got shape {tuple(inputs.shape)}")
    if isinstance(lengths, (str, bytes)) or not isinstance(lengths, Iterable):
        raise TypeError(f"lengths must be a sequence of ints; got {lengths!r}")
    lengths = [check_int(f"lengths[{i}]", T, low=1, high=t_max)
               for i, T in enumerate(lengths)]
    if not lengths:
        raise ValueError("lengths must hold at least one length; got []")
    params = list(model.parameters())
    h0_norms, param_norms = [], []
    for T in lengths:
        h0 = inputs.new_zeros(1, model.weight_hh.shape[0], requires_grad=True)
        out = model(inputs[None, :T], h0).sum()
        grads = torch.autograd.grad(out, [h0, *params])
        h0_norms.append(torch.linalg.vector_norm(grads[0]))
        param_norms.append(_total_norm(grads[1:]))
    return RNNGradients(lengths=torch.tensor(lengths),
                        h0=torch.stack(h0_norms).detach().double().cpu(),
                        params=torch.stack(param_norms).detach().double().cpu())


def _total_norm(tensors: Sequence[Tensor]) -> Tensor:
    """Euclidean norm of all entries together (the way torch clips)."""
    return torch.linalg.vector_norm(
        torch.stack([torch.linalg.vector_norm(g) for g in tensors]))


def _check_tensors(name: str, tensors: Sequence[Tensor]) -> list[Tensor]:
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    if not isinstance(tensors, Iterable) or isinstance(tensors, (str, bytes)):
        raise TypeError(f"{name} must be a tensor or a non-empty sequence of "
                        f"tensors; got {tensors!r}")
    tensors = list(tensors)
    if not tensors or not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"{name} must be a tensor or a non-empty sequence of "
                        f"tensors; got {tensors!r}")
    return tensors


def clip_by_norm(grads: Tensor | Sequence[Tensor], max_norm: float,
                 eps: float = 1e-6) -> list[Tensor]:
    r"""Rescale gradients so that their joint Euclidean norm is at most ``max_norm``.

    .. math:: g \leftarrow g\cdot\min\Big(1, \frac{c}{\lVert g\rVert + \epsilon}
              \Big),

    one positive factor for all tensors, so the direction is kept exactly. The
    :math:`\epsilon = 10^{-6}` is torch's: the result equals
    ``torch.nn.utils.clip_grad_norm_(..., max_norm)`` bit for bit, and its norm
    is :math:`c\lVert g\rVert/(\lVert g\rVert+\epsilon)`, a hair below
    :math:`c`. (Section A11.)

    Args:
        grads: a floating tensor or a sequence of them (not changed).
        max_norm: :math:`c > 0`.
        eps: :math:`\epsilon \ge 0`.

    Returns:
        the clipped tensors, a new list.

    >>> clip_by_norm(torch.tensor([3.0, 4.0]), 1.0, eps=0.0)
    [tensor([0.6000, 0.8000])]
    """
    grads = _check_tensors("grads", grads)
    for g in grads:
        if not g.is_floating_point():
            raise TypeError("grads must be floating-point tensors; got dtype "
                            f"{g.dtype}")
    c = check_real("max_norm", max_norm, low=0.0, bounds="(]")
    eps = check_real("eps", eps, low=0.0)
    coef = torch.clamp(c / (_total_norm(grads) + eps), max=1.0)
    return [g * coef for g in grads]


def clip_by_value(grads: Tensor | Sequence[Tensor], clip_value: float
                  ) -> list[Tensor]:
    r"""Clamp every gradient entry to :math:`[-v, v]` (changes the direction).

    Equal to ``torch.nn.utils.clip_grad_value_``. Entries above ``v`` in size
    are cut to ``v`` while small ones are kept, so the large coordinates lose
    weight relative to the small ones. (Section A11.)

    Args:
        grads: a tensor or a sequence of tensors (not changed).
        clip_value: :math:`v > 0`.

    Returns:
        the clipped tensors, a new list.

    >>> clip_by_value(torch.tensor([3.0, 0.5]), 1.0)
    [tensor([1.0000, 0.5000])]
    """
    grads = _check_tensors("grads", grads)
    v = check_real("clip_value", clip_value, low=0.0, bounds="(]")
    return [g.clamp(-v, v) for g in grads]


def cosine_similarity(a: Tensor | Sequence[Tensor], b: Tensor | Sequence[Tensor]
                      ) -> float:
    r"""Cosine of the angle between two gradients, each flattened and joined.

    :math:`\cos = a\cdot b / (\lVert a\rVert\,\lVert b\rVert)`, in float64.
    ``a`` and ``b`` (tensors or sequences of them) hold the same number of
    entries in all, with finite nonzero norms.

    >>> cosine_similarity(torch.tensor([1.0, 0.0]), torch.tensor([1.0, 1.0]))
    0.7071067811865475
    """
    a = torch.cat([t.reshape(-1).double() for t in _check_tensors("a", a)])
    b = torch.cat([t.reshape(-1).double() for t in _check_tensors("b", b)])
    if a.shape != b.shape:
        raise ValueError(f"b must have {a.numel()} entries in all (like a); got "
                         f"{b.numel()}")
    for name, v in (("a", a), ("b", b)):
        norm = float(v.norm())
        if not 0 < norm < math.inf:  # NaN fails too
            raise ValueError(f"{name} must have a finite, nonzero norm (no angle "
                             f"otherwise); got norm {norm}")
    return float(a @ b / (a.norm() * b.norm()))


# --------------------------------------------------------------------------
# A12: subgradients, the hinge loss and the linear SVM
# --------------------------------------------------------------------------

def _check_svm(X: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    check_type("X", X, Tensor, "a torch.Tensor of shape (n, d)")
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X must have shape (n, d) with n >= 1; got shape "
                         f"{tuple(X.shape)}")
    check_shape("y", y, (X.shape[0],))
    if not ((y == 1) | (y == -1)).all():
        raise ValueError("y must hold labels -1 and +1 only; got values "
                         f"{torch.unique(y).tolist()}")
    bad = int((~torch.isfinite(X)).sum())
    if bad:
        raise ValueError(f"X must be finite; got {bad} non-finite entries")
    return X, y.to(X.dtype)


def _check_w(w: Tensor, X: Tensor, *, stack: bool) -> Tensor:
    """``w``: ``(d,)`` (or ``(..., d)`` when ``stack``), floating, of X's dtype."""
    if not X.is_floating_point():
        raise TypeError(f"X must be a floating tensor; got dtype {X.dtype}")
    d = X.shape[1]
    shape = f"(..., {d})" if stack else f"({d},)"
    check_type("w", w, Tensor, f"a torch.Tensor of shape {shape}")
    if stack:
        if w.ndim == 0 or w.shape[-1] != d:
            raise ValueError(f"w must have shape {shape}; got shape {tuple(w.shape)}")
    else:
        check_shape("w", w, (d,))
    if not w.is_floating_point() or w.dtype != X.dtype:
        raise TypeError(f"w must be a floating tensor of the dtype of X, {X.dtype}; "
                        f"got {w.dtype}")
    return w


def hinge_loss(w: Tensor, X: Tensor, y: Tensor) -> Tensor:
    r"""Mean hinge loss :math:`\frac1n\sum_i \max(0, 1 - y_i\, w^\top x_i)`.

    Args:
        w: weights, shape ``(d,)`` or a stack ``(..., d)``, floating, in the
            dtype of ``X``.
        X: examples, finite, shape ``(n, d)``; y: labels in ``{-1, +1}``, shape
            ``(n,)``.

    Returns:
        the loss, shape ``w.shape[:-1]``.

    >>> hinge_loss(torch.tensor([1.0]), torch.tensor([[2.0], [0.5]]),
    ...            torch.tensor([1, 1]))
    tensor(0.2500)
    """
    X, y = _check_svm(X, y)
    _check_w(w, X, stack=True)
    margins = y * (w @ X.T)  # (..., n)
    return torch.clamp(1 - margins, min=0).mean(-1)


def svm_objective(w: Tensor, X: Tensor, y: Tensor, lam: float) -> Tensor:
    r"""The linear SVM objective :math:`F(w) = \frac{\lambda}{2}\lVert w\rVert^2 +`
    :func:`hinge_loss`.

    :math:`F` is :math:`\lambda`-strongly convex but not differentiable where
    some margin :math:`y_i w^\top x_i` equals 1. (Section A12.)

    Args:
        w: shape ``(d,)`` or ``(..., d)``; X, y: as in :func:`hinge_loss`.
        lam: :math:`\lambda > 0`.

    Returns:
        :math:`F(w)`, shape ``w.shape[:-1]``.

    >>> svm_objective(torch.tensor([1.0]), torch.tensor([[2.0]]), torch.tensor([1]),
    ...               lam=0.5)
    tensor(0.2500)
    """
    lam = check_real("lam", lam, low=0.0, bounds="(]")
    hinge = hinge_loss(w, X, y)  # checks w, X, y
    return 0.5 * lam * (w * w).sum(-1) + hinge


def svm_subgradient(w: Tensor, X: Tensor, y: Tensor, lam: float, *,
                    kink: float = 0.0) -> Tensor:
    r"""A subgradient of :func:`svm_objective` at ``w``.

    The hinge :math:`h(z) = \max(0, 1-z)` has derivative :math:`-1` for
    :math:`z<1` and :math:`0` for :math:`z>1`; at the kink :math:`z=1` its
    subdifferential is the whole interval :math:`[-1, 0]`. By the chain rule
    for a linear map, every

    .. math:: g = \lambda w - \frac1n\sum_i a_i\, y_i x_i, \qquad
              a_i = \begin{cases} 1 & y_i w^\top x_i < 1\\
              \kappa & y_i w^\top x_i = 1\\ 0 & y_i w^\top x_i > 1\end{cases}

    with :math:`\kappa\in[0,1]` is a subgradient of :math:`F` at :math:`w`:
    :math:`F(v) \ge F(w) + g^\top(v-w)` for all :math:`v`. (Section A12.)

    Args:
        w: shape ``(d,)``, in the dtype of ``X``; X, y: as in :func:`hinge_loss`;
            lam: :math:`\lambda>0`.
        kink: :math:`\kappa`, the weight of examples exactly at the margin. Values
            outside ``[0, 1]`` are accepted on purpose, to show that they break
            the subgradient inequality.

    Returns:
        ``g``, shape ``(d,)``.

    >>> svm_subgradient(torch.tensor([0.5]), torch.tensor([[2.0]]),
    ...                 torch.tensor([1]), lam=1.0, kink=0.25)
    tensor([0.])
    """
    X, y = _check_svm(X, y)
    _check_w(w, X, stack=False)
    lam = check_real("lam", lam, low=0.0, bounds="(]")
    kink = check_real("kink", kink)
    margins = y * (X @ w)
    a = torch.where(margins < 1, 1.0, 0.0).to(X.dtype)
    a = torch.where(margins == 1, kink, a)
    return lam * w - (a * y) @ X / X.shape[0]


@dataclass(frozen=True)
class Pegasos:
    """What :func:`pegasos` returns (float64 tensors on the CPU).

    Returned by :func:`pegasos`; you receive one, you do not build one. ``T`` is
    ``steps`` and ``d`` the number of features.

    Attributes:
        weights: the iterates :math:`w_0, \\dots, w_T`, shape ``(T + 1, d)``.
        average: :math:`\\bar w_t = \\frac1t\\sum_{s=0}^{t-1} w_s`, the mean of
            the points at which the first ``t`` subgradients were taken (row 0
            is :math:`w_0`), shape ``(T + 1, d)``.
        objective: :math:`F(w_t)` on all the data, ``(T + 1,)``.
        average_objective: :math:`F(\\bar w_t)`, ``(T + 1,)``.
        lrs: the step sizes :math:`1/(\\lambda t)`, ``(T,)``.
    """

    weights: Tensor
    average: Tensor
    objective: Tensor
    average_objective: Tensor
    lrs: Tensor


def pegasos(X: Tensor, y: Tensor, *, lam: float, steps: int, batch_size: int,
            seed: SeedLike = None, device: str | torch.device | None = None
            ) -> Pegasos:
    r"""Mini-batch subgradient descent for the linear SVM (Pegasos, no projection).

    Step :math:`t = 1, \dots, T` draws a batch :math:`B_t` of ``b`` examples
    uniformly with replacement and moves against the batch subgradient
    (:func:`svm_subgradient` on :math:`B_t`, with :math:`\kappa = 0`) with the
    step :math:`\eta_t = 1/(\lambda t)`:

    .. math:: w_t = w_{t-1} - \eta_t\Big(\lambda w_{t-1} - \frac1b\sum_{i\in B_t,
              \ y_i w_{t-1}^\top x_i < 1} y_i x_i\Big), \qquad w_0 = 0 .

    Shalev-Shwartz et al. (2011) also project onto the ball of radius
    :math:`1/\sqrt\lambda`; that is left out here. For a
    :math:`\lambda`-strongly convex :math:`F` whose batch subgradients along the
    run are bounded by :math:`G` (here :math:`G \le 2\max_i\lVert x_i\rVert`,
    because :math:`\lVert w_t\rVert \le \max_i\lVert x_i\rVert/\lambda`), the
    average of the points where the subgradients were taken satisfies
    :math:`E[F(\bar w_T)] - F^\star \le G^2 (1 + \ln T)/(2\lambda T)`
    (logarithmic regret of Hazan et al. 2007, then online-to-batch conversion).
    (Section A12.)

    Args:
        X: examples ``(n, d)``; y: labels in ``{-1, +1}``, ``(n,)``.
        lam: :math:`\lambda > 0`.
        steps: :math:`T`, an int ``>= 1``.
        batch_size: ``b``, an int ``>= 1``.
        seed: int, ``torch.Generator`` or ``None`` (the batches, drawn on the
            CPU, so a seed gives the same run everywhere).
        device: where to compute; default :func:`mbgd.device.default_device`.

    Returns:
        a :class:`Pegasos` (tensors on the CPU).

    >>> X = torch.tensor([[1.0, 2.0], [2.0, 1.0], [-1.0, -2.0], [-2.0, -1.0]])
    >>> y = torch.tensor([1, 1, -1, -1])
    >>> run = pegasos(X, y, lam=0.1, steps=50, batch_size=2, seed=0)
    >>> bool((torch.sign(X.double() @ run.average[-1]) == y).all())
    True
    """
    X, y = _check_svm(X, y)
    lam = check_real("lam", lam, low=0.0, bounds="(]")
    steps = check_int("steps", steps, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    device = resolve_device(device)
    X, y = X.to(device=device, dtype=F64), y.to(device=device, dtype=F64)
    batches = ReplacementSampler(X.shape[0], batch_size, num_batches=steps,
                                 seed=seed, device=device).epoch()
    w = torch.zeros(X.shape[1], dtype=F64, device=device)
    weights = [w]
    for t, idx in enumerate(batches, start=1):
        w = w - svm_subgradient(w, X[idx], y[idx], lam) / (lam * t)
        weights.append(w)
    W = torch.stack(weights)  # (T + 1, d)
    counts = torch.arange(1, steps + 1, dtype=F64, device=device)[:, None]
    average = torch.cat([W[:1], W[:-1].cumsum(0) / counts])
    return Pegasos(weights=W.cpu(), average=average.cpu(),
                   objective=svm_objective(W, X, y, lam).cpu(),
                   average_objective=svm_objective(average, X, y, lam).cpu(),
                   lrs=(1 / (lam * counts[:, 0])).cpu())


@dataclass(frozen=True)
class SVMOptimum:
    """What :func:`svm_optimum` returns.

    Returned by :func:`svm_optimum`; you receive one, you do not build one.

    Attributes:
        weight: the primal solution :math:`w(\\alpha)`, float64 on the CPU, shape
            ``(d,)``.
        primal: :math:`F(w(\\alpha))`, a float, an upper bound on
            :math:`F^\\star`.
        dual: :math:`D(\\alpha)`, a float, a lower bound on :math:`F^\\star`;
            ``primal - dual >= 0`` bounds the error of both.
    """

    weight: Tensor
    primal: float
    dual: float


def svm_optimum(X: Tensor, y: Tensor, *, lam: float, iters: int = 3000,
                device: str | torch.device | None = None) -> SVMOptimum:
    r"""Solve the linear SVM to high accuracy, with a certificate, via its dual.

    With :math:`z_i = y_i x_i`, the dual of :func:`svm_objective` is

    .. math:: \max_{\alpha\in[0,1]^n}\ D(\alpha) = \frac1n\sum_i\alpha_i -
              \frac{1}{2\lambda n^2}\Big\lVert\sum_i \alpha_i z_i\Big\rVert^2,
              \qquad w(\alpha) = \frac{1}{\lambda n}\sum_i \alpha_i z_i,

    a smooth concave problem over a box, solved here by accelerated projected
    gradient ascent (FISTA, restarted whenever the momentum points downhill,
    O'Donoghue and Candes 2015). Weak duality brackets the optimum:
    :math:`D(\alpha) \le F^\star \le F(w(\alpha))`, so the returned
    ``primal - dual`` bounds the error. (Section A12.)

    Args:
        X, y: as in :func:`hinge_loss`; lam: :math:`\lambda > 0`.
        iters: FISTA iterations, an int ``>= 1``.
        device: where to compute; default :func:`mbgd.device.default_device`.

    Returns:
        an :class:`SVMOptimum` (weight float64, on the CPU).

    >>> X = torch.tensor([[1.0], [-1.0]])
    >>> opt = svm_optimum(X, torch.tensor([1, -1]), lam=0.5)
    >>> round(opt.primal, 6), round(opt.dual, 6), opt.weight.tolist()
    (0.25, 0.25, [1.0])
    """
    X, y = _check_svm(X, y)
    lam = check_real("lam", lam, low=0.0, bounds="(]")
    iters = check_int("iters", iters, low=1)
    Z = (y[:, None] * X).to(device=resolve_device(device), dtype=F64)  # (n, d)
    n = Z.shape[0]
    lipschitz = float(torch.linalg.matrix_norm(Z, ord=2)) ** 2 / (lam * n * n)
    step = 1.0 / max(lipschitz, 1e-300)
    alpha = torch.zeros(n, dtype=F64, device=Z.device)
    point, t = alpha, 1.0
    for _ in range(iters):
        grad = (1 - Z @ (Z.T @ point) / (lam * n)) / n  # dD/dalpha
        new = torch.clamp(point + step * grad, 0.0, 1.0)
        if float(grad @ (new - alpha)) < 0:  # momentum points downhill: restart
            t = 1.0
        t_new = 0.5 * (1 + math.sqrt(1 + 4 * t * t))
        point = new + (t - 1) / t_new * (new - alpha)
        alpha, t = new, t_new
    w = Z.T @ alpha / (lam * n)
    dual = float(alpha.sum() / n - 0.5 * lam * (w @ w))
    primal = float(svm_objective(w, Z, torch.ones(n, dtype=F64, device=Z.device),
                                 lam))
    return SVMOptimum(weight=w.cpu(), primal=primal, dual=dual)


# --------------------------------------------------------------------------
# A13: gradient accumulation
# --------------------------------------------------------------------------

def flat_grad(params: Sequence[Tensor]) -> Tensor:
    """The ``.grad`` of every parameter, flattened and joined (zeros for None).

    >>> p = torch.ones(2, requires_grad=True)
    >>> (3 * p).sum().backward()
    >>> flat_grad([p])
    tensor([3., 3.])
    """
    params = _check_tensors("params", params)
    return torch.cat([(torch.zeros_like(p) if p.grad is None else p.grad).reshape(-1)
                      for p in params])


def accumulated_gradient(model: nn.Module, loss_fn: Callable[[Tensor, Tensor], Tensor],
                         micro_batches: Sequence[Sequence[Tensor]], *,
                         weighting: str = "size") -> Tensor:
    r"""The gradient that accumulating over micro-batches produces, flattened.

    Micro-batch ``j`` (``n_j`` examples, mean loss :math:`\bar\ell_j`) adds
    :math:`w_j\nabla\bar\ell_j` to the gradient buffers, with

    * ``"size"``: :math:`w_j = n_j/n` (:math:`n = \sum_j n_j`): exactly the
      gradient of the mean loss over all ``n`` examples, one large batch (for
      layers that treat examples independently);
    * ``"equal"``: :math:`w_j = 1/k` for ``k`` micro-batches (``loss /
      accumulate``, the common recipe): the same only when all ``n_j`` are equal;
    * ``"sum"``: :math:`w_j = 1` (no division): ``k`` times too large for equal
      sizes.

    The model is called in its current mode (``train()`` or ``eval()``).
    (Section A13.)

    Args:
        model: an ``nn.Module``; its ``.grad`` buffers are zeroed first and left
            holding the result.
        loss_fn: ``loss_fn(output, target)``, the *mean* loss of a batch.
        micro_batches: one or more tuples ``(inputs..., target)``, each tensor
            with the micro-batch's examples (at least one, the same number in
            every tensor of the tuple) along dimension 0.
        weighting: ``"size"`` (default), ``"equal"`` or ``"sum"``.

    Returns:
        the accumulated gradient of all parameters, flattened (a copy), shape
        ``(number of parameters,)``.

    >>> model = torch.nn.Linear(1, 1, bias=False)
    >>> _ = torch.nn.init.ones_(model.weight)
    >>> x = torch.tensor([[1.0], [2.0], [3.0]])
    >>> batches = [(x[:2], torch.zeros(2, 1)), (x[2:], torch.zeros(1, 1))]
    >>> loss = torch.nn.MSELoss()
    >>> accumulated_gradient(model, loss, batches)  # 2 mean(x^2) = 28/3
    tensor([9.3333])
    >>> accumulated_gradient(model, loss, batches, weighting="equal")
    tensor([11.5000])
    """
    check_type("model", model, nn.Module, "a torch.nn.Module")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable; got {loss_fn!r}")
    weighting = check_choice("weighting", weighting, ("size", "equal", "sum"))
    rule = "a non-empty list of tuples (inputs..., target)"
    if isinstance(micro_batches, Tensor) or not isinstance(micro_batches, Iterable):
        raise TypeError(f"micro_batches must be {rule}; got {micro_batches!r}")
    batches = list(micro_batches)
    if not batches:
        raise ValueError(f"micro_batches must be {rule}; got []")
    for j, mb in enumerate(batches):
        if not isinstance(mb, (tuple, list)):
            raise TypeError(f"micro_batches[{j}] must be a tuple (inputs..., target); "
                            f"got {type(mb).__name__}")
        if len(mb) < 2:
            raise ValueError(f"micro_batches[{j}] must hold inputs and a target (2 or "
                             f"more tensors); got {len(mb)}")
        _check_batch(mb, name=f"micro_batches[{j}]")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model must have parameters with requires_grad; got "
                         f"{model!r}")
    sizes = [mb[-1].shape[0] for mb in batches]
    total = sum(sizes)
    weights = {"size": [n / total for n in sizes],
               "equal": [1 / len(sizes)] * len(sizes),
               "sum": [1.0] * len(sizes)}[weighting]
    model.zero_grad(set_to_none=False)
    for mb, w in zip(batches, weights):
        (loss_fn(model(*mb[:-1]), mb[-1]) * w).backward()
    return flat_grad(params).clone()
