r"""The training loop every chapter uses.

:func:`train` runs mini-batch gradient descent with any ``torch.optim`` optimizer
over in-memory tensors, with batches from :mod:`mbgd.data`, and returns a
:class:`History` of per-step and per-epoch losses. One step is

.. math:: \theta \leftarrow \operatorname{opt}\Big(\theta,\ \operatorname{clip}
          \big(\textstyle\sum_{j=1}^{a} \frac{n_j}{n}
          \nabla_\theta \bar\ell_j(\theta)\big)\Big),

where :math:`\bar\ell_j` is the mean loss of micro-batch ``j`` (``n_j``
examples), ``a`` is ``accumulate`` and :math:`n = \sum_j n_j`: the gradient of
the mean loss over all ``n`` examples of the step (section A13).

The loop keeps the per-step overhead to what a hand-written loop does: the
losses stay on the device (no ``.item()`` per step), and they are checked for
NaN or inf once per epoch, or every ``check_every`` steps (section A9).

>>> X = torch.linspace(-1, 1, 32).unsqueeze(1)
>>> y = 3 * X
>>> model = torch.nn.Linear(1, 1)
>>> hist = train(model, torch.nn.MSELoss(),
...              (X, y), lambda p: torch.optim.SGD(p, lr=0.5), epochs=20,
...              batch_size=8, seed=0, progress=False)
>>> hist.loss.shape, hist.epoch_loss.shape, round(model.weight.item(), 3)
(torch.Size([80]), torch.Size([20]), 3.0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

import torch
from torch import Tensor, nn

from ._checks import check_bool, check_int, check_real, check_type
from .data import TensorBatches
from .device import resolve_device
from .progress import progress_bar
from .seeding import SeedLike
from .trajectory import DivergenceError

__all__ = ["History", "train"]

OptimizerLike = torch.optim.Optimizer | Callable[[Iterable[nn.Parameter]],
                                                 torch.optim.Optimizer]


@dataclass(frozen=True)
class History:
    """What :func:`train` records (all tensors on the CPU).

    Returned by :func:`train`; you receive one, you do not build one.

    Attributes:
        loss: the loss of every optimizer step, the mean over the step's examples
            (all micro-batches), shape ``(epochs * steps_per_epoch,)``; step ``t``
            is ``loss[t]``, counted from 0.
        epoch_loss: the mean loss over each epoch's examples, as they were seen
            during the epoch (weighted by examples per step), shape ``(epochs,)``.
        grad_norm: the gradient's Euclidean norm at every step, *before* clipping,
            shape like ``loss``; ``None`` unless ``record_grad_norm=True``.
        steps_per_epoch: optimizer steps in one epoch, an int (``ceil(len(batches)
            / accumulate)``, with ``len(batches)`` micro-batches per epoch).
    """

    loss: Tensor
    epoch_loss: Tensor
    grad_norm: Tensor | None
    steps_per_epoch: int

    @property
    def epochs(self) -> int:
        """Number of epochs run."""
        return self.epoch_loss.numel()


def train(model: nn.Module, loss_fn: Callable[..., Tensor],
          data: Tensor | Sequence[Tensor] | TensorBatches, optimizer: OptimizerLike,
          *, epochs: int, batch_size: int | None = None, seed: SeedLike = None,
          device: str | torch.device | None = None, shuffle: bool = True,
          drop_last: bool = False, accumulate: int = 1,
          clip_grad_norm: float | None = None, clip_grad_value: float | None = None,
          record_grad_norm: bool = False, check_every: int | None = None,
          progress: bool | None = None) -> History:
    r"""Train ``model`` by mini-batch gradient descent; return a :class:`History`.

    The last tensor of ``data`` is the target and the others are the inputs:
    ``loss = loss_fn(model(*inputs), target)``; with a single tensor the target is
    the input itself (an autoencoder). ``loss_fn`` must return the *mean* loss of
    its batch (the default of ``torch.nn`` losses).

    Gradient accumulation: each step adds the gradients of ``accumulate``
    consecutive micro-batches of ``batch_size`` examples, micro-batch ``j``
    scaled by :math:`n_j / n` (its share of the step's ``n`` examples). When all
    ``n_j`` are equal this is the usual ``loss / accumulate``, and the step equals
    one step on a batch of ``accumulate * batch_size`` examples. A short last
    micro-batch (``N`` not a multiple of ``batch_size``), or a last step with fewer
    micro-batches, gets its true share, so that step is still exactly one step on
    the mean loss of its examples (fewer of them). Steps never span epochs. The
    equivalence fails for layers that couple the examples of a batch (BatchNorm).

    Divergence: the step losses stay on the device, and at the end of every
    epoch, and also every ``check_every`` steps within an epoch when it is set,
    one synchronising check looks for NaN or inf among the losses since the last
    check. If there is one, training stops with
    :class:`mbgd.trajectory.DivergenceError` naming the *first* such step
    exactly, its loss and the learning rate(s); the parameters are then those
    after the last step run, which may be past that step (by up to
    ``check_every - 1`` steps, or to the end of its epoch by default).

    Args:
        model: the ``nn.Module``; trained in place and put in ``train()`` mode.
        loss_fn: ``loss_fn(output, target) -> scalar`` mean loss of a batch.
        data: a tensor, a tuple/list of tensors with the same first dimension
            ``N``, or a :class:`mbgd.data.TensorBatches` (then leave
            ``batch_size``, ``seed``, ``shuffle``, ``drop_last`` at their
            defaults: the iterator carries its own).
        optimizer: a ``torch.optim.Optimizer`` over (some of) the model's
            trainable parameters, or a factory ``params -> Optimizer`` (called
            after the model is moved).
        epochs: passes over the data, ``>= 1``.
        batch_size: micro-batch size ``b`` in ``[1, N]`` (required for tensors).
        seed: int, ``torch.Generator`` or ``None``: the batch order.
        device: where to train; the model and data are moved there. Default:
            the device of the model's parameters.
        shuffle: reshuffle every epoch (default) or keep the data's order.
        drop_last: drop the short last micro-batch of each epoch.
        accumulate: micro-batches per optimizer step, ``>= 1``.
        clip_grad_norm: rescale the gradient to this Euclidean norm if it is
            larger (``torch.nn.utils.clip_grad_norm_``; keeps the direction), ``> 0``.
        clip_grad_value: clamp each gradient entry to ``[-v, v]``
            (``torch.nn.utils.clip_grad_value_``; changes the direction), ``> 0``.
            At most one of the two clippings.
        record_grad_norm: record the norm of every step's gradient (before
            clipping) in ``History.grad_norm``.
        check_every: steps between divergence checks within an epoch, ``>= 1``;
            ``None``: only at the end of each epoch. ``1`` stops right after the
            bad step, at the cost of a host sync per step.
        progress: a progress bar over epochs; ``None`` follows ``$MBGD_PROGRESS``.

    Returns:
        a :class:`History`.

    Raises:
        DivergenceError: on a NaN or infinite loss (see above).

    Example:
        Two micro-batches of one example make one step on the mean loss of both:
        :math:`\nabla_w \tfrac12\sum_i (w x_i - y_i)^2 = -10` at :math:`w = 0`.

        >>> X, y = torch.tensor([[1.0], [2.0]]), torch.tensor([[2.0], [4.0]])
        >>> model = torch.nn.Linear(1, 1, bias=False)
        >>> _ = torch.nn.init.zeros_(model.weight)
        >>> sgd = torch.optim.SGD(model.parameters(), lr=0.1)
        >>> hist = train(model, torch.nn.MSELoss(), (X, y), sgd, epochs=1,
        ...              batch_size=1, accumulate=2, seed=0, progress=False)
        >>> hist.loss.tolist(), hist.steps_per_epoch, model.weight.item()
        ([10.0], 1, 1.0)
    """
    check_type("model", model, nn.Module, "a torch.nn.Module")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable; got {loss_fn!r}")
    if not (isinstance(optimizer, torch.optim.Optimizer) or callable(optimizer)):
        raise TypeError("optimizer must be a torch.optim.Optimizer or a factory "
                        f"params -> Optimizer; got {optimizer!r}")
    epochs = check_int("epochs", epochs, low=1)
    accumulate = check_int("accumulate", accumulate, low=1)
    for name, value in (("clip_grad_norm", clip_grad_norm),
                        ("clip_grad_value", clip_grad_value)):
        if value is not None:
            check_real(name, value, low=0.0, bounds="(]")
    if clip_grad_norm is not None and clip_grad_value is not None:
        raise ValueError("clip_grad_value must be None when clip_grad_norm is set "
                         f"(one clipping at a time); got {clip_grad_value!r}")
    check_bool("record_grad_norm", record_grad_norm)
    if check_every is not None:
        check_int("check_every", check_every, low=1)
    check_type("progress", progress, (bool, type(None)), "True, False or None")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model must have parameters with requires_grad; got "
                         f"{model!r}")
    if isinstance(optimizer, torch.optim.Optimizer):
        _check_optimizer(optimizer, model)
    device = params[0].device if device is None else resolve_device(device)
    batches = _make_batches(data, batch_size, seed, shuffle, drop_last, device)

    model.to(device)
    model.train()
    opt = optimizer
    if not isinstance(optimizer, torch.optim.Optimizer):  # a factory
        opt = optimizer(model.parameters())
        check_type("optimizer", opt, torch.optim.Optimizer,
                   "a torch.optim.Optimizer (or a factory returning one)")
        _check_optimizer(opt, model)

    # Micro-batch sizes are the same every epoch: precompute each step's weights.
    sizes = batches.batch_sizes
    groups = [sizes[i:i + accumulate] for i in range(0, len(sizes), accumulate)]
    weights = [tuple(n / sum(group) for n in group) for group in groups]
    step_examples = torch.tensor([sum(g) for g in groups], dtype=torch.float64)

    losses: list[Tensor] = []  # one (steps_per_epoch,) tensor per epoch
    norms: list[Tensor] = []
    for epoch in progress_bar(range(epochs), total=epochs, desc="train",
                              progress=progress):
        micro = iter(batches)
        step_losses: list[Tensor] = []  # 0-d tensors on the device, no sync
        checked = 0
        for w in weights:
            opt.zero_grad()
            loss = _accumulate(model, loss_fn, micro, w)
            if record_grad_norm:
                norms.append(_grad_norm(params, clip_grad_norm))
            elif clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, clip_grad_norm)
            if clip_grad_value is not None:
                torch.nn.utils.clip_grad_value_(params, clip_grad_value)
            opt.step()
            step_losses.append(loss)
            if check_every is not None and len(step_losses) - checked >= check_every:
                checked = _check_finite(step_losses, checked, epoch, len(groups),
                                        opt)
        _check_finite(step_losses, checked, epoch, len(groups), opt)
        losses.append(torch.stack(step_losses))

    loss = torch.stack(losses).cpu()  # (epochs, steps_per_epoch)
    per_epoch = loss.double() @ step_examples / step_examples.sum()
    return History(
        loss=loss.flatten(),
        epoch_loss=per_epoch.to(loss.dtype),
        grad_norm=torch.stack(norms).cpu() if record_grad_norm else None,
        steps_per_epoch=len(groups),
    )


def _make_batches(data, batch_size, seed, shuffle, drop_last, device) -> TensorBatches:
    if isinstance(data, TensorBatches):
        given = {"batch_size": (batch_size, None), "seed": (seed, None),
                 "shuffle": (shuffle, True), "drop_last": (drop_last, False)}
        for name, (value, default) in given.items():
            if value is not default:
                raise ValueError(f"{name} must be left at {default!r} when data is a "
                                 f"TensorBatches (it has its own); got {value!r}")
        if not _same_device(data.device, device):
            raise ValueError(f"data must be on the training device {device}; got a "
                             f"TensorBatches on {data.device}")
        return data
    tensors = (data,) if isinstance(data, Tensor) else data
    if not isinstance(tensors, (tuple, list)):
        raise TypeError("data must be a tensor, a tuple/list of tensors or a "
                        f"TensorBatches; got {type(data).__name__}")
    if batch_size is None:
        raise ValueError("batch_size must be an int in [1, N]; got None")
    return TensorBatches(*tensors, batch_size=batch_size, shuffle=shuffle,
                         drop_last=drop_last, seed=seed, device=device)


def _same_device(a: torch.device, b: torch.device) -> bool:
    """``a == b``, reading a CUDA device without an index (``"cuda"``, what
    :func:`mbgd.device.default_device` gives) as the current one (``cuda:0``)."""
    def indexed(d: torch.device) -> torch.device:
        if d.type == "cuda" and d.index is None:
            return torch.device("cuda", torch.cuda.current_device())
        return d
    return indexed(a) == indexed(b)


def _check_optimizer(opt: torch.optim.Optimizer, model: nn.Module) -> None:
    """An optimizer over none of the model's parameters would train nothing."""
    mine = {id(p) for p in model.parameters() if p.requires_grad}
    if not any(id(p) in mine for g in opt.param_groups for p in g["params"]):
        raise ValueError("optimizer must hold some of the model's trainable "
                         "parameters (was it made for another model?); got one "
                         "over none of them")


