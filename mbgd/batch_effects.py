r"""Hidden assumptions of mini-batch training (book sections P11, P12, P13).

Three places where "the mini-batch gradient is an unbiased, well-behaved estimate
of the full gradient, and one learning rate suits every batch" quietly fails:

* **Batch-coupled layers (P11).** A Batch Normalization layer standardises each
  example with the statistics of its own batch, so the loss of a batch is not an
  average of per-example losses of a fixed network. :func:`bn_scale_gradients`
  measures the gradient with respect to the BN scale :math:`\gamma` through
  ``torch.nn.functional.batch_norm``; :func:`bn_gradient_bias` and
  :func:`bn_correction` are the closed forms for Gaussian inputs and the loss
  :math:`\ell(y) = \frac{\lambda}{4}y^4 + \frac{a}{2}y^2`;
  :func:`bn_scale_sgd` trains :math:`\gamma` with ``torch.optim.SGD``.
* **Learning-rate scaling (P12).** For one-dimensional least squares, the
  first two moments of the SGD error obey an exact linear recursion
  (:func:`sgd_error_moments`, from the data's moments :func:`line_moments`);
  :func:`simulate_line_sgd` runs many seeded SGD runs at once to check it.
* **Unequal smoothness (P13).** Examples whose losses have curvatures
  :math:`L_i` around a shared minimiser: :func:`batch_lr_limit`,
  :func:`epoch_factor` and :func:`growth_probability` are closed forms for one
  outlier among identical examples, :func:`simulate_curvature_sgd` runs SGD on
  them, and :func:`largest_stable_lr` finds a threshold by bisection.

Every simulation is a pure function of its arguments and ``seed`` and draws on the
CPU (:func:`mbgd.seeding.as_generator`), so a seed gives the same numbers on every
device.

>>> round(bn_gradient_bias(4, gamma=1.0, lam=1.0), 6), bn_correction(4)
(-1.2, 1.6666666666666667)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._checks import check_choice, check_int, check_real, check_type
from .device import resolve_device
from .seeding import SeedLike, as_generator

__all__ = [
    "POPULATION_KURTOSIS",
    "batch_kurtosis_mean",
    "bn_gradient_bias",
    "bn_correction",
    "BNGradients",
    "bn_scale_gradients",
    "bn_scale_sgd",
    "LineMoments",
    "noisy_line",
    "line_moments",
    "sgd_error_moments",
    "stationary_excess_loss",
    "lr_limits",
    "simulate_line_sgd",
    "batch_lr_limit",
    "epoch_factor",
    "growth_probability",
    "simulate_curvature_sgd",
    "largest_stable_lr",
]

F64 = torch.float64

#: :math:`E[(x-\mu)^4]/\sigma^4` of the input distributions of
#: :func:`bn_scale_gradients`.
POPULATION_KURTOSIS = {"normal": 3.0, "uniform": 1.8}


def _check_dtype(dtype) -> torch.dtype:
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating torch.dtype such as torch.float64; "
                        f"got {dtype!r}")
    return dtype


def _reals(name: str, value, rule: str) -> Tensor:
    """``value`` as a float64 CPU tensor, or ``TypeError`` if it is not real numbers
    (a string, ``None``, a bool, a complex tensor)."""
    if not (value is None or isinstance(value, (bool, str)) or (
            isinstance(value, Tensor) and (value.dtype == torch.bool
                                           or value.is_complex()))):
        try:
            return torch.as_tensor(value, dtype=F64).cpu()
        except (TypeError, ValueError, RuntimeError):
            pass
    raise TypeError(f"{name} must be {rule}; got {value!r}")


# --------------------------------------------------------------------------
# P11: Batch Normalization biases the mini-batch gradient
# --------------------------------------------------------------------------

def batch_kurtosis_mean(m: int) -> float:
    r"""Expected sample kurtosis of a Gaussian batch, :math:`3(m-1)/(m+1)`.

    For :math:`x_1..x_m` i.i.d. normal, with batch mean :math:`\bar x` and biased
    variance :math:`s^2 = \frac1m\sum_i (x_i-\bar x)^2`, the standardised values
    :math:`z_i = (x_i-\bar x)/s` satisfy :math:`\sum_i z_i^2 = m` exactly, and

    .. math:: E\Big[\frac1m\sum_i z_i^4\Big] = \frac{3(m-1)}{m+1},

    below the population value 3. (The vector :math:`z/\sqrt m` is uniform on a
    sphere of dimension :math:`m-2`, which gives the moment.) Section P11.

    Args:
        m: batch size, an int ``>= 2``.

    >>> batch_kurtosis_mean(2), batch_kurtosis_mean(5)
    (1.0, 2.0)
    """
    m = check_int("m", m, low=2)
    return 3.0 * (m - 1) / (m + 1)


def bn_gradient_bias(m: int, gamma: float, lam: float) -> float:
    r"""Bias of the mini-batch gradient with respect to the BN scale :math:`\gamma`.

    Model: inputs :math:`x\sim N(\mu,\sigma^2)`, a BN layer
    :math:`y_i = \gamma z_i` with :math:`z_i` standardised by the batch's mean and
    biased variance, and the per-example loss
    :math:`\ell(y) = \frac{\lambda}{4}y^4 + \frac{a}{2}y^2`. The batch gradient is
    :math:`g_m = \lambda\gamma^3\frac1m\sum_i z_i^4 + a\gamma` (the quadratic part
    is exactly :math:`a\gamma` because :math:`\sum_i z_i^2 = m`). The population
    network (standardised with :math:`\mu, \sigma`) has gradient
    :math:`3\lambda\gamma^3 + a\gamma`. With :func:`batch_kurtosis_mean`,

    .. math:: E[g_m] - \nabla\mathcal L_\text{pop}(\gamma)
              = \lambda\gamma^3\Big(\frac{3(m-1)}{m+1} - 3\Big)
              = -\frac{6\lambda\gamma^3}{m+1},

    whatever :math:`a`. Section P11.

    Args:
        m: batch size, an int ``>= 2``.
        gamma: the BN scale :math:`\gamma`, a real number.
        lam: the quartic coefficient :math:`\lambda`, a real number.

    >>> bn_gradient_bias(5, gamma=2.0, lam=0.5)
    -4.0
    """
    m = check_int("m", m, low=2)
    gamma = check_real("gamma", gamma)
    lam = check_real("lam", lam)
    return -6.0 * lam * gamma**3 / (m + 1)


def bn_correction(m: int) -> float:
    r"""The factor :math:`c(m) = (m+1)/(m-1)` that unbiases the quartic part.

    :math:`c(m)\,E[\frac1m\sum_i z_i^4] = 3` for Gaussian inputs
    (:func:`batch_kurtosis_mean`), so :math:`c(m)` times the *quartic part* of the
    BN-scale gradient is unbiased. Multiplying the whole gradient by :math:`c(m)`
    is unbiased only when the loss has no other term in :math:`\gamma`
    (:math:`a = 0` in :func:`bn_gradient_bias`); otherwise it leaves the bias
    :math:`(c(m)-1)\,a\gamma = 2a\gamma/(m-1)`. Section P11.

    Args:
        m: batch size, an int ``>= 2``.

    >>> bn_correction(3)
    2.0
    """
    m = check_int("m", m, low=2)
    return (m + 1) / (m - 1)


@dataclass(frozen=True)
class BNGradients:
    """Per-batch gradients with respect to the BN scale (one entry per batch).

    Returned by :func:`bn_scale_gradients` (``runs`` batches, tensors on its
    ``device``).

    Attributes:
        grad: :math:`g_m = \\partial L_B/\\partial\\gamma` of every batch, by
            autograd through ``torch.nn.functional.batch_norm``, ``(runs,)``.
        quartic: the part of ``grad`` from the quartic term, ``grad - a*gamma``,
            ``(runs,)``.
        kurtosis: the batch's :math:`\\frac1m\\sum_i z_i^4`, ``(runs,)``.
        population: the population gradient
            :math:`\\kappa\\lambda\\gamma^3 + a\\gamma`, with :math:`\\kappa` the
            input distribution's kurtosis (:data:`POPULATION_KURTOSIS`), a float.
    """

    grad: Tensor
    quartic: Tensor
    kurtosis: Tensor
    population: float


def _bn_inputs(m: int, runs: int, data: str, gen: torch.Generator,
               device: torch.device, dtype: torch.dtype) -> Tensor:
    """``(m, runs)`` inputs: column ``r`` is batch ``r`` (drawn on the CPU)."""
    if data == "normal":
        x = torch.randn(m, runs, generator=gen, dtype=dtype)
    else:
        x = torch.rand(m, runs, generator=gen, dtype=dtype)
    return x.to(device)


def _bn_loss(y: Tensor, lam: float, a: float) -> Tensor:
    """Sum over runs of the batch-mean loss ``lam/4 y^4 + a/2 y^2``."""
    return (lam / 4 * y**4 + a / 2 * y**2).mean(0).sum()


def bn_scale_gradients(m: int, gamma: float, *, lam: float = 1.0, a: float = 0.0,
                       runs: int = 10_000, data: str = "normal", eps: float = 1e-30,
                       seed: SeedLike = None, device: str | torch.device | None = None,
                       dtype: torch.dtype = F64) -> BNGradients:
    r"""Mini-batch gradients with respect to the scale of a BatchNorm layer.

    Draws ``runs`` independent batches of ``m`` inputs, passes each through
    ``batch_norm`` in training mode (batch mean, biased batch variance, ``eps``),
    :math:`y_i = \gamma (x_i - \bar x)/\sqrt{s^2 + \epsilon}`, and differentiates
    the batch's mean loss :math:`L_B = \frac1m\sum_i \frac{\lambda}{4}y_i^4 +
    \frac{a}{2}y_i^2` with respect to :math:`\gamma` by autograd. The batches are
    the ``runs`` channels of one ``(m, runs)`` input, each channel with its own
    :math:`\gamma`, so all gradients come from one backward pass. Compare
    ``grad.mean()`` with ``population + bn_gradient_bias(m, gamma, lam)``.
    Section P11.

    Args:
        m: batch size, an int ``>= 2``.
        gamma: the BN scale, a real number.
        lam: :math:`\lambda`, real (default 1).
        a: :math:`a`, real (default 0: a purely quartic loss).
        runs: number of batches, ``>= 1``.
        data: ``"normal"`` (standard normal inputs) or ``"uniform"`` (on [0, 1]).
        eps: BN's :math:`\epsilon > 0` (torch refuses 0). The formulas assume
            :math:`\epsilon = 0`; the default ``1e-30`` is lost in rounding
            unless the batch variance is below about ``1e-14``, while torch's
            usual ``1e-5`` shifts the gradient visibly at ``m = 2``.
        seed: int, ``torch.Generator`` or ``None``.
        device: where to compute (default: :func:`mbgd.device.default_device`).
        dtype: a floating ``torch.dtype``, default float64.

    Returns:
        a :class:`BNGradients` of ``(runs,)`` tensors on ``device``.

    >>> r = bn_scale_gradients(2, 1.0, runs=3, seed=0, device="cpu")
    >>> r.grad.round(decimals=12).tolist()  # m = 2: z = (+1, -1), so g = gamma^3
    [1.0, 1.0, 1.0]
    """
    m = check_int("m", m, low=2)
    gamma = check_real("gamma", gamma)
    lam = check_real("lam", lam)
    a = check_real("a", a)
    runs = check_int("runs", runs, low=1)
    check_choice("data", data, tuple(POPULATION_KURTOSIS))
    eps = check_real("eps", eps, low=0.0, bounds="(]")
    dtype = _check_dtype(dtype)
    device = resolve_device(device)
    gen = as_generator(seed)
    x = _bn_inputs(m, runs, data, gen, device, dtype)
    w = torch.full((runs,), gamma, dtype=dtype, device=device, requires_grad=True)
    y = F.batch_norm(x, None, None, weight=w, training=True, eps=eps)  # (m, runs)
    (grad,) = torch.autograd.grad(_bn_loss(y, lam, a), w)
    with torch.no_grad():
        z = (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps)
        kurtosis = z.pow(4).mean(0)
    population = POPULATION_KURTOSIS[data] * lam * gamma**3 + a * gamma
    return BNGradients(grad=grad, quartic=grad - a * gamma, kurtosis=kurtosis,
                       population=population)


def bn_scale_sgd(m: int, gamma0: float, *, lam: float, a: float, lr: float,
                 steps: int, runs: int = 1, correction: str = "none",
                 eps: float = 1e-30, seed: SeedLike = None,
                 device: str | torch.device | None = None) -> Tensor:
    r"""Train the scale of a BatchNorm layer with SGD; return every iterate.

    ``runs`` independent runs are the channels of one ``nn.BatchNorm1d(runs)``
    (bias frozen at 0), trained by ``torch.optim.SGD(lr=lr)`` on the loss of
    :func:`bn_scale_gradients`, each step on a fresh batch of ``m`` standard
    normal inputs per run. Before each step the gradient can be corrected with
    :math:`c = c(m)` (:func:`bn_correction`):

    * ``"none"``: the plain mini-batch gradient :math:`g`;
    * ``"whole"``: :math:`c\,g`, the whole gradient rescaled;
    * ``"quartic"``: :math:`a\gamma + c\,(g - a\gamma)`, only the quartic part.

    With :math:`a < 0` the population loss
    :math:`\frac{3\lambda}{4}\gamma^4 + \frac a2\gamma^2` has its minimum at
    :math:`\gamma_\star^2 = -a/(3\lambda)`, while the expected batch loss has it
    at :math:`\gamma_m^2 = -a(m+1)/(3\lambda(m-1))`: plain SGD settles near
    :math:`\gamma_m` (up to the :math:`O(\text{lr})` effect of its noise).
    Section P11.

    Args:
        m: batch size, an int ``>= 2``.
        gamma0: start value of every run, real.
        lam, a: loss coefficients, real.
        lr: learning rate, ``> 0``.
        steps: number of SGD steps, ``>= 0``.
        runs: independent runs, ``>= 1``.
        correction: ``"none"``, ``"whole"`` or ``"quartic"``.
        eps: BN's :math:`\epsilon > 0`.
        seed: int, ``torch.Generator`` or ``None``.
        device: where to compute.

    Returns:
        :math:`\gamma` after every step, float64, ``(steps + 1, runs)``.

    >>> path = bn_scale_sgd(2, 1.0, lam=1.0, a=-1.0, lr=0.1, steps=2, seed=0,
    ...                     device="cpu")
    >>> path[:, 0].tolist()  # m = 2: g = gamma^3 - gamma = 0 at gamma = 1
    [1.0, 1.0, 1.0]
    """
    m = check_int("m", m, low=2)
    gamma0 = check_real("gamma0", gamma0)
    lam = check_real("lam", lam)
    a = check_real("a", a)
    lr = check_real("lr", lr, low=0.0, bounds="(]")
    steps = check_int("steps", steps, low=0)
    runs = check_int("runs", runs, low=1)
    check_choice("correction", correction, ("none", "whole", "quartic"))
    eps = check_real("eps", eps, low=0.0, bounds="(]")
    device = resolve_device(device)
    gen = as_generator(seed)
    bn = nn.BatchNorm1d(runs, eps=eps, track_running_stats=False, device=device,
                        dtype=F64)
    bn.bias.requires_grad_(False)
    with torch.no_grad():
        bn.weight.fill_(gamma0)
    opt = torch.optim.SGD([bn.weight], lr=lr)
    c = bn_correction(m)
    path = [bn.weight.detach().clone()]
    for _ in range(steps):
        x = _bn_inputs(m, runs, "normal", gen, device, F64)  # (m, runs)
        opt.zero_grad()
        _bn_loss(bn(x), lam, a).backward()
        with torch.no_grad():
            g = bn.weight.grad
            if correction == "whole":
                g.mul_(c)
            elif correction == "quartic":
                quadratic = a * bn.weight
                g.sub_(quadratic).mul_(c).add_(quadratic)
        opt.step()
        path.append(bn.weight.detach().clone())
    return torch.stack(path)


# --------------------------------------------------------------------------
# P12: learning rate and batch size on one-dimensional least squares
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class LineMoments:
    r"""The moments of a 1-D least-squares data set that SGD's error depends on.

    For the loss :math:`\mathcal L(w) = \frac1{2N}\sum_i (x_i w - y_i)^2`, with
    least-squares slope :math:`\hat w` and residuals :math:`r_i = y_i - x_i\hat w`
    (so :math:`\sum_i x_i r_i = 0`); every mean is over the ``N`` examples.

    Attributes:
        h: the curvature :math:`\overline{x^2}`.
        v: the variance of the per-example curvatures,
            :math:`\overline{x^4} - h^2`.
        s: the variance of the per-example gradients at :math:`\hat w`,
            :math:`\overline{x^2 r^2}`.
        c3: their covariance with the curvatures, :math:`\overline{x^3 r}`.
        w_hat: :math:`\hat w`.
        loss_min: :math:`\mathcal L(\hat w) = \overline{r^2}/2`.
        n: ``N``.

    Returned by :func:`line_moments`, or built by hand (all fields are Python
    numbers: ``h > 0``; ``v, s, loss_min >= 0``; ``c3``, ``w_hat`` real; ``n`` an
    int ``>= 1``) to feed :func:`sgd_error_moments`,
    :func:`stationary_excess_loss` and :func:`lr_limits`.

    Example:
        >>> lm = LineMoments(h=2.0, v=1.0, s=0.5, c3=0.0, w_hat=1.0, loss_min=0.1,
        ...                  n=10)
        >>> lm.excess_loss(0.25), lm.excess_loss(torch.tensor([0.0, 1.0])).tolist()
        (0.25, [0.0, 1.0])
    """

    h: float
    v: float
    s: float
    c3: float
    w_hat: float
    loss_min: float
    n: int

    def __post_init__(self):
        check_real("h", self.h, low=0.0, bounds="(]")
        for name in ("v", "s", "loss_min"):
            check_real(name, getattr(self, name), low=0.0)
        check_real("c3", self.c3)
        check_real("w_hat", self.w_hat)
        check_int("n", self.n, low=1)

    def excess_loss(self, second_moment: Tensor | float) -> Tensor | float:
        r""":math:`E\,\mathcal L(w) - \mathcal L(\hat w) = \frac h2 E[e^2]`, with
        :math:`e = w - \hat w`; ``second_moment`` is :math:`E[e^2]`, a number or a
        tensor of any shape (the result has the same)."""
        return self.h / 2 * second_moment


def noisy_line(n: int, *, slope: float = 2.0, noise: float = 0.5,
               seed: SeedLike = None, device: str | torch.device | None = None,
               dtype: torch.dtype = F64) -> tuple[Tensor, Tensor]:
    r"""A noisy line: :math:`x_i \sim N(0,1)`, :math:`y_i = \text{slope}\,x_i +
    \text{noise}\,\varepsilon_i` with :math:`\varepsilon_i \sim N(0,1)`.

    Args:
        n: number of examples, ``>= 2``.
        slope: real; noise: the label noise's standard deviation, ``>= 0``.
        seed: int, ``torch.Generator`` or ``None``.
        device: where the tensors go; dtype: a floating ``torch.dtype``,
            default float64.

    Returns:
        ``(x, y)``, each ``(n,)``.

    >>> x, y = noisy_line(4, noise=0.0, seed=0, device="cpu")
    >>> bool(torch.equal(y, 2 * x))
    True
    """
    n = check_int("n", n, low=2)
    slope = check_real("slope", slope)
    noise = check_real("noise", noise, low=0.0)
    dtype = _check_dtype(dtype)
    device = resolve_device(device)
    gen = as_generator(seed)
    x = torch.randn(n, generator=gen, dtype=dtype)
    y = slope * x + noise * torch.randn(n, generator=gen, dtype=dtype)
    return x.to(device), y.to(device)


def _check_line(x: Tensor, y: Tensor) -> None:
    for name, t in (("x", x), ("y", y)):
        check_type(name, t, Tensor, "a 1-D torch.Tensor")
        if t.ndim != 1 or not t.is_floating_point():
            raise ValueError(f"{name} must be a 1-D floating tensor; got dtype "
                             f"{t.dtype} and shape {tuple(t.shape)}")
    if x.shape != y.shape or x.numel() < 2:
        raise ValueError(f"x and y must have the same shape (N,) with N >= 2; got "
                         f"{tuple(x.shape)} and {tuple(y.shape)}")
    if y.device != x.device:
        raise ValueError(f"y must be on the device of x ({x.device}); got {y.device}")
    for name, t in (("x", x), ("y", y)):
        bad = int((~torch.isfinite(t)).sum())
        if bad:
            raise ValueError(f"{name} must hold finite numbers only; got {bad} nan "
                             f"or inf value(s) of {t.numel()}")


def line_moments(x: Tensor, y: Tensor) -> LineMoments:
    r"""The moments :class:`LineMoments` of the data ``(x, y)`` (section P12).

    Args:
        x, y: 1-D floating tensors of finite numbers, of the same length
            ``N >= 2`` and on one device, ``x`` not all 0.

    >>> lm = line_moments(torch.tensor([1.0, -1.0, 2.0]),
    ...                   torch.tensor([1.0, 0.0, 4.0]))
    >>> lm.w_hat, lm.h, lm.v  # w_hat = (1 + 0 + 8) / (1 + 1 + 4)
    (1.5, 2.0, 2.0)
    """
    _check_line(x, y)
    x, y = x.double(), y.double()
    xx = x @ x
    if xx == 0:
        raise ValueError("x must not be all zeros; got a tensor of zeros")
    w_hat = float(x @ y / xx)
    r = y - w_hat * x
    h = float((x * x).mean())
    # v >= 0 exactly (Jensen); rounding can leave -1e-20 when all |x_i| are equal
    return LineMoments(h=h, v=max(float(x.pow(4).mean()) - h**2, 0.0),
                       s=float((x * x * r * r).mean()),
                       c3=float((x.pow(3) * r).mean()), w_hat=w_hat,
                       loss_min=float((r * r).mean() / 2), n=x.numel())


def _lr_tensor(lr: float | Tensor) -> Tensor:
    rule = "> 0 and finite (a number or a non-empty tensor)"
    lr = _reals("lr", lr, rule)
    if lr.numel() == 0 or not (torch.isfinite(lr).all() and (lr > 0).all()):
        raise ValueError(f"lr must be {rule}; got {lr.tolist()!r}")
    return lr


def sgd_error_moments(moments: LineMoments, lr: float | Tensor, batch_size: int,
                      e0: float, steps: int) -> tuple[Tensor, Tensor]:
    r"""Exact mean and second moment of SGD's error on 1-D least squares.

    SGD with batches of ``b`` examples drawn uniformly *with replacement* updates
    the error :math:`e = w - \hat w` by

    .. math:: e_{k+1} = (1 - \eta h_B)\,e_k + \eta\,\xi_B, \qquad
              h_B = \tfrac1b\textstyle\sum_{j\in B} x_j^2, \quad
              \xi_B = \tfrac1b\textstyle\sum_{j\in B} x_j r_j,

    with :math:`E h_B = h`, :math:`\operatorname{Var} h_B = v/b`,
    :math:`E\xi_B = 0`, :math:`E\xi_B^2 = s/b`, :math:`E h_B\xi_B = c_3/b`
    (:class:`LineMoments`). As the batch is independent of :math:`e_k`, the
    moments :math:`m_k = E e_k` and :math:`q_k = E e_k^2` obey, exactly,

    .. math:: m_{k+1} = (1-\eta h)\,m_k, \qquad
              q_{k+1} = \big((1-\eta h)^2 + \eta^2 v/b\big)\,q_k
              - 2\eta^2 \frac{c_3}{b}\,m_k + \eta^2\frac{s}{b}.

    Section P12.

    Args:
        moments: a :class:`LineMoments`.
        lr: :math:`\eta > 0`, a number or a tensor of any shape (all at once).
        batch_size: ``b``, an int ``>= 1``.
        e0: the start error :math:`w_0 - \hat w`, real (deterministic).
        steps: number of steps, ``>= 0``.

    Returns:
        ``(m, q)``, float64 on the CPU, each ``(steps + 1, *lr.shape)``.

    >>> lm = LineMoments(h=1.0, v=0.0, s=0.0, c3=0.0, w_hat=0.0, loss_min=0.0, n=1)
    >>> m, q = sgd_error_moments(lm, 0.5, 1, e0=1.0, steps=2)
    >>> m.tolist(), q.tolist()  # no noise: e_k = 0.5^k exactly
    ([1.0, 0.5, 0.25], [1.0, 0.25, 0.0625])
    """
    check_type("moments", moments, LineMoments, "a LineMoments")
    lr = _lr_tensor(lr)
    b = check_int("batch_size", batch_size, low=1)
    e0 = check_real("e0", e0)
    steps = check_int("steps", steps, low=0)
    h, v, s, c3 = moments.h, moments.v, moments.s, moments.c3
    decay = 1 - lr * h
    spread = decay**2 + lr**2 * v / b
    m = torch.full_like(lr, e0)
    q = torch.full_like(lr, e0**2)
    ms, qs = [m], [q]
    for _ in range(steps):
        m, q = decay * m, spread * q - 2 * lr**2 * c3 / b * m + lr**2 * s / b
        ms.append(m)
        qs.append(q)
    return torch.stack(ms), torch.stack(qs)


def stationary_excess_loss(moments: LineMoments, lr: float | Tensor,
                           batch_size: int) -> Tensor:
    r"""The excess loss that SGD settles at, :math:`\frac h2 q_\infty`.

    The fixed point of :func:`sgd_error_moments` (where :math:`m_\infty = 0`):

    .. math:: \frac h2 q_\infty = \frac h2\,\frac{\eta s/b}
              {2h - \eta\,(h^2 + v/b)} \approx \frac{\eta\,s}{4b}
              \quad (\eta h \ll 1),

    so for small steps it depends on :math:`\eta` and ``b`` only through
    :math:`\eta/b`. ``inf`` where the second moment diverges
    (:math:`\eta \ge 2h/(h^2+v/b)`, :func:`lr_limits`). Section P12.

    Args:
        moments: a :class:`LineMoments`; lr: :math:`\eta > 0` (tensor allowed);
        batch_size: ``b >= 1``.

    Returns:
        float64 tensor of the shape of ``lr`` (on the CPU).

    >>> lm = LineMoments(h=1.0, v=2.0, s=0.25, c3=0.0, w_hat=0.0, loss_min=0.0, n=1)
    >>> round(float(stationary_excess_loss(lm, 0.01, 4)), 9)  # ~ 0.01 * 0.25 / 16
    0.000157431
    """
    check_type("moments", moments, LineMoments, "a LineMoments")
    lr = _lr_tensor(lr)
    b = check_int("batch_size", batch_size, low=1)
    h, v, s = moments.h, moments.v, moments.s
    denominator = 2 * h - lr * (h**2 + v / b)
    q = torch.where(denominator > 0, lr * s / b / denominator,
                    torch.full_like(lr, math.inf))
    return h / 2 * q


def lr_limits(moments: LineMoments, batch_size: int) -> tuple[float, float]:
    r"""Largest stable learning rates of SGD on 1-D least squares.

    The mean error :math:`m_k` converges iff :math:`|1-\eta h| < 1`, i.e.
    :math:`\eta < 2/h`; the second moment :math:`q_k` stays bounded iff
    :math:`(1-\eta h)^2 + \eta^2 v/b < 1`, i.e. :math:`\eta < 2h/(h^2 + v/b)`, a
    smaller limit: the batch-to-batch spread of the curvature :math:`h_B` makes
    small batches less stable. Section P12.

    Args:
        moments: a :class:`LineMoments`; batch_size: ``b >= 1``.

    Returns:
        ``(mean_limit, mean_square_limit)``.

    >>> lr_limits(LineMoments(1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 1), 2)
    (2.0, 1.0)
    """
    check_type("moments", moments, LineMoments, "a LineMoments")
    b = check_int("batch_size", batch_size, low=1)
    h, v = moments.h, moments.v
    return 2 / h, 2 * h / (h**2 + v / b)


def simulate_line_sgd(x: Tensor, y: Tensor, *, lr: float, batch_size: int, steps: int,
                      w0: float, runs: int = 1, seed: SeedLike = None) -> Tensor:
    r"""Many independent SGD runs on 1-D least squares, vectorised over runs.

    Each step of each run draws ``b`` indices uniformly with replacement (the
    sampling of :class:`mbgd.data.ReplacementSampler`) and takes

    .. math:: w \leftarrow w - \eta\,\frac1b\sum_{j\in B} x_j (x_j w - y_j).

    The runs share ``w0`` and differ in their batches. Section P12.

    Args:
        x, y: 1-D floating tensors of finite numbers, of length ``N >= 2``, on
            one device.
        lr: :math:`\eta > 0`; batch_size: ``b >= 1``; steps: ``>= 0``.
        w0: start value, real.
        runs: number of runs, ``>= 1``.
        seed: int, ``torch.Generator`` or ``None``.

    Returns:
        :math:`w` after every step, ``(steps + 1, runs)``, dtype of ``x``.

    >>> x = torch.tensor([1.0, 1.0], dtype=torch.float64)
    >>> simulate_line_sgd(x, 3 * x, lr=0.5, batch_size=1, steps=2, w0=0.0,
    ...                   seed=0)[:, 0].tolist()
    [0.0, 1.5, 2.25]
    """
    _check_line(x, y)
    lr = check_real("lr", lr, low=0.0, bounds="(]")
    b = check_int("batch_size", batch_size, low=1)
    steps = check_int("steps", steps, low=0)
    w0 = check_real("w0", w0)
    runs = check_int("runs", runs, low=1)
    gen = as_generator(seed)
    n = x.numel()
    w = torch.full((runs,), w0, dtype=x.dtype, device=x.device)
    path = [w]
    for _ in range(steps):
        idx = torch.randint(n, (runs, b), generator=gen).to(x.device)
        xb, yb = x[idx], y[idx]  # (runs, b)
        w = w - lr * (xb * (xb * w[:, None] - yb)).mean(1)
        path.append(w)
    return torch.stack(path)


# --------------------------------------------------------------------------
# P13: one example with a large curvature
# --------------------------------------------------------------------------

def _check_outlier_args(L_high: float, L_low: float, n: int | None, b: int
                        ) -> tuple[float, float, int]:
    L_high = check_real("L_high", L_high, low=0.0, bounds="(]")
    L_low = check_real("L_low", L_low, low=0.0, bounds="(]")
    if n is None:
        return L_high, L_low, check_int("b", b, low=1)
    n = check_int("n", n, low=1)
    b = check_int("b", b, low=1, high=n)
    if n % b:
        raise ValueError(f"b must divide n = {n} (whole batches per epoch); got {b}")
    return L_high, L_low, b


def batch_lr_limit(L_high: float, L_low: float, b: int) -> float:
    r"""Stable learning rates for a batch with one outlier: :math:`\eta` below
    :math:`2b/(L_H + (b-1)L_L)`.

    Per-example losses :math:`\ell_i(w) = \frac{L_i}{2}(w-w^\star)^2` share the
    minimiser, so the batch's mean loss has curvature
    :math:`L_B = \frac1b\sum_{i\in B} L_i` and a gradient step multiplies the
    error by :math:`1 - \eta L_B`. Repeated steps on the batch contract iff
    :math:`|1-\eta L_B| < 1`, i.e. :math:`\eta < 2/L_B`; at equality the error
    flips sign with constant size. With one outlier :math:`L_H` and ``b - 1``
    examples :math:`L_L`, :math:`2/L_B` is the value returned. Section P13.

    Args:
        L_high: the outlier's curvature :math:`L_H > 0`.
        L_low: the others' curvature :math:`L_L > 0`.
        b: batch size, ``>= 1``.

    >>> batch_lr_limit(50.0, 1.0, 8)  # 16 / 57
    0.2807017543859649
    """
    L_high, L_low, b = _check_outlier_args(L_high, L_low, None, b)
    return 2 * b / (L_high + (b - 1) * L_low)


def epoch_factor(lr: float | Tensor, L_high: float, L_low: float, n: int,
                 b: int) -> Tensor:
    r"""Factor by which one reshuffled epoch multiplies the error :math:`|e|`.

    ``n`` examples (one outlier :math:`L_H`, ``n - 1`` with :math:`L_L`) are
    reshuffled and cut into ``n / b`` batches: exactly one batch holds the
    outlier. The step factors are scalars, so their order does not matter and
    the epoch multiplies :math:`|e|` by

    .. math:: \rho(\eta) = |1 - \eta L_\text{out}|\;|1 - \eta L_L|^{n/b - 1},
              \qquad L_\text{out} = \frac{L_H + (b-1)L_L}{b},

    the same in every epoch. The run converges iff :math:`\rho < 1`, which can
    hold although the outlier's batch expands (:math:`\eta > 2/L_\text{out}`).
    Section P13.

    Args:
        lr: :math:`\eta > 0`, a number or a tensor.
        L_high, L_low: curvatures, ``> 0``.
        n: number of examples, ``>= 1``; b: batch size dividing ``n``.

    Returns:
        float64 tensor of the shape of ``lr`` (on the CPU).

    >>> float(epoch_factor(0.5, 50.0, 1.0, 64, 8))  # 2.5625 * 0.5**7
    0.02001953125
    """
    lr = _lr_tensor(lr)
    L_high, L_low, b = _check_outlier_args(L_high, L_low, n, b)
    L_out = (L_high + (b - 1) * L_low) / b
    return (1 - lr * L_out).abs() * (1 - lr * L_low).abs() ** (n // b - 1)


def growth_probability(lr: float | Tensor, L_high: float, L_low: float, n: int,
                       b: int, steps: int) -> Tensor:
    r"""Probability that :math:`|e|` grows over ``steps`` independent batches.

    Each batch is ``b`` distinct examples drawn uniformly from the ``n`` (one
    outlier), independently from step to step, so it holds the outlier with
    probability :math:`p = b/n`, and the number :math:`K` of outlier batches in
    ``T`` steps is binomial :math:`(T, p)`. Then

    .. math:: \log\frac{|e_T|}{|e_0|} = K \log|1-\eta L_\text{out}|
              + (T-K)\log|1-\eta L_L|,

    and the probability that this is positive is a binomial tail, summed exactly.
    The typical run converges iff the mean log factor
    :math:`p\log|1-\eta L_\text{out}| + (1-p)\log|1-\eta L_L|` is negative.
    Section P13.

    Args:
        lr: :math:`\eta > 0`, a number or a 1-D tensor.
        L_high, L_low: curvatures, ``> 0``.
        n: examples, ``>= 1``; b: batch size in ``[1, n]`` (need not divide ``n``).
        steps: ``T >= 1``.

    Returns:
        float64 tensor of the shape of ``lr`` (on the CPU).

    >>> round(float(growth_probability(2.5, 50.0, 1.0, 64, 8, steps=10)), 12)
    1.0
    """
    lr = _lr_tensor(lr)
    L_high = check_real("L_high", L_high, low=0.0, bounds="(]")
    L_low = check_real("L_low", L_low, low=0.0, bounds="(]")
    n = check_int("n", n, low=1)
    b = check_int("b", b, low=1, high=n)
    steps = check_int("steps", steps, low=1)
    p = b / n
    L_out = (L_high + (b - 1) * L_low) / b
    k = torch.arange(steps + 1, dtype=F64)
    pmf = torch.exp(torch.lgamma(k.new_tensor(steps + 1.0)) - torch.lgamma(k + 1)
                    - torch.lgamma(steps - k + 1)
                    + k * math.log(p) + (steps - k) * math.log1p(-p)) \
        if p < 1 else (k == steps).to(F64)
    flat = lr.reshape(-1, 1)
    log_out = torch.log((1 - flat * L_out).abs())  # (n_lr, 1), may be -inf
    log_low = torch.log((1 - flat * L_low).abs())
    # 0 * (-inf) is nan: a factor of exactly 0 enters only if its batch occurs
    total = torch.where(k > 0, k * log_out, 0.0) \
        + torch.where(k < steps, (steps - k) * log_low, 0.0)  # (n_lr, T + 1)
    return (pmf * (total > 0)).sum(1).reshape(lr.shape)


def simulate_curvature_sgd(curvatures: Tensor | Sequence[float], *,
                           lr: float | Tensor, batch_size: int, steps: int,
                           runs: int = 1, e0: float = 1.0, seed: SeedLike = None,
                           device: str | torch.device | None = None) -> Tensor:
    r"""SGD on per-example quadratics with a shared minimiser, many runs at once.

    Example ``i`` has the loss :math:`\frac{L_i}{2}e^2` in the error
    :math:`e = w - w^\star`. Every step of every run draws ``b`` *distinct*
    examples uniformly (independently across steps and runs) and takes a
    gradient step on their mean loss: :math:`e \leftarrow e - \eta\,L_B\,e` with
    :math:`L_B = \frac1b\sum_{i\in B} L_i`. Several learning rates can run on
    the *same* batches (common random numbers), which makes their comparison
    less noisy. Section P13.

    Args:
        curvatures: :math:`L_i > 0`, ``(N,)``.
        lr: :math:`\eta > 0`, a number or a 1-D tensor of ``K`` learning rates.
        batch_size: ``b`` in ``[1, N]``; steps: ``>= 0``.
        runs: number of runs, ``>= 1``; e0: start error, real.
        seed: int, ``torch.Generator`` or ``None``.
        device: where to compute.

    Returns:
        the error after every step, float64: ``(steps + 1, runs)`` for a number
        ``lr``, ``(steps + 1, K, runs)`` for a tensor.

    >>> simulate_curvature_sgd([1.0, 3.0], lr=0.25, batch_size=2, steps=2,
    ...                        seed=0, device="cpu")[:, 0].tolist()
    [1.0, 0.5, 0.25]
    >>> simulate_curvature_sgd([1.0, 3.0], lr=torch.tensor([0.25, 0.5]),
    ...                        batch_size=2, steps=1, device="cpu")[1].tolist()
    [[0.5], [0.0]]
    """
    L = _reals("curvatures", curvatures, "a non-empty 1-D list of finite numbers > 0")
    if L.ndim != 1 or L.numel() == 0 or not (
            torch.isfinite(L).all() and (L > 0).all()):
        raise ValueError(f"curvatures must be a non-empty 1-D list of finite numbers "
                         f"> 0; got {curvatures!r}")
    scalar = not isinstance(lr, Tensor)
    if scalar:
        check_real("lr", lr, low=0.0, bounds="(]")
    elif lr.ndim != 1:
        raise ValueError(f"lr must be a number or a 1-D tensor; got shape "
                         f"{tuple(lr.shape)}")
    lrs = _lr_tensor(lr).reshape(-1, 1)  # (K, 1)
    b = check_int("batch_size", batch_size, low=1, high=L.numel())
    steps = check_int("steps", steps, low=0)
    runs = check_int("runs", runs, low=1)
    e0 = check_real("e0", e0)
    device = resolve_device(device)
    gen = as_generator(seed)
    L, lrs = L.to(device), lrs.to(device)
    e = torch.full((lrs.shape[0], runs), e0, dtype=F64, device=device)
    path = [e]
    for _ in range(steps):
        # b distinct examples per run: the first b of a random permutation
        idx = torch.rand(runs, L.numel(), generator=gen).argsort(1)[:, :b]
        e = e - lrs * L[idx.to(device)].mean(1) * e  # (K, runs)
        path.append(e)
    out = torch.stack(path)
    return out[:, 0] if scalar else out


def largest_stable_lr(stable: Callable[[float], bool], low: float, high: float, *,
                      tol: float = 1e-6) -> float:
    r"""Bisection for the boundary between stable and unstable learning rates.

    Assumes ``stable(low)`` is true and ``stable(high)`` false (both are
    checked), and halves ``[low, high]`` until it is shorter than ``tol``; returns
    the last stable point. It finds *a* boundary; if the stable set is not an
    interval, scan first. Section P13.

    Args:
        stable: ``lr -> bool``, e.g. "the error shrank over 200 steps".
        low, high: ``0 <= low < high``.
        tol: ``> 0``.

    >>> round(largest_stable_lr(lambda lr: abs(1 - 4 * lr) < 1, 0.1, 1.0), 5)
    0.5
    """
    if not callable(stable):
        raise TypeError(f"stable must be callable (lr -> bool); got {stable!r}")
    low = check_real("low", low, low=0.0)
    high = check_real("high", high, low=low, bounds="(]")
    tol = check_real("tol", tol, low=0.0, bounds="(]")
    if not stable(low):
        raise ValueError(f"low must be a stable learning rate; got {low!r}")
    if stable(high):
        raise ValueError(f"high must be an unstable learning rate; got {high!r}")
    while high - low > tol:
        mid = (low + high) / 2
        if stable(mid):
            low = mid
        else:
            high = mid
    return low
