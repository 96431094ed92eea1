"""Plotting landscapes and paths (contours, trajectories, value curves).

Every function takes a result and an optional ``ax`` and returns the ``Axes``; none
creates widgets, reads globals, changes ``rcParams`` or calls ``plt.show()``.

>>> from mbgd.landscapes import robot_arm
>>> ax = plot_landscape(robot_arm())
>>> ax.get_xlabel()
'$x_1$'
>>> import matplotlib.pyplot as plt
>>> plt.close(ax.figure)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from functools import lru_cache

import torch

from ._checks import check_bool, check_int, check_real, check_type
from .landscapes import DTYPE, Landscape, _check_bounds
from .trajectory import Trajectory

__all__ = ["landscape_grid", "plot_landscape", "plot_path", "plot_values", "new_axes"]


def new_axes(ax=None, figsize=(5.0, 4.0)):
    """Return ``ax``, or the axes of a new figure when ``ax`` is ``None``.

    ``ax`` is a matplotlib ``Axes`` or ``None``; ``figsize`` is ``(width, height)``
    in inches, both finite and ``> 0``, used only for a new figure.

    Example:
        >>> import matplotlib.pyplot as plt
        >>> ax = new_axes(figsize=(2.0, 1.0))
        >>> ax.figure.get_size_inches().tolist(), new_axes(ax) is ax
        ([2.0, 1.0], True)
        >>> plt.close(ax.figure)
    """
    if ax is not None:
        from matplotlib.axes import Axes

        return check_type("ax", ax, Axes, "a matplotlib Axes or None")
    _check_figsize(figsize)
    import matplotlib.pyplot as plt

    return plt.figure(figsize=figsize).add_subplot()


def _check_figsize(figsize, name: str = "figsize") -> tuple[float, float]:
    """Check a figure size: ``(width, height)`` in inches, both finite and ``> 0``.

    >>> _check_figsize((4, 3))
    (4.0, 3.0)
    """
    rule = "a pair (width, height) of finite real numbers > 0"
    if isinstance(figsize, (str, bytes)) or not isinstance(figsize, Sequence) or any(
            isinstance(v, bool) or not isinstance(v, numbers.Real) for v in figsize):
        raise TypeError(f"{name} must be {rule}; got {figsize!r}")
    if len(figsize) != 2 or not all(math.isfinite(v) and v > 0 for v in figsize):
        raise ValueError(f"{name} must be {rule}; got {figsize!r}")
    return float(figsize[0]), float(figsize[1])


@lru_cache(maxsize=32)
def _grid(f: Landscape, bounds: tuple, n: int):
    (x0, x1), (y0, y1) = bounds
    xs = torch.linspace(x0, x1, n, dtype=DTYPE)
    ys = torch.linspace(y0, y1, n, dtype=DTYPE)
    X, Y = torch.meshgrid(xs, ys, indexing="xy")
    Z = f.value(torch.stack([X, Y], -1))
    return X.numpy(), Y.numpy(), Z.numpy()


def landscape_grid(f: Landscape, bounds=None, n: int = 160):
    """Values of a 2-D landscape on an ``n x n`` grid: ``(X, Y, Z)``, each ``(n, n)``.

    Results are cached per landscape object, window and resolution, so redrawing
    an explorer never re-evaluates the grid. ``bounds`` is
    ``((x_lo, x_hi), (y_lo, y_hi))``, finite with ``lo < hi`` (default:
    ``f.bounds``); ``n >= 2``. ``X`` varies along columns and ``Y`` along rows
    (``"xy"`` indexing), as ``contour`` expects.

    Example:
        >>> from mbgd.landscapes import robot_arm
        >>> X, Y, Z = landscape_grid(robot_arm(), n=3)  # window (-2, 10) x (-11, 3)
        >>> X[0].tolist(), Y[:, 0].tolist(), Z.shape, float(Z[1, 1])  # C(4, -4)
        ([-2.0, 4.0, 10.0], [-11.0, -4.0, 3.0], (3, 3), -21.0)
    """
    check_type("f", f, Landscape, "a landscape from mbgd.landscapes")
    if f.dim != 2:
        raise ValueError(f"f must be a 2-D landscape; got dim {f.dim} ({f.name!r})")
    n = check_int("n", n, low=2)
    if bounds is None:
        bounds = f.bounds
    _check_bounds("bounds", bounds, 2)
    bounds = tuple(tuple(map(float, b)) for b in bounds)
    return _grid(f, bounds, n)


def plot_landscape(f: Landscape, ax=None, *, bounds=None, levels: int = 25,
                   n: int = 160, mark_minimum: bool = True):
    """Filled contours of a 2-D landscape, with levels spaced for its range.

    Levels are quantiles of the values on the grid, so steep and flat regions both
    get contour lines (``levels >= 2`` of them, fewer where quantiles coincide).
    The known minimiser is marked with a star when ``mark_minimum``. ``bounds``
    and ``n`` set the grid (see :func:`landscape_grid`). Every argument is
    checked before a figure is made.

    Example:
        >>> from matplotlib.figure import Figure
        >>> from mbgd.landscapes import robot_arm
        >>> ax = plot_landscape(robot_arm(), Figure().add_subplot(), n=20)
        >>> ax.get_title(), len(ax.lines), [float(v) for v in ax.get_xlim()]
        ('robot arm', 1, [-2.0, 10.0])
    """
    import numpy as np

    levels = check_int("levels", levels, low=2)
    check_bool("mark_minimum", mark_minimum)
    X, Y, Z = landscape_grid(f, bounds, n)
    ax = new_axes(ax)
    lv = np.unique(np.quantile(Z, np.linspace(0.0, 1.0, levels) ** 2))
    ax.contourf(X, Y, Z, levels=lv, cmap="Blues_r", alpha=0.85)
    ax.contour(X, Y, Z, levels=lv, colors="white", linewidths=0.4, alpha=0.7)
    if mark_minimum and f.minimizer is not None:
        m = f.minimizer.tolist()
        ax.plot(m[0], m[1], marker="*", color="gold", markersize=12,
                markeredgecolor="black", linestyle="none", label="minimum")
    ax.set_xlim(X.min(), X.max())
    ax.set_ylim(Y.min(), Y.max())
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(f.name)
    return ax


def plot_path(path: Trajectory, ax=None, *, label: str | None = None, **style):
    """Draw a 2-D trajectory as points joined by lines; returns the ``Axes``.

    ``path`` is a trajectory on a 2-D landscape (points of shape ``(K + 1, 2)``);
    ``style`` keywords go to ``ax.plot``; the label defaults to the rule's name.

    Example:
        >>> from matplotlib.figure import Figure
        >>> from mbgd.landscapes import robot_arm
        >>> from mbgd.trajectory import run
        >>> from mbgd.steps import gd
        >>> ax = plot_path(run(gd(0.1), robot_arm(), (1.0, 1.0), steps=3),
        ...                Figure().add_subplot())
        >>> ax.lines[0].get_label(), len(ax.lines[0].get_xdata())  # K + 1 points
        ('GD (lr=0.1)', 4)
    """
    check_type("path", path, Trajectory, "a Trajectory from mbgd.trajectory.run")
    if path.points.ndim != 2 or path.points.shape[1] != 2:
        raise ValueError(
            "path must be a trajectory on a 2-D landscape (points of shape "
            f"(K + 1, 2)); got points of shape {tuple(path.points.shape)}"
        )
    ax = new_axes(ax)
    pts = path.points.numpy()
    kw = {"marker": "o", "markersize": 3, "linewidth": 1.2, "color": "crimson"}
    kw.update(style)
    ax.plot(pts[:, 0], pts[:, 1], label=label or path.rule, **kw)
    return ax


def plot_values(path: Trajectory, ax=None, *, minimum: float | None = None,
                label: str | None = None, **style):
    """Plot ``f(x_k) - minimum`` against the step ``k`` on a log scale.

    ``minimum`` is :math:`f^*`, a finite real number (``None``: plot ``f(x_k)``
    itself); ``style`` keywords go to ``ax.semilogy``. Returns the ``Axes``.

    Example:
        >>> from matplotlib.figure import Figure
        >>> from mbgd.landscapes import robot_arm
        >>> from mbgd.trajectory import run
        >>> from mbgd.steps import gd
        >>> path = run(gd(0.1), robot_arm(), (1.0, 1.0), steps=3)
        >>> ax = plot_values(path, Figure().add_subplot(), minimum=-31.0)
        >>> ax.get_yscale(), ax.get_ylabel(), len(ax.lines[0].get_ydata())
        ('log', '$f(x_k) - f^*$', 4)
    """
    check_type("path", path, Trajectory, "a Trajectory from mbgd.trajectory.run")
    if isinstance(minimum, torch.Tensor) and minimum.numel() == 1:
        minimum = minimum.item()  # a value such as f(f.minimizer)
    if minimum is not None:
        minimum = check_real("minimum", minimum)
    ax = new_axes(ax)
    gap = path.values - (0.0 if minimum is None else minimum)
    ax.semilogy(range(len(gap)), gap.clamp(min=1e-300).numpy(),
                label=label or path.rule, **style)
    ax.set_xlabel("step $k$")
    ax.set_ylabel("$f(x_k) - f^*$" if minimum is not None else "$f(x_k)$")
    return ax
