r"""Mini-batches: index samplers, stratified allocation and a fast batch iterator.

Three samplers turn a data set of ``N`` examples into mini-batches of indices
(book sections P6, P7 and P10). Each draws from its own generator, made from
``seed`` by :func:`mbgd.seeding.as_generator`; every pass over a sampler is a new
epoch, so epochs differ while the whole sequence is fixed by the seed.

* :class:`EpochSampler`: reshuffle every epoch and cut the permutation into
  batches (sampling *without* replacement: every example once per epoch).
* :class:`ReplacementSampler`: every batch is ``b`` independent uniform draws
  (sampling *with* replacement).
* :class:`StratifiedSampler`: every batch takes ``n_k`` examples from stratum
  ``k`` (without replacement inside the stratum), with the allocation ``n_k`` of
  :func:`proportional_allocation`, :func:`neyman_allocation` or your own.

:class:`TensorBatches` iterates over in-memory tensors: it shuffles once per epoch
(one ``index_select`` per tensor) and then yields views, never gathering sample by
sample.

>>> X, y = torch.arange(10.0).reshape(5, 2), torch.arange(5)
>>> batches = TensorBatches(X, y, batch_size=2, seed=0, device="cpu")
>>> len(batches), [tuple(yb.tolist()) for _, yb in batches]
(3, [(4, 0), (1, 3), (2,)])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

from ._checks import (check_bool, check_choice, check_int, check_reals, check_shape,
                      check_type)
from .device import resolve_device
from .seeding import SeedLike, as_generator

__all__ = [
    "IndexSampler",
    "EpochSampler",
    "ReplacementSampler",
    "StratifiedSampler",
    "TensorBatches",
    "proportional_allocation",
    "neyman_allocation",
    "stratum_weights",
]

# Targets closer than this to an integer are snapped to it before rounding, so
# that float64 round-off (2.9999999999999996) never decides who gets a unit.
_SNAP = 1e-9


# --------------------------------------------------------------------------
# Allocation across strata
# --------------------------------------------------------------------------

def stratum_weights(sizes: Sequence[int] | Tensor) -> Tensor:
    r"""Stratum weights :math:`W_k = N_k / N` of the stratified estimator.

    With :math:`\bar g_k` the mean of the :math:`n_k \ge 1` examples drawn from
    stratum ``k`` (uniformly, with or without replacement), the estimator
    :math:`\hat g = \sum_k W_k \bar g_k` is unbiased for the mean over all ``N``
    examples, because :math:`E[\bar g_k]` is the stratum mean :math:`\mu_k` and
    :math:`\sum_k (N_k/N)\mu_k` is the overall mean. (Section P10.)

    Args:
        sizes: stratum sizes :math:`N_k`, ints ``>= 1``, shape ``(K,)``.

    Returns:
        ``W``, float64, shape ``(K,)``, summing to 1 (on the CPU).

    >>> stratum_weights([50, 30, 20])
    tensor([0.5000, 0.3000, 0.2000], dtype=torch.float64)
    """
    sizes = _as_sizes(sizes)
    return sizes.double() / sizes.sum()


def proportional_allocation(sizes: Sequence[int] | Tensor, b: int) -> Tensor:
    r"""Split a batch of ``b`` across strata in proportion to their sizes.

    The ideal share is :math:`b N_k / N`; it is rounded to integers as described
    in :func:`neyman_allocation` (at least one per stratum when ``b >= K``, at most
    :math:`N_k`, sum exactly ``b``, largest remainders get the leftover units).

    Args:
        sizes: stratum sizes :math:`N_k`, ints ``>= 1``, shape ``(K,)``.
        b: batch size, ``1 <= b <= N``.

    Returns:
        ``n``, int64 on the CPU (bookkeeping, not data), shape ``(K,)``.

    >>> proportional_allocation([50, 30, 20], 10)
    tensor([5, 3, 2])
    >>> proportional_allocation([97, 2, 1], 10)  # the small strata still get one
    tensor([8, 1, 1])
    """
    sizes = _as_sizes(sizes)
    b = check_int("b", b, low=1, high=int(sizes.sum()))
    return _allocate(sizes.double(), sizes, b)


def neyman_allocation(sizes: Sequence[int] | Tensor, stds: Sequence[float] | Tensor,
                      b: int) -> Tensor:
    r"""Neyman allocation: the split of ``b`` that minimises the stratified variance.

    Minimising :math:`\operatorname{Var}\hat g = \sum_k W_k^2\sigma_k^2 / n_k`
    subject to :math:`\sum_k n_k = b` gives (Lagrange multipliers)

    .. math:: n_k^\star = b\,\frac{N_k \sigma_k}{\sum_j N_j \sigma_j}.

    Large and spread-out strata get more draws. (Section P10.)

    Rounding, exactly: the real targets are first kept inside
    :math:`[\ell, N_k]`, where :math:`\ell = 1` when ``b >= K`` (every stratum is
    needed for an unbiased estimate) and :math:`\ell = 0` otherwise, by solving
    :math:`\sum_k \operatorname{clip}(c\,N_k\sigma_k, \ell, N_k) = b` for the
    scale ``c`` (a stratum that would get more than it holds is taken whole and
    the rest is shared by the others, as in survey sampling). The targets are
    then rounded down and the ``b - sum`` leftover units go one each to the
    strata with the largest fractional parts (ties: lower stratum index first).
    The result sums to ``b`` exactly. If every :math:`\sigma_k` is 0, any split
    has zero variance and the proportional one is returned; strata with
    :math:`\sigma_k = 0` get :math:`\ell` draws unless the others are full.

    Args:
        sizes: stratum sizes :math:`N_k`, ints ``>= 1``, shape ``(K,)``.
        stds: within-stratum standard deviations :math:`\sigma_k \ge 0`, shape
            ``(K,)``.
        b: batch size, ``1 <= b <= N``.

    Returns:
        ``n``, int64 on the CPU (bookkeeping, not data), shape ``(K,)``.

    >>> neyman_allocation([50, 30, 20], [1.0, 2.0, 4.0], 10)
    tensor([3, 3, 4])
    >>> neyman_allocation([50, 30, 2], [1.0, 1.0, 100.0], 10)  # stratum 3 is capped
    tensor([5, 3, 2])
    """
    sizes = _as_sizes(sizes)
    stds = _as_numbers("stds", stds, "a 1-D list of real numbers >= 0",
                       torch.float64)
    check_shape("stds", stds, (sizes.numel(),))
    if not (torch.isfinite(stds).all() and (stds >= 0).all()):
        raise ValueError(f"stds must be finite and >= 0; got {stds.tolist()!r}")
    b = check_int("b", b, low=1, high=int(sizes.sum()))
    scores = sizes.double() * stds
    if not (scores > 0).any():
        scores = sizes.double()
    return _allocate(scores, sizes, b)


def _as_sizes(sizes: Sequence[int] | Tensor) -> Tensor:
    t = _as_numbers("sizes", sizes, "a non-empty 1-D list of ints >= 1")
    if t.ndim != 1 or t.numel() == 0 or t.is_floating_point() or t.is_complex() \
            or t.dtype == torch.bool or not (t >= 1).all():
        raise ValueError(f"sizes must be a non-empty 1-D list of ints >= 1; "
                         f"got {sizes!r}")
    return t.to(torch.int64).cpu()


def _as_numbers(name: str, value, rule: str, dtype: torch.dtype | None = None,
                device: str | None = "cpu") -> Tensor:
    """``value`` as a tensor (on the CPU by default: bookkeeping), with a
    ``TypeError`` naming ``name`` for things that are not real numbers (strings,
    None, ragged lists, bools, complex numbers): see :func:`check_reals`."""
    return check_reals(name, value, rule, dtype=None, device=device).to(dtype=dtype)


def _allocate(scores: Tensor, sizes: Tensor, b: int) -> Tensor:
    """Integers in ``[lo, sizes]`` summing to ``b``, near-proportional to scores."""
    lo = torch.full_like(sizes, 1 if b >= sizes.numel() else 0).double()
    target = _water_fill(scores, lo, sizes.double(), float(b))
    snapped = target.round()
    target = torch.where((target - snapped).abs() < _SNAP, snapped, target)
    n = target.floor()
    left = b - int(n.sum())
    order = torch.argsort(n - target, stable=True)  # largest fraction first
    n[order[:left]] += 1
    return n.to(torch.int64)


def _water_fill(scores: Tensor, lo: Tensor, hi: Tensor, b: float) -> Tensor:
    """Real ``t_k = clip(c * scores_k, lo_k, hi_k)`` with ``sum t = b``.

    ``b`` must be feasible.
    """
    pos = scores > 0
    if b >= float(hi[pos].sum() + lo[~pos].sum()):
        # Strata with a positive score are full; the zero-score ones share the rest
        # in proportion to their sizes.
        t = hi.clone()
        rest = ~pos
        if rest.any():
            left = b - float(hi[pos].sum())
            t[rest] = _water_fill(hi[rest], lo[rest], hi[rest], left)
        return t

    def total(c: Tensor) -> Tensor:  # sum_k clip(c s_k, lo_k, hi_k), for each c
        return torch.minimum(torch.maximum(c[:, None] * scores, lo), hi).sum(1)

    # total(c) is continuous, piecewise linear and nondecreasing, with kinks at
    # lo/s and hi/s: find the segment where it reaches b and interpolate.
    kinks = torch.cat([torch.zeros(1, dtype=scores.dtype),
                       lo[pos] / scores[pos], hi[pos] / scores[pos]]).unique()
    values = total(kinks)
    j = int(torch.searchsorted(values, torch.tensor([b], dtype=values.dtype)))
    if j == 0:
        c = kinks[0]
    else:
        c0, c1, v0, v1 = kinks[j - 1], kinks[j], values[j - 1], values[j]
        c = c0 + (b - v0) / (v1 - v0) * (c1 - c0)
    return torch.minimum(torch.maximum(c * scores, lo), hi)


# --------------------------------------------------------------------------
# Samplers
# --------------------------------------------------------------------------

class IndexSampler:
    """Base class: an iterable of index batches; each pass is a new epoch.

    A subclass sets the four attributes below and defines :meth:`epoch`; it can
    then drive :class:`TensorBatches` and :func:`mbgd.estimator.sample_estimates`.

    Attributes:
        n: number of examples ``N``.
        batch_size: the nominal batch size ``b``.
        batch_sizes: the size of every batch of an epoch (the same every epoch).
        device: where the index tensors are put.

    Example:
        >>> class Halves(IndexSampler):  # always the same two batches of N = 4
        ...     n, batch_size, batch_sizes, device = 4, 2, (2, 2), torch.device("cpu")
        ...     def epoch(self):
        ...         return list(torch.arange(4).split(2))
        >>> X = torch.arange(4.0) ** 2
        >>> [xb.tolist() for xb, in TensorBatches(X, sampler=Halves())]
        [[0.0, 1.0], [4.0, 9.0]]
    """

    n: int
    batch_size: int
    batch_sizes: tuple[int, ...]
    device: torch.device

    def _fixed_batches(self, num_batches: int | None, seed: SeedLike,
                       device: str | torch.device | None) -> None:
        """Set ``num_batches`` equal batches (default: enough to cover ``n``
        examples once), the device and the generator (samplers with replacement)."""
        if num_batches is None:
            num_batches = -(-self.n // self.batch_size)
        num_batches = check_int("num_batches", num_batches, low=1)
        self.batch_sizes = (self.batch_size,) * num_batches
        self.device = resolve_device(device)
        self._gen = as_generator(seed)

    def __len__(self) -> int:
        """Number of batches in one epoch."""
        return len(self.batch_sizes)

    def __iter__(self) -> Iterator[Tensor]:
        return iter(self.epoch())

    def epoch(self) -> list[Tensor]:
        """Draw the next epoch: a list of int64 index tensors, one per batch."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} n={self.n} batch_size={self.batch_size}>"


