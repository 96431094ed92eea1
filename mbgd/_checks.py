"""Argument validation shared by every module.

Every message has the form ``"{arg} must be {rule}; got {value!r}"``: it names the
argument, states the rule and shows the value. ``TypeError`` is for a wrong type,
``ValueError`` for a wrong value. Checks run on entry, before any work starts.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import torch

__all__ = [
    "check_type",
    "check_int",
    "check_real",
    "check_choice",
    "check_shape",
    "check_bool",
    "check_reals",
]


def check_type(name: str, value: Any, types: type | tuple[type, ...],
               rule: str) -> Any:
    """Raise ``TypeError`` unless ``isinstance(value, types)``.

    >>> check_type("steps", 3, int, "an int")
    3
    """
    if not isinstance(value, types):
        raise TypeError(f"{name} must be {rule}; got {value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Raise ``TypeError`` unless ``value`` is a bool."""
    return check_type(name, value, bool, "a bool (True or False)")


def check_int(name: str, value: Any, *, low: int | None = None,
              high: int | None = None) -> int:
    """Check an integer in the closed range ``[low, high]`` (either side optional).

    >>> check_int("steps", 10, low=1)
    10
    >>> check_int("steps", 0, low=1)
    Traceback (most recent call last):
    ...
    ValueError: steps must be an int >= 1; got 0
    """
    rule = _range_rule("an int", low, high, "[]")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {rule}; got {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be {rule}; got {value!r}")
    return value


def check_real(name: str, value: Any, *, low: float | None = None,
               high: float | None = None, bounds: str = "[]") -> float:
    """Check a finite real number in a range.

    ``bounds`` gives the kind of each end: ``"[]"`` closed, ``"()"`` open,
    ``"[)"`` or ``"(]"`` mixed.

    >>> check_real("lr", 0.1, low=0.0, bounds="(]")
    0.1
    >>> check_real("lr", -1.0, low=0.0, bounds="(]")
    Traceback (most recent call last):
    ...
    ValueError: lr must be a real number > 0.0; got -1.0
    """
    rule = _range_rule("a real number", low, high, bounds)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {rule}; got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be {rule}; got {value!r}")
    if low is not None:
        if value < low or (bounds[0] == "(" and value == low):
            raise ValueError(f"{name} must be {rule}; got {value!r}")
    if high is not None:
        if value > high or (bounds[1] == ")" and value == high):
            raise ValueError(f"{name} must be {rule}; got {value!r}")
    return value


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Check that ``value`` is one of ``choices``.

    >>> check_choice("mode", "raise", ("raise", "stop"))
    'raise'
    """
    choices = tuple(choices)
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}")
    return value


def check_shape(name: str, tensor: Any, shape: Sequence[int | None]) -> torch.Tensor:
    """Check a tensor's shape; ``None`` in ``shape`` matches any size.

    >>> check_shape("x0", torch.zeros(2), (2,)).shape
    torch.Size([2])
    >>> check_shape("x0", torch.zeros(3), (2,))
    Traceback (most recent call last):
    ...
    ValueError: x0 must have shape (2,); got shape (3,)
    """
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(tensor).__name__}")
    want = "(" + ", ".join("*" if s is None else str(s) for s in shape)
    want += ",)" if len(shape) == 1 else ")"
    got = tuple(tensor.shape)
    ok = len(got) == len(shape) and all(
        s is None or s == g for s, g in zip(shape, got))
    if not ok:
        raise ValueError(f"{name} must have shape {want}; got shape {got}")
    return tensor


def _range_rule(kind: str, low: float | None, high: float | None, bounds: str) -> str:
    lo = "" if low is None else (">" if bounds[0] == "(" else ">=")
    hi = "" if high is None else ("<" if bounds[1] == ")" else "<=")
    if low is not None and high is not None:
        left = "<" if bounds[0] == "(" else "<="
        return f"{kind} with {low} {left} value {hi} {high}"
    if low is not None:
        return f"{kind} {lo} {low}"
    if high is not None:
        return f"{kind} {hi} {high}"
    return kind


def check_reals(name: str, value: Any, rule: str, *,
                dtype: torch.dtype | None = torch.float64,
                device: str | torch.device | None = None,
                finite: bool = False) -> torch.Tensor:
    """``value`` (a number, a nested sequence or a tensor) as a tensor of real numbers.

    ``TypeError`` for what is not real numbers (a string, ``None``, a bare bool, a
    ragged list, a bool or complex tensor); with ``finite``, ``ValueError`` for a
    nan or an infinity. ``dtype=None`` keeps the value's own dtype (then a list of
    bools is refused too); ``device=None`` keeps a tensor's device.

    >>> check_reals("lr", [0.1, 0.2], "real numbers > 0")
    tensor([0.1000, 0.2000], dtype=torch.float64)
    >>> check_reals("lr", "fast", "real numbers > 0")
    Traceback (most recent call last):
    ...
    TypeError: lr must be real numbers > 0; got 'fast'
    >>> check_reals("x0", [1.0, float("nan")], "2 finite numbers", finite=True)
    Traceback (most recent call last):
    ...
    ValueError: x0 must be 2 finite numbers; got [1.0, nan]
    """
    if not (value is None or isinstance(value, (bool, str, bytes)) or (
            isinstance(value, torch.Tensor) and (value.dtype == torch.bool
                                                 or value.is_complex()))):
        try:
            out = torch.as_tensor(value, dtype=dtype, device=device)
        except (TypeError, ValueError, RuntimeError):
            pass
        else:
            if not (out.dtype == torch.bool or out.is_complex()):
                if finite and not bool(torch.isfinite(out).all()):
                    raise ValueError(f"{name} must be {rule}; got {value!r}")
                return out
    raise TypeError(f"{name} must be {rule}; got {value!r}")
