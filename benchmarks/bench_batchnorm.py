"""BatchNormalization speed: kerastorch.layers.BatchNormalization vs hand-written torch, in one run (ratios).

Channels_last inputs (Keras's layout): kerastorch hands torch the NCHW view of the NHWC tensor (no copy);
the hand-written reference does the same with ``F.batch_norm`` and its own running-statistics buffers.
Modes: ``eval fwd`` (inference, moving statistics), ``train fwd`` (batch statistics and the moving-average
update, no grad) and ``train fwd+bwd`` (grads for the input, gamma and beta).

    python benchmarks/bench_batchnorm.py [--threads 2] [--reps 30] [--device cpu] [--compile]

Implementations (same weights, same math; kerastorch's fused path takes the same unbiased update torch does):
- torch:      F.batch_norm on the channels-first view, momentum = 1 - Keras momentum.
- kerastorch: kerastorch.layers.BatchNormalization (momentum 0.99, epsilon 1e-3).
- torch_copy: like torch but with ``.contiguous()`` NCHW copies in and out -- what a layer that does not keep
              channels_last views pays.
"""
from __future__ import annotations

import argparse
import json
from typing import Callable

import torch
import torch.nn.functional as F

import kerastorch as kt
import kerastorch.layers as L
from bench_dense import Bench, fmt_ms

SHAPES = {
    "resnet_32x56x56x64": (32, 56, 56, 64),
    "mid_8x28x28x256": (8, 28, 28, 256),
    "seq_16x100x64": (16, 100, 64),
    "mlp_64x512": (64, 512),
    "tiny_4x8x8x16": (4, 8, 8, 16),
}


def _to_first(x: torch.Tensor) -> torch.Tensor:
    """The channels-first view of a channels_last tensor (rank 2: itself)."""
    return x if x.dim() == 2 else x.movedim(-1, 1)


def _to_last(y: torch.Tensor) -> torch.Tensor:
    return y if y.dim() == 2 else y.movedim(1, -1)


class BNCase:
    def __init__(self, shape: tuple[int, ...], device: str):
        gen = torch.Generator().manual_seed(0)
        self.x = torch.randn(shape, generator=gen).to(device)
        c = shape[-1]
        self.layer = L.BatchNormalization(input_shape=shape[1:]).to(device)
        self.layer.set_weights([torch.rand(c, generator=gen) + 0.5, torch.randn(c, generator=gen) * 0.1,
                                torch.randn(c, generator=gen) * 0.1, torch.rand(c, generator=gen) + 0.5])
        self.gamma = self.layer.gamma.detach().clone().requires_grad_(True)
        self.beta = self.layer.beta.detach().clone().requires_grad_(True)
        self.mean = self.layer.moving_mean.detach().clone()
        self.var = self.layer.moving_variance.detach().clone()
        self.grad = torch.randn(shape, generator=gen).to(device)
        self.leaves = [self.gamma, self.beta, self.layer.gamma, self.layer.beta]

    def impls(self, training: bool) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
        def torch_fn(x):
            return _to_last(F.batch_norm(_to_first(x), self.mean, self.var, self.gamma, self.beta, training, 0.01, 1e-3))

        def torch_copy(x):
            y = F.batch_norm(_to_first(x).contiguous(), self.mean, self.var, self.gamma, self.beta, training, 0.01, 1e-3)
            return _to_last(y).contiguous()

        def kerastorch_fn(x):
            return self.layer(x, training=training)

        return {"torch": torch_fn, "kerastorch": kerastorch_fn, "torch_copy": torch_copy}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--device", default="cpu")
    p.add_argument("--compile", action="store_true", help="also time torch.compile(fullgraph) train fwd+bwd")
    p.add_argument("--shapes", default=",".join(SHAPES))
    p.add_argument("--json", default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    bench = Bench(args.device, args.reps)
    print(f"torch {torch.__version__}, kerastorch {kt.__version__}, device {args.device}, threads {args.threads}, "
          f"reps {args.reps}")
    header = "| shape | mode | torch ms | kerastorch ms | kt/torch | torch_copy/torch |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    results = {}
    for name in [n for n in args.shapes.split(",") if n]:
        case = BNCase(SHAPES[name], args.device)
        for mode, training, grad in (("eval fwd", False, None), ("train fwd", True, None),
                                     ("train fwd+bwd", True, case.grad)):
            med = bench.medians(case.impls(training), case.x, grad, case.leaves)
            results[f"{name}/{mode}"] = med
            print(f"| {name} | {mode} | {fmt_ms(med['torch'])} | {fmt_ms(med['kerastorch'])} | "
                  f"{med['kerastorch'] / med['torch']:.3f} | {med['torch_copy'] / med['torch']:.3f} |", flush=True)
        if args.compile:
            torch._dynamo.reset()
            impls = case.impls(True)
            compiled = {k: torch.compile(impls[k], fullgraph=True, dynamic=False) for k in ("torch", "kerastorch")}
            med = bench.medians(compiled, case.x, case.grad, case.leaves)
            results[f"{name}/compiled"] = med
            print(f"| {name} | compiled train fwd+bwd | {fmt_ms(med['torch'])} | {fmt_ms(med['kerastorch'])} | "
                  f"{med['kerastorch'] / med['torch']:.3f} | - |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
