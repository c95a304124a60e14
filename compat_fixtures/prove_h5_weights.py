"""Proof, against real Keras, that kerastorch reads and writes Keras weight files, both directions.

Run from the repository root in the reference venv (TensorFlow 2.21, tf-keras 2.21, Keras 3.15.1)::

    .venv-keras/bin/python compat_fixtures/prove_h5_weights.py

Models: ``MODELS`` below (Conv2D / Conv1D / Conv3D) and ``FAMILY_MODELS``, one model per convolution
family in both data formats: (a) Conv2D + Conv2DTranspose (k3 s2 'same'; k4 s2 output_padding) +
UpSampling2D + ZeroPadding2D + Cropping2D; (b) DepthwiseConv2D (depth_multiplier 2, strides 2,
'same') + SeparableConv2D; (c) Conv1D + Conv1DTranspose + DepthwiseConv1D + SeparableConv1D
(+ UpSampling1D, channels_last only: it has no data_format); (d) Conv3D + Conv3DTranspose +
UpSampling3D + ZeroPadding3D + Cropping3D.

kerastorch writes, Keras loads (every model). kerastorch (``.venv/bin/python`` or
``$KERASTORCH_PYTHON``) sets seeded random weights, writes ``<model>.h5`` (legacy tf.keras layout)
and ``<model>.weights.h5`` (Keras 3 layout) with ``save_keras_weights`` and records its inputs and
outputs; the same model built in tf.keras 2.21 and in Keras 3 calls the real ``model.load_weights``
on those files (tf.keras: ``.h5``; Keras 3: ``.h5`` and ``.weights.h5``); outputs are compared.

Keras writes, kerastorch loads (``FAMILY_MODELS``). tf.keras 2.21 (seeded random weights) writes
``save_weights('x.h5')`` and ``save('x.h5')``; Keras 3 with the same weights writes
``save_weights('x.weights.h5')`` and ``save('x.keras')``. kerastorch ``load_keras_weights`` each file
into an UNBUILT model three ways: layers named as in Keras (pairing by names), layers left unnamed
(pairing by position / Keras 3 paths), and ``by_name=True``; its outputs are compared with the
writer's and its weights (Keras layout) with Keras's.

Prints one JSON line per model and check, then a summary; exits 1 unless every weight moved bit for
bit and every output agrees within 1e-5 relative to the output's largest magnitude (float32
summation order). Keras outputs are computed in ``tf.function(jit_compile=True)`` (TF's CPU kernels
cannot run NCHW convolutions eagerly). Nothing is written outside a temporary directory.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MODELS = {
    "conv2d_nhwc": {
        "input_shape": [12, 12, 3],
        "layers": [
            ("Conv2D", {"filters": 6, "kernel_size": 3, "padding": "same", "activation": "relu", "name": "a"}),
            ("Conv2D", {"filters": 6, "kernel_size": 3, "strides": 2, "groups": 3, "use_bias": False, "name": "b"}),
            ("Conv2D", {"filters": 4, "kernel_size": [2, 3], "dilation_rate": 2, "name": "c"}),
        ],
    },
    "conv2d_nchw": {
        "input_shape": [3, 9, 9],
        "layers": [
            ("Conv2D", {"filters": 6, "kernel_size": 3, "data_format": "channels_first", "name": "cf_a"}),
            ("Conv2D", {"filters": 4, "kernel_size": 1, "data_format": "channels_first", "name": "cf_b"}),
        ],
    },
    "conv1d": {
        "input_shape": [11, 4],
        "layers": [
            ("Conv1D", {"filters": 6, "kernel_size": 3, "padding": "causal", "activation": "relu", "name": "t1"}),
            ("Conv1D", {"filters": 4, "kernel_size": 2, "strides": 2, "groups": 2, "name": "t2"}),
        ],
    },
    "conv3d": {
        "input_shape": [5, 6, 7, 2],
        "layers": [
            ("Conv3D", {"filters": 4, "kernel_size": [2, 3, 3], "padding": "same", "name": "v1"}),
            ("Conv3D", {"filters": 3, "kernel_size": 1, "use_bias": False, "name": "v2"}),
        ],
    },
}


def channels_first(layers):
    """The same layers in channels_first (UpSampling1D has no data_format: left out)."""
    return [(cls, {**args, "data_format": "channels_first"}) for cls, args in layers if cls != "UpSampling1D"]


LAYERS_A = [
    ("Conv2D", {"filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu", "name": "a_conv"}),
    ("Conv2DTranspose", {"filters": 5, "kernel_size": 3, "strides": 2, "padding": "same", "name": "a_t1"}),
    ("UpSampling2D", {"size": [1, 2], "name": "a_up"}),
    ("ZeroPadding2D", {"padding": [[1, 0], [2, 1]], "name": "a_pad"}),
    ("Cropping2D", {"cropping": [[0, 2], [3, 1]], "name": "a_crop"}),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 4, "strides": 2, "output_padding": 1, "name": "a_t2"}),
]
LAYERS_B = [
    ("DepthwiseConv2D", {"kernel_size": 3, "strides": 2, "padding": "same", "depth_multiplier": 2, "name": "b_dw"}),
    ("SeparableConv2D", {"filters": 4, "kernel_size": 3, "padding": "same", "depth_multiplier": 2, "activation": "relu", "name": "b_sep"}),
    ("SeparableConv2D", {"filters": 3, "kernel_size": [2, 3], "dilation_rate": 2, "use_bias": False, "name": "b_sep2"}),
    ("DepthwiseConv2D", {"kernel_size": 1, "use_bias": False, "name": "b_dw2"}),
]
LAYERS_C = [
    ("Conv1D", {"filters": 4, "kernel_size": 3, "padding": "same", "name": "c_conv"}),
    ("Conv1DTranspose", {"filters": 5, "kernel_size": 3, "strides": 2, "padding": "same", "name": "c_t1"}),
    ("UpSampling1D", {"size": 2, "name": "c_up"}),
    ("DepthwiseConv1D", {"kernel_size": 3, "strides": 2, "padding": "same", "depth_multiplier": 2, "name": "c_dw"}),
    ("SeparableConv1D", {"filters": 3, "kernel_size": 3, "activation": "tanh", "name": "c_sep"}),
    ("Conv1DTranspose", {"filters": 2, "kernel_size": 4, "strides": 2, "output_padding": 1, "use_bias": False, "name": "c_t2"}),
]
LAYERS_D = [
    ("Conv3D", {"filters": 3, "kernel_size": 2, "padding": "same", "name": "d_conv"}),
    ("Conv3DTranspose", {"filters": 4, "kernel_size": 3, "strides": [2, 1, 2], "padding": "same", "name": "d_t1"}),
    ("UpSampling3D", {"size": [1, 2, 1], "name": "d_up"}),
    ("ZeroPadding3D", {"padding": [[1, 0], [0, 1], [1, 1]], "name": "d_pad"}),
    ("Cropping3D", {"cropping": [[0, 1], [1, 0], [2, 1]], "name": "d_crop"}),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": 2, "strides": 2, "output_padding": 1, "use_bias": False, "name": "d_t2"}),
]
BILINEAR_UP = ("UpSampling2D", {"size": [2, 1], "interpolation": "bilinear", "name": "a_up"})

# Shapes avoid a Keras 3.15.1 TensorFlow-backend bug: ``keras.ops.add(x, bias)`` (what every Keras 3
# layer's bias goes through) becomes ``tf.nn.bias_add(data_format='NHWC')`` whenever ``x.shape[-1]``
# equals the bias length, so a channels_first layer whose last spatial size equals its channel count
# adds the bias along the wrong axis (e.g. DepthwiseConv2D(3, strides=2, 'same', depth_multiplier=2,
# channels_first) on (3, 9, 12) -> (6, 5, 6): Keras 3 differs from tf.keras and from its own
# channels_last by 3.0). tf.keras and kerastorch are right there.
FAMILY_MODELS = {
    "a_transpose2d_nhwc": {"input_shape": [5, 6, 3], "layers": LAYERS_A},
    "a_transpose2d_nchw": {"input_shape": [3, 5, 6], "layers": channels_first([LAYERS_A[0], LAYERS_A[1], BILINEAR_UP, *LAYERS_A[3:]])},
    "b_depthwise_separable2d_nhwc": {"input_shape": [9, 14, 3], "layers": LAYERS_B},
    "b_depthwise_separable2d_nchw": {"input_shape": [3, 9, 14], "layers": channels_first(LAYERS_B)},
    "c_conv1d_family_nwc": {"input_shape": [11, 3], "layers": LAYERS_C},
    "c_conv1d_family_ncw": {"input_shape": [3, 11], "layers": channels_first(LAYERS_C)},
    "d_conv3d_family_ndhwc": {"input_shape": [4, 3, 4, 2], "layers": LAYERS_D},
    "d_conv3d_family_ncdhw": {"input_shape": [2, 4, 3, 4], "layers": channels_first(LAYERS_D)},
}
ALL_MODELS = {**MODELS, **FAMILY_MODELS}

# Files real Keras writes for each FAMILY_MODELS model: (kind, file suffix, writer whose output is expected).
KERAS_FILES = (
    ("tf_weights", ".tf.h5", "tf_keras"),
    ("tf_full", ".tf_full.h5", "tf_keras"),
    ("k3_weights", ".k3.weights.h5", "keras3"),
    ("k3_keras", ".k3.keras", "keras3"),
)
TOLERANCE = 1e-5

KERASTORCH_PRELUDE = r"""
import json, sys
import numpy as np, torch
import kerastorch as kt

