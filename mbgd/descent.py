"""Gradient descent on 2-D landscapes: the first chapter's explorer.

Three layers, as for every explorer of the book:

* :func:`simulate_descent` (pure): a fixed-step run on a named quadratic landscape,
  with the step given as a fraction of the stability limit ``2 / L``;
* :func:`plot_descent` (result, ax): contours with the path (the explorer's
  :class:`DescentView` adds the optimality gap);
* :func:`explore_descent` (widgets) and :func:`standin_descent` (static page).

>>> path = simulate_descent("robot arm", fraction=0.5, steps=30)
>>> path.points.shape
torch.Size([31, 2])
"""

from __future__ import annotations

from ._checks import check_choice, check_int, check_real, check_type
from .explore import Control, Explorer
from .landscapes import LANDSCAPES, get_landscape
from .plotting import new_axes, plot_landscape, plot_path
from .steps import gd
from .trajectory import Trajectory, run

__all__ = ["QUADRATICS", "simulate_descent", "DescentView", "plot_descent",
           "descent_explorer", "explore_descent", "standin_descent"]

#: The quadratic landscapes of the explorer and where each run starts.
QUADRATICS = {
    "robot arm": (1.0, 1.0),
    "ill-conditioned": (-1.6, 1.8),
    "rotated": (-1.0, 1.8),
}

FRACTIONS = (0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.85, 0.95, 1.02)


def simulate_descent(landscape: str = "robot arm", fraction: float = 0.5,
                     steps: int = 40) -> Trajectory:
    r"""Fixed-step gradient descent with :math:`\alpha = \text{fraction}\cdot 2/L`.

    Args:
        landscape: one of :data:`QUADRATICS` (each has a known smoothness ``L``).
        fraction: the step as a fraction of the stability limit ``2 / L``, a
            finite real number ``> 0``; above 1 the run diverges (it stops at the
            first non-finite value, with ``diverged_at`` set, if ``steps`` is large
            enough to get there).
        steps: number of steps, ``>= 0``.

    Returns:
        A :class:`mbgd.trajectory.Trajectory`: ``points`` of shape ``(K + 1, 2)``,
        ``values`` and ``grad_norms`` of shape ``(K + 1,)``, with ``K = steps``
        unless the run diverged.

    Example:
        >>> path = simulate_descent("ill-conditioned", fraction=0.5, steps=2)
        >>> path.points.tolist()  # f = (25 x1^2 + x2^2)/2, lr = 1/25: x1 in 1 step
        [[-1.6, 1.8], [0.0, 1.728], [0.0, 1.65888]]
        >>> bad = simulate_descent("ill-conditioned", fraction=1.02, steps=2)
        >>> [round(v, 4) for v in bad.points[:, 0].tolist()]  # x1 times 1 - 2.04
        [-1.6, 1.664, -1.7306]
    """
    check_choice("landscape", landscape, tuple(QUADRATICS))
    fraction = check_real("fraction", fraction, low=0.0, bounds="(]")
    steps = check_int("steps", steps, low=0)
    f = get_landscape(landscape)
    rule = gd(fraction * 2.0 / f.smoothness)
    return run(rule, f, QUADRATICS[landscape], steps, on_divergence="stop")


class DescentView:
    """Contours with the moving path (left) and the optimality gap (right).

    The view of :func:`descent_explorer`: it draws the landscape once, and
    :meth:`update` sets the path, the gap curve and the caption.

    Args:
        fig: a ``matplotlib.figure.Figure`` (or subfigure) to draw into (two axes
            are added).
        landscape: one of :data:`QUADRATICS`.

    ``update(path, fraction)`` takes a :class:`mbgd.trajectory.Trajectory` of this
    landscape (points of shape ``(K + 1, 2)``) and the fraction of ``2 / L`` that
    made it, and returns the three artists it changed.

    Example:
        >>> from matplotlib.figure import Figure
        >>> view = DescentView(Figure(), "ill-conditioned")
        >>> path = simulate_descent("ill-conditioned", fraction=0.5, steps=40)
        >>> len(view.update(path, fraction=0.5)), view.caption.get_text()
        (3, 'lr = 0.04 = 0.5 x 2/L')
    """

    def __init__(self, fig, landscape: str = "robot arm"):
        from matplotlib.figure import FigureBase

        check_type("fig", fig, FigureBase, "a matplotlib Figure")
        check_choice("landscape", landscape, tuple(QUADRATICS))
        self.f = get_landscape(landscape)
        left, right = fig.subplots(1, 2, width_ratios=(1.1, 1.0))
        plot_landscape(self.f, left)
        (self.path,) = left.plot([], [], "o-", color="crimson", markersize=2.5,
                                 linewidth=1.0, animated=True)
        right.set_yscale("log")
        right.set_xlim(0, 40)
        right.set_ylim(1e-10, 1e4)
        right.set_xlabel("step $k$")
        right.set_ylabel("$f(x_k) - f^*$")
        right.grid(True, which="major", alpha=0.3)
        (self.gap,) = right.plot([], [], color="crimson", animated=True)
        self.caption = right.set_title(" ", fontsize=9, animated=True)

    def update(self, path: Trajectory, fraction: float = 0.5, **_):
        pts = path.points.numpy()
        self.path.set_data(pts[:, 0], pts[:, 1])
        gap = (path.values - self.f.value(self.f.minimizer)).clamp(min=1e-300)
        self.gap.set_data(range(len(gap)), gap.numpy())
        lr = fraction * 2.0 / self.f.smoothness
        self.caption.set_text(f"lr = {lr:.3g} = {fraction:g} x 2/L")
        return [self.path, self.gap, self.caption]


