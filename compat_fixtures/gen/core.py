"""Record the REAL tf.keras core layers: Dense, Activation, Identity, InputLayer.

Run (from the repository root, in the reference venv)::

    .venv-keras/bin/python compat_fixtures/generate.py --only core

Only data lives here; ``layer_cases.record_family`` calls ``tf_keras.layers.<Class>`` (and Keras 3) for every
case and writes ``<snake>_cases.json``, ``<snake>_tensors.safetensors`` and ``<snake>_errors.json``
(``dense``, ``activation``, ``identity``, ``input_layer``).  ``Lambda`` has no fixtures: its argument is a
Python function, which a JSON case cannot carry (its tests are ported from tf.keras / Keras 3).

Identity and InputLayer compute nothing, so their cases vary only what can matter: rank, dtype (float32,
float64, int32: identity keeps any dtype), the declared shape (InputLayer: ``input_shape``/``batch_size``/
``batch_input_shape``) and the config.
"""
from __future__ import annotations

from .layer_cases import Case, Err, record_family

L1 = {"class_name": "L1", "config": {"l1": 0.01}}
L2 = {"class_name": "L2", "config": {"l2": 0.02}}
L1L2 = {"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.01}}


def dense():
    cases = [
        Case(dict(units=3), [2, 4], group="rank2"),
        Case(dict(units=1), [2, 5], group="rank2"),
        Case(dict(units=4, use_bias=False), [2, 3], group="no_bias"),
        Case(dict(units=3), [2, 3, 4], group="rank3"),
        Case(dict(units=2, activation="relu"), [2, 3, 5], group="rank3"),
        Case(dict(units=3), [2, 2, 3, 4], group="rank4"),
        Case(dict(units=5, activation="tanh"), [2, 3, 2, 3], group="rank4"),
        Case(dict(units=2), [2, 2, 2, 2, 3], group="rank5"),
        Case(dict(units=3), [2, 4], dtype="float64", group="float64"),
        Case(dict(units=3, activation="sigmoid"), [2, 3, 4], dtype="float64", group="float64"),
        Case(dict(units=3, dtype="float64"), [2, 4], dtype="float64", group="float64"),
        Case(dict(units=3, activation="softmax"), [2, 4], group="activation"),
        Case(dict(units=3, activation="gelu"), [2, 4], group="activation"),
        Case(dict(units=3, activation="elu"), [2, 4], group="activation"),
        Case(dict(units=3, activation="swish"), [2, 4], group="activation"),
        Case(dict(units=3, activation="selu"), [2, 4], group="activation"),
        Case(dict(units=3, kernel_regularizer=L2, bias_regularizer=L1), [2, 4], group="regularizers"),
        Case(dict(units=3, activity_regularizer=L1L2), [2, 4], group="regularizers"),
        Case(dict(units=2, kernel_regularizer="l1", activity_regularizer="l2"), [2, 3, 4], group="regularizers"),
        Case(dict(units=3, kernel_constraint="non_neg", bias_constraint={"class_name": "MaxNorm", "config": {"max_value": 1.0}}),
             [2, 4], group="constraints"),
        Case(dict(units=3, kernel_initializer="he_normal", bias_initializer="ones"), [2, 4], group="initializers"),
        Case(dict(units=3), [2, 4], inputs="int", dtype="int32", group="int_input"),
        Case(dict(units=3, trainable=False), [2, 4], group="trainable"),
        Case(dict(units=2), [0, 4], group="empty_batch", grads=False),
    ]
    errors = [
        Err("init", dict(units=-1)),
        Err("init", dict(units=3, activation="nope")),
        Err("init", dict(units=3, kernel_initializer="nope")),
        Err("build", dict(units=3), [2, None]),
        Err("call", dict(units=3), [3]),
        Err("compute_output_shape", dict(units=3), [None, None]),
        Err("compute_output_shape", dict(units=3), [4]),
    ]
    return cases, errors


def activation():
    names = ["relu", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus", "softsign", "swish", "gelu",
             "hard_sigmoid", "exponential", "linear", "relu6", "log_softmax", "mish"]
    cases = [Case(dict(activation=a), [2, 3, 4], group="activation") for a in names]
    cases += [
        Case(dict(activation="relu"), [2, 5], dtype="float64", group="float64"),
        Case(dict(activation="softmax"), [2, 2, 2, 3], dtype="float64", group="float64"),
        Case(dict(activation=None), [2, 3], group="none"),
        Case(dict(activation="leaky_relu"), [2, 3], group="activation"),
    ]
    errors = [Err("init", dict(activation="nope")), Err("init", dict(activation=3))]
    return cases, errors


def identity():
    cases = [
        Case({}, [2, 3], group="rank2"),
        Case({}, [2, 3, 4], group="rank3"),
        Case({}, [2, 2, 3, 4], group="rank4"),
        Case({}, [2, 3], dtype="float64", group="float64"),
        Case({}, [2, 3], inputs="int", dtype="int32", group="int"),
        Case({}, [3], group="rank1"),
        Case({"dtype": "float64"}, [2, 3], group="dtype"),
        Case({}, [1, 2, 2, 2, 3], group="rank5"),
        Case({"name": "skip"}, [2, 3], group="config"),
        Case({"trainable": False}, [2, 2, 3], group="config"),
    ]
    return cases, []


def input_layer():
    cases = [
        Case(dict(input_shape=(3,)), [2, 3], group="input_shape"),
        Case(dict(input_shape=(3, 4)), [2, 3, 4], group="input_shape"),
        Case(dict(input_shape=(None, 4)), [2, 5, 4], group="none_dims"),
        Case(dict(input_shape=(2, 2, 3)), [2, 2, 2, 3], group="input_shape"),
        Case(dict(input_shape=(3,), batch_size=2), [2, 3], group="batch_size"),
        Case(dict(batch_input_shape=(None, 3)), [2, 3], group="batch_input_shape"),
        Case(dict(batch_input_shape=(2, None, 3)), [2, 4, 3], group="batch_input_shape"),
        Case(dict(input_shape=(3,), dtype="float64"), [2, 3], dtype="float64", group="dtype"),
        Case(dict(input_shape=(3,), optional=True), [2, 3], group="optional"),
        Case(dict(input_shape=3), [2, 3], group="int_shape"),
    ]
    errors = [
        Err("init", dict(input_shape=(3,), batch_input_shape=(None, 3))),
        Err("init", dict(input_shape=(3,), sparse=True, ragged=True)),
        Err("init", dict(input_shape=(3,), foo=1)),
    ]
    return cases, errors


def main(out_dir):
    return record_family(out_dir, {
        "Dense": dense(),
        "Activation": activation(),
        "Identity": identity(),
        "InputLayer": input_layer(),
    }, seed=40)
