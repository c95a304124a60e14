"""Record functional models made of operation nodes (tf.keras ``TFOpLambda`` / ``SlicingOpLambda``, Keras 3
``keras.ops``) for ``kerastorch.models.ops``.

Run (from the repository root, in the reference venv; see ``generate.py``)::

    .venv-keras/bin/python compat_fixtures/generate.py --only ops

Each case is a weight-free functional model over three inputs ``x`` (float32, batch 2 x 4 x 6, N(0, 1)),
``y`` (float32, 2 x 1 x 6: broadcasts against ``x``) and ``i`` (int32, 2 x 4 x 6, integers in [-5, 5]),
built by calling TensorFlow functions (tf.keras) or ``keras.ops`` (Keras 3) on the symbolic inputs, so the
config holds exactly what Keras writes for them.  The eval outputs (values AND dtypes: broadcasting and dtype
promotion are Keras's / TensorFlow's) are recorded.  ``REFUSED`` cases use an op kerastorch does not map:
loading must raise a ``ValueError`` naming the op and the layer.

Files (``<out_dir>/ops/``): ``ops_cases.json``::

    {"versions": {...}, "cases": [{"name": "tf.add_scalar", "source": "tf_keras" | "keras3",
       "config": {...json.loads(model.to_json())...}, "ops": [...], "refuse": bool,
       "outputs": [{"key": "tf.add_scalar.out.0", "shape": [...], "dtype": "float32"}, ...]}]}

``ops_tensors.safetensors``: ``input.x``, ``input.y``, ``input.i`` and each case's outputs.
"""
from __future__ import annotations

import json
import os

import numpy as np

from .common import error_text, fresh_session, import_keras3, import_tf, jsonable, save_safetensors, versions, \
    write_json
from .models import _layer_classes


#: constant operands (a per-feature row and a (4, 6) grid, as models hold normalization constants)
ROW = np.array([0.5, 1.0, -1.0, 2.0, 0.0, -0.5], "float32")
GRID = np.linspace(-1.0, 1.0, 24, dtype="float32").reshape(4, 6)


def tf_cases(tf):
    """name -> fn(x, y, i) -> list of outputs (TensorFlow functions on tf.keras symbolic tensors)."""
    return {
        "add_scalar": lambda x, y, i: [x + 3.0, 3.0 + x],
        "add_broadcast": lambda x, y, i: [x + y, tf.math.add(y, x)],
        "sub": lambda x, y, i: [x - y, 2.0 - x, tf.math.subtract(x, 0.5)],
        "mul_div": lambda x, y, i: [tf.math.multiply(x, y), x * 0.5, x / 4.0, tf.math.truediv(x, y + 3.0),
                                    tf.multiply(x, x)],
        "pow_neg_abs": lambda x, y, i: [tf.math.pow(tf.abs(x), 2.0), -x, tf.math.negative(y), tf.math.abs(x)],
        "activations": lambda x, y, i: [tf.nn.relu6(x * 4.0), tf.nn.relu(x), tf.sigmoid(x), tf.math.sigmoid(x),
                                        tf.tanh(x), tf.nn.swish(x), tf.nn.silu(x), tf.nn.gelu(x),
                                        tf.nn.gelu(x, approximate=True), tf.nn.softmax(x, axis=1),
                                        tf.nn.softmax(x)],
        "unary_math": lambda x, y, i: [tf.sqrt(tf.abs(x) + 1.0), tf.exp(x), tf.math.log(tf.abs(x) + 1.0),
                                       tf.math.square(x), tf.math.rsqrt(tf.abs(x) + 1.0)],
        "min_max_clip": lambda x, y, i: [tf.math.maximum(x, 0.1), tf.minimum(x, y), tf.maximum(x, y),
                                         tf.clip_by_value(x, -0.5, 0.5)],
        "reductions": lambda x, y, i: [tf.reduce_mean(x, axis=1, keepdims=True), tf.reduce_sum(x, axis=[1, 2]),
                                       tf.reduce_max(x, axis=-1), tf.math.reduce_min(x, axis=1),
                                       tf.math.reduce_mean(x), tf.math.reduce_prod(x, axis=2)],
        "shapes": lambda x, y, i: [tf.reshape(x, (-1, 3, 8)), tf.reshape(x, [-1, 24]),
                                   tf.transpose(x, perm=[0, 2, 1]), tf.expand_dims(x, -1),
                                   tf.squeeze(tf.expand_dims(x, 1), axis=1), tf.concat([x, x * 2.0], axis=1),
                                   tf.concat([x, y], 1), tf.stack([x, x], axis=1)],
        "getitem": lambda x, y, i: [x[:, 1:3, ::2], x[:, 0], x[..., -1], x[:, tf.newaxis, :2], x[:, -2:, 1:-1],
                                    x[:, ::-1]],
        "matmul": lambda x, y, i: [tf.matmul(x, tf.transpose(x, [0, 2, 1])),
                                   tf.linalg.matmul(x, x, transpose_b=True)],
        "l2_normalize": lambda x, y, i: [tf.math.l2_normalize(x, axis=-1), tf.nn.l2_normalize(x, axis=[1, 2])],
        "unary_more": lambda x, y, i: [tf.nn.softplus(x), tf.math.softplus(x), tf.nn.elu(x), tf.nn.selu(x),
                                       tf.nn.leaky_relu(x, alpha=0.1), tf.nn.log_softmax(x, axis=1),
                                       tf.math.floor(x * 2.0), tf.math.ceil(x * 2.0), tf.math.sign(x),
                                       tf.math.reciprocal(x + 5.0), tf.math.erf(x), tf.round(x * 2.0),
                                       tf.math.softsign(x)],
        # numpy constants: tf.keras writes them into the node's kwargs as (nested) lists
        "constants": lambda x, y, i: [tf.math.subtract(x, ROW) * 2.0, x + tf.constant(ROW), tf.math.maximum(x, ROW),
                                      tf.math.multiply(x, GRID), tf.where(x > 0.0, x, ROW)],
        "int_dtypes": lambda x, y, i: [i + 2, i * i, tf.cast(i, "float32") * 0.5, tf.cast(x, tf.int32),
                                       tf.cast(i, tf.float16), tf.math.maximum(i, 0), -i,
                                       tf.reduce_sum(i, axis=1)],
    }


