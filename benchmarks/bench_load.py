"""Load speed of Keras model files (issue 29): cold processes, warm loads, peak memory, Keras 3 and tf.keras.

    .venv/bin/python benchmarks/bench_load.py --keras-python .venv-keras/bin/python --write docs/benchmarks.md

One command writes the table (``--write``: replaces the section between the ``bench_load`` markers of the
markdown file; without it the table is printed). Models: a small tf.keras/Keras 3 MNIST convnet and
``keras.applications.ResNet50(weights=None)``, each as a tf.keras ``.h5`` (``tf_keras``), a Keras 3
``.keras`` (``keras``) and a kerastorch ``.safetensors`` (``kerastorch convert`` of the ``.h5``). The files
are made once with the real Keras of ``--keras-python`` into ``--cache`` (``benchmarks/.cache``, ignored by
git: ~300 MB) and reused. Children run in the cache folder: ``PYTHONPATH=<a copy of the package>`` benchmarks
that copy (e.g. a commit, while the working tree is being edited).

Rows:

* **cold**: a fresh process that imports torch and kerastorch, loads the file and predicts once (batch 1),
  minus a fresh process that only runs ``import torch`` (the two interleaved, ``--reps`` each, medians of
  the wall-clock times of the whole processes); also ``kerastorch summary`` and ``kerastorch convert`` of
  the small ``.h5``;
* **warm**: ``load_model`` in a process that has loaded the file once (median of ``--reps``, one thread);
* **peak RSS**: ``benchmarks/load_memory.py``'s child (fresh process: peak RSS of the load above the RSS after
  importing kerastorch, and what the finished model holds);
* **Keras 3 / tf.keras**: the same file loaded by ``keras.saving.load_model`` (the ``.keras``, TensorFlow
  backend unless ``KERAS_BACKEND`` says otherwise) and ``tf_keras.models.load_model`` (the ``.h5``), cold
  (whole process, import and one prediction) and warm, with ``--keras-python``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import load_memory  # noqa: E402

MODELS = {"small": (1, 28, 28, 1), "resnet50": (1, 224, 224, 3)}
FORMATS = (".tf.h5", ".k3.keras", ".safetensors")
START, END = "<!-- bench_load: start -->", "<!-- bench_load: end -->"
_CWD = str(HERE / ".cache")

_GENERATE = r"""
import os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tf_keras, keras
out = sys.argv[1]

def small(mod):
    L = mod.layers
    return mod.Sequential([L.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(),
                           L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(), L.Flatten(), L.Dropout(0.5),
                           L.Dense(10, activation="softmax")])

for name, make in (("small", small), ("resnet50", lambda mod: mod.applications.ResNet50(weights=None))):
    if not os.path.exists(f"{out}/{name}.tf.h5"):
        make(tf_keras).save(f"{out}/{name}.tf.h5")
    if not os.path.exists(f"{out}/{name}.k3.keras"):
        make(keras).save(f"{out}/{name}.k3.keras")
"""

_KT_COLD = """
import sys, torch, kerastorch
m = kerastorch.models.load_model(sys.argv[1]).eval()
with torch.no_grad():
    m(torch.zeros(*map(int, sys.argv[2].split(","))))
"""

_KT_WARM = """
import json, statistics, sys, time, torch, kerastorch
torch.set_num_threads(1)
path, reps = sys.argv[1], int(sys.argv[2])
kerastorch.models.load_model(path)
times = []
for _ in range(reps):
    start = time.perf_counter()
    model = kerastorch.models.load_model(path)
    times.append(time.perf_counter() - start)
    del model
print(json.dumps(statistics.median(times)))
"""

_KERAS_COLD = """
import os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
if sys.argv[3] == "keras3":
    import keras
    m = keras.saving.load_model(sys.argv[1])
else:
    import tf_keras as keras
    m = keras.models.load_model(sys.argv[1])
m.predict(np.zeros([int(d) for d in sys.argv[2].split(",")], "float32"), verbose=0)
"""

_KERAS_WARM = """
import json, os, statistics, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if sys.argv[3] == "keras3":
    import keras
    load = keras.saving.load_model
else:
    import tf_keras
    load = tf_keras.models.load_model
path, reps = sys.argv[1], int(sys.argv[2])
load(path)
times = []
for _ in range(reps):
    start = time.perf_counter()
    model = load(path)
    times.append(time.perf_counter() - start)
    del model
print(json.dumps(statistics.median(times)))
"""


def _env() -> dict[str, str]:
    """The children's environment: compiled bytecode cached under the cache folder (as an installed package
    has it; with PYTHONDONTWRITEBYTECODE every process would compile kerastorch's sources again)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.setdefault("PYTHONPYCACHEPREFIX", str(HERE / ".cache" / "pycache"))
    return env


def _run(cmd: list[str]) -> str:
    """Run a child in the cache folder (not the repository root, whose ``kerastorch`` would shadow a
    ``PYTHONPATH`` snapshot of the package); its stdout, or its stderr in the error."""
    out = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=_CWD)
    if out.returncode:
        raise SystemExit(f"{' '.join(cmd)[:200]} failed:\n{out.stderr[-2000:]}")
    return out.stdout


def _wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    _run(cmd)
    return time.perf_counter() - start


def _json(cmd: list[str]) -> float:
    return json.loads(_run(cmd).strip().splitlines()[-1])


