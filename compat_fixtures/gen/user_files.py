"""Model files as users have them, made by real tf.keras 2.21 and Keras 3.15.1 (issue 26).

Run (from the repository root, in the reference venv; see ``generate.py``)::

    .venv-keras/bin/python compat_fixtures/generate.py --only user_files

Every file and number here comes from real Keras; the only edits are the two documented attribute
rewrites below (an old Keras 2.0 config layout, and broken configs for the error cases), done with
h5py on files tf.keras wrote. Files go to ``<out_dir>/user_files/``; ``user_files.json`` describes
each case (files, input/output keys in ``user_files.safetensors``, what Keras did), and
``user_files.safetensors`` holds the inputs and Keras's predictions (``<case>.input``,
``<case>.output``; inference, ``training=False``).

Cases (``CASES`` order):

* ``tf_hard_sigmoid`` -- tf.keras Functional: Dense(3, activation="hard_sigmoid") -> Dense(3) ->
  Activation("hard_sigmoid"), saved as tf.keras ``.keras`` (``metadata.json`` says 2.21.0; tf.keras
  also writes ``module``/``registered_name``) and ``.h5``. tf.keras's formula ``clip(0.2x + 0.5, 0, 1)``.
* ``k3_hard`` -- Keras 3 Functional: Dense(3, "hard_sigmoid") -> Dense(3, "hard_silu") ->
  Activation("hard_sigmoid"), saved by Keras 3 as legacy ``.h5`` (root ``keras_version`` "3.15.1") and
  ``.keras``. Keras 3's formula ``relu6(x + 3) / 6``.
* ``tf_fitted`` -- tf.keras Sequential compiled (Adam, mse, metrics=["mae"]) and fitted one epoch, saved
  as ``.keras``: ``model.weights.h5`` holds ``optimizer/`` and ``metrics/`` groups besides the layers.
* ``tf_norms`` -- tf.keras Functional (4, 4, 6) -> BatchNormalization -> Normalization (adapted) ->
  GroupNormalization(3) -> LayerNormalization -> Conv2D(2, 1), moving statistics made non-trivial;
  ``save_weights("w.h5")`` (weights-only legacy h5) and ``.h5``; the JSON holds ``model.to_json()``.
* ``tf_input_shape`` -- tf.keras ``Sequential([Dense(3, input_shape=(4,), relu), Dense(2)])``, ``.h5``.
* ``tf_tower`` -- tf.keras Sequential holding a nested Sequential tower (its first layer with
  ``input_shape``) and Dense(2), ``.h5``.
* ``tf_adapted_norm`` -- tf.keras ``Sequential([Normalization(input_shape=(3,)), Dense(2)])``, adapted
  (its ``count`` weight is 0-d), ``.h5``.
* ``tf_mixed`` -- tf.keras under ``mixed_float16``: Dense(3) -> Dense(2, dtype="float32"), ``.keras``
  and ``.h5`` (outputs computed in float16: compare loosely).
* ``nested_sub`` -- the same model in tf.keras and Keras 3, same weights: Dense(3) "pre" -> a nested
  Sequential "inner" (Dense(3), BatchNormalization, Dense(3): tf.keras lists a nested model's trainable
  weights first) -> Dense(2) "post"; tf.keras ``.h5`` and Keras 3 ``.keras``
  (what ``save_keras_weights`` files are loaded into by ``prove_user_files.py``).
* ``k2_list_seq`` -- a Keras 2.0/2.1-style Sequential: tf.keras saves ``Sequential([Dense(3,
  input_shape=(4,)), Dense(2)])`` as ``.h5`` and the generator rewrites the ``model_config`` attribute to
  the list form Keras 2.0-2.2 wrote (``"config": [{layer}, ...]``, no InputLayer, ``batch_input_shape``
  in the first layer); tf.keras 2.21 ``load_model`` reads the rewritten file (its outputs recorded).
* ``bad_bn_axis`` / ``bad_dtype`` -- ``tf_norms``-like tf.keras ``.h5`` files whose ``model_config`` is
  rewritten: BatchNormalization ``axis`` 7 (rank-4 input), a Dense ``dtype`` "float33"; tf.keras's
  error on each is recorded.
* ``k3_int8`` -- Keras 3 Dense model ``quantize("int8")``-ed and saved as ``.keras`` (its layers have a
  ``QuantizedDTypePolicy``); Keras 3 loads it.
"""
from __future__ import annotations

