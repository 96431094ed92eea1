r"""The mini-batch gradient as an estimator: the simulations of sections P6-P10.

A data set of ``N`` per-example gradients :math:`g_1, \dots, g_N` is the
population; a mini-batch gradient :math:`g_b` is the mean of ``b`` of them, drawn
by a sampler of :mod:`mbgd.data`. This module holds what the chapter measures:

* noisy linear regression, the running example (:func:`linear_regression`,
  :class:`LinearRegression`), and its closed-form noise scale
  (:func:`linear_noise_scale`);
* the work of one vectorised gradient against ``b`` single-example ones
  (:func:`gradient_work`);
* batch estimates from any sampler, and their exact moments by enumerating every
  batch (:func:`sample_estimates`, :func:`exact_batch_moments`);
* correlated samples (:func:`equicorrelated_variance`,
  :func:`equicorrelated_batch_means`, :func:`grouped_batch_means`);
* the tail probability of :math:`|g_b - g|` against Chebyshev's and the Gaussian
  batch sizes (:func:`gaussian_batch_size`, :func:`simulate_tail`);
* the expected one-step progress against the batch size (:func:`optimal_lr`,
  :func:`expected_decrease`, :func:`curvature_noise_scale`,
  :func:`simulate_progress`);
* mini-batch SGD on least squares, vectorised over learning rates
  (:func:`sgd_least_squares`), and the explorer "batch size x learning rate"
  (:func:`simulate_batch_lr`, :func:`explore_batch_lr`, :func:`standin_batch_lr`).

The statistics themselves (covariances, the noise scale, the finite-population
correction, Chebyshev's batch size, stratified variances) live in
:mod:`mbgd.noise`; the samplers in :mod:`mbgd.data`.

>>> from mbgd.noise import noise_scale
>>> problem = linear_regression(100_000, [2.0], noise_std=1.0, seed=0, device="cpu")
>>> G = problem.example_grads([3.0])  # u = w - beta = 1
>>> G.shape, linear_noise_scale(1.0), round(float(noise_scale(G)), 2)
(torch.Size([100000, 1]), 3.0, 3.0)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import torch
from torch import Tensor
from torch.overrides import TorchFunctionMode

from ._checks import (check_choice, check_int, check_real, check_reals, check_shape,
                      check_type)
from .data import EpochSampler, IndexSampler, ReplacementSampler, StratifiedSampler
from .device import resolve_device
from .explore import Control, Explorer
from .noise import grad_covariance, grad_mean
from .seeding import SeedLike, as_generator

__all__ = [
    "X_KURTOSIS",
    "LinearRegression",
    "linear_regression",
    "running_example",
    "single_grad_variance",
    "linear_noise_scale",
    "GradientWork",
    "gradient_work",
    "sample_estimates",
    "BatchMoments",
    "exact_batch_moments",
    "equicorrelated_variance",
    "equicorrelated_batch_means",
    "grouped_batch_means",
    "gaussian_batch_size",
    "TailResult",
    "simulate_tail",
    "optimal_lr",
    "expected_decrease",
    "curvature_noise_scale",
    "ProgressResult",
    "simulate_progress",
    "SGDRun",
    "sgd_least_squares",
    "EXPLORER_EPOCHS",
    "BATCH_SIZES",
    "LEARNING_RATES",
    "BatchLRResult",
    "simulate_batch_lr",
    "BatchLRView",
    "batch_lr_explorer",
    "explore_batch_lr",
    "standin_batch_lr",
]

DTYPE = torch.float64

#: Kurtosis :math:`E[x^4]` of the unit-variance input distributions of
#: :func:`linear_regression` (mean 0, :math:`E[x^2] = 1`).
X_KURTOSIS = {"gaussian": 3.0, "uniform": 1.8, "rademacher": 1.0, "laplace": 6.0}

# A run whose excess loss climbs above this multiple of its start has diverged.
_DIVERGED = 1e8
# At most this many batches are enumerated by exact_batch_moments.
_MAX_ENUMERATED = 2_000_000


def _check_finite(name: str, tensor: Tensor) -> Tensor:
    """Raise ``ValueError`` if ``tensor`` holds a nan or an infinity."""
    bad = int((~torch.isfinite(tensor)).sum())
    if bad:
        raise ValueError(f"{name} must hold finite numbers only; got {bad} nan or "
                         f"inf value(s) of {tensor.numel()}")
    return tensor


# --------------------------------------------------------------------------
# The running example: noisy linear regression
# --------------------------------------------------------------------------

def _draw_x(shape: tuple[int, ...], x_dist: str, gen: torch.Generator) -> Tensor:
    """Unit-variance, mean-zero draws from one of :data:`X_KURTOSIS` (on the CPU)."""
    if x_dist == "gaussian":
        return torch.randn(shape, generator=gen, dtype=DTYPE)
    if x_dist == "uniform":  # U(-sqrt 3, sqrt 3) has variance 1
        return (2 * torch.rand(shape, generator=gen, dtype=DTYPE) - 1) * math.sqrt(3)
    sign = 2.0 * torch.randint(0, 2, shape, generator=gen, dtype=DTYPE) - 1
    if x_dist == "rademacher":
        return sign
    # Laplace with scale 1/sqrt(2): a signed exponential, variance 2 / 2 = 1
    expo = torch.empty(shape, dtype=DTYPE).exponential_(generator=gen)
    return sign * expo / math.sqrt(2)


@dataclass(frozen=True)
class LinearRegression:
    r"""A least-squares problem :math:`f(w) = \frac1N\sum_i \tfrac12 (x_i^\top w -
    y_i)^2` and its exact quadratic structure.

    :math:`f` is a quadratic with Hessian :math:`A = X^\top X/N`; its minimiser
    :math:`\hat w = A^{-1} X^\top y / N` is where the *data set's* gradient
    vanishes (it differs from the true ``beta`` by the noise), and
    :math:`f(w) - f(\hat w) = \tfrac12 (w - \hat w)^\top A (w - \hat w)`.

    Usually built by :func:`linear_regression` or :func:`running_example`.

    Attributes:
        X: inputs, float64 ``(N, d)`` with ``N, d >= 1``; y: targets, ``(N,)``;
            beta: the true coefficients, ``(d,)``; all finite, on one device.

    Example:
        >>> X = torch.tensor([[1.0], [3.0]], dtype=torch.float64)
        >>> p = LinearRegression(X, y=torch.tensor([1.0, 3.0], dtype=torch.float64),
        ...                      beta=torch.tensor([1.0], dtype=torch.float64))
        >>> p.hessian.item(), p.minimizer.item(), p.excess_loss([2.0]).item()
        (5.0, 1.0, 2.5)
        >>> p.example_grads([2.0]).tolist(), p.grad([2.0]).tolist()  # x_i(x_i w - y_i)
        ([[1.0], [9.0]], [5.0])
    """

    X: Tensor
    y: Tensor
    beta: Tensor

    def __post_init__(self):
        check_shape("X", self.X, (None, None))
        check_shape("y", self.y, (self.X.shape[0],))
        check_shape("beta", self.beta, (self.X.shape[1],))
        if self.X.numel() == 0:
            raise ValueError("X must have N >= 1 rows and d >= 1 columns; got shape "
                             f"{tuple(self.X.shape)}")
        for name in ("X", "y", "beta"):
            tensor = getattr(self, name)
            if tensor.dtype != DTYPE:
                raise TypeError(f"{name} must be float64; got {tensor.dtype}")
            if tensor.device != self.X.device:
                raise ValueError(f"{name} must be on X's device {self.X.device}; "
                                 f"got {tensor.device}")
            _check_finite(name, tensor)

    @property
    def n(self) -> int:
        """Number of examples ``N``."""
        return self.X.shape[0]

    @property
    def dim(self) -> int:
        """Number of parameters ``d``."""
        return self.X.shape[1]

    @cached_property
    def hessian(self) -> Tensor:
        """:math:`A = X^\\top X / N`, ``(d, d)``."""
        return self.X.T @ self.X / self.n

    @cached_property
    def minimizer(self) -> Tensor:
        """:math:`\\hat w`, ``(d,)``."""
        return torch.linalg.solve(self.hessian, self.X.T @ self.y / self.n)

    def _as_w(self, w: Tensor | Sequence[float]) -> Tensor:
        w = check_reals("w", w, f"real numbers of shape (..., {self.dim})",
                        device=self.X.device)
        if w.ndim == 0 or w.shape[-1] != self.dim:
            raise ValueError(f"w must have last dimension d = {self.dim}; got shape "
                             f"{tuple(w.shape)}")
        return w

    def excess_loss(self, w: Tensor | Sequence[float]) -> Tensor:
        """:math:`f(w) - f(\\hat w)` for ``w`` of shape ``(..., d)``; shape ``(...)``.

        Computed as :math:`\\tfrac12 (w-\\hat w)^\\top A (w-\\hat w)` with
        elementwise products (no small matrix products: see
        :func:`sgd_least_squares`).
        """
        diff = self._as_w(w) - self.minimizer
        return 0.5 * (diff.unsqueeze(-1) * self.hessian * diff.unsqueeze(-2)).sum(
            (-2, -1))

    def grad(self, w: Tensor | Sequence[float]) -> Tensor:
        """The full gradient :math:`A w - X^\\top y/N`, ``(d,)`` for ``w`` ``(d,)``."""
        return grad_mean(self.example_grads(w))

    def example_grads(self, w: Tensor | Sequence[float]) -> Tensor:
        r"""Per-example gradients :math:`g_i = x_i (x_i^\top w - y_i)`, ``(N, d)``.

        ``w`` has shape ``(d,)``. The same as :func:`mbgd.noise.per_example_grads`
        of a bias-free ``nn.Linear`` with the loss :math:`\tfrac12 (\cdot)^2`.
        """
        w = self._as_w(w)
        if w.ndim != 1:
            raise ValueError(f"w must have shape ({self.dim},); got shape "
                             f"{tuple(w.shape)}")
        return self.X * (self.X @ w - self.y).unsqueeze(1)


def linear_regression(n: int, beta: Sequence[float] | Tensor, *,
                      noise_std: float = 1.0,
                      scales: Sequence[float] | Tensor | None = None,
                      x_dist: str = "gaussian", seed: SeedLike = None,
                      device: str | torch.device | None = None) -> LinearRegression:
    r"""Noisy linear data :math:`y_i = x_i^\top\beta + \varepsilon_i`.

    Each input coordinate is ``scales[j]`` times an independent unit-variance,
    mean-zero draw from ``x_dist``; the noise is Gaussian,
    :math:`\varepsilon_i \sim N(0, \sigma_\varepsilon^2)`. Everything is drawn on
    the CPU in float64 (inputs first, then noise) and then moved to ``device``.

    Args:
        n: number of examples ``N >= 1``.
        beta: true coefficients, ``d >= 1`` numbers.
        noise_std: :math:`\sigma_\varepsilon \ge 0`.
        scales: standard deviation of each input coordinate, ``d`` numbers
            ``> 0``; default all 1.
        x_dist: one of :data:`X_KURTOSIS`: ``"gaussian"``, ``"uniform"``,
            ``"rademacher"`` (:math:`\pm 1`) or ``"laplace"``.
        seed: int, ``torch.Generator`` or ``None``.
        device: where the tensors go (default: :func:`mbgd.device.default_device`).

    Returns:
        a :class:`LinearRegression` with ``X`` ``(n, d)`` and ``y`` ``(n,)``.

    >>> p = linear_regression(4, [1.0, -1.0], noise_std=0.0, seed=0, device="cpu")
    >>> p.X.shape, bool(torch.allclose(p.minimizer, p.beta))
    (torch.Size([4, 2]), True)
    """
    n = check_int("n", n, low=1)
    beta = check_reals("beta", beta, "a non-empty 1-D list of finite numbers").cpu()
    if beta.ndim != 1 or beta.numel() == 0 or not torch.isfinite(beta).all():
        raise ValueError(f"beta must be a non-empty 1-D list of finite numbers; got "
                         f"{beta.tolist()!r}")
    noise_std = check_real("noise_std", noise_std, low=0.0)
    if scales is None:
        scales = torch.ones_like(beta)
    scales = check_reals("scales", scales, f"{beta.numel()} finite numbers > 0").cpu()
    if scales.shape != beta.shape or not (scales > 0).all() \
            or not torch.isfinite(scales).all():
        raise ValueError(f"scales must be {beta.numel()} finite numbers > 0 (one per "
                         f"coefficient); got {scales.tolist()!r}")
    check_choice("x_dist", x_dist, tuple(X_KURTOSIS))
    device = resolve_device(device)
    gen = as_generator(seed)
    X = _draw_x((n, beta.numel()), x_dist, gen) * scales
    y = X @ beta + noise_std * torch.randn(n, generator=gen, dtype=DTYPE)
    return LinearRegression(X.to(device), y.to(device), beta.to(device))


@lru_cache(maxsize=4)
def _running_example(device: torch.device) -> LinearRegression:
    beta = torch.randn(8, generator=as_generator(1), dtype=DTYPE)
    scales = torch.logspace(0, -1, 8, dtype=DTYPE)
    return linear_regression(1024, beta, noise_std=0.5, scales=scales, seed=0,
                             device=device)


def running_example(device: str | torch.device | None = None) -> LinearRegression:
    r"""The chapter's running example: ``N = 1024`` examples, ``d = 8``.

    Gaussian inputs with standard deviations from 1 down to 0.1 (log-spaced, so
    the Hessian's condition number is near 100), coefficients drawn from
    :math:`N(0, 1)` with seed 1, noise :math:`\sigma_\varepsilon = 0.5`, data
    seed 0. The same object is returned on every call (it is cached).

    >>> running_example("cpu").X.shape
    torch.Size([1024, 8])
    """
    return _running_example(resolve_device(device))


def single_grad_variance(u: float, *, noise_std: float = 1.0,
                         x_dist: str = "gaussian") -> float:
    r"""Variance of one example's gradient in 1-D regression, over the population.

    With :math:`y = \beta x + \varepsilon`, :math:`E[x] = 0`, :math:`E[x^2] = 1`,
    :math:`\varepsilon` independent of :math:`x` with variance
    :math:`\sigma_\varepsilon^2`, and :math:`u = w - \beta`, one example's
    gradient of :math:`\tfrac12 (wx - y)^2` is :math:`g_1 = x^2 u - x\varepsilon`,
    with mean :math:`u` and

    .. math:: \operatorname{Var}(g_1) = (E[x^4] - 1)\,u^2 + \sigma_\varepsilon^2.

    For Gaussian :math:`x` (:math:`E[x^4] = 3`) this is :math:`2u^2 +
    \sigma_\varepsilon^2`. (Section P9.)

    Args:
        u: the error :math:`w - \beta`, a real number.
        noise_std: :math:`\sigma_\varepsilon \ge 0`.
        x_dist: one of :data:`X_KURTOSIS`.

    >>> single_grad_variance(0.5, noise_std=1.0)
    1.5
    """
    u = check_real("u", u)
    noise_std = check_real("noise_std", noise_std, low=0.0)
    check_choice("x_dist", x_dist, tuple(X_KURTOSIS))
    return (X_KURTOSIS[x_dist] - 1.0) * u**2 + noise_std**2


def linear_noise_scale(u: float, *, noise_std: float = 1.0,
                       x_dist: str = "gaussian") -> float:
    r"""Noise scale :math:`S = \operatorname{Var}(g_1)/(\nabla f)^2` of 1-D
    regression.

    With the assumptions of :func:`single_grad_variance`, :math:`\nabla f = u`, so

    .. math:: S = (E[x^4] - 1) + \frac{\sigma_\varepsilon^2}{u^2},

    which is :math:`2 + \sigma_\varepsilon^2/u^2` for Gaussian inputs only. It
    grows without bound as :math:`u \to 0` (near the optimum). (Section P9.)

    Args:
        u: the error :math:`w - \beta`, nonzero.
        noise_std: :math:`\sigma_\varepsilon \ge 0`.
        x_dist: one of :data:`X_KURTOSIS`.

    >>> linear_noise_scale(0.5), linear_noise_scale(0.5, x_dist="rademacher")
    (6.0, 4.0)
    """
    var = single_grad_variance(u, noise_std=noise_std, x_dist=x_dist)
    if u == 0:
        raise ValueError("u must be nonzero (S is infinite at the optimum); got 0.0")
    return var / u**2


# --------------------------------------------------------------------------
# Work: one vectorised gradient against b single-example ones
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class GradientWork:
    """What :func:`gradient_work` counted (all fields are Python numbers).

    Returned by :func:`gradient_work`.

    Attributes:
        batch_size: ``b``.
        flops_batched, flops_single: matrix-multiply FLOPs (``2 m k n`` for an
            ``(m, k) @ (k, n)`` product) of one batched gradient and of ``b``
            single-example gradients.
        calls_batched, calls_single: torch operations called (each is at least
            one kernel launch): indexing, products, subtraction, division.
        max_difference: largest absolute difference between the two gradients.
    """

    batch_size: int
    flops_batched: int
    flops_single: int
    calls_batched: int
    calls_single: int
    max_difference: float


class _CountOps(TorchFunctionMode):
    """Count torch operations, and the FLOPs of the matrix products among them."""

    def __init__(self):
        super().__init__()
        self.calls = 0
        self.flops = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.calls += 1
        out = func(*args, **(kwargs or {}))
        if getattr(func, "__name__", "") in ("matmul", "__matmul__", "mm"):
            self.flops += 2 * out.numel() * args[0].shape[-1]
        return out


def gradient_work(X: Tensor, y: Tensor, w: Tensor) -> GradientWork:
    r"""Count the work of the least-squares gradient of a batch, two ways.

    Batched: :math:`X_b^\top (X_b w - y_b)/b`, two matrix products. Single:
    ``b`` separate gradients :math:`x_i (x_i^\top w - y_i)`, one per row, summed.
    The arithmetic is the same (:math:`4bd` multiply-add FLOPs); what differs is
    the number of operations launched, each with a fixed overhead. The counts
    come from a ``torch.overrides.TorchFunctionMode`` that sees every torch
    call. (Section P6.)

    Args:
        X: the batch's inputs ``(b, d)``; y: targets ``(b,)``; w: ``(d,)``;
            ``b, d >= 1``, all of one floating dtype and on one device.

    Returns:
        a :class:`GradientWork`.

    >>> work = gradient_work(torch.ones(4, 3), torch.zeros(4), torch.zeros(3))
    >>> work.flops_batched == work.flops_single == 4 * 4 * 3
    True
    >>> work.calls_batched, work.calls_single  # 5, and 7 per example + 1
    (5, 29)
    """
    for name, t in (("X", X), ("y", y), ("w", w)):
        check_type(name, t, Tensor, "a torch.Tensor")
    if X.ndim != 2 or y.shape != X.shape[:1] or w.shape != X.shape[1:] \
            or X.numel() == 0:
        raise ValueError(f"X, y, w must have shapes (b, d), (b,), (d,) with b, d >= "
                         f"1; got {tuple(X.shape)}, {tuple(y.shape)}, "
                         f"{tuple(w.shape)}")
    if not X.is_floating_point():
        raise TypeError(f"X must be a floating tensor; got dtype {X.dtype}")
    for name, t in (("y", y), ("w", w)):
        if t.dtype != X.dtype or t.device != X.device:
            raise TypeError(f"{name} must have X's dtype {X.dtype} and device "
                            f"{X.device}; got {t.dtype} on {t.device}")
    b = X.shape[0]
    Y, W = y.unsqueeze(1), w.unsqueeze(1)  # (b, 1), (d, 1)

    def batched():
        return X.t() @ (X @ W - Y) / b

    def single():
        total = 0
        for i in range(b):
            xi = X[i:i + 1]  # (1, d)
            total = total + xi.t() @ (xi @ W - Y[i:i + 1])
        return total / b

    counts = []
    for fn in (batched, single):
        with _CountOps() as ops:
            result = fn()
        counts.append((ops.flops, ops.calls, result))
    (f1, c1, r1), (f2, c2, r2) = counts
    return GradientWork(b, f1, f2, c1, c2, float((r1 - r2).abs().max()))


# --------------------------------------------------------------------------
# Estimates from samplers, and their exact moments
# --------------------------------------------------------------------------

def _as_values(values: Tensor, name: str = "values") -> Tensor:
    check_type(name, values, Tensor, "a torch.Tensor of per-example values")
    if values.ndim == 0 or values.numel() == 0 or not values.is_floating_point():
        raise ValueError(f"{name} must be a floating tensor with a first (example) "
                         f"dimension >= 1 and no empty dimension; got dtype "
                         f"{values.dtype} and shape {tuple(values.shape)}")
    return _check_finite(name, values)


def sample_estimates(values: Tensor, sampler: IndexSampler, *, epochs: int = 1
                     ) -> Tensor:
    r"""The estimate of the mean from every batch of ``epochs`` epochs of a sampler.

    For :class:`mbgd.data.EpochSampler` and :class:`mbgd.data.ReplacementSampler`
    the estimate is the batch mean :math:`g_b = \frac1b\sum_{i\in B} v_i`; for
    :class:`mbgd.data.StratifiedSampler` it is the stratified estimate
    :math:`\sum_k W_k \bar v_k`. (Sections P6, P7, P10.)

    Args:
        values: per-example values, floating and finite, ``(N, ...)`` (e.g.
            per-example gradients).
        sampler: a sampler over ``N`` examples whose batches all have one size
            (an :class:`~mbgd.data.EpochSampler` needs ``drop_last=True`` unless
            ``b`` divides ``N``).
        epochs: number of epochs to draw, ``>= 1``.

    Returns:
        ``(epochs * len(sampler), ...)``, on the device of ``values``.

    >>> v = torch.arange(6.0)
    >>> [b.tolist() for b in EpochSampler(6, 2, seed=0, device="cpu")]
    [[2, 5], [3, 0], [1, 4]]
    >>> sample_estimates(v, EpochSampler(6, 2, seed=0, device="cpu"))
    tensor([3.5000, 1.5000, 2.5000])
    """
    values = _as_values(values)
    check_type("sampler", sampler, IndexSampler, "a sampler from mbgd.data")
    epochs = check_int("epochs", epochs, low=1)
    if sampler.n != values.shape[0]:
        raise ValueError(f"sampler must draw from the N = {values.shape[0]} values; "
                         f"got a sampler over n = {sampler.n}")
    if len(set(sampler.batch_sizes)) != 1:
        raise ValueError("sampler must give batches of one size (use drop_last=True);"
                         f" got sizes {sorted(set(sampler.batch_sizes))}")
    idx = torch.stack([b for _ in range(epochs) for b in sampler.epoch()])
    picked = values[idx.to(values.device)]  # (M, b, ...)
    if isinstance(sampler, StratifiedSampler):
        w = sampler.example_weights.to(device=values.device, dtype=values.dtype)
        return (picked * w.reshape(1, -1, *([1] * (values.ndim - 1)))).sum(1)
    return picked.mean(1)


@dataclass(frozen=True)
class BatchMoments:
    """Exact moments of the batch mean over every possible batch.

    Returned by :func:`exact_batch_moments`.

    Attributes:
        mean: :math:`E[g_b]`, shape ``values.shape[1:]``.
        cov: :math:`\\operatorname{Cov}(g_b)`, ``(P, P)`` (or a 0-d variance for
            1-D values), dividing by the number of batches (exact, not estimated).
        count: how many equally likely batches were enumerated.
    """

    mean: Tensor
    cov: Tensor
    count: int


def exact_batch_moments(values: Tensor, batch_size: int, *, replacement: bool
                        ) -> BatchMoments:
    r"""Mean and covariance of :math:`g_b` by enumerating every possible batch.

    Without replacement every one of the :math:`\binom{N}{b}` subsets is equally
    likely; with replacement every one of the :math:`N^b` ordered tuples. The
    moments are then plain averages over the enumeration: no sampling error, so
    they can be compared with :math:`\Sigma/b` and
    :math:`\frac{\Sigma}{b}\frac{N-b}{N-1}` to rounding error. (Section P7.)

    Args:
        values: per-example values, floating and finite, ``(N,)`` or ``(N, P)``.
        batch_size: ``b``, ``1 <= b`` (``<= N`` without replacement).
        replacement: enumerate tuples (``True``) or subsets (``False``).

    Returns:
        a :class:`BatchMoments`. Raises ``ValueError`` when there would be more
        than 2,000,000 batches.

    >>> m = exact_batch_moments(torch.tensor([0.0, 1.0, 2.0]), 2, replacement=False)
    >>> m.count, float(m.mean), round(float(m.cov), 6)  # (2/3) / 2 * (3-2)/(3-1)
    (3, 1.0, 0.166667)
    """
    values = _as_values(values)
    n = values.shape[0]
    if not isinstance(replacement, bool):
        raise TypeError(f"replacement must be a bool (True or False); got "
                        f"{replacement!r}")
    b = check_int("batch_size", batch_size, low=1, high=None if replacement else n)
    count = n**b if replacement else math.comb(n, b)
    if count > _MAX_ENUMERATED:
        raise ValueError(f"batch_size must leave at most {_MAX_ENUMERATED} batches "
                         f"to enumerate; got {b}, which gives {count} for N = {n}")
    if replacement:  # all N^b tuples: the base-N digits of 0 .. N^b - 1
        codes = torch.arange(count, device=values.device).unsqueeze(1)
        powers = n ** torch.arange(b, device=values.device)
        idx = codes // powers % n
    else:
        # (torch.combinations builds all N^b tuples first: too much memory)
        flat_idx = np.fromiter(itertools.chain.from_iterable(
            itertools.combinations(range(n), b)), dtype=np.int64, count=count * b)
        idx = torch.from_numpy(flat_idx).reshape(count, b).to(values.device)
    flat = values.reshape(n, -1)
    means = flat[idx].mean(1)  # (count, P)
    mean = means.mean(0)
    centred = means - mean
    cov = centred.T @ centred / count
    if values.ndim == 1:
        return BatchMoments(mean[0], cov[0, 0], count)
    return BatchMoments(mean.reshape(values.shape[1:]), cov, count)


# --------------------------------------------------------------------------
# Correlated samples
# --------------------------------------------------------------------------

def equicorrelated_variance(variance: float, rho: float, batch_size: int) -> float:
    r"""Variance of the mean of ``b`` equicorrelated samples.

    If every sample has variance :math:`\sigma^2` and every pair correlation
    :math:`\rho`, then

    .. math:: \operatorname{Var}\Big(\frac1b\sum_{i=1}^b g_i\Big)
              = \frac{\sigma^2}{b^2}\big(b + b(b-1)\rho\big)
              = \sigma^2\,\frac{1 + (b-1)\rho}{b},

    which falls to :math:`\rho\sigma^2`, not 0, as :math:`b \to \infty`: the
    effective batch size :math:`b/(1 + (b-1)\rho)` never exceeds
    :math:`1/\rho`. (Section P7.)

    Args:
        variance: :math:`\sigma^2 \ge 0`.
        rho: :math:`\rho`, in ``[-1/(b-1), 1]`` (any covariance matrix must be
            positive semidefinite).
        batch_size: ``b >= 1``.

    >>> equicorrelated_variance(1.0, 0.5, 4), equicorrelated_variance(1.0, 0.0, 4)
    (0.625, 0.25)
    """
    variance = check_real("variance", variance, low=0.0)
    b = check_int("batch_size", batch_size, low=1)
    low = -1.0 / (b - 1) if b > 1 else -1.0
    rho = check_real("rho", rho, low=low, high=1.0)
    return variance * (1 + (b - 1) * rho) / b


def equicorrelated_batch_means(variance: float, rho: float, batch_size: int,
                               num_batches: int, *, seed: SeedLike = None,
                               device: str | torch.device | None = None) -> Tensor:
    r"""Means of ``b`` Gaussian samples with pairwise correlation ``rho >= 0``.

    Each sample is :math:`g_i = \sigma(\sqrt{\rho}\, z_0 + \sqrt{1-\rho}\, z_i)`
    with independent standard normal :math:`z_0` (shared by the batch) and
    :math:`z_i`; so :math:`\operatorname{Var} g_i = \sigma^2` and
    :math:`\operatorname{Corr}(g_i, g_j) = \rho`. (Section P7.)

    Args:
        variance: :math:`\sigma^2 \ge 0`; rho: in ``[0, 1]``.
        batch_size: ``b >= 1``; num_batches: ``M >= 1``.
        seed: int, ``torch.Generator`` or ``None``; device: where the result goes.

    Returns:
        float64 ``(M,)``.

    >>> equicorrelated_batch_means(1.0, 1.0, 3, 2, seed=0, device="cpu").shape
    torch.Size([2])
    """
    variance = check_real("variance", variance, low=0.0)
    rho = check_real("rho", rho, low=0.0, high=1.0)
    b = check_int("batch_size", batch_size, low=1)
    m = check_int("num_batches", num_batches, low=1)
    device = resolve_device(device)
    gen = as_generator(seed)
    z = torch.randn(m, b + 1, generator=gen, dtype=DTYPE)
    samples = math.sqrt(rho) * z[:, :1] + math.sqrt(1 - rho) * z[:, 1:]
    return (math.sqrt(variance) * samples.mean(1)).to(device)


def grouped_batch_means(values: Tensor, groups: Tensor, batch_size: int,
                        num_batches: int, *, seed: SeedLike = None) -> Tensor:
    r"""Batch means when every batch comes from one group of the data.

    Each batch picks a group ``k`` with probability :math:`N_k/N` (the group of
    a uniformly drawn example), then draws ``b`` of its examples uniformly with
    replacement: like reading unshuffled data stored group by group. Any single
    draw is uniform over the data set, so :math:`g_b` is unbiased, but two draws
    of a batch share the group mean: their covariance is the between-group
    variance :math:`V_B = \sum_k W_k(\mu_k - \mu)^2`. This is the equicorrelation
    model with :math:`\sigma^2 = V_B + V_W` (the total variance) and
    :math:`\rho = V_B/\sigma^2`. (Section P7.)

    Args:
        values: per-example values, floating and finite, ``(N,)`` or ``(N, P)``.
        groups: integer group label of every example, ``(N,)``.
        batch_size: ``b >= 1``; num_batches: ``M >= 1``.
        seed: int, ``torch.Generator`` or ``None``.

    Returns:
        ``(M,)`` or ``(M, P)``, on the device of ``values``.

    >>> v = torch.tensor([0.0, 0.0, 1.0, 1.0])
    >>> grouped_batch_means(v, torch.tensor([0, 0, 1, 1]), 5, 4, seed=0)
    tensor([0., 1., 0., 0.])
    """
    values = _as_values(values)
    check_type("groups", groups, Tensor, "a torch.Tensor of integer labels")
    if groups.shape != values.shape[:1] or groups.is_floating_point():
        raise ValueError(f"groups must be integer labels of shape ({values.shape[0]},)"
                         f"; got dtype {groups.dtype} and shape {tuple(groups.shape)}")
    b = check_int("batch_size", batch_size, low=1)
    m = check_int("num_batches", num_batches, low=1)
    gen = as_generator(seed)
    _, inverse, sizes = torch.unique(groups.cpu(), return_inverse=True,
                                     return_counts=True)
    members = torch.argsort(inverse, stable=True)  # examples, group by group
    starts = torch.cumsum(sizes, 0) - sizes
    first = torch.randint(values.shape[0], (m,), generator=gen)
    k = inverse[first]  # (M,) the group of each batch
    offset = (torch.rand(m, b, generator=gen, dtype=DTYPE) * sizes[k, None]).long()
    idx = members[starts[k, None] + offset]  # (M, b)
    return values[idx.to(values.device)].mean(1)


# --------------------------------------------------------------------------
# The law of large numbers and Chebyshev's inequality
# --------------------------------------------------------------------------

def gaussian_batch_size(variance: float, eps: float, delta: float) -> int:
    r"""The batch size at which the Gaussian approximation gives
    :math:`P(|g_b - g| \ge \varepsilon) = \delta` (one dimension).

    By the central limit theorem :math:`g_b - g \approx N(0, \sigma^2/b)`, so
    :math:`P(|g_b - g| \ge \varepsilon) \approx 2\big(1 - \Phi(\varepsilon
    \sqrt b/\sigma)\big)`, which is :math:`\le \delta` when

    .. math:: b \ge \frac{z^2\sigma^2}{\varepsilon^2}, \qquad
              z = \Phi^{-1}(1 - \delta/2).

    Compare Chebyshev's :math:`\sigma^2/(\delta\varepsilon^2)`
    (:func:`mbgd.noise.chebyshev_batch_size`): the ratio is
    :math:`1/(\delta z^2)`, about 5.2 at :math:`\delta = 0.05`. Unlike
    Chebyshev's, this is an approximation, not a guarantee. (Section P8.)

    Args:
        variance: :math:`\sigma^2 \ge 0`; eps: :math:`\varepsilon > 0`;
        delta: in ``(0, 1)``.

    Returns:
        the smallest such integer, at least 1.

    >>> gaussian_batch_size(1.0, 0.1, 0.05)  # 1.96^2 / 0.01 = 384.1
    385
    """
    variance = check_real("variance", variance, low=0.0)
    eps = check_real("eps", eps, low=0.0, bounds="(]")
    delta = check_real("delta", delta, low=0.0, high=1.0, bounds="()")
    z = float(torch.special.ndtri(torch.tensor(1 - delta / 2, dtype=DTYPE)))
    return max(1, math.ceil(z**2 * variance / eps**2 * (1 - 1e-12)))


@dataclass(frozen=True)
class TailResult:
    """What :func:`simulate_tail` measured, with the two tails to compare it with.

    Returned by :func:`simulate_tail`.

    Attributes:
        batch_sizes: ``1 .. B``, int64 ``(B,)``.
        tail: measured :math:`P(|g_b - g| \\ge \\varepsilon)` at every ``b``,
            ``(B,)``.
        running: the running means of the first few streams, ``(S, B)``.
        mean: :math:`g`, the mean of the values; variance: their population
            variance :math:`\\sigma^2`; eps: :math:`\\varepsilon`.
        num_streams: how many streams were drawn (the tail's denominator).

    Example:
        >>> r = simulate_tail(torch.tensor([-1.0, 1.0]), 1.0, 4, 10, seed=0)
        >>> [round(v, 4) for v in r.chebyshev_bound().tolist()]  # 1 / b
        [1.0, 0.5, 0.3333, 0.25]
        >>> r.gaussian_tail().round(decimals=4).tolist()  # 2 (1 - Phi(sqrt b))
        [0.3173, 0.1573, 0.0833, 0.0455]
    """

    batch_sizes: Tensor
    tail: Tensor
    running: Tensor
    mean: float
    variance: float
    eps: float
    num_streams: int

    def chebyshev_bound(self) -> Tensor:
        """Chebyshev's bound :math:`\\min(1, \\sigma^2/(b\\varepsilon^2))`, ``(B,)``.
        """
        b = self.batch_sizes.double()
        return (self.variance / (b * self.eps**2)).clamp(max=1.0)

    def gaussian_tail(self) -> Tensor:
        """The CLT approximation :math:`2(1-\\Phi(\\varepsilon\\sqrt b/\\sigma))`,
        ``(B,)``."""
        z = self.eps * self.batch_sizes.double().sqrt() / math.sqrt(self.variance)
        return 2 * torch.special.ndtr(-z)


def simulate_tail(values: Tensor, eps: float, max_batch: int, num_streams: int, *,
                  keep: int = 5, seed: SeedLike = None) -> TailResult:
    r"""Measure :math:`P(|g_b - g| \ge \varepsilon)` for every ``b`` up to ``B``.

    Draws ``num_streams`` streams of ``B`` examples uniformly with replacement
    (a :class:`mbgd.data.ReplacementSampler` with batch size ``B``); the running
    mean of the first ``b`` draws of a stream is a mini-batch gradient of size
    ``b``. The tail at ``b`` is the fraction of streams whose running mean is at
    least :math:`\varepsilon` away from the mean of ``values``. (Streams share
    draws across ``b``, so the tails at different ``b`` are correlated; each one
    alone is an unbiased estimate.) (Section P8.)

    Args:
        values: per-example values (1-D gradients), floating and finite, ``(N,)``.
        eps: :math:`\varepsilon > 0`.
        max_batch: ``B >= 1``.
        num_streams: ``M >= 1``.
        keep: how many running means to keep for plotting, ``0 <= keep <= M``.
        seed: int, ``torch.Generator`` or ``None``.

    Returns:
        a :class:`TailResult` (tensors on the CPU, float64).

    >>> r = simulate_tail(torch.tensor([-1.0, 1.0]), 0.5, 4, 1000, seed=0)
    >>> r.tail[:2].tolist()  # b = 1: always 1 away; b = 2: 0 or 1 away
    [1.0, 0.495]
    """
    values = _as_values(values)
    if values.ndim != 1:
        raise ValueError(f"values must be 1-D (one gradient coordinate); got shape "
                         f"{tuple(values.shape)}")
    eps = check_real("eps", eps, low=0.0, bounds="(]")
    B = check_int("max_batch", max_batch, low=1)
    m = check_int("num_streams", num_streams, low=1)
    keep = check_int("keep", keep, low=0, high=m)
    v = values.cpu().to(DTYPE)
    sampler = ReplacementSampler(v.numel(), B, num_batches=m, seed=seed, device="cpu")
    draws = v[torch.stack(sampler.epoch())]  # (M, B)
    b = torch.arange(1, B + 1)
    mean = float(v.mean())
    running = draws.cumsum(1) / b
    tail = ((running - mean).abs() >= eps).double().mean(0)
    variance = float((v - mean).square().mean())
    return TailResult(b, tail, running[:keep].clone(), mean, variance, eps, m)


# --------------------------------------------------------------------------
# Progress per step against the batch size
# --------------------------------------------------------------------------

def _quad_terms(grad, hess, cov) -> tuple[Tensor, Tensor, Tensor]:
    """``|G|^2``, ``G^T H G`` and ``tr(H Sigma)`` for 1-D or d-D inputs."""
    G = _check_finite("grad",
                      check_reals("grad", grad, "a number or a (d,) tensor"))
    H = _check_finite("hess",
                      check_reals("hess", hess, "a number or a (d, d) tensor"))
    C = _check_finite("cov",
                      check_reals("cov", cov, "a number or a (d, d) tensor"))
    if G.ndim == 0:
        if H.ndim or C.ndim:
            raise ValueError("hess and cov must be numbers when grad is a number; got"
                             f" shapes {tuple(H.shape)} and {tuple(C.shape)}")
        G, H, C = G.reshape(1), H.reshape(1, 1), C.reshape(1, 1)
    d = G.numel()
    if G.ndim != 1 or H.shape != (d, d) or C.shape != (d, d):
        raise ValueError(f"grad, hess, cov must have shapes (d,), (d, d), (d, d); got"
                         f" {tuple(G.shape)}, {tuple(H.shape)}, {tuple(C.shape)}")
    if float(G @ H @ G) <= 0:
        raise ValueError("hess must have grad^T hess grad > 0 (curvature along the "
                         f"gradient); got {float(G @ H @ G)!r}")
    eigs = torch.linalg.eigvalsh(0.5 * (C + C.T))
    if not torch.allclose(C, C.T) or float(eigs[0]) < -1e-12 * max(
            1.0, float(eigs.abs().max())):
        raise ValueError("cov must be a covariance (symmetric positive "
                         f"semidefinite); got {C.tolist() if d > 1 else C.item()!r}")
    return G @ G, G @ H @ G, (H * C.T).sum()


def optimal_lr(grad, hess, cov, batch_size: int) -> float:
    r"""The learning rate that maximises the expected one-step decrease.

    For a quadratic :math:`f` with Hessian :math:`H`, a step
    :math:`w - \eta g_b` with :math:`E g_b = G` and
    :math:`\operatorname{Cov} g_b = \Sigma/b` (with replacement) gives

    .. math:: E[f(w) - f(w - \eta g_b)] = \eta\lVert G\rVert^2
              - \frac{\eta^2}{2}\Big(G^\top H G + \frac{\operatorname{tr}(H\Sigma)}
              {b}\Big),

    a parabola in :math:`\eta` with its top at
    :math:`\eta^\star = \lVert G\rVert^2 / (G^\top H G + \operatorname{tr}(H\Sigma)
    /b) = \eta_{\max}/(1 + \mathcal B/b)`, where :math:`\eta_{\max} =
    \lVert G\rVert^2/G^\top H G` and :math:`\mathcal B` is
    :func:`curvature_noise_scale`. In 1-D, :math:`\eta^\star =
    1/(H(1 + S/b))`. (Section P9.)

    Args:
        grad: :math:`G`, a number or ``(d,)``.
        hess: :math:`H`, a number or ``(d, d)``, with :math:`G^\top HG > 0`.
        cov: :math:`\Sigma` (per-example covariance), a number ``>= 0`` or a
            symmetric positive semidefinite ``(d, d)``; all finite.
        batch_size: ``b >= 1``.

    >>> optimal_lr(1.0, 1.0, 3.0, 3)  # 1 / (1 + 3/3)
    0.5
    """
    b = check_int("batch_size", batch_size, low=1)
    g2, ghg, trhc = _quad_terms(grad, hess, cov)
    return float(g2 / (ghg + trhc / b))


def expected_decrease(grad, hess, cov, batch_size: int, lr: float | None = None
                      ) -> float:
    r"""Expected one-step decrease :math:`E[f(w) - f(w - \eta g_b)]` on a quadratic.

    With the notation of :func:`optimal_lr`, the decrease at a given
    :math:`\eta` is :math:`\eta\lVert G\rVert^2 - \frac{\eta^2}{2}(G^\top H G +
    \operatorname{tr}(H\Sigma)/b)`; at :math:`\eta = \eta^\star(b)` (``lr=None``)
    it is

    .. math:: \Delta^\star(b) = \frac{\Delta_{\max}}{1 + \mathcal B/b},\qquad
              \Delta_{\max} = \frac{\lVert G\rVert^4}{2\,G^\top H G},

    where :math:`\Delta_{\max}` is the decrease of the best full-gradient step.
    In 1-D, :math:`\mathcal B = S = \operatorname{Var}(g_1)/G^2` and
    :math:`\Delta^\star(b)/\Delta_{\max} = 1/(1 + S/b) = b/(b + S)`: linear in
    ``b`` for :math:`b \ll S`, saturating for :math:`b \gg S`. (Section P9.)

    Args:
        grad, hess, cov: as in :func:`optimal_lr`.
        batch_size: ``b >= 1``.
        lr: :math:`\eta`, a real number, or ``None`` for :math:`\eta^\star(b)`.

    >>> expected_decrease(1.0, 1.0, 3.0, 3)  # (1/2) / (1 + 3/3)
    0.25
    """
    b = check_int("batch_size", batch_size, low=1)
    g2, ghg, trhc = _quad_terms(grad, hess, cov)
    curv = ghg + trhc / b
    eta = g2 / curv if lr is None else check_real("lr", lr)
    return float(eta * g2 - 0.5 * eta**2 * curv)


def curvature_noise_scale(grad, hess, cov) -> float:
    r"""The noise scale that sets the progress per step:
    :math:`\mathcal B = \operatorname{tr}(H\Sigma)/(G^\top H G)`.

    This is :math:`B_\text{noise}` of McCandlish et al. (2018). It equals the
    simple noise scale :math:`\operatorname{tr}\Sigma/\lVert G\rVert^2`
    (:func:`mbgd.noise.noise_scale`) in 1-D and whenever :math:`H` is a multiple
    of the identity, and can differ from it a lot otherwise. (Section P9.)

    Args:
        grad, hess, cov: as in :func:`optimal_lr`.

    >>> curvature_noise_scale(2.0, 5.0, 12.0)  # 12 / 2^2 in 1-D
    3.0
    """
    _, ghg, trhc = _quad_terms(grad, hess, cov)
    return float(trhc / ghg)


@dataclass(frozen=True)
class ProgressResult:
    """What :func:`simulate_progress` measured, one entry per batch size.

    Returned by :func:`simulate_progress`.

    Attributes:
        batch_sizes: int64 ``(K,)``.
        lr: the learning rate used, :math:`\\eta^\\star(b)`, ``(K,)``.
        measured: mean one-step decrease over the batches, ``(K,)``.
        stderr: its standard error, ``(K,)``.
        predicted: :func:`expected_decrease` at :math:`\\eta^\\star(b)`, ``(K,)``.
        max_decrease: :math:`\\Delta_{\\max}`; noise_scale: :math:`\\mathcal B`.
        num_batches: batches averaged per batch size.
    """

    batch_sizes: Tensor
    lr: Tensor
    measured: Tensor
    stderr: Tensor
    predicted: Tensor
    max_decrease: float
    noise_scale: float
    num_batches: int


def simulate_progress(G: Tensor, hess: Tensor | float,
                      batch_sizes: Sequence[int], num_batches: int, *,
                      seed: SeedLike = None) -> ProgressResult:
    r"""Measure the one-step decrease at the optimal learning rate for each ``b``.

    The loss is a quadratic with Hessian ``hess`` whose per-example gradients at
    the current point are the rows of ``G`` (a least-squares problem, for
    example). For each ``b``, ``num_batches`` batches are drawn with replacement
    (:class:`mbgd.data.ReplacementSampler`, all from one generator), and each
    step :math:`-\eta^\star(b) g_b` lowers the loss by exactly
    :math:`\eta\, G^\top g_b - \frac{\eta^2}{2} g_b^\top H g_b`; the result
    averages this over the batches. (Section P9.)

    Args:
        G: per-example gradients, floating and finite, ``(N,)`` or ``(N, d)``.
        hess: :math:`H`, a number or ``(d, d)``.
        batch_sizes: a sequence of ``K`` batch sizes, ints ``>= 1``.
        num_batches: batches per batch size, ``>= 2``.
        seed: int, ``torch.Generator`` or ``None``.

    Returns:
        a :class:`ProgressResult` (tensors on the CPU).

    >>> r = simulate_progress(torch.tensor([0.0, 2.0]), 1.0, [1, 64], 2000, seed=0)
    >>> r.predicted.tolist(), r.noise_scale  # Delta_max = 1/2, S = 1
    ([0.25, 0.49230769230769234], 1.0)
    """
    G = _as_values(G, "G").cpu().to(DTYPE)
    if G.ndim > 2:
        raise ValueError(f"G must have shape (N,) or (N, d); got shape "
                         f"{tuple(G.shape)}")
    G2 = G if G.ndim == 2 else G.unsqueeze(1)
    d = G2.shape[1]
    H = check_reals("hess", hess, "a number or a (d, d) tensor").cpu()
    if H.numel() != d * d:
        raise ValueError(f"hess must be a number or have shape ({d}, {d}) for G of "
                         f"shape {tuple(G.shape)}; got shape {tuple(H.shape)}")
    H = H.reshape(d, d)
    if isinstance(batch_sizes, str) or not isinstance(batch_sizes, Iterable):
        raise TypeError(f"batch_sizes must be a sequence of ints >= 1; got "
                        f"{batch_sizes!r}")
    sizes = [check_int("batch_sizes", b, low=1) for b in batch_sizes]
    if not sizes:
        raise ValueError("batch_sizes must hold at least one int >= 1; got []")
    m = check_int("num_batches", num_batches, low=2)
    gen = as_generator(seed)
    mean, cov = grad_mean(G2), grad_covariance(G2)
    g2, ghg, _ = _quad_terms(mean, H, cov)
    rows = []
    for b in sizes:
        eta = optimal_lr(mean, H, cov, b)
        gb = sample_estimates(G2, ReplacementSampler(G2.shape[0], b, num_batches=m,
                                                     seed=gen, device="cpu"))
        dec = eta * (gb @ mean) - 0.5 * eta**2 * ((gb @ H) * gb).sum(1)
        rows.append((eta, float(dec.mean()), float(dec.std() / math.sqrt(m)),
                     expected_decrease(mean, H, cov, b)))
    lr, measured, stderr, predicted = (torch.tensor(c, dtype=DTYPE)
                                       for c in zip(*rows))
    return ProgressResult(torch.tensor(sizes), lr, measured, stderr, predicted,
                          float(g2**2 / (2 * ghg)),
                          curvature_noise_scale(mean, H, cov), m)


# --------------------------------------------------------------------------
# Mini-batch SGD on least squares, vectorised over learning rates
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class SGDRun:
    """What :func:`sgd_least_squares` recorded (tensors on the CPU).

    Returned by :func:`sgd_least_squares` (and, one learning rate at a time, inside
    the :class:`BatchLRResult` of :func:`simulate_batch_lr`).

    Attributes:
        lr: the learning rates, ``(L,)``.
        excess: :math:`f(w_k) - f(\\hat w)` after every update, ``(L, K + 1)``
            (column 0 is the start).
        examples: examples processed before each column, int64 ``(K + 1,)``.
        weights: the final iterates, ``(L, d)``.
        steps_per_epoch: updates in one epoch; batch_size: nominal ``b``; n: ``N``.
        diverged: ``(L,)`` bool, runs whose excess loss went above 1e8 times its
            start (or became NaN).
    """

    lr: Tensor
    excess: Tensor
    examples: Tensor
    weights: Tensor
    steps_per_epoch: int
    batch_size: int
    n: int
    diverged: Tensor

    @property
    def epochs(self) -> Tensor:
        """Examples processed divided by ``N``, ``(K + 1,)``."""
        return self.examples.double() / self.n


def sgd_least_squares(problem: LinearRegression, lr: float | Sequence[float] | Tensor,
                      *, epochs: int, batch_size: int | None = None,
                      w0: Tensor | Sequence[float] | None = None,
                      sampler: IndexSampler | None = None, seed: SeedLike = None
                      ) -> SGDRun:
    r"""Mini-batch SGD :math:`w_{k+1} = w_k - \eta\, g_{B_k}(w_k)` on least squares.

    :math:`g_B(w) = \frac1{|B|}\sum_{i\in B} x_i(x_i^\top w - y_i)` is the
    gradient of the mean loss over the batch, as ``torch.optim.SGD`` with
    ``lr`` would use it. All learning rates run side by side on the *same*
    batches (common random numbers: differences between them are not sampling
    luck). The batches come from ``sampler``, by default an
    :class:`mbgd.data.EpochSampler` (reshuffled every epoch). The work uses
    elementwise products and sums rather than tiny matrix products, whose time
    on a busy multi-core CPU is erratic. (Sections P6, P9.)

    Args:
        problem: a :class:`LinearRegression`.
        lr: one learning rate ``> 0`` or ``L`` of them.
        epochs: passes over the sampler, ``>= 1``.
        batch_size: ``b`` in ``[1, N]`` for the default sampler; ``None`` with
            ``sampler``.
        w0: start, ``(d,)`` finite numbers; default zeros.
        sampler: any :class:`mbgd.data.IndexSampler` over the ``N`` examples.
        seed: int, ``torch.Generator`` or ``None``, for the default sampler.

    Returns:
        an :class:`SGDRun`.

    >>> p = linear_regression(64, [1.0, -2.0], noise_std=0.1, seed=0, device="cpu")
    >>> r = sgd_least_squares(p, [0.1, 0.5], epochs=5, batch_size=8, seed=0)
    >>> r.excess.shape, r.steps_per_epoch, bool(r.excess[1, -1] < r.excess[0, -1])
    (torch.Size([2, 41]), 8, True)
    """
    check_type("problem", problem, LinearRegression, "a LinearRegression")
    lrs = check_reals("lr", lr, "one or more finite numbers > 0").reshape(-1)
    if lrs.numel() == 0 or not (torch.isfinite(lrs).all() and (lrs > 0).all()):
        raise ValueError(f"lr must be one or more finite numbers > 0; got {lr!r}")
    epochs = check_int("epochs", epochs, low=1)
    if sampler is None:
        if batch_size is None:
            raise ValueError("batch_size must be an int in [1, N] when no sampler "
                             "is given; got None")
        sampler = EpochSampler(problem.n, batch_size, seed=seed, device="cpu")
    else:
        check_type("sampler", sampler, IndexSampler, "a sampler from mbgd.data")
        if batch_size is not None:
            raise ValueError("batch_size must be None when a sampler is given; got "
                             f"{batch_size!r}")
        if sampler.n != problem.n:
            raise ValueError(f"sampler must draw from the N = {problem.n} examples; "
                             f"got a sampler over n = {sampler.n}")
    device = problem.X.device
    if w0 is None:
        w = torch.zeros(problem.dim, dtype=DTYPE, device=device)
    else:
        w = check_reals("w0", w0, f"{problem.dim} finite numbers", device=device)
        w = _check_finite("w0", check_shape("w0", w, (problem.dim,))).clone()
    w = w.expand(lrs.numel(), -1).clone()  # (L, d)
    lrs = lrs.to(device).unsqueeze(1)
    what, H = problem.minimizer, problem.hessian

    def excess(w: Tensor) -> Tensor:  # (L,)
        diff = w - what
        return 0.5 * ((diff.unsqueeze(2) * H).sum(1) * diff).sum(1)

    values, counts = [excess(w)], [0]
    for _ in range(epochs):
        for idx in sampler.epoch():
            idx = idx.to(device)
            Xb, yb = problem.X[idx], problem.y[idx]  # (b, d), (b,)
            resid = (Xb * w.unsqueeze(1)).sum(2) - yb  # (L, b)
            grad = (resid.unsqueeze(2) * Xb).mean(1)  # (L, d)
            w = w - lrs * grad
            values.append(excess(w))
            counts.append(counts[-1] + idx.numel())
    ex = torch.stack(values, 1).cpu()
    diverged = ~(ex <= _DIVERGED * ex[:, :1]).all(1)
    return SGDRun(lrs.squeeze(1).cpu(), ex, torch.tensor(counts), w.cpu(),
                  len(sampler), sampler.batch_size, problem.n, diverged)


# --------------------------------------------------------------------------
# Explorer: batch size x learning rate on the running example
# --------------------------------------------------------------------------

EXPLORER_EPOCHS = 3
BATCH_SIZES = (1, 4, 16, 64, 256, 1024)
LEARNING_RATES = (0.03, 0.1, 0.3, 1.0, 2.0)


@dataclass(frozen=True)
class BatchLRResult:
    """One frame of the explorer: the mini-batch run and full-batch GD.

    Returned by :func:`simulate_batch_lr`.

    Attributes:
        sgd: the mini-batch run, an :class:`SGDRun` with one learning rate
            (``excess`` ``(1, K + 1)``, ``K = epochs * ceil(N / b)`` updates).
        gd: full-batch GD at the same learning rate, an :class:`SGDRun` with
            ``excess`` ``(1, epochs + 1)``.
    """

    sgd: SGDRun
    gd: SGDRun


def simulate_batch_lr(batch_size: int = 16, lr: float = 0.3, *,
                      epochs: int = EXPLORER_EPOCHS, seed: int = 0) -> BatchLRResult:
    """Mini-batch SGD and full-batch GD at the same ``lr`` on :func:`running_example`.

    Both start at ``w = 0`` and process the same number of examples
    (``epochs * N``); SGD reshuffles every epoch (:class:`mbgd.data.EpochSampler`).
    The learning rates of :data:`LEARNING_RATES` run together, once per batch
    size, epochs and seed (the runs are cached), on the same batches.

    Args:
        batch_size: ``b`` in ``[1, 1024]``.
        lr: learning rate ``> 0``.
        epochs: ``>= 1``.
        seed: seed of the batches, an int.

    Returns:
        a :class:`BatchLRResult` (tensors on the CPU).

    >>> r = simulate_batch_lr(64, 1.0, epochs=1)
    >>> r.sgd.excess.shape, r.gd.excess.shape
    (torch.Size([1, 17]), torch.Size([1, 2]))
    """
    lr = check_real("lr", lr, low=0.0, bounds="(]")
    batch_size = check_int("batch_size", batch_size, low=1, high=1024)
    epochs = check_int("epochs", epochs, low=1)
    seed = check_int("seed", seed, low=0)
    return BatchLRResult(_run_at(lr, batch_size, epochs, seed),
                         _run_at(lr, 1024, epochs, 0))


@lru_cache(maxsize=32)
def _grid_run(batch_size: int, epochs: int, seed: int) -> SGDRun:
    return sgd_least_squares(running_example(), LEARNING_RATES, epochs=epochs,
                             batch_size=batch_size, seed=seed)


def _run_at(lr: float, batch_size: int, epochs: int, seed: int) -> SGDRun:
    """The run at ``lr``: a row of the cached grid, or a fresh run."""
    if lr not in LEARNING_RATES:
        return sgd_least_squares(running_example(), lr, epochs=epochs,
                                 batch_size=batch_size, seed=seed)
    run, i = _grid_run(batch_size, epochs, seed), LEARNING_RATES.index(lr)
    return SGDRun(run.lr[i:i + 1], run.excess[i:i + 1], run.examples,
                  run.weights[i:i + 1], run.steps_per_epoch, run.batch_size, run.n,
                  run.diverged[i:i + 1])


class BatchLRView:
    """Excess loss against epochs (left) and against updates (right).

    The view of :func:`batch_lr_explorer`: ``BatchLRView(fig)`` draws the fixed
    parts into a matplotlib figure (axes for :data:`EXPLORER_EPOCHS` epochs of
    ``N = 1024`` examples); ``update(result)`` sets the two curves of a
    :class:`BatchLRResult` and the caption (read from the result), and returns
    the 5 changed artists.

    Example:
        >>> import matplotlib.pyplot as plt
        >>> fig = plt.figure()
        >>> view = BatchLRView(fig)
        >>> len(view.update(simulate_batch_lr(64, 1.0)))
        5
        >>> view.caption.get_text()
        'b = 64, lr = 1: 16 updates per epoch, final loss gap 0.0079'
        >>> plt.close(fig)
    """

    YLIM = (1e-4, 3.0)

    def __init__(self, fig):
        left, right = fig.subplots(1, 2)
        n, epochs = 1024, EXPLORER_EPOCHS
        for ax in (left, right):
            ax.set_yscale("log")
            ax.set_ylim(*self.YLIM)
            ax.set_ylabel(r"$f(w) - f(\hat w)$")
            ax.grid(True, alpha=0.3)
        left.set_xlim(0, epochs)
        left.set_xlabel("epochs (examples processed / N)")
        right.set_xscale("log")
        right.set_xlim(1, n * epochs)
        right.set_xlabel("updates")
        style = {"animated": True}
        (self.sgd_e,) = left.plot([], [], color="crimson", lw=1, label="mini-batch",
                                  **style)
        (self.gd_e,) = left.plot([], [], color="black", lw=1.5, ls="--",
                                 label="full batch, same lr", **style)
        (self.sgd_u,) = right.plot([], [], color="crimson", lw=1, **style)
        (self.gd_u,) = right.plot([], [], "o--", color="black", lw=1.5, ms=3,
                                  **style)
        left.legend(loc="lower left", fontsize=7)
        self.caption = fig.suptitle(" ", fontsize=9, animated=True)

    def update(self, result: BatchLRResult, **_):
        artists = []
        for run, by_epoch, by_update in ((result.sgd, self.sgd_e, self.sgd_u),
                                         (result.gd, self.gd_e, self.gd_u)):
            y = run.excess[0].clamp(max=1e3).numpy()
            by_epoch.set_data(run.epochs.numpy(), y)
            by_update.set_data(range(1, len(y)), y[1:])  # updates 1, 2, ...
            artists += [by_epoch, by_update]
        end = result.sgd.excess[0, -1].item()
        state = "diverged" if result.sgd.diverged[0] else f"final loss gap {end:.2g}"
        lr = result.sgd.lr[0].item()
        self.caption.set_text(f"b = {result.sgd.batch_size}, lr = {lr:g}: "
                              f"{result.sgd.steps_per_epoch} updates per epoch, "
                              f"{state}")
        return artists + [self.caption]


def batch_lr_explorer() -> Explorer:
    """The explorer: batch size x learning rate on :func:`running_example`.

    Returns:
        an :class:`mbgd.explore.Explorer` of :func:`simulate_batch_lr` and
        :class:`BatchLRView`, with the controls ``batch_size``
        (:data:`BATCH_SIZES`) and ``lr`` (:data:`LEARNING_RATES`).

    Example:
        >>> ex = batch_lr_explorer()
        >>> [(c.name, len(c.values)) for c in ex.controls]  # 6 x 5 stand-in frames
        [('batch_size', 6), ('lr', 5)]
        >>> ex.defaults()
        {'batch_size': 16, 'lr': 0.3}
    """
    return Explorer(
        simulate_batch_lr, BatchLRView,
        [Control("batch_size", BATCH_SIZES, label="batch size", default=16),
         Control("lr", LEARNING_RATES, label="learning rate", default=0.3,
                 live_values=(0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0,
                              1.5, 2.0), fmt="{:g}")],
        figsize=(7.0, 3.0), dpi=72,
        title="Mini-batch SGD and full-batch GD on noisy linear regression",
    )


def explore_batch_lr():
    """Show the live explorer in a notebook (needs ipywidgets).

    Returns:
        an ``ipywidgets.VBox`` (see :meth:`mbgd.explore.Explorer.widget`): the
        rendered image above a slider for the batch size and one for the learning
        rate; its ``controls`` dict allows driving it from code.

    Example:
        >>> box = explore_batch_lr()  # doctest: +SKIP
        >>> sorted(box.controls)  # doctest: +SKIP
        ['batch_size', 'lr']
    """
    return batch_lr_explorer().widget()


def standin_batch_lr(progress: bool | None = None):
    """The static stand-in of :func:`explore_batch_lr` for the website.

    Args:
        progress: show a progress bar while pre-rendering (``None``: as the
            ``MBGD_PROGRESS`` environment variable says, see
            :func:`mbgd.progress.progress_enabled`).

    Returns:
        an :class:`mbgd.explore.StandIn` with one pre-rendered frame per
        combination of the controls (6 batch sizes x 5 learning rates); it
        displays as self-contained HTML. It takes a second or two to build.

    Example:
        >>> page = standin_batch_lr(progress=False)  # doctest: +SKIP
        >>> len(page.frames)  # doctest: +SKIP
        30
    """
    return batch_lr_explorer().standin(progress=progress)