class EpochSampler(IndexSampler):
    r"""Reshuffle every epoch, then cut the permutation into batches.

    Every example appears exactly once per epoch (sampling without replacement);
    each batch is a uniformly random ``b``-subset, and the batches of one epoch
    are disjoint. The last batch holds the ``N mod b`` leftover examples unless
    ``drop_last``. (Section P6.)

    Args:
        n: number of examples, ``>= 1``.
        batch_size: ``b``, an int in ``[1, n]``.
        shuffle: ``False`` keeps the order ``0, 1, ..., N-1`` every epoch.
        drop_last: drop the short last batch (if any).
        seed: int, ``torch.Generator`` or ``None`` (see :mod:`mbgd.seeding`).
        device: where the indices go (default: :func:`mbgd.device.default_device`);
            they are drawn on the CPU so a seed gives the same batches everywhere.

    >>> s = EpochSampler(5, 2, seed=0, device="cpu")
    >>> [b.tolist() for b in s], s.batch_sizes
    ([[4, 0], [1, 3], [2]], (2, 2, 1))
    """

    def __init__(self, n: int, batch_size: int, *, shuffle: bool = True,
                 drop_last: bool = False, seed: SeedLike = None,
                 device: str | torch.device | None = None):
        self.n = check_int("n", n, low=1)
        self.batch_size = check_int("batch_size", batch_size, low=1, high=self.n)
        self.shuffle = check_bool("shuffle", shuffle)
        self.drop_last = check_bool("drop_last", drop_last)
        self.device = resolve_device(device)
        self._gen = as_generator(seed)
        full, rest = divmod(self.n, self.batch_size)
        self.batch_sizes = (self.batch_size,) * full + (
            (rest,) if rest and not self.drop_last else ())
        self.used = sum(self.batch_sizes)  # examples per epoch

    def order(self) -> Tensor:
        """The next epoch's order of all ``N`` indices (advances the generator)."""
        if not self.shuffle:
            return torch.arange(self.n, device=self.device)
        return torch.randperm(self.n, generator=self._gen).to(self.device)

    def epoch(self) -> list[Tensor]:
        return list(self.order()[: self.used].split(self.batch_size))


