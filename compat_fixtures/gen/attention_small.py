"""Attention, AdditiveAttention, RMSNormalization, SpectralNormalization and the adaptive poolings, recorded
from REAL tf.keras 2.21 (``tf_keras``) and Keras 3.15.1 (TensorFlow backend), each layer only in the
versions that have it (RMSNormalization and the adaptive poolings are Keras 3 only).

Written into ``compat_fixtures/attention_small/``:

``cases.json``: a list of ``{"id", "keras": "tf_keras" | "keras3", "class", "args", "input_shapes",
"masks": [bool per input] | null, "call_kwargs", "training", "config" (get_config after the call),
"weight_names", "weight_shapes", "weight_trainable", "n_outputs", "output_mask": bool}``.

``tensors.safetensors``: ``{id}.input.{i}``, ``{id}.mask.{i}`` (bool as uint8), ``{id}.weight.{name}`` (set
after build), ``{id}.after.{name}`` (every weight after the call: SpectralNormalization's power iteration),
``{id}.output.{j}``, ``{id}.output_mask``, ``{id}.upstream.{j}``, ``{id}.grad_input.{i}``, ``{id}.grad.{name}``
(gradients of ``sum(output_j * upstream_j)``; trainable weights only).

``errors.json``: ``{"id", "keras", "class", "args", "input_shapes", "error_type", "message"}``.

Whole models saved by each Keras (``models.json``: ``{"name", "keras": "tf" | "k3", "file"}``; ``<name>.tf.h5`` /
``<name>.k3.keras``; ``models_tensors.safetensors``: ``<name>.<keras>.input`` / ``.output``): a text model whose
Embedding(mask_zero) masks reach Attention and AdditiveAttention, a SpectralNormalization(Dense) model, and
(Keras 3) adaptive pooling + RMSNormalization.
"""
from __future__ import annotations

import json
import os

import numpy as np

# tf_keras 2.21's SpectralNormalization builds a `tf.keras.layers.InputSpec`, which is Keras 3's unless TF is
# told that tf.keras means tf_keras (read when tf.keras is first resolved)
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from .common import fresh_session, import_keras3, import_tf, jsonable, save_safetensors, write_json

SUBDIR = "attention_small"


def _short(v):
    return v.name.split("/")[-1].split(":")[0]


def _case(cls, args, shapes, keras=("tf_keras", "keras3"), masks=None, call_kwargs=None, training=None,
          wrapped=None, inputs="normal"):
    return dict(cls=cls, args=args, shapes=shapes, keras=keras, masks=masks, call_kwargs=call_kwargs or {},
                training=training, wrapped=wrapped, inputs=inputs)


