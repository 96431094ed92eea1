"""Gradient descent on 2-D landscapes: the first chapter's explorer.

Three layers, as for every explorer of the book:

* :func:`simulate_descent` (pure): a fixed-step run on a named quadratic landscape,
  with the step given as a fraction of the stability limit ``2 / L``;
* :func:`plot_descent` (result, ax): contours with the path, and the optimality gap;
* :func:`explore_descent` (widgets) and :func:`standin_descent` (static page).

>>> path = simulate_descent("robot arm", fraction=0.5, steps=30)
>>> path.points.shape
torch.Size([31, 2])
"""

from __future__ import annotations

from .explore import Control, Explorer
from .landscapes import get_landscape
from .plotting import new_axes, plot_landscape, plot_path, plot_values
from .steps import gd
from .trajectory import Trajectory, run

__all__ = ["QUADRATICS", "simulate_descent", "plot_descent", "descent_explorer",
           "explore_descent", "standin_descent"]

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
        fraction: the step as a fraction of the stability limit ``2 / L``, ``> 0``;
            above 1 the run diverges (it then stops, with ``diverged_at`` set).
        steps: number of steps, ``>= 0``.
    """
    if landscape not in QUADRATICS:
        listed = ", ".join(repr(k) for k in QUADRATICS)
        raise ValueError(f"landscape must be one of {listed}; got {landscape!r}")
    f = get_landscape(landscape)
    rule = gd(fraction * 2.0 / f.smoothness)
    return run(rule, f, QUADRATICS[landscape], steps, on_divergence="stop")


class DescentView:
    """Contours with the moving path (left) and the optimality gap (right)."""

    def __init__(self, fig, landscape: str = "robot arm"):
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
    """Contours of the run's landscape with its path; returns the ``Axes``."""
    ax = new_axes(ax)
    plot_landscape(get_landscape(path.landscape), ax)
    plot_path(path, ax)
    return ax


def descent_explorer() -> Explorer:
    """The explorer: landscape x step size (as a fraction of ``2 / L``)."""
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
    """Show the live explorer in a notebook (needs ipywidgets)."""
    return descent_explorer().widget()


def standin_descent(progress: bool | None = None):
    """The static stand-in of :func:`explore_descent` for the website."""
    return descent_explorer().standin(progress=progress)