class ReplacementSampler(IndexSampler):
    r"""Batches of ``b`` independent uniform draws (sampling with replacement).

    The mean of such a batch has covariance :math:`\Sigma/b` exactly (section P7),
    where :math:`\Sigma` is the population covariance of the per-example values.
    An example may appear twice in a batch; an "epoch" is just ``num_batches``
    batches.

    Args:
        n: number of examples, ``>= 1``.
        batch_size: ``b``, an int ``>= 1`` (may exceed ``n``).
        num_batches: batches per epoch, ``>= 1``; default ``ceil(n / b)``.
        seed: int, ``torch.Generator`` or ``None``.
        device: where the indices go (drawn on the CPU).

    >>> s = ReplacementSampler(5, 3, seed=0, device="cpu")
    >>> len(s), [b.shape for b in s]
    (2, [torch.Size([3]), torch.Size([3])])
    """

    def __init__(self, n: int, batch_size: int, *, num_batches: int | None = None,
                 seed: SeedLike = None, device: str | torch.device | None = None):
        self.n = check_int("n", n, low=1)
        self.batch_size = check_int("batch_size", batch_size, low=1)
        self._fixed_batches(num_batches, seed, device)

    def epoch(self) -> list[Tensor]:
        idx = torch.randint(self.n, (len(self), self.batch_size), generator=self._gen)
        return list(idx.to(self.device).unbind(0))


