"""Proof that real Keras loads the weight files kerastorch's ``save_keras_weights`` writes.

Run from the repository root in the reference venv (TensorFlow 2.21, tf-keras 2.21, Keras 3.15.1)::

    .venv-keras/bin/python compat_fixtures/prove_h5_weights.py

Step 1 runs kerastorch (``.venv/bin/python`` or ``$KERASTORCH_PYTHON``): for each model below it sets
seeded random weights, writes ``<model>.h5`` (legacy tf.keras layout) and ``<model>.weights.h5``
(Keras 3 layout) with ``save_keras_weights``, and records inputs and kerastorch's outputs. Step 2
builds the same model in tf.keras 2.21 and in Keras 3, calls the real ``model.load_weights`` on
those files (tf.keras: ``.h5``; Keras 3: ``.h5`` and ``.weights.h5``) and compares the outputs.
Prints one JSON line per model and check; exits 1 unless every weight Keras loaded equals
kerastorch's bit for bit and every output agrees within 1e-5 (float32 summation order).
Nothing is written outside a temporary directory.
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

KERASTORCH_STEP = r"""
import json, sys
import numpy as np, torch
import kerastorch as kt
models, out_dir = json.loads(sys.argv[1]), sys.argv[2]
for name, spec in models.items():
    kt.clear_session()
    module = torch.nn.Sequential(*[getattr(kt.layers, cls)(**args) for cls, args in spec["layers"]])
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
    for i, w in enumerate(w for layer in module for w in layer.get_weights()):
        np.save(f"{out_dir}/{name}.weight{i}.npy", w)
print("kerastorch", kt.__version__, "torch", torch.__version__)
"""


def _keras_model(K, spec):
    inputs = K.Input(tuple(spec["input_shape"]))
    x = inputs
    for cls, args in spec["layers"]:
        x = getattr(K.layers, cls)(**args)(x)
    return K.Model(inputs, x)


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf
    import tf_keras

    python = os.environ.get("KERASTORCH_PYTHON", os.path.join(ROOT, ".venv", "bin", "python"))
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run([python, "-c", KERASTORCH_STEP, json.dumps(MODELS), tmp], cwd=ROOT, capture_output=True, text=True)
        if run.returncode:
            print(run.stdout, run.stderr, file=sys.stderr)
            return 1
        print(json.dumps({"kerastorch_env": run.stdout.strip(), "tensorflow": tf.__version__,
                          "tf_keras": tf_keras.__version__, "keras": keras.__version__}))
        for name, spec in MODELS.items():
            x = np.load(f"{tmp}/{name}.input.npy")
            expected = np.load(f"{tmp}/{name}.output.npy")
            for K, label, suffix in ((tf_keras, "tf_keras", ".h5"), (keras, "keras3", ".h5"), (keras, "keras3", ".weights.h5")):
                model = _keras_model(K, spec)
                model.load_weights(f"{tmp}/{name}{suffix}")
                # TF's CPU kernels cannot run NCHW convolutions eagerly; XLA can.
                got = tf.function(lambda t: model(t), jit_compile=True)(tf.constant(x)).numpy()
                diff = float(np.max(np.abs(got - expected)))
                weights = model.get_weights()
                count = len([f for f in os.listdir(tmp) if f.startswith(f"{name}.weight") and f.endswith(".npy")])
                same = count == len(weights) and all(
                    np.array_equal(w, np.load(f"{tmp}/{name}.weight{i}.npy")) for i, w in enumerate(weights)
                )
                ok = diff <= 1e-5 and same
                failures += not ok
                print(json.dumps({"model": name, "loader": f"{label} load_weights('{name}{suffix}')",
                                  "weights_equal": same, "max_abs_diff": diff, "ok": ok}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