def make(spec, named=True):
    layers = []
    for cls, args in spec["layers"]:
        args = dict(args)
        if not named:
            del args["name"]
        layers.append(getattr(kt.layers, cls)(**args))
    return torch.nn.Sequential(*layers)

def keras_weights(module):
    return [w for layer in module for w in layer.get_weights()]
"""

KERASTORCH_STEP = KERASTORCH_PRELUDE + r"""
models, out_dir = json.loads(sys.argv[1]), sys.argv[2]
for name, spec in models.items():
    kt.clear_session()
    module = make(spec)
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((2, *spec["input_shape"])).astype("float32"))
    module(x)
    g = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.4)
    kt.save_keras_weights(module, f"{out_dir}/{name}.h5")
    kt.save_keras_weights(module, f"{out_dir}/{name}.weights.h5")
    np.save(f"{out_dir}/{name}.input.npy", x.numpy())
    np.save(f"{out_dir}/{name}.output.npy", module(x).detach().numpy())
    for i, w in enumerate(keras_weights(module)):
        np.save(f"{out_dir}/{name}.weight{i}.npy", w)
print("kerastorch", kt.__version__, "torch", torch.__version__)
"""

# Keras wrote the files: load each into unbuilt kerastorch models, record outputs and weights.
KERASTORCH_LOAD = KERASTORCH_PRELUDE + r"""
models, kinds, out_dir = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
for name, spec in models.items():
    x = torch.from_numpy(np.load(f"{out_dir}/{name}.keras_input.npy"))
    for kind, suffix in kinds:
        for how in ("named", "unnamed", "by_name"):
            kt.clear_session()
            module = make(spec, named=how != "unnamed")
            assert not any(layer.built for layer in module if layer.weight_names)
            kt.load_keras_weights(module, f"{out_dir}/{name}{suffix}", by_name=how == "by_name")
            tag = f"{out_dir}/{name}.{kind}.{how}"
            with torch.no_grad():
                np.save(f"{tag}.kt_output.npy", module(x).numpy())
            np.savez(f"{tag}.kt_weights.npz", *keras_weights(module))