def plot_descent(path: Trajectory, ax=None):
    """Contours of the run's landscape with its path; returns the ``Axes``.

    Args:
        path: a :class:`mbgd.trajectory.Trajectory` from :func:`simulate_descent`
            (points of shape ``(K + 1, 2)``), or any run on a landscape of
            :data:`mbgd.landscapes.LANDSCAPES`.
        ax: the ``Axes`` to draw on (``None``: a new figure).

    Example:
        >>> import matplotlib.pyplot as plt
        >>> ax = plot_descent(simulate_descent("robot arm", fraction=0.5, steps=10))
        >>> ax.get_title(), len(ax.lines)  # the minimum's star and the path
        ('robot arm', 2)
        >>> plt.close(ax.figure)
    """
    check_type("path", path, Trajectory, "a Trajectory from simulate_descent")
    if path.landscape not in LANDSCAPES:
        listed = ", ".join(repr(k) for k in LANDSCAPES)
        raise ValueError(f"path must be a run on one of the landscapes {listed}; "
                         f"got one on {path.landscape!r}")
    ax = new_axes(ax)
    plot_landscape(get_landscape(path.landscape), ax)
    plot_path(path, ax)
    return ax


def descent_explorer() -> Explorer:
    """The explorer: landscape x step size (as a fraction of ``2 / L``).

    Returns:
        An :class:`mbgd.explore.Explorer` of :func:`simulate_descent` drawn by
        :class:`DescentView`.

    Example:
        >>> ex = descent_explorer()
        >>> ex.defaults()  # the controls and their initial values
        {'landscape': 'ill-conditioned', 'fraction': 0.5}
        >>> [len(c.values) for c in ex.controls]  # the stand-in has 3 x 9 frames
        [3, 9]
    """
    return Explorer(
        simulate_descent, DescentView,
        [Control("landscape", tuple(QUADRATICS), default="ill-conditioned"),
         Control("fraction", FRACTIONS, label="lr / (2/L)", default=0.5,
                 live_values=tuple(round(0.02 * i, 2) for i in range(1, 53)),
                 fmt="{:g}")],
        background=("landscape",), figsize=(7.0, 3.0), dpi=72,
        title="Gradient descent with a fixed step on a quadratic landscape",
    )


def explore_descent():
    """Show the live explorer in a notebook (needs ipywidgets).

    Returns:
        An ``ipywidgets.VBox``: the image above a landscape menu and a slider for
        the fraction of ``2 / L``; its ``controls`` dict and ``image`` attribute
        drive it from code.

    Example:
        >>> box = explore_descent()  # doctest: +SKIP
        >>> box.controls["fraction"].value = 0.96  # doctest: +SKIP
    """
    return descent_explorer().widget()


def standin_descent(progress: bool | None = None):
    """The static stand-in of :func:`explore_descent` for the website.

    Args:
        progress: show a progress bar (``None``: unless ``MBGD_PROGRESS=0``).

    Returns:
        A :class:`mbgd.explore.StandIn`: 27 pre-rendered frames (3 landscapes x 9
        fractions) behind sliders, shown as self-contained HTML in a notebook.

    Example:
        >>> standin = standin_descent(progress=False)  # doctest: +SKIP
        >>> len(standin.frames)  # doctest: +SKIP
        27
    """
    return descent_explorer().standin(progress=progress)
