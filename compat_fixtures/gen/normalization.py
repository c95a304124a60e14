"""Normalization layers recorded from real tf.keras: BatchNormalization, LayerNormalization,
GroupNormalization, UnitNormalization (``<snake>_cases.json`` / ``_tensors.safetensors`` / ``_errors.json``).

Only data: :func:`layer_cases.record_family` runs the real layers. BatchNormalization cases cover
training and inference calls (``after.moving_*`` holds the moving statistics after a training call),
the fused (4-D/5-D, one channel axis, float32) and non-fused (other ranks, several axes, float64,
``fused=False``) paths, which update the moving variance with the unbiased / biased batch variance.
"""
from __future__ import annotations

from .layer_cases import Case, Err, record_family

L2 = {"class_name": "L2", "config": {"l2": 0.1}}
L1 = {"class_name": "L1", "config": {"l1": 0.05}}


def batch_normalization():
    T, F = True, False
    cases = [
        # ----- fused path: 4-D channels_last / channels_first, 5-D -----
        Case(dict(), [2, 3, 3, 4], "fused", training=T),
        Case(dict(), [2, 3, 3, 4], "fused", training=F),
        Case(dict(), [2, 3, 3, 4], "fused", training=None),
        Case(dict(axis=3), [2, 3, 2, 4], "fused", training=T),
        Case(dict(axis=1), [2, 4, 3, 3], "fused", training=T),
        Case(dict(axis=1), [2, 4, 3, 3], "fused", training=F),
        Case(dict(axis=-3), [2, 4, 3, 2], "fused", training=T),
        Case(dict(), [2, 2, 3, 2, 3], "fused", training=T),
        Case(dict(axis=1), [2, 3, 2, 2, 2], "fused", training=T),
        Case(dict(axis=4), [2, 2, 2, 3, 3], "fused", training=F),
        Case(dict(momentum=0.9, epsilon=1e-5), [2, 3, 3, 4], "fused", training=T),
        Case(dict(momentum=0.0), [2, 3, 3, 2], "fused", training=T),
        Case(dict(momentum=0.5, epsilon=0.1), [3, 2, 2, 3], "fused", training=T),
        Case(dict(center=False), [2, 3, 3, 4], "fused", training=T),
        Case(dict(scale=False), [2, 3, 3, 4], "fused", training=T),
        Case(dict(center=False, scale=False), [2, 3, 3, 4], "fused", training=T),
        Case(dict(center=False, scale=False), [2, 3, 3, 4], "fused", training=F),
        Case(dict(gamma_regularizer=L2, beta_regularizer=L1), [2, 3, 3, 4], "fused", training=T),
        Case(dict(trainable=False), [2, 3, 3, 4], "trainable", training=T),
        Case(dict(trainable=False, axis=1), [2, 4, 3, 3], "trainable", training=T),
        Case(dict(fused=False), [2, 3, 3, 4], "fused_arg", training=T),
        Case(dict(fused=True), [2, 3, 3, 4], "fused_arg", training=T),
        Case(dict(synchronized=True), [2, 3, 3, 4], "synchronized", training=T),
        Case(dict(), [1, 3, 3, 4], "fused", training=T),
        # ----- non-fused: other ranks, middle axes, several axes, float64 -----
        Case(dict(), [4, 5], "nonfused", training=T),
        Case(dict(), [4, 5], "nonfused", training=F),
        Case(dict(momentum=0.8), [3, 4], "nonfused", training=T),
        Case(dict(), [2, 4, 3], "nonfused", training=T),
        Case(dict(axis=1), [2, 4, 3], "nonfused", training=T),
        Case(dict(axis=1), [2, 4, 3], "nonfused", training=F),
        Case(dict(axis=2), [2, 3, 4, 2], "nonfused", training=T),
        Case(dict(axis=-2), [2, 3, 4, 2], "nonfused", training=T),
        Case(dict(axis=2), [2, 2, 3, 2, 2], "nonfused", training=T),
        Case(dict(axis=[1, 3]), [2, 3, 2, 4], "multi_axis", training=T),
        Case(dict(axis=[1, 3]), [2, 3, 2, 4], "multi_axis", training=F),
        Case(dict(axis=[-1, -2]), [2, 3, 2, 4], "multi_axis", training=T),
        Case(dict(axis=[1, 2], center=False), [3, 2, 3], "multi_axis", training=T),
        Case(dict(), [2, 3, 3, 4], "float64", training=T, dtype="float64"),
        Case(dict(), [2, 3, 3, 4], "float64", training=F, dtype="float64"),
        Case(dict(axis=1, dtype="float64"), [2, 3, 2, 2], "float64", training=T, dtype="float64"),
        Case(dict(dtype="float64"), [4, 3], "float64", training=T, dtype="float64"),
        Case(dict(gamma_regularizer="l2", beta_constraint="non_neg", gamma_initializer="he_normal"), [4, 3],
             "regularizers", training=T),
        Case(dict(moving_mean_initializer="ones", moving_variance_initializer="zeros"), [4, 3], "initializers",
             training=F, weights={"moving_variance": "positive"}),
        Case(dict(input_shape=(3,)), [2, 3], "input_shape", training=T),
        Case(dict(), [2, 3, 3, 4], "positive", training=T, inputs="positive"),
    ]
    errors = [
        Err("init", dict(axis=1.5)),
        Err("init", dict(axis="a")),
        Err("init", dict(fused=True, renorm=True)),
        Err("init", dict(fused=True, axis=[1, 2])),
        Err("init", dict(fused=True, axis=2)),
        Err("init", dict(fused=True, synchronized=True)),
        Err("init", dict(renorm=True, renorm_clipping={"rmax": 3, "bad": 1})),
        Err("init", dict(fused=True, virtual_batch_size=2)),
        Err("build", dict(axis=4), [2, 3, 3, 4]),
        Err("build", dict(axis=-5), [2, 3, 3, 4]),
        Err("build", dict(axis=[1, 1]), [2, 3, 3, 4]),
        Err("build", dict(axis=[1, -3]), [2, 3, 3, 4]),
        Err("build", dict(axis=-4), [2, 3, 3, 4]),
        Err("build", dict(fused=True), [2, 4]),
        Err("build", dict(fused=True, axis=2), [2, 3, 3, 4]),
        Err("build", dict(), [2, None]),
        Err("build", dict(virtual_batch_size=0), [2, 4]),
        Err("build", dict(virtual_batch_size=2, axis=0), [2, 4]),
        Err("call", dict(axis=2), [2, 3]),
        Err("call", dict(), [2, 3], dtype="int32"),
        Err("compute_output_shape", dict(axis=3), [2, 3, 3]),
    ]
    return cases, errors


