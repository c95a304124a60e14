"""Record EinsumDense, MultiHeadAttention, GroupQueryAttention and whole transformer models from REAL tf.keras
2.21 and Keras 3.15.1 (issue 19). Output under ``attention/``:

``attention.json`` + ``attention.safetensors``:

* ``einsum``: EinsumDense per equation form / option, each library: ``{"id", "lib", "kwargs", "input_shape",
  "config", "weight_shapes", "out_shape"}``; tensors ``<id>.<lib>.{x, w<i>, out, dx}`` (``dx``: gradient of
  ``sum(out * r)`` with ``r`` = ``<id>.<lib>.r``).
* ``mha``: MultiHeadAttention per option and call argument, each library: ``{"id", "lib", "kwargs", "call",
  "config", "weight_names", "weight_shapes", "masks"}``; tensors ``<id>.<lib>.{q, v, k, w<i>, out, scores,
  dq, dw0, attention_mask, q_mask, v_mask}``. Query/value masks come from a ``Masking`` layer on the inputs
  (``_keras_mask`` in tf.keras, Keras 3's masks), as Keras derives them: ``q_mask = any(q != 0, -1)``.
* ``gqa``: Keras 3 GroupQueryAttention cases (same tensors).
* ``errors``: ``{"id", "lib", "kwargs", "call", "message"}`` for bad arguments and calls.
* ``models``: whole transformer models saved by each library (``<id>.tf.h5``, ``<id>.k3.keras``):
  ``{"id", "files", "inputs"}`` (``gqa_lm``: Keras 3 only), tensors ``<id>.input.<name>``, ``<id>.<lib>.out``.
"""
from __future__ import annotations

import os
import shutil
import tempfile

import numpy as np

from .common import clean_message, fresh_session, import_keras3, import_tf, jsonable, save_safetensors, write_json

SEED = 1900


def _fill(layer, rng, scale=0.4):
    ws = layer.get_weights()
    layer.set_weights([(rng.standard_normal(w.shape) * scale).astype("float32") for w in ws])
    return layer.get_weights()


def _grad_of(tf, fn, xs, ws, r):
    with tf.GradientTape() as tape:
        for x in xs:
            tape.watch(x)
        out = fn()
        if isinstance(out, (list, tuple)):
            out = out[0]
        loss = tf.reduce_sum(out * r)
    return out, tape.gradient(loss, list(xs) + list(ws))


EINSUM = [
    ("dense2d", dict(equation="ab,bc->ac", output_shape=4, bias_axes="c"), (3, 5)),
    ("proj3d", dict(equation="abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de"), (2, 4, 5)),
    ("left_ellipsis", dict(equation="...b,bc->...c", output_shape=6, bias_axes="c", activation="relu"), (2, 3, 4, 5)),
    ("right_ellipsis", dict(equation="abc...,cd->abd...", output_shape=(None, 4), bias_axes="d"), (2, 3, 5, 2)),
    ("transpose_out", dict(equation="abc,cd->adb", output_shape=(4, None)), (2, 3, 5)),
    ("bias_middle", dict(equation="abc,cde->abde", output_shape=(None, 2, 3), bias_axes="d"), (2, 4, 5)),
    ("output_dense", dict(equation="abcd,cde->abe", output_shape=(None, 6), bias_axes="e"), (2, 3, 2, 4)),
]


