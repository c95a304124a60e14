"""One recorder for every layer family after the convolutions: a family module lists data, this runs real Keras.

A family generator (``gen/normalization.py``, ``gen/pooling.py``, ...) only describes cases::

    from .layer_cases import Case, Err, record_family

    def main(out_dir):
        return record_family(out_dir, {
            "BatchNormalization": ([Case(dict(axis=-1), [2, 5, 3], training=True), ...],
                                   [Err("init", dict(axis=1.5), None), ...]),
        }, seed=10)

and :func:`record_family` calls the REAL ``tf_keras.layers.<Class>`` (tf-keras 2.21) for every case,
and Keras 3 (3.15.1, TensorFlow backend) as the second reference.  Nothing here computes a layer.

Files written into ``out_dir``, per class (``<snake>`` is tf.keras's default layer name of the class)
===================================================================================================

``<snake>_cases.json``: a list of records::

    {"id": "c000", "group": ..., "class": "BatchNormalization",
     "args": {...},                  # kwargs exactly as passed, with "name": <snake>
     "input_shapes": [[2, 5, 3]],    # always a list, one shape per input
     "list_input": false,            # true: the layer was called on a list of tensors
     "inputs": "normal",             # how the inputs were drawn (see Case)
     "dtype": "float32",             # input dtype
     "training": null | true | false,  # passed as call(training=...) when not null
     "call_kwargs": {...},           # other call kwargs (JSON values)
     "output_shape", "output_dtype",
     "compute_output_shape": layer.compute_output_shape with a None batch (or null with
     "compute_output_shape_error": "Type: message"),
     "config": layer.get_config() after the call,
     "weight_names", "weight_shapes", "weight_trainable": layer.weights order, Keras layout,
     "losses": [float] after the call,
     "grads": bool,                  # whether gradients were recorded
     "keras3_config", "keras3_output_shape", "keras3_max_abs_diff" (same inputs, weights and
     training flag), or "keras3_error": "Type: message" when Keras 3 refuses a step}

``<snake>_tensors.safetensors``: ``{id}.input.{i}``; ``{id}.weight.{name}`` (set with ``set_weights``
after ``build``); ``{id}.after.{name}`` (every weight after the call: moving statistics);
``{id}.output``; ``{id}.upstream``; ``{id}.grad_input.{i}`` and ``{id}.grad.{name}`` (gradients of
``reduce_sum(output * upstream)``, trainable weights only, when ``grads``).

``<snake>_errors.json``: ``{"id", "kind", "args", "input_shapes", "list_input", "keras_error_type",
"keras_message", "keras_output_shape" (when tf.keras accepted it), "keras3_error_type",
"keras3_message"}``; kinds ``init`` (constructor), ``build``, ``call`` (build from the call on zeros),
``compute_output_shape``.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

import numpy as np

from .common import (
    clean_message, fresh_session, import_keras3, import_tf, jsonable, save_safetensors, shape_list,
    try_call, write_json,
)


@dataclass
class Case:
    """One recorded call.  ``input_shape``: a shape, or a list of shapes (``list_input`` then defaults on).

    ``inputs``: "normal" N(0, 1) | "positive" U(0.5, 2) | "int" integers in [0, 10) (dtype "int32"
    unless ``dtype`` says otherwise) | "distinct" (a permutation of 0..n-1 scaled: no ties, for
    max pooling gradients).  ``weights``: {name: "normal" | "positive" | "ones" | "zeros" | "small"};
    unnamed weights by name: variance-like positive, gamma-like 1 + 0.2 N, others 0.5 N.
    """

    args: dict
    input_shape: list
    group: str = "basic"
    dtype: str = "float32"
    training: bool | None = None
    inputs: str = "normal"
    weights: dict = field(default_factory=dict)
    grads: bool = True
    call_kwargs: dict = field(default_factory=dict)
    list_input: bool | None = None
    seed: int | None = None  # the case's own seed (default: derived from the family seed)


@dataclass
class Err:
    """An error case: ``kind`` in init / build / call / compute_output_shape."""

    kind: str
    args: dict
    input_shape: list | None = None
    list_input: bool | None = None
    dtype: str = "float32"


def snake_name(class_name: str) -> str:
    """tf.keras's default layer name of a class (``generic_utils.to_snake_case``)."""
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", class_name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()


def _shapes(shape, list_input):
    multi = isinstance(shape[0], (list, tuple)) if shape else False
    shapes = [list(s) for s in shape] if multi else [list(shape)]
    return shapes, (multi if list_input is None else list_input)


