"""Record whole Keras models (files + seeded inputs + outputs) for ``kerastorch.models`` (issue 11).

Run (from the repository root, in the reference venv; see ``generate.py``)::

    .venv-keras/bin/python compat_fixtures/generate.py --only models

Every file and number here is produced by real Keras: tf.keras = the ``tf_keras`` package 2.21
(TensorFlow 2.21), Keras 3 = ``keras`` 3.15.1 on the TensorFlow backend.  Nothing is re-implemented.

Files written into ``<out_dir>/models/``
========================================

``MANIFEST.json``::

    {"versions": {...}, "fill": "<the weight fill, as below>", "total_bytes": int,
     "fixtures": [entry, ...]}

one ``entry`` per (model, source library)::

    {"name": "cnn_seq.tf_keras",      # <model>.<source>
     "model": "cnn_seq", "source": "tf_keras" | "keras3", "keras_version": "2.21.0" | "3.15.1",
     "kind": "file" | "refusal",
     "files": {"h5": "cnn_seq.tf.h5", "keras": "cnn_seq.tf.keras"}   # kind file / refusal: the
                                      # saved models, each loads with load_model(path) in its library
     "file_errors": {"keras": "Type: message"},   # a format the library could not write (if any)
     "tensors": "cnn_seq.safetensors" | null,     # null for refusal fixtures (nothing to execute)
     "inputs": [{"name": "image", "shape": [2, 8, 8, 3], "dtype": "float32",
                 "key": "input.image"}, ...],     # model.inputs order; call with one tensor when
                                                  # there is one input, else a list in this order
     "outputs": {"structure": "single" | "list" | "dict",
                 "names": [...],                  # dict keys (dict) / output layer names (list)
                 "keys": ["tf.out.0", ...],       # safetensors keys of THIS source's outputs, in
                                                  # "names" order ("tf." tf.keras, "k3." Keras 3)
                 "shapes": [[2, 3], ...]},
     "fill_seed": int,                # the weights are the fill below with this seed
     "weights": [[name, shape, dtype], ...],      # model.weights, Keras order (tf.keras: "conv/kernel:0")
     "weight_sums": [float64 sum of each weight],  # proves a re-implemented fill is bit-identical
     "layer_classes": ["Conv2D", ...], "ops": ["tf.math.add", ...],  # coverage (sorted)
     "tolerance": {"rtol": float, "why": str},    # hint for float32 parity against these outputs
     "cross_max_rel_diff": float | null,          # |tf.keras - Keras 3| / max|out| on the same
                                                  # weights, when both ran: the float32 noise floor
     "refuse": bool,                              # true: loading must raise ValueError (Lambda)
     "keras3_config": {...} | absent,             # model.get_config() (Keras 3 entries)
     "notes": str}

``<model>.safetensors``: ``input.<input name>`` (seeded N(0, 1), batch 2; float32);
``tf.out.<i>`` (tf.keras outputs, inference: ``model(x, training=False)``) and ``k3.out.<i>``
(Keras 3, same weights, same inputs), ``<i>`` indexing ``outputs.names`` order.

``summaries.json``: ``{"versions": {...}, "cases": [{"model", "kwargs", "text", "config"}, ...]}``: the text
tf.keras ``model.summary(print_fn=..., **kwargs)`` prints (lines joined by ``\n``) and the model's
``to_json()`` (``SUMMARY_MODELS``, plus every tf.keras hand-made model with ``kwargs == {}``).

Saved files: ``<model>.tf.h5`` tf.keras ``model.save('x.h5')`` (legacy HDF5, full model, no
optimizer), ``<model>.tf.keras`` tf.keras ``model.save('x.keras')`` (tf.keras's own v3 zip writer),
``<model>.k3.keras`` Keras 3 ``model.save('x.keras')``.

The weight fill (every model; files hold the filled values, config-only fixtures must refill)
============================================================================================

``rng = numpy.random.default_rng(fill_seed)``; then for each weight ``w`` of ``model.weights`` in
order (Keras order: tf.keras / Keras 3 ``model.weights``), with ``leaf`` = the last ``/``-part of its
name without ``:0`` and ``shape`` its Keras shape, draw float64 and cast to the weight's dtype:

* integer dtype (e.g. ``Normalization.count``): left unchanged, NO draw;
* ``leaf == "gamma"``: ``1 + 0.1 * rng.standard_normal(shape)``;
* ``leaf in ("beta", "moving_mean", "mean")``: ``0.1 * rng.standard_normal(shape)``;
* ``leaf in ("moving_variance", "variance")``: ``rng.uniform(0.5, 1.5, shape)``;
* ``len(shape) >= 2`` (kernels): ``rng.standard_normal(shape) * sqrt(1 / fan_in)`` with
  ``fan_in = prod(shape[:-2])`` for ``leaf == "depthwise_kernel"``, else ``prod(shape[:-1])``
  (Dense (in, out): in; ConvND (k..., in/groups, out): k... * in/groups);
* anything else (biases, 1-D or scalar weights): ``0.1 * rng.standard_normal(shape)``.

Each draw consumes the generator in that order, so the fill is reproducible without TensorFlow.
Activations stay O(1) through deep nets (unit-variance kernels, BN near identity).

Hand-made models (``HANDMADE``; weights by the fill; inputs batch 2)
=====================================================================

``cnn_seq`` Sequential CNN (Conv2D, BatchNormalization, ReLU, MaxPooling2D, Flatten, Dropout, Dense);
``two_io`` two inputs / two outputs (list); ``two_io_dict`` the same with dict outputs;
``shared`` one Dense called on two inputs; ``nested`` a Sequential and a Functional model used as
layers; ``cnn_nchw`` channels_first conv net; ``conv1d`` Conv1D + GlobalAveragePooling1D;
``conv3d`` Conv3D + pooling; ``unet`` small U-Net (Conv2D, MaxPooling2D, UpSampling2D,
Concatenate); ``tf_ops`` tf.keras TFOpLambda / SlicingOpLambda nodes; ``k3_ops`` Keras 3
``keras.ops`` nodes; ``slash_names`` layer names containing '/' (tf.keras .h5); ``lambda_tf`` /
``lambda_k3`` a ``Lambda`` layer (refusal only: nothing recorded to execute).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile

import numpy as np

from .common import clean_message, error_text, fresh_session, import_keras3, import_tf, jsonable, save_safetensors, \
    versions, write_json

BATCH = 2


# ----------------------------------------------------------------------------- the weight fill
def fill_values(weights, seed):
    """The values of the fill (module docstring) for ``[(name, shape, dtype str)]``; None = unchanged."""
    rng = np.random.default_rng(seed)
    out = []
    for name, shape, dtype in weights:
        shape = tuple(int(d) for d in shape)
        leaf = name.split("/")[-1].split(":")[0]
        if not np.issubdtype(np.dtype(dtype), np.floating):
            out.append(None)
            continue
        if leaf == "gamma":
            v = 1.0 + 0.1 * rng.standard_normal(shape)
        elif leaf in ("beta", "moving_mean", "mean"):
            v = 0.1 * rng.standard_normal(shape)
        elif leaf in ("moving_variance", "variance"):
            v = rng.uniform(0.5, 1.5, shape)
        elif len(shape) >= 2:
            fan_in = int(np.prod(shape[:-2])) if leaf == "depthwise_kernel" else int(np.prod(shape[:-1]))
            v = rng.standard_normal(shape) * np.sqrt(1.0 / max(fan_in, 1))
        else:
            v = 0.1 * rng.standard_normal(shape)
        out.append(v.astype(dtype))
    return out


def _weight_list(model):
    res = []
    for w in model.weights:
        name = getattr(w, "path", None) or w.name
        res.append((name, [int(d) for d in w.shape], np.dtype(w.dtype.name if hasattr(w.dtype, "name") else w.dtype).name))
    return res


def apply_fill(model, seed):
    """Fill ``model``'s weights (Keras order) and return ``(weights list, sums)``."""
    wl = _weight_list(model)
    vals = fill_values(wl, seed)
    for w, v in zip(model.weights, vals):
        if v is not None:
            w.assign(v)
    sums = [float(np.asarray(w.numpy(), dtype=np.float64).sum()) for w in model.weights]
    return wl, sums


