"""Loaded Keras models vs the same networks hand-written in torch.nn, at batch 1 and 8, training, and compiled.

One command writes the markdown table (issue 22's speed target: every kt/torch ratio <= 1.05):

    .venv/bin/python benchmarks/bench_batch1.py --out benchmarks/results_batch1.md

For MobileNetV2, ResNet50 and EfficientNetB0 (224x224x3, float32, CPU, ``weights=None`` ``.keras`` files written by
Keras 3 in ``--model-dir``) it times, in one process and **interleaved** (kt, torch, kt, torch, ...):

- ``infer b1`` / ``infer b8``: eval mode, ``torch.no_grad()``, one forward;
- ``train b1``: train mode, forward, NLL of the softmax output, backward, one SGD step;
- ``compiled b1``: ``torch.compile(dynamic=False)`` (inductor) of each model, eval, no_grad (``--no-compile`` skips);

``kt`` is ``kerastorch.models.load_model`` of the file, ``torch`` the network of ``reference_nets.py`` (nn.Conv2d /
nn.BatchNorm2d / in-place activations, channels_last memory format) holding the loaded weights; the outputs are
checked equal first. Times are per-step **process CPU time** with one intra-op thread (``--threads``): on a shared
machine it measures the work rather than the other processes' share of the cores; the table gives the minimum and
the median of ``--reps`` repetitions and the ratio of each, measured in the same run, and the median of the
per-repetition ratios (``paired``: kt and torch of one repetition ran back to back, so a load spike from other
processes hits both; the steadiest of the three on a shared machine). Peak memory: the high-water mark of the
allocations torch's profiler records during one step.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_models import infer_step, model_file, peak_bytes, reference, train_step  # noqa: E402

from kerastorch.models import load_model  # noqa: E402

MODELS = ("MobileNetV2", "ResNet50", "EfficientNetB0")


def interleaved(steps: dict[str, Callable[[], Any]], reps: int, warmup: int = 2) -> dict[str, list[float]]:
    """Per-step process CPU times (ms), the steps alternating within each repetition."""
    for _ in range(warmup):
        for s in steps.values():
            s()
    times: dict[str, list[float]] = {k: [] for k in steps}
    for r in range(reps):
        order = list(steps.items()) if r % 2 == 0 else list(reversed(steps.items()))  # neither always goes first
        for k, s in order:
            c = time.process_time()
            s()
            times[k].append((time.process_time() - c) * 1e3)
    return times


def rows_for(name: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    kt = load_model(str(model_file(name, args.model_dir)))
    ref = reference(name, kt)
    x = torch.rand(2, 224, 224, 3) * 255
    kt.eval(), ref.eval()
    with torch.no_grad():
        diff = float((kt(x) - ref(x)).abs().max())
    print(f"{name}: kt vs hand-written max |diff| {diff:.2e}", flush=True)
    rows = []
    cases = [("infer", 1), ("infer", 8), ("train", 1)] + ([] if args.no_compile else [("compiled", 1)])
    for mode, batch in cases:
        if args.cases and f"{mode}{batch}" not in args.cases:
            continue
        x = torch.rand(batch, 224, 224, 3) * 255
        if mode == "train":
            kt.train(), ref.train()
            labels = torch.randint(0, 1000, (batch,))
            steps = {"kt": train_step(kt, list(kt.parameters()), x, labels),
                     "torch": train_step(ref, list(ref.parameters()), x, labels)}
        else:
            kt.eval(), ref.eval()
            if mode == "compiled":
                torch._dynamo.reset()
                steps = {"kt": infer_step(torch.compile(kt, dynamic=False), x),
                         "torch": infer_step(torch.compile(ref, dynamic=False), x)}
            else:
                steps = {"kt": infer_step(kt, x), "torch": infer_step(ref, x)}
        reps = args.reps if batch == 1 else max(3, args.reps // 4)
        t = interleaved(steps, reps)
        mem = {k: peak_bytes(s) / 2**20 for k, s in steps.items()} if mode != "compiled" else {}
        row = {"model": name, "case": f"{mode} b{batch}", "reps": reps,
               **{f"{k}_min": min(v) for k, v in t.items()}, **{f"{k}_med": statistics.median(v) for k, v in t.items()},
               "paired": statistics.median(a / b for a, b in zip(t["kt"], t["torch"])),
               **{f"{k}_mib": v for k, v in mem.items()}}
        print(row, flush=True)
        rows.append(row)
    return rows


def markdown(rows: list[dict[str, Any]], header: str) -> str:
    lines = [header, "",
             "| model | case | reps | torch min ms | kt min ms | kt/torch (min) | torch median ms | kt median ms "
             "| kt/torch (median) | kt/torch (paired) | torch peak MiB | kt peak MiB | kt/torch (memory) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        mem = ("| - | - | - |" if "kt_mib" not in r else
               f"| {r['torch_mib']:.1f} | {r['kt_mib']:.1f} | {r['kt_mib'] / max(r['torch_mib'], 1e-9):.3f} |")
        lines.append(f"| {r['model']} | {r['case']} | {r['reps']} | {r['torch_min']:.2f} | {r['kt_min']:.2f} | "
                     f"{r['kt_min'] / r['torch_min']:.3f} | {r['torch_med']:.2f} | {r['kt_med']:.2f} | "
                     f"{r['kt_med'] / r['torch_med']:.3f} | {r['paired']:.3f} " + mem)
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--cases", nargs="*", help="subset of infer1 infer8 train1 compiled1 (default: all)")
    p.add_argument("--reps", type=int, default=40, help="repetitions at batch 1 (batch 8: a quarter)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-compile", action="store_true")
    p.add_argument("--model-dir", type=Path, default=Path("/tmp/kerastorch_bench_models"))
    p.add_argument("--out", type=Path, help="write the markdown table here (it is printed too)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    rows = [r for name in args.models for r in rows_for(name, args)]
    header = (f"torch {torch.__version__}, {torch.get_num_threads()} intra-op thread(s), process CPU time per step, "
              f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    text = markdown(rows, header)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
