"""One row per layer family of the convolutional module: kerastorch vs the hand-written torch call.

Each row times the kerastorch layer and what a torch expert writes for the same computation on the
same channels_last (NHWC) data and the same weights, interleaved, medians of ``--reps`` after 3
warm-up rounds, forward (no grad) and forward+backward. The hand-written version computes exactly
what tf.keras computes (TF's 'same' placement included), checked equal before timing.

    python benchmarks/bench_conv_family.py --reps 30
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import torch
import torch.nn.functional as F

import kerastorch as kt
from kerastorch import layers as L


def _nchw(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 3, 1, 2)


def _nhwc(y: torch.Tensor) -> torch.Tensor:
    return y.permute(0, 2, 3, 1)


def conv_transpose_k4(layer: L.Conv2DTranspose) -> Callable[[torch.Tensor], torch.Tensor]:
    # kernel 4, stride 2, 'same': TF keeps the full result cropped by 1 on both sides = torch padding=1
    w, b = layer.kernel.permute(0, 3, 1, 2), layer.bias  # stored (in, kh, kw, out) -> (in, out, kh, kw) view
    return lambda x: _nhwc(F.conv_transpose2d(_nchw(x), w, b, 2, 1))


def conv_transpose_k3(layer: L.Conv2DTranspose) -> Callable[[torch.Tensor], torch.Tensor]:
    # kernel 3, stride 2, 'same': TF crops 0 at the start and 1 at the end (torch can only crop the start)
    w, b = layer.kernel.permute(0, 3, 1, 2), layer.bias
    return lambda x: _nhwc(F.conv_transpose2d(_nchw(x), w, b, 2, 0)[:, :, :-1, :-1])


def depthwise(layer: L.DepthwiseConv2D) -> Callable[[torch.Tensor], torch.Tensor]:
    k = layer.depthwise_kernel  # stored (in, M, kh, kw)
    w = k.reshape(k.shape[0] * k.shape[1], 1, *k.shape[2:])
    return lambda x: _nhwc(F.conv2d(_nchw(x), w, layer.bias, 1, 1, 1, k.shape[0]))


def separable(layer: L.SeparableConv2D) -> Callable[[torch.Tensor], torch.Tensor]:
    k = layer.depthwise_kernel
    dw = k.reshape(k.shape[0] * k.shape[1], 1, *k.shape[2:])
    pw = layer.pointwise_kernel.permute(0, 3, 1, 2)  # stored (out, 1, 1, in)
    return lambda x: _nhwc(F.conv2d(F.conv2d(_nchw(x), dw, None, 1, 1, 1, k.shape[0]), pw, layer.bias))


def conv1d_causal(layer: L.Conv1D) -> Callable[[torch.Tensor], torch.Tensor]:
    # what a torch user writes: conv1d on the (N, C, L) view of the (N, L, C) data, left pad for 'causal'
    w = layer.kernel.permute(0, 2, 1)  # stored (out, k, in) -> (out, in, k)
    return lambda x: F.conv1d(F.pad(x.permute(0, 2, 1), (2, 0)), w, layer.bias).permute(0, 2, 1)


def upsample(mode: str) -> Callable[[L.UpSampling2D], Callable[[torch.Tensor], torch.Tensor]]:
    extra = {"align_corners": False} if mode == "bilinear" else {}
    return lambda layer: (lambda x: _nhwc(F.interpolate(_nchw(x), scale_factor=2, mode=mode, **extra)))


def zero_pad(layer: L.ZeroPadding2D) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: F.pad(x, (0, 0, 1, 1, 1, 1))


def crop(layer: L.Cropping2D) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: x[:, 1:-1, 1:-1]


# name: (layer factory, NHWC input shape, hand-written torch factory)
ROWS = {
    "Conv2DTranspose k4 s2 same": (lambda: L.Conv2DTranspose(64, 4, strides=2, padding="same"), (4, 28, 28, 64), conv_transpose_k4),
    "Conv2DTranspose k3 s2 same": (lambda: L.Conv2DTranspose(64, 3, strides=2, padding="same"), (4, 28, 28, 64), conv_transpose_k3),
    "DepthwiseConv2D 3x3 same": (lambda: L.DepthwiseConv2D(3, padding="same"), (4, 56, 56, 64), depthwise),
    "SeparableConv2D 3x3 same": (lambda: L.SeparableConv2D(64, 3, padding="same"), (4, 56, 56, 32), separable),
    "Conv1D k3 causal": (lambda: L.Conv1D(64, 3, padding="causal"), (8, 512, 64), conv1d_causal),
    "UpSampling2D nearest": (lambda: L.UpSampling2D(2), (4, 56, 56, 64), upsample("nearest")),
    "UpSampling2D bilinear": (lambda: L.UpSampling2D(2, interpolation="bilinear"), (4, 56, 56, 64), upsample("bilinear")),
    "ZeroPadding2D 1": (lambda: L.ZeroPadding2D(1), (4, 56, 56, 64), zero_pad),
    "Cropping2D 1": (lambda: L.Cropping2D(1), (4, 56, 56, 64), crop),
}


def _time(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, grad: torch.Tensor, params: list, backward: bool) -> float:
    xi = x.detach().requires_grad_(backward)
    start = time.perf_counter()
    if backward:
        fn(xi).backward(grad)
        for p in params:
            p.grad = None
    else:
        with torch.no_grad():
            fn(xi)
    return time.perf_counter() - start


def bench_row(name: str, reps: int) -> dict[str, float]:
    make, shape, hand = ROWS[name]
    kt.clear_session()
    torch.manual_seed(0)
    layer = make()
    x = torch.randn(shape)
    layer(x)  # build
    with torch.no_grad():
        for p in layer.parameters():  # non-zero bias, so both sides really add it
            p.normal_(0, 0.1)
    ref = hand(layer)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), ref(x), rtol=1e-5, atol=1e-5)
    grad = torch.randn(layer(x).shape)
    params = list(layer.parameters())
    out = {}
    for backward in (False, True):
        times: dict[str, list[float]] = {"torch": [], "kerastorch": []}
        fns = {"torch": ref, "kerastorch": layer}
        for i in range(reps + 3):
            for key in (("torch", "kerastorch") if i % 2 else ("kerastorch", "torch")):
                t = _time(fns[key], x, grad, params, backward)
                if i >= 3:
                    times[key].append(t)
        mode = "fwd+bwd" if backward else "fwd"
        for key, values in times.items():
            out[f"{key} {mode}"] = statistics.median(values)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rows", default=",".join(ROWS))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, float32 CPU, medians of {args.reps}")
    print("| layer | input | torch fwd ms | kt fwd ms | kt/torch fwd | torch fwd+bwd ms | kt fwd+bwd ms | kt/torch fwd+bwd |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.rows.split(","):
        r = bench_row(name, args.reps)
        shape = ROWS[name][1]
        print(
            f"| {name} | {shape} | {r['torch fwd'] * 1e3:.3f} | {r['kerastorch fwd'] * 1e3:.3f} | "
            f"{r['kerastorch fwd'] / r['torch fwd']:.3f} | {r['torch fwd+bwd'] * 1e3:.3f} | "
            f"{r['kerastorch fwd+bwd'] * 1e3:.3f} | {r['kerastorch fwd+bwd'] / r['torch fwd+bwd']:.3f} |"
        )


if __name__ == "__main__":
    main()