import json
import os

import numpy as np

from .common import FIXTURES, error_text, fresh_session, imports, save_safetensors, versions, write_json

SEED = 20261207
BATCH = 2


def _fill(model, rng):
    """Seeded weights: kernels N(0, 1/fan_in), other float weights N(0, 0.5^2), variances U(0.5, 1.5)."""
    values = []
    for w in model.weights:
        shape, leaf = tuple(w.shape), w.name.split("/")[-1].split(":")[0]
        dtype = np.dtype(w.dtype.name if hasattr(w.dtype, "name") else w.dtype)
        if not np.issubdtype(dtype, np.floating):
            values.append(np.asarray(w.numpy()))
        elif "variance" in leaf:
            values.append(rng.uniform(0.5, 1.5, shape).astype(dtype))
        elif leaf == "gamma":
            values.append((1 + 0.2 * rng.standard_normal(shape)).astype(dtype))
        elif len(shape) >= 2:
            values.append((rng.standard_normal(shape) / np.sqrt(np.prod(shape[:-1]))).astype(dtype))
        else:
            values.append((0.5 * rng.standard_normal(shape)).astype(dtype))
    model.set_weights(values)


def _predict(model, x):
    return np.asarray(model(x, training=False)).astype(np.float32)


def _rewrite_config(path, edit):
    """Rewrite the ``model_config`` attribute of a tf.keras ``.h5`` (``edit(config) -> config``)."""
    import h5py

    with h5py.File(path, "r+") as f:
        raw = f.attrs["model_config"]
        config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        f.attrs["model_config"] = json.dumps(edit(config)).encode()


def _keras_error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001  (recorded)
        return error_text(e)[:400]
    return None