def einsum_cases(tf, tfk, k3, tensors):
    out = []
    for k, (cid, kwargs, shape) in enumerate(EINSUM):
        rng = np.random.default_rng(SEED + k)
        x = rng.standard_normal(shape).astype("float32")
        for tag, lib in (("tf", tfk), ("k3", k3)):
            cls = tfk.layers.EinsumDense if tag == "tf" else k3.layers.EinsumDense
            fresh_session(lib, seed=SEED)
            layer = cls(**kwargs)
            xt = tf.constant(x)
            layer(xt)
            ws = _fill(layer, np.random.default_rng(SEED + 100 + k))
            y = layer(xt)
            r = np.random.default_rng(SEED + 200 + k).standard_normal(tuple(y.shape)).astype("float32")
            y, grads = _grad_of(tf, lambda: layer(xt), [xt], [], tf.constant(r))
            key = f"einsum.{cid}.{tag}"
            tensors[f"{key}.x"] = x
            tensors[f"{key}.r"] = r
            tensors[f"{key}.out"] = np.asarray(y)
            tensors[f"{key}.dx"] = np.asarray(grads[0])
            for i, w in enumerate(ws):
                tensors[f"{key}.w{i}"] = w
            out.append({"id": cid, "lib": tag, "kwargs": kwargs, "input_shape": list(shape),
                        "config": jsonable(layer.get_config()), "weight_shapes": [list(w.shape) for w in ws],
                        "out_shape": list(y.shape)})
    # Keras 3 LoRA: the output after training the factors is the merged kernel's (recorded: config + merged save)
    fresh_session(k3, seed=SEED)
    layer = k3.layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de", lora_rank=2)
    x = np.random.default_rng(SEED + 50).standard_normal((2, 4, 5)).astype("float32")
    layer(tf.constant(x))
    out.append({"id": "lora", "lib": "k3", "config": jsonable(layer.get_config()),
                "weight_names": [w.path for w in layer.weights],
                "trainable": [w.path for w in layer.trainable_weights]})
    return out


# (id, constructor kwargs, (query shape, value shape or None: self-attention, key shape or None),
#  call kwargs, masks: which inputs get a Masking layer)
MHA = [
    ("self_default", dict(num_heads=2, key_dim=3), ((2, 5, 4), None, None), {}, ()),
    ("cross_value_dim", dict(num_heads=2, key_dim=3, value_dim=5, output_shape=6),
     ((2, 4, 4), (2, 6, 3), (2, 6, 5)), {}, ()),
    ("no_bias", dict(num_heads=3, key_dim=2, use_bias=False), ((2, 4, 5), (2, 3, 5), None), {}, ()),
    ("output_shape_2d", dict(num_heads=2, key_dim=2, output_shape=(2, 3)), ((2, 3, 4), None, None), {}, ()),
    ("causal", dict(num_heads=2, key_dim=3), ((2, 5, 4), None, None), {"use_causal_mask": True}, ()),
    ("causal_cross", dict(num_heads=2, key_dim=3), ((2, 4, 4), (2, 6, 4), None), {"use_causal_mask": True}, ()),
    ("attention_mask", dict(num_heads=2, key_dim=3), ((2, 4, 4), (2, 5, 4), None), {"attention_mask": True}, ()),
    ("masks_qv", dict(num_heads=2, key_dim=3), ((2, 5, 4), (2, 6, 4), None), {}, ("q", "v")),
    ("masks_self_causal", dict(num_heads=2, key_dim=3), ((2, 5, 4), None, None), {"use_causal_mask": True}, ("q",)),
    ("masks_and_attention_mask", dict(num_heads=2, key_dim=3), ((2, 5, 4), (2, 6, 4), None),
     {"attention_mask": True}, ("q", "v")),
    ("axes_2", dict(num_heads=2, key_dim=2, attention_axes=(2,)), ((2, 3, 4, 5), None, None), {}, ()),
    ("axes_12", dict(num_heads=2, key_dim=2, attention_axes=(1, 2)), ((2, 3, 2, 5), None, None), {}, ()),
    ("axes_12_mask", dict(num_heads=2, key_dim=2, attention_axes=(1, 2)), ((2, 3, 2, 5), None, None),
     {"attention_mask": True}, ()),
]


