"""Whole-model speed: keras.applications ResNet50 / MobileNetV2 / EfficientNetB0 in kerastorch vs torch.nn and Keras 3.

For each model (224x224x3, float32, CPU), batch 1 and 16, inference and one training step (forward, cross-entropy
on the softmax output, backward, SGD step):

- ``kt``: the model loaded by ``kerastorch.models.load_model`` from a ``.keras`` file (eager);
- ``kt_fused``: ``kerastorch.fuse_for_inference`` of it (inference only);
- ``kt_compiled``: ``torch.compile`` of it (inductor; ``--compile``);
- ``torch``: the same network written in torch.nn (``reference_nets.py``) with the loaded weights, channels_last;
- ``keras3``: Keras 3 (``KERAS_BACKEND=torch``) running the same ``.keras`` file, when ``keras`` is importable.

Outputs are checked equal (kt vs torch vs fused) before timing. Timings are medians of ``--reps`` interleaved
repetitions after one warm-up; peak memory is the high-water mark of the allocations torch's profiler records
during one step (``--memory``). torch.compile is also checked for graph breaks (``torch._dynamo.explain``).

    KERAS_BACKEND=torch .venv-bench/bin/python benchmarks/bench_models.py --reps 3 --reps-large 1 --memory --compile

The ``.keras`` files come from ``--model-dir`` (``<Name>.keras``); a missing one is created with Keras 3
(``keras.applications.<Name>(weights=None)``) when keras is importable.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_nets as R  # noqa: E402

import kerastorch  # noqa: E402
from kerastorch.models import load_model  # noqa: E402

MODELS = ("ResNet50", "MobileNetV2", "EfficientNetB0")


def _keras():
    try:
        import keras

        if keras.backend.backend() != "torch":
            return None
        return keras
    except Exception:  # noqa: BLE001 - keras missing or broken: the column stays empty
        return None


def model_file(name: str, model_dir: Path) -> Path:
    path = model_dir / f"{name}.keras"
    if not path.exists():
        keras = _keras()
        if keras is None:
            raise SystemExit(f"{path} is missing and keras is not importable to create it")
        model_dir.mkdir(parents=True, exist_ok=True)
        getattr(keras.applications, name)(weights=None, input_shape=(224, 224, 3)).save(str(path))
    return path


def reference(name: str, model: torch.nn.Module) -> torch.nn.Module:
    def weights(n: str):
        return model.get_layer(n).get_weights()

    if name == "EfficientNetB0":
        rescale, norm = model.get_layer("rescaling"), model.get_layer("normalization")
        net = R.EfficientNetB0(weights, lambda x: norm(rescale(x)))
    else:
        net = getattr(R, name)(weights)
    return R.to_channels_last(net)


# ----------------------------------------------------------------------------- steps
def infer_step(model: Callable, x: torch.Tensor) -> Callable[[], Any]:
    def step():
        with torch.no_grad():
            return model(x)
    return step


def train_step(model: torch.nn.Module, params: list[torch.Tensor], x: torch.Tensor, labels: torch.Tensor,
               forward: Callable | None = None) -> Callable[[], Any]:
    opt = torch.optim.SGD(params, lr=1e-4)
    fwd = model if forward is None else forward

    def step():
        opt.zero_grad(set_to_none=True)
        probs = fwd(x)
        loss = F.nll_loss(torch.log(probs + 1e-7), labels)
        loss.backward()
        opt.step()
        return loss
    return step


def time_steps(steps: dict[str, Callable], reps: int) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall-clock and median process CPU time (ms) per step, repetitions interleaved across ``steps``.

    CPU time (all threads of this process) is what the step itself costs; on a machine shared with other
    processes it is far steadier than wall-clock time, which also counts the time other processes held the cores.
    """
    for s in steps.values():  # warm-up (and compilation)
        s()
    wall: dict[str, list[float]] = {k: [] for k in steps}
    cpu: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(reps):
        for k, s in steps.items():
            t, c = time.perf_counter(), time.process_time()
            s()
            cpu[k].append(time.process_time() - c)
            wall[k].append(time.perf_counter() - t)
    med = lambda d: {k: statistics.median(v) * 1e3 for k, v in d.items()}  # noqa: E731
    return med(wall), med(cpu)


