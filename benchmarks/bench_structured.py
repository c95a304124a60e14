"""The structured-data layers of issue 21 against Keras 3 on the same data, in the same run.

    .venv/bin/python benchmarks/bench_structured.py [--keras] [--reps 5]

Cases: ``Hashing(num_bins=1000)`` (FarmHash) and ``Hashing(num_bins=1000, salt=7)`` (SipHash) on 100,000 short
strings (a NumPy array ``(100000, 1)``) and on a ``(4096, 256)`` int64 tensor (one million ints, hashed as their
decimal strings); ``HashedCrossing(num_bins=1000)`` of two int64 columns of 100,000 rows; ``Discretization`` (99
boundaries) and ``CategoryEncoding(num_tokens=1000)`` ``multi_hot`` / ``count`` on ``(4096, 256)`` tensors; and
``Discretization(num_bins=10).adapt`` on one million floats (Keras 3's algorithm in both: one summary of the
whole array; tf.keras's merges 32-row batches one by one). Each reports the median time of ``--reps`` calls
(after one warm-up).

``--keras`` runs the same cases in Keras 3 (TensorFlow backend) in ``.venv-keras`` as a separate process (same
data: it is regenerated from the same seed there) and prints the ratio keras3 / kerastorch per case.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_compare import main, timed  # noqa: E402


def data():
    rng = np.random.default_rng(0)
    words = np.array([f"user_{i}@example.com" if i % 3 else f"w{i}" for i in range(20_000)])
    column = words[rng.integers(0, len(words), 100_000)].reshape(-1, 1)
    ints = rng.integers(-10 ** 12, 10 ** 12, (4096, 256)).astype(np.int64)
    cross = [rng.integers(0, 10_000, (100_000, 1)).astype(np.int64) for _ in range(2)]
    floats = rng.normal(size=(4096, 256)).astype(np.float32)
    bins = np.quantile(floats, np.linspace(0.01, 0.99, 99)).astype(np.float32).tolist()
    tokens = rng.integers(0, 1000, (4096, 256)).astype(np.int64)
    return column, ints, cross, floats, bins, tokens


def cases(L, tensor, column, ints, cross, floats, bins, tokens):
    """``(label, callable)`` for one library (``L``: its ``layers``; ``tensor``: array -> its tensor)."""
    fast, strong = L.Hashing(num_bins=1000), L.Hashing(num_bins=1000, salt=7)
    xi, xf, xt = tensor(ints), tensor(floats), tensor(tokens)
    xc = [tensor(c) for c in cross]
    col = tensor(column) if tensor.__module__.startswith("tensorflow") else column  # torch: the NumPy array itself
    disc = L.Discretization(bin_boundaries=bins)
    multi, count = L.CategoryEncoding(1000, output_mode="multi_hot"), L.CategoryEncoding(1000, output_mode="count")
    crossing = L.HashedCrossing(num_bins=1000)
    adapt_data = floats.reshape(-1)

    keras3 = {} if tensor.__module__.startswith("tensorflow") else {"keras3": True}  # both: Keras 3's algorithm

    def adapt():
        L.Discretization(num_bins=10, **keras3).adapt(adapt_data)

    return [("Hashing 100k strings (FarmHash)", lambda: fast(col)), ("Hashing 100k strings (SipHash salt)", lambda: strong(col)),
            ("Hashing 4096x256 int64 (FarmHash)", lambda: fast(xi)), ("Hashing 4096x256 int64 (SipHash salt)", lambda: strong(xi)),
            ("HashedCrossing 2 x 100k int64", lambda: crossing(xc)), ("Discretization 4096x256, 99 bins", lambda: disc(xf)),
            ("CategoryEncoding multi_hot 4096x256 -> 1000", lambda: multi(xt)),
            ("CategoryEncoding count 4096x256 -> 1000", lambda: count(xt)), ("Discretization adapt 1M floats", adapt)]


def run_kerastorch(reps):
    import torch

    import kerastorch as kt

    column, *rest = data()
    out = {}
    with torch.no_grad():
        for label, fn in cases(kt.layers, torch.from_numpy, column, *rest):
            out[label] = timed(fn, reps)
    return out


def run_keras(reps):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import keras
    import tensorflow as tf

    return {label: timed(fn, reps) for label, fn in cases(keras.layers, tf.constant, *data())}


if __name__ == "__main__":
    main(os.path.abspath(__file__), run_kerastorch, run_keras)
