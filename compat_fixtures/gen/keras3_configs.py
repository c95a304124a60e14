"""Record the layer configs real Keras writes, for every layer class kerastorch has (issue 26, item 8).

Run (from the repository root, in the reference venv; see ``generate.py``)::

    .venv-keras/bin/python compat_fixtures/generate.py --only keras3_configs

Each layer class is built in Keras 3.15 (``keras.layers``) and in tf.keras 2.21 (``tf_keras.layers``)
with its default arguments (plus the few required ones, ``ARGS``), and ``layer.get_config()`` is recorded
with the serialized wrapper keys (``module``, ``class_name``, ``registered_name``) of
``keras.layers.serialize`` / ``tf_keras.layers.serialize``.  ``VARIANTS`` add non-default arguments
that Keras 3 writes differently (the 1-D spatial layers' ``data_format``); for those the output of
``layer(x)`` on a small input is recorded too (values in the JSON: the tensors are a few numbers).

``bn_mixed_precision.json`` + ``bn_mixed_precision.safetensors`` (item 10): a small Keras 3 model with
BatchNormalization on its three paths (fused 4-D channels_last, axis 2 of a 4-D input, 2-D) under each mixed
policy: ``model.to_json()``, the weights (``models.fill_values``, Keras order), the input, and the
outputs of ``model(x, training=False)`` and ``model(x, training=True)`` (Keras 3 computes BN in float32
and casts the output to the float16/bfloat16 compute dtype).

File ``<out_dir>/layer_configs.json``::

    {"versions": {...}, "cases": [{"id": "keras3/Dense", "source": "keras3" | "tf_keras",
      "class_name": "Dense", "args": {...}, "config": {...}, "serialized": {"module": ..., ...},
      "input": [[...]] (variants only), "output": [[...]] (variants only),
      "audited": true for ``CLASSES`` (values compared), false for the other classes of ``keras.layers`` /
      ``tf_keras.layers`` (built with the first of ``FALLBACK_ARGS`` that works; recorded so that a layer
      kerastorch adds later is checked too)}],
     "namespace": {"keras3": [every layer class name of keras.layers], "tf_keras": [...]},
     "unbuilt": {"keras3": [classes no FALLBACK_ARGS builds], "tf_keras": [...]}}
"""
from __future__ import annotations

import json
import os

import numpy as np

from .common import fresh_session, imports, jsonable, save_safetensors, versions, write_json

#: The Keras classes kerastorch had when this audit was made (aliases such as ``Convolution2D`` left out).
CLASSES = [
    "Activation", "ActivityRegularization", "Add", "AlphaDropout", "Average", "AveragePooling1D",
    "AveragePooling2D", "AveragePooling3D", "BatchNormalization", "Concatenate", "Conv1D", "Conv1DTranspose",
    "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "Cropping1D", "Cropping2D", "Cropping3D", "Dense",
    "DepthwiseConv1D", "DepthwiseConv2D", "Dot", "Dropout", "ELU", "Flatten", "GaussianDropout", "GaussianNoise",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GroupNormalization", "Identity", "InputLayer",
    "LayerNormalization", "LeakyReLU", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "Maximum", "Minimum",
    "Multiply", "Normalization", "PReLU", "Permute", "ReLU", "RepeatVector", "Rescaling", "Reshape",
    "SeparableConv1D", "SeparableConv2D", "Softmax", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "Subtract", "ThresholdedReLU", "UnitNormalization", "UpSampling1D", "UpSampling2D", "UpSampling3D",
    "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
]

#: The arguments a class cannot be built without (everything else: Keras's defaults).
ARGS = {
    "Activation": {"activation": "relu"},
    "AlphaDropout": {"rate": 0.5}, "Dropout": {"rate": 0.5}, "GaussianDropout": {"rate": 0.5},
    "SpatialDropout1D": {"rate": 0.5}, "SpatialDropout2D": {"rate": 0.5}, "SpatialDropout3D": {"rate": 0.5},
    "GaussianNoise": {"stddev": 0.1},
    "Dense": {"units": 2}, "Dot": {"axes": 1}, "Permute": {"dims": [1]}, "RepeatVector": {"n": 2},
    "Rescaling": {"scale": 0.5}, "Reshape": {"target_shape": [2]},
    "DepthwiseConv1D": {"kernel_size": 3}, "DepthwiseConv2D": {"kernel_size": 3},
}
for _name in ("Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
              "SeparableConv1D", "SeparableConv2D"):
    ARGS[_name] = {"filters": 2, "kernel_size": 3}