# ----------------------------------------------------------------------------- coverage
def _layer_classes(model):
    """``(sorted layer class names, sorted op functions)`` over the model and its nested models:
    tf.keras TFOpLambda / SlicingOpLambda symbols (``"nn.relu6"``) and Keras 3 op classes
    (``"keras.ops.numpy.Add"``)."""
    names, ops = set(), set()

    def walk(m):
        for op in getattr(m, "operations", None) or m.layers:
            cls = type(op).__name__
            module = type(op).__module__
            if module.startswith("keras.src.ops"):
                ops.add("keras.ops.%s.%s" % (module.split(".")[-1], cls))
                continue
            names.add(cls)
            if cls in ("TFOpLambda", "SlicingOpLambda"):
                ops.add("tf." + str(getattr(op, "symbol", None)))
            elif hasattr(op, "layers") and cls != "InputLayer":
                walk(op)
    walk(model)
    return sorted(names), sorted(ops)


# ----------------------------------------------------------------------------- hand-made builders
def b_cnn_seq(L, lib):
    return lib.Sequential([
        L.InputLayer(input_shape=(8, 8, 3), name="image") if lib.__name__ == "tf_keras" else lib.Input((8, 8, 3), name="image"),
        L.Conv2D(4, 3, padding="same", name="conv"),
        L.BatchNormalization(name="bn"),
        L.ReLU(name="relu"),
        L.MaxPooling2D(2, name="pool"),
        L.Flatten(name="flatten"),
        L.Dropout(0.5, name="drop"),
        L.Dense(3, name="logits"),
    ], name="cnn_seq")


