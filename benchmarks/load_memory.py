"""Peak memory of ``load_model`` against file size (the table in ``docs/loading_memory.md``).

    .venv/bin/python benchmarks/load_memory.py resnet152.tf.h5 resnet152.k3.keras resnet152.safetensors

Each file is loaded in a fresh child process: RSS after importing kerastorch (baseline), peak RSS during
the load (``ru_maxrss``), RSS with the model held (finished), and the size of the model's weights.
Make the files with real Keras (``.venv-keras``: ``tf_keras.applications.ResNet152(weights=None).save``
and ``keras.applications.ResNet152(weights=None).save``) and ``kerastorch convert`` for ``.safetensors``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

_CHILD = r"""
import json, os, resource, sys, time
import torch
import kerastorch as kt
torch.set_num_threads(1)

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024

base = rss()
start = time.perf_counter()
model = kt.models.load_model(sys.argv[1])
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
import ctypes, gc
gc.collect()
ctypes.CDLL("libc.so.6").malloc_trim(0)  # freed memory back to the OS: "held" is what the model keeps
weights = sum(t.numel() * t.element_size() for t in model.state_dict().values())
print(json.dumps({"base": base, "peak": peak, "held": rss(), "weights": weights, "seconds": seconds}))
"""


def measure(path: str) -> dict:
    # run outside the repository root, whose kerastorch would shadow a PYTHONPATH snapshot of the package
    out = subprocess.run([sys.executable, "-c", _CHILD, os.path.abspath(path)], capture_output=True, text=True,
                         check=True, cwd=os.path.dirname(os.path.abspath(path)))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(paths: list[str]) -> None:
    mb = 2**20
    print("| file | file size | weights | peak RSS - baseline | held RSS - baseline | peak - held | load time |")
    print("|---|---|---|---|---|---|---|")
    for path in paths:
        r = measure(path)
        print(
            f"| `{os.path.basename(path)}` | {os.path.getsize(path) / mb:.0f} MiB | {r['weights'] / mb:.0f} MiB | "
            f"{(r['peak'] - r['base']) / mb:.0f} MiB | {(r['held'] - r['base']) / mb:.0f} MiB | "
            f"{(r['peak'] - r['held']) / mb:.0f} MiB | {r['seconds']:.1f} s |"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
