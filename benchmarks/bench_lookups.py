"""The vocabulary layers (issue 21) against Keras 3 on the same data, in the same run.

    .venv/bin/python benchmarks/bench_lookups.py [--keras] [--reps 5]

Cases: ``StringLookup`` (a 5,000-term vocabulary) on 100,000 short strings (a NumPy array ``(100000, 1)``),
``TextVectorization`` (adapted, ``output_sequence_length=16``) on 100,000 short sentences, and ``IntegerLookup``
on a ``(4096, 256)`` int64 tensor (one million ids) with a "wide" vocabulary (50,000 random ids below 10**7:
binary search) and a "compact" one (ids 0..49,999: the dense table). Each reports the median time of
``--reps`` calls (after one warm-up), and the ``adapt`` time of TextVectorization on the sentences.

``--keras`` runs the same cases in Keras 3 (TensorFlow backend) in ``.venv-keras`` as a separate process (same
data: it is regenerated from the same seed there) and prints the ratio keras3 / kerastorch per case.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_compare import main, timed  # noqa: E402

WORDS = 5000


def data():
    rng = np.random.default_rng(0)
    terms = np.array([f"w{i:04d}" for i in range(WORDS + 500)])  # the last 500 are out of the vocabulary
    vocab = terms[:WORDS]
    column = terms[rng.integers(0, WORDS + 500, 100_000)].reshape(-1, 1)
    words = vocab[rng.zipf(1.3, (100_000, 8)) % WORDS]
    sentences = np.array([" ".join(r) for r in words]).reshape(-1, 1)
    int_vocab = rng.choice(10_000_000, 50_000, replace=False).astype(np.int64)
    ids = int_vocab[rng.integers(0, 50_000, (4096, 256))]
    ids[::7, ::5] = -3  # OOV
    return vocab, column, sentences, int_vocab, ids


def run_kerastorch(reps):
    import torch
    import kerastorch as kt

    torch.set_num_threads(max(1, torch.get_num_threads()))
    vocab, column, sentences, int_vocab, ids = data()
    out = {}
    sl = kt.layers.StringLookup(vocabulary=list(vocab))
    out["StringLookup 100k strings"] = timed(lambda: sl(column), reps)
    tv = kt.layers.TextVectorization(max_tokens=WORDS + 2, output_sequence_length=16)
    t0 = time.perf_counter()
    tv.adapt(sentences)
    out["TextVectorization adapt 100k"] = (time.perf_counter() - t0) * 1e3
    out["TextVectorization 100k sentences"] = timed(lambda: tv(sentences), reps)
    x = torch.from_numpy(ids)
    for label, v, data_ in (("wide", int_vocab, x), ("compact", np.arange(WORDS * 10), x % (WORDS * 12))):
        il = kt.layers.IntegerLookup(vocabulary=list(v))
        with torch.no_grad():
            out[f"IntegerLookup 4096x256, {label} vocabulary"] = timed(lambda: il(data_), reps)
    return out


def run_keras(reps):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    import keras

    vocab, column, sentences, int_vocab, ids = data()
    out = {}
    sl = keras.layers.StringLookup(vocabulary=list(vocab))
    col = tf.constant(column)
    out["StringLookup 100k strings"] = timed(lambda: sl(col), reps)
    tv = keras.layers.TextVectorization(max_tokens=WORDS + 2, output_sequence_length=16)
    t0 = time.perf_counter()
    tv.adapt(sentences)
    out["TextVectorization adapt 100k"] = (time.perf_counter() - t0) * 1e3
    sent = tf.constant(sentences)
    out["TextVectorization 100k sentences"] = timed(lambda: tv(sent), reps)
    for label, v, data_ in (("wide", int_vocab, ids), ("compact", np.arange(WORDS * 10), ids % (WORDS * 12))):
        il = keras.layers.IntegerLookup(vocabulary=list(v))
        xt = tf.constant(data_)
        out[f"IntegerLookup 4096x256, {label} vocabulary"] = timed(lambda: il(xt), reps)
    return out


if __name__ == "__main__":
    main(os.path.abspath(__file__), run_kerastorch, run_keras)
