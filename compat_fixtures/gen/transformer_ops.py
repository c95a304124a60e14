"""Record functional models made of the operation nodes keras.io's transformer graphs contain (tf.keras
``TFOpLambda`` of TensorFlow functions, Keras 3 ``keras.ops``): einsum (Keras 3 only: tf.keras's TFOpLambda
config of ``tf.einsum(equation, *inputs)`` keeps the equation and drops the operands), split, matmul with transposes, scaled
softmax attention written as ops, swapaxes, gelu with ``approximate``, ``tf.shape`` / ``tf.range`` position ids,
where, tile, repeat, erf.

Same case and tensor format as ``gen/ops.py`` (its recorder is reused), written into
``<out_dir>/ops/transformer_ops_cases.json`` and ``transformer_ops_tensors.safetensors``.
"""
from __future__ import annotations

from . import ops as base_ops


def tf_cases(tf):
    return {
        "split": lambda x, y, i: tf.split(x, 2, axis=-1) + tf.split(x, [1, 3], axis=1),
        "matmul_transposed": lambda x, y, i: [tf.linalg.matmul(x, x, transpose_b=True),
                                              tf.matmul(x, x, transpose_a=True)],
        "attention_as_ops": lambda x, y, i: [tf.matmul(tf.nn.softmax(
            tf.matmul(x, x, transpose_b=True) / tf.math.sqrt(6.0), axis=-1), x), tf.nn.softmax(x, axis=1)],
        "heads_reshape": lambda x, y, i: [tf.transpose(tf.reshape(x, (-1, 4, 2, 3)), perm=[0, 2, 1, 3]),
                                          tf.reshape(tf.transpose(tf.reshape(x, (-1, 4, 2, 3)), perm=[0, 2, 1, 3]),
                                                     (-1, 8, 3))],
        "gelu": lambda x, y, i: [tf.nn.gelu(x, approximate=True), tf.nn.gelu(x, approximate=False),
                                 tf.math.erf(x)],
        "positions": lambda x, y, i: [tf.range(start=0, limit=tf.shape(x)[1], delta=1), tf.shape(x)],
        "where_tile": lambda x, y, i: [tf.where(x > 0.0, x, tf.zeros_like(x)), tf.tile(y, [1, 4, 1])],
    }


def k3_cases(ops):
    return {
        "einsum": lambda x, y, i: [ops.einsum("bqd,bkd->bqk", x, x), ops.einsum("bij->bji", x)],
        "split": lambda x, y, i: list(ops.split(x, 2, axis=-1)) + list(ops.split(x, [1], axis=1)),
        "swapaxes": lambda x, y, i: [ops.swapaxes(x, -1, -2), ops.moveaxis(x, 1, 2)],
        "attention_as_ops": lambda x, y, i: [ops.matmul(ops.softmax(
            ops.matmul(x, ops.swapaxes(x, -1, -2)) / ops.sqrt(6.0), axis=-1), x), ops.softmax(x, axis=1)],
        "heads_reshape": lambda x, y, i: [ops.transpose(ops.reshape(x, (-1, 4, 2, 3)), (0, 2, 1, 3)),
                                          ops.reshape(x, (-1, 4, 2, 3))],
        "gelu": lambda x, y, i: [ops.gelu(x, approximate=True), ops.gelu(x, approximate=False)],
        "where_tile": lambda x, y, i: [ops.where(ops.greater(x, 0.0), x, 0.0), ops.tile(y, (1, 4, 1)),
                                       ops.repeat(y, 4, axis=1)],
    }


def main(out_dir):
    saved = (base_ops.tf_cases, base_ops.k3_cases, base_ops.refused_cases)
    base_ops.tf_cases, base_ops.k3_cases = tf_cases, k3_cases
    base_ops.refused_cases = lambda tf, ops: []
    import os

    real_write, real_save = base_ops.write_json, base_ops.save_safetensors
    base_ops.write_json = lambda path, obj: real_write(path.replace("ops_cases.json", "transformer_ops_cases.json"), obj)
    base_ops.save_safetensors = lambda t, path: real_save(
        t, path.replace("ops_tensors.safetensors", "transformer_ops_tensors.safetensors"))
    try:
        return base_ops.main(out_dir)
    finally:
        base_ops.tf_cases, base_ops.k3_cases, base_ops.refused_cases = saved
        base_ops.write_json, base_ops.save_safetensors = real_write, real_save
