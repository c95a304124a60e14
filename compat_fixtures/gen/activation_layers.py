"""tf.keras activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax, ThresholdedReLU (``layer_cases.record_family``).

The activation *functions* are recorded by ``gen/components.py``; these are the layers, their arguments,
configs and constructor/build errors.
"""
from __future__ import annotations

from .layer_cases import Case, Err, record_family

S = [2, 3, 4]


def relu():
    cases = [
        Case({}, S),
        Case(dict(max_value=6.0), S, inputs="normal", group="relu6"),
        Case(dict(max_value=1.5), S),
        Case(dict(max_value=0.0), S),
        Case(dict(negative_slope=0.1), S),
        Case(dict(threshold=0.5), S),
        Case(dict(max_value=1.0, negative_slope=0.2, threshold=0.3), S),
        Case(dict(max_value=0.8, negative_slope=0.5), S),
        Case(dict(negative_slope=0.25, threshold=0.1), [2, 3, 4, 2]),
        Case(dict(max_value=1.2, threshold=0.2), [2, 5]),
        Case(dict(max_value=1.0, negative_slope=0.2, threshold=0.3), S, dtype="float64", group="float64"),
        Case({}, S, dtype="float64", group="float64"),
        Case({}, S, dtype="int32", inputs="int", group="int"),
        Case(dict(max_value=6), S, group="int_arg"),
        Case(dict(max_value=1.0, negative_slope=0.2, threshold=0.3, dtype="float64"), S, dtype="float64",
             group="dtype"),
    ]
    errors = [
        Err("init", dict(max_value=-1.0)),
        Err("init", dict(negative_slope=-0.1)),
        Err("init", dict(threshold=-1.0)),
        Err("init", dict(negative_slope=None)),
        Err("init", dict(threshold=None)),
    ]
    return cases, errors


def leaky_relu():
    cases = [Case({}, S)] + [Case(dict(alpha=a), S) for a in (0.1, 0.0, 1.0, -0.5, 2.0, 0.01, 1e-3)] + [
        Case(dict(alpha=0.2), [2, 3, 4, 2]),
        Case(dict(alpha=0.3), S, dtype="float64", group="float64"),
        Case(dict(alpha=0.7), [2, 5], dtype="float64", group="float64"),
        Case(dict(alpha=0.2, dtype="float64"), S, dtype="float64", group="dtype"),
    ]
    errors = [Err("init", dict(alpha=None))]
    return cases, errors


def prelu():
    cases = [
        Case({}, S),
        Case(dict(shared_axes=[1, 2]), [2, 3, 4, 2]),
        Case(dict(shared_axes=1), S, group="int_axis"),
        Case(dict(shared_axes=[2]), S),
        Case({}, [2, 5]),
        Case(dict(alpha_initializer="ones"), S),
        Case(dict(alpha_regularizer="l2"), S, group="regularizer"),
        Case(dict(alpha_regularizer={"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.02}}), [2, 4], group="regularizer"),
        Case(dict(alpha_constraint="non_neg"), S, group="constraint"),
        Case(dict(alpha_initializer={"class_name": "Constant", "config": {"value": 0.25}}), S),
        Case(dict(shared_axes=[1, 2, 3]), [2, 2, 3, 2, 3]),
        Case(dict(shared_axes=(1,)), [2, 3, 4, 2], group="tuple_axis"),
        Case(dict(shared_axes=[1, 2]), [2, 3, 4, 2], dtype="float64", group="float64"),
        Case({}, S, dtype="float64", group="float64"),
        Case(dict(shared_axes=[1], dtype="float64"), S, dtype="float64", group="dtype"),
    ]
    errors = [
        Err("build", dict(shared_axes=[3]), [2, 3, 4]),
        Err("init", dict(alpha_initializer="not_an_initializer")),
        Err("init", dict(alpha_regularizer="not_a_regularizer")),
        Err("init", dict(alpha_constraint="not_a_constraint")),
        Err("build", dict(shared_axes=[0]), [2, 3, 4]),
        Err("call", {}, [2, 3, 4], dtype="int32"),
    ]
    return cases, errors


def elu():
    cases = [Case({}, S)] + [Case(dict(alpha=a), S) for a in (0.5, 2.0, 0.0, -1.0, 0.1)] + [
        Case({}, [2, 3, 4, 2]),
        Case(dict(alpha=1.5), [2, 5]),
        Case({}, S, dtype="float64", group="float64"),
        Case(dict(alpha=0.3), S, dtype="float64", group="float64"),
        Case(dict(alpha=0.7, dtype="float64"), S, dtype="float64", group="dtype"),
    ]
    errors = [Err("init", dict(alpha=None))]
    return cases, errors


def softmax():
    cases = [
        Case({}, S),
        Case(dict(axis=1), S),
        Case(dict(axis=-2), S),
        Case(dict(axis=0), S),
        Case(dict(axis=[1, 2]), S, group="list"),
        Case(dict(axis=[-1]), S, group="list"),
        Case(dict(axis=[1]), S, group="list"),
        Case(dict(axis=[2, 3]), [2, 3, 4, 2], group="list"),
        Case(dict(axis=[1, 3]), [2, 3, 4, 2], group="list"),
        Case({}, [2, 5]),
        Case(dict(axis=[1, 2]), S, dtype="float64", group="float64"),
        Case({}, S, dtype="float64", group="float64"),
        Case({}, [2, 4], call_kwargs=dict(mask=[[1, 1, 0, 1], [0, 1, 1, 1]]), group="mask"),
        Case(dict(axis=1), [2, 3, 4], call_kwargs=dict(mask=[[[1], [0], [1]], [[1], [1], [0]]]), group="mask"),
        Case(dict(axis=(1, 2)), S, group="tuple"),
        Case(dict(axis=[1, 2], dtype="float64"), S, dtype="float64", group="dtype"),
        Case(dict(axis=-1), [2, 3, 4], inputs="positive", group="positive"),
    ]
    errors = [Err("call", dict(axis=3), S), Err("call", dict(axis=-4), S), Err("call", dict(axis=[1, 3]), S)]
    return cases, errors


def thresholded_relu():
    cases = [Case({}, S)] + [Case(dict(theta=t), S) for t in (0.0, 0.5, 2.0, 0.1, 1e-3)] + [
        Case({}, [2, 3, 4, 2]),
        Case(dict(theta=0.3), [2, 5]),
        Case({}, S, dtype="float64", group="float64"),
        Case(dict(theta=0.7), S, dtype="float64", group="float64"),
        Case(dict(theta=0.2, dtype="float64"), S, dtype="float64", group="dtype"),
    ]
    errors = [Err("init", dict(theta=None)), Err("init", dict(theta=-1.0))]
    return cases, errors


def main(out_dir):
    return record_family(out_dir, {
        "ReLU": relu(), "LeakyReLU": leaky_relu(), "PReLU": prelu(), "ELU": elu(), "Softmax": softmax(),
        "ThresholdedReLU": thresholded_relu(),
    }, seed=520)
