"""Record attention gradients when a query row is masked whole, from REAL tf.keras 2.21 and Keras 3.15.1.

Run: ``.venv-keras/bin/python compat_fixtures/generate.py --only attention_masked_rows``.

Output ``attention/masked_rows.json`` + ``attention/masked_rows.safetensors``; per case ``{"id", "cls", "kwargs"}``
and tensors ``<id>.{q, v, mask, r, w<i>}`` (inputs, the boolean mask, the upstream gradient, the weights set in
Keras order) and per library ``<id>.<lib>.{out, dq, dv, dw<i>}``: the output and the gradients of
``sum(out * r)`` (``tf.GradientTape``) with respect to the query, the value and every trainable weight.

* ``mha_row``: MultiHeadAttention with an ``attention_mask`` whose query row 1 of batch 0 is masked whole
  (other rows partly masked).
* ``attention_row`` / ``additive_row``: Attention(use_scale) / AdditiveAttention with ``mask=[query_mask,
  value_mask]`` whose value mask of batch 1 is all False (every row of that batch masked whole).

``attention/score_shapes.json``: ``return_attention_scores=True`` output shapes, symbolic and called (see
``score_shapes``).
"""
from __future__ import annotations

import os

import numpy as np

from .common import fresh_session, import_keras3, import_tf, save_safetensors, write_json

CASES = [
    ("mha_row", "MultiHeadAttention", dict(num_heads=2, key_dim=3)),
    ("attention_row", "Attention", dict(use_scale=True)),
    ("additive_row", "AdditiveAttention", dict()),
]


def _inputs(cid, rng):
    q = rng.standard_normal((2, 4, 5)).astype("float32")
    v = rng.standard_normal((2, 3, 5)).astype("float32")
    if cid == "mha_row":
        mask = rng.random((2, 4, 3)) > 0.4
        mask[..., 0] = True
        mask[0, 1, :] = False  # query row 1 of batch 0: masked whole
    else:
        mask = np.ones((2, 3), dtype=bool)
        mask[1, :] = False  # batch 1: every key masked
        mask[0, 2] = False
    return q, v, mask


def _run(tf, lib, cls, kwargs, q, v, mask, weights, r):
    layer = getattr(lib.layers, cls)(**kwargs)
    tq, tv, tm = tf.constant(q), tf.constant(v), tf.constant(mask)

    def call():
        if cls == "MultiHeadAttention":
            return layer(tq, tv, attention_mask=tm, training=True)
        return layer([tq, tv], mask=[None, tm], training=True)

    call()
    if weights is not None:
        layer.set_weights(weights)
    with tf.GradientTape() as tape:
        tape.watch([tq, tv])
        y = call()
        loss = tf.reduce_sum(y * tf.constant(r))
    grads = tape.gradient(loss, [tq, tv] + list(layer.trainable_weights))
    return layer, np.asarray(y), [np.zeros(t.shape, "float32") if g is None else np.asarray(g) for g, t in
                                  zip(grads, [tq, tv] + list(layer.trainable_weights))]


SCORE_CASES = [  # id, class, constructor kwargs, input shapes (no batch), call kwargs
    ("mha_cross", "MultiHeadAttention", dict(num_heads=2, key_dim=3), [(4, 6), (3, 6)], {}),
    ("mha_two_axes", "MultiHeadAttention", dict(num_heads=2, key_dim=3, attention_axes=(1, 2)), [(2, 4, 6), (2, 3, 6)], {}),
    ("mha_axis_2", "MultiHeadAttention", dict(num_heads=3, key_dim=2, attention_axes=(2,)), [(2, 4, 6), (2, 3, 6)], {}),
    ("attention", "Attention", dict(), [(4, 6), (3, 6)], {}),
    ("additive", "AdditiveAttention", dict(), [(4, 6), (3, 6), (3, 6)], {}),
]


def _shapes(y):
    return [_shapes(t) for t in y] if isinstance(y, (list, tuple)) else [None if d is None else int(d) for d in y.shape]


def score_shapes(tf, tfk, k3):
    """``return_attention_scores=True``: per case and library ``{"symbolic", "called", "kind"}``: the shapes of
    the outputs of a call on ``Input``s, those of a call on arrays (batch 2), and the type of the pair."""
    records = []
    for cid, cls, kwargs, shapes, ckw in SCORE_CASES:
        rec = {"id": cid, "cls": cls, "kwargs": kwargs, "shapes": [list(s) for s in shapes]}
        for tag, lib in (("tf", tfk), ("k3", k3)):
            fresh_session(lib, seed=2400)
            layer = getattr(lib.layers, cls)(**kwargs)
            ins = [lib.Input(s) for s in shapes]
            arrays = [tf.constant(np.zeros((2,) + s, "float32")) for s in shapes]
            if cls == "MultiHeadAttention":
                sym = layer(*ins[:2], return_attention_scores=True, **ckw)
                got = layer(*arrays[:2], return_attention_scores=True, **ckw)
            else:
                sym = layer(ins, return_attention_scores=True, **ckw)
                got = layer(arrays, return_attention_scores=True, **ckw)
            rec[tag] = {"symbolic": _shapes(sym), "called": _shapes(got), "kind": type(sym).__name__}
        records.append(rec)
    return records


def main(out_dir):
    tf, tfk = import_tf()
    k3 = import_keras3()
    out = os.path.join(out_dir, "attention")
    os.makedirs(out, exist_ok=True)
    records, tensors = [], {}
    with tf.device("/CPU:0"):
        for k, (cid, cls, kwargs) in enumerate(CASES):
            rng = np.random.default_rng(2300 + k)
            q, v, mask = _inputs(cid, rng)
            r = rng.standard_normal((2, 4, 5)).astype("float32")
            weights = None
            for tag, lib in (("tf", tfk), ("k3", k3)):
                fresh_session(lib, seed=2300)
                layer, y, grads = _run(tf, lib, cls, kwargs, q, v, mask, weights, r)
                if weights is None:
                    weights = [(0.4 * rng.standard_normal(w.shape) + (1.0 if w.ndim == 0 else 0.0)).astype("float32")
                               for w in layer.get_weights()]
                    layer, y, grads = _run(tf, lib, cls, kwargs, q, v, mask, weights, r)
                tensors[f"{cid}.{tag}.out"] = y
                tensors[f"{cid}.{tag}.dq"], tensors[f"{cid}.{tag}.dv"] = grads[0], grads[1]
                for i, g in enumerate(grads[2:]):
                    tensors[f"{cid}.{tag}.dw{i}"] = g
            tensors.update({f"{cid}.q": q, f"{cid}.v": v, f"{cid}.mask": mask.astype("uint8"), f"{cid}.r": r})
            tensors.update({f"{cid}.w{i}": w for i, w in enumerate(weights)})
            records.append({"id": cid, "cls": cls, "kwargs": kwargs})
        write_json(os.path.join(out, "score_shapes.json"), score_shapes(tf, tfk, k3))
    write_json(os.path.join(out, "masked_rows.json"), records)
    save_safetensors(tensors, os.path.join(out, "masked_rows.safetensors"))
    return {"cases": len(CASES)}
