"""Ejected structured-data / text / audio models (``kerastorch eject``) vs the same files loaded by kerastorch.

The Keras files of ``compat_fixtures/lookups`` and ``compat_fixtures/structured/models``: the TextVectorization
classifiers (int + Embedding, tf_idf) on 100k five-word sentences (a NumPy string array), the structured model
(Discretization, salted and plain integer Hashing, CategoryEncoding, HashedCrossing) on 100k rows, the audio model
(MelSpectrogram, STFTSpectrogram) on 256 signals of 256 samples. Median ms of ``--reps`` interleaved repetitions
after a warm-up, eval, no grad.

    .venv/bin/python benchmarks/bench_eject_structured.py [--reps 7] [--threads 1]
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from kerastorch.eject import eject_file
from kerastorch.models import load_model

ROOT = Path(__file__).resolve().parent.parent / "compat_fixtures"
ROWS = 100_000


def _inputs(name: str) -> list:
    rng = np.random.default_rng(0)
    if name.startswith("text"):
        words = ["a", "great", "movie", "loved", "it", "terrible", "plot", "bad", "acting", "zzz", "I", "the"]
        return [np.array([" ".join(rng.choice(words, 5)) for _ in range(ROWS)]).reshape(-1, 1)]
    g = torch.Generator().manual_seed(0)
    if name.startswith("audio"):
        return [torch.randn(256, 256, generator=g)]
    return [torch.randn(ROWS, 1, generator=g), torch.randint(-10**12, 10**12, (ROWS, 1), generator=g),
            torch.randint(0, 50, (ROWS, 1), generator=g)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    files = {"text.k3.keras": ROOT / "lookups", "text_tfidf.k3.keras": ROOT / "lookups",
             "structured.k3.keras": ROOT / "structured" / "models", "audio.k3.keras": ROOT / "structured" / "models"}
    print("| model | loaded ms | ejected ms | ejected/loaded |\n|---|---|---|---|")
    for name, folder in files.items():
        with tempfile.TemporaryDirectory() as directory:
            eject_file(str(folder / name), directory)
            spec = importlib.util.spec_from_file_location(f"ejected_{name.split('.')[0]}", Path(directory) / "model.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            ejected = module.load()
        loaded = load_model(folder / name).eval()
        xs = _inputs(name)
        runs = {"loaded": lambda: loaded(xs[0] if len(xs) == 1 else xs), "ejected": lambda: ejected(*xs)}
        times: dict[str, list[float]] = {k: [] for k in runs}
        with torch.no_grad():
            torch.testing.assert_close(runs["ejected"](), runs["loaded"]())  # the same outputs, and a warm-up
            for _ in range(args.reps):
                for key, run in runs.items():
                    start = time.perf_counter()
                    run()
                    times[key].append((time.perf_counter() - start) * 1000)
        a, b = statistics.median(times["loaded"]), statistics.median(times["ejected"])
        print(f"| {name} | {a:.1f} | {b:.1f} | {b / a:.2f} |")


if __name__ == "__main__":
    main()