for _name in ("AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "MaxPooling1D", "MaxPooling2D",
              "MaxPooling3D"):
    ARGS[_name] = {"pool_size": 2}  # Keras 3 has no default pool_size
for _name in ("SimpleRNN", "LSTM", "GRU", "SimpleRNNCell", "LSTMCell", "GRUCell"):
    ARGS[_name] = {"units": 2}
#: Wrappers: their argument is a layer (built in the same library); name -> (argument, class, its args).
ARGS["Embedding"] = ARGS["ReversibleEmbedding"] = {"input_dim": 5, "output_dim": 2}
ARGS.update({  # classes outside CLASSES that need arguments (recorded for layers kerastorch may add)
    "GroupQueryAttention": {"head_dim": 2, "num_query_heads": 2, "num_key_value_heads": 1},
    "CategoryEncoding": {"num_tokens": 3}, "Discretization": {"bin_boundaries": [0.0]},
    "Hashing": {"num_bins": 3}, "HashedCrossing": {"num_bins": 3},
    "RandomTranslation": {"height_factor": 0.1, "width_factor": 0.1}, "RandomZoom": {"height_factor": 0.1},
    "MaxNumBoundingBoxes": {"max_number": 2},
    "RandomPosterization": {"factor": 4},
    "Pipeline": {"layers": []},
})
WRAPPED = {"RNN": ("cell", "LSTMCell", {"units": 2}), "TimeDistributed": ("layer", "Dense", {"units": 2}), "Bidirectional": ("layer", "LSTM", {"units": 2}),
           "StackedRNNCells": ("cells", "SimpleRNNCell", {"units": 2})}
INPUT_ARGS = {"keras3": {"shape": [4]}, "tf_keras": {"input_shape": [4]}}

#: (source, class, args, input shape): non-default arguments whose config and output are recorded.
VARIANTS = [
    ("keras3", "ZeroPadding1D", {"padding": [1, 2], "data_format": "channels_first"}, (1, 2, 3)),
    ("keras3", "ZeroPadding1D", {"padding": [2, 0], "data_format": "channels_last"}, (1, 3, 2)),
    ("keras3", "GlobalAveragePooling1D", {"data_format": "channels_first"}, (1, 2, 3)),
    ("keras3", "Flatten", {"data_format": "channels_first"}, (1, 2, 3, 2)),
]


def _record(lib, source, class_name, args, input_shape=None):
    fresh_session(lib)
    kwargs = dict(args)
    if class_name in WRAPPED:
        arg, inner, inner_args = WRAPPED[class_name]
        kwargs[arg] = getattr(lib.layers, inner)(**inner_args)
        if arg == "cells":
            kwargs[arg] = [kwargs[arg]]
        args = {arg: {"class_name": inner, "args": inner_args}}
    layer = getattr(lib.layers, class_name)(**kwargs)
    ser = lib.layers.serialize(layer)
    case = {"id": f"{source}/{class_name}", "source": source, "class_name": class_name, "args": args,
            "config": layer.get_config(),
            "serialized": {k: ser.get(k) for k in ("module", "class_name", "registered_name") if k in ser}}
    if input_shape is not None:
        x = np.arange(np.prod(input_shape), dtype="float32").reshape(input_shape) / 4.0
        case["id"] += "/" + ",".join(f"{k}={v}" for k, v in args.items())
        case["input"] = x
        case["output"] = np.asarray(layer(x))
    return case


def _bn_model(keras, policy):
    L = keras.layers
    inputs = keras.Input((4, 4, 3), name="image")
    x = L.Conv2D(4, 3, padding="same", dtype=policy, name="conv")(inputs)
    x = L.BatchNormalization(dtype=policy, name="bn_fused")(x)
    x = L.ReLU(dtype=policy, name="relu")(x)
    x = L.BatchNormalization(axis=2, dtype=policy, name="bn_axis2")(x)
    x = L.GlobalAveragePooling2D(dtype=policy, name="gap")(x)
    x = L.Dense(3, dtype=policy, name="dense")(x)
    outputs = L.BatchNormalization(dtype=policy, name="bn_2d")(x)
    return keras.Model(inputs, outputs, name=f"bn_{policy}")