def k3_cases(ops):
    """name -> fn(x, y, i) -> list of outputs (``keras.ops`` / python operators on Keras 3 symbolic tensors)."""
    return {
        "add_scalar": lambda x, y, i: [x + 3.0, 3.0 + x, ops.add(x, 1.5)],
        "add_broadcast": lambda x, y, i: [x + y, ops.add(y, x)],
        "sub": lambda x, y, i: [x - y, 2.0 - x, ops.subtract(x, 0.5)],
        "mul_div": lambda x, y, i: [ops.multiply(x, y), x * 0.5, x / 4.0, ops.divide(x, y + 3.0),
                                    ops.true_divide(x, 2.0)],
        "pow_neg_abs": lambda x, y, i: [ops.power(ops.abs(x), 2.0), -x, ops.negative(y), ops.absolute(x),
                                        x ** 2],
        "activations": lambda x, y, i: [ops.relu6(x * 4.0), ops.relu(x), ops.sigmoid(x), ops.tanh(x),
                                        ops.silu(x), ops.swish(x), ops.gelu(x), ops.gelu(x, approximate=False),
                                        ops.softmax(x, axis=1), ops.softmax(x)],
        "unary_math": lambda x, y, i: [ops.sqrt(ops.abs(x) + 1.0), ops.exp(x), ops.log(ops.abs(x) + 1.0),
                                       ops.square(x)],
        "min_max_clip": lambda x, y, i: [ops.maximum(x, 0.1), ops.minimum(x, y), ops.maximum(x, y),
                                         ops.clip(x, -0.5, 0.5)],
        "reductions": lambda x, y, i: [ops.mean(x, axis=1, keepdims=True), ops.sum(x, axis=(1, 2)),
                                       ops.max(x, axis=-1), ops.min(x, axis=1), ops.mean(x)],
        "shapes": lambda x, y, i: [ops.reshape(x, (-1, 3, 8)), ops.transpose(x, (0, 2, 1)), ops.transpose(x),
                                   ops.expand_dims(x, -1), ops.squeeze(ops.expand_dims(x, 1), axis=1),
                                   ops.concatenate([x, x * 2.0], axis=1), ops.concatenate([x, y], axis=1),
                                   ops.stack([x, x], axis=1)],
        "getitem": lambda x, y, i: [x[:, 1:3, ::2], x[:, 0], x[..., -1], x[:, None, :2], x[:, -2:, 1:-1]],
        "matmul": lambda x, y, i: [ops.matmul(x, ops.transpose(x, (0, 2, 1))), x @ ops.transpose(x, (0, 2, 1))],
        "unary_more": lambda x, y, i: [ops.softplus(x), ops.elu(x, alpha=0.5), ops.selu(x),
                                       ops.leaky_relu(x, negative_slope=0.1), ops.log_softmax(x, axis=1),
                                       ops.hard_sigmoid(x * 3.0), ops.hard_silu(x * 3.0), ops.floor(x * 2.0),
                                       ops.ceil(x * 2.0), ops.sign(x), ops.reciprocal(x + 5.0), ops.erf(x),
                                       ops.round(x * 2.0), ops.rsqrt(ops.abs(x) + 1.0), ops.softsign(x)],
        # numpy constants: Keras 3 writes them as __numpy__ / __tensor__ values in the node's args
        "constants": lambda x, y, i: [ops.subtract(x, ROW) * 2.0, ops.add(x, ops.convert_to_tensor(ROW)),
                                      ops.maximum(x, ROW), ops.multiply(GRID, x), ops.where(x > 0.0, x, ROW)],
        "int_dtypes": lambda x, y, i: [i + 2, i * i, i + 2.5, ops.cast(i, "float32") * 0.5,
                                       ops.cast(x, "int32"), ops.mean(i, axis=1), i / 2, ops.divide(i, i + 10),
                                       ops.maximum(i, 0), -i, ops.sum(i, axis=1), ops.maximum(i, 0.5)],
    }


