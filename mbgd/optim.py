r"""Optimizers written from scratch, interchangeable with ``torch.optim``.

:class:`SGD`, :class:`Adagrad`, :class:`RMSprop`, :class:`Adadelta`, :class:`Adam`
and :class:`AdamW` subclass ``torch.optim.Optimizer`` and use torch 2.13's argument
names, defaults and state keys, so one kwargs dict drives both libraries, a
``state_dict`` of one loads into the other, and the tests compare every state entry
with ``torch.optim`` step by step in float64.

Each optimizer has two paths that compute the same thing:

* the **single-tensor path** (``foreach=False``): a loop over parameters that runs
  the public functional update (:func:`sgd_update_`, :func:`adam_update_`, ...),
  minus its argument checks (the class checks its options once). It is the
  readable specification, and :mod:`mbgd.steps` runs the same functions for the
  book's 2-D pictures;
* the **multi-tensor path** (``foreach=None``, the default, or ``True``): the same
  update with ``torch._foreach_*`` ops, one call per operation for all parameters
  of one device and dtype. It may reorder floating-point operations (each place
  says how); the tests check it against the single-tensor path.

A functional update ``name_update_(param, grad, state, **options)`` changes
``param`` and the tensors of the ``state`` dict in place and adds the entries that
appear on the first step (SGD's ``momentum_buffer``); ``name_init(param)`` returns
a fresh state dict. Options are floats and bools (a tensor ``lr`` is not supported).

Differences from ``torch.optim``: no ``fused``, ``capturable``, ``differentiable``,
sparse or complex parameters; ``foreach=None`` always picks the multi-tensor path
(torch picks it only on accelerators); range checks name the valid range.

Book: the optimizer chapters (``chapters/principles``, ``chapters/adaptive``).

>>> w = torch.tensor([1.0, -2.0], requires_grad=True)
>>> opt = Adam([w], lr=0.1)
>>> (w ** 2).sum().backward()
>>> opt.step()
>>> sorted(opt.state[w]), w.detach()
(['exp_avg', 'exp_avg_sq', 'step'], tensor([ 0.9000, -1.9000]))
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

from ._checks import check_bool, check_real, check_type

__all__ = [
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adadelta",
    "Adam",
    "AdamW",
    "sgd_update_",
    "adagrad_init",
    "adagrad_update_",
    "rmsprop_init",
    "rmsprop_update_",
    "adadelta_init",
    "adadelta_update_",
    "adam_init",
    "adam_update_",
    "prepare_update",
]

State = dict[str, Tensor]

# The step counter lives on the host, as in torch (``.item()`` is then free of a
# device synchronisation).
_HOST = torch.device("cpu")


# --- option checks ------------------------------------------------------------


def _nonnegative(name: str, value: Any) -> float:
    return check_real(name, value, low=0.0)


def _fraction(name: str, value: Any) -> float:
    return check_real(name, value, low=0.0, high=1.0)


def _flag(name: str, value: Any) -> bool:
    return check_bool(name, value)


def _foreach(name: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise TypeError(f"{name} must be None, True or False; got {value!r}")


def _betas(name: str, value: Any) -> tuple[float, float]:
    rule = "a pair of real numbers (beta1, beta2)"
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{name} must be {rule}; got {value!r}")
    if len(value) != 2:
        raise ValueError(f"{name} must be {rule}; got {value!r}")
    return tuple(  # type: ignore[return-value]
        check_real(f"{name}[{i}]", b, low=0.0, high=1.0, bounds="[)")
        for i, b in enumerate(value)
    )


def _check_param(param: Any) -> None:
    check_type("param", param, Tensor, "a floating-point torch.Tensor")
    if not param.is_floating_point():
        raise TypeError(
            f"param must be a floating-point torch.Tensor; got dtype {param.dtype}"
        )


def _check_step(param: Any, grad: Any, state: Any, keys: Iterable[str],
                init: str) -> None:
    """Check the arguments of a functional update other than its options: the
    tensors, and that ``state`` holds ``keys`` (as ``init`` makes it)."""
    _check_param(param)
    check_type("grad", grad, Tensor, "a torch.Tensor shaped like param")
    if grad.shape != param.shape:
        raise ValueError(f"grad must have the shape of param, {tuple(param.shape)}; "
                         f"got shape {tuple(grad.shape)}")
    check_type("state", state, dict, f"a dict of tensors (from {init})")
    missing = [k for k in keys if k not in state]
    if missing:
        raise ValueError(f"state must hold {missing} for these options (make it "
                         f"with {init}); got keys {sorted(state)}")


# --- small shared pieces ------------------------------------------------------


def _zero_step() -> Tensor:
    # torch's rule: a float64 counter under a float64 default dtype, else float32.
    double = torch.get_default_dtype() == torch.float64
    return torch.zeros((), dtype=torch.float64 if double else torch.float32,
                       device=_HOST)


def _count_step(state: State) -> float:
    """Advance ``state["step"]`` by one and return the new count ``t``."""
    state["step"] += 1
    return state["step"].item()


def _direction(param: Tensor, grad: Tensor, weight_decay: float, maximize: bool
               ) -> Tensor:
    r"""The gradient an update follows: :math:`\pm g + \lambda x` (never in place)."""
    d = grad.neg() if maximize else grad
    return d.add(param, alpha=weight_decay) if weight_decay != 0 else d


def _directions(params: list[Tensor], grads: list[Tensor], weight_decay: float,
                maximize: bool) -> list[Tensor]:
    """Multi-tensor :func:`_direction`; returns ``grads`` itself when unchanged."""
    if maximize:
        d = torch._foreach_neg(grads)
        if weight_decay != 0:
            torch._foreach_add_(d, params, alpha=weight_decay)
        return d
    if weight_decay != 0:
        return torch._foreach_add(grads, params, alpha=weight_decay)
    return grads


def _count_steps(states: list[State]) -> list[float]:
    """Multi-tensor :func:`_count_step`: advance every counter, return the counts."""
    steps = [s["step"] for s in states]
    torch._foreach_add_(steps, torch.ones((), dtype=steps[0].dtype,
                                          device=steps[0].device), alpha=1.0)
    return [t.item() for t in steps]


def _per_step(counts: list[float], fn: Callable[[float], float]
              ) -> float | list[float]:
    """``fn(t)`` for each tensor's step count; one number when all counts agree."""
    if counts.count(counts[0]) == len(counts):
        return fn(counts[0])
    return [fn(t) for t in counts]


