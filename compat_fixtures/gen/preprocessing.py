"""tf.keras Rescaling and Normalization cases and errors (``layer_cases.record_family``), plus
``Normalization.adapt`` results (``normalization_adapt.json`` + ``normalization_adapt_tensors.safetensors``:
the data, the adapted mean/variance/count, the output on the data and the config after adapt), plus one small
saved model holding them with the activation and reshaping layers (``preprocessing_model.tf.h5``,
``preprocessing_model.tf.keras`` from tf.keras, ``preprocessing_model.k3.keras`` from Keras 3, and
``preprocessing_model_tensors.safetensors``: the input and each file's output). The ``.keras`` archives embed
their save date, so they differ byte-wise run to run."""
from __future__ import annotations

import os

import numpy as np

from .common import fresh_session, import_tf, jsonable, save_safetensors, write_json
from .layer_cases import Case, Err, record_family


def rescaling():
    cases = [
        Case(dict(scale=1.0 / 255), [2, 3, 4, 3], dtype="uint8", inputs="int", group="int"),
        Case(dict(scale=1.0 / 127.5, offset=-1.0), [2, 3, 3], dtype="int32", inputs="int", group="int"),
        Case(dict(scale=2.0, offset=-1.0), [2, 3, 4]),
        Case(dict(scale=0.5), [2, 3, 4, 2]),
        Case(dict(scale=[1.0, 2.0, 3.0]), [2, 4, 3], group="per_channel"),
        Case(dict(scale=[0.5, 0.25, 2.0], offset=[0.1, 0.2, 0.3]), [2, 2, 2, 3], group="per_channel"),
        Case(dict(scale=1.0, offset=[1.0, -1.0]), [2, 3, 2], group="per_channel"),
        Case(dict(scale=-0.3, offset=0.7), [2, 5]),
        Case(dict(scale=0.1, offset=0.2), [2, 3, 4], dtype="float64", group="float64"),
        Case(dict(scale=0.1, offset=0.2, dtype="float64"), [2, 3, 4], dtype="int32", inputs="int", group="dtype"),
        Case(dict(scale=3, offset=1), [2, 3], dtype="int32", inputs="int", group="int"),
    ]
    errors = [Err("call", dict(scale=[1.0, 2.0]), [2, 3, 3]), Err("call", dict(scale=1.0, offset=[1.0, 2.0, 3.0, 4.0]), [2, 3])]
    return cases, errors


def normalization():
    cases = [
        Case(dict(mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 9.0]), [2, 4, 3], group="static"),
        Case(dict(axis=None, mean=2.0, variance=4.0), [2, 3], group="static"),
        Case(dict(axis=(1, 2), mean=0.5, variance=2.0), [2, 3, 2], group="static"),
        Case(dict(mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 9.0], invert=True), [2, 3], group="static"),
        Case(dict(axis=None, mean=1.0, variance=0.0), [2, 3], group="static"),
        Case({}, [2, 4, 3], group="adapted"),
        Case(dict(axis=None), [2, 3], group="adapted"),
        Case(dict(axis=(1, 2)), [2, 3, 2], group="adapted"),
        Case(dict(axis=1), [2, 3, 4], group="adapted"),
        Case(dict(invert=True), [2, 3], group="adapted"),
        Case(dict(axis=-2), [2, 3, 2], dtype="float64", group="float64"),
        Case(dict(mean=[1.0, 2.0], variance=[2.0, 3.0]), [2, 2], dtype="float64", group="float64"),
        Case({}, [2, 3], dtype="int32", inputs="int", group="int"),
        Case(dict(axis=-1, dtype="float64"), [2, 3], group="dtype"),
    ]
    errors = [
        Err("init", dict(mean=1.0)),
        Err("init", dict(variance=1.0)),
        Err("build", dict(axis=2), [2, 3]),
        Err("build", dict(axis=-3), [2, 3]),
        Err("build", dict(axis=1), [2, None]),
        Err("build", dict(mean=[1.0, 2.0], variance=[1.0, 1.0]), [2, 3]),
        Err("init", dict(axis=1.5)),
        Err("build", dict(axis=(0,)), [2, 3]),
        Err("build", dict(axis=None, mean=[1.0, 2.0], variance=[1.0, 1.0]), [2, 2]),
    ]
    return cases, errors


