"""Latency of one explorer update against a bare redraw of the same figure.

An update is what the live explorer does when a slider moves: re-run the
simulation, restore the cached background (contours) and draw the moving artists,
all with the Agg backend. The reference is a bare ``canvas.draw()`` of the same
figure with every artist drawn. Goal: median update <= 1.5x the bare draw.
Also printed: the PNG encoding that the live widget adds on top of an update.

Run: .venv/bin/python benchmarks/explorer.py [--repeats N]
"""

from __future__ import annotations

import argparse
import itertools
import statistics

from _timing import wall_times
from mbgd.descent import FRACTIONS, descent_explorer


def median_ms(fn, repeats: int) -> float:
    return 1e3 * statistics.median(wall_times(fn, repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=60)
    args = parser.parse_args()

    ex = descent_explorer()
    landscape = "ill-conditioned"
    fractions = itertools.cycle(FRACTIONS)
    ex.render(landscape=landscape)  # build and cache the background once
    update = median_ms(lambda: ex.render(landscape=landscape,
                                         fraction=next(fractions)), args.repeats)

    fig, canvas, view, _ = ex.figure(landscape=landscape)
    for artist in view.update(ex.simulate(landscape=landscape, fraction=0.5)):
        artist.set_animated(False)  # a bare draw renders everything
    draw = median_ms(canvas.draw, args.repeats)
    encode = median_ms(lambda: ex.png(landscape=landscape, fraction=0.5),
                       args.repeats) - update

    print(f"explorer update (simulate + blit): {update:6.1f} ms (median)")
    print(f"bare canvas.draw() of the figure : {draw:6.1f} ms (median)")
    print(f"ratio update / bare draw         : {update / draw:6.2f}  (goal <= 1.5)")
    print(f"PNG encoding for the live widget : {encode:6.1f} ms more per update")


if __name__ == "__main__":
    main()