def refused_cases(tf, ops):
    """(source, name, fn): ops kerastorch does not map (loading must refuse them)."""
    return [("tf_keras", "cumsum", lambda x, y, i: [tf.math.cumsum(x, axis=1)]),
            ("keras3", "cumsum", lambda x, y, i: [ops.cumsum(x, axis=1)])]


def main(out_dir):
    out = os.path.join(out_dir, "ops")
    os.makedirs(out, exist_ok=True)
    tf, tfk = import_tf()
    k3 = import_keras3()
    rng = np.random.default_rng(77)
    xs = {"x": rng.standard_normal((2, 4, 6)).astype("float32"),
          "y": rng.standard_normal((2, 1, 6)).astype("float32"),
          "i": rng.integers(-5, 6, (2, 4, 6)).astype("int32")}
    tensors = {f"input.{k}": v for k, v in xs.items()}
    cases = []
    plan = [("tf_keras", n, f, False) for n, f in tf_cases(tf).items()]
    plan += [("keras3", n, f, False) for n, f in k3_cases(k3.ops).items()]
    plan += [(s, n, f, True) for s, n, f in refused_cases(tf, k3.ops)]
    for src, name, fn, refuse in plan:
        lib = tfk if src == "tf_keras" else k3
        tag = ("tf." if src == "tf_keras" else "k3.") + name
        fresh_session(lib)
        ins = [lib.Input((4, 6), name="x"), lib.Input((1, 6), name="y"), lib.Input((4, 6), name="i", dtype="int32")]
        try:
            model = lib.Model(ins, fn(*ins), name=name)
        except Exception as e:  # noqa: BLE001
            print(f"[ops] {tag}: cannot build: {error_text(e)}")
            continue
        entry = {"name": tag, "source": src, "config": json.loads(model.to_json()), "refuse": refuse,
                 "ops": _layer_classes(model)[1]}
        if not refuse:
            outs = model([xs["x"], xs["y"], xs["i"]], training=False)
            entry["outputs"] = []
            for k, o in enumerate(outs):
                a = np.asarray(o)
                key = f"{tag}.out.{k}"
                tensors[key] = a
                entry["outputs"].append({"key": key, "shape": list(a.shape), "dtype": a.dtype.name})
        cases.append(entry)
        print(f"[ops] {tag}: {entry['ops']} dtypes={[o['dtype'] for o in entry.get('outputs', [])]}")
    write_json(os.path.join(out, "ops_cases.json"),
               {"versions": versions("tensorflow", "tf_keras", "keras", "keras_backend"), "cases": cases})
    save_safetensors(tensors, os.path.join(out, "ops_tensors.safetensors"))
    return {"cases": len(cases)}
