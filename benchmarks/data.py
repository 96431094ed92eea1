"""Benchmark: one epoch of mbgd.data.TensorBatches vs DataLoader vs the bare loop.

X is 100000 x 32 (float32), y has 100000 labels. For each batch size b, time one
full epoch (drawing the permutation included, touching every batch) of

* ``TensorBatches(X, y, batch_size=b, seed=...)``;
* ``DataLoader(TensorDataset(X, y), batch_size=b, shuffle=True)``;
* the bare loop ``perm = randperm(N); Xs, ys = X[perm], y[perm]`` followed by the
  views ``Xs[i:i+b], ys[i:i+b]``;
* the same bare loop gathering with ``index_select`` (what TensorBatches does;
  on the CPU it is faster than advanced indexing ``X[perm]``), for reference.

Goals: TensorBatches >= 10x faster than DataLoader at b = 32, and <= 1.2x the bare
loop at every b. The methods take turns, epoch by epoch, and each keeps its best
time (as timeit does: the one least disturbed by other work on the machine).

Run: ``python benchmarks/data.py``
"""

from __future__ import annotations

import time

import torch
from torch.utils.data import DataLoader, TensorDataset

from mbgd.data import TensorBatches

N, D = 100_000, 32
BATCH_SIZES = (32, 256, 4096)


def epoch_time(make_epoch) -> float:
    """Seconds for one epoch that touches every batch."""
    start = time.perf_counter()
    for xb, yb in make_epoch():
        pass
    return time.perf_counter() - start


def main() -> None:
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(N, D, generator=gen)
    y = torch.randint(10, (N,), generator=gen)
    loader_gen = torch.Generator().manual_seed(1)
    bare_gen = torch.Generator().manual_seed(2)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"X {tuple(X.shape)}, one epoch, best of interleaved repeats")
    print(f"{'b':>5} {'mbgd':>10} {'bare':>10} {'bare(i_s)':>10} {'DataLoader':>11} "
          f"{'mbgd/bare':>10} {'mbgd/bare(i_s)':>15} {'DL/mbgd':>8}")

    def bare(b, index_select=False):
        def epoch():
            perm = torch.randperm(N, generator=bare_gen)
            if index_select:
                Xs, ys = X.index_select(0, perm), y.index_select(0, perm)
            else:
                Xs, ys = X[perm], y[perm]
            for i in range(0, N, b):
                yield Xs[i:i + b], ys[i:i + b]
        return epoch

    for b in BATCH_SIZES:
        batches = TensorBatches(X, y, batch_size=b, seed=0)
        loader = DataLoader(TensorDataset(X, y), batch_size=b, shuffle=True,
                            generator=loader_gen)
        runs = {"mbgd": lambda: batches, "bare": bare(b),
                "bare(i_s)": bare(b, index_select=True), "DataLoader": lambda: loader}
        best = dict.fromkeys(runs, float("inf"))
        # Interleaved, so that a disturbance hits every method alike; the first
        # round warms up. DataLoader is slow: 3 timed epochs are enough.
        for rep in range(21):
            for name, make_epoch in runs.items():
                if name == "DataLoader" and rep > 3:
                    continue
                t = epoch_time(make_epoch)
                if rep > 0:
                    best[name] = min(best[name], t)
        t_mbgd, t_bare, t_bis, t_dl = best.values()
        print(f"{b:>5} {t_mbgd * 1e3:>8.2f}ms {t_bare * 1e3:>8.2f}ms "
              f"{t_bis * 1e3:>8.2f}ms {t_dl * 1e3:>9.1f}ms {t_mbgd / t_bare:>10.2f} "
              f"{t_mbgd / t_bis:>15.2f} {t_dl / t_mbgd:>8.1f}")
    print("goals: DL/mbgd >= 10 at b=32; mbgd/bare <= 1.2 at every b")


if __name__ == "__main__":
    main()