def _two_io_body(L):
    a = L.Input((6,), name="a")
    b = L.Input((4,), name="b")
    ha = L.Dense(5, activation="tanh", name="da")(a)
    hb = L.Dense(5, activation="relu", name="db")(b)
    h = L.Concatenate(name="cat")([ha, hb])
    score = L.Dense(2, name="score")(h)
    aux = L.Dense(3, activation="sigmoid", name="aux")(L.Multiply(name="mul")([ha, hb]))
    return a, b, score, aux


def b_two_io(L, lib):
    a, b, score, aux = _two_io_body(L)
    return lib.Model([a, b], [score, aux], name="two_io")


def b_two_io_dict(L, lib):
    a, b, score, aux = _two_io_body(L)
    return lib.Model([a, b], {"score": score, "aux": aux}, name="two_io_dict")


def b_shared(L, lib):
    a = L.Input((5,), name="left")
    b = L.Input((5,), name="right")
    d = L.Dense(4, activation="relu", name="shared")
    s = L.Subtract(name="sub")([d(a), d(b)])
    t = L.Add(name="add")([d(a), s])  # third call of the same layer
    return lib.Model([a, b], L.Dense(2, name="head")(t), name="shared_model")


def b_nested(L, lib):
    inner_seq = lib.Sequential([lib.Input((6,)), L.Dense(5, activation="relu", name="s1"), L.Dense(4, name="s2")],
                               name="inner_seq")
    fi = L.Input((4,), name="fi")
    fo = L.Dense(4, activation="tanh", name="f1")(fi)
    inner_fn = lib.Model(fi, L.Add(name="fadd")([fi, fo]), name="inner_fn")
    x = L.Input((3,), name="x")
    h = L.Dense(6, name="pre")(x)
    h = inner_fn(inner_seq(h))
    h2 = inner_fn(L.Dense(4, name="side")(x))  # nested model called twice
    return lib.Model(x, L.Dense(2, name="out")(L.Concatenate(name="cat")([h, h2])), name="nested")


def b_cnn_nchw(L, lib):
    x = L.Input((3, 8, 8), name="img")
    h = L.Conv2D(4, 3, padding="same", data_format="channels_first", name="c1")(x)
    h = L.BatchNormalization(axis=1, name="bn")(h)
    h = L.Activation("relu", name="act")(h)
    h = L.MaxPooling2D(2, data_format="channels_first", name="pool")(h)
    h = L.Conv2D(5, 3, strides=2, data_format="channels_first", name="c2")(h)
    h = L.GlobalAveragePooling2D(data_format="channels_first", name="gap")(h)
    return lib.Model(x, L.Dense(3, name="fc")(h), name="cnn_nchw")


def b_conv1d(L, lib):
    x = L.Input((12, 3), name="seq")
    h = L.Conv1D(6, 3, padding="causal", activation="relu", name="c1")(x)
    h = L.Conv1D(6, 3, dilation_rate=2, padding="same", name="c2")(h)
    h = L.MaxPooling1D(2, name="pool")(h)
    h = L.GlobalAveragePooling1D(name="gap")(h)
    return lib.Model(x, L.Dense(2, name="fc")(h), name="conv1d_net")


def b_conv3d(L, lib):
    x = L.Input((6, 6, 6, 2), name="vol")
    h = L.Conv3D(4, 3, padding="same", activation="relu", name="c1")(x)
    h = L.MaxPooling3D(2, name="mp")(h)
    h = L.Conv3D(4, 2, name="c2")(h)
    h = L.AveragePooling3D(2, name="ap")(h)
    h = L.Flatten(name="flat")(h)
    return lib.Model(x, L.Dense(2, name="fc")(h), name="conv3d_net")


