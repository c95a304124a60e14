"""Conv2D speed: kerastorch vs hand-written torch vs Keras 3's torch backend, in one run.

For each realistic shape it times forward (no grad) and forward+backward (grads for input, kernel
and bias), interleaving the implementations round-robin so drift hits all of them alike, and
prints medians and ratios. Keras 3 is timed in a second pass, paired with kerastorch only (run in
the same loop as the raw-torch variants it disturbs their timings). Peak memory of one
forward+backward is the high-water mark of the allocations torch's profiler records during it.

    python benchmarks/bench_conv2d.py [--threads 2] [--reps 15] [--memory] [--compile] [--device cpu]

Implementations (all NHWC in, NHWC out, same math):
- torch:     F.conv2d on the NCHW view of the NHWC input (channels_last memory format), weight
             held as a channels_last OIHW tensor, explicit F.pad only for an asymmetric TF split.
- kerastorch: kerastorch.Conv2D.
- torch_hwio: like torch, but the weight kept in Keras's HWIO layout (contiguous) and permuted per
             call -- what a naive "store the Keras kernel" layer pays.
- keras3:    keras.layers.Conv2D with KERAS_BACKEND=torch, when keras is importable.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import kerastorch as kt  # noqa: E402
from kerastorch.layers.utils import conv_utils  # noqa: E402

SHAPES = {
    # name: (N, H, W, C, filters, kernel, stride, padding)
    "resnet3x3_s1_same": (4, 56, 56, 64, 64, 3, 1, "same"),
    "resnet3x3_s2_same": (4, 56, 56, 64, 128, 3, 2, "same"),  # TF split (0, 1): asymmetric
    "pointwise_1x1": (4, 28, 28, 256, 64, 1, 1, "valid"),
    "large_image_valid": (2, 224, 224, 3, 32, 3, 1, "valid"),
    "even_k4_s2_same": (4, 32, 32, 32, 64, 4, 2, "same"),
    "tiny": (1, 8, 8, 4, 8, 3, 1, "same"),
}


def _keras():
    try:
        import keras  # noqa: F401

        if keras.backend.backend() != "torch":
            return None
        return keras
    except Exception:
        return None


class Case:
    """One shape with every implementation sharing the same weights and input."""

    def __init__(self, spec, device, dtype=torch.float32):
        n, h, w, c, f, k, s, padding = spec
        self.spec, self.device = spec, device
        gen = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, h, w, c, generator=gen).to(device, dtype)
        self.layer = kt.Conv2D(f, k, strides=s, padding=padding, input_shape=(h, w, c)).to(device, dtype)
        kernel = self.layer.keras_weight("kernel").detach()  # Keras (kh, kw, in, out)
        self.bias = self.layer.bias.detach().clone().requires_grad_(True)
        self.w_oihw = kernel.permute(3, 2, 0, 1).clone(memory_format=torch.channels_last).requires_grad_(True)
        self.w_hwio = kernel.contiguous().clone().requires_grad_(True)
        pads = [conv_utils.same_padding(d, k, s, 1) if padding == "same" else (0, 0) for d in (h, w)]
        self.conv_pad = tuple(p[0] for p in pads)
        extra = [p[1] - p[0] for p in pads]
        self.f_pad = (0, extra[1], 0, extra[0]) if any(extra) else None
        self.stride = s
        self.out_grad = torch.randn(self.layer.compute_output_shape(tuple(self.x.shape)), generator=gen).to(device, dtype)
        self.keras_layer = None
        keras = _keras()
        if keras is not None:
            self.keras_layer = keras.layers.Conv2D(f, k, strides=s, padding=padding)
            self.keras_layer.build((None, h, w, c))
            self.keras_layer.set_weights([kernel.cpu().numpy(), self.bias.detach().cpu().numpy()])

    def torch_fn(self, x):
        v = x.permute(0, 3, 1, 2)
        if self.f_pad is not None:
            v = F.pad(v, self.f_pad)
        return F.conv2d(v, self.w_oihw, self.bias, self.stride, self.conv_pad).permute(0, 2, 3, 1)

    def torch_hwio_fn(self, x):
        v = x.permute(0, 3, 1, 2)
        if self.f_pad is not None:
            v = F.pad(v, self.f_pad)
        return F.conv2d(v, self.w_hwio.permute(3, 2, 0, 1), self.bias, self.stride, self.conv_pad).permute(0, 2, 3, 1)

    def impls(self):
        out = {"torch": self.torch_fn, "kerastorch": self.layer, "torch_hwio": self.torch_hwio_fn}
        if self.keras_layer is not None:
            out["keras3"] = self.keras_layer
        return out


def _sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _clear_grads(case):
    for t in (case.w_oihw, case.w_hwio, case.bias, case.layer.kernel, case.layer.bias):
        t.grad = None
    if case.keras_layer is not None:
        for v in case.keras_layer.weights:
            v.value.grad = None


def time_once(case, fn, backward):
    x = case.x.detach().requires_grad_(backward)
    _sync(case.device)
    start = time.perf_counter()
    if backward:
        y = fn(x)
        y.backward(case.out_grad)
    else:
        with torch.no_grad():
            fn(x)
    _sync(case.device)
    elapsed = time.perf_counter() - start
    if backward:
        _clear_grads(case)
    return elapsed


def bench_case(case, reps, backward, autocast=None, names=None):
    impls = case.impls()
    names = names or list(impls)
    times = {n: [] for n in names}
    ctx = (lambda: torch.autocast(case.device.split(":")[0], dtype=autocast)) if autocast else None
    for i in range(reps + 3):
        order = names[i % len(names):] + names[: i % len(names)]
        for n in order:
            if ctx:
                with ctx():
                    t = time_once(case, impls[n], backward)
            else:
                t = time_once(case, impls[n], backward)
            if i >= 3:  # warm-up rounds
                times[n].append(t)
    return {n: statistics.median(v) for n, v in times.items()}


def peak_memory(case, fn):
    """Peak bytes allocated above the starting point during one forward+backward."""
    from torch.profiler import ProfilerActivity, profile

    x = case.x.detach().requires_grad_(True)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if case.device.startswith("cuda") else [])
    with profile(activities=activities, profile_memory=True) as prof:
        y = fn(x)
        y.backward(case.out_grad)
        del y
    events = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events() if e.name() == "[memory]")
    running = peak = 0
    for _, nbytes in events:
        running += nbytes
        peak = max(peak, running)
    _clear_grads(case)
    return peak


def compile_check(device, reps):
    """Compiled kerastorch layer vs compiled raw torch (fullgraph), forward+backward."""
    rows = []
    for name in ("resnet3x3_s2_same", "tiny"):
        torch._dynamo.reset()  # each Case's torch_fn shares one code object: start clean per shape
        case = Case(SHAPES[name], device)
        compiled = {
            "torch": torch.compile(case.torch_fn, fullgraph=True, dynamic=False),
            "kerastorch": torch.compile(case.layer, fullgraph=True, dynamic=False),
        }
        times = {k: [] for k in compiled}
        for i in range(reps + 3):
            for k, fn in (compiled.items() if i % 2 else reversed(list(compiled.items()))):
                t = time_once(case, fn, True)
                if i >= 3:
                    times[k].append(t)
        med = {k: statistics.median(v) for k, v in times.items()}
        rows.append((name, med["torch"], med["kerastorch"]))
    return rows


def fmt_ms(t):
    return f"{t * 1e3:.3f}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--device", default="cpu")
    p.add_argument("--memory", action="store_true")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--autocast", choices=["bfloat16", "float16"], default=None)
    p.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated; empty for none")
    p.add_argument("--json", default=None, help="also write the raw results here")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    keras = _keras()
    print(f"torch {torch.__version__}, kerastorch {kt.__version__}, keras {keras.__version__ if keras else 'not importable'}, "
          f"device {args.device}, threads {args.threads}, reps {args.reps}, autocast {args.autocast}")
    autocast = getattr(torch, args.autocast) if args.autocast else None
    results = {}
    header = "| shape | mode | torch ms | kerastorch ms | kt/torch | torch_hwio/torch | keras3 ms | keras3/kt |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    shapes = [n for n in args.shapes.split(",") if n]
    for name in shapes:
        case = Case(SHAPES[name], args.device)
        for mode, backward in (("fwd", False), ("fwd+bwd", True)):
            med = bench_case(case, args.reps, backward, autocast, names=["torch", "kerastorch", "torch_hwio"])
            if case.keras_layer is not None:
                paired = bench_case(case, args.reps, backward, autocast, names=["kerastorch", "keras3"])
                med["keras3"], med["kerastorch_vs_keras3"] = paired["keras3"], paired["kerastorch"]
            results[f"{name}/{mode}"] = med
            k3 = med.get("keras3")
            print(f"| {name} | {mode} | {fmt_ms(med['torch'])} | {fmt_ms(med['kerastorch'])} | "
                  f"{med['kerastorch'] / med['torch']:.3f} | {med['torch_hwio'] / med['torch']:.3f} | "
                  f"{fmt_ms(k3)} | {k3 / med['kerastorch_vs_keras3']:.2f} |" if k3 else
                  f"| {name} | {mode} | {fmt_ms(med['torch'])} | {fmt_ms(med['kerastorch'])} | "
                  f"{med['kerastorch'] / med['torch']:.3f} | {med['torch_hwio'] / med['torch']:.3f} | - | - |", flush=True)
    if args.memory:
        print("\n| shape | torch peak MiB | kerastorch peak MiB | kt/torch | keras3 peak MiB |")
        print("|---|---|---|---|---|")
        for name in shapes:
            case = Case(SHAPES[name], args.device)
            mem = {impl: peak_memory(case, fn) for impl, fn in case.impls().items()}
            results[f"{name}/peak_bytes"] = mem
            k3 = f"{mem['keras3'] / 2**20:.2f}" if "keras3" in mem else "-"
            print(f"| {name} | {mem['torch'] / 2**20:.2f} | {mem['kerastorch'] / 2**20:.2f} | {mem['kerastorch'] / max(mem['torch'], 1):.3f} | {k3} |", flush=True)
    if args.compile:
        print("\n| shape (torch.compile, fullgraph, fwd+bwd) | torch ms | kerastorch ms | kt/torch |")
        print("|---|---|---|---|")
        for name, t_raw, t_kt in compile_check(args.device, args.reps):
            results[f"{name}/compiled"] = {"torch": t_raw, "kerastorch": t_kt}
            print(f"| {name} | {fmt_ms(t_raw)} | {fmt_ms(t_kt)} | {t_kt / t_raw:.3f} |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
