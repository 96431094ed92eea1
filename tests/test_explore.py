"""The explorer pattern, tested headless: live widget, blitting, static stand-in."""

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from mbgd.descent import descent_explorer, simulate_descent
from mbgd.explore import Control, Explorer


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
])
def test_bad_arguments(call, exc, message):
    with pytest.raises(exc, match=message):
        call()