def _fast_scalar(value: Any, tensors: list[Tensor]) -> Any:
    """``value`` in the fastest form for a foreach op on ``tensors``.

    On the CPU a foreach op with a Python number wraps it into a tensor once per
    tensor of the list; one 0-d tensor of the list's dtype instead is 2-4x faster
    for many small tensors (``benchmarks/optim.py``) and gives the same result
    (float32 and float64 compute with the number rounded to the dtype either way).
    """
    if (isinstance(value, float) and tensors[0].device.type == "cpu"
            and tensors[0].dtype in (torch.float32, torch.float64)):
        return torch.tensor(value, dtype=tensors[0].dtype)
    return value


def _add_(tensors: list[Tensor], value: float | list[float]) -> None:
    """``tensors += value`` (one number, or one per tensor), in place."""
    value = _fast_scalar(value, tensors)
    if isinstance(value, Tensor):
        # alpha selects the fast overload (without it the CPU path is 3x slower)
        torch._foreach_add_(tensors, value, alpha=1.0)
    else:
        torch._foreach_add_(tensors, value)


def _plus(tensors: list[Tensor], value: float) -> list[Tensor]:
    """``tensors + value``, new tensors."""
    value = _fast_scalar(value, tensors)
    if isinstance(value, Tensor):
        return torch._foreach_add(tensors, value, alpha=1.0)
    return torch._foreach_add(tensors, value)


def _mul_(tensors: list[Tensor], value: float) -> None:
    """``tensors *= value``, in place."""
    torch._foreach_mul_(tensors, _fast_scalar(value, tensors))


# --- SGD ----------------------------------------------------------------------