def record_bn_mixed(out_dir, keras):
    from .models import apply_fill

    x = np.random.default_rng(7).standard_normal((3, 4, 4, 3)).astype("float32")
    tensors, cases = {"input": x}, []
    for i, policy in enumerate(("mixed_float16", "mixed_bfloat16")):
        fresh_session(keras)
        model = _bn_model(keras, policy)
        apply_fill(model, 100 + i)
        weights = [np.asarray(w) for w in model.get_weights()]
        eval_out = np.asarray(keras.ops.convert_to_numpy(model(x, training=False)))
        train_out = np.asarray(keras.ops.convert_to_numpy(model(x, training=True)))
        for j, w in enumerate(weights):
            tensors[f"{policy}.weight.{j}"] = w
        tensors[f"{policy}.eval"] = eval_out.astype("float32")  # exact: every half value is a float32
        tensors[f"{policy}.train"] = train_out.astype("float32")
        cases.append({"policy": policy, "config": json.loads(model.to_json()), "weights": len(weights),
                      "output_dtype": str(eval_out.dtype)})
    write_json(os.path.join(out_dir, "bn_mixed_precision.json"),
               {"versions": versions("tensorflow", "keras"), "cases": cases})
    save_safetensors(tensors, os.path.join(out_dir, "bn_mixed_precision.safetensors"))


#: Tried in order for a layer class outside ``CLASSES`` (the first that constructs is recorded).
FALLBACK_ARGS = [{}, {"units": 2}, {"output_size": 2}, {"filters": 2, "kernel_size": 3}, {"num_heads": 2, "key_dim": 2},
                 {"equation": "ab,bc->ac", "output_shape": 2}, {"rate": 0.5}, {"factor": 0.5}, {"height": 2, "width": 2},
                 {"layer": ("Dense", {"units": 2})}, {"cell": ("LSTMCell", {"units": 2})}]


def _layer_classes(lib):
    """Every layer class the library's ``layers`` namespace exports, by name."""
    return sorted(n for n in dir(lib.layers) if isinstance(getattr(lib.layers, n), type)
                  and issubclass(getattr(lib.layers, n), lib.layers.Layer) and n[0].isupper())


def _try_fallbacks(lib, source, class_name):
    if class_name in ARGS or class_name in WRAPPED:
        try:
            return _record(lib, source, class_name, ARGS.get(class_name, {}))
        except Exception:  # noqa: BLE001 - e.g. ReversibleEmbedding's arguments in tf.keras
            pass
    for args in FALLBACK_ARGS:
        kwargs = {k: getattr(lib.layers, v[0])(**v[1]) if isinstance(v, tuple) else v for k, v in args.items()}
        try:
            fresh_session(lib)
            getattr(lib.layers, class_name)(**kwargs).get_config()
        except Exception:  # noqa: BLE001 - try the next argument set
            continue
        if any(isinstance(v, tuple) for v in args.values()):
            key, (inner, inner_args) = next(iter(args.items()))
            WRAPPED[class_name] = (key, inner, inner_args)
            return _record(lib, source, class_name, {})
        return _record(lib, source, class_name, args)
    return None


def main(out_dir):
    tf, tf_keras, keras = imports()
    cases, namespace, unbuilt = [], {}, {}
    for source, lib in (("keras3", keras), ("tf_keras", tf_keras)):
        namespace[source] = _layer_classes(lib)
        unbuilt[source] = []
        for class_name in CLASSES:
            if not hasattr(lib.layers, class_name):  # Keras 3: no ThresholdedReLU; tf.keras: no ReversibleEmbedding
                continue
            args = INPUT_ARGS[source] if class_name == "InputLayer" else ARGS.get(class_name, {})
            cases.append({**_record(lib, source, class_name, args), "audited": True})
        for class_name in namespace[source]:  # the rest: recorded for layers kerastorch may add later
            if class_name in CLASSES or class_name in ("Layer", "Lambda", "InputSpec", "Wrapper"):
                continue
            case = _try_fallbacks(lib, source, class_name)
            if case is None:
                unbuilt[source].append(class_name)
            else:
                cases.append({**case, "audited": False})
    for source, class_name, args, shape in VARIANTS:
        cases.append(_record(keras if source == "keras3" else tf_keras, source, class_name, args, shape))
    doc = {"versions": versions("tensorflow", "tf_keras", "keras"), "namespace": namespace, "unbuilt": unbuilt,
           "cases": cases}
    # one case per line: compact, and a regenerated file diffs case by case
    doc = jsonable(doc)
    lines = [json.dumps(c, separators=(",", ":"), allow_nan=False) for c in doc["cases"]]
    with open(os.path.join(out_dir, "layer_configs.json"), "w") as f:
        f.write('{"versions":%s,\n"namespace":%s,\n"unbuilt":%s,\n"cases":[\n%s\n]}\n' % (
            json.dumps(doc["versions"]), json.dumps(doc["namespace"]), json.dumps(doc["unbuilt"]), ",\n".join(lines)))
    record_bn_mixed(out_dir, keras)
    return {"cases": len(cases)}
