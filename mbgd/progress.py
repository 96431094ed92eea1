"""Progress bars for long work, silenced in one place.

``progress=None`` (the default everywhere in ``mbgd``) means: show a bar unless the
environment variable ``MBGD_PROGRESS`` is ``0``. The notebook build and the tests
set ``MBGD_PROGRESS=0`` so that stored outputs hold no bars; a learner running a
notebook sees them. ``progress=True`` or ``False`` decides explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TypeVar

from ._checks import check_int, check_type

__all__ = ["progress_bar", "progress_enabled"]

T = TypeVar("T")
ENV_VAR = "MBGD_PROGRESS"


def progress_enabled(progress: bool | None) -> bool:
    """Resolve a ``progress`` argument (``None``: follow ``$MBGD_PROGRESS``).

    >>> progress_enabled(False)
    False
    """
    check_type("progress", progress, (bool, type(None)), "True, False or None")
    if progress is not None:
        return progress
    return os.environ.get(ENV_VAR, "1").strip().lower() not in {"0", "false", "no"}


def progress_bar(iterable: Iterable[T], *, total: int | None = None, desc: str = "",
                 progress: bool | None = None) -> Iterable[T]:
    """Wrap ``iterable`` in a tqdm bar (notebook-aware) when progress is enabled.

    ``total`` is the number of items (``>= 0``; ``None``: ``len(iterable)`` when
    it has one) and ``desc`` the bar's label.

    >>> list(progress_bar(range(3), progress=False))
    [0, 1, 2]
    """
    check_type("iterable", iterable, Iterable, "an iterable")
    if total is not None:
        check_int("total", total, low=0)
    check_type("desc", desc, (str, type(None)), "a str or None")
    if not progress_enabled(progress):
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False)
