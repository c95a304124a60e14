"""Record tf.keras SavedModel directories and TF 2 checkpoints from REAL tf.keras 2.21 (issue 28).

Run (from the repository root, in the reference venv)::

    .venv-keras/bin/python compat_fixtures/generate.py --only tf_formats

Every file under ``compat_fixtures/tf_formats/`` is written by TensorFlow / tf.keras itself; nothing
here computes a layer. Per model ``<name>`` (``MODELS`` below):

* ``<name>.savedmodel/`` -- ``model.save('<name>.savedmodel', save_format='tf')``: the directory exactly as
  TensorFlow writes it (``saved_model.pb``, ``keras_metadata.pb``, ``fingerprint.pb``, ``assets/``,
  ``variables/``). Models marked ``traces: False`` are saved with ``save_traces=False`` (the graphs of
  their call functions are left out of ``saved_model.pb``; a real option of ``model.save``), to keep
  the fixtures small; kerastorch reads neither kind of ``saved_model.pb``.
Models: ``sequential`` (Dense, BatchNormalization, Dropout), ``functional`` (two inputs, two outputs, a nested
functional and a nested Sequential model, Conv1D, LayerNormalization), ``conv1d``, ``text`` (Embedding,
Bidirectional(LSTM), LSTM), ``families`` (an adapted Normalization, MultiHeadAttention, SeparableConv1D, GRU,
TimeDistributed(Dense)).

* ``<name>.h5`` -- ``model.save('<name>.h5')`` of the same model (the reference kerastorch's result must equal).
* ``<name>.ckpt/`` -- only for models marked ``fit``: compiled with Adam, fitted one step, then
  ``model.save_weights('<name>.ckpt/ckpt')`` (a TF checkpoint with optimizer slots; ``checkpoint`` names it).
  The SavedModel and .h5 are written after that step, so all three hold the same weights.

``subclassed.savedmodel/`` -- a subclassed ``keras.Model`` (one Dense) saved by ``model.save``: no config to
rebuild it from (what ``load_model`` must refuse clearly).

``no_metadata.savedmodel/`` -- ``tf.saved_model.save`` of a ``tf.Module`` with one variable: a SavedModel
without ``keras_metadata.pb`` (what ``load_model`` must refuse clearly).

``mobilenet_v2`` (``keras.applications.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3), weights=None,
classes=4)``, 2.6 MB as a SavedModel) is too large to commit: it is saved to a temporary folder and loaded
there by kerastorch (the main venv, ``$KERASTORCH_PYTHON`` or ``.venv/bin/python``); ``tf_formats.json``
``proof.mobilenet_v2`` records the largest output difference from tf.keras and whether the state_dict equals
the one its ``.h5`` gives.

``tf_formats.json``: versions, and per model the input names/shapes/dtypes, output names and file
names; ``tf_formats.safetensors``: ``<name>.input.<i>`` and ``<name>.output.<k>`` (tf.keras's outputs of
the saved model in inference mode).
"""
from __future__ import annotations

import os
import shutil

import numpy as np

from .common import fresh_session, import_tf, save_safetensors, versions, write_json

SEED = 2028


