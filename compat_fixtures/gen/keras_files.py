"""Record real Keras weight files for ``kerastorch.load_keras_weights`` / ``save_keras_weights``.

Run (from the repository root, in the reference venv: TensorFlow 2.21, tf-keras 2.21, Keras 3.15.1,
h5py, safetensors; see ``generate.py``)::

    .venv-keras/bin/python compat_fixtures/generate.py                   # every generator
    .venv-keras/bin/python compat_fixtures/generate.py --only keras_files

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

Weight-file defect fixtures (``DEFECT_MODELS``; Keras 3 files whose layout trips naive readers;
weights drawn from their own seeded generator, so the fixtures above do not change):

* ``nested_seq`` -- input (8, 8, 3) -> Conv2D 'pre' -> nested ``keras.Sequential`` 'inner'
  (Conv2D 'ic1', 'ic2') -> Conv2D 'post', all Conv2D(4, 3, padding='same'): Keras 3 names the
  HDF5 groups after the layer CLASS in ``model.layers`` order (``layers/conv2d`` = 'pre',
  ``layers/conv2d_1`` = 'post', ``layers/sequential/layers/conv2d`` = 'ic1', ...), so the
  groups sort as pre, post, ic1, ic2 -- not the call order.
* ``nested_functional`` -- the same with a nested Functional sub-model 'inner'.
* ``conv12`` -- twelve Conv2D(2, 1) 'd01'..'d12': the groups ``conv2d``, ``conv2d_1``, ...,
  ``conv2d_11`` sort as conv2d, conv2d_1, conv2d_10, conv2d_11, conv2d_2, ...
* ``fitted`` -- Conv2D(4, 3, 'same', relu) 'c1' -> Conv2D(2, 3, strides=2) 'c2', compiled with
  Adam(0.01) and MSE and ``fit`` for one step on (``fitted.input``, ``fitted.fit_target``):
  the Keras 3 files also hold ``optimizer/vars/0..9`` (iteration, learning rate, then
  momentum / velocity per weight -- the same shapes as the weights). ``fitted.tf_weights.h5``
  is tf.keras 2.21 ``save_weights('x.h5')`` (legacy weights-only HDF5) of the same CNN with
  the fitted weights (``cnn_nhwc.tf_weights.h5`` is the other legacy weights-only file).

For these, ``files[<model>]`` names ``k3_weights`` / ``k3_keras`` (and ``tf_weights`` for
``fitted``); ``keras_files.safetensors`` holds ``<model>.input``, ``<model>.output_keras3``
(Keras 3) and ``<model>.output`` (tf.keras 2.21 with the same weights, a cross-check); and
``keras_files.json["h5_layout"][<model>][<kind>]`` records, per file, where each layer's
weights really are (found by matching the stored values against the model's variables):
``layers`` ({layer name, in call order: [dataset paths, Keras weight order]}), ``datasets``
([path, shape, dtype] in h5py's (alphabetical) visiting order), ``vars_name_attrs`` (the
``name`` attribute Keras 3.15 writes on each ``.../vars`` group), ``optimizer`` ({dataset
path: Keras optimizer variable path}) and, for ``.keras`` archives, ``archive_member``.

Reruns write identical files except the ``.keras`` archives: Keras stamps ``date_saved`` (in
``metadata.json``) and zip times into them, and its ``config.json`` holds ``shared_object_id`` values
that are Python object ids; their ``model.weights.h5`` member is reproduced byte for byte.

Weights: kernels N(0, 1/fan_in), biases N(0, 0.5^2), seeded, set with ``set_weights`` on the
tf.keras model and the Keras 3 model alike. Outputs are computed inside
``tf.function(jit_compile=True)`` (TF's CPU kernels cannot run NCHW convolutions eagerly).

Proof step: the main kerastorch venv (``.venv/bin/python`` in the repository, or ``$KERASTORCH_PYTHON``)
builds each flat model in kerastorch, gives it fresh seeded weights, writes them with
``save_keras_weights`` and records its output; then a fresh Keras 3 model of the same spec
``load_weights`` that file, and the JSON records whether Keras's weights equal kerastorch's and
the largest difference between the two outputs (tf.keras 2.21's ``load_weights`` is tried too).
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import tempfile
import zipfile

import numpy as np

from .common import FIXTURES, REPO, fresh_session, imports, save_safetensors, versions, write_json

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


def _conv(name, filters=4, kernel_size=3, **kw):
    return {"class": "Conv2D", "args": {"filters": filters, "kernel_size": kernel_size, **kw, "name": name}}


_INNER = [_conv("ic1", padding="same"), _conv("ic2", padding="same")]
DEFECT_MODELS: dict[str, dict] = {
    "nested_seq": {
        "input_shape": [8, 8, 3],
        "layers": [_conv("pre", padding="same"), {"class": "Sequential", "name": "inner", "layers": _INNER},
                   _conv("post", padding="same")],
    },
    "nested_functional": {
        "input_shape": [8, 8, 3],
        "layers": [_conv("pre", padding="same"), {"class": "Functional", "name": "inner", "layers": _INNER},
                   _conv("post", padding="same")],
    },
    "conv12": {
        "input_shape": [4, 4, 2],
        "layers": [_conv("d%02d" % i, filters=2, kernel_size=1) for i in range(1, 13)],
    },
    "fitted": {
        "input_shape": [8, 8, 3],
        "layers": [_conv("c1", padding="same", activation="relu"), _conv("c2", filters=2, strides=2)],
        "fit": {"optimizer": "Adam", "learning_rate": 0.01, "loss": "mse", "steps": 1, "batch_size": BATCH},
    },
}
DEFECT_SEED = 20260214


def _build(K, spec: dict):
    """A functional model of ``spec`` in Keras module ``K`` (``keras`` or ``tf_keras``); nested
    "Sequential" / "Functional" entries become nested sub-models of that kind."""

    def make(layer_spec):
        if layer_spec["class"] in ("Sequential", "Functional"):
            inner = [l for s in layer_spec["layers"] for l in make(s)]
            if layer_spec["class"] == "Sequential":
                return [K.Sequential(inner, name=layer_spec["name"])]
            return [("functional", layer_spec["name"], inner)]
        return [getattr(K.layers, layer_spec["class"])(**layer_spec["args"])]

    def apply(layer, x):
        if isinstance(layer, tuple):  # a nested Functional sub-model, built on its input shape
            _, name, inner = layer
            sub_in = y = K.Input(tuple(x.shape[1:]))
            for l in inner:
                y = l(y)
            layer = K.Model(sub_in, y, name=name)
        return layer(x)

    inp = K.Input(tuple(spec["input_shape"]), name="input")
    x = inp
    for layer_spec in spec["layers"]:
        for layer in make(layer_spec):
            x = apply(layer, x)
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


def _leaf_layers(model):
    """``[(name, [arrays])]`` of the layers holding weights, in call order (nested models
    flattened)."""
    out = []
    for layer in model.layers:
        if hasattr(layer, "layers"):
            out += _leaf_layers(layer)
        elif layer.weights:
            out.append((layer.name, [np.asarray(w.numpy()) for w in layer.weights]))
    return out


def _h5_layout(f, leaves, optimizer=None):
    """Where each layer's weights are in the open HDF5 file ``f`` (see the module docstring)."""
    import h5py

    datasets, names = [], {}

    def visit(path, obj):
        if isinstance(obj, h5py.Dataset):
            datasets.append(path)
        elif path.endswith("vars") and "name" in obj.attrs:
            names[path] = str(obj.attrs["name"])

    f.visititems(visit)
    values = {p: np.asarray(f[p][()]) for p in datasets}

    def where(a):
        hits = [p for p in datasets if values[p].shape == a.shape and np.array_equal(values[p], a)]
        assert len(hits) == 1, (a.shape, hits)
        return hits[0]

    layout = {"layers": {name: [where(a) for a in arrays] for name, arrays in leaves}}
    layout["datasets"] = [[p, list(values[p].shape), str(f[p].dtype)] for p in datasets]
    layout["vars_name_attrs"] = names
    if optimizer is not None:
        layout["optimizer"] = {where(np.asarray(v.numpy())): v.path for v in optimizer.variables}
    return layout