def _mha_run(tf, lib, tag, cid, kwargs, shapes, call, masks, rng, tensors, k, cls_name="MultiHeadAttention"):
    L = lib.layers
    qs, vs, ks = shapes
    q = rng.standard_normal(qs).astype("float32")
    v = q if vs is None else rng.standard_normal(vs).astype("float32")
    kk = None if ks is None else rng.standard_normal(ks).astype("float32")
    if "q" in masks:
        q[0, -2:] = 0.0
        q[1, 0] = 0.0
    if "v" in masks and vs is not None:
        v[0, -1] = 0.0
        v[1, :2] = 0.0
    am = None
    if call.get("attention_mask"):
        S = (v.shape[1:-1]) if vs is not None else q.shape[1:-1]
        T = q.shape[1:-1]
        am = (rng.random((q.shape[0],) + T + S) > 0.3)
        am[..., 0] = True
        am[0, ...] = am[0, ...]
    fresh_session(lib, seed=SEED)
    layer = getattr(L, cls_name)(**kwargs)

    def graph(scores):
        # one graph per call: Keras 3's MultiHeadAttention clears the masks of the tensors it is called on, so
        # two calls on the same masked tensors would not see the same masks
        ins = {"q": L.Input(q.shape[1:]), "v": L.Input(v.shape[1:]) if vs is not None else None,
               "k": L.Input(kk.shape[1:]) if kk is not None else None}
        qt = L.Masking(0.0)(ins["q"]) if "q" in masks else ins["q"]
        vt = qt if vs is None else (L.Masking(0.0)(ins["v"]) if "v" in masks else ins["v"])
        kt = None if kk is None else ins["k"]
        ckw = {kname: True for kname in ("use_causal_mask",) if call.get(kname)}
        amin = None
        if am is not None:
            amin = L.Input(am.shape[1:], dtype="bool")
            ckw["attention_mask"] = amin
        res = layer(qt, vt, key=kt, return_attention_scores=scores, **ckw)
        model_inputs = [ins["q"]] + ([ins["v"]] if vs is not None else []) + ([ins["k"]] if kk is not None else []) \
            + ([amin] if amin is not None else [])
        return lib.Model(model_inputs, list(res) if scores else res)

    model_s = graph(True)
    model_f = graph(False)
    ws = _fill(layer, np.random.default_rng(SEED + 300 + k))
    feed = [tf.constant(q)] + ([tf.constant(v)] if vs is not None else []) + ([tf.constant(kk)] if kk is not None else []) \
        + ([tf.constant(am)] if am is not None else [])
    outs = list(model_s(feed, training=False)) + [model_f(feed, training=False)]
    r = np.random.default_rng(SEED + 400 + k).standard_normal(tuple(outs[0].shape)).astype("float32")
    with tf.GradientTape() as tape:
        tape.watch(feed[0])
        y = model_f(feed, training=False)
        loss = tf.reduce_sum(y * tf.constant(r))
    grads = tape.gradient(loss, [feed[0], layer.trainable_weights[0]])
    key = f"{cid}.{tag}"
    tensors[f"{key}.q"] = q
    if vs is not None:
        tensors[f"{key}.v"] = v
    if kk is not None:
        tensors[f"{key}.k"] = kk
    if am is not None:
        tensors[f"{key}.attention_mask"] = am.astype("uint8")
    tensors[f"{key}.out"] = np.asarray(outs[0])
    tensors[f"{key}.scores"] = np.asarray(outs[1])
    tensors[f"{key}.out_fused"] = np.asarray(outs[2])
    tensors[f"{key}.r"] = r
    tensors[f"{key}.dq"] = np.asarray(grads[0])
    tensors[f"{key}.dw0"] = np.asarray(grads[1])
    for i, w in enumerate(ws):
        tensors[f"{key}.w{i}"] = w
    names = [w.name for w in layer.weights] if tag == "tf" else [w.path for w in layer.weights]
    return {"id": cid, "lib": tag, "kwargs": kwargs, "call": {k2: bool(v2) for k2, v2 in call.items()},
            "masks": list(masks), "self": vs is None, "has_key": kk is not None,
            "config": jsonable(layer.get_config()), "weight_names": names,
            "weight_shapes": [list(w.shape) for w in ws]}