def _models(tf, keras):
    L = keras.layers
    out = {}

    def seq():
        m = keras.Sequential([
            L.Dense(6, activation="relu", input_shape=(5,), name="hidden"),
            L.BatchNormalization(name="bn"),
            L.Dropout(0.3, name="drop"),
            L.Dense(3, activation="softmax", name="probs"),
        ], name="mlp")
        return m
    out["sequential"] = (seq, {"fit": True, "traces": True})

    def functional():
        a = keras.Input((4,), name="num")
        b = keras.Input((6, 2), name="series")
        inner_in = keras.Input((4,), name="inner_in")
        inner = keras.Model(inner_in, L.Dense(5, activation="tanh", name="inner_dense")(inner_in), name="encoder")
        block = keras.Sequential([L.Conv1D(3, 2, activation="relu", name="block_conv"), L.Flatten(name="block_flat")],
                                 name="conv_block")
        h = L.Concatenate(name="cat")([inner(a), block(b)])
        score = L.Dense(1, name="score")(h)
        cls = L.Dense(2, activation="softmax", name="cls")(L.LayerNormalization(name="ln")(h))
        return keras.Model([a, b], [score, cls], name="two_heads")
    out["functional"] = (functional, {"fit": False, "traces": True})

    def conv1d():
        return keras.Sequential([
            keras.Input((10, 3), name="signal"),
            L.Conv1D(4, 3, padding="same", activation="relu", name="c1"),
            L.Conv1D(4, 3, strides=2, dilation_rate=1, name="c2"),
            L.GlobalAveragePooling1D(name="gap"),
            L.Dense(2, name="out"),
        ], name="conv1d_net")
    out["conv1d"] = (conv1d, {"fit": True, "traces": True})

    def text():
        tokens = keras.Input((7,), dtype="int32", name="tokens")
        x = L.Embedding(20, 4, name="emb")(tokens)
        x = L.Bidirectional(L.LSTM(3, return_sequences=True, name="lstm_a"), name="bi")(x)
        x = L.LSTM(3, name="lstm_b")(x)
        return keras.Model(tokens, L.Dense(2, activation="sigmoid", name="head")(x), name="text_model")
    out["text"] = (text, {"fit": True, "traces": False})

    def families():
        seq = keras.Input((6, 4), name="seq")
        norm = L.Normalization(axis=-1, name="norm")
        norm.adapt(np.linspace(-2.0, 3.0, 2 * 6 * 4, dtype=np.float32).reshape(2, 6, 4) ** 2)
        x = norm(seq)
        x = L.MultiHeadAttention(num_heads=2, key_dim=3, name="mha")(x, x)
        x = L.SeparableConv1D(4, 3, padding="same", name="sep")(x)
        x = L.GRU(4, return_sequences=True, name="gru")(x)
        x = L.TimeDistributed(L.Dense(2, name="td_dense"), name="td")(x)
        return keras.Model(seq, L.GlobalAveragePooling1D(name="pool")(x), name="families")
    out["families"] = (families, {"fit": True, "traces": False})

    def mobilenet():
        return keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=4)
    out["mobilenet_v2"] = (mobilenet, {"fit": False, "traces": False, "proof_only": True})
    return out


_PROOF = r"""
import json, sys, torch, numpy as np
import kerastorch as kt
d = sys.argv[1]
data = np.load(d + "/io.npz")
m = kt.models.load_model(d + "/model.savedmodel").eval()
h = kt.models.load_model(d + "/model.h5")
with torch.no_grad():
    out = m(torch.from_numpy(data["input"]))
sd, hd = m.state_dict(), h.state_dict()
print(json.dumps({
    "max_abs_diff": float((out - torch.from_numpy(data["output"])).abs().max()),
    "state_dict_equals_h5": list(sd) == list(hd) and all(torch.equal(sd[k], hd[k]) for k in sd),
    "weights": len(sd), "name": m.name,
}))
"""


def _prove(name, model, inputs, outputs, opts, tmp):
    """A model too large to commit (MobileNetV2: 2.6 MB): saved to a temporary folder, loaded there by
    the kerastorch venv (``$KERASTORCH_PYTHON`` or ``.venv/bin/python``), its result recorded."""
    import subprocess
    import sys

    from .common import REPO

    python = os.environ.get("KERASTORCH_PYTHON", os.path.join(REPO, ".venv", "bin", "python"))
    model.save(os.path.join(tmp, "model.savedmodel"), save_format="tf", save_traces=opts["traces"])
    model.save(os.path.join(tmp, "model.h5"))
    np.savez(os.path.join(tmp, "io.npz"), input=inputs[0], output=outputs[0])
    sizes = {}
    for base, _, names in os.walk(os.path.join(tmp, "model.savedmodel")):
        for n in names:
            sizes[os.path.relpath(os.path.join(base, n), tmp)] = os.path.getsize(os.path.join(base, n))
    run = subprocess.run([python, "-c", _PROOF, tmp], capture_output=True, text=True, cwd=REPO)
    if run.returncode != 0:
        print(run.stderr[-3000:], file=sys.stderr)
        return {"error": run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "failed", "file_bytes": sizes}
    return {**__import__("json").loads(run.stdout.strip().splitlines()[-1]), "file_bytes": sizes,
            "n_params": int(model.count_params())}


