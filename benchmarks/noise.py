"""Benchmark: per-example gradients with torch.func vs a loop of backward passes.

A small MLP (32 -> 64 -> 64 -> 10, tanh, cross-entropy), a batch of 256 examples.
Times ``mbgd.noise.per_example_grads`` (vmap of grad over functional_call) against
the obvious loop: 256 forward/backward passes on one example each, copying the
flattened gradient into a row of the (256, P) result. Checks that both agree, and
prints the best of several repeats (as timeit does) and the ratio. Goal: >= 10x.

Run: ``python benchmarks/noise.py``
"""

from __future__ import annotations

import torch
from torch import nn

from _timing import wall_times
from mbgd.noise import per_example_grads

BATCH, D_IN, HIDDEN, CLASSES = 256, 32, 64, 10


def loop_grads(model: nn.Module, loss_fn, x, y) -> torch.Tensor:
    params = list(model.parameters())
    out = torch.empty(x.shape[0], sum(p.numel() for p in params))
    for i in range(x.shape[0]):
        model.zero_grad()
        loss_fn(model(x[i:i + 1]), y[i:i + 1]).backward()
        torch.cat([p.grad.flatten() for p in params], out=out[i])
    return out


def best_time(fn, repeats: int) -> float:
    return min(wall_times(fn, repeats))


def main() -> None:
    gen = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.Linear(D_IN, HIDDEN), nn.Tanh(),
                          nn.Linear(HIDDEN, HIDDEN), nn.Tanh(),
                          nn.Linear(HIDDEN, CLASSES))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(0.2 * torch.randn(p.shape, generator=gen))
    x = torch.randn(BATCH, D_IN, generator=gen)
    y = torch.randint(CLASSES, (BATCH,), generator=gen)
    loss_fn = nn.CrossEntropyLoss()

    fast = per_example_grads(model, loss_fn, x, y)
    slow = loop_grads(model, loss_fn, x, y)
    err = float((fast - slow).abs().max())
    t_func = best_time(lambda: per_example_grads(model, loss_fn, x, y), 20)
    t_loop = best_time(lambda: loop_grads(model, loss_fn, x, y), 5)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; MLP with "
          f"P = {fast.shape[1]} parameters, batch {BATCH}; max |difference| {err:.1e}")
    print(f"torch.func (mbgd): {t_func * 1e3:8.2f} ms")
    print(f"backward loop:     {t_loop * 1e3:8.2f} ms")
    print(f"ratio loop / torch.func: {t_loop / t_func:.1f}x (goal >= 10x)")


if __name__ == "__main__":
    main()