def _keras3_layouts(dest, files, leaves, optimizer=None):
    """``_h5_layout`` of a model's Keras 3 ``.weights.h5`` and of the weights in its ``.keras``."""
    import h5py

    with h5py.File(os.path.join(dest, files["k3_weights"]), "r") as f:
        out = {"k3_weights": _h5_layout(f, leaves, optimizer)}
    with zipfile.ZipFile(os.path.join(dest, files["k3_keras"])) as z:
        with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
            out["k3_keras"] = {"archive_member": "model.weights.h5", **_h5_layout(f, leaves, optimizer)}
    return out


def _record_defects(tf, tf_keras, keras, dest, tensors, files):
    """The weight-file defect fixtures (``DEFECT_MODELS``): Keras 3 files, tensors, layouts."""
    import h5py

    rng = np.random.default_rng(DEFECT_SEED)
    layouts = {}
    for name, spec in DEFECT_MODELS.items():
        fresh_session(tf_keras, keras, seed=DEFECT_SEED)
        k3_model = _build(keras, spec)
        weights = _random_weights([w.shape for w in k3_model.get_weights()], rng)
        k3_model.set_weights(weights)
        x = rng.normal(size=(BATCH, *spec["input_shape"])).astype(np.float32)
        tensors[f"{name}.input"] = x
        optimizer = None
        if "fit" in spec:
            fit = spec["fit"]
            y = rng.normal(size=(BATCH, *k3_model.output_shape[1:])).astype(np.float32)
            tensors[f"{name}.fit_target"] = y
            optimizer = getattr(keras.optimizers, fit["optimizer"])(learning_rate=fit["learning_rate"])
            k3_model.compile(optimizer=optimizer, loss=fit["loss"])
            k3_model.fit(x, y, batch_size=fit["batch_size"], epochs=1, steps_per_epoch=fit["steps"],
                         shuffle=False, verbose=0)
            assert int(optimizer.iterations.numpy()) == fit["steps"]
            weights = k3_model.get_weights()
        tensors[f"{name}.output_keras3"] = _run(tf, lambda t: k3_model(t, training=False), x)

        tk_model = _build(tf_keras, spec)  # cross-check: tf.keras, same weights
        tk_model.set_weights(weights)
        tensors[f"{name}.output"] = _run(tf, lambda t: tk_model(t, training=False), x)
        np.testing.assert_allclose(tensors[f"{name}.output"], tensors[f"{name}.output_keras3"], rtol=1e-5, atol=1e-6)

        files[name] = {"k3_weights": f"{name}.k3.weights.h5", "k3_keras": f"{name}.k3.keras"}
        k3_model.save_weights(os.path.join(dest, files[name]["k3_weights"]))
        k3_model.save(os.path.join(dest, files[name]["k3_keras"]))
        leaves = _leaf_layers(k3_model)
        layouts[name] = _keras3_layouts(dest, files[name], leaves, optimizer)
        if "fit" in spec:
            files[name]["tf_weights"] = f"{name}.tf_weights.h5"
            tk_model.save_weights(os.path.join(dest, files[name]["tf_weights"]))
            with h5py.File(os.path.join(dest, files[name]["tf_weights"]), "r") as f:
                layouts[name]["tf_weights"] = _h5_layout(f, _leaf_layers(tk_model))
    return layouts


