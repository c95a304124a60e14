"""Regularization layers (Dropout, SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout, AlphaDropout,
ActivityRegularization) recorded from real tf.keras 2.21 and Keras 3 by ``layer_cases.record_family``.

Random layers cannot be compared draw for draw (TF's generator is not torch's), so the recorded calls are
the deterministic ones: inference (``training=False``), training calls that draw nothing (``rate=0``,
``stddev=0``, and the ``rate`` values tf.keras turns into the identity), and ActivityRegularization's
losses in both modes. Training behaviour is proven by properties in ``tests/regularization``.

Besides the ``Err`` cases (init / build / call without ``training``, i.e. inference), this records
``regularization_training_errors.json``: calls with ``training=True`` that tf.keras refuses only when it
draws (``rate=1``, integer inputs, a ``noise_shape`` that does not broadcast), or accepts; each record has
``class, args, input_shape, dtype, keras_error_type, keras_message, keras_output_shape`` and the same
``keras3_*`` fields.
"""
from __future__ import annotations

import json
import os

import numpy as np

from .common import fresh_session, import_keras3, import_tf, try_call, write_json
from .layer_cases import Case, Err, first_line, record_family, snake_name

F = dict(training=False)
T = dict(training=True)


def _dropout():
    cases = [
        Case(dict(rate=0.5), [2, 3, 4], **F),
        Case(dict(rate=0.0), [2, 3, 4], **T, group="rate0"),
        Case(dict(rate=0), [2, 5], **T, group="rate0"),
        Case(dict(rate=0.3, noise_shape=[None, 1, 4]), [2, 3, 4], **F, group="noise_shape"),
        Case(dict(rate=0.0, noise_shape=[2, 1, 3]), [2, 4, 3], **T, group="noise_shape"),
        Case(dict(rate=1.0), [2, 3], **F, group="rate1"),
        Case(dict(rate=0.5, seed=7), [2, 3, 2], dtype="float64", **F),
        Case(dict(rate=0.2), [2, 3, 3, 2], **F),
        Case(dict(rate=0.9), [5], **F),
        Case(dict(rate=0.5, input_shape=[3]), [2, 3], **F),
        Case(dict(rate=0.0), [2, 2, 2, 2, 2], dtype="float64", **T, group="rate0"),
        Case(dict(rate=0.25, noise_shape=(1, 3)), [2, 3], **F, group="noise_shape"),
    ]
    errors = [
        Err("init", dict(rate=1.5)),
        Err("init", dict(rate=-0.1)),
        Err("init", dict(rate=2)),
        Err("init", dict(rate="a")),  # tf.keras: accepted until a training call
        Err("init", dict(rate=0.5, noise_shape="abc")),
        Err("init", dict(rate=0.5, noise_shape=[2, 0, 3])),
        Err("init", dict(rate=0.5, noise_shape=[2, 1.5])),
        Err("init", dict(rate=0.5, seed="x")),
        Err("init", dict(rate=0.5, foo=1)),
        Err("call", dict(rate=0.5, noise_shape=[2, 2, 4]), [2, 3, 4]),  # inference: tf.keras accepts
        Err("compute_output_shape", dict(rate=0.5), [None, 3, 4]),
    ]
    return cases, errors


def _spatial(rank):
    cls_shape = {1: [2, 5, 3], 2: [2, 4, 3, 3], 3: [2, 3, 2, 3, 2]}[rank]
    cf = {} if rank == 1 else dict(data_format="channels_first")
    cl = {} if rank == 1 else dict(data_format="channels_last")
    other = {1: [2, 3, 4], 2: [2, 2, 5, 4], 3: [2, 2, 2, 2, 3]}[rank]
    cases = [
        Case(dict(rate=0.5), cls_shape, **F),
        Case(dict(rate=0.0), cls_shape, **T, group="rate0"),
        Case(dict(rate=0.0, **cf), other, **T, group="rate0"),
        Case(dict(rate=0.5, **cf), other, **F),
        Case(dict(rate=0.3, **cl), other, **F),
        Case(dict(rate=1.0), cls_shape, **F, group="rate1"),
        Case(dict(rate=0.2, seed=3), cls_shape, dtype="float64", **F),
        Case(dict(rate=0), other, dtype="float64", **T, group="rate0"),
        Case(dict(rate=0.7, input_shape=cls_shape[1:]), cls_shape, **F),
        Case(dict(rate=0.4, **cf), cls_shape, **F),
        Case(dict(rate=0.1, noise_shape=None), cls_shape, **F),
    ]
    errors = [
        Err("init", dict(rate=1.5)),
        Err("init", dict(rate=-1)),
        Err("init", dict(rate="x")),
        Err("call", dict(rate=0.5), cls_shape[:-1]),
        Err("call", dict(rate=0.5), cls_shape + [2]),
        Err("build", dict(rate=0.5), cls_shape[:-1]),
        Err("init", dict(rate=0.5, noise_shape=[1] * (rank + 2))),  # tf.keras: accepted and ignored
        Err("init", dict(rate=0.5, foo=1)),
    ]
    if rank > 1:
        errors += [Err("init", dict(rate=0.5, data_format="NHWC")),
                   Err("init", dict(rate=0.5, data_format="Channels_First")),
                   Err("init", dict(rate=0.5, data_format="channels_middle"))]
    else:
        errors += [Err("init", dict(rate=0.5, data_format="channels_first"))]
    return cases, errors


