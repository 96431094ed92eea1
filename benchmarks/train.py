"""Benchmark: mbgd.train vs the textbook DataLoader loop vs a hand-written loop.

Linear regression, N = 10000 examples, d = 20 features, batch 64, 20 epochs of
plain SGD (lr 0.01) on ``nn.Linear(20, 1)`` with ``nn.MSELoss``. Times

* (a) ``mbgd.train(...)`` with the progress bar off but the loss history and the
  divergence checks on (its defaults);
* (b) the textbook loop over ``DataLoader(TensorDataset(X, y), batch_size=64,
  shuffle=True)``;
* (c) a hand-written loop: ``perm = torch.randperm(N)`` each epoch, then
  ``X[perm[i:i+64]]`` per batch, with no history and no checks.

Each run starts from the same initial weights; the final losses are printed as a
sanity check (the three agree to about 1e-3: they see different batch orders).
Goal: (a) <= 1.1x (c), and about 3x faster than (b). Best of several repeats.

Run: ``python benchmarks/train.py``
"""

from __future__ import annotations

import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from mbgd.train import train

N, D, BATCH, EPOCHS, LR = 10_000, 20, 64, 20, 0.01


def make_model(init: dict) -> nn.Module:
    model = nn.Linear(D, 1)
    model.load_state_dict(init)
    return model


def run_mbgd(X, y, init, seed) -> nn.Module:
    model = make_model(init)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    train(model, nn.MSELoss(), (X, y), opt, epochs=EPOCHS, batch_size=BATCH,
          seed=seed, progress=False)
    return model


def run_dataloader(X, y, init, seed) -> nn.Module:
    model = make_model(init)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = nn.MSELoss()
    loader = DataLoader(TensorDataset(X, y), batch_size=BATCH, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    for _ in range(EPOCHS):
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
    return model


def run_hand(X, y, init, seed) -> nn.Module:
    model = make_model(init)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = nn.MSELoss()
    gen = torch.Generator().manual_seed(seed)
    for _ in range(EPOCHS):
        perm = torch.randperm(N, generator=gen)
        for i in range(0, N, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            opt.step()
    return model


def main() -> None:
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(N, D, generator=gen)
    w = torch.randn(D, 1, generator=gen)
    y = X @ w + 0.1 * torch.randn(N, 1, generator=gen)
    init = {k: torch.zeros_like(v) for k, v in nn.Linear(D, 1).state_dict().items()}
    runs = {"(a) mbgd.train": run_mbgd, "(b) DataLoader loop": run_dataloader,
            "(c) hand-written loop": run_hand}
    best = {name: float("inf") for name in runs}
    final = {}
    for rep in range(5):  # interleaved, so load changes hit all three alike
        for name, fn in runs.items():
            if name.startswith("(b)") and rep >= 3:
                continue  # the slow one: 3 repeats are enough
            start = time.perf_counter()
            model = fn(X, y, init, seed=rep)
            best[name] = min(best[name], time.perf_counter() - start)
            with torch.no_grad():
                final[name] = float(nn.functional.mse_loss(model(X), y))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; N={N}, "
          f"d={D}, batch {BATCH}, {EPOCHS} epochs = {EPOCHS * -(-N // BATCH)} steps; "
          "best of repeats")
    for name in runs:
        print(f"{name:<24} {best[name]:7.3f} s   final full-batch MSE "
              f"{final[name]:.5f}")
    a, b, c = best.values()
    print(f"mbgd / hand-written:  {a / c:.2f} (goal <= 1.1)")
    print(f"DataLoader / mbgd:    {b / a:.2f} (goal about 3)")
    print(f"per-step overhead of mbgd vs hand-written: "
          f"{(a - c) / (EPOCHS * -(-N // BATCH)) * 1e6:+.1f} us")


if __name__ == "__main__":
    main()