def layer_normalization():
    cases = [
        Case(dict(), [2, 5]),
        Case(dict(), [2, 3, 4]),
        Case(dict(axis=[1, 2]), [2, 3, 4]),
        Case(dict(axis=[-2, -1]), [2, 2, 3, 4]),
        Case(dict(axis=1), [2, 3, 4]),
        Case(dict(axis=[1, 3]), [2, 3, 2, 4]),
        Case(dict(axis=[2, 1]), [2, 3, 4]),
        Case(dict(epsilon=1e-6), [2, 3, 4]),
        Case(dict(epsilon=0.5), [2, 3, 4]),
        Case(dict(center=False), [2, 3, 4]),
        Case(dict(scale=False), [2, 3, 4]),
        Case(dict(center=False, scale=False), [2, 3, 4]),
        Case(dict(gamma_regularizer=L2, beta_regularizer="l1"), [2, 3]),
        Case(dict(), [2, 3, 4], "float64", dtype="float64"),
        Case(dict(dtype="float64", axis=[1, 2]), [2, 3, 4], "float64", dtype="float64"),
        Case(dict(), [2, 2, 2, 2, 3], "rank5"),
        Case(dict(), [2, 3, 4], "training", training=True),
    ]
    errors = [
        Err("init", dict(axis=1.5)),
        Err("build", dict(axis=3), [2, 3, 4]),
        Err("build", dict(axis=[1, 1]), [2, 3, 4]),
        Err("build", dict(axis=-4), [2, 3, 4]),
        Err("call", dict(), [2, 3], dtype="int32"),
    ]
    return cases, errors


def group_normalization():
    cases = [
        Case(dict(groups=2), [2, 3, 4]),
        Case(dict(groups=2), [2, 3, 3, 4]),
        Case(dict(groups=4), [2, 3, 4]),
        Case(dict(groups=1), [2, 3, 4]),
        Case(dict(groups=-1), [2, 3, 4]),
        Case(dict(groups=2, axis=1), [2, 4, 3]),
        Case(dict(groups=2, axis=1), [2, 4, 3, 2]),
        Case(dict(groups=3, axis=2), [2, 2, 6, 2]),
        Case(dict(groups=2, epsilon=1e-5), [2, 3, 4]),
        Case(dict(groups=2, center=False), [2, 3, 4]),
        Case(dict(groups=2, scale=False), [2, 3, 4]),
        Case(dict(groups=2, gamma_regularizer=L2, beta_constraint="non_neg"), [2, 3, 4]),
        Case(dict(groups=2), [2, 4], "rank2"),
        Case(dict(groups=2), [2, 2, 2, 2, 4], "rank5"),
        Case(dict(groups=2), [2, 3, 4], "float64", dtype="float64"),
        Case(dict(groups=2, dtype="float64"), [2, 3, 4], "float64", dtype="float64"),
    ]
    errors = [
        Err("build", dict(groups=3), [2, 3, 4]),
        Err("build", dict(groups=8), [2, 3, 4]),
        Err("build", dict(groups=2, axis=3), [2, 3, 4]),
        Err("build", dict(groups=2), [2, 3, None]),
        Err("call", dict(groups=2), [2, 4], dtype="int32"),
    ]
    return cases, errors


def unit_normalization():
    cases = [
        Case(dict(), [2, 5]),
        Case(dict(), [2, 3, 4]),
        Case(dict(axis=1), [2, 3, 4]),
        Case(dict(axis=[1, 2]), [2, 3, 4]),
        Case(dict(axis=[-1, -2]), [2, 2, 3, 4]),
        Case(dict(axis=(1, 3)), [2, 3, 2, 4]),
        Case(dict(), [2, 3, 4], "float64", dtype="float64"),
        Case(dict(dtype="float64"), [2, 3], "float64", dtype="float64"),
        Case(dict(), [2, 3, 4], "positive", inputs="positive"),
        Case(dict(axis=0), [3, 4]),
        Case(dict(), [2, 2, 2, 2, 3], "rank5"),
    ]
    errors = [
        Err("init", dict(axis=1.5)),
        Err("init", dict(axis="x")),
        Err("build", dict(axis=3), [2, 3, 4]),
        Err("build", dict(axis=[1, 1]), [2, 3, 4]),
        Err("call", dict(), [2, 3], dtype="int32"),
    ]
    return cases, errors


def main(out_dir):
    return record_family(out_dir, {
        "BatchNormalization": batch_normalization(),
        "LayerNormalization": layer_normalization(),
        "GroupNormalization": group_normalization(),
        "UnitNormalization": unit_normalization(),
    }, seed=40)
