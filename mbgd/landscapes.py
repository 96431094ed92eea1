"""Test functions with analytic gradients and Hessians (the book's landscapes).

A :class:`Landscape` maps points ``x`` of shape ``(..., d)`` to values of shape
``(...)``; :meth:`Landscape.grad` returns ``(..., d)`` and :meth:`Landscape.hessian`
``(..., d, d)``. Every formula is written out by hand (no autograd), and the tests
check each one against ``torch.autograd`` in float64.

>>> f = robot_arm()
>>> f.grad(torch.tensor([1.0, 1.0], dtype=torch.float64))
tensor([-6.,  6.], dtype=torch.float64)
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Sequence, Sized

import torch
from torch import Tensor

from ._checks import check_choice, check_real, check_type
from .device import resolve_device

__all__ = [
    "Landscape",
    "Quadratic",
    "Rosenbrock",
    "Saddle",
    "DoubleWell",
    "quadratic",
    "robot_arm",
    "rosenbrock",
    "saddle",
    "double_well",
    "LANDSCAPES",
    "get_landscape",
]

DTYPE = torch.float64


class Landscape:
    """Base class: a smooth function of ``R^d`` with hand-written derivatives.

    Attributes:
        name: short label used in plots and messages.
        dim: the dimension ``d`` of a point.
        bounds: plotting window, ``((x_lo, x_hi), (y_lo, y_hi))`` for ``d = 2``.
        minimizer: a global minimiser (shape ``(d,)``) when known, else ``None``.
        smoothness: a global bound ``L`` on the Hessian's largest eigenvalue when one
            exists, else ``None``.
        convex: ``True`` when the function is known to be convex; with
            ``smoothness`` set, fixed-step descent is then stable for
            ``lr < 2 / L``.

    Points may carry any leading batch shape: for ``x`` of shape ``(..., d)``,
    ``f(x)`` (the same as ``f.value(x)``) has shape ``(...)``, ``f.grad(x)``
    ``(..., d)`` and ``f.hessian(x)`` ``(..., d, d)``, all float64.

    Example:
        >>> f = quadratic()
        >>> x = torch.zeros(5, 2, dtype=torch.float64)
        >>> f(x).shape, f.grad(x).shape, f.hessian(x).shape
        (torch.Size([5]), torch.Size([5, 2]), torch.Size([5, 2, 2]))
    """

    name: str = "landscape"
    dim: int = 2
    bounds: tuple[tuple[float, float], ...] = ((-2.0, 2.0), (-2.0, 2.0))
    minimizer: Tensor | None = None
    smoothness: float | None = None
    convex: bool = False

    def value(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def grad(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def hessian(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def __call__(self, x: Tensor) -> Tensor:
        return self.value(x)

    @property
    def device(self) -> torch.device:
        """Where the landscape's tensors live (the CPU if it has none).

        >>> robot_arm().device
        device(type='cpu')
        """
        tensors = (v for v in vars(self).values() if isinstance(v, Tensor))
        return next((t.device for t in tensors), torch.device("cpu"))

    def to(self, device: str | torch.device | None) -> Landscape:
        """A copy whose tensors (matrix, minimiser, ...) live on ``device``.

        >>> robot_arm().to("cpu").grad(torch.zeros(2, dtype=torch.float64))
        tensor([-12.,   2.], dtype=torch.float64)
        """
        device = resolve_device(device)
        moved = copy.copy(self)
        for name, value in vars(self).items():
            if isinstance(value, Tensor):
                setattr(moved, name, value.to(device))
        return moved

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class Quadratic(Landscape):
    r"""The quadratic :math:`f(x) = \tfrac12 x^\top A x - b^\top x + c`.

    ``A`` must be symmetric. Gradient :math:`A x - b`, Hessian :math:`A`. When ``A`` is
    positive definite the minimiser is :math:`A^{-1} b` and ``smoothness`` is the
    largest eigenvalue of ``A``.

    Args:
        A: real symmetric matrix with finite entries, shape ``(d, d)`` with
            ``d >= 1`` (converted to float64).
        b: real linear term with finite entries, a tensor of shape ``(d,)``;
            ``None`` for zeros.
        c: constant term, a finite real number.
        name: label for plots and messages.
        bounds: plotting window, ``d`` pairs ``(lo, hi)`` of finite numbers with
            ``lo < hi``; for ``d = 2`` the default is the square of half-width 2
            around the minimiser (or the origin).

    The eigenvalues of ``A``, ascending, are kept in ``eigenvalues`` (shape ``(d,)``).

    Example:
        >>> A = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
        >>> f = Quadratic(A, torch.tensor([2.0, 1.0]))
        >>> f.minimizer, f.grad(f.minimizer)
        (tensor([1., 1.], dtype=torch.float64), tensor([0., 0.], dtype=torch.float64))
        >>> f.smoothness, f.condition_number
        (2.0, 2.0)
    """

    def __init__(self, A: Tensor, b: Tensor | None = None, c: float = 0.0, *,
                 name: str = "quadratic",
                 bounds: tuple[tuple[float, float], ...] | None = None):
        check_type("A", A, Tensor, "a torch.Tensor")
        if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
            raise ValueError(
                f"A must be a non-empty square matrix; got shape {tuple(A.shape)}")
        _check_real_tensor("A", A)
        A = A.to(DTYPE)
        if not torch.allclose(A, A.T):
            raise ValueError(f"A must be symmetric; got {A.tolist()!r}")
        d = A.shape[0]
        if b is None:
            b = torch.zeros(d, dtype=DTYPE, device=A.device)
        else:
            check_type("b", b, Tensor, "a torch.Tensor or None")
            if b.shape != (d,):
                raise ValueError(
                    f"b must have shape ({d},) to match A; got shape {tuple(b.shape)}"
                )
            _check_real_tensor("b", b)
            b = b.to(DTYPE)
        c = check_real("c", c)
        check_type("name", name, str, "a str")
        if bounds is not None:
            _check_bounds("bounds", bounds, d)
        self.A, self.b, self.c = A, b, c
        self.name, self.dim = name, d
        self.eigenvalues = torch.linalg.eigvalsh(A)  # ascending
        if self.eigenvalues[0] > 0:
            self.minimizer = torch.linalg.solve(A, b)
        self.smoothness = float(self.eigenvalues[-1].clamp(min=0))
        self.convex = bool(self.eigenvalues[0] >= 0)
        if bounds is None and d == 2:
            center = self.minimizer if self.minimizer is not None else torch.zeros(2)
            bounds = tuple((float(m) - 2.0, float(m) + 2.0) for m in center)
        self.bounds = bounds

    @property
    def condition_number(self) -> float:
        """``lambda_max / lambda_min`` of ``A`` (``inf`` if not positive definite)."""
        lo, hi = self.eigenvalues[0], self.eigenvalues[-1]
        return float(hi / lo) if lo > 0 else math.inf

    def value(self, x: Tensor) -> Tensor:
        return 0.5 * ((x @ self.A) * x).sum(-1) - x @ self.b + self.c

    def grad(self, x: Tensor) -> Tensor:
        return x @ self.A - self.b  # A is symmetric, so x A = (A x)^T

    def hessian(self, x: Tensor) -> Tensor:
        return self.A.expand(*x.shape[:-1], self.dim, self.dim)


class Rosenbrock(Landscape):
    r"""Rosenbrock's valley :math:`f(x, y) = (a - x)^2 + b\,(y - x^2)^2`.

    Minimum 0 at :math:`(a, a^2)`; no global smoothness bound. Points have shape
    ``(..., 2)``.

    Example:
        >>> f = Rosenbrock()
        >>> f.minimizer, f.value(f.minimizer).item()
        (tensor([1., 1.], dtype=torch.float64), 0.0)
        >>> f.hessian(f.minimizer)  # curvatures ~1000 and ~0.4 along the valley
        tensor([[ 802., -400.],
                [-400.,  200.]], dtype=torch.float64)
    """

    def __init__(self, a: float = 1.0, b: float = 100.0):
        self.a = check_real("a", a)
        self.b = check_real("b", b, low=0.0, bounds="(]")
        self.name = "rosenbrock"
        self.minimizer = torch.tensor([self.a, self.a**2], dtype=DTYPE)
        self.bounds = ((-2.0, 2.0), (-1.0, 3.0))

    def value(self, x: Tensor) -> Tensor:
        u, v = x[..., 0], x[..., 1]
        return (self.a - u) ** 2 + self.b * (v - u**2) ** 2

    def grad(self, x: Tensor) -> Tensor:
        u, v = x[..., 0], x[..., 1]
        r = v - u**2
        return torch.stack([-2 * (self.a - u) - 4 * self.b * u * r, 2 * self.b * r],
                           -1)

    def hessian(self, x: Tensor) -> Tensor:
        u, v = x[..., 0], x[..., 1]
        huu = 2 - 4 * self.b * (v - 3 * u**2)
        huv = -4 * self.b * u
        hvv = torch.full_like(u, 2 * self.b)
        rows = [torch.stack([huu, huv], -1), torch.stack([huv, hvv], -1)]
        return torch.stack(rows, -2)


class Saddle(Landscape):
    r"""A saddle between two minima: :math:`f(x, y) = \tfrac12 x^2 + \tfrac14 y^4
    - \tfrac12 y^2`.

    The origin is a saddle point (Hessian ``diag(1, -1)``); the minima are
    :math:`(0, \pm 1)` with value :math:`-1/4`. Points have shape ``(..., 2)``.

    Example:
        >>> origin = torch.zeros(2, dtype=torch.float64)
        >>> Saddle().grad(origin), Saddle().hessian(origin)
        (tensor([0., 0.], dtype=torch.float64), tensor([[ 1.,  0.],
                [ 0., -1.]], dtype=torch.float64))
    """

    name = "saddle"
    bounds = ((-1.5, 1.5), (-1.5, 1.5))

    def __init__(self):
        self.minimizer = torch.tensor([0.0, 1.0], dtype=DTYPE)

    def value(self, x: Tensor) -> Tensor:
        u, v = x[..., 0], x[..., 1]
        return 0.5 * u**2 + 0.25 * v**4 - 0.5 * v**2

    def grad(self, x: Tensor) -> Tensor:
        u, v = x[..., 0], x[..., 1]
        return torch.stack([u, v**3 - v], -1)

    def hessian(self, x: Tensor) -> Tensor:
        u, v = x[..., 0], x[..., 1]
        zero = torch.zeros_like(u)
        return torch.stack([torch.stack([torch.ones_like(u), zero], -1),
                            torch.stack([zero, 3 * v**2 - 1], -1)], -2)


class DoubleWell(Landscape):
    r"""A tilted double well in one dimension: :math:`f(x) = x^4 - 3x^2 + t\,x`.

    Not convex: for tilt ``t = 1`` it has a local minimum near ``x = 1.13`` and the
    global one near ``x = -1.30``. Points have shape ``(..., 1)``; the minima are
    kept in ``local_minima`` (ascending; shape ``(2,)``, or ``(1,)`` when
    :math:`|t| > 2\sqrt{2}` leaves a single well) and the global one in
    ``minimizer`` (shape ``(1,)``).

    Example:
        >>> f = DoubleWell(tilt=1.0)
        >>> [round(v, 4) for v in f.local_minima.tolist()], f.minimizer.shape
        ([-1.3008, 1.1309], torch.Size([1]))
    """

    dim = 1
    bounds = ((-2.2, 2.2),)

    def __init__(self, tilt: float = 1.0):
        self.tilt = check_real("tilt", tilt)
        self.name = "double well"
        # Minimisers: roots of f'(x) = 4x^3 - 6x + t with f'' = 12x^2 - 6 > 0.
        crit = torch.tensor(
            sorted(r.real for r in _cubic_roots(4.0, 0.0, -6.0, self.tilt)),
            dtype=DTYPE,
        )
        minima = crit[12 * crit**2 - 6 > 0]
        self.minimizer = minima[self.value(minima[:, None]).argmin()].reshape(1)
        self.local_minima = minima

    def value(self, x: Tensor) -> Tensor:
        u = x[..., 0]
        return u**4 - 3 * u**2 + self.tilt * u

    def grad(self, x: Tensor) -> Tensor:
        u = x[..., 0]
        return (4 * u**3 - 6 * u + self.tilt)[..., None]

    def hessian(self, x: Tensor) -> Tensor:
        u = x[..., 0]
        return (12 * u**2 - 6)[..., None, None]


def _check_real_tensor(name: str, x: Tensor) -> None:
    """Raise unless the tensor ``x`` is real (not complex) with finite entries."""
    if x.is_complex():
        raise TypeError(f"{name} must be a real tensor; got dtype {x.dtype}")
    if x.is_floating_point() and not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} must have finite entries; got {x!r}")


def _check_bounds(name: str, bounds, dim: int) -> None:
    """Check a window: ``dim`` pairs ``(lo, hi)`` of finite reals with ``lo < hi``."""
    rule = f"{dim} pair(s) (lo, hi) of finite real numbers with lo < hi"
    if (isinstance(bounds, str) or not isinstance(bounds, Sized)
            or not isinstance(bounds, Iterable)):
        raise TypeError(f"{name} must be {rule}; got {bounds!r}")
    ok = len(bounds) == dim
    for pair in bounds if ok else ():
        try:
            lo, hi = pair
            ok = check_real(name, lo) < check_real(name, hi)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            break
    if not ok:
        raise ValueError(f"{name} must be {rule}; got {bounds!r}")


def _check_pair(name: str, value, *, positive: bool = False) -> tuple[float, float]:
    """Two finite reals (``> 0`` if ``positive``), returned as a tuple of floats."""
    if (isinstance(value, str) or not isinstance(value, Sized)
            or not isinstance(value, Iterable)):
        raise TypeError(f"{name} must be a pair of real numbers; got {value!r}")
    if len(value) != 2:
        raise ValueError(f"{name} must have 2 entries; got {value!r}")
    low = 0.0 if positive else None
    a, b = (check_real(f"{name}[{i}]", v, low=low, bounds="(]")
            for i, v in enumerate(value))
    return a, b


def _cubic_roots(a: float, b: float, c: float, d: float) -> list[complex]:
    import numpy as np

    return [complex(r) for r in np.roots([a, b, c, d]) if abs(complex(r).imag) < 1e-9]


def quadratic(eigenvalues: Sequence[float] = (10.0, 1.0), angle: float = 0.0,
              center: Sequence[float] = (0.0, 0.0), *, name: str | None = None
              ) -> Quadratic:
    r"""A 2-D quadratic bowl with given curvatures, rotated by ``angle`` radians.

    :math:`f(x) = \tfrac12 (x - m)^\top R \,\mathrm{diag}(\lambda)\, R^\top (x - m)`
    with :math:`R` the rotation by ``angle`` and :math:`m` the ``center``. Its
    condition number is :math:`\lambda_{max}/\lambda_{min}`.

    Args:
        eigenvalues: the two curvatures :math:`\lambda`, finite and ``> 0``
            (for a flat or saddle-shaped quadratic use :class:`Quadratic`).
        angle: rotation in radians, finite.
        center: the minimiser :math:`m`, two finite numbers.
        name: label (``None``: one showing the condition number).

    >>> quadratic((1000.0, 1.0)).condition_number
    1000.0
    """
    lam = torch.tensor(_check_pair("eigenvalues", eigenvalues, positive=True),
                       dtype=DTYPE)
    angle = check_real("angle", angle)
    m = torch.tensor(_check_pair("center", center), dtype=DTYPE)
    check_type("name", name, (str, type(None)), "a str or None")
    c, s = math.cos(angle), math.sin(angle)
    R = torch.tensor([[c, -s], [s, c]], dtype=DTYPE)
    A = R @ torch.diag(lam) @ R.T
    A = 0.5 * (A + A.T)
    label = name or f"quadratic (kappa={float(lam.max() / lam.min()):g})"
    return Quadratic(A, A @ m, 0.5 * float(m @ A @ m), name=label)


def robot_arm() -> Quadratic:
    r"""The robot-arm cost :math:`C(x, y) = 2(x-3)^2 + (y+1)^2 + 2xy`.

    Expanded, :math:`C = \tfrac12 p^\top A p - b^\top p + 19` with
    :math:`A = \begin{pmatrix}4 & 2\\ 2 & 2\end{pmatrix}` and :math:`b = (12, -2)`,
    so the minimiser is :math:`A^{-1}b = (7, -8)`.

    >>> robot_arm().minimizer
    tensor([ 7., -8.], dtype=torch.float64)
    """
    A = torch.tensor([[4.0, 2.0], [2.0, 2.0]], dtype=DTYPE)
    b = torch.tensor([12.0, -2.0], dtype=DTYPE)
    return Quadratic(A, b, 19.0, name="robot arm", bounds=((-2.0, 10.0), (-11.0, 3.0)))


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Rosenbrock:
    """Rosenbrock's banana valley (see :class:`Rosenbrock`).

    Example:
        >>> rosenbrock(a=2.0).minimizer  # (a, a^2)
        tensor([2., 4.], dtype=torch.float64)
    """
    return Rosenbrock(a, b)


def saddle() -> Saddle:
    """A saddle at the origin between minima at ``(0, +-1)`` (see :class:`Saddle`).

    Example:
        >>> m = saddle().minimizer
        >>> m.tolist(), saddle().value(m).item(), saddle().grad(m).tolist()
        ([0.0, 1.0], -0.25, [0.0, 0.0])
    """
    return Saddle()


def double_well(tilt: float = 1.0) -> DoubleWell:
    """A 1-D tilted double well (see :class:`DoubleWell`).

    Example:
        >>> round(double_well(tilt=-1.0).minimizer.item(), 4)  # tilt picks the well
        1.3008
    """
    return DoubleWell(tilt)


LANDSCAPES = {
    "robot arm": robot_arm,
    "ill-conditioned": lambda: quadratic((25.0, 1.0), angle=0.0,
                                         name="ill-conditioned"),
    "round bowl": lambda: quadratic((1.0, 1.0), name="round bowl"),
    "rotated": lambda: quadratic((25.0, 1.0), angle=math.pi / 6, name="rotated"),
    "rosenbrock": rosenbrock,
    "saddle": saddle,
}


def get_landscape(name: str) -> Landscape:
    """Return a fresh landscape by its name in :data:`LANDSCAPES`.

    >>> get_landscape("saddle").name
    'saddle'
    """
    check_choice("landscape", name, tuple(LANDSCAPES))  # also for unhashable names
    return LANDSCAPES[name]()