def b_unet(L, lib):
    x = L.Input((16, 16, 3), name="img")
    c1 = L.Conv2D(4, 3, padding="same", activation="relu", name="enc1")(x)
    p1 = L.MaxPooling2D(name="pool1")(c1)
    c2 = L.Conv2D(8, 3, padding="same", activation="relu", name="enc2")(p1)
    p2 = L.MaxPooling2D(name="pool2")(c2)
    b = L.Conv2D(8, 3, padding="same", activation="relu", name="mid")(p2)
    u2 = L.UpSampling2D(name="up2")(b)
    d2 = L.Conv2D(8, 3, padding="same", activation="relu", name="dec2")(L.Concatenate(name="cat2")([u2, c2]))
    u1 = L.UpSampling2D(interpolation="bilinear", name="up1")(d2)
    d1 = L.Conv2D(4, 3, padding="same", activation="relu", name="dec1")(L.Concatenate(name="cat1")([u1, c1]))
    return lib.Model(x, L.Conv2D(2, 1, name="seg")(d1), name="unet")


def b_tf_ops(L, lib):
    tf, _ = import_tf()
    x = L.Input((4, 6), name="x")
    h = L.Dense(6, name="d")(x)
    h = h + 3.0
    h = tf.nn.relu6(h)
    r = tf.reshape(h, (-1, 6, 4))
    c = tf.concat([r, r * 0.5], axis=-1)  # (b, 6, 8)
    s = c[:, 1:, :]  # SlicingOpLambda
    m = tf.math.reduce_mean(s, axis=1, keepdims=True)
    y = tf.multiply(s, m)
    return lib.Model(x, L.Dense(3, name="out")(y), name="tf_ops")


def b_k3_ops(L, lib):
    ops = lib.ops
    x = L.Input((4, 6), name="x")
    h = L.Dense(6, name="d")(x)
    h = h + 3.0
    h = ops.relu6(h)
    r = ops.reshape(h, (-1, 6, 4))
    c = ops.concatenate([r, ops.multiply(r, 0.5)], axis=-1)
    s = c[:, 1:, :]
    m = ops.mean(s, axis=1, keepdims=True)
    y = ops.multiply(s, m)
    y = ops.transpose(y, (0, 2, 1))
    return lib.Model(x, L.Dense(3, name="out")(y), name="k3_ops")


def b_slash_names(L, lib):
    x = L.Input((5,), name="x")
    h = L.Dense(4, activation="relu", name="block1/dense")(x)
    h = L.BatchNormalization(name="block1/bn")(h)
    return lib.Model(x, L.Dense(2, name="head/out")(h), name="slash_names")


def b_lambda(L, lib):
    x = L.Input((4,), name="x")
    h = L.Dense(3, name="d")(x)
    h = L.Lambda(lambda t: t * 2.0 + 1.0, name="lam")(h)
    return lib.Model(x, h, name="lambda_model")


# name -> (builder, sources, input dtype kinds, tolerance, notes)
HANDMADE = {
    "cnn_seq": (b_cnn_seq, ("tf_keras", "keras3"), "Sequential CNN; BN moving stats from the fill"),
    "two_io": (b_two_io, ("tf_keras", "keras3"), "two inputs, list of two outputs"),
    "two_io_dict": (b_two_io_dict, ("tf_keras", "keras3"), "two inputs, dict outputs {score, aux}"),
    "shared": (b_shared, ("tf_keras", "keras3"), "one Dense called three times on two inputs"),
    "nested": (b_nested, ("tf_keras", "keras3"), "nested Sequential + nested Functional (called twice)"),
    "cnn_nchw": (b_cnn_nchw, ("tf_keras", "keras3"), "channels_first conv net"),
    "conv1d": (b_conv1d, ("tf_keras", "keras3"), "Conv1D causal + dilated, GlobalAveragePooling1D"),
    "conv3d": (b_conv3d, ("tf_keras", "keras3"), "Conv3D + MaxPooling3D + AveragePooling3D"),
    "unet": (b_unet, ("tf_keras", "keras3"), "small U-Net (nearest + bilinear UpSampling2D, Concatenate)"),
    "tf_ops": (b_tf_ops, ("tf_keras",), "TFOpLambda / SlicingOpLambda nodes (tf.keras only)"),
    "k3_ops": (b_k3_ops, ("keras3",), "keras.ops nodes (Keras 3 only)"),
    "slash_names": (b_slash_names, ("tf_keras",), "layer names containing '/' (tf.keras allows them)"),
    "lambda_tf": (b_lambda, ("tf_keras",), "Lambda layer: loading must be refused (ValueError)"),
    "lambda_k3": (b_lambda, ("keras3",), "Lambda layer: loading must be refused (ValueError)"),
}
REFUSE = {"lambda_tf", "lambda_k3"}


