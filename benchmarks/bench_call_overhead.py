"""Per-call Python overhead: kerastorch layers vs their torch.nn equivalents on a tiny tensor (ratios, one run).

On a (1, 4, 4, 8) NHWC tensor the kernels cost almost nothing, so the time per call is the Python cost of the
layer call: what makes many-layer networks at batch 1 slower than hand-written torch. Process CPU time, one
thread, eval mode, no grad, min over ``--runs`` runs of ``--calls`` calls each.

    python benchmarks/bench_call_overhead.py [--calls 20000] [--runs 5] [--json out.json]

The torch.nn side does what a hand-written channels_last network does per layer: the module call on the NCHW
view of the NHWC tensor (the view is made once, outside the timing, as a network keeps its activations in the
NCHW view); kerastorch's layer is called on the NHWC tensor. The extra column is the per-call overhead.
"""
from __future__ import annotations

import argparse
import json
import time
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

import kerastorch.layers as L

SHAPE = (1, 4, 4, 8)


def _per_call_us(fn: Callable[[], object], calls: int, runs: int) -> float:
    for _ in range(min(calls, 2000)):  # warm-up (also builds lazy layers, fills the fast-path keys)
        fn()
    best = float("inf")
    for _ in range(runs):
        t0 = time.process_time()
        for _ in range(calls):
            fn()
        best = min(best, time.process_time() - t0)
    return best / calls * 1e6


def cases() -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    """name -> (kerastorch call, torch.nn call) on the same data."""
    torch.manual_seed(0)
    x = torch.randn(SHAPE)  # NHWC
    xt = x.permute(0, 3, 1, 2)  # its NCHW (channels_last) view
    y = torch.randn(SHAPE)
    yt = y.permute(0, 3, 1, 2)
    c = SHAPE[-1]
    out: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {}

    k_conv = L.Conv2D(c, 1, input_shape=SHAPE[1:]).eval()
    t_conv = nn.Conv2d(c, c, 1).eval()
    out["Conv2D 1x1"] = (lambda: k_conv(x), lambda: t_conv(xt))

    k_conv3 = L.Conv2D(c, 3, strides=2, padding="same", input_shape=SHAPE[1:]).eval()
    t_conv3 = nn.Conv2d(c, c, 3, 2).eval()
    out["Conv2D 3x3 s2 same"] = (lambda: k_conv3(x), lambda: t_conv3(F.pad(xt, (0, 1, 0, 1))))

    k_dw = L.DepthwiseConv2D(3, padding="same", input_shape=SHAPE[1:]).eval()
    t_dw = nn.Conv2d(c, c, 3, 1, 1, groups=c).eval()
    out["DepthwiseConv2D 3x3 same"] = (lambda: k_dw(x), lambda: t_dw(xt))

    k_bn = L.BatchNormalization(input_shape=SHAPE[1:]).eval()
    t_bn = nn.BatchNorm2d(c, eps=1e-3).eval()
    out["BatchNormalization"] = (lambda: k_bn(x), lambda: t_bn(xt))

    k_relu6 = L.ReLU(6.0).eval()
    t_relu6 = nn.ReLU6().eval()
    out["ReLU(6.)"] = (lambda: k_relu6(x), lambda: t_relu6(xt))

    k_act = L.Activation("relu").eval()
    t_act = nn.ReLU().eval()
    out["Activation('relu')"] = (lambda: k_act(x), lambda: t_act(xt))

    k_add = L.Add().eval()
    pair = [x, y]
    out["Add (vs a + b)"] = (lambda: k_add(pair), lambda: xt + yt)

    k_id = L.Identity().eval()
    t_id = nn.Identity().eval()
    out["Identity"] = (lambda: k_id(x), lambda: t_id(xt))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--calls", type=int, default=20000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--json", help="write the raw figures here")
    args = p.parse_args()
    torch.set_num_threads(1)
    rows = []
    with torch.no_grad():
        for name, (kt_fn, torch_fn) in cases().items():
            kt_us = _per_call_us(kt_fn, args.calls, args.runs)
            t_us = _per_call_us(torch_fn, args.calls, args.runs)
            rows.append({"layer": name, "kerastorch_us": round(kt_us, 2), "torch_us": round(t_us, 2)})
    print(f"per call, CPU time, 1 thread, min of {args.runs}x{args.calls} calls, input {SHAPE} (NHWC)\n")
    print("| layer | kerastorch us | torch.nn us | extra us |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['layer']} | {r['kerastorch_us']:.1f} | {r['torch_us']:.1f} | {r['kerastorch_us'] - r['torch_us']:+.1f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