def _inputs(model, rng):
    arrays = []
    for t in model.inputs:
        shape = [2] + [int(d) for d in t.shape[1:]]
        if t.dtype.is_integer:
            arrays.append(rng.integers(0, 20, size=shape).astype(np.int32))
        else:
            arrays.append(rng.standard_normal(shape).astype(np.float32))
    return arrays


def main(out_dir):
    tf, keras = import_tf()
    root = os.path.join(out_dir, "tf_formats")
    if os.path.isdir(root):
        shutil.rmtree(root)
    os.makedirs(root)
    rng = np.random.default_rng(SEED)
    record = {"versions": versions("tensorflow", "tf_keras", "numpy"), "models": {}, "proof": {}}
    tensors = {}
    for name, (build, opts) in _models(tf, keras).items():
        fresh_session(keras, seed=SEED)
        model = build()
        # non-trivial values for every trainable weight and BatchNormalization's moving statistics
        # (an adapted Normalization keeps what adapt() computed)
        for w in model.trainable_weights:
            w.assign(rng.standard_normal(w.shape).astype(np.float32) * 0.5)
        for layer in model.submodules:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.moving_mean.assign(rng.standard_normal(layer.moving_mean.shape).astype(np.float32) * 0.5)
                layer.moving_variance.assign(rng.uniform(0.5, 1.5, layer.moving_variance.shape).astype(np.float32))
        inputs = _inputs(model, rng)
        if opts.get("proof_only"):
            import tempfile

            outputs = [np.asarray(model(inputs[0], training=False))]
            with tempfile.TemporaryDirectory() as tmp:
                record["proof"][name] = _prove(name, model, inputs, outputs, opts, tmp)
            continue
        files = {"savedmodel": f"{name}.savedmodel", "h5": f"{name}.h5"}
        if opts["fit"]:
            model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
            targets = [np.zeros((2, *[int(d) for d in o.shape[1:]]), np.float32) for o in model.outputs]
            model.fit(inputs, targets, epochs=1, batch_size=2, verbose=0)
            os.makedirs(os.path.join(root, f"{name}.ckpt"))
            model.save_weights(os.path.join(root, f"{name}.ckpt", "ckpt"))
            files["checkpoint"] = f"{name}.ckpt"
        model.save(os.path.join(root, files["savedmodel"]), save_format="tf", save_traces=opts["traces"])
        model.save(os.path.join(root, files["h5"]))
        outputs = model(inputs if len(inputs) > 1 else inputs[0], training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for i, a in enumerate(inputs):
            tensors[f"{name}.input.{i}"] = a
        for k, o in enumerate(outputs):
            tensors[f"{name}.output.{k}"] = np.asarray(o)
        record["models"][name] = {
            "inputs": [{"name": t.name, "shape": list(a.shape), "dtype": str(a.dtype)} for t, a in zip(model.inputs, inputs)],
            "output_names": list(model.output_names),
            "n_weights": len(model.weights),
            "n_trainable_weights": len(model.trainable_weights),
            "traces": opts["traces"],
            "files": files,
        }
    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__(name="subclassed")
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    fresh_session(keras, seed=SEED)
    sub = Subclassed()
    sub(np.zeros((1, 3), np.float32))
    sub.save(os.path.join(root, "subclassed.savedmodel"), save_format="tf")
    module = tf.Module()
    module.v = tf.Variable([1.0, 2.0])
    tf.saved_model.save(module, os.path.join(root, "no_metadata.savedmodel"))
    write_json(os.path.join(root, "tf_formats.json"), record)
    save_safetensors(tensors, os.path.join(root, "tf_formats.safetensors"))
    return record