def cases():
    QV = [[2, 3, 4], [2, 5, 4]]
    QVK = [[2, 3, 4], [2, 5, 6], [2, 5, 4]]
    M2 = [True, True]
    scores = dict(return_attention_scores=True)
    out = []
    for cls in ("Attention", "AdditiveAttention"):
        base = {} if cls == "AdditiveAttention" else dict(use_scale=True)
        qvk = QVK if cls == "Attention" else [[2, 3, 4], [2, 5, 4], [2, 5, 4]]  # tf.keras: scale has value's dim
        out += [
            _case(cls, base, QV),
            _case(cls, base, qvk),
            _case(cls, base, QV, call_kwargs=scores),
            _case(cls, base, QV, masks=M2),
            _case(cls, base, QV, masks=M2, call_kwargs=scores),
            _case(cls, base, QV, masks=[False, True]),
            _case(cls, base, [[2, 4, 4], [2, 4, 4]], call_kwargs=dict(use_causal_mask=True)),
            _case(cls, base, QV, masks=M2, call_kwargs=dict(use_causal_mask=True, return_attention_scores=True)),
            _case(cls, dict(use_scale=False), QV, masks=M2),
            _case(cls, dict(base, dropout=0.5), QV, training=False),
        ]
    out += [
        _case("Attention", {}, QV),
        _case("Attention", {}, QV, masks=M2, call_kwargs=dict(use_causal_mask=True)),
        _case("Attention", dict(score_mode="concat"), QV, masks=M2),
        _case("Attention", dict(score_mode="concat", use_scale=True), QV, call_kwargs=scores),
        _case("Attention", dict(use_scale=True), [[2, 3, 4], [2, 5, 6], [2, 5, 4]], masks=M2, call_kwargs=scores),
    ]
    k3 = ("keras3",)
    out += [
        _case("RMSNormalization", {}, [2, 3, 5], keras=k3),
        _case("RMSNormalization", dict(axis=[1, 2], epsilon=1e-3), [2, 3, 5], keras=k3),
        _case("RMSNormalization", dict(axis=1), [2, 4, 4], keras=k3),  # Keras broadcasts scale on the last axis
    ]
    for dim, shape in ((1, [2, 10, 3]), (2, [2, 7, 9, 3]), (3, [1, 5, 6, 7, 2])):
        for kind in ("Average", "Max"):
            cls = f"Adaptive{kind}Pooling{dim}D"
            size = {1: 4, 2: (3, 4), 3: (2, 3, 4)}[dim]
            out.append(_case(cls, dict(output_size=size), shape, keras=k3, inputs="distinct"))
            cf = [shape[0], shape[-1], *shape[1:-1]]
            out.append(_case(cls, dict(output_size=size, data_format="channels_first"), cf, keras=k3,
                             inputs="distinct"))
    out += [
        _case("SpectralNormalization", dict(power_iterations=1), [2, 4], wrapped=("Dense", dict(units=3))),
        _case("SpectralNormalization", dict(power_iterations=1), [2, 4], wrapped=("Dense", dict(units=3)),
              training=True),
        _case("SpectralNormalization", dict(power_iterations=3), [2, 5, 5, 2],
              wrapped=("Conv2D", dict(filters=3, kernel_size=3)), training=True),
    ]
    return out


def errors():
    return [
        ("Attention", dict(score_mode="add"), None),
        ("Attention", {}, [[2, 3, 4], [2, 5, 6]]),
        ("AdditiveAttention", {}, [[2, 3, 4], [2, 5, 6]]),
        ("SpectralNormalization", dict(power_iterations=0), None),
        ("RMSNormalization", dict(axis=3), [2, 3, 4]),
    ]


def _draw(rng, shape, kind):
    if kind == "distinct":
        n = int(np.prod(shape))
        return (rng.permutation(n).reshape(shape) / max(n, 1) * 4 - 2).astype("float32")
    return rng.standard_normal(shape).astype("float32")


def _make(mod, c):
    cls = getattr(mod.layers, c["cls"])
    if c["wrapped"] is not None:
        name, args = c["wrapped"]
        return cls(getattr(mod.layers, name)(**args), **c["args"])
    return cls(**c["args"])


