"""Dense speed: kerastorch.layers.Dense vs hand-written torch, in one run (ratios, never absolute claims).

For each shape it times forward (no grad) and forward+backward (grads for input, kernel and bias),
interleaving the implementations round-robin so drift hits all of them alike, and prints medians and ratios.

    python benchmarks/bench_dense.py [--threads 2] [--reps 30] [--device cpu] [--compile]

Implementations (same weights, same math):
- torch:        F.linear(x, W, b) with W the contiguous (units, input_dim) tensor torch's linear reads.
- kerastorch:   kerastorch.layers.Dense (stores that same layout; Keras's (input_dim, units) kernel is a view).
- torch_kernel: F.linear(x, K.t(), b) with K kept in Keras's (input_dim, units) layout -- what a naive
                "store the Keras kernel" layer pays.

The timing harness (``Bench``) is shared with bench_batchnorm.py.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any, Callable

import torch
import torch.nn.functional as F

import kerastorch as kt
import kerastorch.layers as L

SHAPES = {
    # name: (input shape, units)
    "mlp_256x512_512": ((256, 512), 512),
    "head_64x2048_1000": ((64, 2048), 1000),
    "tokens_8x128x768_3072": ((8, 128, 768), 3072),
    "nhwc_8x14x14x256_64": ((8, 14, 14, 256), 64),
    "tiny_4x16_8": ((4, 16), 8),
}


class Bench:
    """Round-robin timing of a few implementations of one computation on one input."""

    def __init__(self, device: str, reps: int, warmup: int = 3):
        self.device, self.reps, self.warmup = device, reps, warmup

    def sync(self) -> None:
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()

    def once(self, fn: Callable[[torch.Tensor], Any], x: torch.Tensor, grad: torch.Tensor | None,
             leaves: list[torch.Tensor]) -> float:
        """One forward (no grad) or forward+backward (``grad`` given) of ``fn`` on ``x``; seconds."""
        x = x.detach().requires_grad_(grad is not None)
        self.sync()
        start = time.perf_counter()
        if grad is not None:
            fn(x).backward(grad)
        else:
            with torch.no_grad():
                fn(x)
        self.sync()
        elapsed = time.perf_counter() - start
        for t in leaves:
            t.grad = None
        return elapsed

    def medians(self, impls: dict[str, Callable[[torch.Tensor], Any]], x: torch.Tensor, grad: torch.Tensor | None,
                leaves: list[torch.Tensor]) -> dict[str, float]:
        names = list(impls)
        times: dict[str, list[float]] = {n: [] for n in names}
        for i in range(self.reps + self.warmup):
            for n in names[i % len(names):] + names[: i % len(names)]:
                t = self.once(impls[n], x, grad, leaves)
                if i >= self.warmup:
                    times[n].append(t)
        return {n: statistics.median(v) for n, v in times.items()}


def fmt_ms(t: float) -> str:
    return f"{t * 1e3:.3f}"


class DenseCase:
    def __init__(self, shape: tuple[int, ...], units: int, device: str):
        gen = torch.Generator().manual_seed(0)
        self.x = torch.randn(shape, generator=gen).to(device)
        self.layer = L.Dense(units, bias_initializer="random_normal", input_shape=shape[1:]).to(device)
        kernel = self.layer.keras_weight("kernel").detach()  # Keras (input_dim, units)
        self.w = kernel.t().contiguous().requires_grad_(True)
        self.k = kernel.contiguous().requires_grad_(True)
        self.b = self.layer.bias.detach().clone().requires_grad_(True)
        self.grad = torch.randn(*shape[:-1], units, generator=gen).to(device)
        self.leaves = [self.w, self.k, self.b, self.layer.kernel, self.layer.bias]

    def impls(self) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
        return {
            "torch": lambda x: F.linear(x, self.w, self.b),
            "kerastorch": self.layer,
            "torch_kernel": lambda x: F.linear(x, self.k.t(), self.b),
        }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--device", default="cpu")
    p.add_argument("--compile", action="store_true", help="also time torch.compile(fullgraph) of torch and kerastorch")
    p.add_argument("--shapes", default=",".join(SHAPES))
    p.add_argument("--json", default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    bench = Bench(args.device, args.reps)
    print(f"torch {torch.__version__}, kerastorch {kt.__version__}, device {args.device}, threads {args.threads}, "
          f"reps {args.reps}")
    header = "| shape | mode | torch ms | kerastorch ms | kt/torch | torch_kernel/torch |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    results = {}
    for name in [n for n in args.shapes.split(",") if n]:
        case = DenseCase(*SHAPES[name], args.device)
        for mode, grad in (("fwd", None), ("fwd+bwd", case.grad)):
            med = bench.medians(case.impls(), case.x, grad, case.leaves)
            results[f"{name}/{mode}"] = med
            print(f"| {name} | {mode} | {fmt_ms(med['torch'])} | {fmt_ms(med['kerastorch'])} | "
                  f"{med['kerastorch'] / med['torch']:.3f} | {med['torch_kernel'] / med['torch']:.3f} |", flush=True)
        if args.compile:
            torch._dynamo.reset()
            impls = case.impls()
            compiled = {k: torch.compile(impls[k], fullgraph=True, dynamic=False) for k in ("torch", "kerastorch")}
            med = bench.medians(compiled, case.x, case.grad, case.leaves)
            results[f"{name}/compiled"] = med
            print(f"| {name} | compiled fwd+bwd | {fmt_ms(med['torch'])} | {fmt_ms(med['kerastorch'])} | "
                  f"{med['kerastorch'] / med['torch']:.3f} | - |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