def _draw(rng, shape, kind, dtype):
    if kind == "positive":
        return rng.uniform(0.5, 2.0, shape).astype(dtype)
    if kind == "int":
        return rng.integers(0, 10, shape).astype(dtype)
    if kind == "distinct":
        n = int(np.prod(shape))
        return (rng.permutation(n).reshape(shape) / max(n, 1) * 4 - 2).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _weight(rng, name, shape, kind, dtype):
    if kind is None:
        if "variance" in name:
            kind = "positive"
        elif name in ("gamma", "scale"):
            return (1 + 0.2 * rng.standard_normal(shape)).astype(dtype)
        else:
            kind = "small"
    if kind == "ones":
        return np.ones(shape, dtype)
    if kind == "zeros":
        return np.zeros(shape, dtype)
    if kind == "positive":
        return rng.uniform(0.5, 1.5, shape).astype(dtype)
    if kind == "small":
        return (0.5 * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def short_name(v) -> str:
    return v.name.split("/")[-1].split(":")[0]


def first_line(e_type, msg):
    """``"Type: message"`` on one line (Keras's trailing call-arguments block dropped)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", clean_message(msg))
    text = re.split(r"\n\s*(?:Call a|A)rguments received by", text)[0]
    return f"{e_type}: " + " | ".join(ln.strip() for ln in text.splitlines() if ln.strip())


def _call(tf, layer, xs, case):
    kwargs = dict(case.call_kwargs)
    if case.training is not None:
        kwargs["training"] = case.training
    arg = [tf.constant(x) for x in xs]
    return layer(arg if case._list else arg[0], **kwargs)


def run_case(mod, class_name, case, seed):
    """``(record, tensors, weights)`` of one case through tf_keras (``mod``)."""
    tf, _ = import_tf()
    rng = np.random.default_rng(seed)
    fresh_session(mod, seed=seed)
    layer = getattr(mod.layers, class_name)(**case.args)
    shapes = case._shapes
    layer.build([tf.TensorShape(s) for s in shapes] if case._list else tf.TensorShape(shapes[0]))
    xs = [_draw(rng, s, case.inputs, case.dtype) for s in shapes]
    wvars = list(layer.weights)
    names = [short_name(v) for v in wvars]
    weights = [_weight(rng, n, tuple(v.shape), case.weights.get(n), v.dtype.name) for n, v in zip(names, wvars)]
    if weights:
        layer.set_weights(weights)
    tensors = {f"input.{i}": x for i, x in enumerate(xs)}
    tensors.update({f"weight.{n}": w for n, w in zip(names, weights)})
    floating = np.dtype(case.dtype).kind == "f"
    xts = [tf.constant(x) for x in xs]
    with tf.GradientTape(persistent=True) as tape:
        for xt in xts:
            tape.watch(xt)
        kwargs = dict(case.call_kwargs)
        if case.training is not None:
            kwargs["training"] = case.training
        y = layer(xts if case._list else xts[0], **kwargs)
        upstream = rng.standard_normal(tuple(y.shape)).astype(y.dtype.name) if y.dtype.is_floating else None
        loss = tf.reduce_sum(y * upstream) if upstream is not None else None
    tensors["output"] = y.numpy()
    if upstream is not None:
        tensors["upstream"] = upstream
    grads = bool(case.grads and floating and loss is not None)
    if grads:
        trainable = list(layer.trainable_weights)
        g = tape.gradient(loss, xts + trainable)
        for i, gi in enumerate(g[:len(xts)]):
            tensors[f"grad_input.{i}"] = np.zeros(shapes[i], case.dtype) if gi is None else tf.convert_to_tensor(gi).numpy()
        for v, gv in zip(trainable, g[len(xts):]):
            tensors[f"grad.{short_name(v)}"] = np.zeros(v.shape, v.dtype.name) if gv is None else tf.convert_to_tensor(gv).numpy()
    for n, v in zip(names, wvars):
        tensors[f"after.{n}"] = v.numpy()
    et, em, cos = try_call(lambda: shape_list(layer.compute_output_shape(
        [[None] + s[1:] for s in shapes] if case._list else [None] + shapes[0][1:])))
    rec = {
        "input_shapes": shapes, "list_input": case._list, "inputs": case.inputs, "dtype": case.dtype,
        "training": case.training, "call_kwargs": jsonable(case.call_kwargs),
        "output_shape": list(y.shape), "output_dtype": y.dtype.name,
        "compute_output_shape": cos,
        "config": jsonable(layer.get_config()),
        "weight_names": names, "weight_shapes": [list(v.shape) for v in wvars],
        "weight_trainable": [bool(v.trainable) for v in wvars],
        "losses": [float(v) for v in layer.losses], "grads": grads,
    }
    if et is not None:
        rec["compute_output_shape_error"] = first_line(et, em)
    return rec, tensors, weights


def keras3_record(class_name, case, xs, weights, y_ref):
    """The same case through Keras 3: config, output shape and the output's difference."""
    import tensorflow as tf

    keras = import_keras3()
    fresh_session(keras)
    out = {}
    et, em, layer = try_call(lambda: getattr(keras.layers, class_name)(**case.args))
    shapes = case._shapes
    if et is None:
        et, em, _ = try_call(lambda: layer.build([tuple(s) for s in shapes] if case._list else tuple(shapes[0])))
    if et is None and weights:
        et, em, _ = try_call(lambda: layer.set_weights(weights))
    if et is None:
        et, em, y = try_call(lambda: _call(tf, layer, xs, case))
    if et is not None:
        out["keras3_error"] = first_line(et, em)
        if layer is None:
            return out
    out["keras3_config"] = jsonable(layer.get_config())
    if et is None:
        y = np.asarray(y)
        out["keras3_output_shape"] = list(y.shape)
        out["keras3_max_abs_diff"] = (float(np.max(np.abs(y.astype("float64") - y_ref.astype("float64"))))
                                      if y.shape == y_ref.shape and y.size else None)
    return out


def _exercise(mod, class_name, err):
    import tensorflow as tf

    shapes, list_input = _shapes(err.input_shape, err.list_input) if err.input_shape is not None else (None, False)

    def go():
        fresh_session(mod)
        layer = getattr(mod.layers, class_name)(**err.args)
        if err.kind == "init":
            return None
        if err.kind == "build":
            layer.build([tuple(s) for s in shapes] if list_input else tuple(shapes[0]))
            return None
        if err.kind == "compute_output_shape":
            return shape_list(layer.compute_output_shape([tuple(s) for s in shapes] if list_input else tuple(shapes[0])))
        xs = [np.zeros(s, err.dtype) for s in shapes]
        y = layer(xs if list_input else xs[0])
        return list(y.shape)

    with tf.device("/CPU:0"):
        return try_call(go)


def record_errors(class_name, snake, errors):
    """Each :class:`Err` through tf_keras and Keras 3."""
    _, tf_keras = import_tf()
    keras3 = import_keras3()
    out = []
    for i, err in enumerate(errors):
        args = json.loads(json.dumps({**err.args, "name": snake}))
        err = Err(err.kind, args, err.input_shape, err.list_input, err.dtype)
        shapes, list_input = _shapes(err.input_shape, err.list_input) if err.input_shape is not None else (None, False)
        rec = {"id": f"e{i:03d}", "kind": err.kind, "args": args, "input_shapes": shapes, "list_input": list_input,
               "dtype": err.dtype}
        et, em, y = _exercise(tf_keras, class_name, err)
        rec["keras_error_type"], rec["keras_message"] = et, (first_line(et, em).split(": ", 1)[1] if et else None)
        if et is None:
            rec["keras_output_shape"] = y
            print(f"[{snake} e{i:03d}] note: tf_keras accepts {err.kind} args={args} input={err.input_shape}")
        et3, em3, _ = _exercise(keras3, class_name, err)
        rec["keras3_error_type"], rec["keras3_message"] = et3, (first_line(et3, em3).split(": ", 1)[1] if et3 else None)
        out.append(rec)
    return out


def record_class(out_dir, class_name, cases, errors, seed, snake=None):
    """Record one class's cases and errors (see the module docstring for the files)."""
    _, tf_keras = import_tf()
    snake = snake or snake_name(class_name)
    records, tensors = [], {}
    for i, case in enumerate(cases):
        cid = f"c{i:03d}"
        case.args = json.loads(json.dumps({**case.args, "name": snake}))
        case._shapes, case._list = _shapes(case.input_shape, case.list_input)
        case_seed = case.seed if case.seed is not None else seed * 1000 + i
        rec, t, weights = run_case(tf_keras, class_name, case, case_seed)
        xs = [t[f"input.{j}"] for j in range(len(case._shapes))]
        rec.update(keras3_record(class_name, case, xs, weights, t["output"]))
        records.append({"id": cid, "group": case.group, "class": class_name, "args": case.args, **rec})
        tensors.update({f"{cid}.{k}": v for k, v in t.items()})
    write_json(os.path.join(out_dir, f"{snake}_cases.json"), records)
    save_safetensors(tensors, os.path.join(out_dir, f"{snake}_tensors.safetensors"))
    write_json(os.path.join(out_dir, f"{snake}_errors.json"), record_errors(class_name, snake, errors))
    print(f"[{snake}] {len(records)} cases, {len(errors)} error cases")
    return {"cases": len(records), "errors": len(errors)}


def record_family(out_dir, classes, seed):
    """``classes``: {tf.keras class name: (cases, errors)} -> counts per class."""
    return {name: record_class(out_dir, name, cases, errors, seed + k)
            for k, (name, (cases, errors)) in enumerate(classes.items())}
