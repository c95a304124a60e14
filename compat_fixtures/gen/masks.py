"""Record Keras's masks and the mask-making layers from REAL tf.keras 2.21 and Keras 3.15.1 (issue 18).

Run (from the repository root, in the reference venv)::

    .venv-keras/bin/python compat_fixtures/generate.py --only masks

Nothing here computes a layer: every number comes from ``tf_keras`` / ``keras`` (TensorFlow backend).

Files
=====

``embedding_cases.json`` / ``embedding_tensors.safetensors`` / ``embedding_errors.json``: tf.keras
``Embedding`` through ``layer_cases.record_family`` (same format as every layer family; integer ids in
[0, 10); no input gradients).

``masks/masks.json`` + ``masks/masks.safetensors`` hold the rest, one list per section; each record has an
``id`` and its tensors are ``<id>.<what>`` in the safetensors file:

* ``embedding_grads``: tf.keras ``Embedding`` weight gradient of ``sum(out * upstream)`` (repeated ids
  accumulate): ``{"id", "args", "input_shape"}`` + tensors ``input``, ``embeddings``, ``upstream``,
  ``output``, ``grad``, ``mask`` (when ``mask_zero``).
* ``out_of_range``: ``{"id", "lib", "input_dim", "ids", "error"}``: what each library does for ids outside
  ``[0, input_dim)`` (``error`` "Type: message" or null, then tensor ``output``).
* ``lora``: Keras 3 ``Embedding(lora_rank=...)``: ``{"id", "args", "config", "weight_names",
  "weight_trainable", "input_shape"}`` + tensors ``input``, ``weight.<name>``, ``output``, ``upstream``,
  ``grad.<name>`` (trainable weights).
* ``reversible``: Keras 3 ``ReversibleEmbedding``: ``{"id", "args", "config", "weight_names"}`` + tensors
  ``input``, ``hidden`` (input of the reverse call), ``weight.<name>``, ``output``, ``mask`` (or absent),
  ``logits``, ``upstream``, ``grad.<name>`` (of ``sum(logits * upstream)``).
* ``masking``: ``Masking`` in both libraries: ``{"id", "args", "config", "keras3_config", "input_shape"}`` +
  ``input``, ``output``, ``mask``, ``upstream``, ``grad_input``; ``k3.output`` / ``k3.mask``.
* ``propagation``: for each layer class, the mask each library attaches to the output of an eager call on
  input(s) carrying ``_keras_mask``: ``{"id", "class", "args", "input_shapes", "list_input",
  "masked_inputs" (which inputs carried a mask), "weight_names", "tf_mask": "none" | "tensor" | "error",
  "tf_error", "k3_mask": ..., "k3_error"}`` + tensors ``input.<i>``, ``mask.<i>``, ``weight.<k>``,
  ``tf.output``, ``tf.mask``, ``k3.output``, ``k3.mask`` (inference mode).
* ``time_distributed``: ``TimeDistributed`` around Dense / Conv2D / a nested model / Embedding / Flatten,
  tf.keras and Keras 3: ``{"id", "inner", "input_shape", "input_dtype", "masked", "tf_config",
  "k3_config", "weight_names" (tf.keras), "k3_weight_paths"}`` + ``input``, ``mask`` (input mask, when
  masked), ``weight.<k>``, ``tf.output``, ``tf.mask``, ``k3.output``, ``k3.mask``.
* ``models``: whole models with masks, saved by each library: ``{"id", "files": {"tf_h5", "k3_keras"},
  "inputs": [{"name", "key"}], "fill_seed", "notes"}`` + tensors ``input.<name>``, ``tf.out``, ``k3.out``;
  the files hold the weights (``models.fill_values``, the same fill as ``gen/models.py``).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile

import numpy as np

from .common import clean_message, fresh_session, import_keras3, import_tf, jsonable, save_safetensors, write_json
from .layer_cases import Case, Err, record_family
from .models import apply_fill

SEED = 18


def _err(e):
    text = clean_message(e).split("\n\nCall arguments received")[0]
    return f"{type(e).__name__}: " + " | ".join(ln.strip() for ln in text.splitlines() if ln.strip())


# ----------------------------------------------------------------------------- Embedding (layer_cases)
def embedding_family():
    L2 = {"class_name": "L2", "config": {"l2": 0.02}}
    cases = [
        Case(dict(input_dim=10, output_dim=3), [2, 5], inputs="int", group="basic"),
        Case(dict(input_dim=10, output_dim=3, mask_zero=True), [2, 5], inputs="int", group="mask_zero"),
        Case(dict(input_dim=12, output_dim=1), [3, 4], inputs="int", group="basic"),
        Case(dict(input_dim=10, output_dim=4, input_length=5), [2, 5], inputs="int", group="input_length"),
        Case(dict(input_dim=10, output_dim=2), [2, 3, 4], inputs="int", group="rank3"),
        Case(dict(input_dim=10, output_dim=2), [4], inputs="int", group="rank1"),
        Case(dict(input_dim=10, output_dim=2), [2, 3], inputs="int", dtype="int64", group="int64"),
        Case(dict(input_dim=10, output_dim=2), [2, 3], inputs="int", dtype="float32", group="float_ids", grads=False),
        Case(dict(input_dim=10, output_dim=3, dtype="float64"), [2, 3], inputs="int", group="float64"),
        Case(dict(input_dim=10, output_dim=3, embeddings_regularizer=L2, activity_regularizer="l1"), [2, 3],
             inputs="int", group="regularizers"),
        Case(dict(input_dim=10, output_dim=3, embeddings_constraint="non_neg", embeddings_initializer="he_normal"),
             [2, 3], inputs="int", group="components"),
        Case(dict(input_dim=10, output_dim=3, trainable=False), [2, 3], inputs="int", group="trainable"),
    ]
    errors = [
        Err("init", dict(input_dim=0, output_dim=3)),
        Err("init", dict(input_dim=10, output_dim=-1)),
        Err("init", dict(input_dim=10, output_dim=3, embeddings_initializer="nope")),
        Err("init", dict(input_dim=10, output_dim=3, sparse=True, mask_zero=True)),
        Err("compute_output_shape", dict(input_dim=10, output_dim=3, input_length=4), [None, 5]),
        Err("compute_output_shape", dict(input_dim=10, output_dim=3, input_length=[4, 2]), [None, 4]),
    ]
    return cases, errors


def embedding_grads(tf, tfk, tensors):
    out = []
    specs = [("g0", dict(input_dim=6, output_dim=3), np.array([[1, 2, 1, 0], [5, 1, 0, 0]], "int32")),
             ("g1", dict(input_dim=6, output_dim=2, mask_zero=True), np.array([[3, 3, 0], [0, 4, 3]], "int32"))]
    for cid, args, ids in specs:
        fresh_session(tfk, seed=SEED)
        rng = np.random.default_rng(SEED)
        layer = tfk.layers.Embedding(**args)
        layer.build(ids.shape)
        w = rng.standard_normal((args["input_dim"], args["output_dim"])).astype("float32")
        layer.set_weights([w])
        with tf.GradientTape() as tape:
            y = layer(ids)
            up = rng.standard_normal(y.shape).astype("float32")
            loss = tf.reduce_sum(y * up)
        g = tf.convert_to_tensor(tape.gradient(loss, layer.embeddings)).numpy()
        t = {"input": ids, "embeddings": w, "upstream": up, "output": y.numpy(), "grad": g}
        mask = getattr(y, "_keras_mask", None)
        if mask is not None:
            t["mask"] = mask.numpy()
        tensors.update({f"{cid}.{k}": v for k, v in t.items()})
        out.append({"id": cid, "args": args, "input_shape": list(ids.shape)})
    return out


def out_of_range(tf, tfk, k3, tensors):
    out = []
    k = 0
    for lib_name, lib in (("tf_keras", tfk), ("keras3", k3)):
        for ids in ([[1, 5, 2]], [[1, -1, 2]], [[7, 0, 0]]):
            fresh_session(lib, seed=SEED)
            layer = lib.layers.Embedding(5, 2)
            layer.build((None, 3))
            layer.set_weights([np.arange(10, dtype="float32").reshape(5, 2)])
            cid = f"r{k}"
            k += 1
            rec = {"id": cid, "lib": lib_name, "input_dim": 5, "ids": ids, "error": None}
            try:
                y = layer(np.array(ids, "int32"))
                tensors[f"{cid}.output"] = np.asarray(y)
            except Exception as e:  # noqa: BLE001
                rec["error"] = _err(e)
            out.append(rec)
    return out


# ----------------------------------------------------------------------------- Keras 3 only
def lora(tf, k3, tensors):
    out = []
    for cid, args in (("l0", dict(input_dim=8, output_dim=4, lora_rank=2)),
                      ("l1", dict(input_dim=8, output_dim=3, lora_rank=2, lora_alpha=6, mask_zero=True))):
        fresh_session(k3, seed=SEED)
        rng = np.random.default_rng(SEED)
        layer = k3.layers.Embedding(**args)
        layer.build((None, 4))
        names = [v.path.split("/")[-1] for v in layer.weights]
        ws = [rng.standard_normal(tuple(v.shape)).astype("float32") for v in layer.weights]
        for v, w in zip(layer.weights, ws):
            v.assign(w)
        ids = rng.integers(0, 8, (2, 4)).astype("int32")
        ids[1, 2:] = 0
        with tf.GradientTape() as tape:
            y = layer(ids)
            up = rng.standard_normal(tuple(y.shape)).astype("float32")
            loss = tf.reduce_sum(y * up)
        grads = tape.gradient(loss, layer.trainable_weights)
        t = {"input": ids, "output": np.asarray(y), "upstream": up}
        t.update({f"weight.{n}": w for n, w in zip(names, ws)})
        for v, g in zip(layer.trainable_weights, grads):
            t[f"grad.{v.path.split('/')[-1]}"] = tf.convert_to_tensor(g).numpy()
        tensors.update({f"{cid}.{k}": v for k, v in t.items()})
        out.append({"id": cid, "args": args, "config": jsonable(layer.get_config()), "weight_names": names,
                    "weight_trainable": [bool(v.trainable) for v in layer.weights], "input_shape": [2, 4]})
    return out


def reversible(tf, k3, tensors):
    out = []
    for cid, args in (("v0", dict(input_dim=7, output_dim=3)),
                      ("v1", dict(input_dim=7, output_dim=3, tie_weights=False, mask_zero=True)),
                      ("v2", dict(input_dim=7, output_dim=4, logit_soft_cap=2.0))):
        fresh_session(k3, seed=SEED)
        rng = np.random.default_rng(SEED)
        layer = k3.layers.ReversibleEmbedding(**args)
        layer.build((None, 5))
        names = [v.path.split("/")[-1] for v in layer.weights]
        ws = [rng.standard_normal(tuple(v.shape)).astype("float32") for v in layer.weights]
        for v, w in zip(layer.weights, ws):
            v.assign(w)
        ids = rng.integers(0, 7, (2, 5)).astype("int32")
        ids[0, 3:] = 0
        hidden = rng.standard_normal((2, 5, args["output_dim"])).astype("float32")
        y = layer(ids)
        with tf.GradientTape() as tape:
            logits = layer(tf.constant(hidden), reverse=True)
            up = rng.standard_normal(tuple(logits.shape)).astype("float32")
            loss = tf.reduce_sum(logits * up)
        grads = tape.gradient(loss, layer.trainable_weights)
        t = {"input": ids, "hidden": hidden, "output": np.asarray(y), "logits": np.asarray(logits), "upstream": up}
        mask = getattr(y, "_keras_mask", None)
        if mask is not None:
            t["mask"] = np.asarray(mask)
        t.update({f"weight.{n}": w for n, w in zip(names, ws)})
        for v, g in zip(layer.trainable_weights, grads):
            t[f"grad.{v.path.split('/')[-1]}"] = np.zeros(v.shape, "float32") if g is None else tf.convert_to_tensor(g).numpy()
        tensors.update({f"{cid}.{k}": v for k, v in t.items()})
        out.append({"id": cid, "args": args, "config": jsonable(layer.get_config()), "weight_names": names})
    return out


# ----------------------------------------------------------------------------- Masking
def masking(tf, tfk, k3, tensors):
    out = []
    rng = np.random.default_rng(SEED)
    for cid, args, shape in (("m0", {}, (2, 4, 3)), ("m1", dict(mask_value=1.5), (2, 4, 3)),
                             ("m2", {}, (2, 3, 3, 2)), ("m3", dict(mask_value=-1.0), (3, 5))):
        x = rng.standard_normal(shape).astype("float32")
        v = args.get("mask_value", 0.0)
        flat = x.reshape(-1, shape[-1])
        flat[0] = v                      # a fully masked step
        flat[-1, 0] = v                  # a partly masked step (kept)
        if flat.shape[0] > 3:
            flat[2] = v
        x = flat.reshape(shape)
        fresh_session(tfk, seed=SEED)
        layer = tfk.layers.Masking(**args, name="masking")
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = layer(xt)
            up = rng.standard_normal(shape).astype("float32")
            loss = tf.reduce_sum(y * up)
        g = tape.gradient(loss, xt).numpy()
        fresh_session(k3, seed=SEED)
        layer3 = k3.layers.Masking(**args, name="masking")
        y3 = layer3(tf.constant(x))
        t = {"input": x, "output": y.numpy(), "mask": y._keras_mask.numpy(), "upstream": up, "grad_input": g,
             "k3.output": np.asarray(y3), "k3.mask": np.asarray(y3._keras_mask)}
        tensors.update({f"{cid}.{k}": v for k, v in t.items()})
        out.append({"id": cid, "args": args, "config": jsonable(layer.get_config()),
                    "keras3_config": jsonable(layer3.get_config()), "input_shape": list(shape)})
    return out


# ----------------------------------------------------------------------------- mask propagation
R3, R4, R5 = [2, 4, 3], [2, 4, 4, 3], [2, 3, 3, 3, 2]
PROPAGATION = [
    ("Dense", dict(units=2), [R3]),
    ("Dense", dict(units=2), [[2, 3, 2, 4]]),
    ("Activation", dict(activation="relu"), [R3]),
    ("ActivityRegularization", dict(l1=0.01), [R3]),
    ("Dropout", dict(rate=0.5), [R3]),
    ("AlphaDropout", dict(rate=0.5), [R3]),
    ("GaussianDropout", dict(rate=0.5), [R3]),
    ("GaussianNoise", dict(stddev=0.5), [R3]),
    ("SpatialDropout1D", dict(rate=0.5), [R3]),
    ("SpatialDropout2D", dict(rate=0.5), [R4]),
    ("SpatialDropout3D", dict(rate=0.5), [R5]),
    ("BatchNormalization", {}, [R3]),
    ("LayerNormalization", {}, [R3]),
    ("GroupNormalization", dict(groups=3), [R3]),
    ("UnitNormalization", {}, [R3]),
    ("Normalization", dict(mean=0.5, variance=2.0), [R3]),
    ("Rescaling", dict(scale=2.0, offset=0.5), [R3]),
    ("ReLU", {}, [R3]),
    ("LeakyReLU", {}, [R3]),
    ("PReLU", {}, [R3]),
    ("ELU", {}, [R3]),
    ("Softmax", {}, [R3]),
    ("ThresholdedReLU", dict(theta=0.5), [R3]),
    ("Identity", {}, [R3]),
    ("Conv1D", dict(filters=2, kernel_size=2), [R3]),
    ("Conv1D", dict(filters=2, kernel_size=2, padding="same"), [R3]),
    ("Conv1DTranspose", dict(filters=2, kernel_size=2), [R3]),
    ("DepthwiseConv1D", dict(kernel_size=2), [R3]),
    ("SeparableConv1D", dict(filters=2, kernel_size=2), [R3]),
    ("Conv2D", dict(filters=2, kernel_size=2), [R4]),
    ("Conv2DTranspose", dict(filters=2, kernel_size=2), [R4]),
    ("DepthwiseConv2D", dict(kernel_size=2), [R4]),
    ("SeparableConv2D", dict(filters=2, kernel_size=2), [R4]),
    ("Conv3D", dict(filters=2, kernel_size=2), [R5]),
    ("Conv3DTranspose", dict(filters=2, kernel_size=2), [R5]),
    ("MaxPooling1D", dict(pool_size=2), [R3]),
    ("AveragePooling1D", dict(pool_size=2), [R3]),
    ("MaxPooling2D", dict(pool_size=2), [R4]),
    ("AveragePooling2D", dict(pool_size=2), [R4]),
    ("MaxPooling3D", dict(pool_size=2), [R5]),
    ("AveragePooling3D", dict(pool_size=2), [R5]),
    ("GlobalAveragePooling1D", {}, [R3]),
    ("GlobalAveragePooling1D", dict(keepdims=True), [R3]),
    ("GlobalMaxPooling1D", {}, [R3]),
    ("GlobalAveragePooling2D", {}, [R4]),
    ("GlobalMaxPooling2D", {}, [R4]),
    ("GlobalAveragePooling3D", {}, [R5]),
    ("GlobalMaxPooling3D", {}, [R5]),
    ("Flatten", {}, [R3]),
    ("Reshape", dict(target_shape=(2, 6)), [R3]),
    ("Permute", dict(dims=(2, 1)), [R3]),
    ("RepeatVector", dict(n=2), [[2, 3]]),
    ("UpSampling1D", dict(size=2), [R3]),
    ("UpSampling2D", dict(size=2), [R4]),
    ("UpSampling3D", dict(size=2), [R5]),
    ("ZeroPadding1D", dict(padding=1), [R3]),
    ("ZeroPadding2D", dict(padding=1), [R4]),
    ("ZeroPadding3D", dict(padding=1), [R5]),
    ("Cropping1D", dict(cropping=1), [R3]),
    ("Cropping2D", dict(cropping=1), [R4]),
    ("Cropping3D", dict(cropping=1), [R5]),
    ("Add", {}, [R3, R3]),
    ("Subtract", {}, [R3, R3]),
    ("Multiply", {}, [R3, R3]),
    ("Average", {}, [R3, R3]),
    ("Maximum", {}, [R3, R3]),
    ("Minimum", {}, [R3, R3]),
    ("Concatenate", {}, [R3, R3]),
    ("Concatenate", dict(axis=1), [R3, R3]),
    ("Concatenate", dict(axis=-1), [R3, [2, 4, 2]]),
    ("Dot", dict(axes=2), [R3, R3]),
    ("Dot", dict(axes=1), [R3, R3]),
]


def _mask_for(rng, shape):
    m = rng.random(shape[:-1]) < 0.7
    m.reshape(shape[0], -1)[:, 0] = True   # every sample keeps something (a masked mean stays finite)
    return m


def _eager(tf, lib, cls, args, xs, masks, weights, training):
    fresh_session(lib, seed=SEED)
    layer = getattr(lib.layers, cls)(**args)
    ts = []
    for x, m in zip(xs, masks):
        t = tf.constant(x)
        if m is not None:
            t._keras_mask = tf.constant(m)
        ts.append(t)
    arg = ts if len(ts) > 1 else ts[0]
    layer.build([tuple(x.shape) for x in xs] if len(xs) > 1 else tuple(xs[0].shape))
    if weights is not None and layer.weights:
        layer.set_weights(weights)
    y = layer(arg, training=training)
    mask = getattr(y, "_keras_mask", None)
    return layer, np.asarray(y), None if mask is None else np.asarray(mask)


def propagation(tf, tfk, k3, tensors):
    out = []
    rng = np.random.default_rng(SEED)
    for k, (cls, args, shapes) in enumerate(PROPAGATION):
        variants = [[True] * len(shapes)]
        if len(shapes) == 2:
            variants += [[True, False], [False, False]]
        xs = [rng.standard_normal(s).astype("float32") for s in shapes]
        masks_all = [_mask_for(rng, s) for s in shapes]
        for j, masked in enumerate(variants):
            cid = f"p{k:02d}{'abc'[j]}"
            masks = [m if keep else None for m, keep in zip(masks_all, masked)]
            rec = {"id": cid, "class": cls, "args": args, "input_shapes": shapes, "list_input": len(shapes) > 1,
                   "masked_inputs": masked}
            t = {f"input.{i}": x for i, x in enumerate(xs)}
            t.update({f"mask.{i}": m for i, m in enumerate(masks) if m is not None})
            weights = None
            try:
                layer, y, m = _eager(tf, tfk, cls, args, xs, masks, None, False)
                weights = layer.get_weights()
                rec["weight_names"] = [v.name.split("/")[-1].split(":")[0] for v in layer.weights]
                rec["tf_mask"], rec["tf_error"] = ("none" if m is None else "tensor"), None
                t["tf.output"] = y
                if m is not None:
                    t["tf.mask"] = m
            except Exception as e:  # noqa: BLE001
                rec["tf_mask"], rec["tf_error"] = "error", _err(e)
            t.update({f"weight.{i}": w for i, w in enumerate(weights or [])})
            try:
                _, y3, m3 = _eager(tf, k3, cls, args, xs, masks, weights, False)
                rec["k3_mask"], rec["k3_error"] = ("none" if m3 is None else "tensor"), None
                t["k3.output"] = y3
                if m3 is not None:
                    t["k3.mask"] = m3
            except Exception as e:  # noqa: BLE001
                rec["k3_mask"], rec["k3_error"] = "error", _err(e)
            tensors.update({f"{cid}.{a}": b for a, b in t.items()})
            out.append(rec)
    return out


# ----------------------------------------------------------------------------- TimeDistributed
def _td_inner(lib, kind):
    L = lib.layers
    if kind == "dense":
        return L.Dense(2, name="dense")
    if kind == "conv2d":
        return L.Conv2D(2, 3, padding="same", name="conv2d")
    if kind == "nested":
        return lib.Sequential([L.Dense(4, activation="relu", name="d1"), L.Dense(2, name="d2")], name="inner")
    if kind == "embedding":
        return L.Embedding(10, 3, mask_zero=True, name="embedding")
    if kind == "flatten":
        return L.Flatten(name="flatten")
    if kind == "gap1d":
        return L.GlobalAveragePooling1D(name="gap")
    raise KeyError(kind)


TD_CASES = [("t0", "dense", [2, 4, 3], "float32", True), ("t1", "dense", [2, 4, 3], "float32", False),
            ("t2", "conv2d", [2, 3, 5, 5, 2], "float32", True), ("t3", "nested", [2, 4, 3], "float32", True),
            ("t4", "embedding", [2, 3, 4], "int32", False), ("t5", "flatten", [2, 3, 2, 2], "float32", True),
            ("t6", "dense", [2, 3, 4, 3], "float32", True), ("t7", "gap1d", [2, 3, 4, 2], "float32", True)]


def time_distributed(tf, tfk, k3, tensors):
    out = []
    rng = np.random.default_rng(SEED + 1)
    for cid, inner, shape, dtype, masked in TD_CASES:
        x = rng.integers(0, 10, shape).astype(dtype) if dtype == "int32" else rng.standard_normal(shape).astype(dtype)
        if dtype == "int32":
            x[0, 0, 2:] = 0
            x[1, 2, :] = 0
        mask = (rng.random(shape[:2]) < 0.7) if masked else None
        if mask is not None:
            mask[:, 0] = True
        rec = {"id": cid, "inner": inner, "input_shape": shape, "input_dtype": dtype, "masked": masked}
        t = {"input": x}
        if mask is not None:
            t["mask"] = mask
        weights = None
        for tag, lib in (("tf", tfk), ("k3", k3)):
            fresh_session(lib, seed=SEED)
            layer = lib.layers.TimeDistributed(_td_inner(lib, inner), name="time_distributed")
            xt = tf.constant(x)
            if mask is not None:
                xt._keras_mask = tf.constant(mask)
            try:
                layer.build(tuple(shape))
                if weights is None:
                    weights = [rng.standard_normal(tuple(v.shape)).astype("float32") * 0.5 for v in layer.weights]
                    rec["weight_names"] = [v.name for v in layer.weights]
                elif weights:
                    layer.set_weights(weights)
                if tag == "tf" and weights:
                    layer.set_weights(weights)
                if tag == "k3":
                    rec["k3_weight_paths"] = [v.path for v in layer.weights]
                y = layer(xt)
                m = getattr(y, "_keras_mask", None)
                t[f"{tag}.output"] = np.asarray(y)
                if m is not None:
                    t[f"{tag}.mask"] = np.asarray(m)
                rec[f"{tag}_config"] = jsonable(layer.get_config())
                rec[f"{tag}_error"] = None
            except Exception as e:  # noqa: BLE001
                rec[f"{tag}_error"] = _err(e)
        t.update({f"weight.{i}": w for i, w in enumerate(weights or [])})
        tensors.update({f"{cid}.{a}": b for a, b in t.items()})
        out.append(rec)
    return out


# ----------------------------------------------------------------------------- whole models
def _text_func(lib):
    L = lib.layers
    i = L.Input((6,), dtype="int32", name="tokens")
    x = L.Embedding(20, 4, mask_zero=True, name="embed")(i)
    x = L.GlobalAveragePooling1D(name="gap")(x)
    return lib.Model(i, L.Dense(3, name="logits")(x), name="text_func")


def _text_seq(lib):
    L = lib.layers
    return lib.Sequential([L.InputLayer(input_shape=(6,), dtype="int32", name="tokens") if lib.__name__ == "tf_keras"
                           else lib.Input((6,), dtype="int32", name="tokens"),
                           L.Embedding(20, 4, mask_zero=True, name="embed"),
                           L.Dense(5, activation="relu", name="hidden"),
                           L.Dropout(0.3, name="drop"),
                           L.GlobalAveragePooling1D(name="gap"),
                           L.Dense(3, name="logits")], name="text_seq")


def _masking_model(lib):
    L = lib.layers
    i = L.Input((5, 3), name="series")
    x = L.Masking(0.0, name="masking")(i)
    x = L.TimeDistributed(L.Dense(4, activation="tanh", name="proj"), name="td")(x)
    x = L.LayerNormalization(name="ln")(x)
    x = L.GlobalAveragePooling1D(name="gap")(x)
    return lib.Model(i, L.Dense(2, name="out")(x), name="masking_model")


def _token_position(lib):
    L = lib.layers
    tok = L.Input((6,), dtype="int32", name="tokens")
    pos = L.Input((6,), dtype="int32", name="positions")
    a = L.Embedding(20, 4, mask_zero=True, name="tok_embed")(tok)
    b = L.Embedding(6, 4, name="pos_embed")(pos)
    x = L.Add(name="add")([a, b])
    x = L.GlobalAveragePooling1D(name="gap")(x)
    return lib.Model([tok, pos], L.Dense(2, name="out")(x), name="token_position")


def _two_masks(lib):
    L = lib.layers
    a_in = L.Input((6,), dtype="int32", name="a")
    b_in = L.Input((6,), dtype="int32", name="b")
    emb = L.Embedding(20, 4, mask_zero=True, name="shared_embed")
    x = L.Concatenate(name="cat")([emb(a_in), emb(b_in)])
    x = L.GlobalAveragePooling1D(name="gap")(x)
    y = L.Average(name="avg")([emb(a_in), emb(b_in)])
    y = L.GlobalAveragePooling1D(name="gap2")(y)
    return lib.Model([a_in, b_in], L.Dense(2, name="out")(L.Concatenate(name="cat2")([x, y])), name="two_masks")


def _nested(lib):
    L = lib.layers
    inner_in = L.Input((6,), dtype="int32", name="inner_tokens")
    h = L.Embedding(20, 4, mask_zero=True, name="embed")(inner_in)
    h = L.Dense(4, activation="relu", name="proj")(h)
    inner = lib.Model(inner_in, h, name="encoder")
    i = L.Input((6,), dtype="int32", name="tokens")
    x = L.GlobalAveragePooling1D(name="gap")(inner(i))
    return lib.Model(i, L.Dense(3, name="logits")(x), name="nested_text")


MODELS = [("text_func", _text_func), ("text_seq", _text_seq), ("masking_model", _masking_model),
          ("token_position", _token_position), ("two_masks", _two_masks), ("nested_text", _nested)]


def _model_inputs(rng, model_id):
    tokens = rng.integers(1, 20, (3, 6)).astype("int32")
    tokens[0, 4:] = 0          # right padding
    tokens[1, :2] = 0          # left padding
    tokens[2, 3] = 0           # an interior pad
    if model_id == "masking_model":
        x = rng.standard_normal((3, 5, 3)).astype("float32")
        x[0, 3:] = 0.0
        x[1, 0] = 0.0
        return {"series": x}
    if model_id == "token_position":
        return {"tokens": tokens, "positions": np.tile(np.arange(6, dtype="int32"), (3, 1))}
    if model_id == "two_masks":
        other = rng.integers(1, 20, (3, 6)).astype("int32")
        other[:, 5] = 0
        other[2, :3] = 0
        return {"a": tokens, "b": other}
    return {"tokens": tokens}


def models(out_dir, tf, tfk, k3, tensors):
    folder = os.path.join(out_dir, "masks")
    out = []
    rng = np.random.default_rng(SEED + 2)
    for k, (mid, build) in enumerate(MODELS):
        inputs = _model_inputs(rng, mid)
        rec = {"id": mid, "files": {}, "inputs": [{"name": n, "key": f"{mid}.input.{n}"} for n in inputs],
               "fill_seed": 1800 + k}
        for n, v in inputs.items():
            tensors[f"{mid}.input.{n}"] = v
        for tag, lib, ext in (("tf", tfk, ".h5"), ("k3", k3, ".keras")):
            fresh_session(lib, seed=SEED)
            model = build(lib)
            apply_fill(model, rec["fill_seed"])
            args = [tf.constant(v) for v in inputs.values()]  # model.inputs order
            y = model(args if len(args) > 1 else args[0], training=False)
            tensors[f"{mid}.{tag}.out"] = np.asarray(y)
            name = f"{mid}.{'tf' if tag == 'tf' else 'k3'}{ext}"
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "m" + ext)
                model.save(path)
                shutil.copy(path, os.path.join(folder, name))
            rec["files"][f"{tag}_{ext[1:]}"] = name
        diff = float(np.max(np.abs(tensors[f"{mid}.tf.out"] - tensors[f"{mid}.k3.out"])))
        rec["tf_k3_max_abs_diff"] = diff
        out.append(rec)
    return out


def main(out_dir):
    tf, tfk = import_tf()
    k3 = import_keras3()
    counts = record_family(out_dir, {"Embedding": embedding_family()}, seed=180)
    folder = os.path.join(out_dir, "masks")
    os.makedirs(folder, exist_ok=True)
    tensors: dict = {}
    with tf.device("/CPU:0"):
        doc = {
            "embedding_grads": embedding_grads(tf, tfk, tensors),
            "out_of_range": out_of_range(tf, tfk, k3, tensors),
            "lora": lora(tf, k3, tensors),
            "reversible": reversible(tf, k3, tensors),
            "masking": masking(tf, tfk, k3, tensors),
            "propagation": propagation(tf, tfk, k3, tensors),
            "time_distributed": time_distributed(tf, tfk, k3, tensors),
            "models": models(out_dir, tf, tfk, k3, tensors),
        }
    write_json(os.path.join(folder, "masks.json"), doc)
    save_safetensors(tensors, os.path.join(folder, "masks.safetensors"))
    counts.update({k: len(v) for k, v in doc.items()})
    print("[masks]", json.dumps(counts))
    return counts
