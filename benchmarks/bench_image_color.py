"""Colour and mixing image layers (issue 20): each kerastorch layer vs the same Keras 3 layer on its torch backend, same
process, same input: a batch of 32 224x224 RGB float32 images in [0, 255], channels_last, training=True (the
augmenting path; Equalization / AutoContrast / CLAHE are deterministic).

Keras 3 is timed when ``keras`` is importable with ``KERAS_BACKEND=torch`` (``.venv-bench``); otherwise only
kerastorch's times are printed. The two draw different random numbers: timings compare the work. Median of
``--reps`` interleaved repetitions after a warm-up.

    KERAS_BACKEND=torch .venv-bench/bin/python benchmarks/bench_image_color.py [--reps 5] [--threads N] [--batch 32]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any, Callable

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch  # noqa: E402

import kerastorch.layers as L  # noqa: E402

#: (class name, arguments) — typical settings from keras.io's augmentation examples
LAYERS: list[tuple[str, dict[str, Any]]] = [
    ("RandomContrast", {"factor": 0.2, "value_range": (0, 255)}),
    ("RandomBrightness", {"factor": 0.2}),
    ("RandomColorDegeneration", {"factor": 0.5}),
    ("RandomHue", {"factor": 0.2}),
    ("RandomSaturation", {"factor": 0.5}),
    ("RandomGrayscale", {"factor": 0.5}),
    ("RandomInvert", {"factor": 0.5}),
    ("RandomPosterization", {"factor": 6}),
    ("RandomSharpness", {"factor": 0.5}),
    ("Solarization", {"addition_factor": 0.2, "threshold_factor": 0.5}),
    ("RandomGaussianBlur", {"kernel_size": 5, "sigma": 1.0}),
    ("Equalization", {}),
    ("AutoContrast", {}),
    ("ContrastLimitedAdaptiveHistogramEqualization", {}),
    ("RandomColorJitter", {"brightness_factor": 0.2, "contrast_factor": 0.2, "saturation_factor": 0.5, "hue_factor": 0.2}),
    ("RandomErasing", {}),
    ("MixUp", {}),
    ("CutMix", {}),
    ("RandAugment", {}),
    ("AugMix", {}),
]


def _time(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        import keras
    except ImportError:
        keras = None
        print("keras (torch backend) not importable: kerastorch only")
    x = torch.rand(args.batch, 224, 224, 3, generator=torch.Generator().manual_seed(0)) * 255
    print(f"batch {args.batch}x224x224x3 float32, training=True, {torch.get_num_threads()} threads, median of {args.reps}")
    print(f"{'layer':46s} {'kerastorch ms':>14s} {'keras3 ms':>10s} {'ratio':>6s}")
    for name, kwargs in LAYERS:
        if args.only and name not in args.only.split(","):
            continue
        ours = getattr(L, name)(**kwargs)
        theirs = getattr(keras.layers, name)(**kwargs) if keras is not None else None
        with torch.no_grad():
            ours(x, training=True)
            if theirs is not None:
                theirs(x, training=True)
            t_ours, t_theirs = [], []
            for _ in range(args.reps):
                t_ours.append(_time(lambda: ours(x, training=True)))
                if theirs is not None:
                    t_theirs.append(_time(lambda: theirs(x, training=True)))
        mo = statistics.median(t_ours) * 1e3
        if t_theirs:
            mt = statistics.median(t_theirs) * 1e3
            print(f"{name:46s} {mo:14.1f} {mt:10.1f} {mt / mo:6.2f}")
        else:
            print(f"{name:46s} {mo:14.1f}")


if __name__ == "__main__":
    main()
