"""Choosing the default device.

One function decides where tensors go by default: CUDA when it is available, else
the CPU. The environment variable ``MBGD_DEVICE`` overrides the choice (for
example ``MBGD_DEVICE=cpu`` to make a GPU machine reproduce stored CPU outputs).
Every function of ``mbgd`` that makes tensors also takes ``device=``.
"""

from __future__ import annotations

import os

import torch

__all__ = ["default_device", "resolve_device"]

ENV_VAR = "MBGD_DEVICE"


def default_device() -> torch.device:
    """Return ``$MBGD_DEVICE`` if set, else ``cuda`` when available, else ``cpu``.

    Raises ``ValueError`` naming the variable when it holds an unknown device or a
    device that this machine lacks.

    >>> default_device().type in {"cpu", "cuda", "mps"}
    True
    """
    wanted = os.environ.get(ENV_VAR, "").strip()
    if wanted:
        try:
            device = torch.device(wanted)
        except RuntimeError as exc:
            raise ValueError(
                f"{ENV_VAR} must name a torch device such as 'cpu' or 'cuda:0'; "
                f"got {wanted!r}"
            ) from exc
        missing = _missing(device)
        if missing:
            raise ValueError(
                f"{ENV_VAR} must name a device this machine has; got {wanted!r} "
                f"but {missing}"
            )
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(device: str | torch.device | None) -> torch.device:
    """Turn a ``device=`` argument into a ``torch.device`` (``None``: the default).

    Raises ``TypeError`` for a wrong type and ``ValueError`` for an unknown device
    or one that this machine lacks (``"cuda"`` without CUDA, ``"cuda:3"`` with
    fewer GPUs), before any tensor is made.

    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device is None:
        return default_device()
    if not isinstance(device, (str, torch.device)):
        raise TypeError(
            f"device must be a str, a torch.device or None; got {device!r}"
        )
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(
            f"device must name a torch device such as 'cpu' or 'cuda'; got {device!r}"
        ) from exc
    missing = _missing(resolved)
    if missing:
        raise ValueError(
            f"device must name a device this machine has; got {device!r} "
            f"but {missing}"
        )
    return resolved


def _missing(device: torch.device) -> str:
    """Why this machine lacks ``device`` (CUDA or MPS), or ``""`` if it has it."""
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return "CUDA is not available"
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            return f"this machine has {count} CUDA device(s)"
    if device.type == "mps" and not torch.backends.mps.is_available():
        return "MPS is not available"
    return ""
