"""One row per pooling layer configuration: kerastorch vs the hand-written torch call, in the same run.

Each row times the kerastorch layer and what a torch expert writes for the same computation on the same
data (channels_last NHWC unless the row says channels_first), interleaved, medians of ``--reps`` after 3
warm-up rounds, forward (no grad) and forward+backward (input gradient). The hand-written version computes
exactly what tf.keras computes (TF's 'same' split and divisor included) and is checked equal before timing.
For a stride-1 even pool with 'same' padding the hand-written version is the usual idiom (an explicit
-inf / zero pad after, plus a divisor correction map for the average); kerastorch slices torch's symmetric
result instead (see kerastorch/layers/pooling/base_pooling.py).

    python benchmarks/bench_pooling.py --reps 30 [--stat min]

``--stat min`` reports the fastest round of each instead of the median: on a loaded machine (other processes
preempting this one) the median measures the scheduler, the minimum the kernels.
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

Fn = Callable[[torch.Tensor], torch.Tensor]


def _nchw(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 3, 1, 2)


def _nhwc(y: torch.Tensor) -> torch.Tensor:
    return y.permute(0, 2, 3, 1)


def max2d(k: int, s: int, p: int = 0, ceil: bool = False) -> Fn:
    return lambda x: _nhwc(F.max_pool2d(_nchw(x), k, s, p, ceil_mode=ceil))


def avg2d(k: int, s: int, p: int = 0, ceil: bool = False) -> Fn:
    return lambda x: _nhwc(F.avg_pool2d(_nchw(x), k, s, p, ceil_mode=ceil, count_include_pad=False))


def max2d_pad_after(x: torch.Tensor) -> torch.Tensor:
    # 2x2, stride 1, 'same': TF pads one row/col after; the usual idiom pads with -inf explicitly
    return _nhwc(F.max_pool2d(F.pad(_nchw(x), (0, 1, 0, 1), value=float("-inf")), 2, 1))


def avg2d_pad_after(shape: tuple[int, ...]) -> Fn:
    # 2x2, stride 1, 'same': zero pad after, then TF's divisor (the last row/col average 2 or 1 real inputs)
    h, w = shape[1:3]
    count = F.avg_pool2d(F.pad(torch.ones(1, 1, h, w), (0, 1, 0, 1)), 2, 1, divisor_override=1)[0, 0]
    factor = 4.0 / count

    def fn(x: torch.Tensor) -> torch.Tensor:
        return _nhwc(F.avg_pool2d(F.pad(_nchw(x), (0, 1, 0, 1)), 2, 1) * factor)

    return fn


def max1d_same(x: torch.Tensor) -> torch.Tensor:
    # pool 3, stride 2, 'same' on an even length: TF split (0, 1) = ceil_mode's overhanging window
    return F.max_pool1d(x.permute(0, 2, 1), 3, 2, 0, ceil_mode=True).permute(0, 2, 1)


def avg1d(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool1d(x.permute(0, 2, 1), 2, 2).permute(0, 2, 1)


def pool3d(op: Callable[..., torch.Tensor]) -> Fn:
    return lambda x: op(x.permute(0, 4, 1, 2, 3), 2, 2).permute(0, 2, 3, 4, 1)


# name: (layer factory, input shape, hand-written torch factory taking the input shape)
ROWS: dict[str, tuple[Callable[[], torch.nn.Module], tuple[int, ...], Callable[[tuple[int, ...]], Fn]]] = {
    "MaxPooling2D 2x2 valid": (lambda: L.MaxPooling2D(2), (4, 56, 56, 64), lambda s: max2d(2, 2)),
    "MaxPooling2D 3x3 s2 same": (lambda: L.MaxPooling2D(3, 2, "same"), (4, 56, 56, 64), lambda s: max2d(3, 2, 0, True)),
    "MaxPooling2D 3x3 s1 same": (lambda: L.MaxPooling2D(3, 1, "same"), (4, 56, 56, 64), lambda s: max2d(3, 1, 1)),
    "MaxPooling2D 2x2 s1 same": (lambda: L.MaxPooling2D(2, 1, "same"), (4, 56, 56, 64), lambda s: max2d_pad_after),
    "MaxPooling2D 2x2 channels_first": (lambda: L.MaxPooling2D(2, data_format="channels_first"), (4, 64, 56, 56),
                                        lambda s: lambda x: F.max_pool2d(x, 2, 2)),
    "AveragePooling2D 2x2 valid": (lambda: L.AveragePooling2D(2), (4, 56, 56, 64), lambda s: avg2d(2, 2)),
    "AveragePooling2D 3x3 s1 same": (lambda: L.AveragePooling2D(3, 1, "same"), (4, 56, 56, 64), lambda s: avg2d(3, 1, 1)),
    "AveragePooling2D 3x3 s2 same": (lambda: L.AveragePooling2D(3, 2, "same"), (4, 56, 56, 64), lambda s: avg2d(3, 2, 0, True)),
    "AveragePooling2D 2x2 s1 same": (lambda: L.AveragePooling2D(2, 1, "same"), (4, 56, 56, 64), avg2d_pad_after),
    "MaxPooling1D 3 s2 same": (lambda: L.MaxPooling1D(3, 2, "same"), (8, 512, 64), lambda s: max1d_same),
    "AveragePooling1D 2 valid": (lambda: L.AveragePooling1D(2), (8, 512, 64), lambda s: avg1d),
    "MaxPooling3D 2 valid": (lambda: L.MaxPooling3D(2), (2, 16, 28, 28, 32), lambda s: pool3d(F.max_pool3d)),
    "AveragePooling3D 2 valid": (lambda: L.AveragePooling3D(2), (2, 16, 28, 28, 32), lambda s: pool3d(F.avg_pool3d)),
    "GlobalMaxPooling2D": (lambda: L.GlobalMaxPooling2D(), (4, 56, 56, 64), lambda s: lambda x: x.amax((1, 2))),
    "GlobalAveragePooling2D": (lambda: L.GlobalAveragePooling2D(), (4, 56, 56, 64), lambda s: lambda x: x.mean((1, 2))),
}


def _time(fn: Fn, x: torch.Tensor, grad: torch.Tensor, backward: bool) -> float:
    xi = x.detach().requires_grad_(backward)
    start = time.perf_counter()
    if backward:
        fn(xi).backward(grad)
    else:
        with torch.no_grad():
            fn(xi)
    return time.perf_counter() - start


def bench_row(name: str, reps: int, stat: Callable[[list[float]], float] = statistics.median) -> dict[str, float]:
    make, shape, hand = ROWS[name]
    kt.clear_session()
    torch.manual_seed(0)
    layer = make()
    x = torch.randn(shape)
    ref = hand(shape)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), ref(x), rtol=1e-5, atol=1e-5)
    grad = torch.randn(layer(x).shape)
    out = {}
    for backward in (False, True):
        times: dict[str, list[float]] = {"torch": [], "kerastorch": []}
        fns = {"torch": ref, "kerastorch": layer}
        for i in range(reps + 3):
            for key in (("torch", "kerastorch") if i % 2 else ("kerastorch", "torch")):
                t = _time(fns[key], x, grad, backward)
                if i >= 3:
                    times[key].append(t)
        mode = "fwd+bwd" if backward else "fwd"
        for key, values in times.items():
            out[f"{key} {mode}"] = stat(values)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rows", default=",".join(ROWS))
    p.add_argument("--stat", choices=["median", "min"], default="median")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    stat = statistics.median if args.stat == "median" else min
    print(f"torch {torch.__version__}, {args.threads} threads, float32 CPU, {args.stat} of {args.reps}")
    print("| layer | input | torch fwd ms | kt fwd ms | kt/torch fwd | torch fwd+bwd ms | kt fwd+bwd ms | kt/torch fwd+bwd |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.rows.split(","):
        r = bench_row(name, args.reps, stat)
        shape = ROWS[name][1]
        print(
            f"| {name} | {shape} | {r['torch fwd'] * 1e3:.3f} | {r['kerastorch fwd'] * 1e3:.3f} | "
            f"{r['kerastorch fwd'] / r['torch fwd']:.3f} | {r['torch fwd+bwd'] * 1e3:.3f} | "
            f"{r['kerastorch fwd+bwd'] * 1e3:.3f} | {r['kerastorch fwd+bwd'] / r['torch fwd+bwd']:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
