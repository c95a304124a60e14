"""Record real Keras weight files for ``kerastorch.load_keras_weights`` / ``save_keras_weights``.

Run with the reference environment (TensorFlow 2.21, tf-keras 2.21, Keras 3.15.1, h5py,
safetensors; see ``generate.py``)::

    /work/kref/bin/python compat_fixtures/gen_keras_files.py

Every number and every file here is produced by real Keras; nothing is re-implemented.

Models (``MODELS`` below; the spec is also stored in ``keras_files.json`` so the tests build
the equivalent kerastorch modules from it):

* ``cnn_nhwc``  -- channels_last: Conv2D(8, 3, 'same', relu) -> Conv2D(8, 3, strides=2,
  'same', groups=2, no bias) -> Conv2D(4, (2, 3), dilation_rate=2).
* ``cnn_nchw``  -- channels_first: Conv2D(6, 3, strides=(2, 1), 'same') -> Conv2D(6, (3, 1),
  groups=3, dilation_rate=(2, 1), no bias, tanh) -> Conv2D(4, 1).
* ``cnn_nested_dense`` -- channels_last: Conv2D 'stem' -> a nested Sequential 'block' of two
  Conv2D (groups=2; no bias) -> MaxPooling2D -> Flatten -> Dense(3) 'head' (a Keras layer with
  weights that kerastorch does not have: the error / ``skip_unsupported`` path).

Files written into ``<out_dir>/keras_files/`` (``out_dir`` defaults to this folder):

* ``<model>.tf_full.h5``     -- tf.keras ``model.save('x.h5')`` (legacy HDF5, full model)
* ``<model>.tf_weights.h5``  -- tf.keras ``model.save_weights('x.h5')``
* ``<model>.k3.weights.h5``  -- Keras 3 ``model.save_weights('x.weights.h5')``
* ``<model>.k3.keras``       -- Keras 3 ``model.save('x.keras')``
* ``bf16_conv.k3.weights.h5`` -- Keras 3 ``save_weights`` of a bfloat16 Conv2D(3, 1) named
  'bf' (Keras stores bfloat16 as opaque 2-byte data); its values, cast to float32, are
  ``bf16_conv.kernel`` / ``bf16_conv.bias`` in the safetensors file
* ``<model>.kerastorch.weights.h5`` -- written by kerastorch's ``save_keras_weights`` (flat
  models) and loaded back by real Keras 3 in the proof step below
* ``keras_files.safetensors`` -- ``<model>.input`` (N(0, 1), batch 2), ``<model>.output``
  (tf.keras), ``<model>.output_keras3`` (Keras 3, same weights), ``cnn_nested_dense.block``
  (output of the nested block, what a conv-only kerastorch module reproduces), and
  ``<model>.kerastorch_output`` (kerastorch's output with the weights it saved)
* ``keras_files.json`` -- versions, model specs, file names, and the proof results

Reruns write identical files except the ``.keras`` archives (Keras stamps ``date_saved`` and zip
times into them).

Weights: kernels N(0, 1/fan_in), biases N(0, 0.5^2), seeded, set with ``set_weights`` on the
tf.keras model and the Keras 3 model alike. Outputs are computed inside
``tf.function(jit_compile=True)`` (TF's CPU kernels cannot run NCHW convolutions eagerly).

Proof step: the main kerastorch venv (``/work/main/.venv/bin/python``, or ``$KERASTORCH_PYTHON``)
builds each flat model in kerastorch, gives it fresh seeded weights, writes them with
``save_keras_weights`` and records its output; then a fresh Keras 3 model of the same spec
``load_weights`` that file, and the JSON records whether Keras's weights equal kerastorch's and
the largest difference between the two outputs (tf.keras 2.21's ``load_weights`` is tried too).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
KERASTORCH_PYTHON = os.environ.get("KERASTORCH_PYTHON", os.path.join(REPO, ".venv", "bin", "python"))

MODELS: dict[str, dict] = {
    "cnn_nhwc": {
        "input_shape": [12, 12, 3],
        "layers": [
            {"class": "Conv2D", "args": {"filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu", "name": "conv_a"}},
            {"class": "Conv2D", "args": {"filters": 8, "kernel_size": 3, "strides": 2, "padding": "same", "groups": 2, "use_bias": False, "name": "conv_b"}},
            {"class": "Conv2D", "args": {"filters": 4, "kernel_size": [2, 3], "dilation_rate": 2, "name": "conv_c"}},
        ],
    },
    "cnn_nchw": {
        "input_shape": [3, 12, 12],
        "layers": [
            {"class": "Conv2D", "args": {"filters": 6, "kernel_size": 3, "strides": [2, 1], "padding": "same", "data_format": "channels_first", "name": "cf_a"}},
            {"class": "Conv2D", "args": {"filters": 6, "kernel_size": [3, 1], "groups": 3, "dilation_rate": [2, 1], "use_bias": False, "activation": "tanh", "data_format": "channels_first", "name": "cf_b"}},
            {"class": "Conv2D", "args": {"filters": 4, "kernel_size": 1, "data_format": "channels_first", "name": "cf_c"}},
        ],
    },
    "cnn_nested_dense": {
        "input_shape": [8, 8, 2],
        "layers": [
            {"class": "Conv2D", "args": {"filters": 4, "kernel_size": 3, "name": "stem"}},
            {"class": "Sequential", "name": "block", "layers": [
                {"class": "Conv2D", "args": {"filters": 4, "kernel_size": 3, "padding": "same", "groups": 2, "activation": "relu", "name": "block_conv1"}},
                {"class": "Conv2D", "args": {"filters": 6, "kernel_size": 1, "use_bias": False, "name": "block_conv2"}},
            ]},
            {"class": "MaxPooling2D", "args": {"name": "pool"}},
            {"class": "Flatten", "args": {"name": "flatten"}},
            {"class": "Dense", "args": {"units": 3, "name": "head"}},
        ],
    },
}
FLAT_MODELS = ["cnn_nhwc", "cnn_nchw"]  # kerastorch can express the whole model
BATCH = 2


def _build(K, spec: dict, flat: bool = False, conv_only: bool = False):
    """A functional model of ``spec`` in Keras module ``K`` (``keras`` or ``tf_keras``)."""

    def make(layer_spec):
        if layer_spec["class"] == "Sequential":
            inner = [make(s) for s in layer_spec["layers"]]
            return inner if flat else [K.Sequential([l for ls in inner for l in ls], name=layer_spec["name"])]
        if conv_only and layer_spec["class"] != "Conv2D":
            return []
        return [getattr(K.layers, layer_spec["class"])(**layer_spec["args"])]

    inp = K.Input(tuple(spec["input_shape"]), name="input")
    x = inp
    for layer_spec in spec["layers"]:
        for layer in make(layer_spec):
            x = layer(x)
    return K.Model(inp, x)


def _random_weights(shapes, rng):
    out = []
    for shape in shapes:
        if len(shape) >= 2:
            out.append(rng.normal(0.0, np.sqrt(1.0 / np.prod(shape[:-1])), size=shape).astype(np.float32))
        else:
            out.append(rng.normal(0.0, 0.5, size=shape).astype(np.float32))
    return out


def _run(tf, fn, x):
    return tf.function(fn, jit_compile=True)(tf.constant(x)).numpy()


_PROOF_SCRIPT = r"""
import json, sys
import numpy as np, torch
from safetensors.numpy import load_file, save_file
import kerastorch

