r"""Momentum: heavy ball and Nesterov, one eigendirection at a time.

On a quadratic with Hessian eigenvalues :math:`\lambda_i`, the error of heavy ball
(:func:`mbgd.steps.heavy_ball`) along an eigenvector obeys a two-term recurrence.
With :math:`h = \alpha\lambda` (step size :math:`\alpha`, momentum :math:`\mu`)

.. math::
    e_{k+1} = (1 + \mu - h)\, e_k - \mu\, e_{k-1}
    \quad\text{(heavy ball)}, \qquad
    e_{k+1} = (1 + \mu)(1 - h)\, e_k - \mu (1 - h)\, e_{k-1}
    \quad\text{(Nesterov)},

so the pair :math:`(e_k, e_{k-1})` is multiplied by a 2x2 matrix per step
(:func:`iteration_matrix`), and the slowest direction's largest root
(:func:`characteristic_roots`) is the asymptotic rate (:func:`asymptotic_rate`).
Gradient descent is the case :math:`\mu = 0`. This module gives those formulas, the
classical tunings (:func:`gd_tuning`, :func:`polyak_tuning`,
:func:`nesterov_tuning`), tools to measure a run (:func:`observed_rate`,
:func:`steps_to_tolerance`), a strongly convex function on which heavy ball
cycles (:func:`lessard_counterexample`) and the chapter's explorer
(:func:`simulate_momentum`, :func:`explore_momentum`, :func:`standin_momentum`).

Book: ``chapters/adaptive/01_momentum`` (A1, A2).

>>> round(asymptotic_rate(0.01, 0.81, [1.0]), 6)  # critically damped: 1 - sqrt(h)
0.9
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ._checks import (check_bool, check_choice, check_int, check_real, check_reals,
                      check_type)
from .device import resolve_device
from .explore import Control, Explorer
from .landscapes import DTYPE, Landscape, get_landscape
from .plotting import new_axes, plot_landscape
from .steps import gd, heavy_ball
from .trajectory import iterate

__all__ = [
    "iteration_matrix",
    "characteristic_roots",
    "asymptotic_rate",
    "critical_momentum",
    "Tuning",
    "gd_tuning",
    "polyak_tuning",
    "nesterov_tuning",
    "observed_rate",
    "steps_to_tolerance",
    "LessardCounterexample",
    "lessard_counterexample",
    "MomentumRun",
    "simulate_momentum",
    "MomentumView",
    "plot_momentum",
    "momentum_explorer",
    "explore_momentum",
    "standin_momentum",
]


# --- one eigendirection ----------------------------------------------------------


def _curvatures(curvature: float | Sequence[float] | Tensor, device,
                name: str = "curvature") -> Tensor:
    # Default: where the curvature is (a tensor), else torch's default device,
    # like the landscapes whose runs these formulas are compared with.
    device = None if device is None else resolve_device(device)
    lam = check_reals(name, curvature, "finite real numbers", device=device)
    if not bool(torch.isfinite(lam).all()):
        raise ValueError(f"{name} must be finite; got {curvature!r}")
    return lam


def _lr_momentum(lr: float, momentum: float) -> tuple[float, float]:
    return (check_real("lr", lr, low=0.0, bounds="(]"),
            check_real("momentum", momentum, low=0.0, high=1.0, bounds="[)"))


def _trace_det(lr: float, momentum: float, lam: Tensor, nesterov: bool
               ) -> tuple[Tensor, Tensor]:
    """Trace and determinant of the iteration matrix (the characteristic
    polynomial is :math:`z^2 - \\mathrm{tr}\\, z + \\det`)."""
    h = lr * lam
    if nesterov:
        return (1 + momentum) * (1 - h), momentum * (1 - h)
    return 1 + momentum - h, momentum * torch.ones_like(h)


def iteration_matrix(lr: float, momentum: float,
                     curvature: float | Sequence[float] | Tensor, *,
                     nesterov: bool = False, device=None) -> Tensor:
    r"""The 2x2 matrix that advances the error along one eigendirection.

    With :math:`h = \alpha\lambda`, the state :math:`(e_k, e_{k-1})` of heavy ball
    goes to :math:`(e_{k+1}, e_k)` by

    .. math:: M = \begin{pmatrix} 1 + \mu - h & -\mu \\ 1 & 0 \end{pmatrix},
        \qquad
        M_{\text{Nesterov}} = \begin{pmatrix} (1 + \mu)(1 - h) & -\mu (1 - h)
        \\ 1 & 0 \end{pmatrix}

    (Nesterov's gradient is taken at the look-ahead point :math:`x_k + \mu v_k`).
    For :math:`\mu = 0` both are gradient descent, :math:`e_{k+1} = (1-h) e_k`.
    The start :math:`v_0 = 0` is the state :math:`(e_0, e_0)`.

    Args:
        lr: step size :math:`\alpha > 0`.
        momentum: :math:`\mu \in [0, 1)`.
        curvature: eigenvalue(s) :math:`\lambda`, finite (any shape ``S``).
        nesterov: the look-ahead variant.
        device: where the result lives (default: the device of ``curvature``
            if it is a tensor, else torch's default device, as for the
            landscapes of :mod:`mbgd.landscapes`).

    Returns:
        Tensor of shape ``S + (2, 2)``, float64.

    Book: ``chapters/adaptive/01_momentum``, "Critical damping".

    >>> iteration_matrix(0.5, 0.5, 1.0)
    tensor([[ 1.0000, -0.5000],
            [ 1.0000,  0.0000]], dtype=torch.float64)
    """
    lr, momentum = _lr_momentum(lr, momentum)
    check_bool("nesterov", nesterov)
    lam = _curvatures(curvature, device)
    trace, det = _trace_det(lr, momentum, lam, nesterov)
    top = torch.stack([trace, -det], -1)
    bottom = torch.stack([torch.ones_like(lam), torch.zeros_like(lam)], -1)
    return torch.stack([top, bottom], -2)


def characteristic_roots(lr: float, momentum: float,
                         curvature: float | Sequence[float] | Tensor, *,
                         nesterov: bool = False, device=None) -> Tensor:
    r"""Roots of the characteristic polynomial of :func:`iteration_matrix`.

    .. math:: z^2 - (1 + \mu - h)\, z + \mu = 0 \quad\text{(heavy ball)}, \qquad
        z^2 - (1 + \mu)(1 - h)\, z + \mu (1 - h) = 0 \quad\text{(Nesterov)}.

    For heavy ball the discriminant :math:`\Delta = (1 + \mu - h)^2 - 4\mu` decides
    the motion: two real roots (:math:`\Delta > 0`, overdamped), a double root
    (:math:`\Delta = 0`, critically damped, see :func:`critical_momentum`) or a
    complex pair of modulus :math:`\sqrt{\mu}` (:math:`\Delta < 0`, underdamped).

    Args: as :func:`iteration_matrix`.

    Returns:
        complex128 tensor of shape ``S + (2,)``, the root of larger modulus first.

    >>> characteristic_roots(1.0, 0.25, 0.25)  # critically damped: a double root
    tensor([0.5000+0.j, 0.5000+0.j], dtype=torch.complex128)
    """
    lr, momentum = _lr_momentum(lr, momentum)
    check_bool("nesterov", nesterov)
    lam = _curvatures(curvature, device)
    trace, det = _trace_det(lr, momentum, lam, nesterov)
    root = torch.sqrt((trace * trace - 4 * det).to(torch.complex128))
    pair = torch.stack([(trace + root) / 2, (trace - root) / 2], -1)
    order = pair.abs().argsort(dim=-1, descending=True, stable=True)
    return pair.gather(-1, order)


def asymptotic_rate(lr: float, momentum: float,
                    eigenvalues: float | Sequence[float] | Tensor, *,
                    nesterov: bool = False) -> float:
    r"""The spectral radius: the largest root modulus over all eigenvalues.

    .. math:: \rho = \max_i \max\{|z| : z \text{ a root for } \lambda_i\}.

    The error of a run shrinks like :math:`\rho^k` in the long run (up to a factor
    :math:`k` when the slowest root is double); ``rho >= 1`` means no convergence.

    Args:
        lr: step size :math:`\alpha > 0`.
        momentum: :math:`\mu \in [0, 1)` (``0``: gradient descent).
        eigenvalues: the Hessian's eigenvalues (at least one, finite).
        nesterov: the look-ahead variant.

    Returns:
        ``float``.

    >>> round(asymptotic_rate(2 / 11, 0.0, [1.0, 10.0]), 6)  # GD: (k - 1)/(k + 1)
    0.818182
    """
    lam = _curvatures(eigenvalues, None, "eigenvalues")
    if lam.numel() == 0:
        raise ValueError(f"eigenvalues must be non-empty; got {eigenvalues!r}")
    roots = characteristic_roots(lr, momentum, lam, nesterov=nesterov)
    return float(roots.abs().max())


def critical_momentum(lr: float, curvature: float) -> float:
    r"""The momentum that critically damps heavy ball along one eigendirection.

    The discriminant :math:`(1 + \mu - h)^2 - 4\mu` vanishes for
    :math:`\mu = (1 - \sqrt{h})^2`, :math:`h = \alpha\lambda`; the double root is
    then :math:`1 - \sqrt{h}`, and its modulus :math:`|1 - \sqrt h|` is the
    smallest rate any momentum gives along that direction (gradient descent's is
    :math:`|1 - h|`).

    Args:
        lr: step size :math:`\alpha > 0`.
        curvature: :math:`\lambda > 0` with :math:`0 < \alpha\lambda < 4`.

    Returns:
        ``float`` in ``[0, 1)``.

    >>> critical_momentum(0.01, 1.0)
    0.81
    """
    lr = check_real("lr", lr, low=0.0, bounds="(]")
    curvature = check_real("curvature", curvature, low=0.0, bounds="(]")
    h = lr * curvature
    if h >= 4.0:
        raise ValueError(f"lr * curvature must be a real number < 4; got {h!r}")
    return round((1.0 - math.sqrt(h)) ** 2, 15)


# --- tunings for a spectrum [m, L] ------------------------------------------------


@dataclass(frozen=True)
class Tuning:
    """Hyperparameters for a quadratic with spectrum ``[m, L]`` and their rate.

    Returned by :func:`gd_tuning`, :func:`polyak_tuning` and
    :func:`nesterov_tuning`.

    Attributes:
        name: the method, a ``str``.
        lr: step size, a ``float``.
        momentum: momentum coefficient, a ``float`` (``0`` for gradient descent).
        rate: the per-step contraction factor of the error the theory gives, a
            ``float``.
    """

    name: str
    lr: float
    momentum: float
    rate: float


def _spectrum(m: float, L: float) -> tuple[float, float]:
    m = check_real("m", m, low=0.0, bounds="(]")
    L = check_real("L", L, low=m)
    return m, L


def gd_tuning(m: float, L: float) -> Tuning:
    r"""The best fixed step of gradient descent: :math:`\alpha = 2/(L + m)`, rate
    :math:`(\kappa - 1)/(\kappa + 1)` with :math:`\kappa = L/m`.

    Args:
        m: smallest Hessian eigenvalue, ``> 0``.
        L: largest, ``>= m``.

    >>> gd_tuning(1.0, 9.0)
    Tuning(name='GD', lr=0.2, momentum=0.0, rate=0.8)
    """
    m, L = _spectrum(m, L)
    return Tuning("GD", 2.0 / (L + m), 0.0, (L - m) / (L + m))


def polyak_tuning(m: float, L: float) -> Tuning:
    r"""Polyak's best heavy-ball parameters on a quadratic with spectrum ``[m, L]``.

    .. math:: \alpha^\star = \frac{4}{(\sqrt L + \sqrt m)^2}, \qquad
        \mu^\star = \Big(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\Big)^2, \qquad
        \rho^\star = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}.

    Both ends of the spectrum are then critically damped and every eigenvalue
    inside is underdamped with root modulus :math:`\sqrt{\mu^\star} = \rho^\star`.
    The guarantee is for quadratics only (see :func:`lessard_counterexample`).

    Args:
        m: smallest Hessian eigenvalue, ``> 0``.
        L: largest, ``>= m``.

    >>> polyak_tuning(1.0, 9.0)
    Tuning(name='heavy ball', lr=0.25, momentum=0.25, rate=0.5)
    """
    m, L = _spectrum(m, L)
    sm, sL = math.sqrt(m), math.sqrt(L)
    rate = (sL - sm) / (sL + sm)
    return Tuning("heavy ball", 4.0 / (sL + sm) ** 2, rate * rate, rate)


def nesterov_tuning(m: float, L: float) -> Tuning:
    r"""Nesterov's constant parameters for an ``m``-strongly convex, ``L``-smooth f.

    .. math:: \alpha = \frac1L, \qquad \mu = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1},
        \qquad f(x_k) - f^\star \le \Big(1 - \frac{1}{\sqrt\kappa}\Big)^k
        \Big(f(x_0) - f^\star + \frac m2 \lVert x_0 - x^\star\rVert^2\Big).

    ``rate`` is :math:`1 - 1/\sqrt\kappa`, the factor of that bound; on a
    quadratic it is also the spectral radius (a double root at :math:`\lambda = m`).

    Args:
        m: strong convexity (smallest Hessian eigenvalue), ``> 0``.
        L: smoothness (largest), ``>= m``.

    >>> nesterov_tuning(1.0, 4.0)
    Tuning(name='Nesterov', lr=0.25, momentum=0.3333333333333333, rate=0.5)
    """
    m, L = _spectrum(m, L)
    q = math.sqrt(m / L)
    return Tuning("Nesterov", 1.0 / L, (1.0 - q) / (1.0 + q), 1.0 - q)


# --- measuring runs ----------------------------------------------------------------


def _errors(errors: Tensor | Sequence[float]) -> Tensor:
    e = check_reals("errors", errors, "a 1-D sequence of at least 2 numbers")
    if e.ndim != 1 or e.numel() < 2:
        raise ValueError(
            f"errors must be a 1-D sequence of at least 2 numbers; got shape "
            f"{tuple(e.shape)}"
        )
    return e


def observed_rate(errors: Tensor | Sequence[float], start: int, stop: int) -> float:
    r"""The measured per-step contraction of a run between two steps.

    .. math:: \hat\rho = (e_{j_2} / e_{j_1})^{1/(j_2 - j_1)}.

    For errors that decrease monotonically, :math:`j_1` = ``start`` and
    :math:`j_2` = ``stop``. For an oscillating run (an underdamped direction),
    :math:`j_1` is the first local maximum of :math:`e` at or after ``start`` and
    :math:`j_2` the last one at or before ``stop``: comparing two crests of the
    oscillation measures its envelope, not its phase.

    Args:
        errors: non-negative errors :math:`e_0, \dots, e_K` (e.g. distances to the
            minimiser), shape ``(K + 1,)``; those used, from ``start`` to
            ``stop``, must not be nan.
        start, stop: steps with ``0 <= start < stop <= K``.

    Returns:
        ``float`` (``nan`` if an error used is zero).

    >>> observed_rate([1.0, 0.5, 0.25, 0.125], 1, 3)
    0.5
    >>> observed_rate([1.0, 0.0, 0.5, 0.0, 0.25, 0.0], 0, 5)  # crests 0, 2, 4
    0.7071067811865476
    """
    e = _errors(errors)
    start = check_int("start", start, low=0, high=e.numel() - 2)
    stop = check_int("stop", stop, low=start + 1, high=e.numel() - 1)
    window = e[start:stop + 1]
    if not bool((window >= 0).all()):  # also catches nan
        raise ValueError(f"errors must be >= 0 (not nan) at steps {start}..{stop}; "
                         f"got {window[~(window >= 0)][0].item()!r}")
    j1, j2 = start, stop
    if not bool(e[start + 1:stop + 1].le(e[start:stop]).all()):  # it oscillates
        inner = e[1:-1]
        crests = ((inner >= e[:-2]) & (inner >= e[2:])).nonzero().ravel() + 1
        crests = crests[(crests >= start) & (crests <= stop)]
        if crests.numel() >= 2:
            j1, j2 = int(crests[0]), int(crests[-1])
    return float((e[j2] / e[j1]) ** (1.0 / (j2 - j1)))


def steps_to_tolerance(errors: Tensor | Sequence[float], tol: float) -> int | None:
    r"""The first step :math:`k` with :math:`e_k \le \text{tol}\cdot e_0`.

    Args:
        errors: errors :math:`e_0, \dots, e_K`, shape ``(K + 1,)``, with a
            finite :math:`e_0 \ge 0` (later ones may be ``inf`` or ``nan``, as
            after a divergence).
        tol: relative tolerance in ``(0, 1)``.

    Returns:
        ``int``, or ``None`` if the run never got there.

    >>> steps_to_tolerance([1.0, 0.5, 0.25, 0.125], 0.3)
    2
    """
    e = _errors(errors)
    tol = check_real("tol", tol, low=0.0, high=1.0, bounds="()")
    if not (0 <= e[0].item() < math.inf):
        raise ValueError(f"errors must start with a finite e_0 >= 0; got "
                         f"{e[0].item()!r}")
    hit = (e <= tol * e[0]).nonzero()
    return int(hit[0]) if hit.numel() else None


# --- a strongly convex function on which heavy ball fails --------------------------


class LessardCounterexample(Landscape):
    r"""A 1-D strongly convex function on which tuned heavy ball does not converge.

    The piecewise quadratic of Lessard, Recht and Packard (2016, SIAM J. Optim.
    26(1), section 4.6), with derivative

    .. math:: f'(x) = \begin{cases} 25x & x < 1 \\ x + 24 & 1 \le x < 2 \\
        25x - 24 & x \ge 2, \end{cases}

    so :math:`1 \le f'' \le 25` (``m = 1``, ``L = 25``) and the minimiser is 0.
    Heavy ball with :func:`polyak_tuning` (1, 25) started at ``x0`` in about
    ``[3.07, 3.46]`` falls into a cycle of period 3 instead of converging;
    Nesterov's method with :func:`nesterov_tuning` converges (its guarantee covers
    every strongly convex smooth function).

    Values and gradients take points of shape ``(..., 1)`` and return shapes
    ``(...)`` and ``(..., 1)``; :func:`lessard_counterexample` builds one.

    Example:
        >>> from mbgd.steps import heavy_ball
        >>> from mbgd.trajectory import iterate
        >>> f, t = LessardCounterexample(), polyak_tuning(1.0, 25.0)
        >>> xs = iterate(heavy_ball(t.lr, t.momentum), f, (3.3,), 300)  # (301, 1)
        >>> [round(v, 4) for v in xs[-6:, 0].tolist()]  # period 3, far from x* = 0
        [-1.8024, 2.1159, 0.6465, -1.8024, 2.1159, 0.6465]
    """

    name = "Lessard's counterexample"
    dim = 1
    bounds = ((-3.0, 4.0),)
    smoothness = 25.0
    strong_convexity = 1.0
    convex = True

    def __init__(self):
        self.minimizer = torch.zeros(1, dtype=DTYPE)

    def value(self, x: Tensor) -> Tensor:
        u = x[..., 0]
        return torch.where(u < 1, 12.5 * u**2,
                           torch.where(u < 2, 0.5 * u**2 + 24 * u - 12,
                                       12.5 * u**2 - 24 * u + 36))

    def grad(self, x: Tensor) -> Tensor:
        u = x[..., 0]
        return torch.where(u < 1, 25 * u,
                           torch.where(u < 2, u + 24, 25 * u - 24))[..., None]

    def hessian(self, x: Tensor) -> Tensor:
        u = x[..., 0]
        curv = torch.where((u >= 1) & (u < 2), 1.0, 25.0).to(x.dtype)
        return curv[..., None, None]


def lessard_counterexample() -> LessardCounterexample:
    """Heavy ball's counterexample (see :class:`LessardCounterexample`).

    >>> f = lessard_counterexample()
    >>> f.grad(torch.tensor([[0.5], [1.5], [3.0]], dtype=torch.float64)).ravel()
    tensor([12.5000, 25.5000, 51.0000], dtype=torch.float64)
    """
    return LessardCounterexample()


# --- the explorer --------------------------------------------------------------------

#: Landscapes of the explorer: start point and number of steps.
LANDSCAPES = {
    "ill-conditioned": ((-1.6, 1.8), 60),
    "robot arm": ((1.0, 1.0), 60),
    "rosenbrock": ((-1.2, 1.0), 700),
}
MOMENTA = (0.0, 0.5, 0.8, 0.9, 0.95)
LR_TIMES_L = (0.2, 1.0, 1.8)


@dataclass(frozen=True)
class MomentumRun:
    r"""Heavy ball and gradient descent from the same start with the same step.

    Returned by :func:`simulate_momentum`.

    Attributes:
        landscape: its name; lr, momentum: the hyperparameters (floats).
        heavy_ball, gd: iterates, shape ``(K + 1, 2)`` each (points after a
            divergence are ``nan``).
        heavy_ball_gap, gd_gap: :math:`f(x_k) - f^\star`, shape ``(K + 1,)``.
        rate, gd_rate: asymptotic rates (floats) from :func:`asymptotic_rate`
            on a quadratic, ``None`` elsewhere.
    """

    landscape: str
    lr: float
    momentum: float
    heavy_ball: Tensor
    gd: Tensor
    heavy_ball_gap: Tensor
    gd_gap: Tensor
    rate: float | None
    gd_rate: float | None


def _finite_prefix(points: Tensor) -> Tensor:
    """``points`` with every row from the first non-finite one on set to nan."""
    bad = ~torch.isfinite(points).all(-1)
    if bool(bad.any()):
        points = points.clone()
        points[int(bad.to(torch.int8).argmax()):] = math.nan
    return points


def _curvature_scale(f: Landscape) -> float:
    """``L`` of a quadratic, else the largest Hessian eigenvalue at the minimum
    (1001.6 for Rosenbrock)."""
    if f.smoothness:
        return f.smoothness
    return float(torch.linalg.eigvalsh(f.hessian(f.minimizer))[-1])


def simulate_momentum(landscape: str = "ill-conditioned", momentum: float = 0.8,
                      lr_times_L: float = 1.0) -> MomentumRun:
    r"""Heavy ball and gradient descent with :math:`\alpha = \text{lr\_times\_L}/L`.

    Both start at the landscape's start in ``LANDSCAPES`` and take its number of
    steps; on the quadratics the result carries both predicted rates.

    Args:
        landscape: one of ``"ill-conditioned"`` (:math:`\kappa = 25`),
            ``"robot arm"``, ``"rosenbrock"``.
        momentum: :math:`\mu \in [0, 1)`.
        lr_times_L: :math:`\alpha L > 0` (gradient descent is stable below 2,
            heavy ball below :math:`2(1 + \mu)` on a quadratic).

    Returns:
        A :class:`MomentumRun`.

    >>> run = simulate_momentum("ill-conditioned", 0.5, 1.0)
    >>> run.heavy_ball.shape, round(run.rate, 4), round(run.gd_rate, 4)
    (torch.Size([61, 2]), 0.9114, 0.96)
    """
    check_choice("landscape", landscape, tuple(LANDSCAPES))
    momentum = check_real("momentum", momentum, low=0.0, high=1.0, bounds="[)")
    lr_times_L = check_real("lr_times_L", lr_times_L, low=0.0, bounds="(]")
    f = get_landscape(landscape)
    x0, steps = LANDSCAPES[landscape]
    lr = lr_times_L / _curvature_scale(f)
    f_star = f.value(f.minimizer)
    paths = [_finite_prefix(iterate(rule, f, x0, steps))
             for rule in (heavy_ball(lr, momentum), gd(lr))]
    gaps = [f.value(p) - f_star for p in paths]
    quadratic = getattr(f, "eigenvalues", None)
    rates = ((asymptotic_rate(lr, momentum, quadratic),
              asymptotic_rate(lr, 0.0, quadratic))
             if quadratic is not None else (None, None))
    return MomentumRun(landscape, lr, momentum, paths[0], paths[1], gaps[0],
                       gaps[1], *rates)


def _gap_limits(landscape: str) -> tuple[float, float]:
    return (1e-12, 1e3) if landscape == "rosenbrock" else (1e-12, 1e2)


class MomentumView:
    """Contours with both paths (left) and both optimality gaps (right).

    The view of :func:`momentum_explorer`: it draws the landscape once, and
    ``update(result)`` sets the two paths, the two gap curves, the caption (the
    hyperparameters and, on a quadratic, both predicted rates) and the legends
    from a :class:`MomentumRun` of this landscape; it returns those artists.

    Args:
        fig: a ``matplotlib.figure.Figure`` to draw into (two axes are added).
        landscape: a name in ``LANDSCAPES``.

    Example:
        >>> from matplotlib.figure import Figure
        >>> view = MomentumView(Figure(), "ill-conditioned")
        >>> artists = view.update(simulate_momentum("ill-conditioned", 0.5, 1.0))
        >>> print(view.caption.get_text())
        lr = 0.04, momentum = 0.5
        predicted rate: HB 0.911, GD 0.960
    """

    def __init__(self, fig, landscape: str = "ill-conditioned"):
        check_choice("landscape", landscape, tuple(LANDSCAPES))
        f = get_landscape(landscape)
        steps = LANDSCAPES[landscape][1]
        left, right = fig.subplots(1, 2, width_ratios=(1.1, 1.0))
        plot_landscape(f, left)
        style = {"markersize": 2.0, "linewidth": 0.9, "animated": True}
        (self.gd_path,) = left.plot([], [], "o-", color="gold", label="GD", **style)
        (self.path,) = left.plot([], [], "o-", color="crimson", label="heavy ball",
                                 **style)
        # legends are animated too: drawn after the lines, as in a full redraw
        self.legends = [left.legend(loc="lower right", fontsize=7)]
        right.set_yscale("log")
        right.set_xlim(0, steps)
        right.set_ylim(*_gap_limits(landscape))
        right.set_xlabel("step $k$")
        right.set_ylabel("$f(x_k) - f^*$")
        right.grid(True, which="major", alpha=0.3)
        (self.gd_gap,) = right.plot([], [], color="goldenrod", animated=True,
                                    label="GD")
        (self.gap,) = right.plot([], [], color="crimson", animated=True,
                                 label="heavy ball")
        self.legends.append(right.legend(loc="upper right", fontsize=7))
        for legend in self.legends:
            legend.set_animated(True)
        # two lines reserved, so that the frozen layout leaves room for them
        self.caption = right.set_title(" \n ", fontsize=8, animated=True)

    def update(self, result: MomentumRun, **_):
        for line, pts in ((self.path, result.heavy_ball), (self.gd_path, result.gd)):
            line.set_data(pts[:, 0].numpy(), pts[:, 1].numpy())
        for line, gap in ((self.gap, result.heavy_ball_gap),
                          (self.gd_gap, result.gd_gap)):
            line.set_data(range(len(gap)), gap.clamp(min=1e-300).numpy())
        text = f"lr = {result.lr:.3g}, momentum = {result.momentum:g}\n"
        if result.rate is not None:
            text += f"predicted rate: HB {result.rate:.3f}, GD {result.gd_rate:.3f}"
        self.caption.set_text(text)
        return [self.gd_path, self.path, self.gd_gap, self.gap, self.caption,
                *self.legends]


def plot_momentum(result: MomentumRun, ax=None):
    """Contours of the run's landscape with both paths; returns the ``Axes``.

    Args:
        result: a :class:`MomentumRun` from :func:`simulate_momentum` (paths of
            shape ``(K + 1, 2)``).
        ax: the ``Axes`` to draw on (``None``: a new figure).

    Example:
        >>> import matplotlib.pyplot as plt
        >>> ax = plot_momentum(simulate_momentum("ill-conditioned", 0.5, 1.0))
        >>> [line.get_label() for line in ax.lines]
        ['minimum', 'GD', 'heavy ball']
        >>> plt.close(ax.figure)
    """
    check_type("result", result, MomentumRun, "a MomentumRun")
    ax = new_axes(ax)
    plot_landscape(get_landscape(result.landscape), ax)
    for pts, color, label in ((result.gd, "gold", "GD"),
                              (result.heavy_ball, "crimson", "heavy ball")):
        ax.plot(pts[:, 0].numpy(), pts[:, 1].numpy(), "o-", color=color,
                markersize=2.5, linewidth=1.0, label=label)
    return ax


def momentum_explorer() -> Explorer:
    """The explorer: landscape x momentum x step size (as ``lr * L``).

    Returns:
        An :class:`mbgd.explore.Explorer` of :func:`simulate_momentum` drawn by
        :class:`MomentumView`.

    Example:
        >>> ex = momentum_explorer()
        >>> ex.defaults()
        {'landscape': 'ill-conditioned', 'momentum': 0.8, 'lr_times_L': 1.0}
        >>> [len(c.values) for c in ex.controls]  # the stand-in has 2 x 5 x 3 frames
        [2, 5, 3]
    """
    return Explorer(
        simulate_momentum, MomentumView,
        [Control("landscape", ("ill-conditioned", "rosenbrock"),
                 default="ill-conditioned", live_values=tuple(LANDSCAPES)),
         Control("momentum", MOMENTA, default=0.8,
                 live_values=tuple(round(0.05 * i, 2) for i in range(20)) + (0.97,),
                 fmt="{:g}"),
         Control("lr_times_L", LR_TIMES_L, label="lr x L", default=1.0,
                 live_values=tuple(round(0.1 * i, 1) for i in range(1, 20)),
                 fmt="{:g}")],
        background=("landscape",), figsize=(7.0, 3.0), dpi=72,
        title="Heavy ball and gradient descent with the same step size",
    )


def explore_momentum():
    """Show the live explorer in a notebook (needs ipywidgets).

    Returns:
        An ``ipywidgets.VBox``: the image above a landscape menu and sliders for
        the momentum and ``lr * L``; its ``controls`` dict and ``image`` attribute
        drive it from code.

    Example:
        >>> box = explore_momentum()  # doctest: +SKIP
        >>> box.controls["momentum"].value = 0.95  # doctest: +SKIP
    """
    return momentum_explorer().widget()


def standin_momentum(progress: bool | None = None):
    """The static stand-in of :func:`explore_momentum` for the website.

    Args:
        progress: show a progress bar (``None``: unless ``MBGD_PROGRESS=0``).

    Returns:
        A :class:`mbgd.explore.StandIn`: 30 pre-rendered frames (2 landscapes x 5
        momenta x 3 step sizes) behind sliders, shown as HTML in a notebook.

    Example:
        >>> standin = standin_momentum(progress=False)  # doctest: +SKIP
        >>> len(standin.frames)  # doctest: +SKIP
        30
    """
    return momentum_explorer().standin(progress=progress)