def run(mod, tf, c, seed, cid):
    fresh_session(mod, seed=seed)
    rng = np.random.default_rng(seed)
    layer = _make(mod, c)
    shapes = c["shapes"]
    multi = isinstance(shapes[0], list)
    shape_list = shapes if multi else [shapes]
    xs = [_draw(rng, s, c["inputs"]) for s in shape_list]
    masks = None
    if c["masks"] is not None:
        masks = []
        for s, on in zip(shape_list, c["masks"]):
            if not on:
                masks.append(None)
                continue
            m = rng.uniform(size=s[:-1]) > 0.35
            m[..., 0] = True
            m[-1, ...] = False if len(s) > 2 and s[1] == 5 else m[-1, ...]  # a fully masked value row
            masks.append(m)
    layer.build([tuple(s) for s in shape_list] if multi else tuple(shape_list[0]))
    wvars = list(layer.weights)
    names = [_short(v) for v in wvars]
    shapes_w = [tuple(int(d) for d in v.shape) for v in wvars]
    weights = [(1 + 0.3 * rng.standard_normal(s)).astype("float32") if _short(v) in ("scale",)
               else (rng.uniform(0.2, 1.0, s) * rng.choice([-1, 1], s)).astype("float32")
               for v, s in zip(wvars, shapes_w)]
    layer.set_weights(weights)
    T = {f"{cid}.input.{i}": x for i, x in enumerate(xs)}
    T.update({f"{cid}.weight.{n}": w for n, w in zip(names, weights)})
    if masks is not None:
        T.update({f"{cid}.mask.{i}": m.astype("uint8") for i, m in enumerate(masks) if m is not None})
    xts = [tf.constant(x) for x in xs]
    kwargs = dict(c["call_kwargs"])
    if c["training"] is not None:
        kwargs["training"] = c["training"]
    if masks is not None:
        kwargs["mask"] = [None if m is None else tf.constant(m) for m in masks]
    with tf.GradientTape(persistent=True) as tape:
        for xt in xts:
            tape.watch(xt)
        y = layer(xts if multi else xts[0], **kwargs)
        ys = list(y) if isinstance(y, (tuple, list)) else [y]
        ups = [rng.standard_normal(tuple(t.shape)).astype("float32") for t in ys]
        loss = sum(tf.reduce_sum(t * u) for t, u in zip(ys, ups))
    for j, (t, u) in enumerate(zip(ys, ups)):
        T[f"{cid}.output.{j}"] = np.asarray(t)
        T[f"{cid}.upstream.{j}"] = u
    trainable = list(layer.trainable_weights)
    g = tape.gradient(loss, xts + trainable)
    for i, gi in enumerate(g[:len(xts)]):
        T[f"{cid}.grad_input.{i}"] = np.zeros(xs[i].shape, "float32") if gi is None else np.asarray(tf.convert_to_tensor(gi))
    for v, gv in zip(trainable, g[len(xts):]):
        T[f"{cid}.grad.{_short(v)}"] = np.zeros(v.shape, "float32") if gv is None else np.asarray(tf.convert_to_tensor(gv))
    for n, v in zip(names, wvars):
        T[f"{cid}.after.{n}"] = np.asarray(v.numpy())
    out_mask = None
    if masks is not None:
        out_mask = layer.compute_mask(xts, [None if m is None else tf.constant(m) for m in masks])
        if out_mask is not None:
            T[f"{cid}.output_mask"] = np.asarray(out_mask).astype("uint8")
    rec = {"id": cid, "keras": mod.__name__.split(".")[0], "class": c["cls"], "args": jsonable(c["args"]),
           "wrapped": jsonable(c["wrapped"]), "input_shapes": shape_list, "list_input": multi,
           "masks": None if masks is None else [m is not None for m in masks],
           "call_kwargs": c["call_kwargs"], "training": c["training"],
           "config": jsonable(layer.get_config()), "weight_names": names,
           "weight_shapes": [list(v.shape) for v in wvars], "weight_trainable": [bool(v.trainable) for v in wvars],
           "n_outputs": len(ys), "output_mask": out_mask is not None}
    return rec, T


def main(out_dir):
    tf, tf_keras = import_tf()
    keras3 = import_keras3()
    folder = os.path.join(out_dir, SUBDIR)
    os.makedirs(folder, exist_ok=True)
    records, tensors = [], {}
    n = 0
    with tf.device("/CPU:0"):
        for i, c in enumerate(cases()):
            for k in c["keras"]:
                mod = tf_keras if k == "tf_keras" else keras3
                try:
                    rec, T = run(mod, tf, c, 1900 + i, f"c{n:03d}")
                except Exception as e:  # noqa: BLE001 - a case Keras refuses is reported, not recorded
                    print(f"[attention_small] {k} refuses {c['cls']} {c['args']} {c['shapes']}: {type(e).__name__}")
                    continue
                records.append(rec)
                tensors.update(T)
                n += 1
        errs = []
        for i, (cls, args, shapes) in enumerate(errors()):
            for k, mod in (("tf_keras", tf_keras), ("keras3", keras3)):
                if not hasattr(mod.layers, cls):
                    continue
                fresh_session(mod)
                rec = {"id": f"e{len(errs):03d}", "keras": k, "class": cls, "args": args, "input_shapes": shapes}
                try:
                    layer = getattr(mod.layers, cls)(**args)
                    if shapes is not None:
                        layer([tf.constant(np.zeros(s, "float32")) for s in shapes] if isinstance(shapes[0], list)
                              else tf.constant(np.zeros(shapes, "float32")))
                    rec.update(error_type=None, message=None)
                except Exception as e:  # noqa: BLE001 - recorded as Keras raised it
                    rec.update(error_type=type(e).__name__, message=str(e).split("\n")[0][:300])
                errs.append(rec)
    write_json(os.path.join(folder, "cases.json"), records)
    write_json(os.path.join(folder, "errors.json"), errs)
    save_safetensors(tensors, os.path.join(folder, "tensors.safetensors"))
    print(f"[attention_small] {len(records)} cases, {len(errs)} error cases")
    return {"cases": len(records), "errors": len(errs), "models": record_models(out_dir)}