def sgd_update_(param: Tensor, grad: Tensor, state: State, *, lr: float,
                momentum: float = 0.0, dampening: float = 0.0,
                weight_decay: float = 0.0, nesterov: bool = False,
                maximize: bool = False) -> None:
    """One :class:`SGD` step on one tensor, in place (the specification).

    Creates ``state["momentum_buffer"]`` (a copy of the direction) on the first
    step when ``momentum != 0``.

    >>> x, state = torch.tensor([1.0]), {}
    >>> for _ in range(2):
    ...     sgd_update_(x, torch.tensor([1.0]), state, lr=0.1, momentum=0.9)
    >>> x, state["momentum_buffer"]
    (tensor([0.7100]), tensor([1.9000]))

    Arguments and options are checked as in :class:`SGD` (``param`` floating,
    ``grad`` of its shape, ``state`` a dict).
    """
    _check_step(param, grad, state, (), "{} at the start")
    _sgd_single(param, grad, state, **SGD.check_options({
        "lr": lr, "momentum": momentum, "dampening": dampening,
        "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize}))


def _sgd_single(param: Tensor, grad: Tensor, state: State, *, lr: float,
                momentum: float, dampening: float, weight_decay: float,
                nesterov: bool, maximize: bool) -> None:
    # sgd_update_ without the argument checks: SGD checks its options once.
    d = _direction(param, grad, weight_decay, maximize)
    if momentum != 0:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = d.clone()
        else:
            buf.mul_(momentum).add_(d, alpha=1 - dampening)
        d = d.add(buf, alpha=momentum) if nesterov else buf
    param.add_(d, alpha=-lr)


def _sgd_multi(params: list[Tensor], grads: list[Tensor], states: list[State], *,
               lr: float, momentum: float, dampening: float, weight_decay: float,
               nesterov: bool, maximize: bool) -> None:
    d = _directions(params, grads, weight_decay, maximize)
    if momentum != 0:
        bufs = [s.get("momentum_buffer") for s in states]
        if any(b is None for b in bufs):  # first step of some tensors
            old = [i for i, b in enumerate(bufs) if b is not None]
            for i, s in enumerate(states):
                if bufs[i] is None:
                    bufs[i] = s["momentum_buffer"] = d[i].clone()
            _momentum_(
                [bufs[i] for i in old], [d[i] for i in old], momentum, dampening
            )
        else:
            _momentum_(bufs, d, momentum, dampening)
        d = torch._foreach_add(d, bufs, alpha=momentum) if nesterov else bufs
    torch._foreach_add_(params, d, alpha=-lr)


def _momentum_(bufs: list[Tensor], d: list[Tensor], momentum: float,
               dampening: float) -> None:
    if bufs:
        _mul_(bufs, momentum)
        torch._foreach_add_(bufs, d, alpha=1 - dampening)


# --- Adagrad ------------------------------------------------------------------


def adagrad_init(param: Tensor, *, initial_accumulator_value: float = 0.0) -> State:
    r"""Fresh :class:`Adagrad` state of ``param``: ``step`` and ``sum``.

    Args:
        param: the parameter, a floating-point tensor of any shape ``S``.
        initial_accumulator_value: :math:`s_0 \ge 0`, the start of every entry of
            ``sum``.

    Returns:
        ``step``, a 0-d float tensor 0 on the CPU (float32, or float64 under a
        float64 default dtype, as in torch), and ``sum`` (:math:`s`), shape
        ``S``, filled with :math:`s_0`, on the device and dtype of ``param``.

    Example:
        >>> state = adagrad_init(torch.zeros(2, 3), initial_accumulator_value=0.5)
        >>> {k: tuple(v.shape) for k, v in state.items()}, state["sum"].unique()
        ({'step': (), 'sum': (2, 3)}, tensor([0.5000]))
    """
    _check_param(param)
    _nonnegative("initial_accumulator_value", initial_accumulator_value)
    return {
        "step": _zero_step(),
        "sum": torch.full_like(param, initial_accumulator_value),
    }


def adagrad_update_(param: Tensor, grad: Tensor, state: State, *, lr: float = 1e-2,
                    lr_decay: float = 0.0, weight_decay: float = 0.0,
                    eps: float = 1e-10, maximize: bool = False) -> None:
    """One :class:`Adagrad` step on one tensor, in place (the specification).

    >>> x = torch.tensor([1.0, 1.0])
    >>> state = adagrad_init(x)
    >>> adagrad_update_(x, torch.tensor([2.0, -0.5]), state, lr=0.1)
    >>> x, state["sum"]
    (tensor([0.9000, 1.1000]), tensor([4.0000, 0.2500]))

    Arguments and options are checked as in :class:`Adagrad`; ``state`` comes
    from :func:`adagrad_init`.
    """
    _check_step(param, grad, state, ("step", "sum"), "adagrad_init")
    _adagrad_single(param, grad, state, **Adagrad.check_options({
        "lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay, "eps": eps,
        "maximize": maximize}))


def _adagrad_single(param: Tensor, grad: Tensor, state: State, *, lr: float,
                    lr_decay: float, weight_decay: float, eps: float,
                    maximize: bool) -> None:
    # adagrad_update_ without the argument checks: Adagrad checks its options once.
    t = _count_step(state)
    d = _direction(param, grad, weight_decay, maximize)
    clr = lr / (1 + (t - 1) * lr_decay)
    total = state["sum"].addcmul_(d, d)
    param.addcdiv_(d, total.sqrt().add_(eps), value=-clr)


def _adagrad_multi(params: list[Tensor], grads: list[Tensor], states: list[State],
                   *, lr: float, lr_decay: float, weight_decay: float, eps: float,
                   maximize: bool) -> None:
    counts = _count_steps(states)
    d = _directions(params, grads, weight_decay, maximize)
    sums = [s["sum"] for s in states]
    torch._foreach_addcmul_(sums, d, d)
    std = torch._foreach_sqrt(sums)
    _add_(std, eps)
    minus_clr = _per_step(counts, lambda t: -lr / (1 + (t - 1) * lr_decay))
    torch._foreach_addcdiv_(params, d, std, minus_clr)


# --- RMSprop ------------------------------------------------------------------


def rmsprop_init(param: Tensor, *, momentum: float = 0.0, centered: bool = False
                 ) -> State:
    r"""Fresh :class:`RMSprop` state: ``step``, ``square_avg`` [, ``momentum_buffer``]
    [, ``grad_avg``].

    Args:
        param: the parameter, a floating-point tensor of any shape ``S``.
        momentum: :math:`\mu \ge 0`; ``> 0`` adds ``momentum_buffer`` (:math:`b`).
        centered: ``True`` adds ``grad_avg`` (:math:`\bar g`).

    Returns:
        ``step`` (0-d float tensor 0, on the CPU) and zeros of shape ``S`` for
        ``square_avg`` (:math:`v`) and the optional buffers.

    Example:
        >>> state = rmsprop_init(torch.zeros(3), momentum=0.9, centered=True)
        >>> {k: tuple(v.shape) for k, v in state.items()}
        {'step': (), 'square_avg': (3,), 'momentum_buffer': (3,), 'grad_avg': (3,)}
        >>> sorted(rmsprop_init(torch.zeros(3)))  # plain RMSprop
        ['square_avg', 'step']
    """
    _check_param(param)
    _nonnegative("momentum", momentum)
    _flag("centered", centered)
    state = {"step": _zero_step(), "square_avg": torch.zeros_like(param)}
    if momentum > 0:
        state["momentum_buffer"] = torch.zeros_like(param)
    if centered:
        state["grad_avg"] = torch.zeros_like(param)
    return state


def rmsprop_update_(param: Tensor, grad: Tensor, state: State, *, lr: float = 1e-2,
                    alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                    momentum: float = 0.0, centered: bool = False,
                    maximize: bool = False) -> None:
    """One :class:`RMSprop` step on one tensor, in place (the specification).

    >>> x = torch.tensor([1.0])
    >>> state = rmsprop_init(x)
    >>> rmsprop_update_(x, torch.tensor([3.0]), state, lr=0.01, alpha=0.75)
    >>> x, state["square_avg"]
    (tensor([0.9800]), tensor([2.2500]))

    Arguments and options are checked as in :class:`RMSprop`; ``state`` comes
    from :func:`rmsprop_init` with the same ``momentum`` and ``centered``.
    """
    options = RMSprop.check_options({
        "lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
        "momentum": momentum, "centered": centered, "maximize": maximize})
    keys = ("step", "square_avg") + ("momentum_buffer",) * (momentum > 0) \
        + ("grad_avg",) * centered
    _check_step(param, grad, state, keys, "rmsprop_init")
    _rmsprop_single(param, grad, state, **options)


def _rmsprop_single(param: Tensor, grad: Tensor, state: State, *, lr: float,
                    alpha: float, eps: float, weight_decay: float, momentum: float,
                    centered: bool, maximize: bool) -> None:
    # rmsprop_update_ without the argument checks: RMSprop checks its options once.
    _count_step(state)
    d = _direction(param, grad, weight_decay, maximize)
    v = state["square_avg"].mul_(alpha).addcmul_(d, d, value=1 - alpha)
    if centered:
        mean = state["grad_avg"].lerp_(d, 1 - alpha)
        avg = v.addcmul(mean, mean, value=-1).sqrt_()
    else:
        avg = v.sqrt()
    avg.add_(eps)
    if momentum > 0:
        buf = state["momentum_buffer"].mul_(momentum).addcdiv_(d, avg)
        param.add_(buf, alpha=-lr)
    else:
        param.addcdiv_(d, avg, value=-lr)


def _rmsprop_multi(params: list[Tensor], grads: list[Tensor], states: list[State],
                   *, lr: float, alpha: float, eps: float, weight_decay: float,
                   momentum: float, centered: bool, maximize: bool) -> None:
    _count_steps(states)
    d = _directions(params, grads, weight_decay, maximize)
    v = [s["square_avg"] for s in states]
    _mul_(v, alpha)
    torch._foreach_addcmul_(v, d, d, value=1 - alpha)
    if centered:
        mean = [s["grad_avg"] for s in states]
        torch._foreach_lerp_(mean, d, 1 - alpha)
        avg = torch._foreach_addcmul(v, mean, mean, value=-1)
        torch._foreach_sqrt_(avg)
    else:
        avg = torch._foreach_sqrt(v)
    _add_(avg, eps)
    if momentum > 0:
        bufs = [s["momentum_buffer"] for s in states]
        _mul_(bufs, momentum)
        torch._foreach_addcdiv_(bufs, d, avg)
        torch._foreach_add_(params, bufs, alpha=-lr)
    else:
        torch._foreach_addcdiv_(params, d, avg, value=-lr)


# --- Adadelta -----------------------------------------------------------------


def adadelta_init(param: Tensor) -> State:
    r"""Fresh :class:`Adadelta` state: ``step``, ``square_avg`` and ``acc_delta``.

    Args:
        param: the parameter, a floating-point tensor of any shape ``S``.

    Returns:
        ``step`` (0-d float tensor 0, on the CPU), and zeros of shape ``S`` for
        ``square_avg`` (:math:`v`) and ``acc_delta`` (:math:`u`).

    Example:
        >>> state = adadelta_init(torch.zeros(2, 2))
        >>> {k: tuple(v.shape) for k, v in state.items()}, state["step"].item()
        ({'step': (), 'square_avg': (2, 2), 'acc_delta': (2, 2)}, 0.0)
    """
    _check_param(param)
    return {
        "step": _zero_step(),
        "square_avg": torch.zeros_like(param),
        "acc_delta": torch.zeros_like(param),
    }


def adadelta_update_(param: Tensor, grad: Tensor, state: State, *, lr: float = 1.0,
                     rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0.0,
                     maximize: bool = False) -> None:
    """One :class:`Adadelta` step on one tensor, in place (the specification).

    >>> x = torch.tensor([1.0])
    >>> state = adadelta_init(x)
    >>> adadelta_update_(x, torch.tensor([1.0]), state, rho=0.5, eps=0.25)
    >>> x, state["acc_delta"]
    (tensor([0.4226]), tensor([0.1667]))

    Arguments and options are checked as in :class:`Adadelta`; ``state`` comes
    from :func:`adadelta_init`.
    """
    _check_step(param, grad, state, ("step", "square_avg", "acc_delta"),
                "adadelta_init")
    _adadelta_single(param, grad, state, **Adadelta.check_options({
        "lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
        "maximize": maximize}))


def _adadelta_single(param: Tensor, grad: Tensor, state: State, *, lr: float,
                     rho: float, eps: float, weight_decay: float,
                     maximize: bool) -> None:
    # adadelta_update_ without the argument checks: Adadelta checks its options once.
    _count_step(state)
    d = _direction(param, grad, weight_decay, maximize)
    v = state["square_avg"].mul_(rho).addcmul_(d, d, value=1 - rho)
    acc = state["acc_delta"]
    delta = acc.add(eps).sqrt_().div_(v.add(eps).sqrt_()).mul_(d)
    acc.mul_(rho).addcmul_(delta, delta, value=1 - rho)
    param.add_(delta, alpha=-lr)


def _adadelta_multi(params: list[Tensor], grads: list[Tensor], states: list[State],
                    *, lr: float, rho: float, eps: float, weight_decay: float,
                    maximize: bool) -> None:
    _count_steps(states)
    d = _directions(params, grads, weight_decay, maximize)
    v = [s["square_avg"] for s in states]
    acc = [s["acc_delta"] for s in states]
    _mul_(v, rho)
    torch._foreach_addcmul_(v, d, d, value=1 - rho)
    # sqrt(acc + eps) / sqrt(v + eps) as one square root of the ratio: a pass less.
    delta = _plus(acc, eps)
    torch._foreach_div_(delta, _plus(v, eps))
    torch._foreach_sqrt_(delta)
    torch._foreach_mul_(delta, d)
    _mul_(acc, rho)
    torch._foreach_addcmul_(acc, delta, delta, value=1 - rho)
    torch._foreach_add_(params, delta, alpha=-lr)


# --- Adam and AdamW -----------------------------------------------------------


def adam_init(param: Tensor, *, amsgrad: bool = False) -> State:
    r"""Fresh :class:`Adam` state: ``step``, ``exp_avg``, ``exp_avg_sq``
    [, ``max_exp_avg_sq``].

    Args:
        param: the parameter, a floating-point tensor of any shape ``S``.
        amsgrad: ``True`` adds ``max_exp_avg_sq`` (:math:`\tilde v`).

    Returns:
        ``step`` (0-d float tensor 0, on the CPU), and zeros of shape ``S`` for
        ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`) and the optional one.

    Example:
        >>> state = adam_init(torch.zeros(4), amsgrad=True)
        >>> {k: tuple(v.shape) for k, v in state.items()}
        {'step': (), 'exp_avg': (4,), 'exp_avg_sq': (4,), 'max_exp_avg_sq': (4,)}
    """
    _check_param(param)
    _flag("amsgrad", amsgrad)
    state = {
        "step": _zero_step(),
        "exp_avg": torch.zeros_like(param),
        "exp_avg_sq": torch.zeros_like(param),
    }
    if amsgrad:
        state["max_exp_avg_sq"] = torch.zeros_like(param)
    return state


def adam_update_(param: Tensor, grad: Tensor, state: State, *, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False,
                 maximize: bool = False, decoupled_weight_decay: bool = False
                 ) -> None:
    """One :class:`Adam` (or AdamW) step on one tensor, in place (the specification).

    >>> x = torch.tensor([1.0, 1.0])
    >>> state = adam_init(x)
    >>> adam_update_(x, torch.tensor([5.0, -1e-3]), state, lr=0.1)
    >>> x
    tensor([0.9000, 1.1000])

    Arguments and options are checked as in :class:`Adam`; ``state`` comes from
    :func:`adam_init` with the same ``amsgrad``.
    """
    options = Adam.check_options({
        "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
        "amsgrad": amsgrad, "maximize": maximize,
        "decoupled_weight_decay": decoupled_weight_decay})
    keys = ("step", "exp_avg", "exp_avg_sq") + ("max_exp_avg_sq",) * amsgrad
    _check_step(param, grad, state, keys, "adam_init")
    _adam_single(param, grad, state, **options)


def _adam_single(param: Tensor, grad: Tensor, state: State, *, lr: float,
                 betas: tuple[float, float], eps: float, weight_decay: float,
                 amsgrad: bool, maximize: bool, decoupled_weight_decay: bool
                 ) -> None:
    # adam_update_ without the argument checks: Adam checks its options once.
    beta1, beta2 = betas
    t = _count_step(state)
    if decoupled_weight_decay:
        if weight_decay != 0:
            param.mul_(1 - lr * weight_decay)
        d = _direction(param, grad, 0.0, maximize)
    else:
        d = _direction(param, grad, weight_decay, maximize)
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m.lerp_(d, 1 - beta1)
    v.mul_(beta2).addcmul_(d, d, value=1 - beta2)
    if amsgrad:  # the running maximum of v, before bias correction
        v = torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
    bias1, bias2 = 1 - beta1**t, 1 - beta2**t
    denom = (v.sqrt() / math.sqrt(bias2)).add_(eps)
    param.addcdiv_(m, denom, value=-lr / bias1)


def _adam_multi(params: list[Tensor], grads: list[Tensor], states: list[State], *,
                lr: float, betas: tuple[float, float], eps: float,
                weight_decay: float, amsgrad: bool, maximize: bool,
                decoupled_weight_decay: bool) -> None:
    beta1, beta2 = betas
    counts = _count_steps(states)
    if decoupled_weight_decay:
        if weight_decay != 0:
            _mul_(params, 1 - lr * weight_decay)
        d = _directions(params, grads, 0.0, maximize)
    else:
        d = _directions(params, grads, weight_decay, maximize)
    m = [s["exp_avg"] for s in states]
    v = [s["exp_avg_sq"] for s in states]
    torch._foreach_lerp_(m, d, 1 - beta1)
    _mul_(v, beta2)
    torch._foreach_addcmul_(v, d, d, value=1 - beta2)
    if amsgrad:
        vmax = [s["max_exp_avg_sq"] for s in states]
        torch._foreach_maximum_(vmax, v)
        v = vmax
    # With b_i = 1 - beta_i^t and r = sqrt(b_2):
    #   (m / b_1) / (sqrt(v) / r + eps) = (r / b_1) * m / (sqrt(v) + eps r),
    # which saves a pass over the parameters.
    denom = torch._foreach_sqrt(v)
    _add_(denom, _per_step(counts, lambda t: eps * math.sqrt(1 - beta2**t)))
    scale = _per_step(counts, lambda t: -lr * math.sqrt(1 - beta2**t) / (1 - beta1**t))
    torch._foreach_addcdiv_(params, m, denom, scale)


# --- the optimizers -----------------------------------------------------------


class _FromScratch(Optimizer):
    """Shared machinery: option checks, lazy state, and the two update paths.

    A subclass sets ``_rules`` (option name -> check), ``_hyper`` (the options the
    update functions take), ``_single`` and ``_multi`` (the two paths) and
    ``_init_state``.
    """

    _rules: dict[str, Callable[[str, Any], Any]] = {}
    _hyper: tuple[str, ...] = ()
    _single: Callable[..., None]
    _multi: Callable[..., None]
    _eager_state = False  # True: make the state when a parameter is added (Adagrad)

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]):
        super().__init__(params, self.check_options(defaults))

    @classmethod
    def check_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        """Check hyperparameters and return them normalised (floats, tuples).

        Only the names present are checked; unknown names pass through. Raises
        ``TypeError``/``ValueError`` naming the option, its valid range and value.
        """
        return {
            k: cls._rules[k](k, v) if k in cls._rules else v
            for k, v in options.items()
        }

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a parameter group after checking its options and dtypes."""
        if isinstance(param_group, dict):
            given = {k: v for k, v in param_group.items() if k in self.defaults}
            checked = self.check_options({**self.defaults, **given})
            param_group.update({k: checked[k] for k in given})
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            if not p.is_floating_point():
                self.param_groups.pop()
                raise TypeError(
                    f"params must be floating-point tensors; got dtype {p.dtype}"
                )
        if self._eager_state:
            for p in group["params"]:
                self.state[p].update(self._init_state(p, group))

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:  # e.g. a state_dict saved by older torch
            for name, value in self.defaults.items():
                group.setdefault(name, value)

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> State:
        raise NotImplementedError

    def _stateful(self, group: dict[str, Any]) -> bool:
        return True

    def _gather(self, group: dict[str, Any]
                ) -> dict[Any, tuple[list[Tensor], list[Tensor], list[State]]]:
        """Parameters with a gradient, their gradients and states, by device/dtype."""
        batches: dict[Any, tuple[list[Tensor], list[Tensor], list[State]]] = {}
        stateful = self._stateful(group)
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            if g.is_sparse:
                raise RuntimeError(
                    f"{type(self).__name__} does not support sparse gradients"
                )
            if stateful:
                s = self.state[p]
                if not s:
                    s.update(self._init_state(p, group))
            else:
                s = {}
            key = (p.device, p.dtype)
            batch = batches.get(key)
            if batch is None:
                batch = batches[key] = ([], [], [])
            batch[0].append(p)
            batch[1].append(g)
            batch[2].append(s)
        return batches

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one optimisation step; ``closure`` recomputes and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            hyper = {k: group[k] for k in self._hyper}
            batches = self._gather(group).values()
            if group["foreach"] is False:
                for params, grads, states in batches:
                    for p, g, s in zip(params, grads, states):
                        self._single(p, g, s, **hyper)
            else:
                for params, grads, states in batches:
                    self._multi(params, grads, states, **hyper)
        return loss


class SGD(_FromScratch):
    r"""Stochastic gradient descent, with optional (Nesterov) momentum.

    With :math:`g_k = \pm\nabla f(x_k) + \lambda x_k` (``-`` when ``maximize``,
    :math:`\lambda` = ``weight_decay``), :math:`\eta` = ``lr``, :math:`\mu` =
    ``momentum`` and :math:`\tau` = ``dampening``:

    .. math::
        b_1 = g_0, \qquad b_{k+1} = \mu b_k + (1 - \tau)\, g_k, \qquad
        x_{k+1} = x_k - \eta\, b_{k+1}

    (:math:`b` is ``state["momentum_buffer"]``; the first buffer is a copy of the
    direction, so dampening acts from the second step on). With ``nesterov=True``
    the step is :math:`x_{k+1} = x_k - \eta\,(g_k + \mu b_{k+1})`; with
    ``momentum=0`` it is plain gradient descent :math:`x_{k+1} = x_k - \eta g_k`.

    **The book's velocity form.** The book writes heavy ball as
    :math:`v_{k+1} = \mu v_k - \eta g_k,\ x_{k+1} = x_k + v_{k+1}` with
    :math:`v_0 = 0`. For a constant ``lr`` and ``dampening=0`` both give the same
    iterates, with

    .. math:: v_k = -\eta\, b_k \quad (\text{velocity} = -\texttt{lr} \times
        \texttt{momentum\_buffer}).

    If ``lr`` changes between steps they differ: torch's form applies the new
    ``lr`` to the whole buffer, the velocity form only to the new gradient.
    (:func:`mbgd.steps.heavy_ball` is the velocity form; tests check the mapping.)

    Args:
        params: tensors or parameter groups, as for ``torch.optim``.
        lr: step size :math:`\eta \ge 0`, default ``1e-3``.
        momentum: :math:`\mu \ge 0`, default ``0``.
        dampening: :math:`\tau \in [0, 1]`, default ``0``.
        weight_decay: L2 penalty :math:`\lambda \ge 0`, default ``0``.
        nesterov: Nesterov momentum; needs ``momentum > 0`` and ``dampening = 0``.
        maximize: ascend instead of descend.
        foreach: ``None``/``True`` multi-tensor path, ``False`` single-tensor loop.

    State (per parameter): ``momentum_buffer``, from the first step with a gradient,
    only when ``momentum != 0``.

    >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (w ** 2).sum().backward()
    ...     opt.step()
    >>> w.detach(), opt.state[w]["momentum_buffer"]
    (tensor([ 0.4600, -0.9200]), tensor([ 3.4000, -6.8000]))
    """

    _rules = {
        "lr": _nonnegative,
        "momentum": _nonnegative,
        "dampening": _fraction,
        "weight_decay": _nonnegative,
        "nesterov": _flag,
        "maximize": _flag,
        "foreach": _foreach,
    }
    _hyper = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")
    _single = staticmethod(_sgd_single)
    _multi = staticmethod(_sgd_multi)

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None):
        super().__init__(params, {
            "lr": lr, "momentum": momentum, "dampening": dampening,
            "weight_decay": weight_decay, "nesterov": nesterov,
            "maximize": maximize, "foreach": foreach,
        })

    @classmethod
    def check_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        """Check hyperparameters (see :meth:`_FromScratch.check_options`), and that
        Nesterov momentum has ``momentum > 0`` and ``dampening == 0``."""
        o = super().check_options(options)
        if o.get("nesterov"):
            if o.get("momentum", 0.0) <= 0:
                raise ValueError(
                    "momentum must be a real number > 0.0 when nesterov=True; "
                    f"got {o.get('momentum', 0.0)!r}"
                )
            if o.get("dampening", 0.0) != 0:
                raise ValueError(
                    f"dampening must be 0.0 when nesterov=True; got {o['dampening']!r}"
                )
        return o

    def _init_state(self, p, group):
        return {}

    def _stateful(self, group):
        return group["momentum"] != 0


class Adagrad(_FromScratch):
    r"""Adagrad: per-coordinate steps scaled by the root of the summed squares.

    With :math:`g_t` as in :class:`SGD` and the step count :math:`t = 1, 2, \dots`:

    .. math::
        \eta_t = \frac{\eta}{1 + (t - 1)\,\delta}, \qquad
        s_t = s_{t-1} + g_t^2, \qquad
        x_t = x_{t-1} - \eta_t\, \frac{g_t}{\sqrt{s_t} + \epsilon}

    with :math:`s_0` = ``initial_accumulator_value`` and :math:`\delta` =
    ``lr_decay``. Note :math:`\epsilon` is added *outside* the root.

    Args:
        params: tensors or parameter groups.
        lr: :math:`\eta \ge 0`, default ``1e-2``.
        lr_decay: :math:`\delta \ge 0`, default ``0``.
        weight_decay: :math:`\lambda \ge 0`, default ``0``.
        initial_accumulator_value: :math:`s_0 \ge 0`, default ``0``.
        eps: :math:`\epsilon \ge 0`, default ``1e-10``.
        foreach: ``None``/``True`` multi-tensor path, ``False`` single-tensor loop.
        maximize: ascend instead of descend.

    State: ``step`` (a float tensor) and ``sum`` (:math:`s_t`), made for every
    parameter when it is added (as torch does).

    >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = Adagrad([w], lr=0.5)
    >>> (w ** 2).sum().backward()
    >>> opt.step()
    >>> w.detach(), opt.state[w]["sum"]
    (tensor([ 0.5000, -1.5000]), tensor([ 4., 16.]))
    """

    _rules = {
        "lr": _nonnegative,
        "lr_decay": _nonnegative,
        "eps": _nonnegative,
        "weight_decay": _nonnegative,
        "initial_accumulator_value": _nonnegative,
        "foreach": _foreach,
        "maximize": _flag,
    }
    _hyper = ("lr", "lr_decay", "weight_decay", "eps", "maximize")
    _single = staticmethod(_adagrad_single)
    _multi = staticmethod(_adagrad_multi)
    _eager_state = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False):
        super().__init__(params, {
            "lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach, "maximize": maximize,
        })

    def _init_state(self, p, group):
        return adagrad_init(
            p, initial_accumulator_value=group["initial_accumulator_value"]
        )


class RMSprop(_FromScratch):
    r"""RMSprop: steps scaled by a running root mean square of the gradient.

    With :math:`g_t` as in :class:`SGD`, :math:`\alpha` = ``alpha``:

    .. math::
        v_t = \alpha v_{t-1} + (1 - \alpha)\, g_t^2, \qquad
        \bar g_t = \alpha \bar g_{t-1} + (1 - \alpha)\, g_t \ \ (\text{centered}),

    .. math::
        a_t = \sqrt{v_t - \bar g_t^2} + \epsilon \ \ (\text{centered}) \quad
        \text{or} \quad a_t = \sqrt{v_t} + \epsilon,

    and then :math:`x_t = x_{t-1} - \eta\, g_t / a_t`, or with momentum
    :math:`b_t = \mu b_{t-1} + g_t / a_t,\ x_t = x_{t-1} - \eta b_t`. All averages
    start at zero and are *not* bias-corrected (unlike :class:`Adam`).

    Args:
        params: tensors or parameter groups.
        lr: :math:`\eta \ge 0`, default ``1e-2``.
        alpha: :math:`\alpha \in [0, 1]`, default ``0.99``.
        eps: :math:`\epsilon \ge 0`, default ``1e-8``.
        weight_decay: :math:`\lambda \ge 0`, default ``0``.
        momentum: :math:`\mu \ge 0`, default ``0``.
        centered: subtract the squared mean gradient :math:`\bar g_t^2`.
        foreach: ``None``/``True`` multi-tensor path, ``False`` single-tensor loop
            (keyword-only: torch's positional order has ``capturable`` before it).
        maximize: ascend instead of descend.

    State: ``step``, ``square_avg`` (:math:`v`), ``momentum_buffer`` (:math:`b`,
    when ``momentum > 0``), ``grad_avg`` (:math:`\bar g`, when ``centered``).

    >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = RMSprop([w], lr=0.01, alpha=0.75)
    >>> (w ** 2).sum().backward()
    >>> opt.step()
    >>> w.detach()
    tensor([ 0.9800, -1.9800])
    """

    _rules = {
        "lr": _nonnegative,
        "momentum": _nonnegative,
        "alpha": _fraction,
        "eps": _nonnegative,
        "centered": _flag,
        "weight_decay": _nonnegative,
        "foreach": _foreach,
        "maximize": _flag,
    }
    _hyper = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize")
    _single = staticmethod(_rmsprop_single)
    _multi = staticmethod(_rmsprop_multi)

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False):
        super().__init__(params, {
            "lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
            "centered": centered, "weight_decay": weight_decay,
            "foreach": foreach, "maximize": maximize,
        })

    def _init_state(self, p, group):
        return rmsprop_init(p, momentum=group["momentum"], centered=group["centered"])


class Adadelta(_FromScratch):
    r"""Adadelta: RMSprop whose step size is a running RMS of past updates.

    With :math:`g_t` as in :class:`SGD` and :math:`\rho` = ``rho``:

    .. math::
        v_t = \rho v_{t-1} + (1 - \rho)\, g_t^2, \qquad
        \Delta_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t,

    .. math::
        u_t = \rho u_{t-1} + (1 - \rho)\, \Delta_t^2, \qquad
        x_t = x_{t-1} - \eta\, \Delta_t.

    Zeiler's paper has no :math:`\eta` (it is ``lr=1.0``); :math:`\epsilon` sits
    *inside* the roots, so it sets the size of the first steps.

    Args:
        params: tensors or parameter groups.
        lr: :math:`\eta \ge 0`, default ``1.0``.
        rho: :math:`\rho \in [0, 1]`, default ``0.9``.
        eps: :math:`\epsilon \ge 0`, default ``1e-6``.
        weight_decay: :math:`\lambda \ge 0`, default ``0``.
        foreach: ``None``/``True`` multi-tensor path, ``False`` single-tensor loop.
        maximize: ascend instead of descend.

    State: ``step``, ``square_avg`` (:math:`v`) and ``acc_delta`` (:math:`u`).

    >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = Adadelta([w], rho=0.5, eps=0.25)
    >>> (w ** 2).sum().backward()
    >>> opt.step()
    >>> w.detach()
    tensor([ 0.3333, -1.3037])
    """

    _rules = {
        "lr": _nonnegative,
        "rho": _fraction,
        "eps": _nonnegative,
        "weight_decay": _nonnegative,
        "maximize": _flag,
        "foreach": _foreach,
    }
    _hyper = ("lr", "rho", "eps", "weight_decay", "maximize")
    _single = staticmethod(_adadelta_single)
    _multi = staticmethod(_adadelta_multi)

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0.0,
                 foreach: bool | None = None, *, maximize: bool = False):
        super().__init__(params, {
            "lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
            "maximize": maximize, "foreach": foreach,
        })

    def _init_state(self, p, group):
        return adadelta_init(p)


class Adam(_FromScratch):
    r"""Adam: bias-corrected running averages of the gradient and its square.

    With :math:`g_t` as in :class:`SGD` (weight decay added to the gradient unless
    ``decoupled_weight_decay``) and ``betas`` :math:`= (\beta_1, \beta_2)`:

    .. math::
        m_t = \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2,

    .. math::
        \hat m_t = \frac{m_t}{1 - \beta_1^t}, \qquad
        \hat v_t = \frac{\tilde v_t}{1 - \beta_2^t}, \qquad
        x_t = x_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon},

    where :math:`\tilde v_t = v_t`, or with ``amsgrad``
    :math:`\tilde v_t = \max(\tilde v_{t-1}, v_t)`: the maximum of the
    *uncorrected* averages, then bias-corrected (torch's AMSGrad; Reddi et al. use
    no bias correction). With ``decoupled_weight_decay`` (AdamW) the decay is
    applied to the parameter instead: :math:`x \leftarrow (1 - \eta\lambda)\, x`
    before the step, and :math:`g_t` has no :math:`\lambda` term.

    Args:
        params: tensors or parameter groups.
        lr: :math:`\eta \ge 0`, default ``1e-3``.
        betas: :math:`\beta_1, \beta_2 \in [0, 1)`, default ``(0.9, 0.999)``.
        eps: :math:`\epsilon \ge 0`, default ``1e-8`` (outside the root).
        weight_decay: :math:`\lambda \ge 0`, default ``0``.
        amsgrad: use the running maximum of :math:`v_t`.
        foreach: ``None``/``True`` multi-tensor path, ``False`` single-tensor loop.
        maximize: ascend instead of descend.
        decoupled_weight_decay: AdamW's decay (see :class:`AdamW`).

    State: ``step``, ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`) and,
    with ``amsgrad``, ``max_exp_avg_sq`` (:math:`\tilde v`).

    >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = Adam([w], lr=0.1, amsgrad=True)
    >>> (w ** 2).sum().backward()
    >>> opt.step()
    >>> w.detach(), opt.state[w]["exp_avg"]
    (tensor([ 0.9000, -1.9000]), tensor([ 0.2000, -0.4000]))
    """

    _rules = {
        "lr": _nonnegative,
        "betas": _betas,
        "eps": _nonnegative,
        "weight_decay": _nonnegative,
        "amsgrad": _flag,
        "maximize": _flag,
        "foreach": _foreach,
        "decoupled_weight_decay": _flag,
    }
    _hyper = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize",
              "decoupled_weight_decay")
    _single = staticmethod(_adam_single)
    _multi = staticmethod(_adam_multi)

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 decoupled_weight_decay: bool = False):
        super().__init__(params, {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
            "decoupled_weight_decay": decoupled_weight_decay,
        })

    def _init_state(self, p, group):
        return adam_init(p, amsgrad=group["amsgrad"])


class AdamW(Adam):
    r"""AdamW: :class:`Adam` with decoupled weight decay (default ``1e-2``).

    Each step first shrinks the parameter, :math:`x \leftarrow (1 - \eta\lambda)
    x`, then takes Adam's step with the plain gradient. Loshchilov and Hutter write
    the decay as :math:`\eta_t \lambda x` with a schedule multiplier
    :math:`\eta_t`; torch (and this class) use ``lr`` times ``weight_decay``.

    Same arguments and state as :class:`Adam`, without
    ``decoupled_weight_decay`` (always ``True``).

    >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w ** 2).sum().backward()
    >>> opt.step()
    >>> w.detach()
    tensor([ 0.8500, -1.8000])
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad,
                         foreach=foreach, maximize=maximize,
                         decoupled_weight_decay=True)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True


def prepare_update(update: Callable[..., None],
                   options: dict[str, Any]) -> Callable[..., None]:
    """``update`` with its options checked and bound once, for loops that call it
    many times on a state from the matching ``*_init``.

    ``update`` is one of the ``*_update_`` functions; ``options`` are checked as
    the optimizer class checks them and completed with the function's defaults.
    The result ``fn(param, grad, state)`` runs the same single-tensor step as
    ``update`` without checking again; a keyword given at call time (a changing
    ``lr``, say) replaces the bound one unchecked.

    >>> fn = prepare_update(sgd_update_, {"lr": 0.1, "momentum": 0.9})
    >>> x, state = torch.tensor([1.0]), {}
    >>> fn(x, torch.tensor([2.0]), state)
    >>> x, state["momentum_buffer"]
    (tensor([0.8000]), tensor([2.]))
    """
    cls = _PREPARABLE.get(update)
    if cls is None:
        names = ", ".join(f.__name__ for f in _PREPARABLE)
        raise ValueError(f"update must be one of {names}; got {update!r}")
    check_type("options", options, dict, "a dict of hyperparameters")
    unknown = sorted(set(options) - set(cls._hyper))
    if unknown:
        raise TypeError(f"options must be among {list(cls._hyper)!r} for "
                        f"{update.__name__}; got {unknown!r}")
    defaults = {k: p.default for k, p in inspect.signature(update).parameters.items()
                if p.kind is p.KEYWORD_ONLY and p.default is not p.empty}
    full = cls.check_options({**defaults, **options})
    missing = [k for k in cls._hyper if k not in full]
    if missing:
        raise TypeError(f"options must give {missing[0]} for {update.__name__}; "
                        "got none")
    return functools.partial(cls._single, **full)


_PREPARABLE = {sgd_update_: SGD, adagrad_update_: Adagrad, rmsprop_update_: RMSprop,
               adadelta_update_: Adadelta, adam_update_: Adam}

