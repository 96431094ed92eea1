"""The explorer pattern: simulate (pure) -> view (draws) -> controls (widgets).

An :class:`Explorer` wires three layers together:

* ``simulate(**params) -> result``: a pure, seeded function of the control values;
* ``view(fig, **background)``: an object that draws the parts of the figure that do
  not change into ``fig`` once, creates the moving artists with ``animated=True``,
  and whose ``update(result, **params)`` sets their data and returns them;
* :class:`Control` s: the parameters a reader can change.

The same explorer gives the live widget (:meth:`Explorer.widget`, the only code that
imports ipywidgets, lazily) and the static stand-in for the website
(:meth:`Explorer.standin`): every combination of control values pre-rendered and put
behind sliders in self-contained HTML (inline images and script, no CDN), so the
page still responds to the reader without a kernel.

Rendering blits: the background of each figure is drawn once and cached (one per
value of the ``background`` controls), so an update costs the simulation plus
drawing the moving artists (``benchmarks/explorer.py`` measures it against a bare
``canvas.draw()``).

>>> import math
>>> class Dot:
...     def __init__(self, fig):
...         ax = fig.add_subplot(xlim=(-1, 1), ylim=(-1, 1))
...         (self.dot,) = ax.plot([], [], "o", animated=True)
...     def update(self, result, **params):
...         self.dot.set_data([result[0]], [result[1]])
...         return [self.dot]
>>> ex = Explorer(lambda angle: (math.cos(angle), math.sin(angle)), Dot,
...               [Control("angle", (0.0, 1.0, 2.0))], title="a dot")
>>> ex.render(angle=1.0).shape
(240, 320, 4)
>>> len(ex.standin().frames)
3
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
from collections.abc import Callable, Iterable, Sequence, Sized
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import check_bool, check_int, check_real, check_type
from .plotting import _check_figsize
from .progress import progress_bar

__all__ = ["Control", "Explorer", "StandIn"]


@dataclass(frozen=True)
class Control:
    """One parameter of an explorer.

    Attributes:
        name: the keyword passed to ``simulate`` and ``view.update``.
        values: the values the static stand-in pre-renders (its slider stops), a
            non-empty list or tuple (not a str).
        label: text shown next to the control (``None``: ``name``).
        default: the initial value; must be one of ``values`` (default: the middle).
        live_values: finer choices for the live widget, a list or tuple (``None``
            or empty: ``values``).
        fmt: how a value is printed, e.g. ``"{:.3g}"``; it must format every value.

    Example:
        >>> c = Control("lr", (0.1, 0.2, 0.3), label="step size", fmt="{:.2f}")
        >>> c.initial, c.text(c.initial)  # the middle value by default
        (0.2, '0.20')
    """

    name: str
    values: Sequence[Any]
    label: str | None = None
    default: Any = None
    live_values: Sequence[Any] | None = None
    fmt: str = "{}"

    def __post_init__(self):
        check_type("name", self.name, str, "a str")
        for arg in ("values", "live_values"):
            given = getattr(self, arg)
            if arg == "live_values" and given is None:
                continue
            if isinstance(given, (str, bytes)) or not (
                    isinstance(given, Sized) and isinstance(given, Iterable)):
                raise TypeError(f"{arg} of control {self.name!r} must be a list or "
                                f"tuple of values; got {given!r}")
        if len(self.values) == 0:
            raise ValueError(
                f"values of control {self.name!r} must be non-empty; got []")
        check_type("label", self.label, (str, type(None)), "a str or None")
        check_type("fmt", self.fmt, str, "a format string such as '{:g}'")
        for value in [*self.values, *(self.live_values or ())]:
            try:
                self.fmt.format(value)
            except (ValueError, TypeError, IndexError, KeyError, AttributeError):
                raise ValueError(
                    f"fmt of control {self.name!r} must format each of its values; "
                    f"got {self.fmt!r}, which fails on {value!r}") from None
        if self.default is not None and self.default not in self.values:
            raise ValueError(
                f"default of control {self.name!r} must be one of its values "
                f"{list(self.values)!r}; got {self.default!r}"
            )

    @property
    def initial(self) -> Any:
        if self.default is None:
            return self.values[len(self.values) // 2]
        return self.default

    def text(self, value: Any) -> str:
        return self.fmt.format(value)


class Explorer:
    """Live widget and static stand-in from one ``simulate`` and one ``view``.

    Args:
        simulate: pure function of the control values (keywords) to a result.
        view: class or factory ``view(fig, **background) -> object`` with
            ``update(result, **params) -> list of artists`` (see the module doc).
        controls: the :class:`Control` s, in display order.
        background: names of controls whose change needs a new background (for
            example the landscape); one figure is cached per combination.
        title: a short description, used for alt text and the stand-in's caption.
        figsize, dpi: size of the rendered image, ``(width, height)`` in inches and
            dots per inch, all finite and ``> 0``; :meth:`render` returns
            ``(dpi * height, dpi * width, 4)``.

    Example:
        A view with no moving artists (see the module docstring for one that draws):

        >>> from types import SimpleNamespace
        >>> still = lambda fig: SimpleNamespace(update=lambda result, **params: [])
        >>> ex = Explorer(lambda lr: 1.0 - lr, still, [Control("lr", (0.1, 0.5, 0.9))],
        ...               title="one step", figsize=(2.0, 1.0), dpi=50)
        >>> ex.defaults(), ex.describe(lr=0.9), ex.render().shape
        ({'lr': 0.5}, 'one step (lr = 0.9)', (50, 100, 4))
    """

    def __init__(self, simulate: Callable[..., Any], view: Callable[..., Any],
                 controls: Sequence[Control], *, background: Sequence[str] = (),
                 title: str = "explorer", figsize=(4.0, 3.0), dpi: int = 80):
        if not callable(simulate):
            raise TypeError(f"simulate must be callable; got {simulate!r}")
        if not callable(view):
            raise TypeError(f"view must be callable; got {view!r}")
        if isinstance(controls, Control) or not isinstance(controls, Iterable):
            raise TypeError(f"controls must be a list of Control; got {controls!r}")
        self.controls = tuple(check_type("controls", c, Control, "a list of Control")
                              for c in controls)
        if isinstance(background, str) or not isinstance(background, Iterable):
            raise TypeError(
                f"background must be a list of control names; got {background!r}")
        background = tuple(background)
        check_type("title", title, str, "a str")
        _check_figsize(figsize)
        check_real("dpi", dpi, low=0.0, bounds="(]")
        names = [c.name for c in self.controls]
        if len(set(names)) != len(names):
            raise ValueError(f"controls must have distinct names; got {names!r}")
        unknown = [b for b in background if b not in names]
        if unknown:
            raise ValueError(
                f"background must name controls among {names!r}; got {unknown!r}"
            )
        self.simulate, self.view, self.background = simulate, view, tuple(background)
        self.title, self.figsize, self.dpi = title, figsize, dpi
        self._figures: dict[tuple, tuple] = {}

    # -- rendering ---------------------------------------------------------------
    def defaults(self) -> dict[str, Any]:
        """The initial value of every control."""
        return {c.name: c.initial for c in self.controls}

    def _params(self, params: dict[str, Any]) -> dict[str, Any]:
        names = {c.name for c in self.controls}
        unknown = sorted(set(params) - names)
        if unknown:
            raise TypeError(
                f"parameters must be among the controls {sorted(names)!r}; "
                f"got {unknown!r}"
            )
        return {**self.defaults(), **params}

    def figure(self, **params):
        """The cached ``(fig, canvas, view, background)`` for these parameters."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        params = self._params(params)
        key = tuple(params[b] for b in self.background)
        if key not in self._figures:
            fig = Figure(figsize=self.figsize, dpi=self.dpi, layout="constrained")
            canvas = FigureCanvasAgg(fig)
            view = self.view(fig, **dict(zip(self.background, key)))
            canvas.draw()
            fig.set_layout_engine("none")  # freeze the layout so blits line up
            self._figures[key] = (fig, canvas, view, canvas.copy_from_bbox(fig.bbox))
        return self._figures[key]

    def render(self, **params) -> np.ndarray:
        """Recompute and redraw; returns the RGBA image, shape ``(H, W, 4)``."""
        params = self._params(params)
        fig, canvas, view, bg = self.figure(**params)
        result = self.simulate(**params)
        artists = view.update(result, **params)
        canvas.restore_region(bg)
        for artist in artists:
            fig.draw_artist(artist)
        return np.asarray(canvas.buffer_rgba()).copy()

    def png(self, *, small: bool = False, **params) -> bytes:
        """The rendered image as PNG bytes.

        ``small``: a 256-colour palette, for pages (a bool).
        """
        check_bool("small", small)
        from PIL import Image

        image = Image.fromarray(self.render(**params)).convert("RGB")
        buf = io.BytesIO()
        if small:
            image.quantize(colors=256).save(buf, format="PNG", optimize=True)
        else:
            image.save(buf, format="PNG", compress_level=1)
        return buf.getvalue()

    def describe(self, **params) -> str:
        """Alt text: the title and every control value."""
        params = self._params(params)
        shown = ", ".join(f"{c.label or c.name} = {c.text(params[c.name])}"
                          for c in self.controls)
        return f"{self.title} ({shown})"

    # -- the two front ends --------------------------------------------------------
    def widget(self):
        """The live explorer: controls wired to the image (imports ipywidgets).

        Returns an ``ipywidgets.VBox``; its ``controls`` dict and ``image`` attribute
        allow driving it from code (this is how the tests check it headless).
        """
        import ipywidgets as w

        controls = {}
        for c in self.controls:
            options = list(c.live_values or c.values)
            initial = c.initial if c.initial in options else options[len(options) // 2]
            pairs = [(c.text(v), v) for v in options]
            if all(isinstance(v, (int, float)) for v in options):
                controls[c.name] = w.SelectionSlider(
                    options=pairs, value=initial, description=c.label or c.name,
                    continuous_update=True, style={"description_width": "initial"})
            else:
                controls[c.name] = w.Dropdown(options=pairs, value=initial,
                                              description=c.label or c.name)
        image = w.Image(format="png")

        def refresh(_=None):
            image.value = self.png(**{k: v.value for k, v in controls.items()})

        for control in controls.values():
            control.observe(refresh, names="value")
        refresh()
        title = self.title

        class ExplorerBox(w.VBox):
            def __repr__(self):
                return f"<live explorer: {title}>"

        box = ExplorerBox([image, w.HBox(list(controls.values()),
                                         layout=w.Layout(flex_flow="row wrap"))])
        box.controls, box.image = controls, image
        return box

    def standin(self, *, max_bytes: int = 1_500_000, progress: bool | None = None
                ) -> StandIn:
        """Pre-render every combination of control values into a :class:`StandIn`.

        Raises ``ValueError`` when the frames together exceed ``max_bytes`` (an int
        ``>= 1``; the notebook that stores them must stay small).
        """
        max_bytes = check_int("max_bytes", max_bytes, low=1)
        grid = list(itertools.product(*(c.values for c in self.controls)))
        frames, alts = [], []
        for combo in progress_bar(grid, desc="pre-rendering", progress=progress):
            params = dict(zip((c.name for c in self.controls), combo))
            frames.append(base64.b64encode(self.png(small=True, **params)).decode())
            alts.append(self.describe(**params))
        size = sum(len(f) for f in frames)
        if size > max_bytes:
            raise ValueError(
                f"max_bytes must be at least the stand-in's size; got {max_bytes!r} "
                f"but its {len(frames)} frames take {size} bytes (use fewer control "
                "values, a smaller figsize or a lower dpi)"
            )
        initial = [list(c.values).index(c.initial) for c in self.controls]
        return StandIn(self.title, self.controls, frames, alts, initial)


class StandIn:
    """Pre-rendered frames behind sliders: an explorer that works in a static page.

    Its HTML holds the frames as inline PNG images and a few lines of script (no
    external files). The element id is a hash of the content, so the same frames
    always give the same HTML.

    Returned by :meth:`Explorer.standin`. Attributes:

    * ``title`` and ``controls``: the explorer's;
    * ``frames``: one base64 PNG string per combination of control values, in
      ``itertools.product`` order of the controls' ``values``;
    * ``alts``: the alt text of each frame, same length as ``frames``;
    * ``initial``: for each control, the index of its initial value.

    Example:
        >>> from types import SimpleNamespace
        >>> still = lambda fig: SimpleNamespace(update=lambda result, **params: [])
        >>> ex = Explorer(lambda lr: lr, still, [Control("lr", (0.1, 0.5, 0.9))],
        ...               title="one step", figsize=(1.0, 1.0), dpi=20)
        >>> s = ex.standin(progress=False)
        >>> s, s.initial, s.alts[0]
        (<StandIn 'one step': 3 pre-rendered frames>, [1], 'one step (lr = 0.1)')
    """

    def __init__(self, title: str, controls: Sequence[Control], frames: list[str],
                 alts: list[str], initial: list[int]):
        self.title, self.controls = title, tuple(controls)
        self.frames, self.alts, self.initial = frames, alts, initial

    def __repr__(self) -> str:
        return f"<StandIn {self.title!r}: {len(self.frames)} pre-rendered frames>"

    def _repr_html_(self) -> str:
        digest = hashlib.sha1("".join(self.frames).encode()).hexdigest()[:12]
        uid = f"mbgd-standin-{digest}"
        sizes = [len(c.values) for c in self.controls]
        first = int(np.ravel_multi_index(self.initial, sizes))
        rows = []
        for i, c in enumerate(self.controls):
            label = html.escape(c.label or c.name)
            texts = [c.text(v) for v in c.values]
            if all(isinstance(v, (int, float)) for v in c.values):
                rows.append(
                    f'<label>{label} <input type="range" min="0" '
                    f'max="{len(texts) - 1}" '
                    f'step="1" value="{self.initial[i]}" data-i="{i}" '
                    f'aria-label="{label}"> <output>'
                    f"{html.escape(texts[self.initial[i]])}</output></label>")
            else:
                opts = "".join(
                    f'<option value="{j}"'
                    f'{" selected" if j == self.initial[i] else ""}>'
                    f"{html.escape(t)}</option>" for j, t in enumerate(texts))
                rows.append(f'<label>{label} <select data-i="{i}" '
                            f'aria-label="{label}">{opts}</select></label>')
        data = json.dumps({"frames": self.frames, "alts": self.alts, "sizes": sizes,
                           "texts": [[c.text(v) for v in c.values]
                                     for c in self.controls]})
        return (
            f'<div class="mbgd-standin" id="{uid}" style="max-width:100%">'
            f'<img src="data:image/png;base64,{self.frames[first]}" '
            f'alt="{html.escape(self.alts[first])}" '
            'style="max-width:100%;height:auto">'
            '<div class="mbgd-controls" style="display:flex;flex-wrap:wrap;gap:1em">'
            + "".join(rows)
            + "</div><p style=\"font-size:0.85em\">Static stand-in: every combination "
            "was pre-rendered when the notebook ran; run the notebook for the live "
            "explorer.</p>"
            f"<script>(function(){{var root=document.getElementById('{uid}');"
            f"var d={data};var img=root.querySelector('img');"
            "var ins=root.querySelectorAll('[data-i]');"
            "function show(){var k=0;ins.forEach(function(el,j){"
            "k=k*d.sizes[j]+Number(el.value);var out=el.parentNode.querySelector("
            "'output');if(out){out.textContent=d.texts[j][Number(el.value)];}});"
            "img.src='data:image/png;base64,'+d.frames[k];img.alt=d.alts[k];}"
            "ins.forEach(function(el){el.addEventListener('input',show);"
            "el.addEventListener('change',show);});})();</script></div>"
        )