def mha_cases(tf, tfk, k3, tensors):
    out = []
    for k, (cid, kwargs, shapes, call, masks) in enumerate(MHA):
        for tag, lib in (("tf", tfk), ("k3", k3)):
            rng = np.random.default_rng(SEED + 500 + k)
            out.append(_mha_run(tf, lib, tag, cid, kwargs, shapes, call, masks, rng, tensors, k))
    for k, (cid, kwargs, shapes, call, masks) in enumerate([
        ("k3_gate", dict(num_heads=2, key_dim=3, use_gate=True), ((2, 5, 4), None, None), {}, ()),
        ("k3_sliding", dict(num_heads=2, key_dim=3, sliding_window=2), ((2, 5, 4), None, None), {}, ("q",)),
    ]):
        rng = np.random.default_rng(SEED + 600 + k)
        out.append(_mha_run(tf, k3, "k3", cid, kwargs, shapes, call, masks, rng, tensors, 50 + k))
    return out


GQA = [
    ("gqa_self", dict(head_dim=3, num_query_heads=4, num_key_value_heads=2), ((2, 5, 6), None, None), {}, ()),
    ("gqa_cross_causal", dict(head_dim=2, num_query_heads=4, num_key_value_heads=1),
     ((2, 4, 6), (2, 5, 6), None), {"use_causal_mask": True}, ()),
    ("gqa_masks", dict(head_dim=2, num_query_heads=2, num_key_value_heads=2, use_bias=False),
     ((2, 5, 4), (2, 6, 4), None), {"attention_mask": True}, ("q", "v")),
]


def gqa_cases(tf, k3, tensors):
    out = []
    for k, (cid, kwargs, shapes, call, masks) in enumerate(GQA):
        rng = np.random.default_rng(SEED + 700 + k)
        out.append(_mha_run(tf, k3, "k3", cid, kwargs, shapes, call, masks, rng, tensors, 80 + k,
                            cls_name="GroupQueryAttention"))
    return out


def errors(tf, tfk, k3):
    out = []
    cases = [
        ("key_dim_zero", dict(num_heads=2, key_dim=0), None),
        ("num_heads_negative", dict(num_heads=-1, key_dim=2), None),
        ("value_key_mismatch", dict(num_heads=2, key_dim=2), ((2, 3, 4), (2, 5, 4), (2, 6, 4))),
        ("mask_not_broadcast", dict(num_heads=2, key_dim=2), ((2, 3, 4), (2, 5, 4), "mask")),
    ]
    for cid, kwargs, shapes in cases:
        for tag, lib in (("tf", tfk), ("k3", k3)):
            fresh_session(lib, seed=SEED)
            try:
                layer = lib.layers.MultiHeadAttention(**kwargs)
                if shapes is not None:
                    q = tf.ones(shapes[0])
                    v = tf.ones(shapes[1])
                    if shapes[2] == "mask":
                        layer(q, v, attention_mask=tf.ones((2, 4, 5), dtype=tf.bool))
                    else:
                        layer(q, v, key=tf.ones(shapes[2]))
                msg = None
            except Exception as e:  # noqa: BLE001 - recording what Keras raises
                msg = f"{type(e).__name__}: {clean_message(e)}"[:400]
            out.append({"id": cid, "lib": tag, "message": msg})
    for cid, eq in (("bad_equation", "ab,bc"), ("bad_equation_dims", "ab,bc->ad")):
        for tag, lib in (("tf", tfk), ("k3", k3)):
            try:
                lib.layers.EinsumDense(eq, output_shape=3)(tf.ones((2, 4)))
                msg = None
            except Exception as e:  # noqa: BLE001
                msg = f"{type(e).__name__}: {clean_message(e)}"[:400]
            out.append({"id": cid, "lib": tag, "message": msg})
    return out


