"""Mixed-precision model files (issue 22): real tf.keras 2.21 and Keras 3.15.1 models under a ``mixed_float16`` /
``mixed_bfloat16`` global policy, saved with their weights, and what Keras computes with them.

Run (from the repository root, in the reference venv; see ``generate.py``)::

    .venv-keras/bin/python compat_fixtures/generate.py --only mixed_precision

Each case is a small convnet and a small LSTM tagger (Conv2D -> BatchNormalization -> ReLU -> GlobalAveragePooling2D ->
Dense, its last layer ``dtype="float32"`` as Keras's mixed-precision guide says; Embedding -> LSTM -> Dense). Written
to ``mixed_precision/``: ``<case>.<kind>`` model files, ``cases.json`` (per case: files, the policy, the dtype of
every layer's variables and of every layer's output as Keras reports them, Keras's output dtype) and
``tensors.safetensors`` (``<case>.input``, ``<case>.output``: Keras's inference output, as float32).
"""
from __future__ import annotations

import os

import numpy as np

from .common import FIXTURES, fresh_session, imports, save_safetensors, write_json

SEED = 20261208


def _fill(model, rng):
    values = []
    for w in model.weights:
        shape = tuple(w.shape)
        leaf = w.name.split("/")[-1].split(":")[0]
        if "variance" in leaf:
            values.append(rng.uniform(0.5, 1.5, shape).astype(np.float32))
        elif len(shape) >= 2:
            values.append((rng.standard_normal(shape) / np.sqrt(np.prod(shape[:-1]))).astype(np.float32))
        else:
            values.append((0.3 * rng.standard_normal(shape)).astype(np.float32))
    model.set_weights(values)


def _cnn(lib, name):
    inp = lib.Input((8, 8, 3), name="image")
    h = lib.layers.Conv2D(6, 3, padding="same", name="conv")(inp)
    h = lib.layers.BatchNormalization(name="bn")(h)
    h = lib.layers.ReLU(name="relu")(h)
    h = lib.layers.GlobalAveragePooling2D(name="gap")(h)
    out = lib.layers.Dense(4, activation="softmax", dtype="float32", name="head")(h)
    return lib.Model(inp, out, name=name)


def _tagger(lib, name):
    inp = lib.Input((7,), dtype="int32", name="tokens")
    h = lib.layers.Embedding(20, 8, name="emb")(inp)
    h = lib.layers.LSTM(6, return_sequences=True, name="lstm")(h)
    out = lib.layers.Dense(3, dtype="float32", name="head")(h)
    return lib.Model(inp, out, name=name)


def _dtypes(model):
    layers = [l for l in model.layers if type(l).__name__ != "InputLayer"]
    return {
        "variables": {l.name: sorted({v.dtype if isinstance(v.dtype, str) else v.dtype.name for v in l.weights}) for l in layers},
        "outputs": {l.name: (l.output.dtype if isinstance(l.output.dtype, str) else l.output.dtype.name) for l in layers},
    }


def main(out_dir: str = FIXTURES) -> dict:
    tf, tk, k3 = imports()
    dest = os.path.join(out_dir, "mixed_precision")
    os.makedirs(dest, exist_ok=True)
    rng = np.random.default_rng(SEED)
    tensors: dict[str, np.ndarray] = {}
    cases: dict[str, dict] = {}
    plans = [("tf_keras", tk, "mixed_float16", ("tf.h5", "tf.keras")), ("keras3", k3, "mixed_float16", ("k3.keras",)),
             ("keras3", k3, "mixed_bfloat16", ("k3.keras",))]
    for source, lib, policy, kinds in plans:
        for arch, build in (("cnn", _cnn), ("tagger", _tagger)):
            case = f"{source}_{policy}_{arch}"
            fresh_session(tk, k3)
            lib.mixed_precision.set_global_policy(policy)
            try:
                model = build(lib, case)
                _fill(model, rng)
                x = rng.standard_normal((2, 8, 8, 3)).astype(np.float32) if arch == "cnn" else \
                    rng.integers(0, 20, (2, 7)).astype(np.int32)
                y = model(x, training=False)
                files = {}
                for kind in kinds:
                    path = os.path.join(dest, f"{case}.{kind}")
                    model.save(path)
                    files[kind] = os.path.basename(path)
                tensors[f"{case}.input"] = x
                tensors[f"{case}.output"] = np.asarray(tf.cast(y, tf.float32))
                cases[case] = {"source": source, "policy": policy, "files": files, "output_dtype": y.dtype.name,
                               **_dtypes(model)}
            finally:
                lib.mixed_precision.set_global_policy("float32")
    write_json(os.path.join(dest, "cases.json"), {"cases": cases})
    save_safetensors(tensors, os.path.join(dest, "tensors.safetensors"))
    return {"cases": len(cases)}
