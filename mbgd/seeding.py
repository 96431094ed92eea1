"""One place that turns a ``seed`` argument into a ``torch.Generator``.

Every function of ``mbgd`` that draws random numbers takes ``seed``: an ``int``, a
``torch.Generator`` (used as is, so a caller can thread one generator through
several calls) or ``None`` (fresh entropy: not reproducible). Nothing in ``mbgd``
reads or sets torch's global random state.
"""

from __future__ import annotations

import numbers

import torch

from .device import resolve_device

__all__ = ["as_generator", "SeedLike"]

SeedLike = int | torch.Generator | None


def as_generator(seed: SeedLike, device: str | torch.device | None = "cpu"
                 ) -> torch.Generator:
    """Return a ``torch.Generator`` for ``seed`` on ``device``.

    Args:
        seed: an int in ``[0, 2**63)``, a ``torch.Generator`` or ``None``.
        device: where the generator draws; ``"cpu"`` by default so that the same
            seed gives the same numbers on every machine (draw on the CPU, then
            move the tensor). Ignored when ``seed`` is a generator (but still
            checked).

    >>> a = torch.rand(1, generator=as_generator(0))
    >>> b = torch.rand(1, generator=as_generator(0))
    >>> float(a) == float(b)
    True
    """
    device = resolve_device(device)  # checked even when seed is a Generator
    if isinstance(seed, torch.Generator):
        return seed
    gen = torch.Generator(device=device)
    if seed is None:
        gen.seed()
        return gen
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"seed must be an int, a torch.Generator or None; got {seed!r}"
        )
    if not 0 <= int(seed) < 2**63:
        raise ValueError(f"seed must be an int with 0 <= seed < 2**63; got {seed!r}")
    gen.manual_seed(int(seed))
    return gen