# ----------------------------------------------------------------------------- whole models
def _text_classifier(lib, vocab=30, maxlen=8, d=8, heads=2, ff=16):
    """keras.io's "Text classification with Transformer", its TokenAndPositionEmbedding as two Embeddings
    added (positions as a second input; tokens with mask_zero so that the padded batch is masked)."""
    L = lib.layers
    tok = L.Input((maxlen,), dtype="int32", name="tokens")
    pos = L.Input((maxlen,), dtype="int32", name="positions")
    x = L.Add(name="tok_pos")([L.Embedding(vocab, d, mask_zero=True, name="token_emb")(tok),
                               L.Embedding(maxlen, d, name="pos_emb")(pos)])
    attn = L.MultiHeadAttention(num_heads=heads, key_dim=d, name="mha")(x, x)
    attn = L.Dropout(0.1, name="drop1")(attn)
    x = L.LayerNormalization(epsilon=1e-6, name="ln1")(L.Add(name="res1")([x, attn]))
    f = L.Dense(ff, activation="relu", name="ff1")(x)
    f = L.Dense(d, name="ff2")(f)
    f = L.Dropout(0.1, name="drop2")(f)
    x = L.LayerNormalization(epsilon=1e-6, name="ln2")(L.Add(name="res2")([x, f]))
    x = L.GlobalAveragePooling1D(name="gap")(x)
    x = L.Dropout(0.1, name="drop3")(x)
    x = L.Dense(6, activation="relu", name="dense")(x)
    return lib.Model([tok, pos], L.Dense(2, activation="softmax", name="out")(x), name="text_classifier")