def _gaussian_noise():
    cases = [
        Case(dict(stddev=0.1), [2, 3, 4], **F),
        Case(dict(stddev=0.0), [2, 3, 4], **T, group="stddev0"),
        Case(dict(stddev=0), [2, 5], **T, group="stddev0"),
        Case(dict(stddev=2.0), [2, 3], **F),
        Case(dict(stddev=0.5, seed=1), [2, 3, 2], dtype="float64", **F),
        Case(dict(stddev=0.3), [2, 3, 3, 2], **F),
        Case(dict(stddev=0.3), [4], **F),
        Case(dict(stddev=0.3, input_shape=[3]), [2, 3], **F),
        Case(dict(stddev=0.0), [2, 2, 2, 2, 2], dtype="float64", **T, group="stddev0"),
        Case(dict(stddev=1.0), [2, 4], **F),
    ]
    errors = [
        Err("init", dict(stddev=-0.5)),  # tf.keras: accepted
        Err("init", dict(stddev="a")),   # tf.keras: accepted
        Err("init", dict(stddev=0.1, foo=1)),
        Err("init", dict(stddev=0.1, seed=1.5)),
        Err("call", dict(stddev=0.1), [2, 3]),
        Err("compute_output_shape", dict(stddev=0.1), [None, 3]),
    ]
    return cases, errors


def _gaussian_dropout():
    cases = [
        Case(dict(rate=0.5), [2, 3, 4], **F),
        Case(dict(rate=0.0), [2, 3, 4], **T, group="rate0"),
        Case(dict(rate=0), [2, 5], **T, group="rate0"),
        Case(dict(rate=1.0), [2, 3], **T, group="rate1"),  # tf.keras: the identity
        Case(dict(rate=1), [2, 3], **F, group="rate1"),
        Case(dict(rate=0.1, seed=4), [2, 3, 2], dtype="float64", **F),
        Case(dict(rate=0.3), [2, 3, 3, 2], **F),
        Case(dict(rate=0.3), [4], **F),
        Case(dict(rate=0.3, input_shape=[3]), [2, 3], **F),
        Case(dict(rate=0.0), [2, 2, 2, 2, 2], dtype="float64", **T, group="rate0"),
        Case(dict(rate=0.9), [2, 4], **F),
    ]
    errors = [
        Err("init", dict(rate=1.5)),   # tf.keras: accepted (the identity)
        Err("init", dict(rate=-0.5)),  # tf.keras: accepted (the identity)
        Err("init", dict(rate="a")),
        Err("init", dict(rate=0.1, foo=1)),
        Err("call", dict(rate=0.1), [2, 3]),
    ]
    return cases, errors


def _alpha_dropout():
    cases = [
        Case(dict(rate=0.5), [2, 3, 4], **F),
        Case(dict(rate=0.0), [2, 3, 4], **T, group="rate0"),
        Case(dict(rate=0), [2, 5], **T, group="rate0"),
        Case(dict(rate=1.0), [2, 3], **T, group="rate1"),  # tf.keras: the identity
        Case(dict(rate=1), [2, 3], **F, group="rate1"),
        Case(dict(rate=0.1, seed=4), [2, 3, 2], dtype="float64", **F),
        Case(dict(rate=0.3), [2, 3, 3, 2], **F),
        Case(dict(rate=0.3), [4], **F),
        Case(dict(rate=0.3, input_shape=[3]), [2, 3], **F),
        Case(dict(rate=0.0), [2, 2, 2, 2, 2], dtype="float64", **T, group="rate0"),
        # tf.keras's config drops noise_shape (kerastorch keeps it): the test reads these two apart
        Case(dict(rate=0.2, noise_shape=[2, 1, 4]), [2, 3, 4], **F, group="noise_shape"),
        Case(dict(rate=0.0, noise_shape=[2, 1, 4]), [2, 3, 4], **T, group="noise_shape"),
    ]
    errors = [
        Err("init", dict(rate=1.5)),
        Err("init", dict(rate=-0.5)),
        Err("init", dict(rate="a")),
        Err("init", dict(rate=0.5, noise_shape="abc")),
        Err("init", dict(rate=0.5, noise_shape=[2, -1])),
        Err("init", dict(rate=0.1, foo=1)),
        Err("call", dict(rate=0.5, noise_shape=[2, 2, 4]), [2, 3, 4]),  # inference: tf.keras accepts
    ]
    return cases, errors