# ----------------------------------------------------------------------------- running / saving
def _run(tf, model, xs):
    args = xs[0] if len(xs) == 1 else list(xs)
    try:
        out = model(args, training=False)
    except Exception:  # noqa: BLE001  (TF's CPU kernels refuse some NCHW ops eagerly)
        out = tf.function(lambda a: model(a, training=False), jit_compile=True)(args)
    return out


def _flatten_out(out, names):
    if isinstance(out, dict):
        return [np.asarray(out[k]) for k in names]
    if isinstance(out, (list, tuple)):
        return [np.asarray(o) for o in out]
    return [np.asarray(out)]


def _out_structure(model, out):
    if isinstance(out, dict):
        return "dict", sorted(out.keys())
    if isinstance(out, (list, tuple)):
        return "list", list(model.output_names)
    return "single", list(getattr(model, "output_names", None) or [model.layers[-1].name])


def _try_save(model, path):
    try:
        model.save(path)
        return None
    except Exception as e:  # noqa: BLE001
        if os.path.exists(path):
            os.remove(path)
        return error_text(e)


def _input_list(model):
    return [(t.name.split(":")[0], [BATCH] + [int(d) for d in t.shape[1:]]) for t in model.inputs]


def record_handmade(out_dir, tf, tfk, k3):
    entries = []
    for idx, (mname, (builder, sources, notes)) in enumerate(HANDMADE.items()):
        seed = 1000 + idx
        tensors = {}
        built = {}
        for src in sources:
            lib = tfk if src == "tf_keras" else k3
            fresh_session(lib, seed=seed)
            model = builder(lib.layers, lib)
            wl, sums = apply_fill(model, seed)
            built[src] = (model, wl, sums)
        first = built[sources[0]][0]
        ins = _input_list(first)
        rng = np.random.default_rng(seed + 500)
        xs = [rng.standard_normal(s).astype("float32") for _, s in ins]
        refuse = mname in REFUSE
        outs = {}
        for src, (model, wl, sums) in built.items():
            tag = "tf" if src == "tf_keras" else "k3"
            if not refuse:
                out = _run(tf, model, xs)
                structure, names = _out_structure(model, out)
                arrs = _flatten_out(out, names)
                outs[src] = (structure, names, arrs)
                for i, a in enumerate(arrs):
                    tensors[f"{tag}.out.{i}"] = a
        for (n, _), x in zip(ins, xs):
            if not refuse:
                tensors[f"input.{n}"] = x
        cross = None
        if len(outs) == 2:
            a, b = outs["tf_keras"][2], outs["keras3"][2]
            cross = max(float(np.abs(p - q).max() / max(np.abs(p).max(), 1e-30)) for p, q in zip(a, b))
        for src, (model, wl, sums) in built.items():
            tag = "tf" if src == "tf_keras" else "k3"
            files, errs = {}, {}
            kinds = [("h5", ".h5"), ("keras", ".keras")] if src == "tf_keras" else [("keras", ".keras")]
            for kind, ext in kinds:
                fn = f"{mname}.{tag}{ext}"
                err = _try_save(model, os.path.join(out_dir, fn))
                if err is None:
                    files[kind] = fn
                else:
                    errs[kind] = err
            classes, ops = _layer_classes(model)
            entry = {
                "name": f"{mname}.{src}", "model": mname, "source": src,
                "keras_version": (tfk if src == "tf_keras" else k3).__version__,
                "kind": "refusal" if refuse else "file", "files": files,
                "tensors": None if refuse else f"{mname}.safetensors",
                "inputs": [{"name": n, "shape": s, "dtype": "float32", "key": None if refuse else f"input.{n}"}
                           for n, s in ins],
                "fill_seed": seed, "weights": wl, "weight_sums": sums,
                "layer_classes": classes, "ops": ops, "refuse": refuse, "notes": notes,
                "cross_max_rel_diff": cross,
            }
            if errs:
                entry["file_errors"] = errs
            if not refuse:
                structure, names, arrs = outs[src]
                entry["outputs"] = {"structure": structure, "names": names,
                                    "keys": [f"{tag}.out.{i}" for i in range(len(arrs))],
                                    "shapes": [list(a.shape) for a in arrs]}
                entry["tolerance"] = {"rtol": 1e-5, "why": "a few layers in float32: the layer tolerance"}
            else:
                entry["outputs"] = None
            if src == "keras3":
                entry["keras3_config"] = jsonable(model.get_config())
            entries.append(entry)
        if tensors:
            save_safetensors(tensors, os.path.join(out_dir, f"{mname}.safetensors"))
        print(f"[models] {mname}: {', '.join(sources)} cross={cross}")
    return entries


