"""Per-call overhead of the mask mechanism on models without masks (issue 18): it must be zero.

A small Functional CNN (20 layers incl. Add/Concatenate, batch 1, 16x16x3, eager inference) and the same net as
a Sequential chain are timed; run before and after a change to the pipeline on the same machine and compare.
The masked text model (Embedding(mask_zero=True) -> Dense -> GlobalAveragePooling1D -> Dense, batch 32, 50
steps) is timed with its masks, for the record.

    .venv/bin/python benchmarks/bench_mask_overhead.py [--calls 3000]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

import kerastorch as kt
from kerastorch import layers as L


def cnn_functional():
    inp = kt.models.Input((16, 16, 3))
    x = L.Conv2D(8, 3, padding="same")(inp)
    for _ in range(3):
        y = L.Conv2D(8, 3, padding="same")(x)
        y = L.BatchNormalization()(y)
        y = L.ReLU()(y)
        x = L.Add()([x, y])
    x = L.Concatenate()([x, L.Conv2D(4, 1)(x)])
    x = L.MaxPooling2D()(x)
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dropout(0.2)(x)
    return kt.models.Model(inp, L.Dense(10, activation="softmax")(x))


def cnn_sequential():
    return kt.models.Sequential([kt.models.Input((16, 16, 3))] + [
        L.Conv2D(8, 3, padding="same"), L.BatchNormalization(), L.ReLU(), L.Conv2D(8, 3, padding="same"), L.ReLU(),
        L.MaxPooling2D(), L.Flatten(), L.Dropout(0.2), L.Dense(10)])


def text_model():
    inp = kt.models.Input((50,), dtype="int32")
    x = L.Embedding(1000, 32, mask_zero=True)(inp)
    x = L.Dense(32, activation="relu")(x)
    x = L.GlobalAveragePooling1D()(x)
    return kt.models.Model(inp, L.Dense(2)(x))


def per_call_us(model, x, calls: int, reps: int = 5) -> float:
    model.eval()
    with torch.no_grad():
        for _ in range(50):
            model(x)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            for _ in range(calls):
                model(x)
            times.append((time.perf_counter() - t0) / calls * 1e6)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--calls", type=int, default=3000)
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    img = torch.randn(1, 16, 16, 3)
    ids = torch.randint(1, 1000, (32, 50))
    ids[:, 40:] = 0
    print(f"functional CNN, batch 1:  {per_call_us(cnn_functional(), img, args.calls):8.1f} us/call")
    print(f"sequential CNN, batch 1:  {per_call_us(cnn_sequential(), img, args.calls):8.1f} us/call")
    print(f"masked text model, b32:   {per_call_us(text_model(), ids, args.calls // 3):8.1f} us/call")


if __name__ == "__main__":
    main()