def _accumulate(model: nn.Module, loss_fn: Callable[..., Tensor],
                micro: Iterator[tuple[Tensor, ...]], weights: tuple[float, ...]
                ) -> Tensor:
    """Backward through the next ``len(weights)`` micro-batches; the step's loss."""
    total = None
    for batch, w in zip(islice(micro, len(weights)), weights):
        inputs = batch[:-1] if len(batch) > 1 else batch
        loss = loss_fn(model(*inputs), batch[-1])
        if w != 1.0:
            loss = loss * w
        loss.backward()
        loss = loss.detach()
        total = loss if total is None else total + loss
    return total


def _grad_norm(params: list[nn.Parameter], clip: float | None) -> Tensor:
    """Total gradient norm before clipping (clipping by norm if ``clip``)."""
    if clip is not None:
        return torch.nn.utils.clip_grad_norm_(params, clip)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros((), device=params[0].device)
    return torch.linalg.vector_norm(
        torch.stack([torch.linalg.vector_norm(g) for g in grads]))


def _check_finite(step_losses: list[Tensor], start: int, epoch: int,
                  steps_per_epoch: int, opt: torch.optim.Optimizer) -> int:
    """Raise DivergenceError at the first non-finite loss of the epoch from
    ``start`` on; return how many of the epoch's losses are checked."""
    if start == len(step_losses):
        return start
    bad = ~torch.isfinite(torch.stack(step_losses[start:]))
    if not bad.any():  # the one host sync of the check
        return len(step_losses)
    within = start + int(bad.nonzero()[0, 0])
    value = step_losses[within].item()
    step = epoch * steps_per_epoch + within
    lrs = [float(g["lr"]) for g in opt.param_groups]
    lr = f"lr = {lrs[0]:g}" if len(lrs) == 1 else \
        f"lr = {[float(f'{v:g}') for v in lrs]} (per parameter group)"
    raise DivergenceError(
        f"training diverged: loss = {value} at step {step} (epoch {epoch}, step "
        f"{within} of the epoch; steps count from 0 as in History.loss) with {lr}. "
        "Try a smaller learning rate or clip_grad_norm."
    )
