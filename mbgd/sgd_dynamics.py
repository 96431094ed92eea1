r"""Gradient noise meets the landscape: SGD as a stochastic process.

The book's model of mini-batch SGD on a landscape ``f`` (chapter "Gradient noise
meets the landscape", sections P14-P18) is

.. math:: x_{k+1} = x_k - \eta\,\bigl(\nabla f(x_k) + \xi_k\bigr),\qquad
          \mathbb E\,\xi_k = 0,\quad \operatorname{Cov}\xi_k = \Sigma / b_k,

with fresh noise at every step, so the iterates form a Markov chain. This module
simulates many independent chains at once (the chain index is a batch dimension)
and computes what theory predicts for them:

* :func:`sgd_chains`: the chains on any landscape of :mod:`mbgd.landscapes`, with
  Gaussian noise or with real mini-batches of per-example gradient noise, and a
  batch size that may change from step to step (a cooling schedule);
* :func:`linreg_sgd_chains`: streaming 1-D least squares, whose gradient noise
  grows with the distance to the optimum (state-dependent noise);
* on a quadratic: :func:`moment_recursion` (mean and covariance at every step),
  :func:`stationary_covariance` (the discrete Lyapunov equation) and
  :func:`steady_state_errors` (its diagonal in the Hessian's eigenbasis);
* in 1-D: :func:`propagate_law` pushes the probability law of the iterate through
  the transition kernel on a grid; :func:`gibbs` is the Langevin equilibrium;
* saddle escape times (:func:`escape_steps_gd`, :func:`escape_steps_noisy`),
  :func:`effective_temperature`, :func:`annealing_batch_sizes`;
* a 1-D landscape with a sharp and a flat minimum of equal depth
  (:func:`sharp_flat`);
* the explorer "SGD steady state" (:func:`simulate_steady_state`,
  :class:`SteadyStateView`, :func:`plot_steady_state`, :func:`explore_steady_state`,
  :func:`standin_steady_state`).

Random numbers are drawn on the CPU from one generator (:mod:`mbgd.seeding`) and
moved to ``device``, so a seed gives the same noise on every machine. Gaussian
draws are made in float32 and promoted to float64 (see :func:`_normal`); all
arithmetic is in float64.

>>> from mbgd.landscapes import quadratic
>>> bowl = quadratic((4.0, 1.0))
>>> ens = sgd_chains(bowl, (0.0, 0.0), lr=0.1, batch_size=4, steps=200,
...                  chains=4000, seed=0, device="cpu")
>>> ens.final.shape
torch.Size([4000, 2])
>>> steady_state_errors(bowl.A, 1.0, lr=0.1, batch_size=4)  # 0.1/(4 l (2 - 0.1 l))
tensor([0.0132, 0.0039], dtype=torch.float64)
>>> ((ens.final @ torch.linalg.eigh(bowl.A).eigenvectors) ** 2).mean(0).round(
...     decimals=4)  # measured along the eigenvectors (sampling sd ~ 0.0003)
tensor([0.0127, 0.0040], dtype=torch.float64)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ._checks import check_choice, check_int, check_real, check_reals, check_type
from .device import resolve_device
from .explore import Control, Explorer
from .landscapes import DTYPE, Landscape, Quadratic, quadratic
from .seeding import SeedLike, as_generator
from .trajectory import DivergenceError

__all__ = [
    "Chains",
    "sgd_chains",
    "linreg_sgd_chains",
    "linreg_stationary_variance",
    "stationary_covariance",
    "steady_state_errors",
    "moment_recursion",
    "effective_temperature",
    "annealing_batch_sizes",
    "Law",
    "propagate_law",
    "gibbs",
    "escape_steps_gd",
    "escape_steps_noisy",
    "SharpFlat",
    "sharp_flat",
    "covariance_ellipse",
    "steady_bowl",
    "NOISES",
    "SteadyState",
    "simulate_steady_state",
    "SteadyStateView",
    "plot_steady_state",
    "steady_state_explorer",
    "explore_steady_state",
    "standin_steady_state",
]


# --------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Chains:
    """Many independent runs of noisy gradient descent, recorded at some steps.

    Attributes:
        points: the iterates of every chain at the recorded steps, shape
            ``(R, C, d)`` (``R`` records, ``C`` chains, dimension ``d``), float64.
        steps: the recorded step numbers, shape ``(R,)``, increasing, int64.
        lr: the learning rate.
        landscape: the landscape's name.

    Returned by :func:`sgd_chains` and :func:`linreg_sgd_chains`; its methods
    summarise the ensemble at every record.

    Example:
        >>> pts = torch.tensor([[0.0, 0.0, 0.0, 0.0], [0.5, -1.5, 0.2, -0.3],
        ...                     [1.0, -0.5, 0.4, 0.6]], dtype=torch.float64)
        >>> ens = Chains(pts[..., None], steps=torch.tensor([0, 10, 20]), lr=0.1)
        >>> ens.final.shape, ens.fraction(lo=0.0).tolist()  # (C, d); share x >= 0
        (torch.Size([4, 1]), [1.0, 0.5, 0.75])
        >>> ens.first_exit(1.0).tolist()  # first recorded step with |x| >= 1
        [20, 10, -1, -1]
    """

    points: Tensor
    steps: Tensor
    lr: float
    landscape: str = ""

    @property
    def final(self) -> Tensor:
        """The iterates after the last step, ``(C, d)``."""
        return self.points[-1]

    def at(self, step: int) -> Tensor:
        """The iterates at a recorded ``step``, ``(C, d)``."""
        hits = (self.steps == step).nonzero()
        if hits.numel() == 0:
            raise ValueError(f"step must be one of the recorded steps "
                             f"{self.steps.tolist()!r}; got {step!r}")
        return self.points[int(hits[0, 0])]

    def fraction(self, lo: float = -math.inf, hi: float = math.inf,
                 coordinate: int = 0) -> Tensor:
        """Fraction of chains with ``lo <= x[coordinate] < hi``, per record, ``(R,)``.
        """
        x = self.points[..., coordinate]
        return ((x >= lo) & (x < hi)).to(DTYPE).mean(-1)

    def covariance(self) -> Tensor:
        """Ensemble covariance (divides by ``C``) at every record, ``(R, d, d)``."""
        dev = self.points - self.points.mean(1, keepdim=True)
        return dev.transpose(1, 2) @ dev / self.points.shape[1]

    def first_exit(self, radius: float, coordinate: int = 0) -> Tensor:
        """First recorded step with ``|x[coordinate]| >= radius``, per chain ``(C,)``.

        Chains that never get there have ``-1``. Record every step (``every=1``)
        for exact exit times.
        """
        out = (self.points[..., coordinate].abs() >= radius).to(torch.int8)
        first = out.argmax(0)  # first True along the records (0 if none)
        hit = out.amax(0) > 0
        return torch.where(hit, self.steps.to(first.device)[first],
                           torch.full_like(first, -1))


@dataclass(frozen=True)
class Law:
    """The probability law of a 1-D iterate on a grid, at some steps.

    Attributes:
        grid: cell centres, ``(n,)``, equally spaced, float64.
        probs: probability of each cell at each record, ``(R, n)``; rows sum to 1.
        steps: the recorded step numbers, ``(R,)`` (``(0,)`` for a law without
            time, such as :func:`gibbs`).

    Returned by :func:`propagate_law` and :func:`gibbs`.

    Example:
        >>> law = Law(grid=torch.linspace(-1.0, 1.0, 5, dtype=torch.float64),
        ...           probs=torch.tensor([[0.0, 0.25, 0.5, 0.25, 0.0]],
        ...                              dtype=torch.float64), steps=torch.tensor([0]))
        >>> law.spacing, law.density.tolist(), law.fraction(lo=0.0).tolist()
        (0.5, [[0.0, 0.5, 1.0, 0.5, 0.0]], [0.75])
    """

    grid: Tensor
    probs: Tensor
    steps: Tensor

    @property
    def spacing(self) -> float:
        """The grid spacing ``h``."""
        return float(self.grid[1] - self.grid[0])

    @property
    def density(self) -> Tensor:
        """Probability density (``probs / h``), ``(R, n)``."""
        return self.probs / self.spacing

    def fraction(self, lo: float = -math.inf, hi: float = math.inf) -> Tensor:
        """Probability that ``lo <= x < hi`` (cells by their centres), ``(R,)``."""
        inside = (self.grid >= lo) & (self.grid < hi)
        return self.probs[:, inside].sum(-1)


# --------------------------------------------------------------------------------
# Argument handling shared by the simulators
# --------------------------------------------------------------------------------
def _rowmat(x: Tensor, M: Tensor) -> Tensor:
    """``x @ M`` for a batch of rows ``(C, d)`` and a small ``(d, d)`` matrix.

    Written as ``d`` scaled rows of ``M``: for the book's ``d <= 3`` this is
    several times faster on a CPU than a BLAS call, whose thread start-up
    dominates (and can cost milliseconds on a busy machine).
    """
    out = x[..., 0:1] * M[0]
    for i in range(1, M.shape[0]):
        out = out + x[..., i:i + 1] * M[i]
    return out


def _gradient(f: Landscape, device: torch.device):
    """``x -> grad f(x)`` for ``x`` on ``device`` (quadratics carry CPU matrices)."""
    if isinstance(f, Quadratic):
        A, b = f.A.to(device), f.b.to(device)
        return lambda x: _rowmat(x, A) - b  # A is symmetric: x A = (A x)^T
    return f.grad


def _batch_sizes(batch_size, steps: int, chains: int | None) -> Tensor:
    """Normalise ``batch_size`` to an int64 tensor ``(steps, 1)`` or ``(steps, C)``."""
    rule = ("an int >= 1 or a tensor of ints >= 1 of shape (steps,)"
            + ("" if chains is None else " or (steps, chains)"))
    if isinstance(batch_size, numbers.Integral) and not isinstance(batch_size, bool):
        b = torch.full((steps, 1), int(batch_size), dtype=torch.int64)
    elif isinstance(batch_size, (Tensor, list, tuple)):
        b = torch.as_tensor(batch_size)
        if b.dtype == torch.bool or b.is_complex():
            raise TypeError(f"batch_size must be {rule}; got dtype {b.dtype}")
        if b.is_floating_point() and bool((b != b.round()).any()):
            raise ValueError(f"batch_size must be {rule}; got non-integer values")
        b = b.to(torch.int64)
        shapes = [(steps,)] + ([] if chains is None else [(steps, chains)])
        if tuple(b.shape) not in shapes:
            want = " or ".join(str(s) for s in shapes)
            raise ValueError(f"batch_size must have shape {want}; got shape "
                             f"{tuple(b.shape)}")
        b = b.reshape(steps, -1)
    else:
        raise TypeError(f"batch_size must be {rule}; got {batch_size!r}")
    if b.numel() and int(b.min()) < 1:
        raise ValueError(f"batch_size must be {rule}; got a value {int(b.min())}")
    return b


def _noise_root(noise, d: int) -> Tensor:
    """A matrix ``R`` with ``R^T R = Sigma``; ``noise`` is ``sigma`` or ``Sigma``."""
    if isinstance(noise, numbers.Real) and not isinstance(noise, bool):
        sigma = check_real("noise", noise, low=0.0)
        return sigma * torch.eye(d, dtype=DTYPE)
    cov = _covariance("noise", noise, d)
    lam, U = torch.linalg.eigh(cov)
    return (U * lam.clamp(min=0).sqrt()).T  # rows: sqrt(lam_i) u_i^T


def _covariance(name: str, value, d: int) -> Tensor:
    """Validate a ``(d, d)`` symmetric positive semidefinite covariance matrix."""
    check_type(name, value, Tensor, "a real number or a (d, d) covariance tensor")
    cov = value.to(DTYPE).cpu()
    if tuple(cov.shape) != (d, d):
        raise ValueError(f"{name} must have shape ({d}, {d}); got shape "
                         f"{tuple(cov.shape)}")
    if not torch.allclose(cov, cov.T) or float(torch.linalg.eigvalsh(cov)[0]) < -1e-12:
        raise ValueError(f"{name} must be symmetric positive semidefinite; got "
                         f"{cov.tolist()!r}")
    return cov


def _normal(shape: tuple[int, ...], gen: torch.Generator, device) -> Tensor:
    """Standard normal draws on the CPU in float32, promoted to float64.

    float32 draws are about ten times faster than float64 ones on a CPU. Their
    rounding (relative 6e-8) and their tail, which stops near 5.7 standard
    deviations (probability ~1e-8), are far below the sampling error of any
    ensemble average in the book.
    """
    return torch.randn(shape, generator=gen).to(device=device, dtype=DTYPE)


def _records(steps: int, every: int | None) -> list[int]:
    if every is None:
        return sorted({0, steps})
    every = check_int("every", every, low=1)
    return sorted(set(range(0, steps + 1, every)) | {steps})


def _start(x0, chains: int, d: int, device) -> Tensor:
    x = check_reals("x0", x0, f"finite numbers of shape ({d},) or ({chains}, {d})",
                    device="cpu", finite=True)
    if x.shape == (d,):
        x = x.expand(chains, d)
    elif x.shape != (chains, d):
        raise ValueError(f"x0 must have shape ({d},) or ({chains}, {d}); got shape "
                         f"{tuple(x.shape)}")
    return x.to(device).clone()


def _chains(kept: list[Tensor], records: list[int], lr: float, name: str,
            where: str) -> Chains:
    """Stack the recorded iterates; raise at the first record that is not finite.

    Checked once at the end (a check per step would cost more than the step): a
    non-finite iterate stays non-finite (inf turns into nan, nan stays nan), so
    the last record tells which chains diverged, and their records tell when.
    """
    points = torch.stack(kept)
    bad = ~torch.isfinite(points[-1]).all(-1)  # (C,)
    if bool(bad.any()):
        first = int((~torch.isfinite(points[:, bad]).all(-1)).any(-1)
                    .to(torch.int8).argmax())
        raise DivergenceError(
            f"{where} diverged by step {records[first]}: {int(bad.sum())} chains "
            f"are no longer finite at the end (lr = {lr:g}); use a smaller lr or a "
            "larger batch_size")
    return Chains(points=points, steps=torch.tensor(records), lr=lr, landscape=name)


# --------------------------------------------------------------------------------
# Simulators
# --------------------------------------------------------------------------------
def sgd_chains(f: Landscape, x0, lr: float, batch_size, steps: int, *,
               noise: float | Tensor | None = None, examples: Tensor | None = None,
               chains: int = 1000, every: int | None = None, seed: SeedLike = None,
               device=None) -> Chains:
    r"""Run many independent chains of SGD with additive gradient noise.

    Every chain follows

    .. math:: x_{k+1} = x_k - \eta\,\bigl(\nabla f(x_k) + \xi_k\bigr),

    with :math:`\xi_k` drawn afresh for every chain and step:

    * Gaussian (``noise``): :math:`\xi_k \sim N(0, \Sigma / b_k)`, where
      ``noise`` is either a standard deviation :math:`\sigma` per coordinate
      (:math:`\Sigma = \sigma^2 I`) or the per-example covariance :math:`\Sigma`;
    * real mini-batches (``examples``): :math:`\xi_k` is the mean of ``b_k`` rows
      drawn with replacement from the (centred) per-example noise vectors
      :math:`\zeta_1..\zeta_N`, so :math:`\operatorname{Cov}\xi_k = \Sigma/b_k`
      with :math:`\Sigma` their population covariance. This is exactly SGD on
      :math:`\frac1N\sum_i f(x) + \zeta_i^\top x`.

    Args:
        f: a landscape (its ``grad`` must accept a batch of points ``(C, d)``).
        x0: start, finite, ``(d,)`` for all chains or ``(chains, d)`` one per
            chain.
        lr: learning rate :math:`\eta > 0`.
        batch_size: :math:`b`: an int ``>= 1``; a schedule of ints ``(steps,)``
            (``b_k`` for step ``k = 0..steps-1``); or ``(steps, chains)``, one
            schedule per chain (Gaussian noise only).
        steps: number of steps, ``>= 0``.
        noise: :math:`\sigma \ge 0` or a ``(d, d)`` covariance :math:`\Sigma`
            (``None``: :math:`\sigma = 1`); leave it ``None`` with ``examples``.
        examples: per-example noise vectors ``(N, d)``, finite (they are centred
            first).
        chains: number of chains ``C >= 1``.
        every: record every ``every`` steps (``None``: only the start and the end;
            the last step is always recorded).
        seed: int, ``torch.Generator`` or ``None`` (see :mod:`mbgd.seeding`).
        device: where the chains live (``None``: the default device).

    Returns:
        :class:`Chains` with ``points`` of shape ``(R, chains, d)``.

    Raises:
        DivergenceError: when a chain's iterate is not finite at the end; the
            message names the first recorded step where it was not.

    >>> from mbgd.landscapes import double_well
    >>> ens = sgd_chains(double_well(), (1.13,), 0.01, 4, 100, noise=2.0,
    ...                  chains=5, every=50, seed=0, device="cpu")
    >>> ens.points.shape, ens.steps.tolist()
    (torch.Size([3, 5, 1]), [0, 50, 100])
    """
    check_type("f", f, Landscape, "a landscape from mbgd.landscapes")
    lr = check_real("lr", lr, low=0.0, bounds="(]")
    steps = check_int("steps", steps, low=0)
    chains = check_int("chains", chains, low=1)
    records = _records(steps, every)
    device = resolve_device(device)
    d = f.dim
    if noise is not None and examples is not None:
        raise ValueError("noise must be None when examples are given; got "
                         f"noise={noise!r}")
    b = _batch_sizes(batch_size, steps, None if examples is not None else chains)
    x = _start(x0, chains, d, device)
    gen = as_generator(seed)
    grad = _gradient(f, device)
    if examples is None:
        root = _noise_root(1.0 if noise is None else noise, d).to(device)
        scale = b.to(DTYPE).rsqrt().to(device)[..., None]  # (steps, 1 or C, 1)
    else:
        check_type("examples", examples, Tensor, "a tensor of shape (N, d)")
        if examples.ndim != 2 or examples.shape[1] != d or examples.shape[0] < 1:
            raise ValueError(f"examples must have shape (N, {d}) with N >= 1; got "
                             f"shape {tuple(examples.shape)}")
        zeta = examples.to(DTYPE).cpu()
        if not bool(torch.isfinite(zeta).all()):
            raise ValueError("examples must hold finite numbers only; got "
                             f"{int((~torch.isfinite(zeta)).sum())} nan or inf "
                             f"value(s) of {zeta.numel()}")
        zeta = (zeta - zeta.mean(0)).to(device)
    wanted = set(records)
    kept = [x]  # records[0] is always step 0; updates below make new tensors
    for k in range(steps):
        if examples is None:
            z = _normal((chains, d), gen, device)
            xi = _rowmat(z, root) * scale[k]
        else:
            bk = int(b[k, 0])
            idx = torch.randint(zeta.shape[0], (bk, chains), generator=gen).to(device)
            # the batch mean, one example slot at a time (small gathers are fast)
            xi = sum(zeta[i] for i in idx) / bk
        x = x - lr * (grad(x) + xi)
        if k + 1 in wanted:
            kept.append(x)
    return _chains(kept, records, lr, f.name, "sgd_chains")


def linreg_sgd_chains(lr: float, batch_size: int, steps: int, *,
                      noise_std: float = 1.0, w0: float = 0.0, slope: float = 0.0,
                      chains: int = 1000, every: int | None = None,
                      seed: SeedLike = None, device=None) -> Chains:
    r"""SGD on streaming 1-D least squares: noise that depends on the state.

    Each step draws ``b`` fresh examples per chain, :math:`x \sim N(0, 1)` and
    :math:`y = \beta x + \varepsilon` with :math:`\varepsilon \sim N(0,
    \sigma_\varepsilon^2)`, and takes the mini-batch gradient of
    :math:`\tfrac12 (w x - y)^2`:

    .. math:: w_{k+1} = w_k - \frac{\eta}{b}\sum_{j=1}^b x_j (x_j w_k - y_j).

    The population loss is :math:`\tfrac12 (w-\beta)^2 + \tfrac12\sigma_\varepsilon^2`
    (curvature 1), and the per-example gradient variance at :math:`w` is
    :math:`2(w-\beta)^2 + \sigma_\varepsilon^2`: it grows away from the optimum.

    Args:
        lr: :math:`\eta > 0`.
        batch_size: :math:`b \ge 1`.
        steps: number of steps ``>= 0``.
        noise_std: :math:`\sigma_\varepsilon \ge 0`.
        w0: start of every chain; slope: the true :math:`\beta`.
        chains, every, seed, device: as in :func:`sgd_chains`.

    Returns:
        :class:`Chains` with ``points`` ``(R, chains, 1)``.

    >>> ens = linreg_sgd_chains(0.1, 4, 50, chains=3, seed=0, device="cpu")
    >>> ens.final.shape
    torch.Size([3, 1])
    """
    lr = check_real("lr", lr, low=0.0, bounds="(]")
    b = check_int("batch_size", batch_size, low=1)
    steps = check_int("steps", steps, low=0)
    noise_std = check_real("noise_std", noise_std, low=0.0)
    w0, slope = check_real("w0", w0), check_real("slope", slope)
    chains = check_int("chains", chains, low=1)
    records = _records(steps, every)
    device = resolve_device(device)
    gen = as_generator(seed)
    w = torch.full((chains, 1), w0, dtype=DTYPE, device=device)
    wanted = set(records)
    kept = [w]
    for k in range(steps):
        xy = _normal((2, chains, b), gen, device)
        x, eps = xy[0], noise_std * xy[1]
        g = (x * (x * w - (slope * x + eps))).mean(-1, keepdim=True)
        w = w - lr * g
        if k + 1 in wanted:
            kept.append(w)
    return _chains(kept, records, lr, "streaming 1-D least squares",
                   "linreg_sgd_chains")


def linreg_stationary_variance(lr: float, batch_size: int, noise_std: float = 1.0
                               ) -> float:
    r"""Stationary :math:`\mathbb E (w-\beta)^2` of :func:`linreg_sgd_chains`.

    With :math:`u = w - \beta`, :math:`u_{k+1} = (1-\eta) u_k - \eta\xi_k` and
    :math:`\mathbb E[\xi_k^2 | u_k] = (2u_k^2 + \sigma_\varepsilon^2)/b`, so
    :math:`V = (1-\eta)^2 V + \eta^2 (2V + \sigma_\varepsilon^2)/b`:

    .. math:: V = \frac{\eta\,\sigma_\varepsilon^2}{b(2-\eta) - 2\eta},

    finite only for :math:`\eta < 2b/(b+2)` (below the noiseless limit 2). The
    same model with the noise frozen at its value at the optimum gives
    :math:`\eta\sigma_\varepsilon^2 / (b(2-\eta))` instead.

    Raises ``ValueError`` when ``lr >= 2b/(b+2)`` (the variance grows without
    bound).

    >>> linreg_stationary_variance(0.5, 1)
    1.0
    """
    lr = check_real("lr", lr, low=0.0, bounds="(]")
    b = check_int("batch_size", batch_size, low=1)
    noise_std = check_real("noise_std", noise_std, low=0.0)
    limit = 2 * b / (b + 2)
    if lr >= limit:
        raise ValueError(f"lr must be < 2b/(b+2) = {limit:.6g} for a finite "
                         f"stationary variance; got {lr!r}")
    return lr * noise_std**2 / (b * (2 - lr) - 2 * lr)


# --------------------------------------------------------------------------------
# Quadratics: moments in closed form
# --------------------------------------------------------------------------------
def _hessian(H) -> Tensor:
    check_type("H", H, Tensor, "a (d, d) symmetric tensor")
    H = H.to(DTYPE).cpu()
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.numel() == 0 \
            or not bool(torch.isfinite(H).all()):
        raise ValueError(f"H must be a finite (d, d) matrix with d >= 1; got "
                         f"{H.tolist()!r}")
    if not torch.allclose(H, H.T):
        raise ValueError(f"H must be a symmetric (d, d) matrix; got {H.tolist()!r}")
    return H


def _noise_cov(noise, d: int) -> Tensor:
    if isinstance(noise, numbers.Real) and not isinstance(noise, bool):
        return check_real("noise", noise, low=0.0) ** 2 * torch.eye(d, dtype=DTYPE)
    return _covariance("noise", noise, d)


def stationary_covariance(H: Tensor, noise, lr: float, batch_size: int) -> Tensor:
    r"""Stationary covariance of SGD on :math:`f = \tfrac12 x^\top H x`.

    The covariance :math:`P_k` of :math:`x_k` obeys
    :math:`P_{k+1} = A P_k A^\top + \eta^2\Sigma/b` with :math:`A = I - \eta H`;
    its fixed point solves this discrete Lyapunov equation. In the eigenbasis
    :math:`H = U\Lambda U^\top`, with :math:`\tilde\Sigma = U^\top\Sigma U`,

    .. math:: \tilde P_{ij} = \frac{\eta\,\tilde\Sigma_{ij}}
              {b\,(\lambda_i + \lambda_j - \eta\lambda_i\lambda_j)},
              \qquad P = U\tilde P U^\top .

    Its diagonal is :func:`steady_state_errors`.

    Args:
        H: symmetric ``(d, d)`` Hessian, positive definite.
        noise: :math:`\sigma` (then :math:`\Sigma = \sigma^2 I`) or ``(d, d)``
            :math:`\Sigma`.
        lr: :math:`0 < \eta < 2/\lambda_{max}` (else there is no stationary law).
        batch_size: :math:`b \ge 1`.

    Returns:
        ``(d, d)`` float64.

    >>> stationary_covariance(torch.eye(2), 1.0, lr=0.5, batch_size=1)
    tensor([[0.3333, 0.0000],
            [0.0000, 0.3333]], dtype=torch.float64)
    """
    lam, U, tilde = _eigen_noise(H, noise, lr)
    b = check_int("batch_size", batch_size, low=1)
    denom = lam[:, None] + lam[None, :] - lr * lam[:, None] * lam[None, :]
    return U @ (lr * tilde / (b * denom)) @ U.T


def _eigen_noise(H, noise, lr):
    H = _hessian(H)
    lr = check_real("lr", lr, low=0.0, bounds="(]")
    lam, U = torch.linalg.eigh(H)
    if float(lam[0]) <= 0:
        raise ValueError(f"H must be positive definite; got eigenvalues "
                         f"{lam.tolist()!r}")
    if lr >= 2 / float(lam[-1]):
        raise ValueError(f"lr must be < 2/lambda_max = {2 / float(lam[-1]):.6g} for "
                         f"a stationary law; got {lr!r}")
    return lam, U, U.T @ _noise_cov(noise, H.shape[0]) @ U


def steady_state_errors(H: Tensor, noise, lr: float, batch_size: int) -> Tensor:
    r"""Stationary mean squared error along each eigenvector of ``H``.

    .. math:: e_i = \mathbb E\,(u_i^\top x)^2
              = \frac{\eta\, s_i}{b\,\lambda_i\,(2-\eta\lambda_i)},
              \qquad s_i = u_i^\top\Sigma u_i,

    for :math:`H u_i = \lambda_i u_i` (ascending :math:`\lambda_i`, the order of
    ``torch.linalg.eigh``). Exact for any :math:`\Sigma`, aligned with ``H`` or
    not: these are the diagonal entries of :func:`stationary_covariance` in the
    eigenbasis, and only the off-diagonal entries feel the misalignment.

    Args: as :func:`stationary_covariance`.

    Returns:
        ``(d,)`` float64.

    >>> steady_state_errors(torch.diag(torch.tensor([1.0, 10.0])), 1.0, 0.1, 2)
    tensor([0.0263, 0.0050], dtype=torch.float64)
    """
    lam, _, tilde = _eigen_noise(H, noise, lr)
    b = check_int("batch_size", batch_size, low=1)
    return lr * tilde.diagonal() / (b * lam * (2 - lr * lam))


def moment_recursion(H: Tensor, noise, lr: float, batch_size, steps: int, *,
                     mean0, cov0: Tensor | None = None) -> tuple[Tensor, Tensor]:
    r"""Mean and covariance of SGD on :math:`f=\tfrac12 x^\top H x` at every step.

    For :math:`x_{k+1} = A x_k - \eta\xi_k`, :math:`A = I - \eta H`, the law of
    :math:`x_k` has

    .. math:: m_{k+1} = A m_k, \qquad P_{k+1} = A P_k A^\top + \eta^2\Sigma/b_k,

    whatever the noise's distribution; with Gaussian noise and a Gaussian (or
    fixed) start the law is exactly :math:`N(m_k, P_k)`. No stability condition
    is needed here (the moments may grow).

    Args:
        H: symmetric ``(d, d)``; noise: :math:`\sigma` or ``(d, d)`` :math:`\Sigma`.
        lr: :math:`\eta > 0`.
        batch_size: int ``>= 1`` or a schedule ``(steps,)``.
        steps: ``>= 0``.
        mean0: :math:`m_0`, finite, ``(d,)``; cov0: :math:`P_0` (default 0: a
            fixed start).

    Returns:
        ``(means, covs)`` of shapes ``(steps + 1, d)`` and ``(steps + 1, d, d)``.

    >>> m, P = moment_recursion(torch.eye(1), 1.0, 0.5, 1, 2, mean0=[1.0])
    >>> m[:, 0].tolist(), P[:, 0, 0].tolist()
    ([1.0, 0.5, 0.25], [0.0, 0.25, 0.3125])
    """
    H = _hessian(H)
    lr = check_real("lr", lr, low=0.0, bounds="(]")
    steps = check_int("steps", steps, low=0)
    d = H.shape[0]
    Q = lr**2 * _noise_cov(noise, d)
    b = _batch_sizes(batch_size, steps, None)[:, 0].to(DTYPE)
    m = check_reals("mean0", mean0, f"finite numbers of shape ({d},)",
                    device="cpu", finite=True)
    if m.shape != (d,):
        raise ValueError(f"mean0 must have shape ({d},); got shape {tuple(m.shape)}")
    P = (torch.zeros(d, d, dtype=DTYPE) if cov0 is None
         else _covariance("cov0", cov0, d))
    A = torch.eye(d, dtype=DTYPE) - lr * H
    means, covs = [m], [P]
    for k in range(steps):
        m, P = A @ m, A @ P @ A.T + Q / b[k]
        means.append(m)
        covs.append(P)
    return torch.stack(means), torch.stack(covs)


def effective_temperature(lr: float, noise_var: float, batch_size) -> float | Tensor:
    r"""The temperature that matches SGD to the Langevin equation.

    One SGD step moves by :math:`-\eta\nabla f - \eta\xi` with
    :math:`\operatorname{Var}\xi = \sigma^2/b`; one Euler-Maruyama step of
    :math:`dX = -\nabla f\,dt + \sqrt{2T}\,dW` with :math:`dt = \eta` moves by
    :math:`-\eta\nabla f + \sqrt{2T\eta}\,Z`. Equal variances give

    .. math:: T = \frac{\eta\,\sigma^2}{2b}.

    Args:
        lr: :math:`\eta > 0`; noise_var: :math:`\sigma^2 \ge 0`;
        batch_size: :math:`b \ge 1`, a number or a tensor of batch sizes.

    Returns:
        a float, or a tensor of the shape of ``batch_size``.

    >>> effective_temperature(0.02, 49.0, 1)
    0.49
    """
    lr = check_real("lr", lr, low=0.0, bounds="(]")
    noise_var = check_real("noise_var", noise_var, low=0.0)
    if isinstance(batch_size, Tensor):
        rule = "a number >= 1 or a tensor of numbers >= 1"
        if batch_size.dtype == torch.bool or batch_size.is_complex():
            raise TypeError(f"batch_size must be {rule}; got dtype "
                            f"{batch_size.dtype}")
        if not bool((batch_size >= 1).all() & torch.isfinite(batch_size).all()):
            raise ValueError(f"batch_size must be {rule}; got "
                             f"{batch_size.tolist()!r}")
    else:
        batch_size = check_real("batch_size", batch_size, low=1.0)
    return lr * noise_var / (2 * batch_size)


def annealing_batch_sizes(steps: int, lr: float, noise_var: float, c: float
                          ) -> Tensor:
    r"""Batch sizes that cool like :math:`T_k = c/\log(k+1)` (and no faster).

    Solving :math:`\eta\sigma^2/(2b_k) = c/\log(k+1)` for :math:`b_k` and rounding
    down (at least 1) gives

    .. math:: b_k = \max\bigl(1, \lfloor \eta\sigma^2\log(k+1)/(2c)\rfloor\bigr),

    so the temperature :func:`effective_temperature` of step ``k`` is never below
    :math:`\min(T_{max}, c/\log(k+1))`, where :math:`T_{max} = \eta\sigma^2/2`
    is the hottest that batches of one allow. The classical theorems (see the
    book, P16) ask for :math:`c` at least the depth of the deepest non-global
    well.

    Args:
        steps: number of steps ``>= 0``; lr: :math:`\eta > 0`;
        noise_var: :math:`\sigma^2 > 0`; c: :math:`c > 0`.

    Returns:
        int64 ``(steps,)``.

    >>> annealing_batch_sizes(6, 0.5, 4.0, 0.5).tolist()
    [1, 1, 2, 2, 3, 3]
    """
    steps = check_int("steps", steps, low=0)
    lr = check_real("lr", lr, low=0.0, bounds="(]")
    noise_var = check_real("noise_var", noise_var, low=0.0, bounds="(]")
    c = check_real("c", c, low=0.0, bounds="(]")
    k = torch.arange(steps, dtype=DTYPE)
    b = torch.floor(lr * noise_var * torch.log(k + 1) / (2 * c) + 1e-12)
    return b.clamp(min=1).to(torch.int64)


# --------------------------------------------------------------------------------
# 1-D laws on a grid
# --------------------------------------------------------------------------------
def _grid(grid) -> Tensor:
    if not (isinstance(grid, tuple) and len(grid) == 3):
        raise TypeError(f"grid must be a tuple (lo, hi, n); got {grid!r}")
    lo, hi = check_real("grid lo", grid[0]), check_real("grid hi", grid[1])
    n = check_int("grid n", grid[2], low=3)
    if hi <= lo:
        raise ValueError(f"grid must have lo < hi; got {grid!r}")
    return torch.linspace(lo, hi, n, dtype=DTYPE)


def _check_1d(f) -> None:
    check_type("f", f, Landscape, "a landscape from mbgd.landscapes")
    if f.dim != 1:
        raise ValueError(f"f must be a 1-D landscape; got dim {f.dim} ({f.name!r})")


def _kernel(f: Landscape, grid: Tensor, lr: float, std: float) -> Tensor:
    """``K[i, j]``: probability to land in cell ``i`` from the centre of cell ``j``."""
    h = grid[1] - grid[0]
    edges = torch.cat([grid[:1] - h / 2, grid + h / 2])  # (n + 1,)
    drift = grid - lr * f.grad(grid[:, None])[:, 0]  # where cell j's mean lands
    cdf = torch.special.ndtr((edges[:, None] - drift[None, :]) / std)  # (n + 1, n)
    cdf[0], cdf[-1] = 0.0, 1.0  # the two end cells collect the tails
    return cdf[1:] - cdf[:-1]


def propagate_law(f: Landscape, lr: float, batch_size, steps: int, *,
                  noise: float = 1.0, x0: float | Tensor = 0.0,
                  grid: tuple = (-2.5, 2.5, 401), every: int | None = None,
                  device=None) -> Law:
    r"""Push the law of a 1-D SGD iterate through the transition kernel.

    Given :math:`x_k = x`, the next iterate is
    :math:`N(x - \eta f'(x),\ \eta^2\sigma^2/b_k)`, so the law evolves by

    .. math:: p_{k+1}(y) = \int K_k(x, y)\, p_k(x)\, dx .

    On a grid of ``n`` cells this is a matrix-vector product per step (an
    ``n x n`` Markov matrix per distinct batch size): a deterministic prediction
    of what an ensemble of :func:`sgd_chains` shows, accurate to the grid
    (the state is replaced by its cell's centre; the end cells keep the tails).
    Use a spacing well below the step's noise :math:`\eta\sigma/\sqrt{b}`.

    Args:
        f: a 1-D landscape.
        lr: :math:`\eta > 0`.
        batch_size: int ``>= 1`` or a schedule ``(steps,)``.
        steps: ``>= 0``.
        noise: :math:`\sigma > 0`, the per-example noise standard deviation.
        x0: a start point (all mass in its nearest cell) or the initial cell
            probabilities ``(n,)``.
        grid: ``(lo, hi, n)``: ``n >= 3`` cell centres from ``lo`` to ``hi``.
        every: record every ``every`` steps (``None``: start and end only).
        device: where to compute (``None``: the default device).

    Returns:
        :class:`Law` with ``probs`` ``(R, n)``.

    >>> from mbgd.landscapes import double_well
    >>> law = propagate_law(double_well(), 0.02, 1, 100, noise=7.0, x0=1.13,
    ...                     device="cpu")
    >>> round(float(law.probs[-1].sum()), 12), law.probs.shape
    (1.0, torch.Size([2, 401]))
    """
    _check_1d(f)
    lr = check_real("lr", lr, low=0.0, bounds="(]")
    steps = check_int("steps", steps, low=0)
    noise = check_real("noise", noise, low=0.0, bounds="(]")
    records = _records(steps, every)
    b = _batch_sizes(batch_size, steps, None)[:, 0].tolist()
    xs = _grid(grid)
    device = resolve_device(device)
    if isinstance(x0, Tensor):
        if x0.shape != xs.shape or not abs(float(x0.sum()) - 1) <= 1e-9 \
                or not bool((x0 >= 0).all()):
            raise ValueError(f"x0 must be a float or probabilities of shape "
                             f"({len(xs)},) that sum to 1; got shape "
                             f"{tuple(x0.shape)}, sum {float(x0.sum())!r}")
        p = x0.to(DTYPE)
    else:
        x0 = check_real("x0", x0)
        p = torch.zeros_like(xs)
        p[(xs - x0).abs().argmin()] = 1.0
    p = p.to(device)
    kernels: dict[int, Tensor] = {}
    wanted = set(records)
    kept = [p]
    for k in range(steps):
        if b[k] not in kernels:
            std = lr * noise / math.sqrt(b[k])
            kernels[b[k]] = _kernel(f, xs, lr, std).to(device)
        p = kernels[b[k]] @ p
        if k + 1 in wanted:
            kept.append(p)
    return Law(grid=xs.to(device), probs=torch.stack(kept),
               steps=torch.tensor(records))


def gibbs(f: Landscape, temperature: float, grid: tuple = (-2.5, 2.5, 401),
          device=None) -> Law:
    r"""The Gibbs law :math:`p(x) \propto e^{-f(x)/T}` of a 1-D landscape on a grid.

    It is the stationary law of the Langevin diffusion
    :math:`dX = -f'(X)\,dt + \sqrt{2T}\,dW` (continuous time, constant
    temperature), the reference that SGD approaches for small steps.

    Args:
        f: a 1-D landscape; temperature: :math:`T > 0`; grid: ``(lo, hi, n)``.

    Returns:
        :class:`Law` with one record (``steps == (0,)``).

    >>> from mbgd.landscapes import double_well
    >>> law = gibbs(double_well(), 0.5, device="cpu")
    >>> round(float(law.fraction(hi=0.17)[0]), 2)  # mass of the left (deep) well
    0.99
    """
    _check_1d(f)
    T = check_real("temperature", temperature, low=0.0, bounds="(]")
    xs = _grid(grid)
    v = f.value(xs[:, None])
    w = torch.exp(-(v - v.min()) / T)
    device = resolve_device(device)
    return Law(grid=xs.to(device), probs=(w / w.sum())[None].to(device),
               steps=torch.tensor([0]))


# --------------------------------------------------------------------------------
# Saddle points
# --------------------------------------------------------------------------------
def escape_steps_gd(y0: float, lr: float, curvature: float, radius: float) -> int:
    r"""Steps for gradient descent to leave a saddle along its unstable direction.

    Along an eigenvector with curvature :math:`-|\lambda|` the linearised update
    is :math:`y_{k+1} = (1 + \eta|\lambda|)\, y_k`, so :math:`|y|` first reaches
    ``radius`` after

    .. math:: k = \Bigl\lceil \frac{\ln(r/|y_0|)}{\ln(1+\eta|\lambda|)} \Bigr\rceil
              \approx \frac{\ln(r/|y_0|)}{\eta|\lambda|}

    steps. The linearisation needs ``radius`` small enough that the landscape's
    higher-order terms do not matter yet.

    Args:
        y0: start's component along the unstable direction, ``0 < |y0| < radius``.
        lr: :math:`\eta > 0`; curvature: :math:`|\lambda| > 0`; radius: ``r > 0``.

    >>> escape_steps_gd(1e-4, 0.1, 1.0, 0.1)
    73
    """
    y0 = check_real("y0", y0)
    lr = check_real("lr", lr, low=0.0, bounds="(]")
    curvature = check_real("curvature", curvature, low=0.0, bounds="(]")
    radius = check_real("radius", radius, low=abs(y0), bounds="(]")
    if y0 == 0:
        raise ValueError("y0 must be nonzero (from y0 = 0 descent never leaves); "
                         "got 0.0")
    return math.ceil(math.log(radius / abs(y0)) / math.log1p(lr * curvature) - 1e-9)


def escape_steps_noisy(quantile: float, lr: float, curvature: float, radius: float,
                       noise_std: float, batch_size: int = 1) -> float:
    r"""Quantile of the escape time of noisy GD started exactly on a saddle.

    Linearised, :math:`y_{k+1} = \rho\,y_k - \eta\xi_k` with
    :math:`\rho = 1 + \eta|\lambda|` and :math:`\xi_k\sim N(0, s^2)`,
    :math:`s^2 = \sigma^2/b`. Then :math:`y_k = \rho^k Z_k` where :math:`Z_k`
    tends quickly to :math:`Z \sim N(0, \eta^2 s^2/(\rho^2 - 1))`, and :math:`|y|`
    reaches ``radius`` at :math:`k \approx \ln(r/|Z|)/\ln\rho`. The ``q``-quantile
    of that time is

    .. math:: k_q = \frac{\ln\bigl(r / (z_{1-q}\, \mathrm{sd}(Z))\bigr)}{\ln\rho},

    with :math:`z_{1-q}` the :math:`(1-q)`-quantile of :math:`|N(0,1)|`
    (later kicks and the landscape's higher-order terms are neglected).

    Args:
        quantile: ``q`` in ``(0, 1)``; lr, curvature, radius: as
            :func:`escape_steps_gd`; noise_std: :math:`\sigma > 0`;
        batch_size: :math:`b \ge 1`.

    >>> round(escape_steps_noisy(0.5, 0.1, 1.0, 0.1, 1e-4), 1)
    92.6
    """
    q = check_real("quantile", quantile, low=0.0, high=1.0, bounds="()")
    lr = check_real("lr", lr, low=0.0, bounds="(]")
    curvature = check_real("curvature", curvature, low=0.0, bounds="(]")
    radius = check_real("radius", radius, low=0.0, bounds="(]")
    noise_std = check_real("noise_std", noise_std, low=0.0, bounds="(]")
    b = check_int("batch_size", batch_size, low=1)
    rho = 1 + lr * curvature
    sd = lr * noise_std / math.sqrt(b) / math.sqrt(rho**2 - 1)
    z = math.sqrt(2) * float(torch.special.erfinv(torch.tensor(1 - q, dtype=DTYPE)))
    return math.log(radius / (z * sd)) / math.log(rho)


# --------------------------------------------------------------------------------
# A sharp and a flat minimum of equal depth
# --------------------------------------------------------------------------------
class SharpFlat(Landscape):
    r"""A sharp and a flat well of equal depth: a smooth minimum of two parabolas.

    .. math:: f(x) = -\tau\log\bigl(e^{-q_s(x)/\tau} + e^{-q_f(x)/\tau}\bigr),\quad
              q_s = \tfrac{\lambda_s}{2}(x-a)^2,\ q_f = \tfrac{\lambda_f}{2}(x-c)^2 .

    Away from the crossing of the parabolas ``f`` is the smaller of the two, so it
    has minima of depth 0 (to within :math:`\tau e^{-q/\tau}`) at ``a``
    (curvature :math:`\lambda_s`) and ``c`` (curvature :math:`\lambda_f`),
    separated by a barrier near the crossing; :math:`\tau` rounds the kink there.
    With :math:`w = \sigma((q_f - q_s)/\tau)`:
    :math:`f' = w q_s' + (1-w) q_f'` and
    :math:`f'' = w\lambda_s + (1-w)\lambda_f - w(1-w)(q_s'-q_f')^2/\tau`.

    Points are ``(..., 1)``: ``value`` gives ``(...)``, ``grad`` ``(..., 1)`` and
    ``hessian`` ``(..., 1, 1)``. Also built by :func:`sharp_flat`.

    Attributes:
        local_minima: ``(a, c)``, ``(2,)``; barrier: the local maximum between
        them, a float; minimizer: the deeper of the two, ``(1,)`` (their values
        differ by far less than 1e-15).

    Example:
        >>> f = SharpFlat(sharp=16.0, flat=1.0, a=-1.0, c=1.0)
        >>> x = torch.tensor([[-0.5], [0.0], [0.5]], dtype=torch.float64)
        >>> f.value(x).round(decimals=4).tolist()  # the flat parabola (x - 1)^2 / 2
        [1.125, 0.5, 0.125]
        >>> round(f.barrier, 4)  # the parabolas cross at -0.6
        -0.5912
    """

    dim = 1
    bounds = ((-2.5, 2.5),)

    def __init__(self, sharp: float = 16.0, flat: float = 1.0, a: float = -1.0,
                 c: float = 1.0, smoothing: float = 0.05):
        self.sharp = check_real("sharp", sharp, low=0.0, bounds="(]")
        self.flat = check_real("flat", flat, low=0.0, bounds="(]")
        self.a, self.c = check_real("a", a), check_real("c", c, low=a, bounds="(]")
        self.tau = check_real("smoothing", smoothing, low=0.0, bounds="(]")
        self.name = f"sharp ({self.sharp:g}) and flat ({self.flat:g}) wells"
        self.local_minima = torch.tensor([self.a, self.c], dtype=DTYPE)
        self.barrier = self._barrier()
        values = self.value(self.local_minima[:, None])
        self.minimizer = self.local_minima[values.argmin()].reshape(1)

    def _parts(self, x: Tensor):
        u = x[..., 0]
        qs = 0.5 * self.sharp * (u - self.a) ** 2
        qf = 0.5 * self.flat * (u - self.c) ** 2
        ds, df = self.sharp * (u - self.a), self.flat * (u - self.c)
        return qs, qf, ds, df, torch.sigmoid((qf - qs) / self.tau)

    def value(self, x: Tensor) -> Tensor:
        qs, qf, *_ = self._parts(x)
        return -self.tau * torch.logaddexp(-qs / self.tau, -qf / self.tau)

    def grad(self, x: Tensor) -> Tensor:
        _, _, ds, df, w = self._parts(x)
        return (w * ds + (1 - w) * df)[..., None]

    def hessian(self, x: Tensor) -> Tensor:
        _, _, ds, df, w = self._parts(x)
        h = (w * self.sharp + (1 - w) * self.flat
             - w * (1 - w) * (ds - df) ** 2 / self.tau)
        return h[..., None, None]

    def _barrier(self) -> float:
        # f' > 0 just right of a and f' < 0 just left of c: bisect f' between them
        lo, hi = self.a + 1e-6, self.c - 1e-6
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            g = float(self.grad(torch.tensor([[mid]], dtype=DTYPE))[0, 0])
            lo, hi = (mid, hi) if g > 0 else (lo, mid)
        return 0.5 * (lo + hi)


def sharp_flat(sharp: float = 16.0, flat: float = 1.0, a: float = -1.0, c: float = 1.0,
               smoothing: float = 0.05) -> SharpFlat:
    r"""A sharp well at ``a`` and a flat well at ``c`` of equal depth (see
    :class:`SharpFlat`).

    Args:
        sharp, flat: the curvatures :math:`\lambda_s, \lambda_f > 0`.
        a, c: the two minima, ``a < c``.
        smoothing: :math:`\tau > 0`, the rounding of the kink at the barrier.

    >>> f = sharp_flat()
    >>> round(f.barrier, 4), f.hessian(f.local_minima[:, None])[:, 0, 0].tolist()
    (-0.5912, [16.0, 1.0])
    """
    return SharpFlat(sharp, flat, a, c, smoothing)


# --------------------------------------------------------------------------------
# The explorer: SGD steady state on a 2-D quadratic
# --------------------------------------------------------------------------------
def covariance_ellipse(cov: Tensor, center=(0.0, 0.0), scale: float = 2.0,
                       n: int = 100) -> Tensor:
    r"""Points of the ellipse :math:`(x-m)^\top P^{-1}(x-m) = s^2` in 2-D.

    For a Gaussian :math:`N(m, P)` it holds probability :math:`1 - e^{-s^2/2}`
    (0.8647 for ``scale`` 2).

    Args:
        cov: ``(2, 2)`` positive semidefinite; center: ``m``, 2 finite numbers;
        scale: ``s > 0``; n: number of points ``>= 3``.

    Returns:
        ``(n, 2)`` float64 (closed: the first point is repeated at the end).

    >>> covariance_ellipse(torch.eye(2), scale=1.0, n=5)[:, 0].round(decimals=3)
    tensor([ 1.,  0., -1., -0.,  1.], dtype=torch.float64)
    """
    P = _covariance("cov", cov, 2)
    m = check_reals("center", center, "2 finite numbers", device="cpu",
                    finite=True)
    if m.shape != (2,):
        raise ValueError(f"center must be 2 finite numbers; got shape "
                         f"{tuple(m.shape)}")
    scale = check_real("scale", scale, low=0.0, bounds="(]")
    n = check_int("n", n, low=3)
    lam, U = torch.linalg.eigh(P)
    t = torch.linspace(0, 2 * math.pi, n, dtype=DTYPE)
    circle = torch.stack([t.cos(), t.sin()], -1)
    return m + scale * (circle * lam.sqrt()) @ U.T


def steady_bowl() -> Quadratic:
    r"""The explorer's bowl: curvatures 4 and 1, axes turned by 30 degrees.

    >>> steady_bowl().eigenvalues.round(decimals=12).tolist()
    [1.0, 4.0]
    """
    return quadratic((4.0, 1.0), angle=math.pi / 6, name="bowl (curvatures 4, 1)")


def _rotated(variances: Sequence[float], angle: float) -> Tensor:
    c, s = math.cos(angle), math.sin(angle)
    R = torch.tensor([[c, -s], [s, c]], dtype=DTYPE)
    return R @ torch.diag(torch.tensor(variances, dtype=DTYPE)) @ R.T


#: Per-example noise covariances of the explorer, all with trace 2.
NOISES = {
    "isotropic": torch.eye(2, dtype=DTYPE),
    "like H": steady_bowl().A * (2.0 / 5.0),
    "misaligned": _rotated((1.8, 0.2), math.radians(75.0)),
}

#: Where the explorer's chains start, how many there are and how long they run.
STEADY_START = (1.5, 1.5)
STEADY_CHAINS = 1000
STEADY_STEPS = 120


@dataclass(frozen=True)
class SteadyState:
    """What :func:`simulate_steady_state` computed (tensors on the CPU).

    Returned by :func:`simulate_steady_state`; drawn by :func:`plot_steady_state`
    and :class:`SteadyStateView`.

    Attributes:
        points: the chains after the last step, ``(C, 2)``.
        mean_sq: measured :math:`\\mathbb E\\lVert x_k\\rVert^2` over the chains,
            ``(K + 1,)``.
        predicted_mean_sq: :math:`\\lVert m_k\\rVert^2 + \\operatorname{tr} P_k`
            from :func:`moment_recursion`, ``(K + 1,)``.
        stationary_cov: :func:`stationary_covariance`, ``(2, 2)``.
        lr, batch_size, noise: the parameters.
    """

    points: Tensor
    mean_sq: Tensor
    predicted_mean_sq: Tensor
    stationary_cov: Tensor
    lr: float
    batch_size: int
    noise: str


def simulate_steady_state(lr: float = 0.2, batch_size: int = 4,
                          noise: str = "isotropic", *, steps: int = STEADY_STEPS,
                          chains: int = STEADY_CHAINS, seed: SeedLike = 0,
                          device=None) -> SteadyState:
    r"""A cloud of SGD chains on :func:`steady_bowl` and its predicted steady state.

    The chains start at :data:`STEADY_START` and follow
    :math:`x_{k+1} = x_k - \eta(Hx_k + \xi_k)`, :math:`\xi_k\sim N(0,\Sigma/b)`,
    with :math:`\Sigma` = ``NOISES[noise]``.

    Args:
        lr: :math:`0 < \eta < 2/\lambda_{max} = 0.5`.
        batch_size: :math:`b \ge 1`.
        noise: a key of :data:`NOISES`.
        steps, chains, seed, device: as in :func:`sgd_chains`.

    Returns:
        :class:`SteadyState` (on the CPU).

    >>> r = simulate_steady_state(0.2, 4, "isotropic", chains=200)
    >>> r.points.shape, r.mean_sq.shape
    (torch.Size([200, 2]), torch.Size([121]))
    """
    check_choice("noise", noise, tuple(NOISES))
    f = steady_bowl()
    cov = NOISES[noise]
    P = stationary_covariance(f.A, cov, lr, batch_size)
    ens = sgd_chains(f, STEADY_START, lr, batch_size, steps, noise=cov,
                     chains=chains, every=1, seed=seed, device=device)
    pts = ens.points.cpu()
    m, Pk = moment_recursion(f.A, cov, lr, batch_size, steps, mean0=STEADY_START)
    # one small reduction per record: tensors this size stay on one CPU thread
    mean_sq = torch.stack([(x * x).sum(-1).mean() for x in pts])
    return SteadyState(points=pts[-1], mean_sq=mean_sq,
                       predicted_mean_sq=(m**2).sum(-1)
                       + Pk.diagonal(dim1=-2, dim2=-1).sum(-1),
                       stationary_cov=P, lr=lr, batch_size=int(batch_size),
                       noise=noise)


def plot_steady_state(result: SteadyState, ax=None):
    """The cloud of chains with its predicted 2-sigma ellipse; returns the ``Axes``.

    Draws over the contours of :func:`steady_bowl` the final points of the
    chains and :func:`covariance_ellipse` of the stationary covariance (scale 2:
    it should hold about 86% of the chains once they have settled).

    Args:
        result: a :class:`SteadyState`.
        ax: matplotlib ``Axes`` to draw into (``None``: a new figure).

    Example:
        >>> import matplotlib.pyplot as plt
        >>> ax = plot_steady_state(simulate_steady_state(steps=20, chains=100))
        >>> [line.get_label() for line in ax.lines]
        ['chains', 'predicted 2-sigma']
        >>> plt.close(ax.figure)
    """
    from .plotting import new_axes, plot_landscape

    check_type("result", result, SteadyState, "a SteadyState")
    ax = new_axes(ax)
    plot_landscape(steady_bowl(), ax, bounds=((-2.0, 2.0), (-2.0, 2.0)),
                   mark_minimum=False)
    pts = result.points.numpy()
    ax.plot(pts[:, 0], pts[:, 1], ".", color="crimson", markersize=2.5, alpha=0.6,
            label="chains")
    ring = covariance_ellipse(result.stationary_cov).numpy()
    ax.plot(ring[:, 0], ring[:, 1], color="black", label="predicted 2-sigma")
    ax.set_aspect("equal")
    return ax


class SteadyStateView:
    """Left: the cloud and the predicted ellipse. Right: E|x_k|^2, measured and
    predicted, on a log scale.

    The view of :func:`steady_state_explorer`: ``SteadyStateView(fig, steps,
    chains)`` draws the fixed parts into a matplotlib figure (the left title
    names both numbers); ``update(result)`` sets the cloud, the ellipse,
    both curves of a :class:`SteadyState` and the caption, and returns the 5
    changed artists.

    Example:
        >>> import matplotlib.pyplot as plt
        >>> fig = plt.figure()
        >>> view = SteadyStateView(fig, steps=60, chains=100)
        >>> len(view.update(simulate_steady_state(steps=60, chains=100)))
        5
        >>> view.caption.get_text()  # trace of the stationary covariance
        'steady state: predicted 0.0382, last 20 steps 0.0391'
        >>> plt.close(fig)
    """

    def __init__(self, fig, steps: int = STEADY_STEPS, chains: int = STEADY_CHAINS):
        steps = check_int("steps", steps, low=1)
        chains = check_int("chains", chains, low=1)
        from .plotting import plot_landscape

        left, right = fig.subplots(1, 2, width_ratios=(1.0, 1.15))
        plot_landscape(steady_bowl(), left, bounds=((-2.0, 2.0), (-2.0, 2.0)),
                       levels=12, n=80, mark_minimum=False)
        left.plot(0.0, 0.0, "+", color="gold", markersize=10, label="minimum")
        left.set_aspect("equal")
        left.set_title(f"{chains} chains after {steps} steps", fontsize=9)
        (self.cloud,) = left.plot([], [], ".", color="crimson", markersize=2.5,
                                  alpha=0.6, animated=True)
        (self.ring,) = left.plot([], [], color="black", linewidth=1.2,
                                 animated=True)
        right.set_yscale("log")
        right.set_xlim(0, steps)
        right.set_ylim(1e-4, 10.0)
        right.set_xlabel("step $k$")
        right.set_ylabel(r"$\mathbb{E}\,\|x_k - x^*\|^2$")
        right.grid(True, which="major", alpha=0.3)
        (self.measured,) = right.plot([], [], color="crimson", label="chains",
                                      animated=True)
        (self.predicted,) = right.plot([], [], "--", color="black",
                                       label="predicted", animated=True)
        right.legend(loc="upper right", fontsize=8)
        self.caption = right.set_title(" ", fontsize=8, animated=True)

    def update(self, result: SteadyState, **_):
        pts = result.points.numpy()
        self.cloud.set_data(pts[:, 0], pts[:, 1])
        ring = covariance_ellipse(result.stationary_cov).numpy()
        self.ring.set_data(ring[:, 0], ring[:, 1])
        k = range(len(result.mean_sq))
        self.measured.set_data(k, result.mean_sq.numpy())
        self.predicted.set_data(k, result.predicted_mean_sq.numpy())
        tr = float(result.stationary_cov.trace())
        last = float(result.mean_sq[-20:].mean())
        self.caption.set_text(f"steady state: predicted {tr:.3g}, "
                              f"last 20 steps {last:.3g}")
        return [self.cloud, self.ring, self.measured, self.predicted, self.caption]


def steady_state_explorer() -> Explorer:
    """The explorer: learning rate x batch size x shape of the gradient noise.

    Returns:
        an :class:`mbgd.explore.Explorer` of :func:`simulate_steady_state` and
        :class:`SteadyStateView`, with the controls ``lr``, ``batch_size`` and
        ``noise`` (the keys of :data:`NOISES`).

    Example:
        >>> ex = steady_state_explorer()
        >>> [(c.name, len(c.values)) for c in ex.controls]  # 3 x 3 x 3 frames
        [('lr', 3), ('batch_size', 3), ('noise', 3)]
        >>> ex.defaults()
        {'lr': 0.2, 'batch_size': 4, 'noise': 'isotropic'}
    """
    return Explorer(
        simulate_steady_state, SteadyStateView,
        [Control("lr", (0.05, 0.2, 0.45), label="learning rate", default=0.2,
                 live_values=(0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4,
                              0.45, 0.48), fmt="{:g}"),
         Control("batch_size", (1, 4, 16), label="batch size", default=4,
                 live_values=(1, 2, 4, 8, 16, 32, 64)),
         Control("noise", tuple(NOISES), label="noise", default="isotropic")],
        figsize=(7.0, 3.0), dpi=72,
        title=f"SGD steady state on a quadratic bowl: {STEADY_CHAINS} chains",
    )


def explore_steady_state():
    """Show the live explorer in a notebook (needs ipywidgets).

    Returns:
        an ``ipywidgets.VBox`` (see :meth:`mbgd.explore.Explorer.widget`): the
        rendered image above sliders for the learning rate and the batch size and
        a menu for the noise; its ``controls`` dict allows driving it from code.

    Example:
        >>> box = explore_steady_state()  # doctest: +SKIP
        >>> sorted(box.controls)  # doctest: +SKIP
        ['batch_size', 'lr', 'noise']
    """
    return steady_state_explorer().widget()


def standin_steady_state(progress: bool | None = None):
    """The static stand-in of :func:`explore_steady_state` for the website.

    Args:
        progress: show a progress bar while pre-rendering (``None``: as the
            ``MBGD_PROGRESS`` environment variable says, see
            :func:`mbgd.progress.progress_enabled`).

    Returns:
        an :class:`mbgd.explore.StandIn` with one pre-rendered frame per
        combination of the controls (3 learning rates x 3 batch sizes x 3
        noises); it displays as self-contained HTML. It takes a second or two to
        build.

    Example:
        >>> page = standin_steady_state(progress=False)  # doctest: +SKIP
        >>> len(page.frames)  # doctest: +SKIP
        27
    """
    return steady_state_explorer().standin(progress=progress)