# ----------------------------------------------------------------------------- whole models in Keras files
def _models(lib, keras3):
    """name -> (model, inputs): a masked attention text model (both versions), a SpectralNormalization model
    (both), and RMSNormalization / adaptive pooling (Keras 3)."""
    L = lib.layers
    rng = np.random.default_rng(1931)
    out = {}
    tok = L.Input((6,), dtype="int32", name="tokens")
    emb = L.Embedding(20, 8, mask_zero=True, name="emb")(tok)
    q = L.Dense(8, name="q")(emb)
    att = L.Attention(use_scale=True, name="att")([q, emb])
    add = L.AdditiveAttention(name="add_att")([att, emb])
    pooled = L.GlobalAveragePooling1D(name="pool")(add)
    ids = rng.integers(1, 20, (3, 6)).astype("int32")
    ids[0, 4:] = 0
    ids[1, 2:] = 0
    out["masked_attention"] = (lib.Model(tok, L.Dense(2, name="head")(pooled)), ids)
    x = L.Input((5,), name="x")
    h = L.SpectralNormalization(L.Dense(4, name="inner"), power_iterations=2, name="sn")(x)
    out["spectral_dense"] = (lib.Model(x, L.Dense(2, name="head")(h)), rng.standard_normal((3, 5)).astype("float32"))
    if keras3:
        img = L.Input((7, 9, 3), name="img")
        h = L.AdaptiveAveragePooling2D((3, 4), name="aap")(img)
        h = L.RMSNormalization(name="rms")(h)
        h = L.Conv2D(4, 2, name="conv")(h)
        h = L.AdaptiveMaxPooling2D((2, 2), name="amp")(h)  # an output of 1 crashes Keras 3 (SIGFPE)
        out["adaptive_rms"] = (lib.Model(img, L.Flatten(name="flat")(h)),
                               rng.standard_normal((2, 7, 9, 3)).astype("float32"))
    return out


def record_models(out_dir):
    tf, tf_keras = import_tf()
    keras3 = import_keras3()
    folder = os.path.join(out_dir, SUBDIR)
    tensors, records = {}, []
    for tag, lib, ext in (("tf", tf_keras, "h5"), ("k3", keras3, "keras")):
        fresh_session(lib, seed=7)
        for name, (model, x) in _models(lib, lib is keras3).items():
            w_rng = np.random.default_rng(5)
            model.set_weights([(w_rng.standard_normal(w.shape) * 0.4).astype("float32") if "vector_u" not in w.name
                               else (w_rng.standard_normal(w.shape) * 0.02).astype("float32")
                               for w in model.weights])
            path = os.path.join(folder, f"{name}.{tag}.{ext}")
            model.save(path)
            key = f"{name}.{tag}"
            tensors[f"{key}.input"] = x
            tensors[f"{key}.output"] = np.asarray(model(x, training=False))
            records.append({"name": name, "keras": tag, "file": os.path.basename(path)})
    write_json(os.path.join(folder, "models.json"), records)
    save_safetensors(tensors, os.path.join(folder, "models_tensors.safetensors"))
    print(f"[attention_small] {len(records)} model files")
    return len(records)
