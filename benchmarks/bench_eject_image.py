"""Ejected augmentation stack (``kerastorch eject``) vs the loaded kerastorch stack vs the hand-written torch stack.

The keras.io stack of ``bench_augmentation.py`` (``Resizing(180, 180)`` -> ``Rescaling`` -> ``RandomFlip`` ->
``RandomRotation(0.1)`` -> ``RandomZoom(0.1)`` -> ``RandomContrast(0.2)``), batch of 32 224x224 RGB images: the
kerastorch ``Sequential`` (NHWC in and out), its ejected ``model.py`` imported from a temporary directory (NHWC in
and out, channels-first inside) and ``bench_augmentation.HandStack`` (NCHW). Median ms of ``--reps`` interleaved
repetitions after a warm-up, in train() (augmenting) and eval().

    .venv/bin/python benchmarks/bench_eject_image.py [--device cuda] [--reps 10] [--threads 1]
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_augmentation as B  # noqa: E402

from kerastorch.eject import eject  # noqa: E402


def ejected(model: torch.nn.Module, directory: str) -> torch.nn.Module:
    eject(model, directory)
    spec = importlib.util.spec_from_file_location("ejected_stack", Path(directory) / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load()


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
    nhwc = (torch.rand(B.BATCH, B.SIZE, B.SIZE, 3, generator=torch.Generator().manual_seed(0)) * 255).to(device)
    nchw = nhwc.permute(0, 3, 1, 2).contiguous()
    loaded = B.kerastorch_stack()
    loaded(nhwc[:1].cpu())  # builds it
    with tempfile.TemporaryDirectory() as directory:
        nets = {"kerastorch": (loaded.to(device), nhwc), "ejected": (ejected(loaded, directory).to(device), nhwc),
                "hand": (B.HandStack(contrast=True).to(device), nchw)}
    runs: dict[str, Callable[[], Any]] = {}
    for mode in ("train", "eval"):
        for name, (net, x) in nets.items():
            def run(net=net, x=x, mode=mode) -> Any:
                net.train(mode == "train")
                with torch.no_grad():
                    return net(x)

            runs[f"{name} {mode}"] = run
    for fn in runs.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.reps):
        for name, fn in runs.items():
            times[name].append(B.timed(fn, sync))
    med = {name: statistics.median(t) * 1e3 for name, t in times.items()}
    print(f"device {device}, threads {torch.get_num_threads()}, batch {B.BATCH}x{B.SIZE}x{B.SIZE}x3 -> "
          f"{B.TARGET}x{B.TARGET}, median of {args.reps}")
    for mode in ("train", "eval"):
        k, e, h = (med[f"{n} {mode}"] for n in ("kerastorch", "ejected", "hand"))
        print(f"{mode:5s}  kerastorch {k:8.2f} ms   ejected {e:8.2f} ms   hand {h:8.2f} ms   "
              f"ejected/kerastorch {e / k:5.2f}x   ejected/hand {e / h:5.2f}x")


if __name__ == "__main__":
    main()
