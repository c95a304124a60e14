"""Record the REAL tf.keras merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot.

Run (from the repository root, in the reference venv)::

    .venv-keras/bin/python compat_fixtures/generate.py --only merging

Only data lives here; ``layer_cases.record_family`` calls ``tf_keras.layers.<Class>`` (and Keras 3) on a
list of tensors per case and writes ``<snake>_cases.json``, ``<snake>_tensors.safetensors`` and
``<snake>_errors.json``.  The elementwise classes share one plan: same shapes, 3 inputs, dims of 1
broadcasting, inputs of different ranks (tf.keras inserts size-1 dims after the batch dim), float64,
int32, one input. Maximum/Minimum draw "distinct" inputs: no ties within an input, but each input is its own
permutation of the same values, so equal values meet across inputs; those ties record TF's gradient rule
(``tf.maximum(x, y)`` gives all of it to ``x`` where ``x >= y``), which kerastorch reproduces.
"""
from __future__ import annotations

from .layer_cases import Case, Err, record_family


def elementwise(inputs="normal", two_only=False, ints=True):
    shapes = [
        ("same", [[2, 3], [2, 3]]),
        ("same", [[2, 3, 4], [2, 3, 4]]),
        ("same", [[2, 2, 3, 4], [2, 2, 3, 4]]),
        ("broadcast", [[2, 1], [2, 3]]),
        ("broadcast", [[2, 3, 1], [2, 1, 4]]),
        ("broadcast", [[2, 1, 4], [2, 3, 4]]),
        ("ranks", [[2, 4], [2, 3, 4]]),
        ("ranks", [[2, 3, 4], [2, 4]]),
        ("ranks", [[2, 1], [2, 2, 3, 4]]),
        ("ranks", [[2, 3], [2, 3, 1]]),
    ]
    if not two_only:
        shapes += [("three", [[2, 3], [2, 3], [2, 3]]), ("three", [[2, 3, 4], [2, 1, 4], [2, 4]]),
                   ("one", [[2, 3]])]
    cases = [Case({}, s, group=g, inputs=inputs) for g, s in shapes]
    cases.append(Case({}, [[2, 3], [2, 3]], dtype="float64", group="float64", inputs=inputs))
    cases.append(Case({}, [[2, 2, 3], [2, 3]], dtype="float64", group="float64", inputs=inputs))
    if ints:
        cases.append(Case({}, [[2, 3], [2, 3]], dtype="int32", inputs="int", group="int"))
    errors = [
        Err("build", {}, [[2, 3], [2, 4]]),
        Err("build", {}, [[2, 3], [3, 3]]),
        Err("build", {}, [[2, 3, 4], [2, 4, 4]]),
        Err("call", {}, [2, 3], list_input=False),
        Err("compute_output_shape", {}, [[None, 3], [None, 5]]),
    ]
    if two_only:
        errors.append(Err("build", {}, [[2, 3], [2, 3], [2, 3]]))
        errors.append(Err("build", {}, [[2, 3]]))
    return cases, errors


def concatenate():
    cases = [
        Case({}, [[2, 3], [2, 4]], group="last"),
        Case(dict(axis=1), [[2, 3], [2, 2]], group="axis1"),
        Case(dict(axis=1), [[2, 3, 4], [2, 2, 4]], group="axis1"),
        Case(dict(axis=2), [[2, 3, 4], [2, 3, 1]], group="axis2"),
        Case(dict(axis=-2), [[2, 3, 4], [2, 5, 4]], group="negative"),
        Case({}, [[2, 2, 2, 3], [2, 2, 2, 5]], group="channels"),
        Case(dict(axis=1), [[2, 2, 2, 3], [2, 1, 2, 3]], group="rank4"),
        Case(dict(axis=0), [[2, 3], [1, 3]], group="batch_axis"),
        Case({}, [[2, 3], [2, 4], [2, 1]], group="three"),
        Case({}, [[2, 3]], group="one"),
        Case({}, [[2, 3], [2, 4]], dtype="float64", group="float64"),
        Case({}, [[2, 3], [2, 2]], dtype="int32", inputs="int", group="int"),
    ]
    errors = [
        Err("build", {}, [[2, 3, 4], [2, 4, 4]]),
        Err("build", dict(axis=1), [[2, 3], [2, 3, 4]]),
        Err("build", dict(axis=1), [[2, 3, 4], [2, 3, 5]]),
        Err("call", {}, [2, 3], list_input=False),
        Err("call", dict(axis=3), [[2, 3], [2, 3]]),
    ]
    return cases, errors


def dot():
    cases = [
        Case(dict(axes=1), [[2, 3], [2, 3]], group="rank2"),
        Case(dict(axes=-1), [[2, 4], [2, 4]], group="rank2"),
        Case(dict(axes=1, normalize=True), [[2, 3], [2, 3]], group="normalize"),
        Case(dict(axes=(2, 2)), [[2, 3, 4], [2, 5, 4]], group="rank3"),
        Case(dict(axes=(1, 2)), [[2, 4, 3], [2, 5, 4]], group="rank3"),
        Case(dict(axes=[2, 1]), [[2, 3, 4], [2, 4, 5]], group="rank3"),
        Case(dict(axes=(1, 1)), [[2, 3], [2, 3, 5]], group="mixed_rank"),
        Case(dict(axes=(2, 1)), [[2, 5, 3], [2, 3]], group="mixed_rank"),
        Case(dict(axes=-1, normalize=True), [[2, 3, 4], [2, 5, 4]], group="normalize"),
        Case(dict(axes=(1, 3)), [[2, 3, 2], [2, 2, 2, 3]], group="rank4"),
        Case(dict(axes=2), [[2, 2, 3, 4], [2, 2, 3, 5]], group="rank4"),
        Case(dict(axes=1), [[2, 3], [2, 3]], dtype="float64", group="float64"),
        Case(dict(axes=(2, 2), normalize=True), [[2, 3, 4], [2, 2, 4]], dtype="float64", group="float64"),
    ]
    errors = [
        Err("init", dict(axes="x")),
        Err("init", dict(axes=(1, 2, 3))),
        Err("init", dict(axes=(1, "a"))),
        Err("build", dict(axes=1), [[2, 3], [2, 4]]),
        Err("build", dict(axes=1), [[2, 3], [2, 3], [2, 3]]),
        Err("call", dict(axes=0), [[2, 3], [2, 3]]),
        Err("call", dict(axes=1), [[2, 3], [3, 3]]),
        Err("call", dict(axes=1), [2, 3], list_input=False),
        Err("compute_output_shape", dict(axes=1), [[None, 3]]),
    ]
    return cases, errors


def main(out_dir):
    return record_family(out_dir, {
        "Add": elementwise(),
        "Subtract": elementwise(two_only=True),
        "Multiply": elementwise(),
        "Average": elementwise(ints=False),
        "Maximum": elementwise(inputs="distinct"),
        "Minimum": elementwise(inputs="distinct"),
        "Concatenate": concatenate(),
        "Dot": dot(),
    }, seed=70)
