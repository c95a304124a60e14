"""Image augmentation: keras.io's augmentation stack as kerastorch layers vs the same stack written by hand in torch
tensor ops (torchvision-style, written independently of kerastorch), same process, batch of 32 224x224 RGB images.

Stack (keras.io "image classification from scratch"): ``Resizing(180, 180)`` -> ``Rescaling(1/255)`` ->
``RandomFlip('horizontal')`` -> ``RandomRotation(0.1)`` -> ``RandomZoom(0.1)`` -> ``RandomContrast(0.2)`` (the colour
layer, when kerastorch has it).

- kerastorch: a ``Sequential`` of the layers on NHWC float32 images (Keras's layout), in train() (augmenting) and
  eval() (Resizing + Rescaling only);
- hand: NCHW images (torch's layout, what a torch user feeds); ``F.interpolate`` bilinear, a multiply, a per-image
  ``torch.where`` flip, rotation and zoom as one ``F.affine_grid`` + ``F.grid_sample`` (reflection padding),
  per-image contrast;
- keras3: the same stack in Keras 3 on its torch backend, when ``keras`` is importable with
  ``KERAS_BACKEND=torch`` (``.venv-bench``; kerastorch's own venv has no Keras: the script says so).

The two implementations draw different random numbers: timings compare the work, not the pixels. Median of
``--reps`` interleaved repetitions after a warm-up.

    .venv/bin/python benchmarks/bench_augmentation.py [--device cuda] [--reps 10] [--threads N]
    KERAS_BACKEND=torch .venv-bench/bin/python benchmarks/bench_augmentation.py --threads 1   # + Keras 3
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from typing import Any, Callable

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import kerastorch as kt  # noqa: E402
import kerastorch.layers as L  # noqa: E402

BATCH, SIZE, TARGET = 32, 224, 180


def kerastorch_stack() -> torch.nn.Module:
    layers = [L.Resizing(TARGET, TARGET), L.Rescaling(1.0 / 255), L.RandomFlip("horizontal"), L.RandomRotation(0.1),
              L.RandomZoom(0.1)]
    if hasattr(L, "RandomContrast"):
        layers.append(L.RandomContrast(0.2))
    return kt.models.Sequential(layers)


class HandStack(torch.nn.Module):
    """The stack in plain torch ops on NCHW images (bilinear sampling, reflection padding)."""

    def __init__(self, contrast: bool) -> None:
        super().__init__()
        self.contrast = contrast

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=(TARGET, TARGET), mode="bilinear", align_corners=False) * (1.0 / 255)
        if not self.training:
            return x
        n = x.shape[0]
        flip = torch.rand(n, 1, 1, 1, device=x.device) < 0.5
        x = torch.where(flip, x.flip(-1), x)
        angle = (torch.rand(n, device=x.device) * 2 - 1) * 0.1 * 2 * math.pi
        zoom = 1 + (torch.rand(n, device=x.device) * 2 - 1) * 0.1
        cos, sin = torch.cos(angle) * zoom, torch.sin(angle) * zoom
        zeros = torch.zeros_like(cos)
        theta = torch.stack([torch.stack([cos, -sin, zeros], 1), torch.stack([sin, cos, zeros], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
        if self.contrast:
            factor = 1 + (torch.rand(n, 1, 1, 1, device=x.device) * 2 - 1) * 0.2
            mean = x.mean(dim=(2, 3), keepdim=True)
            x = ((x - mean) * factor + mean).clamp(0, 255)
        return x


def keras3_stack() -> Any:
    try:
        import keras
    except ImportError:
        return None
    if keras.backend.backend() != "torch":
        return None
    layers = [keras.layers.Resizing(TARGET, TARGET), keras.layers.Rescaling(1.0 / 255), keras.layers.RandomFlip("horizontal"),
              keras.layers.RandomRotation(0.1), keras.layers.RandomZoom(0.1), keras.layers.RandomContrast(0.2)]
    return keras.Sequential(layers)


def timed(fn: Callable[[], Any], sync: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sync = (lambda: torch.cuda.synchronize()) if device.type == "cuda" else (lambda: None)
    g = torch.Generator().manual_seed(0)
    nhwc = (torch.rand(BATCH, SIZE, SIZE, 3, generator=g) * 255).to(device)
    nchw = nhwc.permute(0, 3, 1, 2).contiguous()
    ours = kerastorch_stack().to(device)
    hand = HandStack(contrast=hasattr(L, "RandomContrast")).to(device)
    keras3 = keras3_stack()
    runs: dict[str, Callable[[], Any]] = {}
    for mode in ("train", "eval"):
        def run_ours(mode=mode):
            ours.train(mode == "train")
            with torch.no_grad():
                return ours(nhwc)

        def run_hand(mode=mode):
            hand.train(mode == "train")
            with torch.no_grad():
                return hand(nchw)

        runs[f"kerastorch {mode}"] = run_ours
        runs[f"hand {mode}"] = run_hand
        if keras3 is not None:
            runs[f"keras3 {mode}"] = (lambda mode=mode: keras3(nhwc, training=mode == "train"))
    for fn in runs.values():  # warm-up
        fn()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.reps):
        for name, fn in runs.items():
            times[name].append(timed(fn, sync))
    med = {name: statistics.median(t) * 1e3 for name, t in times.items()}
    print(f"device {device}, threads {torch.get_num_threads()}, batch {BATCH}x{SIZE}x{SIZE}x3 -> {TARGET}x{TARGET}, "
          f"colour layer: {hasattr(L, 'RandomContrast')}, median of {args.reps}")
    for mode in ("train", "eval"):
        ours_ms, hand_ms = med[f"kerastorch {mode}"], med[f"hand {mode}"]
        line = f"{mode:5s}  kerastorch {ours_ms:8.2f} ms   hand {hand_ms:8.2f} ms   ratio {ours_ms / hand_ms:5.2f}x"
        if keras3 is not None:
            k3 = med[f"keras3 {mode}"]
            line += f"   keras3(torch) {k3:8.2f} ms   kerastorch/keras3 {ours_ms / k3:5.2f}x"
        print(line)
    if keras3 is None:
        print("Keras 3 with the torch backend is not importable here (not installed in this venv): no keras3 column.")


if __name__ == "__main__":
    main()