def prepare(cache: Path, keras_python: str | None) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    if any(not (cache / f"{m}{f}").exists() for m in MODELS for f in (".tf.h5", ".k3.keras")):
        if not keras_python:
            sys.exit(f"{cache} lacks the Keras files: pass --keras-python .venv-keras/bin/python to make them")
        subprocess.run([keras_python, "-c", _GENERATE, str(cache)], check=True)
    for m in MODELS:
        if not (cache / f"{m}.safetensors").exists():
            subprocess.run([sys.executable, "-m", "kerastorch", "convert", str(cache / f"{m}.tf.h5"),
                            str(cache / f"{m}.safetensors")], check=True, stdout=subprocess.DEVNULL)


def cold(cmds: dict[str, list[str]], reps: int) -> dict[str, float]:
    """Median wall time of each command's process minus that of ``import torch`` alone, interleaved."""
    base = [sys.executable, "-c", "import torch"]
    times: dict[str, list[float]] = {k: [] for k in cmds}
    torch_only: list[float] = []
    for cmd in [base, *cmds.values()]:  # once untimed: bytecode compiled and cached, files in the page cache
        _wall(cmd)
    for _ in range(reps):
        torch_only.append(_wall(base))
        for key, cmd in cmds.items():
            times[key].append(_wall(cmd))
    t0 = statistics.median(torch_only)
    return {"import torch": t0, **{k: statistics.median(v) - t0 for k, v in times.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", default=str(HERE / ".cache"))
    parser.add_argument("--keras-python", help="an interpreter with tensorflow, tf_keras and keras 3 (.venv-keras)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--write", help="markdown file whose bench_load section is replaced by the table")
    args = parser.parse_args()
    if args.keras_python and os.sep in args.keras_python:
        args.keras_python = os.path.abspath(args.keras_python)  # the children run in the cache folder
    cache = Path(args.cache).resolve()
    global _CWD
    _CWD = str(cache)
    prepare(cache, args.keras_python)
    files = {f"{m}{f}": cache / f"{m}{f}" for m in MODELS for f in FORMATS}
    shape = {k: ",".join(map(str, MODELS[k.split(".")[0]])) for k in files}

    cmds = {k: [sys.executable, "-c", _KT_COLD, str(p), shape[k]] for k, p in files.items()}
    cmds["summary small.tf.h5"] = [sys.executable, "-m", "kerastorch", "summary", str(files["small.tf.h5"])]
    out = cache / "converted.safetensors"
    cmds["convert small.tf.h5"] = [sys.executable, "-m", "kerastorch", "convert", str(files["small.tf.h5"]), str(out)]
    cold_kt = cold(cmds, args.reps)
    warm = {k: _json([sys.executable, "-c", _KT_WARM, str(p), str(args.reps)]) for k, p in files.items()}
    memory = {k: load_memory.measure(str(p)) for k, p in files.items() if k.startswith("resnet50")}

    keras: dict[str, dict[str, float]] = {}
    if args.keras_python:
        for k, p in files.items():
            flavour = {".k3.keras": "keras3", ".tf.h5": "tf_keras"}.get(k[k.index("."):])
            if flavour is None:
                continue
            reps = max(1, args.reps // 2) if k.startswith("resnet50") else args.reps
            cold_times = [_wall([args.keras_python, "-c", _KERAS_COLD, str(p), shape[k], flavour]) for _ in range(reps)]
            keras[k] = {
                "who": "Keras 3" if flavour == "keras3" else "tf.keras",
                "cold": statistics.median(cold_times),
                "warm": _json([args.keras_python, "-c", _KERAS_WARM, str(p), str(reps), flavour]),
            }

    table = render(files, cold_kt, warm, memory, keras, args.reps)
    if args.write:
        text = Path(args.write).read_text()
        section = f"{START}\n{table}\n{END}"
        if START in text:
            text = text[: text.index(START)] + section + text[text.index(END) + len(END):]
        else:
            text = text.rstrip("\n") + "\n\n## Load speed (benchmarks/bench_load.py)\n\n" + section + "\n"
        Path(args.write).write_text(text)
    print(table)


def render(files: dict, cold_kt: dict, warm: dict, memory: dict, keras: dict, reps: int) -> str:
    mb = 2**20
    lines = [
        f"Machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end; `import torch` alone: "
        f"{cold_kt['import torch']:.2f} s (median of {reps} cold processes).",
        "",
        "| file | size | cold: process - `import torch` | warm load (1 thread) | warm / .safetensors | "
        "peak RSS - baseline (held) | Keras cold process | Keras warm load | Keras warm / kerastorch warm |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for k, p in files.items():
        model = k.split(".")[0]
        ratio = warm[k] / warm[f"{model}.safetensors"]
        mem = memory.get(k)
        mem_text = f"{(mem['peak'] - mem['base']) / mb:.0f} MiB ({(mem['held'] - mem['base']) / mb:.0f} MiB)" if mem else ""
        ref = keras.get(k)
        ref_cold = f"{ref['who']}: {ref['cold']:.2f} s" if ref else ""
        ref_warm = f"{ref['warm']:.3f} s" if ref else ""
        ref_ratio = f"{ref['warm'] / warm[k]:.1f}x" if ref else ""
        lines.append(
            f"| `{k}` | {os.path.getsize(p) / mb:.1f} MiB | {cold_kt[k]:+.2f} s | {warm[k]:.3f} s | {ratio:.2f}x | "
            f"{mem_text} | {ref_cold} | {ref_warm} | {ref_ratio} |"
        )
    for key in ("summary small.tf.h5", "convert small.tf.h5"):
        lines.append(f"| `kerastorch {key}` | | {cold_kt[key]:+.2f} s | | | | | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