def peak_bytes(step: Callable) -> int:
    """High-water mark of the allocations recorded during one step, above the starting point."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        out = step()
        del out
    events = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events() if e.name() == "[memory]")
    running = peak = 0
    for _, nbytes in events:
        running += nbytes
        peak = max(peak, running)
    return peak


def graph_breaks(model: torch.nn.Module, x: torch.Tensor) -> int:
    import torch._dynamo

    torch._dynamo.reset()
    return torch._dynamo.explain(model)(x).graph_break_count


# ----------------------------------------------------------------------------- one model
def bench_model(name: str, args: argparse.Namespace, keras: Any) -> dict[str, Any]:
    path = model_file(name, args.model_dir)
    kt = load_model(str(path))
    ref = reference(name, kt)
    kt.eval()
    fused = kerastorch.fuse_for_inference(kt)
    k3 = keras.saving.load_model(str(path)) if keras is not None else None
    out: dict[str, Any] = {"model": name, "rows": []}
    x = torch.rand(2, 224, 224, 3) * 255
    with torch.no_grad():
        a, b, c = kt(x), ref(x), fused(x)
        checks = {"torch_vs_kt": float((a - b).abs().max()), "fused_vs_kt": float((a - c).abs().max())}
        if k3 is not None:
            checks["keras3_vs_kt"] = float((k3(x, training=False).detach().cpu() - a).abs().max())
    out["max_abs_diff"] = checks
    print(name, "output max |diff| (softmax):", checks, flush=True)
    if args.compile:
        out["graph_breaks"] = graph_breaks(kt, x[:1])
        print(name, "graph breaks:", out["graph_breaks"], flush=True)
    for batch in args.batches:
        x = torch.rand(batch, 224, 224, 3) * 255
        labels = torch.randint(0, 1000, (batch,))
        for mode in args.modes:
            steps: dict[str, Callable] = {}
            if mode == "inference":
                kt.eval(), ref.eval()
                steps["kt"] = infer_step(kt, x)
                steps["kt_fused"] = infer_step(fused, x)
                steps["torch"] = infer_step(ref, x)
                if args.compile:
                    torch._dynamo.reset()
                    steps["kt_compiled"] = infer_step(torch.compile(kt, dynamic=False), x)
                if k3 is not None:
                    steps["keras3"] = infer_step(lambda t: k3(t, training=False), x)
            else:
                kt.train(), ref.train()
                steps["kt"] = train_step(kt, list(kt.parameters()), x, labels)
                steps["torch"] = train_step(ref, list(ref.parameters()), x, labels)
                if args.compile:
                    torch._dynamo.reset()
                    steps["kt_compiled"] = train_step(kt, list(kt.parameters()), x, labels, torch.compile(kt, dynamic=False))
                if k3 is not None:
                    k3_params = [v.value for v in k3.trainable_weights]
                    steps["keras3"] = train_step(k3, k3_params, x, labels, lambda t: k3(t, training=True))
            ms, cpu_ms = time_steps(steps, args.reps if batch < 8 else (args.reps_large or args.reps))
            mem = {k: peak_bytes(s) / 2**20 for k, s in steps.items() if k != "kt_compiled"} if args.memory else {}
            row = {"batch": batch, "mode": mode, "ms": ms, "cpu_ms": cpu_ms, "peak_mib": mem}
            out["rows"].append(row)
            print(json.dumps({"model": name, **row}), flush=True)
    return out


def ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None else f"{a / b:.2f}"


def table(results: list[dict[str, Any]]) -> str:
    """Markdown tables: wall-clock ms, CPU ms, the ratios (of both), peak memory."""
    cols = ["torch", "kt", "kt_fused", "kt_compiled", "keras3"]
    pairs = [("kt", "torch"), ("kt_fused", "torch"), ("kt_compiled", "kt"), ("keras3", "kt")]
    lines = []
    for key, title in (("ms", "wall-clock"), ("cpu_ms", "CPU time")):
        lines += ["", f"{title} ms (median)", "",
                  "| model | batch | mode | " + " | ".join(cols) + " | " + " | ".join(f"{a}/{b}" for a, b in pairs) + " |",
                  "|---" * (3 + len(cols) + len(pairs)) + "|"]
        for res in results:
            for row in res["rows"]:
                ms = row[key]
                cells = [f"{ms[c]:.1f}" if c in ms else "-" for c in cols]
                lines.append(f"| {res['model']} | {row['batch']} | {row['mode']} | " + " | ".join(cells) + " | "
                             + " | ".join(ratio(ms.get(a), ms.get(b)) for a, b in pairs) + " |")
    if any(row["peak_mib"] for res in results for row in res["rows"]):
        mcols = ["torch", "kt", "kt_fused", "keras3"]
        lines += ["", "peak MiB", "", "| model | batch | mode | " + " | ".join(mcols) + " |", "|---" * (3 + len(mcols)) + "|"]
        for res in results:
            for row in res["rows"]:
                mem = row["peak_mib"]
                lines.append(f"| {res['model']} | {row['batch']} | {row['mode']} | "
                             + " | ".join(f"{mem[c]:.0f}" if c in mem else "-" for c in mcols) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--batches", nargs="+", type=int, default=[1, 16])
    p.add_argument("--modes", nargs="+", default=["inference", "training"], choices=["inference", "training"])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--reps-large", type=int, default=0, help="repetitions at batch >= 8 (default: --reps)")
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (default: torch's own choice); "
                   "1 on a machine shared with other processes, where a descheduled OpenMP worker stalls every op")
    p.add_argument("--memory", action="store_true")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--no-keras", action="store_true", help="leave the Keras 3 column empty")
    p.add_argument("--model-dir", type=Path, default=Path("/tmp/kerastorch_bench_models"))
    p.add_argument("--json", type=Path, help="write the raw results here")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    keras = None if args.no_keras else _keras()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, keras "
          f"{getattr(keras, '__version__', 'not importable')}", flush=True)
    results = []
    for name in args.models:
        results.append(bench_model(name, args, keras))
        if args.json:  # after each model, so that a long run leaves its finished part
            args.json.write_text(json.dumps(results, indent=1))
    print(table(results))


if __name__ == "__main__":
    main()
