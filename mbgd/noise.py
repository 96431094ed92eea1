r"""Gradient noise: per-example gradients and the statistics of mini-batch means.

Write :math:`g_i = \nabla_\theta \ell(\theta; x_i, y_i)` for the gradient of
example ``i`` of ``N``. The full-batch gradient is their mean :math:`g`, and a
mini-batch gradient :math:`g_b` is the mean over ``b`` sampled examples. This
module computes the :math:`g_i` for a ``torch.nn.Module`` in one vectorised pass
(:func:`per_example_grads`) and the quantities the book derives from them
(sections P7, P8, P9, P10):

* the population covariance :math:`\Sigma` (:func:`grad_covariance`);
* the covariance of :math:`g_b`, with or without replacement
  (:func:`batch_mean_covariance`, :func:`finite_population_correction`);
* the simple noise scale :math:`S = \operatorname{tr}\Sigma / \lVert g\rVert^2`
  (:func:`noise_scale`) and the signal-to-noise ratio (:func:`signal_to_noise`);
* the batch size that Chebyshev's inequality guarantees
  (:func:`chebyshev_batch_size`);
* the variance of the stratified estimator (:func:`stratified_variance`).

Convention: :math:`\Sigma` divides by ``N``, not ``N - 1``. The data set is the
whole population that mini-batches are drawn from, so :math:`\Sigma` is its exact
covariance, not an estimate; with this choice ``Cov(g_b) = Sigma / b`` with
replacement and ``(Sigma / b) (N - b) / (N - 1)`` without, both exactly.

>>> G = torch.tensor([[1.0, 0.0], [3.0, 2.0]])  # two examples, two parameters
>>> grad_mean(G), trace_covariance(G), noise_scale(G)
(tensor([2., 1.]), tensor(2.), tensor(0.4000))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad, vmap

from ._checks import check_bool, check_int, check_real, check_type
from .data import _as_numbers, _check_tensors, stratum_weights

__all__ = [
    "per_example_grads",
    "grad_mean",
    "grad_covariance",
    "trace_covariance",
    "noise_scale",
    "signal_to_noise",
    "finite_population_correction",
    "batch_mean_covariance",
    "chebyshev_batch_size",
    "stratified_variance",
]

# ceil() of a required batch size ignores excesses below this relative size, so
# that 1 / (0.05 * 0.1**2) = 2000.0000000000002 gives 2000, not 2001.
_CEIL_RTOL = 1e-9


def per_example_grads(model: nn.Module, loss_fn: Callable[[Tensor, Tensor], Tensor],
                      inputs: Tensor, targets: Tensor, *, flatten: bool = True,
                      chunk_size: int | None = None) -> Tensor | dict[str, Tensor]:
    r"""Gradients of the loss of every example, in one vectorised pass.

    Computes :math:`g_i = \nabla_\theta\, \ell(f_\theta(x_i), y_i)` for
    ``i = 1..N`` with ``torch.func``: ``vmap`` of ``grad`` of the model called
    functionally (``functional_call``) on a batch of one. ``loss_fn`` is called as
    for a batch, ``loss_fn(model(x[None]), y[None])``, so a mean-reducing loss such
    as ``nn.MSELoss()`` gives the loss of one example, and the mean of the rows is
    the gradient of the mean loss over the ``N`` examples.

    Only parameters with ``requires_grad`` count, in ``named_parameters()`` order.
    Buffers are used as they are; a model whose output for one example depends on
    the others (BatchNorm in training mode) has no per-example gradients: call
    ``model.eval()`` first or use another normalisation.

    Args:
        model: the model; its parameters are not changed and get no ``.grad``.
        loss_fn: ``loss_fn(output, target) -> scalar``.
        inputs: ``(N, ...)``; targets: ``(N, ...)``.
        flatten: ``True`` returns one ``(N, P)`` matrix (``P`` parameters in
            total, concatenated in ``named_parameters()`` order); ``False`` a dict
            ``name -> (N, *param.shape)``.
        chunk_size: examples per vectorised chunk (bounds memory), ``>= 1``;
            default ``None``: all at once.

    Returns:
        ``(N, P)`` tensor, or dict of per-parameter tensors, on the model's device.

    >>> lin = nn.Linear(1, 1, bias=False)
    >>> _ = lin.weight.data.fill_(2.0)
    >>> x, y = torch.tensor([[1.0], [3.0]]), torch.tensor([[1.0], [3.0]])
    >>> per_example_grads(lin, nn.MSELoss(), x, y)  # d/dw (w x - y)^2 = 2 x (w x - y)
    tensor([[ 2.],
            [18.]])
    """
    check_type("model", model, nn.Module, "a torch.nn.Module")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable; got {loss_fn!r}")
    _check_tensors((inputs, targets), name="(inputs, targets)")
    check_bool("flatten", flatten)
    if chunk_size is not None:
        check_int("chunk_size", chunk_size, low=1)
    params = {k: p.detach() for k, p in model.named_parameters() if p.requires_grad}
    if not params:
        raise ValueError("model must have parameters with requires_grad; got "
                         f"{model!r}")
    buffers = {k: b.detach() for k, b in model.named_buffers()}

    def example_loss(p: dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
        out = functional_call(model, (p, buffers), (x.unsqueeze(0),))
        return loss_fn(out, y.unsqueeze(0))

    grads = vmap(grad(example_loss), in_dims=(None, 0, 0), chunk_size=chunk_size)(
        params, inputs, targets)
    if not flatten:
        return grads
    n = inputs.shape[0]
    return torch.cat([g.reshape(n, -1) for g in grads.values()], dim=1)


def _as_grads(G: Tensor) -> Tensor:
    """Validate per-example gradients; return them as ``(N, P)``."""
    check_type("G", G, Tensor, "a torch.Tensor of per-example gradients")
    if G.ndim not in (1, 2) or 0 in G.shape or not G.is_floating_point():
        raise ValueError("G must be a floating tensor of shape (N,) or (N, P) with "
                         f"N, P >= 1; got dtype {G.dtype} and shape {tuple(G.shape)}")
    bad = int((~torch.isfinite(G)).sum())
    if bad:
        raise ValueError("G must be finite (a NaN or inf gradient means the model "
                         f"diverged); got {bad} non-finite entries")
    return G if G.ndim == 2 else G.unsqueeze(1)


def grad_mean(G: Tensor) -> Tensor:
    r"""The full-batch gradient :math:`g = \frac1N\sum_i g_i`.

    Args:
        G: per-example gradients, finite, ``(N, P)`` or ``(N,)``, ``N, P >= 1``.

    Returns:
        ``(P,)`` (or a 0-d tensor when ``G`` is ``(N,)``).

    >>> grad_mean(torch.tensor([1.0, 2.0, 6.0]))
    tensor(3.)
    """
    return _as_grads(G).mean(0).reshape(G.shape[1:])


def grad_covariance(G: Tensor, *, correction: int = 0) -> Tensor:
    r"""Covariance of the per-example gradients.

    .. math:: \Sigma = \frac{1}{N - c}\sum_{i=1}^N (g_i - g)(g_i - g)^\top

    The default ``c = 0`` is the population covariance of the ``N`` examples,
    the one that the mini-batch formulas of :func:`batch_mean_covariance` use.
    ``c = 1`` is the unbiased estimate for when the ``N`` are themselves a sample
    of a larger population (and matches ``torch.cov``).

    Args:
        G: per-example gradients, finite, ``(N, P)`` or ``(N,)``, ``N, P >= 1``.
        correction: ``c``, 0 (default) or 1 (needs ``N >= 2``).

    Returns:
        ``(P, P)``, or a 0-d variance when ``G`` is ``(N,)``.

    >>> grad_covariance(torch.tensor([1.0, 2.0, 6.0]))  # ((-2)^2 + 1 + 3^2) / 3
    tensor(4.6667)
    """
    G2 = _as_grads(G)
    correction = check_int("correction", correction, low=0, high=1)
    n = G2.shape[0]
    if n - correction < 1:
        raise ValueError(f"G must have N >= 2 rows when correction=1; got N = {n}")
    D = G2 - G2.mean(0)
    cov = D.T @ D / (n - correction)
    return cov if G.ndim == 2 else cov[0, 0]


def trace_covariance(G: Tensor) -> Tensor:
    r"""The total variance :math:`\operatorname{tr}\Sigma = \frac1N\sum_i
    \lVert g_i - g\rVert^2` (population, divide by ``N``), without forming
    :math:`\Sigma`.

    Args:
        G: per-example gradients, finite, ``(N, P)`` or ``(N,)``, ``N, P >= 1``.

    Returns:
        0-d tensor.

    >>> trace_covariance(torch.tensor([[0.0, 0.0], [2.0, 2.0]]))
    tensor(2.)
    """
    G2 = _as_grads(G)
    return (G2 - G2.mean(0)).square().sum(1).mean()


def noise_scale(G: Tensor) -> Tensor:
    r"""The simple noise scale :math:`S = \operatorname{tr}\Sigma/\lVert g\rVert^2`.

    This is :math:`B_\text{simple}` of McCandlish et al. (2018), "An empirical
    model of large-batch training". In one dimension it is
    :math:`\operatorname{Var}(g_i)/g^2`. It is the batch size at which the noise
    power of :math:`g_b` (with replacement, :math:`\operatorname{tr}\Sigma/b`)
    equals the signal power :math:`\lVert g\rVert^2`: batches much smaller than
    ``S`` are noise-dominated, much larger ones waste examples. (Section P9.)

    Args:
        G: per-example gradients, finite, ``(N, P)`` or ``(N,)``, ``N, P >= 1``.

    Returns:
        0-d tensor; ``inf`` when ``g = 0`` and ``tr Sigma > 0`` (at a minimum of
        the full loss the noise scale grows without bound), ``nan`` when both are 0.

    >>> noise_scale(torch.tensor([1.0, 3.0]))  # Var = 1, g = 2
    tensor(0.2500)
    """
    G2 = _as_grads(G)
    return trace_covariance(G2) / G2.mean(0).square().sum()


def signal_to_noise(G: Tensor, batch_size: int = 1) -> Tensor:
    r"""Signal-to-noise power ratio of a mini-batch gradient (with replacement).

    .. math:: \mathrm{SNR}_b = \frac{\lVert g\rVert^2}
              {E\lVert g_b - g\rVert^2} = \frac{\lVert g\rVert^2}
              {\operatorname{tr}\Sigma / b} = \frac{b}{S}.

    A power ratio (squared norms), so it is 1 exactly at ``b = S``. Without
    replacement the noise power is smaller by :func:`finite_population_correction`.

    Args:
        G: per-example gradients, finite, ``(N, P)`` or ``(N,)``, ``N, P >= 1``.
        batch_size: ``b``, an int ``>= 1``.

    Returns:
        0-d tensor.

    >>> signal_to_noise(torch.tensor([1.0, 3.0]), batch_size=8)  # b / S = 8 / 0.25
    tensor(32.)
    """
    batch_size = check_int("batch_size", batch_size, low=1)
    return batch_size / noise_scale(G)


def finite_population_correction(population: int, batch_size: int) -> float:
    r"""The factor :math:`(N - b)/(N - 1)` by which sampling without replacement
    shrinks the covariance of a batch mean.

    Drawing ``b`` of ``N`` examples without replacement, the covariance of their
    mean is :math:`\frac{\Sigma}{b}\,\frac{N-b}{N-1}` (with :math:`\Sigma` over
    ``N``); it is 1 at ``b = 1`` and 0 at ``b = N`` (the full batch has no noise).
    For ``N = 1`` the factor is 0. (Section P7.)

    Args:
        population: ``N``, an int ``>= 1``.
        batch_size: ``b``, an int in ``[1, N]``.

    >>> finite_population_correction(10, 4)
    0.6666666666666666
    """
    n = check_int("population", population, low=1)
    b = check_int("batch_size", batch_size, low=1, high=n)
    return 0.0 if n == 1 else (n - b) / (n - 1)


def _check_variances(name: str, value: Tensor, *, numbers: bool) -> None:
    """Finite, and ``>= 0`` when ``numbers`` (variances, not covariance matrices)."""
    rule = "finite and >= 0" if numbers else "finite"
    if not torch.isfinite(value).all() or (numbers and (value < 0).any()):
        raise ValueError(f"{name} must be {rule}; got {value!r}")


def batch_mean_covariance(sigma: Tensor | float, batch_size: int, *,
                          replacement: bool = True, population: int | None = None
                          ) -> Tensor:
    r"""Covariance of the mean of ``b`` sampled per-example gradients.

    .. math:: \operatorname{Cov}(g_b) = \frac{\Sigma}{b} \quad\text{(with
              replacement)},\qquad \operatorname{Cov}(g_b) = \frac{\Sigma}{b}
              \frac{N - b}{N - 1} \quad\text{(without)},

    where :math:`\Sigma` is the population covariance (divided by ``N``,
    :func:`grad_covariance` with ``correction=0``). Both are exact, not
    asymptotic; the mean itself is unbiased in both cases. (Section P7.)

    Args:
        sigma: :math:`\Sigma` as a ``(P, P)`` matrix, ``(P,)`` variances, or a
            scalar (a variance or :math:`\operatorname{tr}\Sigma`): any shape, it
            is only rescaled. Finite; a scalar or ``(P,)`` must be ``>= 0`` (a
            matrix is not checked for being positive semidefinite).
        batch_size: ``b``, an int ``>= 1`` (``<= N`` without replacement).
        replacement: sample with (default) or without replacement.
        population: ``N``, required when ``replacement=False``.

    Returns:
        a tensor of the shape of ``sigma``.

    >>> batch_mean_covariance(2.0, 4)
    tensor(0.5000)
    >>> batch_mean_covariance(2.0, 4, replacement=False, population=10)
    tensor(0.3333)
    """
    batch_size = check_int("batch_size", batch_size, low=1)
    check_bool("replacement", replacement)
    sigma = _as_numbers("sigma", sigma, "a real number or a real tensor", device=None)
    if not sigma.is_floating_point():
        sigma = sigma.to(torch.get_default_dtype())
    _check_variances("sigma", sigma, numbers=sigma.ndim <= 1)
    if replacement:
        if population is not None:
            check_int("population", population, low=1)
        return sigma / batch_size
    if population is None:
        raise ValueError("population must be the data set size N when "
                         "replacement=False; got None")
    return sigma / batch_size * finite_population_correction(population, batch_size)


def chebyshev_batch_size(variance: Tensor | float, eps: float, delta: float, *,
                         population: int | None = None) -> int:
    r"""Smallest batch size for which Chebyshev guarantees
    :math:`P(\lVert g_b - g\rVert \ge \varepsilon) \le \delta`.

    With replacement, :math:`E\lVert g_b - g\rVert^2 = \operatorname{tr}\Sigma/b`,
    and Markov's inequality on the squared norm (Chebyshev's inequality in one
    dimension) gives

    .. math:: P(\lVert g_b - g\rVert \ge \varepsilon)
              = P(\lVert g_b - g\rVert^2 \ge \varepsilon^2)
              \le \frac{\operatorname{tr}\Sigma}{b\,\varepsilon^2} \le \delta
              \iff b \ge \frac{\operatorname{tr}\Sigma}{\delta\,\varepsilon^2}.

    The result is the smallest such integer, at least 1. Given ``population``
    ``N`` (sampling without replacement), the mean squared error carries the
    factor :math:`(N-b)/(N-1)` and the condition becomes
    :math:`b \ge N\operatorname{tr}\Sigma / (\delta\varepsilon^2 (N-1) +
    \operatorname{tr}\Sigma)`, never more than ``N``. The guarantee holds for any
    distribution, so it is usually loose: the true probability at this ``b`` is
    often far below :math:`\delta`. (Section P8.)

    Args:
        variance: :math:`\operatorname{tr}\Sigma` (the variance in 1-D), a
            number or 0-d tensor ``>= 0``.
        eps: tolerance :math:`\varepsilon > 0`.
        delta: allowed probability of a larger error, in ``(0, 1]``.
        population: ``N`` for sampling without replacement; default ``None``.

    Returns:
        the batch size, an int. Bounds within a relative ``1e-9`` above an
        integer are rounded down to it (floating-point round-off).

    >>> chebyshev_batch_size(1.0, eps=0.1, delta=0.05)
    2000
    >>> chebyshev_batch_size(1.0, eps=0.1, delta=0.05, population=1000)
    667
    """
    if isinstance(variance, Tensor):
        if variance.numel() != 1:
            raise ValueError("variance must be a number (tr Sigma), not a matrix; "
                             f"got shape {tuple(variance.shape)}")
        variance = variance.item()  # a complex or bool value fails check_real
    var = check_real("variance", variance, low=0.0)
    eps = check_real("eps", eps, low=0.0, bounds="(]")
    delta = check_real("delta", delta, low=0.0, high=1.0, bounds="(]")
    if population is None:
        bound = var / (delta * eps**2)
    else:
        n = check_int("population", population, low=1)
        bound = n * var / (delta * eps**2 * (n - 1) + var) if n > 1 else 1.0
    return max(1, math.ceil(bound * (1 - _CEIL_RTOL)))


def stratified_variance(sizes: Sequence[int] | Tensor, variances: Tensor | Sequence,
                        allocation: Sequence[int] | Tensor, *,
                        replacement: bool = False) -> Tensor:
    r"""Variance of the stratified estimator :math:`\hat g = \sum_k W_k \bar g_k`.

    .. math:: \operatorname{Var}\hat g = \sum_k W_k^2\,\frac{\sigma_k^2}{n_k}\,
              c_k, \qquad c_k = \frac{N_k - n_k}{N_k - 1} \text{ without
              replacement inside the stratum}, \ c_k = 1 \text{ with},

    where :math:`W_k = N_k/N` and :math:`\sigma_k^2` is the population variance
    (divided by :math:`N_k`) of stratum ``k``. This is the variance of the
    batches of :class:`mbgd.data.StratifiedSampler` (without replacement).
    (Section P10.)

    Args:
        sizes: :math:`N_k`, shape ``(K,)``.
        variances: :math:`\sigma_k^2`, shape ``(K, ...)``: numbers ``>= 0``, or
            per-stratum covariance matrices ``(K, P, P)``; finite.
        allocation: :math:`n_k`, ints in ``[1, N_k]``, shape ``(K,)``.
        replacement: sampling inside each stratum with replacement.

    Returns:
        shape ``variances.shape[1:]``.

    >>> stratified_variance([50, 50], [1.0, 4.0], [2, 2], replacement=True)
    tensor(0.6250)
    """
    W = stratum_weights(sizes)
    sizes = torch.as_tensor(sizes).to(torch.int64)
    check_bool("replacement", replacement)
    variances = _as_numbers("variances", variances, "real numbers or a real tensor",
                            device=None)
    if not variances.is_floating_point():
        variances = variances.to(torch.float64)
    if variances.ndim == 0 or variances.shape[0] != W.numel():
        raise ValueError(f"variances must have first dimension K = {W.numel()}; got "
                         f"shape {tuple(variances.shape)}")
    _check_variances("variances", variances, numbers=variances.ndim == 1)
    rule = f"{W.numel()} ints with 1 <= n_k <= N_k = {sizes.tolist()}"
    n = _as_numbers("allocation", allocation, rule)
    if n.shape != W.shape or n.is_floating_point() or not (n >= 1).all() \
            or not (n <= sizes).all():
        raise ValueError(f"allocation must be {rule}; got {allocation!r}")
    if replacement:
        factor = W.square() / n
    else:
        fpc = torch.tensor([finite_population_correction(int(N), int(m))
                            for N, m in zip(sizes, n)], dtype=torch.float64)
        factor = W.square() / n * fpc
    factor = factor.to(device=variances.device, dtype=variances.dtype)
    return torch.tensordot(factor, variances, dims=1)