def _activity_regularization():
    cases = [
        Case(dict(l1=0.1, l2=0.2), [2, 3, 4], **T),
        Case(dict(l1=0.1, l2=0.2), [2, 3, 4], **F),
        Case(dict(l1=0.1, l2=0.2), [2, 3, 4]),
        Case(dict(), [2, 3], **T, group="defaults"),
        Case(dict(l1=0.01), [2, 5], **T),
        Case(dict(l2=0.5), [2, 5], **F),
        Case(dict(l1=1, l2=0), [1, 4], **T),
        Case(dict(l1=0.3, l2=0.7), [3, 2, 2, 2], dtype="float64", **T),
        Case(dict(l1=0.05, l2=0.05), [2, 2, 2, 2, 2], **T),
        Case(dict(l1=0.2, input_shape=[3]), [4, 3], **T),
        Case(dict(l1=1e-3, l2=1e-4), [2, 6], inputs="positive", **T),
    ]
    errors = [
        Err("init", dict(l1="a")),
        Err("init", dict(l2=None, l1="0.1")),
        Err("init", dict(l2=float("inf"))),
        Err("init", dict(l1=0.1, foo=1)),
        Err("init", dict(l1=0.1, activity_regularizer="l2")),
        Err("call", dict(l1=0.1), [2, 3], dtype="int32"),
        Err("compute_output_shape", dict(l1=0.1), [None, 3]),
    ]
    return cases, errors


TRAINING_ERRORS = [
    ("Dropout", dict(rate=1.0), [2, 3], "float32"),
    ("Dropout", dict(rate=0.5), [2, 3], "int32"),
    ("Dropout", dict(rate=0.0), [2, 3], "int32"),
    ("Dropout", dict(rate=0.5, noise_shape=[2, 2, 4]), [2, 3, 4], "float32"),
    ("Dropout", dict(rate=0.5, noise_shape=[2, 3]), [2, 3, 4], "float32"),
    ("Dropout", dict(rate=0.5, noise_shape=[3, 3, 4]), [2, 3, 4], "float32"),
    ("Dropout", dict(rate=0.5, noise_shape=[3, 1]), [2, 3, 4], "float32"),  # a broadcastable lower rank
    ("Dropout", dict(rate=0.5, noise_shape=[1, 3, 1]), [2, 3, 4], "float32"),
    ("SpatialDropout1D", dict(rate=1.0), [2, 3, 4], "float32"),
    ("SpatialDropout2D", dict(rate=0.5), [2, 3, 3, 2], "int32"),
    ("GaussianNoise", dict(stddev=0.5), [2, 3], "int32"),
    ("GaussianDropout", dict(rate=0.5), [2, 3], "int32"),
    ("AlphaDropout", dict(rate=0.5, noise_shape=[2, 2, 4]), [2, 3, 4], "float32"),
    ("AlphaDropout", dict(rate=0.5, noise_shape=[None, 1, 4]), [2, 3, 4], "float32"),
    ("AlphaDropout", dict(rate=0.5), [2, 3], "int32"),
]


def _training_errors():
    tf, tf_keras = import_tf()
    keras3 = import_keras3()
    out = []
    for i, (cls, args, shape, dtype) in enumerate(TRAINING_ERRORS):
        args = {**args, "name": snake_name(cls)}
        rec = {"id": f"t{i:03d}", "class": cls, "args": json.loads(json.dumps(args)), "input_shape": shape, "dtype": dtype}
        for prefix, mod in (("keras", tf_keras), ("keras3", keras3)):
            def go(mod=mod):
                fresh_session(mod, seed=1)
                return list(getattr(mod.layers, cls)(**args)(tf.constant(np.ones(shape, dtype)), training=True).shape)

            with tf.device("/CPU:0"):
                et, em, y = try_call(go)
            rec[f"{prefix}_error_type"] = et
            rec[f"{prefix}_message"] = first_line(et, em).split(": ", 1)[1] if et else None
            rec[f"{prefix}_output_shape"] = y
        out.append(rec)
    return out


def main(out_dir):
    counts = record_family(out_dir, {
        "Dropout": _dropout(),
        "SpatialDropout1D": _spatial(1),
        "SpatialDropout2D": _spatial(2),
        "SpatialDropout3D": _spatial(3),
        "GaussianNoise": _gaussian_noise(),
        "GaussianDropout": _gaussian_dropout(),
        "AlphaDropout": _alpha_dropout(),
        "ActivityRegularization": _activity_regularization(),
    }, seed=70)
    training = _training_errors()
    write_json(os.path.join(out_dir, "regularization_training_errors.json"), training)
    counts["training_errors"] = len(training)
    return counts