def main(out_dir: str = FIXTURES) -> dict:
    tf, tk, k3 = imports()
    dest = os.path.join(out_dir, "user_files")
    os.makedirs(dest, exist_ok=True)
    rng = np.random.default_rng(SEED)
    tensors: dict[str, np.ndarray] = {}
    cases: dict[str, dict] = {}

    def path(name):
        return os.path.join(dest, name)

    def record(case, model, x, files, **extra):
        tensors[f"{case}.input"] = x
        tensors[f"{case}.output"] = _predict(model, x)
        cases[case] = {"files": files, "input": f"{case}.input", "output": f"{case}.output", **extra}

    # ---- 1: hard_sigmoid in a tf.keras .keras / a Keras 3 legacy .h5 ----
    fresh_session(tk, k3)
    x = 3 * rng.standard_normal((BATCH, 4)).astype(np.float32)
    inp = tk.Input((4,), name="x")
    h = tk.layers.Dense(3, activation="hard_sigmoid", name="dense_hs")(inp)
    h = tk.layers.Dense(3, name="dense_lin")(h)
    out = tk.layers.Activation("hard_sigmoid", name="act_hs")(h)
    m = tk.Model(inp, out, name="tf_hard_sigmoid")
    _fill(m, rng)
    m.save(path("tf_hard_sigmoid.tf.keras"))
    m.save(path("tf_hard_sigmoid.tf.h5"))
    record("tf_hard_sigmoid", m, x, {"tf_keras": "tf_hard_sigmoid.tf.keras", "tf_h5": "tf_hard_sigmoid.tf.h5"})

    inp = k3.Input((4,), name="x")
    h = k3.layers.Dense(3, activation="hard_sigmoid", name="dense_hs")(inp)
    h = k3.layers.Dense(3, activation="hard_silu", name="dense_hsilu")(h)
    out = k3.layers.Activation("hard_sigmoid", name="act_hs")(h)
    m = k3.Model(inp, out, name="k3_hard")
    _fill(m, rng)
    m.save(path("k3_hard.k3.h5"))
    m.save(path("k3_hard.k3.keras"))
    record("k3_hard", m, x, {"k3_h5": "k3_hard.k3.h5", "k3_keras": "k3_hard.k3.keras"})

    # ---- 2: tf.keras .keras saved after compile + fit ----
    fresh_session(tk)
    m = tk.Sequential([tk.Input((4,)), tk.layers.Dense(3, activation="relu", name="d1"), tk.layers.Dense(1, name="d2")],
                      name="tf_fitted")
    _fill(m, rng)
    m.compile(optimizer=tk.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    xt = rng.standard_normal((8, 4)).astype(np.float32)
    m.fit(xt, rng.standard_normal((8, 1)).astype(np.float32), epochs=1, batch_size=4, verbose=0)
    m.save(path("tf_fitted.tf.keras"))
    import h5py
    import zipfile

    with zipfile.ZipFile(path("tf_fitted.tf.keras")) as z, h5py.File(z.open("model.weights.h5"), "r") as f:
        groups = sorted(f.keys())
    record("tf_fitted", m, x, {"tf_keras": "tf_fitted.tf.keras"}, weight_file_groups=groups)

    # ---- 3: tf.keras save_weights("w.h5") with normalization layers ----
    fresh_session(tk)
    xn = rng.standard_normal((BATCH, 4, 4, 6)).astype(np.float32)
    norm = tk.layers.Normalization(name="norm")
    norm.adapt(rng.standard_normal((16, 4, 4, 6)).astype(np.float32) * 2 + 1)
    inp = tk.Input((4, 4, 6), name="img")
    h = tk.layers.BatchNormalization(name="bn")(inp)
    h = norm(h)
    h = tk.layers.GroupNormalization(groups=3, name="gn")(h)
    h = tk.layers.LayerNormalization(name="ln")(h)
    out = tk.layers.Conv2D(2, 1, name="conv")(h)
    m = tk.Model(inp, out, name="tf_norms")
    adapted = [np.asarray(w) for w in norm.get_weights()]
    _fill(m, rng)
    norm.set_weights(adapted)  # keep the adapted statistics (and the int count)
    m.save_weights(path("tf_norms.tf_weights.h5"))
    m.save(path("tf_norms.tf.h5"))
    record("tf_norms", m, xn, {"tf_weights": "tf_norms.tf_weights.h5", "tf_h5": "tf_norms.tf.h5"},
           model_json=json.loads(m.to_json()))

    # ---- 4: tf.keras idioms whose layer configs carry batch_input_shape ----
    fresh_session(tk)
    m = tk.Sequential([tk.layers.Dense(3, input_shape=(4,), activation="relu", name="d1"), tk.layers.Dense(2, name="d2")],
                      name="tf_input_shape")
    _fill(m, rng)
    m.save(path("tf_input_shape.tf.h5"))
    record("tf_input_shape", m, x, {"tf_h5": "tf_input_shape.tf.h5"})

    fresh_session(tk)
    tower = tk.Sequential([tk.layers.Dense(3, input_shape=(4,), activation="tanh", name="t1"), tk.layers.Dense(3, name="t2")],
                          name="tower")
    m = tk.Sequential([tower, tk.layers.Dense(2, name="head")], name="tf_tower")
    _fill(m, rng)
    m.save(path("tf_tower.tf.h5"))
    record("tf_tower", m, x, {"tf_h5": "tf_tower.tf.h5"})

    fresh_session(tk)
    norm = tk.layers.Normalization(input_shape=(3,), name="norm")
    norm.adapt(rng.standard_normal((10, 3)).astype(np.float32) * 3 - 1)
    m = tk.Sequential([norm, tk.layers.Dense(2, name="d")], name="tf_adapted_norm")
    m.layers[1].set_weights([rng.standard_normal((3, 2)).astype(np.float32), rng.standard_normal(2).astype(np.float32)])
    m.save(path("tf_adapted_norm.tf.h5"))
    record("tf_adapted_norm", m, x[:, :3].copy(), {"tf_h5": "tf_adapted_norm.tf.h5"},
           count=int(np.asarray(norm.count)), count_shape=list(np.asarray(norm.count).shape))

    # ---- 6: mixed_float16 ----
    fresh_session(tk)
    tk.mixed_precision.set_global_policy("mixed_float16")
    try:
        inp = tk.Input((4,), name="x")
        h = tk.layers.Dense(3, activation="relu", name="d1")(inp)
        out = tk.layers.Dense(2, dtype="float32", name="d2")(h)
        m = tk.Model(inp, out, name="tf_mixed")
        _fill(m, rng)
        m.save(path("tf_mixed.tf.keras"))
        m.save(path("tf_mixed.tf.h5"))
        record("tf_mixed", m, x, {"tf_keras": "tf_mixed.tf.keras", "tf_h5": "tf_mixed.tf.h5"}, rtol=2e-3)
    finally:
        tk.mixed_precision.set_global_policy("float32")

    # ---- 7: a nested sub-model, the same in tf.keras and Keras 3 ----
    fresh_session(tk, k3)
    models = {}
    for K in (tk, k3):
        inner = K.Sequential([K.Input((3,)), K.layers.Dense(3, activation="relu", name="i1"),
                              K.layers.BatchNormalization(name="ibn"), K.layers.Dense(3, name="i2")], name="inner")
        inp = K.Input((4,), name="x")
        out = K.layers.Dense(2, name="post")(inner(K.layers.Dense(3, name="pre")(inp)))
        models[K] = K.Model(inp, out, name="nested_sub")
    _fill(models[tk], rng)
    for name in ("pre", "post"):
        models[k3].get_layer(name).set_weights(models[tk].get_layer(name).get_weights())
    for name in ("i1", "ibn", "i2"):
        models[k3].get_layer("inner").get_layer(name).set_weights(models[tk].get_layer("inner").get_layer(name).get_weights())
    models[tk].save(path("nested_sub.tf.h5"))
    models[k3].save(path("nested_sub.k3.keras"))
    record("nested_sub", models[tk], x, {"tf_h5": "nested_sub.tf.h5", "k3_keras": "nested_sub.k3.keras"})
    np.testing.assert_allclose(_predict(models[k3], x), tensors["nested_sub.output"], rtol=1e-6, atol=1e-6)

    # ---- 9: a Keras 2.0/2.1 Sequential config (a list of layers) ----
    fresh_session(tk)
    m = tk.Sequential([tk.layers.Dense(3, input_shape=(4,), activation="relu", name="dense_1"),
                       tk.layers.Dense(2, activation="softmax", name="dense_2")], name="sequential_1")
    _fill(m, rng)
    m.save(path("k2_list_seq.h5"))

    def to_list(config):
        layers = [l for l in config["config"]["layers"] if l["class_name"] != "InputLayer"]
        for layer in layers:
            for key in ("module", "registered_name", "build_config"):
                layer.pop(key, None)
        layers[0]["config"]["batch_input_shape"] = [None, 4]
        return {"class_name": "Sequential", "config": layers}

    _rewrite_config(path("k2_list_seq.h5"), to_list)
    fresh_session(tk)
    reloaded = tk.models.load_model(path("k2_list_seq.h5"), compile=False)
    record("k2_list_seq", reloaded, x, {"tf_h5": "k2_list_seq.h5"}, tf_keras_loads=True)
    np.testing.assert_allclose(tensors["k2_list_seq.output"], _predict(m, x), rtol=1e-6)

    # ---- 15: configs tf.keras / Keras 3 refuse or that need a clear message ----
    fresh_session(tk)
    inp = tk.Input((4, 4, 2), name="img")
    m = tk.Model(inp, tk.layers.Dense(2, name="head")(tk.layers.BatchNormalization(name="bn")(inp)), name="bad")
    for case, edit in (("bad_bn_axis", {"bn": ("axis", [7])}), ("bad_dtype", {"head": ("dtype", "float33")})):
        m.save(path(case + ".tf.h5"))

        def rewrite(config, edit=edit):
            for layer in config["config"]["layers"]:
                if layer["config"]["name"] in edit:
                    key, value = edit[layer["config"]["name"]]
                    layer["config"][key] = value
            return config

        _rewrite_config(path(case + ".tf.h5"), rewrite)
        fresh_session(tk)
        err = _keras_error(lambda c=case: tk.models.load_model(path(c + ".tf.h5"), compile=False))
        cases[case] = {"files": {"tf_h5": case + ".tf.h5"}, "layer": list(edit)[0], "tf_keras_error": err}

    fresh_session(k3)
    m = k3.Sequential([k3.Input((4,)), k3.layers.Dense(3, name="q")], name="k3_int8")
    _fill(m, rng)
    m.quantize("int8")
    m.save(path("k3_int8.k3.keras"))
    with zipfile.ZipFile(path("k3_int8.k3.keras")) as z:
        dtype = json.loads(z.read("config.json"))["config"]["layers"][1]["config"]["dtype"]
    fresh_session(k3)
    loaded = k3.saving.load_model(path("k3_int8.k3.keras"))
    record("k3_int8", loaded, x, {"k3_keras": "k3_int8.k3.keras"}, layer="q", dtype_policy=dtype)

    save_safetensors(tensors, path("user_files.safetensors"))
    write_json(path("user_files.json"), {
        "versions": versions("tensorflow", "tf_keras", "keras", "keras_backend", "numpy", "h5py"),
        "cases": cases,
    })
    return {"cases": sorted(cases)}