class StratifiedSampler(IndexSampler):
    r"""Batches with a fixed number of examples from every stratum.

    Each batch takes ``n_k`` distinct examples, uniformly, from stratum ``k``
    (independently across strata and across batches), and lists them stratum by
    stratum: first the ``n_1`` of the first stratum, then the next, in the order of
    the sorted stratum labels. With the weights :math:`W_k = N_k/N`, the estimator

    .. math:: \hat g = \sum_k W_k\,\bar g_k = \sum_{i \in \text{batch}} w_i\, g_i,
              \qquad w_i = W_k / n_k \ \text{for } i \text{ in stratum } k,

    is unbiased for the mean over all ``N`` examples. (Section P10.)

    Args:
        strata: stratum label of every example, integer tensor of shape ``(N,)``.
        batch_size: ``b``, an int in ``[K, N]`` (``K`` strata: each needs one draw).
        allocation: ``"proportional"``, ``"neyman"`` (needs ``stds``) or the ``K``
            counts ``n_k`` themselves, each in ``[1, N_k]`` and summing to ``b``.
        stds: per-stratum standard deviations for ``"neyman"``, shape ``(K,)``, in
            the order of the sorted labels.
        num_batches: batches per epoch, ``>= 1``; default ``ceil(N / b)``.
        seed: int, ``torch.Generator`` or ``None``.
        device: where the indices and weights go (drawn on the CPU).

    Attributes:
        labels: the sorted stratum labels, ``(K,)``; sizes: :math:`N_k`, ``(K,)``.
        allocation: :math:`n_k`, ``(K,)``; weights: :math:`W_k`, ``(K,)``.
        example_weights: :math:`w_i` for the positions of a batch, float64 ``(b,)``.

    >>> strata = torch.tensor([0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
    >>> s = StratifiedSampler(strata, 5, seed=0, device="cpu")
    >>> s.allocation.tolist(), s.example_weights.tolist()
    ([2, 1, 2], [0.2, 0.2, 0.2, 0.2, 0.2])
    >>> [strata[i].tolist() for i in s][0]
    [0, 0, 1, 2, 2]
    """

    def __init__(self, strata: Tensor, batch_size: int, *,
                 allocation: str | Sequence[int] | Tensor = "proportional",
                 stds: Sequence[float] | Tensor | None = None,
                 num_batches: int | None = None, seed: SeedLike = None,
                 device: str | torch.device | None = None):
        check_type("strata", strata, Tensor, "a torch.Tensor of integer labels")
        if strata.ndim != 1 or strata.numel() == 0 or strata.is_floating_point() \
                or strata.is_complex():
            raise ValueError("strata must be a non-empty 1-D integer tensor; got "
                             f"dtype {strata.dtype} and shape {tuple(strata.shape)}")
        strata = strata.cpu()
        self.n = strata.numel()
        self.labels, inverse, self.sizes = torch.unique(
            strata, sorted=True, return_inverse=True, return_counts=True)
        k = self.labels.numel()
        self.batch_size = check_int("batch_size", batch_size, low=k, high=self.n)
        self.allocation = self._resolve_allocation(allocation, stds)
        self.weights = stratum_weights(self.sizes)
        self._fixed_batches(num_batches, seed, device)
        # members[k]: indices of stratum k, in increasing order
        self._members = torch.argsort(inverse, stable=True).split(self.sizes.tolist())
        per_stratum = self.weights / self.allocation
        self.example_weights = per_stratum.repeat_interleave(self.allocation).to(
            self.device)

    def _resolve_allocation(self, allocation, stds) -> Tensor:
        if isinstance(allocation, str):
            check_choice("allocation", allocation, ("proportional", "neyman"))
            if allocation == "proportional":
                if stds is not None:
                    raise ValueError("stds must be None unless allocation='neyman'; "
                                     f"got {stds!r}")
                return proportional_allocation(self.sizes, self.batch_size)
            if stds is None:
                raise ValueError("stds must be given when allocation='neyman'; "
                                 "got None")
            # b >= K here, so every stratum gets at least one draw
            return neyman_allocation(self.sizes, stds, self.batch_size)
        rule = (f"'proportional', 'neyman' or {self.sizes.numel()} ints with "
                f"1 <= n_k <= N_k = {self.sizes.tolist()} summing to "
                f"batch_size={self.batch_size}")
        n = _as_numbers("allocation", allocation, rule)
        ok = (n.ndim == 1 and n.numel() == self.sizes.numel()
              and not n.is_floating_point() and bool((n >= 1).all())
              and bool((n <= self.sizes).all()) and int(n.sum()) == self.batch_size)
        if not ok:
            raise ValueError(f"allocation must be {rule}; got {allocation!r}")
        return n.to(torch.int64).cpu()

    def epoch(self) -> list[Tensor]:
        m = len(self)
        parts = []
        for members, n_k in zip(self._members, self.allocation.tolist()):
            # n_k distinct positions per batch: the first n_k of a random ordering
            keys = torch.rand(m, members.numel(), generator=self._gen)
            parts.append(members[keys.argsort(dim=1)[:, :n_k]])
        return list(torch.cat(parts, dim=1).to(self.device).unbind(0))

    def estimate(self, values: Tensor) -> Tensor:
        r"""The stratified estimate :math:`\sum_k W_k \bar v_k` from one batch.

        Args:
            values: per-example values of a batch in the sampler's order, a
                floating tensor of shape ``(b, ...)``.

        Returns:
            shape ``values.shape[1:]``, in the dtype of ``values``.
        """
        check_type("values", values, Tensor, "a floating torch.Tensor")
        if not values.is_floating_point():
            raise TypeError("values must be a floating torch.Tensor (the weights are "
                            f"fractions); got dtype {values.dtype}")
        if values.ndim == 0 or values.shape[0] != self.batch_size:
            raise ValueError(f"values must have first dimension {self.batch_size} "
                             f"(the batch size); got shape {tuple(values.shape)}")
        w = self.example_weights.to(device=values.device, dtype=values.dtype)
        return torch.tensordot(w, values, dims=1)