def main(out_dir: str = FIXTURES) -> dict:
    from safetensors.numpy import load_file

    tf, tf_keras, keras = imports()
    dest = os.path.join(out_dir, "keras_files")
    os.makedirs(dest, exist_ok=True)
    rng = np.random.default_rng(20251124)
    tensors: dict[str, np.ndarray] = {}
    files: dict[str, dict[str, str]] = {}

    for name, spec in MODELS.items():
        fresh_session(tf_keras, keras)
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

    h5_layout = _record_defects(tf, tf_keras, keras, dest, tensors, files) if DEFECT_MODELS else {}

    tensors_path = os.path.join(dest, "keras_files.safetensors")
    save_safetensors(tensors, tensors_path)
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
    save_safetensors(tensors, tensors_path)

    record = {
        "versions": {
            **versions("tensorflow", "tf_keras", "keras", "keras_backend", "h5py", "numpy", "safetensors", "python"),
            "proof_env": kerastorch_versions,
        },
        "batch": BATCH,
        "models": {**MODELS, **DEFECT_MODELS},
        "flat_models": FLAT_MODELS,
        "files": files,
        "proof": proof,
    }
    if h5_layout:
        record["h5_layout"] = h5_layout
    write_json(os.path.join(dest, "keras_files.json"), record, newline=False)
    bad = [n for n, p in proof.items() if not p["ok"]]
    if bad:
        raise RuntimeError(f"real Keras did not reproduce kerastorch's outputs for {bad}: {proof}")
    print(json.dumps(proof, indent=1))
    return record