"""


def _keras_model(K, spec):
    inputs = K.Input(tuple(spec["input_shape"]))
    x = inputs
    for cls, args in spec["layers"]:
        x = getattr(K.layers, cls)(**args)(x)
    return K.Model(inputs, x)


def _run(tf, model, x):
    # TF's CPU kernels cannot run NCHW convolutions eagerly; XLA can.
    return tf.function(lambda t: model(t), jit_compile=True)(tf.constant(x)).numpy()


def _diff(got, expected):
    diff = float(np.max(np.abs(got - expected))) if got.shape == expected.shape else float("inf")
    scale = max(1.0, float(np.max(np.abs(expected))))
    return diff, diff <= TOLERANCE * scale


def _kerastorch_writes(tf, tf_keras, keras, python, tmp, results):
    run = subprocess.run([python, "-c", KERASTORCH_STEP, json.dumps(ALL_MODELS), tmp], cwd=ROOT, capture_output=True, text=True)
    if run.returncode:
        print(run.stdout, run.stderr, file=sys.stderr)
        return None
    for name, spec in ALL_MODELS.items():
        x = np.load(f"{tmp}/{name}.input.npy")
        expected = np.load(f"{tmp}/{name}.output.npy")
        count = len([f for f in os.listdir(tmp) if f.startswith(f"{name}.weight") and f.endswith(".npy")])
        for K, label, suffix in ((tf_keras, "tf_keras", ".h5"), (keras, "keras3", ".h5"), (keras, "keras3", ".weights.h5")):
            K.backend.clear_session()
            model = _keras_model(K, spec)
            model.load_weights(f"{tmp}/{name}{suffix}")
            diff, close = _diff(_run(tf, model, x), expected)
            weights = model.get_weights()
            same = count == len(weights) and all(
                np.array_equal(w, np.load(f"{tmp}/{name}.weight{i}.npy")) for i, w in enumerate(weights)
            )
            results.append({"direction": "kerastorch->keras", "model": name,
                            "check": f"{label} load_weights('{name}{suffix}')",
                            "weights_equal": same, "max_abs_diff": diff, "ok": close and same})
            print(json.dumps(results[-1]))
    return run.stdout.strip()


def _keras_writes(tf, tf_keras, keras, python, tmp, results):
    rng = np.random.default_rng(7)
    for name, spec in FAMILY_MODELS.items():
        x = rng.standard_normal((2, *spec["input_shape"])).astype("float32")
        np.save(f"{tmp}/{name}.keras_input.npy", x)
        tf_keras.backend.clear_session()
        tf_model = _keras_model(tf_keras, spec)
        weights = [(rng.standard_normal(w.shape) * 0.4).astype("float32") for w in tf_model.get_weights()]
        tf_model.set_weights(weights)
        tf_model.save_weights(f"{tmp}/{name}.tf.h5")
        tf_model.save(f"{tmp}/{name}.tf_full.h5")
        keras.backend.clear_session()
        k3_model = _keras_model(keras, spec)
        k3_model.set_weights(weights)
        k3_model.save_weights(f"{tmp}/{name}.k3.weights.h5")
        k3_model.save(f"{tmp}/{name}.k3.keras")
        outputs = {"tf_keras": _run(tf, tf_model, x), "keras3": _run(tf, k3_model, x)}
        cross, _ = _diff(outputs["keras3"], outputs["tf_keras"])
        np.savez(f"{tmp}/{name}.keras_weights.npz", *weights)
        for writer, out in outputs.items():
            np.save(f"{tmp}/{name}.{writer}_output.npy", out)
        print(json.dumps({"model": name, "keras_output_shape": list(outputs["tf_keras"].shape),
                          "tf_keras_vs_keras3_max_abs_diff": cross}))
    kinds = [(kind, suffix) for kind, suffix, _ in KERAS_FILES]
    run = subprocess.run([python, "-c", KERASTORCH_LOAD, json.dumps(FAMILY_MODELS), json.dumps(kinds), tmp],
                         cwd=ROOT, capture_output=True, text=True)
    if run.returncode:
        print(run.stdout, run.stderr, file=sys.stderr)
        return False
    for name in FAMILY_MODELS:
        with np.load(f"{tmp}/{name}.keras_weights.npz") as f:
            weights = [f[f"arr_{i}"] for i in range(len(f.files))]
        for kind, suffix, writer in KERAS_FILES:
            expected = np.load(f"{tmp}/{name}.{writer}_output.npy")
            for how in ("named", "unnamed", "by_name"):
                tag = f"{tmp}/{name}.{kind}.{how}"
                diff, close = _diff(np.load(f"{tag}.kt_output.npy"), expected)
                with np.load(f"{tag}.kt_weights.npz") as f:
                    got = [f[f"arr_{i}"] for i in range(len(f.files))]
                same = len(got) == len(weights) and all(np.array_equal(a, b) for a, b in zip(got, weights))
                results.append({"direction": "keras->kerastorch", "model": name,
                                "check": f"load_keras_weights({name}{suffix}, {how}, unbuilt) vs {writer}",
                                "weights_equal": same, "max_abs_diff": diff, "ok": close and same})
                print(json.dumps(results[-1]))
    return True


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import keras
    import tensorflow as tf
    import tf_keras

    tf.get_logger().setLevel("ERROR")
    python = os.environ.get("KERASTORCH_PYTHON", os.path.join(ROOT, ".venv", "bin", "python"))
    results: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        env = _kerastorch_writes(tf, tf_keras, keras, python, tmp, results)
        if env is None:
            return 1
        print(json.dumps({"kerastorch_env": env, "tensorflow": tf.__version__,
                          "tf_keras": tf_keras.__version__, "keras": keras.__version__}))
        if not _keras_writes(tf, tf_keras, keras, python, tmp, results):
            return 1
    summary = {}
    for r in results:
        s = summary.setdefault((r["direction"], r["model"]), {"checks": 0, "failed": 0, "max_abs_diff": 0.0})
        s["checks"] += 1
        s["failed"] += not r["ok"]
        s["max_abs_diff"] = max(s["max_abs_diff"], r["max_abs_diff"])
    print("\nsummary (direction, model: checks, failed, largest max abs diff)")
    for (direction, model), s in summary.items():
        print(f"  {direction:18s} {model:30s} {s['checks']:3d} checks  {s['failed']} failed  max|diff| {s['max_abs_diff']:.3g}")
    failures = sum(not r["ok"] for r in results)
    print(f"{len(results)} checks, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