# --------------------------------------------------------------------------
# Batch iterator over tensors
# --------------------------------------------------------------------------

def _check_tensors(tensors: Sequence[Tensor], name: str = "tensors") -> int:
    """Validate one or more tensors with a common first dimension; return it."""
    if len(tensors) == 0:
        raise ValueError(f"{name} must hold at least one tensor; got none")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}[{i}] must be a torch.Tensor; got "
                            f"{type(t).__name__}")
        if t.ndim == 0 or t.shape[0] == 0:
            raise ValueError(f"{name}[{i}] must have a first (example) dimension "
                             f">= 1; got shape {tuple(t.shape)}")
    lengths = [t.shape[0] for t in tensors]
    if len(set(lengths)) > 1:
        raise ValueError(f"{name} must all have the same first dimension; got "
                         f"lengths {lengths}")
    return lengths[0]


class TensorBatches:
    r"""Mini-batches of in-memory tensors, as tuples of views or gathered rows.

    With the default sampler (an :class:`EpochSampler`), every pass is one epoch:
    one permutation is drawn, each tensor is gathered once in that order
    (``index_select``), and the batches are consecutive slices (views) of the
    gathered copy, the work of the bare loop ``Xs = X[perm]; Xs[i:i+b]`` (the
    views come from ``split``, which makes them all in one call).
    With ``shuffle=False`` the batches are views of the tensors themselves. With
    another sampler (:class:`ReplacementSampler`, :class:`StratifiedSampler`),
    every batch is gathered by its index tensor.

    Args:
        *tensors: one or more tensors with the same first dimension ``N``.
        batch_size: ``b``, an int in ``[1, N]``; leave ``None`` with ``sampler``.
        shuffle: reshuffle every epoch (default) or keep the order.
        drop_last: drop the short last batch.
        seed: int, ``torch.Generator`` or ``None`` (see :mod:`mbgd.seeding`).
        sampler: an :class:`IndexSampler` over ``N`` examples instead of the
            ``batch_size``/``shuffle``/``drop_last``/``seed`` arguments (leave
            those at their defaults).
        device: where the batches live; the tensors are moved there once.
            Default ``None``: stay where the tensors are (they must share a
            device), so data on the CPU is not sent to a GPU behind your back.

    Yields:
        one tuple per batch, ``(X_b, y_b, ...)``, each ``(b, ...)``.

    >>> X = torch.arange(6.0)
    >>> [xb.tolist() for xb, in TensorBatches(X, batch_size=4, shuffle=False)]
    [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0]]
    """

    def __init__(self, *tensors: Tensor, batch_size: int | None = None,
                 shuffle: bool = True, drop_last: bool = False, seed: SeedLike = None,
                 sampler: IndexSampler | None = None,
                 device: str | torch.device | None = None):
        n = _check_tensors(tensors)
        if device is None:
            devices = {t.device for t in tensors}
            if len(devices) > 1:
                raise ValueError("tensors must be on one device when device=None; "
                                 f"got {sorted(map(str, devices))}")
            device = devices.pop()
        self.device = resolve_device(device)
        if sampler is None:
            if batch_size is None:
                raise ValueError("batch_size must be an int in [1, N] when no "
                                 "sampler is given; got None")
            sampler = EpochSampler(n, batch_size, shuffle=shuffle,
                                   drop_last=drop_last, seed=seed, device=self.device)
        else:
            check_type("sampler", sampler, IndexSampler, "a sampler from mbgd.data")
            given = {"batch_size": (batch_size, None), "shuffle": (shuffle, True),
                     "drop_last": (drop_last, False), "seed": (seed, None)}
            for name, (value, default) in given.items():
                if value is not default:
                    raise ValueError(f"{name} must be {default!r} when a sampler is "
                                     f"given (the sampler sets it); got {value!r}")
            if sampler.n != n:
                raise ValueError(f"sampler must draw from the N = {n} examples of "
                                 f"the tensors; got a sampler over n = {sampler.n}")
        self.sampler = sampler
        self.tensors = tuple(t.to(self.device) for t in tensors)

    @property
    def batch_size(self) -> int:
        """The nominal batch size."""
        return self.sampler.batch_size

    @property
    def batch_sizes(self) -> tuple[int, ...]:
        """The size of every batch of an epoch."""
        return self.sampler.batch_sizes

    def __len__(self) -> int:
        """Number of batches per epoch."""
        return len(self.sampler)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        sampler = self.sampler
        if isinstance(sampler, EpochSampler):
            if sampler.shuffle:
                order = sampler.order().to(self.device)
                data = [t.index_select(0, order) for t in self.tensors]
            else:
                data = self.tensors
            return self._views(data, sampler.batch_size, sampler.used)
        return self._gathered(sampler.epoch())

    @staticmethod
    def _views(data: Sequence[Tensor], b: int, used: int
               ) -> Iterator[tuple[Tensor, ...]]:
        # split() makes all the views in one call: cheaper per batch than slicing
        return zip(*[t[:used].split(b) for t in data])

    def _gathered(self, batches: list[Tensor]) -> Iterator[tuple[Tensor, ...]]:
        for idx in batches:
            idx = idx.to(self.device)
            yield tuple(t.index_select(0, idx) for t in self.tensors)

    def __repr__(self) -> str:
        return (f"<TensorBatches of {len(self.tensors)} tensors, "
                f"{len(self)} batches of {self.batch_size}>")