ADAPT = [
    ("a0", dict(axis=-1), (40, 3), None),
    ("a1", dict(axis=None), (10, 4), None),
    ("a2", dict(axis=(1, 2)), (50, 2, 3), 16),
    ("a3", dict(axis=1), (7, 3, 2), 3),
    ("a4", dict(axis=-1, invert=True), (33, 2), None),
]


def adapt_records(out_dir):
    tf, tf_keras = import_tf()
    rng = np.random.default_rng(530)
    records, tensors = [], {}
    for key, args, shape, batch_size in ADAPT:
        fresh_session(tf_keras, seed=530)
        data = (3.0 * rng.standard_normal(shape) + 1.5).astype("float32")
        layer = tf_keras.layers.Normalization(**args)
        layer.adapt(data, batch_size=batch_size)
        y = layer(tf.constant(data)).numpy()
        tensors[f"{key}.data"] = data
        tensors[f"{key}.output"] = y
        for v in layer.weights:
            tensors[f"{key}.{v.name.split(':')[0].split('/')[-1]}"] = np.asarray(v.numpy())
        records.append({"id": key, "args": jsonable(args), "shape": list(shape), "batch_size": batch_size,
                        "weight_names": [v.name.split(':')[0].split('/')[-1] for v in layer.weights],
                        "config": jsonable(layer.get_config())})
    write_json(os.path.join(out_dir, "normalization_adapt.json"), records)
    save_safetensors(tensors, os.path.join(out_dir, "normalization_adapt_tensors.safetensors"))
    return {"normalization_adapt": len(records)}


def saved_models(out_dir):
    """Rescaling -> adapted Normalization -> Conv2D -> PReLU -> Permute -> Flatten(channels_first) -> Reshape ->
    Flatten -> RepeatVector -> Flatten -> Dense -> LeakyReLU -> ReLU -> ELU -> Softmax -> static Normalization,
    saved by tf.keras (.h5 and .keras) and by Keras 3 (.keras)."""
    tf, tf_keras = import_tf()
    from .common import import_keras3

    keras = import_keras3()
    rng = np.random.default_rng(531)
    x = (rng.random((4, 6, 6, 3)) * 255).astype("float32")
    tensors = {"input": x}
    for lib, tag in ((tf_keras, "tf"), (keras, "k3")):
        fresh_session(lib, seed=531)
        L = lib.layers
        norm = L.Normalization(axis=-1)
        norm.adapt(x / 255.0)
        model = lib.Sequential([
            lib.Input((6, 6, 3)), L.Rescaling(1 / 255.0), norm, L.Conv2D(4, 3), L.PReLU(shared_axes=[1, 2]),
            L.Permute((3, 1, 2)), L.Flatten(data_format="channels_first"), L.Reshape((8, -1)), L.Flatten(),
            L.RepeatVector(2), L.Flatten(), L.Dense(5), L.LeakyReLU(), L.ReLU(max_value=6.0), L.ELU(), L.Softmax(),
            L.Normalization(mean=0.2, variance=0.1, axis=None),
        ])
        for w in model.weights:
            if "alpha" in w.name:
                w.assign((0.3 * rng.standard_normal(tuple(w.shape))).astype("float32"))
        tensors[f"{tag}.output"] = model(tf.constant(x)).numpy()
        if tag == "tf":
            model.save(os.path.join(out_dir, "preprocessing_model.tf.h5"))
        model.save(os.path.join(out_dir, f"preprocessing_model.{tag}.keras"))
    save_safetensors(tensors, os.path.join(out_dir, "preprocessing_model_tensors.safetensors"))
    return {"preprocessing_model": 3}


def main(out_dir):
    counts = record_family(out_dir, {"Rescaling": rescaling(), "Normalization": normalization()}, seed=530)
    counts.update(adapt_records(out_dir))
    counts.update(saved_models(out_dir))
    return counts
