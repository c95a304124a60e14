"""tf.keras Flatten / Reshape / Permute / RepeatVector cases and errors (``layer_cases.record_family``), plus
one Conv2D -> Flatten -> Dense model (``flatten_model.json`` + ``flatten_model_tensors.safetensors``) whose
weights prove that Flatten's channels-last order lets a Keras Dense kernel be used unchanged.

Only these four classes: UpSampling/ZeroPadding/Cropping are recorded by ``gen/conv_family.py``.
"""
from __future__ import annotations

import os

import numpy as np

from .common import fresh_session, import_tf, save_safetensors, write_json
from .layer_cases import Case, Err, record_family


def flatten():
    cases = [
        Case({}, [2, 3, 4]),
        Case({}, [2, 3, 4, 5]),
        Case({}, [2, 5], group="rank2"),
        Case({}, [2], group="rank1"),
        Case({}, [2, 2, 3, 2, 2], group="rank5"),
        Case(dict(data_format="channels_first"), [2, 3, 4, 5], group="channels_first"),
        Case(dict(data_format="channels_first"), [2, 3, 4], group="channels_first"),
        Case(dict(data_format="channels_first"), [2, 3], group="channels_first"),
        Case(dict(data_format="channels_first"), [2, 2, 3, 2, 2], group="channels_first"),
        Case(dict(data_format="channels_last"), [2, 1, 1, 1]),
        Case({}, [2, 3, 4], dtype="float64", group="float64"),
        Case({}, [2, 3, 4], dtype="int32", inputs="int", group="int"),
        Case(dict(data_format="channels_first", dtype="float64"), [2, 3, 2, 2], dtype="float64", group="dtype"),
    ]
    errors = [
        Err("init", dict(data_format="channels_middle")),
        Err("call", {}, []),
    ]
    return cases, errors


def reshape():
    cases = [
        Case(dict(target_shape=(3, 4)), [2, 12]),
        Case(dict(target_shape=(-1, 2)), [2, 12]),
        Case(dict(target_shape=(2, -1, 2)), [2, 12]),
        Case(dict(target_shape=(12,)), [2, 3, 4]),
        Case(dict(target_shape=(1, 12)), [2, 12]),
        Case(dict(target_shape=(4, 3)), [2, 3, 4]),
        Case(dict(target_shape=(-1,)), [2, 3, 4]),
        Case(dict(target_shape=(2, 2, 3)), [2, 3, 4]),
        Case(dict(target_shape=[1, 2, 1, 3]), [2, 6], group="list"),
        Case(dict(target_shape=(3, -1)), [2, 3, 4], dtype="float64", group="float64"),
        Case(dict(target_shape=(6, 2)), [2, 3, 4], dtype="int32", inputs="int", group="int"),
    ]
    errors = [
        Err("compute_output_shape", dict(target_shape=(5,)), [2, 12]),
        Err("compute_output_shape", dict(target_shape=(-1, 5)), [2, 12]),
        Err("compute_output_shape", dict(target_shape=(-1, -1)), [2, 12]),
        Err("compute_output_shape", dict(target_shape=(0, -1)), [2, 12]),
        Err("call", dict(target_shape=(5,)), [2, 12]),
        Err("call", dict(target_shape=(-1, 5)), [2, 12]),
        Err("call", dict(target_shape=(-2, 6)), [2, 12]),
        Err("call", dict(target_shape=(3, 4)), [2, 3, 5]),
    ]
    return cases, errors


def permute():
    cases = [
        Case(dict(dims=(2, 1)), [2, 3, 4]),
        Case(dict(dims=(1, 2)), [2, 3, 4]),
        Case(dict(dims=(3, 1, 2)), [2, 3, 4, 5]),
        Case(dict(dims=(2, 3, 1)), [2, 3, 4, 5]),
        Case(dict(dims=(1, 3, 2)), [2, 3, 4, 5]),
        Case(dict(dims=(1,)), [2, 3]),
        Case(dict(dims=(4, 2, 3, 1)), [2, 2, 3, 2, 3]),
        Case(dict(dims=[2, 1]), [2, 1, 5], group="list"),
        Case(dict(dims=(2, 1)), [2, 3, 4], dtype="float64", group="float64"),
        Case(dict(dims=(2, 1)), [2, 3, 4], dtype="int32", inputs="int", group="int"),
    ]
    errors = [
        Err("init", dict(dims=(1, 3))),
        Err("init", dict(dims=(0, 1))),
        Err("init", dict(dims=(2, 2))),
        Err("call", dict(dims=(2, 1)), [2, 3, 4, 5]),
        Err("init", dict(dims=(1, 2, 4))),
        Err("compute_output_shape", dict(dims=(2, 1)), [2, 3]),
    ]
    return cases, errors


def repeat_vector():
    cases = [
        Case(dict(n=1), [2, 4]),
        Case(dict(n=2), [2, 4]),
        Case(dict(n=3), [2, 4]),
        Case(dict(n=3), [2, 1]),
        Case(dict(n=5), [3, 5]),
        Case(dict(n=4), [2, 3]),
        Case(dict(n=2), [1, 6]),
        Case(dict(n=0), [2, 4], group="zero"),
        Case(dict(n=3), [2, 4], dtype="float64", group="float64"),
        Case(dict(n=2), [2, 4], dtype="int32", inputs="int", group="int"),
    ]
    errors = [
        Err("init", dict(n=2.5)),
        Err("init", dict(n="3")),
        Err("call", dict(n=2), [2, 3, 4]),
        Err("call", dict(n=-1), [2, 3]),
    ]
    return cases, errors


def flatten_model(out_dir):
    """Conv2D -> Flatten -> Dense in tf.keras (channels_last), and Permute -> Flatten(channels_first) -> Dense."""
    tf, tf_keras = import_tf()
    L = tf_keras.layers
    rng = np.random.default_rng(77)
    tensors, records = {}, []
    for key, data_format in (("cl", "channels_last"), ("cf", "channels_first")):
        fresh_session(tf_keras, seed=77)
        x = rng.standard_normal((2, 4, 5, 3)).astype("float32")
        layers = [L.Conv2D(4, 3, name="conv")]
        if data_format == "channels_first":
            layers.append(L.Permute((3, 1, 2), name="to_nchw"))  # (2, 4, 2, 3): channels first
        layers += [L.Flatten(data_format=data_format, name="flatten"), L.Dense(3, name="dense")]
        model = tf_keras.Sequential(layers)
        model.build((None, 4, 5, 3))
        weights = [(0.5 * rng.standard_normal(w.shape)).astype("float32") for w in model.get_weights()]
        model.set_weights(weights)
        y = model(tf.constant(x)).numpy()
        tensors[f"{key}.input"] = x
        for name, w in zip(["conv.kernel", "conv.bias", "dense.kernel", "dense.bias"], weights):
            tensors[f"{key}.{name}"] = w
        tensors[f"{key}.output"] = y
        records.append({"id": key, "data_format": data_format, "layers": [l.get_config() for l in layers],
                        "output_shape": list(y.shape)})
    write_json(os.path.join(out_dir, "flatten_model.json"), records)
    save_safetensors(tensors, os.path.join(out_dir, "flatten_model_tensors.safetensors"))
    return {"flatten_model": len(records)}


def main(out_dir):
    counts = record_family(out_dir, {
        "Flatten": flatten(), "Reshape": reshape(), "Permute": permute(), "RepeatVector": repeat_vector(),
    }, seed=510)
    counts.update(flatten_model(out_dir))
    return counts