spec_path, tensors_path, out_dir = sys.argv[1:4]
specs = json.load(open(spec_path))
inputs = load_file(tensors_path)
result = {}
for name, spec in specs.items():
    kerastorch.clear_session()
    layers = []
    def add(s):
        if s["class"] == "Sequential":
            for inner in s["layers"]:
                add(inner)
        elif s["class"] == "Conv2D":
            layers.append(kerastorch.layers.Conv2D(**s["args"]))
    for s in spec["layers"]:
        add(s)
    module = torch.nn.Sequential(*layers)
    x = torch.from_numpy(inputs[name + ".input"])
    module(x)
    g = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.4)
    path = f"{out_dir}/{name}.kerastorch.weights.h5"
    kerastorch.save_keras_weights(module, path)
    result[name + ".kerastorch_output"] = module(x).detach().numpy()
    result[name + ".kerastorch_weights"] = np.concatenate([p.detach().numpy().ravel() for p in module.parameters()])
save_file(result, f"{out_dir}/kerastorch_outputs.safetensors")
print("kerastorch", kerastorch.__version__, "torch", torch.__version__)
"""


def main(out_dir: str = HERE) -> dict:
    import h5py
    import keras
    import safetensors
    import tensorflow as tf
    import tf_keras
    from safetensors.numpy import load_file, save_file

    dest = os.path.join(out_dir, "keras_files")
    os.makedirs(dest, exist_ok=True)
    rng = np.random.default_rng(20251124)
    tensors: dict[str, np.ndarray] = {}
    files: dict[str, dict[str, str]] = {}

    for name, spec in MODELS.items():
        tf_keras.backend.clear_session()
        keras.backend.clear_session()
        tk_model = _build(tf_keras, spec)
        k3_model = _build(keras, spec)
        shapes = [w.shape for w in tk_model.get_weights()]
        assert shapes == [tuple(w.shape) for w in k3_model.get_weights()], (shapes, k3_model.get_weights())
        weights = _random_weights(shapes, rng)
        tk_model.set_weights(weights)
        k3_model.set_weights(weights)

        x = rng.normal(size=(BATCH, *spec["input_shape"])).astype(np.float32)
        tensors[f"{name}.input"] = x
        tensors[f"{name}.output"] = _run(tf, lambda t: tk_model(t, training=False), x)
        tensors[f"{name}.output_keras3"] = _run(tf, lambda t: k3_model(t, training=False), x)
        np.testing.assert_allclose(tensors[f"{name}.output_keras3"], tensors[f"{name}.output"], rtol=1e-5, atol=1e-6)
        if name == "cnn_nested_dense":
            stem, block = tk_model.get_layer("stem"), tk_model.get_layer("block")
            tensors[f"{name}.block"] = _run(tf, lambda t: block(stem(t)), x)

        files[name] = {
            "tf_full": f"{name}.tf_full.h5",
            "tf_weights": f"{name}.tf_weights.h5",
            "k3_weights": f"{name}.k3.weights.h5",
            "k3_keras": f"{name}.k3.keras",
        }
        tk_model.save(os.path.join(dest, files[name]["tf_full"]))
        tk_model.save_weights(os.path.join(dest, files[name]["tf_weights"]))
        k3_model.save_weights(os.path.join(dest, files[name]["k3_weights"]))
        k3_model.save(os.path.join(dest, files[name]["k3_keras"]))

    # bfloat16 variables: Keras 3 stores them as 2-byte opaque data with attribute dtype=bfloat16.
    keras.backend.clear_session()
    bf_model = keras.Sequential([keras.Input((4, 4, 2)), keras.layers.Conv2D(3, 1, dtype="bfloat16", name="bf")])
    bf_model.set_weights(_random_weights([w.shape for w in bf_model.get_weights()], rng))
    files["bf16_conv"] = {"k3_weights": "bf16_conv.k3.weights.h5"}
    bf_model.save_weights(os.path.join(dest, files["bf16_conv"]["k3_weights"]))
    kernel, bias = (np.asarray(w.numpy(), dtype=np.float32) for w in bf_model.layers[0].weights)
    tensors["bf16_conv.kernel"], tensors["bf16_conv.bias"] = kernel, bias

    tensors_path = os.path.join(dest, "keras_files.safetensors")
    save_file(tensors, tensors_path)

    # ---- proof: real Keras loads what kerastorch's save_keras_weights wrote ----
    proof: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        spec_path = os.path.join(tmp, "specs.json")
        with open(spec_path, "w") as f:
            json.dump({n: MODELS[n] for n in FLAT_MODELS}, f)
        run = subprocess.run(
            [KERASTORCH_PYTHON, "-c", _PROOF_SCRIPT, spec_path, tensors_path, tmp],
            cwd=REPO, capture_output=True, text=True,
        )
        if run.returncode != 0:
            raise RuntimeError(f"kerastorch proof step failed:\n{run.stdout}\n{run.stderr}")
        kt = load_file(os.path.join(tmp, "kerastorch_outputs.safetensors"))
        for name in FLAT_MODELS:
            written = os.path.join(tmp, f"{name}.kerastorch.weights.h5")
            kept = f"{name}.kerastorch.weights.h5"
            with open(written, "rb") as src, open(os.path.join(dest, kept), "wb") as dst:
                dst.write(src.read())
            files[name]["kerastorch_weights"] = kept
            tensors[f"{name}.kerastorch_output"] = kt[f"{name}.kerastorch_output"]

            keras.backend.clear_session()
            k3_model = _build(keras, MODELS[name])
            k3_model.load_weights(written)
            loaded = np.concatenate([w.ravel() for w in k3_model.get_weights()])
            out = _run(tf, lambda t: k3_model(t, training=False), tensors[f"{name}.input"])
            ref = kt[f"{name}.kerastorch_output"]
            diff = np.abs(out - ref)
            entry = {
                "file": kept,
                "keras3_loaded": True,
                "weights_equal": bool(np.array_equal(loaded, kt[f"{name}.kerastorch_weights"])),
                "max_abs_diff": float(diff.max()),
                "max_rel_diff": float((diff / np.maximum(np.abs(ref), 1e-6)).max()),
                "allclose_rtol1e-5_atol1e-6": bool(np.allclose(out, ref, rtol=1e-5, atol=1e-6)),
            }
            tf_keras.backend.clear_session()
            try:
                tk_model = _build(tf_keras, MODELS[name])
                tk_model.load_weights(written)
                tk_out = _run(tf, lambda t: tk_model(t, training=False), tensors[f"{name}.input"])
                entry["tf_keras_loaded"] = True
                entry["tf_keras_allclose"] = bool(np.allclose(tk_out, ref, rtol=1e-5, atol=1e-6))
            except Exception as e:  # recorded, not required
                entry["tf_keras_loaded"] = False
                entry["tf_keras_error"] = f"{type(e).__name__}: {str(e)[:300]}"
            entry["ok"] = entry["weights_equal"] and entry["allclose_rtol1e-5_atol1e-6"]
            proof[name] = entry
        kerastorch_versions = run.stdout.strip()
    save_file(tensors, tensors_path)

    record = {
        "versions": {
            "tensorflow": tf.__version__,
            "tf_keras": tf_keras.__version__,
            "keras": keras.__version__,
            "keras_backend": keras.backend.backend(),
            "h5py": h5py.__version__,
            "numpy": np.__version__,
            "safetensors": safetensors.__version__,
            "python": sys.version.split()[0],
            "proof_env": kerastorch_versions,
        },
        "batch": BATCH,
        "models": MODELS,
        "flat_models": FLAT_MODELS,
        "files": files,
        "proof": proof,
    }
    with open(os.path.join(dest, "keras_files.json"), "w") as f:
        json.dump(record, f, indent=1)
    bad = [n for n, p in proof.items() if not p["ok"]]
    if bad:
        raise RuntimeError(f"real Keras did not reproduce kerastorch's outputs for {bad}: {proof}")
    print(json.dumps(proof, indent=1))
    return record


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else HERE)