def _mini_vit(lib, image=8, patch=4, d=8, heads=2):
    """A mini ViT: Conv2D patches, Reshape to tokens, position Embedding on a positions input, pre-norm
    encoder blocks with GELU MLPs, global average pooling head."""
    L = lib.layers
    n = (image // patch) ** 2
    img = L.Input((image, image, 3), name="image")
    pos = L.Input((n,), dtype="int32", name="positions")
    x = L.Conv2D(d, patch, strides=patch, name="patches")(img)
    x = L.Reshape((n, d), name="tokens")(x)
    x = L.Add(name="add_pos")([x, L.Embedding(n, d, name="pos_emb")(pos)])
    for b in range(2):
        h = L.LayerNormalization(epsilon=1e-6, name=f"ln_a{b}")(x)
        h = L.MultiHeadAttention(heads, d // heads, dropout=0.1, name=f"mha{b}")(h, h)
        x = L.Add(name=f"res_a{b}")([x, h])
        h = L.LayerNormalization(epsilon=1e-6, name=f"ln_b{b}")(x)
        h = L.Dense(2 * d, activation="gelu", name=f"mlp1_{b}")(h)
        h = L.Dense(d, name=f"mlp2_{b}")(h)
        x = L.Add(name=f"res_b{b}")([x, h])
    x = L.LayerNormalization(epsilon=1e-6, name="ln_f")(x)
    x = L.GlobalAveragePooling1D(name="gap")(x)
    return lib.Model([img, pos], L.Dense(3, name="head")(x), name="mini_vit")


def _decoder(lib, vocab=20, maxlen=6, d=8):
    """A causal decoder block with cross-attention on an encoder sequence (seq2seq transformer's decoder)."""
    L = lib.layers
    tok = L.Input((maxlen,), dtype="int32", name="tokens")
    enc = L.Input((5, d), name="encoder_out")
    x = L.Embedding(vocab, d, name="emb")(tok)
    h = L.MultiHeadAttention(2, 4, name="self_attn")(x, x, use_causal_mask=True)
    x = L.LayerNormalization(name="ln1")(L.Add(name="r1")([x, h]))
    h = L.MultiHeadAttention(2, 4, name="cross_attn")(x, enc)
    x = L.LayerNormalization(name="ln2")(L.Add(name="r2")([x, h]))
    return lib.Model([tok, enc], L.Dense(vocab, name="logits")(x), name="decoder")


def _gqa_lm(lib, vocab=20, maxlen=6, d=8):
    """A causal language-model block on Keras 3's GroupQueryAttention (4 query heads sharing 2 key/value heads)."""
    L = lib.layers
    tok = L.Input((maxlen,), dtype="int32", name="tokens")
    x = L.Embedding(vocab, d, name="emb")(tok)
    h = L.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2, name="gqa")(
        x, x, use_causal_mask=True)
    x = L.LayerNormalization(name="ln")(L.Add(name="res")([x, h]))
    return lib.Model(tok, L.Dense(vocab, name="logits")(x), name="gqa_lm")


MODELS = [("text_classifier", _text_classifier), ("mini_vit", _mini_vit), ("decoder", _decoder), ("gqa_lm", _gqa_lm)]
KERAS3_ONLY = ("gqa_lm",)


def _model_inputs(rng, mid):
    if mid == "text_classifier":
        tokens = rng.integers(1, 30, (3, 8)).astype("int32")
        tokens[0, 5:] = 0
        tokens[1, 2:] = 0
        return {"tokens": tokens, "positions": np.tile(np.arange(8, dtype="int32"), (3, 1))}
    if mid == "mini_vit":
        return {"image": rng.standard_normal((2, 8, 8, 3)).astype("float32"),
                "positions": np.tile(np.arange(4, dtype="int32"), (2, 1))}
    if mid == "gqa_lm":
        return {"tokens": rng.integers(0, 20, (2, 6)).astype("int32")}
    return {"tokens": rng.integers(0, 20, (2, 6)).astype("int32"),
            "encoder_out": rng.standard_normal((2, 5, 8)).astype("float32")}


def models(out_dir, tf, tfk, k3, tensors):
    folder = os.path.join(out_dir, "attention")
    out = []
    rng = np.random.default_rng(SEED + 900)
    for k, (mid, build) in enumerate(MODELS):
        inputs = _model_inputs(rng, mid)
        rec = {"id": mid, "files": {}, "inputs": list(inputs)}
        for n, v in inputs.items():
            tensors[f"{mid}.input.{n}"] = v
        for tag, lib, ext in (("tf", tfk, ".h5"), ("k3", k3, ".keras")):
            if tag == "tf" and mid in KERAS3_ONLY:
                continue
            fresh_session(lib, seed=SEED)
            model = build(lib)
            wr = np.random.default_rng(SEED + 950 + k)
            model.set_weights([(wr.standard_normal(w.shape) * 0.3).astype("float32") for w in model.get_weights()])
            y = model([tf.constant(v) for v in inputs.values()], training=False)
            tensors[f"{mid}.{tag}.out"] = np.asarray(y)
            name = f"{mid}.{tag}{ext}"
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "m" + ext)
                model.save(path)
                shutil.copy(path, os.path.join(folder, name))
            rec["files"][tag] = name
        out.append(rec)
    return out


def main(out_dir):
    tf, tfk = import_tf()
    k3 = import_keras3()
    folder = os.path.join(out_dir, "attention")
    os.makedirs(folder, exist_ok=True)
    tensors: dict = {}
    with tf.device("/CPU:0"):
        doc = {
            "einsum": einsum_cases(tf, tfk, k3, tensors),
            "mha": mha_cases(tf, tfk, k3, tensors),
            "gqa": gqa_cases(tf, k3, tensors),
            "errors": errors(tf, tfk, k3),
            "models": models(out_dir, tf, tfk, k3, tensors),
        }
    write_json(os.path.join(folder, "attention.json"), doc)
    save_safetensors(tensors, os.path.join(folder, "attention.safetensors"))
    counts = {k: len(v) for k, v in doc.items()}
    print("[attention]", counts)
    return counts
