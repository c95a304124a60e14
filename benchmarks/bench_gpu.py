"""Model speed on one device (CUDA or CPU): kerastorch vs the same network hand-written in torch.nn, fp32 and AMP.

For ResNet50, MobileNetV2 and EfficientNetB0 (keras.applications, rebuilt from the configs recorded from real Keras in
``compat_fixtures/applications/`` (10 classes, softmax head), input size set by ``--size``), on ``--device``:

- ``kt``: the kerastorch model (``model_from_config``, its own initializers), eval mode;
- ``torch``: the twin in ``reference_nets.py`` (torch.nn, channels_last) holding the same weights;
- inference at each ``--batches`` size in float32 and under ``torch.autocast`` (float16 on CUDA, bfloat16 on CPU),
  and one training step (forward, NLL on the softmax, backward, SGD) at the middle batch size in float32.

Outputs are checked equal (float32) before timing. Times are medians of ``--reps`` interleaved repetitions after a
warm-up, measured with CUDA events on CUDA (no host sync inside a step; one synchronize per measurement) and
``perf_counter`` on the CPU. Writes a markdown table (``--out``) and prints it.

    python benchmarks/bench_gpu.py --device cuda --out gpu_table.md
    python benchmarks/bench_gpu.py --device cpu --size 64 --batches 1 2 --reps 2   # smoke run on a CPU
"""
from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
from bench_models import reference  # noqa: E402  (the torch.nn twin holding a kerastorch model's weights)

from kerastorch.models import model_from_config  # noqa: E402

MODELS = {"ResNet50": "resnet50", "MobileNetV2": "mobilenetv2", "EfficientNetB0": "efficientnetb0"}


def build(name: str, size: int, device: torch.device) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The kerastorch model from Keras 3's recorded config at ``size`` x ``size``, and its torch.nn twin."""
    with gzip.open(ROOT / "compat_fixtures" / "applications" / f"{MODELS[name]}.k3.config.json.gz", "rt") as f:
        config = json.load(f)
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "InputLayer":
            layer["config"]["batch_shape"] = [None, size, size, 3]
        if layer["config"]["name"] == "predictions":  # recorded with logits; keras.applications' default softmax
            layer["config"]["activation"] = "softmax"
    torch.manual_seed(0)
    kt = model_from_config(config).to(device).eval()
    return kt, reference(name, kt).to(device)


class Timer:
    """Milliseconds per call of ``fn``: CUDA events on CUDA, ``perf_counter`` elsewhere."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"

    def __call__(self, fn: Callable[[], object]) -> float:
        if self.cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            return start.elapsed_time(end)
        t = time.perf_counter()
        fn()
        return (time.perf_counter() - t) * 1e3


def interleaved(steps: dict[str, Callable[[], object]], reps: int, timer: Timer) -> dict[str, float]:
    for s in steps.values():
        s(), s()  # warm-up: cuDNN autotuning, allocator
    times: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(reps):
        for k, s in steps.items():
            times[k].append(timer(s))
    return {k: statistics.median(v) for k, v in times.items()}


def infer(model: torch.nn.Module, x: torch.Tensor, amp: torch.dtype | None) -> Callable[[], object]:
    def step():
        with torch.no_grad(), torch.autocast(x.device.type, dtype=amp, enabled=amp is not None):
            return model(x)
    return step


def train(model: torch.nn.Module, x: torch.Tensor, labels: torch.Tensor) -> Callable[[], object]:
    opt = torch.optim.SGD(model.parameters(), lr=1e-5)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.nll_loss(torch.log(model(x) + 1e-7), labels)
        loss.backward()
        opt.step()
    return step


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--models", nargs="+", default=list(MODELS))
    p.add_argument("--batches", nargs="+", type=int, default=[1, 8, 64])
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    half = torch.float16 if device.type == "cuda" else torch.bfloat16
    timer = Timer(device)
    name_of = {None: "fp32", half: f"AMP {str(half).replace('torch.', '')}"}
    lines = [f"Device: {torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'}; torch "
             f"{torch.__version__}; {args.size}x{args.size} inputs; median of {args.reps} interleaved reps "
             f"({'CUDA events' if device.type == 'cuda' else 'perf_counter'}).", "",
             "| model | step | batch | precision | kerastorch ms | torch.nn ms | ratio |", "|---|---|---|---|---|---|---|"]
    for name in args.models:
        kt, ref = build(name, args.size, device)
        g = torch.Generator(device="cpu").manual_seed(1)
        x = (torch.rand(2, args.size, args.size, 3, generator=g) * 255).to(device)
        with torch.no_grad():
            diff = float((kt(x) - ref(x)).abs().max())
        print(f"{name}: max |kerastorch - torch.nn| on the softmax output = {diff:.2e}", flush=True)
        if diff > 1e-4:
            raise SystemExit(f"{name}: the twin does not compute the same function ({diff})")
        for batch in args.batches:
            x = (torch.rand(batch, args.size, args.size, 3, generator=g) * 255).to(device)
            for amp in (None, half):
                ms = interleaved({"kt": infer(kt, x, amp), "torch": infer(ref, x, amp)}, args.reps, timer)
                lines.append(f"| {name} | inference | {batch} | {name_of[amp]} | {ms['kt']:.3f} | {ms['torch']:.3f} | "
                             f"{ms['kt'] / ms['torch']:.2f} |")
                print(lines[-1], flush=True)
        batch = args.batches[len(args.batches) // 2]
        x = (torch.rand(batch, args.size, args.size, 3, generator=g) * 255).to(device)
        labels = torch.randint(0, ref.head.out_features, (batch,), generator=g).to(device)
        kt.train(), ref.train()
        ms = interleaved({"kt": train(kt, x, labels), "torch": train(ref, x, labels)}, max(3, args.reps // 3), timer)
        lines.append(f"| {name} | training step | {batch} | fp32 | {ms['kt']:.3f} | {ms['torch']:.3f} | "
                     f"{ms['kt'] / ms['torch']:.2f} |")
        print(lines[-1], flush=True)
        del kt, ref
    table = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
