"""The explorer pattern, tested headless: live widget, blitting, static stand-in."""

import base64
import io
import re

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from mbgd.descent import DescentView, descent_explorer, plot_descent, simulate_descent
from mbgd.explore import Control, Explorer
from mbgd.landscapes import quadratic
from mbgd.steps import gd
from mbgd.trajectory import run


def full_draw(explorer, **params):
    """The same figure drawn from scratch, without the blitting cache."""
    fresh = descent_explorer()
    fig, canvas, view, _ = fresh.figure(**params)
    artists = view.update(fresh.simulate(**{**fresh.defaults(), **params}),
                          **{**fresh.defaults(), **params})
    for a in artists:
        a.set_animated(False)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


@pytest.mark.parametrize("params", [
    {"landscape": "robot arm", "fraction": 0.2},
    {"landscape": "rotated", "fraction": 1.02},
])
def test_blitted_update_equals_a_full_redraw(params):
    ex = descent_explorer()
    ex.render(landscape="ill-conditioned", fraction=0.95)  # leave other data behind
    blitted = ex.render(**params)
    diff = np.abs(blitted.astype(int) - full_draw(ex, **params)).max(-1)
    # antialiased edges where a line meets the frame may differ by a few pixels
    assert (diff > 2).sum() <= 20, f"{(diff > 2).sum()} pixels differ"


def test_live_widget_follows_its_controls():
    ex = descent_explorer()
    box = ex.widget()
    assert set(box.controls) == {"landscape", "fraction"}
    box.controls["landscape"].value = "robot arm"
    box.controls["fraction"].value = 0.3
    assert box.image.value == ex.png(landscape="robot arm", fraction=0.3)
    assert repr(box).startswith("<live explorer:")


def test_standin_holds_every_combination_in_order():
    ex = descent_explorer()
    standin = ex.standin(progress=False)
    controls = ex.controls
    assert len(standin.frames) == np.prod([len(c.values) for c in controls])
    # frame index: the last control varies fastest
    k = controls[0].values.index("rotated") * len(controls[1].values) + \
        controls[1].values.index(0.2)
    frame = Image.open(io.BytesIO(base64.b64decode(standin.frames[k])))
    direct = Image.open(io.BytesIO(ex.png(small=True, landscape="rotated",
                                          fraction=0.2)))
    assert np.array_equal(np.asarray(frame.convert("RGB")),
                          np.asarray(direct.convert("RGB")))
    assert "fraction" not in standin.alts[k] and "lr / (2/L) = 0.2" in standin.alts[k]


def test_standin_html_is_self_contained_and_deterministic():
    html1 = descent_explorer().standin(progress=False)._repr_html_()
    html2 = descent_explorer().standin(progress=False)._repr_html_()
    assert html1 == html2
    assert not re.search(r'(src|href)="https?://', html1)
    assert html1.count('type="range"') == 1 and html1.count("<select") == 1
    assert len(html1) < 1_500_000


def test_standin_refuses_to_grow_past_its_budget():
    with pytest.raises(ValueError, match=r"max_bytes must be at least the stand-in's "
                                         r"size; got 1000 but its 27 frames take"):
        descent_explorer().standin(max_bytes=1000, progress=False)


def test_simulate_descent_is_pure_and_diverges_above_the_limit():
    a = simulate_descent("rotated", 0.5, 40)
    b = simulate_descent("rotated", 0.5, 40)
    assert np.array_equal(a.points.numpy(), b.points.numpy())
    assert a.diverged_at is None
    grows = simulate_descent("ill-conditioned", 1.02, 40)
    assert grows.values[-1] > grows.values[0]  # above 2/L the steep direction grows


@pytest.mark.parametrize("call, exc, message", [
    (lambda: simulate_descent("bowl"), ValueError, "landscape must be one of"),
    (lambda: Control("x", ()), ValueError, "values of control 'x' must be non-empty"),
    (lambda: Control("x", (1, 2), default=3), ValueError,
     "default of control 'x' must be one of its values"),
    (lambda: Explorer(print, print, [Control("a", (1,)), Control("a", (2,))]),
     ValueError, "controls must have distinct names"),
    (lambda: Explorer(print, print, [Control("a", (1,))], background=("b",)),
     ValueError, "background must name controls among"),
    (lambda: descent_explorer().render(speed=3), TypeError,
     "parameters must be among the controls"),
    (lambda: simulate_descent(fraction=0), ValueError,
     "fraction must be a real number > 0.0; got 0.0"),
    (lambda: simulate_descent(fraction=True), TypeError,
     "fraction must be a real number > 0.0; got True"),
    (lambda: simulate_descent(["robot arm"]), ValueError,
     "landscape must be one of 'robot arm', 'ill-conditioned', 'rotated'; "
     "got ['robot arm']"),
    (lambda: DescentView(Figure(), "rosenbrock"), ValueError,
     "landscape must be one of 'robot arm', 'ill-conditioned', 'rotated'; "
     "got 'rosenbrock'"),
    (lambda: DescentView("figure"), TypeError,
     "fig must be a matplotlib Figure; got 'figure'"),
    (lambda: plot_descent(None), TypeError,
     "path must be a Trajectory from simulate_descent; got None"),
    (lambda: plot_descent(run(gd(0.1), quadratic((3.0, 1.0)), (1.0, 1.0), 2)),
     ValueError, "path must be a run on one of the landscapes 'robot arm', "),
    (lambda: Control("x", "abc"), TypeError,
     "values of control 'x' must be a list or tuple of values; got 'abc'"),
    (lambda: Control("x", None), TypeError,
     "values of control 'x' must be a list or tuple of values; got None"),
    (lambda: Control("x", (1, 2), live_values=5), TypeError,
     "live_values of control 'x' must be a list or tuple of values; got 5"),
    (lambda: Control("x", (1, 2), label=3), TypeError,
     "label must be a str or None; got 3"),
    (lambda: Control("x", (1.5, 2.5), fmt="{:d}"), ValueError,
     "fmt of control 'x' must format each of its values; got '{:d}', "
     "which fails on 1.5"),
    (lambda: Explorer(print, print, None), TypeError,
     "controls must be a list of Control; got None"),
    (lambda: Explorer(print, print, [Control("a", (1,))], background="a"),
     TypeError, "background must be a list of control names; got 'a'"),
    (lambda: Explorer(print, print, [Control("a", (1,))], title=3), TypeError,
     "title must be a str; got 3"),
    (lambda: Explorer(print, print, [Control("a", (1,))], figsize=(0, 1)),
     ValueError, "figsize must be a pair (width, height) of finite real numbers > 0; "
     "got (0, 1)"),
    (lambda: Explorer(print, print, [Control("a", (1,))], dpi=0), ValueError,
     "dpi must be a real number > 0.0; got 0.0"),
    (lambda: descent_explorer().png(small="yes"), TypeError,
     "small must be a bool (True or False); got 'yes'"),
    (lambda: descent_explorer().standin(max_bytes=-1), ValueError,
     "max_bytes must be an int >= 1; got -1"),
])
def test_bad_arguments(call, exc, message, refused):
    refused(call, exc, message)
