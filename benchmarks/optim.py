"""Speed of mbgd.optim's multi-tensor path against torch.optim (foreach=True).

Two models: an MLP 784-1024-256-10 (about 1.07M parameters in 6 tensors, where
the arithmetic dominates) and 200 ``Linear(32, 32)`` layers (211k parameters in 400
small tensors, where the cost per tensor dominates). For SGD with momentum and for
Adam it prints the median time of one ``step()`` (random gradients set once, after
a warm-up; implementations measured in turn, round-robin, so that drift hits all
alike), the ratio mbgd / torch (goal: <= 1.0), and torch's ``fused=True`` for
reference (a single compiled kernel, which mbgd does not try to match).

Usage: ``python benchmarks/optim.py [--repeats 15] [--inner 10] [--threads N]
[--device cpu]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from mbgd import optim
from mbgd.device import resolve_device
from mbgd.seeding import as_generator


def mlp() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(784, 1024), torch.nn.ReLU(),
        torch.nn.Linear(1024, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 10),
    )


def deep() -> torch.nn.Module:
    return torch.nn.Sequential(*[torch.nn.Linear(32, 32) for _ in range(200)])


MODELS = {"MLP 784-1024-256-10": mlp, "200 x Linear(32, 32)": deep}
OPTIMIZERS = {
    "SGD(momentum=0.9)": ("SGD", {"lr": 1e-3, "momentum": 0.9}),
    "Adam": ("Adam", {"lr": 1e-3}),
}
IMPLEMENTATIONS = {  # name -> (module, extra kwargs)
    "torch foreach": (torch.optim, {"foreach": True}),
    "mbgd": (optim, {"foreach": True}),
    "torch fused": (torch.optim, {"fused": True}),
}


def _params(build, device: torch.device, seed: int) -> list[torch.Tensor]:
    """Fresh parameters of one model with random gradients attached."""
    gen = as_generator(seed)
    with torch.random.fork_rng(devices=[]):  # layer init draws from the global RNG
        torch.manual_seed(seed)
        params = [p.detach().to(device) for p in build().parameters()]
    for p in params:
        p.requires_grad_()
        p.grad = torch.randn(p.shape, generator=gen).to(device)
    return params


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(models: dict, optimizers: dict, repeats: int, inner: int,
               device: torch.device) -> dict:
    """Median seconds per step for every (model, optimizer, implementation)."""
    results = {}
    for model_name, build in models.items():
        for opt_name, (cls_name, kwargs) in optimizers.items():
            opts = {}
            for impl, (module, extra) in IMPLEMENTATIONS.items():
                params = _params(build, device, seed=0)
                opts[impl] = getattr(module, cls_name)(params, **kwargs, **extra)
                for _ in range(5):  # warm-up (state allocation, caches)
                    opts[impl].step()
            times = {impl: [] for impl in opts}
            for _ in range(repeats):
                for impl, opt in opts.items():
                    _sync(device)
                    start = time.perf_counter()
                    for _ in range(inner):
                        opt.step()
                    _sync(device)
                    times[impl].append((time.perf_counter() - start) / inner)
            n = sum(p.numel() for p in opts["mbgd"].param_groups[0]["params"])
            results[model_name, opt_name] = (n, {
                impl: statistics.median(t) for impl, t in times.items()
            })
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15,
                        help="timed repeats per implementation (median reported)")
    parser.add_argument("--inner", type=int, default=10,
                        help="steps per timed repeat")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--device", default=None,
                        help="torch device (default: mbgd's default device)")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.inner < 1 or (args.threads or 1) < 1:
        parser.error("--repeats, --inner and --threads must be >= 1")
    device = resolve_device(args.device)
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    print(f"torch {torch.__version__}, device {device}, "
          f"{torch.get_num_threads()} threads, median of {args.repeats} repeats "
          f"x {args.inner} steps, float32")
    head = (f"{'model':<22}{'params':>8}  {'optimizer':<18}{'torch foreach':>14}"
            f"{'mbgd':>11}{'ratio':>7}{'torch fused':>13}")
    print(head)
    print("-" * len(head))
    results = time_steps(MODELS, OPTIMIZERS, args.repeats, args.inner, device)
    for (model_name, opt_name), (n, t) in results.items():
        ratio = t["mbgd"] / t["torch foreach"]
        print(f"{model_name:<22}{n / 1e6:>7.2f}M  {opt_name:<18}"
              f"{t['torch foreach'] * 1e6:>11.0f} us{t['mbgd'] * 1e6:>8.0f} us"
              f"{ratio:>7.2f}{t['torch fused'] * 1e6:>10.0f} us")


if __name__ == "__main__":
    main()