# ----------------------------------------------------------------------------- summary() texts
def _s_mlp(L, lib):
    return lib.Sequential([L.InputLayer(input_shape=(8,), name="x"), L.Dense(4, activation="relu", name="d1"),
                           L.Dropout(0.1, name="drop"), L.Dense(2, name="d2")], name="seq_mlp")


def _s_added(L, lib):
    m = lib.Sequential(name="seq_added")
    m.add(lib.Input((6, 6, 2)))
    m.add(L.Conv2D(3, 3, name="c", trainable=False))
    m.add(L.BatchNormalization(name="bn"))
    m.add(L.Flatten(name="f"))
    m.add(L.Dense(1, name="o"))
    return m


def _s_first_shape(L, lib):
    return lib.Sequential([L.Dense(5, input_shape=(3,), name="d1"), L.Dense(1, name="d2")], name="seq_first")


def _s_chain(L, lib):
    x = L.Input((4,), name="x")
    return lib.Model(x, L.Dense(2, name="d2")(L.Dense(3, name="d1")(x)), name="chain")


#: name -> (builder, [summary() kwargs, ...]); the models of HANDMADE are recorded with ``{}`` too.
SUMMARY_MODELS = {
    "seq_mlp": (_s_mlp, [{}, {"line_length": 80}, {"show_trainable": True}]),
    "seq_added": (_s_added, [{}, {"show_trainable": True}]),
    "seq_first": (_s_first_shape, [{}]),
    "chain": (_s_chain, [{}, {"line_length": 70, "positions": [0.5, 0.8, 1.0]}]),
    "nested": (b_nested, [{}, {"expand_nested": True}, {"line_length": 120}]),
}


def record_summaries(out, tfk):
    """``models/summaries.json``: tf.keras ``model.summary(**kwargs)`` text for hand-made models (what
    kerastorch's ``summary()`` reproduces), with the model's ``to_json()`` to rebuild it from."""
    cases = []
    todo = [(n, b, kws) for n, (b, kws) in SUMMARY_MODELS.items()]
    todo += [(n, b, [{}]) for n, (b, src, _) in HANDMADE.items()
             if "tf_keras" in src and n not in REFUSE and n not in SUMMARY_MODELS]
    for name, builder, kwargs_list in todo:
        fresh_session(tfk, seed=0)
        model = builder(tfk.layers, tfk)
        for kwargs in kwargs_list:
            lines = []
            model.summary(print_fn=lines.append, **kwargs)
            cases.append({"model": name, "kwargs": kwargs, "text": "\n".join(lines),
                          "config": json.loads(model.to_json())})
    write_json(os.path.join(out, "summaries.json"), {"versions": versions("tf_keras"), "cases": cases})
    print(f"[models] summaries.json: {len(cases)} summaries")


def main(out_dir):
    """The hand-made models (keras.applications are recorded by ``gen/applications.py`` into
    ``applications/``)."""
    out = os.path.join(out_dir, "models")
    os.makedirs(out, exist_ok=True)
    tf, tfk = import_tf()
    k3 = import_keras3()
    record_summaries(out, tfk)
    entries = record_handmade(out, tf, tfk, k3)
    total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out) if f != "MANIFEST.json")
    write_json(os.path.join(out, "MANIFEST.json"), {
        "versions": versions("tensorflow", "tf_keras", "keras", "keras_backend", "numpy", "h5py"),
        "fill": __doc__.split("The weight fill")[1].split("Hand-made models")[0].strip(),
        "total_bytes": total, "fixtures": entries})
    total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"[models] {len(entries)} fixtures, {total / 1e6:.2f} MB in {out}")
    return {"fixtures": len(entries), "bytes": total}
